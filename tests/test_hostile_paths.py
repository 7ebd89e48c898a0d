"""File names that are not UTF-8 (Linux allows any bytes): stored losslessly, shown with U+FFFD.

``caf\\xe9.txt``, ``caf\\xe8.txt`` and a file literally named ``caf\\ufffd.txt`` look the same on
screen; they must stay three documents, each found by its own words, each hit opening its own file.
To add a probe: make files with `write_raw` (or the `three` fixture), open a `library`, look.
"""

from __future__ import annotations

import base64
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import fake_model
from librarian.engine.extract import extract
from librarian.engine.library import DB_NAME, Library
from librarian.engine.paths import display_path, is_lossy, key_path, path_json, path_key
from librarian.engine.results import SearchFilters

# name -> words only that file holds
THREE = {
    b"caf\xe9.txt": "Notes about espresso crema and grinder burrs.",
    b"caf\xe8.txt": "The lighthouse keeper wrote in his logbook about storms.",
    "caf\ufffd.txt".encode(): "Glacier icebergs calving into the fjord at dawn.",
}


def write_raw(folder: Path | str, name: bytes, text: str) -> str:
    """Create ``folder/name`` (``name`` as raw bytes); returns its OS path (str, surrogate escapes)."""
    raw = os.path.join(os.fsencode(folder), name)
    try:
        with open(raw, "wb") as fh:
            fh.write(text.encode())
    except OSError:
        pytest.skip("this file system refuses names that are not UTF-8")
    return os.fsdecode(raw)


def mkdir_raw(folder: Path | str, name: bytes) -> str:
    raw = os.path.join(os.fsencode(folder), name)
    try:
        os.mkdir(raw)
    except OSError:
        pytest.skip("this file system refuses names that are not UTF-8")
    return os.fsdecode(raw)


def find(library: Library, words: str, **kwargs):
    """The hits for ``words`` by keyword (deterministic with the fake encoder)."""
    return library.search(words, mode="keyword", **kwargs).hits


pytestmark = pytest.mark.skipif(sys.platform in ("win32", "darwin"),
                                reason="only Linux-like file systems take names that are not UTF-8")


@pytest.fixture
def three(tmp_path: Path) -> dict[bytes, str]:
    """A folder holding the three look-alike names: name bytes -> OS path."""
    root = tmp_path / "docs"
    root.mkdir()
    return {name: write_raw(root, name, text) for name, text in THREE.items()}


@pytest.fixture
def library(data_dir: Path):
    lib = Library.open(data_dir, model=fake_model(), extract=extract)
    yield lib
    lib.close()


def indexed(library: Library, folder: Path | str) -> Library:
    library.add_folder(folder)
    library.update()
    return library


# -- the key -------------------------------------------------------------------------------------------

NAMES = [b"plain.txt", b"caf\xe9.txt", b"caf\xe8.txt", "caf\ufffd.txt".encode(), "\uef80x".encode(),
         "\uefe9".encode(), b"\xee\xbe", b"dir\xff/sub\xfe/f\xc3\xa9\xe9.md", "日本語/ノート.md".encode(), b"\xed\xa0\x80"]


def test_path_key_is_valid_utf8_one_to_one_and_reversible():
    keys = {}
    for name in NAMES:
        path = os.fsdecode(name)
        key = path_key(path)
        key.encode("utf-8")  # storable in SQLite and JSON
        assert key_path(key) == path
        assert os.fsencode(key_path(key)) == name
        keys[key] = name
    assert len(keys) == len(NAMES), "two names share a key"


def test_path_key_keeps_valid_names_and_prefixes():
    assert path_key("/home/ana/notes/caf\u00e9.txt") == "/home/ana/notes/caf\u00e9.txt"  # old indexes stay valid
    folder, name = os.fsdecode(b"/r\xe9sum\xe9s"), os.fsdecode(b"caf\xe9.txt")
    assert path_key(folder + "/" + name) == path_key(folder) + "/" + path_key(name)


def test_display_form_and_json_form():
    path = os.fsdecode(b"/d/caf\xe9.txt")
    assert display_path(path) == "/d/caf\ufffd.txt"
    assert is_lossy(path) and not is_lossy("/d/caf\ufffd.txt")
    shown = path_json(path)
    assert shown["path"] == "/d/caf\ufffd.txt"
    assert base64.b64decode(shown["path_bytes"]) == b"/d/caf\xe9.txt"
    assert path_json("/d/caf\ufffd.txt") == {"path": "/d/caf\ufffd.txt"}


# -- the library ---------------------------------------------------------------------------------------


def test_three_look_alike_names_are_three_documents_each_opening_its_own_file(library, three, tmp_path):
    indexed(library, tmp_path / "docs")
    assert library.status().documents == 3
    for name, text in THREE.items():
        hits = find(library, text.split()[2])
        assert [os.fsencode(h.path) for h in hits] == [os.fsencode(three[name])]
        with open(hits[0].path, encoding="utf-8") as fh:
            assert fh.read() == text  # the hit opens the file it was found in
        assert hits[0].display_path.endswith("caf\ufffd.txt")
        payload = json.dumps(hits[0].to_json(), ensure_ascii=False).encode("utf-8")  # valid UTF-8
        raw = json.loads(payload).get("path_bytes")
        assert (base64.b64decode(raw) if raw else json.loads(payload)["path"].encode()) == os.fsencode(three[name])
        context = library.passage_context(hits[0].passage_id)
        assert context.path == three[name] and text.split()[2] in context.text


def test_keys_are_stable_across_updates_forget_and_reindex(library, three, tmp_path):
    indexed(library, tmp_path / "docs")
    again = library.update()
    assert (again.unchanged, again.added, again.removed) == (3, 0, 0)
    assert library.forget(tmp_path / "docs") == 3
    assert library.status().documents == 0
    indexed(library, tmp_path / "docs")
    assert library.status().documents == 3


def test_a_move_and_a_delete_touch_only_their_own_file(library, three, tmp_path):
    indexed(library, tmp_path / "docs")
    moved = os.fsdecode(os.path.join(os.fsencode(tmp_path / "docs"), b"caf\xe7.txt"))
    os.rename(three[b"caf\xe9.txt"], moved)
    os.remove(three[b"caf\xe8.txt"])
    report = library.update()
    assert (report.moved, report.removed) == (1, 1)
    assert [h.path for h in find(library, "espresso")] == [moved]
    assert find(library, "lighthouse") == ()
    assert [h.path for h in find(library, "icebergs")] == [three["caf\ufffd.txt".encode()]]


def test_an_old_lossy_row_is_picked_up_under_its_new_key(library, tmp_path, data_dir):
    """Before keys, a non-UTF-8 name was stored in its U+FFFD form: the next update moves it."""
    (tmp_path / "docs").mkdir()
    path = write_raw(tmp_path / "docs", b"caf\xe9.txt", THREE[b"caf\xe9.txt"])
    indexed(library, tmp_path / "docs")
    with sqlite3.connect(data_dir / DB_NAME) as conn:
        conn.execute("UPDATE documents SET path = ?", (display_path(path),))
    report = library.update()
    assert report.moved == 1 and library.status().documents == 1
    assert [h.path for h in find(library, "espresso")] == [path]


def test_a_duplicate_keeps_its_real_path(library, tmp_path):
    (tmp_path / "docs").mkdir()
    first = write_raw(tmp_path / "docs", b"a.txt", "Sourdough starter needs daily feeding.")
    copy = write_raw(tmp_path / "docs", b"b\xe9.txt", "Sourdough starter needs daily feeding.")
    indexed(library, tmp_path / "docs")
    (hit,) = find(library, "sourdough")
    assert (hit.path, hit.duplicates) == (first, (copy,))  # the first indexed is shown, its copy listed
    shown = hit.to_json()
    assert shown["duplicates"] == [display_path(copy)]
    assert [base64.b64decode(raw) for raw in shown["duplicates_bytes"]] == [os.fsencode(copy)]


def test_folder_filter_and_roots_with_names_that_are_not_utf8(library, tmp_path):
    base = tmp_path / "lib"
    base.mkdir()
    root = mkdir_raw(base, b"r\xe9sum\xe9s")
    inside, beside = mkdir_raw(root, b"dossier-\xff"), mkdir_raw(root, b"dossier-\xfe")
    write_raw(inside, b"a.txt", "kayak paddles")
    write_raw(beside, b"b.txt", "kayak helmets")
    indexed(library, root)
    assert library.roots() == [root]
    assert [os.path.dirname(h.path) for h in find(library, "kayak", filters=SearchFilters(folder=inside))] == [inside]
    assert len(find(library, "kayak", filters=SearchFilters(folder=root))) == 2
    assert library.forget(library.roots()[0]) == 2


def test_failures_keep_the_real_path(library, tmp_path):
    (tmp_path / "docs").mkdir()
    broken = write_raw(tmp_path / "docs", b"r\xe9port.pdf", "not a pdf at all")
    indexed(library, tmp_path / "docs")
    failures = library.status().failed
    assert [f.path for f in failures] == [broken]
    shown = json.loads(json.dumps(library.status().to_json(), ensure_ascii=False).encode("utf-8"))
    assert base64.b64decode(shown["failed"][0]["path_bytes"]) == os.fsencode(broken)


def test_cli_output_is_utf8_and_names_the_file(three, tmp_path):
    env = {**os.environ, "LIBRARIAN_DATA_DIR": str(tmp_path / "data")}
    exe = str(Path(sys.executable).with_name("librarian"))
    run = lambda *args: subprocess.run([exe, *args], env=env, capture_output=True, timeout=300)  # noqa: E731
    assert run("index", "-q", str(tmp_path / "docs")).returncode == 0
    out = run("search", "--json", "--mode", "keyword", "espresso")
    assert out.returncode == 0, out.stderr
    (hit,) = json.loads(out.stdout.decode("utf-8"))
    assert base64.b64decode(hit["path_bytes"]) == os.fsencode(three[b"caf\xe9.txt"])
    text = run("search", "--mode", "keyword", "espresso")
    assert text.returncode == 0 and b"Traceback" not in text.stderr
    assert "caf\ufffd.txt" in text.stdout.decode("utf-8")
    status = run("status")
    assert status.returncode == 0 and b"Traceback" not in status.stderr


# -- the window ----------------------------------------------------------------------------------------


def test_the_window_shows_u_fffd_and_opens_the_right_file(qtbot, three, tmp_path, library):
    from librarian.desktop._testing import make_context
    from librarian.desktop.actions import file_url
    from librarian.desktop.results_model import Role
    from librarian.desktop.window import MainWindow

    indexed(library, tmp_path / "docs")
    window = MainWindow(make_context(tmp_path, lambda: library))
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.snapshot is not None)
    with qtbot.waitSignal(window.results_shown, timeout=5000):
        qtbot.keyClicks(window.bar.box, "lighthouse")
    hit = window.model.hit(0)
    assert hit.path == three[b"caf\xe8.txt"]
    assert window.model.data(window.model.index(0), Role.FILE_NAME) == "caf\ufffd.txt"
    window.list.setCurrentIndex(window.model.index(0))
    qtbot.waitUntil(lambda: window.preview.hit is not None)
    assert "caf\ufffd.txt" in window.preview.path.text()
    window.preview.open_button.click()
    window.preview.copy_button.click()
    actions = window.context.actions
    assert actions.opened == [three[b"caf\xe8.txt"]]  # the surrogate-escaped path, not caf.txt
    assert actions.copied == [Path(hit.path).as_uri()]  # no text holds the name's bytes; its URL does
    assert bytes(file_url(hit.path).toEncoded().data()).endswith(b"/caf%E8.txt")
    window.close()


def test_the_watcher_follows_a_root_whose_name_is_not_utf8(library, tmp_path):
    import threading

    from librarian.engine.watch import Watcher

    root = mkdir_raw(tmp_path, b"r\xe9sum\xe9s")
    indexed(library, root)
    updated = threading.Event()
    watcher = Watcher(library, quiet_seconds=0.2, on_update=lambda _report: updated.set())
    watcher.start()
    try:
        write_raw(root, b"caf\xe9.txt", THREE[b"caf\xe9.txt"])
        assert updated.wait(30)
        assert [os.fsencode(h.path) for h in find(library, "espresso")] == [os.path.join(os.fsencode(root),
                                                                                         b"caf\xe9.txt")]
    finally:
        watcher.stop()


def test_roots_that_are_not_utf8_survive_the_library_panel_and_the_folder_filter(qtbot, tmp_path):
    from librarian.desktop.library_panel import LibraryDialog, LibrarySnapshot
    from librarian.desktop.search_bar import SearchBar
    from librarian.engine.results import Status

    root = mkdir_raw(tmp_path, b"r\xe9sum\xe9s")
    status = Status(roots=(root,), documents=0, passages=0, embedded=0, failed=(), model="", data_dir="")
    dialog = LibraryDialog()
    qtbot.addWidget(dialog)
    dialog.set_snapshot(LibrarySnapshot(status))
    dialog.roots.setCurrentRow(0)
    assert dialog.current_root() == root and "\ufffd" in dialog.roots.item(0).text()
    with qtbot.waitSignal(dialog.remove_requested) as removed:
        dialog.remove_button.click()
    assert removed.args == [root]  # what `Library.forget` takes back
    bar = SearchBar()
    qtbot.addWidget(bar)
    bar.set_roots(status.roots)
    bar.folder.setCurrentIndex(1)
    assert bar.folder.currentText().endswith("r\ufffdsum\ufffds")
    filters = bar.filters()
    assert filters is not None and filters.folder == root
