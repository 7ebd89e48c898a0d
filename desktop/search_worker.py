"""Search as you type, off the UI thread.

Each keystroke restarts a single-shot timer (debounce); when it fires, the latest request runs on the
thread pool. Every request has an id: a result whose id is not the newest is dropped, and while one
search is in flight the newest request waits for it instead of piling up behind it (the engine's
search cannot be interrupted, so superseding = never starting stale work and never showing it).

The debounce is 0 ms: keys that arrive together are still one search (the timer fires once the
event loop has taken them all), and the in-flight rule already keeps a fast typist from queueing
searches, so a wait before each search only added to what the user feels (120 ms of the ~150 ms
from keystroke to results painted).

A search as you type asks for `FIRST_PAGE` documents; `request_more` repeats the shown one wider
(`MORE_GROWTH` times as many documents) once the list is scrolled to its end, and its result comes
as `more_results`, to be appended.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from librarian.engine.results import Mode, SearchFilters
from PySide6.QtCore import QObject, QTimer, Signal, Slot

from .tasks import Tasks

if TYPE_CHECKING:
    from librarian.engine.library import Library

log = logging.getLogger(__name__)

DEBOUNCE_MS = 0
TYPING_IDLE_MS = 1500  # this long after the last keystroke, indexing takes every core again
FIRST_PAGE = 20  # documents per search as you type: two screens of results
MORE_GROWTH = 3  # each wider search asks for this many times the documents of the one before
MOST_RESULTS = 1000


@dataclass(frozen=True, slots=True)
class SearchRequest:
    id: int
    query: str
    mode: Mode
    filters: SearchFilters | None
    k: int
    wider: bool = False  # from `request_more`: its result is appended, not shown instead


class SearchController(QObject):
    results = Signal(int, object)  # (request id, SearchResult)
    more_results = Signal(int, object)  # (request id, SearchResult of a wider search for the same query)
    failed = Signal(int, str)  # (request id, message)
    cleared = Signal(int)  # the query became empty
    started = Signal(int)  # a request left the queue for the pool

    def __init__(self, tasks: Tasks, *, delay_ms: int = DEBOUNCE_MS, k: int = FIRST_PAGE,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.tasks = tasks
        self.k = k
        self.library: Library | None = None
        self._latest = 0
        self._pending: SearchRequest | None = None
        self._in_flight: SearchRequest | None = None
        self._shown: SearchRequest | None = None  # the newest request fired for the list (not a wider one)
        self.landed_k = k  # documents the search whose result was last emitted asked for: as many found, more may exist
        self.dropped = 0  # stale results thrown away (for tests and the benchmark)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(delay_ms)
        self.timer.timeout.connect(self._fire)
        # While someone types, the library embeds with one thread (`Library.set_typing`).
        self.typing_timer = QTimer(self)
        self.typing_timer.setSingleShot(True)
        self.typing_timer.setInterval(TYPING_IDLE_MS)
        self.typing_timer.timeout.connect(self._typing_stopped)

    @property
    def latest_id(self) -> int:
        return self._latest

    @property
    def busy(self) -> bool:
        return self._in_flight is not None or self._pending is not None

    def set_library(self, library: Library) -> None:
        self.library = library
        if self._pending is not None and not self.timer.isActive():
            self._fire()

    def request(self, query: str, mode: Mode = "hybrid", filters: SearchFilters | None = None, *,
                immediate: bool = False) -> int:
        """Queue a search; ``immediate`` skips the debounce (mode or filter changes, refreshes).
        Anything else is a keystroke: the library is told someone types until `TYPING_IDLE_MS` pass."""
        self._latest += 1
        if not immediate:
            self._typing_started()
        if not query.strip():
            self._pending = None
            self.timer.stop()
            self.cleared.emit(self._latest)
            return self._latest
        self._pending = SearchRequest(self._latest, query, mode, filters, self.k)
        if immediate:
            self.timer.stop()
            self._fire()
        else:
            self.timer.start()
        return self._latest

    def request_more(self) -> bool:
        """Repeat the search whose result is shown, for `MORE_GROWTH` times as many documents; the
        result comes as `more_results`. False when there is nothing to widen (a newer request is
        waiting or was made, or the most results were already asked for)."""
        shown = self._shown
        if shown is None or shown.id != self._latest or self._pending is not None or shown.k >= MOST_RESULTS:
            return False
        self._pending = replace(shown, k=min(shown.k * MORE_GROWTH, MOST_RESULTS), wider=True)
        self._fire()
        return True

    def _typing_started(self) -> None:
        if self.library is not None and not self.typing_timer.isActive():
            self.library.set_typing(True)
        self.typing_timer.start()

    @Slot()
    def _typing_stopped(self) -> None:
        if self.library is not None:
            self.library.set_typing(False)

    @Slot()
    def _fire(self) -> None:
        if self._pending is None or self.library is None or self._in_flight is not None:
            return  # nothing to do, not open yet, or the one in flight hands over when it lands
        request, self._pending = self._pending, None
        self._in_flight = request
        self._shown = replace(request, wider=False)  # what the list shows once it lands
        library = self.library
        self.started.emit(request.id)
        self.tasks.start(
            lambda: library.search(request.query, k=request.k, mode=request.mode, filters=request.filters),
            done=self._on_done, failed=self._on_failed, tag=request.id)

    def _landed(self, request_id: int) -> bool:
        self._in_flight = None
        fresh = request_id == self._latest
        if not fresh:
            self.dropped += 1
        if self._pending is not None and not self.timer.isActive():
            self._fire()
        return fresh

    @Slot(int, object)
    def _on_done(self, request_id: int, result: object) -> None:
        landed = self._in_flight
        if self._landed(request_id) and landed is not None:
            self.landed_k = landed.k
            (self.more_results if landed.wider else self.results).emit(request_id, result)

    @Slot(int, object)
    def _on_failed(self, request_id: int, error: object) -> None:
        from librarian.engine.errors import LibrarianError

        if not isinstance(error, LibrarianError):
            log.error("search failed", exc_info=error if isinstance(error, BaseException) else None)
        if self._landed(request_id):
            self.failed.emit(request_id, str(error) or type(error).__name__)
