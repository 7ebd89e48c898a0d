"""Text-like formats: plain text in many encodings, markdown, code, HTML, RTF, e-mail; the registry;
text clean-up and the size cap."""

from __future__ import annotations

import string
from pathlib import Path

import pytest
from fixtures.make_files import make_eml, make_mbox, make_message, make_rtf
from hypothesis import given
from hypothesis import strategies as st
from librarian.engine.errors import ExtractionError
from librarian.engine.extract import SUPPORTED_SUFFIXES, _common, extract, extractor_for, kind_for
from librarian.engine.extract.base import Extracted, Locator

# ------------------------------------------------------------------------------------- plain text


def _write(tmp_path: Path, name: str, data: bytes | str) -> Path:
    path = tmp_path / name
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8")
    else:
        path.write_bytes(data)
    return path


def test_plain_text_paragraph_blocks_carry_their_first_line(tmp_path):
    lines = [f"line {i} of the first paragraph" for i in range(1, 4)] + [""] * 3
    lines += [f"second paragraph, line {i}, padded with more words" for i in range(70)]
    result = extract(_write(tmp_path, "notes.txt", "\n".join(lines)))
    assert result.kind == "text" and result.title == "notes"
    first, second = result.segments[0], result.segments[1]
    assert first.locator == Locator(line=1)
    assert first.text.startswith("line 1 of the first paragraph")
    # The second paragraph starts on line 7 and does not fit in the first block.
    assert second.locator.line == 7
    assert second.text.startswith("second paragraph, line 0,")
    for seg in result.segments:  # each block's first line is what the locator says
        assert seg.text.split("\n")[0] == lines[seg.locator.line - 1]


@pytest.mark.parametrize(
    ("encoding", "text"),
    [
        ("cp1252", "Ce café coûte 3 € — c'est très naïve.\n\nDeuxième paragraphe."),
        ("latin-1", "Grüße aus München, schöne Straße und Käse."),
        ("utf-16", "UTF-16 with a BOM: Ελληνικά and 日本語."),
        ("utf-16-le", "UTF-16 without a BOM, plain English sentence for detection."),
        ("utf-8-sig", "UTF-8 with BOM: naïve café."),
        ("cp1251", "Привет, как дела? Это тест кодировки для поиска."),
        ("cp1253", "Γειά σου κόσμε, αυτό είναι ένα δοκιμαστικό κείμενο."),
        ("cp1250", "Zażółć gęślą jaźń. Pójdźże, kiń tę chmurność w głąb flaszy!"),
    ],
)
def test_plain_text_decodes_legacy_encodings(tmp_path, encoding, text):
    result = extract(_write(tmp_path, "doc.txt", text.encode(encoding)))
    assert "\n\n".join(s.text for s in result.segments) == text


def test_binary_file_named_txt_is_refused(tmp_path):
    path = _write(tmp_path, "photo.txt", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 50)
    with pytest.raises(ExtractionError, match="binary file, not text"):
        extract(path)


def test_control_bytes_without_nul_still_count_as_binary(tmp_path):
    with pytest.raises(ExtractionError, match="binary"):
        extract(_write(tmp_path, "blob.txt", bytes([1, 2, 3, 4, 5, 6, 65]) * 500))


def test_damaged_utf8_is_decoded_with_replacement_characters(tmp_path):
    good = "Grüße aus Köln, naïve café déjà vu. " * 20
    data = good.encode("utf-8") + b"\xff\xfe\xc3(" + good.encode("utf-8")
    result = extract(_write(tmp_path, "glued.txt", data))
    text = "".join(s.text for s in result.segments)
    assert text.count("Grüße aus Köln") == 40
    assert "\ufffd" in text
    text.encode("utf-8")  # no lone surrogates survive


def test_undecodable_noise_is_refused_cleanly(tmp_path):
    import random

    data = random.Random(0).randbytes(8192).replace(b"\x00", b"")  # no NULs: detection must decide
    with pytest.raises(ExtractionError, match="binary file, not text"):
        extract(_write(tmp_path, "noise.txt", data))


def test_empty_file_gives_no_segments(tmp_path):
    result = extract(_write(tmp_path, "empty.txt", b""))
    assert result == Extracted(title="empty", segments=[], kind="text")


def test_size_cap_truncates_and_says_so(tmp_path, monkeypatch):
    monkeypatch.setattr(_common, "MAX_CHARS", 1000)
    result = extract(_write(tmp_path, "long.txt", ("lorem ipsum dolor\n\n" * 500)))
    total = sum(len(s.text) for s in result.segments)
    assert result.truncated
    assert total <= 1000 + len(_common.TRUNCATION_NOTE.format(limit=1000))
    assert result.segments[-1].text.endswith("characters]")


def test_real_size_cap_on_a_large_file(tmp_path):
    path = _write(tmp_path, "huge.txt", ("word " * 15 + "\n") * 80_000)  # 6.4 M characters
    result = extract(path)
    assert result.truncated
    assert sum(len(s.text) for s in result.segments) < _common.MAX_CHARS + 200


# ---------------------------------------------------------------------------------------- markdown

MARKDOWN = """\
---
title: Front Matter Title
tags: [a]
---
# Guide

Intro words.

## Install *fast*

```sh
# not a heading
pip install thing
```

Setext Section
--------------

Body under setext.

### Deep

deep text

# Appendix
tail
"""


def test_markdown_sections_heading_paths_and_lines(tmp_path):
    result = extract(_write(tmp_path, "guide.md", MARKDOWN))
    assert result.kind == "markdown"
    assert result.title == "Front Matter Title"
    got = [(s.locator.heading, s.locator.line, s.text.split("\n")[0]) for s in result.segments]
    assert got == [
        ("Guide", 5, "Guide"),
        ("Guide › Install fast", 9, "Install fast"),
        ("Guide › Setext Section", 16, "Setext Section"),
        ("Guide › Setext Section › Deep", 21, "Deep"),
        ("Appendix", 25, "Appendix"),
    ]
    install = result.segments[1].text
    assert "# not a heading" in install and "pip install thing" in install
    assert "tags:" not in "".join(s.text for s in result.segments)


def test_markdown_title_falls_back_to_first_h1_then_first_heading_then_file_name(tmp_path):
    assert extract(_write(tmp_path, "a.md", "intro\n\n# Real Title\ntext")).title == "Real Title"
    result = extract(_write(tmp_path, "plain-notes.md", "## only h2\ntext"))
    assert result.title == "only h2"
    prose = extract(_write(tmp_path, "prose-notes.md", "it rained all day\nand the river rose.\n\n## Later\n"))
    assert prose.title == "prose-notes"
    assert result.segments[0].locator.heading == "only h2"


def test_markdown_horizontal_rule_after_blank_line_is_not_a_heading(tmp_path):
    result = extract(_write(tmp_path, "r.md", "# A\n\npara\n\n---\n\nmore"))
    assert [s.locator.heading for s in result.segments] == ["A"]
    assert "more" in result.segments[0].text


# -------------------------------------------------------------------------------------------- code


def test_code_blocks_keep_exact_line_numbers(tmp_path):
    source = "import os\n\n\ndef first():\n    return 1\n" + "\n".join(f"x{i} = {i}" for i in range(100))
    result = extract(_write(tmp_path, "mod.py", source))
    assert result.kind == "code"
    lines = source.split("\n")
    assert result.segments[0].locator.line == 1
    assert len(result.segments) >= 2  # 105 lines exceed one block
    for seg in result.segments:
        start = seg.locator.line - 1
        assert seg.text.split("\n") == lines[start : start + len(seg.text.split("\n"))]


@pytest.mark.parametrize("name", ["config.yaml", "data.json", "main.go", "lib.rs", "q.sql", "Makefile", "x.tsx"])
def test_code_suffixes_and_names_are_code(name):
    assert kind_for(Path(name)) == "code"


def test_form_feed_in_code_does_not_shift_line_numbers(tmp_path):
    result = extract(_write(tmp_path, "ff.c", "int a;\f\nint b;\n\nint c;\r\nint d;"))
    text = "\n".join(s.text for s in result.segments)
    assert text == "int a;\nint b;\n\nint c;\nint d;"


# -------------------------------------------------------------------------------------------- html

HTML = """<!doctype html><html><head><meta charset="windows-1252"><title>Trip Report</title>
<style>.x{color:red}</style><script>var secret = 1;</script></head>
<body><nav>Home | About</nav><noscript>enable js</noscript>
<h1>Trip</h1><p>We drove to <b>Lyon</b>.</p><p>Caf\xe9 stop.</p>
<h2>Day 1</h2><ul><li>museum</li><li>river</li></ul>
<h3>Evening</h3><table><tr><td>dinner</td><td>20</td></tr></table>
<h2>Day 2</h2><p>home</p></body></html>"""


def test_html_sections_title_and_dropped_chrome(tmp_path):
    result = extract(_write(tmp_path, "trip.html", HTML.encode("cp1252")))
    assert result.kind == "html" and result.title == "Trip Report"
    headings = [s.locator.heading for s in result.segments]
    assert headings == ["Trip", "Trip › Day 1", "Trip › Day 1 › Evening", "Trip › Day 2"]
    everything = "\n".join(s.text for s in result.segments)
    assert "We drove to Lyon." in everything and "Café stop." in everything
    assert "dinner\t20" in everything
    for junk in ("secret", "Home | About", "enable js", "color:red"):
        assert junk not in everything


def test_html_title_falls_back_to_h1(tmp_path):
    result = extract(_write(tmp_path, "p.htm", "<body><h1>Only <i>Heading</i></h1><p>x</p></body>"))
    assert result.title == "Only Heading"


def test_deeply_nested_html_does_not_recurse(tmp_path):
    html = "<div>" * 5000 + "deep text" + "</div>" * 5000
    result = extract(_write(tmp_path, "deep.html", html))
    assert "deep text" in result.segments[0].text


# ------------------------------------------------------------------------------------ rtf, e-mail


def test_rtf_text_with_code_page_and_unicode_escapes(tmp_path):
    result = extract(make_rtf(tmp_path / "memo.rtf"))
    assert result.kind == "rtf"
    text = "\n".join(s.text for s in result.segments)
    assert "Café au lait costs € 3." in text
    assert "Second paragraph € with a unicode euro." in text


def test_not_really_rtf_is_refused(tmp_path):
    with pytest.raises(ExtractionError, match="not a valid RTF"):
        extract(_write(tmp_path, "fake.rtf", "just words"))


def test_eml_prefers_plain_text_and_uses_subject_as_title(tmp_path):
    path = make_eml(tmp_path / "m.eml", "Lease renewal", "Hi Ben,\nthe lease ends in May.",
                    html="<p>HTML version <b>only</b></p>")
    result = extract(path)
    assert result.kind == "email" and result.title == "Lease renewal"
    [segment] = result.segments
    assert segment.locator.heading == "Lease renewal"
    assert "the lease ends in May." in segment.text
    assert "From: anna@example.org" in segment.text
    assert "HTML version" not in segment.text and "%PDF" not in segment.text


def test_html_only_mail_is_stripped_to_text(tmp_path):
    import email.message

    msg = email.message.EmailMessage()
    msg["Subject"] = "Newsletter"
    msg.set_content("<html><body><style>p{}</style><p>Big <b>sale</b> today</p></body></html>", subtype="html")
    result = extract(_write(tmp_path, "n.eml", msg.as_bytes()))
    assert "Big sale today" in result.segments[0].text
    assert "<b>" not in result.segments[0].text and "p{}" not in result.segments[0].text


def test_mbox_one_segment_per_message(tmp_path):
    messages = [make_message("First", "Body one.\nFrom the start we knew."), make_message("Second", "Body two.")]
    result = extract(make_mbox(tmp_path / "archive.mbox", messages))
    assert result.kind == "mbox" and result.title == "archive"
    assert [s.locator.heading for s in result.segments] == ["First", "Second"]
    assert "From the start we knew." in result.segments[0].text  # ">From" unquoted, not a split
    assert "Body two." in result.segments[1].text


# ---------------------------------------------------------------------------------------- registry


def test_kind_for_supported_and_unsupported():
    assert kind_for(Path("a.PDF")) == "pdf"
    assert kind_for("notes.markdown") == "markdown"
    assert kind_for(Path("README")) == "text"
    assert kind_for(Path("photo.jpg")) is None
    assert kind_for(Path("archive.tar.gz")) is None
    assert kind_for(Path("x.hang")) is None  # the misbehaving test extractors exist only where a test registers them
    assert {".pdf", ".docx", ".odt", ".epub", ".pptx", ".md", ".txt", ".py", ".html", ".eml", ".mbox"} <= SUPPORTED_SUFFIXES


def test_sniffing_reads_a_pdf_with_the_wrong_suffix(tmp_path):
    from fixtures.make_files import make_pdf

    path = make_pdf(tmp_path / "report.docx", ["Sniffed page text"])
    assert extractor_for(path).kind == "pdf"
    result = extract(path)
    assert result.kind == "pdf" and "Sniffed page text" in result.segments[0].text


def test_unknown_suffix_is_sniffed_or_refused(tmp_path):
    html = _write(tmp_path, "page.weird", "<!DOCTYPE html><html><body><p>sniffed html</p></body></html>")
    assert extract(html).kind == "html"
    with pytest.raises(ExtractionError, match="unsupported file type"):
        extract(_write(tmp_path, "data.weird", b"\x00\x01\x02"))


def test_legacy_doc_renamed_docx_gets_a_clear_reason(tmp_path):
    path = _write(tmp_path, "old.docx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600))
    with pytest.raises(ExtractionError, match="legacy binary Office"):
        extract(path)


def test_missing_file_and_folder_give_readable_reasons(tmp_path):
    with pytest.raises(ExtractionError, match="file not found"):
        extract(tmp_path / "gone.txt")
    folder = tmp_path / "folder.md"
    folder.mkdir()
    with pytest.raises(ExtractionError, match="folder|could not read"):
        extract(folder)


def test_unreadable_file_is_permission_denied(tmp_path, monkeypatch):
    path = _write(tmp_path, "secret.txt", "hidden")

    def refuse(*args, **kwargs):  # chmod 000 does not stop root, so refuse at open() instead
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(_common, "open_user_file", refuse)  # every user-file open goes through it
    with pytest.raises(ExtractionError, match="permission denied") as info:
        extract(path)
    assert info.value.path == str(path)


def test_errors_name_the_file_and_keep_a_short_reason(tmp_path):
    path = _write(tmp_path, "photo.txt", bytes(range(256)) * 10)
    with pytest.raises(ExtractionError) as info:
        extract(path)
    assert info.value.reason == "binary file, not text"
    assert str(info.value) == f"{path}: binary file, not text"


# -------------------------------------------------------------------------------------- clean-up


@given(st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=300))
def test_clean_output_is_storable_and_stable(text):
    cleaned = _common.clean(text)
    cleaned.encode("utf-8")  # never a lone surrogate
    assert "\x00" not in cleaned and "\r" not in cleaned
    assert all(c in "\n\t" or not (ord(c) < 32 or 0x7F <= ord(c) < 0xA0) for c in cleaned)
    assert _common.clean(cleaned) == cleaned


@given(st.text(alphabet=string.printable + "é€\x00\x0c\u2028", max_size=300))
def test_clean_keep_lines_preserves_line_count(text):
    normalized = _common.normalize_newlines(text)
    assert _common.clean(text, keep_lines=True).count("\n") == normalized.count("\n")


@given(st.lists(st.text(alphabet="ab \n", max_size=40), max_size=40), st.integers(1, 8), st.integers(5, 200))
def test_line_blocks_cover_every_non_blank_line_once(chunks, max_lines, max_chars):
    lines = "\n".join(chunks).split("\n")
    seen: list[int] = []
    for first, block in _common.line_blocks(lines, max_chars=max_chars, max_lines=max_lines):
        block_lines = block.split("\n")
        assert len(block_lines) <= max(max_lines, 1)
        assert block_lines == lines[first - 1 : first - 1 + len(block_lines)]
        seen += [first + i for i, line in enumerate(block_lines) if line.strip()]
    assert seen == [i + 1 for i, line in enumerate(lines) if line.strip()]


def test_a_first_line_standing_alone_is_the_title(tmp_path):
    titled = extract(_write(tmp_path, "loaf.txt", "Country Sourdough - my weekend loaf\n\nFeed the starter.\n"))
    assert titled.title == "Country Sourdough - my weekend loaf"
    letter = extract(_write(tmp_path, "letter.txt", "Dear Sir,\n\nThe heating is broken.\n"))
    assert letter.title == "letter"
    prose = extract(_write(tmp_path, "prose.txt", "It rained all day\nand the river rose.\n"))
    assert prose.title == "prose"
