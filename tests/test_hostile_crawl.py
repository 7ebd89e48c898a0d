"""Crawling and indexing against a hostile file system: folders that refuse to be listed, files swapped
for FIFOs, ignore rules built to backtrack, Ctrl-C mid-embedding, odd roots (issue 10).

Each probe is a few lines on top of the helpers below: `docs_tree` writes documents, `refuse_listing`
makes chosen folders fail to list (as if unreadable, whoever runs the tests), `open_library` gives a
library with the fake encoder and the in-process extractor, `indexed_paths` lists what is indexed.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest
from conftest import FakeEncoder, fake_model
from librarian.engine import indexer as indexer_module
from librarian.engine.crawl import crawl, ignore_spec, is_excluded
from librarian.engine.encoders import ENCODE_BATCH
from librarian.engine.errors import LibrarianError
from librarian.engine.extract import extract
from librarian.engine.library import Library
from librarian.engine.results import IndexControl
from librarian.engine.userfiles import NotARegularFileError, open_user_file
from librarian.engine.watch import Watcher

posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX file system semantics")
LIBRARIAN = Path(sys.executable).with_name("librarian")
WORDS = ["alpaca", "bison", "camel", "dingo", "eland", "ferret", "gazelle", "heron", "ibis", "jackal", "kudu",
         "lemur", "marmot", "newt", "ocelot", "puffin", "quail", "raven", "stoat", "tapir", "urial", "vole",
         "walrus", "xerus", "yak", "zebu"]


# ------------------------------------------------------------------------------------------ helpers


def docs_tree(root: Path, files: dict[str, str]) -> Path:
    """Write ``{relative path: text}`` under ``root``; returns ``root``."""
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def open_library(tmp_path: Path, data: str = "data") -> Library:
    return Library.open(tmp_path / data, model=fake_model(), extract=extract)


def indexed_paths(lib: Library, root: Path) -> list[str]:
    store = lib._reader()
    rows = store.conn.execute("SELECT path FROM documents WHERE status = 'ok' ORDER BY path").fetchall()
    return [os.path.relpath(r[0], root).replace(os.sep, "/") for r in rows]


def refuse_listing(monkeypatch, folders: list[Path], error: int = errno.EACCES) -> None:
    """``os.scandir`` of these folders fails with ``error``, as for ``chmod 000`` (which root ignores)
    or a share that refuses access. Works the same as root and as a normal user."""
    refused = {os.path.abspath(f) for f in folders}
    real_scandir = os.scandir

    def scandir(path="."):
        if os.path.abspath(os.fsdecode(path)) in refused:
            raise OSError(error, os.strerror(error), os.fsdecode(path)) if error != errno.EACCES else \
                PermissionError(error, os.strerror(error), os.fsdecode(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)


def unblock_fifo(path: Path) -> None:
    """Release a reader stuck in open() on a FIFO (if the code under test hung), so the test ends."""
    with contextlib.suppress(OSError):
        os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))


def run_cli(*args: str, data_dir: Path, timeout: float = 120, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([str(LIBRARIAN), "--data-dir", str(data_dir), *args], capture_output=True, text=True,
                          timeout=timeout, **kwargs)


def prose(n_words: int, seed: int = 0) -> str:
    """Deterministic text of real words, in sentences (for the real model to chew on)."""
    out = []
    for i in range(n_words):
        out.append(WORDS[(i * 7 + seed) % len(WORDS)])
        if i % 12 == 11:
            out.append("grazes.\n" if i % 48 == 47 else "grazes.")
    return " ".join(out)


# --------------------------------------------------- unreadable folders keep their documents (2)

FOLDERS = {"top.txt": "alpaca top", "sub/a.txt": "bison one", "sub/b.txt": "camel two", "sub/deep/c.txt": "dingo"}


@pytest.mark.parametrize("error", [errno.EACCES, errno.EIO])
def test_a_folder_that_cannot_be_listed_keeps_its_documents_and_is_listed(tmp_path, monkeypatch, error):
    docs = docs_tree(tmp_path / "docs", FOLDERS)
    with open_library(tmp_path) as lib:
        lib.add_folder(docs)
        assert lib.update().added == 4
        refuse_listing(monkeypatch, [docs / "sub"], error)
        report = lib.update()
        assert report.removed == 0
        assert indexed_paths(lib, docs) == ["sub/a.txt", "sub/b.txt", "sub/deep/c.txt", "top.txt"]
        assert lib.search("bison", mode="keyword").hits
        failed = {os.path.relpath(f.path, docs): f.reason for f in lib.status().failed}
        assert list(failed) == ["sub"]
        assert failed["sub"] == ("permission denied" if error == errno.EACCES else "cannot be read (Input/output error)")
        monkeypatch.undo()  # readable again: nothing to redo, and the problem goes away
        report = lib.update()
        assert (report.added, report.changed, report.removed, report.unchanged) == (0, 0, 0, 4)
        assert lib.status().failed == ()


def test_an_unreadable_root_keeps_its_documents(tmp_path, monkeypatch):
    docs = docs_tree(tmp_path / "docs", FOLDERS)
    with open_library(tmp_path) as lib:
        lib.add_folder(docs)
        lib.update()
        refuse_listing(monkeypatch, [docs])
        assert lib.update().removed == 0
        assert len(indexed_paths(lib, docs)) == 4
        assert [f.reason for f in lib.status().failed] == ["permission denied"]


def test_a_folder_that_vanished_is_gone(tmp_path):
    docs = docs_tree(tmp_path / "docs", FOLDERS)
    with open_library(tmp_path) as lib:
        lib.add_folder(docs)
        lib.update()
        for rel in ("sub/deep/c.txt", "sub/a.txt", "sub/b.txt"):
            (docs / rel).unlink()
        (docs / "sub/deep").rmdir()
        (docs / "sub").rmdir()
        assert lib.update().removed == 3
        assert indexed_paths(lib, docs) == ["top.txt"]


def test_the_watcher_keeps_documents_of_an_unreadable_folder(tmp_path, monkeypatch):
    docs = docs_tree(tmp_path / "docs", FOLDERS)
    updated = threading.Event()
    with open_library(tmp_path) as lib:
        lib.add_folder(docs)
        lib.update()
        refuse_listing(monkeypatch, [docs / "sub"])
        watcher = Watcher(lib, quiet_seconds=0.2, on_update=lambda report: updated.set())
        watcher.start()
        try:
            (docs / "new.txt").write_text("eland arrives")
            assert updated.wait(30)
        finally:
            watcher.stop()
        assert indexed_paths(lib, docs) == ["new.txt", "sub/a.txt", "sub/b.txt", "sub/deep/c.txt", "top.txt"]


_INDEX_AS_USER = """
import sys
sys.path.insert(0, sys.argv[3])
from conftest import fake_model
from librarian.engine.extract import extract
from librarian.engine.library import Library
with Library.open(sys.argv[1], model=fake_model(), extract=extract) as lib:
    lib.add_folder(sys.argv[2])
    r = lib.update()
    print(r.added, r.removed, r.failed, lib.status().documents)
"""


@posix_only
def test_a_real_chmod_000_removes_nothing(tmp_path):
    """The real thing, not a monkeypatch. Root reads anything, so as root the indexing runs as
    ``nobody``; in its own process, with the in-process extractor (workers would need a home)."""
    base = Path(tempfile.mkdtemp(prefix="librarian-chmod-"))
    try:
        docs = docs_tree(base / "docs", FOLDERS)
        prefix: list[str] = []
        if os.geteuid() == 0:
            for path in [base, *base.rglob("*")]:
                os.chown(path, 65534, 65534)
            prefix = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]

        def index() -> list[int]:
            done = subprocess.run([*prefix, sys.executable, "-c", _INDEX_AS_USER, str(base / "data"), str(docs),
                                   str(Path(__file__).parent)], capture_output=True, text=True, timeout=180, cwd=base)
            assert done.returncode == 0, done.stderr
            return [int(n) for n in done.stdout.split()]

        assert index() == [4, 0, 0, 4]  # added, removed, failed, documents
        os.chmod(docs / "sub", 0)
        try:
            assert index() == [0, 0, 1, 4]
        finally:
            os.chmod(docs / "sub", 0o755)
    finally:
        shutil.rmtree(base, ignore_errors=True)


# ----------------------------------------------------- a FIFO swapped in after the crawl (3)


@posix_only
def test_open_user_file_refuses_what_is_not_a_regular_file_without_blocking(tmp_path):
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    for path in (fifo, tmp_path, Path("/dev/null")):
        with pytest.raises(NotARegularFileError):
            open_user_file(path)
    (tmp_path / "a.txt").write_bytes(b"hello")
    with open_user_file(tmp_path / "a.txt") as fh:
        assert fh.read() == b"hello"


@posix_only
def test_a_file_replaced_by_a_fifo_after_the_crawl_fails_instead_of_hanging(tmp_path, monkeypatch):
    docs = docs_tree(tmp_path / "docs", {"aaa.txt": "alpaca " * 1000, "zzz.txt": "zebu"})
    real_crawl = indexer_module.crawl

    def crawl_then_swap(*args, **kwargs):
        found = list(real_crawl(*args, **kwargs))
        (docs / "zzz.txt").unlink()
        os.mkfifo(docs / "zzz.txt")  # listed as a file, a FIFO by the time it is hashed
        yield from found

    monkeypatch.setattr(indexer_module, "crawl", crawl_then_swap)
    outcome: dict = {}
    with open_library(tmp_path) as lib:
        lib.add_folder(docs)
        worker = threading.Thread(target=lambda: outcome.update(report=lib.update()), daemon=True)
        worker.start()
        worker.join(timeout=60)
        if worker.is_alive():
            unblock_fifo(docs / "zzz.txt")
            worker.join(timeout=30)
            pytest.fail("the indexer blocked on a FIFO")
        report = outcome["report"]
        assert (report.added, report.failed) == (1, 1)
        assert [(Path(f.path).name, f.reason) for f in lib.status().failed] == [
            ("zzz.txt", "unreadable: a FIFO, not a file")]


# ----------------------------------------------- ignore rules that would backtrack forever (4)

_CRAWL_AND_COUNT = "import sys; from librarian.engine.crawl import crawl; print(len(list(crawl(sys.argv[1]))))"


@pytest.mark.parametrize("rule, name", [
    ("*a*a*a*a*a*a*a*a*b", "a" * 60 + ".txt"),  # stars in one name
    ("x/**/a/**/a/**/a/**/a/**/a/**/b", "/".join(["a"] * 100) + "/doc.txt"),  # "**" over deep folders
])
def test_an_adversarial_ignore_rule_finishes(tmp_path, rule, name):
    root = docs_tree(tmp_path / "repo", {".gitignore": rule + "\n", name: "text", "x/" + name: "text"})
    done = subprocess.run([sys.executable, "-c", _CRAWL_AND_COUNT, str(root)], capture_output=True, text=True,
                          timeout=30)  # the old matcher took minutes here
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "2"


@pytest.mark.parametrize("rule, path, ignored", [
    ("*a*a*a*b*", "xaYaZaab.txt", True),
    ("*a*a*a*b*", "aaa.txt", False),
    ("*a*b*.txt", "cab.txt", True),
    ("*a*b*.txt", "cba.txt", False),
    ("doc/**/x*y/**/*.md", "doc/q/xzy/r/s/n.md", True),
    ("doc/**/x*y/**/*.md", "doc/q/xzyz/r/n.md", False),
    ("[!a]*.txt", "b.txt", True),
    ("[!a]*.txt", "a.txt", False),
])
def test_bounded_ignore_rules_keep_gitignore_meaning(tmp_path, rule, path, ignored):
    assert bool(ignore_spec([rule]).match_file(path)) is ignored
    docs_tree(tmp_path, {".gitignore": rule + "\n", path: "text"})
    assert is_excluded(tmp_path / path, tmp_path) is ignored


def test_a_bracket_never_matches_a_slash_as_in_git():
    assert not ignore_spec(["a[!x]b"]).match_file("a/b")


# ------------------------------------------------------------------- Ctrl-C while embedding (15)


class SlowEncoder(FakeEncoder):
    """The fake encoder, slow enough to be caught mid-batch; counts batches and those in flight."""

    def __init__(self, on_first_batch=None) -> None:
        super().__init__(64)
        self.batches = self.active = 0
        self.on_first_batch = on_first_batch

    def embed_batch(self, texts):
        self.active += 1
        try:
            self.batches += 1
            if self.batches == 1 and self.on_first_batch is not None:
                self.on_first_batch()
            time.sleep(0.05)
            return super().embed_batch(texts)
        finally:
            self.active -= 1


def test_ctrl_c_stops_the_embedder_between_batches_even_when_pressed_twice(tmp_path, monkeypatch):
    docs = docs_tree(tmp_path / "docs", {f"d{i}.txt": prose(2000, i) for i in range(60)})  # ~800 passages
    first_batch = threading.Event()
    producer_interrupted = threading.Event()
    usual_handler = signal.getsignal(signal.SIGINT)

    def second_ctrl_c() -> None:
        first_batch.set()
        assert producer_interrupted.wait(30)
        deadline = time.monotonic() + 30  # wait until the main thread defers Ctrl-C: it must be then
        while signal.getsignal(signal.SIGINT) is usual_handler and time.monotonic() < deadline:
            time.sleep(0.01)
        os.kill(os.getpid(), signal.SIGINT)

    encoder = SlowEncoder(on_first_batch=second_ctrl_c)
    model = dataclasses.replace(fake_model(), passage=encoder, question=encoder)
    real_produce = indexer_module.Indexer._produce

    def produce_then_ctrl_c(self, meter, control, counts):
        real_produce(self, meter, control, counts)
        assert first_batch.wait(30)
        producer_interrupted.set()
        raise KeyboardInterrupt

    monkeypatch.setattr(indexer_module.Indexer, "_produce", produce_then_ctrl_c)
    with Library.open(tmp_path / "data", model=model, extract=extract) as lib:
        lib.add_folder(docs)
        with pytest.raises(KeyboardInterrupt):
            lib.update()
        assert not [t for t in threading.enumerate() if t.name == "librarian-embedder"]
        assert encoder.active == 0
        # The round in flight (EMBED_BATCH passages, ENCODE_BATCH a call) is finished; nothing after it is started.
        assert encoder.batches <= indexer_module.EMBED_BATCH // ENCODE_BATCH
        assert signal.getsignal(signal.SIGINT) is usual_handler
        # What was encoded is kept, and so is its copy in every passage with the same text (shared vectors).
        assert lib.status().embedded > 0


@posix_only
def test_ctrl_c_during_index_with_the_real_model_exits_130_cleanly(tmp_path, real_model):
    """Ctrl-C while files are read and passages encoded, then while only encoding, early and late in a
    round: every time the process says so and exits 130, never aborting inside onnxruntime."""
    # ~2,000 distinct passages (8 rounds): a quiet machine is far from done when the signal comes.
    docs = docs_tree(tmp_path / "docs", {f"d{i:04}.txt": f"Note {i}. " + prose(150, i) for i in range(1000)})
    moments = [("SELECT count(*) > 300 FROM passages", 0.0),
               ("SELECT count(vector) > 0 FROM passages", 0.0),
               ("SELECT count(vector) > 0 FROM passages", 0.5)]
    for attempt, (ready, delay) in enumerate(moments):
        data = tmp_path / f"data{attempt}"
        # Its own process group, signalled as a whole: what a terminal does on Ctrl-C.
        proc = subprocess.Popen([str(LIBRARIAN), "--data-dir", str(data), "index", "-q", str(docs)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
        try:
            _wait_until(data / "index.sqlite3", ready, proc)
            time.sleep(delay)
            assert proc.poll() is None, "the run ended before Ctrl-C: make it longer"
            os.killpg(proc.pid, signal.SIGINT)
            _out, err = proc.communicate(timeout=120)
        finally:
            if proc.poll() is None:
                proc.kill()
        assert proc.returncode == 130, f"attempt {attempt} ({ready}, +{delay} s): {err}\n{_status(data)}"
        assert "interrupted" in err and "terminate called" not in err and "Traceback" not in err


def _status(data: Path) -> str:
    """`librarian status` of a data dir: which file failed and why, for a failure's message."""
    done = subprocess.run([str(LIBRARIAN), "--data-dir", str(data), "status"], capture_output=True, text=True)
    return done.stdout + done.stderr


def _wait_until(db: Path, query: str, proc: subprocess.Popen, timeout: float = 120) -> None:
    """Poll the index of a running `librarian index` until ``query`` (one value) is true."""
    import sqlite3

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()[1]
        if db.exists():
            try:
                with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)) as conn:
                    if conn.execute(query).fetchone()[0]:
                        return
            except sqlite3.Error:
                pass
        time.sleep(0.02)
    pytest.fail(f"never true while indexing: {query}")


def test_stopping_the_watcher_cancels_its_update_between_batches(tmp_path):
    """`librarian watch` stops on Ctrl-C through `Watcher.stop`: it must not leave the encoder running."""
    docs = docs_tree(tmp_path / "docs", {"a.txt": "alpaca"})
    encoding = threading.Event()
    encoder = SlowEncoder(on_first_batch=encoding.set)
    model = dataclasses.replace(fake_model(), passage=encoder, question=encoder)
    with Library.open(tmp_path / "data", model=model, extract=extract) as lib:
        lib.add_folder(docs)
        lib.update()
        watcher = Watcher(lib, quiet_seconds=0.1)
        watcher.start()
        encoder.batches = 0
        encoding.clear()  # set by the first update: wait for the watcher's own
        docs_tree(docs, {f"d{i}.txt": prose(2000, i) for i in range(60)})
        assert encoding.wait(60)
        stopper = threading.Thread(target=watcher.stop, daemon=True)
        stopper.start()
        stopper.join(timeout=120)
        assert not stopper.is_alive()
        assert not [t for t in threading.enumerate() if t.name == "librarian-embedder"]
        assert encoder.batches <= indexer_module.EMBED_BATCH // ENCODE_BATCH


def test_the_index_control_is_left_usable_after_a_normal_run(tmp_path):
    docs = docs_tree(tmp_path / "docs", {"a.txt": "alpaca"})
    control = IndexControl()
    with open_library(tmp_path) as lib:
        lib.add_folder(docs)
        report = lib.update(control=control)
        assert not report.cancelled and report.embedded == 1


# ------------------------------------------------------------------------------- also fix list


def test_forgetting_a_nested_root_keeps_what_the_parent_covers(tmp_path):
    docs = docs_tree(tmp_path / "docs", FOLDERS)
    with open_library(tmp_path) as lib:
        lib.add_folder(docs / "sub")
        lib.update()
        lib.add_folder(docs)
        lib.update()
        assert lib.forget(docs / "sub") == 0
        assert indexed_paths(lib, docs) == ["sub/a.txt", "sub/b.txt", "sub/deep/c.txt", "top.txt"]
        report = lib.update()
        assert (report.added, report.removed, report.unchanged) == (0, 0, 4)
        assert lib.search("bison", mode="keyword").hits


def test_forgetting_the_parent_keeps_what_a_nested_root_covers(tmp_path):
    docs = docs_tree(tmp_path / "docs", FOLDERS)
    with open_library(tmp_path) as lib:
        lib.add_folder(docs)
        lib.add_folder(docs / "sub")
        lib.update()
        assert lib.forget(docs) == 1  # top.txt
        assert indexed_paths(lib, docs) == ["sub/a.txt", "sub/b.txt", "sub/deep/c.txt"]
        report = lib.update()
        assert (report.added, report.removed, report.unchanged) == (0, 0, 3)


def test_adding_a_parent_root_later_does_not_duplicate_passages(tmp_path):
    docs = docs_tree(tmp_path / "docs", FOLDERS)
    with open_library(tmp_path) as lib:
        lib.add_folder(docs / "sub")
        lib.update()
        before = lib.status().passages
        lib.add_folder(docs)
        report = lib.update()
        assert report.added == 1 and lib.status().passages == before + 1
        assert lib.check().ok


@pytest.mark.parametrize("make, message", [
    (lambda p: p.write_bytes(b"\xff\xd8\xff") and p, "does not read this kind of file"),
    (lambda p: os.mkfifo(p) or p, "not a folder or a regular file"),
])
@posix_only
def test_add_folder_refuses_what_cannot_be_a_root(tmp_path, make, message):
    path = make(tmp_path / "thing.jpg")
    with open_library(tmp_path) as lib:
        with pytest.raises(LibrarianError, match=message):
            lib.add_folder(path)
        with pytest.raises(LibrarianError, match="own data folder"):
            lib.add_folder(tmp_path / "data")
        assert lib.roots() == []
        (tmp_path / "note.txt").write_text("fine")
        lib.add_folder(tmp_path / "note.txt")  # a single document is a fine root
    done = run_cli("index", "-q", str(path), data_dir=tmp_path / "cli")
    assert done.returncode == 1 and done.stderr.startswith("librarian: error:") and message in done.stderr


@posix_only
def test_a_path_too_long_for_the_system_is_listed(tmp_path):
    root = docs_tree(tmp_path / "docs", {"ok.txt": "fine"})
    fd = os.open(root, os.O_RDONLY)
    try:
        for _ in range(25):  # 25 x 201 bytes: past PATH_MAX (4096)
            os.mkdir("d" * 200, dir_fd=fd)
            fd, old = os.open("d" * 200, os.O_RDONLY, dir_fd=fd), fd
            os.close(old)
        os.close(os.open("deep.txt", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd))
    finally:
        os.close(fd)
    problems = []
    found = list(crawl(root, on_problem=lambda path, reason: problems.append(reason)))
    assert [f.path.name for f in found] == ["ok.txt"]
    assert problems == ["path too long for this system (PATH_MAX or NAME_MAX)"]
    shutil.rmtree(root)  # works by file descriptor, at any depth


def test_a_data_dir_inside_a_root_is_not_indexed(tmp_path):
    docs = docs_tree(tmp_path / "docs", {"a.txt": "alpaca"})
    with Library.open(docs / "index", model=fake_model(), extract=extract) as lib:
        (docs / "index" / "notes.txt").write_text("not a document of yours")
        lib.add_folder(docs)
        lib.update()
        assert indexed_paths(lib, docs) == ["a.txt"]
        watcher = Watcher(lib)
        watcher._on_event(type("Event", (), {"event_type": "modified", "src_path": str(docs / "index" / "x.txt")})())
        assert not watcher._dirty.is_set()  # our own writes must not wake the watcher in a loop


def test_rehash_catches_a_change_that_kept_size_and_mtime(tmp_path):
    docs = docs_tree(tmp_path / "docs", {"a.txt": "alpaca grazing", "b.txt": "bison"})
    with open_library(tmp_path) as lib:
        lib.add_folder(docs)
        lib.update()
        before = os.stat(docs / "a.txt")
        (docs / "a.txt").write_text("walrus resting")  # same length
        os.utime(docs / "a.txt", ns=(before.st_atime_ns, before.st_mtime_ns))
        assert lib.update().changed == 0
        report = lib.update(rehash=True)
        assert (report.changed, report.unchanged) == (1, 1)
        assert lib.search("walrus", mode="keyword").hits
    assert "--rehash" in run_cli("index", "--help", data_dir=tmp_path / "cli").stdout



def test_ctrl_c_ignored_by_the_caller_stays_ignored_while_embedding_finishes():
    """A run started with SIGINT ignored (a background job, nohup) must not start reacting to it."""
    from librarian.engine.indexer import _ctrl_c_cancels
    from librarian.engine.results import IndexControl

    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        control = IndexControl()
        with _ctrl_c_cancels(control):
            assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
            signal.raise_signal(signal.SIGINT)
        assert not control.cancelled
    finally:
        signal.signal(signal.SIGINT, previous)
