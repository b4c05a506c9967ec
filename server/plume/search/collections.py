"""Collections: named folders of the commune's documents, and who may read each (collections.toml).

    [[collections]]
    id = "reglements"
    title = "Règlements communaux"
    path = "/srv/plume/documents/reglements"   # relative paths are relative to this file
    read = ["user", "template-owner", "admin"]  # roles
    users = ["Anne Martin"]                      # and/or people by name (optional)
    language = "fr"                              # of the documents (stemming), default fr

A person reads a collection when her role is listed in `read` or her name in `users`. Membership is
exact: an admin is not let into a collection for the personnel service unless listed. A collection
she may not read behaves exactly like one that does not exist.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Annotated

import msgspec

from plume.security.roles import Role

COLLECTION_ID = r"^[a-z0-9][a-z0-9_-]{0,63}\Z"
CollectionId = Annotated[str, msgspec.Meta(pattern=COLLECTION_ID)]


class Collection(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, frozen=True):
    id: CollectionId
    title: str
    path: Path
    read: list[Role] = msgspec.field(default_factory=list)
    users: list[str] = msgspec.field(default_factory=list)
    language: str = "fr"

    def readable_by(self, role: Role | str, name: str | None) -> bool:
        return Role(role) in self.read or (name is not None and name in self.users)


class _File(msgspec.Struct, forbid_unknown_fields=True):
    collections: list[Collection] = msgspec.field(default_factory=list)


class CollectionsError(ValueError):
    """collections.toml cannot be used (French, names the file and the entry)."""


def load_collections(path: Path) -> dict[str, Collection]:
    """The collections of `path`, by id, in the file's order; relative folders resolved."""
    path = Path(path).expanduser().resolve()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
        listed = msgspec.convert(raw, _File, dec_hook=_path).collections
    except OSError as exc:
        raise CollectionsError(f"Fichier des collections illisible ({path}) : {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, msgspec.ValidationError, UnicodeDecodeError) as exc:
        raise CollectionsError(f"Fichier des collections invalide ({path}) : {exc}") from None
    found: dict[str, Collection] = {}
    for collection in listed:
        if collection.id in found:
            raise CollectionsError(f"Fichier des collections {path} : l'identifiant « {collection.id} » figure deux fois.")
        if not re.fullmatch(r"[a-z]{2}", collection.language):
            raise CollectionsError(f"Fichier des collections {path} : langue invalide pour « {collection.id} ».")
        folder = collection.path if collection.path.is_absolute() else (path.parent / collection.path).resolve()
        found[collection.id] = msgspec.structs.replace(collection, path=folder)
    return found


def _path(type_: type, obj: object) -> object:
    if type_ is Path and isinstance(obj, str):
        return Path(obj).expanduser()
    raise NotImplementedError
