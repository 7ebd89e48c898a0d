"""The USearch vector index: a derived cache of the int8 vectors stored in SQLite.

It is saved atomically (temporary file, fsync, `os.replace`) beside a small JSON sidecar that
records which SQLite vectors generation it reflects. On open, a matching sidecar means the file is
trusted as is; otherwise the index is reconciled with SQLite: keys SQLite has but the file lacks are
added from the stored vectors (never re-encoded), keys SQLite no longer has are removed. A crash at
any point between SQLite and this file is therefore healed at the next open. Writers never change
it directly: they go through `VectorSync` (engine/vector_sync.py), which owns that order.

The file carries no checksum, so bytes damaged on disk would be served as vectors and search would
rank garbage. SQLite keeps its own copy of every vector (the truth): each open compares a few keys
picked at random against it and rebuilds the cache when any differs; `Library.check` compares all.

A failed save (disk full, no permission) leaves the previous file in place and no temporary file
behind; the error says which directory and why (`DiskFullError` when the disk is full).
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import _onnxruntime  # noqa: F401  (before usearch, and telemetry off: see below)

# isort: split
from usearch.index import Index

from .encoders import cosines
from .errors import DiskFullError, IndexError_, LibrarianError
from .store import Store

# onnxruntime must be loaded before usearch: the other order segfaults in onnxruntime's import
# (usearch 2.26.6 + onnxruntime 1.32.0, Linux x86-64; tests/test_import_order.py guards it).
# It is loaded through engine/_onnxruntime.py, which turns its telemetry off first.

log = logging.getLogger(__name__)

# Below this size an exact scan is as fast as the graph and has perfect recall.
EXACT_SEARCH_BELOW = 20_000

# Keys compared with SQLite at each open: cheap (primary-key lookups), and random bytes over the
# vectors region change nearly every vector, so a handful is enough to notice.
OPEN_SAMPLE = 16


@dataclass(frozen=True, slots=True)
class Reconciled:
    added: int
    removed: int
    rebuilt: bool


@dataclass(frozen=True)
class FileProbe:
    """What the cache file on disk holds, judged against SQLite (see `VectorCache.probe_file`)."""

    entries: int  # vectors in the file, duplicate keys counted each time
    distinct: int  # distinct keys
    keys: np.ndarray  # the distinct keys (uint64), sorted
    mismatched: int  # keys whose vector differs from SQLite's copy

    @classmethod
    def empty(cls) -> FileProbe:
        return cls(0, 0, np.zeros(0, dtype=np.uint64), 0)


class VectorCache:
    def __init__(self, path: Path, dims: int, *, threads: int = 0) -> None:
        self.path = path
        self.sidecar = path.with_suffix(path.suffix + ".json")
        self.dims = dims
        self.threads = threads
        self.lock = threading.RLock()
        self.index = self._empty()
        self.saved_generation = -1
        self._viewed = False  # a memory-mapped index is immutable until materialised

    def _empty(self) -> Index:
        return Index(ndim=self.dims, metric="cos", dtype="i8", connectivity=16, expansion_add=128,
                     expansion_search=96)

    def __len__(self) -> int:
        return len(self.index)

    # -- open / reconcile -----------------------------------------------------------------------
    def open(self, store: Store, *, model_id: str, view: bool = False) -> Reconciled:
        """Load the file and make it agree with SQLite. ``view`` maps it read-only when it is current."""
        generation = store.vectors_generation()
        meta = self._read_sidecar()
        current = (meta.get("generation") == generation and meta.get("model_id") == model_id
                   and meta.get("dims") == self.dims)
        with self.lock:
            loaded = False
            if self.path.is_file() and meta.get("model_id") == model_id:
                try:
                    index = self._empty()
                    viewed = view and current
                    if viewed:
                        index.view(str(self.path))
                    else:
                        index.load(str(self.path))
                    if index.ndim == self.dims:
                        self.index, loaded, self._viewed = index, True, viewed
                except Exception as exc:  # a truncated or foreign file is just a cache miss
                    log.warning("vector index %s unreadable (%s); rebuilding from SQLite", self.path, exc)
            if loaded and self.mismatched(store, sample=OPEN_SAMPLE):
                log.warning("vector index %s holds vectors that differ from SQLite's; rebuilding it from SQLite",
                            self.path)
                loaded, self._viewed = False, False
            if loaded and current and len(self.index) == meta.get("count"):
                self.saved_generation = generation
                return Reconciled(0, 0, False)
            if not loaded:
                self.index = self._empty()
            result = self._reconcile(store)
            return Reconciled(result.added, result.removed, not loaded)

    def _reconcile(self, store: Store) -> Reconciled:
        stored = store.embedded_ids()
        indexed = self.keys()
        missing = np.setdiff1d(stored, indexed, assume_unique=True)
        orphans = np.setdiff1d(indexed, stored, assume_unique=True)
        if len(orphans):
            self.remove(orphans)
        added = 0
        if len(missing):
            for keys, vectors in store.iter_vectors(ids=missing.tolist(), dims=self.dims):
                self.add(keys, vectors)
                added += len(keys)
        if added or len(orphans):
            log.info("vector index reconciled: +%d, -%d", added, len(orphans))
        return Reconciled(added, len(orphans), False)

    def reconcile(self, store: Store) -> Reconciled:
        """Make the cache in memory hold exactly SQLite's vectors (keys added or removed, never re-encoded)."""
        return self._reconcile(store)

    def keys(self) -> np.ndarray:
        if len(self.index) == 0:
            return np.zeros(0, dtype=np.uint64)
        return np.unique(np.asarray(self.index.keys, dtype=np.uint64))

    def mismatched(self, store: Store, *, sample: int | None = None) -> int:
        """How many vectors of this cache differ from SQLite's copy of them (the truth). ``sample``
        compares that many keys picked at random (the probe at open); None compares every stored
        vector (`Library.check`). Keys absent on either side are `_reconcile`'s business, not counted."""
        if sample is None:
            return sum(self._differing(keys, vectors) for keys, vectors in store.iter_vectors(dims=self.dims))
        with self.lock:
            size = len(self.index)
            if size == 0:
                return 0
            positions = np.random.default_rng().choice(size, size=min(sample, size), replace=False)
            picked = [int(self.index.keys[int(position)]) for position in positions]
        return sum(self._differing(keys, vectors) for keys, vectors in store.iter_vectors(ids=picked, dims=self.dims))

    def _differing(self, keys: np.ndarray, vectors: np.ndarray) -> int:
        """How many of ``keys`` the cache holds with a vector other than ``vectors`` (SQLite's)."""
        with self.lock:
            present = np.atleast_1d(np.asarray(self.index.contains(keys), dtype=bool))
            if not present.any():
                return 0
            cached = self.index.get(keys[present])
        cached = np.asarray(cached, dtype=np.int8).reshape(int(present.sum()), -1)
        if cached.shape[1] != vectors.shape[1]:
            return int(present.sum())
        return int(np.any(cached != vectors[present], axis=1).sum())

    def key_count(self) -> tuple[int, int]:
        """(entries, distinct keys): they differ only if the file holds duplicate keys."""
        if len(self.index) == 0:
            return 0, 0
        keys = np.asarray(self.index.keys, dtype=np.uint64)
        return len(keys), len(np.unique(keys))

    def probe_file(self, store: Store) -> FileProbe:
        """Judge the file on disk as a fresh process would find it, not this cache's memory: its
        entries and keys, and how many of its vectors differ from SQLite's (every one compared).
        A missing or unreadable file holds nothing."""
        if not self.path.is_file():
            return FileProbe.empty()
        probe = VectorCache(self.path, self.dims)
        try:
            probe.index.load(str(self.path))
            entries, distinct = probe.key_count()
            return FileProbe(entries, distinct, probe.keys(), probe.mismatched(store))
        except LibrarianError:
            raise
        except Exception:  # an unreadable file counts as holding nothing
            return FileProbe.empty()

    # -- mutation -------------------------------------------------------------------------------
    def add(self, keys: np.ndarray, vectors: np.ndarray) -> None:
        if len(keys) == 0:
            return
        vectors = np.ascontiguousarray(vectors, dtype=np.int8)
        keep = np.any(vectors != 0, axis=1)  # a zero vector has no direction: cosine is undefined
        with self.lock:
            if self._viewed:
                self._materialise()
            present = np.atleast_1d(np.asarray(self.index.contains(np.asarray(keys, dtype=np.uint64)), dtype=bool))
            with _ctrl_c_is_an_interrupt():
                if present.any():
                    self.index.remove(np.asarray(keys)[present])
                if keep.any():
                    self.index.add(np.asarray(keys, dtype=np.uint64)[keep], vectors[keep], threads=self.threads)

    def remove(self, keys) -> None:
        keys = np.asarray(list(keys), dtype=np.uint64)
        if len(keys) == 0:
            return
        with self.lock:
            if self._viewed:
                self._materialise()
            with _ctrl_c_is_an_interrupt():
                self.index.remove(keys)

    def _materialise(self) -> None:
        data = self.index.save()
        fresh = Index.restore(data, view=False) if data is not None else None
        if fresh is None:
            raise RuntimeError("could not copy the memory-mapped vector index")
        self.index, self._viewed = fresh, False

    def clear(self) -> None:
        with self.lock:
            self.index, self._viewed = self._empty(), False

    # -- search ---------------------------------------------------------------------------------
    def search(self, query: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
        """(keys, cosine similarities) of the ``count`` nearest passages, best first."""
        with self.lock:
            size = len(self.index)
            if size == 0:
                return np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.float32)
            matches = self.index.search(query.astype(np.float32), min(count, size),
                                        exact=size < EXACT_SEARCH_BELOW, threads=1)
        keys = np.asarray(matches.keys, dtype=np.uint64)
        similarities = 1.0 - np.asarray(matches.distances, dtype=np.float32)
        return keys, similarities

    def similarities(self, query: np.ndarray, keys: list[int]) -> dict[int, float]:
        """Cosine of the query with the stored vectors of ``keys`` (those present), computed exactly."""
        if not keys:
            return {}
        with self.lock:
            wanted = np.asarray(keys, dtype=np.uint64)
            present = np.atleast_1d(np.asarray(self.index.contains(wanted), dtype=bool))
            if not present.any():
                return {}
            wanted = wanted[present]
            stored = np.asarray(self.index.get(wanted), dtype=np.float32).reshape(len(wanted), -1)
        return {int(k): float(s) for k, s in zip(wanted, cosines(stored, query), strict=True)}

    # -- persistence ----------------------------------------------------------------------------
    def save(self, *, generation: int, model_id: str) -> None:
        """Write the index atomically, then the sidecar that vouches for it. On failure the previous
        file stays and the temporary file is removed; raises `DiskFullError` or `IndexError_`."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        _refuse_non_file(self.path)
        _refuse_non_file(self.sidecar)
        tmp = self.path.with_name(self.path.name + ".tmp")
        needed = 0
        try:
            with self.lock:
                needed = self.index.serialized_length
                _create_private(tmp)  # usearch truncates and fills it, keeping the 0600 mode
                self.index.save(str(tmp))
                count = len(self.index)
            _fsync_file(tmp)
            written = tmp.stat().st_size
            if written < needed:
                # usearch may report success after a short write on a full disk: never let a
                # truncated file replace a good one.
                raise OSError(errno.ENOSPC, f"short write ({written} of {needed} bytes)", str(tmp))
            os.replace(tmp, self.path)
            _write_json_atomic(self.sidecar, {"generation": generation, "model_id": model_id,
                                              "dims": self.dims, "count": count})
        except (OSError, RuntimeError) as exc:  # usearch reports a short write as RuntimeError
            tmp.unlink(missing_ok=True)
            raise _save_error(self.path, exc, needed=needed) from exc
        self.saved_generation = generation

    def _read_sidecar(self) -> dict:
        try:
            return json.loads(self.sidecar.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}

    def discard_files(self) -> None:
        for path in (self.path, self.sidecar):
            _refuse_non_file(path)
            path.unlink(missing_ok=True)


@contextlib.contextmanager
def _ctrl_c_is_an_interrupt() -> Iterator[None]:
    """usearch polls for signals in long calls and turns a pending Ctrl-C into
    ``RuntimeError("Operation has been terminated")``: give it back its meaning, KeyboardInterrupt."""
    try:
        yield
    except RuntimeError as exc:
        if "terminated" in str(exc):
            raise KeyboardInterrupt from exc
        raise


def _refuse_non_file(path: Path) -> None:
    """A folder (or anything but a file) where the cache belongs is not ours to delete or replace."""
    if path.exists() and not path.is_file():
        raise IndexError_(f"{path} is a folder or another non-file where Librarian keeps its vector index; "
                          f"move it out of {path.parent} (Librarian never deletes what it did not write)")


def _create_private(path: Path) -> None:
    """Create (or truncate) ``path`` readable by its owner only, before anything is written into it."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        if hasattr(os, "fchmod"):  # POSIX: an older file left behind keeps its mode through O_CREAT
            os.fchmod(fd, 0o600)
    finally:
        os.close(fd)


def _save_error(path: Path, exc: BaseException, *, needed: int) -> Exception:
    """`DiskFullError` when the write failed for lack of space, else an `IndexError_` naming the file.
    usearch gives no errno ("Failed to serialize into stream"), so then the free space decides."""
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        return DiskFullError(path.parent)
    try:
        free = shutil.disk_usage(path.parent).free
    except OSError:
        free = None
    if free is not None and free < max(needed, 1) and not isinstance(exc, PermissionError):
        return DiskFullError(path.parent)
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    return IndexError_(f"cannot save the vector index {path}: {reason}")


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_json_atomic(path: Path, data: dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    try:
        _create_private(tmp)
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(data, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)
        raise
