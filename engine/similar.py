"""Near-duplicate documents: two versions of one README, a copy with a few lines changed.

Exact copies share a content hash and collapse into one result (engine/search.py). Copies that
differ by a few lines do not, yet show the same text twice in a short result list. They are found
as web search engines find them (Broder's resemblance): the Jaccard similarity of the sets of
word shingles (runs of `SHINGLE_WORDS` words) of the two texts. A few changed lines touch only the
shingles around them; two different documents on one topic share almost none.

Folded at query time, among the documents about to be shown (engine/search.py `fold_copies`). Only
the first `OPENING_CHARS` characters of a document count (`opening`), and a pair is
compared in full only when the two are of about the same size (`could_be_near`) and share one of
their `MIN_HASHES` min-hashes (Broder's sketch: two sets share a given min-hash with probability
equal to their Jaccard similarity, so a near pair (≥ 0.7) shares one of four with probability ≥ 0.99,
while unrelated documents almost never do). The min-hashes are computed when a document's passages
are written and stored with it (32 bytes, `Store.insert_passages`; schema 6 computed them for the
documents stored before): sketching the ~10 documents of every new query at search time was a fifth
of a typed query's time at 100k passages. One without them is sketched when shown.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

SHINGLE_WORDS = 3
NEAR_DUPLICATE = 0.7  # Jaccard of the shingle sets at or above which two documents fold
SIZE_RATIO = 0.7  # the smaller document is at least this share of the larger (bytes and passages)
OPENING_CHARS = 8_000
MIN_HASHES = 4
# Multipliers (odd) and offsets of the hash functions whose minimum over a shingle set is its sketch.
_MULTIPLIERS = np.array([0x9E3779B97F4A7C15, 0xBF58476D1CE4E5B9, 0xD6E8FEB86659FD93, 0xC2B2AE3D27D4EB4F],
                        dtype=np.uint64)[:MIN_HASHES, None]
_OFFSETS = np.array([0x632BE59BD9B4E019, 0x94D049BB133111EB, 0x2545F4914F6CDD1D, 0x165667B19E3779F9],
                    dtype=np.uint64)[:MIN_HASHES, None]

_WORD = re.compile(r"\w+", re.UNICODE)
_RUN_BASE = np.uint64(0x100000001B3)  # FNV's 64-bit prime: mixes a run's word hashes in order


@dataclass(frozen=True, slots=True)
class DocumentShape:
    """What near-copy folding knows of a document before reading it (`Store.document_shapes`)."""

    size: int  # bytes of the file
    passage_count: int
    min_hashes: tuple[int, ...] | None = None  # of its `opening`; None: not stored


def opening(bodies: Iterable[str], max_chars: int = OPENING_CHARS) -> str:
    """The first ``max_chars`` characters of a document's passage bodies (in reading order, joined
    by newlines): the text compared, whether sketched when the passages are written
    (`Store.insert_passages`) or when the document is shown (`Store.document_openings`)."""
    parts: list[str] = []
    held = 0
    for body in bodies:
        parts.append(body)
        held += len(body)
        if held >= max_chars:
            break
    return "\n".join(parts)[:max_chars]


def could_be_near(a: DocumentShape, b: DocumentShape) -> bool:
    """Whether two documents are close enough in size to be near-duplicates at all: a cheap gate
    in front of the shingle comparison (Jaccard ≥ t implies the sizes are within a factor t)."""
    return _close(a.size, b.size) and _close(a.passage_count, b.passage_count)


def with_size_peers(shapes: dict[int, DocumentShape]) -> set[int]:
    """The documents of ``shapes`` that `could_be_near` another of them: only they can have a near
    copy among them. In order of size, a document's peers are the ones right after it."""
    by_size = sorted(shapes, key=lambda doc: shapes[doc].size)
    found: set[int] = set()
    for i, doc in enumerate(by_size):
        for other in by_size[i + 1:]:
            if not _close(shapes[doc].size, shapes[other].size):
                break
            if _close(shapes[doc].passage_count, shapes[other].passage_count):
                found.update((doc, other))
    return found


def _close(x: int, y: int) -> bool:
    return min(x, y) >= SIZE_RATIO * max(x, y)


def shingles(text: str) -> frozenset[int]:
    """Hashes of the text's runs of `SHINGLE_WORDS` lower-cased words (its words, when shorter).

    Each word is hashed once (CRC-32, not Python's `hash`: the same in every process, so
    which pairs are compared never depends on the interpreter's hash seed) and a run's hash is a
    polynomial of its words' hashes modulo 2**64, computed for all runs at once: this runs for the
    documents about to be shown on every new query, and joining and hashing each run's text in
    Python was a third of a typed query's time at 100k passages."""
    words = _WORD.findall(text.lower())
    if not words:
        return frozenset()
    word_hashes = np.fromiter(map(zlib.crc32, "\0".join(words).encode("utf-8", "surrogatepass").split(b"\0")),
                              dtype=np.uint64, count=len(words))
    width = min(SHINGLE_WORDS, len(word_hashes))
    runs = len(word_hashes) - width + 1
    combined = np.zeros(runs, dtype=np.uint64)
    with np.errstate(over="ignore"):  # arithmetic modulo 2**64 is the point
        for offset in range(width):
            combined = combined * _RUN_BASE + word_hashes[offset:offset + runs] + np.uint64(1)
    return frozenset(combined.tolist())


@dataclass(frozen=True, slots=True)
class Sketch:
    """A document's shingles and their `MIN_HASHES` min-hashes (empty for a text without words)."""

    shingles: frozenset[int]
    min_hashes: tuple[int, ...]


def sketch(text: str) -> Sketch:
    found = shingles(text)
    if not found:
        return Sketch(found, ())
    values = np.fromiter(found, dtype=np.uint64, count=len(found))
    with np.errstate(over="ignore"):  # arithmetic modulo 2**64 is the point
        hashed = values[None, :] * _MULTIPLIERS + _OFFSETS
    return Sketch(found, tuple(int(v) for v in hashed.min(axis=1)))


def resemblance(a: frozenset[int], b: frozenset[int]) -> float:
    """Jaccard similarity of two shingle sets (0 for two empty texts: nothing says they are alike)."""
    union = len(a | b)
    return len(a & b) / union if union else 0.0


def near_duplicates(a: frozenset[int], b: frozenset[int]) -> bool:
    return resemblance(a, b) >= NEAR_DUPLICATE
