"""Every error Librarian raises on purpose derives from `LibrarianError`.

    LibrarianError
    ├── ExtractionError        a file could not be turned into text (corrupt, too big, timed out, ...)
    ├── ModelError             the model folder is missing, damaged, or does not match the index
    ├── IndexError_            the on-disk index is unusable or locked by another writer
    │   ├── IndexLockedError   another process is writing to this data dir (exit status 75: try again)
    │   ├── IndexDamagedError  the SQLite file is corrupt: rebuild it (`librarian check --repair`)
    │   └── DiskFullError      a write failed for lack of space; nothing committed was lost
    ├── DataDirError           the data dir cannot be used (a foreign non-empty folder, no access)
    ├── QueryError             the query cannot be run (empty, bad filter)
    └── CollectionError        an evaluation collection is malformed

Third-party errors are translated at the boundary with ``raise X(...) from exc``; the CLI prints
``str(error)`` as one line and exits non-zero. Messages name the file and, where there is one, the fix.
"""


class LibrarianError(Exception):
    """Root of every error Librarian raises deliberately. ``exit_status`` is what the CLI exits with."""

    exit_status = 1


class ExtractionError(LibrarianError):
    """A file could not be turned into text. ``reason`` is short and shown to the user."""

    def __init__(self, reason: str, *, path: str | None = None) -> None:
        super().__init__(f"{path}: {reason}" if path else reason)
        self.reason = reason
        self.path = path


class ModelError(LibrarianError):
    """The model folder is missing, damaged, or does not match the index."""


class IndexError_(LibrarianError):  # noqa: N801 - trailing underscore avoids shadowing the builtin
    """The on-disk index is unusable."""


class IndexLockedError(IndexError_):
    """Another process holds the writer lock on this data dir.

    Exits 75 (EX_TEMPFAIL in BSD sysexits.h: "try again later"), so a script can tell "busy" from
    "broken" without parsing the message."""

    exit_status = 75


class IndexDamagedError(IndexError_):
    """The SQLite index file is corrupt ("database disk image is malformed", "not a database")."""

    def __init__(self, data_dir: object, detail: str) -> None:
        super().__init__(
            f"the index in {data_dir} is damaged ({detail}). Your own files are untouched; only the "
            "index must be rebuilt: run `librarian check --repair` (it keeps the damaged file aside and "
            "starts a fresh index of the same folders), then `librarian index`")
        self.data_dir = data_dir
        self.detail = detail

    def __reduce__(self):  # picklable across processes despite the two-argument constructor
        return type(self), (self.data_dir, self.detail)


class DiskFullError(IndexError_):
    """A write failed because the disk is full. SQLite rolled back and the vector file was replaced
    atomically or not at all, so what was committed before is intact."""

    def __init__(self, directory: object) -> None:
        super().__init__(f"the disk is full in {directory}; nothing was lost (the index is as it was "
                         "before this step). Free some space and run the command again")
        self.directory = directory

    def __reduce__(self):
        return type(self), (self.directory,)


class DataDirError(LibrarianError):
    """The data dir cannot be used: a non-empty folder that is not Librarian's, or no access."""


class QueryError(LibrarianError):
    """The query cannot be run."""


class CollectionError(LibrarianError):
    """An evaluation collection is malformed."""
