"""Searching from the window: results as you type, superseded searches, keyboard, preview, modes, filters."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from conftest import fake_model
from librarian.desktop._testing import make_context, write_docs
from librarian.desktop.search_worker import FIRST_PAGE, MORE_GROWTH, SearchController
from librarian.desktop.tasks import Tasks
from librarian.desktop.window import PAGE_SEARCH, MainWindow
from librarian.engine.extract import extract
from librarian.engine.library import Library
from PySide6.QtCore import QModelIndex, Qt, QThreadPool
from PySide6.QtGui import QPalette, QTextCursor


class RecordingLibrary:
    """The real library, with every search call recorded (and optionally held at a gate)."""

    def __init__(self, library: Library) -> None:
        self._library = library
        self.calls: list[tuple[str, dict]] = []
        self.hold: dict[str, threading.Event] = {}

    def search(self, query, **kwargs):
        self.calls.append((query, kwargs))
        gate = self.hold.get(query)
        if gate is not None:
            gate.wait(10)
        return self._library.search(query, **kwargs)

    def __getattr__(self, name):
        return getattr(self._library, name)


@pytest.fixture
def library(tmp_path: Path):
    docs = write_docs(tmp_path / "docs")
    lines = "\n".join(f"Line {i}: ordinary filler about nothing much." for i in range(300))
    (docs / "long.txt").write_text(lines + "\nThe zebra crossing is painted white near the school.\n" + lines)
    lib = Library.open(tmp_path / "data", model=fake_model(), extract=extract)
    lib.add_folder(docs)
    lib.update()
    yield RecordingLibrary(lib)
    lib.close()


@pytest.fixture
def window(qtbot, tmp_path, library):
    w = MainWindow(make_context(tmp_path, lambda: library))
    qtbot.addWidget(w)
    w.show()
    qtbot.waitUntil(lambda: w.snapshot is not None)
    yield w
    w.close()


def type_query(qtbot, window, text: str) -> None:
    with qtbot.waitSignal(window.results_shown, timeout=5000):
        qtbot.keyClicks(window.bar.box, text)


def test_typing_a_query_shows_the_expected_document(qtbot, window, library):
    assert window.pages.currentIndex() == PAGE_SEARCH
    started = []
    window.search.started.connect(started.append)
    type_query(qtbot, window, "tomatoes")
    assert window.model.total > 0
    assert window.model.hit(0).path.endswith("tomatoes.md")
    assert len(started) == 1, "typing fast runs one search, after the pause"
    assert [q for q, _ in library.calls] == ["tomatoes"]
    assert window.left.currentWidget() is window.list
    assert "result" in window.result_label.text()


def test_a_new_keystroke_supersedes_the_search_in_flight(qtbot, library):
    gate = threading.Event()
    library.hold["compost"] = gate
    pool = QThreadPool()
    tasks = Tasks(pool)
    controller = SearchController(tasks, delay_ms=0)
    controller.set_library(library)
    shown = []
    controller.results.connect(lambda rid, res: shown.append(res.query))
    try:
        first = controller.request("compost", immediate=True)
        qtbot.waitUntil(lambda: len(library.calls) == 1)  # in flight, held at the gate
        second = controller.request("compost tomatoes", immediate=True)
        assert second > first and controller.busy
        assert [q for q, _ in library.calls] == ["compost"], "the newer request waits instead of piling up"
        with qtbot.waitSignal(controller.results, timeout=5000) as landed:
            gate.set()
        assert landed.args[0] == second
        assert shown == ["compost tomatoes"], "the stale result was dropped"
        assert controller.dropped == 1
        assert [q for q, _ in library.calls] == ["compost", "compost tomatoes"]
    finally:
        gate.set()
        tasks.wait()


def test_clearing_the_box_clears_the_results(qtbot, window):
    type_query(qtbot, window, "compost")
    with qtbot.waitSignal(window.search.cleared):
        window.bar.box.clear()
    assert window.model.rowCount() == 0
    assert window.left.currentWidget() is window.list_message
    assert "Type to search 6 documents" in window.list_message.text()


def test_nothing_found_says_so_and_suggests_what_to_try(qtbot, window):
    window.bar.set_mode("keyword")
    type_query(qtbot, window, "xylophone")
    assert window.model.total == 0
    assert "Nothing found for “xylophone”" in window.list_message.text()
    assert "meaning" in window.list_message.text()


def test_keyboard_moves_opens_and_reveals_from_the_search_box(qtbot, window):
    actions = window.context.actions
    type_query(qtbot, window, "tomatoes compost rent")
    window.results.show_weak()  # the fake encoder's matches may fall below the floor: list them all
    window.results.select_row(0)
    assert window.model.rowCount() >= 3
    box = window.bar.box
    assert window.list.currentIndex().row() == 0
    qtbot.keyClick(box, Qt.Key.Key_Down)
    qtbot.keyClick(box, Qt.Key.Key_Down)
    assert window.list.currentIndex().row() == 2
    qtbot.keyClick(box, Qt.Key.Key_Up)
    assert window.list.currentIndex().row() == 1
    second = window.model.hit(1).path
    qtbot.keyClick(box, Qt.Key.Key_Return)
    assert actions.opened == [second]
    qtbot.keyClick(box, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert actions.revealed == [second]
    qtbot.keyClick(box, Qt.Key.Key_Up)
    qtbot.keyClick(box, Qt.Key.Key_Up)  # stays on the first row
    assert window.list.currentIndex().row() == 0
    assert box.text() == "tomatoes compost rent", "navigation keys never edit the query"


def test_list_keys_and_double_click_open_and_typing_returns_to_the_box(qtbot, window):
    actions = window.context.actions
    type_query(qtbot, window, "tomatoes compost")
    window.list.setFocus()
    qtbot.keyClick(window.list, Qt.Key.Key_Return)
    assert actions.opened == [window.model.hit(0).path]
    rect = window.list.visualRect(window.model.index(1, 0))
    # A real double-click is a press first (it selects the row), then the double-click event.
    qtbot.mouseClick(window.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert window.preview.hit == window.model.hit(1)
    qtbot.mouseDClick(window.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert actions.opened[-1] == window.model.hit(1).path
    qtbot.keyClick(window.list, Qt.Key.Key_S)
    assert window.bar.box.text().endswith("s")


def test_ctrl_l_and_ctrl_f_return_to_the_search_box(qtbot, window):
    type_query(qtbot, window, "compost")
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    for key in (Qt.Key.Key_L, Qt.Key.Key_F):
        window.list.setFocus()
        qtbot.waitUntil(window.list.hasFocus)
        qtbot.keyClick(window.list, key, Qt.KeyboardModifier.ControlModifier)
        assert window.bar.box.hasFocus()


def test_the_preview_shows_the_passage_highlighted_and_in_view(qtbot, window):
    window.resize(900, 420)  # so the passage's surroundings do not all fit
    with qtbot.waitSignal(window.preview.loaded, timeout=5000) as loaded:
        qtbot.keyClicks(window.bar.box, "zebra crossing")
    context = loaded.args[0]
    preview = window.preview
    assert preview.hit.path.endswith("long.txt")
    assert preview.title.text() == "long"
    assert "zebra crossing" in preview.text.toPlainText()
    start, end = context.passage_span
    cursor = QTextCursor(preview.text.document())
    cursor.setPosition(context.text.index("zebra") + 1)
    assert start <= context.text.index("zebra") < end
    assert cursor.charFormat().background().color().rgb() != QPalette().color(QPalette.ColorRole.Base).rgb()
    assert preview.text.verticalScrollBar().value() > 0, "scrolled down to the passage"
    assert preview.passage_visible()
    assert preview.where.text().startswith("Line ")
    preview.copy_button.click()
    assert window.context.actions.copied == [preview.hit.path]


def test_mode_switch_and_filters_reach_the_engine(qtbot, window, library):
    type_query(qtbot, window, "budget")
    assert library.calls[-1][1]["mode"] == "hybrid"
    with qtbot.waitSignal(window.results_shown):
        window.bar.set_mode("keyword")
    assert library.calls[-1][1]["mode"] == "keyword"
    assert window.settings.mode() == "keyword"
    with qtbot.waitSignal(window.results_shown):
        window.bar.kind.setCurrentIndex(window.bar.kind.findData("markdown"))
    filters = library.calls[-1][1]["filters"]
    assert filters.kinds == ("markdown",)
    assert all(window.model.hit(r).kind == "markdown" for r in range(window.model.rowCount()))
    root = window.snapshot.status.roots[0]
    with qtbot.waitSignal(window.results_shown):
        window.bar.folder.setCurrentIndex(window.bar.folder.findData(root))
    with qtbot.waitSignal(window.results_shown):
        window.bar.date.setCurrentIndex(2)  # past week
    filters = library.calls[-1][1]["filters"]
    assert filters.folder == root and filters.modified_after is not None


def test_typing_asks_for_one_page_and_scrolling_to_the_end_appends_a_wider_search(qtbot, tmp_path):
    docs = tmp_path / "many"
    for i in range(70):
        (docs / f"kayak-{i:02}.txt").parent.mkdir(parents=True, exist_ok=True)
        (docs / f"kayak-{i:02}.txt").write_text(f"Kayak trip {i}: paddles, a spray deck and note {i} of the river log.")
    lib = Library.open(tmp_path / "data", model=fake_model(), extract=extract)
    lib.add_folder(docs)
    lib.update()
    library = RecordingLibrary(lib)
    w = MainWindow(make_context(tmp_path, lambda: library))
    qtbot.addWidget(w)
    w.resize(900, 600)
    w.show()
    qtbot.waitUntil(lambda: w.snapshot is not None)
    try:
        type_query(qtbot, w, "kayak")
        assert [kw["k"] for _, kw in library.calls] == [FIRST_PAGE]
        assert w.model.total == FIRST_PAGE and w.model.more_available
        assert w.result_label.text().startswith(f"{FIRST_PAGE}+ results")
        first_rows = [w.model.hit(r).path for r in range(FIRST_PAGE)]
        with qtbot.waitSignal(w.results_shown, timeout=5000):
            w.list.scrollToBottom()  # the view asks the model for more: a wider search runs
        assert [kw["k"] for _, kw in library.calls] == [FIRST_PAGE, FIRST_PAGE * MORE_GROWTH]
        assert [w.model.hit(r).path for r in range(FIRST_PAGE)] == first_rows, "the rows shown stay in place"
        assert w.model.total == FIRST_PAGE * MORE_GROWTH
        with qtbot.waitSignal(w.results_shown, timeout=5000):
            while w.model.canFetchMore(QModelIndex()) and w.model.rowCount() < w.model.total:
                w.model.fetchMore(QModelIndex())
            w.list.scrollToBottom()
        assert w.model.total == 70 and not w.model.more_available, "the engine had no more"
        assert w.result_label.text().startswith("70 results")
        assert len({w.model.hit(r).path for r in range(w.model.rowCount())}) == 70
    finally:
        w.close()
        lib.close()


def test_a_keystroke_after_the_wider_search_was_asked_for_wins(qtbot, library):
    pool = QThreadPool()
    tasks = Tasks(pool)
    controller = SearchController(tasks, delay_ms=0)
    controller.set_library(library)
    landed, more = [], []
    controller.results.connect(lambda rid, res: landed.append(res.query))
    controller.more_results.connect(lambda rid, res: more.append(res.query))
    try:
        with qtbot.waitSignal(controller.results, timeout=5000):
            controller.request("compost", immediate=True)
        gate = threading.Event()
        library.hold["compost"] = gate
        assert controller.request_more()
        qtbot.waitUntil(lambda: len(library.calls) == 2)  # the wider search is in flight
        controller.request("tomatoes")
        assert not controller.request_more(), "nothing to widen while a newer query waits"
        with qtbot.waitSignal(controller.results, timeout=5000):
            gate.set()
        assert landed == ["compost", "tomatoes"] and more == [], "the stale wider result was dropped"
    finally:
        gate.set()
        tasks.wait()
