"""Reading and changing a Writer document through its UNO model (no UI).

The selection is read paragraph by paragraph, each as formatted runs taken from Writer's text
portions; a paragraph is replaced by writing the new text once and then setting each run's
attributes, so bold, italic, underline and hyperlinks survive. Every change runs inside one
undo context, and is rolled back if it fails half way.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from dataclasses import dataclass, field

import uno
from com.sun.star.awt.FontSlant import ITALIC, NONE as SLANT_NONE
from com.sun.star.beans import PropertyValue

from plume_lo.richtext import Run, changes, merge, plain, slice_runs

BOLD, NORMAL = 150.0, 100.0
UNDERLINE_SINGLE, UNDERLINE_NONE = 1, 0
# Attributes of the first run that the replacement text keeps as a whole (font, size, colour).
BASE_PROPERTIES = ("CharFontName", "CharHeight", "CharColor")


@dataclass
class Paragraph:
    """The selected part of one paragraph: a range that follows later edits, and its runs."""
    range: object
    runs: list[Run]
    base: dict = field(default_factory=dict)

    @property
    def text(self) -> str:
        return plain(self.runs)


def is_text_document(doc) -> bool:
    return doc is not None and hasattr(doc, "supportsService") and doc.supportsService("com.sun.star.text.TextDocument")


def _run_of(portion) -> Run:
    url = portion.getPropertyValue("HyperLinkURL") or ""
    return Run(portion.getString(),
               bold=portion.getPropertyValue("CharWeight") > NORMAL,
               italic=portion.getPropertyValue("CharPosture") != SLANT_NONE,
               underline=portion.getPropertyValue("CharUnderline") != UNDERLINE_NONE,
               link=url)


def _text_ranges(doc):
    selection = doc.getCurrentController().getSelection()
    if selection is None or not hasattr(selection, "getCount"):
        return []  # a shape or a frame is selected, not text
    ranges = []
    for i in range(selection.getCount()):
        item = selection.getByIndex(i)
        if hasattr(item, "getText") and hasattr(item, "getString"):
            ranges.append(item)
    return ranges


def selected_paragraphs(doc) -> list[Paragraph]:
    """The selection's paragraphs (parts of them at the ends), with their runs. Empty ones skipped."""
    found = []
    for selected in _text_ranges(doc):
        text = selected.getText()
        cursor = text.createTextCursorByRange(selected)
        paragraphs = cursor.createEnumeration()
        while paragraphs.hasMoreElements():
            paragraph = paragraphs.nextElement()
            if not paragraph.supportsService("com.sun.star.text.Paragraph"):
                continue  # a table inside the selection: left as it is
            portions = []
            enum = paragraph.createEnumeration()
            while enum.hasMoreElements():
                portion = enum.nextElement()
                # Text, and fields as their text; bookmarks, frames and notes are not words to rewrite.
                if portion.getPropertyValue("TextPortionType") in ("Text", "TextField") and portion.getString():
                    portions.append(portion)
            if not "".join(p.getString() for p in portions).strip():
                continue
            span = text.createTextCursorByRange(portions[0].getStart())
            span.gotoRange(portions[-1].getEnd(), True)
            base = {name: portions[0].getPropertyValue(name) for name in BASE_PROPERTIES}
            found.append(Paragraph(span, merge([_run_of(p) for p in portions]), base))
    return found


def selected_text(doc) -> str:
    """The selection as plain text, blank lines included (an e-mail needs the one after its headers)."""
    text = "\n".join(r.getString() for r in _text_ranges(doc))
    return text.replace("\r\n", "\n").replace("\r", "\n")


def selection_range(doc):
    """The first selected range that holds text, or None (a mere cursor)."""
    return next((r for r in _text_ranges(doc) if r.getString()), None)


def checked_range(doc):
    """What « Corriger » checks: the selection (the first range), or the whole text when nothing is
    selected; with a cursor at its start, from which the server's offsets are counted."""
    ranges = [r for r in _text_ranges(doc) if r.getString()]
    if ranges:
        selected = ranges[0]
        content = selected.getString()
        text = selected.getText()
        backwards = text.compareRegionStarts(selected.getStart(), selected.getEnd()) < 0
        anchor = text.createTextCursorByRange(selected.getEnd() if backwards else selected.getStart())
    else:
        body = doc.getText()
        content, anchor = body.getString(), body.createTextCursorByRange(body.getStart())
    return content.replace("\r\n", "\n").replace("\r", "\n"), anchor


def span_at(anchor, start: int, end: int):
    """A text cursor over characters [start, end) counted from `anchor` (a paragraph break is one)."""
    cursor = anchor.getText().createTextCursorByRange(anchor.getStart())
    cursor.goRight(start, False)
    cursor.goRight(end - start, True)
    return cursor


def document_text(doc) -> str:
    return doc.getText().getString()


def replace_runs(paragraph: Paragraph, runs: list[Run]) -> None:
    """Write `runs` in place of the paragraph's selected part, formatting run by run.

    The new text first falls back to the paragraph's own formatting; then each run gets direct
    formatting only where it differs, so no needless attributes (or empty hyperlinks) are written.
    """
    span = paragraph.range
    text = span.getText()
    new_text = plain(runs)
    span.setString(new_text)
    whole = text.createTextCursorByRange(span.getStart())
    whole.goRight(len(new_text), True)
    whole.setPropertiesToDefault(FORMAT_PROPERTIES)
    for name, value in paragraph.base.items():
        with contextlib.suppress(Exception):
            if whole.getPropertyValue(name) != value:
                whole.setPropertyValue(name, value)
    cursor = text.createTextCursorByRange(span.getStart())
    for run in runs:
        cursor.collapseToEnd()
        cursor.goRight(len(run.text), True)
        _format(cursor, run)


FORMAT_PROPERTIES = ("CharWeight", "CharPosture", "CharUnderline", "HyperLinkURL")


def _format(cursor, run: Run) -> None:
    wanted = {"CharWeight": BOLD if run.bold else NORMAL,
              "CharPosture": ITALIC if run.italic else SLANT_NONE,
              "CharUnderline": UNDERLINE_SINGLE if run.underline else UNDERLINE_NONE}
    for name, value in wanted.items():
        current = cursor.getPropertyValue(name)
        differs = (current > NORMAL) != run.bold if name == "CharWeight" else current != value
        if differs:
            cursor.setPropertyValue(name, value)
    if run.link:
        cursor.setPropertyValue("HyperLinkURL", run.link)
    elif cursor.getPropertyValue("HyperLinkURL"):  # text typed next to a link takes the link: not ours
        cursor.setPropertyValue("HyperLinkURL", "")


# How a result goes into the document (setting ReviewMode): as the document's own tracked changes
# by « Plume », in place of the text, or after it.
TRACKED, REPLACE, AFTER = "tracked", "replace", "after"
REVIEW_MODES = (TRACKED, REPLACE, AFTER)
AUTHOR = "Plume"
USER_PROFILE = "/org.openoffice.UserProfile/Data"
AUTHOR_KEYS = ("givenname", "sn", "initials")


def review_runs(paragraph: Paragraph, runs: list[Run], mode: str) -> None:
    """Put `runs` in place of the paragraph's selected part: tracked word by word, or replaced."""
    if mode == TRACKED:
        track_runs(paragraph, runs)
    else:
        replace_runs(paragraph, runs)


def track_runs(paragraph: Paragraph, runs: list[Run]) -> None:
    """Change only the passages that differ, each an insertion and a deletion the clerk reviews.

    Call inside `tracked_changes`. Words kept are not touched, so their formatting stays as it
    was; inserted words get the formatting of `runs`. From the end backwards: under record-changes
    a deletion leaves its characters in place, and earlier offsets stay valid either way."""
    doc_text = paragraph.range.getText()
    new_text = plain(runs)
    for old_start, old_end, new_start, new_end in reversed(changes(paragraph.text, new_text)):
        if new_end > new_start:  # the new words go in after the old ones, which then get struck
            cursor = _cursor_at(paragraph, old_end)
            doc_text.insertString(cursor, new_text[new_start:new_end], False)
            inserted = _cursor_at(paragraph, old_end)
            for run in slice_runs(runs, new_start, new_end):
                inserted.collapseToEnd()
                inserted.goRight(len(run.text), True)
                _format(inserted, run)
        if old_end > old_start:
            cursor = _cursor_at(paragraph, old_start)
            cursor.goRight(old_end - old_start, True)
            cursor.setString("")


def replace_paragraphs(doc, paragraphs: list[Paragraph], content: str, mode: str) -> None:
    """Put `content` (paragraphs separated by newlines) in place of the selected paragraphs as a whole,
    when the result does not line up paragraph for paragraph; or after them."""
    if mode == AFTER or not paragraphs:
        insert_text(doc, content)
        return
    first, last = paragraphs[0].range, paragraphs[-1].range
    whole = first.getText().createTextCursorByRange(first.getStart())
    whole.gotoRange(last.getEnd(), True)
    replace_range(whole.getText(), whole, content)


def replace_range(doc_text, cursor, new: str) -> None:
    """Replace the characters under `cursor`; the new ones keep the first replaced character's format.

    The new characters go in right after the old ones, so they take the old ones' format (Writer's
    setString would give them the format of the character before); then the old ones are deleted
    (under record-changes: struck through, and the offsets do not move)."""
    length = len(cursor.getString())
    start = doc_text.createTextCursorByRange(cursor.getStart())
    if new:
        doc_text.insertString(doc_text.createTextCursorByRange(cursor.getEnd()), new, False)
    old = doc_text.createTextCursorByRange(start.getStart())
    old.goRight(length, True)
    old.setString("")


def _cursor_at(paragraph: Paragraph, offset: int):
    cursor = paragraph.range.getText().createTextCursorByRange(paragraph.range.getStart())
    cursor.goRight(offset, False)
    return cursor


@contextlib.contextmanager
def tracked_changes(ctx, doc, author: str = AUTHOR):
    """Record what is done inside as the document's own tracked changes, by `author`.

    Writer signs a change with the name in Tools > Options > User Data (the configuration's
    UserProfile/Data): it is set to « Plume » for the change only, then the clerk's name and the
    document's own record-changes state are put back. A name locked by IT stays as it is."""
    profile = _configuration(ctx, USER_PROFILE)
    saved = {key: profile.getByName(key) for key in AUTHOR_KEYS}
    _write(profile, {"givenname": author, "sn": "", "initials": ""})
    was_recording = bool(doc.getPropertyValue("RecordChanges"))
    doc.setPropertyValue("RecordChanges", True)
    try:
        yield
    finally:
        doc.setPropertyValue("RecordChanges", was_recording)
        _write(profile, saved)


@contextlib.contextmanager
def review(ctx, doc, mode: str):
    """Tracked changes in tracked mode; nothing special otherwise."""
    if mode == TRACKED:
        with tracked_changes(ctx, doc):
            yield
    else:
        yield


def _configuration(ctx, nodepath: str):
    provider = ctx.ServiceManager.createInstanceWithContext("com.sun.star.configuration.ConfigurationProvider", ctx)
    return provider.createInstanceWithArguments("com.sun.star.configuration.ConfigurationUpdateAccess",
                                                (_prop("nodepath", nodepath),))


def _write(node, values: dict) -> None:
    for key, value in values.items():
        with contextlib.suppress(Exception):  # finalized by IT: read-only
            node.replaceByName(key, value)
    with contextlib.suppress(Exception):
        node.commitChanges()


@contextlib.contextmanager
def undo_step(doc, title: str):
    """One undo step for everything done inside; undone again if an exception escapes."""
    manager = doc.getUndoManager()
    manager.enterUndoContext(title)
    try:
        yield
    except BaseException:
        manager.leaveUndoContext()
        with contextlib.suppress(Exception):
            manager.undo()
        raise
    manager.leaveUndoContext()


def _insertion_cursor(doc, after_selection: bool):
    view = doc.getCurrentController().getViewCursor()
    anchor = view.getEnd() if after_selection else view.getStart()
    return anchor.getText().createTextCursorByRange(anchor)


def insert_text(doc, content: str, after_selection: bool = True) -> None:
    """Insert `content` (paragraphs separated by newlines) in new paragraphs after the selection."""
    cursor = _insertion_cursor(doc, after_selection)
    text = cursor.getText()
    from com.sun.star.text.ControlCharacter import PARAGRAPH_BREAK
    for line in content.split("\n"):
        text.insertControlCharacter(cursor, PARAGRAPH_BREAK, False)
        text.insertString(cursor, line, False)


def put_text(doc, content: str, mode: str) -> None:
    """New text from Plume (a citation, an answer, a transcript) as the review mode says, lines as
    paragraphs: in place of the selection, or at the cursor when nothing is selected (tracked or not:
    call inside `review`); or, with AFTER, in new paragraphs after the selection, which stays as it is."""
    if mode == AFTER:
        insert_text(doc, content)
        return
    ranges = _text_ranges(doc)
    selected = ranges[0] if ranges else doc.getCurrentController().getViewCursor()
    text = selected.getText()
    backwards = text.compareRegionStarts(selected.getStart(), selected.getEnd()) < 0
    old = text.createTextCursorByRange(selected)
    at = text.createTextCursorByRange(selected.getEnd() if backwards else selected.getStart())
    # Before the old text, so that `old` moves along and still holds exactly it; "\r" starts a paragraph
    # (Writer's insertString; "\n" would be a line break inside one).
    text.insertString(at, content.replace("\r\n", "\n").replace("\n", "\r"), False)
    if old.getString():
        old.setString("")  # under record-changes: struck through, for the clerk to accept


def insert_document_after(doc, data: bytes, anchor=None, suffix: str = ".odt") -> None:
    """Insert a rendered document in new paragraphs after the paragraph where `anchor` ends (the end of
    the text when None); the temporary file is deleted right after."""
    text = doc.getText() if anchor is None else anchor.getText()
    cursor = text.createTextCursorByRange(text.getEnd() if anchor is None else anchor.getEnd())
    cursor.gotoEndOfParagraph(False)
    from com.sun.star.text.ControlCharacter import PARAGRAPH_BREAK
    text.insertControlCharacter(cursor, PARAGRAPH_BREAK, False)
    path = _temp_file(data, suffix)
    try:
        cursor.insertDocumentFromURL(uno.systemPathToFileUrl(path), ())
    finally:
        os.unlink(path)


def insert_document(doc, data: bytes, suffix: str = ".odt") -> None:
    """Insert a rendered document at the cursor; the temporary file is deleted right after."""
    cursor = _insertion_cursor(doc, after_selection=False)
    path = _temp_file(data, suffix)
    try:
        cursor.insertDocumentFromURL(uno.systemPathToFileUrl(path), ())
    finally:
        os.unlink(path)


def open_document(ctx, data: bytes, suffix: str = ".odt", hidden: bool = False):
    """Open a rendered document as a new, untitled document (AsTemplate); the file is deleted after."""
    desktop = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
    path = _temp_file(data, suffix)
    try:
        return desktop.loadComponentFromURL(uno.systemPathToFileUrl(path), "_blank", 0,
                                            (_prop("AsTemplate", True), _prop("Hidden", hidden)))
    finally:
        os.unlink(path)


def _temp_file(data: bytes, suffix: str) -> str:
    handle, path = tempfile.mkstemp(prefix="plume-oxt-", suffix=suffix)
    with os.fdopen(handle, "wb") as fh:
        fh.write(data)
    return path


def _prop(name, value):
    p = PropertyValue()
    p.Name, p.Value = name, value
    return p
