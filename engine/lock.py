"""One writer per data dir: an advisory lock on a file, released by the OS if the process dies.

The lock file holds the writer's pid and is readable by its owner only (0600), like every file in
the data dir. `is_held` lets a reader (`Library.check`) ask whether an index run is going on
without blocking one.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import IO

from .errors import IndexError_, IndexLockedError


class WriterLock:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._fh: IO[bytes] | None = None
        self._depth = 0

    def acquire(self, *, wait: bool = False) -> None:
        if self._depth:
            self._depth += 1
            return
        fh = self._open()
        try:
            _lock(fh, wait=wait)
        except OSError as exc:
            fh.close()
            raise IndexLockedError(f"another Librarian process is updating {self.path.parent}; "
                                   "wait for it to finish or stop it") from exc
        fh.seek(0)
        fh.truncate()
        fh.write(str(os.getpid()).encode())
        fh.flush()
        self._fh = fh
        self._depth = 1

    def is_held(self) -> bool:
        """True when another process (or another `WriterLock` of this one) holds the lock now. It
        takes the lock and at once drops it, so a writer starting meanwhile waits an instant at most
        (`acquire` does not wait: in that instant it would report "locked")."""
        if self._depth:
            return False  # held by us
        if not self.path.exists():
            return False
        with self._open() as fh:
            try:
                _lock(fh, wait=False)
            except OSError:
                return True
            _unlock(fh)
        return False

    def _open(self) -> IO[bytes]:
        """The lock file, created 0600 (it is ours) and made 0600 if an older version left it 0644."""
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise IndexError_(f"cannot open the lock file {self.path}: {exc.strerror or exc}") from exc
        if os.name != "nt":
            with contextlib.suppress(OSError):  # another user's file: the lock still works
                os.fchmod(fd, 0o600)
        return os.fdopen(fd, "r+b")

    def release(self) -> None:
        if not self._depth:
            return
        self._depth -= 1
        if self._depth == 0 and self._fh is not None:
            _unlock(self._fh)
            self._fh.close()
            self._fh = None

    def __enter__(self) -> WriterLock:
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()


if os.name == "nt":  # pragma: no cover - exercised on Windows only
    import msvcrt  # type: ignore[import-not-found,unused-ignore]

    def _lock(fh, *, wait: bool) -> None:
        fh.seek(0)
        msvcrt.locking(fh.fileno(), msvcrt.LK_LOCK if wait else msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined,unused-ignore]

    def _unlock(fh) -> None:
        fh.seek(0)
        msvcrt.locking(fh.fileno(), msvcrt.LK_UNLCK, 1)  # type: ignore[attr-defined,unused-ignore]
else:
    import fcntl

    def _lock(fh, *, wait: bool) -> None:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))

    def _unlock(fh) -> None:
        fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
