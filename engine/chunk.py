"""Text → passages sized in the encoder's word pieces.

A document's segments are joined into one text (segments separated by a blank line); passages are
character spans of that text, so a hit can be highlighted and opened in place. Packing is
sentence-aware: sentences (or lines, for code and lists) are added to a passage until it holds about
``target`` pieces; the next passage repeats the last short sentence for context; a sentence longer
than the target is cut in windows of pieces. Tiny sections are merged with their neighbours on the
same page rather than becoming passages of their own, but a new heading starts a new passage once
the current one is half full.

What one file may cost is bounded (a hostile file must not flood the index or the main process):

- text is tokenized in windows of `TOKENIZE_WINDOW_CHARS`, never a whole multi-megabyte segment at
  once (one 5-million-character line made the tokenizer allocate over a gigabyte);
- a document whose pages or sections are so short that it would get far more passages than its
  text needs (50,000 pages holding a page number each) is packed again with short pages and
  sections merged into their neighbours, so its passage count follows its text, not its page
  count. Ordinary decks and books never get there: that takes more than `PASSAGE_SLACK` passages
  averaging under 1/`PASSAGE_RATIO` of the target (about 15 words at 160 pieces);
- past `MAX_PASSAGES` the rest is dropped.

The last two are reported in `Chunked.notes`, with the extractor's own notes, for the indexer to
show next to the file.
"""

from __future__ import annotations

import bisect
import math
import re
from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .extract.base import Extracted, Locator

# Offsets (start, end) of each word piece of a text, special tokens excluded.
PieceOffsets = Callable[[str], list[tuple[int, int]]]

SEGMENT_SEPARATOR = "\n\n"
TOKENIZE_WINDOW_CHARS = 8192
# Past PASSAGE_RATIO times the passages the text needs (plus PASSAGE_SLACK, so short documents keep
# every page), near-empty pages and sections are merged. MAX_PASSAGES is a backstop: MAX_CHARS of text at one piece per character (CJK) and the
# default target of 128 pieces makes 39,000 passages; real prose makes about 8,000 at 160.
PASSAGE_RATIO = 8
PASSAGE_SLACK = 64
MAX_PASSAGES = 40_000
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


@dataclass(frozen=True, slots=True)
class Chunked:
    """A document's text, its passages, and the problems a user should see (extraction's notes
    first, then the chunker's: passages merged or capped)."""

    text: str
    chunks: list[Chunk]
    notes: tuple[str, ...] = ()


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
    """Split a document into passages of about ``target`` pieces. Returns (document text, chunks).

    The notes on merged or capped passages are dropped here; `chunk_document` keeps them.
    """
    result = chunk_document(extracted, offsets, target=target, overlap=overlap)
    return result.text, result.chunks


def chunk_document(extracted: Extracted, offsets: PieceOffsets, *, target: int = 128,
                   overlap: bool = True) -> Chunked:
    """Split a document into passages of about ``target`` pieces, within the per-file bounds."""
    text, segment_starts = document_text(extracted)
    units = _all_units(extracted, segment_starts, offsets, target)
    pages = [seg.locator.page for seg in extracted.segments]
    groups = _pack(units, pages, target=target, overlap=overlap)
    notes = list(extracted.notes)
    needed = math.ceil(sum(u.pieces for u in units) / target)
    if len(groups) > PASSAGE_RATIO * needed + PASSAGE_SLACK:
        merged = _pack(units, pages, target=target, overlap=False, merge_sections=True)
        notes.append(f"many near-empty pages or sections: merged into {len(merged):,} passages "
                     f"instead of {len(groups):,}")
        groups = merged
    if len(groups) > MAX_PASSAGES:
        notes.append(f"passages capped: only the first {MAX_PASSAGES:,} of {len(groups):,} are indexed")
        groups = groups[:MAX_PASSAGES]
    return Chunked(text, _chunks(groups, extracted, text, segment_starts), tuple(notes))


def _all_units(extracted: Extracted, segment_starts: list[int], offsets: PieceOffsets, target: int) -> list[_Unit]:
    units: list[_Unit] = []
    for index, (segment, base) in enumerate(zip(extracted.segments, segment_starts, strict=True)):
        spans = _units(segment.text, base)
        if not spans:
            continue  # an empty page or section makes no passage
        piece_starts = _piece_starts(segment.text, base, offsets)
        for start, end in spans:
            count = bisect.bisect_left(piece_starts, end) - bisect.bisect_left(piece_starts, start)
            if count <= target:
                units.append(_Unit(start, end, max(count, 1), index))
            else:
                units.extend(_split_long(start, end, piece_starts, target, index))
    return units


def _piece_starts(text: str, base: int, offsets: PieceOffsets) -> Sequence[int]:
    """Document offsets where the pieces of one segment's ``text`` start, tokenized in windows.

    Windows end at a space or line break, where the pre-tokenizer splits anyway (BERT's WordPiece
    never lets a piece straddle whitespace), so the pieces are those of one call on the whole text;
    only a window without any whitespace is cut blind. An array, not a list: a million pieces
    cost 8 MB instead of 40.
    """
    starts = array("q")
    position, size = 0, len(text)
    while position < size:
        end = min(position + TOKENIZE_WINDOW_CHARS, size)
        if end < size:
            floor = position + TOKENIZE_WINDOW_CHARS // 2
            cut = max(text.rfind(" ", floor, end), text.rfind("\n", floor, end))
            end = cut if cut > position else end
        starts.extend(base + position + s for s, _ in offsets(text[position:end]))
        position = end
    return starts


def _chunks(groups: list[list[_Unit]], extracted: Extracted, text: str, segment_starts: list[int]) -> list[Chunk]:
    result: list[Chunk] = []
    # Line numbers are counted forward from the previous passage of the same segment: counting from
    # the segment start each time is quadratic on a huge one-segment file.
    counted = (-1, 0, 0)  # (segment, offset, line at that offset)
    for ordinal, group in enumerate(groups):
        first = group[0]
        segment = extracted.segments[first.segment]
        locator = segment.locator
        if locator.line is not None:
            seg, offset, line = counted
            if seg != first.segment or offset > first.start:
                seg, offset, line = first.segment, segment_starts[first.segment], locator.line
            line += text.count("\n", offset, first.start)
            counted = (seg, first.start, line)
            locator = Locator(page=locator.page, heading=locator.heading, line=line)
        result.append(Chunk(ordinal, first.start, group[-1].end, locator, sum(u.pieces for u in group)))
    return result


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


def _pack(units: list[_Unit], pages: Sequence[int | None], *, target: int, overlap: bool,
          merge_sections: bool = False) -> list[list[_Unit]]:
    """Group units into passages. With ``merge_sections`` a new page is treated like a new section
    (it starts a passage only once the current one is half full), so near-empty pages join their
    neighbours; the passage's locator is then its first page's."""
    groups: list[list[_Unit]] = []
    current: list[_Unit] = []
    size = 0
    for unit in units:
        new_section = bool(current) and unit.segment != current[-1].segment
        new_page = new_section and pages[unit.segment] != pages[current[-1].segment] and not merge_sections
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
                and (merge_sections or current[0].segment == groups[-1][-1].segment):
            tail = [u for u in current if u not in groups[-1]]
            groups[-1].extend(tail)
        else:
            groups.append(current)
    return groups
