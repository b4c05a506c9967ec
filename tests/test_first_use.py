"""The first requests after a start arrive together (40 colleagues open Word at 8:00): every one-time
initialisation they trigger must happen once, whole, before anyone uses it. Each check runs in a
fresh interpreter, so its calls really are the first ones."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO, require_tool

SIXTEEN_FIRST_CALLERS = """
from concurrent.futures import ThreadPoolExecutor
from plume.language import grammar

def first_use(_):
    try:
        grammar.new_errors("Il faut que vous venez demain.", "Il faut que vous veniez demain a la mairie.")
        return "ok"
    except Exception as exc:
        return type(exc).__name__ + ": " + str(exc)[:120]

with ThreadPoolExecutor(16) as pool:
    print("\\n".join(pool.map(first_use, range(16))))
"""


def test_grammalecte_is_whole_for_sixteen_simultaneous_first_callers():
    """Grammalecte is loaded by path: its module is registered before its code has run, and a second
    first caller used to get the half-loaded module (AttributeError: no GrammarChecker → a 500)."""
    from plume.language import grammar

    require_tool(grammar.CHECKER.available(), "python3-grammalecte")
    for _ in range(3):  # the race needs a thread to arrive during the load: three fresh starts
        out = subprocess.run([sys.executable, "-c", SIXTEEN_FIRST_CALLERS], capture_output=True, text=True,
                             cwd=REPO, timeout=300)
        assert out.returncode == 0, out.stderr[-2000:]
        results = out.stdout.split("\n")
        assert results.count("ok") == 16, [r for r in results if r != "ok"]
