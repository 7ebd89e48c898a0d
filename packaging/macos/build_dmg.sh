#!/usr/bin/env bash
# macOS: build Librarian.app (packaging/build_bundle.sh, the same spec) and wrap it in a .dmg.
#
#   packaging/macos/build_dmg.sh     -> dist/librarian-<version>-macos-<arm64|x86_64>.dmg
#
# The .app holds the windowed `librarian-gui` (its CFBundleExecutable) and the console
# `librarian` (Librarian.app/Contents/MacOS/librarian: link it onto PATH for the CLI).
# PyInstaller signs ad hoc. With MACOS_SIGN_IDENTITY set ("Developer ID Application: ..."), the
# app is signed with that identity (hardened runtime); notarisation is left to the release
# manager (xcrun notarytool). Unsigned/unnotarised, Gatekeeper asks: right-click > Open.
#
# NOT RUN: written on Linux; hdiutil and codesign exist only on macOS (see ../README.md).
set -euo pipefail

[ "$(uname -s)" = Darwin ] || { echo "build_dmg.sh runs on macOS only (hdiutil)" >&2; exit 1; }
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
DIST=${DIST:-$ROOT/dist}
VERSION=$(sed -n 's/^version *= *"\(.*\)"/\1/p' "$ROOT/pyproject.toml" | head -1)
ARCH=$(uname -m)
DMG=$DIST/librarian-$VERSION-macos-$ARCH.dmg

if [ "${1:-}" = --rebuild ] || [ ! -d "$DIST/Librarian.app" ]; then
  DIST=$DIST "$ROOT/packaging/build_bundle.sh"
fi
APP=$DIST/Librarian.app
[ -x "$APP/Contents/MacOS/librarian-gui" ] || { echo "no $APP/Contents/MacOS/librarian-gui" >&2; exit 1; }

if [ -n "${MACOS_SIGN_IDENTITY:-}" ]; then
  codesign --force --deep --options runtime --timestamp --sign "$MACOS_SIGN_IDENTITY" "$APP"
fi
codesign --verify --deep --strict "$APP"

STAGE=$(mktemp -d "${TMPDIR:-/tmp}/librarian-dmg.XXXXXX")
trap 'rm -rf "$STAGE"' EXIT
cp -R "$APP" "$STAGE/"
ln -s /Applications "$STAGE/Applications"
rm -f "$DMG"
hdiutil create -volname "Librarian $VERSION" -srcfolder "$STAGE" -fs HFS+ -format UDZO -imagekey zlib-level=9 -ov "$DMG"
hdiutil verify "$DMG"
echo "dmg: $DMG ($(du -h "$DMG" | cut -f1))"
