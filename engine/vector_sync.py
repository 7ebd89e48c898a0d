"""`VectorSync`: the one owner of keeping the USearch cache (`VectorCache`) in step with SQLite.

SQLite holds every vector (the truth); the cache is derived from it and saved with the *vectors
generation* it reflects. Every write that changes which vectors exist follows the same three steps,
and this module is the only place that does them:

1. inside the write transaction, bump the generation (`VectorSync.transaction`), so that a cache file
   saved before the commit no longer vouches for SQLite;
2. after the commit, apply the change to the in-memory cache: remove the passages deleted, add the
   vectors stored (from the encoder, or copied from a twin document in SQLite);
3. from time to time, and at the end of a run, save the cache with the generation (`VectorSync.save`).

A crash between 1 and 2 or between 2 and 3 leaves a sidecar whose generation is behind SQLite's, so
the next `VectorCache.open` reconciles the file with SQLite. This is the order git follows for its
index: the object database (here SQLite) is written first, the derived file last, and a stale derived
file is detected by a stamp, never trusted.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from .store import Store
from .vectors import VectorCache


@dataclass
class VectorChange:
    """What one write transaction did to the stored vectors, filled in by the code inside it."""

    removed: list[int] = field(default_factory=list)  # passages deleted that had a vector
    copied: list[int] = field(default_factory=list)  # passages that arrived with a vector already in SQLite
    added: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)  # (keys, int8 vectors) just stored
    cleared: bool = False  # every vector dropped: the cache and its files go too

    def __bool__(self) -> bool:
        return bool(self.removed or self.copied or self.added or self.cleared)

    def add(self, keys: np.ndarray, vectors: np.ndarray) -> None:
        self.added.append((np.asarray(keys, dtype=np.uint64), vectors))


class VectorSync:
    """Writes to ``store`` that the ``vectors`` cache follows. ``lock`` serialises the writer connection
    between threads (the indexer's producer and embedder share it); ``model_id`` None means there is no
    model, so the cache is never saved (it would vouch for vectors of an unknown model)."""

    def __init__(self, store: Store, vectors: VectorCache, *, model_id: str | None,
                 lock: threading.Lock | None = None) -> None:
        self.store = store
        self.vectors = vectors
        self.model_id = model_id
        self.lock = lock or threading.Lock()
        self._behind = False  # a committed change did not reach the cache (interrupted): reconcile first

    @contextlib.contextmanager
    def transaction(self) -> Iterator[VectorChange]:
        """A write transaction; record in the yielded `VectorChange` what it does to vectors. The
        generation is bumped before the commit when it did anything; the cache follows after it."""
        change = VectorChange()
        with self.lock:
            with self.store.transaction():
                yield change
                if change:
                    self.store.bump_vectors_generation()
            # Read under the lock: the connection is shared, and the rows are committed now.
            copied = (list(self.store.iter_vectors(ids=change.copied, dims=self.vectors.dims))
                      if change.copied else [])
        self._follow(change, copied)

    def _follow(self, change: VectorChange, copied: list[tuple[np.ndarray, np.ndarray]]) -> None:
        """Apply a committed change to the cache (orphans a crash leaves here are healed at open). If it
        is interrupted (Ctrl-C reaches usearch as an interrupt), the cache is marked behind, so the next
        `save` reconciles it with SQLite before stamping it with the generation."""
        try:
            if change.cleared:
                self.vectors.clear()
                self.vectors.discard_files()
            if change.removed:
                self.vectors.remove(change.removed)
            for keys, vectors in [*change.added, *copied]:
                self.vectors.add(keys, vectors)
        except BaseException:
            self._behind = True
            raise

    def save(self) -> int:
        """Save the cache stamped with SQLite's current generation; returns that generation."""
        with self.lock:
            generation = self.store.vectors_generation()
            if self._behind:
                self.vectors.reconcile(self.store)
                self._behind = False
        if self.model_id is not None:
            self.vectors.save(generation=generation, model_id=self.model_id)
        return generation

    def rebuild(self, *, reload: bool = True) -> int:
        """Drop the cache and its files, load every vector from SQLite again (unless ``reload`` is
        false: SQLite's vectors are another model's), save. Returns the generation saved."""
        self.vectors.clear()
        self.vectors.discard_files()
        if reload and self.model_id is not None:
            self.vectors.open(self.store, model_id=self.model_id)
        return self.save()
