"""The Word add-in's files: where they live, and the manifest written for a commune's public origin."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

from plume.config import REPO_ROOT

ADDIN_DIR = REPO_ROOT / "addin-word"
STATIC_DIR = ADDIN_DIR / "src"
MANIFEST_TEMPLATE = ADDIN_DIR / "manifest.xml"
# The origin written in the template; every URL in it starts with this.
TEMPLATE_ORIGIN = "https://localhost:8443"
_VERSION = re.compile(r"\A\d{1,5}(\.\d{1,5}){0,3}\Z")


class ManifestError(ValueError):
    """A French message for IT: the origin or the version cannot go into a manifest."""


def public_origin(url: str) -> str:
    """`https://host[:port]` from what IT typed; Office only loads add-ins over HTTPS."""
    parts = urlsplit(url.strip())
    if parts.scheme != "https" or not parts.netloc:
        raise ManifestError(f"L'adresse doit commencer par https:// (Office n'accepte que HTTPS) : « {url} ».")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ManifestError("Donnez seulement l'origine du serveur, sans chemin : par exemple https://plume.lelocle.ch")
    return f"https://{parts.netloc}"


def word_manifest(url: str, version: str | None = None) -> str:
    """The manifest template with every URL pointing at `url`, and optionally a new <Version>."""
    origin = public_origin(url)
    text = MANIFEST_TEMPLATE.read_text(encoding="utf-8").replace(TEMPLATE_ORIGIN, origin)
    note = f"<!-- Plume for Word, written by plume addin manifest for {origin}. Deploy this file. -->"
    text = re.sub(r"<!--.*?-->", note, text, count=1, flags=re.S)
    if version:
        if not _VERSION.match(version):
            raise ManifestError(f"Version invalide « {version} » : quatre nombres au plus, par exemple 1.0.1.0.")
        text = re.sub(r"<Version>[^<]*</Version>", f"<Version>{version}</Version>", text, count=1)
    return text


def static_file(relative: str) -> Path | None:
    """The file under the task pane folder, or None when it is missing or outside it."""
    candidate = (STATIC_DIR / relative.lstrip("/")).resolve()
    if not candidate.is_relative_to(STATIC_DIR.resolve()) or not candidate.is_file():
        return None
    return candidate
