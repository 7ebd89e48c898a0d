"""What the indexer does with one file, as a value: decided first, written later in a batch.

The indexer looks at a found file (its size and mtime, then its content hash, then its text) and
returns one decision; the batch applies the decisions it holds in one write transaction
(`apply_decision`), and `Counts` tallies them for the run's `UpdateReport`. Deciding reads the file
and the index but writes nothing, so each case can be tested without a database:

- `Unchanged`: same size and mtime as indexed (nothing to write), or `Vanished`: deleted meanwhile;
- `Touch`: same content under a new mtime: only the stat is updated;
- `Move`: the content of a document whose file vanished in this run: the document moves here, passages
  and vectors kept;
- `CopyTwin`: the content of another indexed document: its passages and vectors are copied;
- `Write`: new text: passages written, vectors to encode;
- `Fail`: unreadable or not extractable: a failed row saying why (a folder the crawl could not list
  is one too, with no kind).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from .results import UpdateReport
from .store import DocumentRow, NewPassage, Store
from .vector_sync import VectorChange


@dataclass(frozen=True, slots=True)
class FileAt:
    """Where a found file goes in the index: its path key, root, and what the crawl saw of it."""

    key: str
    root_id: int | None
    size: int
    mtime_ns: int
    kind: str | None = None  # None for a folder listed as a problem: never a file


@dataclass(frozen=True, slots=True)
class Unchanged:
    failed: bool = False  # indexed before as a failure, and still the same file


@dataclass(frozen=True, slots=True)
class Vanished:
    """Deleted while being indexed: nothing to write; the next run drops any stale row."""


@dataclass(frozen=True, slots=True)
class Touch:
    document_id: int
    size: int
    mtime_ns: int


@dataclass(frozen=True, slots=True)
class Move:
    document_id: int
    to: FileAt


@dataclass(frozen=True, slots=True)
class CopyTwin:
    file: FileAt
    digest: str
    twin: DocumentRow
    replaces: int | None  # the document indexed at this path before, whose passages go


@dataclass(frozen=True, slots=True)
class Write:
    file: FileAt
    digest: str
    kind: str
    title: str
    text: str
    passages: tuple[NewPassage, ...]
    warning: str | None  # indexed, but not whole (text truncated, passages merged or capped), or why left out
    replaces: int | None
    status: str = "ok"  # "left_out": read, and kept out of the index on purpose (generated)


@dataclass(frozen=True, slots=True)
class Fail:
    file: FileAt
    reason: str
    digest: str | None = None
    replaces: int | None = None


@dataclass(frozen=True, slots=True)
class WriteRecord:
    """An (id, title, text) record of an evaluation collection, stored as a document at path ``id``."""

    record_id: str
    title: str
    digest: str
    kind: str
    size: int
    passages: tuple[NewPassage, ...]


Decision = Unchanged | Vanished | Touch | Move | CopyTwin | Write | Fail


class GoneDocuments:
    """Documents indexed before whose file this run's crawl did not find. A new file with the content
    of one is that document moved (`claim`); the others are deleted at the end of the run."""

    def __init__(self, rows: Iterable[DocumentRow]) -> None:
        self.rows = list(rows)
        self._by_hash: dict[str, list[int]] = {}
        for row in self.rows:
            if row.content_hash and row.status == "ok":
                self._by_hash.setdefault(row.content_hash, []).append(row.id)
        self.claimed: set[int] = set()

    def claim(self, digest: str) -> int | None:
        """The id of a gone document with this content, now taken by a moved file; None when none."""
        candidates = self._by_hash.get(digest)
        if not candidates:
            return None
        document_id = candidates.pop()
        self.claimed.add(document_id)
        return document_id

    def still_gone(self) -> list[DocumentRow]:
        return [row for row in self.rows if row.id not in self.claimed]


def decide_by_stat(existing: DocumentRow | None, *, size: int, mtime_ns: int, rehash: bool) -> Unchanged | None:
    """`Unchanged` when the index holds the file with this size and mtime (unless ``rehash``: a tool
    that restores the mtime hides an edit); None when the content must be looked at."""
    if existing is None or rehash or existing.size != size or existing.mtime_ns != mtime_ns:
        return None
    return Unchanged(failed=existing.status == "failed")


def decide_by_hash(file: FileAt, existing: DocumentRow | None, digest: str, *, gone: GoneDocuments,
                   find_twin: Callable[[str, int | None], DocumentRow | None]) -> Touch | Move | CopyTwin | None:
    """What the content hash alone settles; None when the file's text must be extracted.
    ``find_twin(digest, exclude_id)`` finds another indexed document with this content (asked last:
    it is a query)."""
    if existing is not None and existing.content_hash == digest and existing.status != "failed":
        return Touch(existing.id, size=file.size, mtime_ns=file.mtime_ns)
    if existing is None:
        moved = gone.claim(digest)
        if moved is not None:
            return Move(moved, to=file)
    twin = find_twin(digest, existing.id if existing else None)
    if twin is not None:
        return CopyTwin(file, digest, twin, replaces=existing.id if existing else None)
    return None


@dataclass
class Counts:
    """What a run did, file by file (`UpdateReport` is built from it)."""

    added: int = 0
    changed: int = 0
    removed: int = 0
    moved: int = 0
    unchanged: int = 0
    failed: int = 0
    passages: int = 0

    def count(self, decision: Decision) -> None:
        if isinstance(decision, Unchanged | Touch):
            self.unchanged += 1
        elif isinstance(decision, Move):
            self.moved += 1
        elif isinstance(decision, Fail):
            self.failed += 1
        elif isinstance(decision, CopyTwin | Write):
            if decision.replaces is None:
                self.added += 1
            else:
                self.changed += 1
            if isinstance(decision, Write):
                self.passages += len(decision.passages)

    def report(self, *, embedded: int, seconds: float, cancelled: bool) -> UpdateReport:
        return UpdateReport(added=self.added, changed=self.changed, removed=self.removed, moved=self.moved,
                            unchanged=self.unchanged, failed=self.failed, passages=self.passages,
                            embedded=embedded, seconds=seconds, cancelled=cancelled)


def apply_decision(decision: Decision | WriteRecord, store: Store, change: VectorChange) -> None:
    """Write one decision inside the batch's transaction, recording in ``change`` the vectors it
    deletes or brings along (the cache follows after the commit: see `VectorSync`)."""
    if isinstance(decision, Touch):
        store.touch_document(decision.document_id, size=decision.size, mtime_ns=decision.mtime_ns)
    elif isinstance(decision, Move):
        to = decision.to
        store.move_document(decision.document_id, path=to.key, root_id=to.root_id, size=to.size,
                            mtime_ns=to.mtime_ns)
    elif isinstance(decision, CopyTwin):
        _drop_passages(decision.replaces, store, change)
        document_id = _upsert(store, decision.file, digest=decision.digest, kind=decision.twin.kind,
                              title=decision.twin.title)
        store.copy_passages(from_document=decision.twin.id, to_document=document_id)
        change.copied += store.embedded_passages_of(document_id)
    elif isinstance(decision, Write):
        # An edited file keeps the vectors of the passages it left as they were: only what changed
        # is encoded again (a note appended to a long document costs one passage, not all of them).
        kept = store.vectors_by_text(decision.replaces) if decision.replaces is not None else {}
        _drop_passages(decision.replaces, store, change)
        document_id = _upsert(store, decision.file, digest=decision.digest, kind=decision.kind,
                              title=decision.title, status=decision.status, error=decision.warning)
        store.insert_passages(document_id, decision.passages)
        change.copied += store.reuse_vectors(document_id, kept)
        store.set_content(document_id, decision.text)
    elif isinstance(decision, Fail):
        _drop_passages(decision.replaces, store, change)
        _upsert(store, decision.file, digest=decision.digest, kind=decision.file.kind, title=None,
                status="failed", error=decision.reason)
    elif isinstance(decision, WriteRecord):
        existing = store.document_by_path(decision.record_id)  # looked up here: an id may repeat in a batch
        _drop_passages(existing.id if existing else None, store, change)
        document_id = store.upsert_document(path=decision.record_id, root_id=None, size=decision.size, mtime_ns=0,
                                            content_hash=decision.digest, kind=decision.kind, title=decision.title)
        store.insert_passages(document_id, decision.passages)
    # Unchanged and Vanished write nothing


def _drop_passages(document_id: int | None, store: Store, change: VectorChange) -> None:
    if document_id is not None:
        change.removed += store.delete_passages_of(document_id)


def _upsert(store: Store, file: FileAt, *, digest: str | None, kind: str | None, title: str | None,
            status: str = "ok", error: str | None = None) -> int:
    return store.upsert_document(path=file.key, root_id=file.root_id, size=file.size, mtime_ns=file.mtime_ns,
                                 content_hash=digest, kind=kind, title=title, status=status, error=error)
