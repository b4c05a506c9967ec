"""Uploaded .docx/.odt files: zip-bomb checks and XML parsed without entities or network.

The limits hold by construction, whatever the zip's headers say:
- the central directory is read inside one try: any error of the zip module is a refusal (4xx);
- entry names are checked before anything is inflated: no absolute path, no `..`, no backslash, no
  control character, one entry per name (also ignoring case: Office part names are case-blind);
- the budget (`max_inflated_bytes`) and the ratio (`max_ratio`) apply to the sum over ALL entries,
  first on the declared sizes, then on the bytes really inflated, read in bounded chunks: a header
  that lies about its size cannot make us inflate more than the budget;
- XML parts are parsed by lxml without entities, DTD loading or network, and any DOCTYPE is refused
  after parsing (so in any encoding and at any offset): Office and LibreOffice never write one, and it
  is the door to entity expansion ("billion laughs") and XXE. Parts that are not XML (images,
  binaries) are never handed to the XML parser.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass

from lxml import etree

MAX_RATIO = 200  # a normal .docx/.odt compresses XML 5-40x; 200x over the whole file is a bomb's signature
RATIO_FLOOR = 2 * 1024 * 1024  # below this many inflated bytes the ratio says nothing (tiny files compress oddly)
XML_SUFFIXES = (".xml", ".rels")
_CHUNK = 1 << 16


class UnsafeDocument(ValueError):
    """The file is refused; the message is French and holds nothing from the file's content."""


class DocumentTooLarge(UnsafeDocument):
    """The file inflates beyond the budget."""


@dataclass(frozen=True)
class ZipLimits:
    max_entries: int = 2000
    max_inflated_bytes: int = 100 * 1024 * 1024  # all entries together
    max_ratio: int = MAX_RATIO                   # all entries together, once past RATIO_FLOOR
    max_xml_bytes: int = 32 * 1024 * 1024        # all XML parts together: lxml trees weigh ~5x their text


@dataclass(frozen=True)
class ZipContents:
    """The inflated entries, in the archive's order, and the names that were stored uncompressed."""

    entries: dict[str, bytes]
    stored: frozenset[str]


_UNREADABLE = "Le fichier n'est pas un document .docx ou .odt valide (archive zip illisible)."
_TOO_BIG = "Le document décompressé dépasse la taille autorisée."
_RATIO = "Le document a un taux de compression anormal (bombe zip probable) : refusé."


def read_package(data: bytes, limits: ZipLimits = ZipLimits(), keep: bool = True) -> ZipContents:
    """Every entry of a zip, inflated within the limits; raises UnsafeDocument otherwise.
    With `keep=False` the entries are checked (inflated and counted) but not kept: only XML parts
    are returned, for the caller to parse."""
    archive, infos = _directory(data, limits)
    entries: dict[str, bytes] = {}
    inflated = xml_bytes = 0
    for info in infos:
        if info.is_dir():
            continue
        is_xml = info.filename.lower().endswith(XML_SUFFIXES)
        budget = limits.max_inflated_bytes - inflated
        if is_xml:
            budget = min(budget, limits.max_xml_bytes - xml_bytes)
        content, size = _inflate(archive, info, budget, keep or is_xml)
        inflated += size
        xml_bytes += size if is_xml else 0
        if inflated > RATIO_FLOOR and inflated > limits.max_ratio * max(1, len(data)):
            raise UnsafeDocument(_RATIO)
        if keep or is_xml:
            entries[info.filename] = content
    stored = frozenset(i.filename for i in infos if i.compress_type == zipfile.ZIP_STORED)
    return ZipContents(entries, stored)


def check_upload(data: bytes, limits: ZipLimits = ZipLimits()) -> None:
    """The whole check of an uploaded document, holding at most its XML parts in memory at once."""
    check_xml_parts(read_package(data, limits, keep=False).entries)


def _directory(data: bytes, limits: ZipLimits) -> tuple[zipfile.ZipFile, list[zipfile.ZipInfo]]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except Exception:  # noqa: BLE001 — any zip module error on untrusted bytes (version 0xFF, bad offsets…)
        raise UnsafeDocument(_UNREADABLE) from None
    if len(infos) > limits.max_entries:
        raise UnsafeDocument(f"Le document contient trop de fichiers internes (plus de {limits.max_entries}).")
    seen: set[str] = set()
    for info in infos:
        name = info.filename
        if not is_safe_name(name):
            raise UnsafeDocument("Le document contient un chemin interne invalide.")
        if name.casefold() in seen:
            raise UnsafeDocument("Le document contient deux fichiers internes du même nom.")
        seen.add(name.casefold())
    declared = sum(info.file_size for info in infos)
    if declared > limits.max_inflated_bytes:
        raise DocumentTooLarge(_TOO_BIG)
    compressed = sum(info.compress_size for info in infos)
    if declared > RATIO_FLOOR and declared > limits.max_ratio * max(1, compressed):
        raise UnsafeDocument(_RATIO)
    return archive, infos


def is_safe_name(name: str) -> bool:
    """A relative POSIX path with no `..`, `.` or empty segment, no backslash, colon or control character."""
    if not name or name.startswith("/") or "\\" in name or ":" in name:
        return False
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
        return False
    segments = name[:-1].split("/") if name.endswith("/") else name.split("/")
    return all(segment not in ("", ".", "..") for segment in segments)


def _inflate(archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: int, keep: bool) -> tuple[bytes, int]:
    # Bounded chunks: neither the declared size nor the compressed size is trusted.
    chunks, total = [], 0
    try:
        with archive.open(info) as fh:
            while chunk := fh.read(_CHUNK):
                total += len(chunk)
                if total > budget:
                    raise DocumentTooLarge(_TOO_BIG)
                if keep:
                    chunks.append(chunk)
    except UnsafeDocument:
        raise
    except Exception:  # noqa: BLE001 — CRC errors, encryption, unknown methods, truncated streams…
        raise UnsafeDocument("Le document contient une partie illisible (archive zip endommagée ou chiffrée).") from None
    return b"".join(chunks), total


def safe_parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                           huge_tree=False, remove_blank_text=False)


_FORBIDDEN = "Le document contient une déclaration XML interdite (DOCTYPE/ENTITY) : refusé."


def parse_xml(data: bytes) -> etree._Element:
    """Parse one XML part safely: no DOCTYPE (in any encoding, at any offset), no entities, no network."""
    lowered = data.lower()
    if b"<!doctype" in lowered or b"<!entity" in lowered:  # cheap early refusal for UTF-8
        raise UnsafeDocument(_FORBIDDEN)
    del lowered
    try:
        root = etree.fromstring(data, safe_parser())
    except (etree.XMLSyntaxError, ValueError):
        raise UnsafeDocument("Le document contient du XML mal formé.") from None
    if root is None:
        raise UnsafeDocument("Le document contient du XML mal formé.")
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise UnsafeDocument(_FORBIDDEN)
    return root


def xml_text(data: bytes) -> str:
    """A part that will be edited as text (a template's body): safe XML, and UTF-8 as Office writes it."""
    parse_xml(data)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise UnsafeDocument("Le document contient une partie XML dans un encodage non pris en charge "
                             "(UTF-8 attendu).") from None


def check_xml_parts(entries: dict[str, bytes]) -> None:
    """Parse every XML part of an uploaded document (raises UnsafeDocument on the first bad one)."""
    for name, data in entries.items():
        if name.lower().endswith(XML_SUFFIXES):
            parse_xml(data)
