"""The app around the window: main(), settings, crash reports, and following file changes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from conftest import fake_model
from librarian.desktop._testing import make_context, write_docs
from librarian.desktop.errors import CrashDialog, CrashReporter
from librarian.desktop.icons import app_icon, icons_dir, kind_icon
from librarian.desktop.settings import Settings
from librarian.desktop.window import MainWindow
from librarian.engine.extract import extract
from librarian.engine.library import Library
from PySide6.QtGui import QGuiApplication

MAIN_SCRIPT = """
import logging, sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
app = QApplication([])
QTimer.singleShot(300, app.quit)  # runs inside main()'s event loop
hook, handlers = sys.excepthook, list(logging.getLogger().handlers)
from librarian.desktop.app import main
code = main(sys.argv[1:])
assert sys.excepthook is hook, "main() puts the previous exception hook back"
assert logging.getLogger().handlers == handlers, "main() removes its log handler"
sys.exit(code)
"""


def test_main_sets_up_runs_and_cleans_up(tmp_path):
    # In its own process: after a shown window and quit(), Qt stops delivering queued signals in this
    # process, which would break the tests that follow.
    args = ["--data-dir", str(tmp_path / "data"), "--model-dir", str(tmp_path / "no-model"),
            "--settings", str(tmp_path / "settings.ini"), "--log-dir", str(tmp_path / "logs"), "--no-watch"]
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run([sys.executable, "-c", MAIN_SCRIPT, *args], env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    log_text = (tmp_path / "logs" / "librarian.log").read_text()
    assert "starting the desktop app" in log_text and "desktop app closed" in log_text
    assert "manifest.json is missing" in log_text  # the missing model was reported, not a crash
    assert (tmp_path / "settings.ini").exists()


def test_settings_remember_mode_and_geometry(qtbot, tmp_path):
    docs = write_docs(tmp_path / "docs")
    library = Library.open(tmp_path / "data", model=fake_model(), extract=extract)
    library.add_folder(docs)
    w = MainWindow(make_context(tmp_path, lambda: library))
    qtbot.addWidget(w)
    w.show()
    qtbot.waitUntil(lambda: w.snapshot is not None)
    w.bar.set_mode("dense")
    w.resize(800, 500)
    w.close()
    settings = Settings(tmp_path / "settings.ini")
    assert settings.mode() == "dense"
    assert settings.geometry() is not None
    w2 = MainWindow(make_context(tmp_path, lambda: Library.open(tmp_path / "data", model=fake_model())))
    qtbot.addWidget(w2)
    assert w2.bar.current_mode() == "dense"
    assert abs(w2.size().width() - 800) <= 4  # window frames differ by platform
    qtbot.waitUntil(lambda: w2.snapshot is not None)
    w2.close()


def test_unexpected_errors_are_logged_and_reported_with_a_copyable_report(qtbot, caplog):
    reporter = CrashReporter(log_path="/tmp/x.log", show_dialog=False)
    reporter.install()
    try:
        try:
            raise ValueError("boom")
        except ValueError as exc:
            with qtbot.waitSignal(reporter.reported):
                sys.excepthook(type(exc), exc, exc.__traceback__)
    finally:
        reporter.uninstall()
    qtbot.waitUntil(lambda: bool(reporter.reports))
    report = reporter.reports[0]
    assert "ValueError: boom" in report and "Python" in report and "Log: /tmp/x.log" in report
    assert "unexpected error" in caplog.text
    dialog = CrashDialog(report)
    qtbot.addWidget(dialog)
    dialog.copy_button.click()
    assert QGuiApplication.clipboard().text() == report


def test_icons_ship_with_the_package(qapp):
    assert (icons_dir() / "librarian.svg").exists()
    assert not app_icon().isNull()
    assert not kind_icon("pdf").isNull() and not kind_icon("unknown-kind").isNull()
    desktop_file = Path(__file__).parents[1] / "packaging" / "linux" / "librarian.desktop"
    text = desktop_file.read_text()
    assert "Exec=librarian-gui" in text and "Icon=librarian" in text


def test_file_changes_while_running_are_indexed(qtbot, tmp_path):
    docs = write_docs(tmp_path / "docs")
    library = Library.open(tmp_path / "data", model=fake_model(), extract=extract)
    library.add_folder(docs)
    library.update()
    w = MainWindow(make_context(tmp_path, lambda: library, watch=True, watch_quiet_seconds=0.1))
    qtbot.addWidget(w)
    w.show()
    # `started` may already have fired while waiting for the watcher object: wait on its state instead.
    qtbot.waitUntil(lambda: w.watcher is not None and w.watcher.watching, timeout=10000)
    (docs / "kayak.txt").write_text("Paddling a kayak across the lake at dawn.")
    # Indexed by the watcher's update (an update started at open may go idle first, under load).
    qtbot.waitUntil(lambda: any(h.path.endswith("kayak.txt")
                                for h in library.search("kayak", mode="keyword").hits), timeout=15000)
    qtbot.waitUntil(lambda: not w.indexing.running, timeout=15000)
    with qtbot.waitSignal(w.results_shown):
        qtbot.keyClicks(w.bar.box, "kayak")
    assert w.model.hit(0).path.endswith("kayak.txt")
    w.close()
