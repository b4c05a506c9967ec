"""Taking a document's zip apart and putting it back, for tests that edit its entries."""

from __future__ import annotations

import io
import zipfile


def entries(data: bytes) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return [(info.filename, archive.read(info.filename)) for info in archive.infolist()]


def rezip(parts: list[tuple[str, bytes]]) -> bytes:
    """The entries in order, deflated, with a fixed date; an ODF `mimetype` stays stored, as ODF wants."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts:
            info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_STORED if name == "mimetype" else zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return out.getvalue()
