"""Render the desktop app's main states to docs/screenshots/*.png (offscreen; no display needed).

    python scripts/screenshots.py [--out docs/screenshots] [--fake-model]

States: first run (empty), indexing in progress, results with the preview, the Problems view, the
Library dialog, the exclusions editor, and the results again in a dark palette. Uses a copy of the
demo library (plus two broken files, so Problems has something to show) in a temporary folder that
stands in for the home folder, and the shipped model unless --fake-model.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import threading
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]


def fake_model():
    sys.path.insert(0, str(ROOT / "tests"))
    from conftest import fake_model as make  # the tests' deterministic encoder

    return make()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--fake-model", action="store_true", help="use the tests' fake encoder")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)

    home = Path(tempfile.mkdtemp(prefix="librarian-shots-"))
    os.environ["HOME"] = str(home)  # paths read "~/Documents/..." as on a real machine

    from librarian.desktop._testing import make_context
    from librarian.desktop.window import MainWindow
    from librarian.engine.cli.common import demo_library_path
    from librarian.engine.encoders import load_model
    from librarian.engine.extract import extract
    from librarian.engine.library import Library
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtGui import QColor, QPalette
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication, QStyleFactory

    app = QApplication.instance() or QApplication([])
    app.setApplicationName("Librarian")

    model = fake_model() if args.fake_model else load_model()

    docs = home / "Documents"
    shutil.copytree(demo_library_path(), docs)
    (docs / "scans").mkdir()
    (docs / "scans" / "receipt-2023.pdf").write_bytes(b"%PDF-1.4 truncated download")
    (docs / "old-report.docx").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512)

    hold = threading.Event()
    held = threading.Event()

    def slow_extract(path: Path):
        if path.name.startswith("optimizing"):  # hold indexing midway for the "indexing" shot
            held.set()
            hold.wait(30)
        return extract(path)

    def wait_for(signal=None, predicate=None, ms: int = 30000) -> None:
        loop = QEventLoop()
        timer = QTimer()
        timer.setSingleShot(True)
        timer.timeout.connect(loop.quit)
        timer.start(ms)
        if signal is not None:
            signal.connect(loop.quit)
            loop.exec()
            signal.disconnect(loop.quit)
        while predicate is not None and not predicate() and timer.isActive():
            QTest.qWait(20)

    def save(widget, name: str) -> None:
        for _ in range(5):
            app.processEvents()
        path = args.out / f"{name}.png"
        widget.grab().save(str(path))
        print(path)

    data = home / "data"
    window = MainWindow(make_context(home, lambda: Library.open(data, model=model, extract=slow_extract),
                                     demo_path=docs))
    window.resize(1200, 760)
    window.show()
    wait_for(predicate=lambda: window.snapshot is not None)
    save(window, "01-empty")

    window.add_demo()
    wait_for(predicate=held.is_set)
    wait_for(predicate=lambda: window.indexing.last_progress is not None
             and window.indexing.last_progress.phase == "indexing")
    window.bar.box.setText("bread")
    wait_for(window.results_shown)
    wait_for(predicate=lambda: window.preview.context is not None, ms=3000)
    window.refresh_status()
    wait_for(window.status_refreshed)
    save(window, "02-indexing")
    hold.set()
    wait_for(predicate=lambda: not window.indexing.running, ms=120000)
    window.refresh_status()
    wait_for(window.status_refreshed)

    window.bar.box.setText("")
    window.bar.box.setText("why did my loaf come out flat and dense")
    wait_for(window.results_shown)
    wait_for(predicate=lambda: window.preview.context is not None, ms=5000)
    save(window, "03-results-preview")

    window.open_problems()
    dialog = window.problems_dialog
    dialog.resize(820, 300)
    save(dialog, "04-problems")
    dialog.close()

    window.open_library_dialog()
    window.library_dialog.roots.setCurrentRow(0)
    save(window.library_dialog, "05-library")
    editor = window.edit_exclusions(str(docs))
    wait_for(editor.preview_ready)
    editor.editor.setPlainText("# not worth searching\n*.py\nscans/\n")
    wait_for(editor.preview_ready)
    save(editor, "06-exclusions")
    editor.close()
    window.library_dialog.close()

    app.setStyle(QStyleFactory.create("Fusion"))
    dark = QPalette()
    for role, colour in ((QPalette.ColorRole.Window, "#2b2d31"), (QPalette.ColorRole.WindowText, "#e6e6e6"),
                         (QPalette.ColorRole.Base, "#1e1f22"), (QPalette.ColorRole.AlternateBase, "#26282c"),
                         (QPalette.ColorRole.Text, "#e6e6e6"), (QPalette.ColorRole.Button, "#34363b"),
                         (QPalette.ColorRole.ButtonText, "#e6e6e6"), (QPalette.ColorRole.Highlight, "#3b7dd8"),
                         (QPalette.ColorRole.HighlightedText, "#ffffff"), (QPalette.ColorRole.Link, "#7ab0ff"),
                         (QPalette.ColorRole.PlaceholderText, "#9a9ca3"), (QPalette.ColorRole.ToolTipBase, "#2b2d31"),
                         (QPalette.ColorRole.ToolTipText, "#e6e6e6")):
        dark.setColor(role, QColor(colour))
    dark.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.WindowText, QColor("#8a8c92"))
    dark.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text, QColor("#8a8c92"))
    app.setPalette(dark)
    window.bar.box.setText("how do I make the website faster")
    wait_for(window.results_shown)
    wait_for(predicate=lambda: window.preview.context is not None, ms=5000)
    save(window, "07-results-dark")

    window.close()
    shutil.rmtree(home, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
