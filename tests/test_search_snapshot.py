"""A search (and `passage_context`, `status`) reads one snapshot of the index while a writer commits.

Each probe makes a writer commit between two reads of one call, deterministically: `commit_before`
wraps the reader's connection so that just before the first statement holding a marker (a piece of
that read's SQL) a callback commits through a separate writer connection. Before `Store.snapshot`
the reads were autocommit: a passage deleted between the candidates and the details raised KeyError.
To add a probe: pick the marker of the second read, write the change, call, assert `hook.fired`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import fake_model
from librarian.engine.extract import extract as extract_in_process
from librarian.engine.library import DB_NAME, Library
from librarian.engine.store import Store

# Pieces of the SQL of one read each (engine/store.py): the hook fires just before that read.
CANDIDATES_READ = "d.content_hash FROM passages p"  # `Store.candidates`
DETAILS_READ = "p.ordinal, p.body"  # `Store.shown_passages`: the passages shown
DOCUMENT_READ = "FROM documents WHERE id = ?"  # `Store.document`
ROOTS_READ = "FROM roots"  # `Store.roots`


class CommitBefore:
    """A reader's connection, except that ``write`` commits through a writer just before the first
    statement whose SQL holds ``marker``: a writer's commit falling between two reads of one call."""

    def __init__(self, conn, marker: str, write: Callable[[Store], object], db_path: Path) -> None:
        self._conn = conn
        self._marker = marker
        self._write = write
        self._db_path = db_path
        self.fired = False

    def execute(self, sql: str, *args):
        if not self.fired and self._marker in sql:
            self.fired = True
            writer = Store(self._db_path)
            try:
                with writer.transaction():
                    self._write(writer)
            finally:
                writer.close()
        return self._conn.execute(sql, *args)

    def __getattr__(self, name: str):
        return getattr(self._conn, name)


def commit_before(lib: Library, marker: str, write: Callable[[Store], object]) -> CommitBefore:
    """Hook this thread's reader connection of ``lib`` (see `CommitBefore`)."""
    store = lib._reader()
    hook = CommitBefore(store.conn, marker, write, lib.data_dir / DB_NAME)
    store.conn = hook  # type: ignore[assignment]
    return hook


def delete_document(name: str) -> Callable[[Store], object]:
    """A write that deletes the document whose path ends with ``name`` (its passages go with it)."""
    def write(writer: Store) -> None:
        (doc_id,) = [row.id for root_id, _ in writer.roots()
                     for key, row in writer.documents_under_root(root_id).items() if key.endswith(name)]
        writer.delete_documents([doc_id])
    return write


@pytest.fixture
def lib(tmp_path: Path, data_dir: Path):
    root = tmp_path / "docs"
    root.mkdir()
    (root / "bread.txt").write_text("Sourdough bread rises slowly because wild yeast produces gas overnight.\n")
    (root / "rolls.txt").write_text("Bread rolls with yeast bake quickly in a hot oven.\n")
    (root / "garden.txt").write_text("Compost turns kitchen scraps and leaves into rich soil for the garden.\n")
    long = " ".join(f"Paragraph sentence {i} mentions the harbour lighthouse keeper." for i in range(60))
    (root / "long.txt").write_text(long)
    with Library.open(data_dir, model=fake_model(), extract=extract_in_process) as library:
        library.add_folder(root)
        library.update()
        yield library


def paths(result) -> list[str]:
    return [Path(hit.path).name for hit in result.hits]


@pytest.mark.parametrize("mode", ["hybrid", "keyword", "dense"])
def test_a_passage_deleted_before_the_details_are_read_still_shows_as_of_the_snapshot(lib, mode):
    expected = lib.search("sourdough bread yeast", mode=mode)
    assert "bread.txt" in paths(expected)
    hook = commit_before(lib, DETAILS_READ, delete_document("bread.txt"))
    during = lib.search("sourdough bread yeast", mode=mode)  # before the snapshot: KeyError
    assert hook.fired
    assert [(h.path, h.passage_id, h.snippet) for h in during.hits] == \
        [(h.path, h.passage_id, h.snippet) for h in expected.hits]
    assert "bread.txt" not in paths(lib.search("sourdough bread yeast", mode=mode))  # the next search sees it


def test_a_document_deleted_after_ranking_is_not_dropped_from_what_ranking_saw(lib):
    expected = lib.search("bread yeast", mode="keyword")
    assert {"bread.txt", "rolls.txt"} <= set(paths(expected))
    hook = commit_before(lib, CANDIDATES_READ, delete_document("rolls.txt"))
    during = lib.search("bread yeast", mode="keyword")  # before: rolls.txt silently vanished
    assert hook.fired
    assert paths(during) == paths(expected)


def test_passage_context_of_a_passage_whose_document_goes_meanwhile(lib):
    hit = lib.search("Paragraph sentence 30", mode="keyword").hits[0]
    expected = lib.passage_context(hit.passage_id)
    hook = commit_before(lib, DOCUMENT_READ, delete_document("long.txt"))
    during = lib.passage_context(hit.passage_id)  # before: AssertionError (the document was gone)
    assert hook.fired
    assert during == expected


def test_status_counts_and_roots_are_of_one_moment(lib, tmp_path):
    expected = lib.status()
    hook = commit_before(lib, ROOTS_READ, lambda writer: writer.add_root(str(tmp_path / "elsewhere")))
    during = lib.status()  # before: the new root, beside counts from before it
    assert hook.fired
    assert during == expected
    assert len(lib.status().roots) == len(expected.roots) + 1


def test_a_search_leaves_no_transaction_open_even_when_it_fails(lib, monkeypatch):
    store = lib._reader()
    lib.search("bread")
    assert not store.conn.in_transaction

    def broken(*args, **kwargs):
        raise RuntimeError("a bug while reading the details")

    monkeypatch.setattr(Store, "shown_passages", broken)
    with pytest.raises(RuntimeError):
        lib.search("bread")
    assert not store.conn.in_transaction


def test_snapshot_is_reentrant_and_a_later_one_sees_new_commits(lib, tmp_path):
    store = lib._reader()
    before = len(store.roots())
    with store.snapshot():
        with store.snapshot():
            assert len(store.roots()) == before
            writer = Store(lib.data_dir / DB_NAME)
            try:
                writer.add_root(str(tmp_path / "more"))  # autocommit
            finally:
                writer.close()
        assert store.conn.in_transaction  # the inner snapshot joined the outer one
        assert len(store.roots()) == before
    assert not store.conn.in_transaction
    assert len(store.roots()) == before + 1
