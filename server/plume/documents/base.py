"""What both formats share: a zip package rebuilt around re-rendered XML parts, and the prepared
template that renders a context to bytes.

Preparing reads the file once, merges the placeholders the word processor split across runs/spans,
turns the XML into Jinja source and compiles it. Rendering then only runs the compiled templates
over the parts that hold placeholders and appends them to a pre-built zip of the untouched parts,
which stay compressed as they are.
"""

from __future__ import annotations

import io
import marshal
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from jinja2 import Template, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from plume.documents.budget import BudgetExceeded, SizeBudgetExceeded, TemplateBudgets, spending
from plume.errors import InvalidRequest
from plume.security.safezip import ZipContents, ZipLimits, read_package

BODY, HEADER, FOOTER = "corps", "en-tête", "pied de page"

# {{ … }}, {% … %} and {# … #}: the tags a template may hold.
JINJA_TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)
_FRENCH_QUOTES = re.compile(r"«[\s\u00a0\u202f]*|[\s\u00a0\u202f]*»")
_QUOTES = str.maketrans({"«": '"', "»": '"', "“": '"', "”": '"', "„": '"', "‘": "'", "’": "'", "\u00a0": " ",
                         "\u202f": " "})


def normalize_tag(tag: str) -> str:
    """Undo the word processor's typography and XML escaping inside a tag: Jinja needs `"`, `<`, `&`
    raw (values are escaped at render time)."""
    for entity, char in (("&lt;", "<"), ("&gt;", ">"), ("&quot;", '"'), ("&apos;", "'"), ("&#39;", "'"),
                         ("&amp;", "&")):
        tag = tag.replace(entity, char)
    tag = _FRENCH_QUOTES.sub('"', tag)  # « short » → "short": the spaces belong to the quotes
    return tag.translate(_QUOTES)


class TemplateInvalid(Exception):
    """The model cannot be prepared (Jinja syntax); `problems` are lint-style findings."""

    def __init__(self, problems: list) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems

    def __reduce__(self) -> tuple:  # back from the preparing process (plume.documents.budget)
        return (TemplateInvalid, (self.problems,))


class RenderFailed(InvalidRequest):
    """The compiled template raised while filling (e.g. a filter given a value it cannot take).
    `where`: the part and the exception's type, for the log; the clerk reads the French detail."""

    code = "render-failed"

    def __init__(self, where: str) -> None:
        super().__init__("Le modèle n'a pas pu être rempli avec ces valeurs (le modèle est peut-être à corriger : "
                         "« plume templates check »).")
        self.where = where

    def __reduce__(self) -> tuple:  # back from the rendering process (plume.documents.budget)
        return (RenderFailed, (self.where,))


@dataclass
class PartSource:
    """One XML part as Jinja source, with what lint needs to point at a paragraph."""

    name: str            # path inside the zip
    label: str           # corps / en-tête / pied de page
    head: str            # the XML declaration, kept out of Jinja
    source: str          # Jinja source: one line per paragraph
    line_labels: list[str] = field(default_factory=list)
    # This part's own post-processing, when it differs from its format's (document properties,
    # tables whose grid must follow their cells); None: the format's.
    post: Callable[[str], str] | None = None

    def paragraph_text(self, lineno: int) -> str:
        lines = self.source.split("\n")
        if 1 <= lineno <= len(lines):
            return strip_tags(lines[lineno - 1])
        return ""

    def label_of(self, lineno: int) -> str:
        return self.line_labels[lineno - 1] if 1 <= lineno <= len(self.line_labels) else self.label

    def paragraphs(self) -> list[tuple[int, str]]:
        return [(n, strip_tags(line)) for n, line in enumerate(self.source.split("\n"), start=1)]


_TAG = re.compile(r"<[^>]+>")


def strip_tags(xml: str) -> str:
    text = _TAG.sub("", xml)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&amp;", "&").strip()


class ZipPackage:
    """The document's zip: static entries pre-built once; rendered parts appended per render."""

    def __init__(self, entries: dict[str, bytes], order: list[str], dynamic: set[str], stored: set[str]) -> None:
        self.dynamic = dynamic
        # Only the parts re-rendered per letter stay inflated; the others live compressed in _base.
        self.entries = {name: entries[name] for name in order if name in dynamic}
        # The other entries stay inflated only until `base` compresses them (then they are dropped).
        self._static = {name: entries[name] for name in order if name not in dynamic}
        self.images: dict[str, str] = {}  # placeholder picture's path in the zip -> its image field
        self.image_parts: dict[str, str] = {}  # image field -> label of the part its placeholder is in
        self._order = order
        self._base: bytes | None = None  # built when first needed: reading a model alone never needs it
        self._stored = stored

    @property
    def base(self) -> bytes:
        """The zip of the entries no render changes, compressed once."""
        if self._base is None:
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
                for name in self._order:
                    if name not in self.dynamic:
                        archive.writestr(_info(name, self._stored), self._static[name])
            self._base = buffer.getvalue()
            self._static = {}
        return self._base

    @classmethod
    def read(cls, data: bytes, dynamic: set[str], limits: ZipLimits = ZipLimits(),
             contents: ZipContents | None = None, added: dict[str, bytes] | None = None) -> ZipPackage:
        """`added`: entries changed or added when the model was prepared (e.g. placeholder pictures)."""
        contents = contents or read_package(data, limits)  # checked names, sizes and ratio
        entries, order = dict(contents.entries), list(contents.entries)
        if added:
            order += [name for name in added if name not in entries]
            entries.update(added)
        return cls(entries, order, dynamic, set(contents.stored))

    def build(self, rendered: dict[str, bytes]) -> bytes:
        buffer = io.BytesIO(self.base)
        buffer.seek(0, io.SEEK_END)
        # zlib's default level: the archive's own compresslevel does not apply to ZipInfo entries.
        with zipfile.ZipFile(buffer, "a", zipfile.ZIP_DEFLATED) as archive:
            for name, data in rendered.items():
                archive.writestr(_info(name, self._stored), data)
        return buffer.getvalue()


def _info(name: str, stored: set[str]) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_STORED if name in stored or name == "mimetype" else zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    return info


class PreparedTemplate:
    """A model parsed and compiled once; `render(context)` gives the filled document's bytes.

    Each file format subclasses it (`docx.PreparedDocx`, `odt.PreparedOdt`) with its name, the Jinja
    environment its parts compile in and the post-processing of a rendered part, so this module
    knows no concrete format. Pickled by its class: unpickling imports the format's module."""

    format: ClassVar[str]
    environment: ClassVar[SandboxedEnvironment]

    @staticmethod
    def postprocess(xml: str) -> str:
        """A rendered part's XML made valid for the format again (the format's own rules)."""
        raise NotImplementedError

    def __init__(self, package: ZipPackage, parts: list[PartSource], codes: list[bytes] | None = None) -> None:
        self.package = package
        package.base  # compressed now, when the model is prepared, not on its first letter
        self.parts = parts
        self._compiled: list[tuple[PartSource, Template]] = []
        self._codes: list[Any] = []
        env = self.environment
        problems = []
        for index, part in enumerate(parts):
            try:  # what env.from_string does, keeping the code object for __reduce__
                code = env.compile(part.source) if codes is None else marshal.loads(codes[index])
            except TemplateError as exc:
                problems.append(syntax_problem(part, exc))
                continue
            self._codes.append(code)
            self._compiled.append((part, env.template_class.from_code(env, code, env.make_globals(None), None)))
        if problems:
            raise TemplateInvalid(problems)

    def __reduce__(self) -> tuple:
        """Pickled as its parts and compiled code (Jinja's own bytecode-cache format, marshal): the
        server receives a model prepared in a separate process (plume.documents.budget.isolated)
        without compiling it again."""
        return (type(self), (self.package, self.parts, [marshal.dumps(c) for c in self._codes]))

    def render(self, context: dict[str, Any], budgets: TemplateBudgets | None = None) -> bytes:
        """Fill every part within one budget (time, iterations, size): BudgetExceeded past it."""
        rendered = {}
        with spending(budgets):
            for part, template in self._compiled:
                try:
                    xml = template.render(context)
                except BudgetExceeded:
                    raise
                except MemoryError:
                    raise SizeBudgetExceeded("Le remplissage du modèle dépasse la mémoire disponible.") from None
                except RecursionError:
                    raise BudgetExceeded("Le modèle s'appelle lui-même trop profondément (macro récursive).") from None
                except TemplateError as exc:
                    raise RenderFailed(f"{part.label} : {type(exc).__name__}") from exc
                except (ValueError, TypeError, ArithmeticError, LookupError) as exc:
                    raise RenderFailed(f"{part.label} : {type(exc).__name__}") from exc
                rendered[part.name] = (part.head + (part.post or self.postprocess)(xml)).encode("utf-8")
            if self.package.images:
                from plume.documents.images import media_entries
                rendered.update(media_entries(self.package.images, context, self.package.entries))
        return self.package.build(rendered)


@dataclass
class Finding:
    """One lint finding: where (file, part, paragraph text) and what, in French."""

    message: str
    file: str = ""
    part: str = ""
    paragraph: str = ""
    severity: str = "error"

    def __str__(self) -> str:
        where = " · ".join(x for x in (self.file, self.part) if x)
        para = f" — paragraphe : « {self.paragraph[:120]} »" if self.paragraph else ""
        return f"{where} : {self.message}{para}" if where else f"{self.message}{para}"

    def to_dict(self) -> dict[str, str]:
        return {"message": self.message, "file": self.file, "part": self.part, "paragraph": self.paragraph,
                "severity": self.severity}


def syntax_problem(part: PartSource, exc: TemplateError) -> Finding:
    lineno = getattr(exc, "lineno", None) or 0
    return Finding(message=french_syntax_message(exc), part=part.label_of(lineno),
                   paragraph=part.paragraph_text(lineno))


def french_syntax_message(exc: TemplateError) -> str:
    text = str(getattr(exc, "message", None) or exc)
    if "Unexpected end of template" in text:
        return "bloc non fermé : il manque une balise de fin ({% endif %}, {% endfor %}…)"
    match = re.search(r"Encountered unknown tag '(\w+)'", text)
    if match and match.group(1) in ("p", "tr"):
        return (f"« {{%{match.group(1)} … %}} » doit être seul dans son paragraphe"
                + (" (dans la première cellule d'une ligne de tableau)" if match.group(1) == "tr" else ""))
    match_filter = re.search(r"No filter named '(\w+)'", text)
    if match_filter:
        return f"filtre « {match_filter.group(1)} » inconnu (filtres de Plume : date, chf, number)"
    if match:
        return f"balise « {{% {match.group(1)} %}} » inattendue (sans bloc ouvrant correspondant, ou inconnue)"
    return f"erreur de syntaxe Jinja : {text}"
