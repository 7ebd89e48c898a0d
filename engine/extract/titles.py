"""Titles for formats that carry none in their metadata: text notes, reStructuredText, code, web pages.

A title is what a person would call the document: its first heading, or a first line that reads
like one. What is not a title, though it often comes first: a web address ("Source: https://..."),
a lone version number ("1.7.7"), decoration ("====="), markup directives (".. highlight:: c"),
a shebang, an editor modeline, a copyright or licence line. When no line qualifies the file name
stays the title (`_common.fallback_title`): a prose sentence cut in the middle is worse than a name.

Documentation generators append a permalink mark to every heading (Sphinx "¶", MkDocs "¶" or "#",
icon fonts U+F0C1, "§", "🔗"); `strip_permalink` takes it off titles and heading paths alike.
"""

from __future__ import annotations

import re

# Scanned for a title: a title sits at the top, and the scan must stay cheap on a 5 MB file.
TITLE_SCAN_CHARS = 10_000
TITLE_SCAN_LINES = 60
MAX_TITLE_CHARS = 120
MAX_TITLE_WORDS = 20

# Marks that generators put before or after a heading's text (not "#" glued to a word: "C#").
_PERMALINK_TAIL = re.compile(r"(?:\s*[¶§\uf0c1\U0001f517]|\s+#)+\s*$|^\s*#\s*$")
_PERMALINK_HEAD = re.compile(r"^\s*(?:[¶§\uf0c1\U0001f517]|#(?=\s))\s*")
_ATTRIBUTE_LIST = re.compile(r"\s*\{\s*[#.][^{}]*\}\s*$")  # "Install {#install}" (Pandoc, MkDocs)

_URL = re.compile(r"(?i)(?:\b[a-z][a-z0-9+.-]*://|\bwww\.)\S")
_VERSION = re.compile(r"(?i)^(?:v(?:ersion)?\.?\s*)?\d+(?:[.\-_]\d+)*(?:[.\-]?[a-z]+\d*)?$")
_DECORATION = re.compile(r"^\s*([=\-~^*+#\"'`:._<>])\1{2,}\s*$")
_ATX = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)(?:\s+#+)?\s*$")
_NOT_TITLE_LINE = re.compile(
    r"""(?ix)^(?:
        \.\.(?:\s|$)                 # reStructuredText directive or comment
      | :[\w-]+:(?:\s|$)             # reStructuredText field (":orphan:", ":tocdepth: 2")
      | \#!                          # shebang
      | <!--                         # HTML comment
      | .*-\*-.*-\*-                 # Emacs modeline
      | (?:vim?|ex):                 # vi modeline
      | .*\bcopyright\b.*\d | .*\(c\)\s*\d | .*©   # a copyright notice (not a heading "Copyright")
      | .*\bspdx-license-identifier\b
    )""")
_LIST_ITEM = re.compile(r"^\s*(?:[-*+•]\s|\d+[.)]\s|\[[ xX]\]\s)")
_PROMPT = re.compile(r"^\s*(?:\$|>>>|%|#)\s")  # a terminal transcript: "$ make", ">>> import os"
_STUB = re.compile(r"(?i)^\s*(?:todo|tbd|fixme|wip|draft|xxx|notes?)\s*:?\s*$")
# Inline reStructuredText: roles (:mod:`csv`), literals (``x``), emphasis; " --- " is an em dash.
_RST_ROLE = re.compile(r":[\w.:+-]+:`([^`]*)`")
_RST_LITERAL = re.compile(r"``([^`]+)``|`([^`]+)`_{0,2}")
_RST_STRONG = re.compile(r"\*\*([^*]+)\*\*|\*([^*]+)\*")
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_EMPHASIS = re.compile(r"(\*\*|__|\*|_|`)(.+?)\1")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])")


def strip_permalink(label: str) -> str:
    """``label`` without the permalink marks generators add to headings ("Lists¶" -> "Lists")."""
    label = _PERMALINK_TAIL.sub("", label)
    label = _PERMALINK_HEAD.sub("", label)
    return _ATTRIBUTE_LIST.sub("", label).strip()


def plain_heading(raw: str) -> str:
    """A heading's words without inline markup (Markdown or reStructuredText) or permalink marks."""
    text = _LINK.sub(r"\1", raw[:500])  # a heading is a label, and the regexes stay cheap
    text = _RST_ROLE.sub(r"\1", text)
    text = _RST_LITERAL.sub(lambda m: m.group(1) or m.group(2), text)
    text = _RST_STRONG.sub(lambda m: m.group(1) or m.group(2), text)
    text = _EMPHASIS.sub(r"\2", text)
    text = text.replace(" --- ", " — ")
    return strip_permalink(" ".join(text.split()))


def _skipped(line: str) -> bool:
    """A line that comes before a title without being one (see the module docstring)."""
    stripped = line.strip()
    if sum(c.isalpha() for c in stripped) < 2 or _DECORATION.match(stripped):
        return True  # blank, numbers, rules
    return bool(_VERSION.match(stripped) or _URL.search(stripped) or _NOT_TITLE_LINE.match(stripped))


def _reads_like_title(line: str, following: str | None) -> bool:
    """A short label that does not end like prose and is not continued on the next line."""
    words = line.split()
    return (
        3 <= len(line) <= MAX_TITLE_CHARS and 2 <= len(words) <= MAX_TITLE_WORDS
        and line[-1] not in ".,;:!?" and "\t" not in line
        and not _LIST_ITEM.match(line) and not _STUB.match(line) and not _PROMPT.match(line)
        and not (following and following.strip()[:1].islower())  # a sentence going on
    )


def text_title(text: str) -> str | None:
    """The title of a plain-text note or reStructuredText page: its first heading (underlined,
    over- and underlined, or "# Heading"), or a first line that reads like a title; else None."""
    lines = text[:TITLE_SCAN_CHARS].lstrip("\ufeff").splitlines()[:TITLE_SCAN_LINES]
    in_directive = False  # the indented body of a ".. index::" directive or a ".." comment
    for index, raw in enumerate(lines):
        if in_directive and (raw[:1].isspace() or not raw.strip()):
            continue
        in_directive = raw.startswith("..")
        if _skipped(raw):
            continue
        line = raw.strip()
        following = lines[index + 1] if index + 1 < len(lines) else None
        atx = _ATX.match(raw)
        if atx:
            return plain_heading(atx.group(2)) or None
        if following is not None and _DECORATION.match(following) and len(following.strip()) >= 3:
            return plain_heading(line) or None
        return line if _reads_like_title(line, following) else None
    return None


# ------------------------------------------------------------------------------------------ code

_COMMENT_MARK = re.compile(r"^\s*(?:#+|//+|--+|;+|%+|/\*+|\*+/?|REM\b)\s?", re.IGNORECASE)
_DOCSTRING_OPEN = re.compile(r"^\s*[rRuUbB]{0,2}(\"\"\"|''')")
_DOC_TAG = re.compile(r"^@(?:brief|summary)\s+", re.IGNORECASE)


def _leading_comment(text: str) -> list[str]:
    """The comment lines and module docstring a code file opens with, without their markers."""
    out: list[str] = []
    lines = text[:TITLE_SCAN_CHARS].lstrip("\ufeff").splitlines()[:TITLE_SCAN_LINES]
    quote: str | None = None
    for line in lines:
        if quote is not None:
            end = line.find(quote)
            out.append(line[:end] if end >= 0 else line)
            if end >= 0:
                quote = None
            continue
        opened = _DOCSTRING_OPEN.match(line)
        if opened:
            quote = opened.group(1)
            rest = line[opened.end():]
            end = rest.find(quote)
            out.append(rest[:end] if end >= 0 else rest)
            if end >= 0:
                quote = None
            continue
        if line.strip().startswith("#!") or not line.strip():
            out.append("")
            continue
        marker = _COMMENT_MARK.match(line)
        if marker is None:
            break  # the code starts
        out.append(line[marker.end():].rstrip().rstrip("*/").rstrip())
    return out


_FIELD = re.compile(r"^[A-Z][\w -]{0,24}:(?:\s|$)")  # "Author: ...", "Created: 2016-07-08", "Usage:"


def _summary_lines(paragraph: list[str]) -> list[str]:
    """The lines of a comment's summary: up to the first "Field: value" line after it."""
    lines = [line for line in paragraph if not _skipped(line)]
    for index, line in enumerate(lines[1:], start=1):
        if _FIELD.match(line):
            return lines[:index]
    return lines


def comment_title(text: str) -> str | None:
    """The title of a code file: the summary its opening comment or docstring gives (PEP 257's
    first line, "aliasconv.sh - convert csh aliases to bash aliases"), its first sentence when the
    summary runs over several lines; None when the file opens with code or only a licence."""
    paragraphs: list[list[str]] = [[]]
    for line in _leading_comment(text):
        if line.strip():
            paragraphs[-1].append(line.strip())
        elif paragraphs[-1]:
            paragraphs.append([])
    for paragraph in paragraphs:
        if not paragraph or all(_skipped(line) for line in paragraph):
            continue
        if any(_NOT_TITLE_LINE.match(line) or "licen" in line.casefold() for line in paragraph):
            continue  # the licence block
        summary = _DOC_TAG.sub("", " ".join(_summary_lines(paragraph)))
        summary = _SENTENCE_END.split(summary, maxsplit=1)[0].rstrip(".").strip()
        if 2 <= len(summary.split()) <= MAX_TITLE_WORDS and len(summary) <= MAX_TITLE_CHARS:
            return summary
        return None
    return None
