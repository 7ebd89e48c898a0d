"""The order the embedder fills in vectors: what makes a library understood only in part most useful.

Embedding a real library takes a while on a laptop, and until a passage has its vector it is found
by its words only. So the passages a person is most likely to look for go first. Each passage gets
a `priority` (an integer, lower first) when it is stored, from its document and its place in it;
the embedder reads its next batch from the top of an index on it (``passages_embed_order``, only
the passages still without a vector), so no batch sorts the library. The rule, most significant
first:

1. **The folder added last.** A folder the user just added is what they will search next: its
   passages come before those of folders added earlier. Folders added within the same ten minutes
   (the first-run dialog) count as added together, so the kind decides between them.
2. **Openings before the rest.** A document's first `OPENING` passages (about ten pages) come before
   the rest of any document: no document waits for a huge manual to be finished.
3. **The kind.** A person's PDFs, then office files (Word, OpenDocument, slides, RTF, e-books), notes
   and mail (markdown, text), web pages, then logs and change logs, code, and data files last.
4. **Small before huge.** Further into a document, later: passages 32-63, 64-127, ... of every
   document of a kind come band by band, so small documents are done before the tail of big ones.
5. **Recency.** A newer file (its mtime, to the day) first.

Ties keep the order passages were stored in (their ids). The priority is fixed when a passage is
stored (a touched mtime or a moved file keeps it); a changed file's new passages get a new one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import PurePath

OPENING = 32  # passages of ~160 word pieces: about ten pages of a PDF
ROOT_WINDOW_S = 600  # folders added within ten minutes count as added together

# Classes of document, in embedding order.
PDF, OFFICE, NOTES, WEB, OTHER, LOGS, CODE, DATA = range(8)
_CLASS_OF_KIND = {
    "pdf": PDF,
    **dict.fromkeys(("docx", "odt", "pptx", "rtf", "epub"), OFFICE),
    **dict.fromkeys(("markdown", "text", "email", "mbox", "record"), NOTES),
    "html": WEB,
    "code": CODE,
}
_DATA_SUFFIXES = frozenset((".json", ".jsonc", ".json5", ".yaml", ".yml", ".toml", ".xml", ".xsd", ".csv", ".tsv",
                            ".ini", ".cfg", ".conf", ".properties", ".bib"))
_LOG_NAMES = ("changelog", "changes", "news", "history")

# Bit fields of the priority, most significant first: root window | opening | class | band | day.
_DAY_BITS, _BAND_BITS, _CLASS_BITS = 16, 5, 3
_ROOT_BITS = 28  # ten-minute windows: 5,000 years
_BAND_SHIFT = _DAY_BITS
_CLASS_SHIFT = _BAND_SHIFT + _BAND_BITS
_OPENING_SHIFT = _CLASS_SHIFT + _CLASS_BITS
_ROOT_SHIFT = _OPENING_SHIFT + 1
_NS_PER_DAY = 86_400 * 10**9


@dataclass(frozen=True, slots=True)
class DocumentOrder:
    """What of a document decides when its passages are embedded."""

    kind: str | None
    path: str  # a path key: the file name tells logs and data files apart
    mtime_ns: int
    root_added: float | None  # when its folder was added (seconds since the epoch); None: no folder

    def base(self) -> int:
        """The document's part of its passages' priorities (see `passage_priority`)."""
        return ((_root_term(self.root_added) << _ROOT_SHIFT) | (document_class(self.kind, self.path) << _CLASS_SHIFT)
                | _day_term(self.mtime_ns))


def passage_priority(document_base: int, ordinal: int) -> int:
    """The priority of passage number ``ordinal`` of a document whose `DocumentOrder.base` is given."""
    return document_base | ((ordinal >= OPENING) << _OPENING_SHIFT) | (_band(ordinal) << _BAND_SHIFT)


# Classes kept for words only, never embedded: changelogs, NEWS files and logs. Measured on this
# machine's /usr/share/doc (1,365 documents): they were 50,422 of its 86,834 passages (58%, mostly
# Node.js changelogs), terse lines of version numbers, identifiers and issue links that people look up
# by name ("CVE-2023-...", "fs.watch", "v18.2") — what the keyword index answers — and embedding them
# would have taken ~13 minutes of the ~22 the library needs on two cores.
KEYWORD_ONLY = frozenset({LOGS})
# The priority of a keyword-only passage: above every real one (they use 53 bits), so the embedder,
# which takes passages below it in priority order, never reaches it.
NEVER = 1 << 62


def embedded(kind: str | None, path: str) -> bool:
    """Whether a document of ``kind`` at ``path`` gets vectors (not one of `KEYWORD_ONLY`)."""
    return document_class(kind, path) not in KEYWORD_ONLY


def document_class(kind: str | None, path: str) -> int:
    """The class (`PDF` ... `DATA`) of a document of ``kind`` at ``path``: by its kind, except that
    a text or code file named as a log (``*.log``, ``CHANGELOG``, ``NEWS``) is a log and one with a
    data suffix (``.json``, ``.csv``, ...) is data."""
    by_kind = _CLASS_OF_KIND.get(kind or "", OTHER)
    if by_kind in (PDF, OFFICE):
        return by_kind
    name = PurePath(path.replace("\\", "/")).name.lower()
    suffixes = PurePath(name).suffixes
    if ".log" in suffixes or name.split(".")[0] in _LOG_NAMES or name.startswith("changelog"):
        return LOGS
    if suffixes and suffixes[-1] in _DATA_SUFFIXES:
        return DATA
    return by_kind


def _band(ordinal: int) -> int:
    """0 for the first 32 passages, then 1 for 32-63, 2 for 64-127, ... (capped)."""
    return min((max(ordinal, 0) // OPENING).bit_length(), (1 << _BAND_BITS) - 1)


def _root_term(added: float | None) -> int:
    """Smaller for a folder added later; the largest for a document of no folder."""
    top = (1 << _ROOT_BITS) - 1
    if added is None or not math.isfinite(added):
        return top
    return top - min(max(int(added // ROOT_WINDOW_S), 0), top)


def _day_term(mtime_ns: int) -> int:
    """Smaller for a newer file (to the day); a time before 1970 or after 2149 is clamped."""
    top = (1 << _DAY_BITS) - 1
    return top - min(max(int(mtime_ns) // _NS_PER_DAY, 0), top)
