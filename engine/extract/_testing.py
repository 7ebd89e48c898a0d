"""Test-only extractors that misbehave on purpose, to exercise the isolation layer.

They are registered only when the environment variable ``LIBRARIAN_TEST_HANG=1`` is set in the
process that extracts (the worker inherits it from its parent at start), so a shipped app never
sees them:

- ``.hang``  sleeps for an hour, like a PDF parser stuck in a loop;
- ``.oom``   allocates far more memory than any limit allows;
- ``.crash`` kills its own process with SIGSEGV (or aborts where there are no signals);
- ``.boom``  raises an ordinary exception, like a bug in a parser.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from .base import Extracted

ENV = "LIBRARIAN_TEST_HANG"
SUFFIXES = {".hang": "test-hang", ".oom": "test-oom", ".crash": "test-crash", ".boom": "test-boom"}


def enabled() -> bool:
    return os.environ.get(ENV) == "1"


def extract_hang(path: Path) -> Extracted:
    time.sleep(3600)
    raise AssertionError("unreachable: the worker is killed long before")


def extract_oom(path: Path) -> Extracted:
    try:
        import resource

        limited = resource.getrlimit(resource.RLIMIT_AS)[0] != resource.RLIM_INFINITY
    except (ImportError, ValueError, OSError):
        limited = False
    if not limited:  # without a cap this would really eat the machine: pretend instead
        raise MemoryError("simulated: no address-space limit in this process")
    hog = [bytearray(256 * 1024 * 1024) for _ in range(64)]  # 16 GB: over any sane limit
    raise AssertionError(f"allocated {len(hog)} blocks without hitting the memory limit")


def extract_crash(path: Path) -> Extracted:
    if hasattr(signal, "SIGSEGV") and os.name == "posix":
        os.kill(os.getpid(), signal.SIGSEGV)
    os.abort()


def extract_boom(path: Path) -> Extracted:
    raise ZeroDivisionError("kaboom")
