"""The watcher re-indexes what changes on disk, and is not woken by its own reading of files."""

from __future__ import annotations

import threading
from pathlib import Path

from conftest import fake_model
from librarian.engine.extract import extract
from librarian.engine.library import Library
from librarian.engine.watch import Watcher


def test_new_changed_and_deleted_files_are_picked_up(tmp_path: Path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("Alpacas graze on the high plateau.")
    reports = []
    updated = threading.Event()

    def on_update(report):
        reports.append(report)
        updated.set()

    with Library.open(tmp_path / "data", model=fake_model(), extract=extract) as lib:
        lib.add_folder(docs)
        lib.update()
        watcher = Watcher(lib, quiet_seconds=0.2, on_update=on_update)
        watcher.start()
        try:
            (docs / "b.txt").write_text("Bison roam the northern prairie.")
            assert updated.wait(20)
            assert lib.search("bison", mode="keyword").hits
            updated.clear()
            (docs / "a.txt").unlink()
            assert updated.wait(20)
            assert not lib.search("alpacas", mode="keyword").hits
            # our own update read the files: no further update may follow from that alone
            updated.clear()
            assert not updated.wait(1.5)
        finally:
            watcher.stop()
    assert sum(r.added for r in reports) == 1 and sum(r.removed for r in reports) == 1
