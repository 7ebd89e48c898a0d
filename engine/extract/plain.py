"""Plain text (any encoding): paragraphs grouped into blocks, each with the line it starts on."""

from __future__ import annotations

import re
from pathlib import Path

from ..exclusions import generated_reason
from ._common import Collector, clean, line_blocks, read_text_file
from .base import Extracted, Locator

BLOCK_CHARS = 2000
BLOCK_LINES = 80
# A first line that holds a web address ("Source: https://...", "www.gnu.org/software/bash") says
# where the text came from, not what it is about.
_URL = re.compile(r"(?i)(?:\b[a-z][a-z0-9+.-]*://|\bwww\.)\S")


def text_segments(text: str, collector: Collector, *, first_line: int = 1) -> None:
    """Add ``text`` to ``collector`` as line-numbered blocks (shared with RTF and code)."""
    lines = clean(text, keep_lines=True).split("\n")
    for line, block in line_blocks(lines, max_chars=BLOCK_CHARS, max_lines=BLOCK_LINES, first_line=first_line):
        collector.add(block, Locator(line=line))
        if collector.full:
            break


def title_line(text: str) -> str | None:
    """A note's first line when it reads like a title ("Country Sourdough - my weekend loaf"): short,
    standing alone above a blank line, not ending like prose ("Dear Sir,", "It rained."), holding no
    web address."""
    lines = text.lstrip("\n").splitlines()
    if not lines:
        return None
    line = lines[0].strip()
    alone = len(lines) == 1 or not lines[1].strip()
    if alone and 3 <= len(line) <= 100 and len(line.split()) >= 2 and line[-1] not in ".,;:!?" \
            and any(c.isalpha() for c in line) and not _URL.search(line):
        return line
    return None


def extract_text(path: Path) -> Extracted:
    text, truncated = read_text_file(path)
    collector = Collector(keep_lines=True)
    reason = generated_reason(text, path, kind="text")
    if reason is not None:  # machine output: recorded with the reason, no passages
        return collector.result(None, "text", path, left_out=reason)
    text_segments(text, collector)
    if truncated:
        collector.full = True
    return collector.result(title_line(text), "text", path)
