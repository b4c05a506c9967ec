"""Roles are ordered: a template owner can do all a user can, an admin all a template owner can."""

from enum import StrEnum


class Role(StrEnum):
    USER = "user"
    TEMPLATE_OWNER = "template-owner"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return _RANK[self]

    def allows(self, needed: "Role") -> bool:
        return self.rank >= needed.rank


_RANK = {Role.USER: 0, Role.TEMPLATE_OWNER: 1, Role.ADMIN: 2}
