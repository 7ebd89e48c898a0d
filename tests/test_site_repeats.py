"""Issue 15 item 6: text repeated on most pages of a site is template text, left out of passages.

Pages are written into a folder of ``tmp_path`` (the folder is the "site"), then each page's
passages are read back with `extract_html`. tests/fixtures/apache_manual holds five trimmed real
pages of the Apache httpd 2.4 manual (Apache License 2.0, see its NOTICE).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from librarian.engine.extract import site_repeats
from librarian.engine.extract.htmlpage import extract_html

FOOTER = ("Copyright 2023 The Example Software Foundation. Licensed under the Example License, "
          "Version 2.0.")
FOOTER_HTML = ('<div class="bottom"><p class="legal">Copyright 2023 The Example Software Foundation.<br>'
               'Licensed under the <a href="https://example.org/LICENSE">Example License, Version 2.0</a>.</p></div>')
APACHE = Path(__file__).parent / "fixtures" / "apache_manual"


@pytest.fixture(autouse=True)
def fresh_cache() -> Iterator[None]:
    site_repeats._cache.clear()
    yield
    site_repeats._cache.clear()


def own_text(n: int) -> str:
    return f"Page {n} explains how the frobnicator number {n} turns widgets into gadgets."


def write_site(folder: Path, count: int, *, extra: dict[int, str] | None = None, footer: str = FOOTER_HTML,
               filler: str = "") -> list[Path]:
    """``count`` pages, each with its own heading and paragraph, ``filler`` (formatted with the
    page's number ``n``) and ``extra[n]`` after it, then ``footer``."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for n in range(count):
        body = (f"<h1>Topic {n}</h1><p>{own_text(n)}</p>{filler.format(n=n)}{(extra or {}).get(n, '')}{footer}")
        path = folder / f"page{n:02d}.html"
        path.write_text(f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>Topic {n}</title></head>"
                        f"<body>{body}</body></html>", encoding="utf-8")
        paths.append(path)
    return paths


def text_of(path: Path) -> str:
    return "\n".join(segment.text for segment in extract_html(path).segments)


def flat(text: str) -> str:
    return " ".join(text.split())


def test_footer_on_every_page_is_left_out_and_own_text_stays(tmp_path: Path) -> None:
    for n, path in enumerate(write_site(tmp_path / "site", 6)):
        text = flat(text_of(path))
        assert own_text(n) in text
        assert f"Topic {n}" in text
        assert "Example Software Foundation" not in text and "Licensed under" not in text


def test_sentence_on_two_of_six_pages_stays(tmp_path: Path) -> None:
    shared = "<p>Beware: the frobnicator overheats when it runs for more than an hour.</p>"
    paths = write_site(tmp_path / "site", 6, extra={1: shared, 4: shared})
    for n in (1, 4):
        assert "Beware: the frobnicator overheats" in text_of(paths[n])
    assert "Example Software Foundation" not in text_of(paths[1])


def test_folder_of_few_pages_keeps_everything(tmp_path: Path) -> None:
    for n, path in enumerate(write_site(tmp_path / "small", 2)):
        text = flat(text_of(path))
        assert own_text(n) in text and FOOTER in text
    three = write_site(tmp_path / "three", 3)
    assert FOOTER in flat(text_of(three[0]))
    assert site_repeats.site_repeats(three[0]) == frozenset()
    four = write_site(tmp_path / "four", 4)  # the smallest folder that is a site
    assert FOOTER not in flat(text_of(four[0]))


def test_page_that_is_only_the_repeated_block_keeps_it(tmp_path: Path) -> None:
    write_site(tmp_path / "site", 6)
    bare = tmp_path / "site" / "page99.html"
    # Scripts and buttons (a menu toggle with its label in a <span>) are no text of the page.
    bare.write_text(f"<html><body><button><span>Toggle the menu</span></button>{FOOTER_HTML}"
                    "<script>window.dataLayer = window.dataLayer || [];</script></body></html>", encoding="utf-8")
    assert flat(text_of(bare)) == FOOTER
    assert FOOTER not in flat(text_of(tmp_path / "site" / "page00.html"))


def test_headings_and_short_labels_stay_though_repeated(tmp_path: Path) -> None:
    extra = ('<h2>Related topics in this manual</h2><p class="admonition-title">See also</p>'
             '<table><tr><td>Popularity</td><td>V:0, I:1</td></tr></table>')
    paths = write_site(tmp_path / "site", 6, extra=dict.fromkeys(range(6), extra))
    extracted = extract_html(paths[2])
    text = "\n".join(segment.text for segment in extracted.segments)
    assert "Related topics in this manual" in text and "See also" in text and "V:0, I:1" in text
    assert any(s.locator.heading == "Topic 2 › Related topics in this manual" for s in extracted.segments)
    assert "Example Software Foundation" not in text


def test_footer_at_the_end_of_long_pages_is_found(tmp_path: Path) -> None:
    # Past SAMPLE_HEAD_BYTES: only the tail read of each sampled page sees the footer.
    long_text = "".join(f"<p>Paragraph {i} of long page {{n}} about widgets and their many gadgets.</p>"
                        for i in range(2000))
    paths = write_site(tmp_path / "site", 5, filler=long_text)
    assert paths[0].stat().st_size > site_repeats.SAMPLE_HEAD_BYTES + site_repeats.SAMPLE_TAIL_BYTES
    text = flat(text_of(paths[3]))
    assert "Paragraph 0 of long page 3" in text and "Paragraph 1999 of long page 3" in text
    assert "Example Software Foundation" not in text


def test_a_folder_is_sampled_once_for_all_its_pages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    reads: list[str] = []
    real = site_repeats._head_and_tail

    def counting(page: Path) -> list[object]:
        reads.append(page.name)
        return real(page)

    monkeypatch.setattr(site_repeats, "_head_and_tail", counting)
    paths = write_site(tmp_path / "site", 30)
    for path in paths:
        assert "Example Software Foundation" not in text_of(path)
    assert len(reads) == site_repeats.SAMPLE_PAGES == len(set(reads))

    # A sampled page that changes makes the folder sampled again, once.
    changed = tmp_path / "site" / reads[0]
    changed.write_text(changed.read_text(encoding="utf-8") + "<p>An afterthought.</p>", encoding="utf-8")
    os.utime(changed, ns=(changed.stat().st_atime_ns, changed.stat().st_mtime_ns + 1_000_000_000))
    reads.clear()
    for path in paths:
        text_of(path)
    assert len(reads) == site_repeats.SAMPLE_PAGES


def test_unreadable_siblings_mean_no_repeats(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    paths = write_site(tmp_path / "site", 6)

    def failing(page: Path) -> list[object]:
        raise OSError("gone")

    monkeypatch.setattr(site_repeats, "_head_and_tail", failing)
    assert FOOTER in flat(text_of(paths[0]))
    monkeypatch.undo()
    site_repeats._cache.clear()
    assert FOOTER not in flat(text_of(paths[0]))


def test_real_apache_manual_footer_and_banner_are_left_out() -> None:
    pages = sorted(APACHE.glob("*.html"))
    assert len(pages) >= site_repeats.MIN_FOLDER_PAGES
    for page in pages:
        raw = page.read_text(encoding="utf-8")
        assert "The Apache Software Foundation" in raw  # the footer is there to remove
        text = flat(text_of(page))
        assert "Apache Software Foundation" not in text and "Licensed under" not in text
        assert "Apache HTTP Server Version 2.4" not in text  # the banner under the menu bar
        module = page.stem
        assert f"Apache Module {module}" in text
        assert "Summary" in text and "Description:" in text and f"{module}.c" in text
