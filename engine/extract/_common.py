"""Helpers every extractor shares: text clean-up, the size cap, encoding detection, line blocks.

Why a cap: one pathological file (a 200 MB log renamed .txt, a PDF with a million pages) must not
turn into a multi-gigabyte string that the chunker, the encoder and SQLite then choke on. We keep
the first `MAX_CHARS` characters, say so in the text and set ``Extracted.truncated``.

Why clean-up here and not in the chunker: NUL bytes break SQLite's FTS5 tokenizer and C strings,
lone surrogates (from broken PDFs or surrogate-escaped names) cannot be encoded as UTF-8 at all, and
control characters make snippets unreadable. Every extractor funnels its text through `clean`.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from collections.abc import Iterator
from pathlib import Path

from ..errors import ExtractionError
from ..paths import display_path
from ..userfiles import open_user_file
from .base import Extracted, Locator, Segment

HEADING_SEPARATOR = " › "

MAX_CHARS = 5_000_000
# Pages, sections or messages kept per file. Only degenerate files get near it (MAX_CHARS spread
# over this many segments is 50 characters each), and each segment is an object the worker pickles
# and the main process unpickles.
MAX_SEGMENTS = 100_000
# Worst case is 4 bytes per character (UTF-8 astral, UTF-32); reading more than this is wasted work.
MAX_TEXT_BYTES = MAX_CHARS * 4
SNIFF_BYTES = 64 * 1024
TRUNCATION_NOTE = "\n[… text truncated: the document is longer than {limit:,} characters]"
# Titles and heading paths are labels repeated on every passage: a hostile 10 MB <title> or TOC
# label must not be copied into thousands of rows.
MAX_LABEL_CHARS = 1000

# C0 controls except \t and \n, DEL, and C1 controls: deleted. Lone surrogates become U+FFFD.
_DELETE = {c: None for c in [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), *range(0x7F, 0xA0)]}
_DELETE.update({0x0D: None})  # after newline normalization any \r left is junk
_SURROGATES = re.compile("[\ud800-\udfff]")
_TRAILING_SPACE = re.compile(r"[ \t\u00a0]+\n")
_BLANK_RUNS = re.compile(r"\n{3,}")
# Page and paragraph separators count as line breaks for documents (not for line-numbered files).
_BREAKS = str.maketrans({"\u2028": "\n", "\u2029": "\n", "\x0c": "\n", "\x0b": "\n", "\x85": "\n"})


def normalize_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def clean(text: str, *, keep_lines: bool = False) -> str:
    """Make ``text`` safe to store and pleasant to read.

    With ``keep_lines`` the number of lines is preserved exactly (code, plain text and markdown
    carry line numbers that must keep pointing at the file); otherwise form feeds and Unicode
    separators become newlines, trailing spaces go and runs of blank lines shrink to one.
    """
    text = normalize_newlines(text)
    if not keep_lines:
        text = text.translate(_BREAKS)
    text = text.translate(_DELETE)
    if _SURROGATES.search(text):
        text = _SURROGATES.sub("\ufffd", text)
    if not keep_lines:
        text = _TRAILING_SPACE.sub("\n", text)
        text = _BLANK_RUNS.sub("\n\n", text)
    return text


def fallback_title(path: Path) -> str:
    """The title of a document that names none: its file name, shown as text (U+FFFD for bytes that
    are not UTF-8, so the title can be stored and searched)."""
    return display_path(path.stem or path.name)


class HeadingSections:
    """Text gathered under the path of open headings, as DOCX and ODT bodies are read: a heading
    closes the section before it and those of its level or deeper; the section's locator is the
    heading path ("Intro › Setup")."""

    def __init__(self, collector: Collector) -> None:
        self.collector = collector
        self.stack: list[tuple[int, str]] = []  # (level, heading) of open sections
        self.parts: list[str] = []
        self.first_heading: str | None = None

    def add(self, text: str) -> None:
        self.parts.append(text)

    def heading(self, level: int, text: str, *, body: str | None = None) -> None:
        """Open a section; its text starts with ``body`` (default: the heading itself)."""
        self.first_heading = self.first_heading or text
        self.flush()
        while self.stack and self.stack[-1][0] >= level:
            self.stack.pop()
        self.stack.append((level, text[:300]))  # a label, not a paragraph
        self.parts.append(text if body is None else body)

    def flush(self) -> None:
        if self.parts:
            path = HEADING_SEPARATOR.join(h for _, h in self.stack) or None
            self.collector.add("\n".join(self.parts), Locator(heading=path))
            self.parts.clear()


class Collector:
    """Accumulates cleaned segments under the `MAX_CHARS` budget.

    Extractors loop over pages/sections and stop as soon as ``full`` is set, so a huge document
    costs no more than its first few million characters.
    """

    def __init__(self, *, max_chars: int | None = None, keep_lines: bool = False) -> None:
        self.segments: list[Segment] = []
        self.max_chars = MAX_CHARS if max_chars is None else max_chars  # read late: tests lower it
        self.max_segments = MAX_SEGMENTS
        self.keep_lines = keep_lines
        self.total = 0
        self.full = False
        self.segments_capped = False

    def add(self, text: str, locator: Locator | None = None) -> None:
        if self.full:
            return
        text = clean(text, keep_lines=self.keep_lines)
        if not self.keep_lines:
            text = text.strip()
        if not text.strip():
            return
        if len(self.segments) >= self.max_segments:
            self.full = self.segments_capped = True
            return
        room = self.max_chars - self.total
        if len(text) > room:
            text = text[:room] + TRUNCATION_NOTE.format(limit=self.max_chars)
            self.full = True
        self.total += len(text)
        self.segments.append(Segment(text=text, locator=_bounded(locator or Locator())))

    def result(self, title: str | None, kind: str, path: Path, *, notes: tuple[str, ...] = (),
               left_out: str | None = None) -> Extracted:
        title = clean((title or "")[:MAX_LABEL_CHARS]).strip().replace("\n", " ")
        if self.segments_capped:
            notes = (f"text truncated: only the first {self.max_segments:,} pages or sections are indexed", *notes)
        elif self.full:
            notes = (truncation_note(self.max_chars), *notes)
        return Extracted(
            title=title or fallback_title(path), segments=self.segments, kind=kind, truncated=self.full,
            notes=notes, left_out=left_out,
        )


def truncation_note(limit: int) -> str:
    return f"text truncated: only the first {limit:,} characters are indexed"


def _bounded(locator: Locator) -> Locator:
    if locator.heading is None or len(locator.heading) <= MAX_LABEL_CHARS:
        return locator
    return Locator(page=locator.page, heading=locator.heading[:MAX_LABEL_CHARS] + "…", line=locator.line)


# --------------------------------------------------------------------------------------- encodings

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16-LE: its BOM starts with the same two bytes
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_WESTERN = set("àâäáãåæçèéêëìíîïñòóôöõøœùúûüýÿßÀÂÄÁÃÅÆÇÈÉÊËÌÍÎÏÑÒÓÔÖÕØŒÙÚÛÜÝŸ€“”‘’„–—…«»°·×")


def read_text_file(path: Path) -> tuple[str, bool]:
    """Read and decode a text file of unknown encoding; returns (text, truncated)."""
    data, truncated = read_prefix(path, MAX_TEXT_BYTES)
    return decode_text(data, truncated=truncated), truncated


def read_prefix(path: Path, limit: int) -> tuple[bytes, bool]:
    """The first ``limit`` bytes of a user file and whether there was more (a FIFO or device is
    refused by `open_user_file`, never waited on)."""
    with open_user_file(path) as fh:
        data = fh.read(limit + 1)
    return data[:limit], len(data) > limit


def decode_text(data: bytes, *, truncated: bool = False) -> str:
    """BOM, then strict UTF-8, then charset_normalizer on the first 64 KB (see PITFALLS §7).

    Raises ExtractionError("binary file, not text") when the bytes do not look like text. With
    ``truncated`` the data was cut at an arbitrary byte, so a split final character is tolerated.
    """
    for bom, bom_encoding in _BOMS:
        if data.startswith(bom):
            return data[len(bom) :].decode(bom_encoding, "replace")
    sample = data[:SNIFF_BYTES]
    if b"\x00" in sample:
        # NULs never occur in 8-bit text, but every other byte of BOM-less UTF-16 is one.
        encoding = _detect(sample)
        if encoding is None or not encoding.startswith(("utf_16", "utf_32")):
            raise ExtractionError("binary file, not text")
        return data.decode(encoding, "replace")
    try:
        text = codecs.getincrementaldecoder("utf-8")("strict").decode(data, final=not truncated)
    except UnicodeDecodeError:
        if _mostly_utf8(sample):
            text = data.decode("utf-8", "replace")
        else:
            encoding = _detect(sample)
            if encoding is None:
                raise ExtractionError("binary file, not text") from None
            text = data.decode(encoding, "replace")
    if _looks_binary(text[:SNIFF_BYTES]):
        raise ExtractionError("binary file, not text")
    return text


_UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")


def _mostly_utf8(sample: bytes) -> bool:
    """UTF-8 with a few damaged bytes (two files glued together, a bad copy) is still UTF-8.

    Legacy 8-bit text almost never forms valid multi-byte UTF-8 sequences, so many valid ones and
    few errors mean "damaged UTF-8", to be decoded with replacement characters.
    """
    valid = len(_UTF8_MULTIBYTE.findall(sample))
    errors = sample.decode("utf-8", "replace").count("\ufffd") - sample.count("\ufffd".encode())
    return valid > 0 and errors * 10 <= valid


def _detect(sample: bytes) -> str | None:
    import charset_normalizer  # imported lazily: most files are UTF-8 and never need it

    best = charset_normalizer.from_bytes(sample).best()
    if best is None:
        return None  # "a strong indicator that the source is binary" (charset_normalizer docs)
    encoding: str = best.encoding
    if encoding in ("ascii", "utf_8", "cp1252") or encoding.startswith(("utf_16", "utf_32")):
        return encoding
    # charset_normalizer often calls short Western European text cp1250 ("coûte" -> "coűte",
    # "naïve" -> "naďve"). Prefer cp1252 when it decodes cleanly into common Western
    # characters at least as well, and the guess itself was Latin script (Greek, Cyrillic etc. keep
    # their guess: their bytes also decode as Western letters under cp1252).
    try:
        western = sample.decode("cp1252")
    except UnicodeDecodeError:
        return encoding
    guessed = sample.decode(encoding, "replace")
    if _latin_share(guessed) >= 0.5:
        score = _western_share(western)
        if score >= 0.95 and score >= _western_share(guessed):
            return "cp1252"
    return encoding


def _western_share(text: str) -> float:
    chars = [c for c in text if ord(c) > 127]
    return 1.0 if not chars else sum(c in _WESTERN for c in chars) / len(chars)


def _latin_share(text: str) -> float:
    letters = [c for c in text if ord(c) > 127 and c.isalpha()]
    if not letters:
        return 1.0
    return sum(unicodedata.name(c, "").startswith("LATIN") for c in letters) / len(letters)


_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1a\x1c-\x1f]")


def _looks_binary(sample: str) -> bool:
    # Valid UTF-8 can still be binary (a file of \x01 bytes). Real text has almost no C0 controls.
    return len(sample) > 0 and len(_CONTROL.findall(sample)) > 0.05 * len(sample)


# --------------------------------------------------------------------------------------- line blocks


def line_blocks(lines: list[str], *, max_chars: int, max_lines: int, first_line: int = 1) -> Iterator[tuple[int, str]]:
    """Group lines into blocks of whole paragraphs (runs of non-blank lines), yielding
    (1-based first line, text).

    Segments of one paragraph each would give the chunker thousands of slivers; one segment for the
    whole file would give every passage the same line number. Blocks of a few paragraphs keep
    locators useful. A paragraph longer than the limits is cut every ``max_lines`` lines. Blank
    lines inside a block are kept so that line numbers within it stay countable.
    """
    start: int | None = None  # index of the block's first line
    size = 0
    end = 0  # index one past the block's last non-blank line
    i = 0
    n = len(lines)
    while i < n:
        if not lines[i].strip():
            i += 1
            continue
        j = i  # paragraph [i, j)
        while j < n and lines[j].strip():
            j += 1
        para = sum(len(line) + 1 for line in lines[i:j])
        if start is not None and (size + para > max_chars or j - start > max_lines):
            yield start + first_line, "\n".join(lines[start:end])
            start = None
        if start is None:
            start, size = i, 0
        while j - start > max_lines:  # one very long paragraph: hard cut
            yield start + first_line, "\n".join(lines[start : start + max_lines])
            start += max_lines
            size = 0
        size += para
        end = j
        i = j
    if start is not None and start < end:
        yield start + first_line, "\n".join(lines[start:end])
