#!/usr/bin/env bash
# One command that sets up a new Debian machine and runs the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/system-packages.sh
scripts/setup.sh test
# The real-model tier (tests/test_realmodel.py, tests/test_speech_realmodel.py) needs the reference
# models: installed here, from their cache after the first time (PLUME_REALMODEL=0 skips all of it).
if [ "${PLUME_REALMODEL:-1}" != 0 ]; then
  PLUME_REFERENCE_CATALOG=$(scripts/reference-model.sh | tail -n 1)
  PLUME_REFERENCE_SPEECH_CATALOG=$(scripts/reference-speech.sh | tail -n 1)
  export PLUME_REFERENCE_CATALOG PLUME_REFERENCE_SPEECH_CATALOG
fi
exec .venv/bin/python -m pytest "$@"
