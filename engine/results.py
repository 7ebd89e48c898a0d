"""Plain data the engine hands to its callers (CLI, GUI, tests): search hits, progress, status.

Everything here is a frozen dataclass of builtins so it crosses threads and processes.

Paths are OS paths (``str``, with surrogate escapes for a name that is not valid UTF-8: see
`paths`): pass them to ``open``, show their ``display_path``. The ``to_json`` methods write the
display form, plus the raw bytes (base64) where the display form loses something, so JSON output is
always valid UTF-8 and still names the very file.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
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
    # Why it matched, in words a person can check: the query words the passage holds (as the query
    # spelled them), and the cosine of the passage to the question (None: keyword mode, or no vector yet).
    words: tuple[str, ...] = ()
    similarity: float | None = None
    weak: bool = False  # below the relevance floor: shown only behind "show weaker matches" / --all
    root: str = ""  # the library folder the document lies in ("" for records): show paths relative to it

    @property
    def why(self) -> str:
        """One line: "meaning 0.71 · words: sourdough, starter" (the parts that carried the match)."""
        parts = []
        if self.similarity is not None and self.matched in ("meaning", "both"):
            parts.append(f"meaning {self.similarity:.2f}")
        if self.words:
            parts.append("words: " + ", ".join(self.words))
        elif self.matched in ("words", "both") and self.similarity is None:
            parts.append("words")
        return " · ".join(parts)

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
            "words": list(self.words),
            "similarity": None if self.similarity is None else round(self.similarity, 4),
            "weak": self.weak,
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

    @property
    def strong(self) -> tuple[Hit, ...]:
        """The hits above the relevance floor: what a list shows before "show weaker matches"."""
        return tuple(hit for hit in self.hits if not hit.weak)


@dataclass(frozen=True, slots=True)
class PassageContext:
    """A passage in its surrounding text, for a preview pane."""

    path: str
    title: str
    kind: str
    locator: Locator
    text: str  # the surrounding text
    passage_span: tuple[int, int]  # where the passage sits in ``text``
    # Given a query (`Library.passage_context(..., query=)`): where its words sit in ``text``, and the
    # sentence of the passage closest in meaning to it (None without a vector model).
    word_spans: tuple[tuple[int, int], ...] = ()
    meaning_span: tuple[int, int] | None = None

    @property
    def display_path(self) -> str:
        return display_path(self.path)


def duration_text(seconds: float | None) -> str:
    """How long, the way a person says it: "less than a minute", "about 10 min", "about 3 h 02 min";
    "" when unknown. The CLI's progress lines and the app's status strip both read it."""
    if seconds is None or seconds != seconds or seconds < 0:
        return ""
    if seconds < 60:
        return "less than a minute"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"about {minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"about {hours} h {minutes:02d} min"


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
    rate: float = 0.0  # passages embedded per second, over the last minute of unpaused time
    eta_s: float | None = None  # from that rate; held (not counting down) while paused
    current: str = ""
    paused: bool = False
    # The whole library as stored now (the numbers `Status` gives): what "meaning: 34%" is made of.
    library_passages: int = 0
    library_embedded: int = 0

    @property
    def meaning_percent(self) -> int:
        """Share of the library's passages with a vector, rounded down (100 only when all are)."""
        if not self.library_passages:
            return 100
        return self.library_embedded * 100 // self.library_passages


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
    keyword_only: int = 0  # passages kept for words only, never embedded (changelogs, logs)

    @property
    def to_embed(self) -> int:
        """The passages that get a vector once the library is understood: all but the keyword-only."""
        return self.passages - self.keyword_only

    def to_json(self) -> dict:
        return {
            "roots": [display_path(root) for root in self.roots],
            **_bytes_of("roots", self.roots),
            "documents": self.documents,
            "passages": self.passages,
            "embedded": self.embedded,
            "keyword_only": self.keyword_only,
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

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._running = threading.Event()
        self._running.set()
        self._cancelled = threading.Event()
        self._clock = clock  # for `paused_seconds`; a test's fake clock drives it
        self._pause_lock = threading.Lock()
        self._paused_at: float | None = None
        self._paused_total = 0.0

    def pause(self) -> None:
        with self._pause_lock:
            if self._paused_at is None:
                self._paused_at = self._clock()
            self._running.clear()

    def resume(self) -> None:
        with self._pause_lock:
            if self._paused_at is not None:
                self._paused_total += self._clock() - self._paused_at
                self._paused_at = None
            self._running.set()

    def paused_seconds(self) -> float:
        """Seconds spent paused so far (by its clock): a progress meter's clock stands still then."""
        with self._pause_lock:
            ongoing = self._clock() - self._paused_at if self._paused_at is not None else 0.0
            return self._paused_total + max(ongoing, 0.0)

    def cancel(self) -> None:
        self._cancelled.set()
        self.resume()

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
