"""Bearer-token authentication for every route but /health and the add-in's static files."""

from __future__ import annotations

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult, DefineMiddleware

from plume.security.errors import Forbidden, Unauthorized
from plume.security.roles import Role
from plume.security.tokens import User, UserStore

PUBLIC_PATHS = {"^/health$", "^/addin/", "^/favicon.ico$", "^/api-docs(?:/|$)"}  # api-docs: the page, not the spec

UNAUTHORIZED = (
    "Jeton d'accès manquant, invalide, révoqué ou expiré. "
    "Vérifiez votre jeton dans les réglages de Plume ou demandez-en un au service informatique."
)


class BearerTokenMiddleware(AbstractAuthenticationMiddleware):
    async def authenticate_request(self, connection: ASGIConnection) -> AuthenticationResult:
        store: UserStore = connection.app.state.services.users
        header = connection.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        user = store.authenticate(token.strip()) if scheme.lower() == "bearer" else None
        if user is None:
            raise Unauthorized(UNAUTHORIZED)  # the edge adds WWW-Authenticate
        return AuthenticationResult(user=user, auth=None)


def authentication_middleware() -> DefineMiddleware:
    return DefineMiddleware(BearerTokenMiddleware, exclude=list(PUBLIC_PATHS))


def requires(role: Role):
    """A guard: the caller's role must be at least `role`."""

    def guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
        user: User = connection.user
        if not user.role.allows(role):
            raise Forbidden(f"Cette action demande le rôle « {role} » ; votre rôle est « {user.role} ».")

    guard.__name__ = f"requires_{role.name.lower()}"
    return guard
