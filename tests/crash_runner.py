"""Run `Library.update` in a child process and SIGKILL it at a chosen point (used by test_crash_safety).

usage: crash_runner.py DATA_DIR DOCS_DIR POINT
POINT: none | extract | after-commit | during-save | mid-embed
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from conftest import fake_model  # noqa: E402
from librarian.engine import indexer, vector_sync, vectors  # noqa: E402
from librarian.engine.extract import extract  # noqa: E402
from librarian.engine.library import Library  # noqa: E402


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def main() -> None:
    data_dir, docs, point = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
    calls = {"n": 0}
    extract_fn = extract
    if point == "extract":
        def extract_fn(path):  # noqa: F811 - dies in the middle of the run's extraction
            calls["n"] += 1
            if calls["n"] == 7:
                die()
            return extract(path)
    elif point == "after-commit":
        # vectors are committed to SQLite; the USearch file has not been written yet
        vector_sync.VectorSync.save = lambda self: die()  # type: ignore[method-assign]
    elif point == "during-save":
        real_save = vectors.Index.save

        def half_save(self, path=None, *a, **k):
            real_save(self, path, *a, **k)
            with open(path, "r+b") as fh:
                fh.truncate(max(os.path.getsize(path) // 2, 1))
            die()
        vectors.Index.save = half_save  # type: ignore[method-assign]
    elif point == "mid-embed":
        real_set = indexer.Store.set_vectors

        def set_then_die(self, ids, vecs):
            calls["n"] += 1
            if calls["n"] == 2:
                die()
            return real_set(self, ids, vecs)
        indexer.Store.set_vectors = set_then_die  # type: ignore[method-assign]
    indexer.EMBED_BATCH = 8
    indexer.COMMIT_EVERY_FILES = 4
    lib = Library.open(data_dir, model=fake_model(), extract=extract_fn)
    lib.add_folder(docs)
    lib.update()
    lib.close()
    print("finished")


if __name__ == "__main__":
    main()
