"""Hostile documents in the desktop app: text from the user's files is never rendered as markup, and
the exclusions editor never writes through a planted symlink.

A probe is a few lines: index a file (the ``hostile`` fixture holds a Markdown file, a mail and a file
whose *name* holds markup), find its hit with `select`, then check a label with `assert_plain_label`
or rich text with `shows_literally` (the HTML, rendered, gives back the markup as text).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from conftest import fake_model
from librarian.desktop import ignore_editor
from librarian.desktop._testing import make_context
from librarian.desktop.banner import Banner
from librarian.desktop.ignore_editor import IGNORE_FILE, write_patterns
from librarian.desktop.library_panel import LibraryDialog, LibrarySnapshot
from librarian.desktop.problems import ProblemsDialog
from librarian.desktop.progress import IndexingStatus
from librarian.desktop.results_model import Role
from librarian.desktop.window import PAGE_ERROR, MainWindow
from librarian.engine.extract import extract
from librarian.engine.library import Library
from librarian.engine.results import Failure, Status
from PySide6.QtCore import QEvent, QPoint, Qt
from PySide6.QtGui import QHelpEvent, QTextDocument
from PySide6.QtWidgets import QLabel, QMessageBox, QStyleOptionViewItem, QToolTip

# What a phishing mail or a booby-trapped note puts in its subject or heading.
MARKUP = '<h1 style="color:red">Urgent</h1><a href="https://evil.example/verify">verify here</a>'
# A file name cannot hold "/", so no closing tags; "<h2 …>" alone already makes Qt guess rich text.
MARKUP_NAME = '<h2 style="color:red">invoice.txt'

HOSTILE_DOCS = {
    "notes/urgent.md": f"# {MARKUP}\n\nYour account needs attention: read the notice about walrus payments.\n",
    "mail/urgent.eml": (f"From: bank@example.com\nTo: me@example.com\nSubject: {MARKUP}\n"
                        "Content-Type: text/plain\n\nThe narwhal invoice is attached, please pay today.\n"),
    f"names/{MARKUP_NAME}": "The platypus enclosure bill is overdue.\n",
}


# -- helpers -------------------------------------------------------------------------------------------
def shows_literally(rich: str, text: str) -> bool:
    """Whether ``rich``, rendered as Qt renders HTML, reads ``text`` with its markup as plain characters."""
    doc = QTextDocument()
    doc.setHtml(rich)
    return text in doc.toPlainText() and not doc.toHtml().count("<a ")


def assert_plain_label(label: QLabel, text: str) -> None:
    assert label.textFormat() == Qt.TextFormat.PlainText, f"{label.objectName() or label} guesses rich text"
    assert text in label.text()
    assert not label.openExternalLinks()


def tooltip_shown(view, index) -> str:
    """Send the view's delegate the tooltip event a hover sends, and return what the tooltip shows."""
    event = QHelpEvent(QEvent.Type.ToolTip, QPoint(5, 5), view.viewport().mapToGlobal(QPoint(5, 5)))
    QToolTip.hideText()
    view.itemDelegate().helpEvent(event, view, QStyleOptionViewItem(), index)
    return QToolTip.text()


def select(qtbot, window, query: str, path_end: str):
    """Search ``query``, select the hit whose path ends with ``path_end``, wait for its passage."""
    with qtbot.waitSignal(window.results_shown, timeout=10000):
        qtbot.keyClicks(window.bar.box, query)
    window.results.show_weak()  # a match below the relevance floor is still a row to check
    rows = [r for r in range(window.model.rowCount())
            if (hit := window.model.hit(r)) is not None and hit.path.endswith(path_end)]
    assert rows, f"{path_end} not found for {query!r}"
    with qtbot.waitSignal(window.preview.loaded, timeout=10000):
        window.results.select_row(rows[0])
        if rows[0] == 0:  # already current: show it again so the passage loads
            window.preview.show_hit(window.model.hit(0))
    return window.model.index(rows[0], 0)


@pytest.fixture
def hostile(tmp_path: Path) -> Path:
    docs = tmp_path / "docs"
    for rel, text in HOSTILE_DOCS.items():
        (docs / rel).parent.mkdir(parents=True, exist_ok=True)
        (docs / rel).write_text(text, encoding="utf-8")
    return docs


@pytest.fixture
def window(qtbot, tmp_path, hostile):
    library = Library.open(tmp_path / "data", model=fake_model(), extract=extract)
    library.add_folder(hostile)
    library.update()
    w = MainWindow(make_context(tmp_path, lambda: library))
    qtbot.addWidget(w)
    w.show()
    qtbot.waitUntil(lambda: w.snapshot is not None)
    yield w
    w.close()


# -- issue 5: markup from documents is shown as text -------------------------------------------------
def test_a_markdown_heading_with_markup_shows_as_text_in_the_preview(qtbot, window):
    select(qtbot, window, "walrus payments", "urgent.md")
    preview = window.preview
    assert_plain_label(preview.title, MARKUP)
    assert_plain_label(preview.where, MARKUP)
    assert MARKUP in preview.text.toPlainText()
    assert "<a " not in preview.text.toHtml() and not preview.text.openExternalLinks()


def test_a_mail_subject_with_markup_shows_as_text_in_the_preview(qtbot, window):
    select(qtbot, window, "narwhal invoice", "urgent.eml")
    assert_plain_label(window.preview.title, MARKUP)
    assert_plain_label(window.preview.where, MARKUP)


def test_the_result_row_escapes_the_snippet_and_the_tooltip(qtbot, window):
    index = select(qtbot, window, "walrus payments", "urgent.md")
    hit = window.model.hit(index.row())
    snippet_html = index.data(Role.SNIPPET_HTML)
    assert "<h1" not in snippet_html and shows_literally(snippet_html, hit.snippet)
    assert index.data(Qt.ItemDataRole.DisplayRole) == MARKUP  # drawn with drawText, never parsed
    assert shows_literally(window.list.itemDelegate().tooltip_html(index), hit.path)


def test_a_file_name_with_markup_shows_as_text(qtbot, window):
    index = select(qtbot, window, "platypus enclosure", "invoice.txt")
    path = window.model.hit(index.row()).path
    assert_plain_label(window.preview.title, MARKUP_NAME.removesuffix(".txt"))  # no title: the name stands in
    assert_plain_label(window.preview.path, MARKUP_NAME)
    assert shows_literally(window.preview.path.toolTip(), path)
    assert shows_literally(tooltip_shown(window.list, index), path)  # what a hover shows


def test_a_query_with_markup_is_quoted_back_as_text(qtbot, window):
    window.bar.set_mode("keyword")  # meaning search always finds something; words alone find nothing
    with qtbot.waitSignal(window.results_shown, timeout=10000):
        qtbot.keyClicks(window.bar.box, "<b>zzzqqq</b>")
    assert_plain_label(window.list_message, "<b>zzzqqq</b>")


def test_the_error_page_escapes_the_message(qtbot, window):
    window._show_fatal(f"cannot read {MARKUP}")
    assert window.pages.currentIndex() == PAGE_ERROR
    assert shows_literally(window.error_page.text(), MARKUP)


def test_questions_and_the_about_box_quote_paths_as_text(qtbot, window, monkeypatch):
    asked: list[str] = []
    monkeypatch.setattr(QMessageBox, "question",
                        lambda *a, **k: asked.append(a[2]) or QMessageBox.StandardButton.No)
    monkeypatch.setattr(QMessageBox, "about", lambda *a, **k: asked.append(a[2]))
    window.remove_folder(f"/media/{MARKUP_NAME}")
    window.context.log_path = f"/logs/{MARKUP_NAME}"
    window.show_about()
    assert len(asked) == 2
    assert shows_literally(asked[0], f"/media/{MARKUP_NAME}")
    assert shows_literally(asked[1], f"/logs/{MARKUP_NAME}")


def test_banners_and_the_progress_line_are_plain_text(qtbot):
    banner, status = Banner(), IndexingStatus()
    qtbot.addWidget(banner)
    qtbot.addWidget(status)
    banner.show_message(f"A library folder is missing: {MARKUP}")
    status.show_busy(f"Adding {MARKUP}…")
    assert_plain_label(banner.text, MARKUP)
    assert_plain_label(status.label, MARKUP)


def test_the_library_and_problems_dialogs_show_paths_as_text(qtbot):
    root, failed = f"/media/{MARKUP_NAME}", f"/media/{MARKUP_NAME}/{MARKUP_NAME}"
    status = Status(roots=(root,), documents=1, passages=1, embedded=1,
                    failed=(Failure(failed, f"unreadable {MARKUP}"),), model=MARKUP, data_dir="/data")
    library, problems = LibraryDialog(), ProblemsDialog()
    qtbot.addWidget(library)
    qtbot.addWidget(problems)
    library.set_snapshot(LibrarySnapshot(status))
    problems.set_failures(status.failed)
    assert_plain_label(library.summary, MARKUP)
    assert library.roots.item(0).text().startswith(root)  # list items are drawn as plain text
    assert shows_literally(library.roots.itemDelegate().tooltip_html(library.roots.model().index(0, 0)), root)
    assert problems.summary.textFormat() == Qt.TextFormat.PlainText
    tooltip = problems.table.itemDelegate().tooltip_html(problems.model.index(0, 2))
    assert shows_literally(tooltip, failed) and shows_literally(tooltip, MARKUP)


def test_the_exclusions_editor_names_its_folder_as_text(qtbot, window, tmp_path):
    root = tmp_path / MARKUP_NAME
    root.mkdir()
    editor = window.edit_exclusions(str(root))
    assert shows_literally(editor.intro.text(), str(root))
    editor.close()


# -- issue 12: the exclusions editor never follows a planted symlink ---------------------------------
@pytest.fixture
def victim(tmp_path: Path) -> Path:
    path = tmp_path / "victim.txt"
    path.write_text("precious\n")
    return path


def plant_link(folder: Path, name: str, target: Path) -> Path:
    link = folder / name
    link.symlink_to(target)
    return link


def test_a_planted_temporary_name_is_not_followed(tmp_path, victim):
    folder = tmp_path / "shared"
    folder.mkdir()
    link = plant_link(folder, IGNORE_FILE + ".tmp", victim)  # the name the editor used to write first
    write_patterns(str(folder), "*.log")
    assert victim.read_text() == "precious\n"
    assert (folder / IGNORE_FILE).read_text() == "*.log\n"
    assert link.is_symlink() and sorted(p.name for p in folder.iterdir()) == [IGNORE_FILE, link.name]


def test_a_symlinked_ignore_file_is_replaced_not_written_through(tmp_path, victim):
    folder = tmp_path / "shared"
    folder.mkdir()
    plant_link(folder, IGNORE_FILE, victim)
    write_patterns(str(folder), "*.tmp\n")
    saved = folder / IGNORE_FILE
    assert victim.read_text() == "precious\n"
    assert not saved.is_symlink() and saved.read_text() == "*.tmp\n"
    assert stat.S_IMODE(saved.stat().st_mode) == 0o644  # readable as a file made by hand would be


def test_clearing_a_symlinked_ignore_file_removes_the_link_only(tmp_path, victim):
    folder = tmp_path / "shared"
    folder.mkdir()
    plant_link(folder, IGNORE_FILE, victim)
    write_patterns(str(folder), "  \n")
    assert not os.path.lexists(folder / IGNORE_FILE) and victim.read_text() == "precious\n"


def test_saving_keeps_the_mode_and_a_failed_save_leaves_nothing(tmp_path, monkeypatch):
    folder = tmp_path / "shared"
    folder.mkdir()
    (folder / IGNORE_FILE).write_text("old\n")
    os.chmod(folder / IGNORE_FILE, 0o640)
    write_patterns(str(folder), "new")
    assert stat.S_IMODE((folder / IGNORE_FILE).stat().st_mode) == 0o640

    def refuse(*_args):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(ignore_editor.os, "replace", refuse)
    with pytest.raises(PermissionError):
        write_patterns(str(folder), "newer")
    assert [p.name for p in folder.iterdir()] == [IGNORE_FILE] and (folder / IGNORE_FILE).read_text() == "new\n"


def test_the_editor_save_button_does_not_follow_a_planted_link(qtbot, window, tmp_path, victim):
    folder = tmp_path / "shared"
    folder.mkdir()
    plant_link(folder, IGNORE_FILE + ".tmp", victim)
    plant_link(folder, IGNORE_FILE, victim)
    editor = window.edit_exclusions(str(folder))
    qtbot.waitUntil(editor.editor.isEnabled)
    editor.editor.setPlainText("*.log")
    with qtbot.waitSignal(editor.saved, timeout=5000):
        editor._save()
    assert victim.read_text() == "precious\n"
    assert (folder / IGNORE_FILE).read_text() == "*.log\n" and not (folder / IGNORE_FILE).is_symlink()


def test_a_shortened_query_says_so_beside_the_result_count(qtbot, window):
    """A pasted wall of text is cut by the engine; the window shows the engine's note, as plain text."""
    with qtbot.waitSignal(window.results_shown, timeout=10000):
        window.bar.box.setText("lighthouse " * 1000)
    assert "shortened" in window.result_label.text()
    assert window.result_label.textFormat() == Qt.TextFormat.PlainText
