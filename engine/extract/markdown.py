"""Markdown: one segment per heading section, located by heading path and first line.

A small line scanner instead of a Markdown library: we need only ATX/setext headings, fenced code
(so a ``# comment`` inside a fence is not a heading) and YAML front matter. The body text is kept as
written; Markdown markup is readable as it is and search does not suffer from it.
"""

from __future__ import annotations

import re
from pathlib import Path

from ._common import HEADING_SEPARATOR, Collector, clean, read_text_file
from .base import Extracted, Locator
from .titles import plain_heading, text_title

SEP = HEADING_SEPARATOR
_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_FRONT_TITLE = re.compile(r"^title:\s*(.+?)\s*$", re.IGNORECASE)


def heading_text(raw: str) -> str:
    """Strip inline markup and permalink marks so the heading path reads as plain words."""
    return plain_heading(raw)


class _Sections:
    def __init__(self, collector: Collector) -> None:
        self.collector = collector
        self.stack: list[tuple[int, str]] = []  # (level, heading) of open sections
        self.lines: list[str] = []
        self.start = 1

    def flush(self) -> None:
        while self.lines and not self.lines[-1].strip():
            self.lines.pop()
        if any(line.strip() for line in self.lines):
            path = SEP.join(h for _, h in self.stack) or None
            self.collector.add("\n".join(self.lines), Locator(heading=path, line=self.start))
        self.lines = []

    def heading(self, level: int, text: str, line: int) -> None:
        self.flush()
        while self.stack and self.stack[-1][0] >= level:
            self.stack.pop()
        if text:
            self.stack.append((level, text))
        self.start = line
        self.lines = [text] if text else []


def extract_markdown(path: Path) -> Extracted:
    text, truncated = read_text_file(path)
    lines = clean(text, keep_lines=True).split("\n")
    collector = Collector()
    sections = _Sections(collector)
    title: str | None = None
    front_title: str | None = None

    i = 0
    if lines and lines[0].strip() == "---":  # YAML front matter: metadata, not body text
        for j in range(1, min(len(lines), 200)):
            if lines[j].strip() in ("---", "..."):
                for meta in lines[1:j]:
                    m = _FRONT_TITLE.match(meta)
                    if m:
                        front_title = m.group(1).strip("\"'")
                i = j + 1
                break
    sections.start = i + 1
    opening = "\n".join(lines[i : i + 60])  # for a title when no H1 names the document

    fence: str | None = None
    prev_is_para = False  # a setext underline only counts right after a paragraph line
    while i < len(lines) and not collector.full:
        line = lines[i]
        number = i + 1
        i += 1
        after_para, prev_is_para = prev_is_para, False
        if fence is not None:
            if line.strip().startswith(fence) and not line.strip().strip(fence[0]):
                fence = None
            sections.lines.append(line)
            continue
        m = _FENCE.match(line)
        if m:
            fence = m.group(1)
            sections.lines.append(line)
            continue
        m = _ATX.match(line)
        if m:
            level, text = len(m.group(1)), heading_text(m.group(2) or "")
            if level == 1 and title is None:
                title = text
            sections.heading(level, text, number)
            continue
        m = _SETEXT.match(line)
        prev = sections.lines[-1] if sections.lines else ""
        # "---" under a paragraph line is an H2; after a blank line it is a horizontal rule.
        if m and after_para and not prev.lstrip().startswith(("-", "*", "+", ">", "|")):
            sections.lines.pop()
            level, text = (1 if m.group(1)[0] == "=" else 2), heading_text(prev)
            if level == 1 and title is None:
                title = text
            sections.heading(level, text, number - 1)
            continue
        sections.lines.append(line)
        prev_is_para = bool(line.strip())
    sections.flush()
    if truncated:
        collector.full = True
    return collector.result(front_title or title or text_title(opening), "markdown", path)
