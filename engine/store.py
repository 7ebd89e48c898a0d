"""The SQLite schema and every query against it. SQLite is the source of truth: documents, passages,
the FTS5 keyword index and each passage's int8 vector live here; the USearch file is a cache.

One writer connection (owned by whoever holds the data dir's lock) and any number of readers, each
thread with its own connection. WAL mode keeps readers from blocking the writer.

Passage ids come from AUTOINCREMENT so an id is never reused: a stale key left in the vector cache
after a crash can then never point at someone else's passage.
"""

from __future__ import annotations

import contextlib
import datetime
import functools
import json
import logging
import re
import sqlite3
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import sqlite_utils

from .embed_order import NEVER, DocumentOrder, embedded, passage_priority
from .errors import DiskFullError, IndexDamagedError, IndexError_
from .passage_text import text_hash
from .query import cjk_index_words
from .similar import OPENING_CHARS, DocumentShape, opening, sketch

log = logging.getLogger(__name__)

# unicode61 with remove_diacritics folds accents so "café" finds "cafe"; porter stems English.
# Underscores and dots are separators, so `snake_case` indexes as "snake" "case" and a quoted
# query "snake_case" becomes the phrase "snake case". unicode61 keeps a run of Chinese or Japanese
# as one token; the `words` column adds its character bigrams (see `index_words` and engine/query.py).
FTS_TOKENIZE = "porter unicode61 remove_diacritics 2"

# -- the schema, as numbered migrations ------------------------------------------------------------
# Each migration turns schema N-1 into schema N and never changes once released: an index written by
# any earlier Librarian replays only the steps it lacks, in place, keeping its data (the way Django,
# Rails and sqlite-utils' own `Migrations` do it). sqlite-utils records the applied ones in the table
# `_sqlite_migrations`; `meta.schema_version` is kept in step so that an older Librarian still sees
# that an index is newer than it and refuses it instead of writing to it. A migration runs inside the
# upgrade's one write transaction (see `_upgrade`), so it must not call ``executescript``, which
# commits first: `_run_script` runs a script statement by statement instead. The schema as a whole:
# migration 1's tables plus what 2-6 add (`sqlite3 index.sqlite3 .schema` prints it). A new schema:
# append a migration, bump SCHEMA_VERSION, and add its predecessor's file to tests/fixtures
# (make_old_indexes.py) so test_migrations.py upgrades it.
MIGRATIONS = sqlite_utils.Migrations("librarian")
SCHEMA_VERSION = 6  # the number of migrations: a test holds the two together

# The passages' keyword index as of schema 3: title, body and `words` (see `index_words`). Only
# UPDATEs of these columns touch it: storing a vector must not rewrite the passage's FTS entry
# (sqlite-utils' `enable_fts` triggers fire on every UPDATE, hence hand-written ones).
_PASSAGES_FTS = f"""
CREATE VIRTUAL TABLE passages_fts USING fts5(
    title, body, words, content='passages', content_rowid='id', tokenize='{FTS_TOKENIZE}'
);
CREATE TRIGGER passages_ai AFTER INSERT ON passages BEGIN
    INSERT INTO passages_fts(rowid, title, body, words) VALUES (new.id, new.title, new.body, new.words);
END;
CREATE TRIGGER passages_ad AFTER DELETE ON passages BEGIN
    INSERT INTO passages_fts(passages_fts, rowid, title, body, words)
        VALUES ('delete', old.id, old.title, old.body, old.words);
END;
CREATE TRIGGER passages_au AFTER UPDATE OF title, body, words ON passages BEGIN
    INSERT INTO passages_fts(passages_fts, rowid, title, body, words)
        VALUES ('delete', old.id, old.title, old.body, old.words);
    INSERT INTO passages_fts(rowid, title, body, words) VALUES (new.id, new.title, new.body, new.words);
END;
"""


@MIGRATIONS(name="001_documents_passages")
def _schema_1(db: sqlite_utils.Database) -> None:
    """The first schema (Librarian 0.1): documents, their text, passages with vectors, and the
    passages' keyword index. IF NOT EXISTS: a file from before any version was recorded may hold it."""
    _run_script(db, f"""
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS roots (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    added REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS documents (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    path TEXT NOT NULL UNIQUE,
    root_id INTEGER REFERENCES roots(id) ON DELETE CASCADE,
    size INTEGER NOT NULL DEFAULT 0,
    mtime_ns INTEGER NOT NULL DEFAULT 0,
    content_hash TEXT,
    kind TEXT,
    title TEXT,
    status TEXT NOT NULL DEFAULT 'ok',      -- 'ok' | 'failed'
    error TEXT,                             -- why it failed, or why an 'ok' one is indexed only in part
    passage_count INTEGER NOT NULL DEFAULT 0,
    indexed_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS documents_hash ON documents(content_hash);
CREATE INDEX IF NOT EXISTS documents_root ON documents(root_id);
CREATE TABLE IF NOT EXISTS contents (
    document_id INTEGER PRIMARY KEY REFERENCES documents(id) ON DELETE CASCADE,
    text BLOB NOT NULL                      -- zlib-compressed UTF-8 of the whole extracted text
);
CREATE TABLE IF NOT EXISTS passages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    ordinal INTEGER NOT NULL,
    title TEXT NOT NULL DEFAULT '',
    body TEXT NOT NULL,
    char_start INTEGER NOT NULL,
    char_end INTEGER NOT NULL,
    locator TEXT NOT NULL DEFAULT '{{}}',
    vector BLOB                             -- int8[dims]; NULL until the encoder has caught up
);
CREATE INDEX IF NOT EXISTS passages_document ON passages(document_id, ordinal);
CREATE INDEX IF NOT EXISTS passages_unembedded ON passages(id) WHERE vector IS NULL;
CREATE VIRTUAL TABLE IF NOT EXISTS passages_fts USING fts5(
    title, body, content='passages', content_rowid='id', tokenize='{FTS_TOKENIZE}'
);
CREATE TRIGGER IF NOT EXISTS passages_ai AFTER INSERT ON passages BEGIN
    INSERT INTO passages_fts(rowid, title, body) VALUES (new.id, new.title, new.body);
END;
CREATE TRIGGER IF NOT EXISTS passages_ad AFTER DELETE ON passages BEGIN
    INSERT INTO passages_fts(passages_fts, rowid, title, body) VALUES ('delete', old.id, old.title, old.body);
END;
CREATE TRIGGER IF NOT EXISTS passages_au AFTER UPDATE OF title, body ON passages BEGIN
    INSERT INTO passages_fts(passages_fts, rowid, title, body) VALUES ('delete', old.id, old.title, old.body);
    INSERT INTO passages_fts(rowid, title, body) VALUES (new.id, new.title, new.body);
END;
""")


@MIGRATIONS(name="002_file_names")
def _schema_2(db: sqlite_utils.Database) -> None:
    """File names get their own keyword index: a person who types a file name expects that file
    first, whatever its text says. (Some schema-1 files already have the column and the index.)"""
    if "name" not in db.table("documents").columns_dict:
        db.table("documents").add_column("name", str, not_null_default="")
    _run_script(db, f"""
CREATE VIRTUAL TABLE IF NOT EXISTS documents_fts USING fts5(name, tokenize='{FTS_TOKENIZE}');
CREATE TRIGGER IF NOT EXISTS documents_ai AFTER INSERT ON documents BEGIN
    INSERT INTO documents_fts(rowid, name) VALUES (new.id, new.name);
END;
CREATE TRIGGER IF NOT EXISTS documents_ad AFTER DELETE ON documents BEGIN
    DELETE FROM documents_fts WHERE rowid = old.id;
END;
CREATE TRIGGER IF NOT EXISTS documents_au AFTER UPDATE OF name ON documents BEGIN
    UPDATE documents_fts SET name = new.name WHERE rowid = old.id;
END;
""")
    rows = db.execute("SELECT id, path FROM documents").fetchall()
    db.conn.executemany("UPDATE documents SET name = ? WHERE id = ?", [(file_name(path), doc) for doc, path in rows])
    db.execute("DELETE FROM documents_fts")
    db.execute("INSERT INTO documents_fts(rowid, name) SELECT id, name FROM documents")


@MIGRATIONS(name="003_split_identifiers")
def _schema_3(db: sqlite_utils.Database) -> None:
    """The keyword index gets a third column, `words`: identifiers split (parseConfig → parse Config)."""
    _rewrite_words(db, split_identifiers)


@MIGRATIONS(name="004_cjk_words")
def _schema_4(db: sqlite_utils.Database) -> None:
    """`words` gains the character bigrams of Chinese and Japanese runs (汽车和 → 汽车 车和 汽 车 和)."""
    _rewrite_words(db, index_words)


@MIGRATIONS(name="005_text_hash_priority")
def _schema_5(db: sqlite_utils.Database) -> None:
    """Passages get the hash of the text the passage tower reads (identical passages share one
    vector: engine/passage_text.py) and an embedding priority (what to embed first:
    engine/embed_order.py), both filled in for the passages already stored; the embedder reads the
    passages still without a vector in priority order from an index instead of by id."""
    passages = db.table("passages")
    if "text_hash" not in passages.columns_dict:
        passages.add_column("text_hash", bytes)
    if "priority" not in passages.columns_dict:
        passages.add_column("priority", int, not_null_default=0)
    _fill_text_hash_and_priority(db)
    _run_script(db, """
DROP INDEX IF EXISTS passages_unembedded;
CREATE INDEX IF NOT EXISTS passages_text_hash ON passages(text_hash);
CREATE INDEX IF NOT EXISTS passages_embed_order ON passages(priority) WHERE vector IS NULL;
""")


@MIGRATIONS(name="006_document_min_hashes")
def _schema_6(db: sqlite_utils.Database) -> None:
    """Documents get the min-hashes of their opening (engine/similar.py), written with their
    passages, so that folding near copies at query time reads 32 bytes per shown document instead
    of sketching its text; filled in for the documents already stored (0.5 s for a real library of
    541 documents, 2.6 s for 23,000 short ones). They are `similar.sketch`'s: a change to how it
    sketches needs a migration that computes them again."""
    documents = db.table("documents")
    if "min_hashes" not in documents.columns_dict:
        documents.add_column("min_hashes", bytes)
    ids = [row[0] for row in db.execute("SELECT id FROM documents WHERE passage_count > 0")]
    for start in range(0, len(ids), 500):
        db.conn.executemany("UPDATE documents SET min_hashes = ? WHERE id = ?", [
            (_pack_min_hashes(sketch(_opening_of(db.conn, doc, OPENING_CHARS)).min_hashes), doc)
            for doc in ids[start:start + 500]])


def _fill_text_hash_and_priority(db: sqlite_utils.Database, *, chunk: int = 5000) -> None:
    """Every passage's `text_hash` and `priority`, a few thousand rows per statement (2.2 s for the
    whole upgrade of a real 27,759-passage index, 2.5 s for this at 100k short passages)."""
    last = 0
    while True:
        rows = db.execute(
            "SELECT p.id, p.ordinal, p.title, p.body, d.kind, d.path, d.mtime_ns, r.added "
            "FROM passages p JOIN documents d ON d.id = p.document_id LEFT JOIN roots r ON r.id = d.root_id "
            "WHERE p.id > ? ORDER BY p.id LIMIT ?", (last, chunk)).fetchall()
        if not rows:
            return
        db.conn.executemany("UPDATE passages SET text_hash = ?, priority = ? WHERE id = ?", [
            (text_hash(title, body), passage_priority(DocumentOrder(kind, path, mtime_ns or 0, added).base(), ordinal),
             pid) for pid, ordinal, title, body, kind, path, mtime_ns, added in rows])
        last = rows[-1][0]


def _rewrite_words(db: sqlite_utils.Database, words_of: Callable[[str], str]) -> None:
    """Fill every passage's `words` and rebuild the passages' keyword index from scratch: cheaper
    than 100k trigger updates (about 7 s at 100k passages), and safe whatever the old index holds.
    The column is filled while no trigger watches the table: an FTS5 'delete' of a row the index
    never held corrupts it."""
    for trigger in ("passages_ai", "passages_ad", "passages_au"):
        db.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    db.table("passages_fts").drop(ignore=True)
    if "words" not in db.table("passages").columns_dict:
        db.table("passages").add_column("words", str, not_null_default="")
    rows = db.execute("SELECT id, title, body FROM passages").fetchall()
    # executemany, not Table.update: one statement for all rows instead of one lookup per row
    db.conn.executemany("UPDATE passages SET words = ? WHERE id = ?",
                        [(words_of(f"{title} {body}"), pid) for pid, title, body in rows])
    _run_script(db, _PASSAGES_FTS)
    db.execute("INSERT INTO passages_fts(passages_fts) VALUES ('rebuild')")


def _run_script(db: sqlite_utils.Database, script: str) -> None:
    """Run ``script`` one statement at a time inside the open transaction (``executescript`` would
    commit it first). `sqlite3.complete_statement` knows a trigger's inner semicolons."""
    statement = ""
    for line in script.splitlines(keepends=True):
        statement += line
        if sqlite3.complete_statement(statement):
            db.execute(statement)
            statement = ""
    if statement.strip():
        raise ValueError(f"incomplete SQL statement in a migration: {statement!r}")


def _upgrade(db: sqlite_utils.Database, where: Path) -> None:
    """Bring the index to `SCHEMA_VERSION` by the migrations it lacks (all of them for a new file)."""
    _adopt_recorded_version(db, where)
    MIGRATIONS.apply(db)
    db.execute("INSERT INTO meta(key, value) VALUES ('schema_version', ?) "
               "ON CONFLICT(key) DO UPDATE SET value = excluded.value", (str(SCHEMA_VERSION),))


def _is_current(db: sqlite_utils.Database, where: Path) -> bool:
    return (_recorded_version(db, where) == SCHEMA_VERSION and db.table(MIGRATIONS.migrations_table).exists()
            and not MIGRATIONS.pending(db))


def _adopt_recorded_version(db: sqlite_utils.Database, where: Path) -> None:
    """Map an index's recorded schema onto the migrations: an index written before they existed has
    only ``meta.schema_version``, and migrations 1..N stand for its schema N. Refuses an index that
    a newer Librarian wrote."""
    recorded = _recorded_version(db, where)
    if recorded is not None and recorded > SCHEMA_VERSION:
        raise IndexError_(f"the index in {where} has schema {recorded}, this Librarian reads "
                          f"{SCHEMA_VERSION}; delete the folder to re-index")
    if recorded is None or db.table(MIGRATIONS.migrations_table).exists():
        return
    MIGRATIONS.ensure_migrations_table(db)
    adopted_at = str(datetime.datetime.now(datetime.UTC))
    db.table(MIGRATIONS.migrations_table).insert_all(
        {"migration_set": MIGRATIONS.name, "name": migration.name, "applied_at": adopted_at}
        for migration in MIGRATIONS.pending(db)[:recorded])


def _recorded_version(db: sqlite_utils.Database, where: Path) -> int | None:
    """``meta.schema_version``, or None for a new file."""
    if not db.table("meta").exists():
        return None
    row = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    if row is None:
        return None
    try:
        return int(row[0])
    except ValueError:
        raise IndexError_(f"the index in {where} has an unknown schema ({row[0]!r}); "
                          "delete the folder to re-index") from None


@dataclass(frozen=True, slots=True)
class DocumentRow:
    id: int
    path: str
    root_id: int | None
    size: int
    mtime_ns: int
    content_hash: str | None
    kind: str | None
    title: str | None
    status: str  # "ok" | "failed" | "left_out" (read, kept out on purpose: generated)
    error: str | None  # why it failed, why it is indexed only in part, or why it is left out
    passage_count: int


@dataclass(frozen=True, slots=True)
class NewPassage:
    ordinal: int
    title: str
    body: str
    char_start: int
    char_end: int
    locator: dict


@dataclass(frozen=True, slots=True)
class PassageToEmbed:
    """A passage without a vector, as the embedder reads it."""

    id: int
    title: str
    body: str
    text_hash: bytes  # engine/passage_text.py
    hash_missing: bool = False  # stored without one (by an older writer): computed from the text


# -- what the read API hands to search (see `Store.snapshot` and the "reads for search" methods) --------
@dataclass(frozen=True, slots=True)
class DocumentFilter:
    """The documents a search may return, in the store's terms: ``folder`` is a path key (that
    file or folder, or anything under it), times are nanoseconds on the file's mtime."""

    folder: str | None = None
    kinds: tuple[str, ...] = ()
    modified_after_ns: int | None = None
    modified_before_ns: int | None = None


@dataclass(frozen=True, slots=True)
class KeywordMatch:
    passage_id: int
    bm25: float  # FTS5's bm25(): lower is better, negative for a match


@dataclass(frozen=True, slots=True)
class PassageText:
    """The three columns the keyword index holds for a passage."""

    title: str
    body: str
    words: str


@dataclass(frozen=True, slots=True)
class Candidate:
    """What ranking needs of a candidate passage: its document, and that document's content hash
    (identical content collapses into one result)."""

    document_id: int
    content_hash: str | None


def _opening_of(conn: sqlite3.Connection, document_id: int, max_chars: int) -> str:
    """The document's `similar.opening`, read from its stored passages."""
    return opening((body for (body,) in conn.execute(
        "SELECT body FROM passages WHERE document_id = ? ORDER BY ordinal", (document_id,))), max_chars)


def _pack_min_hashes(min_hashes: Sequence[int]) -> bytes:
    return np.array(min_hashes, dtype="<u8").tobytes()


def _unpack_min_hashes(blob: bytes | None) -> tuple[int, ...] | None:
    return None if blob is None else tuple(int(v) for v in np.frombuffer(blob, dtype="<u8"))


@dataclass(frozen=True, slots=True)
class ShownPassage:
    """A passage shown as a result, with what is shown of its document."""

    document_id: int
    ordinal: int
    body: str
    locator: dict
    path: str  # a path key (see engine/paths.py)
    title: str | None
    kind: str | None
    mtime_ns: int
    root: str | None = None  # the path key of the root the document lies in (None: a record)


def connect(db_path: Path, *, read_only: bool = False) -> sqlite3.Connection:
    """Open a connection with the pragmas every connection needs. Every statement run through it
    turns a corrupt file or a full disk into `IndexDamagedError` / `DiskFullError` (see `_Connection`)."""
    try:
        if read_only:
            conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, check_same_thread=False, factory=_Connection)
        else:
            conn = sqlite3.connect(db_path, check_same_thread=False, isolation_level=None, factory=_Connection)
    except sqlite3.Error as exc:
        raise _unreadable(exc, Path(db_path)) from exc
    conn.db_path = Path(db_path)
    try:
        conn.execute("PRAGMA busy_timeout=10000")
        conn.execute("PRAGMA foreign_keys=ON")
        # INSERT OR REPLACE would otherwise skip the FTS delete trigger and leave stale rows.
        conn.execute("PRAGMA recursive_triggers=ON")
        # Page cache per connection: the writer's bulk inserts profit from more; a reader serves a
        # few hundred rows per query and every search thread holds one.
        conn.execute(f"PRAGMA cache_size={-8000 if read_only else -32000}")
        conn.execute("PRAGMA temp_store=MEMORY")
    except BaseException as exc:
        conn.close()
        if isinstance(exc, sqlite3.Error):
            raise _unreadable(exc, Path(db_path)) from exc
        raise
    return conn


def _unreadable(exc: sqlite3.Error, db_path: Path) -> Exception:
    """What an error opening the file means: damage, a full disk, or a file SQLite cannot open."""
    translated = translate_sqlite_error(exc, db_path)
    if translated is not exc:
        return translated
    return IndexError_(f"the index database {db_path} is unreadable ({exc}); move it away and re-index")


# SQLite's primary result codes for "the file is not a sound database" and "no space left".
_DAMAGED_CODES = {11, 26}  # SQLITE_CORRUPT, SQLITE_NOTADB
_FULL_CODE = 13  # SQLITE_FULL


def translate_sqlite_error(exc: sqlite3.Error, db_path: Path) -> Exception:
    """The `LibrarianError` a corrupt file or a full disk means, or ``exc`` itself for anything else
    (a busy database, a bug in a query): those must not be mistaken for damage."""
    code = (getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF
    text = str(exc)
    if code in _DAMAGED_CODES or "malformed" in text or "not a database" in text:
        return IndexDamagedError(db_path.parent, text)
    if code == _FULL_CODE or "database or disk is full" in text:
        return DiskFullError(db_path.parent)
    return exc


def integrity_problem(db_path: Path) -> str | None:
    """The first problem SQLite's ``PRAGMA quick_check`` finds in the file, or None when it is sound.
    O(size of the file): for `check` and for explaining an unexpected failure, not for every open."""
    try:
        conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        return str(exc)
    try:
        rows = conn.execute("PRAGMA quick_check(5)").fetchall()
    except sqlite3.DatabaseError as exc:
        return str(exc)
    finally:
        conn.close()
    lines = [line.strip() for row in rows for line in str(row[0]).splitlines()]
    problems = [line for line in lines if line and line != "ok" and not line.startswith("***")]  # *** a heading
    if not problems:
        return None
    return problems[0] + (", and other problems" if len(problems) > 1 else "")


FETCH_SLICE = 256


def _translating(method):
    """``method`` of a cursor or connection, with SQLite's errors passed through `translate_sqlite_error`."""
    @functools.wraps(method)
    def call(self, *args):
        try:
            return method(self, *args)
        except sqlite3.DatabaseError as exc:
            connection = self if isinstance(self, sqlite3.Connection) else self.connection
            raise translate_sqlite_error(exc, getattr(connection, "db_path", Path())) from exc
    return call


class _Cursor(sqlite3.Cursor):
    """A cursor whose statements and row fetches translate damage and a full disk (a corrupt page
    may surface on any step, not only on the first)."""

    execute = _translating(sqlite3.Cursor.execute)
    executemany = _translating(sqlite3.Cursor.executemany)
    executescript = _translating(sqlite3.Cursor.executescript)
    fetchone = _translating(sqlite3.Cursor.fetchone)
    fetchmany = _translating(sqlite3.Cursor.fetchmany)
    fetchall = _translating(sqlite3.Cursor.fetchall)
    __next__ = _translating(sqlite3.Cursor.__next__)

    def __iter__(self):
        """Rows in slices of `FETCH_SLICE`: one translated call per slice, not one per row (a
        search reads thousands of rows and the per-row wrapper cost a fifth of its time), with
        memory still bounded for long scans."""
        while rows := self.fetchmany(FETCH_SLICE):
            yield from rows


class _Connection(sqlite3.Connection):
    """The one boundary where SQLite's errors enter the engine: every statement runs on a `_Cursor`.
    (CPython's ``Connection.execute`` does not go through ``cursor()``, hence the overrides.)"""

    db_path: Path

    def cursor(self, factory=_Cursor):  # type: ignore[override]
        return super().cursor(factory)

    def execute(self, *args):  # type: ignore[override]
        return self.cursor().execute(*args)

    def executemany(self, *args):  # type: ignore[override]
        return self.cursor().executemany(*args)

    def executescript(self, *args):  # type: ignore[override]
        return self.cursor().executescript(*args)

    commit = _translating(sqlite3.Connection.commit)


class Store:
    """All reads and writes of the SQLite index. Not thread-safe: one `Store` per thread."""

    def __init__(self, db_path: Path, *, read_only: bool = False) -> None:
        self.path = db_path
        self.read_only = read_only
        self.conn = connect(db_path, read_only=read_only)
        try:
            # sqlite-utils on our own connection, so its statements translate errors like ours
            self.db = sqlite_utils.Database(self.conn)
            if not read_only:
                self.conn.execute("PRAGMA journal_mode=WAL")
                self.conn.execute("PRAGMA synchronous=NORMAL")
                self._create()
        except BaseException as exc:
            self.conn.close()  # a damaged file is moved aside next: no handle may stay open on it
            if isinstance(exc, sqlite3.DatabaseError):
                raise _unreadable(exc, Path(db_path)) from exc
            raise

    def _create(self) -> None:
        compile_options = {row[0] for row in self.conn.execute("PRAGMA compile_options")}
        if "ENABLE_FTS5" not in compile_options:
            raise IndexError_("this SQLite build lacks FTS5; Librarian needs it for keyword search")
        if _is_current(self.db, self.path.parent):
            return  # read only: opening an index takes no write lock, as before migrations
        # One write transaction for the whole upgrade: an index is at its old schema or the new one,
        # never in between (each migration's own `atomic()` becomes a savepoint inside it). Another
        # process may have upgraded it meanwhile: `_upgrade` decides again under the write lock.
        with self.transaction():
            _upgrade(self.db, self.path.parent)

    def close(self) -> None:
        try:
            if not self.read_only:
                self.conn.execute("PRAGMA optimize")
        except (sqlite3.Error, IndexError_):  # a damaged or full file: closing must still work
            pass
        self.conn.close()

    # -- transactions ---------------------------------------------------------------------------
    def transaction(self) -> _Transaction:
        """One atomic write: BEGIN IMMEDIATE ... COMMIT, or a savepoint when nested in another."""
        return _Transaction(self.db)

    # -- meta -----------------------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self.conn.execute(
            "INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    def vectors_generation(self) -> int:
        return int(self.get_meta("vectors_generation") or 0)

    def bump_vectors_generation(self) -> int:
        generation = self.vectors_generation() + 1
        self.set_meta("vectors_generation", str(generation))
        return generation

    # -- roots ----------------------------------------------------------------------------------
    def add_root(self, path: str) -> int:
        self.conn.execute("INSERT OR IGNORE INTO roots(path, added) VALUES (?, ?)", (path, time.time()))
        return int(self.conn.execute("SELECT id FROM roots WHERE path = ?", (path,)).fetchone()[0])

    def roots(self) -> list[tuple[int, str]]:
        return [(int(r[0]), r[1]) for r in self.conn.execute("SELECT id, path FROM roots ORDER BY path")]

    def remove_root(self, root_id: int) -> None:
        self.conn.execute("DELETE FROM roots WHERE id = ?", (root_id,))

    # -- documents ------------------------------------------------------------------------------
    _DOC_COLUMNS = "id, path, root_id, size, mtime_ns, content_hash, kind, title, status, error, passage_count"

    def documents_under_root(self, root_id: int) -> dict[str, DocumentRow]:
        rows = self.conn.execute(f"SELECT {self._DOC_COLUMNS} FROM documents WHERE root_id = ?", (root_id,))
        return {r[1]: DocumentRow(*r) for r in rows}

    def document(self, document_id: int) -> DocumentRow | None:
        row = self.conn.execute(f"SELECT {self._DOC_COLUMNS} FROM documents WHERE id = ?", (document_id,)).fetchone()
        return DocumentRow(*row) if row else None

    def document_by_path(self, path: str) -> DocumentRow | None:
        row = self.conn.execute(f"SELECT {self._DOC_COLUMNS} FROM documents WHERE path = ?", (path,)).fetchone()
        return DocumentRow(*row) if row else None

    def document_with_hash(self, content_hash: str, *, exclude_id: int | None = None) -> DocumentRow | None:
        """An indexed ('ok') document with this content, to copy passages and vectors from."""
        row = self.conn.execute(
            f"SELECT {self._DOC_COLUMNS} FROM documents WHERE content_hash = ? AND status = 'ok' AND id != ? "
            "ORDER BY id LIMIT 1",
            (content_hash, exclude_id if exclude_id is not None else -1),
        ).fetchone()
        return DocumentRow(*row) if row else None

    def upsert_document(self, *, path: str, root_id: int | None, size: int, mtime_ns: int,
                        content_hash: str | None, kind: str | None, title: str | None,
                        status: str = "ok", error: str | None = None) -> int:
        self.conn.execute(
            """INSERT INTO documents(path, name, root_id, size, mtime_ns, content_hash, kind, title, status, error,
                                     passage_count, indexed_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?)
               ON CONFLICT(path) DO UPDATE SET root_id=excluded.root_id, size=excluded.size,
                   mtime_ns=excluded.mtime_ns, content_hash=excluded.content_hash, kind=excluded.kind,
                   title=excluded.title, status=excluded.status, error=excluded.error,
                   indexed_at=excluded.indexed_at, min_hashes=NULL""",
            (path, file_name(path), root_id, size, mtime_ns, content_hash, kind, title, status, error, time.time()),
        )
        return int(self.conn.execute("SELECT id FROM documents WHERE path = ?", (path,)).fetchone()[0])

    def touch_document(self, document_id: int, *, size: int, mtime_ns: int) -> None:
        self.conn.execute("UPDATE documents SET size = ?, mtime_ns = ? WHERE id = ?", (size, mtime_ns, document_id))

    def move_document(self, document_id: int, *, path: str, root_id: int | None, size: int, mtime_ns: int) -> None:
        self.conn.execute(
            "UPDATE documents SET path = ?, name = ?, root_id = ?, size = ?, mtime_ns = ? WHERE id = ?",
            (path, file_name(path), root_id, size, mtime_ns, document_id),
        )

    def delete_documents(self, document_ids: Sequence[int]) -> list[int]:
        """Delete documents with their passages; returns the passage ids that had vectors."""
        removed: list[int] = []
        for marks, chunk in _in_lists(document_ids, size=500):
            removed += [r[0] for r in self.conn.execute(
                f"SELECT id FROM passages WHERE document_id IN ({marks}) AND vector IS NOT NULL", chunk)]
            self.conn.execute(f"DELETE FROM passages WHERE document_id IN ({marks})", chunk)
            self.conn.execute(f"DELETE FROM documents WHERE id IN ({marks})", chunk)
        return removed

    def vectors_by_text(self, document_id: int) -> dict[bytes, bytes]:
        """text hash -> stored vector, for a document's passages that have one (read before an edit
        replaces them, so the passages it leaves as they were keep their vectors)."""
        return {bytes(r[0]): r[1] for r in self.conn.execute(
            "SELECT text_hash, vector FROM passages WHERE document_id = ? AND vector IS NOT NULL "
            "AND text_hash IS NOT NULL", (document_id,))}

    def reuse_vectors(self, document_id: int, vectors: dict[bytes, bytes]) -> list[int]:
        """Give the document's passages without a vector the vector stored for their text, if any; the
        ids of the passages that got one."""
        if not vectors:
            return []
        rows = self.conn.execute("SELECT id, text_hash FROM passages WHERE document_id = ? AND vector IS NULL "
                                 "AND text_hash IS NOT NULL", (document_id,)).fetchall()
        reused = [(vectors[bytes(digest)], int(pid)) for pid, digest in rows if bytes(digest) in vectors]
        self.conn.executemany("UPDATE passages SET vector = ? WHERE id = ?", reused)
        return [pid for _, pid in reused]

    def delete_passages_of(self, document_id: int) -> list[int]:
        removed = [r[0] for r in self.conn.execute(
            "SELECT id FROM passages WHERE document_id = ? AND vector IS NOT NULL", (document_id,))]
        self.conn.execute("DELETE FROM passages WHERE document_id = ?", (document_id,))
        return removed

    def set_content(self, document_id: int, text: str) -> None:
        self.conn.execute(
            "INSERT INTO contents(document_id, text) VALUES (?, ?) "
            "ON CONFLICT(document_id) DO UPDATE SET text = excluded.text",
            (document_id, zlib.compress(text.encode("utf-8", "surrogatepass"), 6)),
        )

    def content(self, document_id: int) -> str | None:
        row = self.conn.execute("SELECT text FROM contents WHERE document_id = ?", (document_id,)).fetchone()
        return zlib.decompress(row[0]).decode("utf-8", "surrogatepass") if row else None

    # -- passages -------------------------------------------------------------------------------
    def insert_passages(self, document_id: int, passages: Iterable[NewPassage]) -> int:
        """Store a document's passages, each with its text hash and embedding priority (no vector yet)."""
        base = self._order_base(document_id)
        rows = [(document_id, p.ordinal, p.title, p.body, p.char_start, p.char_end,
                 json.dumps(p.locator, ensure_ascii=False), index_words(f"{p.title} {p.body}"),
                 text_hash(p.title, p.body), NEVER if base is None else passage_priority(base, p.ordinal))
                for p in passages]
        self.conn.executemany(
            "INSERT INTO passages(document_id, ordinal, title, body, char_start, char_end, locator, words, "
            "text_hash, priority) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        # the min-hashes near-copy folding reads when the document is shown (engine/similar.py)
        min_hashes = sketch(opening(row[3] for row in sorted(rows, key=lambda row: row[1]))).min_hashes
        self.conn.execute("UPDATE documents SET passage_count = ?, min_hashes = ? WHERE id = ?",
                          (len(rows), _pack_min_hashes(min_hashes), document_id))
        return len(rows)

    def copy_passages(self, *, from_document: int, to_document: int) -> int:
        """Copy another document's passages, vectors and text hashes included, so identical content is
        never re-encoded; the copies get the priority of their own document."""
        cursor = self.conn.execute(
            "INSERT INTO passages(document_id, ordinal, title, body, char_start, char_end, locator, words, vector, "
            "text_hash) SELECT ?, ordinal, title, body, char_start, char_end, locator, words, vector, text_hash "
            "FROM passages WHERE document_id = ? ORDER BY ordinal", (to_document, from_document))
        count = cursor.rowcount
        base = self._order_base(to_document)
        self.conn.executemany("UPDATE passages SET priority = ? WHERE id = ?", [
            (NEVER if base is None else passage_priority(base, ordinal), pid) for pid, ordinal in
            self.conn.execute("SELECT id, ordinal FROM passages WHERE document_id = ?", (to_document,)).fetchall()])
        self.conn.execute("UPDATE documents SET passage_count = ?, min_hashes = "
                          "(SELECT min_hashes FROM documents WHERE id = ?) WHERE id = ?",
                          (count, from_document, to_document))
        text = self.content(from_document)
        if text is not None:
            self.set_content(to_document, text)
        return count

    def embedded_passages_of(self, document_id: int) -> list[int]:
        """The passage ids of a document that hold a vector (a copy from a twin arrives with them)."""
        return [int(r[0]) for r in self.conn.execute(
            "SELECT id FROM passages WHERE document_id = ? AND vector IS NOT NULL", (document_id,))]

    # -- checks and repairs (`Library.check`) ----------------------------------------------------
    def rebuild_keyword_index(self) -> None:
        self.conn.execute("INSERT INTO passages_fts(passages_fts) VALUES ('rebuild')")

    def duplicate_passage_count(self) -> int:
        """How many (document, ordinal) pairs hold more than one passage: never, unless damaged."""
        return int(self.conn.execute(
            "SELECT count(*) FROM (SELECT document_id, ordinal FROM passages "
            "GROUP BY document_id, ordinal HAVING count(*) > 1)").fetchone()[0])

    def delete_duplicate_passages(self) -> list[int]:
        """Keep the first passage of each (document, ordinal); returns the deleted ids that had a vector."""
        keep = "SELECT min(id) FROM passages GROUP BY document_id, ordinal"
        removed = [int(r[0]) for r in self.conn.execute(
            f"SELECT id FROM passages WHERE vector IS NOT NULL AND id NOT IN ({keep})")]
        self.conn.execute(f"DELETE FROM passages WHERE id NOT IN ({keep})")
        return removed

    def _order_base(self, document_id: int) -> int | None:
        """The document's part of its passages' embedding priorities (engine/embed_order.py); None for
        a document kept for words only (`embed_order.KEYWORD_ONLY`): its passages get priority
        `NEVER`, which the embedder never reaches."""
        row = self.conn.execute(
            "SELECT d.kind, d.path, d.mtime_ns, r.added FROM documents d LEFT JOIN roots r ON r.id = d.root_id "
            "WHERE d.id = ?", (document_id,)).fetchone()
        if row is None:
            raise IndexError_(f"document {document_id} is not in the index")
        if not embedded(row[0], row[1]):
            return None
        return DocumentOrder(kind=row[0], path=row[1], mtime_ns=row[2] or 0, root_added=row[3]).base()

    def passages_to_embed(self, limit: int) -> list[PassageToEmbed]:
        """The next ``limit`` passages without a vector, most useful first (engine/embed_order.py).
        Read from the top of ``passages_embed_order``, which holds only the passages still without a
        vector: a call costs the rows it returns, however large the library."""
        return [PassageToEmbed(int(pid), title, body, digest) if digest is not None
                else PassageToEmbed(int(pid), title, body, text_hash(title, body), hash_missing=True)
                for pid, title, body, digest in self.conn.execute(
                    "SELECT id, title, body, text_hash FROM passages WHERE vector IS NULL AND priority < ? "
                    "ORDER BY priority, id LIMIT ?", (NEVER, limit))]

    def stored_vectors(self, hashes: Iterable[bytes], *, dims: int) -> dict[bytes, np.ndarray]:
        """text hash -> the int8 vector a passage with that text already has (in any document), for
        those of ``hashes`` that one has."""
        found: dict[bytes, np.ndarray] = {}
        for digest in set(hashes):
            row = self.conn.execute("SELECT vector FROM passages WHERE text_hash = ? AND vector IS NOT NULL "
                                    "LIMIT 1", (digest,)).fetchone()
            if row is not None and len(row[0]) == dims:  # another model's width is no vector of this one's
                found[digest] = np.frombuffer(row[0], dtype=np.int8)
        return found

    def unembedded_with_hashes(self, hashes: Iterable[bytes]) -> list[tuple[int, bytes]]:
        """(passage id, text hash) of every passage still without a vector whose text hash is one of
        ``hashes``: every copy of a text the embedder is about to store a vector for."""
        out: list[tuple[int, bytes]] = []
        digests = list(set(hashes))
        for start in range(0, len(digests), 900):
            chunk = digests[start:start + 900]
            out += [(int(r[0]), r[1]) for r in self.conn.execute(
                f"SELECT id, text_hash FROM passages WHERE vector IS NULL AND text_hash IN ({','.join('?' * len(chunk))})",
                chunk)]
        return out

    def set_text_hashes(self, hashes: Iterable[tuple[int, bytes]]) -> None:
        """Record (passage id, text hash) pairs, for passages stored without one."""
        self.conn.executemany("UPDATE passages SET text_hash = ? WHERE id = ?", [(h, pid) for pid, h in hashes])

    def count_unembedded(self) -> int:
        """Passages waiting for a vector (a keyword-only passage waits for none)."""
        return int(self.conn.execute(
            "SELECT count(*) FROM passages WHERE vector IS NULL AND priority < ?", (NEVER,)).fetchone()[0])

    def count_keyword_only(self) -> int:
        """Passages kept for words only (`embed_order.KEYWORD_ONLY`): priority `NEVER`, no vector."""
        return int(self.conn.execute(
            "SELECT count(*) FROM passages WHERE vector IS NULL AND priority = ?", (NEVER,)).fetchone()[0])

    def passage_totals(self) -> tuple[int, int]:
        """(passages to embed in all, those still without a vector), from indexes: cheap enough to ask
        every second (`counts` scans the table for its vector count). Keyword-only passages are in neither."""
        total = int(self.conn.execute("SELECT count(*) FROM passages").fetchone()[0])
        return total - self.count_keyword_only(), self.count_unembedded()

    def set_vectors(self, ids: Sequence[int], vectors: np.ndarray) -> int:
        """Store int8 vectors; returns how many passages still existed to take them."""
        cursor = self.conn.executemany(
            "UPDATE passages SET vector = ? WHERE id = ?",
            [(vectors[i].tobytes(), int(pid)) for i, pid in enumerate(ids)])
        return cursor.rowcount

    def clear_vectors(self) -> None:
        self.conn.execute("UPDATE passages SET vector = NULL")

    def embedded_ids(self) -> np.ndarray:
        rows = self.conn.execute("SELECT id FROM passages WHERE vector IS NOT NULL").fetchall()
        return np.fromiter((r[0] for r in rows), dtype=np.uint64, count=len(rows))

    def iter_vectors(self, *, ids: Sequence[int] | None = None, batch: int = 10_000,
                     dims: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield (keys uint64, vectors int8[n, dims]) in batches: every stored vector, or those of ``ids``."""
        if ids is None:
            last = 0
            while True:
                rows = self.conn.execute(
                    "SELECT id, vector FROM passages WHERE vector IS NOT NULL AND id > ? ORDER BY id LIMIT ?",
                    (last, batch)).fetchall()
                if not rows:
                    return
                last = rows[-1][0]
                yield _unpack(rows, dims)
        else:
            for marks, chunk in _in_lists(ids):
                rows = self.conn.execute(
                    f"SELECT id, vector FROM passages WHERE vector IS NOT NULL AND id IN ({marks})", chunk
                ).fetchall()
                if rows:
                    yield _unpack(rows, dims)

    def passages_by_ids(self, ids: Sequence[int]) -> dict[int, tuple]:
        """id -> (document_id, ordinal, title, body, locator_json, char_start, char_end)."""
        out: dict[int, tuple] = {}
        for marks, chunk in _in_lists(ids):
            for r in self.conn.execute(
                f"SELECT id, document_id, ordinal, title, body, locator, char_start, char_end "
                f"FROM passages WHERE id IN ({marks})", chunk):
                out[int(r[0])] = tuple(r[1:])
        return out

    def document_passages(self, document_id: int, first: int, last: int) -> list[tuple[int, int, str, int, int]]:
        """(id, ordinal, body, char_start, char_end) of ordinals first..last."""
        return [tuple(r) for r in self.conn.execute(  # type: ignore[misc]
            "SELECT id, ordinal, body, char_start, char_end FROM passages WHERE document_id = ? "
            "AND ordinal BETWEEN ? AND ? ORDER BY ordinal", (document_id, first, last))]

    # -- counts ---------------------------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        c = self.conn
        return {
            "documents": c.execute("SELECT count(*) FROM documents WHERE status != 'failed'").fetchone()[0],
            "passages": c.execute("SELECT count(*) FROM passages").fetchone()[0],
            "embedded": c.execute("SELECT count(*) FROM passages WHERE vector IS NOT NULL").fetchone()[0],
            "keyword_only": self.count_keyword_only(),
        }

    def failures(self) -> list[tuple[str, str]]:
        return [(r[0], r[1] or "") for r in self.conn.execute(
            "SELECT path, error FROM documents WHERE status = 'failed' ORDER BY path")]

    def warnings(self) -> list[tuple[str, str]]:
        """Documents indexed only in part (text truncated, passages capped): path key and why."""
        return [(r[0], r[1]) for r in self.conn.execute(
            "SELECT path, error FROM documents WHERE status = 'ok' AND error IS NOT NULL ORDER BY path")]

    def left_out(self) -> list[tuple[str, str]]:
        """Documents read and kept out of the index on purpose (generated files): path key and why."""
        return [(r[0], r[1] or "") for r in self.conn.execute(
            "SELECT path, error FROM documents WHERE status = 'left_out' ORDER BY path")]

    # -- reads for search -----------------------------------------------------------------------
    @contextlib.contextmanager
    def snapshot(self) -> Iterator[Store]:
        """Every read inside sees the index as of one moment, whatever a writer commits meanwhile.

        A read transaction is SQLite's snapshot isolation in WAL mode: from its first read until it
        ends, the connection keeps reading the same version of the database while the writer goes on
        appending to the WAL. So a search's FTS ranking, candidate lookup and result details agree
        (a passage deleted between two autocommit reads once raised KeyError). Recoll's searcher does
        the same with Xapian: a query reads one revision of the database until it reopens it.
        Reentrant: an inner snapshot joins the outer one. Keep it short: a checkpoint cannot pass
        an open reader."""
        if self.conn.in_transaction:
            yield self
            return
        self.conn.execute("BEGIN")  # deferred: the snapshot is taken by the first read
        try:
            yield self
        except BaseException:
            if self.conn.in_transaction:
                with contextlib.suppress(sqlite3.Error, IndexError_):  # the first error is the one to tell
                    self.conn.execute("ROLLBACK")
            raise
        if self.conn.in_transaction:
            self.conn.execute("COMMIT")

    def last_passage_id(self) -> int:
        """The highest passage id so far: it changes whenever passages are added (ids never come back)."""
        return int(self.conn.execute("SELECT max(rowid) FROM passages").fetchone()[0] or 0)

    def passage_count(self) -> int:
        return int(self.conn.execute("SELECT count(*) FROM passages").fetchone()[0])

    def document_frequency(self, term: str) -> int:
        """How many passages the keyword index finds ``term`` in (as a phrase: no FTS5 syntax)."""
        phrase = '"' + term.replace('"', '""') + '"'
        return int(self.conn.execute("SELECT count(*) FROM passages_fts WHERE passages_fts MATCH ?",
                                     (phrase,)).fetchone()[0])

    def keyword_matches(self, match: str, *, limit: int, weights: Sequence[float],
                        within: DocumentFilter | None = None) -> list[KeywordMatch]:
        """The ``limit`` best passages for an FTS5 ``match`` expression by column-weighted BM25,
        best first, among the documents ``within`` lets through."""
        where, params = _filter_sql(within)
        join = " JOIN passages p ON p.id = f.rowid JOIN documents d ON d.id = p.document_id" if where else ""
        columns = ", ".join(str(float(w)) for w in weights)
        sql = (f"SELECT f.rowid, bm25(passages_fts, {columns}) AS s "
               f"FROM passages_fts f{join} WHERE passages_fts MATCH ?{where} ORDER BY s LIMIT ?")
        return [KeywordMatch(int(r[0]), float(r[1])) for r in self.conn.execute(sql, [match, *params, limit])]

    def passage_texts(self, ids: Sequence[int]) -> dict[int, PassageText]:
        out: dict[int, PassageText] = {}
        for marks, chunk in _in_lists(ids):
            for r in self.conn.execute(f"SELECT id, title, body, words FROM passages WHERE id IN ({marks})", chunk):
                out[int(r[0])] = PassageText(r[1], r[2], r[3])
        return out

    def name_matches(self, match: str, *, limit: int, within: DocumentFilter | None = None) -> list[int]:
        """Documents whose file name matches the FTS5 ``match`` expression, best first."""
        where, params = _filter_sql(within)
        join = " JOIN documents d ON d.id = n.rowid" if where else ""
        rows = self.conn.execute(f"SELECT n.rowid FROM documents_fts n{join} WHERE documents_fts MATCH ?{where} "
                                 "ORDER BY rank LIMIT ?", [match, *params, limit])
        return [int(r[0]) for r in rows]

    def passage_ids_of(self, document_ids: Sequence[int]) -> dict[int, list[int]]:
        """document id -> its passage ids in reading order (documents without passages are left out)."""
        out: dict[int, list[int]] = {}
        for marks, chunk in _in_lists(document_ids):
            for pid, doc in self.conn.execute(
                    f"SELECT id, document_id FROM passages WHERE document_id IN ({marks}) ORDER BY ordinal", chunk):
                out.setdefault(int(doc), []).append(int(pid))
        return out

    def candidates(self, ids: Sequence[int], *, within: DocumentFilter | None = None) -> dict[int, Candidate]:
        """passage id -> `Candidate`, for those of ``ids`` still indexed whose document ``within`` lets
        through. Light on purpose: only the passages shown need their text (`shown_passages`)."""
        where, params = _filter_sql(within)
        out: dict[int, Candidate] = {}
        for marks, chunk in _in_lists(ids):
            for r in self.conn.execute(
                    "SELECT p.id, p.document_id, d.content_hash FROM passages p JOIN documents d ON d.id = p.document_id "
                    f"WHERE p.id IN ({marks}){where}", [*chunk, *params]):
                out[int(r[0])] = Candidate(int(r[1]), r[2])
        return out

    def shown_passages(self, ids: Sequence[int]) -> dict[int, ShownPassage]:
        """passage id -> `ShownPassage`, for those of ``ids`` still indexed."""
        out: dict[int, ShownPassage] = {}
        for marks, chunk in _in_lists(ids):
            for r in self.conn.execute(
                    "SELECT p.id, p.document_id, p.ordinal, p.body, p.locator, d.path, d.title, d.kind, d.mtime_ns, "
                    "r.path FROM passages p JOIN documents d ON d.id = p.document_id "
                    f"LEFT JOIN roots r ON r.id = d.root_id WHERE p.id IN ({marks})", chunk):
                out[int(r[0])] = ShownPassage(int(r[1]), int(r[2]), r[3], json.loads(r[4]), r[5], r[6], r[7], int(r[8]),
                                              r[9])
        return out


    def document_shapes(self, document_ids: Sequence[int]) -> dict[int, DocumentShape]:
        """document id -> its `DocumentShape`, for those of ``document_ids`` still indexed."""
        out: dict[int, DocumentShape] = {}
        for marks, chunk in _in_lists(document_ids):
            for r in self.conn.execute(
                    f"SELECT id, size, passage_count, min_hashes FROM documents WHERE id IN ({marks})", chunk):
                out[int(r[0])] = DocumentShape(int(r[1] or 0), int(r[2] or 0), _unpack_min_hashes(r[3]))
        return out

    def document_openings(self, document_ids: Sequence[int], *, max_chars: int) -> dict[int, str]:
        """document id -> its passages' text in reading order, about the first ``max_chars`` characters
        (whole passages): what near-duplicate detection compares, bounded whatever the document's size."""
        return {int(doc): _opening_of(self.conn, int(doc), max_chars) for doc in document_ids}


class _Transaction:
    """A write transaction; the connection runs in autocommit outside one.

    The outermost block issues BEGIN IMMEDIATE itself: sqlite-utils' `Database.atomic` issues a plain
    (deferred) BEGIN, and a deferred transaction that reads first and writes later fails with
    SQLITE_BUSY, which busy_timeout cannot wait out, when a reader's snapshot is older than the
    last commit. IMMEDIATE takes the write lock up front, so it waits instead. A nested block is
    `atomic()`'s SAVEPOINT: it rolls back alone, as sqlite-utils and SQLite's savepoints do.
    A failed COMMIT (a full disk) rolls back too, so no transaction is left open behind an error
    (a later block would otherwise nest inside it unseen)."""

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db
        self.conn = db.conn
        self._savepoint: contextlib.AbstractContextManager | None = None

    def __enter__(self) -> sqlite3.Connection:
        if self.conn.in_transaction:
            self._savepoint = self.db.atomic()
            self._savepoint.__enter__()
        else:
            self.conn.execute("BEGIN IMMEDIATE")
        return self.conn

    def __exit__(self, exc_type, exc, tb) -> None:
        if self._savepoint is not None:
            self._savepoint.__exit__(exc_type, exc, tb)
        elif exc_type is None:
            try:
                self.conn.execute("COMMIT")
            except BaseException:
                self._roll_back()
                raise
        else:
            self._roll_back()

    def _roll_back(self) -> None:
        if self.conn.in_transaction:  # after SQLITE_FULL (and a few others) SQLite rolled back itself
            self.conn.execute("ROLLBACK")


_IDENTIFIER = re.compile(r"\b\w*(?:[a-z][A-Z]|[A-Z]{2}[a-z]|[A-Za-z]\d|\d[A-Za-z])\w*\b")
_PARTS = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")


def split_identifiers(text: str) -> str:
    """The parts of camelCase / PascalCase / letter-digit identifiers, for the keyword index:
    "parseConfig HTTPServer utf8" → "parse Config HTTP Server utf 8". Empty for ordinary prose."""
    parts: list[str] = []
    for match in _IDENTIFIER.finditer(text):
        pieces = _PARTS.findall(match.group())
        if len(pieces) > 1:
            parts.extend(pieces)
    return " ".join(parts)


def index_words(text: str) -> str:
    """The ``words`` column: what the keyword index holds beyond unicode61's own tokens of the text,
    split identifiers and the bigrams of CJK runs. Empty for ordinary English prose."""
    return " ".join(part for part in (split_identifiers(text), cjk_index_words(text)) if part)


def file_name(path: str) -> str:
    """The last component of a path (either separator), the text the name index holds."""
    return path.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]


def _filter_sql(within: DocumentFilter | None) -> tuple[str, list]:
    """`` AND ...`` on the documents table (aliased ``d``) for ``within``, and its parameters; empty
    when it lets every document through."""
    if within is None:
        return "", []
    clauses: list[str] = []
    params: list = []
    if within.folder is not None:  # "" too: the root of every path (a filter of "/")
        clauses.append("(d.path = ? OR substr(d.path, 1, ?) = ?)")
        params += [within.folder, len(within.folder) + 1, within.folder + "/"]
    if within.kinds:
        clauses.append(f"d.kind IN ({','.join('?' * len(within.kinds))})")
        params += list(within.kinds)
    if within.modified_after_ns is not None:
        clauses.append("d.mtime_ns >= ?")
        params.append(within.modified_after_ns)
    if within.modified_before_ns is not None:
        clauses.append("d.mtime_ns <= ?")
        params.append(within.modified_before_ns)
    return (" AND " + " AND ".join(clauses)) if clauses else "", params


def _unpack(rows: list, dims: int) -> tuple[np.ndarray, np.ndarray]:
    keys = np.fromiter((r[0] for r in rows), dtype=np.uint64, count=len(rows))
    vectors = np.frombuffer(b"".join(r[1] for r in rows), dtype=np.int8).reshape(len(rows), dims)
    return keys, vectors


def readable_roots(db: Path) -> tuple[str, ...]:
    """The roots a damaged index still yields (as stored), row by row so one bad page costs one root."""
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    except sqlite3.Error:
        return ()
    roots: list[str] = []
    try:
        ids = [row[0] for row in conn.execute("SELECT id FROM roots ORDER BY id")]
        for root_id in ids:
            with contextlib.suppress(sqlite3.Error):
                row = conn.execute("SELECT path FROM roots WHERE id = ?", (root_id,)).fetchone()
                if row and isinstance(row[0], str):
                    roots.append(row[0])
    except sqlite3.Error as exc:
        log.warning("could not read the roots of the damaged index %s: %s", db, exc)
    finally:
        conn.close()
    return tuple(roots)


def _in_lists(ids: Iterable[int], *, size: int = 900) -> Iterator[tuple[str, list[int]]]:
    """(``?,?,…`` placeholders, ids) in slices of ``size``: one ``IN (…)`` list per statement stays
    under SQLite's bound-parameter limit."""
    items = [int(i) for i in ids]
    for start in range(0, len(items), size):
        chunk = items[start:start + size]
        yield ",".join("?" * len(chunk)), chunk
