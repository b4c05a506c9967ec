"""Draw the ribbon icons (a white pen nib on the commune's blue) as PNG with the standard library.

Run once after changing the drawing: python addin-word/tools/make_icons.py
Office asks for 16, 32 and 80 px (ribbon) and 64 px (add-in dialog, high resolution).
"""

from __future__ import annotations

import math
import struct
import zlib
from pathlib import Path

SIZES = (16, 32, 64, 80)
BLUE = (31, 78, 121)
WHITE = (255, 255, 255)
SUPERSAMPLE = 4


def coverage(u: float, v: float) -> tuple[float, float]:
    """(background, nib) coverage at (u, v) in [0, 1]²; the nib is a slanted leaf shape with a slit."""
    corner = 0.18
    dx, dy = max(abs(u - 0.5) - (0.5 - corner), 0), max(abs(v - 0.5) - (0.5 - corner), 0)
    background = 1.0 if math.hypot(dx, dy) <= corner else 0.0
    # Rotate by 45° so the nib points to the lower left, like a pen writing.
    x, y = (u - 0.5), (v - 0.5)
    a, b = (x - y) / math.sqrt(2), (x + y) / math.sqrt(2)
    half_length, half_width = 0.36, 0.15
    t = (b + half_length) / (2 * half_length)           # 0 at the tip, 1 at the top
    width = half_width * math.sin(math.pi * min(max(t, 0), 1) ** 0.8)
    nib = 1.0 if 0 <= t <= 1 and abs(a) <= width else 0.0
    if nib and abs(a) < 0.018 and t < 0.55:             # the slit
        nib = 0.0
    return background, nib


def pixels(size: int) -> list[bytes]:
    rows = []
    for py in range(size):
        row = bytearray([0])  # PNG filter byte
        for px in range(size):
            bg = nib = 0.0
            for sy in range(SUPERSAMPLE):
                for sx in range(SUPERSAMPLE):
                    b, n = coverage((px + (sx + 0.5) / SUPERSAMPLE) / size, (py + (sy + 0.5) / SUPERSAMPLE) / size)
                    bg, nib = bg + b, nib + n * b
            bg, nib = bg / SUPERSAMPLE**2, nib / SUPERSAMPLE**2
            share = nib / bg if bg else 0
            colour = [round(BLUE[i] * (1 - share) + WHITE[i] * share) for i in range(3)]
            row += bytes([*colour, round(255 * bg)])
        rows.append(bytes(row))
    return rows


def png(size: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"".join(pixels(size)), 9)) + chunk(b"IEND", b"")


if __name__ == "__main__":
    out = Path(__file__).resolve().parents[1] / "src" / "assets"
    out.mkdir(parents=True, exist_ok=True)
    for size in SIZES:
        (out / f"icon-{size}.png").write_bytes(png(size))
        print(out / f"icon-{size}.png")
