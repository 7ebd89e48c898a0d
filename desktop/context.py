"""What the window needs from the outside world, built once in `app.main()` (or by a test) and passed
down: no module-level state anywhere in the app."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QThreadPool

from .actions import Actions
from .opener import Opened
from .search_worker import DEBOUNCE_MS
from .settings import Settings


def _pool() -> QThreadPool:
    pool = QThreadPool()
    pool.setMaxThreadCount(2)  # a search and a preview/status read at once; the writer has its own thread
    return pool


@dataclass
class AppContext:
    settings: Settings
    open_library: Callable[[], Opened]
    actions: Actions = field(default_factory=Actions)
    pool: QThreadPool = field(default_factory=_pool)
    demo_path: Path | None = None
    watch: bool = True  # follow file changes while the app runs
    watch_quiet_seconds: float = 1.5  # wait this long after the last file event before updating
    update_on_open: bool = True  # catch up with changes made while the app was closed
    log_path: str = ""
    search_delay_ms: int = DEBOUNCE_MS
