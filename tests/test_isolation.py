"""Extraction in worker processes: results match in-process extraction, and every way a parser can
fail (error, bug, hang, memory blow-up, segfault) costs one file and leaves a working pool."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from fixtures.make_files import make_docx, make_pdf, truncate_copy
from fixtures.misbehaving import cli_env, misbehaving_extractors
from librarian.engine.errors import ExtractionError
from librarian.engine.extract import extract
from librarian.engine.extract.isolate import ExtractionWorkers

posix_only = pytest.mark.skipif(os.name != "posix", reason="needs POSIX signals and rlimits")


@pytest.fixture(scope="module")
def docs(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("iso")
    good_pdf = make_pdf(root / "good.pdf", ["first page", "second page"])
    (root / "notes.md").write_text("# Notes\n\nremember the milk\n")
    for suffix in ("hang", "oom", "crash", "boom"):
        (root / f"evil.{suffix}").write_text("x")
    return {
        "pdf": good_pdf,
        "md": root / "notes.md",
        "docx": make_docx(root / "report.docx"),
        "bad_pdf": truncate_copy(good_pdf, root / "bad.pdf", 0.3),
        **{suffix: root / f"evil.{suffix}" for suffix in ("hang", "oom", "crash", "boom")},
    }


@pytest.fixture(scope="module")
def workers():
    """One pool for the module, with the misbehaving test extractors switched on in its workers."""
    with misbehaving_extractors(), ExtractionWorkers(processes=1, timeout_s=20.0, memory_limit_mb=1024) as pool:
        yield pool


def _pids(pool: ExtractionWorkers) -> set[int]:
    return {w.process.pid for w in pool._idle}


def test_results_equal_in_process_extraction(workers, docs):
    for key in ("pdf", "md", "docx"):
        assert workers.extract(docs[key]) == extract(docs[key])


def test_extraction_error_keeps_its_reason_and_the_worker(workers, docs):
    workers.extract(docs["md"])
    before = _pids(workers)
    with pytest.raises(ExtractionError, match="not a valid PDF") as info:
        workers.extract(docs["bad_pdf"])
    assert info.value.reason == "not a valid PDF (corrupt or truncated)"
    assert _pids(workers) == before  # an ordinary failure does not cost a process start


def test_parser_bug_is_reported_as_unexpected(workers, docs):
    with pytest.raises(ExtractionError) as info:
        workers.extract(docs["boom"])
    assert info.value.reason == "unexpected ZeroDivisionError: kaboom"
    assert workers.extract(docs["md"]).title == "Notes"


def test_hang_times_out_kills_the_worker_and_the_next_file_works(workers, docs):
    workers.extract(docs["md"])  # make sure a worker is up, so only the hang is timed
    before = _pids(workers)
    started = time.monotonic()
    with pytest.raises(ExtractionError) as info:
        workers.extract(docs["hang"], timeout_s=1.0)
    assert info.value.reason == "timed out after 1 s"
    assert time.monotonic() - started < 8
    assert workers.extract(docs["pdf"]).segments[1].text == "second page"
    assert _pids(workers).isdisjoint(before)  # a fresh worker replaced the killed one


@posix_only
def test_memory_limit_gives_a_clear_error_and_the_worker_recovers(workers, docs):
    with pytest.raises(ExtractionError) as info:
        workers.extract(docs["oom"])
    assert info.value.reason == "extractor crashed (out of memory, over the 1024 MB limit)"
    assert workers.extract(docs["md"]).segments[0].text.endswith("remember the milk")


@posix_only
def test_segfault_is_a_crash_and_the_worker_recovers(workers, docs):
    with pytest.raises(ExtractionError) as info:
        workers.extract(docs["crash"])
    assert info.value.reason == "extractor crashed (segmentation fault (SIGSEGV))"
    assert workers.extract(docs["pdf"]).kind == "pdf"


def test_missing_file_is_an_error_not_a_crash(workers, tmp_path):
    with pytest.raises(ExtractionError, match="file not found"):
        workers.extract(tmp_path / "never-existed.txt")


def test_threads_share_a_pool_safely(docs):
    expected = {key: extract(docs[key]) for key in ("pdf", "md", "docx")}
    results: list[tuple[str, object]] = []
    with ExtractionWorkers(processes=2, timeout_s=30.0) as pool:

        def work(key: str) -> None:
            for _ in range(3):
                results.append((key, pool.extract(docs[key])))

        threads = [threading.Thread(target=work, args=(key,)) for key in ("pdf", "md", "docx", "pdf")]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert len(pool._idle) <= 2  # never more processes than asked for
    assert len(results) == 12
    assert all(result == expected[key] for key, result in results)


def test_workers_start_lazily_and_close_stops_them(docs):
    pool = ExtractionWorkers(processes=1)
    assert pool._count == 0 and pool._idle == []  # constructing a pool starts nothing
    pool.extract(docs["md"])
    [worker] = pool._idle
    assert worker.process.is_alive() and worker.process.daemon
    pool.close()
    assert not worker.process.is_alive()
    with pytest.raises(RuntimeError, match="closed"):
        pool.extract(docs["md"])


def test_invalid_arguments_are_refused():
    with pytest.raises(ValueError):
        ExtractionWorkers(processes=0)
    with pytest.raises(ValueError):
        ExtractionWorkers(timeout_s=0)


@posix_only
def test_workers_die_with_their_parent(tmp_path, docs):
    """Even a busy worker (stuck in a hang) exits when the app is killed outright."""
    script = textwrap.dedent(f"""
        import os, sys, threading, time
        from fixtures.misbehaving import MISBEHAVING
        from librarian.engine.extract import register
        from librarian.engine.extract.isolate import ExtractionWorkers
        if __name__ == "__main__":
            for extractor in MISBEHAVING:
                register(extractor)
            pool = ExtractionWorkers(timeout_s=600)
            pool.extract({str(docs['md'])!r})
            print(pool._idle[0].process.pid, flush=True)
            threading.Thread(target=pool.extract, args=({str(docs['hang'])!r},), daemon=True).start()
            time.sleep(0.5)
            os._exit(0)  # like a crash: no atexit handlers, no close()
    """)
    env = cli_env(dict(os.environ))
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, env=env)
    pid = int(out.stdout.split()[0])
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    pytest.fail(f"worker {pid} outlived its parent")


def test_worker_with_an_unread_reply_is_never_reused(docs):
    """If a caller is interrupted between sending a path and reading the reply, that reply must not
    answer the next file: the worker is dropped instead."""
    with ExtractionWorkers() as pool:
        pool.extract(docs["md"])
        worker = pool._acquire()
        worker.busy = True
        worker.requests.send(str(docs["pdf"]))  # as if run() had been interrupted right after sending
        pool._release(worker)
        assert not worker.process.is_alive()
        assert pool.extract(docs["md"]).title == "Notes"


def test_workers_need_no_sockets(docs, monkeypatch):
    """Offline app: starting and using workers must not touch the socket module (a duplex
    multiprocessing Pipe would be a socketpair on POSIX)."""
    import socket

    def no_network(*args, **kwargs):
        raise OSError("network disabled by the test")

    monkeypatch.setattr(socket, "socket", no_network)
    monkeypatch.setattr(socket, "socketpair", no_network)
    with ExtractionWorkers() as pool:
        assert pool.extract(docs["md"]).title == "Notes"
