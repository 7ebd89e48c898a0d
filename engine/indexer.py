"""Roots on disk → documents and passages in SQLite → vectors, incrementally and resumably.

Two phases:
- the *producer* (the calling thread) crawls the roots, decides per file what changed (size and
  mtime, then content hash), extracts changed files in isolated worker processes, chunks them and
  commits documents with their passages in small batches — from that moment they are findable by
  keyword;
- the *embedder* (a thread) encodes passages whose vector is still NULL, stores the int8 vectors in
  SQLite, then adds them to the USearch cache. It runs beside the producer (see `Indexer.overlap`).

What to do with each file is decided first, as a value (`FileDecider`, engine/decisions.py), and
applied later by the batch in one transaction; every write that changes vectors goes through
`VectorSync` (engine/vector_sync.py), which keeps the cache in step with SQLite.

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
import math
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
from .decisions import (
    Counts,
    Decision,
    Fail,
    FileAt,
    GoneDocuments,
    Unchanged,
    Vanished,
    Write,
    WriteRecord,
    apply_decision,
    decide_by_hash,
    decide_by_stat,
)
from .encoders import Encoder, all_cores, to_int8
from .errors import ExtractionError
from .extract._common import HEADING_SEPARATOR
from .extract.base import Extracted, Segment
from .passage_text import embedding_text
from .results import IndexControl, Progress, UpdateReport
from .store import DocumentRow, NewPassage, PassageToEmbed, Store
from .userfiles import open_user_file
from .vector_sync import VectorSync
from .vectors import VectorCache

log = logging.getLogger(__name__)

COMMIT_EVERY_FILES = 64
COMMIT_EVERY_SECONDS = 0.5
EMBED_BATCH = 256  # passages fetched per round: sorted by length inside, so little padding
SAVE_VECTORS_EVERY_SECONDS = 30.0
EMIT_EVERY_SECONDS = 0.1  # progress callbacks, at most
RATE_WINDOW_SECONDS = 60.0  # the rate and the ETA follow the last minute of (unpaused) work
MIN_RATE_SECONDS = 10.0  # after reading ends, the new pace is trusted once this much of it is seen
# The encoder's rate once reading ends, over its rate while sharing the machine with the reader, beyond
# the core it gets back (`_ProgressMeter.free_rate`): 2 cores here, 2.4x, 2.6x (bench_eta.py, the Python
# docs, two runs) and 2.5x (a busy-looping process beside the encoder) against the 2x of one core back.
THREAD_STALL = 1.25
RECOUNT_EVERY_SECONDS = 1.0  # totals re-read from the store, at most (two index-only counts)
PASSAGE_TARGET_PIECES = 160  # ~120 words; 128 and 200 scored within 0.006 nDCG on the dev sets

ProgressCallback = Callable[[Progress], None]
STEP_ASIDE_AT_MOST_SECONDS = 3.0  # per file or batch: non-stop typing still lets indexing advance
PASSAGES_PER_STEP_ASIDE = 8  # encoded (on one thread) after each wait that non-stop typing ran out


class TypingGate:
    """Someone is typing in the search box: indexing steps aside until the box goes idle.

    Each keystroke runs a search, mostly Python plus, while the library is still being embedded, up
    to four passages encoded on the spot; on a two-core laptop whatever indexing does at the same
    time is taken from it. The producer (reading, chunking, writing files in Python) holds the GIL
    the search needs: with it waiting, prefixes of typed queries on the real library went from p50
    52 / p95 165 ms to 30 / 76 ms. The embedder holds a core: with it waiting between batches too,
    keystroke → results painted while 17k passages were being embedded went from p95 142-168 ms to
    118 ms (typed) and from 165-250 to 133 ms (pasted) (benchmarks/bench_gui_latency.py).

    Both wait before their next file or batch, at most `STEP_ASIDE_AT_MOST_SECONDS` each (non-stop
    typing still lets indexing advance, with one encoder thread: `EncoderThreads`), and not at all
    once the run is cancelled. Safe from any thread (the app sets it per keystroke)."""

    def __init__(self) -> None:
        self._idle = threading.Event()
        self._idle.set()
        self.stepped_aside = threading.Event()  # set each time indexing waits (for tests)

    def set_typing(self, typing: bool) -> None:
        (self._idle.clear if typing else self._idle.set)()

    @property
    def typing(self) -> bool:
        return not self._idle.is_set()

    def step_aside(self, control: IndexControl) -> bool:
        """Wait while someone types, up to `STEP_ASIDE_AT_MOST_SECONDS`; return early on cancel. True
        when it gave up waiting: someone is still typing."""
        if self._idle.is_set():
            return False
        self.stepped_aside.set()
        deadline = time.monotonic() + STEP_ASIDE_AT_MOST_SECONDS
        while not self._idle.is_set() and not control.cancelled:
            left = deadline - time.monotonic()
            if left <= 0:
                return True
            self._idle.wait(min(left, 0.1))
        return False


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
    """What the two phases share: the writer connection (serialised by ``lock``), the cache, and
    ``sync``, through which every write that changes vectors goes (see engine/vector_sync.py)."""

    store: Store
    vectors: VectorCache
    model_id: str | None  # None: no model, the cache is never saved
    lock: threading.Lock = field(default_factory=threading.Lock)
    changed: threading.Condition = field(init=False)
    sync: VectorSync = field(init=False)

    def __post_init__(self) -> None:
        self.changed = threading.Condition(self.lock)
        self.sync = VectorSync(self.store, self.vectors, model_id=self.model_id, lock=self.lock)


class _ProgressMeter:
    """Counts, one rate, an ETA and a throttled callback, honest about what is left.

    Totals come from the store, not only from what this run added: ``to_embed`` is what this run
    embedded plus the passages still without a vector, recounted (`recount`) after commits and
    batches, so it shrinks when work goes away (an ignore file, a deleted folder) and the bar ends
    at 100%. The one rate is passages embedded per second over the last `RATE_WINDOW_SECONDS` of
    unpaused time: the meter's clock stands still while the run is paused (`IndexControl`), so
    the ETA holds still then and does not inflate afterwards.

    While files are still being read, the reader takes about one core from the encoder, and the
    encoder's rate about doubles on two cores once reading ends (27-34 → 66 passages/s on the Python
    docs here). So the ETA of that phase is the reading time left (files left at the reading pace)
    plus what is still to embed after it at the rate the encoder will have alone (`free_rate`), and
    when reading ends the rate window starts again, so the slow minute does not linger in the
    estimate (it overstated the time left by up to 2x for the minute after reading ended)."""

    def __init__(self, callback: ProgressCallback | None, *, control: IndexControl | None = None,
                 count: Callable[[], tuple[int, int]] | None = None,
                 clock: Callable[[], float] = time.monotonic, cores: int | None = None) -> None:
        self.callback = callback
        self.control = control if control is not None else IndexControl(clock=clock)
        self._count = count  # () -> (passages stored, passages without a vector)
        self._clock = clock
        self.phase = "scanning"
        self.files_seen = self.files_total = self.files_done = self.files_failed = 0
        self.passages = self.embedded = self.to_embed = 0
        self.library_passages = self.library_embedded = 0
        self.current = ""
        self._last_emit = -math.inf
        self._last_count = -math.inf
        self._window: deque[tuple[float, int]] = deque()  # (work seconds, embedded so far)
        self._reading_since: float | None = None  # work seconds when files began to be read
        self._to_embed_at_reading = 0  # the total to embed when the first file was read
        self._shared_rate = 0.0  # the encoder's rate while it shared the machine with the reader
        self._restart_window = False  # reading has ended: the next batch to land starts the window again
        self._cores = cores if cores is not None else all_cores()
        self.lock = threading.Lock()

    def work_seconds(self) -> float:
        """The clock less the time spent paused."""
        return self._clock() - self.control.paused_seconds()

    def recount(self, *, force: bool = False) -> None:
        """Re-read the totals from the store (at most every `RECOUNT_EVERY_SECONDS` unless forced)."""
        if self._count is None:
            return
        now = self._clock()
        if not force and now - self._last_count < RECOUNT_EVERY_SECONDS:
            return
        self._last_count = now
        stored, without_vector = self._count()
        with self.lock:
            self.library_passages, self.library_embedded = stored, stored - without_vector
            self.to_embed = self.embedded + without_vector

    def note_written(self, passages: int) -> None:
        """A file's passages are queued for the next commit (the store's count follows at `recount`)."""
        with self.lock:
            self.passages += passages
            if self._count is None:
                self.to_embed += passages

    def note_embedded(self, count: int) -> None:
        with self.lock:
            self.embedded += count
            if self._restart_window:
                self._window.clear()
                self._restart_window = False
            self._window.append((self.work_seconds(), self.embedded))
            while len(self._window) > 2 and self._window[-1][0] - self._window[1][0] >= RATE_WINDOW_SECONDS:
                self._window.popleft()
        self.recount(force=True)

    def reading_started(self) -> None:
        """Files begin to be read (phase "indexing")."""
        with self.lock:
            self.phase = "indexing"
            self._reading_since = self.work_seconds()
            self._to_embed_at_reading = self.to_embed

    def reading_done(self) -> None:
        """Every file is read (phase "embedding"): the encoder has the machine to itself from now on, so
        its rate is measured again, from the end of the batch in flight (which ran partly shared)."""
        with self.lock:
            if self.phase == "indexing":
                self._shared_rate = self._measured_rate()
                self._restart_window = True
            self.phase = "embedding"

    def _measured_rate(self) -> float:
        if len(self._window) < 2:
            return 0.0
        (t0, n0), (t1, n1) = self._window[0], self._window[-1]
        return (n1 - n0) / (t1 - t0) if t1 > t0 else 0.0

    def free_rate(self, shared: float) -> float:
        """The rate the encoder will have once no file is being read, from its rate while sharing the
        machine with the reader. The reader (one Python thread and one extraction worker at a time)
        keeps about one core busy, and onnxruntime splits each operation evenly between its threads, so
        the one that shares its core with the reader holds up the others (`THREAD_STALL`). One core is
        shared half and half."""
        if self._cores == 1:
            return 2 * shared
        return shared * self._cores / (self._cores - 1) * THREAD_STALL

    def rate(self) -> float:
        """Passages embedded per second between the oldest and newest batch in the window. Right after
        reading ended, until `MIN_RATE_SECONDS` of the new pace are seen, the expected `free_rate`."""
        measured = self._measured_rate()
        if self._shared_rate and self.phase != "indexing":
            span = self._window[-1][0] - self._window[0][0] if len(self._window) > 1 else 0.0
            if self._restart_window or span < MIN_RATE_SECONDS:
                return self.free_rate(self._shared_rate)
        return measured

    def eta(self, rate: float) -> float | None:
        """Seconds left, counted down by the work time since the last batch landed (standing still
        while paused). While files are still being read: the reading time left, at the pace files were
        read so far, plus the passages left after it (those the unread files will bring estimated from
        the ones read so far) at the encoder's `free_rate`."""
        if rate <= 0 or not self._window:
            return None
        remaining = max(self.to_embed - self.embedded, 0)
        since_last = self.work_seconds() - self._window[-1][0]
        files_left = max(self.files_total - self.files_done, 0)
        if self.phase != "indexing" or not self.files_done or self._reading_since is None:
            return max(remaining / rate - since_last, 0.0)
        reading_for = self.work_seconds() - self._reading_since
        added = max(self.to_embed - self._to_embed_at_reading, 0)  # by the files read so far
        remaining += added * files_left // self.files_done
        reading_left = reading_for * files_left / self.files_done
        after_reading = max(remaining - rate * reading_left, 0)
        return max(reading_left + after_reading / self.free_rate(rate) - since_last, 0.0)

    def snapshot(self) -> Progress:
        with self.lock:
            rate = self.rate()
            return Progress(
                phase=self.phase, files_seen=self.files_seen, files_total=self.files_total,
                files_done=self.files_done, files_failed=self.files_failed, passages=self.passages,
                embedded=self.embedded, to_embed=max(self.to_embed, self.embedded), rate=rate,
                eta_s=self.eta(rate), current=self.current, paused=self.control.paused,
                library_passages=self.library_passages, library_embedded=self.library_embedded)

    def emit(self, *, force: bool = False) -> None:
        if self.callback is None:
            return
        now = self._clock()
        if not force and now - self._last_emit < EMIT_EVERY_SECONDS:
            return
        self._last_emit = now
        self.callback(self.snapshot())


class Embedder(threading.Thread):
    """Fills in missing vectors until told the producer is done and nothing is left.

    Passages are taken most useful first (engine/embed_order.py), and every text is encoded once:
    a passage whose text (`passage_text.text_hash`) already has a vector in any document gets a copy
    of it, identical texts in a batch are encoded once, and the vector a batch stores for a text goes
    to every passage still waiting with that text. Each passage keeps its own copy in its own row,
    so editing, deleting or moving one file never touches another's vectors."""

    def __init__(self, writer: Writer, encoder: Encoder, meter: _ProgressMeter, control: IndexControl, *,
                 typing: TypingGate | None = None) -> None:
        super().__init__(name="librarian-embedder", daemon=True)
        self.typing = typing or TypingGate()
        self.writer = writer
        self.encoder = encoder
        self.meter = meter
        self.control = control
        self.producer_done = threading.Event()
        self.error: BaseException | None = None
        self.encoded = 0  # texts the encoder read
        self._granted = 0  # encoder calls left that need not wait for the typist (`_between_batches`)
        self.stored = 0  # passages given a vector: encoded, or copied from an identical passage

    def run(self) -> None:
        try:
            self._loop()
        except BaseException as exc:  # surfaced by Indexer.update in the calling thread
            self.error = exc
        if self.stored:
            log.info("embedded %d passages: %d texts encoded, %d passages given the vector of an identical one",
                     self.stored, self.encoded, self.stored - self.encoded)

    def _loop(self) -> None:
        writer = self.writer
        last_save = time.monotonic()
        while self.control.wait_if_paused():
            with writer.lock:
                batch = writer.store.passages_to_embed(EMBED_BATCH)
                if not batch:
                    if self.producer_done.is_set():
                        break
                    writer.changed.wait(timeout=0.5)
                    continue
                known = writer.store.stored_vectors((p.text_hash for p in batch), dims=writer.vectors.dims)
            vectors = {**known, **self._encode_new(batch, known)}
            with writer.sync.transaction() as change:
                writer.store.set_text_hashes((p.id, p.text_hash) for p in batch if p.hash_missing)
                # Read inside the transaction: only passages that still exist and still wait (the
                # producer may have replaced some meanwhile), so the cache never gets an orphan key.
                waiting = writer.store.unembedded_with_hashes(vectors)
                ids = np.asarray([pid for pid, _ in waiting], dtype=np.uint64)
                stacked = np.stack([vectors[digest] for _, digest in waiting]) if waiting else None
                if stacked is not None:
                    writer.store.set_vectors(ids.tolist(), stacked)
                    change.add(ids, stacked)
            self.stored += len(waiting)
            self.meter.note_embedded(len(waiting))
            self.meter.emit()
            if time.monotonic() - last_save > SAVE_VECTORS_EVERY_SECONDS:
                writer.sync.save()
                last_save = time.monotonic()

    def _between_batches(self) -> None:
        """Before each batch of the encoder: wait while someone types (`TypingGate`). After a wait that
        gave up (non-stop typing), the next `PASSAGES_PER_STEP_ASIDE` run without waiting: the encoder
        runs one passage per call, and one passage per 3 s would stall indexing for as long as anyone
        types (8 per wait is what batches of 8 gave before)."""
        if self._granted > 0:
            self._granted -= 1
            return
        if self.typing.step_aside(self.control):
            self._granted = PASSAGES_PER_STEP_ASIDE - 1

    def _encode_new(self, batch: list[PassageToEmbed], known: dict[bytes, np.ndarray]) -> dict[bytes, np.ndarray]:
        """text hash -> int8 vector for the texts of ``batch`` no stored vector covers, each encoded once."""
        texts: dict[bytes, str] = {}
        for passage in batch:
            if passage.text_hash not in known:
                texts.setdefault(passage.text_hash, embedding_text(passage.title, passage.body))
        if not texts:
            return {}
        encoded = to_int8(self.encoder.embed(list(texts.values()), before_batch=self._between_batches))
        self.encoded += len(texts)
        return dict(zip(texts, encoded, strict=True))


class Indexer:
    def __init__(self, writer: Writer, *, encoder: Encoder | None, offsets: PieceOffsets, extract: Callable[[Path], Extracted],
                 max_file_bytes: int = 256 * 1024 * 1024, skip_dirs: tuple[Path, ...] = (),
                 typing: TypingGate | None = None) -> None:
        self.writer = writer
        self.typing = typing or TypingGate()
        self.encoder = encoder
        self.offsets = offsets
        self.extract = extract
        self.max_file_bytes = max_file_bytes
        self.skip_dirs = skip_dirs  # never crawled: the data dir, when it lies inside a root
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
        meter = _ProgressMeter(progress, control=control, count=self._passage_totals)
        started = time.monotonic()
        meter.recount(force=True)
        embedder = None
        if embed and self.encoder is not None:
            embedder = Embedder(self.writer, self.encoder, meter, control, typing=self.typing)
            if self.overlap:
                embedder.start()
        self._rehash = rehash
        counts = Counts()
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
        meter.recount(force=True)
        meter.phase = "done"
        meter.emit(force=True)
        return counts.report(embedded=meter.embedded, seconds=time.monotonic() - started,
                             cancelled=control.cancelled)

    def _finish_embedding(self, embedder: Embedder, meter: _ProgressMeter, control: IndexControl) -> None:
        """Let the embedder encode what is left (or, when cancelled, finish its current batch), then
        save the vectors.

        The thread is only ever stopped between batches, never torn down: if the interpreter exits
        while an ONNX session runs in it, onnxruntime aborts the process ("terminate called without
        an active exception"). So Ctrl-C here cancels the run and the wait goes on, a second Ctrl-C
        too; the interrupt is raised once the thread is done and the vectors are saved.
        """
        with _ctrl_c_cancels(control) as interrupted:
            meter.recount(force=True)
            meter.reading_done()
            meter.emit(force=True)
            embedder.producer_done.set()
            if embedder.ident is None and not control.cancelled:
                embedder.start()  # not overlapping: the embedding phase starts now
            with self.writer.lock:
                self.writer.changed.notify_all()
            while embedder.is_alive():
                embedder.join(timeout=0.2)
                meter.emit()
            self.writer.sync.save()
        if interrupted:
            raise KeyboardInterrupt

    # -- phase 1 --------------------------------------------------------------------------------
    def _produce(self, meter: _ProgressMeter, control: IndexControl, counts: Counts) -> None:
        crawled = self._crawl(meter, control)
        if crawled is None:
            return  # cancelled while crawling: nothing is written
        meter.files_total = len(crawled.found)
        meter.reading_started()
        meter.emit(force=True)
        gone = crawled.gone()
        batch = _Batch(self.writer)
        for root_id, key, reason in crawled.problems:
            self._settle(batch, Fail(FileAt(key, root_id, size=0, mtime_ns=0), reason), counts, meter)
        decider = FileDecider(offsets=self.offsets, extract=self.extract, find_twin=self._find_twin, gone=gone,
                              before_extract=batch.maybe_commit)
        for root_id, item in crawled.found:
            if not control.wait_if_paused():
                break
            self.typing.step_aside(control)
            key = path_key(item.path)
            meter.current = display_path(item.path)
            existing = crawled.known.get(key)
            unchanged = decide_by_stat(existing, size=item.size, mtime_ns=item.mtime_ns, rehash=self._rehash)
            if unchanged is not None:
                self._settle(batch, unchanged, counts, meter)
                meter.files_done += 1
                continue
            file = FileAt(key, root_id, size=item.size, mtime_ns=item.mtime_ns, kind=item.kind)
            self._settle(batch, decider.decide(item.path, file, existing), counts, meter)
            meter.files_done += 1
            batch.maybe_commit()
            meter.recount()
            meter.emit()
        batch.commit()
        if not control.cancelled:
            self._drop_gone(gone, counts)
        meter.recount(force=True)
        meter.emit(force=True)

    def _crawl(self, meter: _ProgressMeter, control: IndexControl) -> _Crawled | None:
        """Walk every root; None when cancelled meanwhile."""
        store = self.writer.store
        with self.writer.lock:
            roots = store.roots()
        crawled = _Crawled()
        for root_id, root_key in roots:
            root_path = key_path(root_key)  # keys are text for SQLite; the walk needs the OS path
            if not os.path.lexists(root_path):
                # An unplugged drive or an unmounted share: keep what was indexed, say why it is stale.
                crawled.problems.append((root_id, root_key, "folder not found (unplugged or moved?); "
                                                            "its documents are kept until you forget it"))
                continue
            with self.writer.lock:
                crawled.known.update(store.documents_under_root(root_id))

            def on_problem(path: Path, reason: str, root_id: int = root_id) -> None:
                crawled.problems.append((root_id, path_key(path), reason))

            for item in crawl(Path(root_path), max_file_bytes=self.max_file_bytes, on_problem=on_problem,
                              skip_dirs=self.skip_dirs):
                key = path_key(item.path)
                if key in crawled.seen:
                    continue  # nested roots: the first root claims the file
                crawled.seen.add(key)
                crawled.found.append((root_id, item))
                meter.files_seen += 1
                meter.emit()
                if not control.wait_if_paused():
                    return None
                self.typing.step_aside(control)
        return crawled

    def _passage_totals(self) -> tuple[int, int]:
        with self.writer.lock:
            return self.writer.store.passage_totals()

    def _find_twin(self, digest: str, exclude_id: int | None) -> DocumentRow | None:
        with self.writer.lock:
            return self.writer.store.document_with_hash(digest, exclude_id=exclude_id)

    @staticmethod
    def _settle(batch: _Batch, decision: Decision, counts: Counts, meter: _ProgressMeter) -> None:
        """Queue a file's decision for the next commit and count it."""
        batch.add(decision)
        counts.count(decision)
        if isinstance(decision, Fail) or (isinstance(decision, Unchanged) and decision.failed):
            meter.files_failed += 1
        if isinstance(decision, Write):
            meter.note_written(len(decision.passages))

    def _drop_gone(self, gone: GoneDocuments, counts: Counts) -> None:
        """Delete the documents whose file is gone (and was not found moved)."""
        still_gone = gone.still_gone()
        if not still_gone:
            return
        with self.writer.sync.transaction() as change:
            change.removed += self.writer.store.delete_documents([row.id for row in still_gone])
        # A problem listed for a folder is a row, not a document: its going is no removal.
        counts.removed += sum(1 for row in still_gone if not _is_folder_problem(row))

    # -- records (evaluation collections) -------------------------------------------------------
    def add_records(self, records: Iterable[tuple[str, str, str]], *, kind: str = "record") -> int:
        """Index (id, title, text) records as documents whose path is the id. Returns passages added."""
        batch = _Batch(self.writer)
        total = 0
        for record_id, title, text in records:
            extracted = Extracted(title=title, segments=[Segment(text)] if text.strip() else [], kind=kind)
            body, chunks = chunk(extracted, self.offsets, target=PASSAGE_TARGET_PIECES)
            passages = passage_records(extracted, body, chunks)
            batch.add(WriteRecord(record_id, title, record_hash(title, text), kind, len(body), tuple(passages)))
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
    if previous is None or previous is signal.SIG_IGN:
        # Not the main thread, a handler installed outside Python, or Ctrl-C deliberately ignored
        # (a background job, nohup): leave it as it is.
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


def passage_records(extracted: Extracted, text: str, chunks) -> list[NewPassage]:
    """The passages the index stores for these chunks: title › heading, body span and locator."""
    out = []
    for c in chunks:
        heading = c.locator.heading
        title = extracted.title if not heading or heading == extracted.title else f"{extracted.title}{HEADING_SEPARATOR}{heading}"
        out.append(NewPassage(ordinal=c.ordinal, title=title, body=text[c.start:c.end], char_start=c.start,
                              char_end=c.end, locator=c.locator.to_dict()))
    return out


@dataclass
class _Crawled:
    """What the crawl found: files by root, the rows indexed under the roots, and what it could not read."""

    found: list[tuple[int, FoundFile]] = field(default_factory=list)
    problems: list[tuple[int, str, str]] = field(default_factory=list)  # (root id, path key, reason)
    known: dict[str, DocumentRow] = field(default_factory=dict)
    seen: set[str] = field(default_factory=set)

    def gone(self) -> GoneDocuments:
        """Indexed documents the crawl did not find. A folder the crawl could not list (permission
        denied, an I/O error, a share refusing access for a minute) hides its files; it does not
        delete them. Like a missing root, what was indexed under it is kept, and the folder is
        listed as a problem until it reads again."""
        problem_paths = {path for _, path, _ in self.problems}
        return GoneDocuments(row for path, row in self.known.items()
                             if path not in self.seen and not _inside_any(path, problem_paths))


def _nothing() -> None:
    pass


@dataclass
class FileDecider:
    """Decides what to do with a file whose size or mtime changed (or any file, when rehashing): reads
    it (hash, then text), asks the index only for a twin, writes nothing. ``before_extract`` runs
    before a file is extracted (the indexer commits what it holds: a slow file must not hold back
    the files read before it)."""

    offsets: PieceOffsets
    extract: Callable[[Path], Extracted]
    find_twin: Callable[[str, int | None], DocumentRow | None]
    gone: GoneDocuments
    before_extract: Callable[[], None] = _nothing
    hash_file: Callable[[Path], str] = content_hash

    def decide(self, path: Path, file: FileAt, existing: DocumentRow | None) -> Decision:
        try:
            digest = self.hash_file(path)
        except OSError as exc:
            if not path.exists():
                return Vanished()
            return Fail(file, f"unreadable: {exc.strerror or exc}")
        settled = decide_by_hash(file, existing, digest, gone=self.gone, find_twin=self.find_twin)
        if settled is not None:
            return settled
        self.before_extract()
        try:
            extracted = self.extract(path)
        except ExtractionError as exc:
            if not path.exists():
                return Vanished()
            return Fail(file, exc.reason, digest=digest, replaces=existing.id if existing else None)
        return self.write(file, existing, digest, extracted)

    def write(self, file: FileAt, existing: DocumentRow | None, digest: str, extracted: Extracted) -> Write:
        chunked = chunk_document(extracted, self.offsets, target=PASSAGE_TARGET_PIECES)
        passages = passage_records(extracted, chunked.text, chunked.chunks)
        # Indexed, but not whole (text truncated, passages merged or capped): kept with the document
        # as a warning the user sees beside the failures, never silently.
        warning = extracted.left_out or "; ".join(chunked.notes) or None
        return Write(file, digest, kind=extracted.kind, title=extracted.title, text=chunked.text,
                     passages=tuple(passages), warning=warning, replaces=existing.id if existing else None,
                     status="left_out" if extracted.left_out else "ok")


class _Batch:
    """Decisions applied together in one transaction, every few files or fractions of a second."""

    def __init__(self, writer: Writer) -> None:
        self.writer = writer
        self.pending: list[Decision | WriteRecord] = []
        self.started = time.monotonic()

    def add(self, decision: Decision | WriteRecord) -> None:
        if isinstance(decision, Unchanged | Vanished):
            return  # nothing to write
        if not self.pending:
            self.started = time.monotonic()
        self.pending.append(decision)

    def maybe_commit(self) -> None:
        if len(self.pending) >= COMMIT_EVERY_FILES or (
                self.pending and time.monotonic() - self.started > COMMIT_EVERY_SECONDS):
            self.commit()

    def commit(self) -> None:
        if not self.pending:
            return
        writer = self.writer
        with writer.sync.transaction() as change:
            for decision in self.pending:
                apply_decision(decision, writer.store, change)
            writer.changed.notify_all()  # the embedder wakes when the lock is released: after the commit
        self.pending = []
