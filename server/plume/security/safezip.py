"""Uploaded .docx/.odt files: zip-bomb checks and XML parsed without entities or network.

A zip bomb is refused before anything is inflated in full (entry count, declared sizes, ratio) and
while inflating (the declared sizes may lie). XML with a DOCTYPE is refused outright: Office and
LibreOffice never write one, and it is the door to entity expansion ("billion laughs") and XXE.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from dataclasses import dataclass

from lxml import etree

MAX_RATIO = 200  # a normal .docx/.odt compresses XML 5-20x; 200x is a bomb's signature


class UnsafeDocument(ValueError):
    """The file is refused; the message is French and holds nothing from the file's content."""


@dataclass(frozen=True)
class ZipLimits:
    max_entries: int = 2000
    max_inflated_bytes: int = 100 * 1024 * 1024
    max_ratio: int = MAX_RATIO


def read_zip(data: bytes, limits: ZipLimits = ZipLimits()) -> dict[str, bytes]:
    """Every entry of a zip, inflated within the limits; raises UnsafeDocument otherwise."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise UnsafeDocument("Le fichier n'est pas un document .docx ou .odt valide (archive zip illisible).") from None
    if len(infos) > limits.max_entries:
        raise UnsafeDocument(f"Le document contient trop de fichiers internes (plus de {limits.max_entries}).")
    declared = sum(info.file_size for info in infos)
    if declared > limits.max_inflated_bytes:
        raise UnsafeDocument("Le document décompressé dépasse la taille autorisée.")
    for info in infos:
        if info.compress_size and info.file_size / info.compress_size > limits.max_ratio and info.file_size > 1_000_000:
            raise UnsafeDocument("Le document a un taux de compression anormal (bombe zip probable) : refusé.")
        if info.filename.startswith("/") or ".." in info.filename.split("/"):
            raise UnsafeDocument("Le document contient un chemin interne invalide.")
    entries: dict[str, bytes] = {}
    budget = limits.max_inflated_bytes
    for info in infos:
        if info.is_dir():
            continue
        entries[info.filename] = _inflate(archive, info, budget)
        budget -= len(entries[info.filename])
    return entries


def _inflate(archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: int) -> bytes:
    # Read in chunks so that a lying header cannot make us inflate more than the budget.
    chunks, total = [], 0
    try:
        with archive.open(info) as fh:
            while chunk := fh.read(1 << 16):
                total += len(chunk)
                if total > budget:
                    raise UnsafeDocument("Le document décompressé dépasse la taille autorisée.")
                chunks.append(chunk)
    except (zipfile.BadZipFile, zlib.error, RuntimeError, NotImplementedError, OSError, EOFError):
        raise UnsafeDocument("Le document contient une partie illisible (archive zip endommagée ou chiffrée).") from None
    return b"".join(chunks)


def safe_parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                           huge_tree=False, remove_blank_text=False)


def parse_xml(data: bytes) -> etree._Element:
    """Parse one XML part safely: no DOCTYPE, no entities, no network."""
    head = data[:4096].lower()
    if b"<!doctype" in head or b"<!entity" in data.lower():
        raise UnsafeDocument("Le document contient une déclaration XML interdite (DOCTYPE/ENTITY) : refusé.")
    try:
        return etree.fromstring(data, safe_parser())
    except etree.XMLSyntaxError:
        raise UnsafeDocument("Le document contient du XML mal formé.") from None


def check_xml_parts(entries: dict[str, bytes]) -> None:
    """Parse every XML part of an uploaded document (raises UnsafeDocument on the first bad one)."""
    for name, data in entries.items():
        if name.endswith((".xml", ".rels")):
            parse_xml(data)
