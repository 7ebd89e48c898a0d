"""Opening a result and showing it in its folder, with the platform's own tools.

The window takes an `Actions` object so tests can record what would be opened instead of
launching a viewer.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

from PySide6.QtCore import QProcess, QUrl
from PySide6.QtGui import QDesktopServices, QGuiApplication

log = logging.getLogger(__name__)


class Actions:
    def open(self, path: str) -> bool:
        ok = QDesktopServices.openUrl(QUrl.fromLocalFile(path))
        if not ok:
            log.warning("no application opened %s", path)
        return ok

    def reveal(self, path: str) -> bool:
        """Show the file selected in its folder where the platform allows it, else open the folder."""
        if sys.platform == "darwin":
            return QProcess.startDetached("open", ["-R", path])[0]
        if sys.platform == "win32":
            return QProcess.startDetached("explorer", ["/select,", os.path.normpath(path)])[0]
        if _freedesktop_show_item(path):
            return True
        return QDesktopServices.openUrl(QUrl.fromLocalFile(str(Path(path).parent)))

    def copy(self, text: str) -> None:
        QGuiApplication.clipboard().setText(text)


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
    reply = iface.call("ShowItems", [QUrl.fromLocalFile(path).toString()], "")
    return not reply.errorName()
