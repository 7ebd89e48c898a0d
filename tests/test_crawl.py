"""The crawler: what it yields, what it skips, what it reports, and `is_excluded` agreeing with it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from librarian.engine import crawl as crawl_module
from librarian.engine.crawl import FoundFile, crawl, display_path, human_size, is_excluded
from librarian.engine.errors import ExtractionError
from librarian.engine.extract import extract

posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX file system semantics")


def _touch(root: Path, rel: str, data: str = "text") -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(data)
    return path


def _walk(root: Path, **kwargs) -> tuple[list[str], list[tuple[str, str]]]:
    problems: list[tuple[str, str]] = []
    found = list(crawl(root, on_problem=lambda p, r: problems.append((os.path.relpath(p, root), r)), **kwargs))
    return [os.path.relpath(f.path, root).replace(os.sep, "/") for f in found], problems


def test_yields_supported_files_sorted_with_stat_and_kind(tmp_path):
    _touch(tmp_path, "b.md", "# B")
    _touch(tmp_path, "a.txt", "hello")
    _touch(tmp_path, "sub/c.pdf", "%PDF-")
    _touch(tmp_path, "photo.jpg", "binary")  # not a document: silently skipped
    found = list(crawl(tmp_path))
    assert [f.path.name for f in found] == ["a.txt", "b.md", "c.pdf"]
    a = found[0]
    st = os.stat(tmp_path / "a.txt")
    assert a == FoundFile(path=tmp_path / "a.txt", size=5, mtime_ns=st.st_mtime_ns, kind="text")
    assert [f.kind for f in found] == ["text", "markdown", "pdf"]


def test_hidden_files_and_folders_are_skipped(tmp_path):
    _touch(tmp_path, ".secret.txt")
    _touch(tmp_path, ".git/notes.md")
    _touch(tmp_path, "visible/.cache/x.txt")
    _touch(tmp_path, "visible/ok.txt")
    assert _walk(tmp_path)[0] == ["visible/ok.txt"]


def test_hidden_root_itself_is_walked(tmp_path):
    root = tmp_path / ".notes"
    _touch(root, "inside.md")
    assert _walk(root)[0] == ["inside.md"]


def test_gitignore_and_librarianignore_apply_to_their_subtree(tmp_path):
    _touch(tmp_path, ".gitignore", "*.log.txt\nbuild/\n/top-only.txt\n")
    _touch(tmp_path, "keep.txt")
    _touch(tmp_path, "debug.log.txt")
    _touch(tmp_path, "top-only.txt")
    _touch(tmp_path, "deep/top-only.txt")  # anchored pattern: only the root's copy is ignored
    _touch(tmp_path, "build/out.txt")
    _touch(tmp_path, "src/build/gen.txt")
    _touch(tmp_path, "private/.librarianignore", "diary*.md\n")
    _touch(tmp_path, "private/diary-2024.md")
    _touch(tmp_path, "private/todo.md")
    _touch(tmp_path, "other/diary-2024.md")  # the rule lives in private/, not here
    _touch(tmp_path, "logs/.gitignore", "!important.log.txt\n")
    _touch(tmp_path, "logs/important.log.txt")
    _touch(tmp_path, "logs/noise.log.txt")
    found, _ = _walk(tmp_path)
    assert found == [
        "deep/top-only.txt",
        "keep.txt",
        "logs/important.log.txt",  # re-included by the deeper ignore file
        "other/diary-2024.md",
        "private/todo.md",
    ]
    for rel in found:
        assert not is_excluded(tmp_path / rel, tmp_path)
    for rel in ["debug.log.txt", "build/out.txt", "src/build/gen.txt", "private/diary-2024.md",
                "logs/noise.log.txt", "top-only.txt", ".gitignore"]:
        assert is_excluded(tmp_path / rel, tmp_path), rel


def test_nothing_inside_an_ignored_folder_can_be_reincluded(tmp_path):
    _touch(tmp_path, ".gitignore", "vendor/\n")
    _touch(tmp_path, "vendor/.gitignore", "!*.txt\n")
    _touch(tmp_path, "vendor/lib.txt")
    assert _walk(tmp_path)[0] == []
    assert is_excluded(tmp_path / "vendor" / "lib.txt", tmp_path)


def test_too_large_files_are_reported_not_yielded(tmp_path):
    big = tmp_path / "huge.txt"
    with open(big, "wb") as fh:
        fh.truncate(2 * 1024**3)  # sparse: 2 GB on paper, nothing on disk
    _touch(tmp_path, "small.txt")
    found, problems = _walk(tmp_path)
    assert found == ["small.txt"]
    assert problems == [("huge.txt", "too large (2.0 GB > 256 MB limit)")]


def test_max_file_bytes_is_configurable(tmp_path):
    _touch(tmp_path, "ten.txt", "0123456789")
    found, problems = _walk(tmp_path, max_file_bytes=5)
    assert found == [] and problems == [("ten.txt", "too large (10 bytes > 5 bytes limit)")]


def test_human_size():
    assert human_size(2 * 1024**3) == "2.0 GB"
    assert human_size(256 * 1024**2) == "256 MB"
    assert human_size(1536) == "1.5 KB"
    assert human_size(12) == "12 bytes"


def test_root_may_be_a_single_file(tmp_path):
    path = _touch(tmp_path, "only.md", "# Only")
    assert [f.path for f in crawl(path)] == [path]
    assert list(crawl(_touch(tmp_path, "pic.jpg"))) == []


def test_missing_root_is_reported(tmp_path):
    found, problems = _walk(tmp_path / "nope")
    assert found == [] and problems == [(".", "not found")]


def test_unreadable_folder_is_reported_and_the_walk_goes_on(tmp_path, monkeypatch):
    _touch(tmp_path, "a/locked/x.txt")
    _touch(tmp_path, "b/ok.txt")
    real_scandir = os.scandir
    locked = str(tmp_path / "a" / "locked")

    def scandir(path):  # works as root too, where chmod 000 would not stop us
        if os.fspath(path) == locked:
            raise PermissionError(13, "Permission denied", path)
        return real_scandir(path)

    monkeypatch.setattr(crawl_module.os, "scandir", scandir)
    found, problems = _walk(tmp_path)
    assert found == ["b/ok.txt"]
    assert problems == [("a/locked", "permission denied")]


def test_file_vanishing_mid_walk_is_skipped(tmp_path):
    _touch(tmp_path, "a.txt")
    doomed = _touch(tmp_path, "b.txt")
    _touch(tmp_path, "c.txt")
    names = []
    for found in crawl(tmp_path):
        names.append(found.path.name)
        if found.path.name == "a.txt":
            doomed.unlink()
    assert names == ["a.txt", "c.txt"]


def test_file_deleted_between_crawl_and_extraction(tmp_path):
    _touch(tmp_path, "soon-gone.txt")
    [found] = list(crawl(tmp_path))
    found.path.unlink()
    with pytest.raises(ExtractionError, match="file not found"):
        extract(found.path)


@posix_only
def test_symlink_loop_is_walked_once(tmp_path):
    _touch(tmp_path, "a/doc.txt")
    os.symlink(tmp_path, tmp_path / "a" / "back-to-root")
    os.symlink(tmp_path / "a", tmp_path / "alias-of-a")
    os.symlink("self-loop", tmp_path / "self-loop")  # ELOOP when followed
    found, problems = _walk(tmp_path)
    assert found == ["a/doc.txt"]
    assert problems == []


@posix_only
def test_symlink_leading_outside_the_root_is_not_followed(tmp_path):
    root, outside = tmp_path / "root", tmp_path / "outside"
    _touch(outside, "private.txt")
    _touch(root, "mine.txt")
    _touch(root, "inner/target.md")
    os.symlink(outside, root / "escape-dir")
    os.symlink(outside / "private.txt", root / "escape-file.txt")
    os.symlink(root / "inner" / "target.md", root / "shortcut.md")  # inside: followed
    os.symlink(root / "missing.txt", root / "broken.txt")
    found, _ = _walk(root)
    assert found == ["inner/target.md", "mine.txt", "shortcut.md"]
    assert is_excluded(root / "escape-file.txt", root)
    assert is_excluded(root / "escape-dir" / "private.txt", root)
    assert not is_excluded(root / "shortcut.md", root)


@posix_only
def test_fifo_is_skipped(tmp_path):
    os.mkfifo(tmp_path / "pipe.txt")  # reading it would block the extractor forever
    _touch(tmp_path, "real.txt")
    assert _walk(tmp_path)[0] == ["real.txt"]


@posix_only
def test_non_utf8_file_names_are_yielded_and_displayable(tmp_path):
    raw = os.path.join(os.fsencode(tmp_path), b"r\xe9sum\xe9.txt")
    try:
        with open(raw, "wb") as fh:
            fh.write(b"curriculum vitae")
    except OSError:
        pytest.skip("file system refuses non-UTF-8 names")
    os.mkdir(os.path.join(os.fsencode(tmp_path), b"dossier-\xff"))
    with open(os.path.join(os.fsencode(tmp_path), b"dossier-\xff", b"inner.md"), "wb") as fh:
        fh.write(b"# Inner")
    found = list(crawl(tmp_path))
    assert len(found) == 2
    shown = sorted(display_path(f.path.relative_to(tmp_path)) for f in found)
    assert shown == ["dossier-\ufffd/inner.md", "r\ufffdsum\ufffd.txt"]
    for f in found:
        display_path(f.path).encode("utf-8")  # storable as text
        assert not is_excluded(f.path, tmp_path)
        assert extract(f.path).segments  # and the surrogate-escaped Path still opens the file


def test_is_excluded_rules(tmp_path):
    _touch(tmp_path, "docs/a.md")
    assert not is_excluded(tmp_path / "docs" / "a.md", tmp_path)
    assert not is_excluded(tmp_path / "docs", tmp_path)
    assert not is_excluded(tmp_path, tmp_path)
    assert is_excluded(tmp_path / "docs" / "image.png", tmp_path)
    assert is_excluded(tmp_path / ".hidden" / "a.md", tmp_path)
    assert is_excluded(tmp_path.parent / "elsewhere.md", tmp_path)
    # A deleted folder has no suffix: the caller says it was a folder.
    assert not is_excluded(tmp_path / "gone-folder", tmp_path, is_dir=True)
    assert is_excluded(tmp_path / "gone-folder", tmp_path, is_dir=False)


def test_two_walks_agree(tmp_path):
    for i in range(30):
        _touch(tmp_path, f"d{i % 4}/f{(i * 7) % 30}.txt")
    assert _walk(tmp_path) == _walk(tmp_path)
    found = _walk(tmp_path)[0]
    assert found == sorted(found, key=lambda p: p.split("/"))
