"""Text → passages sized in the encoder's word pieces.

A document's segments are joined into one text (segments separated by a blank line); passages are
character spans of that text, so a hit can be highlighted and opened in place. Packing is
sentence-aware: sentences (or lines, for code and lists) are added to a passage until it holds about
``target`` pieces; the next passage repeats the last short sentence for context; a sentence longer
than the target is cut in windows of pieces. Tiny sections are merged with their neighbours on the
same page rather than becoming passages of their own, but a new heading starts a new passage once
the current one is half full.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .extract.base import Extracted, Locator

# Offsets (start, end) of each word piece of a text, special tokens excluded.
PieceOffsets = Callable[[str], list[tuple[int, int]]]

SEGMENT_SEPARATOR = "\n\n"
_SENTENCE_END = re.compile(r"(?<=[.!?…。！？])[\"'”’)\]]*\s+(?=\S)")
_WORD = re.compile(r"\w+|[^\w\s]", re.UNICODE)


def word_offsets(text: str) -> list[tuple[int, int]]:
    """A tokenizer-free stand-in: words and punctuation marks (for tests and fallbacks)."""
    return [m.span() for m in _WORD.finditer(text)]


def tokenizer_offsets(tokenizer) -> PieceOffsets:
    """Piece offsets from a `tokenizers.Tokenizer` (its truncation must be off)."""

    def offsets(text: str) -> list[tuple[int, int]]:
        enc = tokenizer.encode(text, add_special_tokens=False)
        return [o for o in enc.offsets if o[1] > o[0]]

    return offsets


@dataclass(frozen=True, slots=True)
class Chunk:
    ordinal: int
    start: int  # character span in the document text
    end: int
    locator: Locator
    pieces: int


@dataclass(frozen=True, slots=True)
class _Unit:
    start: int
    end: int
    pieces: int
    segment: int  # index of the segment it came from


def document_text(extracted: Extracted) -> tuple[str, list[int]]:
    """The whole text of a document and the start offset of each segment in it."""
    parts: list[str] = []
    starts: list[int] = []
    position = 0
    for segment in extracted.segments:
        starts.append(position)
        parts.append(segment.text)
        position += len(segment.text) + len(SEGMENT_SEPARATOR)
    return SEGMENT_SEPARATOR.join(parts), starts


def _units(text: str, base: int) -> list[tuple[int, int]]:
    """Sentence or line spans of one segment's text (whitespace trimmed), offsets in the document."""
    spans: list[tuple[int, int]] = []

    def add(start: int, end: int) -> None:
        piece = text[start:end]
        stripped = piece.strip()
        if stripped:
            lead = len(piece) - len(piece.lstrip())
            spans.append((base + start + lead, base + start + lead + len(stripped)))

    for line in re.finditer(r"[^\n]+", text):
        start = line.start()
        for boundary in _SENTENCE_END.finditer(line.group()):
            add(start, line.start() + boundary.start())
            start = line.start() + boundary.end()
        add(start, line.end())
    return spans


def chunk(extracted: Extracted, offsets: PieceOffsets, *, target: int = 128, overlap: bool = True) -> tuple[str, list[Chunk]]:
    """Split a document into passages of about ``target`` pieces. Returns (document text, chunks)."""
    text, segment_starts = document_text(extracted)
    units: list[_Unit] = []
    for index, (segment, base) in enumerate(zip(extracted.segments, segment_starts, strict=True)):
        spans = _units(segment.text, base)
        if not spans:
            continue
        piece_starts = [base + s for s, _ in offsets(segment.text)]
        for start, end in spans:
            count = bisect.bisect_left(piece_starts, end) - bisect.bisect_left(piece_starts, start)
            if count <= target:
                units.append(_Unit(start, end, max(count, 1), index))
            else:
                units.extend(_split_long(start, end, piece_starts, target, index))
    pages = [seg.locator.page for seg in extracted.segments]
    chunks = _pack(units, pages, target=target, overlap=overlap)
    result: list[Chunk] = []
    for ordinal, group in enumerate(chunks):
        first = group[0]
        segment = extracted.segments[first.segment]
        locator = segment.locator
        if locator.line is not None:
            seg_start = segment_starts[first.segment]
            locator = Locator(page=locator.page, heading=locator.heading,
                              line=locator.line + text.count("\n", seg_start, first.start))
        result.append(Chunk(ordinal, first.start, group[-1].end, locator, sum(u.pieces for u in group)))
    return text, result


def _split_long(start: int, end: int, piece_starts: Sequence[int], target: int, segment: int) -> list[_Unit]:
    """Cut an over-long sentence into windows of ``target`` pieces on piece boundaries."""
    lo = bisect.bisect_left(piece_starts, start)
    hi = bisect.bisect_left(piece_starts, end)
    pieces = list(piece_starts[lo:hi])
    out: list[_Unit] = []
    for i in range(0, len(pieces), target):
        window_start = start if i == 0 else pieces[i]
        window_end = pieces[i + target] if i + target < len(pieces) else end
        out.append(_Unit(window_start, window_end, min(target, len(pieces) - i), segment))
    return out


def _pack(units: list[_Unit], pages: Sequence[int | None], *, target: int, overlap: bool) -> list[list[_Unit]]:
    groups: list[list[_Unit]] = []
    current: list[_Unit] = []
    size = 0
    for unit in units:
        new_section = bool(current) and unit.segment != current[-1].segment
        new_page = new_section and pages[unit.segment] != pages[current[-1].segment]
        if current and (size + unit.pieces > target or new_page or (new_section and size >= target // 2)):
            groups.append(current)
            last = current[-1]
            # Repeat a short closing sentence so a thought cut at the boundary is whole somewhere.
            if overlap and len(current) > 1 and last.pieces <= target // 4 and not new_section \
                    and last.pieces + unit.pieces <= target:
                current, size = [last], last.pieces
            else:
                current, size = [], 0
        current.append(unit)
        size += unit.pieces
    if current:
        # A tiny tail joins the passage before it rather than standing alone.
        if groups and size < target // 4 and sum(u.pieces for u in groups[-1]) + size <= target + target // 4 \
                and current[0].segment == groups[-1][-1].segment:
            tail = [u for u in current if u not in groups[-1]]
            groups[-1].extend(tail)
        else:
            groups.append(current)
    return groups
