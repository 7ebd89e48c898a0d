"""Roots on disk → documents and passages in SQLite → vectors, incrementally and resumably.

Two phases:
- the *producer* (the calling thread) crawls the roots, decides per file what changed (size and
  mtime, then content hash), extracts changed files in isolated worker processes, chunks them and
  commits documents with their passages in small batches — from that moment they are findable by
  keyword;
- the *embedder* (a thread) encodes passages whose vector is still NULL, stores the int8 vectors in
  SQLite, then adds them to the USearch cache. It runs beside the producer (see `Indexer.overlap`).

Every commit leaves a consistent state: a document and all its passages land in one transaction,
vectors in another. A kill at any point loses at most the uncommitted batch, which the next run
redoes; the vector cache is reconciled with SQLite when it is opened.

Moves and renames keep their passages and vectors (a vanished document and a new file with the same
content hash are the same document); a new file with the content of an existing one copies its
passages and vectors instead of being encoded again.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .chunk import PieceOffsets, chunk, chunk_document
from .crawl import FoundFile, crawl, display_path, key_path, path_key
from .encoders import Encoder, to_int8
from .errors import ExtractionError
from .extract._common import HEADING_SEPARATOR
from .extract.base import Extracted, Segment
from .results import IndexControl, Progress, UpdateReport
from .store import DocumentRow, NewPassage, Store
from .userfiles import open_user_file
from .vectors import VectorCache

log = logging.getLogger(__name__)

COMMIT_EVERY_FILES = 64
COMMIT_EVERY_SECONDS = 0.5
EMBED_BATCH = 256  # passages fetched per round: sorted by length inside, so little padding
SAVE_VECTORS_EVERY_SECONDS = 30.0
PASSAGE_TARGET_PIECES = 160  # ~120 words; 128 and 200 scored within 0.006 nDCG on the dev sets

ProgressCallback = Callable[[Progress], None]


def content_hash(path: Path) -> str:
    """blake2b of the file's bytes. Opened with `open_user_file`: a file swapped for a FIFO since the
    crawl raises OSError here instead of blocking forever with the writer lock held."""
    digest = hashlib.blake2b(digest_size=20)
    with open_user_file(path) as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def record_hash(title: str, text: str) -> str:
    return hashlib.blake2b(f"{title}\0{text}".encode("utf-8", "surrogatepass"), digest_size=20).hexdigest()


@dataclass
class Writer:
    """What the two phases share: the writer connection (serialised by ``lock``) and the cache."""

    store: Store
    vectors: VectorCache
    model_id: str
    lock: threading.Lock = field(default_factory=threading.Lock)
    changed: threading.Condition = field(init=False)

    def __post_init__(self) -> None:
        self.changed = threading.Condition(self.lock)

    def drop_vectors(self, passage_ids: list[int]) -> None:
        """Called after the deleting transaction committed; orphans left by a crash are healed at open."""
        if passage_ids:
            self.vectors.remove(passage_ids)

    def save_vectors(self) -> None:
        with self.lock:
            generation = self.store.vectors_generation()
        self.vectors.save(generation=generation, model_id=self.model_id)


class _ProgressMeter:
    """Counts, rates and a throttled callback."""

    def __init__(self, callback: ProgressCallback | None) -> None:
        self.callback = callback
        self.phase = "scanning"
        self.files_seen = self.files_total = self.files_done = self.files_failed = 0
        self.passages = self.embedded = self.to_embed = 0
        self.current = ""
        self._last_emit = 0.0
        self._window: deque[tuple[float, int]] = deque(maxlen=64)
        self.lock = threading.Lock()

    def note_embedded(self, count: int) -> None:
        with self.lock:
            self.embedded += count
            self._window.append((time.monotonic(), self.embedded))

    def rate(self) -> float:
        if len(self._window) < 2:
            return 0.0
        (t0, n0), (t1, n1) = self._window[0], self._window[-1]
        return (n1 - n0) / (t1 - t0) if t1 > t0 else 0.0

    def emit(self, *, force: bool = False) -> None:
        if self.callback is None:
            return
        now = time.monotonic()
        if not force and now - self._last_emit < 0.1:
            return
        self._last_emit = now
        rate = self.rate()
        remaining = max(self.to_embed - self.embedded, 0)
        self.callback(Progress(
            phase=self.phase, files_seen=self.files_seen, files_total=self.files_total,
            files_done=self.files_done, files_failed=self.files_failed, passages=self.passages,
            embedded=self.embedded, to_embed=self.to_embed, rate=rate,
            eta_s=(remaining / rate) if rate > 0 else None, current=self.current))


class Embedder(threading.Thread):
    """Fills in missing vectors until told the producer is done and nothing is left."""

    def __init__(self, writer: Writer, encoder: Encoder, meter: _ProgressMeter, control: IndexControl) -> None:
        super().__init__(name="librarian-embedder", daemon=True)
        self.writer = writer
        self.encoder = encoder
        self.meter = meter
        self.control = control
        self.producer_done = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self._loop()
        except BaseException as exc:  # surfaced by Indexer.update in the calling thread
            self.error = exc

    def _loop(self) -> None:
        writer = self.writer
        last_save = time.monotonic()
        after_id = 0
        while self.control.wait_if_paused():
            with writer.lock:
                batch = writer.store.unembedded(EMBED_BATCH, after_id=after_id)
                if not batch:
                    if self.producer_done.is_set():
                        # One more pass from the start: ids below after_id may have come back.
                        if after_id == 0:
                            break
                        after_id = 0
                        continue
                    writer.changed.wait(timeout=0.5)
                    after_id = 0
                    continue
            after_id = batch[-1][0]
            texts = [embedding_text(title, body) for _, title, body in batch]
            vectors = to_int8(self.encoder.embed(texts, batch_size=32))
            ids = [pid for pid, _, _ in batch]
            with writer.lock, writer.store.transaction():
                writer.store.set_vectors(ids, vectors)
                writer.store.bump_vectors_generation()
            writer.vectors.add(np.asarray(ids, dtype=np.uint64), vectors)
            self.meter.note_embedded(len(ids))
            self.meter.emit()
            if time.monotonic() - last_save > SAVE_VECTORS_EVERY_SECONDS:
                writer.save_vectors()
                last_save = time.monotonic()


class Indexer:
    def __init__(self, writer: Writer, *, encoder: Encoder | None, offsets: PieceOffsets, extract: Callable[[Path], Extracted],
                 max_file_bytes: int = 256 * 1024 * 1024, skip_dirs: tuple[Path, ...] = ()) -> None:
        self.writer = writer
        self.encoder = encoder
        self.offsets = offsets
        self.extract = extract
        self.max_file_bytes = max_file_bytes
        self.skip_dirs = skip_dirs  # never crawled: the data dir, when it lies inside a root
        self._moved_ids: set[int] = set()
        self._rehash = False
        # Embed while extracting: the encoder uses whatever the extractor leaves (disk waits, a third
        # core). benchmarks/bench_indexing.py compares this with one phase after the other.
        self.overlap = True

    # -- the whole run --------------------------------------------------------------------------
    def update(self, *, progress: ProgressCallback | None = None, control: IndexControl | None = None,
               embed: bool = True, rehash: bool = False) -> UpdateReport:
        """Crawl, index what changed, embed. ``rehash`` also hashes files whose size and mtime did
        not change (a tool that restores the mtime hides an edit); only a changed hash costs a
        re-extraction."""
        control = control or IndexControl()
        meter = _ProgressMeter(progress)
        started = time.monotonic()
        store = self.writer.store
        with self.writer.lock:
            meter.to_embed = store.count_unembedded()
        embedder = None
        if embed and self.encoder is not None:
            embedder = Embedder(self.writer, self.encoder, meter, control)
            if self.overlap:
                embedder.start()
        self._moved_ids = set()
        self._rehash = rehash
        counts = {"added": 0, "changed": 0, "removed": 0, "moved": 0, "unchanged": 0, "failed": 0, "passages": 0}
        produced = False
        try:
            self._produce(meter, control, counts)
            produced = True
        finally:
            if embedder is not None:
                if not produced:
                    control.cancel()  # Ctrl-C or an error in the producer: stop encoding after this batch
                self._finish_embedding(embedder, meter, control)
        if embedder is not None and embedder.error is not None:
            raise embedder.error
        meter.phase = "done"
        meter.emit(force=True)
        return UpdateReport(added=counts["added"], changed=counts["changed"], removed=counts["removed"],
                            moved=counts["moved"], unchanged=counts["unchanged"], failed=counts["failed"],
                            passages=counts["passages"], embedded=meter.embedded,
                            seconds=time.monotonic() - started, cancelled=control.cancelled)

    def _finish_embedding(self, embedder: Embedder, meter: _ProgressMeter, control: IndexControl) -> None:
        """Let the embedder encode what is left (or, when cancelled, finish its current batch), then
        save the vectors.

        The thread is only ever stopped between batches, never torn down: if the interpreter exits
        while an ONNX session runs in it, onnxruntime aborts the process ("terminate called without
        an active exception"). So Ctrl-C here cancels the run and the wait goes on, a second Ctrl-C
        too; the interrupt is raised once the thread is done and the vectors are saved.
        """
        with _ctrl_c_cancels(control) as interrupted:
            meter.phase = "embedding"
            embedder.producer_done.set()
            if embedder.ident is None and not control.cancelled:
                embedder.start()  # not overlapping: the embedding phase starts now
            with self.writer.lock:
                self.writer.changed.notify_all()
            while embedder.is_alive():
                embedder.join(timeout=0.2)
                meter.emit()
            self.writer.save_vectors()
        if interrupted:
            raise KeyboardInterrupt

    # -- phase 1 --------------------------------------------------------------------------------
    def _produce(self, meter: _ProgressMeter, control: IndexControl, counts: dict) -> None:
        store = self.writer.store
        with self.writer.lock:
            roots = store.roots()
        found: list[tuple[int, FoundFile]] = []
        problems: list[tuple[int, str, str]] = []
        seen: set[str] = set()
        known: dict[str, DocumentRow] = {}
        for root_id, root_key in roots:
            root_path = key_path(root_key)  # keys are text for SQLite; the walk needs the OS path
            if not os.path.lexists(root_path):
                # An unplugged drive or an unmounted share: keep what was indexed, say why it is stale.
                problems.append((root_id, root_key, "folder not found (unplugged or moved?); "
                                                     "its documents are kept until you forget it"))
                continue
            with self.writer.lock:
                known.update(store.documents_under_root(root_id))

            def on_problem(path: Path, reason: str, root_id: int = root_id) -> None:
                problems.append((root_id, path_key(path), reason))

            for item in crawl(Path(root_path), max_file_bytes=self.max_file_bytes, on_problem=on_problem,
                              skip_dirs=self.skip_dirs):
                key = path_key(item.path)
                if key in seen:
                    continue  # nested roots: the first root claims the file
                seen.add(key)
                found.append((root_id, item))
                meter.files_seen += 1
                meter.emit()
                if not control.wait_if_paused():
                    return
        meter.files_total = len(found)
        meter.phase = "indexing"
        meter.emit(force=True)

        # A folder the crawl could not list (permission denied, an I/O error, a share refusing access
        # for a minute) hides its files; it does not delete them. Like a missing root, what was
        # indexed under it is kept, and the folder is listed as a problem until it reads again.
        problem_paths = {p for _, p, _ in problems}
        gone = {path: row for path, row in known.items()
                if path not in seen and not _inside_any(path, problem_paths)}
        gone_by_hash: dict[str, list[int]] = {}
        for row in gone.values():
            if row.content_hash and row.status == "ok":
                gone_by_hash.setdefault(row.content_hash, []).append(row.id)

        batch = _Batch(self.writer)
        for root_id, path, reason in problems:
            def record(s: Store, root_id: int = root_id, path: str = path, reason: str = reason) -> None:
                s.upsert_document(path=path, root_id=root_id, size=0, mtime_ns=0, content_hash=None, kind=None,
                                  title=None, status="failed", error=reason)
            batch.add(record)
            meter.files_failed += 1
            counts["failed"] += 1

        for root_id, item in found:
            if not control.wait_if_paused():
                break
            key = path_key(item.path)
            meter.current = display_path(item.path)
            existing = known.get(key)
            if (existing is not None and existing.size == item.size and existing.mtime_ns == item.mtime_ns
                    and not self._rehash):
                counts["unchanged"] += 1
                meter.files_done += 1
                if existing.status == "failed":
                    meter.files_failed += 1
                continue
            self._index_file(batch, root_id, item, key, existing, gone_by_hash, counts, meter)
            meter.files_done += 1
            meter.emit()
            batch.maybe_commit()
        batch.commit()

        if not control.cancelled:
            still_gone = [row.id for row in gone.values() if row.id not in self._moved_ids]
            if still_gone:
                with self.writer.lock, store.transaction():
                    dropped = store.delete_documents(still_gone)
                    if dropped:
                        store.bump_vectors_generation()
                self.writer.drop_vectors(dropped)
                # A problem listed for a folder is a row, not a document: its going is no removal.
                counts["removed"] += sum(1 for row in gone.values()
                                         if row.id not in self._moved_ids and not _is_folder_problem(row))

    def _index_file(self, batch: _Batch, root_id: int, item: FoundFile, key: str, row, gone_by_hash: dict,
                    counts: dict, meter: _ProgressMeter) -> None:
        store = self.writer.store
        try:
            digest = content_hash(item.path)
        except OSError as exc:
            if not item.path.exists():
                return  # deleted while we were indexing: the next run drops any stale row
            self._fail(batch, root_id, item, key, f"unreadable: {exc.strerror or exc}")
            counts["failed"] += 1
            meter.files_failed += 1
            return
        if row is not None and row.content_hash == digest and row.status == "ok":
            batch.add(lambda s: s.touch_document(row.id, size=item.size, mtime_ns=item.mtime_ns))
            counts["unchanged"] += 1
            return
        if row is None and gone_by_hash.get(digest):
            moved_id = gone_by_hash[digest].pop()
            self._moved_ids.add(moved_id)
            batch.add(lambda s: s.move_document(moved_id, path=key, root_id=root_id, size=item.size,
                                                mtime_ns=item.mtime_ns))
            counts["moved"] += 1
            return
        twin = None
        with self.writer.lock:
            twin = store.document_with_hash(digest, exclude_id=row.id if row else None)
        if twin is not None:
            def copy(s: Store, twin=twin) -> None:
                dropped = s.delete_passages_of(row.id) if row is not None else []
                batch.dropped.extend(dropped)
                doc_id = s.upsert_document(path=key, root_id=root_id, size=item.size, mtime_ns=item.mtime_ns,
                                           content_hash=digest, kind=twin.kind, title=twin.title)
                s.copy_passages(from_document=twin.id, to_document=doc_id)
                batch.copied.extend(r[0] for r in s.conn.execute(
                    "SELECT id FROM passages WHERE document_id = ? AND vector IS NOT NULL", (doc_id,)))
            batch.add(copy)
            counts["changed" if row else "added"] += 1
            return
        batch.maybe_commit()  # a slow file must not hold back the files read before it
        try:
            extracted = self.extract(item.path)
        except ExtractionError as exc:
            if not item.path.exists():
                return
            self._fail(batch, root_id, item, key, exc.reason, digest=digest, old=row)
            counts["failed"] += 1
            meter.files_failed += 1
            return
        chunked = chunk_document(extracted, self.offsets, target=PASSAGE_TARGET_PIECES)
        text, passages = chunked.text, passage_records(extracted, chunked.text, chunked.chunks)
        # Indexed, but not whole (text truncated, passages merged or capped): kept with the document
        # as a warning the user sees beside the failures, never silently.
        warning = "; ".join(chunked.notes) or None

        def write(s: Store) -> None:
            dropped = s.delete_passages_of(row.id) if row is not None else []
            batch.dropped.extend(dropped)
            doc_id = s.upsert_document(path=key, root_id=root_id, size=item.size, mtime_ns=item.mtime_ns,
                                       content_hash=digest, kind=extracted.kind, title=extracted.title,
                                       error=warning)
            s.insert_passages(doc_id, passages)
            s.set_content(doc_id, text)

        batch.add(write)
        counts["changed" if row else "added"] += 1
        counts["passages"] += len(passages)
        meter.passages += len(passages)
        meter.to_embed += len(passages)

    def _fail(self, batch: _Batch, root_id: int, item: FoundFile, key: str, reason: str, *,
              digest: str | None = None, old=None) -> None:
        def write(s: Store) -> None:
            if old is not None:
                batch.dropped.extend(s.delete_passages_of(old.id))
            s.upsert_document(path=key, root_id=root_id, size=item.size, mtime_ns=item.mtime_ns,
                              content_hash=digest, kind=item.kind, title=None, status="failed", error=reason)
        batch.add(write)

    # -- records (evaluation collections) -------------------------------------------------------
    def add_records(self, records: Iterable[tuple[str, str, str]], *, kind: str = "record") -> int:
        """Index (id, title, text) records as documents whose path is the id. Returns passages added."""
        batch = _Batch(self.writer)
        total = 0
        for record_id, title, text in records:
            extracted = Extracted(title=title, segments=[Segment(text)] if text.strip() else [], kind=kind)
            body, chunks = chunk(extracted, self.offsets, target=PASSAGE_TARGET_PIECES)
            passages = passage_records(extracted, body, chunks)
            digest = record_hash(title, text)

            def write(s: Store, record_id=record_id, passages=passages, digest=digest, body=body, title=title) -> None:
                existing = s.document_by_path(record_id)
                if existing is not None:
                    batch.dropped.extend(s.delete_passages_of(existing.id))
                doc_id = s.upsert_document(path=record_id, root_id=None, size=len(body), mtime_ns=0,
                                           content_hash=digest, kind=kind, title=title)
                s.insert_passages(doc_id, passages)

            batch.add(write)
            total += len(passages)
            batch.maybe_commit()
        batch.commit()
        return total


def _is_folder_problem(row: DocumentRow) -> bool:
    """The row `_produce` writes for a root or folder it could not read (no kind: never a file)."""
    return row.status == "failed" and row.kind is None


def _inside_any(key: str, folders: set[str]) -> bool:
    """Whether ``key`` is one of ``folders`` or lies inside one (keys keep path prefixes)."""
    while key:
        if key in folders:
            return True
        parent = key.rpartition(os.sep)[0]
        if parent == key:
            break
        key = parent
    return False


@contextlib.contextmanager
def _ctrl_c_cancels(control: IndexControl) -> Iterator[list[int]]:
    """Within the block, SIGINT cancels ``control`` instead of raising KeyboardInterrupt; the list
    yielded records the signals, for the caller to raise afterwards. Only the main thread can set
    signal handlers (a GUI worker thread never receives Ctrl-C anyway): elsewhere, nothing changes."""
    received: list[int] = []
    previous = signal.getsignal(signal.SIGINT) if threading.current_thread() is threading.main_thread() else None
    if previous is None:  # not the main thread, or a handler installed outside Python: leave it
        yield received
        return

    def cancel(signum: int, _frame) -> None:
        received.append(signum)
        control.cancel()

    signal.signal(signal.SIGINT, cancel)
    try:
        yield received
    finally:
        signal.signal(signal.SIGINT, previous)


def embedding_text(title: str | None, body: str) -> str:
    """What the passage tower reads for a passage: its title line (document › heading), then its body."""
    return f"{title}\n{body}" if title else body


def passage_records(extracted: Extracted, text: str, chunks) -> list[NewPassage]:
    """The passages the index stores for these chunks: title › heading, body span and locator."""
    out = []
    for c in chunks:
        heading = c.locator.heading
        title = extracted.title if not heading or heading == extracted.title else f"{extracted.title}{HEADING_SEPARATOR}{heading}"
        out.append(NewPassage(ordinal=c.ordinal, title=title, body=text[c.start:c.end], char_start=c.start,
                              char_end=c.end, locator=c.locator.to_dict()))
    return out


class _Batch:
    """Writes queued as callables and committed together, every few files or fractions of a second."""

    def __init__(self, writer: Writer) -> None:
        self.writer = writer
        self.pending: list[Callable[[Store], None]] = []
        self.dropped: list[int] = []
        self.copied: list[int] = []  # passages that arrived with a vector (copied from a twin)
        self.started = time.monotonic()

    def add(self, write: Callable[[Store], None]) -> None:
        if not self.pending:
            self.started = time.monotonic()
        self.pending.append(write)

    def maybe_commit(self) -> None:
        if len(self.pending) >= COMMIT_EVERY_FILES or (
                self.pending and time.monotonic() - self.started > COMMIT_EVERY_SECONDS):
            self.commit()

    def commit(self) -> None:
        if not self.pending:
            return
        writer = self.writer
        self.dropped, self.copied = [], []
        with writer.lock:
            with writer.store.transaction():
                for write in self.pending:
                    write(writer.store)
                if self.dropped or self.copied:
                    writer.store.bump_vectors_generation()
            writer.changed.notify_all()
            copied = list(writer.store.iter_vectors(ids=self.copied, dims=writer.vectors.dims)) if self.copied else []
        writer.drop_vectors(self.dropped)
        for keys, vectors in copied:
            writer.vectors.add(keys, vectors)
        self.pending = []
