"""Extraction in worker processes, so a hostile or broken file costs one file, never the run.

Parsers of untrusted formats hang (pypdf's DoS history, PITFALLS §7), blow up memory (zip bombs
that slip past the check, huge images) or crash in C code (PDFium, lxml). Each of those, inside the
indexer's process, would take the whole app down. Here each file goes to a worker process:

- a time limit per file: past it the worker is killed and replaced;
- an address-space limit (``RLIMIT_AS``, POSIX only) so a memory blow-up ends in MemoryError;
- a dead worker (segfault, OOM kill) is noticed by the broken pipe and replaced.

Every failure comes back as ``ExtractionError`` with a short reason for the per-file status.

Workers are started with the "spawn" context: fork would copy the parent's threads, locks and
ONNX sessions into the child (unsafe, and heavy), and spawn is what Windows and macOS use anyway.
In a PyInstaller build this needs ``multiprocessing.freeze_support()`` at the top of ``main()``.
Workers are daemons and also watch their parent's sentinel, so they never outlive the app even if
it is killed.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import threading
from multiprocessing.connection import Connection, wait
from pathlib import Path
from types import TracebackType
from typing import Any

from ..errors import ExtractionError
from ..paths import display_path
from . import added_extractors
from .base import Extracted, Extractor

STARTUP_TIMEOUT_S = 60.0  # a cold start on a busy laptop imports Python and our package


def _limit_memory(limit_mb: int) -> None:
    try:
        import resource
    except ImportError:  # Windows: no rlimits; a job object would be needed, not worth it yet
        return
    limit = limit_mb * 1024 * 1024
    try:
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (ValueError, OSError):  # macOS rejects RLIMIT_AS; the timeout still protects us
        pass


def _watch_parent() -> None:
    """Exit as soon as the parent dies, even while busy: orphans would hold files and CPU."""
    parent = multiprocessing.parent_process()
    if parent is None or getattr(parent, "sentinel", None) is None:
        return

    def watch() -> None:
        wait([parent.sentinel])
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _worker_main(requests: Connection, conn: Connection, memory_limit_mb: int,
                 added: tuple[Extractor, ...] = ()) -> None:
    """The worker loop: receive a path on ``requests``, answer on ``conn`` with ("ok", Extracted)
    or ("error", reason). ``added``: the extractors the parent registered (a spawned process starts
    with the built-in registry only)."""
    try:
        if hasattr(signal, "SIGINT"):
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
        _watch_parent()
        _limit_memory(memory_limit_mb)
        from . import extract, register

        for extractor in added:
            register(extractor)
    except BaseException as exc:  # report any startup failure, then give up
        conn.send(("fatal", f"{type(exc).__name__}: {exc}"))
        return
    conn.send(("ready", os.getpid()))
    while True:
        try:
            message = requests.recv()
        except (EOFError, OSError):
            return  # parent gone
        if message is None:
            return
        reply: tuple[str, Any]
        try:
            reply = ("ok", extract(Path(message)))
        except ExtractionError as exc:
            reply = ("error", exc.reason)
        except MemoryError:
            reply = ("crash", f"out of memory, over the {memory_limit_mb} MB limit")
        except Exception as exc:  # a bug in a parser is one file's failure
            reply = ("error", f"unexpected {type(exc).__name__}: {str(exc)[:300]}")
        try:
            conn.send(reply)
        except MemoryError:
            reply = ("crash", f"out of memory, over the {memory_limit_mb} MB limit")
            _send_quietly(conn, reply)
        except (EOFError, OSError):
            return  # parent gone
        except Exception as exc:  # e.g. an unpicklable result
            _send_quietly(conn, ("error", f"unexpected {type(exc).__name__} sending the result: {exc}"))
        if reply[0] == "crash":
            # After a MemoryError the heap may be fragmented past use; a fresh process is cheaper.
            os._exit(3)


def _send_quietly(conn: Connection, message: tuple[str, str]) -> None:
    # If even this fails there is nothing left to tell: the parent sees the pipe break.
    with contextlib.suppress(Exception):
        conn.send(message)


def _describe_exit(code: int | None) -> str:
    if code is None:
        return "no response"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        if name == "SIGKILL":
            return "killed (SIGKILL), probably out of memory"
        if name == "SIGSEGV":
            return "segmentation fault (SIGSEGV)"
        return f"killed by {name}"
    return f"exit code {code}"


class _Worker:
    def __init__(self, ctx: Any, memory_limit_mb: int) -> None:
        # Two one-way pipes rather than one duplex Pipe: on POSIX a duplex Pipe is a socketpair,
        # and extraction has no business with sockets (the CLI tests switch sockets off).
        child_requests, self.requests = ctx.Pipe(duplex=False)
        self.replies, child_replies = ctx.Pipe(duplex=False)
        self.process = ctx.Process(
            target=_worker_main, args=(child_requests, child_replies, memory_limit_mb, added_extractors()),
            name="librarian-extract", daemon=True,
        )
        self.busy = False
        self.process.start()
        child_requests.close()  # our copies of the child's ends: the pipes now break when it dies
        child_replies.close()
        if not self.replies.poll(STARTUP_TIMEOUT_S):
            self.kill()
            raise ExtractionError("extraction worker did not start in time")
        try:
            status, payload = self.replies.recv()
        except (EOFError, OSError) as exc:
            self.kill()
            raise ExtractionError(f"extraction worker failed to start ({_describe_exit(self.process.exitcode)})") from exc
        if status != "ready":
            self.kill()
            raise ExtractionError(f"extraction worker failed to start ({payload})")

    def run(self, path: Path, timeout_s: float) -> Extracted:
        """Extract in the worker. On any failure that leaves the worker unusable, it is killed
        and ``self.alive`` is False; the pool then drops it."""
        # Set until the reply is read: if the caller is interrupted in between (KeyboardInterrupt
        # in poll), the reply would still arrive later and answer the *next* file. Such a worker
        # is killed on release, never reused.
        self.busy = True
        try:
            self.requests.send(os.fspath(path))
        except (OSError, ValueError) as exc:
            self.kill()
            raise ExtractionError(f"extractor crashed ({_describe_exit(self.process.exitcode)})") from exc
        if not self.replies.poll(timeout_s):
            self.kill()
            raise ExtractionError(f"timed out after {timeout_s:g} s")
        try:
            status, payload = self.replies.recv()
        except (EOFError, OSError) as exc:
            self.process.join(5)  # the pipe broke because the worker died; collect its exit code
            self.kill()
            raise ExtractionError(f"extractor crashed ({_describe_exit(self.process.exitcode)})") from exc
        self.busy = False
        if status == "ok":
            result: Extracted = payload
            return result
        if status == "crash":
            self.kill()
            raise ExtractionError(f"extractor crashed ({payload})")
        raise ExtractionError(str(payload))

    @property
    def alive(self) -> bool:
        return not self.busy and self.process.is_alive() and not self.replies.closed

    def stop(self) -> None:
        try:
            self.requests.send(None)
            self.process.join(2)
        except (OSError, ValueError):
            pass
        self.kill()

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
            self.process.join(5)
        for pipe in (self.requests, self.replies):
            if not pipe.closed:
                pipe.close()


class ExtractionWorkers:
    """A small pool of extraction processes, shared safely by the indexer's threads.

    ``extract(path)`` blocks until a worker is free, then sends it the path. Workers start on first
    use (the app starts fast, a folder with nothing to extract never starts one) and stay alive
    between files; a worker that timed out or crashed is replaced on the next call.
    """

    def __init__(self, processes: int = 1, timeout_s: float = 30.0, memory_limit_mb: int = 1536) -> None:
        if processes < 1:
            raise ValueError("processes must be at least 1")
        if timeout_s <= 0:
            raise ValueError("timeout_s must be positive")
        self.processes = processes
        self.timeout_s = timeout_s
        self.memory_limit_mb = memory_limit_mb
        self._ctx = multiprocessing.get_context("spawn")
        self._cond = threading.Condition()
        self._idle: list[_Worker] = []
        self._count = 0  # workers alive or being started, idle or busy
        self._closed = False

    def extract(self, path: Path | str, *, timeout_s: float | None = None) -> Extracted:
        """Extract ``path`` in a worker; raises ExtractionError on any failure of that file.

        ``timeout_s`` overrides the pool's limit for this file (e.g. scaled by file size).
        """
        path = Path(path)
        worker = self._acquire()
        try:
            return worker.run(path, self.timeout_s if timeout_s is None else timeout_s)
        except ExtractionError as exc:
            raise ExtractionError(exc.reason, path=display_path(path)) from exc
        finally:
            self._release(worker)

    def _acquire(self) -> _Worker:
        with self._cond:
            while True:
                if self._closed:
                    raise RuntimeError("ExtractionWorkers is closed")
                if self._idle:
                    return self._idle.pop()
                if self._count < self.processes:
                    self._count += 1
                    break
                self._cond.wait()
        try:  # start outside the lock: other threads keep using the workers already running
            return _Worker(self._ctx, self.memory_limit_mb)
        except BaseException:
            with self._cond:
                self._count -= 1
                self._cond.notify()
            raise

    def _release(self, worker: _Worker) -> None:
        with self._cond:
            if worker.alive and not self._closed:
                self._idle.append(worker)
            else:
                self._count -= 1
                worker.kill()
            self._cond.notify()

    def close(self) -> None:
        """Stop idle workers now; busy ones are stopped when their current file finishes."""
        with self._cond:
            self._closed = True
            idle, self._idle = self._idle, []
            self._count -= len(idle)
            self._cond.notify_all()
        for worker in idle:
            worker.stop()

    def __enter__(self) -> ExtractionWorkers:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
