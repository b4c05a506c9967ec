"""The browser, the task-pane opener and the server that the Word tests share (pytest fixtures,
imported by name)."""

from __future__ import annotations

import pytest
from playwright import sync_api  # the test extra (scripts/setup.sh test)

from tests.conftest import start_server
from tests.word.pane import Pane, launch, require_chromium


@pytest.fixture(scope="module")
def browser():
    require_chromium()  # fails in CI, skips elsewhere
    with sync_api.sync_playwright() as playwright:
        chromium = launch(playwright)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def word_server(tmp_path_factory):
    """A commune server with the repo's letter templates and no AI model installed."""
    srv = start_server(tmp_path_factory.mktemp("word"))
    yield srv
    srv.stop()


@pytest.fixture
def open_pane(browser):
    """Opens the pane for a server (`token` overrides the role's; `base_url` e.g. a proxy in front of
    it); at the end, checks that no pane tried to reach outside the server."""
    panes: list[Pane] = []

    def opener(server, role: str | None = "user", token: str | None = None, base_url: str | None = None,
               **kwargs) -> Pane:
        pane = Pane.open(browser, base_url or server.url, token if token is not None else server.tokens[role],
                         **kwargs)
        panes.append(pane)
        return pane

    yield opener
    for pane in panes:
        assert pane.refused == [], f"the pane tried to reach outside the server: {pane.refused}"
        pane.close()
