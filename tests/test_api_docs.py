"""The API docs open in a browser on a machine with no Internet: Swagger UI served by Plume itself,
a public page under a strict Content-Security-Policy, the description of the API only with a token.
Driven in Debian's headless Chromium with every request off this server refused."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import httpx
from playwright import sync_api  # the test extra (scripts/setup.sh test)

from tests.word.pane import launch, require_chromium


def test_docs_page_and_assets_are_public_the_spec_is_not(modelless_server):
    page = httpx.get(f"{modelless_server.url}/api-docs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert not re.search(r"https?://", page.text)  # no CDN
    assert not re.search(r"<script(?![^>]*\bsrc=)", page.text)  # no inline script
    for asset in ("/api-docs/assets/swagger-ui-bundle.js", "/api-docs/assets/swagger-ui.css", "/api-docs/init.js"):
        assert httpx.get(modelless_server.url + asset).status_code == 200, asset
    assert httpx.get(f"{modelless_server.url}/api-docs/assets/../../config.py").status_code == 404
    assert httpx.get(f"{modelless_server.url}/api-docs/assets/index.html").status_code == 404
    assert httpx.get(f"{modelless_server.url}/schema/openapi.json").status_code == 401
    with modelless_server.client("user") as client:
        swagger = client.get("/schema/swagger").text
    assert "cdn" not in swagger.lower() and "/api-docs/assets/swagger-ui-bundle.js" in swagger


def test_a_person_with_a_token_reads_the_docs_offline(modelless_server):
    require_chromium()  # fails in CI, skips elsewhere
    base = modelless_server.url
    refused, console = [], []
    with sync_api.sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            page = browser.new_page()

            def only_this_server(route):
                if urlsplit(route.request.url).netloc == urlsplit(base).netloc:
                    route.continue_()
                else:
                    refused.append(route.request.url)
                    route.abort()

            page.route("**/*", only_this_server)
            page.on("console", lambda message: console.append(message.text))
            page.goto(f"{base}/api-docs")
            page.fill("#token", "plm_faux")
            page.click("#show")
            page.wait_for_selector("#status.error")
            assert "Jeton refusé" in page.inner_text("#status")
            page.fill("#token", modelless_server.tokens["user"])
            page.click("#show")
            page.wait_for_selector(".swagger-ui .info .title", timeout=30_000)
            assert "Plume" in page.inner_text(".swagger-ui .info .title")
            page.wait_for_selector('[data-path="/v1/capabilities"]', state="attached")
            page.reload()  # the token stays for this tab
            page.wait_for_selector(".swagger-ui .info .title", timeout=30_000)
        finally:
            browser.close()
    assert refused == []
    assert not [m for m in console if "Content Security Policy" in m or "Refused to" in m], console
