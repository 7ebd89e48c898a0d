"""Unexpected errors: logged, then shown in a dialog with a report the user can copy.

`CrashReporter.install()` replaces `sys.excepthook` and `threading.excepthook` (and `uninstall()` puts
the previous hooks back). Reports from other threads travel to the UI thread by a queued signal.
"""

from __future__ import annotations

import logging
import platform
import sys
import threading
import traceback
from types import TracebackType

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import QObject, Qt, Signal, Slot, qVersion
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

log = logging.getLogger(__name__)


def build_report(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None,
                 *, log_path: str = "") -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        app_version = version("librarian")
    except PackageNotFoundError:
        app_version = "unknown"
    lines = [
        f"Librarian {app_version}",
        f"Python {platform.python_version()} · PySide6 {pyside_version} · Qt {qVersion()}",
        f"{platform.platform()}",
    ]
    if log_path:
        lines.append(f"Log: {log_path}")
    lines.append("")
    lines.extend(traceback.format_exception(exc_type, exc, tb))
    return "\n".join(line.rstrip("\n") for line in lines)


class CrashDialog(QDialog):
    def __init__(self, report: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Librarian hit a problem")
        self.report = report
        layout = QVBoxLayout(self)
        intro = QLabel("Something went wrong. Your library is safe: the index keeps what it had.\n"
                       "If this keeps happening, copy the report below and send it with a description "
                       "of what you were doing.")
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.text = QPlainTextEdit(report)
        self.text.setReadOnly(True)
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.text.setMinimumSize(560, 240)
        layout.addWidget(self.text)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.copy_button = QPushButton("Copy report")
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.copy_button.clicked.connect(self.copy_report)
        buttons.rejected.connect(self.reject)
        buttons.accepted.connect(self.accept)
        layout.addWidget(buttons)

    @Slot()
    def copy_report(self) -> None:
        QGuiApplication.clipboard().setText(self.report)
        self.copy_button.setText("Copied")


class CrashReporter(QObject):
    reported = Signal(str)

    def __init__(self, *, log_path: str = "", show_dialog: bool = True, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.log_path = log_path
        self.show_dialog = show_dialog
        self._previous_hooks: tuple | None = None
        self._showing = False
        self.reports: list[str] = []
        self.reported.connect(self._show, Qt.ConnectionType.QueuedConnection)

    def install(self) -> None:
        self._previous_hooks = (sys.excepthook, threading.excepthook)
        sys.excepthook = self._sys_hook
        threading.excepthook = self._thread_hook

    def uninstall(self) -> None:
        if self._previous_hooks is not None:
            sys.excepthook, threading.excepthook = self._previous_hooks
            self._previous_hooks = None

    def _sys_hook(self, exc_type, exc, tb) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            QApplication.quit()
            return
        self.handle(exc_type, exc, tb)

    def _thread_hook(self, args: threading.ExceptHookArgs) -> None:
        if args.exc_value is not None:
            self.handle(args.exc_type, args.exc_value, args.exc_traceback)

    def handle(self, exc_type, exc, tb) -> None:
        log.critical("unexpected error", exc_info=(exc_type, exc, tb))
        self.reported.emit(build_report(exc_type, exc, tb, log_path=self.log_path))

    @Slot(str)
    def _show(self, report: str) -> None:
        self.reports.append(report)
        if not self.show_dialog or self._showing:
            return  # one dialog at a time; the rest are in the log
        self._showing = True
        try:
            CrashDialog(report, QApplication.activeWindow()).exec()
        finally:
            self._showing = False
