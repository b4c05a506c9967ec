"""`plume search index | query`, `plume eval --tasks search` and `plume backup` with the search index,
through the real CLI: hostile files refused by name without stopping the run, a run killed midway
leaving a working index that the next run completes, a catalog ONNX embedder (the tiny random one:
the pipeline, not quality), and the quality table IT reads to choose the embedders."""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

from tests.conftest import REPO, plume_cli

CORPUS = REPO / "tests" / "data" / "search"
USE_ONLY = 'search_embedders = ["use-multilingual-v3"]\n'


def _site(tmp: Path, folders: dict[str, list[Path]], config: str = USE_ONLY) -> tuple[Path, Path]:
    """A collections.toml with one collection per folder (files copied in), and a plume.toml."""
    entries = []
    for name, files in folders.items():
        (tmp / name).mkdir(parents=True, exist_ok=True)
        for source in files:
            shutil.copy(source, tmp / name / source.name)
        entries.append(f'[[collections]]\nid = "{name}"\ntitle = "{name}"\npath = "{name}"\nread = ["user"]\n')
    (tmp / "collections.toml").write_text("\n".join(entries), encoding="utf-8")
    (tmp / "plume.toml").write_text(config, encoding="utf-8")
    return tmp / "collections.toml", tmp / "plume.toml"


def index(collections: Path, config: Path, data: Path, check: bool = True) -> subprocess.CompletedProcess:
    return plume_cli("search", "index", "--collections", str(collections), "--config", str(config), "--quiet",
                     data=data, check=check)


def query(text: str, collections: Path, config: Path, data: Path, k: int = 5) -> list[dict]:
    out = plume_cli("search", "query", text, "--collections", str(collections), "--config", str(config),
                    "--k", str(k), "--format", "json", data=data)
    return json.loads(out.stdout)["hits"]


# -- hostile files -------------------------------------------------------------------------------------------------


def zip_bomb_docx() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        with archive.open("word/document.xml", "w") as part:  # 101 MB of spaces, ~100 kB compressed
            for _ in range(101):  # just past the 100 MB budget
                part.write(b" " * (1 << 20))
    return out.getvalue()


def xxe_docx() -> bytes:
    source = zipfile.ZipFile(CORPUS / "reglements" / "chiens.docx")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "word/document.xml":
                data = data.replace(b"?>", b'?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>', 1)
                data = data.replace("Le présent règlement".encode(), b"&x;", 1)
            archive.writestr(info, data)
    return out.getvalue()


def encrypted_pdf() -> bytes:
    """A PDF whose trailer declares standard encryption: PDFium asks for a password it does not have."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
               b"<< /Filter /Standard /V 1 /R 2 /O <" + b"11" * 32 + b"> /U <" + b"22" * 32 + b"> /P -4 >>"]
    body, offsets = b"%PDF-1.4\n", []
    for number, obj in enumerate(objects, 1):
        offsets.append(len(body))
        body += b"%d 0 obj\n%s\nendobj\n" % (number, obj)
    xref = len(body)
    body += b"xref\n0 5\n0000000000 65535 f \n" + b"".join(b"%010d 00000 n \n" % o for o in offsets)
    body += (b"trailer\n<< /Size 5 /Root 1 0 R /Encrypt 4 0 R /ID [<" + b"ab" * 16 + b"> <" + b"ab" * 16 + b">] >>\n"
             b"startxref\n%d\n%%%%EOF\n" % xref)
    return body


def test_hostile_files_are_refused_by_name_and_the_rest_is_indexed(tmp_path):
    collections, config = _site(tmp_path, {"docs": [CORPUS / "reglements" / "police.odt"]})
    folder = tmp_path / "docs"
    (folder / "bombe.docx").write_bytes(zip_bomb_docx())
    (folder / "xxe.docx").write_bytes(xxe_docx())
    (folder / "casse.pdf").write_bytes(b"%PDF-1.7\n1 0 obj << /Type /Catalog >> garbage")
    (folder / "chiffre.pdf").write_bytes(encrypted_pdf())
    (folder / "pas-un-zip.odt").write_bytes(b"ceci n'est pas un document")
    (folder / ".~lock.police.odt#").write_text("verrou")  # LibreOffice's lock file: not even looked at
    result = index(collections, config, tmp_path / "data")
    assert result.returncode == 0
    assert "docs : 1 ajouté(s), 0 modifié(s), 0 retiré(s), 0 inchangé(s), 5 illisible(s)" in result.stdout
    refused = {line.split(" — ")[0].split(": ")[1]: line.split(" — ")[1] for line in result.stderr.splitlines()
               if "illisible :" in line}
    assert set(refused) == {"bombe.docx", "xxe.docx", "casse.pdf", "chiffre.pdf", "pas-un-zip.odt"}
    assert "bombe" in refused["bombe.docx"] or "taille" in refused["bombe.docx"], refused
    assert "DOCTYPE" in refused["xxe.docx"]
    assert "mot de passe" in refused["chiffre.pdf"] and "endommagé" in refused["casse.pdf"]
    assert "root:" not in result.stdout + result.stderr and "Traceback" not in result.stderr
    hits = query("Peut-on tondre le gazon le dimanche ?", collections, config, tmp_path / "data")
    assert {h["document"] for h in hits} == {"police.odt"}
    # Unchanged bad files are not read again, and still reported.
    again = index(collections, config, tmp_path / "data")
    assert "0 ajouté(s), 0 modifié(s), 0 retiré(s), 1 inchangé(s), 5 illisible(s)" in again.stdout


def test_a_folder_of_only_unreadable_files_exits_3(tmp_path):
    collections, config = _site(tmp_path, {"docs": []})
    (tmp_path / "docs" / "casse.pdf").write_bytes(b"%PDF-1.7 garbage")
    assert index(collections, config, tmp_path / "data", check=False).returncode == 3


# -- killed midway -------------------------------------------------------------------------------------------------


def test_a_run_killed_midway_leaves_a_working_index_that_the_next_run_completes(tmp_path):
    collections, config = _site(tmp_path, {"docs": []})
    for copy in range(10):  # enough documents for the run to be killed in the middle
        text = (CORPUS / "reglements" / "salles.txt").read_text(encoding="utf-8")
        (tmp_path / "docs" / f"salles-{copy}.txt").write_text(text.replace("CHF 500.–", f"CHF {500 + copy}.–"))
    total = 10
    command = [sys.executable, "-m", "plume", "search", "index", "--collections", str(collections),
               "--config", str(config), "--data", str(tmp_path / "data")]
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})
    seen = b""
    deadline = time.monotonic() + 240
    while f" 5/{total} ".encode() not in seen and time.monotonic() < deadline:  # 4 documents written
        chunk = os.read(process.stderr.fileno(), 4096)
        if not chunk:
            break
        seen += chunk
    process.send_signal(signal.SIGKILL)
    process.wait(30)
    assert f" 5/{total} ".encode() in seen, seen.decode(errors="replace")
    # What was written is searchable right away; the next run reads only the rest.
    assert query("Quel est le montant de la caution ?", collections, config, tmp_path / "data")
    result = index(collections, config, tmp_path / "data")
    added = int(result.stdout.split(" ajouté(s)")[0].split(": ")[-1])
    unchanged = int(result.stdout.split(" inchangé(s)")[0].split(", ")[-1])
    assert unchanged >= 4 and added + unchanged == total and "illisible(s)" in result.stdout, result.stdout
    assert "0 ajouté(s), 0 modifié(s), 0 retiré(s)" in index(collections, config, tmp_path / "data").stdout


# -- catalog embedder, backup, evaluation --------------------------------------------------------------------------


def test_a_catalog_onnx_embedder_indexes_and_answers(tmp_path):
    config_text = (f'search_embedders = ["tiny-embed"]\nmodels_file = "{REPO}/onnx_models/tiny/embedding-models.toml"\n')
    collections, config = _site(tmp_path, {"docs": [CORPUS / "reglements" / "salles.txt"]}, config_text)
    assert "1 ajouté(s)" in index(collections, config, tmp_path / "data").stdout
    hits = query("caution salle", collections, config, tmp_path / "data", k=3)
    assert len(hits) == 3 and all(h["document"] == "salles.txt" and h["locator"].startswith("art. ") for h in hits)
    assert all(-1 <= h["similarity"] <= 1 for h in hits)


def test_backup_and_restore_carry_the_search_index(tmp_path):
    collections, config = _site(tmp_path, {"docs": [CORPUS / "reglements" / "salles.txt"]})
    index(collections, config, tmp_path / "data")
    archive = tmp_path / "sauvegarde.tar.gz"
    assert "data/search.sqlite3" in plume_cli("backup", str(archive), "--templates", str(tmp_path / "t"),
                                              data=tmp_path / "data").stdout
    plume_cli("restore", str(archive), "--templates", str(tmp_path / "t2"), data=tmp_path / "restored")
    shutil.rmtree(tmp_path / "docs")  # the index alone answers: nothing is read again from the folder
    hits = query("Quel est le montant de la caution ?", collections, config, tmp_path / "restored", k=1)
    assert hits[0]["document"] == "salles.txt" and hits[0]["locator"] == "art. 8"


def test_plume_eval_prints_recall_and_mrr_per_method(tmp_path):
    questions = tmp_path / "questions.toml"
    questions.write_text('[[questions]]\nid = "caution"\ntext = "Quand récupère-t-on la garantie après la fête ?"\n'
                         'expected = [{ collection = "docs", document = "salles.txt", article = "8" }]\n'
                         '[[questions]]\nid = "impots"\ntext = "Délai pour la déclaration d\'impôts ?"\nexpected = []\n',
                         encoding="utf-8")
    collections, _ = _site(tmp_path, {"docs": [CORPUS / "reglements" / "salles.txt"]})
    out = plume_cli("eval", "--tasks", "search", "--collections", str(collections), "--questions", str(questions),
                    "--embedders", "use-multilingual-v3", "--json", str(tmp_path / "m.json"), "--quiet").stdout
    assert "recall@5" in out and all(f"\n{m} " in out for m in ("bm25", "use-multilingual-v3", "fusion"))
    report = json.loads((tmp_path / "m.json").read_text())["search"]
    assert report["methods"]["use-multilingual-v3"]["dev"]["recall_at_5"] == 1.0
