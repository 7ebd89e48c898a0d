"""The desktop talks to the engine through its façade only, and the engine never reaches into the desktop.

Two kinds of probe. Import probes read the source with `ast` (nothing is imported): every import of
the engine made in desktop/ names an allowed façade module, and engine/ imports neither desktop/ nor
Qt. Façade probes exercise what `Library` offers the app in place of the engine internals it used to
reach for: opening without a model, the exclusions preview, the watcher, the demo library.
To add an import rule, add a line to the sets below; to add a façade probe, copy one of the short
tests at the end (`indexed_library` builds a small index in a tmp dir).
"""

from __future__ import annotations

import ast
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import fake_model
from librarian.engine.errors import LibrarianError
from librarian.engine.extract import extract
from librarian.engine.library import DB_NAME, Library, demo_library_path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE_DIRS = {"engine": "librarian.engine", "desktop": "librarian.desktop"}

# What desktop/ may import from the engine: the façade (`Library`), the plain data it returns,
# its errors, and how paths are stored and shown.
DESKTOP_MAY_IMPORT = {"librarian.engine.library", "librarian.engine.results", "librarian.engine.errors",
                      "librarian.engine.paths"}
# ... and, for annotations only (under `if TYPE_CHECKING:`), the types the façade hands out.
DESKTOP_MAY_NAME_FOR_TYPES = {"librarian.engine.watch"}
# ... and these names of other engine modules: pure formatting, no engine state behind them.
DESKTOP_MAY_IMPORT_NAMES = {"librarian.engine.crawl": {"human_size"}}
# Libraries the engine wraps: the desktop never uses them directly.
DESKTOP_MUST_NOT_IMPORT = {"sqlite3", "sqlite_utils", "usearch", "onnxruntime", "tokenizers", "watchdog", "pathspec"}
# The one place the engine reaches the desktop: `librarian` (no command, or `librarian gui`) starts the
# app through its entry function, late. (file, function) -> the modules it may import.
ENGINE_LAUNCHES_DESKTOP = {("engine/cli/__init__.py", "_run_gui"): {"librarian.desktop.app"}}


@dataclass(frozen=True)
class Import:
    file: str  # relative to the repository, "/"-separated
    line: int
    module: str  # absolute ("librarian.engine.results"), relative imports resolved
    function: str  # the enclosing function, "" at module level
    type_only: bool  # inside `if TYPE_CHECKING:`
    names: tuple[str, ...] = ()  # what `from module import ...` takes


def imports_in(folder: str) -> Iterator[Import]:
    """Every import statement in the package folder ``folder`` (engine, desktop), recursively."""
    for path in sorted((ROOT / folder).rglob("*.py")):
        rel = path.relative_to(ROOT)
        package = ".".join([PACKAGE_DIRS[folder], *rel.parts[1:-1]])  # what `from .` means in this file
        yield from _imports(ast.parse(path.read_text(encoding="utf-8")), rel.as_posix(), package)


def _imports(tree: ast.AST, file: str, package: str, function: str = "", type_only: bool = False
             ) -> Iterator[Import]:
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(file, node.lineno, alias.name, function, type_only)
        elif isinstance(node, ast.ImportFrom):
            yield Import(file, node.lineno, _absolute(node, package), function, type_only,
                         tuple(alias.name for alias in node.names))
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield from _imports(node, file, package, function or node.name, type_only)
        elif isinstance(node, ast.If) and ast.unparse(node.test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING"):
            for child in node.body:
                yield from _imports(ast.Module(body=[child], type_ignores=[]), file, package, function, True)
            for child in node.orelse:
                yield from _imports(ast.Module(body=[child], type_ignores=[]), file, package, function, type_only)
        else:
            yield from _imports(node, file, package, function, type_only)


def _absolute(node: ast.ImportFrom, package: str) -> str:
    if not node.level:
        return node.module or ""
    base = package.split(".")[: len(package.split(".")) - node.level + 1]
    return ".".join(base + ([node.module] if node.module else []))


def _is_within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


# -- import probes -----------------------------------------------------------------------------------------
def test_the_import_scanner_sees_lazy_relative_and_type_only_imports():
    found = list(imports_in("desktop"))
    assert any(i.module == "librarian.engine.library" and i.function == "open_library" for i in found)
    assert any(i.module == "librarian.engine.library" and i.type_only for i in found)
    assert any(i.module == "librarian.desktop.tasks" for i in found)  # `from .tasks import Tasks`
    engine = list(imports_in("engine"))
    assert any(i.file == "engine/cli/common.py" and i.module == "librarian.engine.library" for i in engine)


def test_desktop_imports_only_the_engines_facade():
    wrong = [i for i in imports_in("desktop") if _is_within(i.module, "librarian.engine")
             and i.module not in DESKTOP_MAY_IMPORT
             and not (i.type_only and i.module in DESKTOP_MAY_NAME_FOR_TYPES)
             and not (i.names and set(i.names) <= DESKTOP_MAY_IMPORT_NAMES.get(i.module, set()))]
    assert not wrong, "desktop/ reaches past the façade:\n" + "\n".join(map(str, wrong))


def test_desktop_never_imports_the_cli():
    assert not [i for i in imports_in("desktop") if _is_within(i.module, "librarian.engine.cli")]


def test_desktop_leaves_the_engines_libraries_to_the_engine():
    wrong = [i for i in imports_in("desktop") if i.module.split(".")[0] in DESKTOP_MUST_NOT_IMPORT]
    assert not wrong, "\n".join(map(str, wrong))


def test_engine_never_imports_qt():
    assert not [i for i in imports_in("engine") if i.module.split(".")[0] == "PySide6"]


def test_engine_imports_the_desktop_only_to_launch_it():
    reaching = [i for i in imports_in("engine") if _is_within(i.module, "librarian.desktop")]
    for i in reaching:
        allowed = ENGINE_LAUNCHES_DESKTOP.get((i.file, i.function), set())
        assert i.module in allowed, f"engine imports the desktop: {i}"
        assert i.function, "the launch import must stay inside the launching function (late, optional)"
    assert reaching, "the launcher moved: update ENGINE_LAUNCHES_DESKTOP"


# -- façade probes -----------------------------------------------------------------------------------------
@pytest.fixture
def indexed_library(tmp_path: Path) -> Path:
    """A data dir holding an index of two small notes (fake model); returns the data dir."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "compost.txt").write_text("Compost turns kitchen scraps into rich dark soil.")
    (docs / "budget.md").write_text("# Budget\n\nWe spend about 400 euros a month on food.")
    data = tmp_path / "data"
    with Library.open(data, model=fake_model(), extract=extract) as library:
        library.add_folder(docs)
        library.update()
    return data


def test_has_index_looks_without_creating(tmp_path, indexed_library):
    assert Library.has_index(indexed_library)
    assert not Library.has_index(tmp_path / "none")
    assert not (tmp_path / "none").exists()


def test_open_keyword_only_searches_an_existing_index_by_words(indexed_library):
    with Library.open_keyword_only(indexed_library) as library:
        assert library.model is None and library.status().model == ""
        found = library.search("compost", mode="keyword")
        assert found.hits and found.hits[0].path.endswith("compost.txt")


def test_open_keyword_only_creates_nothing_where_there_is_no_index(tmp_path):
    with pytest.raises(LibrarianError, match="no index"):
        Library.open_keyword_only(tmp_path / "none")
    assert not (tmp_path / "none").exists()


def test_the_desktop_opener_falls_back_to_words_through_the_facade(tmp_path, indexed_library):
    from librarian.desktop.opener import open_library

    opened = open_library(str(indexed_library), str(tmp_path / "no-model"))
    assert opened.library is not None and opened.library.model is None
    assert str(tmp_path / "no-model") in opened.model_problem
    opened.library.close()


def make_tree(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def test_preview_exclusions_counts_what_the_patterns_leave_out(tmp_path):
    root = make_tree(tmp_path / "r", {"a.md": "one", "b.txt": "two", "logs/c.txt": "three", ".hidden.md": "x"})
    found = Library.preview_exclusions(root, "*.txt\n")
    assert (found.files, found.excluded, found.sample, found.truncated) == (1, 2, ("a.md",), False)
    assert found.bytes == 3


def test_preview_exclusions_stops_at_its_limit(tmp_path):
    root = make_tree(tmp_path / "r", {f"n{i}.md": "x" for i in range(5)})
    found = Library.preview_exclusions(root, "", limit=3, sample=2)
    assert (found.files, found.truncated, len(found.sample)) == (3, True, 2)


@pytest.mark.parametrize("pattern", ["!", "[z-a]"])
def test_preview_exclusions_names_a_bad_pattern(tmp_path, pattern):
    root = make_tree(tmp_path / "r", {"a.md": "one"})
    with pytest.raises(LibrarianError, match="pattern error"):
        Library.preview_exclusions(root, pattern)


def test_the_watcher_can_leave_the_update_to_its_caller(tmp_path, indexed_library):
    """With ``on_change`` the watcher says an update is due and does not run it (the app queues it)."""
    due = threading.Event()
    with Library.open(indexed_library, model=fake_model(), extract=extract) as library:
        watcher = library.watcher(quiet_seconds=0.1, on_change=due.set)
        watcher.start()
        try:
            (tmp_path / "docs" / "new.txt").write_text("Bison roam the northern prairie.")
            assert due.wait(30)
        finally:
            watcher.stop()
        assert library.status().documents == 2  # announced, not indexed


def test_the_demo_library_has_one_definition():
    from librarian.engine.cli.common import demo_library_path as cli_demo

    assert demo_library_path() == cli_demo() and any(demo_library_path().iterdir())
    assert not (demo_library_path() / DB_NAME).exists()
