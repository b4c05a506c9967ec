"""`plume templates check`: what a template owner must fix before a model is used.

Each finding says the file, the part (corps / en-tête / pied de page) and the paragraph's text:
undeclared or unused fields, unbalanced `{% %}` blocks, Jinja syntax errors, a template.toml that
does not decode, examples that do not fit their fields, and a trial render with the examples whose
XML must parse.
"""

from __future__ import annotations

import re
from pathlib import Path

from jinja2 import TemplateError, meta
from lxml import etree

from plume.documents.base import (JINJA_TAG, Finding, PartSource, RenderFailed, TemplateInvalid, ZipPackage,
                                  syntax_problem)
from plume.documents.budget import BudgetExceeded
from plume.documents.formatting import letter_language, make_environment, plain_environment
from plume.documents.lint_constructions import cell_findings, picture_findings
from plume.documents.manifest import MODEL_FILE, Manifest, ManifestError, load_manifest
from plume.documents.values import FieldErrors, validate
from plume.security.safezip import UnsafeDocument, ZipLimits, parse_xml

BUILTINS = {"today", "commune"}
MODEL_SUFFIXES = (".docx", ".odt")
_OPENERS = {"if", "for", "with", "macro", "call", "filter", "block", "autoescape", "raw"}
_BLOCK_TAG = re.compile(r"\{%-?\s*(\w+)")


def lint_path(path: Path, commune: dict | None = None) -> list[Finding]:
    """Lint a folder of templates, one template folder, or one model / template.toml file."""
    path = Path(path)
    if path.is_file():
        folder = path.parent
        models = [path] if path.suffix.lower() in MODEL_SUFFIXES else None
        return lint_template(folder, models=models, commune=commune)
    if (path / "template.toml").exists():
        return lint_template(path, commune=commune)
    if not path.is_dir():
        return [Finding("chemin introuvable", file=str(path))]
    folders = sorted(p for p in path.iterdir() if (p / "template.toml").exists())
    if not folders:
        return [Finding("aucun modèle (dossier avec template.toml) trouvé", file=str(path))]
    return [finding for folder in folders for finding in lint_template(folder, commune=commune)]


def lint_template(folder: Path, models: list[Path] | None = None, commune: dict | None = None,
                  expected_id: str | None = None) -> list[Finding]:
    manifest_file = folder / "template.toml"
    try:
        manifest = load_manifest(manifest_file)
    except (OSError, ManifestError) as exc:
        return [Finding(str(exc), file=str(manifest_file))]
    findings = []
    wanted_id = expected_id or folder.name
    if manifest.id != wanted_id and not re.fullmatch(r"v\d+", folder.name):
        findings.append(Finding(f"l'identifiant « {manifest.id} » diffère du nom du dossier « {wanted_id} »",
                                file=str(manifest_file)))
    findings += lint_output_pattern(manifest, str(manifest_file))
    examples = _typed_examples(manifest, str(manifest_file), findings, folder)
    if examples is not None and manifest.output and not findings:
        findings += trial_output_pattern(manifest, examples, commune, str(manifest_file))
    every = sorted(p for p in folder.iterdir() if MODEL_FILE.match(p.name))
    if not any(MODEL_FILE.match(p.name).group(1) is None for p in every):
        findings.append(Finding("aucun model.docx ni model.odt à côté de template.toml", file=str(folder)))
    if models is None:
        models = every
        findings += translation_findings(manifest, every, str(manifest_file))
    for model in models:
        match = MODEL_FILE.match(model.name)
        with letter_language((match.group(1) or "fr") if match else "fr"):  # dates as that version writes them
            findings += lint_model(model, model.read_bytes(), manifest, examples, commune)
    return findings


def translation_findings(manifest: Manifest, models: list[Path], file: str) -> list[Finding]:
    """Each language in `translations` has its model.<code>.docx/.odt, and each such file is declared."""
    found = {m.group(1) for p in models if (m := MODEL_FILE.match(p.name)) and m.group(1)}
    findings = [Finding(f"translations déclare la langue « {code} », mais ni model.{code}.docx ni "
                        f"model.{code}.odt n'existe", file=file) for code in manifest.translations if code not in found]
    findings += [Finding(f"model.{code}.docx/.odt : langue « {code} » non déclarée dans translations de template.toml "
                         f"(ajoutez translations = [\"{code}\"])", file=file)
                 for code in sorted(found - set(manifest.translations) - {"fr"})]
    if "fr" in found:  # the base model is the French one: a model.fr.docx is never read
        findings.append(Finding("model.fr.docx/.odt : le modèle en français s'appelle model.docx ou model.odt "
                                "(renommez-le ; les autres langues seulement portent leur code)", file=file))
    return findings


def lint_output_pattern(manifest: Manifest, file: str) -> list[Finding]:
    if not manifest.output:
        return []
    try:
        used = meta.find_undeclared_variables(plain_environment().parse(manifest.output))
    except TemplateError as exc:
        return [Finding(f"motif « output » : erreur de syntaxe Jinja ({exc})", file=file)]
    declared = {f.name for f in manifest.fields} | BUILTINS
    return [Finding(f"motif « output » : variable « {name} » non déclarée dans [[fields]]", file=file)
            for name in sorted(used - declared)]


def trial_output_pattern(manifest: Manifest, examples: dict, commune: dict | None, file: str) -> list[Finding]:
    """The file-name pattern filled with the examples, in the same bounded sandbox as the letter."""
    from datetime import date

    try:
        plain_environment().from_string(manifest.output).render({**examples, "today": date.today(),
                                                                  "commune": commune or {}})
    except BudgetExceeded as exc:
        return [Finding(f"motif « output » : {exc.detail}", file=file)]
    except (TemplateError, ValueError, TypeError, ArithmeticError, LookupError):
        return []  # a pattern that fails falls back to the template's id: not an error
    return []


def _typed_examples(manifest: Manifest, file: str, findings: list[Finding], folder: Path | None = None) -> dict | None:
    try:
        return validate(manifest, manifest.examples(), folder=folder)
    except FieldErrors as exc:
        for error in exc.errors:
            findings.append(Finding(f"exemple invalide : {error['message']}", file=file))
        return None


def lint_model(model: Path, data: bytes, manifest: Manifest, examples: dict | None, commune: dict | None,
               limits: ZipLimits = ZipLimits()) -> list[Finding]:
    """All findings for one .docx/.odt model against its manifest."""
    file = str(model)
    suffix = model.suffix.lower()
    try:
        if suffix == ".docx":
            from plume.documents.docx import read_parts
        elif suffix == ".odt":
            from plume.documents.odt import read_parts
        else:
            return [Finding("format non pris en charge (.docx ou .odt attendu)", file=file)]
        package, parts = read_parts(data, limits)
    except (UnsafeDocument, KeyError, UnicodeDecodeError) as exc:
        message = str(exc) if isinstance(exc, UnsafeDocument) else "document illisible"
        return [Finding(message, file=file)]
    findings: list[Finding] = lone_block_tags(suffix, package, parts)
    findings += cell_findings(suffix, package, parts) + picture_findings(package, manifest)
    used: set[str] = set()
    env = make_environment(None)
    for part in parts:
        balance = check_balance(part)
        findings += balance
        try:  # meta's code generator also checks filters and tests: an unknown one raises here
            names = meta.find_undeclared_variables(env.parse(part.source))
        except TemplateError as exc:
            if not balance:
                findings.append(syntax_problem(part, exc))
            continue
        used |= names
        declared = {f.name for f in manifest.fields} | BUILTINS | ({"qrbill"} if manifest.qrbill else set())
        for name in sorted(names - declared):
            lineno, text = _where_used(part, name)
            findings.append(Finding(f"variable « {name} » utilisée mais non déclarée dans template.toml",
                                    part=part.label_of(lineno), paragraph=text))
    for finding in findings:
        finding.file = file
    if findings:
        return findings
    for field in manifest.fields:
        if field.name not in used:
            findings.append(Finding(f"champ « {field.name} » déclaré dans template.toml mais absent du modèle",
                                    file=file))
    if examples is not None:
        findings += trial_render(model, data, examples, commune, limits)
    return findings


_LONE = re.compile(r"\{%p\s.*?%\}", re.DOTALL)


def lone_block_tags(suffix: str, package: ZipPackage, parts: list[PartSource]) -> list[Finding]:
    """`{%p … %}` shares its paragraph with other text: that text would silently disappear."""
    findings = []
    for part in parts:
        root = parse_xml(package.entries[part.name])
        for text in _raw_paragraphs(root, suffix):
            tag = _LONE.search(text)
            if tag and text.strip() != tag.group(0).strip():
                findings.append(Finding("« {%p … %} » doit être seul dans son paragraphe : le reste du paragraphe "
                                        "serait supprimé", part=part.label, paragraph=text.strip()))
    return findings


def _raw_paragraphs(root: etree._Element, suffix: str) -> list[str]:
    if suffix == ".odt":
        from plume.documents.odt import PARAGRAPHS, paragraph_text

        return [paragraph_text(p) for p in root.iter(*PARAGRAPHS)]
    w = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
    texts = []
    for p in root.iter(f"{w}p"):
        own = [t.text or "" for t in p.iter(f"{w}t") if next(t.iterancestors(f"{w}p")) is p]
        texts.append("".join(own))
    return texts


def check_balance(part: PartSource) -> list[Finding]:
    """Every `{% if %}`/`{% for %}`… closed by its own `{% end… %}`, in order."""
    stack: list[tuple[str, int, str]] = []
    findings = []
    for lineno, text in part.paragraphs():
        for match in _BLOCK_TAG.finditer(text):
            word = match.group(1)
            if word in _OPENERS:
                if word == "raw":
                    continue
                stack.append((word, lineno, text))
            elif word.startswith("end") and word[3:] in _OPENERS:
                if stack and stack[-1][0] == word[3:]:
                    stack.pop()
                elif stack:
                    opener = stack.pop()
                    findings.append(Finding(f"« {{% {word} %}} » ferme un « {{% {opener[0]} %}} » : blocs croisés",
                                            part=part.label_of(lineno), paragraph=text))
                else:
                    findings.append(Finding(f"« {{% {word} %}} » sans « {{% {word[3:]} %}} » ouvrant",
                                            part=part.label_of(lineno), paragraph=text))
    for word, lineno, text in stack:
        findings.append(Finding(f"« {{% {word} %}} » jamais fermé (il manque « {{% end{word} %}} »)",
                                part=part.label_of(lineno), paragraph=text))
    return findings


def _where_used(part: PartSource, name: str) -> tuple[int, str]:
    pattern = re.compile(rf"\b{re.escape(name)}\b")
    for lineno, text in part.paragraphs():
        if any(pattern.search(tag.group(0)) for tag in JINJA_TAG.finditer(text)):
            return lineno, text
    return 0, ""


def trial_render(model: Path, data: bytes, examples: dict, commune: dict | None,
                 limits: ZipLimits = ZipLimits()) -> list[Finding]:
    """Fill the model with its examples: it must render, and every part must stay well-formed XML."""
    from datetime import date

    from plume.documents import prepare

    file = str(model)
    try:
        prepared = prepare(model, data, limits)
        output = prepared.render({**examples, "today": date.today(), "commune": commune or {}})
    except TemplateInvalid as exc:
        return [Finding(p.message, file=file, part=p.part, paragraph=p.paragraph) for p in exc.problems]
    except RenderFailed as exc:
        return [Finding(f"le remplissage avec les exemples échoue ({exc})", file=file)]
    except BudgetExceeded as exc:  # a loop or a value the sandbox refuses (plume.documents.sandbox)
        return [Finding(f"le remplissage avec les exemples dépasse les limites : {exc.detail}", file=file)]
    package = ZipPackage.read(output, {p.name for p in prepared.parts}, limits)
    findings = []
    for part in prepared.parts:
        try:
            parse_xml(package.entries[part.name])
        except (UnsafeDocument, etree.XMLSyntaxError):
            findings.append(Finding("le document rempli avec les exemples n'est plus du XML valide "
                                    "(balise {% %} à cheval sur une mise en forme ?)", file=file, part=part.label))
    return findings
