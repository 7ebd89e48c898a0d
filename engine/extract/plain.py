"""Plain text (any encoding): paragraphs grouped into blocks, each with the line it starts on."""

from __future__ import annotations

from pathlib import Path

from ..exclusions import generated_reason
from ._common import Collector, clean, line_blocks, read_text_file
from .base import Extracted, Locator
from .titles import text_title

BLOCK_CHARS = 2000
BLOCK_LINES = 80


def text_segments(text: str, collector: Collector, *, first_line: int = 1) -> None:
    """Add ``text`` to ``collector`` as line-numbered blocks (shared with RTF and code)."""
    lines = clean(text, keep_lines=True).split("\n")
    for line, block in line_blocks(lines, max_chars=BLOCK_CHARS, max_lines=BLOCK_LINES, first_line=first_line):
        collector.add(block, Locator(line=line))
        if collector.full:
            break


def extract_text(path: Path) -> Extracted:
    text, truncated = read_text_file(path)
    collector = Collector(keep_lines=True)
    reason = generated_reason(text, path, kind="text")
    if reason is not None:  # machine output: recorded with the reason, no passages
        return collector.result(None, "text", path, left_out=reason)
    text_segments(text, collector)
    if truncated:
        collector.full = True
    return collector.result(text_title(text), "text", path)
