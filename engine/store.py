"""The SQLite schema and every query against it. SQLite is the source of truth: documents, passages,
the FTS5 keyword index and each passage's int8 vector live here; the USearch file is a cache.

One writer connection (owned by whoever holds the data dir's lock) and any number of readers, each
thread with its own connection. WAL mode keeps readers from blocking the writer.

Passage ids come from AUTOINCREMENT so an id is never reused: a stale key left in the vector cache
after a crash can then never point at someone else's passage.
"""

from __future__ import annotations

import functools
import json
import re
import sqlite3
import time
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import sqlite_utils

from .errors import DiskFullError, IndexDamagedError, IndexError_
from .query import cjk_index_words

SCHEMA_VERSION = 4

# unicode61 with remove_diacritics folds accents so "café" finds "cafe"; porter stems English.
# Underscores and dots are separators, so `snake_case` indexes as "snake" "case" and a quoted
# query "snake_case" becomes the phrase "snake case". unicode61 keeps a run of Chinese or Japanese
# as one token; the `words` column adds its character bigrams (see `index_words` and engine/query.py).
FTS_TOKENIZE = "porter unicode61 remove_diacritics 2"

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS roots (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    added REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS documents (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    path TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL DEFAULT '',          -- the file name, searchable on its own (documents_fts)
    root_id INTEGER REFERENCES roots(id) ON DELETE CASCADE,
    size INTEGER NOT NULL DEFAULT 0,
    mtime_ns INTEGER NOT NULL DEFAULT 0,
    content_hash TEXT,
    kind TEXT,
    title TEXT,
    status TEXT NOT NULL DEFAULT 'ok',      -- 'ok' | 'failed'
    error TEXT,
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
    words TEXT NOT NULL DEFAULT '',         -- index_words(): parseConfig → parse Config, 汽车和 → 汽车 车和 汽 车 和
    vector BLOB                             -- int8[dims]; NULL until the encoder has caught up
);
CREATE INDEX IF NOT EXISTS passages_document ON passages(document_id, ordinal);
CREATE INDEX IF NOT EXISTS passages_unembedded ON passages(id) WHERE vector IS NULL;
CREATE VIRTUAL TABLE IF NOT EXISTS passages_fts USING fts5(
    title, body, words, content='passages', content_rowid='id', tokenize='{FTS_TOKENIZE}'
);
-- File names: a person who types a file name expects that file first, whatever its text says.
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
CREATE TRIGGER IF NOT EXISTS passages_ai AFTER INSERT ON passages BEGIN
    INSERT INTO passages_fts(rowid, title, body, words) VALUES (new.id, new.title, new.body, new.words);
END;
CREATE TRIGGER IF NOT EXISTS passages_ad AFTER DELETE ON passages BEGIN
    INSERT INTO passages_fts(passages_fts, rowid, title, body, words)
        VALUES ('delete', old.id, old.title, old.body, old.words);
END;
CREATE TRIGGER IF NOT EXISTS passages_au AFTER UPDATE OF title, body, words ON passages BEGIN
    INSERT INTO passages_fts(passages_fts, rowid, title, body, words)
        VALUES ('delete', old.id, old.title, old.body, old.words);
    INSERT INTO passages_fts(rowid, title, body, words) VALUES (new.id, new.title, new.body, new.words);
END;
"""


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
    status: str
    error: str | None
    passage_count: int


@dataclass(frozen=True, slots=True)
class NewPassage:
    ordinal: int
    title: str
    body: str
    char_start: int
    char_end: int
    locator: dict


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
            if not read_only:
                self.conn.execute("PRAGMA journal_mode=WAL")
                self.conn.execute("PRAGMA synchronous=NORMAL")
                self._create()
            self.db = sqlite_utils.Database(self.conn)
        except BaseException as exc:
            self.conn.close()  # a damaged file is moved aside next: no handle may stay open on it
            if isinstance(exc, sqlite3.DatabaseError):
                raise _unreadable(exc, Path(db_path)) from exc
            raise

    def _create(self) -> None:
        compile_options = {row[0] for row in self.conn.execute("PRAGMA compile_options")}
        if "ENABLE_FTS5" not in compile_options:
            raise IndexError_("this SQLite build lacks FTS5; Librarian needs it for keyword search")
        old = self._table_exists("meta") and self.get_meta("schema_version")
        migrate_names = old == "1"  # schema 1 → 2: file names got their own index
        if migrate_names and not self._has_column("documents", "name"):
            self.conn.execute("ALTER TABLE documents ADD COLUMN name TEXT NOT NULL DEFAULT ''")
        # schema 2 → 3: split identifiers in the keyword index; 3 → 4: CJK bigrams beside them
        migrate_words = old in ("1", "2", "3")
        if migrate_words:
            self.conn.executescript(
                "DROP TRIGGER IF EXISTS passages_ai; DROP TRIGGER IF EXISTS passages_ad; "
                "DROP TRIGGER IF EXISTS passages_au; DROP TABLE IF EXISTS passages_fts;")
            if not self._has_column("passages", "words"):
                self.conn.execute("ALTER TABLE passages ADD COLUMN words TEXT NOT NULL DEFAULT ''")
            # Filled while no trigger watches the table: an FTS5 'delete' of rows it never held corrupts it.
            with self.transaction():
                rows = self.conn.execute("SELECT id, title, body FROM passages").fetchall()
                self.conn.executemany("UPDATE passages SET words = ? WHERE id = ?",
                                      [(index_words(f"{t} {b}"), pid) for pid, t, b in rows])
        self.conn.executescript(SCHEMA)
        if migrate_names:
            with self.transaction():
                rows = self.conn.execute("SELECT id, path FROM documents").fetchall()
                self.conn.executemany("UPDATE documents SET name = ? WHERE id = ?",
                                      [(file_name(path), doc_id) for doc_id, path in rows])
                self.conn.execute("DELETE FROM documents_fts")
                self.conn.execute("INSERT INTO documents_fts(rowid, name) SELECT id, name FROM documents")
        if migrate_words:
            with self.transaction():
                self.conn.execute("INSERT INTO passages_fts(passages_fts) VALUES ('rebuild')")
                self.set_meta("schema_version", str(SCHEMA_VERSION))
        version = self.get_meta("schema_version")
        if version is None:
            self.set_meta("schema_version", str(SCHEMA_VERSION))
        elif int(version) != SCHEMA_VERSION:
            raise IndexError_(f"the index in {self.path.parent} has schema {version}, this Librarian "
                              f"reads {SCHEMA_VERSION}; delete the folder to re-index")

    def _table_exists(self, name: str) -> bool:
        return self.conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)).fetchone() is not None

    def _has_column(self, table: str, column: str) -> bool:
        return any(row[1] == column for row in self.conn.execute(f"PRAGMA table_info({table})"))

    def close(self) -> None:
        try:
            if not self.read_only:
                self.conn.execute("PRAGMA optimize")
        except (sqlite3.Error, IndexError_):  # a damaged or full file: closing must still work
            pass
        self.conn.close()

    # -- transactions ---------------------------------------------------------------------------
    def transaction(self) -> _Transaction:
        return _Transaction(self.conn)

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
                   indexed_at=excluded.indexed_at""",
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
        for chunk in _chunks(list(document_ids), 500):
            marks = ",".join("?" * len(chunk))
            removed += [r[0] for r in self.conn.execute(
                f"SELECT id FROM passages WHERE document_id IN ({marks}) AND vector IS NOT NULL", chunk)]
            self.conn.execute(f"DELETE FROM passages WHERE document_id IN ({marks})", chunk)
            self.conn.execute(f"DELETE FROM documents WHERE id IN ({marks})", chunk)
        return removed

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
        rows = [(document_id, p.ordinal, p.title, p.body, p.char_start, p.char_end,
                 json.dumps(p.locator, ensure_ascii=False), index_words(f"{p.title} {p.body}")) for p in passages]
        self.conn.executemany(
            "INSERT INTO passages(document_id, ordinal, title, body, char_start, char_end, locator, words) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
        self.conn.execute("UPDATE documents SET passage_count = ? WHERE id = ?", (len(rows), document_id))
        return len(rows)

    def copy_passages(self, *, from_document: int, to_document: int) -> int:
        """Copy another document's passages, vectors included, so identical content is never re-encoded."""
        cursor = self.conn.execute(
            "INSERT INTO passages(document_id, ordinal, title, body, char_start, char_end, locator, words, vector) "
            "SELECT ?, ordinal, title, body, char_start, char_end, locator, words, vector FROM passages "
            "WHERE document_id = ? ORDER BY ordinal", (to_document, from_document))
        count = cursor.rowcount
        self.conn.execute("UPDATE documents SET passage_count = ? WHERE id = ?", (count, to_document))
        text = self.content(from_document)
        if text is not None:
            self.set_content(to_document, text)
        return count

    def unembedded(self, limit: int, *, after_id: int = 0) -> list[tuple[int, str, str]]:
        return [(int(r[0]), r[1], r[2]) for r in self.conn.execute(
            "SELECT id, title, body FROM passages WHERE vector IS NULL AND id > ? ORDER BY id LIMIT ?",
            (after_id, limit))]

    def count_unembedded(self) -> int:
        return int(self.conn.execute("SELECT count(*) FROM passages WHERE vector IS NULL").fetchone()[0])

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
            for chunk in _chunks([int(i) for i in ids], 900):
                marks = ",".join("?" * len(chunk))
                rows = self.conn.execute(
                    f"SELECT id, vector FROM passages WHERE vector IS NOT NULL AND id IN ({marks})", chunk
                ).fetchall()
                if rows:
                    yield _unpack(rows, dims)

    def passages_by_ids(self, ids: Sequence[int]) -> dict[int, tuple]:
        """id -> (document_id, ordinal, title, body, locator_json, char_start, char_end)."""
        out: dict[int, tuple] = {}
        for chunk in _chunks([int(i) for i in ids], 900):
            marks = ",".join("?" * len(chunk))
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
            "documents": c.execute("SELECT count(*) FROM documents WHERE status = 'ok'").fetchone()[0],
            "passages": c.execute("SELECT count(*) FROM passages").fetchone()[0],
            "embedded": c.execute("SELECT count(*) FROM passages WHERE vector IS NOT NULL").fetchone()[0],
        }

    def failures(self) -> list[tuple[str, str]]:
        return [(r[0], r[1] or "") for r in self.conn.execute(
            "SELECT path, error FROM documents WHERE status = 'failed' ORDER BY path")]

    def warnings(self) -> list[tuple[str, str]]:
        """Documents indexed only in part (text truncated, passages capped): path key and why."""
        return [(r[0], r[1]) for r in self.conn.execute(
            "SELECT path, error FROM documents WHERE status = 'ok' AND error IS NOT NULL ORDER BY path")]


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT, rolled back on error; the connection runs in autocommit otherwise."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> sqlite3.Connection:
        self.conn.execute("BEGIN IMMEDIATE")
        return self.conn

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.conn.execute("COMMIT")
        elif self.conn.in_transaction:  # after SQLITE_FULL (and a few others) SQLite rolled back itself
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


def _unpack(rows: list, dims: int) -> tuple[np.ndarray, np.ndarray]:
    keys = np.fromiter((r[0] for r in rows), dtype=np.uint64, count=len(rows))
    vectors = np.frombuffer(b"".join(r[1] for r in rows), dtype=np.int8).reshape(len(rows), dims)
    return keys, vectors


def _chunks(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]
