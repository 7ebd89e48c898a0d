"""Hostile files at extraction (issue 10): what is not a regular file is refused without blocking,
every zip read is checked for bombs, and one file's output (passages, labels, memory) is bounded.

To add a probe: build the file in ``tmp_path`` with a helper below or ``fixtures.make_files``, then
``_reason(path)`` for a refusal or ``_chunked(path)`` for what the index would store.
"""

from __future__ import annotations

import os
import re
import threading
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from fixtures.make_files import make_docx, make_epub, make_pdf, make_zip_bomb
from librarian.engine import chunk as chunk_module
from librarian.engine.chunk import Chunked, chunk_document, word_offsets
from librarian.engine.errors import ExtractionError
from librarian.engine.extract import _common, extract
from librarian.engine.extract.base import Extracted, Locator, Segment
from librarian.engine.extract.isolate import ExtractionWorkers

posix_only = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
DEADLINE_S = 30.0  # generous: a refusal takes milliseconds, a blocked open() takes forever

CHAPTER = ("One", "<h1>One</h1><p>The lighthouse keeper counted the ships every night.</p>")


# ------------------------------------------------------------------------------------------ helpers


def _reason(path: Path) -> str:
    with pytest.raises(ExtractionError) as info:
        extract(path)
    return info.value.reason


def _chunked(path: Path, *, target: int = 160) -> Chunked:
    return chunk_document(extract(path), word_offsets, target=target)


def _within_deadline(path: Path, call: Callable[[Path], object]) -> BaseException | object:
    """Run ``call(path)`` in a thread; returns its result or exception. If it is still blocked after
    the deadline (an open() waiting for a FIFO writer), the FIFO is opened for writing to free it
    and the test fails, rather than hanging the suite."""
    outcome: list[object] = []

    def run() -> None:
        try:
            outcome.append(call(path))
        except BaseException as exc:  # reported to the test thread
            outcome.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(DEADLINE_S)
    if thread.is_alive():
        fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)  # the blocked reader's open() returns
        os.close(fd)
        thread.join(DEADLINE_S)
        pytest.fail(f"extracting {path.name} blocked on a FIFO")
    return outcome[0]


def _fifo(tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    os.mkfifo(path)
    return path


def _rewrite_member(path: Path, name: str, change: Callable[[str], str]) -> Path:
    """Rewrite one text member of a zip in place (mimetype first and stored, as EPUB wants)."""
    with zipfile.ZipFile(path) as zf:
        members = {info.filename: zf.read(info) for info in zf.infolist()}
    members[name] = change(members[name].decode()).encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        if "mimetype" in members:
            zf.writestr(zipfile.ZipInfo("mimetype"), members.pop("mimetype"))
        for member, data in members.items():
            zf.writestr(member, data)
    return path


OPF = "OEBPS/content.opf"


# --------------------------------------------------------------------- not a regular file: refused

FIFO_NAMES = ["notes.txt", "page.html", "doc.md", "main.py", "mail.eml", "box.mbox", "text.rtf",
              "paper.pdf", "report.docx", "book.epub", "deck.pptx", "letter.odt", "README"]


@posix_only
@pytest.mark.parametrize("name", FIFO_NAMES)
def test_fifo_is_refused_in_process_without_blocking(tmp_path, name):
    fifo = _fifo(tmp_path, name)
    outcome = _within_deadline(fifo, extract)
    assert isinstance(outcome, ExtractionError), outcome
    assert "FIFO" in outcome.reason and outcome.path == str(fifo)


@posix_only
def test_fifo_is_refused_by_the_isolated_workers_without_a_timeout(tmp_path):
    fifos = [_fifo(tmp_path, name) for name in ("notes.txt", "paper.pdf", "book.epub")]
    # A worker blocked in open() would be killed at the time limit and say "timed out".
    with ExtractionWorkers(processes=1, timeout_s=DEADLINE_S) as workers:
        for fifo in fifos:
            outcome = _within_deadline(fifo, workers.extract)
            assert isinstance(outcome, ExtractionError), outcome
            assert "FIFO" in outcome.reason, outcome.reason
        good = tmp_path / "good.txt"
        good.write_text("the pool still works\n")
        assert workers.extract(good).segments[0].text == "the pool still works"


@posix_only
def test_device_behind_a_symlink_is_refused(tmp_path):
    link = tmp_path / "zeros.txt"
    link.symlink_to("/dev/zero")
    assert _reason(link) == "a device, not a file"


# ------------------------------------------------------------------------------ zip bombs, sniffed


@pytest.mark.parametrize(("name", "kind"), [("bomb.pdf", "docx"), ("bomb.docx", "epub"), ("bomb.rtf", "odt")])
def test_zip_bomb_under_another_name_is_caught(tmp_path, name, kind):
    path = make_zip_bomb(tmp_path / name, kind, inflated_bytes=600 * 2**20)
    assert _reason(path).startswith("zip bomb")


def test_zip_bomb_in_the_sniffed_mimetype_member_is_caught(tmp_path):
    # Type sniffing reads "mimetype"; it used to inflate the whole member before the bomb check.
    path = tmp_path / "disguised.pdf"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf, \
            zf.open("mimetype", "w", force_zip64=True) as member:
        for _ in range(600):
            member.write(bytes(2**20))
    assert _reason(path).startswith("zip bomb")


def test_renamed_office_files_are_still_read(tmp_path):
    docx = make_docx(tmp_path / "report.docx")
    renamed = docx.rename(tmp_path / "report.pdf")
    assert extract(renamed).kind == "docx"
    book = make_epub(tmp_path / "book.epub", [CHAPTER]).rename(tmp_path / "book.docx")
    assert extract(book).kind == "epub"


# ---------------------------------------------------------------------------------------- EPUB spine


def test_epub_without_a_spine_fails_with_a_clear_reason(tmp_path):
    book = make_epub(tmp_path / "book.epub", [CHAPTER])
    _rewrite_member(book, OPF, lambda opf: re.sub(r"<spine[^>]*>.*</spine>", "", opf))
    assert _reason(book) == "EPUB has no reading order (spine)"


def test_epub_spine_without_chapters_fails_with_a_clear_reason(tmp_path):
    book = make_epub(tmp_path / "book.epub", [CHAPTER])
    # The spine's only entry now names a stylesheet.
    _rewrite_member(book, OPF, lambda opf: opf.replace('idref="ch1"', 'idref="nav"').replace(
        'media-type="application/xhtml+xml" properties="nav"', 'media-type="text/css"').replace(
        'href="nav.xhtml"', 'href="style.css"'))
    assert "spine" in _reason(book)


def test_repeated_spine_entry_is_read_once(tmp_path):
    book = make_epub(tmp_path / "book.epub", [CHAPTER])
    once = extract(book).segments
    repeat = '<itemref idref="ch1"/>' * 1250
    fragments = "".join(f'<item id="again{i}" href="text/ch1.xhtml#p{i}" media-type="application/xhtml+xml"/>'
                        for i in range(50))
    again = "".join(f'<itemref idref="again{i}"/>' for i in range(50))
    _rewrite_member(book, OPF, lambda opf: opf.replace('<itemref idref="ch1"/>', repeat + again)
                    .replace("</manifest>", fragments + "</manifest>"))
    assert extract(book).segments == once
    assert len(_chunked(book).chunks) == 1


# ------------------------------------------------------------------------------- bounded passages


def test_empty_pdf_pages_make_no_passages(tmp_path):
    pdf = make_pdf(tmp_path / "blank.pdf", [""] * 3000 + ["the only words"] + [""] * 2000)
    result = _chunked(pdf)
    assert [c.locator.page for c in result.chunks] == [3001] and result.notes == ()


def test_many_near_empty_pages_are_merged_and_noted(tmp_path):
    pdf = make_pdf(tmp_path / "numbers.pdf", [str(n) for n in range(1, 5001)])
    result = _chunked(pdf)
    assert len(result.chunks) <= 2 * 5000 // 160 + 1  # every passage but the last at least half full
    assert result.chunks[0].locator.page == 1
    assert result.notes == (f"many near-empty pages or sections: merged into {len(result.chunks):,} passages "
                            "instead of 5,000",)
    words = {result.text[c.start:c.end] for c in result.chunks}
    assert "4999" in " ".join(words).split()  # merged, not dropped


def test_ordinary_pages_are_not_merged():
    # 300 slides of 15-odd words each: a long deck, but every slide keeps its own passage.
    pages = [Segment(f"Slide {n} tells a short story about the river, the mill and the miller.",
                     Locator(page=n)) for n in range(1, 301)]
    result = chunk_document(Extracted("T", pages, "pdf"), word_offsets, target=160)
    assert [c.locator.page for c in result.chunks] == list(range(1, 301)) and result.notes == ()


def test_passages_past_the_hard_cap_are_dropped_and_noted(monkeypatch):
    monkeypatch.setattr(chunk_module, "MAX_PASSAGES", 10)
    text = " ".join(f"Sentence number {n} is here." for n in range(2000))
    result = chunk_document(Extracted("T", [Segment(text)], "text"), word_offsets, target=32)
    assert len(result.chunks) == 10
    assert result.notes[-1].startswith("passages capped: only the first 10 of ")


def test_huge_segment_is_tokenized_in_bounded_windows(monkeypatch):
    text = " ".join(f"word{n % 977} and more." if n % 7 else f"line{n}\n" for n in range(60_000))
    seen: list[int] = []

    def recording(window: str) -> list[tuple[int, int]]:
        seen.append(len(window))
        return word_offsets(window)

    doc = Extracted("T", [Segment(text, Locator(line=1))], "text")
    windowed = chunk_document(doc, recording, target=64)
    assert max(seen) <= chunk_module.TOKENIZE_WINDOW_CHARS and len(seen) > 1
    monkeypatch.setattr(chunk_module, "TOKENIZE_WINDOW_CHARS", len(text) + 1)  # one call, as before
    assert windowed.chunks == chunk_document(doc, word_offsets, target=64).chunks
    for c in windowed.chunks[::50]:
        assert c.locator.line == text.count("\n", 0, c.start) + 1


# ---------------------------------------------------------------------------- bounded extraction


def test_truncation_is_a_note(tmp_path, monkeypatch):
    monkeypatch.setattr(_common, "MAX_CHARS", 1000)
    path = tmp_path / "long.txt"
    path.write_text("All work and no play makes Jack a dull boy.\n" * 200)
    result = extract(path)
    assert result.truncated and result.notes == ("text truncated: only the first 1,000 characters are indexed",)
    assert chunk_document(result, word_offsets).notes == result.notes


def test_huge_labels_are_bounded(tmp_path):
    page = tmp_path / "page.html"
    page.write_text(f"<html><head><title>{'T' * 100_000}</title></head><body><h1>{'H' * 100_000}</h1>"
                    "<p>body text</p></body></html>")
    result = extract(page)
    assert len(result.title) <= _common.MAX_LABEL_CHARS
    assert all(len(s.locator.heading or "") <= _common.MAX_LABEL_CHARS + 1 for s in result.segments)


def test_mbox_of_one_enormous_line_is_read_in_bounded_pieces(tmp_path, monkeypatch):
    monkeypatch.setattr("librarian.engine.extract.mail.MAX_TEXT_BYTES", 4096)
    box = tmp_path / "one.mbox"
    box.write_bytes(b"From a@b Mon Jan  1 10:00:00 2024\nSubject: big\n\n" + b"x" * 3_000_000 + b"\n")
    result = extract(box)
    assert len(result.segments) == 1 and len(result.segments[0].text) < 4096 + 2**20 + 200


def test_segments_past_the_cap_are_dropped_and_noted(tmp_path, monkeypatch):
    monkeypatch.setattr(_common, "MAX_SEGMENTS", 100)
    notes = tmp_path / "many.md"
    notes.write_text("".join(f"# Heading {n}\n\nSome text {n}.\n\n" for n in range(300)))
    result = extract(notes)
    assert len(result.segments) == 100 and result.truncated
    assert result.notes == ("text truncated: only the first 100 pages or sections are indexed",)


def test_eml_is_read_up_to_the_text_cap(tmp_path, monkeypatch):
    monkeypatch.setattr("librarian.engine.extract.mail.MAX_TEXT_BYTES", 4096)
    mail = tmp_path / "big.eml"
    mail.write_bytes(b"Subject: big\nContent-Type: text/plain\n\n" + b"word " * 100_000)
    result = extract(mail)
    assert result.truncated and len(result.segments[0].text) < 4096


# ------------------------------------------------------------------------- warnings reach the user


def test_a_file_indexed_in_part_is_listed_with_why(tmp_path, monkeypatch):
    """A truncated file is searchable, and `status` (CLI, JSON, the Problems dialog) says it is partial."""
    from conftest import fake_model
    from librarian.engine.library import Library

    monkeypatch.setattr(_common, "MAX_CHARS", 1000)
    root = tmp_path / "docs"
    root.mkdir()
    (root / "long.txt").write_text("The lighthouse keeper trimmed the wick. " * 200)
    (root / "short.txt").write_text("A short note about tide tables.")
    with Library.open(tmp_path / "data", model=fake_model(), extract=extract) as library:
        library.add_folder(root)
        library.update()
        status = library.status()
        assert [Path(w.path).name for w in status.warnings] == ["long.txt"]
        assert "truncated" in status.warnings[0].reason
        assert not status.failed
        assert status.to_json()["warnings"][0]["reason"] == status.warnings[0].reason
        assert library.search("lighthouse keeper", mode="keyword").hits[0].path.endswith("long.txt")


def test_the_problems_dialog_lists_partial_files_apart_from_failures(qtbot):
    from librarian.desktop.problems import ProblemsDialog
    from librarian.engine.results import Failure

    dialog = ProblemsDialog()
    qtbot.addWidget(dialog)
    dialog.set_failures((Failure("/d/bad.pdf", "not a valid PDF"),),
                        (Failure("/d/long.txt", "text truncated: only the first 1,000 characters are indexed"),))
    assert dialog.model.rowCount() == 2
    assert dialog.model.failure(1).reason.startswith("indexed in part: text truncated")
    assert "1 file could not be read" in dialog.summary.text()
    assert "indexed only in part" in dialog.summary.text()
