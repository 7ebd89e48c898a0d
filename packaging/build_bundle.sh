#!/usr/bin/env bash
# Build Librarian's one-folder bundle (PyInstaller) from a clean virtual environment.
#
#   packaging/build_bundle.sh                 -> dist/librarian/ (Linux/macOS/Windows-in-Git-Bash)
#
# Steps: copy the source tree (tracked + untracked-not-ignored files, so no stale build/ or
# editable install leaks in) to a temporary folder, create a fresh venv there, `pip install .`
# (non-editable) + the pinned PyInstaller, run packaging/librarian.spec, then check the result:
# no torch/transformers/optimum, every Qt/ORT library resolvable, `librarian --help` runs.
#
# Environment: PYTHON (default python3.11; on Linux it must be built with --enable-shared),
# DIST (default <repo>/dist), KEEP_BUILD=1 keeps the temporary folder (venv, copy, work dir).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PYTHON=${PYTHON:-python3.11}
DIST=${DIST:-$ROOT/dist}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/librarian-bundle.XXXXXX")
cleanup() { if [ "${KEEP_BUILD:-0}" != 1 ]; then rm -rf "$TMP"; else echo "kept $TMP"; fi; }
trap cleanup EXIT

# A clean environment: nothing from the caller's venv or PYTHONPATH.
unset PYTHONPATH PYTHONHOME VIRTUAL_ENV PYTHONSTARTUP PIP_USER || true
export PIP_NO_INPUT=1 PYTHONNOUSERSITE=1

log() { printf '\n== %s\n' "$*" >&2; }
start=$(date +%s)

command -v "$PYTHON" >/dev/null || { echo "need $PYTHON" >&2; exit 1; }
"$PYTHON" - <<'EOF'
import sys, sysconfig
if sys.version_info[:2] != (3, 11):
    sys.exit(f"build with Python 3.11 (this is {sys.version.split()[0]})")
if sys.platform.startswith("linux") and not sysconfig.get_config_var("Py_ENABLE_SHARED"):
    sys.exit("PyInstaller needs a Python built with --enable-shared (libpython3.11.so)")
EOF

log "copying the source tree to $TMP/src"
mkdir -p "$TMP/src"
if git -C "$ROOT" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  # (files deleted in the work tree but still tracked are skipped; bsdtar on macOS has no --ignore-failed-read)
  (cd "$ROOT" && git ls-files -z -co --exclude-standard \
     | while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done \
     | tar --null -T - -cf -) | tar -xf - -C "$TMP/src"
else
  tar -C "$ROOT" --exclude=./.venv --exclude=./.git --exclude=./build --exclude=./dist \
      --exclude='*.egg-info' --exclude=./models/_work --exclude=./models/cache -cf - . | tar -xf - -C "$TMP/src"
fi
# Every file the shipped model's manifest lists (one ONNX file, or two towers sharing a table) must be there.
model_files=$("$PYTHON" -c 'import json, sys; print(" ".join(json.load(open(sys.argv[1]))["sha256"]))' \
              "$TMP/src/models/shipped/manifest.json") || { echo "models/shipped/manifest.json is unreadable" >&2; exit 1; }
for f in $model_files; do
  test -f "$TMP/src/models/shipped/$f" || { echo "models/shipped/$f is missing" >&2; exit 1; }
done

log "creating a clean venv"
"$PYTHON" -m venv "$TMP/venv"
if [ -x "$TMP/venv/bin/python" ]; then VPY="$TMP/venv/bin/python"; else VPY="$TMP/venv/Scripts/python.exe"; fi
"$VPY" -m pip install --quiet --upgrade pip
log "pip install . (non-editable) + PyInstaller"
"$VPY" -m pip install --quiet "$TMP/src" -r "$TMP/src/packaging/requirements-build.txt"
"$VPY" - <<'EOF'
import importlib.util, sys
bad = [m for m in ("torch", "transformers", "optimum", "onnx") if importlib.util.find_spec(m)]
if bad:
    sys.exit(f"the build venv must not contain {bad}")
import librarian.engine, pathlib
print("freezing", pathlib.Path(librarian.engine.__file__).parent)
EOF

log "PyInstaller"
mkdir -p "$DIST"
rm -rf "$DIST/librarian" "$DIST/Librarian.app"
# From $TMP, not from the source copy: its librarian.egg-info (left by pip's in-tree build) must
# not shadow the installed distribution.
(cd "$TMP" && "$VPY" -m PyInstaller --noconfirm --clean --log-level WARN \
   --distpath "$DIST" --workpath "$TMP/work" "$TMP/src/packaging/librarian.spec")

BUNDLE="$DIST/librarian"
EXE="$BUNDLE/librarian"; [ -f "$EXE.exe" ] && EXE="$EXE.exe"

log "checking the bundle"
forbidden=$(find "$BUNDLE" \( -iname 'torch*' -o -iname 'transformers' -o -iname 'optimum*' -o -iname 'libQt6Qml*' \
            -o -iname 'libQt6Quick*' -o -iname 'libQt6Network*' -o -iname 'libQt6WebEngine*' -o -path '*/translations/*' \) | head -5)
if [ -n "$forbidden" ]; then echo "unwanted files in the bundle:"$'\n'"$forbidden" >&2; exit 1; fi
for f in $(printf 'librarian/models/shipped/%s ' $model_files) librarian/models/shipped/manifest.json \
         librarian/engine/demo/building-a-high-speed-car-detector.pdf librarian/desktop/icons/librarian.svg \
         librarian/engine/demo/rename_photos.py licenses/THIRD-PARTY.txt; do
  test -f "$BUNDLE/_internal/$f" || { echo "missing in the bundle: $f" >&2; exit 1; }
done
if [ "$(uname -s)" = Linux ]; then
  # Every library the bundle brings must find its own dependencies inside the bundle; what is left
  # must come from the system packages that the .deb depends on (checked by verify_clean_install.sh).
  missing=$(find "$BUNDLE" -type f \( -name '*.so*' -o -name librarian \) -print0 \
            | xargs -0 -n 50 ldd 2>/dev/null | awk '/not found/ {print $1}' | sort -u)
  bad=$(printf '%s\n' "$missing" | grep -E '^lib(Qt6|pyside6|shiboken6|python3|icu|onnxruntime|gomp)' || true)
  if [ -n "$bad" ]; then echo "bundle libraries that do not resolve: $bad" >&2; exit 1; fi
  [ -n "$missing" ] && echo "system libraries not on this build machine (the .deb depends on them): $(echo $missing)"
fi
demo_src=$(find "$TMP/src/engine/demo" -type f | wc -l)
demo_dst=$(find "$BUNDLE/_internal/librarian/engine/demo" -type f | wc -l)
[ "$demo_src" = "$demo_dst" ] || { echo "demo library: $demo_dst of $demo_src files in the bundle" >&2; exit 1; }
"$EXE" --help >/dev/null
echo "bundle: $BUNDLE ($(du -sh "$BUNDLE" | cut -f1)), built in $(( $(date +%s) - start )) s"
