"""What the LibreOffice sidebar says of the server's answers (pure Python, no LibreOffice): readability
scores, a recording's size limit, a search hit.

The band is the server's decision (server/plume/language/readability.py); the sidebar only words it.
The panel itself is tested in a real LibreOffice (tests/test_libreoffice_extension.py).
"""

from __future__ import annotations

import sys

from plume.language import readability
from tests.conftest import REPO

sys.path.insert(0, str(REPO / "extension-libreoffice" / "python" / "pythonpath"))
from plume_lo import wording  # noqa: E402  (pure Python: no UNO needed)

EVERY_BAND = [name for _, name in readability.BANDS] + [readability.band(0.0)]


def test_every_band_the_server_gives_is_said_in_french_and_german():
    for band in EVERY_BAND:
        scores = {"kandel_moles": 50.0, "band": band}
        french, german = wording.band_name("fr", scores), wording.band_name("de", scores)
        assert french and german and french != german, band  # not the French word in a German sidebar
        assert wording.readability_line("fr", scores, scores) == f"Lisibilité : {french} → {french}"
        assert wording.readability_line("de", scores, scores) == f"Lesbarkeit: {german} → {german}"


def test_the_sidebar_says_the_servers_band_and_keeps_no_thresholds_of_its_own():
    # A score the usual thresholds would call « très difficile », banded otherwise by the server: its band wins.
    before, after = {"kandel_moles": 5.0, "band": "hard"}, {"kandel_moles": 5.0, "band": "easy"}
    assert wording.readability_line("fr", before, after) == "Lisibilité : difficile → facile"
    assert wording.readability_line("de", before, after) == "Lesbarkeit: schwer → leicht"
    assert wording.readability_line("fr", before, {"kandel_moles": 90.0}) == "Lisibilité : difficile"
    assert wording.readability_line("fr", {"kandel_moles": 90.0}, after) == ""  # no band, no words


def test_the_recordings_limit_is_said_in_the_units_the_server_uses_in_french_and_german():
    """1 Mo = 1024² bytes, as the server's own 413 says its limit (api/audio_upload.py)."""
    from plume.api.audio_upload import too_large

    eight = 8 * 1024 * 1024
    assert f"taille maximale de {wording.size_words('fr', eight)}." in too_large(eight).detail
    assert wording.size_words("fr", 1024 ** 3) == "1 Go" and wording.size_words("de", 1024 ** 3) == "1 GB"
    assert wording.size_words("fr", 600_000) == "585,9 ko" and wording.size_words("de", 600_000) == "585.9 KB"
    assert wording.duration_words(65.2) == "1 min 05 s" and wording.duration_words(29.8) == "30 s"


def test_a_hit_is_listed_by_its_article_and_page_before_its_title():
    hit = {"title": "Règlement sur la gestion des déchets", "heading": "Chapitre 2 — Collectes › Art. 8 Déchetterie",
           "locator": "art. 8", "page": 2}
    assert wording.hit_line("fr", 1, hit) == "1. art. 8, p. 2 — Règlement sur la gestion des déchets"
    assert wording.hit_line("de", 1, hit) == "1. art. 8, S. 2 — Règlement sur la gestion des déchets"
    faq = {"title": "Questions fréquentes", "heading": "Guichet › Quand le guichet est-il ouvert ?", "locator": None}
    assert wording.hit_line("fr", 2, faq) == "2. Quand le guichet est-il ouvert ? — Questions fréquentes"
