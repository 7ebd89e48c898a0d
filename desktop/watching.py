"""Keeps the index current while the app runs, with the engine's watcher (`Library.watcher`).

The watcher decides *when* (file events after a quiet period, plus a periodic rescan); the update
itself goes through the `IndexingController`, so it shows progress, can be paused or cancelled, and
never races the indexing the user started. The watcher therefore only reports that an update is due
(``on_change``), by a signal queued to the UI thread.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal, Slot

from .tasks import Tasks

if TYPE_CHECKING:
    from librarian.engine.library import Library
    from librarian.engine.watch import Watcher

log = logging.getLogger(__name__)


class LibraryWatcher(QObject):
    changed = Signal()  # files changed under a root: an update is due
    started = Signal()

    def __init__(self, library: Library, tasks: Tasks, *, quiet_seconds: float = 1.5,
                 rescan_seconds: float = 600.0, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.library = library
        self.tasks = tasks
        self.quiet_seconds = quiet_seconds
        self.rescan_seconds = rescan_seconds
        # Starting and stopping run on the pool (scheduling observers walks folders), so the state they
        # share is guarded here rather than trusted to the order signals arrive in.
        self._lock = threading.Lock()
        self._generation = 0
        self._watcher: Watcher | None = None

    @property
    def watching(self) -> bool:
        return self._watcher is not None

    def restart(self) -> None:
        """(Re)start watching the current roots, off the UI thread."""
        with self._lock:
            self._generation += 1
            generation = self._generation
        self.tasks.start(lambda: self._start(generation), done=self._on_started, failed=self._on_failed,
                         tag=generation)

    def _start(self, generation: int) -> bool:
        with self._lock:
            if generation != self._generation:
                return False  # superseded or stopped before we got here
            old, self._watcher = self._watcher, None
            if old is not None:
                old.stop()
            if not self.library.roots():
                return False
            # `emit` from the watcher's thread is queued to the UI thread.
            watcher = self.library.watcher(quiet_seconds=self.quiet_seconds, rescan_seconds=self.rescan_seconds,
                                           on_change=self.changed.emit)
            watcher.start()
            self._watcher = watcher
            return True

    @Slot(int, object)
    def _on_started(self, _generation: int, started: object) -> None:
        if started:
            self.started.emit()

    @Slot(int, object)
    def _on_failed(self, _generation: int, error: object) -> None:
        log.warning("cannot watch the library folders for changes: %s", error)

    def stop(self) -> None:
        with self._lock:
            self._generation += 1
            watcher, self._watcher = self._watcher, None
        if watcher is not None:
            watcher.stop()
