"""Open a user's file for reading without ever blocking on something that is not a file.

The crawl skips FIFOs, sockets and devices, but the tree can change between the crawl and the read:
a file swapped for a FIFO after it was listed would make a plain ``open()`` wait forever for a
writer (while the indexer holds the writer lock). So every open of a user file goes through
`open_user_file`, which checks the kind of what it actually opened, not of what the crawl saw:

- ``O_NONBLOCK`` makes the open itself return at once, even for a FIFO with no writer;
- ``O_NOCTTY`` keeps a terminal device from becoming our controlling terminal;
- ``fstat`` on the open descriptor (not ``stat`` on the path: no race) refuses anything that is
  not a regular file; for a regular file ``O_NONBLOCK`` has no effect on reads.

This is what careful readers of untrusted trees do (GNU tar and rsync open with ``O_NONBLOCK`` and
check ``fstat`` before reading).
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import BinaryIO

_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0)


class NotARegularFileError(OSError):
    """The path names a FIFO, socket, device or folder, not a file whose bytes can be read."""


def _kind_name(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISDIR(mode):
        return "a folder"
    return "not a regular file"


def open_user_file(path: Path | str) -> BinaryIO:
    """Open ``path`` for binary reading; raise `NotARegularFileError` (an OSError) if it is not a
    regular file, so callers that already handle OSError ("unreadable") need nothing new.

    Never blocks on a FIFO or a device. The returned file is buffered and must be closed
    (use it in a ``with`` block).
    """
    fd = os.open(path, _OPEN_FLAGS)
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise NotARegularFileError(errno.EINVAL, f"{_kind_name(mode)}, not a file", os.fspath(path))
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
