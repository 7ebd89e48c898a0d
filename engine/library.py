"""`Library`: the one façade the CLI and the GUI use. Nothing outside `engine/` touches SQLite,
USearch or ONNX directly.

Thread model: one `Library` may be shared by threads. `search`, `status` and `passage_context`
are safe from any thread (each thread gets its own read connection); `update`, `add_folder`,
`forget`, `reembed` and `check(repair=True)` take the data dir's writer lock (one writer process at
a time) and run one at a time within the process.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
import platformdirs

from .chunk import PieceOffsets, tokenizer_offsets, word_offsets
from .encoders import Model, load_model
from .errors import LibrarianError, ModelError
from .extract.base import Locator
from .extract.isolate import ExtractionWorkers
from .indexer import Indexer, Writer, display_path
from .lock import WriterLock
from .results import (
    CheckReport,
    Failure,
    IndexControl,
    Mode,
    PassageContext,
    Progress,
    SearchFilters,
    SearchResult,
    Status,
    UpdateReport,
)
from .search import Searcher
from .store import Store
from .vectors import VectorCache

log = logging.getLogger(__name__)

ProgressCallback = Callable[[Progress], None]
DB_NAME = "index.sqlite3"
VECTORS_NAME = "vectors.usearch"


def default_data_dir() -> Path:
    override = os.environ.get("LIBRARIAN_DATA_DIR")
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_data_dir("librarian", appauthor=False))


class Library:
    def __init__(self, data_dir: Path, model: Model | None, *, extract: Callable | None = None,
                 offsets: PieceOffsets | None = None) -> None:
        self.data_dir = data_dir
        self.model = model
        self._extract_override = extract
        self._workers: ExtractionWorkers | None = None
        if offsets is None and model is not None and model.tokenizer_file is not None:
            from tokenizers import Tokenizer

            tokenizer = Tokenizer.from_file(str(model.tokenizer_file))
            tokenizer.no_truncation()
            tokenizer.no_padding()
            offsets = tokenizer_offsets(tokenizer)
        self._offsets = offsets or word_offsets
        self._lock = WriterLock(data_dir / "lock")
        self._write_mutex = threading.RLock()
        self._writing = False
        self._closed = False
        self._running: set[IndexControl] = set()  # updates in flight, cancelled by close()
        self._local = threading.local()
        self._stores: list[Store] = []
        self._stores_mutex = threading.Lock()
        self._writer_store: Store | None = None
        dims = model.dims if model else 384
        self.vectors = VectorCache(data_dir / VECTORS_NAME, dims)
        self._vectors_generation = -1
        store = self._reader()
        self.model_mismatch: tuple[str, str] | None = None
        stored_model = store.get_meta("model_id")
        if model is not None and stored_model and stored_model != model.model_id:
            self.model_mismatch = (store.get_meta("model_name") or stored_model[:12], model.name)
        self._sync_vectors(store)
        self._searcher = Searcher(store=self._reader, vectors=self.vectors,
                                  encoder=(lambda: self.model.question) if model else None)  # type: ignore[union-attr]

    # -- opening --------------------------------------------------------------------------------
    @classmethod
    def open(cls, data_dir: Path | str | None = None, *, model_dir: Path | str | None = None,
             model: Model | None = None, extract: Callable | None = None) -> Library:
        """Open (creating if needed) the index in ``data_dir`` (default: the platform's user data dir,
        or $LIBRARIAN_DATA_DIR). ``model_dir`` defaults to the shipped model."""
        path = Path(data_dir).expanduser() if data_dir else default_data_dir()
        try:
            path.mkdir(parents=True, exist_ok=True)
            os.chmod(path, 0o700)  # the index holds the text of private documents
        except OSError as exc:
            raise LibrarianError(f"cannot use the data dir {path}: {exc.strerror or exc}") from exc
        if model is None:
            model = load_model(Path(model_dir) if model_dir else None)
        db = path / DB_NAME
        first = not db.exists()
        Store(db).close()  # creates the schema
        if first:
            for name in (DB_NAME,):
                os.chmod(path / name, 0o600)
        return cls(path, model, extract=extract)

    # -- connections ----------------------------------------------------------------------------
    def _reader(self) -> Store:
        store = getattr(self._local, "store", None)
        if store is None:
            store = Store(self.data_dir / DB_NAME, read_only=True)
            self._local.store = store
            with self._stores_mutex:
                self._stores.append(store)
        return store

    def _writer(self) -> Store:
        if self._writer_store is None:
            self._writer_store = Store(self.data_dir / DB_NAME)
        return self._writer_store

    def _sync_vectors(self, store: Store) -> None:
        """Make the in-memory vector cache agree with SQLite when another writer changed it."""
        if self.model is None or self.model_mismatch:
            return
        generation = store.vectors_generation()
        if generation == self._vectors_generation:
            return
        self.vectors.open(store, model_id=self.model.model_id)
        self._vectors_generation = generation

    def _extractor(self) -> Callable:
        if self._extract_override is not None:
            return self._extract_override
        if self._workers is None:
            timeout = float(os.environ.get("LIBRARIAN_EXTRACT_TIMEOUT", "60"))
            self._workers = ExtractionWorkers(processes=1, timeout_s=timeout)
        return self._workers.extract

    # -- roots ----------------------------------------------------------------------------------
    def add_folder(self, path: Path | str) -> str:
        """Add a root (a folder or a single file). Does not index: call `update`."""
        resolved = Path(path).expanduser()
        if not resolved.exists():
            raise LibrarianError(f"{path}: no such file or folder")
        key = display_path(resolved.resolve())
        with self._write_mutex, self._lock:
            self._writer().add_root(key)
        return key

    def forget(self, path: Path | str) -> int:
        """Remove a root and everything indexed under it; returns documents removed."""
        key = display_path(Path(path).expanduser().resolve())
        with self._write_mutex, self._lock:
            store = self._writer()
            roots = {p: rid for rid, p in store.roots()}
            if key not in roots:
                raise LibrarianError(f"{path} is not a library folder (see `librarian status`)")
            root_id = roots[key]
            docs = [row.id for row in store.documents_under_root(root_id).values()]
            with store.transaction():
                dropped = store.delete_documents(docs)
                store.remove_root(root_id)
                if dropped:
                    store.bump_vectors_generation()
            self.vectors.remove(dropped)
            self._save_vectors(store)
        return len(docs)

    def roots(self) -> list[str]:
        return [p for _, p in self._reader().roots()]

    # -- indexing -------------------------------------------------------------------------------
    def _indexer(self, store: Store) -> Indexer:
        writer = Writer(store=store, vectors=self.vectors, model_id=self.model.model_id if self.model else "")
        return Indexer(writer, encoder=self.model.passage if self.model else None, offsets=self._offsets,
                       extract=self._extractor())

    def _prepare_write(self) -> Store:
        store = self._writer()
        if self.model is not None:
            if self.model_mismatch:
                self._reembed(store)
            elif store.get_meta("model_id") is None:
                store.set_meta("model_id", self.model.model_id)
                store.set_meta("model_name", self.model.name)
            self._sync_vectors(store)
        return store

    def update(self, *, progress: ProgressCallback | None = None, control: IndexControl | None = None,
               embed: bool = True) -> UpdateReport:
        """Bring the index up to date with the roots (new, changed, deleted, moved files), then embed."""
        control = control or IndexControl()
        self._running.add(control)
        try:
            with self._write_mutex, self._lock:
                if self._closed:
                    raise LibrarianError("the library is closed")
                store = self._prepare_write()
                self._writing = True
                try:
                    report = self._indexer(store).update(progress=progress, control=control, embed=embed)
                finally:
                    self._writing = False
                    self._vectors_generation = store.vectors_generation()
                return report
        finally:
            self._running.discard(control)

    def add_records(self, records: Iterable[tuple[str, str, str]], *, progress: ProgressCallback | None = None) -> UpdateReport:
        """Index (id, title, text) records (an evaluation collection) and embed them."""
        with self._write_mutex, self._lock:
            store = self._prepare_write()
            indexer = self._indexer(store)
            indexer.add_records(records)
            report = indexer.update(progress=progress)
            self._vectors_generation = store.vectors_generation()
            return report

    def reembed(self) -> int:
        """Drop every vector and re-encode all passages with the current model. Returns passages."""
        with self._write_mutex, self._lock:
            store = self._writer()
            self._reembed(store)
            report = self._indexer(store).update()
            self._vectors_generation = store.vectors_generation()
            return report.embedded

    def _reembed(self, store: Store) -> None:
        assert self.model is not None
        log.warning("the index was embedded with another model; re-embedding with %s", self.model.name)
        with store.transaction():
            store.clear_vectors()
            store.set_meta("model_id", self.model.model_id)
            store.set_meta("model_name", self.model.name)
            store.bump_vectors_generation()
        self.vectors.clear()
        self.vectors.discard_files()
        self.model_mismatch = None

    def _save_vectors(self, store: Store) -> None:
        if self.model is not None:
            generation = store.vectors_generation()
            self.vectors.save(generation=generation, model_id=self.model.model_id)
            self._vectors_generation = generation

    # -- reading --------------------------------------------------------------------------------
    def search(self, query: str, *, k: int = 10, mode: Mode = "hybrid",
               filters: SearchFilters | None = None) -> SearchResult:
        store = self._reader()
        if not self._writing:  # while we write, the embedder keeps the cache current itself
            with self.vectors.lock:
                self._sync_vectors(store)
        if self.model_mismatch and mode != "keyword":
            mode = "keyword"  # vectors of another model must never be compared with this one's
        return self._searcher.search(query, k=k, mode=mode, filters=filters)

    def passage_context(self, passage_id: int, *, before: int = 1, after: int = 1) -> PassageContext:
        store = self._reader()
        row = store.passages_by_ids([passage_id]).get(passage_id)
        if row is None:
            raise LibrarianError(f"passage {passage_id} is no longer in the index")
        document_id, ordinal, _title, body, locator, char_start, char_end = row
        doc = store.document(document_id)
        assert doc is not None
        text = store.content(document_id)
        if text is not None:
            neighbours = store.document_passages(document_id, ordinal - before, ordinal + after)
            start = min(n[3] for n in neighbours)
            end = max(n[4] for n in neighbours)
            context, span = text[start:end], (char_start - start, char_end - start)
        else:
            context, span = body, (0, len(body))
        return PassageContext(path=doc.path, title=doc.title or doc.path, kind=doc.kind or "",
                              locator=Locator.from_dict(json.loads(locator)), text=context, passage_span=span)

    def status(self) -> Status:
        store = self._reader()
        counts = store.counts()
        return Status(roots=tuple(self.roots()), documents=counts["documents"], passages=counts["passages"],
                      embedded=counts["embedded"],
                      failed=tuple(Failure(p, r) for p, r in store.failures()),
                      model=self.model.name if self.model else "", data_dir=str(self.data_dir))

    def check(self, *, repair: bool = False) -> CheckReport:
        """Verify SQLite against the vector index; ``repair`` heals what differs and saves."""
        with self._write_mutex:
            if repair:
                self._lock.acquire()
            try:
                store = self._writer() if repair else self._reader()
                if repair:
                    with store.transaction():
                        store.conn.execute("INSERT INTO passages_fts(passages_fts) VALUES ('rebuild')")
                # Judge the file on disk as a fresh process would find it, not our memory.
                probe = VectorCache(self.vectors.path, self.vectors.dims)
                disk_keys = np.zeros(0, dtype=np.uint64)
                entries = distinct = 0
                if probe.path.exists():
                    try:
                        probe.index.load(str(probe.path))
                        entries, distinct = probe.key_count()
                        disk_keys = probe.keys()
                    except Exception:
                        entries = distinct = 0
                stored = store.embedded_ids()
                missing = int(len(np.setdiff1d(stored, disk_keys)))
                orphans = int(len(np.setdiff1d(disk_keys, stored)))
                duplicate_keys = entries - distinct
                duplicate_passages = int(store.conn.execute(
                    "SELECT count(*) FROM (SELECT document_id, ordinal FROM passages "
                    "GROUP BY document_id, ordinal HAVING count(*) > 1)").fetchone()[0])
                passages = store.counts()["passages"]
                report = CheckReport(passages=passages, vectors_stored=len(stored), vectors_indexed=distinct,
                                     missing=missing, orphans=orphans,
                                     duplicates=duplicate_keys + duplicate_passages,
                                     ok=missing == 0 and orphans == 0 and duplicate_keys + duplicate_passages == 0)
                if repair and not report.ok:
                    if duplicate_passages:
                        store.conn.execute(
                            "DELETE FROM passages WHERE id NOT IN (SELECT min(id) FROM passages "
                            "GROUP BY document_id, ordinal)")
                    self.vectors.clear()
                    self._vectors_generation = -1
                    self.vectors.discard_files()
                    self._sync_vectors(store)
                    self._save_vectors(store)
                    fixed = self.check()
                    return CheckReport(**{**fixed.to_json(), "repaired": True})
                return report
            finally:
                if repair:
                    self._lock.release()

    def close(self) -> None:
        """Cancel a running update, wait for it to commit what it has, then release everything.
        Never closes a connection another thread is still writing through."""
        for control in list(self._running):
            control.cancel()
        with self._write_mutex:
            self._closed = True
        self._searcher.close()
        if self._workers is not None:
            self._workers.close()
            self._workers = None
        with self._stores_mutex:
            for store in self._stores:
                with contextlib.suppress(Exception):
                    store.conn.close()
            self._stores.clear()
        self._local = threading.local()
        if self._writer_store is not None:
            self._writer_store.close()
            self._writer_store = None

    def __enter__(self) -> Library:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

__all__ = ["Library", "default_data_dir", "ModelError"]
