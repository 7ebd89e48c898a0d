"""Source code and config files: blocks of lines (split at blank lines) with their first line.

No language parsing on purpose: a tokenizer per language would be heavy to ship, and blank lines
already separate functions and config sections well enough for search. Lines are never merged or
renumbered, so ``locator.line`` opens the editor at the right place.
"""

from __future__ import annotations

from pathlib import Path

from ..exclusions import generated_reason
from ._common import Collector, clean, line_blocks, read_text_file
from .base import Extracted, Locator
from .titles import comment_title

BLOCK_CHARS = 3000
BLOCK_LINES = 60


def extract_code(path: Path) -> Extracted:
    text, truncated = read_text_file(path)
    reason = generated_reason(text, path, kind="code")
    if reason is not None:  # minified or encoded: recorded with the reason, no passages
        return Collector().result(None, "code", path, left_out=reason)
    lines = clean(text, keep_lines=True).split("\n")
    collector = Collector(keep_lines=True)
    for line, block in line_blocks(lines, max_chars=BLOCK_CHARS, max_lines=BLOCK_LINES):
        collector.add(block, Locator(line=line))
        if collector.full:
            break
    if truncated:
        collector.full = True
    return collector.result(comment_title(text), "code", path)
