#!/usr/bin/env bash
# Debian packages the tests need, each for a real part the tests use instead of a mock:
#   LibreOffice (headless) with its Python bridge   the .oxt tests, PDF and format conversions
#   Chromium                                         the Word task pane tests (Playwright)
#   Apertium fr<->es                                 a real, deterministic translation engine
#   strace                                           the outbound-traffic test (syscall level)
#   Grammalecte                                      French proofreading (also used by the server)
#   Dovecot                                          a real IMAP server for the mailbox worker's tests
#                                                    (started by the tests; the system service is not needed)
#   poppler-utils                                    reading rendered PDFs (tables inside the margins)
#   libcairo2                                        CairoSVG, the baseline of bench/qrbill_drawing.py (the server
#                                                    draws the QR-bill with pyvips' own libvips)
#   espeak-ng                                        French speech synthesized at test time: the recordings
#                                                    the transcription tests send (no recorded speech here)
set -euo pipefail
packages=(
  libreoffice-writer-nogui python3-uno libreoffice-script-provider-python
  chromium
  apertium apertium-fr-es
  fonts-dejavu-core fonts-liberation2
  openssl
  strace
  python3-grammalecte
  dovecot-imapd
  poppler-utils
  libcairo2
  espeak-ng
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
