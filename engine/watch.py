"""Keep the roots current: file-system events (watchdog) trigger an incremental update after a short
quiet period; a periodic rescan catches what events miss (network drives, events lost on overflow).

The update itself is the ordinary incremental one (size/mtime, then hash), so an event storm costs
one cheap crawl, and moves are recognised by content.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .library import Library
from .results import UpdateReport

log = logging.getLogger(__name__)

CHANGE_EVENTS = frozenset({"created", "deleted", "modified", "moved", "closed"})


class Watcher:
    def __init__(self, library: Library, *, quiet_seconds: float = 1.5, rescan_seconds: float = 600.0,
                 on_update: Callable[[UpdateReport], None] | None = None) -> None:
        self.library = library
        self.quiet_seconds = quiet_seconds
        self.rescan_seconds = rescan_seconds
        self.on_update = on_update
        self._dirty = threading.Event()
        self._stop = threading.Event()
        self._last_event = 0.0
        self._observer: Any = None
        self._thread: threading.Thread | None = None

    def _on_event(self, event) -> None:
        if event.event_type not in CHANGE_EVENTS:
            return  # "opened" / "closed_no_write": our own reading of the files would wake us again
        if getattr(event, "is_directory", False) and event.event_type == "modified":
            return  # a folder's mtime changes with every file in it; the file events say more
        paths = [getattr(event, "src_path", ""), getattr(event, "dest_path", "")]
        if any(_is_hidden(p) for p in paths if p):
            return
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
        for root in self.library.roots():
            path = Path(root)
            target = path if path.is_dir() else path.parent
            if target.exists():
                self._observer.schedule(Handler(), str(target), recursive=path.is_dir())
        self._observer.start()
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
                try:
                    report = self.library.update()
                except Exception:  # the watcher must outlive one bad update
                    log.exception("update after file changes failed")
                    continue
                if self.on_update is not None:
                    self.on_update(report)

    def stop(self) -> None:
        self._stop.set()
        self._dirty.set()
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(timeout=5)
        if self._thread is not None:
            self._thread.join(timeout=60)


def _is_hidden(path: str) -> bool:
    return any(part.startswith(".") and part not in (".", "..") for part in Path(path).parts)
