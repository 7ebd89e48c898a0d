"""Binary document formats: PDF, DOCX, ODT, EPUB, PPTX, good and broken (corrupt, truncated,
encrypted, zip bombs)."""

from __future__ import annotations

import os
import threading
import zipfile

import pytest
from fixtures.make_files import (
    make_docx,
    make_epub,
    make_odt,
    make_pdf,
    make_pptx,
    make_zip_bomb,
    truncate_copy,
)
from librarian.engine.errors import ExtractionError
from librarian.engine.extract import _zipcheck, extract
from librarian.engine.extract.base import Locator

# --------------------------------------------------------------------------------------------- PDF


def test_pdf_one_segment_per_page_with_page_numbers(tmp_path):
    path = make_pdf(tmp_path / "whales.pdf", ["Blue whales are large.", "", "Orcas hunt in pods."], title="Whales")
    result = extract(path)
    assert result.kind == "pdf" and result.title == "Whales"
    # The empty second page yields no segment, and the third keeps its real page number.
    assert [(s.locator, s.text) for s in result.segments] == [
        (Locator(page=1), "Blue whales are large."),
        (Locator(page=3), "Orcas hunt in pods."),
    ]


def test_pdf_without_title_uses_file_name(tmp_path):
    assert extract(make_pdf(tmp_path / "scan-2024.pdf", ["x"])).title == "scan-2024"


def test_pdf_empty_document_is_not_an_error(tmp_path):
    result = extract(make_pdf(tmp_path / "blank.pdf", ["", ""]))
    assert result.segments == []


def test_encrypted_pdf_says_password_required(tmp_path):
    path = make_pdf(tmp_path / "secret.pdf", ["classified"], user_password="hunter2")
    with pytest.raises(ExtractionError, match="encrypted"):
        extract(path)


def test_pdf_with_owner_password_only_is_readable(tmp_path):
    result = extract(make_pdf(tmp_path / "locked.pdf", ["permissions only"], user_password=""))
    assert result.segments[0].text == "permissions only"


@pytest.mark.parametrize("fraction", [0.0, 0.3])
def test_corrupt_and_truncated_pdf(tmp_path, fraction):
    good = make_pdf(tmp_path / "good.pdf", ["some text"])
    bad = truncate_copy(good, tmp_path / "bad.pdf", fraction)
    with pytest.raises(ExtractionError, match="not a valid PDF"):
        extract(bad)


def test_garbage_named_pdf(tmp_path):
    path = tmp_path / "junk.pdf"
    path.write_bytes(b"this is not a pdf at all" * 10)
    with pytest.raises(ExtractionError, match="not a valid PDF"):
        extract(path)


def test_pdf_with_non_utf8_file_name(tmp_path):
    if os.name != "posix":
        pytest.skip("byte file names are a POSIX thing")
    good = make_pdf(tmp_path / "good.pdf", ["bytes in the name"])
    raw = os.path.join(os.fsencode(tmp_path), b"caf\xe9.pdf")  # Latin-1 byte, invalid UTF-8
    try:
        os.rename(os.fsencode(good), raw)
    except OSError:
        pytest.skip("file system refuses non-UTF-8 names")
    path = os.fsdecode(raw)
    result = extract(path)
    assert result.segments[0].text == "bytes in the name"
    assert result.title == "caf\ufffd"  # displayable, storable as UTF-8


def test_pdf_from_several_threads_is_serialized(tmp_path):
    paths = [make_pdf(tmp_path / f"t{i}.pdf", [f"thread document {i}"] * 3) for i in range(4)]
    results: dict[int, str] = {}

    def work(i: int) -> None:
        results[i] = extract(paths[i]).segments[2].text

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == {i: f"thread document {i}" for i in range(4)}


# -------------------------------------------------------------------------------------------- DOCX


def test_docx_body_order_headings_tables_and_hidden_text(tmp_path):
    result = extract(make_docx(tmp_path / "notes.docx"))
    assert result.kind == "docx" and result.title == "Field Notes"
    by_heading = {s.locator.heading: s.text for s in result.segments}
    assert list(by_heading) == ["Introduction", "Methods", "Methods › Sampling", "Results"]
    assert "Bees communicate by dancing" in by_heading["Introduction"]
    sampling = by_heading["Methods › Sampling"]
    assert "Valley\tHives" in sampling
    assert "nested-alpha" in sampling and "nested-beta" in sampling  # table inside a table cell
    results = by_heading["Results"]
    assert "Inside a content control." in results
    assert "Tracked: inserted words" in results  # text inside a w:ins revision mark


def test_docx_title_falls_back_to_first_heading(tmp_path):
    assert extract(make_docx(tmp_path / "untitled.docx", title=None)).title == "Introduction"


def test_truncated_docx(tmp_path):
    bad = truncate_copy(make_docx(tmp_path / "good.docx"), tmp_path / "cut.docx", 0.6)
    with pytest.raises(ExtractionError, match="corrupt or truncated DOCX file"):
        extract(bad)


def test_docx_with_a_corrupt_member(tmp_path):
    good = make_docx(tmp_path / "good.docx")
    bad = tmp_path / "flipped.docx"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(bad, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "word/document.xml":
                data = data[: len(data) // 2]  # well-formed zip, broken XML
            dst.writestr(item, data)
    with pytest.raises(ExtractionError, match="corrupt or truncated DOCX"):
        extract(bad)


def test_zip_that_is_not_a_word_document(tmp_path):
    path = tmp_path / "fake.docx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("hello.txt", "not office")
    with pytest.raises(ExtractionError, match="DOCX"):
        extract(path)


@pytest.fixture(scope="module")
def gigabyte_docx_bomb(tmp_path_factory):
    """1 GiB of zeros in word/document.xml, about 4.5 MB on disk (takes ~1 s to write)."""
    return make_zip_bomb(tmp_path_factory.mktemp("bomb") / "bomb.docx", "docx", inflated_bytes=2**30)


def test_docx_zip_bomb_is_refused_before_parsing(gigabyte_docx_bomb):
    with pytest.raises(ExtractionError, match="zip bomb"):
        extract(gigabyte_docx_bomb)


def test_high_ratio_member_below_the_total_limit_is_a_bomb(tmp_path):
    path = make_zip_bomb(tmp_path / "ratio.docx", "docx", inflated_bytes=64 * 2**20, level=9)
    with zipfile.ZipFile(path) as zf, pytest.raises(ExtractionError, match="inflates"):
        _zipcheck.check_zip(zf)
    # The same archive passes with a looser ratio, proving the ratio rule (not the total) fired.
    with zipfile.ZipFile(path) as zf:
        _zipcheck.check_zip(zf, max_ratio=10_000)


def test_total_limit_counts_all_members(tmp_path, monkeypatch):
    path = tmp_path / "many.odt"
    make_odt(path, extra={f"Pictures/{i}.bin": os.urandom(64 * 1024) for i in range(8)})
    assert extract(path).kind == "odt"
    monkeypatch.setattr(_zipcheck, "MAX_TOTAL_BYTES", 256 * 1024)
    with pytest.raises(ExtractionError, match="zip bomb: over"):
        extract(path)


# --------------------------------------------------------------------------------------------- ODT


def test_odt_headings_lists_tables_and_spaces(tmp_path):
    result = extract(make_odt(tmp_path / "house.odt"))
    assert result.kind == "odt" and result.title == "Household Notes"
    by_heading = {s.locator.heading: s.text for s in result.segments}
    assert list(by_heading) == ["Garden", "Garden › Pests", "Kitchen"]
    assert "Tomatoes need full sun.  Water daily." in by_heading["Garden"]  # text:s c=2
    assert "Aphids on the roses." in by_heading["Garden › Pests"]
    assert "Basil\tJune" in by_heading["Garden › Pests"]
    assert "Grandma's recipe." in by_heading["Kitchen"] and "keep for a year." in by_heading["Kitchen"]


def test_odt_entity_declarations_are_refused(tmp_path):
    body = "<text:p>x</text:p>"
    path = make_odt(tmp_path / "laughs.odt", body=body)
    evil = tmp_path / "evil.odt"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(evil, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "content.xml":
                data = data.replace(b"?>", b'?><!DOCTYPE x [<!ENTITY a "aaaa">]>', 1)
            dst.writestr(item, data)
    with pytest.raises(ExtractionError, match="DOCTYPE"):
        extract(evil)


def test_truncated_odt(tmp_path):
    bad = truncate_copy(make_odt(tmp_path / "good.odt"), tmp_path / "cut.odt", 0.5)
    with pytest.raises(ExtractionError, match="corrupt or truncated ODT file"):
        extract(bad)


# -------------------------------------------------------------------------------------------- EPUB

CHAPTERS = [
    ("The Storm", "<h1>The Storm</h1><p>It was a dark night.</p><h2>Shelter</h2><p>They hid in a barn.</p>"),
    ("Morning", "<p>The sun came up over the hills.</p>"),
]


@pytest.mark.parametrize("toc", ["nav", "ncx"])
def test_epub_spine_order_and_chapter_titles(tmp_path, toc):
    result = extract(make_epub(tmp_path / "book.epub", CHAPTERS, toc=toc))
    assert result.kind == "epub" and result.title == "A Small Book"
    assert [(s.locator.heading, s.text) for s in result.segments] == [
        ("The Storm", "The Storm\nIt was a dark night."),
        ("The Storm › Shelter", "Shelter\nThey hid in a barn."),
        ("Morning", "The sun came up over the hills."),
    ]


def test_epub_without_toc_uses_chapter_headings(tmp_path):
    result = extract(make_epub(tmp_path / "book.epub", CHAPTERS, toc="none"))
    assert [s.locator.heading for s in result.segments] == ["The Storm", "The Storm › Shelter", None]


def test_drm_epub_is_reported(tmp_path):
    with pytest.raises(ExtractionError, match="DRM"):
        extract(make_epub(tmp_path / "drm.epub", CHAPTERS, encrypt_chapter=True))


def test_epub_without_container_is_invalid(tmp_path):
    path = tmp_path / "bare.epub"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("mimetype", "application/epub+zip")
    with pytest.raises(ExtractionError, match="not a valid EPUB"):
        extract(path)


def test_epub_zip_bomb(tmp_path):
    path = make_zip_bomb(tmp_path / "bomb.epub", "epub", inflated_bytes=600 * 2**20)
    with pytest.raises(ExtractionError, match="zip bomb"):
        extract(path)


# -------------------------------------------------------------------------------------------- PPTX


def test_pptx_one_segment_per_slide_with_notes_and_tables(tmp_path):
    path = make_pptx(tmp_path / "deck.pptx", [("Kickoff", "Welcome everyone", "remember the coffee"),
                                               ("Budget", "Costs went down", "")])
    result = extract(path)
    assert result.kind == "pptx" and result.title == "Kickoff"
    first, second = result.segments
    assert first.locator == Locator(page=1, heading="Kickoff")
    assert "Welcome everyone" in first.text and "remember the coffee" in first.text
    assert second.locator.page == 2
    assert "cell-one" in second.text and "cell-four" in second.text


def test_truncated_pptx(tmp_path):
    good = make_pptx(tmp_path / "deck.pptx", [("A", "b", "")])
    with pytest.raises(ExtractionError, match="corrupt or truncated PPTX file"):
        extract(truncate_copy(good, tmp_path / "cut.pptx", 0.5))
