"""A Debian package the tests drive for real is skipped on a developer's machine when missing, but
fails in CI, where scripts/test.sh installs every package (tests/conftest.py: require_tool)."""

from __future__ import annotations

import pytest

from tests.conftest import require_tool


@pytest.mark.parametrize("ci", ["true", "1"])
def test_a_missing_package_fails_in_ci(monkeypatch, ci):
    monkeypatch.setenv("CI", ci)
    with pytest.raises(pytest.fail.Exception, match="dovecot-imapd"):
        require_tool(False, "dovecot-imapd")
    require_tool(True, "dovecot-imapd")  # present: nothing happens


@pytest.mark.parametrize("ci", [None, "", "false", "0"])
def test_a_missing_package_is_skipped_elsewhere(monkeypatch, ci):
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    with pytest.raises(pytest.skip.Exception, match="scripts/system-packages.sh"):
        require_tool(False, "strace")
