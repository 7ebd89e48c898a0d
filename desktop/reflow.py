"""Hard-wrapped text shown as paragraphs in the preview (display only: the index keeps the file's lines).

Notes, e-mails and READMEs are often wrapped by hand at 72-100 columns. In a pane narrower than
that, each line wraps again and the text reads ragged ("about 1 cm deep at a / shallow angle").
`unwrap` joins a line that runs to the text's usual right margin with the next one, the way a
reader sees the paragraph; short lines (headings, list items, addresses, code) keep their breaks.
It also returns where each character went, so the passage and word spans the engine gives for the
original text still mark the same words.
"""

from __future__ import annotations

import re

FULL_LINE_SHARE = 0.75  # a line this long, of the text's usual full length, runs to the margin
FULL_LINE_PERCENTILE = 0.8
MIN_LINES = 4  # fewer lines than this say nothing about a margin
MIN_MARGIN = 60  # characters: text wrapped narrower than this is a list or a log, not prose
MAX_HANGING_INDENT = 4  # deeper than this, an indented line is a block of its own (code, a quote)

_OWN_LINE = re.compile(r"^\s*(?:[-*+•]\s|\d{1,3}[.)]\s|#{1,6}\s|```|~~~|\||>|$)")


def unwrap(text: str) -> tuple[str, list[int]]:
    """``text`` with its hand-wrapped paragraphs on one line, and for each position of ``text``
    (and one past its end) the matching position in the result."""
    lines = text.split("\n")
    lengths = sorted(len(line) for line in lines if line.strip())
    if len(lengths) < MIN_LINES:
        return text, list(range(len(text) + 1))
    full = lengths[int(FULL_LINE_PERCENTILE * (len(lengths) - 1))]
    if full < MIN_MARGIN:
        return text, list(range(len(text) + 1))
    out: list[str] = []
    mapping = [0] * (len(text) + 1)
    old = new = 0
    for index, line in enumerate(lines):
        body = line
        if index > 0:
            previous = lines[index - 1]
            indent = len(line) - len(line.lstrip(" \t"))
            if len(previous) >= FULL_LINE_SHARE * full and not _OWN_LINE.match(line) and indent <= MAX_HANGING_INDENT:
                for k in range(1 + indent):  # the line break and the hanging indent become one space
                    mapping[old + k] = new
                out.append(" ")
                old, new = old + 1 + indent, new + 1
                body = line[indent:]
            else:
                mapping[old] = new
                out.append("\n")
                old, new = old + 1, new + 1
        for k in range(len(body)):
            mapping[old + k] = new + k
        out.append(body)
        old, new = old + len(body), new + len(body)
    mapping[old] = new
    return "".join(out), mapping
