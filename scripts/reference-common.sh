# Sourced by scripts/reference-model.sh and scripts/reference-speech.sh (set `name` first): their
# messages, the free-space check and a quiet pip. Not a command of its own.

say() { echo "$name: $*" >&2; }
fail() { echo "$name : $*" >&2; exit 1; }
# Free space (in MB) where $1 lives; a full disk gets its own message, not a Python traceback.
need_space() {
  local free_mb
  free_mb=$(df -Pm "$1" | awk 'NR == 2 { print $4 }')
  if [ "$free_mb" -lt "$2" ]; then
    fail "disque presque plein : ${free_mb} Mo libres dans $1, il en faut au moins $2 ($3). Libérez de la place, puis relancez."
  fi
}

# pip, without the lines about this machine's local package mirrors; keeps pip's exit status.
pip_quiet() {
  "$@" 2>&1 | { grep -v '^WARNING: Location' || true; } >&2
  return "${PIPESTATUS[0]}"
}
