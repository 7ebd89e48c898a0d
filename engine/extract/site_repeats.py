"""Blocks repeated on most pages of a site's folder: template text, left out of passages.

`strip_navigation` finds chrome on one page by its structure and its links. Some template text has
neither: the Apache manual's "Copyright 2026 The Apache Software Foundation. Licensed under the
Apache License, Version 2.0." line, the Python docs' "© Copyright 2001-2026, Python Software
Foundation … Found a bug?" footer in a plain ``<div>``. What gives it away is that every page of
the site carries the same text. Web crawlers and search engines detect such *templates* by
cross-page repetition (Bar-Yossef & Rajagopalan, "Template detection via data mining", WWW 2002;
the shingle-frequency boilerplate filters of Common Crawl pipelines such as CCNet and
datatrove's line deduplication): a block seen on most pages of a site says nothing about any one
page and only adds the same match to each of them.

Here the "site" is the page's folder. `site_repeats` samples up to `SAMPLE_PAGES` of its HTML
pages, spread evenly over the folder's sorted names, reads a bounded head and tail of each (a
footer sits at the end of a long page), parses them as `extract_html` does, strips navigation, and
keeps the normalised text (casefolded, white space collapsed) of every *leaf block* (a ``p``,
``div``, ``li``, ``td``, ``pre``… holding no other block) with at least `MIN_BLOCK_WORDS` words
that is on at least `MIN_SHARED_PAGES` and `MIN_SHARED_SHARE` of the sampled pages. The answer is
cached per folder and process (extraction runs in worker processes; each samples a folder once),
checked against the size and mtime of the sampled files. `drop_repeated_blocks` then removes those
blocks from a page, never its headings (they are the passages' locators), and nothing at all when
they are the page's whole text.
"""

from __future__ import annotations

import math
import os
import re
import threading
from collections import Counter, OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ExtractionError
from ..userfiles import open_user_file
from .boilerplate import strip_navigation

SAMPLE_PAGES = 8
SAMPLE_HEAD_BYTES = 64 * 1024
SAMPLE_TAIL_BYTES = 16 * 1024
MIN_FOLDER_PAGES = 4  # a folder of two or three pages is no site template
MIN_SHARED_PAGES = 3
MIN_SHARED_SHARE = 0.6
# "Note", "See also", "Syntax:", "Module Identifier:": short labels repeat on every page and still
# belong to the text they introduce.
MIN_BLOCK_WORDS = 3
CACHED_FOLDERS = 32

# Leaf blocks that may be template text; headings never are (they are locators).
_CANDIDATES = frozenset({"p", "div", "li", "td", "th", "dd", "dt", "pre", "address", "blockquote", "caption",
                         "figcaption", "center", "summary"})
# Elements that end a leaf: an element holding one of them holds more than one block of text.
# (htmlpage's BLOCK less line breaks, rules and the body itself, plus cells and headings.)
_BLOCK_LEVEL = frozenset(
    {"address", "article", "aside", "blockquote", "dd", "details", "dialog", "div", "dl", "dt",
     "fieldset", "figcaption", "figure", "footer", "form", "header", "li", "main", "ol", "p", "pre",
     "section", "summary", "table", "tbody", "thead", "tfoot", "tr", "ul", "caption", "center",
     "td", "th", "h1", "h2", "h3", "h4", "h5", "h6"})
_BLOCK_SELECTOR = ", ".join(sorted(_BLOCK_LEVEL))
# A word is a run of letters (a number or "V:0, I:1" in a table cell is data, not template prose);
# a CJK or kana character counts as one: those scripts put no spaces between words.
_WORD = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]|[^\W\d_]+")
_WHITE_SPACE = " \t\n\r\f\v\xa0"
_SEAM = b"\n<!-- librarian: head | tail -->\n"


@dataclass(frozen=True)
class _Sampled:
    listing_mtime_ns: int  # the folder's mtime when ``names`` was listed
    names: tuple[str, ...]  # the folder's HTML pages, sorted
    fingerprint: tuple[tuple[str, int, int], ...]  # (name, size, mtime_ns) of the sampled pages
    repeats: frozenset[str]


_cache: OrderedDict[str, _Sampled] = OrderedDict()
_cache_lock = threading.Lock()


def normalise(text: str) -> str:
    """The form blocks are compared in: casefolded, runs of white space made one space."""
    return " ".join(text.split()).casefold()


def site_repeats(path: Path) -> frozenset[str]:
    """The normalised texts of the blocks on most pages of ``path``'s folder (see the module
    docstring); empty for a folder with fewer than `MIN_FOLDER_PAGES` HTML pages or one that
    cannot be read."""
    folder = path.parent
    key = os.fspath(folder)
    try:
        listing_mtime = os.stat(folder).st_mtime_ns
        with _cache_lock:
            cached = _cache.get(key)
        if cached is not None and cached.listing_mtime_ns == listing_mtime:
            names = cached.names
        else:
            names = _html_pages(folder)
        sample = _spread(names, SAMPLE_PAGES)
        fingerprint = tuple(_identity(folder / name) for name in sample)
    except OSError:
        return frozenset()
    if cached is not None and cached.fingerprint == fingerprint:
        with _cache_lock:
            _cache.move_to_end(key)
        return cached.repeats
    repeats = _shared_blocks([folder / name for name in sample]) if len(names) >= MIN_FOLDER_PAGES else frozenset()
    with _cache_lock:
        _cache[key] = _Sampled(listing_mtime, names, fingerprint, repeats)
        _cache.move_to_end(key)
        while len(_cache) > CACHED_FOLDERS:
            _cache.popitem(last=False)
    return repeats


def drop_repeated_blocks(root: Any, repeats: frozenset[str]) -> int:
    """Remove from ``root`` (a parsed page's body, navigation already stripped) its leaf blocks
    whose text is in ``repeats``; returns how many went. Nothing goes when they hold all of the
    page's text: a page that is only the template's text keeps it."""
    if not repeats:
        return 0
    doomed = [node for node, text in _leaf_blocks(root) if text in repeats]
    if not doomed:
        return 0
    doomed_letters = sum(_letters(node.text(deep=True)) for node in doomed)
    if doomed_letters >= _visible_letters(root):
        return 0
    for node in doomed:
        node.decompose()
    return len(doomed)


def _html_pages(folder: Path) -> tuple[str, ...]:
    with os.scandir(folder) as entries:
        return tuple(sorted(entry.name for entry in entries
                            if entry.name.lower().endswith((".html", ".htm", ".xhtml")) and entry.is_file(follow_symlinks=False)))


def _spread(names: tuple[str, ...], count: int) -> tuple[str, ...]:
    """``count`` names spread evenly over ``names`` (all of them when there are no more): one
    sample per folder, the same whichever of its pages asks, so the cache serves them all."""
    if len(names) <= count:
        return names
    step = len(names) / count
    return tuple(names[int(i * step)] for i in range(count))


def _identity(path: Path) -> tuple[str, int, int]:
    st = os.stat(path, follow_symlinks=False)
    return path.name, st.st_size, st.st_mtime_ns


def _shared_blocks(pages: list[Path]) -> frozenset[str]:
    """The block texts on at least `MIN_SHARED_PAGES` and `MIN_SHARED_SHARE` of ``pages``."""
    seen: Counter[str] = Counter()
    read = 0
    for page in pages:
        try:
            texts = _block_texts(page)
        except (OSError, ExtractionError, ValueError):
            continue
        read += 1
        seen.update(texts)
    if read < MIN_FOLDER_PAGES:
        return frozenset()
    needed = max(MIN_SHARED_PAGES, math.ceil(MIN_SHARED_SHARE * read))
    return frozenset(text for text, pages_with in seen.items() if pages_with >= needed)


def _block_texts(page: Path) -> set[str]:
    """The normalised texts of ``page``'s leaf blocks of `MIN_BLOCK_WORDS` words or more."""
    texts: set[str] = set()
    for part in _head_and_tail(page):
        root = part.body
        if root is None:
            continue
        strip_navigation(root)
        texts.update(text for _, text in _leaf_blocks(root) if len(_WORD.findall(text)) >= MIN_BLOCK_WORDS)
    return texts


def _head_and_tail(page: Path) -> list[Any]:
    """The parsed first `SAMPLE_HEAD_BYTES` and last `SAMPLE_TAIL_BYTES` of ``page`` (one tree
    when the file is no longer than both). Decoded together, so the head's <meta charset> also
    decodes the tail; parsed apart, so a head cut inside a comment or script cannot swallow the
    tail."""
    from .htmlpage import decode_html, parse  # htmlpage imports this module

    with open_user_file(page) as fh:
        head = fh.read(SAMPLE_HEAD_BYTES + SAMPLE_TAIL_BYTES + 1)
        if len(head) <= SAMPLE_HEAD_BYTES + SAMPLE_TAIL_BYTES:
            return [parse(decode_html(head))]
        size = os.fstat(fh.fileno()).st_size
        fh.seek(max(SAMPLE_HEAD_BYTES, size - SAMPLE_TAIL_BYTES))
        tail = fh.read(SAMPLE_TAIL_BYTES).lstrip(bytes(range(0x80, 0xC0)))  # no split UTF-8 character
    text = decode_html(head[:SAMPLE_HEAD_BYTES] + _SEAM + tail, truncated=True)
    seam = _SEAM.decode("ascii").strip()
    head_text, found, tail_text = text.partition(seam)
    return [parse(head_text), parse(tail_text)] if found else [parse(text)]


def _leaf_blocks(root: Any) -> Iterator[tuple[Any, str]]:
    """(node, normalised text) of each non-empty leaf block under ``root``, in document order.

    Selector matching and text are selectolax's (C). Each block marks its ancestors as holding a
    block, climbing only until an ancestor already marked: every element is marked once, so the
    cost is linear in the page (and no recursion, whatever the nesting)."""
    blocks = root.css(_BLOCK_SELECTOR)
    holders: set[int] = set()
    stop = root.mem_id
    for block in blocks:
        parent = block.parent
        while parent is not None and parent.mem_id not in holders and parent.mem_id != stop:
            holders.add(parent.mem_id)
            parent = parent.parent
    for block in blocks:
        if block.tag in _CANDIDATES and block.mem_id not in holders:
            text = normalise(block.text(deep=True, separator=" "))
            if text:
                yield block, text


def _visible_letters(root: Any) -> int:
    """Characters other than white space in ``root``'s text, less those under the elements
    `sections` skips (scripts, styles, buttons…). Only the outermost of those count: whether one
    is inside another is found by climbing its ancestors, and each ancestor's answer is kept, so
    deep nesting costs no more than the page's size."""
    from .htmlpage import DROP  # htmlpage imports this module

    skipped = root.css(", ".join(sorted(DROP)))
    skipped_ids = {node.mem_id for node in skipped}
    outside: set[int] = {root.mem_id}  # elements known not to be within a skipped one
    inside: set[int] = set()  # and known to be
    hidden = 0
    for node in skipped:
        climbed = []
        parent = node.parent
        nested = False
        while parent is not None and parent.mem_id not in outside:
            if parent.mem_id in skipped_ids or parent.mem_id in inside:
                nested = True
                break
            climbed.append(parent.mem_id)
            parent = parent.parent
        (inside if nested else outside).update(climbed)
        if not nested:
            hidden += _letters(node.text(deep=True))
    return _letters(root.text(deep=True)) - hidden


def _letters(text: str) -> int:
    return len(text) - sum(map(text.count, _WHITE_SPACE))
