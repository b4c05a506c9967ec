#!/usr/bin/env bash
# Creates .venv and installs Plume with pinned dependencies (constraints.txt).
#   scripts/setup.sh          the server only
#   scripts/setup.sh test     the server and the test tools
set -euo pipefail
cd "$(dirname "$0")/.."
extra="${1:-}"
python=${PYTHON:-python3}
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "Plume demande Python 3.11 ou plus récent (python3 -V)." >&2
  exit 1
fi
[ -x .venv/bin/python ] || "$python" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
spec="."
[ -n "$extra" ] && spec=".[${extra}]"
.venv/bin/python -m pip install -q -c constraints.txt -e "$spec"
