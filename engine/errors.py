"""Every error Librarian raises on purpose derives from `LibrarianError`.

    LibrarianError
    ├── ExtractionError        a file could not be turned into text (corrupt, too big, timed out, ...)
    ├── ModelError             the model folder is missing, damaged, or does not match the index
    ├── IndexError_            the on-disk index is unusable or locked by another writer
    │   └── IndexLockedError   another process is writing to this data dir
    ├── QueryError             the query cannot be run (empty, bad filter)
    └── CollectionError        an evaluation collection is malformed

Third-party errors are translated at the boundary with ``raise X(...) from exc``; the CLI prints
``str(error)`` as one line and exits non-zero. Messages name the file and, where there is one, the fix.
"""


class LibrarianError(Exception):
    """Root of every error Librarian raises deliberately."""


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
    """Another process holds the writer lock on this data dir."""


class QueryError(LibrarianError):
    """The query cannot be run."""


class CollectionError(LibrarianError):
    """An evaluation collection is malformed."""
