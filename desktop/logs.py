"""Logging to a rotating file in the platform's log dir (set up once, in `app.main`)."""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

import platformdirs

LOG_NAME = "librarian.log"


def default_log_dir() -> Path:
    return Path(platformdirs.user_log_dir("librarian", appauthor=False))


def setup_logging(log_dir: Path, *, verbose: bool = False) -> tuple[Path, logging.Handler]:
    """Attach a rotating file handler to the root logger; returns the file and the handler (so the
    caller can remove it again)."""
    log_dir.mkdir(parents=True, exist_ok=True)
    path = log_dir / LOG_NAME
    # backslashreplace: a message quoting a file name that is not UTF-8 is written, not lost.
    handler = logging.handlers.RotatingFileHandler(path, maxBytes=1_000_000, backupCount=3, encoding="utf-8",
                                                   errors="backslashreplace")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    return path, handler
