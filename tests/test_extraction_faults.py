"""Extraction faults met on a real documentation library (issue 15, items 1, 2, 5 and 9).

Each probe builds a small real file in ``tmp_path`` and looks at what `extract` makes of it. To add
one: an EPUB spine is one ``_book(tmp_path, spine=[...])`` call, a PDF with a large first line one
``_titled_pdf(...)`` call, an HTML page one row in ``HTML_TITLES``.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest
from fixtures.make_files import make_epub, make_pdf
from librarian.engine.extract import extract
from librarian.engine.extract.epub import OUTSIDE_READING_ORDER
from librarian.engine.extract.pdf import join_soft_hyphens

OPF = "OEBPS/content.opf"
CHAPTERS = [
    # chapter one links to chapter two (a note a reader reaches), nothing links to chapter three
    ("One", '<h1>One</h1><p>The lighthouse keeper counted the <a href="ch2.xhtml#n1">ships</a>.</p>'),
    ("Two", "<h1>Two</h1><p>A storm came in from the west.</p>"),
    ("Three", "<h1>Three</h1><p>Morning found the harbour calm.</p>"),
]


# ------------------------------------------------------------------------------------------ helpers


def _book(tmp_path: Path, *, spine: list[str]) -> Path:
    """CHAPTERS as an EPUB whose spine is ``spine``: entries like "ch2", "ch2#o163" (a manifest
    item for that fragment is added) or "ch2 linear=no"."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    book = make_epub(tmp_path / "book.epub", CHAPTERS)
    items, refs = [], []
    for n, entry in enumerate(spine):
        target, _, attrs = entry.partition(" ")
        chapter, _, fragment = target.partition("#")
        idref = chapter
        if fragment:
            idref = f"frag{n}"
            items.append(f'<item id="{idref}" href="text/{chapter}.xhtml#{fragment}" '
                         'media-type="application/xhtml+xml"/>')
        linear = ' linear="no"' if attrs == "linear=no" else ""
        refs.append(f'<itemref idref="{idref}"{linear}/>')
    _rewrite_member(book, OPF, lambda opf: re.sub(r"<spine>.*</spine>", f"<spine>{''.join(refs)}</spine>", opf)
                    .replace("</manifest>", "".join(items) + "</manifest>"))
    return book


def _rewrite_member(archive: Path, member: str, change) -> None:
    with zipfile.ZipFile(archive) as zf:
        members = {info.filename: zf.read(info) for info in zf.infolist()}
    members[member] = change(members[member].decode()).encode()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)


def _sections(path: Path) -> list[tuple[str | None, str]]:
    return [(s.locator.heading, s.text) for s in extract(path).segments]


def _titled_pdf(path: Path, heading: str, body: str, *, title: str | None = None) -> Path:
    """A one-page PDF: ``heading`` in large bold type above ``body`` in text size."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", "B", size=24)
    pdf.multi_cell(0, 12, heading, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", size=11)
    pdf.multi_cell(0, 6, body)
    if title:
        pdf.set_title(title)
    pdf.output(str(path))
    return path


def _html_title(tmp_path: Path, head: str, body: str) -> str:
    page = tmp_path / "page.html"
    page.write_text(f"<html><head>{head}</head><body>{body}<p>Some text.</p></body></html>", encoding="utf-8")
    return extract(page).title


# ------------------------------------------------------------------------- item 1: EPUB fragments


def test_epub_spine_fragments_read_each_file_once_in_order_of_first_appearance(tmp_path):
    book = _book(tmp_path, spine=["ch1", "ch2#o163", "ch1#o170", "ch3", "ch2#o171", "ch3#o2", "ch1"])
    assert _sections(book) == _sections(_book(tmp_path / "plain", spine=["ch1", "ch2", "ch3"])) == [
        ("One", "One\nThe lighthouse keeper counted the ships."),
        ("Two", "Two\nA storm came in from the west."),
        ("Three", "Three\nMorning found the harbour calm."),
    ]


# -------------------------------------------------------------------------- item 2: linear="no"


def test_epub_non_linear_item_the_text_links_to_follows_the_book_marked(tmp_path):
    book = _book(tmp_path, spine=["ch1", "ch2 linear=no", "ch3"])
    assert _sections(book) == [
        ("One", "One\nThe lighthouse keeper counted the ships."),
        ("Three", "Three\nMorning found the harbour calm."),
        (f"{OUTSIDE_READING_ORDER} › Two", "Two\nA storm came in from the west."),
    ]


def test_epub_non_linear_item_nothing_links_to_is_left_out(tmp_path):
    # Like a Sphinx book's other-language copies: no reader ever shows them.
    book = _book(tmp_path, spine=["ch1", "ch2", "ch3 linear=no"])
    assert [heading for heading, _ in _sections(book)] == ["One", "Two"]


def test_epub_file_listed_both_linear_and_not_is_read_once_as_linear(tmp_path):
    book = _book(tmp_path, spine=["ch2 linear=no", "ch1", "ch2#o1", "ch3"])
    assert [heading for heading, _ in _sections(book)] == ["One", "Two", "Three"]


# ---------------------------------------------------------------------- item 5: PDF soft hyphens


@pytest.mark.parametrize(("pdfium_text", "expected"), [
    ("com\ufffemand", "command"),
    ("com\ufffe\r\nmand line", "command line"),
    ("com\ufffe\nmand", "command"),
    ("ex\ufffe \n  ecutes", "executes"),
    ("no marker - here", "no marker - here"),
])
def test_pdfium_soft_hyphen_marker_joins_the_word(pdfium_text, expected):
    assert join_soft_hyphens(pdfium_text) == expected


def test_pdf_word_hyphenated_over_a_line_break_is_one_word(tmp_path):
    # fpdf2 breaks a narrow line at the soft hyphen (U+00AD) and draws "con-"; PDFium reports the
    # drawn hyphen as its U+FFFE marker.
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.multi_cell(60, 8, "The shell reads every com\u00admand it finds in the con\u00adfiguration file.")
    pdf.output(str(tmp_path / "hyphens.pdf"))
    text = extract(tmp_path / "hyphens.pdf").segments[0].text
    assert "configuration" in text and "\ufffe" not in text


# ----------------------------------------------------------------------------------- item 9: titles


def test_pdf_without_title_field_is_titled_by_its_largest_first_page_text(tmp_path):
    pdf = _titled_pdf(tmp_path / "bashref.pdf", "Bash Reference Manual", "Reference documentation for Bash. " * 20)
    assert extract(pdf).title == "Bash Reference Manual"


def test_pdf_title_over_two_lines_is_joined(tmp_path):
    pdf = _titled_pdf(tmp_path / "guide.pdf", "A Field Guide to the Garden Birds of Northern Europe and Their Songs",
                      "Anna Berg, 2024\n\n" + "This guide lists the birds of small gardens. " * 10)
    assert extract(pdf).title == "A Field Guide to the Garden Birds of Northern Europe and Their Songs"


def test_pdf_title_field_wins_over_large_text(tmp_path):
    pdf = _titled_pdf(tmp_path / "x.pdf", "Chapter 1", "Body text. " * 20, title="The Real Title")
    assert extract(pdf).title == "The Real Title"


def test_pdf_in_one_size_keeps_its_file_name(tmp_path):
    pdf = make_pdf(tmp_path / "reference.pdf", ["Every line here is set in the same size.\nSo is this one."])
    assert extract(pdf).title == "reference"


@pytest.mark.parametrize("first_line", [
    "https://www.gnu.org/software/bash/manual/",
    "Source: https://example.org/notes/sourdough",
    "www.example.org/sourdough notes",
])
def test_text_file_first_line_with_a_url_is_not_its_title(tmp_path, first_line):
    note = tmp_path / "sourdough.txt"
    note.write_text(f"{first_line}\n\nFeed the starter twice a day.\n", encoding="utf-8")
    assert extract(note).title == "sourdough"


HTML_TITLES = [
    # (<head>, <body> headings, expected title)
    ("<title>Bash Reference Manual</title>", "<h1>Bash Reference Manual</h1>", "Bash Reference Manual"),
    ("<title>Shell Parameters (Bash Reference Manual)</title>", "<h1>Shell Parameters</h1>", "Shell Parameters"),
    ("<title>Bash Manual: Shell Parameters</title>", "<h1>Shell Parameters</h1>", "Shell Parameters"),
    ("<title>Lists — Python 3.12 documentation</title>", "<h1>Lists¶</h1>", "Lists"),
    ("<title>Getting started | Foo docs</title>", "<h1>Installing Foo</h1>", "Installing Foo"),
    # the <h1> is the site's banner, not the page's name: the <title> less the site's name
    ("<title>Install guide - MySite</title>", "<h1>MySite</h1>", "Install guide"),
    # the <title> is a longer phrase, not the <h1> plus decoration
    ("<title>Introduction to Python</title>", "<h1>Introduction</h1>", "Introduction to Python"),
    # several <h1>: none of them names the page; the <title> less the site's suffix does
    ("<title>Docs | Foo</title>", "<h1>One</h1><h1>Two</h1>", "Docs"),
    ("<title>Floats — Python 3.11.2 documentation</title>", "<h1>Floats¶</h1><h1>Pack¶</h1>", "Floats"),
    # Sphinx's stand-in for a page without a title: the file name
    ("<title>&lt;no title&gt; — Python 3.11.2 documentation</title>", "<p>text</p>", "page"),
    # no <title>: the <h1>
    ("", "<h1>Only heading</h1>", "Only heading"),
]


@pytest.mark.parametrize(("head", "body", "expected"), HTML_TITLES)
def test_html_title_prefers_the_single_h1_over_a_site_title(tmp_path, head, body, expected):
    assert _html_title(tmp_path, head, body) == expected
