#!/usr/bin/env bash
# One command that sets up Plume and starts it on its defaults: templates/ of this folder,
# http://127.0.0.1:8000, data in ./data. On the first start it prints an admin token once.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/plume serve "$@"
