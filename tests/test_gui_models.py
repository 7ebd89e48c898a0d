"""The desktop's item models and text helpers, tested without any widget."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import pytest
from librarian.desktop.formatting import duration_text, folder_of, highlighted_html, modified_text
from librarian.desktop.ignore_editor import PreviewResult, preview_text
from librarian.desktop.library_panel import LibrarySnapshot, root_state
from librarian.desktop.problems import ProblemsModel
from librarian.desktop.progress import progress_fraction, progress_text
from librarian.desktop.results_model import ResultsModel, Role
from librarian.desktop.results_view import message_text
from librarian.engine.extract.base import Locator
from librarian.engine.results import Failure, Hit, Progress, SearchResult, Status
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtTest import QAbstractItemModelTester


def make_hit(i: int, **kw) -> Hit:
    values = dict(document_id=i, path=f"/docs/folder/file{i}.pdf", title=f"Title {i}", kind="pdf",
                  modified=0.0, score=1.0 / (i + 1), passage_id=100 + i, passage=0,
                  snippet="tomatoes need sun", highlights=((0, 8),), locator=Locator(page=3),
                  matched="both", other_passages=0)
    values.update(kw)
    return Hit(**values)


def result(n: int, query: str = "tomatoes") -> SearchResult:
    return SearchResult(query=query, mode="hybrid", took_ms=1.5, hits=tuple(make_hit(i) for i in range(n)))


@pytest.fixture
def model(qapp):
    m = ResultsModel(batch_size=20)
    QAbstractItemModelTester(m, QAbstractItemModelTester.FailureReportingMode.Fatal)
    return m


def test_rows_arrive_in_batches_as_the_view_asks(model, qtbot):
    model.set_result(result(45))
    assert model.total == 45
    assert model.rowCount() == 20
    assert model.canFetchMore(QModelIndex())
    with qtbot.waitSignal(model.rowsInserted) as inserted:
        model.fetchMore(QModelIndex())
    assert inserted.args[1:] == [20, 39]
    model.fetchMore(QModelIndex())
    assert model.rowCount() == 45
    assert not model.canFetchMore(QModelIndex())
    model.fetchMore(QModelIndex())  # nothing left: a no-op
    assert model.rowCount() == 45


def test_a_new_result_resets_the_model(model, qtbot):
    model.set_result(result(45))
    model.fetchMore(QModelIndex())
    with qtbot.waitSignals([model.modelAboutToBeReset, model.modelReset]):
        model.set_result(result(3, "compost"))
    assert model.rowCount() == 3 and model.query == "compost"
    model.clear()
    assert model.rowCount() == 0 and model.hit(0) is None


def test_roles_give_what_the_delegate_paints(model):
    model.set_result(SearchResult("sun", "hybrid", 1.0, (
        make_hit(0, other_passages=2, duplicates=("/copy.pdf",), snippet="a <b> & sun", highlights=((8, 11),)),)))
    index = model.index(0, 0)
    assert index.data(Qt.ItemDataRole.DisplayRole) == "Title 0"
    assert index.data(Qt.ItemDataRole.ToolTipRole) == "/docs/folder/file0.pdf\nAlso in:\n/copy.pdf"
    assert index.data(Role.FILE_NAME) == "file0.pdf"
    assert index.data(Role.FOLDER) == "/docs/folder"
    assert index.data(Role.KIND) == "pdf"
    assert index.data(Role.SNIPPET_HTML) == "a &lt;b&gt; &amp; <b>sun</b>"
    assert index.data(Role.LOCATOR) == "page 3"
    assert index.data(Role.MATCHED) == "matched words and meaning"
    assert index.data(Role.MORE) == "+2 more passages in this file · also in 1 other file"
    assert isinstance(index.data(Role.HIT), Hit)
    assert model.data(model.index(5, 0)) is None


def test_a_hit_names_the_files_folded_into_it(model):
    """Copies (the same or nearly the same text) are folded into one hit: the row says how many, the
    tooltip which ones."""
    copies = tuple(f"/docs/v{i}/README.md" for i in range(7))
    model.set_result(SearchResult("sun", "hybrid", 1.0, (make_hit(0, duplicates=copies), make_hit(1))))
    first, second = model.index(0, 0), model.index(1, 0)
    assert first.data(Role.MORE) == "also in 7 other files"
    assert first.data(Qt.ItemDataRole.ToolTipRole).splitlines() == [
        "/docs/folder/file0.pdf", "Also in:", *copies[:5], "and 2 more"]
    assert second.data(Role.MORE) == "" and second.data(Qt.ItemDataRole.ToolTipRole) == "/docs/folder/file1.pdf"


def test_title_falls_back_to_the_file_name(model):
    model.set_result(SearchResult("x", "hybrid", 1.0, (make_hit(0, title=""),)))
    assert model.index(0, 0).data() == "file0.pdf"


def test_highlights_merge_and_escape():
    assert highlighted_html("one two three", ((4, 7), (0, 3))) == "<b>one</b> <b>two</b> three"
    assert highlighted_html("abcdef", ((1, 4), (2, 5))) == "a<b>bcde</b>f"
    assert highlighted_html("x<y", ((5, 9), (2, 2))) == "x&lt;y"  # out of range or empty spans are ignored


def test_dates_paths_and_durations_read_naturally():
    now = datetime(2024, 6, 20, 15, 0)
    assert modified_text(datetime(2024, 6, 20, 9, 5).timestamp(), now=now) == "today 09:05"
    assert modified_text(datetime(2024, 6, 19, 9, 5).timestamp(), now=now) == "yesterday"
    assert modified_text(datetime(2024, 3, 2).timestamp(), now=now) == "2 Mar"
    assert modified_text(datetime(2021, 3, 2).timestamp(), now=now) == "2 Mar 2021"
    assert modified_text(0) == ""
    assert folder_of("/home/ana/docs/a.txt", home="/home/ana") == "~/docs"
    assert folder_of("/srv/a.txt", home="/home/ana") == "/srv"
    assert duration_text(None) == ""
    assert duration_text(30) == "less than a minute"
    assert duration_text(600) == "about 10 min"
    assert duration_text(3 * 3600 + 120) == "about 3 h 02 min"


def test_progress_reads_as_a_sentence():
    scanning = Progress(phase="scanning", files_seen=120)
    assert progress_text(scanning) == "Looking for files… 120 files found"
    assert progress_fraction(scanning) == (0, 0)
    reading = Progress(phase="indexing", files_total=40, files_done=12, passages=300, embedded=120,
                       to_embed=300, files_failed=1, eta_s=90, library_passages=400, library_embedded=136)
    assert progress_text(reading) == ("Reading files: 12 of 40 · words: ready · meaning: 34% · "
                                      "1 problem · about 2 min left")
    assert progress_fraction(reading) == (12, 40)
    # Paused: the estimate is not shown (nothing counts down).
    assert progress_text(reading, paused=True).endswith("· 1 problem")
    assert "left" not in progress_text(replace(reading, paused=True))
    embedding = Progress(phase="embedding", embedded=50, to_embed=200, library_passages=1000, library_embedded=850)
    assert progress_text(embedding) == ("Understanding meaning: words: ready · meaning: 85% "
                                        "(850 of 1,000 passages)")
    assert progress_fraction(embedding) == (50, 200)
    # 99.9% is not "ready": rounded down, ready only when every passage has its vector.
    assert "meaning: 99%" in progress_text(replace(embedding, library_embedded=999))
    assert progress_text(Progress(phase="done")) == "Up to date"


def test_problems_model_lists_failures_sorted(qapp):
    model = ProblemsModel()
    QAbstractItemModelTester(model, QAbstractItemModelTester.FailureReportingMode.Fatal)
    model.set_failures((Failure("/d/z.pdf", "encrypted"), Failure("/d/a.docx", "not a valid DOCX")))
    assert model.rowCount() == 2 and model.columnCount() == 3
    assert [model.index(0, c).data() for c in range(3)] == ["a.docx", "/d", "not a valid DOCX"]
    assert model.index(1, 0).data(Qt.ItemDataRole.UserRole) == "/d/z.pdf"
    assert model.headerData(2, Qt.Orientation.Horizontal) == "Problem"


def test_root_state_counts_its_own_failures_only():
    status = Status(roots=("/a", "/ab"), documents=3, passages=9, embedded=9,
                    failed=(Failure("/a/x.pdf", "bad"), Failure("/ab/y.pdf", "bad")), model="m", data_dir="/d")
    snapshot = LibrarySnapshot(status, frozenset({"/gone"}))
    assert root_state("/a", snapshot) == "Words: ready · meaning: ready · 1 file could not be read"
    assert root_state("/gone", snapshot).startswith("Missing")


def test_preview_text_summarises_what_would_be_indexed():
    text = preview_text(PreviewResult(files=30, bytes=2048, excluded=4, sample=("a.md", "b/c.txt")))
    assert text.splitlines()[0] == "Would index 30 files (2.0 KB); these patterns leave out 4 more."
    assert "  b/c.txt" in text and text.endswith("… and 28 more")


def test_the_empty_list_says_why_and_what_to_try():
    status = Status(roots=("/a",), documents=12, passages=40, embedded=40, failed=(), model="m", data_dir="/d")
    assert message_text("", None, indexing=False, filtered=False, words_only=False) == "Type to search."
    assert message_text("", status, indexing=False, filtered=False, words_only=False).startswith(
        "Type to search 12 documents.")
    empty = Status(roots=("/a",), documents=0, passages=0, embedded=0, failed=(), model="m", data_dir="/d")
    assert message_text("", empty, indexing=True, filtered=False, words_only=False).startswith("Reading your files")
    text = message_text(" zebra ", status, indexing=True, filtered=True, words_only=True)
    assert text.startswith("Nothing found for “zebra”.")
    assert "clear the filters, or search by meaning as well as words, or wait for indexing" in text


def test_the_engine_is_asked_for_more_once_every_row_is_shown(model, qtbot):
    model.set_result(result(20), more=True)
    assert model.rowCount() == 20
    assert model.canFetchMore(QModelIndex()), "scrolled to the end: a wider search may find more"
    with qtbot.waitSignal(model.more_wanted):
        model.fetchMore(QModelIndex())
    assert not model.canFetchMore(QModelIndex()), "asked once until the wider result arrives"
    with qtbot.assertNotEmitted(model.more_wanted):
        model.fetchMore(QModelIndex())


def test_a_wider_result_appends_only_new_documents_and_keeps_the_rows_shown(model):
    model.set_result(result(20), more=True)
    shown = [model.hit(r).path for r in range(20)]
    wider = SearchResult(query="tomatoes", mode="hybrid", took_ms=2.0,
                         hits=tuple(make_hit(i) for i in (3, 0, *range(20, 40), 7)))  # reordered, plus 20 new
    assert model.extend(wider, more=False) == 20
    assert [model.hit(r).path for r in range(20)] == shown
    assert model.total == 40 and model.rowCount() == 40
    assert model.hit(20).path.endswith("file20.pdf")
    assert not model.canFetchMore(QModelIndex()), "the engine had no more"


def test_no_wider_search_behind_the_weaker_matches_row_until_they_are_shown(model, qtbot):
    hits = tuple(make_hit(i, weak=i >= 15) for i in range(20))
    model.set_result(SearchResult(query="tomatoes", mode="hybrid", took_ms=1.0, hits=hits), more=True)
    assert model.toggle_row() == 15
    assert not model.canFetchMore(QModelIndex()), "a wider search would only add weaker matches"
    model.show_weak()
    assert model.rowCount() == 20
    with qtbot.waitSignal(model.more_wanted):
        model.fetchMore(QModelIndex())
    more = SearchResult(query="tomatoes", mode="hybrid", took_ms=1.0,
                        hits=hits + tuple(make_hit(i, weak=True) for i in range(20, 25)))
    model.extend(more, more=False)
    assert model.rowCount() == 25 and model.toggle_row() is None, "weaker matches shown: new ones are rows at once"


def test_new_strong_documents_go_before_the_weaker_matches_row(model):
    hits = tuple(make_hit(i, weak=i >= 18) for i in range(20))
    model.set_result(SearchResult(query="tomatoes", mode="hybrid", took_ms=1.0, hits=hits), more=True)
    wider = SearchResult(query="tomatoes", mode="hybrid", took_ms=1.0, hits=hits + (make_hit(30), make_hit(31, weak=True)))
    model.extend(wider, more=False)
    while model.canFetchMore(QModelIndex()):
        model.fetchMore(QModelIndex())
    assert model.toggle_row() == 19
    assert model.hit(18).path.endswith("file30.pdf")
    assert model.hidden == 3
