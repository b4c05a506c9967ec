"""Drive the Plume task pane in Debian's headless Chromium, with Office.js replaced by the Word
stand-in (office-standin.js) and every request that is not to the local Plume server refused."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import Browser, Page, Route

from tests.conftest import require_tool

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
STANDIN = (HERE / "office-standin.js").read_text(encoding="utf-8")
OFFICE_JS = "https://appsforoffice.microsoft.com/lib/1/hosted/office.js"
ARTIFACTS = REPO / "artifacts" / "word"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]


def require_chromium() -> None:
    """Skipped on a developer's machine without Debian's chromium, a failure in CI (scripts/test.sh installs it)."""
    require_tool(Path(CHROMIUM).exists(), "chromium")


def launch(playwright) -> Browser:
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)


@dataclass
class Pane:
    page: Page
    base_url: str
    refused: list[str] = field(default_factory=list)
    missing: tuple[str, ...] = ()  # pane files answered 404 (e.g. "js/panels/plain.js")

    # --- opening ---
    @classmethod
    def open(cls, browser: Browser, base_url: str, token: str | None, *, language: str = "fr-CH",
             width: int = 360, word_api: str = "1.3", review: str | None = "replace",
             missing: tuple[str, ...] = ()) -> "Pane":
        """`review`: the clerk's review-mode setting ("tracked", "replace", "after"); None leaves the pane's
        default (tracked changes). Most tests look at the replacement itself, hence "replace". `missing`:
        files of the pane (paths under /addin/word/) answered 404, as by a server whose copy lacks them."""
        context = browser.new_context(viewport={"width": width, "height": 900}, service_workers="block",
                                      locale=language)
        page = context.new_page()
        pane = cls(page=page, base_url=base_url, missing=missing)
        context.route("**/*", pane._route)
        config = {"displayLanguage": language, "wordApi": word_api}
        settings = {"plume.serverUrl": base_url, "plume.token": token or "", "plume.language": ""}
        if review is not None:
            settings["plume.review"] = review
        page.add_init_script(
            f"window.__WORD_STANDIN_CONFIG = {json.dumps(config)};"
            f"if (!localStorage.getItem('__standin.roaming')) localStorage.setItem('__standin.roaming', {json.dumps(json.dumps(settings))});"
        )
        page.goto(f"{base_url}/addin/word/taskpane.html")
        page.wait_for_selector("body[data-ready=true]")
        page.wait_for_selector("body[data-capabilities]", state="attached")  # the choices the server offers
        return pane

    def _route(self, route: Route) -> None:
        url = route.request.url
        if url.startswith(OFFICE_JS):
            route.fulfill(status=200, content_type="text/javascript", body=STANDIN)
        elif any(urlsplit(url).path == f"/addin/word/{path}" for path in self.missing):
            route.fulfill(status=404, content_type="text/plain", body="")
        elif urlsplit(url).hostname in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            self.refused.append(url)
            route.abort("blockedbyclient")

    def close(self) -> None:
        self.page.context.close()

    # --- the document ---
    def set_document(self, paragraphs: list) -> None:
        self.page.evaluate("p => window.__word.setParagraphs(p)", paragraphs)

    def select(self, start: int, end: int | None = None) -> None:
        self.page.evaluate("([s, e]) => window.__word.select(s, e)", [start, end if end is not None else start])

    def caret(self, index: int) -> None:
        self.page.evaluate("i => window.__word.caret(i)", index)

    def paragraphs(self) -> list[dict]:
        return self.page.evaluate("() => window.__word.paragraphs()")

    def text(self) -> str:
        return self.page.evaluate("() => window.__word.text()")

    def operations(self) -> list[str]:
        return self.page.evaluate("() => window.__word.operations()")

    def select_text(self, paragraph: int, start: int, end: int) -> None:
        self.page.evaluate("([p, s, e]) => window.__word.selectText(p, s, e)", [paragraph, start, end])

    def selected_text(self) -> str:
        return self.page.evaluate("() => window.__word.selectedText()")

    def tracked_changes(self) -> list[dict]:
        """The revisions in the document: [{type: "Added"|"Deleted", text, author}]."""
        return self.page.evaluate("() => window.__word.trackedChanges()")

    def tracking_modes(self) -> list[str]:
        """Every changeTrackingMode the pane set, in order."""
        return self.page.evaluate("() => window.__word.modes()")

    def tracking(self) -> str:
        return self.page.evaluate("() => window.__word.tracking()")

    def set_tracking(self, mode: str) -> None:
        self.page.evaluate("m => window.__word.setTracking(m)", mode)

    def accept_all(self) -> None:
        self.page.evaluate("() => window.__word.acceptAll()")

    def reject_all(self) -> None:
        self.page.evaluate("() => window.__word.rejectAll()")

    def undo_steps(self) -> int:
        """How many undo steps the pane's writes left since set_document (one per sync that changed the text)."""
        return self.page.evaluate("() => window.__word.undoSteps()")

    def undo(self) -> None:
        """Ctrl+Z: the last undo step taken back."""
        assert self.page.evaluate("() => window.__word.undo()"), "nothing to undo"

    def new_documents(self) -> list[dict]:
        return self.page.evaluate("() => window.__word.newDocuments()")

    # --- the pane ---
    def tab(self, tab_id: str) -> None:
        """Choose a task in the pane's task menu (modeles, clair, traduire, resumer, pv, fiche, accuse, rechercher,
        transcrire, reglages)."""
        self.page.select_option("#task", tab_id)

    def wait_idle(self, timeout: float = 60_000) -> None:
        self.page.wait_for_selector("#busy", state="hidden", timeout=timeout)

    def message(self, timeout: float = 60_000) -> tuple[str, str]:
        """(kind, text) of the message box once the pane has finished working."""
        self.wait_idle(timeout)
        box = self.page.locator("#message")
        box.wait_for(state="visible", timeout=timeout)
        return (box.get_attribute("class") or "").replace("message", "").strip(), box.inner_text()

    def screenshot(self, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path
