"""The API docs in a browser, on a machine with no Internet: GET /api-docs.

Litestar's own Swagger page loads its scripts from a CDN that a town server cannot reach, and a
browser cannot send a bearer header when it opens a page. So Plume serves Swagger UI itself (the
files of the `swagger-ui-bundle-v2` package) on a public page with no inline script (strict
Content-Security-Policy); the page asks for the person's token and fetches the description of the
API (/schema/openapi.json, which needs the token) with it. Nothing but this page and its files is
public.
"""

from __future__ import annotations

from pathlib import Path

from litestar import Request, Response, get
from litestar.params import FromPath

from plume.api.problems import Problem

PAGE_DIR = Path(__file__).with_name("docs_page")
ASSETS = {"swagger-ui-bundle.js": "text/javascript; charset=utf-8", "swagger-ui.css": "text/css; charset=utf-8",
          "swagger-ui-standalone-preset.js": "text/javascript; charset=utf-8",
          "favicon-16x16.png": "image/png", "favicon-32x32.png": "image/png"}
OWN = {"init.js": "text/javascript; charset=utf-8", "docs.css": "text/css; charset=utf-8"}

CSP = "; ".join([
    "default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "font-src 'self'",
    "connect-src 'self'", "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'",
])
HEADERS = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}


def swagger_dir() -> Path | None:
    try:
        import swagger_ui_bundle
    except ImportError:
        return None
    return Path(swagger_ui_bundle.swagger_ui_path)


@get("/api-docs", include_in_schema=False)
async def docs_page(request: Request) -> Response:
    return Response((PAGE_DIR / "index.html").read_bytes(), media_type="text/html; charset=utf-8",
                    headers={**HEADERS, "Cache-Control": "no-cache"})


@get("/api-docs/{name:str}", include_in_schema=False)
async def docs_file(name: FromPath[str]) -> Response:
    if name not in OWN:
        raise Problem(404, "Ce fichier de la documentation n'existe pas.", code="not-found")
    return Response((PAGE_DIR / name).read_bytes(), media_type=OWN[name], headers={**HEADERS, "Cache-Control": "no-cache"})


@get("/api-docs/assets/{name:str}", include_in_schema=False)
async def docs_asset(name: FromPath[str]) -> Response:
    folder = swagger_dir()
    if folder is None:
        raise Problem(503, "Les fichiers de Swagger UI ne sont pas installés sur ce serveur (paquet "
                           "« swagger-ui-bundle-v2 »).", code="docs-unavailable")
    if name not in ASSETS or not (folder / name).is_file():
        raise Problem(404, "Ce fichier de la documentation n'existe pas.", code="not-found")
    return Response((folder / name).read_bytes(), media_type=ASSETS[name],
                    headers={**HEADERS, "Cache-Control": "public, max-age=86400"})


ROUTES = [docs_page, docs_file, docs_asset]
