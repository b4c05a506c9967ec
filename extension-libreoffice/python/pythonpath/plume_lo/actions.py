"""What each Plume button does, independent of any user interface.

An action has three steps, so that the server is never called while the document is being changed
and the document is never changed before the server has answered:

- `capture(doc)`  (main thread): read what the action needs from the document;
- `work(client, snapshot, job)` (worker thread): the HTTP calls; may raise PlumeError;
- `apply(ctx, doc, snapshot, result)` (main thread): change the document in one undo step and
  return a dict describing the outcome (shown in the panel, or returned to a dispatch caller).

An action whose result the model writes bit by bit also has `partial(written)`: what Stop keeps of
it, in the shape `apply` takes (None: nothing worth keeping). `work` tells the job what is written
so far (`job.wrote`), in one assignment, so that Stop never sees a half-updated state.

The sidebar, the menu, the context menu and the tests all run these same objects through
`runner.start`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from plume_lo import richtext, settings, writer
from plume_lo.client import Client, PlumeError, quote


class Cancelled(Exception):
    pass


def _check(job) -> None:
    if job is not None and job.cancelled:
        raise Cancelled()


def _stream(client: Client, path: str, body: dict, job, written=lambda text: text) -> dict:
    """A task's answer, streamed: `job.wrote(written(text so far))` as the model writes; Cancelled
    once the clerk has pressed Stop (the job then keeps what was written)."""
    _check(job)
    wrote = job.wrote if job is not None else (lambda _value: None)
    answer = client.stream(path, body, lambda text: wrote(written(text)),
                           lambda: job is not None and job.cancelled)
    if answer is None:
        raise Cancelled()
    return answer


class _ByParagraph:
    """Stop keeps the paragraphs already done and the part written of the current one."""

    def partial(self, written):
        done, text = written if isinstance(written, tuple) else ((), "")
        kept = list(done) + ([{"text": text}] if text.strip() else [])
        return kept or None


class _OneText:
    """A result written in one stream: Stop keeps the text written so far."""
    request_id = ""

    def _wrote(self, client: Client, text: str) -> str:
        self.request_id = client.last_request_id  # the part kept on Stop is counted like a whole result
        return text

    def partial(self, written):
        return {"text": written} if isinstance(written, str) and written.strip() else None


class _OnSelectedParagraphs:
    """An action that rewrites the selected paragraphs in place, in one undo step."""

    undo_key = ""

    def capture(self, doc):
        paragraphs = writer.selected_paragraphs(doc)
        if not paragraphs:
            raise PlumeError("no_selection")
        return paragraphs

    def _title(self, ctx):
        return _undo_title(ctx, self.undo_key)


@dataclass
class PlainLanguage(_ByParagraph, _OnSelectedParagraphs):
    """Plain language for the selected paragraphs.

    With `preview` (the sidebar), nothing changes in the document: the panel shows the proposed
    text, the readability before/after and the remarks, and the clerk then chooses Replace, Insert
    after or Cancel (ApplyPlainLanguage). Without it (a script's dispatch URL), the text is replaced
    at once, in one undo step."""
    level: str = "B1"
    preview: bool = False
    review: str = ""  # tracked | replace | after; empty: the ReviewMode setting
    undo_key = "undo_plain"

    def work(self, client: Client, paragraphs, job):
        answers, self.request_ids = [], []
        for paragraph in paragraphs:
            done = tuple(answers)
            self.request_ids.append("")
            answers.append(_stream(client, "/v1/text/plain-language", {"text": paragraph.text, "level": self.level},
                                   job, lambda text, done=done: self._wrote(client, done, text)))
            self.request_ids[-1] = client.last_request_id
            if job is not None:
                job.wrote((tuple(answers), ""))
        return answers

    def _wrote(self, client: Client, done: tuple, text: str) -> tuple:
        self.request_ids[len(done)] = client.last_request_id  # the part kept on Stop is counted too
        return done, text

    def apply(self, ctx, doc, paragraphs, answers):
        texts = [_text_of(a).strip("\n") for a in answers]
        outcome = {"text": "\n".join(texts), "texts": texts, "originals": [p.text for p in paragraphs],
                   "request_ids": list(self.request_ids),
                   "before": [a.get("before") for a in answers], "after": [a.get("after") for a in answers],
                   "diagnostics": [d for a in answers for d in (a.get("diagnostics") or [])],
                   **_plain_warnings(answers, texts, paragraphs)}
        if self.preview:
            return {**outcome, "preview": True}
        if outcome["unchanged"]:  # nothing safe to change: her text is left alone, and she is told why
            return {**outcome, "warning": nothing_safe_sentence(settings.language(ctx), outcome)}
        mode = review_mode(ctx, self.review)
        rewrite(ctx, doc, self._title(ctx), paragraphs,
                [richtext.reformat(p.runs, text) for p, text in zip(paragraphs, texts)], mode)
        return {**outcome, **outcome_of(mode), "usage": outcome["request_ids"]}


@dataclass
class ApplyPlainLanguage(_OnSelectedParagraphs):
    """The clerk accepts a plain-language preview: replace the selection, or insert the text after it.

    The selection must still be the text that was analysed; otherwise nothing changes."""
    originals: list
    texts: list
    request_ids: list = field(default_factory=list)
    mode: str = "replace"  # replace | after
    undo_key = "undo_plain"

    def capture(self, doc):
        paragraphs = super().capture(doc)
        if [p.text for p in paragraphs] != list(self.originals):
            raise PlumeError("selection_changed")
        return paragraphs

    def work(self, client, paragraphs, job):
        return None

    def apply(self, ctx, doc, paragraphs, _result):
        # « Remplacer » goes in as the setting says (tracked changes by default); « Insérer après » after.
        mode = writer.AFTER if self.mode == "after" else review_mode(ctx, "", in_place=True)
        rewrite(ctx, doc, self._title(ctx), paragraphs,
                [richtext.reformat(p.runs, text) for p, text in zip(paragraphs, self.texts)], mode)
        return {**outcome_of(mode), "usage": list(self.request_ids)}


@dataclass
class Translate(_ByParagraph, _OnSelectedParagraphs):
    target: str = "de"
    source: str = ""
    review: str = ""  # tracked | replace | after; empty: the ReviewMode setting
    undo_key = "undo_translate"

    def work(self, client: Client, paragraphs, job):
        answers, self.request_ids = [], []
        for paragraph in paragraphs:
            _check(job)
            body = {"text": richtext.to_html(paragraph.runs), "target": self.target, "format": "html"}
            if self.source:
                body["source"] = self.source
            answers.append(client.post_json("/v1/text/translate", body))
            self.request_ids.append(client.last_request_id)
            if job is not None:  # Stop keeps the paragraphs already translated
                job.wrote((tuple(answers), ""))
        return answers

    def apply(self, ctx, doc, paragraphs, answers):
        new_runs = []
        for paragraph, answer in zip(paragraphs, answers):
            runs = richtext.from_html(_text_of(answer))
            if not any(r.bold or r.italic or r.underline or r.link for r in runs) and \
                    any(r.bold or r.italic or r.underline or r.link for r in paragraph.runs):
                # The engine lost the tags: put the formatting back where words line up.
                runs = richtext.reformat(paragraph.runs, richtext.plain(runs))
            new_runs.append(runs)
        mode = review_mode(ctx, self.review)
        rewrite(ctx, doc, self._title(ctx), paragraphs, new_runs, mode, always=True)
        first = answers[0] if answers else {}
        return {"text": "\n".join(richtext.plain(richtext.from_html(_text_of(a))) for a in answers),
                "source": first.get("source"), "target": first.get("target"), "engine": first.get("engine"),
                "warnings": [w for a in answers for w in (a.get("warnings") or [])], "usage": self.request_ids,
                **outcome_of(mode)}


def review_mode(ctx, override: str = "", in_place: bool = False) -> str:
    """The review mode for an action: the dispatch URL's, else the setting (IT may have locked it).

    `in_place`: the clerk asked for the text to be replaced (« Remplacer »): « after » then means
    the same as tracked changes, which also keep the original visible."""
    mode = settings.review_mode(ctx)
    if override in writer.REVIEW_MODES and not _review_locked(ctx):
        mode = override
    return writer.TRACKED if in_place and mode == writer.AFTER else mode


def _review_locked(ctx) -> bool:
    try:
        return "ReviewMode" in settings.locked(ctx)
    except Exception:
        return True


def outcome_of(mode: str) -> dict:
    return {"replaced": mode != writer.AFTER, "inserted": mode == writer.AFTER, "tracked": mode == writer.TRACKED,
            "review": mode}


def rewrite(ctx, doc, title: str, paragraphs, new_runs, mode: str, always: bool = False) -> None:
    """Put each paragraph's new text in through the review mode, in one undo step: tracked changes
    by « Plume », in place, or after the selection (the original stays as it is)."""
    with writer.undo_step(doc, title), writer.review(ctx, doc, mode):
        if mode == writer.AFTER:
            writer.insert_text(doc, "\n".join(richtext.plain(runs) for runs in new_runs))
            return
        for paragraph, runs in zip(paragraphs, new_runs):
            if always or richtext.plain(runs) != paragraph.text:
                writer.review_runs(paragraph, runs, mode)


# Text tasks whose result is shown in the panel and inserted on request.
TEXT_TASKS = {
    "summarize": "/v1/text/summarize",
    "minutes": "/v1/text/minutes",
    "factsheet": "/v1/text/factsheet",
    "acknowledge": "/v1/mail/acknowledge",
}


@dataclass
class TextTask(_OneText):
    kind: str
    insert: bool = False
    options: dict = field(default_factory=dict)

    def capture(self, doc):
        content = writer.selected_text(doc) or writer.document_text(doc)
        if not content.strip():
            raise PlumeError("no_selection")
        return content

    def work(self, client: Client, content, job):
        self.request_id = ""
        answer = _stream(client, TEXT_TASKS[self.kind], {**self.body(content), **self.options}, job,
                         lambda text: self._wrote(client, text))
        self.request_id = client.last_request_id
        return answer

    def body(self, content: str) -> dict:
        if self.kind != "acknowledge":
            return {"text": content}
        # An e-mail pasted with its headers is sent raw, so the server reads sender, date and subject.
        looks_raw = re.match(r"(?im)^(from|de|von|subject|objet|date)\s*:", content.lstrip())
        return {"eml": content} if looks_raw else {"body": content}

    def apply(self, ctx, doc, content, answer):
        result = _text_of(answer)
        if self.insert and result:
            with writer.undo_step(doc, _undo_title(ctx, "undo_insert")):
                writer.insert_text(doc, result)
        inserted = bool(self.insert and result)
        return {"text": result, "inserted": inserted, "request_id": self.request_id,
                "usage": [self.request_id] if inserted else []}


@dataclass
class InsertResult:
    """Insert a result the panel already shows (no server call but the usage report)."""
    content: str
    request_ids: list = field(default_factory=list)

    def capture(self, doc):
        return None

    def work(self, client, snapshot, job):
        return None

    def apply(self, ctx, doc, snapshot, result):
        with writer.undo_step(doc, _undo_title(ctx, "undo_insert")):
            writer.insert_text(doc, self.content)
        return {"inserted": True, "usage": list(self.request_ids)}


@dataclass
class InsertTemplate:
    template_id: str
    values: dict
    mode: str = "insert"  # insert | new
    language: str = ""  # one of the template's languages (de, it…); empty: French

    def capture(self, doc):
        if not self.template_id:
            raise PlumeError("no_template")
        return None

    def work(self, client: Client, snapshot, job):
        _check(job)
        body = {"values": self.values, "format": "odt", **({"language": self.language} if self.language else {})}
        data = client.post_file(f"/v1/templates/{quote(self.template_id)}/render", body)
        self.request_id, self.warning = client.last_request_id, client.last_warning
        return data

    def apply(self, ctx, doc, snapshot, data: bytes):
        # `warning`: the letter is in French, the template having no version in the language asked for.
        said = {"warning": self.warning} if self.warning else {}
        if self.mode == "new" or doc is None:
            writer.open_document(ctx, data)
            return {"opened": True, "usage": [self.request_id], **said}
        with writer.undo_step(doc, _undo_title(ctx, "undo_template")):
            writer.insert_document(doc, data)
        return {"inserted": True, "usage": [self.request_id], **said}


@dataclass
class ExtractFields:
    """Case notes -> values for a template's fields (nothing changes in the document)."""
    template_id: str
    notes: str

    def capture(self, doc):
        if not self.template_id:
            raise PlumeError("no_template")
        return None

    def work(self, client: Client, snapshot, job):
        _check(job)
        return client.post_json(f"/v1/templates/{quote(self.template_id)}/extract", {"text": self.notes})

    def apply(self, ctx, doc, snapshot, answer):
        return {"values": answer.get("values") or {}, "missing": answer.get("missing") or []}


@dataclass
class ListTemplates:
    def capture(self, doc):
        return None

    def work(self, client: Client, snapshot, job):
        listing = client.get_json("/v1/templates")
        return listing.get("templates", listing) if isinstance(listing, dict) else listing

    def apply(self, ctx, doc, snapshot, templates):
        return {"templates": templates}


@dataclass
class GetTemplate:
    template_id: str

    def capture(self, doc):
        return None

    def work(self, client: Client, snapshot, job):
        return client.get_json(f"/v1/templates/{quote(self.template_id)}")

    def apply(self, ctx, doc, snapshot, template):
        return {"template": template}


@dataclass
class Capabilities:
    """What this server can do now (GET /v1/capabilities): the panel offers only that.

    An older server without the route answers 404: then the panel keeps its built-in choices."""

    def capture(self, doc):
        return None

    def work(self, client: Client, snapshot, job):
        try:
            answer = client.get_json("/v1/capabilities")
        except PlumeError as error:
            if error.status == 404:
                return {}
            raise
        return answer if isinstance(answer, dict) else {}

    def apply(self, ctx, doc, snapshot, answer):
        KNOWN.clear()
        KNOWN.update(answer.get("tasks") or {})
        return {"capabilities": dict(KNOWN)}


@dataclass
class Proofread:
    """« Corriger »: the server lists the errors of the selection (POST /v1/text/proofread).

    Nothing changes in the document then. The action keeps a cursor at the start of the checked text,
    from which the errors' offsets are counted: `locate` selects an error, `fix` applies suggestions.
    With `fix_all` (a dispatch URL), the unambiguous ones are applied at once."""
    fix_all: bool = False
    review: str = ""
    errors: list = field(default_factory=list)

    def capture(self, doc):
        content, self.anchor = writer.checked_range(doc)
        if not content.strip():
            raise PlumeError("no_selection")
        return content

    def work(self, client: Client, content, job):
        _check(job)
        return client.post_json("/v1/text/proofread", {"text": content})

    def apply(self, ctx, doc, content, answer):
        self.errors = [e for e in answer.get("errors") or [] if _valid_error(e, len(content))]
        outcome = {"checked": answer.get("checked"), "warnings": list(answer.get("warnings") or []),
                   "warning_codes": list(answer.get("warning_codes") or []), "language": answer.get("language")}
        if self.fix_all:
            outcome["fixed"] = self.fix(ctx, doc, self.sure_fixes())
        return {**outcome, "errors": list(self.errors)}

    def locate(self, error):
        """A cursor over the error in the document, or None when the text there is no longer the same."""
        cursor = writer.span_at(self.anchor, error["start"], error["end"])
        found = cursor.getString().replace("\r\n", "\n").replace("\r", "\n")
        return cursor if found == error.get("text", found) else None

    def sure_fixes(self) -> list:
        """The unambiguous errors (one suggestion), without overlaps."""
        chosen, end = [], -1
        for error in sorted(self.errors, key=lambda e: e["start"]):
            if error.get("unambiguous") and error.get("suggestions") and error["start"] >= end:
                chosen.append((error, error["suggestions"][0]))
                end = error["end"]
        return chosen

    def fix(self, ctx, doc, fixes) -> int:
        """Apply (error, suggestion) pairs in one undo step, from the end of the text backwards so
        that the offsets of those before stay valid. Each replacement keeps the format of the
        characters it replaces. Tracked changes unless the setting says « replace »."""
        if not fixes:
            return 0
        mode = review_mode(ctx, self.review, in_place=True)
        with writer.undo_step(doc, _undo_title(ctx, "undo_proofread")), writer.review(ctx, doc, mode):
            for error, suggestion in sorted(fixes, key=lambda f: f[0]["start"], reverse=True):
                cursor = self.locate(error)
                if cursor is None:
                    raise PlumeError("proof_changed")
                writer.replace_range(cursor.getText(), cursor, suggestion)
        tracked = mode == writer.TRACKED  # the old characters stay in the text, struck through
        self.errors = _after_fixes(self.errors, [(e, len(new) - (0 if tracked else e["end"] - e["start"]))
                                                 for e, new in fixes])
        return len(fixes)


def _after_fixes(errors, fixed) -> list:
    """The errors still to show once `fixed` (error, characters added) are in: the fixed ones and
    those they overlapped leave the list; those after them move by what the fixes added."""
    kept = []
    for error in errors:
        if any(error is done or error["start"] < done["end"] and error["end"] > done["start"] for done, _ in fixed):
            continue
        delta = sum(added for done, added in fixed if done["end"] <= error["start"])
        kept.append({**error, "start": error["start"] + delta, "end": error["end"] + delta})
    return kept


def _valid_error(error, length: int) -> bool:
    try:
        return 0 <= int(error["start"]) <= int(error["end"]) <= length \
            and isinstance(error.get("suggestions", []), list)
    except (KeyError, TypeError, ValueError):
        return False


@dataclass
class ListActions:
    """The commune's actions for this user (GET /v1/actions), read again each time the panel asks."""

    def capture(self, doc):
        return None

    def work(self, client: Client, snapshot, job):
        answer = client.get_json("/v1/actions")
        return answer.get("actions") or [] if isinstance(answer, dict) else []

    def apply(self, ctx, doc, snapshot, listing):
        return {"actions": [a for a in listing if isinstance(a, dict) and a.get("id")]}


@dataclass
class RunAction(_OneText, _OnSelectedParagraphs):
    """One of the commune's actions on the selection (POST /v1/actions/{id}/run), through the review
    mode. An action that applies to the whole document reads all of it and inserts its result after
    the selection."""
    action_id: str = ""
    applies_to: str = "selection"
    review: str = ""
    undo_key = "undo_action"

    def capture(self, doc):
        if self.applies_to == "document":
            content = writer.document_text(doc)
            if not content.strip():
                raise PlumeError("no_selection")
            return content
        return super().capture(doc)

    def work(self, client: Client, snapshot, job):
        self.request_id = ""
        content = snapshot if isinstance(snapshot, str) else "\n".join(p.text for p in snapshot)
        answer = _stream(client, f"/v1/actions/{quote(self.action_id)}/run", {"text": content}, job,
                         lambda text: self._wrote(client, text))
        self.request_id = client.last_request_id
        return answer

    def apply(self, ctx, doc, snapshot, answer):
        result = _text_of(answer).strip("\n")
        if isinstance(snapshot, str):  # the whole document was read: the result goes after the selection
            mode = writer.AFTER
            with writer.undo_step(doc, self._title(ctx)), writer.review(ctx, doc, review_mode(ctx, self.review)):
                writer.insert_text(doc, result)
        else:
            mode = review_mode(ctx, self.review)
            lines = result.split("\n")
            if len(lines) == len(snapshot):  # paragraph for paragraph: formatting kept where words are
                rewrite(ctx, doc, self._title(ctx), snapshot,
                        [richtext.reformat(p.runs, line) for p, line in zip(snapshot, lines)], mode)
            else:
                with writer.undo_step(doc, self._title(ctx)), writer.review(ctx, doc, mode):
                    writer.replace_paragraphs(doc, snapshot, result, mode)
        return {"text": result, "action": self.action_id, "warnings": list(answer.get("warnings") or []),
                "usage": [self.request_id], **outcome_of(mode)}


# The last /v1/capabilities answer seen in this LibreOffice (the context menu offers only that).
KNOWN: dict = {}


# Actions that need no document open (the others need a Writer document).
NO_DOCUMENT = (InsertTemplate, ExtractFields, ListTemplates, GetTemplate, Capabilities, ListActions)


NOTHING_SAFE = "nothing-safe"  # the server's code for « aucune modification sûre » (rules, no model)


def _plain_warnings(answers, texts, paragraphs) -> dict:
    """The servers' warnings once each, but « aucune modification sûre » apart (`nothing_safe`, the
    French sentence), and whether no paragraph changed (`unchanged`): then nothing is offered to insert."""
    warnings, nothing_safe = [], ""
    for answer in answers:
        codes = list(answer.get("warning_codes") or [])
        for n, warning in enumerate(answer.get("warnings") or []):
            if n < len(codes) and codes[n] == NOTHING_SAFE:
                nothing_safe = str(warning)
            elif warning not in warnings:
                warnings.append(warning)
    unchanged = not any(a.get("changed", text != p.text) for a, text, p in zip(answers, texts, paragraphs))
    return {"warnings": warnings, "nothing_safe": nothing_safe, "unchanged": unchanged}


def nothing_safe_sentence(language: str, outcome) -> str:
    """The sentence that says nothing was changed: the server's French one, or this UI's own."""
    from plume_lo import i18n
    if outcome.get("nothing_safe"):
        return outcome["nothing_safe"] if language == "fr" else i18n.text(language, "warning_nothing-safe")
    return i18n.text(language, "plain_unchanged")


def _text_of(answer) -> str:
    """The main text of a task's answer, whatever the task calls it."""
    if isinstance(answer, str):
        return answer
    for key in ("text", "summary", "minutes", "factsheet", "letter", "reply", "body", "content"):
        value = answer.get(key)
        if isinstance(value, str):
            return value
    raise PlumeError("bad_answer")


def _undo_title(ctx, key: str) -> str:
    from plume_lo import i18n, settings
    return i18n.text(settings.language(ctx), key)
