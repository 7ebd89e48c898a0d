#!/usr/bin/env bash
# Smoke test of a frozen build on the machine at hand (Linux, macOS, Windows in Git Bash); the
# release workflow runs it on each OS. verify_clean_install.sh does the same, and more, on a clean
# Debian root with no network.
#
#   packaging/smoke_test.sh [path/to/librarian[.exe]]      (default: dist/librarian/librarian)
#
# Indexes the bundled demo library into a temporary data dir: 13 documents, none failed; the query
# "fast automobile" finds the car-detector PDF first; `check` exits 0; the desktop app runs offscreen
# for 8 s without an error.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
EXE=${1:-$ROOT/dist/librarian/librarian}
[ -f "$EXE" ] || [ -f "$EXE.exe" ] || { echo "no executable at $EXE" >&2; exit 1; }
TMP=$(mktemp -d "${TMPDIR:-/tmp}/librarian-smoke.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
export LIBRARIAN_DATA_DIR=$TMP/data
unset PYTHONPATH PYTHONHOME VIRTUAL_ENV || true

# timeout(1) is not on macOS by default: perl's alarm does the same (exit 142 instead of 124).
run_for() {
  local secs=$1; shift
  if command -v timeout >/dev/null; then timeout "$secs" "$@"; else perl -e 'alarm shift; exec @ARGV' "$secs" "$@"; fi
}

"$EXE" --help >/dev/null
"$EXE" index
"$EXE" status --json | tee "$TMP/status.json"
tr -d '\r' < "$TMP/status.json" | grep -q '"failed": \[\]' || { echo "FAIL: some files failed" >&2; exit 1; }
tr -d '\r' < "$TMP/status.json" | grep -q '"documents": 13,' || { echo "FAIL: not 13 documents" >&2; exit 1; }
"$EXE" search "fast automobile" --json > "$TMP/search.json"
first=$(grep -m1 '"path"' "$TMP/search.json")
echo "first result: $first"
case "$first" in *building-a-high-speed-car-detector.pdf*) ;; *) echo "FAIL: car detector not first" >&2; exit 1;; esac
"$EXE" check

set +e
QT_QPA_PLATFORM=offscreen run_for 8 "$EXE" gui > "$TMP/gui.log" 2>&1
code=$?
set -e
cat "$TMP/gui.log"
case $code in 124|142) ;; *) echo "FAIL: the app exited with $code before the timeout" >&2; exit 1;; esac
if grep -Eiq 'traceback|error|could not load' "$TMP/gui.log"; then echo "FAIL: the app printed an error" >&2; exit 1; fi
echo "smoke test passed"
