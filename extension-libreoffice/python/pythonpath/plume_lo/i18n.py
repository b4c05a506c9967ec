"""The extension's strings, in French (default) and German."""

from __future__ import annotations

STRINGS = {
    "fr": {
        # Errors
        "unreachable": "Le serveur Plume ne répond pas ({url}). Vérifiez l'adresse dans Outils > Options > Plume, "
                       "ou contactez le service informatique.",
        "unauthorized": "Jeton d'accès refusé par le serveur Plume. Vérifiez votre jeton dans Outils > Options > Plume "
                        "ou demandez-en un nouveau au service informatique.",
        "forbidden": "Votre rôle ne permet pas cette action.",
        "no_model": "Cette fonction n'est pas disponible sur ce serveur Plume : aucun modèle d'IA n'y est installé "
                    "pour cette tâche. Le service informatique peut l'ajouter.",
        "unavailable": "Cette fonction n'est pas disponible sur ce serveur Plume.",
        "selection_changed": "La sélection a changé depuis l'analyse. Sélectionnez de nouveau le texte "
                             "et relancez « Langage clair ».",
        "too_long": "Le texte est trop long pour cette tâche. Sélectionnez un passage plus court.",
        "timeout": "Le serveur Plume a mis trop de temps à répondre. Réessayez avec un passage plus court.",
        "tls": "La connexion sécurisée au serveur Plume a échoué (certificat non reconnu). "
               "Contactez le service informatique.",
        "server_error": "Le serveur Plume a signalé une erreur : {detail}",
        "invalid_values": "Vérifiez votre saisie. {detail}",
        "refused": "{detail}",
        "bad_answer": "La réponse du serveur Plume est illisible.",
        "internal": "Plume a rencontré une erreur inattendue ; le document n'a pas été modifié.",
        "no_selection": "Sélectionnez d'abord le texte à traiter.",
        "no_document": "Ouvrez d'abord un document Writer.",
        "no_template": "Choisissez d'abord un modèle de lettre.",
        "cancelled": "Opération annulée. Le document n'a pas été modifié.",
        "busy": "Une opération Plume est déjà en cours.",
        "stopped": "Résultat partiel (arrêté) :",
        "stopped_kept": "seul le texte déjà rédigé a été repris.",
        "stopped_shown": "le texte déjà rédigé est gardé ci-dessous ; vous pouvez l'insérer ou relancer.",
        # Progress and success
        "working": "Plume travaille…",
        "done": "Terminé.",
        "done_undo": "Terminé. Édition > Annuler rétablit le texte d'origine.",
        "missing_fields": "Champs à compléter : {fields}",
        "preview_ready": "Texte proposé ci-dessous ; votre texte n'a pas changé. Choisissez « Remplacer », "
                         "« Insérer après » ou « Annuler ».",
        "discarded": "Résultat écarté. Le document n'a pas été modifié.",
        "readability": "Lisibilité : {before} → {after}",
        "readability_one": "Lisibilité : {before}",
        "band_very-hard": "très difficile", "band_hard": "difficile", "band_fairly-hard": "assez difficile",
        "band_medium": "moyenne", "band_fairly-easy": "assez facile", "band_easy": "facile",
        "indices": "Indices (avant → après) :\nKandel-Moles {kandel_moles} (plus haut = plus facile)\n"
                   "LIX {lix} (plus bas = plus facile)\nRIX {rix} (plus bas = plus facile)\n"
                   "Mots par phrase {words_per_sentence}",
        "no_remarks": "Aucune remarque.",
        "plain_unchanged": "Le texte proposé est identique au vôtre : il n'y a rien à remplacer.",
        "warning_nothing-safe": "Sans modèle, Plume n'a trouvé aucune modification sûre pour ce texte : il est "
                                "rendu tel quel. Les remarques indiquent quoi reformuler.",
        "unknown_words": "Mots laissés tels quels (inconnus du traducteur) : {words}",
        "field_error": "Vérifiez le champ « {label} » : {problem}",
        "date_hint": "Date au format JJ.MM.AAAA (p. ex. 14.06.1987).",
        "list_hint": "Une entrée par ligne.",
        "table_hint": "Une ligne par entrée, sous la forme « {columns} ».",
        "bad_date": "« {value} » n'est pas une date : tapez-la au format JJ.MM.AAAA, p. ex. 14.06.1987.",
        "filled": "Champs remplis depuis les notes.",
        # Undo step titles
        "undo_plain": "Plume : langage clair",
        "undo_translate": "Plume : traduction",
        "undo_template": "Plume : insertion d'un modèle",
        "undo_insert": "Plume : insertion d'un résultat",
        # UI labels
        "deck": "Plume",
        "panel_text": "Texte sélectionné",
        "panel_templates": "Modèles de lettres",
        "plain": "Langage clair",
        "translate": "Traduire",
        "summarize": "Résumer",
        "minutes": "Procès-verbal",
        "factsheet": "Fiche explicative",
        "acknowledge": "Accusé de réception",
        "insert": "Insérer après",
        "replace": "Remplacer",
        "discard": "Annuler",
        "details": "détails",
        "hide_details": "masquer",
        "remarks": "Remarques :",
        "cancel": "Arrêter",
        "target": "Vers :",
        "level": "Niveau :",
        "result": "Résultat :",
        "template": "Modèle :",
        "refresh": "Actualiser",
        "fill_form": "Remplir…",
        "notes": "Notes du dossier :",
        "fill_from_notes": "Remplir depuis les notes",
        "insert_here": "Insérer au curseur",
        "new_document": "Nouveau document",
        "letter_language": "Langue de la lettre :",
        "close": "Fermer",
        "server_url": "Adresse du serveur :",
        "token": "Jeton d'accès :",
        "language": "Langue :",
        "review_mode": "Résultats :",
        "review_tracked": "en modifications suivies",
        "review_replace": "à la place du texte",
        "review_after": "après le texte",
        "done_tracked": "Terminé. Les changements de Plume sont suivis : acceptez-les ou refusez-les un à un "
                        "(Édition > Suivi des modifications > Gérer…).",
        "undo_proofread": "Plume : correction",
        "undo_action": "Plume : action de la commune",
        "proofread": "Corriger",
        "fix": "Appliquer",
        "fix_all": "Tout corriger",
        "suggestions": "Suggestions :",
        "commune_actions": "Actions de la commune :",
        "run_action": "Appliquer",
        "proof_none": "Aucune faute trouvée.",
        "proof_found": "Remarques : {count}. Choisissez-en une pour la voir dans le texte.",
        "proof_changed": "Le texte a changé depuis la vérification. Relancez « Corriger ».",
        "proof_no_sure": "Aucune correction sûre à appliquer : choisissez chaque suggestion vous-même.",
        "proof_applied": "Corrections appliquées : {count}.",
        "proof_pick": "Choisissez d'abord une remarque et une suggestion.",
        "no_actions": "Aucune action de la commune pour votre rôle.",
        "actions_listed": "Actions de la commune : {count}.",
        "test": "Tester la connexion",
        "locked": "Réglage fixé par le service informatique.",
        "connection_ok": "Connexion réussie ({count} modèles disponibles).",
        "lang_fr": "français", "lang_de": "allemand", "lang_it": "italien", "lang_en": "anglais",
        "lang_es": "espagnol", "lang_pt": "portugais", "lang_rm": "romanche",
        "level_B1": "B1 (simple)", "level_A2": "A2 (très simple)",
    },
    "de": {
        "unreachable": "Der Plume-Server antwortet nicht ({url}). Prüfen Sie die Adresse unter Extras > Optionen > Plume "
                       "oder wenden Sie sich an die Informatik.",
        "unauthorized": "Der Plume-Server hat das Zugriffstoken abgelehnt. Prüfen Sie Ihr Token unter "
                        "Extras > Optionen > Plume oder verlangen Sie bei der Informatik ein neues.",
        "forbidden": "Ihre Rolle erlaubt diese Aktion nicht.",
        "no_model": "Diese Funktion ist auf diesem Plume-Server nicht verfügbar: Für diese Aufgabe ist kein "
                    "KI-Modell installiert. Die Informatik kann es hinzufügen.",
        "unavailable": "Diese Funktion ist auf diesem Plume-Server nicht verfügbar.",
        "selection_changed": "Die Markierung hat sich seit der Analyse geändert. Markieren Sie den Text erneut "
                             "und starten Sie « Einfache Sprache » nochmals.",
        "too_long": "Der Text ist für diese Aufgabe zu lang. Wählen Sie einen kürzeren Abschnitt.",
        "timeout": "Der Plume-Server hat zu lange nicht geantwortet. Versuchen Sie es mit einem kürzeren Abschnitt.",
        "tls": "Die sichere Verbindung zum Plume-Server ist fehlgeschlagen (Zertifikat nicht anerkannt). "
               "Wenden Sie sich an die Informatik.",
        "server_error": "Der Plume-Server meldet einen Fehler: {detail}",
        "invalid_values": "Prüfen Sie Ihre Eingabe. {detail}",
        "refused": "Plume hat die Aufgabe abgelehnt: {detail}",
        "bad_answer": "Die Antwort des Plume-Servers ist nicht lesbar.",
        "internal": "Plume ist auf einen unerwarteten Fehler gestossen; das Dokument wurde nicht verändert.",
        "no_selection": "Markieren Sie zuerst den Text.",
        "no_document": "Öffnen Sie zuerst ein Writer-Dokument.",
        "no_template": "Wählen Sie zuerst eine Briefvorlage.",
        "cancelled": "Vorgang abgebrochen. Das Dokument wurde nicht verändert.",
        "busy": "Ein Plume-Vorgang läuft bereits.",
        "stopped": "Teilergebnis (angehalten):",
        "stopped_kept": "Nur der bereits geschriebene Text wurde übernommen.",
        "stopped_shown": "Der bereits geschriebene Text bleibt unten stehen; Sie können ihn einfügen oder neu starten.",
        "working": "Plume arbeitet…",
        "done": "Fertig.",
        "done_undo": "Fertig. Bearbeiten > Rückgängig stellt den ursprünglichen Text wieder her.",
        "missing_fields": "Noch auszufüllende Felder: {fields}",
        "preview_ready": "Vorschlag unten; Ihr Text ist unverändert. Wählen Sie « Ersetzen », "
                         "« Danach einfügen » oder « Verwerfen ».",
        "discarded": "Ergebnis verworfen. Das Dokument wurde nicht verändert.",
        "readability": "Lesbarkeit: {before} → {after}",
        "readability_one": "Lesbarkeit: {before}",
        "band_very-hard": "sehr schwer", "band_hard": "schwer", "band_fairly-hard": "eher schwer",
        "band_medium": "mittel", "band_fairly-easy": "eher leicht", "band_easy": "leicht",
        "indices": "Kennzahlen (vorher → nachher):\nKandel-Moles {kandel_moles} (höher = leichter)\n"
                   "LIX {lix} (tiefer = leichter)\nRIX {rix} (tiefer = leichter)\n"
                   "Wörter pro Satz {words_per_sentence}",
        "no_remarks": "Keine Hinweise.",
        "plain_unchanged": "Der Vorschlag ist mit Ihrem Text identisch: Es gibt nichts zu ersetzen.",
        "warning_nothing-safe": "Ohne Modell hat Plume für diesen Text keine sichere Änderung gefunden: Er bleibt "
                                "unverändert. Die Hinweise zeigen, was Sie umformulieren können.",
        "unknown_words": "Unverändert gelassene Wörter (dem Übersetzer unbekannt): {words}",
        "field_error": "Prüfen Sie das Feld « {label} »: {problem}",
        "date_hint": "Datum im Format TT.MM.JJJJ (z. B. 14.06.1987).",
        "list_hint": "Ein Eintrag pro Zeile.",
        "table_hint": "Eine Zeile pro Eintrag, in der Form « {columns} ».",
        "bad_date": "« {value} » ist kein Datum: Geben Sie es im Format TT.MM.JJJJ ein, z. B. 14.06.1987.",
        "filled": "Felder aus den Notizen ausgefüllt.",
        "undo_plain": "Plume: Einfache Sprache",
        "undo_translate": "Plume: Übersetzung",
        "undo_template": "Plume: Vorlage einfügen",
        "undo_insert": "Plume: Ergebnis einfügen",
        "deck": "Plume",
        "panel_text": "Markierter Text",
        "panel_templates": "Briefvorlagen",
        "plain": "Einfache Sprache",
        "translate": "Übersetzen",
        "summarize": "Zusammenfassen",
        "minutes": "Protokoll",
        "factsheet": "Merkblatt",
        "acknowledge": "Eingangsbestätigung",
        "insert": "Danach einfügen",
        "replace": "Ersetzen",
        "discard": "Verwerfen",
        "details": "Details",
        "hide_details": "ausblenden",
        "remarks": "Hinweise:",
        "cancel": "Stoppen",
        "target": "Nach:",
        "level": "Niveau:",
        "result": "Ergebnis:",
        "template": "Vorlage:",
        "refresh": "Aktualisieren",
        "fill_form": "Ausfüllen…",
        "notes": "Notizen zum Dossier:",
        "fill_from_notes": "Aus Notizen ausfüllen",
        "insert_here": "Beim Cursor einfügen",
        "new_document": "Neues Dokument",
        "letter_language": "Sprache des Briefs:",
        "close": "Schliessen",
        "server_url": "Serveradresse:",
        "token": "Zugriffstoken:",
        "language": "Sprache:",
        "review_mode": "Ergebnisse:",
        "review_tracked": "als verfolgte Änderungen",
        "review_replace": "anstelle des Textes",
        "review_after": "nach dem Text",
        "done_tracked": "Fertig. Die Änderungen von Plume werden verfolgt: Nehmen Sie sie einzeln an oder lehnen "
                        "Sie sie ab (Bearbeiten > Änderungen verfolgen > Verwalten…).",
        "undo_proofread": "Plume: Korrektur",
        "undo_action": "Plume: Aktion der Gemeinde",
        "proofread": "Korrigieren",
        "fix": "Anwenden",
        "fix_all": "Alles korrigieren",
        "suggestions": "Vorschläge:",
        "commune_actions": "Aktionen der Gemeinde:",
        "run_action": "Anwenden",
        "proof_none": "Keine Fehler gefunden.",
        "warning_only-french": "Nur Französisch wird geprüft: Dieser Text scheint {language} zu sein; "
                               "er wurde nicht korrigiert.",
        "proof_found": "Hinweise: {count}. Wählen Sie einen, um ihn im Text zu sehen.",
        "proof_changed": "Der Text hat sich seit der Prüfung geändert. Starten Sie « Korrigieren » erneut.",
        "proof_no_sure": "Keine eindeutige Korrektur: Wählen Sie jeden Vorschlag selbst.",
        "proof_applied": "Angewendete Korrekturen: {count}.",
        "proof_pick": "Wählen Sie zuerst einen Hinweis und einen Vorschlag.",
        "no_actions": "Keine Aktionen der Gemeinde für Ihre Rolle.",
        "actions_listed": "Aktionen der Gemeinde: {count}.",
        "test": "Verbindung testen",
        "locked": "Von der Informatik festgelegt.",
        "connection_ok": "Verbindung erfolgreich ({count} Vorlagen verfügbar).",
        "lang_fr": "Französisch", "lang_de": "Deutsch", "lang_it": "Italienisch", "lang_en": "Englisch",
        "lang_es": "Spanisch", "lang_pt": "Portugiesisch", "lang_rm": "Rätoromanisch",
        "level_B1": "B1 (einfach)", "level_A2": "A2 (sehr einfach)",
    },
}


def language_name(language: str, code: str) -> str:
    """« espagnol » for es (in German « Spanisch »); an unknown code is shown as it is."""
    table = STRINGS.get(language) or STRINGS["fr"]
    return table.get(f"lang_{code}") or code


def level_name(language: str, code: str) -> str:
    """« B1 (simple) », « A2 (très simple) »: the level and what it means; an unknown code as it is."""
    table = STRINGS.get(language) or STRINGS["fr"]
    return table.get(f"level_{code}") or code


def warning(language: str, sentence: str, code: str = "", text_language: str = "") -> str:
    """A server's warning for the clerk: the server's French sentence, or this UI's own for a code
    it knows (« only-french » in German)."""
    template = (STRINGS.get(language) or {}).get(f"warning_{code}") if language != "fr" and code else None
    if not template or not text_language:
        return sentence
    return template.format(language=language_name(language, text_language))


def text(language: str, key: str, **values) -> str:
    table = STRINGS.get(language) or STRINGS["fr"]
    template = table.get(key) or STRINGS["fr"][key]
    return template.format(**values) if values else template
