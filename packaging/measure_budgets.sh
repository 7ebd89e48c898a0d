#!/usr/bin/env bash
# Measure the release budgets on the frozen build (run after build_deb.sh):
#
#   installer size         dist/librarian_<v>_<arch>.deb (goal <= 150 MB), the tarball, the folder
#   start to window shown  `librarian gui` on Xvfb until its main window is mapped (goal <= 2 s)
#   first search           `librarian search "fast automobile" --json` in a new process
#
# Each timing runs RUNS times (default 5) warm, and, as root, also cold: the page cache dropped
# before each run (echo 3 > /proc/sys/vm/drop_caches), as after a reboot.
#
#   packaging/measure_budgets.sh            needs Xvfb and xwininfo (Debian: xvfb x11-utils)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DIST=${DIST:-$ROOT/dist}
BUNDLE=$DIST/librarian
EXE=$BUNDLE/librarian
RUNS=${RUNS:-5}
VERSION=$(sed -n 's/^version *= *"\(.*\)"/\1/p' "$ROOT/pyproject.toml" | head -1)
[ -x "$EXE" ] || { echo "no bundle at $BUNDLE: run packaging/build_bundle.sh" >&2; exit 1; }
command -v Xvfb >/dev/null && command -v xwininfo >/dev/null || { echo "need Xvfb and xwininfo" >&2; exit 1; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/librarian-budgets.XXXXXX")
XVFB_PID=""
trap '[ -n "$XVFB_PID" ] && kill $XVFB_PID 2>/dev/null; rm -rf "$TMP"' EXIT
export HOME=$TMP/home LIBRARIAN_DATA_DIR=$TMP/data XDG_RUNTIME_DIR=$TMP/run
mkdir -p "$HOME" "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
unset PYTHONPATH PYTHONHOME VIRTUAL_ENV QT_QPA_PLATFORM || true

ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
median() { sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
can_drop() { [ "$(id -u)" = 0 ] && sync && echo 3 > /proc/sys/vm/drop_caches 2>/dev/null; }

echo "== sizes"
for f in "$DIST/librarian_${VERSION}_"*.deb "$DIST/librarian-${VERSION}-linux-"*.tar.gz; do
  [ -f "$f" ] && printf '%-45s %s MB\n' "$(basename "$f")" "$(awk -v s="$(stat -c %s "$f")" 'BEGIN {printf "%.1f", s / 1048576}')"
done
printf '%-45s %6s\n' "dist/librarian/ (installed)" "$(du -sh --apparent-size "$BUNDLE" | cut -f1)"

echo "== indexing the demo library (setup)"
"$EXE" index 2>&1 | tail -1

Xvfb :88 -screen 0 1280x800x24 -nolisten tcp >/dev/null 2>&1 &
XVFB_PID=$!
for _ in $(seq 50); do xwininfo -display :88 -root >/dev/null 2>&1 && break; sleep 0.1; done

# One start: launch the app, poll the X server every 10 ms until a "Librarian" window is viewable.
start_to_window() {
  local t gui shown=""
  t=$(date +%s%N)
  DISPLAY=:88 "$EXE" gui >/dev/null 2>&1 &
  gui=$!
  while kill -0 $gui 2>/dev/null; do
    for id in $(xwininfo -display :88 -root -tree 2>/dev/null | awk '/"Librarian/ {print $1}'); do
      if xwininfo -display :88 -id "$id" 2>/dev/null | grep -q IsViewable; then shown=$(ms "$t"); break 2; fi
    done
    sleep 0.01
  done
  kill $gui 2>/dev/null; wait $gui 2>/dev/null || true
  echo "${shown:-NaN}"
}
first_search() {
  local t
  t=$(date +%s%N)
  "$EXE" search "fast automobile" --json > "$TMP/search.json"
  ms "$t"
  grep -m1 -q 'building-a-high-speed-car-detector.pdf' "$TMP/search.json" || echo "WARNING: car detector not first" >&2
}

start_to_window >/dev/null  # the app's first run writes its settings and log dir: not a fair sample
for kind in warm cold; do
  if [ $kind = cold ] && ! can_drop; then echo "(cold runs need root: skipped)"; break; fi
  w=(); s=()
  for _ in $(seq "$RUNS"); do
    [ $kind = cold ] && can_drop
    w+=("$(start_to_window)")
    [ $kind = cold ] && can_drop
    s+=("$(first_search)")
  done
  echo "== $kind ($RUNS runs)"
  echo "start -> window shown:  ${w[*]} ms   median $(printf '%s\n' "${w[@]}" | median) ms"
  echo "first search (process): ${s[*]} ms   median $(printf '%s\n' "${s[@]}" | median) ms"
done
