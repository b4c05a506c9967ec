"""Letters per second: Plume's prepared templates vs plain docxtpl, same template, same values, same run.

    .venv/bin/python bench/render.py [TEMPLATE_ID] [--seconds S] [--templates DIR]

Plain docxtpl is how it is usually used: `DocxTemplate(path).render(context)` then `save()` for
each letter. Plume prepares the model once (parse, merge runs, compile) and then only runs the
compiled Jinja over the XML parts and writes the zip. Both get the same typed values and the same
sandboxed Jinja environment (Swiss filters), so the only difference is the engine.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
import tomllib
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "server"))

from docxtpl import DocxTemplate  # noqa: E402

from plume.documents import prepare  # noqa: E402
from plume.documents.formatting import make_environment  # noqa: E402
from plume.documents.manifest import load_manifest  # noqa: E402
from plume.documents.values import validate  # noqa: E402


def rate(render, seconds: float) -> float:
    render()  # warm-up
    count, started = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        render()
        count += 1
    return count / elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("template", nargs="?", default="attestation-domicile")
    parser.add_argument("--templates", type=Path, default=REPO / "templates")
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()

    folder = args.templates / args.template
    manifest = load_manifest(folder / "template.toml")
    commune_file = args.templates / "commune.toml"
    commune = tomllib.loads(commune_file.read_text(encoding="utf-8")) if commune_file.exists() else {}
    context = {**validate(manifest, manifest.examples()), "today": date.today(), "commune": commune}
    model = folder / "model.docx"

    env = make_environment(None)

    def plain_docxtpl() -> bytes:
        document = DocxTemplate(model)
        document.render(context, jinja_env=env, autoescape=True)
        out = io.BytesIO()
        document.save(out)
        return out.getvalue()

    prepared_docx = prepare(model)
    baseline = rate(plain_docxtpl, args.seconds)
    plume_docx = rate(lambda: prepared_docx.render(context), args.seconds)
    print(f"template: {args.template} ({model.stat().st_size} bytes)")
    print(f"plain docxtpl : {baseline:8.1f} letters/s")
    print(f"Plume .docx   : {plume_docx:8.1f} letters/s")
    if (folder / "model.odt").exists():
        prepared_odt = prepare(folder / "model.odt")
        print(f"Plume .odt    : {rate(lambda: prepared_odt.render(context), args.seconds):8.1f} letters/s")
    print(f"ratio Plume .docx / docxtpl: {plume_docx / baseline:.1f}x (aim: >= 5x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
