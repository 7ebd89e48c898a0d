"""One writer per data dir: an advisory lock on a file, released by the OS if the process dies."""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO

from .errors import IndexLockedError


class WriterLock:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._fh: IO[bytes] | None = None
        self._depth = 0

    def acquire(self, *, wait: bool = False) -> None:
        if self._depth:
            self._depth += 1
            return
        fh = open(self.path, "a+b")  # noqa: SIM115 - held open while the lock is held
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
