"""How a result goes into the text: the review mode (tracked changes by « Plume », in place, or after
the selection), chosen by the setting, which IT may lock, or by a dispatch URL."""

from __future__ import annotations

from plume_lo import richtext, settings, writer


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
