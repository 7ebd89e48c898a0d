"""The data dir: where the index lives, whether a folder may serve as one, and setting a damaged
index aside for a fresh one.

Librarian writes only these names in it: `DB_NAME` (with SQLite's -wal/-shm), `VECTORS_NAME`
(with its .json sidecar and .tmp), `LOCK_NAME`, and ``index.sqlite3.damaged-<time>`` copies kept
after a rebuild. `Library` opens through `prepare_data_dir` and `create_index`; the CLI uses
`resolve_data_dir` and `set_aside_damaged_index`.
"""

from __future__ import annotations

import logging
import os
import stat
import time
from pathlib import Path

import platformdirs

from .errors import DataDirError
from .lock import WriterLock
from .store import Store, readable_roots
from .vectors import VectorCache

log = logging.getLogger(__name__)

DB_NAME = "index.sqlite3"
VECTORS_NAME = "vectors.usearch"


def default_data_dir() -> Path:
    override = os.environ.get("LIBRARIAN_DATA_DIR")
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_data_dir("librarian", appauthor=False))


def resolve_data_dir(data_dir: Path | str | None = None) -> Path:
    """``data_dir`` as a path, or the default (the platform's user data dir, or $LIBRARIAN_DATA_DIR)."""
    return Path(data_dir).expanduser() if data_dir else default_data_dir()


# What Librarian writes in its data dir: these files and ones named after them (-wal, .json, .tmp,
# .damaged-...). A folder holding only such files (or nothing) is ours to use.
_OWN_PREFIXES = (DB_NAME, VECTORS_NAME)
LOCK_NAME = "lock"


def prepare_data_dir(path: Path) -> None:
    """Create the data dir 0700, or check that an existing folder may serve as one.

    The index holds the text of private documents, so its folder is the owner's only. But we only
    change the mode of a folder that is ours: one we create, one that already holds our files, or an
    empty one the user hands us (it becomes the data dir, as `git init` adopts an empty folder). A
    folder with other files in it (``--data-dir /tmp``, ``--data-dir ~``) is refused: chmod'ing it
    would break whatever else uses it. A world-writable sticky folder (/tmp-like) is shared even
    when empty, and refused too."""
    try:
        if not path.exists():
            path.mkdir(parents=True, mode=0o700)
            os.chmod(path, 0o700)  # mkdir's mode passes through the umask
            return
        if not path.is_dir():
            raise DataDirError(f"the data dir {path} is not a folder; choose a folder for the index")
        info = path.stat()
        entries = os.listdir(path)
        if entries and not _holds_librarian_files(entries) and path != _platform_data_dir():
            raise DataDirError(f"{path} already holds other files and is not a Librarian data dir; choose a new "
                               "or empty folder for the index (Librarian makes it private to you)")
        if not entries and info.st_mode & stat.S_ISVTX:
            raise DataDirError(f"{path} is a shared folder (like /tmp); choose a new or empty folder of your own")
        owner = getattr(os, "getuid", lambda: info.st_uid)()
        if info.st_uid == owner and stat.S_IMODE(info.st_mode) != 0o700:
            os.chmod(path, 0o700)
    except OSError as exc:
        raise DataDirError(f"cannot use the data dir {path}: {exc.strerror or exc}") from exc


def _platform_data_dir() -> Path:
    """The folder named after us in the platform's data dir: ours whatever it holds (on Windows the
    app's Logs folder lives inside it)."""
    return Path(platformdirs.user_data_dir("librarian", appauthor=False))


def _holds_librarian_files(names: list[str]) -> bool:
    """The folder holds our index, or only names Librarian writes (an interrupted first run)."""
    return DB_NAME in names or all(name == LOCK_NAME or name.startswith(_OWN_PREFIXES) for name in names)


def create_index(db: Path) -> None:
    """Create the SQLite file 0600 before SQLite touches it (SQLite gives its -wal and -shm files the
    same mode), then the schema."""
    if not db.exists():
        try:
            os.close(os.open(db, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except FileExistsError:
            pass
        except OSError as exc:
            raise DataDirError(f"cannot create the index in {db.parent}: {exc.strerror or exc}") from exc
    Store(db).close()


def set_aside_damaged_index(data_dir: Path | str | None = None) -> tuple[Path, tuple[str, ...]]:
    """Rebuild a damaged index: keep the damaged file aside, start a fresh one with the same roots.

    Returns (where the damaged file now is, the roots carried over). As git and SQLite's own advice
    have it, the evidence is never deleted: the damaged file and its WAL move to
    ``index.sqlite3.damaged-<timestamp>[-wal]``, where `sqlite3 .recover` can still be tried. Only
    the vector cache, derived from it, is dropped. The user's files are never touched; the roots that can
    still be read come over to the fresh index, which `librarian index` then fills again."""
    path = resolve_data_dir(data_dir)
    db = path / DB_NAME
    lock = WriterLock(path / LOCK_NAME)
    lock.acquire()
    try:
        VectorCache(path / VECTORS_NAME, 1).discard_files()  # derived from the damaged file; first, as it may refuse
        roots = readable_roots(db)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        kept, serial = path / f"{DB_NAME}.damaged-{stamp}", 1
        while kept.exists():  # two rebuilds within a second
            serial += 1
            kept = path / f"{DB_NAME}.damaged-{stamp}-{serial}"
        try:
            if db.exists():
                os.replace(db, kept)
            for suffix in ("-wal", "-shm"):
                companion = db.with_name(db.name + suffix)
                if companion.exists():
                    os.replace(companion, kept.with_name(kept.name + suffix))
        except OSError as exc:
            raise DataDirError(f"cannot move the damaged index aside in {path}: {exc.strerror or exc}") from exc
        create_index(db)
        store = Store(db)
        try:
            with store.transaction():
                for root in roots:
                    store.add_root(root)
        finally:
            store.close()
        log.info("damaged index kept as %s; fresh index started with %d roots", kept, len(roots))
        return kept, roots
    finally:
        lock.release()
