"""Building the library from the window: first run, adding folders, progress, problems, pause/cancel,
closing mid-index, exclusions, drag and drop, and the edge states (missing folder, model trouble)."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest
from conftest import fake_model
from librarian.desktop._testing import DOCS, make_context, write_docs
from librarian.desktop.opener import open_library
from librarian.desktop.window import PAGE_EMPTY, PAGE_ERROR, PAGE_SEARCH, MainWindow
from librarian.engine.extract import extract
from librarian.engine.library import Library
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QDialogButtonBox, QMessageBox


class GatedExtract:
    """The real extractor, held at one file until released (to catch indexing in the middle)."""

    def __init__(self, hold_name: str) -> None:
        self.hold_name = hold_name
        self.reached = threading.Event()
        self.release = threading.Event()
        self.calls = 0

    def rearm(self, hold_name: str) -> None:
        self.hold_name = hold_name
        self.reached = threading.Event()
        self.release = threading.Event()

    def __call__(self, path: Path):
        self.calls += 1
        if path.name == self.hold_name:
            self.reached.set()
            self.release.wait(10)
        return extract(path)


def new_window(qtbot, tmp_path: Path, open_fn, **kwargs) -> MainWindow:
    w = MainWindow(make_context(tmp_path, open_fn, **kwargs))
    qtbot.addWidget(w)
    w.show()
    return w


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    return write_docs(tmp_path / "docs")


def test_first_run_offers_a_folder_or_the_demo_and_indexes_it(qtbot, tmp_path, docs):
    data = tmp_path / "data"
    w = new_window(qtbot, tmp_path, lambda: Library.open(data, model=fake_model(), extract=extract),
                   demo_path=docs)
    qtbot.waitUntil(lambda: w.snapshot is not None)
    assert w.pages.currentIndex() == PAGE_EMPTY
    qtbot.waitUntil(w.bar.box.hasFocus)
    progress = []
    w.indexing.progress.connect(progress.append)
    with qtbot.waitSignal(w.indexing.idle, timeout=20000):
        w.empty.demo_button.click()  # "Try the demo library" adds the context's demo folder
    assert w.pages.currentIndex() == PAGE_SEARCH
    phases = [p.phase for p in progress]
    assert "indexing" in phases and phases[-1] == "done"
    assert progress[-1].files_done == len(DOCS) and progress[-1].embedded == progress[-1].to_embed
    qtbot.waitUntil(lambda: w.snapshot.status.documents == len(DOCS))
    assert w.snapshot.status.roots == (str(docs),)
    with qtbot.waitSignal(w.results_shown):
        qtbot.keyClicks(w.bar.box, "barley soup")
    assert w.model.hit(0).path.endswith("alps.md")
    assert not w.indexing_status.isVisible()
    w.close()


def test_failed_files_are_listed_in_problems(qtbot, tmp_path, docs):
    (docs / "broken.pdf").write_bytes(b"%PDF-1.4 this is not really a pdf")
    (docs / "old.doc.docx").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100)
    data = tmp_path / "data"
    w = new_window(qtbot, tmp_path, lambda: Library.open(data, model=fake_model(), extract=extract))
    qtbot.waitUntil(lambda: w.snapshot is not None)
    with qtbot.waitSignal(w.indexing.idle, timeout=20000):
        w.add_folder(str(docs))
    qtbot.waitUntil(lambda: len(w.snapshot.status.failed) == 2)
    assert w.problems_button.isVisible() and w.problems_button.text() == "⚠ 2 problems"
    w.open_problems()
    dialog = w.problems_dialog
    assert dialog.model.rowCount() == 2
    rows = {dialog.model.index(r, 0).data(): dialog.model.index(r, 2).data() for r in range(2)}
    assert set(rows) == {"broken.pdf", "old.doc.docx"}
    assert all(reason for reason in rows.values())
    assert "2 files could not be read" in dialog.summary.text()
    dialog.table.selectRow(0)
    dialog.reveal_button.click()
    assert w.context.actions.revealed == [str(docs / "broken.pdf")]
    w.close()


def bulk_notes(docs: Path, n: int, folder: str = "a-bulk") -> None:
    (docs / folder).mkdir(exist_ok=True)
    for i in range(n):
        topic = "kayaks on the lake" if i == 3 else "reading and writing"
        (docs / folder / f"note-{i:02d}.txt").write_text(f"Note number {i} about {topic}.")


def test_searching_works_while_indexing_and_pause_resume_cancel(qtbot, tmp_path, docs):
    bulk_notes(docs, 70)  # the engine commits every 64 files (or half second): these are in before the gate
    gate = GatedExtract("taxes-2024.txt")  # a late file in crawl order
    data = tmp_path / "data"
    w = new_window(qtbot, tmp_path, lambda: Library.open(data, model=fake_model(), extract=gate))
    qtbot.waitUntil(lambda: w.snapshot is not None)
    try:
        w.add_folder(str(docs))
        qtbot.waitUntil(gate.reached.is_set, timeout=10000)
        # Indexing is held mid-run: what was read already is searchable.
        with qtbot.waitSignal(w.results_shown, timeout=5000):
            w.bar.box.setText("kayaks")
        assert w.model.hit(0).path.endswith("note-03.txt")
        assert w.indexing.running and w.indexing_status.isVisible()
        w.indexing_status.pause_button.click()
        assert w.indexing.paused and w.indexing_status.pause_button.text() == "Resume"
        gate.release.set()
        with qtbot.assertNotEmitted(w.indexing.idle, wait=300):
            pass  # paused: the run does not finish
        with qtbot.waitSignal(w.indexing.idle, timeout=10000):
            w.indexing_status.pause_button.click()  # resume
        assert not w.indexing.paused
        qtbot.waitUntil(lambda: w.snapshot.status.documents == len(DOCS) + 70)
    finally:
        gate.release.set()
    # Cancel: a second run held at the gate stops cleanly when asked to.
    gate.rearm("new.txt")
    (docs / "new.txt").write_text("fresh words about kayaks")
    (docs / "zz-after.txt").write_text("written after the held one")
    w.update_now()
    qtbot.waitUntil(gate.reached.is_set, timeout=10000)
    finished = []
    w.indexing.job_finished.connect(lambda job, report: finished.append(report))
    with qtbot.waitSignal(w.indexing.idle, timeout=10000):
        w.indexing_status.cancel_button.click()
        gate.release.set()
    assert finished[-1].cancelled
    w.close()


def test_closing_mid_index_cancels_cleanly_and_loses_nothing(qtbot, tmp_path, docs):
    bulk_notes(docs, 30, "bulk")
    gate = GatedExtract("note-05.txt")
    data = tmp_path / "data"
    w = new_window(qtbot, tmp_path, lambda: Library.open(data, model=fake_model(), extract=gate))
    qtbot.waitUntil(lambda: w.snapshot is not None)
    w.add_folder(str(docs))
    qtbot.waitUntil(gate.reached.is_set, timeout=10000)
    gate.release.set()
    w.close()  # cancels, waits for the writer thread, closes the library
    assert not w.indexing._thread.isRunning()
    with Library.open(data, model=fake_model(), extract=extract) as library:
        assert library.check().ok
        before = library.status().documents
        assert 0 < before <= len(DOCS) + 30
        report = library.update()
        assert report.added == len(DOCS) + 30 - before, "the second run only did what the first did not"
        assert library.status().documents == len(DOCS) + 30
        assert library.check().ok


def test_add_and_remove_folders_from_the_library_dialog(qtbot, tmp_path, docs, monkeypatch):
    other = write_docs(tmp_path / "other", {"kayak.txt": "Paddling a kayak on the lake at dawn."})
    data = tmp_path / "data"
    w = new_window(qtbot, tmp_path, lambda: Library.open(data, model=fake_model(), extract=extract))
    qtbot.waitUntil(lambda: w.snapshot is not None)
    w.open_library_dialog()
    dialog = w.library_dialog
    with qtbot.waitSignal(w.indexing.idle, timeout=20000):
        dialog.add_requested.emit(str(docs))
    with qtbot.waitSignal(w.indexing.idle, timeout=20000):
        dialog.add_requested.emit(str(other))
    qtbot.waitUntil(lambda: dialog.roots.count() == 2)
    assert "documents" in dialog.summary.text()
    assert dialog.roots.item(0).text().endswith("Words: ready · meaning: ready")
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    dialog.roots.setCurrentRow(0)
    with qtbot.waitSignal(w.indexing.idle, timeout=20000):
        dialog.remove_button.click()
    qtbot.waitUntil(lambda: dialog.roots.count() == 1)
    assert w.snapshot.status.roots == (str(other),)
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    dialog.roots.setCurrentRow(0)
    with qtbot.waitSignal(w.indexing.idle, timeout=20000):
        dialog.remove_button.click()
    qtbot.waitUntil(lambda: w.pages.currentIndex() == PAGE_EMPTY)
    w.close()


def test_dropping_a_folder_adds_it(qtbot, tmp_path, docs):
    data = tmp_path / "data"
    w = new_window(qtbot, tmp_path, lambda: Library.open(data, model=fake_model(), extract=extract))
    qtbot.waitUntil(lambda: w.snapshot is not None)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(docs))])
    event = QDropEvent(QPointF(50, 50), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    with qtbot.waitSignal(w.indexing.idle, timeout=20000):
        w.dropEvent(event)
    qtbot.waitUntil(lambda: w.snapshot.status.roots == (str(docs),))
    w.close()


def test_exclusions_editor_previews_and_writes_librarianignore(qtbot, tmp_path, docs):
    data = tmp_path / "data"
    library = Library.open(data, model=fake_model(), extract=extract)
    library.add_folder(docs)
    library.update()
    w = new_window(qtbot, tmp_path, lambda: library)
    qtbot.waitUntil(lambda: w.snapshot is not None)
    editor = w.edit_exclusions(str(docs))
    qtbot.waitUntil(lambda: editor.last_preview is not None)
    assert editor.last_preview.files == len(DOCS)
    with qtbot.waitSignal(editor.preview_ready, timeout=5000) as ready:
        editor.editor.setPlainText("*.txt\n")
    assert ready.args[0].files == 3 and ready.args[0].excluded == 2
    assert "Would index 3 files" in editor.preview.toPlainText()
    with qtbot.waitSignal(w.indexing.idle, timeout=20000):
        editor.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Save).click()
    assert (docs / ".librarianignore").read_text() == "*.txt\n"
    qtbot.waitUntil(lambda: w.snapshot.status.documents == 3)
    w.close()


def test_a_missing_folder_is_flagged_and_its_documents_kept(qtbot, tmp_path, docs, monkeypatch):
    data = tmp_path / "data"
    library = Library.open(data, model=fake_model(), extract=extract)
    library.add_folder(docs)
    library.update()
    shutil.rmtree(docs)  # an unplugged drive
    w = new_window(qtbot, tmp_path, lambda: library, update_on_open=True)
    qtbot.waitUntil(lambda: w.snapshot is not None)
    assert w.missing_banner.isVisible()
    assert str(docs) in w.missing_banner.text.text()
    # The engine drops a missing root's documents on update, so nothing updates on its own now.
    assert not w.indexing.running and not w.indexing.queued()
    asked = []
    monkeypatch.setattr(QMessageBox, "question",
                        lambda *a, **k: asked.append(a[2]) or QMessageBox.StandardButton.No)
    w.update_now()
    assert asked and str(docs) in asked[0] and not w.indexing.running
    w.missing_banner.button.click()
    assert w.library_dialog.roots.item(0).text().splitlines()[1].startswith("Missing")
    assert w.snapshot.status.documents == len(DOCS)
    w.close()


def test_a_model_mismatch_offers_to_re_embed(qtbot, tmp_path, docs):
    data = tmp_path / "data"
    with Library.open(data, model=fake_model(name="old"), extract=extract) as library:
        library.add_folder(docs)
        library.update()
    w = new_window(qtbot, tmp_path, lambda: Library.open(data, model=fake_model(name="new"), extract=extract))
    qtbot.waitUntil(lambda: w.snapshot is not None)
    banner = w.model_banner
    assert banner.isVisible() and "“old”" in banner.text.text() and banner.button.text() == "Re-embed now"
    with qtbot.waitSignal(w.indexing.idle, timeout=20000):
        banner.button.click()
    assert w.library.model_mismatch is None
    qtbot.waitUntil(lambda: not banner.isVisible())
    w.close()


def test_a_missing_model_falls_back_to_words_with_a_clear_message(qtbot, tmp_path, docs):
    data = tmp_path / "data"
    with Library.open(data, model=fake_model(), extract=extract) as library:
        library.add_folder(docs)
        library.update()
    missing = tmp_path / "no-model"
    w = new_window(qtbot, tmp_path, lambda: open_library(str(data), str(missing)))
    qtbot.waitUntil(lambda: w.snapshot is not None)
    assert w.model_banner.isVisible() and w.model_banner.level == "error"
    assert str(missing) in w.model_banner.text.text()
    assert w.bar.current_mode() == "keyword"
    with qtbot.waitSignal(w.results_shown):
        qtbot.keyClicks(w.bar.box, "compost")
    assert w.model.hit(0).path.endswith("compost.txt")
    w.close()


def test_no_index_and_no_model_shows_the_reason(qtbot, tmp_path):
    w = new_window(qtbot, tmp_path, lambda: open_library(str(tmp_path / "data"), str(tmp_path / "no-model")))
    qtbot.waitUntil(lambda: w.pages.currentIndex() == PAGE_ERROR)
    assert "manifest.json" in w.error_page.text()
    assert not w.bar.isEnabled()
    w.close()
