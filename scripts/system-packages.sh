#!/usr/bin/env bash
# Debian packages the tests need: headless LibreOffice with its Python bridge (the .oxt tests and
# PDF/conversion checks), Chromium (the Word task pane tests) and Apertium fr<->es (a real,
# deterministic translation engine for the translation tests).
set -euo pipefail
packages=(libreoffice-writer-nogui python3-uno libreoffice-script-provider-python
          chromium apertium apertium-fr-es fonts-dejavu-core fonts-liberation2 openssl
          python3-grammalecte)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
