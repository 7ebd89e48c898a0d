"""Everything that writes to the index runs on one worker thread, one job at a time.

`IndexWorker` is a `QObject` moved to a `QThread`; it owns the calls to `Library.update`, `add_folder`,
`forget` and `reembed`. `IndexingController` lives in the UI thread: it keeps the job queue (so
repeated update requests collapse into one), hands the worker one job at a time, forwards progress,
and pauses, resumes or cancels the running update through its `IndexControl`.

Adding or removing a folder while an update runs cancels that update (the engine commits as it goes,
so nothing is lost), runs the change, then updates again. Closing cancels and waits.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from librarian.engine.results import IndexControl, Progress
from PySide6.QtCore import QObject, QThread, Signal, Slot

if TYPE_CHECKING:
    from librarian.engine.library import Library

log = logging.getLogger(__name__)

JobKind = Literal["update", "add", "forget", "reembed"]


@dataclass(eq=False)
class Job:
    kind: JobKind
    path: str = ""
    control: IndexControl = field(default_factory=IndexControl)


class IndexWorker(QObject):
    progress = Signal(object)  # Progress, from the engine's threads
    done = Signal(object, object)  # (Job, result)
    failed = Signal(object, object)  # (Job, exception)

    def __init__(self, library: Library) -> None:
        super().__init__()
        self.library = library

    @Slot(object)
    def run(self, job: Job) -> None:
        try:
            if job.kind == "update":
                result = self.library.update(progress=self._progress, control=job.control)
            elif job.kind == "add":
                result = self.library.add_folder(job.path)
            elif job.kind == "forget":
                result = self.library.forget(job.path)
            elif job.kind == "reembed":
                result = self.library.reembed()
            else:
                raise ValueError(f"unknown job {job.kind!r}")
        except Exception as exc:
            log.warning("%s %s failed: %s", job.kind, job.path, exc, exc_info=True)
            self.failed.emit(job, exc)
        else:
            self.done.emit(job, result)

    def _progress(self, progress: Progress) -> None:
        # Called on the engine's producer and embedder threads; emitting is thread-safe and the
        # queued connection delivers it in the UI thread.
        self.progress.emit(progress)


class IndexingController(QObject):
    progress = Signal(object)  # Progress
    running_changed = Signal(bool)
    paused_changed = Signal(bool)
    job_finished = Signal(object, object)  # (Job, result)
    job_failed = Signal(object, str)  # (Job, message)
    idle = Signal()  # the queue is empty and nothing runs
    _submit = Signal(object)

    def __init__(self, library: Library, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.library = library
        self._queue: list[Job] = []
        self.current: Job | None = None
        self.last_progress: Progress | None = None
        self._paused = False
        self._thread = QThread()
        self._thread.setObjectName("librarian-indexing")
        self._worker = IndexWorker(library)
        self._worker.moveToThread(self._thread)
        self._submit.connect(self._worker.run)
        self._worker.progress.connect(self._on_progress)
        self._worker.done.connect(self._on_done)
        self._worker.failed.connect(self._on_failed)
        self._thread.finished.connect(self._worker.deleteLater)
        self._thread.start()
        self._closed = False

    # -- state ----------------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.current is not None

    @property
    def updating(self) -> bool:
        return self.current is not None and self.current.kind in ("update", "reembed")

    @property
    def paused(self) -> bool:
        return self._paused

    def queued(self) -> list[Job]:
        return list(self._queue)

    # -- requests -------------------------------------------------------------------------------------
    @Slot()
    def request_update(self) -> None:
        if not any(j.kind == "update" for j in self._queue):
            self._enqueue(Job("update"))

    def add_folder(self, path: str) -> None:
        self._interrupt_update()
        self._enqueue(Job("add", path))
        self.request_update()

    def forget(self, path: str) -> None:
        self._interrupt_update()
        self._queue = [j for j in self._queue if not (j.kind == "add" and j.path == path)]
        self._enqueue(Job("forget", path))
        self.request_update()

    def reembed(self) -> None:
        self._interrupt_update()
        self._queue = [j for j in self._queue if j.kind != "update"]
        self._enqueue(Job("reembed"))

    def pause(self) -> None:
        if self.updating and not self._paused:
            self._paused = True
            assert self.current is not None
            self.current.control.pause()
            self.paused_changed.emit(True)

    def resume(self) -> None:
        if self._paused:
            self._paused = False
            if self.current is not None:
                self.current.control.resume()
            self.paused_changed.emit(False)

    def cancel(self) -> None:
        """Stop the running update and drop queued ones; folder changes still happen."""
        self._queue = [j for j in self._queue if j.kind not in ("update", "reembed")]
        if self.current is not None:
            self.current.control.cancel()
        self.resume()

    def shutdown(self, timeout_ms: int = 60000) -> bool:
        """Cancel, stop the thread and wait for it; True when it stopped in time."""
        if self._closed:
            return True
        self._closed = True
        self._queue.clear()
        if self.current is not None:
            self.current.control.cancel()
        self._thread.quit()
        stopped = self._thread.wait(timeout_ms)
        if not stopped:
            log.error("the indexing thread did not stop within %d ms", timeout_ms)
        return stopped

    # -- plumbing -------------------------------------------------------------------------------------
    def _interrupt_update(self) -> None:
        if self.current is not None and self.current.kind == "update":
            self.current.control.cancel()
            self.resume()

    def _enqueue(self, job: Job) -> None:
        if self._closed:
            return
        self._queue.append(job)
        self._next()

    def _next(self) -> None:
        if self.current is not None or self._closed:
            return
        if not self._queue:
            self.running_changed.emit(False)
            self.idle.emit()
            return
        self.current = self._queue.pop(0)  # nothing was running (checked above): a run starts
        self.last_progress = None
        self.running_changed.emit(True)
        self._submit.emit(self.current)

    @Slot(object)
    def _on_progress(self, progress: Progress) -> None:
        if self.current is None or self._closed:
            return
        self.last_progress = progress
        self.progress.emit(progress)

    @Slot(object, object)
    def _on_done(self, job: Job, result: object) -> None:
        self._finish(job)
        self.job_finished.emit(job, result)
        self._continue()

    @Slot(object, object)
    def _on_failed(self, job: Job, error: object) -> None:
        self._finish(job)
        self.job_failed.emit(job, str(error) or type(error).__name__)
        self._continue()

    def _finish(self, job: Job) -> None:
        if job is self.current:
            self.current = None
        if self._paused:
            self._paused = False
            self.paused_changed.emit(False)

    def _continue(self) -> None:
        if self._closed:
            return
        if self._queue:
            self.current = self._queue.pop(0)
            self.last_progress = None
            self._submit.emit(self.current)
        else:
            self.running_changed.emit(False)
            self.idle.emit()
