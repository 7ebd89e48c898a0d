"""Schema details that matter for safety: migration of older indexes, FTS kept in step."""

from __future__ import annotations

import sqlite3

from librarian.engine.store import SCHEMA_VERSION, Store


def test_schema_1_index_is_migrated_and_names_become_searchable(tmp_path):
    db = tmp_path / "index.sqlite3"
    store = Store(db)
    store.upsert_document(path="/home/a/budget_2024.txt", root_id=None, size=1, mtime_ns=1, content_hash="h",
                          kind="text", title="Budget")
    store.close()
    # make it look like a schema-1 index: no name column, no name index
    conn = sqlite3.connect(db)
    conn.executescript("DROP TRIGGER documents_ai; DROP TRIGGER documents_ad; DROP TRIGGER documents_au; "
                       "DROP TABLE documents_fts; ALTER TABLE documents DROP COLUMN name; "
                       "UPDATE meta SET value = '1' WHERE key = 'schema_version'; "
                       "DROP TABLE _sqlite_migrations;")  # an index from before the migrations table
    conn.close()
    store = Store(db)
    assert store.get_meta("schema_version") == str(SCHEMA_VERSION)
    rows = store.conn.execute("SELECT rowid FROM documents_fts WHERE documents_fts MATCH 'budget AND 2024'").fetchall()
    assert len(rows) == 1
    store.close()


def test_fts_follows_inserts_updates_and_deletes(tmp_path):
    from librarian.engine.store import NewPassage

    store = Store(tmp_path / "index.sqlite3")
    doc = store.upsert_document(path="/x/a.txt", root_id=None, size=1, mtime_ns=1, content_hash="h", kind="text",
                                title="A")
    store.insert_passages(doc, [NewPassage(0, "A", "violins and cellos", 0, 18, {})])
    assert store.conn.execute("SELECT count(*) FROM passages_fts WHERE passages_fts MATCH 'cellos'").fetchone()[0] == 1
    store.move_document(doc, path="/x/renamed.txt", root_id=None, size=1, mtime_ns=2)
    assert store.conn.execute("SELECT count(*) FROM documents_fts WHERE documents_fts MATCH 'renamed'").fetchone()[0] == 1
    store.delete_documents([doc])
    assert store.conn.execute("SELECT count(*) FROM passages_fts WHERE passages_fts MATCH 'cellos'").fetchone()[0] == 0
    assert store.conn.execute("SELECT count(*) FROM documents_fts").fetchone()[0] == 0
    store.conn.execute("INSERT INTO passages_fts(passages_fts) VALUES ('integrity-check')")
    store.close()


def test_identifiers_are_split_for_the_keyword_index(tmp_path):
    from librarian.engine.store import NewPassage, split_identifiers

    assert split_identifiers("call parseConfig on the HTTPServer") == "parse Config HTTP Server"
    assert split_identifiers("plain prose, nothing to split") == ""
    store = Store(tmp_path / "index.sqlite3")
    doc = store.upsert_document(path="/x/a.py", root_id=None, size=1, mtime_ns=1, content_hash="h", kind="code",
                                title="a.py")
    store.insert_passages(doc, [NewPassage(0, "a.py", "def loadUserProfile(): pass", 0, 27, {})])
    hits = store.conn.execute("SELECT count(*) FROM passages_fts WHERE passages_fts MATCH 'user AND profile'")
    assert hits.fetchone()[0] == 1
    store.close()
