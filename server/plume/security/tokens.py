"""Per-user bearer tokens, stored hashed in the data folder.

Tokens are 256-bit random strings, so a plain SHA-256 is enough to store them safely: a slow
password hash (bcrypt, argon2) only matters for low-entropy secrets that people choose.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import msgspec

from plume.files import atomic_write
from plume.security.roles import Role

TOKEN_PREFIX = "plm_"
MAX_NAME = 64
# The name appears in the audit log, the usage report and messages: a person's name or address
# (« Anne Martin », « D'Amico », « anne.droz@lelocle.ch »), never slashes, line breaks or controls.
USER_NAME = re.compile(rf"[\w.@'’ -]{{1,{MAX_NAME}}}\Z")


class User(msgspec.Struct, kw_only=True):
    name: str
    role: Role
    token_hash: str
    created: datetime
    expires: datetime | None = None
    revoked: bool = False
    service: str | None = None  # the commune's service (for the usage report)

    def is_active(self, now: datetime | None = None) -> bool:
        now = now or datetime.now(UTC)
        return not self.revoked and (self.expires is None or now < self.expires)


class UserError(ValueError):
    """A user-management request that cannot be carried out (message in French)."""


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class UserStore:
    """Users in one JSON file, rewritten atomically; reloaded when another process changed it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._mtime: float | None = None
        self._users: list[User] = []

    # -- reading --------------------------------------------------------------------------
    def users(self) -> list[User]:
        self._reload_if_changed()
        return list(self._users)

    def authenticate(self, token: str) -> User | None:
        if not token.startswith(TOKEN_PREFIX):
            return None
        wanted = hash_token(token)
        for user in self.users():
            if hmac.compare_digest(user.token_hash, wanted):
                return user if user.is_active() else None
        return None

    # -- writing --------------------------------------------------------------------------
    def add(self, name: str, role: Role, lifetime_days: int | None = None, service: str | None = None) -> str:
        """Create a user and return the token, which is never stored in clear."""
        name = name.strip()
        if not name:
            raise UserError("Le nom d'utilisateur est vide.")
        if not USER_NAME.match(name):
            raise UserError(f"Nom d'utilisateur refusé : au plus {MAX_NAME} lettres, chiffres, espaces, points, "
                            "tirets, apostrophes ou @ (par exemple « Anne Martin » ou anne.martin@lelocle.ch).")
        with self._lock:
            self._reload_if_changed()
            if any(u.name == name and not u.revoked for u in self._users):
                raise UserError(f"L'utilisateur « {name} » existe déjà (révoquez-le ou utilisez « rotate »).")
            token = TOKEN_PREFIX + secrets.token_urlsafe(32)
            now = datetime.now(UTC)
            expires = now + timedelta(days=lifetime_days) if lifetime_days else None
            self._users.append(User(name=name, role=role, token_hash=hash_token(token), created=now,
                                    expires=expires, service=service))
            self._save()
            return token

    def revoke(self, name: str) -> None:
        with self._lock:
            self._reload_if_changed()
            active = [u for u in self._users if u.name == name and not u.revoked]
            if not active:
                raise UserError(f"Aucun utilisateur actif nommé « {name} ».")
            for user in active:
                user.revoked = True
            self._save()

    def rotate(self, name: str, lifetime_days: int | None = None) -> str:
        """Revoke the user's current token and issue a new one with the same role."""
        current = [u for u in self.users() if u.name == name and not u.revoked]
        if not current:
            raise UserError(f"Aucun utilisateur actif nommé « {name} ».")
        self.revoke(name)
        return self.add(name, current[-1].role, lifetime_days, current[-1].service)

    # -- storage --------------------------------------------------------------------------
    def _reload_if_changed(self) -> None:
        try:
            mtime = self.path.stat().st_mtime_ns
        except FileNotFoundError:
            self._users, self._mtime = [], None
            return
        if mtime != self._mtime:
            self._users = msgspec.json.decode(self.path.read_bytes(), type=list[User])
            self._mtime = mtime

    def _save(self) -> None:
        data = msgspec.json.format(msgspec.json.encode(self._users), indent=2)
        atomic_write(self.path, data, mode=0o600)  # token hashes: readable by the server's user only
        self._mtime = self.path.stat().st_mtime_ns


def dump_users_json(users: list[User]) -> str:
    """Users without their hashes, for `plume users list --json`."""
    return json.dumps(
        [{"name": u.name, "role": str(u.role), "created": u.created.isoformat(),
          "expires": u.expires.isoformat() if u.expires else None, "revoked": u.revoked,
          "service": u.service} for u in users],
        ensure_ascii=False, indent=2)
