"""RFC 9457 problem details, with a French `detail` a secretary can read.

Handlers raise `Problem`; lower layers raise their own `plume.errors.Refusal` subclasses, which are
given their HTTP status here, in one table (`STATUS`). Every other exception is a 500 whose body and
log line share an error id, so no route ever answers with a stack trace or with text from the request.
"""

from __future__ import annotations

import logging
import traceback
import uuid
from typing import Any

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException

from plume.documents import FormatUnavailable
from plume.documents.budget import BudgetExceeded, SizeBudgetExceeded
from plume.documents.library import (NoSpaceLeft, PdfRefused, PdfUnavailable, UploadNotAModel, UploadRefused,
                                     UploadTooLarge)
from plume.documents.qrbill import DrawingUnavailable
from plume.errors import InvalidRequest, Misconfigured, NotFound, Refusal, TooLarge, Unavailable
from plume.inference.base import ModelUnavailable
from plume.inference.errors import (GenerationFailed, GenerationTimeout, InputTooLong, InvalidOptions, ModelLoading,
                                    QueueFull, UnknownModel, UpstreamRefused, UpstreamUnavailable)
from plume.security.errors import Forbidden, RateLimited, Unauthorized
from plume.security.roles import Role
from plume.tasks.common import InvalidModelOutput
from plume.speech.audio import NotAudio, TooLong

log = logging.getLogger("plume")

PROBLEM_JSON = "application/problem+json"

FRENCH_TITLES = {
    400: "Requête invalide",
    401: "Authentification requise",
    403: "Accès refusé",
    404: "Introuvable",
    405: "Méthode non autorisée",
    409: "Conflit",
    413: "Contenu trop volumineux",
    415: "Type de contenu non pris en charge",
    422: "Données invalides",
    429: "Trop de requêtes",
    500: "Erreur interne du serveur",
    503: "Service indisponible",
    504: "Délai dépassé",
}

FRENCH_DETAILS = {
    400: "La requête est mal formée.",
    401: "Jeton d'accès manquant ou invalide. Vérifiez votre jeton dans les réglages de Plume.",
    403: "Votre rôle ne permet pas cette action.",
    404: "La ressource demandée n'existe pas.",
    405: "Cette méthode n'est pas autorisée sur cette adresse.",
    413: "Le contenu envoyé dépasse la taille autorisée.",
    415: "Ce type de contenu n'est pas pris en charge.",
    429: "Trop de requêtes en peu de temps. Réessayez dans un instant.",
    500: "Une erreur interne est survenue. Le service informatique peut consulter le journal du serveur.",
    503: "Le service est momentanément indisponible. Réessayez dans un instant.",
}


class Problem(Exception):
    """An error meant for the person using Plume. `detail` is French and holds no user text."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        title: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.title = title or FRENCH_TITLES.get(status, "Erreur")
        self.code = code
        self.headers = headers or {}
        self.extensions = extensions


# The HTTP status of each lower layer's refusal: the one place where domain errors meet HTTP. A class
# not listed takes the status of its nearest listed base (e.g. a task's UnsupportedLanguage: 422).
STATUS: dict[type[Refusal], int] = {
    InvalidRequest: 422,
    NotFound: 404,
    TooLarge: 413,
    Unavailable: 503,
    Misconfigured: 500,
    ModelUnavailable: 503,
    InvalidModelOutput: 502,
    Unauthorized: 401,
    Forbidden: 403,
    RateLimited: 429,
    UnknownModel: 404,
    InvalidOptions: 422,
    InputTooLong: 413,
    UpstreamRefused: 422,
    ModelLoading: 503,
    QueueFull: 503,
    UpstreamUnavailable: 502,
    GenerationTimeout: 504,
    GenerationFailed: 500,
    DrawingUnavailable: 503,
    BudgetExceeded: 422,
    SizeBudgetExceeded: 413,
    FormatUnavailable: 422,
    PdfUnavailable: 503,
    PdfRefused: 422,
    UploadRefused: 422,
    UploadTooLarge: 413,
    UploadNotAModel: 415,
    NoSpaceLeft: 507,
    NotAudio: 415,
    TooLong: 413,
}


def as_problem(exc: Problem | Refusal) -> Problem:
    """A lower layer's refusal as the problem the client receives (a Problem is returned as it is)."""
    if isinstance(exc, Problem):
        return exc
    status = next((STATUS[cls] for cls in type(exc).__mro__ if cls in STATUS), 500)
    headers, extensions = {}, dict(exc.fields)
    if exc.retry_after is not None:
        headers["Retry-After"] = str(exc.retry_after)
        extensions["retry_after"] = exc.retry_after
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="plume"'
    return Problem(status, exc.detail, title=exc.title, code=exc.code, headers=headers, **extensions)


def problem_response(problem: Problem, request: Request | None = None) -> Response:
    body: dict[str, Any] = {
        "type": f"urn:plume:problem:{problem.code}" if problem.code else "about:blank",
        "title": problem.title,
        "status": problem.status,
        "detail": problem.detail,
    }
    if request is not None:
        body["instance"] = request.url.path
    body.update(problem.extensions)
    if not _is_admin(request):
        for key in ADMIN_ONLY:  # a clerk cannot run a shell command on the server: only IT sees it
            body.pop(key, None)
    return Response(body, status_code=problem.status, media_type=PROBLEM_JSON, headers=problem.headers)


ADMIN_ONLY = ("install_command",)


def _is_admin(request: Request | None) -> bool:
    user = request.scope.get("user") if request is not None else None
    role = getattr(user, "role", None)
    return role is not None and role.allows(Role.ADMIN)


def _handle_problem(request: Request, exc: Problem) -> Response:
    return problem_response(exc, request)


def _handle_refusal(request: Request, exc: Refusal) -> Response:
    return problem_response(as_problem(exc), request)


def _handle_validation(request: Request, exc: ValidationException) -> Response:
    errors = []
    for item in exc.extra or []:
        if isinstance(item, dict):
            errors.append({"field": item.get("key") or item.get("source") or "", "message": str(item.get("message", ""))})
    fields = ", ".join(f"« {e['field']} »" for e in errors if e["field"])
    detail = f"Données invalides pour {fields}." if fields else "Le corps de la requête est invalide (JSON attendu)."
    return problem_response(Problem(422, detail, code="validation", errors=errors), request)


def _handle_http(request: Request, exc: HTTPException) -> Response:
    status = exc.status_code
    if status >= 500 and status not in (502, 503, 504):  # the framework's own failure (e.g. serialising)
        return _handle_unexpected(request, exc)
    detail = exc.detail if _looks_french(exc.detail) else FRENCH_DETAILS.get(status, FRENCH_TITLES.get(status, "Erreur"))
    headers = dict(exc.headers or {})
    if status == 401:
        headers.setdefault("WWW-Authenticate", 'Bearer realm="plume"')
    return problem_response(Problem(status, detail, headers=headers), request)


def _handle_recursion(request: Request, exc: RecursionError) -> Response:
    # A body nested thousands of levels deep exhausts the JSON decoder's stack: bad input, not a crash.
    return problem_response(Problem(422, "Le contenu JSON est imbriqué trop profondément.", code="validation"), request)


def _handle_unicode(request: Request, exc: UnicodeDecodeError) -> Response:
    return problem_response(Problem(422, "Le contenu envoyé n'est pas du texte UTF-8 valide.", code="validation"), request)


def _handle_unexpected(request: Request, exc: Exception) -> Response:
    # Only the exception type and code locations: messages may quote the user's text. The error id is
    # in the log line and in the answer, so a report from a user leads to the right line.
    error_id = uuid.uuid4().hex[:12]
    frames = traceback.extract_tb(exc.__traceback__)
    where = " <- ".join(f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno}" for f in reversed(frames[-6:]))
    log.error("unexpected %s on %s %s at %s [error_id=%s]", type(exc).__name__, request.method,
              request.scope.get("path_template") or "?", where, error_id)
    return problem_response(Problem(500, f"{FRENCH_DETAILS[500]} (référence de l'erreur : {error_id})",
                                    code="internal", error_id=error_id), request)


def _looks_french(text: str | None) -> bool:
    # Litestar's own messages are English; ours always carry a French accent or apostrophe.
    return bool(text) and any(ch in text for ch in "éèàêçôùâîûœ’«»'") and not text.startswith("Validation failed")


EXCEPTION_HANDLERS = {
    Problem: _handle_problem,
    Refusal: _handle_refusal,
    ValidationException: _handle_validation,
    HTTPException: _handle_http,
    RecursionError: _handle_recursion,
    UnicodeDecodeError: _handle_unicode,
    Exception: _handle_unexpected,
}

__all__ = ["Problem", "STATUS", "as_problem", "problem_response", "EXCEPTION_HANDLERS", "PROBLEM_JSON", "MediaType"]
