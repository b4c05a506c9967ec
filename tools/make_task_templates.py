"""Write the models the writing tasks render into: templates/proces-verbal and
templates/fiche-explicative (model.docx, model.odt and template.toml).

The documents are described once, with the same building blocks and styles as the letters
(tools/make_templates.py), and written in both formats.

Usage:  .venv/bin/python tools/make_task_templates.py
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from make_templates import TEMPLATES, Letter, OdtWriter, P, ctl, write_docx  # noqa: E402

NBSP = "\u00a0"


def proces_verbal() -> Letter:
    # Filled by POST /v1/text/minutes: every header line is optional, since a transcript has no
    # date or place; each agenda point brings its number, title, discussion and decision.
    return Letter("proces-verbal", "{{ organe|default(\"Procès-verbal\") }}", [
        P("Procès-verbal", "title"),
        P("Séance{% if organe %} du {{ organe }}{% endif %}{% if date_seance %} du {{ date_seance }}{% endif %}",
          "centered"),
        ctl("{%p if lieu %}"),
        P(f"Lieu{NBSP}: {{{{ lieu }}}}"),
        ctl("{%p endif %}"),
        ctl("{%p if heure_debut %}"),
        P(f"Début de la séance{NBSP}: {{{{ heure_debut }}}}"),
        ctl("{%p endif %}"),
        ctl("{%p if presidence %}"),
        P(f"Présidence{NBSP}: {{{{ presidence }}}}"),
        ctl("{%p endif %}"),
        ctl("{%p if secretaire %}"),
        P(f"Secrétaire{NBSP}: {{{{ secretaire }}}}"),
        ctl("{%p endif %}"),
        ctl("{%p if presents %}"),
        P(f"Présents{NBSP}: {{{{ presents }}}}"),
        ctl("{%p endif %}"),
        ctl("{%p if excuses %}"),
        P(f"Excusés{NBSP}: {{{{ excuses|join(\", \") }}}}"),
        ctl("{%p endif %}"),
        ctl("{%p for point in points %}"),
        P("{% if point.numero %}{{ point.numero }}. {% endif %}{{ point.titre }}", "heading"),
        ctl("{%p if point.discussion %}"),
        P("{{ point.discussion }}"),
        ctl("{%p endif %}"),
        ctl("{%p if point.decision %}"),
        P(f"**Décision{NBSP}:** {{{{ point.decision }}}}"),
        ctl("{%p endif %}"),
        ctl("{%p endfor %}"),
        ctl("{%p if heure_fin %}"),
        P("La séance est levée à {{ heure_fin }}.", "after_table"),
        ctl("{%p endif %}"),
        ctl("{%p if prochaine_seance %}"),
        P(f"Prochaine séance{NBSP}: {{{{ prochaine_seance }}}}."),
        ctl("{%p endif %}"),
        P("Le président ou la présidente", "signature"),
        P("Le ou la secrétaire", "signature"),
    ])


SHEET_SECTIONS = (("quoi", "De quoi s’agit-il ?"), ("qui", "Qui est concerné ?"), ("montants", "Combien ?"),
                  ("delais", "Quels délais ?"), ("demarches", "Que faire ?"),
                  # the rules that fit none of the headings (plume.tasks.factsheet « other »)
                  ("autres", "Autres règles"), ("contact", "Contact"))


def fiche_explicative() -> Letter:
    # Filled by POST /v1/text/factsheet: each section is a list of statements, each with its
    # reference to the regulation (art. N al. M).
    body = [P("Fiche explicative", "title"), P("{{ titre }}", "centered")]
    for name, heading in SHEET_SECTIONS:
        body += [
            ctl(f"{{%p if {name} %}}"),
            P(heading, "heading"),
            ctl("{%p endif %}"),
            ctl(f"{{%p for s in {name} %}}"),
            P("– {{ s.texte }} ({{ s.reference }})", "item"),
            ctl("{%p endfor %}"),
        ]
    body += [P("Cette fiche résume le règlement ; seul le texte du règlement fait foi. Pour toute question : "
               "{{ commune.telephone }}, {{ commune.email }}.", "small")]
    return Letter("fiche-explicative", "Information à la population", body)


STATEMENTS = '''columns = [{ name = "texte", label = "Énoncé", type = "text" }, { name = "reference", label = "Référence", type = "text" }]'''

MANIFESTS = {
    "proces-verbal": '''id = "proces-verbal"
title = "Procès-verbal de séance"
category = "Secrétariat"
service = "Chancellerie communale"
owner = "Chancellerie communale"
version = "1.0"
description = "Procès-verbal d'une séance du Conseil général ou du Conseil communal, rempli par la tâche « procès-verbal » à partir des notes ou d'une transcription."
output = "proces-verbal-{{ date_seance|default('seance') }}"

[[fields]]
name = "organe"
label = "Organe"
type = "text"
required = false
help = "Par exemple : Conseil général."
example = "Conseil général"

[[fields]]
name = "date_seance"
label = "Date de la séance"
type = "date"
required = false
example = "2026-11-16"

[[fields]]
name = "heure_debut"
label = "Heure de début"
type = "text"
required = false
example = "19:30"

[[fields]]
name = "lieu"
label = "Lieu"
type = "text"
required = false
example = "salle du Conseil, Hôtel de Ville"

[[fields]]
name = "presidence"
label = "Présidence"
type = "text"
required = false
example = "R. Jeanneret"

[[fields]]
name = "secretaire"
label = "Secrétaire"
type = "text"
required = false
example = "N. Calame"

[[fields]]
name = "presents"
label = "Présents"
type = "text"
required = false
help = "Les noms, ou le nombre de membres présents."
example = "37 membres sur 41"

[[fields]]
name = "excuses"
label = "Excusés"
type = "list"
required = false
example = ["M. Dubois", "A. Sandoz"]

[[fields]]
name = "points"
label = "Points de l'ordre du jour"
type = "list"
columns = [{ name = "numero", label = "N°", type = "text" }, { name = "titre", label = "Titre", type = "text" }, { name = "discussion", label = "Discussion", type = "text" }, { name = "decision", label = "Décision", type = "text" }]
required = false
example = [{ numero = "1", titre = "Procès-verbal de la séance du 19 octobre", discussion = "", decision = "Accepté à l'unanimité." }]

[[fields]]
name = "heure_fin"
label = "Heure de fin"
type = "text"
required = false
example = "22:05"

[[fields]]
name = "prochaine_seance"
label = "Prochaine séance"
type = "text"
required = false
example = "14 décembre 2026"
''',
    "fiche-explicative": '''id = "fiche-explicative"
title = "Fiche explicative pour la population"
category = "Secrétariat"
service = "Chancellerie communale"
owner = "Chancellerie communale"
version = "1.0"
description = "Fiche en langage clair tirée d'un règlement communal, remplie par la tâche « fiche explicative » ; chaque énoncé porte sa référence au règlement."
output = "fiche-explicative"

[[fields]]
name = "titre"
label = "Titre du règlement"
type = "text"
required = true
example = "Règlement communal concernant la détention des chiens"
''' + "".join(f'''
[[fields]]
name = "{name}"
label = "{heading}"
type = "list"
{STATEMENTS}
required = false
example = [{{ texte = "La taxe est de CHF 100.– par chien.", reference = "art. 4 al. 2" }}]
''' for name, heading in SHEET_SECTIONS),
}


def main() -> None:
    for make in (proces_verbal, fiche_explicative):
        letter = make()
        folder = TEMPLATES / letter.id
        folder.mkdir(parents=True, exist_ok=True)
        write_docx(letter, folder / "model.docx")
        OdtWriter().write(letter, folder / "model.odt")
        (folder / "template.toml").write_text(MANIFESTS[letter.id], encoding="utf-8")
        print(f"écrit : {folder.relative_to(TEMPLATES.parent)}/model.docx, model.odt, template.toml")


if __name__ == "__main__":
    main()
