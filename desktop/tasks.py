"""Short one-off jobs on a thread pool, results back by signal.

A `QRunnable` is not a `QObject`, so each task carries a small emitter. Connect the emitter only to
bound slots of objects living in the UI thread (never a lambda): the queued connection then runs
the slot in the UI thread, whatever thread the task ran in.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

log = logging.getLogger(__name__)


class TaskSignals(QObject):
    done = Signal(int, object)  # (tag, result)
    failed = Signal(int, object)  # (tag, exception)


class Task(QRunnable):
    """Runs ``fn()`` in a pool thread and emits ``done(tag, result)`` or ``failed(tag, error)``."""

    def __init__(self, fn: Callable[[], Any], tag: int = 0) -> None:
        super().__init__()
        self.setAutoDelete(False)  # `Tasks` owns it until its result has been delivered
        self.fn = fn
        self.tag = tag
        self.signals = TaskSignals()

    def run(self) -> None:
        try:
            result = self.fn()
        except Exception as exc:  # handed to the UI thread, which decides how to show it
            log.debug("background task failed", exc_info=True)
            self.signals.failed.emit(self.tag, exc)
        else:
            self.signals.done.emit(self.tag, result)


class Tasks(QObject):
    """Starts tasks on a pool and keeps each one alive until its signal has reached the UI thread."""

    def __init__(self, pool: QThreadPool, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.pool = pool
        self._running: dict[int, Task] = {}

    def start(self, fn: Callable[[], Any], *, done: Callable[[int, object], None],
              failed: Callable[[int, object], None] | None = None, tag: int = 0) -> Task:
        """``done``/``failed`` must be bound slots of objects that live in the UI thread."""
        task = Task(fn, tag)
        task.signals.done.connect(done)
        if failed is not None:
            task.signals.failed.connect(failed)
        else:
            task.signals.failed.connect(self._log_failure)
        task.signals.done.connect(self._release)
        task.signals.failed.connect(self._release)
        self._running[id(task.signals)] = task
        self.pool.start(task)
        return task

    @Slot(int, object)
    def _release(self, _tag: int, _result: object) -> None:
        self._running.pop(id(self.sender()), None)

    @Slot(int, object)
    def _log_failure(self, _tag: int, error: object) -> None:
        log.error("background task failed: %s", error,
                  exc_info=error if isinstance(error, BaseException) else None)

    @property
    def pending(self) -> int:
        return len(self._running)

    def wait(self, msecs: int = 30000) -> bool:
        return self.pool.waitForDone(msecs)
