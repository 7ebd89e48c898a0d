#!/usr/bin/env bash
# Build the Linux installers from the PyInstaller bundle:
#
#   dist/librarian_<version>_<arch>.deb             installs /opt/librarian, /usr/bin/librarian(-gui),
#                                                   the .desktop entry and the icons
#   dist/librarian-<version>-linux-<machine>.tar.gz the same folder, portable (unpack and run)
#
#   packaging/build_deb.sh            uses dist/librarian/ if it is there, else builds it
#   packaging/build_deb.sh --rebuild  always runs packaging/build_bundle.sh first
#
# The package depends on the system libraries that Qt needs and nothing else (no Python): the list
# comes from dpkg-shlibdeps over every ELF file of the bundle (a fixed list where dpkg-dev is missing).
# No maintainer scripts: dpkg's own triggers refresh the icon cache and the desktop database, and
# `apt remove` leaves nothing behind but the user's own data (~/.local/share/librarian, ...).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DIST=${DIST:-$ROOT/dist}
BUNDLE=$DIST/librarian
VERSION=$(sed -n 's/^version *= *"\(.*\)"/\1/p' "$ROOT/pyproject.toml" | head -1)
ARCH=$(dpkg --print-architecture)
MACHINE=$(uname -m)
DEB=$DIST/librarian_${VERSION}_${ARCH}.deb
TARBALL=$DIST/librarian-${VERSION}-linux-${MACHINE}.tar.gz

if [ "${1:-}" = --rebuild ] || [ ! -x "$BUNDLE/librarian" ]; then
  DIST=$DIST "$ROOT/packaging/build_bundle.sh"
fi
[ -n "$VERSION" ] || { echo "no version in pyproject.toml" >&2; exit 1; }
command -v dpkg-deb >/dev/null || { echo "need dpkg-deb" >&2; exit 1; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/librarian-deb.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
PKG=$TMP/debian/librarian  # the layout dpkg-shlibdeps expects (debian/<package>/)
mkdir -p "$PKG/DEBIAN" "$PKG/opt" "$PKG/usr/bin" "$PKG/usr/share/applications" "$PKG/usr/share/doc/librarian"

echo "== staging /opt/librarian"
cp -a "$BUNDLE" "$PKG/opt/librarian"
ln -s /opt/librarian/librarian "$PKG/usr/bin/librarian"
cat > "$PKG/usr/bin/librarian-gui" <<'EOF'
#!/bin/sh
# The desktop app (the .desktop entry starts this); `librarian` with no command does the same
# where there is a screen.
exec /opt/librarian/librarian gui "$@"
EOF
chmod 755 "$PKG/usr/bin/librarian-gui"
install -m 644 "$ROOT/packaging/linux/librarian.desktop" "$PKG/usr/share/applications/librarian.desktop"
for png in "$ROOT"/desktop/icons/librarian-*.png; do
  size=$(basename "$png" .png); size=${size#librarian-}
  install -D -m 644 "$png" "$PKG/usr/share/icons/hicolor/${size}x${size}/apps/librarian.png"
done
install -D -m 644 "$ROOT/desktop/icons/librarian.svg" "$PKG/usr/share/icons/hicolor/scalable/apps/librarian.svg"
cat > "$PKG/usr/share/doc/librarian/copyright" <<EOF
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: librarian

Files: *
License: MIT

Files: opt/librarian/_internal/*
Comment: Third-party components (Python, Qt/PySide6 under LGPL-3, onnxruntime, ...) and the model
 keep their own licences: see /opt/librarian/_internal/licenses/ and
 /opt/librarian/_internal/librarian/models/shipped/LICENSE.
EOF
# Normalise permissions: directories and executables 755, everything else 644.
find "$PKG" -type d -exec chmod 755 {} +
find "$PKG/opt" -type f -exec sh -c 'for f; do if [ -x "$f" ]; then chmod 755 "$f"; else chmod 644 "$f"; fi; done' sh {} +

echo "== dependencies"
# Optional plugins: the GTK platform theme loads only where GTK is installed (Recommends).
OPTIONAL_RE='/platformthemes/libqgtk3\.so$'
# glibc is backward compatible only: without dpkg-shlibdeps, ask for the build machine's own.
BUILD_GLIBC=$(ldd --version 2>/dev/null | awk 'NR == 1 {print $NF}')
FALLBACK_DEPENDS="libc6 (>= $BUILD_GLIBC), libstdc++6, libgcc-s1, libglib2.0-0, libdbus-1-3, libfontconfig1, libfreetype6, \
libgl1, libegl1, libx11-6, libx11-xcb1, libxcb1, libxcb-cursor0, libxcb-glx0, libxcb-icccm4, libxcb-image0, \
libxcb-keysyms1, libxcb-randr0, libxcb-render0, libxcb-render-util0, libxcb-shape0, libxcb-shm0, libxcb-sync1, \
libxcb-util1, libxcb-xfixes0, libxcb-xkb1, libxkbcommon0, libxkbcommon-x11-0, libwayland-client0, \
libwayland-cursor0, libwayland-egl1, libzstd1"
DEPENDS=""
if command -v dpkg-shlibdeps >/dev/null; then
  mapfile -t elves < <(cd "$TMP" && find debian/librarian/opt -type f \( -name '*.so*' -o -name librarian \) \
                        -exec sh -c 'head -c4 "$1" | grep -q ELF && echo "$1"' sh {} \; | grep -Ev "$OPTIONAL_RE")
  mapfile -t libdirs < <(cd "$TMP" && find debian/librarian/opt -name '*.so*' -printf '-l%h\n' | sort -u)
  printf 'Source: librarian\n\nPackage: librarian\nArchitecture: any\n' > "$TMP/debian/control"
  if out=$(cd "$TMP" && dpkg-shlibdeps -O --ignore-missing-info "${libdirs[@]}" "${elves[@]}" 2>"$TMP/shlibdeps.log"); then
    DEPENDS=${out#shlibs:Depends=}
    # CPython's own libraries (libssl, libsqlite3, zlib, ...) are in the bundle and take precedence
    # (the bootloader puts _internal/ first): their system packages are not needed.
    for f in "$PKG"/opt/librarian/_internal/lib*.so*; do
      base=$(basename "$f")
      for p in $(dpkg -S "$base" 2>/dev/null | awk -F': ' -v b="$base" '{n = split($2, a, "/"); if (a[n] == b) print $1}' \
                 | tr ',' '\n' | sed 's/^ *//; s/:.*//' | sort -u); do
        DEPENDS=$(printf '%s' "$DEPENDS" | tr ',' '\n' | sed 's/^ *//' | grep -v "^$p\( \|$\)" | paste -sd, - | sed 's/,/, /g')
      done
    done
  else
    echo "dpkg-shlibdeps failed (see below); using the fixed list" >&2
    tail -5 "$TMP/shlibdeps.log" >&2
  fi
fi
[ -n "$DEPENDS" ] || DEPENDS=$FALLBACK_DEPENDS
if printf '%s' "$DEPENDS" | grep -qi python; then echo "a python dependency crept in: $DEPENDS" >&2; exit 1; fi
echo "Depends: $DEPENDS"

INSTALLED_KB=$(du -sk --apparent-size "$PKG" | cut -f1)
cat > "$PKG/DEBIAN/control" <<EOF
Package: librarian
Version: $VERSION
Architecture: $ARCH
Maintainer: Librarian developers <librarian@localhost>
Installed-Size: $INSTALLED_KB
Depends: $DEPENDS
Recommends: libgtk-3-0, xdg-utils
Section: utils
Priority: optional
Description: offline search of your own documents, by meaning and by words
 Librarian indexes folders of documents (text, Markdown, code, HTML, PDF,
 DOCX, ODT, EPUB, PPTX, RTF, e-mail) and finds them by meaning as well as by
 words, entirely on this computer: the int8 embedding model ships inside the
 package, nothing is downloaded, ever. Desktop app and "librarian" command.
 Self-contained: Python, Qt and onnxruntime are bundled under /opt/librarian.
EOF

echo "== dpkg-deb"
rm -f "$DEB"
dpkg-deb --root-owner-group -Zxz --build "$PKG" "$DEB" >/dev/null
dpkg-deb --info "$DEB" | sed -n '/Package:/,$p' | head -6

echo "== portable tarball"
rm -f "$TARBALL"
mkdir -p "$TMP/tar"
cp -a "$BUNDLE" "$TMP/tar/librarian-$VERSION"
cat > "$TMP/tar/librarian-$VERSION/README.txt" <<EOF
Librarian $VERSION, portable build for Linux ($MACHINE). No installation, no Python needed.

  ./librarian                 the desktop app (or a search prompt without a screen)
  ./librarian index ~/Documents
  ./librarian search "fast automobile"
  ./librarian --help

Needs the system libraries every desktop has (X11 or Wayland, OpenGL/EGL, fontconfig, D-Bus,
xkbcommon, xcb-cursor); on Debian/Ubuntu the .deb installs them for you. Built on glibc $BUILD_GLIBC:
runs where glibc is $BUILD_GLIBC or newer. To uninstall, delete this folder; what the app wrote stays
in ~/.local/share/librarian (index), ~/.config/librarian (settings), ~/.local/state/librarian (log).
EOF
tar -C "$TMP/tar" --owner=0 --group=0 -czf "$TARBALL" "librarian-$VERSION"

ls -l "$DEB" "$TARBALL"
echo "deb: $(du -h "$DEB" | cut -f1), installed $(( INSTALLED_KB / 1024 )) MB; tarball: $(du -h "$TARBALL" | cut -f1)"
