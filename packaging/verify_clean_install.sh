#!/usr/bin/env bash
# Prove the .deb on a clean system: a fresh Debian bookworm root (debootstrap, minbase: no Python),
# `apt install ./librarian_<v>_amd64.deb` inside it, then, with the network cut off (a new, empty
# network namespace) and as an ordinary user with a bare environment:
#
#   librarian index                      the demo library: 13 documents, `status --json` failed == []
#   librarian search "fast automobile"   the car-detector PDF first
#   librarian check                      exit 0
#   librarian gui  (QT_QPA_PLATFORM=offscreen)   runs 8 s without an error (timeout's 124)
#   librarian gui  on a real X server (Xvfb)     the window is mapped (when Xvfb is installed here)
#   ldd over every library in /opt/librarian     nothing missing: Depends is complete
#   apt purge librarian                  nothing left but the user's data
#
#   sudo packaging/verify_clean_install.sh [path/to/librarian_<v>_<arch>.deb]
#
# Without an argument it takes dist/librarian_<v>_<arch>.deb, building it first if missing.
# Needs root, debootstrap, unshare (util-linux) and the Debian mirror (only to create the base root
# once, cached in $LIBRARIAN_VERIFY_CACHE, and to fetch the package's dependencies).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VERSION=$(sed -n 's/^version *= *"\(.*\)"/\1/p' "$ROOT/pyproject.toml" | head -1)
DEB=${1:-$ROOT/dist/librarian_${VERSION}_$(dpkg --print-architecture).deb}
SUITE=${SUITE:-bookworm}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
CACHE=${LIBRARIAN_VERIFY_CACHE:-/var/cache/librarian-verify}
BASE=$CACHE/$SUITE-minbase.tar
T0=$(date +%s)

[ "$(id -u)" = 0 ] || { echo "run as root (chroot, namespaces)" >&2; exit 1; }
for tool in unshare chroot dpkg; do command -v $tool >/dev/null || { echo "need $tool" >&2; exit 1; }; done

phase() { printf '\n== [%3ss] %s\n' "$(( $(date +%s) - T0 ))" "$*"; }
fail() { echo "FAIL: $*" >&2; exit 1; }

if [ ! -f "$DEB" ]; then
  phase "building the .deb"
  "$ROOT/packaging/build_deb.sh"
fi
echo "package: $DEB ($(du -h "$DEB" | cut -f1))"

if [ ! -f "$BASE" ]; then
  phase "creating the base root ($SUITE minbase, cached in $BASE)"
  command -v debootstrap >/dev/null || { apt-get update -qq && apt-get install -y -qq debootstrap >/dev/null; }
  mkdir -p "$CACHE"
  rm -rf "$CACHE/rootfs.tmp"
  debootstrap --variant=minbase "$SUITE" "$CACHE/rootfs.tmp" "$MIRROR" >"$CACHE/debootstrap.log" 2>&1 \
    || { tail -20 "$CACHE/debootstrap.log" >&2; fail "debootstrap"; }
  tar -C "$CACHE/rootfs.tmp" -cf "$BASE.tmp" . && mv "$BASE.tmp" "$BASE"
  rm -rf "$CACHE/rootfs.tmp"
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/librarian-verify.XXXXXX")
R=$WORK/root
XVFB_PID=""
cleanup() {
  [ -n "$XVFB_PID" ] && kill "$XVFB_PID" 2>/dev/null || true
  # Every mount was made inside a private mount namespace that is gone by now: a plain rm is safe.
  if [ "${KEEP_ROOT:-0}" = 1 ]; then echo "kept $R"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

phase "a fresh root from the base"
mkdir -p "$R"
tar -C "$R" -xf "$BASE"
cp "$DEB" "$R/tmp/librarian.deb"
echo "tester:x:1000:1000:Tester:/home/tester:/bin/bash" >> "$R/etc/passwd"
echo "tester:x:1000:" >> "$R/etc/group"
mkdir -p "$R/home/tester" "$R/tmp/.X11-unix" && chown 1000:1000 "$R/home/tester" && chmod 1777 "$R/tmp/.X11-unix"

# in_root [--net] CMD...: run CMD in the clean root, in a private mount namespace (/proc, /dev,
# /dev/shm, /sys mounted there only) and, unless --net, in a new network namespace: no network.
in_root() {
  local net=--net
  if [ "$1" = --net ]; then net=""; shift; fi
  unshare --mount --propagation private $net -- sh -c '
    R=$1; shift
    mount -t proc proc "$R/proc"
    mount --rbind /dev "$R/dev"
    mount -t tmpfs -o mode=1777 tmpfs "$R/dev/shm"
    mount -t sysfs -o ro sysfs "$R/sys" 2>/dev/null || true
    [ -d /tmp/.X11-unix ] && mount --bind /tmp/.X11-unix "$R/tmp/.X11-unix"
    exec chroot "$R" "$@"' sh "$R" "$@"
}
# as_user CMD...: the same, as uid 1000 with a bare environment (no PYTHONPATH, no PATH to any Python).
as_user() {
  in_root env -i HOME=/home/tester USER=tester LOGNAME=tester LANG=C.UTF-8 PATH=/usr/local/bin:/usr/bin:/bin \
    XDG_RUNTIME_DIR=/tmp/xdg-tester ${EXTRA_ENV:-} \
    setpriv --reuid=1000 --regid=1000 --init-groups -- "$@"
}

phase "the clean root has no Python"
if in_root sh -c 'ls /usr/bin/python* /usr/local/bin/python* 2>/dev/null; dpkg-query -W -f "\${Package}\n" | grep -i python'; then
  fail "the base root already has Python"
fi
echo "none"

phase "apt install ./librarian.deb (network on, only for the Qt system libraries)"
cp /etc/resolv.conf "$R/etc/resolv.conf"
before=$(in_root dpkg-query -W -f '${Package}\n' | wc -l)
in_root --net sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends /tmp/librarian.deb' \
  > "$WORK/apt.log" 2>&1 || { tail -30 "$WORK/apt.log" >&2; fail "apt install"; }
after=$(in_root dpkg-query -W -f '${Package}\n' | wc -l)
echo "installed librarian and $(( after - before - 1 )) dependencies"
rm -f "$R/etc/resolv.conf"
if in_root sh -c 'ls /usr/bin/python* /usr/local/bin/python* 2>/dev/null; dpkg-query -W -f "\${Package}\n" | grep -i python'; then
  fail "installing the package brought in Python"
fi
echo "still no Python on the system; /usr/bin/librarian -> $(readlink "$R/usr/bin/librarian")"

phase "no network from here on"
if as_user bash -c 'exec 3<>/dev/tcp/1.1.1.1/80' 2>/dev/null; then fail "the network is reachable"; fi
in_root cat /proc/net/dev | awk 'NR > 2 {print "interfaces in the namespace: " $1}'

phase "every library in /opt/librarian resolves (ldd)"
# LD_LIBRARY_PATH as the bootloader sets it at run time (CPython's modules find libssl etc. there).
missing=$(in_root env LD_LIBRARY_PATH=/opt/librarian/_internal sh -c 'find /opt/librarian -type f \( -name "*.so*" -o -name librarian \) ! -name libqgtk3.so \
           -exec ldd {} + 2>/dev/null | grep "not found" | sort -u' || true)
[ -z "$missing" ] || fail "missing libraries:"$'\n'"$missing"
echo "ok (the optional GTK theme plugin needs GTK, which the package only recommends)"

phase "librarian index (the demo library)"
t=$(date +%s%N)
as_user librarian index 2>&1 | tee "$WORK/index.log" | tail -3
echo "index took $(( ($(date +%s%N) - t) / 1000000 )) ms (a new process, extraction workers included)"
as_user librarian status --json > "$WORK/status.json"
cat "$WORK/status.json"
grep -q '"failed": \[\]' "$WORK/status.json" || fail "some files failed"
grep -q '"documents": 13,' "$WORK/status.json" || fail "not 13 documents"
grep -q '"embedded": ' "$WORK/status.json" || fail "no vectors"

phase 'librarian search "fast automobile" --json'
t=$(date +%s%N)
as_user librarian search "fast automobile" --json > "$WORK/search.json"
echo "first search (a new process, cold start included): $(( ($(date +%s%N) - t) / 1000000 )) ms"
first=$(grep -m1 '"path"' "$WORK/search.json")
echo "first result: $first"
case "$first" in *building-a-high-speed-car-detector.pdf*) ;; *) fail "the car-detector PDF is not first";; esac

phase "librarian check"
as_user librarian check || fail "librarian check exited $?"

phase "the desktop app, offscreen, 8 s"
set +e
EXTRA_ENV="QT_QPA_PLATFORM=offscreen" as_user timeout 8 librarian gui > "$WORK/gui.log" 2>&1
code=$?
set -e
cat "$WORK/gui.log"
[ "$code" = 124 ] || fail "librarian gui exited $code before the timeout"
if grep -Eiq 'traceback|error|could not load|cannot' "$WORK/gui.log"; then fail "the app printed an error"; fi
logf=$R/home/tester/.local/state/librarian/log/librarian.log
if [ -f "$logf" ] && grep -E ' (ERROR|CRITICAL) ' "$logf"; then fail "errors in the app's log"; fi
echo "ran until the timeout, no error"

if command -v Xvfb >/dev/null && command -v xwininfo >/dev/null; then
  phase "the desktop app on an X server (Xvfb :87, the xcb platform plugin and the Depends libraries)"
  Xvfb :87 -screen 0 1280x800x24 -nolisten tcp >/dev/null 2>&1 &
  XVFB_PID=$!
  for _ in $(seq 50); do xwininfo -display :87 -root >/dev/null 2>&1 && break; sleep 0.1; done
  t=$(date +%s%N)
  EXTRA_ENV="DISPLAY=:87" as_user timeout 15 librarian gui > "$WORK/gui-x11.log" 2>&1 &
  gui=$!
  shown=""
  while kill -0 $gui 2>/dev/null; do
    for id in $(xwininfo -display :87 -root -tree 2>/dev/null | awk '/"Librarian/ {print $1}'); do
      if xwininfo -display :87 -id "$id" 2>/dev/null | grep -q IsViewable; then shown=$(( ($(date +%s%N) - t) / 1000000 )); break 2; fi
    done
    sleep 0.02
  done
  sleep 2
  xwininfo -display :87 -root -tree | grep -i '"librarian' | head -3
  wait $gui || code=$?
  cat "$WORK/gui-x11.log"
  [ -n "$shown" ] || fail "no Librarian window appeared on the X server"
  echo "window mapped ${shown} ms after the start (first start after install, file cache warm)"
  kill "$XVFB_PID" 2>/dev/null || true; XVFB_PID=""
fi

phase "apt purge librarian: nothing left but the user's data"
touch "$WORK/before-purge"
in_root sh -c 'DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq librarian' > "$WORK/purge.log" 2>&1 \
  || { cat "$WORK/purge.log" >&2; fail "apt purge"; }
left=$(in_root sh -c 'ls -d /opt/librarian /usr/bin/librarian /usr/bin/librarian-gui /usr/share/applications/librarian.desktop \
        /usr/share/icons/hicolor/*/apps/librarian.* /usr/share/doc/librarian 2>/dev/null' || true)
[ -z "$left" ] || fail "left behind: $left"
stray=$(cd "$R" && find . -xdev -path ./proc -prune -o -path ./home/tester -prune -o -path ./var/log -prune -o -path ./var/cache/apt -prune \
        -o -path ./var/lib/apt -prune -o -path ./tmp -prune \
        -o -path ./dev -prune -o -path ./sys -prune -o -iname '*librarian*' -print)
[ -z "$stray" ] || fail "left behind: $stray"
echo "the user's data stays: $(cd "$R/home/tester" && find . -maxdepth 4 -path '*librarian*' -type d | sort | head -5 | tr '\n' ' ')"

phase "all checks passed"
