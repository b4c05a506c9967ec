"""The Word add-in's task pane, served without a token at /addin/word/… (same origin as the API).

Office requires Office.js from Microsoft's CDN; every other asset comes from this server, and the
Content-Security-Policy says so, so that a compromised page cannot send the document elsewhere.
"""

from __future__ import annotations

import mimetypes

from litestar import Request, Response, get
from litestar.params import FromPath

from plume.api.problems import Problem
from plume.word_addin import ManifestError, static_file, word_manifest

OFFICE_JS_ORIGIN = "https://appsforoffice.microsoft.com"
# Office on the web shows the pane in an iframe of these sites; desktop Word uses a webview.
OFFICE_FRAME_ANCESTORS = ("https://*.officeapps.live.com", "https://*.office.com", "https://*.office365.com",
                          "https://*.microsoft365.com", "https://*.sharepoint.com")
MEDIA_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
               ".html": "text/html; charset=utf-8", ".json": "application/json", ".png": "image/png"}


def content_security_policy(request: Request) -> str:
    connect = ["'self'"]
    public_url = request.app.state.services.settings.public_url.rstrip("/")
    if public_url:
        connect.append(public_url)
    return "; ".join([
        "default-src 'none'",
        f"script-src 'self' {OFFICE_JS_ORIGIN}",
        "style-src 'self'",
        "img-src 'self'",
        "font-src 'self'",
        f"connect-src {' '.join(connect)}",
        f"frame-src {OFFICE_JS_ORIGIN}",
        f"frame-ancestors 'self' {' '.join(OFFICE_FRAME_ANCESTORS)}",
        "base-uri 'none'",
        "form-action 'none'",
    ])


def _headers(request: Request) -> dict[str, str]:
    return {
        "Content-Security-Policy": content_security_policy(request),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        # Office caches add-in pages hard; revalidate so an update reaches everyone.
        "Cache-Control": "no-cache",
    }


@get("/addin/word/manifest.xml", include_in_schema=False)
async def manifest(request: Request) -> Response:
    """The manifest for this server's public origin (settings.public_url, else the request's)."""
    origin = request.app.state.services.settings.public_url or str(request.base_url)
    try:
        body = word_manifest(origin)
    except ManifestError as exc:
        raise Problem(409, str(exc) + " Réglez « public_url » dans la configuration du serveur.",
                      code="manifest-origin") from None
    return Response(body, media_type="application/xml; charset=utf-8", headers=_headers(request))


@get("/addin/word/{path:path}", include_in_schema=False)
async def word_file(request: Request, path: FromPath[str]) -> Response:
    found = static_file(path)
    if found is None:
        raise Problem(404, "Ce fichier du complément Word n'existe pas.", code="not-found")
    media_type = MEDIA_TYPES.get(found.suffix) or mimetypes.guess_type(found.name)[0] or "application/octet-stream"
    return Response(found.read_bytes(), media_type=media_type, headers=_headers(request))


ROUTES = [manifest, word_file]
