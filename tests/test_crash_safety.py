"""SIGKILL the indexer at several points, re-run it: the index is whole, nothing is duplicated."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import fake_model
from librarian.engine.extract import extract
from librarian.engine.library import Library

RUNNER = Path(__file__).parent / "crash_runner.py"
DOCS = 24


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    root = tmp_path / "docs"
    root.mkdir()
    for i in range(DOCS):
        sentences = " ".join(f"Document {i} sentence {j} talks about topic{i} and shared words." for j in range(12))
        (root / f"doc{i:02}.txt").write_text(sentences)
    return root


def run(data_dir: Path, docs: Path, point: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(RUNNER), str(data_dir), str(docs), point],
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("point", ["extract", "after-commit", "during-save", "mid-embed"])
def test_killed_indexer_recovers_on_rerun(tmp_path, docs, point):
    data_dir = tmp_path / "data"
    killed = run(data_dir, docs, point)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    finished = run(data_dir, docs, "none")
    assert finished.returncode == 0, finished.stderr
    with Library.open(data_dir, model=fake_model(), extract=extract) as lib:
        check = lib.check()
        assert check.ok, check
        assert check.duplicates == 0 and check.missing == 0 and check.orphans == 0
        status = lib.status()
        assert status.documents == DOCS and not status.failed
        assert status.embedded == status.passages == check.vectors_indexed
        paths = {Path(h.path).name for h in lib.search("topic7", mode="keyword", k=50).hits}
        assert paths == {"doc07.txt"}
        rows = lib._reader().conn.execute("SELECT count(*), count(DISTINCT path) FROM documents").fetchone()
        assert rows[0] == rows[1] == DOCS
