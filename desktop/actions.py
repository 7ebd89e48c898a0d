"""Opening a result and showing it in its folder, with the platform's own tools.

The window takes an `Actions` object so tests can record what would be opened instead of
launching a viewer.

Paths arrive as OS paths, which on Linux may hold bytes that are not UTF-8 (surrogate escapes).
Qt's strings cannot hold those, so what leaves for a viewer or a file manager is a ``file:`` URL
percent-encoding the very bytes (as GIO and file managers exchange such names), never a QString path.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

from librarian.engine.paths import display_path, is_lossy
from PySide6.QtCore import QProcess, QUrl
from PySide6.QtGui import QDesktopServices, QGuiApplication

log = logging.getLogger(__name__)


class Actions:
    def open(self, path: str) -> bool:
        ok = QDesktopServices.openUrl(file_url(path))
        if not ok:
            log.warning("no application opened %s", display_path(path))
        return ok

    def reveal(self, path: str) -> bool:
        """Show the file selected in its folder where the platform allows it, else open the folder."""
        if sys.platform == "darwin":
            return QProcess.startDetached("open", ["-R", path])[0]
        if sys.platform == "win32":
            return QProcess.startDetached("explorer", ["/select,", os.path.normpath(path)])[0]
        if _freedesktop_show_item(path):
            return True
        return QDesktopServices.openUrl(file_url(str(Path(path).parent)))

    def copy(self, text: str) -> None:
        QGuiApplication.clipboard().setText(text)

    def copy_path(self, path: str) -> None:
        """The path as text; for a name that is not UTF-8, which no text can hold, its ``file:`` URL
        (RFC 8089, the form Open hands to the viewer), which file managers, file dialogs and
        ``gio open`` read back as the very file."""
        self.copy(bytes(file_url(path).toEncoded().data()).decode("ascii") if is_lossy(path) else path)


def file_url(path: str) -> QUrl:
    """A ``file:`` URL for an OS path, lossless: ``QUrl.fromLocalFile`` would need a QString, which
    cannot hold a name's non-UTF-8 bytes, so the URL is built from the bytes (``Path.as_uri``
    percent-encodes them) and parsed as already encoded."""
    try:
        return QUrl.fromEncoded(Path(path).absolute().as_uri().encode("ascii"))
    except ValueError:  # a relative path on a drive-less Windows form: let Qt do its best
        return QUrl.fromLocalFile(display_path(path))


def _freedesktop_show_item(path: str) -> bool:
    """org.freedesktop.FileManager1.ShowItems: file managers that support it select the file."""
    try:
        from PySide6.QtDBus import QDBusConnection, QDBusInterface
    except ImportError:
        return False
    bus = QDBusConnection.sessionBus()
    if not bus.isConnected():
        return False
    iface = QDBusInterface("org.freedesktop.FileManager1", "/org/freedesktop/FileManager1",
                           "org.freedesktop.FileManager1", bus)
    if not iface.isValid():
        return False
    reply = iface.call("ShowItems", [bytes(file_url(path).toEncoded().data()).decode("ascii")], "")
    return not reply.errorName()
