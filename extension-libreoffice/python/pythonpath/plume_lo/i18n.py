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
        "no_model": "Aucun modèle n'est installé sur le serveur pour cette tâche. "
                    "Le service informatique peut l'installer avec : {command}",
        "too_long": "Le texte est trop long pour cette tâche. Sélectionnez un passage plus court.",
        "timeout": "Le serveur Plume a mis trop de temps à répondre. Réessayez avec un passage plus court.",
        "tls": "La connexion sécurisée au serveur Plume a échoué (certificat non reconnu). "
               "Contactez le service informatique.",
        "server_error": "Le serveur Plume a signalé une erreur : {detail}",
        "bad_answer": "La réponse du serveur Plume est illisible.",
        "internal": "Plume a rencontré une erreur inattendue ; le document n'a pas été modifié.",
        "no_selection": "Sélectionnez d'abord le texte à traiter.",
        "no_document": "Ouvrez d'abord un document Writer.",
        "no_template": "Choisissez d'abord un modèle de lettre.",
        "cancelled": "Opération annulée. Le document n'a pas été modifié.",
        "busy": "Une opération Plume est déjà en cours.",
        # Progress and success
        "working": "Plume travaille…",
        "done": "Terminé.",
        "done_undo": "Terminé. Édition > Annuler rétablit le texte d'origine.",
        "missing_fields": "Champs à compléter : {fields}",
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
        "insert": "Insérer le résultat",
        "cancel": "Annuler",
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
        "close": "Fermer",
        "server_url": "Adresse du serveur :",
        "token": "Jeton d'accès :",
        "language": "Langue :",
        "test": "Tester la connexion",
        "locked": "Réglage fixé par le service informatique.",
        "connection_ok": "Connexion réussie ({count} modèles disponibles).",
        "lang_fr": "Français", "lang_de": "Deutsch", "lang_it": "Italiano", "lang_en": "English",
        "lang_es": "Español", "lang_pt": "Português",
    },
    "de": {
        "unreachable": "Der Plume-Server antwortet nicht ({url}). Prüfen Sie die Adresse unter Extras > Optionen > Plume "
                       "oder wenden Sie sich an die Informatik.",
        "unauthorized": "Der Plume-Server hat das Zugriffstoken abgelehnt. Prüfen Sie Ihr Token unter "
                        "Extras > Optionen > Plume oder verlangen Sie bei der Informatik ein neues.",
        "forbidden": "Ihre Rolle erlaubt diese Aktion nicht.",
        "no_model": "Auf dem Server ist für diese Aufgabe kein Modell installiert. "
                    "Die Informatik kann es installieren mit: {command}",
        "too_long": "Der Text ist für diese Aufgabe zu lang. Wählen Sie einen kürzeren Abschnitt.",
        "timeout": "Der Plume-Server hat zu lange nicht geantwortet. Versuchen Sie es mit einem kürzeren Abschnitt.",
        "tls": "Die sichere Verbindung zum Plume-Server ist fehlgeschlagen (Zertifikat nicht anerkannt). "
               "Wenden Sie sich an die Informatik.",
        "server_error": "Der Plume-Server meldet einen Fehler: {detail}",
        "bad_answer": "Die Antwort des Plume-Servers ist nicht lesbar.",
        "internal": "Plume ist auf einen unerwarteten Fehler gestossen; das Dokument wurde nicht verändert.",
        "no_selection": "Markieren Sie zuerst den Text.",
        "no_document": "Öffnen Sie zuerst ein Writer-Dokument.",
        "no_template": "Wählen Sie zuerst eine Briefvorlage.",
        "cancelled": "Vorgang abgebrochen. Das Dokument wurde nicht verändert.",
        "busy": "Ein Plume-Vorgang läuft bereits.",
        "working": "Plume arbeitet…",
        "done": "Fertig.",
        "done_undo": "Fertig. Bearbeiten > Rückgängig stellt den ursprünglichen Text wieder her.",
        "missing_fields": "Noch auszufüllende Felder: {fields}",
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
        "insert": "Ergebnis einfügen",
        "cancel": "Abbrechen",
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
        "close": "Schliessen",
        "server_url": "Serveradresse:",
        "token": "Zugriffstoken:",
        "language": "Sprache:",
        "test": "Verbindung testen",
        "locked": "Von der Informatik festgelegt.",
        "connection_ok": "Verbindung erfolgreich ({count} Vorlagen verfügbar).",
        "lang_fr": "Français", "lang_de": "Deutsch", "lang_it": "Italiano", "lang_en": "English",
        "lang_es": "Español", "lang_pt": "Português",
    },
}

TARGET_LANGUAGES = ("de", "it", "en", "es", "pt", "fr")


def text(language: str, key: str, **values) -> str:
    table = STRINGS.get(language) or STRINGS["fr"]
    template = table.get(key) or STRINGS["fr"][key]
    return template.format(**values) if values else template
