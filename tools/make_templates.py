"""Write the commune's letter models: templates/<id>/model.docx and model.odt.

Each letter is described once, as a list of paragraphs and tables in plain Python, and written in
both formats with real named styles, a letterhead in the header and a page-number field in the
footer (python-docx for .docx, odfpy for .odt). The letters listed in `THROUGH_LIBREOFFICE` are
then saved again by LibreOffice itself, so that the library holds models whose placeholders are
split across runs/spans the way a word processor splits them. template.toml files are written by
hand (they carry the field labels and help for the template owners) and are not touched here.

Text markup in the letter descriptions:
  **bold**   bold characters
  a¦b¦c      run boundaries: the part between two ¦ gets another language (de-CH), invisible on
             paper, which makes Writer keep separate runs/spans there (a placeholder split the way
             real editing splits it, e.g. `{{ mon¦tant }}¦`).

Usage:  .venv/bin/python tools/make_templates.py [--only ID ...] [--no-libreoffice]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import docx
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor
from odf import teletype
from odf.opendocument import OpenDocumentText
from odf.style import (FontFace, Footer, FooterStyle, Header, HeaderFooterProperties, HeaderStyle, MasterPage,
                       PageLayout, PageLayoutProperties, ParagraphProperties, Style, TableCellProperties,
                       TableColumnProperties, TableProperties, TextProperties)
from odf.table import Table as OdfTable
from odf.table import CoveredTableCell, TableCell, TableColumn, TableRow
from odf.text import P as OdfP
from odf.text import PageNumber, Span

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
FONT = "Arial"
NBSP = "\u00a0"
SPLIT_LANG = ("de", "CH")


# --------------------------------------------------------------------------------------------------
# Letter description
# --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class StyleSpec:
    name: str
    size: float = 11
    bold: bool = False
    italic: bool = False
    align: str = "left"            # left | center | right | justify
    indent_cm: float = 0
    before_pt: float = 0
    after_pt: float = 6
    color: str | None = None       # hex RGB
    keep_next: bool = False
    rule_below: bool = False       # thin line under the paragraph (letterhead)


STYLES = {
    "body": StyleSpec("Plume Corps"),                 # ragged right: line breaks in values stay tidy
    "address": StyleSpec("Plume Adresse", indent_cm=9.5, after_pt=0),
    "date": StyleSpec("Plume Lieu et date", indent_cm=9.5, before_pt=24, after_pt=18),
    "ref": StyleSpec("Plume Référence", size=9, after_pt=0, color="404040"),
    "subject": StyleSpec("Plume Objet", bold=True, before_pt=12, after_pt=12),
    "title": StyleSpec("Plume Titre", size=13, bold=True, align="center", before_pt=12, after_pt=12, keep_next=True),
    "heading": StyleSpec("Plume Intertitre", bold=True, before_pt=10, after_pt=4, keep_next=True),
    "centered": StyleSpec("Plume Centré", bold=True, align="center", before_pt=4, after_pt=4),
    "item": StyleSpec("Plume Liste", indent_cm=0.6, after_pt=2),
    "small": StyleSpec("Plume Petit", size=9, align="justify"),
    "signature": StyleSpec("Plume Signature", indent_cm=9.5, before_pt=18, after_pt=0),
    "signatory": StyleSpec("Plume Signataire", indent_cm=9.5, before_pt=42, after_pt=0),
    "lead_in": StyleSpec("Plume Corps introductif", keep_next=True),
    "after_table": StyleSpec("Plume Corps après tableau", before_pt=8),
    "control": StyleSpec("Plume Contrôle", size=8, color="7F7F7F", after_pt=0),
    # keep_next on cell paragraphs keeps a short table on one page (Word and Writer).
    "cell": StyleSpec("Plume Tableau", size=10, after_pt=2, before_pt=2, keep_next=True),
    "cell_right": StyleSpec("Plume Tableau Montant", size=10, align="right", after_pt=2, before_pt=2,
                            keep_next=True),
    "head_name": StyleSpec("Plume En-tête Commune", size=14, bold=True, after_pt=0),
    "head_service": StyleSpec("Plume En-tête Service", size=10, bold=True, after_pt=2),
    "head_contact": StyleSpec("Plume En-tête Coordonnées", size=8.5, color="404040", after_pt=0),
    "head_rule": StyleSpec("Plume En-tête Filet", size=8.5, color="404040", after_pt=0, rule_below=True),
    "foot": StyleSpec("Plume Pied de page", size=8.5, align="right", color="404040", after_pt=0),
}


@dataclass
class Para:
    text: str
    style: str = "body"


@dataclass
class Table:
    rows: list[list[str]]           # first row is the header
    widths_cm: list[float]
    right_columns: frozenset[int] = frozenset()
    title_row: bool = False         # the header row is one cell across the table


@dataclass
class Letter:
    id: str
    service: str                    # second line of the letterhead
    body: list[Para | Table]
    footer_note: str = ""


@dataclass(frozen=True)
class Run:
    text: str
    bold: bool = False
    split: bool = False             # carries SPLIT_LANG


def runs(text: str) -> list[Run]:
    """Parse the `**bold**` and `¦` markup into runs."""
    out: list[Run] = []
    for b, bold_part in enumerate(text.split("**")):
        for s, piece in enumerate(bold_part.split("¦")):
            if piece:
                out.append(Run(piece, bold=b % 2 == 1, split=s % 2 == 1))
    return out


def P(text: str, style: str = "body") -> Para:
    return Para(text, style)


def ctl(tag: str) -> Para:
    """A `{%p … %}` paragraph: alone in its paragraph, in the small grey control style."""
    return Para(tag, "control")


# --------------------------------------------------------------------------------------------------
# Parts shared by every letter
# --------------------------------------------------------------------------------------------------

def letterhead(service: str) -> list[Para]:
    return [
        P("{{ commune.nom }}", "head_name"),
        P(service, "head_service"),
        P("{{ commune.adresse }} · {{ commune.npa_localite }}", "head_contact"),
        P("Tél. {{ commune.telephone }} · {{ commune.email }} · {{ commune.site }}", "head_rule"),
    ]


def recipient() -> list[Para]:
    return [P("{{ civilite }}", "address"), P("{{ prenom }} {{ nom }}", "address"),
            P("{{ adresse }}", "address"), P("{{ npa_localite }}", "address"),
            P("Le Locle, le {{ today|date(\"long\") }}", "date")]


def closing(service: str, signatory: str = "", civilite: str = "{{ civilite }}") -> list[Para]:
    """Closing formula, then the service and, below the room for the signature, the signatory."""
    return [P(f"Veuillez agréer, {civilite}, nos salutations distinguées."),
            P(service, "signature"),
            *([P(signatory, "signatory")] if signatory else [])]


def fees_table(var: str, item: str) -> Table:
    """Fees: one row per item (`{%tr for %}`), then the total in bold."""
    return Table(rows=[["Prestation", "Montant"],
                       [f"{{%tr for {item} in {var} %}}", ""],
                       [f"{{{{ {item}.libelle }}}}", f"{{{{ {item}.montant }}}}"],
                       ["{%tr endfor %}", ""],
                       ["**Total**", f"**{{{{ {var}|sum(attribute=\"montant\")|chf }}}}**"]],
                 widths_cm=[12.0, 4.0], right_columns=frozenset({1}))


def she(text_f: str, text_m: str) -> str:
    """Agreement with the addressee: `{% if civilite == "Madame" %}née{% else %}né{% endif %}`."""
    return f'{{% if civilite == "Madame" %}}{text_f}{{% else %}}{text_m}{{% endif %}}'


# --------------------------------------------------------------------------------------------------
# The letters
# --------------------------------------------------------------------------------------------------

def attestation_domicile() -> Letter:
    return Letter("attestation-domicile", "Contrôle des habitants", [
        *recipient(),
        P(f"Objet{NBSP}: attestation de domicile", "subject"),
        P("{{ civilite }},"),
        P("Donnant suite à votre demande, nous vous remettons ci-dessous l’attestation de domicile "
          "sollicitée."),
        P("ATTESTATION DE DOMICILE", "title"),
        P("Le Contrôle des habitants de la {{ commune.nom }} atteste que"),
        P("{{ civilite }} {{ prenom }} {{ nom }}", "centered"),
        P(f"{she('née', 'né')} le {{{{ date_naissance }}}}, est {she('domiciliée', 'domicilié')} "
          f"à l’adresse suivante{NBSP}: {{{{ adresse }}}}, {{{{ npa_localite }}}}, "
          f"depuis le {{{{ domicile_depuis }}}}."),
        P(f"La présente attestation est délivrée à la demande de {she('l’intéressée', 'l’intéressé')}, "
          f"pour être remise à l’organisme suivant{NBSP}: {{{{ motif }}}}. Elle est valable trois mois "
          "dès sa date d’établissement et ne se prononce ni sur la situation fiscale ni sur le "
          "statut de séjour de la personne concernée."),
        P("Émoluments", "heading"),
        fees_table("emoluments", "frais"),
        P("Les émoluments sont perçus conformément au règlement communal sur les émoluments et "
          "payables au guichet ou au moyen de la QR-facture jointe.", "after_table"),
        P("Nous restons à votre disposition pour tout renseignement complémentaire."),
        *closing("CONTRÔLE DES HABITANTS", "Le préposé"),
    ])


def accuse_reception() -> Letter:
    # Also rendered by POST /v1/mail/acknowledge from an e-mail: civility, first name and postal
    # address may be unknown there, so the letter works with the name and e-mail address alone.
    return Letter("accuse-reception", "{{ service }}", [
        ctl("{%p if civilite %}"),
        P("{{ civilite }}", "address"),
        ctl("{%p endif %}"),
        P("{% if prenom %}{{ prenom }} {% endif %}{{ nom }}", "address"),
        ctl("{%p if adresse %}"),
        P("{{ adresse }}", "address"),
        P("{{ npa_localite }}", "address"),
        ctl("{%p endif %}"),
        ctl("{%p if courriel %}"),
        P(f"Par courriel{NBSP}: {{{{ courriel }}}}", "address"),
        ctl("{%p endif %}"),
        P("Le Locle, le {{ today|date(\"long\") }}", "date"),
        P(f"N/réf.{NBSP}: {{{{ reference }}}}", "ref"),
        P(f"Objet{NBSP}: accusé de réception – {{{{ objet }}}}", "subject"),
        P("{{ civilite|default(\"Madame, Monsieur\") }},"),
        P("Nous avons bien reçu, le {{ date_reception }}, votre envoi concernant l’objet cité en "
          "marge et vous en remercions."),
        P("Votre dossier a été confié au service compétent ({{ service }}), qui le traitera dans un "
          "délai habituel de {{ delai_traitement }}. Si des pièces devaient manquer, nous vous "
          "contacterions rapidement."),
        ctl("{%p if annexes %}"),
        P(f"Votre envoi comprenait les documents suivants{NBSP}:"),
        ctl("{%p endif %}"),
        ctl("{%p for annexe in annexes %}"),
        P("– {{ annexe }}", "item"),
        ctl("{%p endfor %}"),
        P("Pour toute question, nous vous remercions de mentionner la référence {{ reference }} "
          "dans votre correspondance. Vous pouvez également nous joindre au {{ commune.telephone }} "
          "ou par courriel à {{ commune.email }}."),
        *closing("{{ service }}", civilite="{{ civilite|default(\"Madame, Monsieur\") }}"),
    ])


def confirmation_rendez_vous() -> Letter:
    return Letter("confirmation-rendez-vous", "Contrôle des habitants", [
        *recipient(),
        P(f"Objet{NBSP}: confirmation de votre rendez-vous", "subject"),
        P("{{ civilite }},"),
        P("Nous avons le plaisir de vous confirmer votre rendez-vous pour {{ objet }}, aux date, "
          "heure et lieu suivants.", "lead_in"),
        Table(rows=[["Votre rendez-vous", ""],
                    ["Date", "{{ date_rendez_vous }}"],
                    ["Heure", "{{ heure }}"],
                    ["Lieu", "{{ lieu }}"]],
              widths_cm=[4.0, 12.0], title_row=True),
        P(f"Nous vous prions de bien vouloir vous munir des documents suivants{NBSP}:", "heading"),
        ctl("{%p for document in documents %}"),
        P("– {{ document }}", "item"),
        ctl("{%p endfor %}"),
        ctl("{%p if remarques %}"),
        P(f"Remarques{NBSP}:", "heading"),
        P("{{ remarques }}"),
        ctl("{%p endif %}"),
        P("Sans ces documents, nous ne pourrons malheureusement pas traiter votre demande lors du "
          "rendez-vous. En cas d’empêchement, merci de nous en avertir au moins 24 heures à "
          "l’avance au {{ commune.telephone }} ou à {{ commune.email }}."),
        *closing("CONTRÔLE DES HABITANTS"),
    ])


def relance_facture() -> Letter:
    # The ¦ marks make LibreOffice keep these placeholders in two runs/spans (see module doc).
    return Letter("relance-facture", "Service financier", [
        *recipient(),
        P(f"N/réf.{NBSP}: facture n°{NBSP}{{{{ numero_¦facture }}}}¦", "ref"),
        P(f"Objet{NBSP}: {{{{ niveau|capitalize }}}} – facture n°{NBSP}{{{{ numero_facture }}}} "
          "du {{ date_facture|date(\"short\") }}", "subject"),
        P("{{ civilite }},"),
        ctl("{%p if niveau == \"premier ¦rappel\" %}¦"),
        P(f"Sauf erreur de notre part, notre facture n°{NBSP}{{{{ numero_facture }}}} du "
          "{{ date_facture }} ({{ objet }}), d’un montant de **{{ mon¦tant }}¦**, n’a pas encore été "
          "réglée à ce jour."),
        P("Il s’agit sans doute d’un oubli. Nous vous remercions de bien vouloir effectuer ce "
          "paiement dans un délai de {{ delai_¦jours }}¦ jours. Si votre versement a croisé le "
          "présent courrier, nous vous prions de ne pas tenir compte de ce rappel."),
        ctl("{%p endif %}"),
        ctl("{%p if niveau == \"second rappel\" %}"),
        P(f"Malgré notre premier rappel du {{{{ date_premier_¦rappel }}}}¦, notre facture "
          f"n°{NBSP}{{{{ numero_facture }}}} du {{{{ date_facture }}}} ({{{{ objet }}}}), d’un montant de "
          "**{{ montant }}**, demeure impayée à ce jour."),
        P("Nous vous prions instamment de régler ce montant dans un délai de {{ delai_jours }} "
          "jours dès réception de la présente. Passé ce délai, nous nous verrons contraints "
          "d’engager une procédure de recouvrement, dont les frais seraient mis à votre charge."),
        ctl("{%p endif %}"),
        P("Pour le paiement, veuillez utiliser la QR-facture jointe en mentionnant le numéro de "
          "facture. Si vous rencontrez des difficultés de paiement, notre service reste à votre "
          "disposition pour convenir d’un arrangement ({{ commune.¦telephone }}¦)."),
        *closing("SERVICE FINANCIER", "La comptabilité"),
        P(f"Annexe{NBSP}: QR-facture", "ref"),
    ])


def autorisation_stationnement() -> Letter:
    return Letter("autorisation-stationnement", "Sécurité publique – Police administrative", [
        *recipient(),
        P(f"N/réf.{NBSP}: {{{{ reference }}}}", "ref"),
        P(f"Objet{NBSP}: autorisation de stationnement temporaire – {{{{ emplacement }}}}", "subject"),
        P("{{ civilite }},"),
        P("Donnant suite à votre demande du {{ date_demande }}, nous vous notifions la décision "
          "suivante."),
        P("DÉCISION", "title"),
        P("La Police administrative de la {{ commune.nom }},"),
        P("vu la demande déposée le {{ date_demande }} par {{ civilite }} {{ prenom }} {{ nom }}, "
          f"pour le motif suivant{NBSP}: {{{{ motif }}}}{NBSP};"),
        P(f"vu la loi fédérale sur la circulation routière (LCR) et l’ordonnance sur la "
          f"signalisation routière (OSR){NBSP};"),
        P(f"vu le règlement de police de la commune du Locle{NBSP};"),
        P("Considérant", "heading"),
        P("que l’emplacement demandé peut être réservé temporairement sans entraver de manière "
          f"excessive la circulation ni l’accès des services de secours{NBSP};"),
        P(f"que la durée demandée est proportionnée au motif invoqué{NBSP};"),
        P("que rien ne s’oppose dès lors à l’octroi de l’autorisation,"),
        P("Décide", "heading"),
        P(f"1.{NBSP}{{{{ civilite }}}} {{{{ prenom }}}} {{{{ nom }}}} est {she('autorisée', 'autorisé')} à "
          f"occuper {{{{ nombre_places }}}} place{{% if nombre_places > 1 %}}s{{% endif %}} de stationnement à l’emplacement suivant{NBSP}: "
          "{{ emplacement }}, du {{ date_debut }} au {{ date_fin }}, {{ horaire }}."),
        P(f"2.{NBSP}L’autorisation vaut pour le véhicule immatriculé **{{{{ immatriculation }}}}**. "
          "Elle doit être placée de manière bien visible derrière le pare-brise."),
        P(f"3.{NBSP}La signalisation temporaire est posée par la voirie au plus tard 48 heures avant "
          "le début de l’occupation. Un passage libre d’au moins 1,50 m est maintenu pour les "
          "piétons."),
        P(f"4.{NBSP}Les émoluments suivants sont mis à la charge {she('de la bénéficiaire', 'du bénéficiaire')}{NBSP}:",
          "lead_in"),
        fees_table("emoluments", "frais"),
        P(f"5.{NBSP}La présente autorisation est personnelle, incessible et révocable en tout temps "
          "pour de justes motifs.", "after_table"),
        P("Voies de recours", "heading"),
        P("La présente décision peut faire l’objet d’un recours écrit et motivé auprès du Conseil "
          "communal, {{ commune.adresse }}, {{ commune.npa_localite }}, dans un délai de 30 jours dès "
          "sa notification, conformément à la loi sur la procédure et la juridiction "
          "administratives (LPJA) du canton de Neuchâtel. Le recours contient les conclusions et "
          "les motifs du recourant, est daté et signé, et la décision attaquée y est jointe. Le "
          "délai de recours ne peut pas être prolongé.", "small"),
        *closing("POLICE ADMINISTRATIVE", "Le commandant"),
    ])


def reponse_reclamation() -> Letter:
    return Letter("reponse-reclamation", "Chancellerie communale", [
        *recipient(),
        P(f"N/réf.{NBSP}: {{{{ reference }}}}", "ref"),
        P(f"Objet{NBSP}: votre réclamation du {{{{ date_reclamation|date(\"short\") }}}} – {{{{ objet }}}}",
          "subject"),
        P("{{ civilite }},"),
        P("Nous accusons réception de votre réclamation du {{ date_reclamation }} et vous remercions "
          "d’avoir pris le temps de nous faire part de vos observations. Après examen attentif de "
          "votre dossier, nous sommes en mesure de vous répondre ce qui suit."),
        P("{{ explication }}"),
        ctl("{%p if fondee %}"),
        P("Votre réclamation est fondée et nous vous prions de bien vouloir nous excuser pour les "
          f"désagréments occasionnés. Les mesures suivantes ont été prises{NBSP}:"),
        P("{{ mesures }}"),
        ctl("{%p endif %}"),
        ctl("{%p if not fondee %}"),
        P("Au vu de ce qui précède, nous ne sommes malheureusement pas en mesure de donner une "
          "suite favorable à votre réclamation. Nous restons toutefois à votre disposition pour un "
          "entretien si vous le souhaitez."),
        ctl("{%p endif %}"),
        P("Nous vous remercions de votre confiance et de l’intérêt que vous portez à la qualité "
          "des prestations communales."),
        *closing("CHANCELLERIE COMMUNALE", "Le chancelier"),
    ])


LETTERS = [attestation_domicile, accuse_reception, confirmation_rendez_vous, relance_facture,
           autorisation_stationnement, reponse_reclamation]
# Saved once more by LibreOffice (both formats): placeholders split across runs/spans by Writer.
THROUGH_LIBREOFFICE = {"relance-facture"}


# --------------------------------------------------------------------------------------------------
# .docx (python-docx)
# --------------------------------------------------------------------------------------------------

DOCX_ALIGN = {"left": WD_ALIGN_PARAGRAPH.LEFT, "center": WD_ALIGN_PARAGRAPH.CENTER,
              "right": WD_ALIGN_PARAGRAPH.RIGHT, "justify": WD_ALIGN_PARAGRAPH.JUSTIFY}


def docx_styles(document) -> None:
    normal = document.styles["Normal"]
    normal.font.name = FONT
    normal.font.size = Pt(11)
    normal.element.rPr.rFonts.set(qn("w:eastAsia"), FONT)
    for spec in STYLES.values():
        style = document.styles.add_style(spec.name, WD_STYLE_TYPE.PARAGRAPH)
        style.base_style = normal
        style.quick_style = True
        style.font.size = Pt(spec.size)
        style.font.bold = spec.bold
        style.font.italic = spec.italic
        if spec.color:
            style.font.color.rgb = RGBColor.from_string(spec.color)
        fmt = style.paragraph_format
        fmt.alignment = DOCX_ALIGN[spec.align]
        fmt.left_indent = Cm(spec.indent_cm)
        fmt.space_before = Pt(spec.before_pt)
        fmt.space_after = Pt(spec.after_pt)
        fmt.keep_with_next = spec.keep_next
        if spec.rule_below:
            borders = OxmlElement("w:pBdr")
            bottom = OxmlElement("w:bottom")
            for key, value in (("val", "single"), ("sz", "4"), ("space", "4"), ("color", "808080")):
                bottom.set(qn(f"w:{key}"), value)
            borders.append(bottom)
            style.element.get_or_add_pPr().append(borders)


def docx_paragraph(paragraph, para: Para) -> None:
    paragraph.style = STYLES[para.style].name
    for run in runs(para.text):
        r = paragraph.add_run(run.text)
        if run.bold:
            r.bold = True
        if run.split:
            lang = OxmlElement("w:lang")
            lang.set(qn("w:val"), "-".join(SPLIT_LANG))
            r._r.get_or_add_rPr().append(lang)


def docx_page_field(paragraph) -> None:
    """`Page N` with a PAGE field (w:fldSimple), updated by the word processor."""
    paragraph.add_run("Page ")
    field_ = OxmlElement("w:fldSimple")
    field_.set(qn("w:instr"), " PAGE ")
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "1"
    run.append(text)
    field_.append(run)
    paragraph._p.append(field_)


def docx_table(document, table: Table) -> None:
    t = document.add_table(rows=len(table.rows), cols=len(table.widths_cm))
    t.style = "Table Grid"
    t.alignment = WD_TABLE_ALIGNMENT.LEFT
    t.autofit = False
    for column, width in zip(t.columns, table.widths_cm):
        column.width = Cm(width)
    for i, row in enumerate(table.rows):
        for j, text in enumerate(row):
            cell = t.cell(i, j)
            cell.width = Cm(table.widths_cm[j])
            style = "cell_right" if j in table.right_columns and i > 0 else "cell"
            docx_paragraph(cell.paragraphs[0], Para(f"**{text}**" if i == 0 and text else text, style))
    if table.title_row:
        t.cell(0, 0).merge(t.cell(0, len(table.widths_cm) - 1))


def write_docx(letter: Letter, path: Path) -> None:
    document = docx.Document()
    docx_styles(document)
    section = document.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.left_margin, section.right_margin = Cm(2.5), Cm(2)
    section.top_margin, section.bottom_margin = Cm(4.2), Cm(2)
    section.header_distance, section.footer_distance = Cm(1.2), Cm(1)
    header = section.header
    header.is_linked_to_previous = False
    for k, para in enumerate(letterhead(letter.service)):
        docx_paragraph(header.paragraphs[0] if k == 0 else header.add_paragraph(), para)
    footer_paragraph = section.footer.paragraphs[0]
    footer_paragraph.style = STYLES["foot"].name
    docx_page_field(footer_paragraph)
    for block in letter.body:
        if isinstance(block, Table):
            docx_table(document, block)
        else:
            docx_paragraph(document.add_paragraph(), block)
    props = document.core_properties
    props.title, props.author, props.language = letter.id, "Ville du Locle", "fr-CH"
    document.save(path)


# --------------------------------------------------------------------------------------------------
# .odt (odfpy)
# --------------------------------------------------------------------------------------------------

def odf_name(spec: StyleSpec) -> str:
    """ODF style names are XML names (no spaces); the display name keeps the French one."""
    return spec.name.replace(" ", "_")


class OdtWriter:
    def __init__(self) -> None:
        self.doc = OpenDocumentText()
        self.paragraph_styles: dict[str, Style] = {}
        self.bold = Style(name="Plume_Gras", displayname="Plume Gras", family="text")
        self.bold.addElement(TextProperties(fontweight="bold", fontweightasian="bold", fontweightcomplex="bold"))
        self.split = Style(name="T_split", family="text")
        self.split.addElement(TextProperties(language=SPLIT_LANG[0], country=SPLIT_LANG[1]))
        self.doc.styles.addElement(self.bold)
        self.doc.automaticstyles.addElement(self.split)
        self.split_bold = Style(name="T_split_bold", family="text")
        self.split_bold.addElement(TextProperties(fontweight="bold", language=SPLIT_LANG[0], country=SPLIT_LANG[1]))
        self.doc.automaticstyles.addElement(self.split_bold)
        self._styles()
        self._tables = 0

    def _styles(self) -> None:
        self.doc.fontfacedecls.addElement(FontFace(name=FONT, fontfamily=FONT, fontfamilygeneric="swiss",
                                                   fontpitch="variable"))
        standard = Style(name="Standard", family="paragraph", attributes={"class": "text"})
        standard.addElement(TextProperties(fontname=FONT, fontsize="11pt", language="fr", country="CH"))
        self.doc.styles.addElement(standard)
        for key, spec in STYLES.items():
            style = Style(name=odf_name(spec), displayname=spec.name, family="paragraph",
                          parentstylename="Standard")
            paragraph = dict(textalign={"left": "start", "right": "end"}.get(spec.align, spec.align),
                             marginleft=f"{spec.indent_cm}cm", margintop=f"{spec.before_pt}pt",
                             marginbottom=f"{spec.after_pt}pt")
            if spec.keep_next:
                paragraph["keepwithnext"] = "always"
            if spec.rule_below:
                paragraph.update(borderbottom="0.5pt solid #808080", paddingbottom="0.1cm",
                                 borderleft="none", borderright="none", bordertop="none")
            style.addElement(ParagraphProperties(**paragraph))
            text = dict(fontsize=f"{spec.size}pt")
            if spec.bold:
                text.update(fontweight="bold", fontweightasian="bold", fontweightcomplex="bold")
            if spec.italic:
                text["fontstyle"] = "italic"
            if spec.color:
                text["color"] = f"#{spec.color}"
            style.addElement(TextProperties(**text))
            self.doc.styles.addElement(style)
            self.paragraph_styles[key] = style

    def paragraph(self, para: Para) -> OdfP:
        p = OdfP(stylename=self.paragraph_styles[para.style])
        for run in runs(para.text):
            if run.bold or run.split:
                style = {(True, False): self.bold, (False, True): self.split,
                         (True, True): self.split_bold}[(run.bold, run.split)]
                span = Span(stylename=style)
                teletype.addTextToElement(span, run.text)
                p.addElement(span)
            else:
                teletype.addTextToElement(p, run.text)
        return p

    def table(self, table: Table) -> OdfTable:
        self._tables += 1
        name = f"Tableau{self._tables}"
        table_style = Style(name=name, family="table")
        table_style.addElement(TableProperties(width=f"{sum(table.widths_cm)}cm", align="left",
                                                 maybreakbetweenrows="false", keepwithnext="always"))
        self.doc.automaticstyles.addElement(table_style)
        cell_style = Style(name=f"{name}.cellule", family="table-cell")
        cell_style.addElement(TableCellProperties(border="0.5pt solid #000000", padding="0.1cm"))
        self.doc.automaticstyles.addElement(cell_style)
        t = OdfTable(name=name, stylename=table_style)
        for j, width in enumerate(table.widths_cm):
            column_style = Style(name=f"{name}.{chr(65 + j)}", family="table-column")
            column_style.addElement(TableColumnProperties(columnwidth=f"{width}cm"))
            self.doc.automaticstyles.addElement(column_style)
            t.addElement(TableColumn(stylename=column_style))
        for i, row in enumerate(table.rows):
            tr = TableRow()
            for j, text in enumerate(row):
                if i == 0 and table.title_row and j > 0:
                    tr.addElement(CoveredTableCell())
                    continue
                cell = TableCell(stylename=cell_style, valuetype="string")
                if i == 0 and table.title_row:
                    cell.setAttribute("numbercolumnsspanned", len(row))
                style = "cell_right" if j in table.right_columns and i > 0 else "cell"
                cell.addElement(self.paragraph(Para(f"**{text}**" if i == 0 and text else text, style)))
                tr.addElement(cell)
            t.addElement(tr)
        return t

    def write(self, letter: Letter, path: Path) -> None:
        layout = PageLayout(name="Plume_A4")
        layout.addElement(PageLayoutProperties(pagewidth="21cm", pageheight="29.7cm", printorientation="portrait",
                                               margintop="1.2cm", marginbottom="1cm",
                                               marginleft="2.5cm", marginright="2cm"))
        header_style = HeaderStyle()
        header_style.addElement(HeaderFooterProperties(minheight="2.2cm", marginbottom="0.8cm"))
        layout.addElement(header_style)
        footer_style = FooterStyle()
        footer_style.addElement(HeaderFooterProperties(minheight="0.6cm", margintop="0.5cm"))
        layout.addElement(footer_style)
        self.doc.automaticstyles.addElement(layout)
        master = MasterPage(name="Standard", pagelayoutname=layout)
        header = Header()
        for para in letterhead(letter.service):
            header.addElement(self.paragraph(para))
        master.addElement(header)
        footer = Footer()
        page = OdfP(stylename=self.paragraph_styles["foot"], text="Page ")
        page.addElement(PageNumber(selectpage="current", text="1"))
        footer.addElement(page)
        master.addElement(footer)
        self.doc.masterstyles.addElement(master)
        for block in letter.body:
            self.doc.text.addElement(self.table(block) if isinstance(block, Table) else self.paragraph(block))
        self.doc.save(str(path))


# --------------------------------------------------------------------------------------------------
# LibreOffice's own save
# --------------------------------------------------------------------------------------------------

def resave_with_libreoffice(paths: list[Path]) -> None:
    """Open and save each file with headless Writer, in place (same format), one call per format."""
    with tempfile.TemporaryDirectory(prefix="plume-lo-") as tmp:
        for suffix, filter_ in ((".docx", "docx:MS Word 2007 XML"), (".odt", "odt:writer8")):
            group = {Path(tmp) / "in" / f"{p.parent.name}{suffix}": p for p in paths if p.suffix == suffix}
            if not group:
                continue
            for copy, original in group.items():
                copy.parent.mkdir(exist_ok=True)
                shutil.copyfile(original, copy)
            out = Path(tmp) / "out" / suffix[1:]
            subprocess.run(["soffice", "--headless", "--norestore", f"-env:UserInstallation=file://{tmp}/profile",
                            "--convert-to", filter_, "--outdir", str(out), *map(str, group)],
                           check=True, capture_output=True, timeout=180)
            for copy, original in group.items():
                converted = out / copy.name
                if not converted.exists():
                    raise RuntimeError(f"LibreOffice n’a pas enregistré {original}")
                shutil.copyfile(converted, original)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", help="template ids to write (default: all)")
    parser.add_argument("--no-libreoffice", action="store_true", help="skip LibreOffice's save")
    args = parser.parse_args()
    resave: list[Path] = []
    for make in LETTERS:
        letter = make()
        if args.only and letter.id not in args.only:
            continue
        folder = TEMPLATES / letter.id
        folder.mkdir(parents=True, exist_ok=True)
        write_docx(letter, folder / "model.docx")
        OdtWriter().write(letter, folder / "model.odt")
        if letter.id in THROUGH_LIBREOFFICE:
            resave += [folder / "model.docx", folder / "model.odt"]
        print(f"écrit : {folder.relative_to(TEMPLATES.parent)}/model.docx, model.odt")
    if resave and not args.no_libreoffice:
        resave_with_libreoffice(resave)
        print("enregistré par LibreOffice : " + ", ".join(str(p.relative_to(TEMPLATES)) for p in resave))
    if not args.only or "relance-facture" in args.only:  # the Swiss QR-bill page, after LibreOffice's save
        from qrbill_placeholder import main as add_qrbill_page

        add_qrbill_page(TEMPLATES / "relance-facture")
    if not args.only or "accuse-reception" in args.only:  # its German, Italian and English versions
        from translate_acknowledgement import main as translate_acknowledgement

        translate_acknowledgement()


if __name__ == "__main__":
    main()
