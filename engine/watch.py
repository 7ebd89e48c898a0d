"""Keep the roots current: file-system events (watchdog) trigger an incremental update after a short
quiet period; a periodic rescan catches what events miss (network drives, events lost on overflow).

The update itself is the ordinary incremental one (size/mtime, then hash), so an event storm costs
one cheap crawl, and moves are recognised by content.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .library import Library
from .results import IndexControl, UpdateReport

log = logging.getLogger(__name__)

CHANGE_EVENTS = frozenset({"created", "deleted", "modified", "moved", "closed"})


class Watcher:
    def __init__(self, library: Library, *, quiet_seconds: float = 1.5, rescan_seconds: float = 600.0,
                 on_update: Callable[[UpdateReport], None] | None = None,
                 on_change: Callable[[], None] | None = None) -> None:
        """Watch ``library``'s roots. By default the watcher runs `Library.update` itself and hands the
        report to ``on_update``; with ``on_change`` it only calls that when an update is due and the
        caller runs it (the app queues it with the updates the user asked for, with progress and pause)."""
        self.library = library
        self.quiet_seconds = quiet_seconds
        self.rescan_seconds = rescan_seconds
        self.on_update = on_update
        self.on_change = on_change
        self._dirty = threading.Event()
        self._stop = threading.Event()
        self._last_event = 0.0
        self._observer: Any = None
        self._data_dir = os.path.realpath(library.data_dir)
        self._thread: threading.Thread | None = None
        self._control: IndexControl | None = None  # the update in progress, for stop() to cancel

    def _on_event(self, event) -> None:
        if event.event_type not in CHANGE_EVENTS:
            return  # "opened" / "closed_no_write": our own reading of the files would wake us again
        if getattr(event, "is_directory", False) and event.event_type == "modified":
            return  # a folder's mtime changes with every file in it; the file events say more
        paths = [os.fsdecode(p) for p in (getattr(event, "src_path", ""), getattr(event, "dest_path", "")) if p]
        if any(_is_hidden(p) for p in paths):
            return
        if any(_inside(p, self._data_dir) for p in paths):
            return  # our own index being written, in a data dir placed inside a root: not a change

        self._last_event = time.monotonic()
        self._dirty.set()

    def start(self) -> None:
        from watchdog.events import FileSystemEventHandler
        from watchdog.observers import Observer

        watcher = self

        class Handler(FileSystemEventHandler):
            def on_any_event(self, event) -> None:
                watcher._on_event(event)

        self._observer = Observer()
        self._observer.start()
        for root in self.library.roots():
            path = Path(root)
            target = path if path.is_dir() else path.parent
            if not target.exists():
                continue  # unplugged: the periodic rescan notices when it is back
            try:
                # Scheduled one by one on the running observer, so that a root that cannot be
                # watched (no permission, the inotify watch limit, a share that refuses) costs its
                # events only: the periodic rescan still covers it, and the other roots stay watched.
                self._observer.schedule(Handler(), str(target), recursive=path.is_dir())
            except OSError as exc:
                log.warning("cannot watch %s (%s); it is rescanned every %.0f s instead",
                            root, exc.strerror or exc, self.rescan_seconds)
        self._thread = threading.Thread(target=self._loop, name="librarian-watch", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        last_scan = time.monotonic()
        while not self._stop.is_set():
            self._dirty.wait(timeout=1.0)
            now = time.monotonic()
            due = now - last_scan > self.rescan_seconds
            if self._dirty.is_set() and now - self._last_event >= self.quiet_seconds or due:
                self._dirty.clear()
                last_scan = now
                if self.on_change is not None:
                    if not self._stop.is_set():  # stop() wakes the loop too: that is no change
                        _announce(self.on_change)
                    continue
                self._control = IndexControl()
                if self._stop.is_set():
                    break  # stop() came first: it may not have seen this control to cancel it
                try:
                    report = self.library.update(control=self._control)
                except Exception:  # the watcher must outlive one bad update
                    log.exception("update after file changes failed")
                    continue
                if self.on_update is not None:
                    self.on_update(report)

    def stop(self) -> None:
        """Stop watching. An update in progress is cancelled and waited for: it stops between two
        files and after its current batch of passages, and leaving earlier would let the process
        exit while the encoder runs (onnxruntime then aborts it)."""
        self._stop.set()
        self._dirty.set()
        if self._control is not None:
            self._control.cancel()
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(timeout=5)
        if self._thread is not None:
            self._thread.join()


def _announce(on_change: Callable[[], None]) -> None:
    try:
        on_change()
    except Exception:  # the watcher must outlive a failing listener, as it outlives a bad update
        log.exception("reporting file changes failed")


def _inside(path: str, folder: str) -> bool:
    path = os.path.realpath(path)
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def _is_hidden(path: str) -> bool:
    return any(part.startswith(".") and part not in (".", "..") for part in Path(path).parts)
