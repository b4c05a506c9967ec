"""What the LibreOffice sidebar says of the server's readability scores (pure Python, no LibreOffice).

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
