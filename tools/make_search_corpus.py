"""Build the search test corpus (tests/data/search/) from the Markdown sources in tools/search_corpus/.

    python tools/make_search_corpus.py          # needs python-docx and a headless LibreOffice

The regulations are invented but written as a Swiss French-speaking commune writes them (titles,
chapters, « Art. 12 » / « Article 12 », numbered alinéas, amounts, dates, time limits). Each goes
out in one format Plume reads, so every reader is exercised on realistic structure:

- .docx with heading styles (chiens), and with articles as plain bold paragraphs (constructions);
- .odt (police, émoluments) and .pdf with a text layer over several pages (déchets, cimetière),
  converted from .docx by LibreOffice (its own heading styles become ODF outline levels);
- .txt (salles: no styles at all), .html (FAQ), .md (model answers, personnel directive).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from docx import Document
from docx.enum.text import WD_BREAK

REPO = Path(__file__).resolve().parents[1]
SOURCES = REPO / "tools" / "search_corpus"
OUT = REPO / "tests" / "data" / "search"

# source → (collection folder, format, styled articles?)
PLAN = {
    "chiens": ("reglements", "docx", True),
    "constructions": ("reglements", "docx", False),
    "police": ("reglements", "odt", True),
    "emoluments": ("reglements", "odt", True),
    "dechets": ("reglements", "pdf", True),
    "cimetiere": ("reglements", "pdf", True),
    "salles": ("reglements", "txt", False),
    "faq": ("faq", "html", True),
    "reponse-taxe-chien": ("modeles", "md", True),
    "reponse-bruit": ("modeles", "md", True),
    "personnel": ("rh", "md", True),
}


def lines_of(name: str) -> list[str]:
    return [line.rstrip() for line in (SOURCES / f"{name}.md").read_text(encoding="utf-8").splitlines()]


def to_docx(name: str, target: Path, styled_articles: bool, page_breaks: bool) -> None:
    document = Document()
    first_chapter = True
    for line in lines_of(name):
        if not line.strip():
            continue
        if line.startswith("# "):
            document.core_properties.title = line[2:]
            document.add_paragraph(line[2:], style="Title")
        elif line.startswith("## "):
            if page_breaks and not first_chapter:
                document.paragraphs[-1].add_run().add_break(WD_BREAK.PAGE)
            first_chapter = False
            document.add_heading(line[3:], level=1)
        elif line.startswith("### "):
            if styled_articles:
                document.add_heading(line[4:], level=2)
            else:
                document.add_paragraph().add_run(line[4:]).bold = True
        else:
            document.add_paragraph(line)
    document.save(target)


def convert(source: Path, to: str, outdir: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["soffice", f"-env:UserInstallation=file://{tmp}/profile", "--headless", "--norestore",
                        "--convert-to", to, "--outdir", str(outdir), str(source)], check=True, capture_output=True,
                       timeout=300)


def to_txt(name: str, target: Path) -> None:
    text = "\n".join(re.sub(r"^#+\s*", "", line) for line in lines_of(name) if line.strip())
    target.write_text(text + "\n", encoding="utf-8")


def to_html(name: str, target: Path) -> None:
    from markdown_it import MarkdownIt

    source = (SOURCES / f"{name}.md").read_text(encoding="utf-8")
    title = source.splitlines()[0].lstrip("# ")
    body = MarkdownIt("commonmark").render(source)
    target.write_text(f'<!DOCTYPE html>\n<html lang="fr">\n<head><meta charset="utf-8"><title>{title}</title>'
                      f"<style>body {{ font-family: sans-serif }}</style></head>\n<body>\n<nav>Accueil | Guichet"
                      f"</nav>\n<main>\n{body}</main>\n<script>var ignored = 1;</script>\n</body>\n</html>\n",
                      encoding="utf-8")


def build() -> None:
    if shutil.which("soffice") is None:
        raise SystemExit("LibreOffice (soffice) est nécessaire pour les .odt et .pdf.")
    for name, (folder, fmt, styled) in PLAN.items():
        out = OUT / folder
        out.mkdir(parents=True, exist_ok=True)
        target = out / f"{name}.{fmt}"
        if fmt in ("docx", "odt", "pdf"):
            with tempfile.TemporaryDirectory() as tmp:
                docx = Path(tmp) / f"{name}.docx"
                to_docx(name, docx, styled, page_breaks=fmt == "pdf")
                if fmt == "docx":
                    shutil.copy(docx, target)
                else:
                    convert(docx, fmt, out)
        elif fmt == "txt":
            to_txt(name, target)
        elif fmt == "html":
            to_html(name, target)
        else:
            shutil.copy(SOURCES / f"{name}.md", target)
        print(f"{target.relative_to(REPO)}  {target.stat().st_size:,} octets")


if __name__ == "__main__":
    build()
