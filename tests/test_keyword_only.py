"""Changelogs, NEWS files and logs (*.log is not read at all) are kept for words only: searchable by keyword from the first minute, never
embedded, and counted apart so "meaning: 100%" is reachable (engine/embed_order.py `KEYWORD_ONLY`)."""

from __future__ import annotations

from pathlib import Path

from conftest import fake_model
from librarian.engine.embed_order import embedded
from librarian.engine.extract import extract
from librarian.engine.library import Library


def test_changelogs_and_logs_are_searchable_by_words_and_never_embedded(tmp_path: Path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "CHANGELOG.md").write_text("# Changelog\n\n## 2.4.1\n\n- fs.watch no longer leaks handles (#4411)\n")
    (docs / "NEWS").write_text("Release 3.2: the backup job stops with a clear error when the disk quota is exceeded.\n")
    (docs / "notes.md").write_text("# Garden\n\nThe roses need pruning in March, before the buds open.\n")
    with Library.open(tmp_path / "data", model=fake_model(), extract=extract) as lib:
        lib.add_folder(docs)
        lib.update()
        status = lib.status()
        assert status.keyword_only == 2 and status.embedded == status.to_embed == status.passages - 2
        found = {Path(h.path).name for h in lib.search("quota exceeded", mode="keyword").hits}
        assert found == {"NEWS"}
        assert [Path(h.path).name for h in lib.search("fs.watch").hits][0] == "CHANGELOG.md"
        assert lib.check().ok
        lib.update()  # nothing left to embed: a second run does not try
        assert lib.status().embedded == status.embedded


def test_what_counts_as_keyword_only():
    assert not embedded("markdown", "/p/CHANGELOG.md") and not embedded("text", "/p/NEWS")
    assert not embedded("text", "/var/log/syslog.log")
    assert embedded("markdown", "/p/README.md") and embedded("pdf", "/p/changelog.pdf")  # a PDF is a document
