"""Letters per second: Plume's prepared templates vs plain docxtpl, same template, same values, same run.

    .venv/bin/python bench/render.py [TEMPLATE_ID ...] [--seconds S] [--templates DIR]

By default it measures, in one run, the attestation (templates/attestation-domicile, a plain letter)
and the table-heavy test model (tests/fixtures/documents/tables/tableaux: cell loops, horizontal and
vertical merges, colspan, a removed cell, so docxtpl's table fix-up runs in both engines).

Plain docxtpl is how it is usually used: `DocxTemplate(path).render(context)` then `save()` for
each letter. Plume prepares the model once (parse, merge runs, compile) and then only runs the
compiled Jinja over the XML parts and writes the zip. Both get the same typed values and the same
sandboxed Jinja environment (Swiss filters), so the only difference is the engine. Two ratios:
"prepared once" (the server's case: a model is prepared when it is loaded or changes) and
"prepare every time" (preparing and rendering for each letter: the cost of a model seen once).
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

DEFAULTS = [(REPO / "templates", "attestation-domicile"),
            (REPO / "tests" / "fixtures" / "documents" / "tables", "tableaux")]


def rates(engines: dict, seconds: float, rounds: int = 5) -> dict[str, float]:
    """Letters per second for each engine: the engines take turns in short rounds and each keeps its
    best round, so a busy machine slows them alike instead of skewing the ratio (as timeit's min)."""
    for render in engines.values():
        render()  # warm-up
    best = dict.fromkeys(engines, 0.0)
    for _ in range(rounds):
        for name, render in engines.items():
            count, started = 0, time.perf_counter()
            while (elapsed := time.perf_counter() - started) < seconds / rounds or count == 0:
                render()
                count += 1
            best[name] = max(best[name], count / elapsed)
    return best


def bench(templates: Path, template_id: str, seconds: float) -> dict[str, float]:
    folder = templates / template_id
    manifest = load_manifest(folder / "template.toml")
    commune_file = templates / "commune.toml"
    commune = tomllib.loads(commune_file.read_text(encoding="utf-8")) if commune_file.exists() else {}
    context = {**validate(manifest, manifest.examples(), folder=folder), "today": date.today(), "commune": commune}
    model = folder / "model.docx"
    env = make_environment(None)

    def plain_docxtpl() -> bytes:
        document = DocxTemplate(model)
        document.render(context, jinja_env=env, autoescape=True)
        out = io.BytesIO()
        document.save(out)
        return out.getvalue()

    prepared_docx = prepare(model)
    engines = {"docxtpl": plain_docxtpl, "docx": lambda: prepared_docx.render(context),
               "docx_every": lambda: prepare(model).render(context)}
    if (folder / "model.odt").exists():
        prepared_odt = prepare(folder / "model.odt")
        engines["odt"] = lambda: prepared_odt.render(context)
    result = rates(engines, seconds)
    print(f"template: {template_id} ({model.stat().st_size} bytes)")
    print(f"  plain docxtpl                 : {result['docxtpl']:8.1f} letters/s")
    print(f"  Plume .docx, prepared once    : {result['docx']:8.1f} letters/s")
    print(f"  Plume .docx, prepare each time: {result['docx_every']:8.1f} letters/s")
    if "odt" in result:
        print(f"  Plume .odt, prepared once     : {result['odt']:8.1f} letters/s")
    print(f"  ratio vs docxtpl: prepared once {result['docx'] / result['docxtpl']:.1f}x (aim: >= 20x), "
          f"prepare each time {result['docx_every'] / result['docxtpl']:.1f}x")
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("template", nargs="*", help="template ids under --templates (default: the attestation "
                                                    "and the table-heavy test model)")
    parser.add_argument("--templates", type=Path, default=REPO / "templates")
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    targets = [(args.templates, t) for t in args.template] or DEFAULTS
    for templates, template_id in targets:
        bench(templates, template_id, args.seconds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
