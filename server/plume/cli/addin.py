"""`plume addin …`: build what IT deploys for the office add-ins.

  plume addin manifest --url https://plume.example.ch [--output FILE]   Word add-in manifest
  plume addin build-oxt --output FILE [--server-url URL] [--lock]       LibreOffice extension

Each is a sub-subcommand of `plume addin`: add one with a `_register_NAME(commands)` function and a
line in `register`.

The .oxt is built from extension-libreoffice/ reproducibly: files in sorted order, fixed timestamps,
the project's version in description.xml, and optionally the server address and language preset
(and locked) for a roll-out.
"""

from __future__ import annotations

import argparse
import sys
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

from plume import __version__
from plume.config import REPO_ROOT

EXTENSION_DIR = REPO_ROOT / "extension-libreoffice"
FIXED_TIME = (2024, 1, 1, 0, 0, 0)  # reproducible archives: same sources -> same bytes
SKIPPED = {"__pycache__", ".pytest_cache", "README.md"}  # folders and files kept out of the .oxt
VERSION_MARK = "@VERSION@"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("addin", help="construire les compléments Word et LibreOffice")
    sub = parser.add_subparsers(dest="addin_command", metavar="ACTION", required=True)
    _register_build_oxt(sub)
    _register_manifest(sub)


def _register_build_oxt(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("build-oxt", help="construire l'extension LibreOffice (.oxt)")
    parser.add_argument("--output", type=Path, required=True, help="fichier .oxt à écrire")
    parser.add_argument("--server-url", help="adresse du serveur Plume préréglée dans l'extension")
    parser.add_argument("--language", choices=("fr", "de"), help="langue préréglée de l'extension")
    parser.add_argument("--review-mode", choices=("tracked", "replace", "after"),
                        help="comment les résultats entrent dans le document : modifications suivies (tracked), "
                             "à la place du texte (replace) ou après lui (after)")
    parser.add_argument("--lock", action="store_true",
                        help="verrouiller les réglages préréglés (l'utilisateur ne peut plus les changer)")
    parser.set_defaults(func=_build_oxt)


def _build_oxt(args: argparse.Namespace) -> int:
    try:
        path = build_oxt(args.output, server_url=args.server_url, language=args.language, lock=args.lock,
                         review_mode=args.review_mode)
    except (OSError, ValueError) as exc:
        print(f"Impossible de construire l'extension : {exc}", file=sys.stderr)
        return 1
    print(f"Extension LibreOffice écrite : {path} (version {oxt_version()})")
    return 0


def oxt_version() -> str:
    """LibreOffice compares dotted numbers: keep the numeric part of the project's version."""
    parts = []
    for piece in __version__.split("."):
        digits = "".join(ch for ch in piece if ch.isdigit())
        if not digits:
            break
        parts.append(str(int(digits)))
    return ".".join(parts) or "0.0.0"


def extension_files(source: Path = EXTENSION_DIR) -> list[Path]:
    files = [p for p in source.rglob("*") if p.is_file() and not SKIPPED & set(p.relative_to(source).parts)
             and p.suffix not in (".pyc", ".oxt")]
    return sorted(files, key=lambda p: p.relative_to(source).as_posix())


def build_oxt(output: Path, server_url: str | None = None, language: str | None = None, lock: bool = False,
              source: Path = EXTENSION_DIR, review_mode: str | None = None) -> Path:
    if not (source / "description.xml").exists():
        raise ValueError(f"sources de l'extension introuvables dans {source}")
    output = output.expanduser().resolve()
    output.parent.mkdir(parents=True, exist_ok=True)
    entries: dict[str, bytes] = {}
    for path in extension_files(source):
        name = path.relative_to(source).as_posix()
        data = path.read_bytes()
        if name == "description.xml":
            data = data.replace(VERSION_MARK.encode(), oxt_version().encode())
        entries[name] = data
    presets = {key: value for key, value in (("ServerURL", server_url), ("Language", language),
                                             ("ReviewMode", review_mode)) if value}
    if lock and not presets:
        raise ValueError("--lock verrouille les réglages préréglés : indiquez --server-url, --language ou --review-mode")
    if presets:
        entries["registry/Preset.xcu"] = _preset_xcu(presets, lock)
        entries["META-INF/manifest.xml"] = entries["META-INF/manifest.xml"].replace(
            b"</manifest:manifest>",
            b'  <manifest:file-entry manifest:full-path="registry/Preset.xcu" '
            b'manifest:media-type="application/vnd.sun.star.configuration-data"/>\n</manifest:manifest>')
    tmp = output.with_suffix(output.suffix + ".tmp")
    with zipfile.ZipFile(tmp, "w") as oxt:
        for name in sorted(entries):
            info = zipfile.ZipInfo(name, FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            oxt.writestr(info, entries[name])
    tmp.replace(output)
    return output


def _preset_xcu(presets: dict[str, str], lock: bool) -> bytes:
    """Settings shipped in the extension; with `lock`, finalized so the user's layer cannot override them."""
    final = ' oor:finalized="true"' if lock else ""
    props = "\n".join(f'    <prop oor:name="{key}"{final}><value>{escape(value)}</value></prop>'
                      for key, value in presets.items())
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<oor:component-data xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema"
                    oor:name="Settings" oor:package="ch.lelocle.plume">
  <node oor:name="Server">
{props}
  </node>
</oor:component-data>
""".encode()


# --- Word: the XML add-in manifest for the commune's public origin -------------------------------

def _register_manifest(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("manifest", help="écrire le manifeste du complément Word pour l'adresse publique du serveur")
    parser.add_argument("--url", required=True, help="origine HTTPS publique du serveur, p. ex. https://plume.lelocle.ch")
    parser.add_argument("--output", type=Path, help="fichier à écrire (sinon la sortie standard)")
    parser.add_argument("--version", dest="manifest_version",
                        help="numéro de version du manifeste (p. ex. 1.0.1.0) ; à augmenter à chaque changement")
    parser.set_defaults(func=_manifest)


def _manifest(args: argparse.Namespace) -> int:
    from plume.word_addin import ManifestError, word_manifest

    try:
        text = word_manifest(args.url, args.manifest_version)
    except ManifestError as exc:
        print(exc, file=sys.stderr)
        return 2
    if args.output:
        args.output.write_text(text, encoding="utf-8")
        print(f"Manifeste écrit : {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0
