"""`Library`: the one façade the CLI and the GUI use. Nothing outside `engine/` touches SQLite,
USearch or ONNX directly.

Thread model: one `Library` may be shared by threads. `search`, `status` and `passage_context`
are safe from any thread (each thread gets its own read connection); `update`, `add_folder`,
`forget`, `reembed` and `check(repair=True)` take the data dir's writer lock (one writer process at
a time) and run one at a time within the process.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import stat
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from . import explain
from .chunk import PieceOffsets, tokenizer_offsets, word_offsets
from .datadir import (
    DB_NAME,
    LOCK_NAME,
    VECTORS_NAME,
    create_index,
    default_data_dir,
    prepare_data_dir,
    resolve_data_dir,
    set_aside_damaged_index,
)
from .encoders import Model, load_model
from .errors import IndexDamagedError, IndexLockedError, LibrarianError, ModelError
from .extract import kind_for
from .extract.base import Locator
from .extract.isolate import ExtractionWorkers
from .indexer import Indexer, TypingGate, Writer
from .lock import WriterLock
from .paths import display_path, key_path, path_key
from .results import (
    CheckReport,
    ExclusionPreview,
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
from .store import Store, integrity_problem
from .vector_sync import VectorSync
from .vectors import VectorCache

if TYPE_CHECKING:
    import pathspec

    from .watch import Watcher

log = logging.getLogger(__name__)

ProgressCallback = Callable[[Progress], None]


def demo_library_path() -> Path:
    """The small library of sample documents shipped with the engine (the app's "Try the demo")."""
    from importlib import resources

    return Path(str(resources.files("librarian.engine") / "demo"))



def _layered_verdict(rel: str, patterns: pathspec.PathSpec, defaults: pathspec.PathSpec) -> str | None:
    """Who leaves ``rel`` out: "patterns" (the user's), "defaults", or None (kept). Judged as the
    crawl judges (`crawl._Rules`): folder by folder from the root, then the file, the user's lines
    deciding where they say anything and the defaults where they are silent."""
    parts = rel.split("/")
    for candidate in [*("/".join(parts[:depth]) + "/" for depth in range(1, len(parts))), rel]:
        own = patterns.check_file(candidate).include
        if own:
            return "patterns"
        if own is None and defaults.match_file(candidate):
            return "defaults"
    return None

class Library:
    def __init__(self, data_dir: Path, model: Model | None, *, extract: Callable | None = None,
                 offsets: PieceOffsets | None = None) -> None:
        self.data_dir = data_dir
        self.model = model
        self._extract_override = extract
        self._typing = TypingGate()  # someone types in the search box: see `set_typing`
        self._workers: ExtractionWorkers | None = None
        if offsets is None and model is not None and model.tokenizer_file is not None:
            from tokenizers import Tokenizer

            tokenizer = Tokenizer.from_file(str(model.tokenizer_file))
            tokenizer.no_truncation()
            tokenizer.no_padding()
            offsets = tokenizer_offsets(tokenizer)
        self._offsets = offsets or word_offsets
        self._lock = WriterLock(data_dir / LOCK_NAME)
        self._write_mutex = threading.RLock()
        self._writing = False
        self._closed = False
        self._running: set[IndexControl] = set()  # updates in flight, cancelled by close()
        self._local = threading.local()
        self._stores: list[Store] = []
        self._stores_mutex = threading.Lock()
        self._writer_store: Store | None = None
        self._verified = False  # the SQLite file passed `integrity_problem` (see `_prepare_write`)
        dims = model.dims if model else 384
        self.vectors = VectorCache(data_dir / VECTORS_NAME, dims)
        self._vectors_generation = -1
        self.model_mismatch: tuple[str, str] | None = None
        store = self._reader()
        try:
            stored_model = store.get_meta("model_id")
            if model is not None and stored_model and stored_model != model.model_id:
                self.model_mismatch = (store.get_meta("model_name") or stored_model[:12], model.name)
            self._sync_vectors(store)
        except BaseException:
            store.close()  # a damaged file is moved aside next (`set_aside_damaged_index`): let it go
            raise
        self._searcher = Searcher(store=self._reader, vectors=self.vectors,
                                  encoder=(lambda: self.model.question) if model else None,  # type: ignore[union-attr]
                                  passage_encoder=(lambda: self.model.passage) if model else None)  # type: ignore[union-attr]

    # -- opening --------------------------------------------------------------------------------
    @classmethod
    def open(cls, data_dir: Path | str | None = None, *, model_dir: Path | str | None = None,
             model: Model | None = None, extract: Callable | None = None,
             passage_threads: int | None = None) -> Library:
        """Open (creating if needed) the index in ``data_dir`` (default: the platform's user data dir,
        or $LIBRARIAN_DATA_DIR). ``model_dir`` defaults to the shipped model; ``passage_threads`` is
        how many threads embed passages while indexing (default: every core; one while someone types,
        see `set_typing`)."""
        path = resolve_data_dir(data_dir)
        prepare_data_dir(path)
        if model is None:
            model = load_model(Path(model_dir) if model_dir else None, passage_threads=passage_threads)
        create_index(path / DB_NAME)
        return cls(path, model, extract=extract)

    @staticmethod
    def has_index(data_dir: Path | str | None = None) -> bool:
        """Whether ``data_dir`` (default as in `open`) holds an index, without opening or creating one."""
        return (resolve_data_dir(data_dir) / DB_NAME).exists()

    @classmethod
    def open_keyword_only(cls, data_dir: Path | str | None = None) -> Library:
        """Open an existing index without a model, for when the model cannot be loaded: it searches by
        words only (a meaning search answers with words), and an update stores passages without vectors.
        A damaged model never makes the documents already indexed unsearchable. Unlike `open` it
        creates nothing: with no index there is nothing to search (check `has_index` first)."""
        path = resolve_data_dir(data_dir)
        if not (path / DB_NAME).exists():
            raise LibrarianError(f"there is no index in {path} to search by words")
        return cls(path, None)

    @staticmethod
    def preview_exclusions(root: Path | str, patterns: str, *, limit: int = 200_000,
                           sample: int = 12) -> ExclusionPreview:
        """What indexing ``root`` would read once ``patterns`` (gitignore lines: an edited, unsaved
        ``.librarianignore``) apply on top of the rules the crawl follows already (hidden files, the
        ignore files as saved). The default exclusions are counted apart (``by_default``, with a
        sample naming each file's class), and a ``!pattern`` in ``patterns`` brings them back, as
        in the crawl: the defaults are an outer ignore file, the user's lines override them
        (`_layered_verdict`). The walk stops after
        ``limit`` files (the preview is then ``truncated``). Raises `LibrarianError` for patterns
        that cannot be compiled."""
        import re

        from .crawl import crawl, ignore_spec
        from .exclusions import default_class_of, default_lines

        defaults_spec = ignore_spec(default_lines())

        try:
            spec = ignore_spec(patterns.splitlines())  # bounded-time matching, as the crawl uses
        except (ValueError, re.error) as exc:  # pathspec's: "!" alone, a range "[z-a]"
            raise LibrarianError(f"pattern error: {exc}") from exc
        base = Path(root)
        files = size = excluded = by_default = 0
        kept: list[str] = []
        defaults: list[tuple[str, str]] = []

        def preview(truncated: bool = False) -> ExclusionPreview:
            return ExclusionPreview(files, size, excluded, tuple(kept), truncated=truncated,
                                    by_default=by_default, default_sample=tuple(defaults))

        for item in crawl(base, default_exclusions=False):
            if files + excluded + by_default >= limit:
                return preview(truncated=True)
            try:
                rel = item.path.relative_to(base).as_posix()
            except ValueError:  # the root is a single file
                rel = item.path.name
            verdict = _layered_verdict(rel, spec, defaults_spec)
            if verdict == "patterns":
                excluded += 1
                continue
            if verdict == "defaults":
                by_default += 1
                found = default_class_of(rel) if len(defaults) < sample else None
                if found is not None:
                    defaults.append((rel, found.name))
                continue
            files += 1
            size += item.size
            if len(kept) < sample:
                kept.append(rel)
        return preview()

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
        """Add a root (a folder, or a single file of a kind Librarian reads). Does not index: call
        `update`. Anything else (a photo, a FIFO, a device, the data dir itself) is refused here with
        the reason, rather than accepted as a root that silently finds nothing."""
        resolved = Path(path).expanduser()
        _check_root(path, resolved, data_dir=self.data_dir)
        root = str(resolved.resolve())
        with self._write_mutex, self._lock:
            self._writer().add_root(path_key(root))
        return root

    def forget(self, path: Path | str) -> int:
        """Remove a root and everything indexed under it that no other root covers; returns
        documents removed. A document another root still covers (the root was nested in another,
        or held one) stays, with its passages and vectors, and moves to the innermost such root."""
        key = path_key(Path(path).expanduser().resolve())
        with self._write_mutex, self._lock:
            store = self._writer()
            roots = {p: rid for rid, p in store.roots()}
            if key not in roots:
                raise LibrarianError(f"{path} is not a library folder (see `librarian status`)")
            root_id = roots[key]
            others = {p: rid for p, rid in roots.items() if rid != root_id}
            docs, kept = [], []
            for doc_key, row in store.documents_under_root(root_id).items():
                heir = _innermost_root(doc_key, others)
                if heir is None:
                    docs.append(row.id)
                else:
                    kept.append((row, others[heir]))
            with self._vector_sync(store).transaction() as change:
                for row, heir_id in kept:
                    store.move_document(row.id, path=row.path, root_id=heir_id, size=row.size, mtime_ns=row.mtime_ns)
                change.removed += store.delete_documents(docs)
                store.remove_root(root_id)
            self._save_vectors(store)
        return len(docs)

    def roots(self) -> list[str]:
        """The roots as OS paths (`Library.forget` takes them back as they are)."""
        return [key_path(key) for _, key in self._reader().roots()]

    def watcher(self, *, quiet_seconds: float = 1.5, rescan_seconds: float = 600.0,
                on_update: Callable[[UpdateReport], None] | None = None,
                on_change: Callable[[], None] | None = None) -> Watcher:
        """A `Watcher` of the roots, not started yet. It runs `update` itself after files change
        (``on_update`` gets each report), or, given ``on_change``, only calls that and leaves the
        update to the caller."""
        from .watch import Watcher

        return Watcher(self, quiet_seconds=quiet_seconds, rescan_seconds=rescan_seconds, on_update=on_update,
                       on_change=on_change)

    # -- indexing -------------------------------------------------------------------------------
    def _indexer(self, store: Store) -> Indexer:
        writer = Writer(store=store, vectors=self.vectors, model_id=self.model.model_id if self.model else None)
        return Indexer(writer, encoder=self.model.passage if self.model else None, offsets=self._offsets,
                       extract=self._extractor(), skip_dirs=(self.data_dir,),  # never index our own files
                       typing=self._typing)

    def _prepare_write(self) -> Store:
        store = self._writer()
        if not self._verified:  # once a session: writing into a damaged file can spread the damage
            problem = integrity_problem(self.data_dir / DB_NAME)
            if problem:
                raise IndexDamagedError(self.data_dir, problem)
            self._verified = True
        if self.model is not None:
            if self.model_mismatch:
                self._reembed(store)
            elif store.get_meta("model_id") is None:
                store.set_meta("model_id", self.model.model_id)
                store.set_meta("model_name", self.model.name)
            self._sync_vectors(store)
        return store

    def update(self, *, progress: ProgressCallback | None = None, control: IndexControl | None = None,
               embed: bool = True, rehash: bool = False) -> UpdateReport:
        """Bring the index up to date with the roots (new, changed, deleted, moved files), then embed.
        ``rehash`` re-hashes files whose size and mtime look unchanged (see `Indexer.update`)."""
        control = control or IndexControl()
        self._running.add(control)
        try:
            with self._write_mutex, self._lock:
                if self._closed:
                    raise LibrarianError("the library is closed")
                store = self._prepare_write()
                self._writing = True
                try:
                    report = self._indexer(store).update(progress=progress, control=control, embed=embed,
                                                         rehash=rehash)
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
        with self._vector_sync(store).transaction() as change:
            store.clear_vectors()
            store.set_meta("model_id", self.model.model_id)
            store.set_meta("model_name", self.model.name)
            change.cleared = True
        self.model_mismatch = None

    def _vector_sync(self, store: Store) -> VectorSync:
        """Writes through ``store`` that the vector cache follows (`VectorSync` owns the order)."""
        return VectorSync(store, self.vectors, model_id=self.model.model_id if self.model else None)

    def _save_vectors(self, store: Store) -> None:
        if self.model is not None:
            self._vectors_generation = self._vector_sync(store).save()

    def set_typing(self, typing: bool) -> None:
        """Someone is typing (True) or the search box has gone idle (False). While someone types,
        indexing waits before its next file and its next batch (`TypingGate`: each keystroke's
        search gets the machine), up to 3 s each, and a batch that runs anyway uses one thread;
        otherwise every core works. Cheap and safe from any thread (the app calls it per keystroke)."""
        self._typing.set_typing(typing)
        if self.model is not None:
            self.model.threads.set_typing(typing)

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

    def passage_context(self, passage_id: int, *, before: int = 1, after: int = 1,
                        query: str | None = None) -> PassageContext:
        """The passage in its neighbours' text. Given the ``query`` it was found for, also where the
        query's words sit in that text and the passage's sentence closest in meaning to it."""
        store = self._reader()
        with store.snapshot():  # the passage, its document and its neighbours as of one moment
            row = store.passages_by_ids([passage_id]).get(passage_id)
            if row is None:
                raise LibrarianError(f"passage {passage_id} is no longer in the index")
            document_id, ordinal, _title, body, locator, char_start, char_end = row
            doc = store.document(document_id)
            assert doc is not None  # a passage's document goes only with it (ON DELETE CASCADE)
            text = store.content(document_id)
            if text is not None:
                neighbours = store.document_passages(document_id, ordinal - before, ordinal + after)
                start = min(n[3] for n in neighbours)
                end = max(n[4] for n in neighbours)
                context, span = text[start:end], (char_start - start, char_end - start)
            else:
                context, span = body, (0, len(body))
        path = key_path(doc.path)
        word_spans: tuple[tuple[int, int], ...] = ()
        meaning_span = None
        if query and query.strip():
            word_spans = explain.word_spans(context, query)
            if not self.model_mismatch:
                meaning_span = explain.closest_sentence(self.model, context, span, query)
        return PassageContext(path=path, title=doc.title or display_path(path), kind=doc.kind or "",
                              locator=Locator.from_dict(json.loads(locator)), text=context, passage_span=span,
                              word_spans=word_spans, meaning_span=meaning_span)

    def status(self) -> Status:
        store = self._reader()
        with store.snapshot():  # counts, roots and problems that add up, while an index run commits
            counts = store.counts()
            roots, failures, warnings, left_out = self.roots(), store.failures(), store.warnings(), store.left_out()
        return Status(roots=tuple(roots), documents=counts["documents"], passages=counts["passages"],
                      embedded=counts["embedded"], keyword_only=counts["keyword_only"],
                      failed=tuple(Failure(key_path(key), r) for key, r in failures),
                      warnings=tuple(Failure(key_path(key), r) for key, r in warnings),
                      left_out=tuple(Failure(key_path(key), r) for key, r in left_out),
                      model=self.model.name if self.model else "", data_dir=str(self.data_dir))

    def check(self, *, repair: bool = False) -> CheckReport:
        """Verify the SQLite file (``PRAGMA quick_check``), then the vector index against SQLite: the
        same keys, and the same vectors (SQLite's copy is the truth). ``repair`` heals what differs
        and saves. Raises `IndexDamagedError` when the SQLite file itself is corrupt (only a rebuild
        helps: `set_aside_damaged_index`).

        While an index run is in progress the files on disk lag the writer, so a verdict would be
        false: raises `IndexLockedError` ("check again when it ends") instead, at once rather than
        waiting, as git does for a held index.lock (an index run can last hours). A plain check
        does not take the lock, so it never holds up a writer (readers never block the writer in
        SQLite either); it looks before and after, and a writer that came and went in between shows
        as a changed vectors generation."""
        busy = IndexLockedError(f"an index run is in progress in {self.data_dir}; check again when it ends")
        with self._write_mutex:
            if repair:
                try:
                    self._lock.acquire()
                except IndexLockedError as exc:
                    raise busy from exc
                try:
                    return self._check_locked(repair=True)
                finally:
                    self._lock.release()
            if self._lock.is_held():
                raise busy
            generation = self._reader().vectors_generation()
            report = self._check_locked(repair=False)
            if not report.ok and (self._lock.is_held() or self._reader().vectors_generation() != generation):
                raise busy
            return report

    def _check_locked(self, *, repair: bool) -> CheckReport:
        problem = integrity_problem(self.data_dir / DB_NAME)
        if problem:
            raise IndexDamagedError(self.data_dir, problem)
        store = self._writer() if repair else self._reader()
        if repair:
            with store.transaction():
                store.rebuild_keyword_index()
        disk = self.vectors.probe_file(store)  # the file as a fresh process would find it, not our memory
        stored = store.embedded_ids()
        missing = int(len(np.setdiff1d(stored, disk.keys)))
        orphans = int(len(np.setdiff1d(disk.keys, stored)))
        duplicate_keys = disk.entries - disk.distinct
        duplicate_passages = store.duplicate_passage_count()
        passages = store.counts()["passages"]
        report = CheckReport(passages=passages, vectors_stored=len(stored), vectors_indexed=disk.distinct,
                             missing=missing, orphans=orphans, mismatched=disk.mismatched,
                             duplicates=duplicate_keys + duplicate_passages,
                             ok=missing == 0 and orphans == 0 and disk.mismatched == 0
                             and duplicate_keys + duplicate_passages == 0)
        if repair and not report.ok:
            sync = self._vector_sync(store)
            if duplicate_passages:
                with sync.transaction() as change:
                    change.removed += store.delete_duplicate_passages()
            # Vectors of another model are never loaded (see `_sync_vectors`); the cache stays empty.
            self._vectors_generation = sync.rebuild(reload=not self.model_mismatch)
            fixed = self._check_locked(repair=False)
            # "repaired" only with a clean bill of health: a repair that did not heal says so.
            return dataclasses.replace(fixed, repaired=fixed.ok)
        return report

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

def _check_root(given: Path | str, path: Path, *, data_dir: Path) -> None:
    """Raise LibrarianError unless ``path`` can be a root: a folder, or a regular file of a kind we read."""
    try:
        info = os.stat(path)
    except FileNotFoundError as exc:
        raise LibrarianError(f"{given}: no such file or folder") from exc
    except OSError as exc:
        raise LibrarianError(f"{given}: cannot be read ({exc.strerror or exc})") from exc
    if stat.S_ISDIR(info.st_mode):
        resolved, own = path.resolve(), data_dir.resolve()
        if resolved == own or own in resolved.parents:
            raise LibrarianError(f"{given} is Librarian's own data folder; add the folders of your documents")
        return
    if not stat.S_ISREG(info.st_mode):
        raise LibrarianError(f"{given} is not a folder or a regular file (a FIFO, socket or device); "
                             "add a folder or a document")
    if kind_for(path) is None:
        raise LibrarianError(f"{given}: Librarian does not read this kind of file; add a folder, or a "
                             "document (text, PDF, Word, OpenDocument, EPUB, HTML, Markdown, code, ...)")


def _innermost_root(key: str, roots: dict[str, int]) -> str | None:
    """The deepest of ``roots`` (keys) that is ``key`` or holds it; None when none does."""
    covering = [root for root in roots if key == root or key.startswith(root.rstrip(os.sep) + os.sep)]
    return max(covering, key=len, default=None)


__all__ = ["DB_NAME", "VECTORS_NAME", "Library", "ModelError", "default_data_dir", "demo_library_path",
           "resolve_data_dir", "set_aside_damaged_index"]
