#!/usr/bin/env bash
# One command that sets up a new Debian machine and runs the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/system-packages.sh
scripts/setup.sh test
exec .venv/bin/python -m pytest "$@"
