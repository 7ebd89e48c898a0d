"""The repository keeps its promises to a newcomer: test hooks live in tests (the app ships none),
one helper per job (size, display path, checksum), packaging that finds every package by itself,
and documentation whose links, numbers and names match the code."""

from __future__ import annotations

import os
import re
import runpy
import tomllib
from pathlib import Path

import pytest
from fixtures.misbehaving import misbehaving_extractors
from librarian.engine.errors import ExtractionError
from librarian.engine.extract import Extractor, added_extractors, kind_for, register, unregister
from librarian.engine.extract.isolate import ExtractionWorkers

ROOT = Path(__file__).resolve().parent.parent
SOURCE_FOLDERS = ("engine", "desktop", "models")


def _file(folder: Path, name: str | bytes, text: str = "x") -> Path:
    """A file named ``name`` (bytes for a name that is not valid UTF-8) holding ``text``."""
    path = Path(os.fsdecode(os.path.join(os.fsencode(folder), os.fsencode(name))))
    path.write_text(text, encoding="utf-8")
    return path


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _setup_packages(monkeypatch) -> list[str]:
    """The packages setup.py hands to setuptools (run from the repository root, setup() stubbed)."""
    import setuptools

    seen: dict = {}
    monkeypatch.setattr(setuptools, "setup", lambda **kwargs: seen.update(kwargs))
    monkeypatch.chdir(ROOT)
    runpy.run_path(str(ROOT / "setup.py"), run_name="__main__")
    return seen["packages"]


def _relative_links(markdown: Path) -> list[str]:
    """The targets of ``[text](target)`` links that are neither URLs nor anchors."""
    targets = re.findall(r"\]\(([^)\s]+)\)", markdown.read_text(encoding="utf-8"))
    return [t for t in targets if not re.match(r"[a-z]+:|#", t)]


# ------------------------------------------------------------------------- test hooks, not shipped


def test_the_app_has_no_misbehaving_extractors_whatever_the_environment(monkeypatch):
    monkeypatch.setenv("LIBRARIAN_TEST_HANG", "1")  # switched the test hooks on before they moved to tests/
    assert kind_for(Path("stuck.hang")) is None
    assert not (ROOT / "engine" / "extract" / "_testing.py").exists()


def test_registered_extractors_reach_new_worker_processes(tmp_path):
    boom = _file(tmp_path, "parser-bug.boom")
    with misbehaving_extractors(), ExtractionWorkers(timeout_s=60) as pool, pytest.raises(ExtractionError) as info:
        pool.extract(boom)
    assert info.value.reason == "unexpected ZeroDivisionError: kaboom"  # not "unsupported file type"


def test_unregister_gives_a_displaced_built_in_its_suffix_back():
    from fixtures.misbehaving import extract_boom

    register(Extractor("test-markdown", (".md",), extract_boom))
    try:
        assert kind_for("notes.md") == "test-markdown"
        assert [e.kind for e in added_extractors()] == ["test-markdown"]
    finally:
        unregister("test-markdown")
    assert kind_for("notes.md") == "markdown"
    assert added_extractors() == ()


# ----------------------------------------------------------------------------- one helper per job


def test_a_title_from_a_file_name_is_always_valid_text():
    from librarian.engine.extract._common import fallback_title

    assert fallback_title(Path(os.fsdecode(b"caf\xe9-notes.txt"))) == "caf\ufffd-notes"
    assert fallback_title(Path("\ud800.txt")).encode("utf-8")  # a lone surrogate no file name holds


def test_extraction_errors_name_an_undecodable_file_in_valid_text(tmp_path):
    from librarian.engine.extract import extract

    broken = _file(tmp_path, b"caf\xe9.pdf", "not a pdf at all")
    with pytest.raises(ExtractionError) as info:
        extract(broken)
    assert info.value.path == str(tmp_path / "caf\ufffd.pdf")


def test_the_window_and_the_engine_write_sizes_alike():
    from librarian.desktop.formatting import size_text
    from librarian.engine.crawl import human_size

    for size in (12, 1536, 256 * 1024**2, 2 * 1024**3):
        assert size_text(size) == human_size(size)
    assert size_text(256 * 1024**2) == "256 MB"


def test_check_report_json_keeps_its_keys_and_their_order():
    from librarian.engine.results import CheckReport

    report = CheckReport(passages=5, vectors_stored=4, vectors_indexed=3, missing=1, orphans=0,
                         duplicates=0, ok=False)
    assert list(report.to_json().items()) == [
        ("passages", 5), ("vectors_stored", 4), ("vectors_indexed", 3), ("missing", 1), ("orphans", 0),
        ("mismatched", 0), ("duplicates", 0), ("ok", False), ("repaired", False)]


def test_the_model_pipeline_checksums_files_as_the_engine_does():
    from librarian.engine.model_folder import file_sha256
    from librarian.models import teachers

    assert teachers.file_sha256 is file_sha256
    assert not hasattr(teachers, "sha256_file")


# ------------------------------------------------------------------------------------ packaging


def test_every_folder_below_the_sources_is_a_package(monkeypatch):
    scratch = {ROOT / "models" / "_work", ROOT / "models" / "cache"}  # the model pipeline's, git-ignored
    on_disk = set()
    for folder in SOURCE_FOLDERS:
        for directory, subdirs, _files in os.walk(ROOT / folder):
            subdirs[:] = [d for d in subdirs  # a name with a dot cannot be imported (.mypy_cache, ...)
                          if d != "__pycache__" and "." not in d and Path(directory, d) not in scratch]
            on_disk.add("librarian." + ".".join(Path(directory).relative_to(ROOT).parts))
    packages = set(_setup_packages(monkeypatch))
    assert packages == on_disk
    assert {"librarian.engine.demo", "librarian.models.shipped", "librarian.desktop.icons"} <= packages


def test_pyproject_has_one_version_an_spdx_licence_and_only_used_markers():
    config = _pyproject()
    assert config["project"]["license"] == "MIT"
    assert "__version__" not in (ROOT / "engine" / "__init__.py").read_text(encoding="utf-8")
    assert "packages" not in config["tool"]["setuptools"]  # found by setup.py, never listed by hand
    tests = "".join(p.read_text(encoding="utf-8") for p in (ROOT / "tests").rglob("*.py"))
    for marker in config["tool"]["pytest"]["ini_options"].get("markers", []):
        name = marker.split(":")[0].strip()
        assert f"mark.{name}" in tests, f"marker {name!r} is declared but no test uses it"


# ------------------------------------------------------------------------------------ the docs


@pytest.mark.parametrize("document", ["README.md", "docs/architecture.md"])
def test_relative_links_point_inside_the_repository(document):
    path = ROOT / document
    for target in _relative_links(path):
        resolved = (path.parent / target.split("#")[0]).resolve()
        assert resolved.is_relative_to(ROOT), f"{document} links {target}, outside the repository"
        assert resolved.exists(), f"{document} links {target}, which does not exist"


def test_readme_states_the_passage_size_and_fusion_the_code_uses():
    from librarian.engine.indexer import PASSAGE_TARGET_PIECES
    from librarian.engine.search import DENSE_WEIGHT, convex_fuse  # noqa: F401  (the name the README gives)

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"about {PASSAGE_TARGET_PIECES} word pieces" in readme
    assert f"{DENSE_WEIGHT:g} · cosine" in readme and "`convex_fuse`" in readme
    assert "reciprocal rank" not in readme
    assert "docs/architecture.md" in readme
