"""The Swiss QR-bill's payment part: drawn as it was (qrbill's own drawing, then CairoSVG into a
300 dpi PNG) and as Plume draws it now (the vector SVG, with `_QrPath`, and librsvg's 200 dpi PNG
copy for .docx readers without SVG), in the same run, on the same bills.

Prints, for each way: milliseconds per payment part drawn alone, then the wall time per part with
4 threads drawing at once (what 40 clients do to the server: the old way held Python's lock all
along, the new one leaves it while librsvg draws), and the ratios.
Letters per second of the whole `relance-facture` render (.docx, .odt) beside the attestation.

    .venv/bin/python bench/qrbill_drawing.py [--seconds 5]

The baseline needs CairoSVG (the test extra); without it only the new way is measured.
"""

from __future__ import annotations

import argparse
import copy
import io
import statistics
import sys
import tempfile
import threading
import time
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "server"))

from plume.documents import qrbill  # noqa: E402
from plume.documents.manifest import load_manifest  # noqa: E402
from plume.documents.values import validate  # noqa: E402

MANIFEST = load_manifest(REPO / "templates" / "relance-facture" / "template.toml")
COMMUNE = tomllib.loads((REPO / "templates" / "commune.toml").read_text(encoding="utf-8"))


def contexts(n: int) -> list[dict]:
    """`n` different bills: each debtor and amount its own, as a morning's reminders."""
    values = {f.name: f.example for f in MANIFEST.fields if f.example is not None}
    result = []
    for i in range(n):
        typed = validate(MANIFEST, {**values, "montant": 100 + i * 7.35, "nom": f"Vuilleumier-{i}"}, folder=None)
        result.append({**typed, "commune": COMMUNE})
    return result


def before(context: dict) -> bytes:
    """The drawing as it was: qrbill's stock QRBill and drawer, CairoSVG at 300 dpi, Pillow's grey PNG."""
    from cairosvg.parser import Tree
    from cairosvg.surface import PNGSurface
    from PIL import Image
    from qrbill import QRBill

    stock = copy.copy(qrbill.build(MANIFEST.qrbill, context))
    stock.__class__ = QRBill  # the same bill, drawn by qrbill's stock code (qrcode's SVG drawer)
    svg = io.StringIO()
    stock.as_svg(svg)
    surface = PNGSurface(Tree(bytestring=svg.getvalue().encode("utf-8")), None, 300, background_color="white").cairo
    surface.flush()
    pixels = Image.frombuffer("RGBA", (surface.get_width(), surface.get_height()), bytes(surface.get_data()), "raw",
                              "BGRA", surface.get_stride(), 1)
    png = io.BytesIO()
    pixels.convert("L").save(png, "PNG", compress_level=1)
    return png.getvalue()


def now(context: dict) -> bytes:
    return qrbill.payment_part(MANIFEST.qrbill, context).data


def alone(draw, bills: list[dict]) -> float:
    times = []
    for context in bills:
        started = time.perf_counter()
        draw(context)
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def crowded(draw, bills: list[dict], seconds: float) -> float:
    """Four threads drawing for `seconds` (what 40 clients do to the server): ms of wall time per part."""
    stop = time.monotonic() + seconds
    drawn = [0]

    def drawer(offset: int) -> None:
        i = offset
        while time.monotonic() < stop:
            draw(bills[i % len(bills)])
            drawn[0] += 1
            i += 4

    threads = [threading.Thread(target=drawer, args=(k,)) for k in range(4)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return (time.perf_counter() - started) * 1000 / max(drawn[0], 1)


def letters_per_second(template_id: str, fmt: str, seconds: float) -> float:
    from plume.documents.library import TemplateLibrary

    library = TemplateLibrary(REPO / "templates", Path(tempfile.mkdtemp(prefix="plume-bench-")))
    template = next(t for t in library.list() if t.id == template_id)
    values = {f.name: f.example for f in template.fields if f.example is not None}
    count, stop = 0, time.monotonic() + seconds
    while time.monotonic() < stop:
        if "montant" in values:
            values["montant"] = 100 + count * 1.05  # a new bill each time
        library.render(template_id, values, fmt)
        count += 1
    return count / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=5)
    args = parser.parse_args()
    bills = contexts(24)
    try:
        import cairosvg  # noqa: F401
        ways = {"before (CairoSVG, 300 dpi PNG)": before, "now (SVG + librsvg 200 dpi PNG)": now}
    except ImportError:
        print("CairoSVG is not installed: no baseline, only the new way.")
        ways = {"now (SVG + librsvg 200 dpi PNG)": now}
    now(bills[0])  # imports and libvips' start, outside the timings
    results = {}
    for name, draw in ways.items():
        draw(bills[0])
        one = alone(draw, bills)
        wall = crowded(draw, bills, args.seconds)
        results[name] = (one, wall)
        print(f"{name}: {one:.0f} ms a part alone (median); 4 threads at once: {wall:.0f} ms of wall time a part")
    if len(results) == 2:
        (b_one, b_wall), (n_one, n_wall) = results.values()
        print(f"ratio before/now: {b_one / n_one:.1f}x alone, {b_wall / n_wall:.1f}x with 4 threads")
    for template_id in ("relance-facture", "attestation-domicile"):
        for fmt in ("docx", "odt"):
            print(f"{template_id} .{fmt}: {letters_per_second(template_id, fmt, args.seconds):.1f} letters/s")


if __name__ == "__main__":
    main()
