"""Results and previews that read well (issue 13 item 5): weaker matches behind one row, folders named
from their library folder, why a hit matched, the passage marked softly with its words in bold, the
locator on its own line, and the CLI's --all / --color."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from conftest import fake_model
from librarian.desktop.formatting import folder_in_root, heading_below_title
from librarian.desktop.preview import MEANING_TINT, PASSAGE_TINT, PreviewPane, locator_text, tint
from librarian.desktop.reflow import unwrap
from librarian.desktop.results_model import ResultsModel, Role
from librarian.desktop.results_view import ResultsView
from librarian.desktop.tasks import Tasks
from librarian.engine.cli import main
from librarian.engine.cli.search import BOLD, hit_lines, marked
from librarian.engine.extract import extract
from librarian.engine.extract.base import Locator
from librarian.engine.library import Library
from librarian.engine.results import Hit, PassageContext, SearchResult
from PySide6.QtCore import QModelIndex, Qt, QThreadPool
from PySide6.QtGui import QColor, QFont, QPalette, QTextCursor
from PySide6.QtTest import QAbstractItemModelTester
from PySide6.QtWidgets import QLineEdit


def make_hit(i: int, **kw) -> Hit:
    values = dict(document_id=i, path=f"/home/u/Documents/recipes/file{i}.txt", title=f"Title {i}", kind="text",
                  modified=0.0, score=1.0 / (i + 1), passage_id=100 + i, passage=0,
                  snippet="feed the sourdough starter", highlights=((9, 18),), locator=Locator(line=3),
                  matched="both", other_passages=0, words=("sourdough",), similarity=0.71,
                  root="/home/u/Documents")
    values.update(kw)
    return Hit(**values)


def result(strong: int, weak: int, query: str = "sourdough") -> SearchResult:
    hits = [make_hit(i) for i in range(strong)] + [make_hit(strong + i, weak=True) for i in range(weak)]
    return SearchResult(query=query, mode="hybrid", took_ms=2.0, hits=tuple(hits))


@pytest.fixture
def model(qapp):
    m = ResultsModel(batch_size=4)
    QAbstractItemModelTester(m, QAbstractItemModelTester.FailureReportingMode.Fatal)
    return m


# ----------------------------------------------------------------------------------- result rows

def test_weaker_matches_wait_behind_one_row(model):
    model.set_result(result(2, 3))
    assert model.rowCount() == 3 and model.total == 5 and model.hidden == 3
    assert [model.hit(r).title for r in range(2)] == ["Title 0", "Title 1"]
    toggle = model.index(2, 0)
    assert model.hit(2) is None and model.toggle_row() == 2
    assert toggle.data(Role.TOGGLE) == toggle.data() == "Show 3 weaker matches"  # the whole row is the link
    model.show_weak()
    assert model.rowCount() == 5 and model.toggle_row() is None and model.hidden == 0
    assert model.hit(2).weak and model.index(2, 0).data(Role.WEAK) is True
    assert model.index(2, 0).data(Role.TOGGLE) is None


def test_the_toggle_row_comes_after_the_last_batch_of_strong_hits(model):
    model.set_result(result(6, 1))
    assert model.rowCount() == 4 and model.toggle_row() is None  # strong hits still to load
    model.fetchMore(QModelIndex())
    assert model.rowCount() == 7 and model.toggle_row() == 6


def test_no_strong_hits_says_so_on_the_toggle_row(model):
    model.set_result(result(0, 1, query=" zanzibar helicopter "))
    assert model.rowCount() == 1
    assert model.index(0, 0).data() == "No close matches for “zanzibar helicopter”. Show 1 weaker match"
    assert model.index(0, 0).data(Role.TOGGLE) == "Show 1 weaker match"  # the part drawn as a link


def test_rows_name_the_folder_from_the_library_folder_and_say_why(model):
    model.set_result(SearchResult("q", "hybrid", 1.0, (
        make_hit(0), make_hit(1, root="", path="/elsewhere/x.txt"), make_hit(2, words=(), similarity=None,
                                                                             matched="words"))))
    first = model.index(0, 0)
    assert first.data(Role.FOLDER) == "Documents/recipes"
    assert first.data(Qt.ItemDataRole.ToolTipRole) == "/home/u/Documents/recipes/file0.txt"  # the full path
    assert first.data(Role.WHY) == "meaning 0.71 · words: sourdough"
    assert model.index(1, 0).data(Role.FOLDER) == "/elsewhere"  # a record without a root: the whole folder
    assert model.index(2, 0).data(Role.WHY) == "words"


@pytest.mark.parametrize(("path", "root", "expected"), [
    ("/home/u/Documents/loaf.txt", "/home/u/Documents", "Documents"),
    ("/home/u/Documents/a/b/loaf.txt", "/home/u/Documents/", "Documents/a/b"),
    ("/srv/x/loaf.txt", "/home/u/Documents", "/srv/x"),  # not under it: the folder as it is
])
def test_folder_in_root(path, root, expected):
    assert folder_in_root(path, root) == expected


def test_the_toggle_row_opens_by_keyboard_and_by_click(qtbot):
    box = QLineEdit()
    view = ResultsView(box)
    qtbot.addWidget(view)
    view.show()
    view.show_result(result(1, 2))
    view.navigate(Qt.Key.Key_Down)
    assert view.on_toggle() and view.current_hit() is None
    with qtbot.waitSignal(view.weak_shown):
        qtbot.keyClick(view.list, Qt.Key.Key_Return)
    assert view.model.rowCount() == 3 and view.current_hit().weak  # the first weaker match, selected
    view.show_result(result(0, 2, query="other"))
    assert view.on_toggle()  # nothing strong: the toggle row is where the keyboard starts
    rect = view.list.visualRect(view.model.index(0, 0))
    with qtbot.waitSignal(view.weak_shown):
        qtbot.mouseClick(view.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert view.model.rowCount() == 2


def test_the_toggle_row_is_drawn_one_line_high(qtbot):
    view = ResultsView(QLineEdit())
    qtbot.addWidget(view)
    view.show_result(result(1, 2))
    hit_row, toggle_row = (view.list.sizeHintForRow(r) for r in (0, 1))
    assert 0 < toggle_row < hit_row / 2


# ----------------------------------------------------------------------------------------- preview

MARKUP = "<b>not bold</b> <a href='x'>link</a>"


def _context(text: str, **kw) -> PassageContext:
    values = dict(path="/d/notes.txt", title="Notes", kind="text", locator=Locator(heading="Bread › Starter"),
                  text=text, passage_span=(0, len(text)))
    values.update(kw)
    return PassageContext(**values)


def _format_at(pane: PreviewPane, position: int):
    cursor = QTextCursor(pane.text.document())
    cursor.setPosition(position + 1)
    return cursor.charFormat()


def test_the_passage_is_tinted_its_words_bold_and_its_closest_sentence_tinted_more(qtbot):
    pane = PreviewPane(Tasks(QThreadPool.globalInstance()))
    qtbot.addWidget(pane)
    text = f"Before. Feed the sourdough starter. Keep it warm. {MARKUP} After."
    passage = (text.index("Feed"), text.index(" After."))
    context = _context(text, passage_span=passage, word_spans=((text.index("sourdough"), text.index(" starter")),),
                       meaning_span=(text.index("Keep"), text.index(" <b>")))
    pane.show_context(context)
    palette = pane.palette()
    base, accent = palette.color(QPalette.ColorRole.Base), palette.color(QPalette.ColorRole.Highlight)
    soft, stronger = tint(base, accent, PASSAGE_TINT), tint(base, accent, MEANING_TINT)
    assert _format_at(pane, text.index("Feed")).background().color() == soft
    assert _format_at(pane, text.index("Feed")).fontWeight() != QFont.Weight.Bold
    assert _format_at(pane, text.index("sourdough")).fontWeight() == QFont.Weight.Bold
    assert _format_at(pane, text.index("Keep")).background().color() == stronger
    assert _format_at(pane, text.index("Before")).background().style() == Qt.BrushStyle.NoBrush
    assert soft != accent and soft.alpha() == 255  # a tint of the page, not a see-through selection
    # Plain text: the document's markup shows as written and makes no link or bold.
    assert pane.text.toPlainText() == text
    assert _format_at(pane, text.index("not bold")).fontWeight() != QFont.Weight.Bold
    assert not _format_at(pane, text.index("link")).isAnchor()


@pytest.mark.parametrize("dark", [False, True])
def test_the_tints_read_in_light_and_dark_palettes(qtbot, dark):
    base = QColor(30, 30, 30) if dark else QColor(255, 255, 255)
    soft = tint(base, QColor(48, 140, 198), PASSAGE_TINT)
    assert abs(soft.lightness() - base.lightness()) < 40  # close to the page: text stays readable


def test_the_locator_has_its_own_line_above_the_buttons(qtbot):
    pane = PreviewPane(Tasks(QThreadPool.globalInstance()))
    qtbot.addWidget(pane)
    pane.resize(420, 500)
    pane.show()
    pane.show_hit(make_hit(0, locator=Locator(page=3, heading="A long section name › and a longer subsection")))
    qtbot.waitUntil(lambda: pane.where.isVisible())
    where, button = pane.where.geometry(), pane.open_button.geometry()
    assert pane.where.text() == "Page 3 · A long section name › and a longer subsection"
    assert where.bottom() <= button.top()  # not squeezed beside the buttons
    assert where.width() > pane.width() * 0.8


def test_prose_paragraphs_get_a_gap_and_code_lines_none(qtbot):
    pane = PreviewPane(Tasks(QThreadPool.globalInstance()))
    qtbot.addWidget(pane)
    pane.show_context(_context("First paragraph.\nSecond paragraph.", kind="pdf"))
    assert pane.text.document().firstBlock().blockFormat().bottomMargin() > 0
    pane.show_context(_context("x = 1\ny = 2", kind="code"))
    assert pane.text.document().firstBlock().blockFormat().bottomMargin() == 0


@pytest.fixture
def library(tmp_path: Path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "loaf.txt").write_text("Country loaf\n\nFeed the sourdough starter the evening before baking.\n")
    (docs / "car.txt").write_text("Fast cars\n\nA fast automobile on the motorway.\n")
    lib = Library.open(tmp_path / "data", model=fake_model(), extract=extract)
    lib.add_folder(docs)
    lib.update()
    yield lib
    lib.close()


def test_the_preview_asks_for_the_query_words(qtbot, library):
    pane = PreviewPane(Tasks(QThreadPool.globalInstance()))
    qtbot.addWidget(pane)
    pane.set_library(library)
    hit = library.search("sourdough starter", k=5, mode="keyword").hits[0]
    with qtbot.waitSignal(pane.loaded, timeout=5000) as loaded:
        pane.show_hit(hit, query="sourdough starter")
    context = loaded.args[0]
    assert [context.text[s:e].lower() for s, e in context.word_spans] == ["sourdough", "starter"]
    assert _format_at(pane, context.word_spans[0][0]).fontWeight() == QFont.Weight.Bold


# --------------------------------------------------------------------------------------------- CLI

def test_cli_hit_lines_say_why_and_bold_the_matched_words_only_with_color():
    hit = make_hit(0)
    plain = hit_lines(1, hit, color=False)
    assert plain[2] == "   meaning 0.71 · words: sourdough"
    assert BOLD not in "".join(plain)
    coloured = hit_lines(1, hit, color=True)
    assert f"{BOLD}sourdough" in coloured[3] and f"{BOLD}Title 0" in coloured[0]
    assert marked("a b a", ((0, 1), (0, 1), (4, 5)), color=True).count(BOLD) == 2


def test_cli_hit_lines_name_the_files_folded_into_the_hit():
    lines = hit_lines(1, make_hit(0, duplicates=("/a/v2/README.md",)), color=False)
    assert lines[2] == "   also in: /a/v2/README.md" and lines[3] == "   meaning 0.71 · words: sourdough"
    many = hit_lines(1, make_hit(0, duplicates=tuple(f"/a/v{i}/README.md" for i in range(5))), color=False)
    assert many[2] == "   also in: /a/v0/README.md, /a/v1/README.md, /a/v2/README.md (+2 more)"
    assert not any("also in" in line for line in hit_lines(1, make_hit(0), color=False))


def _weak_after_first(monkeypatch):
    search = Library.search

    def marked_search(self, *args, **kwargs):
        found = search(self, *args, **kwargs)
        hits = tuple(dataclasses.replace(h, weak=i > 0) for i, h in enumerate(found.hits))
        return dataclasses.replace(found, hits=hits)

    monkeypatch.setattr(Library, "search", marked_search)


def test_cli_lists_strong_hits_and_says_how_many_weaker_are_hidden(library, capsys, monkeypatch, tmp_path):
    _weak_after_first(monkeypatch)
    library.close()
    argv = ["--data-dir", str(tmp_path / "data"), "search", "fast sourdough", "--mode", "keyword"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "1. " in out and "2. " not in out
    assert out.rstrip().endswith("1 weaker match hidden: --all shows them")
    assert BOLD not in out  # not a terminal: no escape codes
    assert main([*argv, "--all", "--color", "always"]) == 0
    out = capsys.readouterr().out
    assert "2. " in out and "(weaker match)" in out and "hidden" not in out and BOLD in out
    assert "   words: " in out
    assert main([*argv, "--json"]) == 0
    hits = __import__("json").loads(capsys.readouterr().out)
    assert [h["weak"] for h in hits] == [False, True]  # JSON holds every hit, flagged


def test_heading_paths_leave_out_the_title_shown_above_them(model):
    model.set_result(SearchResult("q", "hybrid", 1.0, (
        make_hit(0, title="Guide", locator=Locator(page=2, heading="Guide › Install")),
        make_hit(1, title="Guide", locator=Locator(heading="Guide")),
        make_hit(2, title="Guide", locator=Locator(heading="Guidelines › Install")))))
    assert [model.index(r, 0).data(Role.LOCATOR) for r in range(3)] == ["page 2 · Install", "", "Guidelines › Install"]
    assert heading_below_title("Guide › Install", "Guide") == "Install"
    assert locator_text(Locator(page=2, heading="Guide › Install"), "Guide") == "Page 2 · Install"
    assert locator_text(Locator(line=4, heading="Guide"), "Guide") == "Guide"  # the section it shows


class WeakAfterFirst:
    """The real library, whose results mark every hit after the first as below the floor."""

    def __init__(self, library: Library) -> None:
        self._library = library

    def search(self, query, **kwargs):
        found = self._library.search(query, **kwargs)
        hits = tuple(dataclasses.replace(h, weak=i > 0) for i, h in enumerate(found.hits))
        return dataclasses.replace(found, hits=hits)

    def __getattr__(self, name):
        return getattr(self._library, name)


def test_the_window_counts_strong_results_and_enter_in_the_box_shows_the_weaker(qtbot, tmp_path, library):
    from librarian.desktop._testing import make_context
    from librarian.desktop.window import MainWindow

    window = MainWindow(make_context(tmp_path, lambda: WeakAfterFirst(library)))
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.snapshot is not None)
    with qtbot.waitSignal(window.results_shown, timeout=5000):
        qtbot.keyClicks(window.bar.box, "fast sourdough")
    assert window.result_label.text().startswith("1 result (+1 weaker) · ")
    qtbot.keyClick(window.bar.box, Qt.Key.Key_Down)
    assert window.results.on_toggle()
    with qtbot.waitSignal(window.results.weak_shown):
        qtbot.keyClick(window.bar.box, Qt.Key.Key_Return)
    assert window.current_hit().weak and window.context.actions.opened == []  # shown, not opened
    assert window.result_label.text().startswith("1 result (+1 weaker) · ")
    window.close()


WRAPPED = (
    "METHOD\n"
    "1. Autolyse. Mixing only flour and water and letting them rest gives the gluten a head start,\n"
    "   so the dough needs far less work later.\n"
    "2. Bake. Turn the dough out onto baking paper, score one confident slash about 1 cm deep at a\n"
    "   shallow angle and lower it into the hot Dutch oven. Bake 20 minutes with the lid on, so the\n"
    "   trapped steam keeps the crust soft.\n"
    "\n"
    "Maya Brandt\n"
    "Kastanienallee 14\n"
)


def test_hand_wrapped_paragraphs_are_unwrapped_and_spans_follow():
    shown, where = unwrap(WRAPPED)
    assert shown.split("\n") == [
        "METHOD",
        "1. Autolyse. Mixing only flour and water and letting them rest gives the gluten a head start,"
        " so the dough needs far less work later.",
        "2. Bake. Turn the dough out onto baking paper, score one confident slash about 1 cm deep at a"
        " shallow angle and lower it into the hot Dutch oven. Bake 20 minutes with the lid on, so the"
        " trapped steam keeps the crust soft.",
        "", "Maya Brandt", "Kastanienallee 14", ""]
    for word in ("shallow", "trapped", "Maya", "head start"):
        start = WRAPPED.index(word)
        assert shown[where[start]: where[start + len(word)]] == word
    assert where[len(WRAPPED)] == len(shown)


def test_short_lines_keep_their_breaks():
    log = "\n".join(f"Line {i}: ordinary filler about nothing much." for i in range(10))
    assert unwrap(log)[0] == log


def test_the_preview_unwraps_a_note_and_still_marks_its_words(qtbot):
    pane = PreviewPane(Tasks(QThreadPool.globalInstance()))
    qtbot.addWidget(pane)
    start = WRAPPED.index("shallow")
    pane.show_context(_context(WRAPPED, word_spans=((start, start + len("shallow")),)))
    shown = pane.text.toPlainText()
    assert "deep at a shallow angle" in shown
    assert _format_at(pane, shown.index("shallow")).fontWeight() == QFont.Weight.Bold
    pane.show_context(_context(WRAPPED, kind="code"))
    assert pane.text.toPlainText() == WRAPPED  # code keeps every line
