"""PDF text reflowed into paragraphs: the line breaks of the printed page are not the text's.

PDFium returns a page's text line by line, as it was set: a paragraph of five printed lines comes
back as five lines, and a word hyphenated at a line end as two halves ("com-" / "mand"). Read like
that, a preview is ragged and "command" does not match. What is kept, and what joined:

- a line that runs to the right margin continues on the next line (they are joined with a space);
  a line that stops well short of it ends its paragraph (the last line of a paragraph, a heading,
  a line of code), as does a blank line, a next line that opens a list item ("2. ", "• "), and a
  short next line that starts a sentence after a finished one (a heading: "3.1 Shell Syntax");
- "com-" + "mand": a lowercase letter before the hyphen and a lowercase letter after the break is
  a word broken by hyphenation and is joined without the hyphen ("command"), unless the document
  itself spells the hyphenated form elsewhere and never the joined one ("built-in" stays).

The right margin is estimated per page from line lengths in characters (the longest lines of the
page, less a tolerance for proportional fonts), so no geometry is needed.
"""

from __future__ import annotations

import re
from collections.abc import Collection

# A line at least this share of the page's full line length runs to the margin.
FULL_LINE_SHARE = 0.75
FULL_LINE_PERCENTILE = 0.8  # the page's full line length: longer than most lines, not its outliers
MIN_LINES_FOR_WIDTH = 4  # fewer lines than this say nothing about the margin: no joining

_LIST_ITEM = re.compile(r"^\s*(?:[•◦▪‣·\-–*]\s|\(?\d{1,3}[.)]\s|\(?[a-z][.)]\s)")
_HYPHENATED_END = re.compile(r"([^\W\d_]*[a-z])-$")
_LOWER_START = re.compile(r"^([a-z][^\W\d_]*)")
_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")


def document_words(pages: list[str]) -> set[str]:
    """The lowercased words and hyphenated compounds of a document, for `reflow`'s choice between
    "built-in" and "command"."""
    words: set[str] = set()
    for text in pages:
        words.update(word.lower() for word in _WORD.findall(text))
    return words


def full_line_length(lines: list[str]) -> int | None:
    """The length in characters of a line that runs to the margin; None when the page is too
    short to tell."""
    lengths = sorted(len(line) for line in lines if line.strip())
    if len(lengths) < MIN_LINES_FOR_WIDTH:
        return None
    return lengths[int(FULL_LINE_PERCENTILE * (len(lengths) - 1))]


def reflow(text: str, words: Collection[str] = ()) -> str:
    """``text`` (one PDF page) with its paragraphs on one line each, separated by line breaks; blank
    lines stay. ``words``: the document's vocabulary (`document_words`)."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    full = full_line_length(lines)
    paragraphs: list[list[str]] = []  # each a list of pieces, joined at the end (no quadratic growth)
    previous = ""  # the last physical line added
    for line in lines:
        if not line.strip():
            if paragraphs and paragraphs[-1]:
                paragraphs.append([])  # a blank line stays
            previous = ""
            continue
        if paragraphs and paragraphs[-1] and _continues(previous, line, full):
            _join(paragraphs[-1], line.lstrip(), words)
        else:
            paragraphs.append([line])
        previous = line
    while paragraphs and not paragraphs[-1]:
        paragraphs.pop()
    return "\n".join("".join(pieces) for pieces in paragraphs)


def _continues(previous: str, line: str, full: int | None) -> bool:
    if full is None or len(previous) < FULL_LINE_SHARE * full or _LIST_ITEM.match(line):
        return False
    # A short line standing after a finished sentence is a heading or a one-line paragraph
    # ("...how the shell executes commands." / "3.1 Shell Syntax"), not a paragraph's last line.
    first = line.lstrip()[:1]
    standalone = len(line) < FULL_LINE_SHARE * full and (first.isupper() or first.isdigit())
    return not (previous[-1] in ".!?:" and standalone)


def _join(pieces: list[str], line: str, words: Collection[str]) -> None:
    """Append ``line`` to the paragraph ``pieces``: after a space, or glued to a hyphenated word."""
    last = pieces[-1]
    end = _HYPHENATED_END.search(last[-64:]) if last.endswith("-") else None
    start = _LOWER_START.match(line) if end else None
    if end and start:
        head, tail = end.group(1), start.group(1)
        compound = f"{head}-{tail}".lower()
        if compound in words and (head + tail).lower() not in words:
            pieces.append(line)  # a real hyphen at the line end: "built-" + "in"
        else:
            pieces[-1] = last[:-1]  # hyphenation: "com-" + "mand"
            pieces.append(line)
        return
    pieces.append(" ")
    pieces.append(line)
