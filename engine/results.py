"""Plain data the engine hands to its callers (CLI, GUI, tests): search hits, progress, status.

Everything here is a frozen dataclass of builtins so it crosses threads and processes.

Paths are OS paths (``str``, with surrogate escapes for a name that is not valid UTF-8: see
`paths`): pass them to ``open``, show their ``display_path``. The ``to_json`` methods write the
display form, plus the raw bytes (base64) where the display form loses something, so JSON output is
always valid UTF-8 and still names the very file.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, field
from typing import Literal

from .extract.base import Locator
from .paths import display_path, path_json

Mode = Literal["hybrid", "dense", "keyword"]
MODES: tuple[Mode, ...] = ("hybrid", "dense", "keyword")
Matched = Literal["words", "meaning", "both"]


@dataclass(frozen=True, slots=True)
class SearchFilters:
    """Restrict a search. ``folder`` matches a path prefix; ``kinds`` are extractor kinds ("pdf", ...);
    dates are POSIX seconds on the file's modification time."""

    folder: str | None = None
    kinds: tuple[str, ...] = ()
    modified_after: float | None = None
    modified_before: float | None = None


@dataclass(frozen=True, slots=True)
class Hit:
    """One result: a document with its best passage."""

    document_id: int
    path: str
    title: str
    kind: str
    modified: float
    score: float
    passage_id: int
    passage: int  # ordinal of the best passage within its document (0-based)
    snippet: str
    highlights: tuple[tuple[int, int], ...]  # [start, end) character spans in ``snippet``
    locator: Locator
    matched: Matched
    other_passages: int  # how many more passages of this document matched
    duplicates: tuple[str, ...] = ()  # other paths with the same content

    @property
    def display_path(self) -> str:
        """``path`` for showing (U+FFFD for undecodable bytes); open ``path`` itself."""
        return display_path(self.path)

    def to_json(self) -> dict:
        return {
            **path_json(self.path),
            "title": self.title,
            "kind": self.kind,
            "modified": self.modified,
            "score": round(self.score, 6),
            "snippet": self.snippet,
            "highlights": [list(h) for h in self.highlights],
            "passage": self.passage,
            "passage_id": self.passage_id,
            "locator": self.locator.to_dict(),
            "locator_text": str(self.locator),
            "matched": self.matched,
            "other_passages": self.other_passages,
            "duplicates": [display_path(p) for p in self.duplicates],
            **_bytes_of("duplicates", self.duplicates),
            "document_id": self.document_id,
        }


def _bytes_of(field: str, paths: tuple[str, ...]) -> dict:
    """``{field + "_bytes": [...]}`` (base64, or None where the name is valid UTF-8) when any of
    ``paths`` has a lossy display form; nothing otherwise, as for a single `path_json`."""
    raw = [path_json(p).get("path_bytes") for p in paths]
    return {f"{field}_bytes": raw} if any(raw) else {}


@dataclass(frozen=True, slots=True)
class SearchResult:
    query: str
    mode: Mode
    took_ms: float
    hits: tuple[Hit, ...]
    timings_ms: dict[str, float] = field(default_factory=dict)  # encode / ann / fts / fuse
    notes: tuple[str, ...] = ()  # how the query was read, when it matters: "query shortened to ..."


@dataclass(frozen=True, slots=True)
class PassageContext:
    """A passage in its surrounding text, for a preview pane."""

    path: str
    title: str
    kind: str
    locator: Locator
    text: str  # the surrounding text
    passage_span: tuple[int, int]  # where the passage sits in ``text``

    @property
    def display_path(self) -> str:
        return display_path(self.path)


@dataclass(frozen=True, slots=True)
class Progress:
    """Emitted while indexing. ``phase``: "scanning", "indexing", "embedding", "done"."""

    phase: str
    files_seen: int = 0
    files_total: int = 0
    files_done: int = 0
    files_failed: int = 0
    passages: int = 0
    embedded: int = 0
    to_embed: int = 0
    rate: float = 0.0  # passages embedded per second, recent
    eta_s: float | None = None
    current: str = ""


@dataclass(frozen=True, slots=True)
class Failure:
    path: str  # an OS path, like `Hit.path`
    reason: str

    @property
    def display_path(self) -> str:
        return display_path(self.path)


@dataclass(frozen=True, slots=True)
class Status:
    roots: tuple[str, ...]
    documents: int
    passages: int
    embedded: int
    failed: tuple[Failure, ...]
    model: str
    data_dir: str
    warnings: tuple[Failure, ...] = ()  # indexed only in part (text truncated, passages capped)
    left_out: tuple[Failure, ...] = ()  # read, kept without passages: generated (`exclusions`)

    def to_json(self) -> dict:
        return {
            "roots": [display_path(root) for root in self.roots],
            **_bytes_of("roots", self.roots),
            "documents": self.documents,
            "passages": self.passages,
            "embedded": self.embedded,
            "failed": [{**path_json(f.path), "reason": f.reason} for f in self.failed],
            "warnings": [{**path_json(f.path), "reason": f.reason} for f in self.warnings],
            "left_out": [{**path_json(f.path), "reason": f.reason} for f in self.left_out],
            "model": self.model,
            "data_dir": self.data_dir,
        }


@dataclass(frozen=True, slots=True)
class UpdateReport:
    added: int = 0
    changed: int = 0
    removed: int = 0
    moved: int = 0
    unchanged: int = 0
    failed: int = 0
    passages: int = 0
    embedded: int = 0
    seconds: float = 0.0
    cancelled: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckReport:
    """What `Library.check` found. Fields in the order `librarian check` prints them (keyword-only,
    so a field with a default may sit among the others)."""

    passages: int
    vectors_stored: int
    vectors_indexed: int
    missing: int
    orphans: int
    mismatched: int = 0  # vectors in the vector index that differ from SQLite's copy (damaged bytes)
    duplicates: int
    ok: bool
    repaired: bool = False

    def to_json(self) -> dict:
        return asdict(self)


class IndexControl:
    """Pause, resume and cancel a running `Library.update` from another thread."""

    def __init__(self) -> None:
        self._running = threading.Event()
        self._running.set()
        self._cancelled = threading.Event()

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    def cancel(self) -> None:
        self._cancelled.set()
        self._running.set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def wait_if_paused(self) -> bool:
        """Block while paused; return False when the run should stop."""
        self._running.wait()
        return not self._cancelled.is_set()


@dataclass(frozen=True, slots=True)
class ExclusionPreview:
    """What a root would index once extra ignore patterns apply (`Library.preview_exclusions`)."""

    files: int
    bytes: int
    excluded: int  # by the extra patterns, on top of what the crawl already skips
    sample: tuple[str, ...]  # the first few paths kept, relative to the root, "/"-separated
    truncated: bool = False  # the walk stopped at its limit: the counts are lower bounds
    by_default: int = 0  # left out by the default exclusions (`exclusions.DEFAULT_EXCLUSIONS`)
    default_sample: tuple[tuple[str, str], ...] = ()  # the first few of those: (path, class name)
