"""`VectorSync`, the one owner of the vector cache's sync, and `VectorCache.probe_file`, on a real
SQLite file and a real USearch cache.

To add a case: `stored(tmp_path, n)` gives a store holding n documents of one embedded passage each
and a `VectorSync` over a cache loaded from it; write through `sync.transaction()`, then compare
`cache_keys(sync)` with `store.embedded_ids()` or reopen the cache with `reopened`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from librarian.engine.store import NewPassage, Store
from librarian.engine.vector_sync import VectorSync
from librarian.engine.vectors import Reconciled, VectorCache

DIMS = 8
MODEL = "fake-8"


def vector(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(-100, 100, size=(1, DIMS), dtype=np.int8)


def add_document(store: Store, name: str, *, seed: int, embedded: bool = True) -> tuple[int, int]:
    """A document with one passage (embedded unless told); returns (document id, passage id)."""
    with store.transaction():
        doc = store.upsert_document(path=f"/docs/{name}", root_id=None, size=1, mtime_ns=1, content_hash=name,
                                    kind="text", title=name)
        store.insert_passages(doc, [NewPassage(0, name, f"text of {name}", 0, 10, {})])
        passage = store.document_passages(doc, 0, 0)[0][0]
        if embedded:
            store.set_vectors([passage], vector(seed))
    return doc, passage


def stored(tmp_path: Path, count: int = 3) -> tuple[Store, VectorSync]:
    store = Store(tmp_path / "index.sqlite3")
    for i in range(count):
        add_document(store, f"d{i}.txt", seed=i)
    cache = VectorCache(tmp_path / "vectors.usearch", DIMS)
    cache.open(store, model_id=MODEL)
    return store, VectorSync(store, cache, model_id=MODEL)


def cache_keys(sync: VectorSync) -> list[int]:
    return sorted(sync.vectors.keys().tolist())


def stored_keys(store: Store) -> list[int]:
    return sorted(int(k) for k in store.embedded_ids())


def reopened(sync: VectorSync) -> tuple[VectorCache, Reconciled]:
    """The cache as the next process finds it: a fresh object opened from the saved file."""
    fresh = VectorCache(sync.vectors.path, DIMS)
    return fresh, fresh.open(sync.store, model_id=MODEL)


@pytest.fixture
def synced(tmp_path):
    store, sync = stored(tmp_path)
    yield store, sync
    store.close()


# -- one transaction, three steps ---------------------------------------------------------------------
def test_a_removal_bumps_the_generation_inside_and_leaves_the_cache_after_the_commit(synced):
    store, sync = synced
    before = store.vectors_generation()
    first = int(store.embedded_ids()[0])
    with sync.transaction() as change:
        change.removed += store.delete_documents([1])
        assert first in cache_keys(sync)  # the cache follows only once SQLite has committed
    assert store.vectors_generation() == before + 1
    assert cache_keys(sync) == stored_keys(store) and first not in cache_keys(sync)


def test_added_vectors_reach_the_cache_after_the_commit(synced):
    store, sync = synced
    _, passage = add_document(store, "new.txt", seed=9, embedded=False)
    with sync.transaction() as change:
        store.set_vectors([passage], vector(9))
        change.add(np.asarray([passage]), vector(9))
    assert passage in cache_keys(sync)
    assert sync.vectors.mismatched(store) == 0


def test_copied_passages_bring_their_stored_vectors_into_the_cache(synced):
    store, sync = synced
    with sync.transaction() as change:
        copy = store.upsert_document(path="/docs/copy.txt", root_id=None, size=1, mtime_ns=1, content_hash="d0.txt",
                                     kind="text", title="copy")
        store.copy_passages(from_document=1, to_document=copy)
        change.copied += store.embedded_passages_of(copy)
    assert cache_keys(sync) == stored_keys(store) and len(cache_keys(sync)) == 4
    assert sync.vectors.mismatched(store) == 0


def test_a_write_that_changes_no_vector_keeps_the_generation(synced):
    store, sync = synced
    before = store.vectors_generation()
    with sync.transaction():
        store.touch_document(1, size=2, mtime_ns=2)
    assert store.vectors_generation() == before


def test_a_failed_transaction_changes_neither_sqlite_nor_the_cache(synced):
    store, sync = synced
    before, keys = store.vectors_generation(), cache_keys(sync)
    with pytest.raises(RuntimeError), sync.transaction() as change:
        change.removed += store.delete_documents([1])
        raise RuntimeError("disk went away")
    assert store.vectors_generation() == before
    assert cache_keys(sync) == keys == stored_keys(store)


def test_clearing_drops_the_cache_and_its_files(synced):
    store, sync = synced
    sync.save()
    with sync.transaction() as change:
        store.clear_vectors()
        change.cleared = True
    assert cache_keys(sync) == [] and not sync.vectors.path.exists() and not sync.vectors.sidecar.exists()


# -- saving -------------------------------------------------------------------------------------------
def test_save_stamps_the_file_with_sqlites_generation(synced):
    store, sync = synced
    with sync.transaction() as change:
        change.removed += store.delete_documents([2])
    assert sync.save() == store.vectors_generation()
    fresh, reconciled = reopened(sync)
    assert reconciled.added == reconciled.removed == 0 and not reconciled.rebuilt  # trusted as saved
    assert sorted(fresh.keys().tolist()) == stored_keys(store)


def test_without_a_model_the_cache_is_never_saved(synced):
    store, sync = synced
    VectorSync(store, sync.vectors, model_id=None).save()
    assert not sync.vectors.path.exists()


def test_a_crash_between_the_commit_and_the_cache_heals_at_open(synced, monkeypatch):
    store, sync = synced
    sync.save()

    def killed(*args) -> None:  # the process dies once SQLite committed, before the cache changed
        raise KeyboardInterrupt

    monkeypatch.setattr(VectorSync, "_follow", killed)
    with pytest.raises(KeyboardInterrupt), sync.transaction() as change:
        change.removed += store.delete_documents([1])
    fresh, reconciled = reopened(sync)
    assert reconciled.removed == 1  # the saved file's generation is behind SQLite's: reconciled
    assert sorted(fresh.keys().tolist()) == stored_keys(store)


def test_ctrl_c_inside_usearch_is_an_interrupt_and_the_next_save_catches_up(synced, monkeypatch):
    """usearch turns a pending Ctrl-C into RuntimeError("Operation has been terminated") in the middle of
    the cache's follow-up: the run must see KeyboardInterrupt, and the save that ends it must not stamp
    a cache that missed a committed change as current."""
    store, sync = synced
    _, passage = add_document(store, "new.txt", seed=9, embedded=False)

    def terminated(*_args, **_kwargs):
        raise RuntimeError("Operation has been terminated")

    monkeypatch.setattr(sync.vectors.index, "add", terminated)
    with pytest.raises(KeyboardInterrupt), sync.transaction() as change:
        store.set_vectors([passage], vector(9))
        change.add(np.asarray([passage]), vector(9))
    monkeypatch.undo()
    sync.save()
    fresh, reconciled = reopened(sync)
    assert reconciled == Reconciled(0, 0, False)  # the saved file is trusted as is...
    assert sorted(fresh.keys().tolist()) == stored_keys(store)  # ...and it holds every stored vector


def test_rebuild_loads_every_vector_from_sqlite_and_saves(synced):
    store, sync = synced
    sync.vectors.remove(sync.vectors.keys())
    sync.rebuild()
    assert cache_keys(sync) == stored_keys(store)
    fresh, reconciled = reopened(sync)
    assert not reconciled.rebuilt and reconciled.added == 0


# -- probe_file: the file on disk as a fresh process finds it ------------------------------------------
def test_probe_of_a_missing_file_holds_nothing(synced):
    store, sync = synced
    probe = sync.vectors.probe_file(store)
    assert (probe.entries, probe.distinct, len(probe.keys), probe.mismatched) == (0, 0, 0, 0)


def test_probe_reads_the_saved_file_not_memory(synced):
    store, sync = synced
    sync.save()
    sync.vectors.remove(sync.vectors.keys())  # memory only: the file still holds three
    probe = sync.vectors.probe_file(store)
    assert (probe.entries, probe.distinct, probe.mismatched) == (3, 3, 0)
    assert sorted(int(k) for k in probe.keys) == stored_keys(store)


def test_probe_counts_vectors_that_differ_from_sqlite(synced):
    store, sync = synced
    sync.save()
    first = int(store.embedded_ids()[0])
    with store.transaction():
        store.set_vectors([first], -vector(0) - 1)
    assert sync.vectors.probe_file(store).mismatched == 1


def test_probe_of_an_unreadable_file_holds_nothing(synced):
    store, sync = synced
    sync.vectors.path.write_bytes(b"not an index")
    assert sync.vectors.probe_file(store).entries == 0
