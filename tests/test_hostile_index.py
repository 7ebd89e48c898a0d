"""A hostile index: damaged SQLite pages, damaged vector bytes, a full disk, a shared data dir, a
check racing an index run, a folder where the vector file belongs (issue 10).

Each probe is a few lines on top of the helpers below: `build` makes a real index with the fake
encoder, `damage_pages` / `damage_vectors` write random bytes over part of a file, `run_cli` runs the
installed `librarian` in a subprocess, `one_line_error` checks what the user sees, `modes` lists the
permission bits of everything in the data dir.
"""

from __future__ import annotations

import json
import os
import random
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import fake_model
from librarian.engine import vectors as vectors_module
from librarian.engine.cli import main as cli_main
from librarian.engine.errors import (
    DataDirError,
    DiskFullError,
    IndexDamagedError,
    IndexError_,
    IndexLockedError,
)
from librarian.engine.extract import extract
from librarian.engine.library import DB_NAME, VECTORS_NAME, Library, set_aside_damaged_index
from librarian.engine.lock import WriterLock
from librarian.engine.store import Store

posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX file system semantics")
LIBRARIAN = Path(sys.executable).with_name("librarian")
WORDS = ["alpaca", "bison", "camel", "dingo", "eland", "ferret", "gazelle", "heron", "ibis", "jackal", "kudu",
         "lemur", "marmot", "newt", "ocelot", "puffin", "quail", "raven", "stoat", "tapir"]


# ------------------------------------------------------------------------------------------ helpers


def write_docs(root: Path, count: int = 40, words: int = 300) -> Path:
    """``count`` text files of ``words`` animal names each, every third word ``marker<i>``: the query
    "marker7" finds doc007.txt by meaning too (with the fake encoder) and by words."""
    rng = random.Random(count)
    root.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        text = " ".join(f"marker{i}" if n % 3 == 0 else rng.choice(WORDS) for n in range(words))
        (root / f"doc{i:03}.txt").write_text(text)
    return root


def build(tmp_path: Path, *, model=None, embed: bool = True, count: int = 40) -> Path:
    """A real index of ``count`` documents in ``tmp_path/data`` (fake encoder unless ``model``)."""
    data = tmp_path / "data"
    with Library.open(data, model=model or fake_model(), extract=extract) as lib:
        lib.add_folder(write_docs(tmp_path / "docs", count))
        lib.update(embed=embed)
    return data


def open_library(data: Path, model=None) -> Library:
    return Library.open(data, model=model or fake_model(), extract=extract)


def damage_pages(db: Path, *, pages: int = 8, seed: int = 7) -> None:
    """Random bytes over ``pages`` pages spread through the second half of the file (page 1, the
    header, stays intact: SQLite then opens the file and finds the damage where it reads)."""
    conn = sqlite3.connect(db)
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.close()
    total = db.stat().st_size // page_size
    rng = random.Random(seed)
    with open(db, "r+b") as fh:
        for page in np.linspace(total // 2, total - 1, pages).astype(int):
            fh.seek(int(page) * page_size + 8)
            fh.write(rng.randbytes(page_size - 16))


def damage_vectors(data: Path) -> int:
    """Random bytes over the region of ``vectors.usearch`` that holds the vectors (found by looking
    for SQLite's copies in the file, so no knowledge of the format is needed). Returns bytes changed."""
    path = data / VECTORS_NAME
    raw = bytearray(path.read_bytes())
    conn = sqlite3.connect(data / DB_NAME)
    rows = conn.execute("SELECT vector FROM passages WHERE vector IS NOT NULL").fetchall()
    conn.close()
    offsets = [raw.find(row[0]) for row in rows]
    assert min(offsets) >= 0, "vectors not stored verbatim: the probe needs another way in"
    start, end = min(offsets), max(offsets) + len(rows[0][0])
    raw[start:end] = random.Random(3).randbytes(end - start)
    path.write_bytes(bytes(raw))
    return end - start


def run_cli(*args: str, data: Path, timeout: int = 240) -> subprocess.CompletedProcess:
    return subprocess.run([str(LIBRARIAN), "--data-dir", str(data), *args], capture_output=True, text=True,
                          timeout=timeout)


def one_line_error(done: subprocess.CompletedProcess | tuple, *needles: str, status: int = 1) -> str:
    """The command failed with ``status`` and one line on stderr naming each needle, no traceback."""
    code, err = (done.returncode, done.stderr) if isinstance(done, subprocess.CompletedProcess) else done
    assert code == status, err
    assert "Traceback" not in err and err.count("\n") == 1 and err.startswith("librarian: error:"), err
    for needle in needles:
        assert needle in err, err
    return err


def cli(capsys, *argv: str) -> tuple[int, str, str]:
    """The CLI in this process (fast; the fake model is not reachable from a subprocess)."""
    code = cli_main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def modes(folder: Path) -> dict[str, str]:
    return {p.name: oct(stat.S_IMODE(p.stat().st_mode)) for p in sorted(folder.iterdir())}


def top_hit(lib: Library, query: str, mode: str = "dense") -> str:
    return Path(lib.search(query, k=1, mode=mode).hits[0].path).name


# --------------------------------------------------------------------------- damaged SQLite pages


@pytest.fixture(scope="module")
def damaged(tmp_path_factory, real_model) -> Path:
    """An index with damaged pages, made for the shipped model (so the CLI finds its own model),
    without embeddings (encoding is not what this is about)."""
    root = tmp_path_factory.mktemp("damaged")
    data = build(root, model=real_model, embed=False, count=120)
    damage_pages(data / DB_NAME, pages=12)
    return data


@pytest.mark.parametrize("command", [["status"], ["check"], ["index", "-q"], ["search", "marker7"]])
def test_a_damaged_index_gives_one_clear_line_everywhere(damaged, command):
    err = one_line_error(run_cli(*command, data=damaged), "is damaged", "files are untouched",
                         "librarian check --repair")
    assert "malformed" in err or "page" in err  # SQLite's own words, for whoever investigates


def test_check_repair_keeps_the_damaged_file_and_starts_over_with_the_roots(tmp_path, real_model):
    data = build(tmp_path, model=real_model, embed=False, count=60)
    damage_pages(data / DB_NAME)
    damaged_bytes = (data / DB_NAME).read_bytes()
    done = run_cli("check", "--repair", "--json", data=data)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["repaired"] is True and report["ok"] is True and report["passages"] == 0
    assert "kept as" in done.stderr and "librarian index" in done.stderr and "Traceback" not in done.stderr
    kept = list(data.glob(f"{DB_NAME}.damaged-*"))
    assert [p.read_bytes() for p in kept if not p.name.endswith(("-wal", "-shm"))] == [damaged_bytes]
    assert json.loads(run_cli("status", "--json", data=data).stdout)["roots"] == [str(tmp_path / "docs")]
    assert run_cli("index", "-q", "--no-embed", data=data).returncode == 0
    found = run_cli("search", "marker7", "--mode", "keyword", "--json", data=data)
    assert json.loads(found.stdout)[0]["path"].endswith("doc007.txt")
    assert run_cli("check", data=data).returncode == 0


def test_a_file_that_is_no_database_at_all_is_damaged_and_set_aside(tmp_path):
    data = build(tmp_path)
    with open(data / DB_NAME, "r+b") as fh:
        fh.write(b"\0" * 100)  # the header: SQLite no longer recognises the file
    with pytest.raises(IndexDamagedError, match="is damaged"):
        open_library(data)
    kept, roots = set_aside_damaged_index(data)
    assert kept.exists() and roots == ()  # nothing could be read back, and nothing was deleted
    with open_library(data) as lib:
        assert lib.status().documents == 0 and lib.check().ok


def test_an_unexpected_error_on_a_damaged_index_is_explained_and_a_bug_is_not_hidden(tmp_path, capsys,
                                                                                      monkeypatch):
    data = build(tmp_path)
    monkeypatch.setattr(Library, "search", lambda *a, **k: {}["row that vanished"])  # a KeyError
    monkeypatch.setattr("librarian.engine.cli.search.open_library", lambda args: open_library(data))
    with pytest.raises(KeyError):  # the index is sound: a bug shows its traceback
        cli(capsys, "--data-dir", str(data), "search", "alpaca")
    damage_pages(data / DB_NAME)
    code, _, err = cli(capsys, "--data-dir", str(data), "search", "alpaca")
    one_line_error((code, err), "is damaged")


def test_check_repair_never_says_repaired_when_not_ok(tmp_path, monkeypatch):
    data = build(tmp_path)
    monkeypatch.setattr(vectors_module.VectorCache, "mismatched", lambda self, store, sample=None: 1)
    with open_library(data) as lib:
        report = lib.check(repair=True)
    assert report.ok is False and report.repaired is False


# ---------------------------------------------------------------------------- damaged vector bytes


def test_damaged_vectors_are_caught_at_open_by_check_and_healed_by_repair(tmp_path):
    data = build(tmp_path)
    with open_library(data) as lib:
        assert top_hit(lib, "marker7") == "doc007.txt"
        assert lib.check().ok
    damage_vectors(data)
    with open_library(data) as lib:
        assert top_hit(lib, "marker7") == "doc007.txt"  # the open probe rebuilt the cache
        report = lib.check()
        assert report.ok is False and report.mismatched > 0 and report.missing == report.orphans == 0
        fixed = lib.check(repair=True)
        assert fixed.ok and fixed.repaired and fixed.mismatched == 0
    with open_library(data) as lib:
        assert lib.check().ok and top_hit(lib, "marker7") == "doc007.txt"


def test_a_folder_where_the_vector_file_belongs_is_never_deleted(tmp_path):
    data = build(tmp_path)
    (data / VECTORS_NAME).unlink()
    (data / VECTORS_NAME).mkdir()
    (data / VECTORS_NAME / "keep.txt").write_text("someone's file")
    with open_library(data) as lib:
        assert top_hit(lib, "marker3") == "doc003.txt"  # rebuilt in memory from SQLite
        (tmp_path / "docs" / "new.txt").write_text("walrus")
        with pytest.raises(IndexError_, match="is a folder.*move it out"):
            lib.update()
        with pytest.raises(IndexError_, match="is a folder"):
            lib.check(repair=True)
    assert (data / VECTORS_NAME / "keep.txt").read_text() == "someone's file"


# --------------------------------------------------------------------------------------- disk full


def test_a_failed_vector_save_is_disk_full_and_leaves_no_temporary_file(tmp_path, monkeypatch):
    data = build(tmp_path)
    before = (data / VECTORS_NAME).read_bytes()

    def short_write(self, path=None, **_):
        Path(path).write_bytes(b"\0" * 100)  # what usearch leaves when the disk fills up
        raise RuntimeError("Failed to serialize into stream")

    monkeypatch.setattr(vectors_module.Index, "save", short_write)
    usage = vectors_module.shutil.disk_usage(data)
    monkeypatch.setattr(vectors_module.shutil, "disk_usage", lambda p: usage._replace(free=10))
    with open_library(data) as lib:
        with pytest.raises(DiskFullError, match=f"disk is full in {data}.*nothing was lost"):
            lib.vectors.save(generation=99, model_id="fake-64")
        monkeypatch.setattr(vectors_module.shutil, "disk_usage", lambda p: usage._replace(free=10**12))
        with pytest.raises(IndexError_, match="cannot save the vector index.*Failed to serialize"):
            lib.vectors.save(generation=99, model_id="fake-64")
    assert not list(data.glob("*.tmp")) and (data / VECTORS_NAME).read_bytes() == before


def test_a_silent_short_write_never_replaces_the_vector_file(tmp_path, monkeypatch):
    """usearch can return without error after writing too little on a full disk (a 0-byte file was seen)."""
    data = build(tmp_path)
    before = (data / VECTORS_NAME).read_bytes()
    monkeypatch.setattr(vectors_module.Index, "save", lambda self, path=None, **_: Path(path).write_bytes(b""))
    with open_library(data) as lib, pytest.raises(DiskFullError):
        lib.vectors.save(generation=99, model_id="fake-64")
    assert not list(data.glob("*.tmp")) and (data / VECTORS_NAME).read_bytes() == before


def test_sqlite_running_out_of_space_is_disk_full(tmp_path):
    store = Store(tmp_path / DB_NAME)
    store.conn.execute("PRAGMA max_page_count = 40")  # SQLite's own SQLITE_FULL, as on a full disk
    with pytest.raises(DiskFullError, match="nothing was lost"), store.transaction():
        for i in range(400):
            store.set_meta(f"k{i}", "x" * 1000)
    assert store.get_meta("k1") is None  # rolled back, the file still usable
    store.close()


@pytest.fixture
def small_disk(tmp_path):
    """A real 1 MB tmpfs (root only, where mount works); skipped elsewhere. Yields (dir, grow)."""
    mount = tmp_path / "small"
    mount.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)],
                                           capture_output=True, timeout=30).returncode != 0:
        pytest.skip("needs root and tmpfs to make a small real disk")

    def grow() -> None:
        subprocess.run(["mount", "-o", "remount,size=16m", str(mount)], check=True, timeout=30)

    try:
        yield mount, grow
    finally:
        subprocess.run(["umount", "-l", str(mount)], timeout=30)


@posix_only
def test_a_real_full_disk_loses_nothing_and_heals_once_space_is_freed(tmp_path, small_disk):
    mount, grow = small_disk
    data = mount / "data"
    docs = write_docs(tmp_path / "docs", count=120)
    with Library.open(data, model=fake_model(), extract=extract) as lib:
        lib.add_folder(docs)
        with pytest.raises(DiskFullError, match=f"disk is full in {data}"):
            lib.update()
        assert not list(data.glob("*.tmp"))
        partial = lib.status().documents  # what was committed before the disk filled is kept
        grow()
        report = lib.update()
        assert report.added == 120 - partial and lib.check().ok
        assert top_hit(lib, "marker42", mode="hybrid") == "doc042.txt"


# ------------------------------------------------------------------------- data dir and its files


@posix_only
def test_a_shared_folder_is_refused_and_left_as_it_was(tmp_path, capsys):
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "someone-else.txt").write_text("x")
    os.chmod(shared, 0o1777)
    code, _, err = cli(capsys, "--data-dir", str(shared), "status")
    one_line_error((code, err), "already holds other files", str(shared))
    assert stat.S_IMODE(shared.stat().st_mode) == 0o1777 and sorted(os.listdir(shared)) == ["someone-else.txt"]
    (shared / "someone-else.txt").unlink()
    with pytest.raises(DataDirError, match="shared folder"):  # empty, but sticky and world-writable
        open_library(shared)
    assert stat.S_IMODE(shared.stat().st_mode) == 0o1777


@posix_only
def test_every_file_librarian_creates_is_private(tmp_path):
    data = build(tmp_path)
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    files = modes(data)
    assert {DB_NAME, VECTORS_NAME, "lock"} <= set(files)
    assert set(files.values()) == {"0o600"}, files


@posix_only
def test_an_existing_data_dir_is_made_private_again(tmp_path):
    data = build(tmp_path)
    os.chmod(data, 0o755)
    os.chmod(data / "lock", 0o644)  # as an older version left it
    with open_library(data) as lib:
        lib.update()
    assert stat.S_IMODE(data.stat().st_mode) == 0o700 and modes(data)["lock"] == "0o600"
    empty = tmp_path / "empty"
    empty.mkdir(mode=0o755)
    open_library(empty).close()  # an empty folder handed to us becomes the data dir
    assert stat.S_IMODE(empty.stat().st_mode) == 0o700


# --------------------------------------------------------------------------- check vs an index run


def test_check_during_an_index_run_says_so_and_exits_75(tmp_path, capsys, monkeypatch):
    data = build(tmp_path)
    writer = WriterLock(data / "lock")  # another process's index run, as far as flock can tell
    writer.acquire()
    try:
        with open_library(data) as lib, pytest.raises(IndexLockedError, match="index run is in progress"):
            lib.check()
        monkeypatch.setattr("librarian.engine.cli.admin.open_library", lambda args: open_library(data))
        code, _, err = cli(capsys, "--data-dir", str(data), "check")
        one_line_error((code, err), "check again when it ends", status=75)
    finally:
        writer.release()
    with open_library(data) as lib:
        assert lib.check().ok


def test_a_check_that_raced_a_writer_reports_no_false_problem(tmp_path, monkeypatch):
    data = build(tmp_path)
    with open_library(data) as lib:
        def a_writer_came_and_went(self, store, sample=None):
            Store(data / DB_NAME).bump_vectors_generation()
            return 1  # what the half-written files looked like

        monkeypatch.setattr(vectors_module.VectorCache, "mismatched", a_writer_came_and_went)
        with pytest.raises(IndexLockedError, match="index run is in progress"):
            lib.check()


def test_damaged_index_errors_survive_pickling():
    import pickle

    error = pickle.loads(pickle.dumps(IndexDamagedError(Path("/d"), "database disk image is malformed")))
    assert "is damaged" in str(error) and error.detail == "database disk image is malformed"
    assert "nothing was lost" in str(pickle.loads(pickle.dumps(DiskFullError(Path("/d")))))
