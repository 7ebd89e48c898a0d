"""Schema migrations from real old index files, and the store's write transactions.

The files in tests/fixtures/schema*.sqlite3 were written by the `Store` of each released schema
(tests/fixtures/make_old_indexes.py). Each is copied to a tmp dir and opened with today's `Store`,
which must upgrade it in place and keep its data. To probe a new property of every old index, write
a test taking ``old`` (an upgraded `Store`) and use `keyword_hits` / `name_hits`.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pytest
import sqlite_utils
from librarian.engine import similar
from librarian.engine import store as store_module
from librarian.engine.embed_order import DocumentOrder, passage_priority
from librarian.engine.errors import IndexError_
from librarian.engine.passage_text import text_hash
from librarian.engine.store import MIGRATIONS, SCHEMA_VERSION, Store, index_words

FIXTURES = Path(__file__).parent / "fixtures"
OLD_INDEXES = ["schema1", "schema1-names", "schema2", "schema3", "schema4", "schema4-migrations", "schema5"]
BUDGET, LOADER, CHINESE, BROKEN = (f"/home/ann/notes/{name}" for name in
                                   ("budget_2024.txt", "src/loader.py", "汽车笔记.txt", "broken.pdf"))


def copy_old(tmp_path: Path, name: str) -> Path:
    """A copy of a committed old index (never open the committed file: opening upgrades it)."""
    db = tmp_path / "index.sqlite3"
    shutil.copyfile(FIXTURES / f"{name}.sqlite3", db)
    return db


@pytest.fixture(params=OLD_INDEXES)
def old(request, tmp_path):
    """Each old index, opened (so upgraded) by today's Store."""
    store = Store(copy_old(tmp_path, request.param))
    yield store
    store.close()


def keyword_hits(store: Store, match: str) -> list[str]:
    """Paths of the documents whose passages the keyword index finds for the FTS5 query ``match``."""
    return [row[0] for row in store.conn.execute(
        "SELECT d.path FROM passages_fts f JOIN passages p ON p.id = f.rowid JOIN documents d ON d.id = p.document_id "
        "WHERE passages_fts MATCH ? ORDER BY d.path", (match,))]


def name_hits(store: Store, match: str) -> list[str]:
    return [row[0] for row in store.conn.execute(
        "SELECT d.path FROM documents_fts f JOIN documents d ON d.id = f.rowid WHERE documents_fts MATCH ? "
        "ORDER BY d.path", (match,))]


def schema_of(db: Path) -> dict[str, object]:
    """What the schema means, not how it was spelled: columns of each table (ALTER TABLE appends a
    column where a newer CREATE TABLE had it in the middle), indexes, triggers, FTS tables."""
    conn = sqlite3.connect(db)
    try:
        shape: dict[str, object] = {}
        for kind, name, sql in conn.execute("SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'"):
            if kind == "table" and not sql.startswith("CREATE VIRTUAL"):
                shape[name] = sorted(row[1:] for row in conn.execute(f"PRAGMA table_info({name})"))
            else:
                shape[name] = " ".join((sql or "").replace("IF NOT EXISTS ", "").split())
        return shape
    finally:
        conn.close()


# -- old files upgrade in place ----------------------------------------------------------------------
def test_the_fixtures_hold_the_old_schemas():
    for name, version, recorded in [("schema1", "1", 0), ("schema1-names", "1", 0), ("schema2", "2", 0),
                                    ("schema3", "3", 0), ("schema4", "4", 0), ("schema4-migrations", "4", 4),
                                    ("schema5", "5", 5)]:
        conn = sqlite3.connect(FIXTURES / f"{name}.sqlite3")
        assert conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == (version,)
        has_table = conn.execute("SELECT 1 FROM sqlite_master WHERE name = '_sqlite_migrations'").fetchall()
        assert (conn.execute("SELECT count(*) FROM _sqlite_migrations").fetchone()[0] if has_table else 0) == recorded
        conn.close()


def test_old_index_is_at_the_current_schema_with_every_migration_recorded(old):
    assert old.get_meta("schema_version") == str(SCHEMA_VERSION)
    assert [m.name for m in MIGRATIONS.applied(old.db)] == [
        "001_documents_passages", "002_file_names", "003_split_identifiers", "004_cjk_words",
        "005_text_hash_priority", "006_document_min_hashes"]
    assert MIGRATIONS.pending(old.db) == []


def test_old_index_keeps_its_documents_passages_vectors_and_meta(old):
    assert old.roots() == [(1, "/home/ann/notes")]
    assert sorted(old.document_by_path(p).status for p in (BUDGET, LOADER, CHINESE, BROKEN)) == ["failed"] + ["ok"] * 3
    assert old.failures() == [(BROKEN, "not a PDF file")]
    assert old.content(old.document_by_path(LOADER).id).startswith("def loadSettings(path):")
    assert old.counts() == {"documents": 3, "passages": 3, "embedded": 2, "keyword_only": 0}
    keys, vectors = next(old.iter_vectors(dims=8))
    assert len(keys) == 2 and np.array_equal(vectors, np.arange(16, dtype=np.int8).reshape(2, 8))
    assert old.get_meta("vectors_generation") == "3"


def test_old_index_keyword_search_finds_prose_identifiers_and_chinese(old):
    assert keyword_hits(old, "quarterly AND budget") == [BUDGET]
    assert keyword_hits(old, "parse AND config AND server") == [LOADER]
    assert keyword_hits(old, '"汽车"') == [CHINESE]
    assert keyword_hits(old, '"安静"') == [CHINESE]
    old.conn.execute("INSERT INTO passages_fts(passages_fts) VALUES ('integrity-check')")


def test_old_index_file_names_are_searchable(old):
    assert name_hits(old, "budget AND 2024") == [BUDGET]
    assert name_hits(old, "loader") == [LOADER]
    assert name_hits(old, '"汽车笔记"') == [CHINESE]


def test_old_index_words_are_todays(old):
    for title, body, words in old.conn.execute("SELECT title, body, words FROM passages"):
        assert words == index_words(f"{title} {body}")


def test_old_index_takes_new_documents_after_the_upgrade(old):
    doc = old.upsert_document(path="/home/ann/notes/new.md", root_id=1, size=1, mtime_ns=1, content_hash="n",
                              kind="text", title="New")
    old.insert_passages(doc, [store_module.NewPassage(0, "New", "fresh violins", 0, 13, {})])
    assert keyword_hits(old, "violins") == ["/home/ann/notes/new.md"]
    assert name_hits(old, "new") == ["/home/ann/notes/new.md"]


def test_old_index_passages_get_their_text_hash_and_embedding_priority(old):
    rows = old.conn.execute(
        "SELECT p.title, p.body, p.ordinal, p.text_hash, p.priority, d.kind, d.path, d.mtime_ns, r.added "
        "FROM passages p JOIN documents d ON d.id = p.document_id LEFT JOIN roots r ON r.id = d.root_id").fetchall()
    assert len(rows) == 3
    for title, body, ordinal, digest, priority, kind, path, mtime_ns, added in rows:
        assert digest == text_hash(title, body)
        assert priority == passage_priority(DocumentOrder(kind, path, mtime_ns, added).base(), ordinal)


def test_old_index_shares_its_stored_vectors_and_embeds_what_waits(old):
    """A new passage with the text of an embedded one finds its vector; the one passage the old
    index left without a vector is the next to embed, with the new one."""
    doc = old.upsert_document(path="/home/ann/notes/copy.py", root_id=1, size=1, mtime_ns=1, content_hash="c",
                              kind="code", title="loader.py")
    body = "def loadSettings(path):\n    return parseConfig(HTTPServer(path))"
    old.insert_passages(doc, [store_module.NewPassage(0, "loader.py", body, 0, len(body), {})])
    digest = text_hash("loader.py", body)
    assert old.stored_vectors([digest], dims=8)[digest].tolist() == list(range(8, 16))
    waiting = old.passages_to_embed(10)
    assert sorted(p.body[:6] for p in waiting) == ["def lo", "快速汽车的发"]
    assert not any(p.hash_missing for p in waiting)


def test_old_index_documents_get_the_min_hashes_of_their_opening(old):
    """What near-copy folding reads instead of the document's text (engine/similar.py); a failed
    document has no passages, so none. New documents get theirs when their passages are written."""
    shapes = old.document_shapes([r[0] for r in old.conn.execute("SELECT id FROM documents")])
    openings = old.document_openings(list(shapes), max_chars=similar.OPENING_CHARS)
    assert len(shapes) == 4
    for doc, shape in shapes.items():
        if shape.passage_count:
            assert shape.min_hashes and shape.min_hashes == similar.sketch(openings[doc]).min_hashes
        else:
            assert shape.min_hashes is None
    doc = old.upsert_document(path="/home/ann/notes/new.md", root_id=1, size=1, mtime_ns=1, content_hash="n",
                              kind="text", title="New")
    old.insert_passages(doc, [store_module.NewPassage(0, "New", "fresh violins for the orchestra", 0, 31, {})])
    assert old.document_shapes([doc])[doc].min_hashes == similar.sketch("fresh violins for the orchestra").min_hashes


@pytest.mark.parametrize("name", OLD_INDEXES)
def test_upgraded_schema_is_a_new_index_schema(tmp_path, name):
    upgraded = copy_old(tmp_path, name)
    Store(upgraded).close()
    new = tmp_path / "new" / "index.sqlite3"
    new.parent.mkdir()
    Store(new).close()
    assert schema_of(upgraded) == schema_of(new)


def test_an_upgraded_index_is_not_upgraded_again(tmp_path):
    db = copy_old(tmp_path, "schema2")
    Store(db).close()
    first = sqlite3.connect(db).execute("SELECT name, applied_at FROM _sqlite_migrations").fetchall()
    Store(db).close()
    assert sqlite3.connect(db).execute("SELECT name, applied_at FROM _sqlite_migrations").fetchall() == first


def test_schema_version_counts_the_migrations():
    assert len(MIGRATIONS.pending(sqlite_utils.Database(memory=True))) == SCHEMA_VERSION


def test_a_failing_migration_leaves_the_old_index_as_it_was(tmp_path, monkeypatch):
    db = copy_old(tmp_path, "schema3")

    def broken(text):
        raise RuntimeError("interrupted")

    monkeypatch.setattr(store_module, "index_words", broken)
    with pytest.raises(RuntimeError, match="interrupted"):
        Store(db)
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == ("3",)
    assert not conn.execute("SELECT 1 FROM sqlite_master WHERE name = '_sqlite_migrations'").fetchall()
    assert conn.execute("SELECT count(*) FROM passages_fts WHERE passages_fts MATCH 'config'").fetchone() == (1,)
    conn.close()
    monkeypatch.undo()
    store = Store(db)  # the next open upgrades it
    assert keyword_hits(store, '"汽车"') == [CHINESE]
    store.close()


@pytest.mark.parametrize("recorded", [str(SCHEMA_VERSION + 1), "four"])
def test_an_index_from_a_newer_or_unknown_schema_is_refused_untouched(tmp_path, recorded):
    db = copy_old(tmp_path, "schema4")
    conn = sqlite3.connect(db)
    conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (recorded,))
    conn.commit()
    conn.close()
    with pytest.raises(IndexError_, match=f"index in {tmp_path} has .*schema.*delete the folder to re-index"):
        Store(db)
    assert not sqlite3.connect(db).execute("SELECT 1 FROM sqlite_master WHERE name = '_sqlite_migrations'").fetchall()


# -- write transactions -------------------------------------------------------------------------------
@pytest.fixture
def store(tmp_path):
    store = Store(tmp_path / "index.sqlite3")
    yield store
    store.close()


def test_a_write_transaction_takes_the_write_lock_at_once(store):
    """BEGIN IMMEDIATE: a second writer is locked out before the first one has written anything."""
    other = sqlite3.connect(store.path, timeout=0, isolation_level=None)
    with store.transaction():
        store.get_meta("schema_version")
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
    other.execute("BEGIN IMMEDIATE")
    other.execute("ROLLBACK")
    other.close()


def test_a_nested_transaction_rolls_back_alone(store):
    with store.transaction():
        store.set_meta("outer", "kept")
        with pytest.raises(KeyError), store.transaction():
            store.set_meta("inner", "dropped")
            raise KeyError
        store.set_meta("after", "kept")
    assert (store.get_meta("outer"), store.get_meta("inner"), store.get_meta("after")) == ("kept", None, "kept")
    assert not store.conn.in_transaction


def test_a_failed_commit_leaves_no_transaction_open(store):
    """A COMMIT that fails (here a deferred foreign key) rolls back: the next write starts afresh."""
    with pytest.raises(sqlite3.IntegrityError), store.transaction():
        store.conn.execute("PRAGMA defer_foreign_keys=ON")
        store.conn.execute("INSERT INTO passages(document_id, ordinal, body, char_start, char_end) "
                           "VALUES (999, 0, 'orphan', 0, 6)")
    assert not store.conn.in_transaction
    assert store.counts()["passages"] == 0
    with store.transaction():
        store.set_meta("next", "written")
    assert store.get_meta("next") == "written"


def test_opening_a_current_index_takes_no_write_lock(tmp_path):
    """A second process may open the index while the writer is mid-transaction (the CLI beside the app)."""
    db = tmp_path / "index.sqlite3"
    Store(db).close()
    writer = sqlite3.connect(db, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    try:
        store = Store(db)
        store.conn.execute("PRAGMA busy_timeout=0")  # any write lock it still wanted would now fail at once
        assert store.get_meta("schema_version") == str(SCHEMA_VERSION)
        store.close()
    finally:
        writer.execute("ROLLBACK")
        writer.close()
