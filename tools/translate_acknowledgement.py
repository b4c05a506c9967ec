"""Write the acknowledgement's language versions, templates/accuse-reception/model.<de|it|en>.docx
and .odt, from its French model.docx / model.odt: the same paragraphs, styles, letterhead and
fields, with the fixed text in German, Italian or English (greeting and address by « civilite »,
the closing formula of each language), « Tel. » and « Seite / Pagina / Page » in the letterhead
and footer, and the document's language (spelling check) set to de-CH, it-CH or en-GB.

tools/make_templates.py runs it after writing the French models. Each French paragraph it
translates must be found word for word: if the French model changes, update FR and LANG below.

Usage:  .venv/bin/python tools/translate_acknowledgement.py
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

from lxml import etree

FOLDER = Path(__file__).resolve().parent.parent / "templates" / "accuse-reception"
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
TX = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"
NB = "\u00a0"

FR = {
 "courriel": f"Par courriel{NB}: {{{{ courriel }}}}",
 "place": 'Le Locle, le {{ today|date("long") }}',
 "ref": f"N/réf.{NB}: {{{{ reference }}}}",
 "object": f"Objet{NB}: accusé de réception – {{{{ objet }}}}",
 "civ": "{{ civilite }}",
 "greeting": '{{ civilite|default("Madame, Monsieur") }},',
 "received": "Nous avons bien reçu, le {{ date_reception }}, votre envoi concernant l’objet cité en marge et vous en remercions.",
 "service": "Votre dossier a été confié au service compétent ({{ service }}), qui le traitera dans un délai habituel de {{ delai_traitement }}. Si des pièces devaient manquer, nous vous contacterions rapidement.",
 "annexes": f"Votre envoi comprenait les documents suivants{NB}:",
 "questions": "Pour toute question, nous vous remercions de mentionner la référence {{ reference }} dans votre correspondance. Vous pouvez également nous joindre au {{ commune.telephone }} ou par courriel à {{ commune.email }}.",
 "closing": 'Veuillez agréer, {{ civilite|default("Madame, Monsieur") }}, nos salutations distinguées.',
}
LANG = {
 "de": {
  "courriel": "Per E-Mail: {{ courriel }}",
  "place": 'Le Locle, {{ today|date("long") }}',
  "ref": "Unsere Referenz: {{ reference }}",
  "object": "Eingangsbestätigung – {{ objet }}",
  "civ": '{{ "Frau" if civilite == "Madame" else "Herr" }}',
  "greeting": '{% if civilite == "Madame" %}Sehr geehrte Frau {{ nom }}{% elif civilite == "Monsieur" %}Sehr geehrter Herr {{ nom }}{% else %}Sehr geehrte Damen und Herren{% endif %},',
  "received": "wir haben Ihre Sendung zum oben genannten Betreff am {{ date_reception }} erhalten und danken Ihnen dafür.",
  "service": "Ihr Dossier wurde der zuständigen Stelle ({{ service }}) übergeben, die es in der Regel innert {{ delai_traitement }} bearbeitet. Sollten Unterlagen fehlen, melden wir uns umgehend bei Ihnen.",
  "annexes": "Ihre Sendung enthielt die folgenden Unterlagen:",
  "questions": "Bitte geben Sie bei Fragen und in Ihrer weiteren Korrespondenz die Referenz {{ reference }} an. Sie erreichen uns auch telefonisch unter {{ commune.telephone }} oder per E-Mail an {{ commune.email }}.",
  "closing": "Freundliche Grüsse",
  "tel": "Tel.", "page": "Seite", "tag": ("de", "CH"),
 },
 "it": {
  "courriel": "Per e-mail: {{ courriel }}",
  "place": 'Le Locle, {{ today|date("long") }}',
  "ref": "Nostro riferimento: {{ reference }}",
  "object": "Oggetto: conferma di ricezione – {{ objet }}",
  "civ": '{{ "Signora" if civilite == "Madame" else "Signor" }}',
  "greeting": '{% if civilite == "Madame" %}Gentile Signora {{ nom }}{% elif civilite == "Monsieur" %}Egregio Signor {{ nom }}{% else %}Gentili Signore e Signori{% endif %},',
  "received": "in data {{ date_reception }} abbiamo ricevuto il suo invio relativo all’oggetto indicato sopra e la ringraziamo.",
  "service": "La sua pratica è stata affidata al servizio competente ({{ service }}), che la tratterà di norma entro {{ delai_traitement }}. Qualora mancassero dei documenti, la contatteremo al più presto.",
  "annexes": "Il suo invio comprendeva i seguenti documenti:",
  "questions": "Per qualsiasi domanda, la preghiamo di indicare il riferimento {{ reference }} nella sua corrispondenza. Può inoltre contattarci al numero {{ commune.telephone }} o per e-mail all’indirizzo {{ commune.email }}.",
  "closing": "Distinti saluti",
  "tel": "Tel.", "page": "Pagina", "tag": ("it", "CH"),
 },
 "en": {
  "courriel": "By e-mail: {{ courriel }}",
  "place": 'Le Locle, {{ today|date("long") }}',
  "ref": "Our reference: {{ reference }}",
  "object": "Acknowledgement of receipt – {{ objet }}",
  "civ": '{{ "Ms" if civilite == "Madame" else "Mr" }}',
  "greeting": '{% if civilite == "Madame" %}Dear Ms {{ nom }}{% elif civilite == "Monsieur" %}Dear Mr {{ nom }}{% else %}Dear Sir or Madam{% endif %},',
  "received": "Thank you for your correspondence concerning the above matter, which we received on {{ date_reception }}.",
  "service": "Your file has been passed on to the competent department ({{ service }}), which usually deals with it within {{ delai_traitement }}. Should any documents be missing, we will contact you promptly.",
  "annexes": "Your correspondence included the following documents:",
  "questions": "If you have any questions, please quote the reference {{ reference }} in your correspondence. You can also reach us by telephone on {{ commune.telephone }} or by e-mail at {{ commune.email }}.",
  "closing": "{% if civilite %}Yours sincerely,{% else %}Yours faithfully,{% endif %}",
  "tel": "Tel.", "page": "Page", "tag": ("en", "GB"),
 },
}
BY_TEXT = {v: k for k, v in FR.items()}


def rewrite(path: Path, changes: dict[str, bytes], out: Path) -> None:
    """A copy of the zip at `path` with some entries replaced; order kept, mimetype stored first."""
    with zipfile.ZipFile(path) as src:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as dst:
            for info in src.infolist():
                data = changes.get(info.filename, src.read(info.filename))
                entry = zipfile.ZipInfo(info.filename, date_time=info.date_time)
                entry.compress_type = zipfile.ZIP_STORED if info.filename == "mimetype" else zipfile.ZIP_DEFLATED
                entry.external_attr = info.external_attr
                dst.writestr(entry, data)
    out.write_bytes(buffer.getvalue())


def translate_paragraphs(root: etree._Element, para_tags: list[str], text_tag: str, words: dict) -> None:
    """Each French paragraph (one run, as the generator writes them) gets its translation."""
    done = set()
    for p in root.iter(*para_tags):
        full = "".join(t.text or "" for t in p.iter(text_tag))
        key = BY_TEXT.get(full)
        if key is None:
            continue
        texts = list(p.iter(text_tag))
        if len(texts) != 1:
            raise RuntimeError(f"paragraphe en plusieurs segments : {full}")
        texts[0].text = words[key]
        done.add(key)
    _check_all(done)


def _check_all(done: set[str]) -> None:
    if done != set(FR):
        raise RuntimeError(f"paragraphes français introuvables (le modèle a changé ?) : {sorted(set(FR) - done)}")


def header_footer(xml: bytes, words: dict) -> bytes:
    s = xml.decode()
    s = s.replace(">Tél. ", f">{words['tel']} ").replace(">Page <", f">{words['page']} <").replace(">Page</", f">{words['page']}</")
    return s.encode()


def docx(lang: str, words: dict) -> None:
    z = zipfile.ZipFile(FOLDER / "model.docx")
    root = etree.fromstring(z.read("word/document.xml"))
    translate_paragraphs(root, [W + "p"], W + "t", words)
    changes = {"word/document.xml": etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)}
    for name in ("word/header1.xml", "word/footer1.xml"):
        changes[name] = header_footer(z.read(name), words)
    code = "-".join(words["tag"])
    styles = z.read("word/styles.xml").decode()
    styles = re.sub(r'(<w:lang w:val=")[^"]*"', rf'\g<1>{code}"', styles, count=1)
    changes["word/styles.xml"] = styles.encode()
    core = z.read("docProps/core.xml").decode()
    changes["docProps/core.xml"] = re.sub(r"<dc:language>[^<]*", f"<dc:language>{code}", core).encode()
    rewrite(FOLDER / "model.docx", changes, FOLDER / f"model.{lang}.docx")


def odt(lang: str, words: dict) -> None:
    z = zipfile.ZipFile(FOLDER / "model.odt")
    root = etree.fromstring(z.read("content.xml"))
    # ODT paragraphs: their text is the element text itself (single text node per paragraph here)
    done = set()
    for p in root.iter(TX + "p", TX + "h"):
        if len(p) == 0 and p.text in BY_TEXT:
            key = BY_TEXT[p.text]
            p.text = words[key]
            done.add(key)
    _check_all(done)
    text = etree.tostring(root, xml_declaration=True, encoding="UTF-8").decode()
    styles = header_footer(z.read("styles.xml"), words).decode()
    language, country = words["tag"]
    styles = styles.replace('fo:language="fr" fo:country="CH"', f'fo:language="{language}" fo:country="{country}"')
    changes = {"content.xml": text.encode(), "styles.xml": styles.encode()}
    meta = z.read("meta.xml").decode()
    if "<dc:language>" in meta:
        changes["meta.xml"] = re.sub(r"<dc:language>[^<]*", f"<dc:language>{language}-{country}", meta).encode()
    rewrite(FOLDER / "model.odt", changes, FOLDER / f"model.{lang}.odt")


def main() -> None:
    for lang, words in LANG.items():
        docx(lang, words)
        odt(lang, words)
        print(f"écrit : templates/accuse-reception/model.{lang}.docx, model.{lang}.odt")


if __name__ == "__main__":
    main()
