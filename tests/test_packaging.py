"""Static checks of the installers' recipes (packaging/): fast, nothing is built here.

Building and proving the installers takes minutes and root (packaging/build_deb.sh,
packaging/verify_clean_install.sh); these tests only catch the recipes drifting from the app.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGING = ROOT / "packaging"
SPEC = PACKAGING / "librarian.spec"
SCRIPTS = ["build_bundle.sh", "build_deb.sh", "verify_clean_install.sh", "measure_budgets.sh", "smoke_test.sh",
           "macos/build_dmg.sh"]


def _spec_tree() -> ast.Module:
    return ast.parse(SPEC.read_text(encoding="utf-8"), filename=str(SPEC))


def _strings_assigned(name: str) -> list[str]:
    """The string constants of a top-level `name = [...]` in the spec (starred parts are skipped)."""
    for node in _spec_tree().body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            assert isinstance(node.value, ast.List), name
            return [e.value for e in node.value.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
    raise AssertionError(f"no `{name} = [...]` in the spec")


def test_spec_is_python_and_names_its_entry_scripts():
    text = SPEC.read_text(encoding="utf-8")
    _spec_tree()
    for script in ("librarian_entry.py", "librarian_gui_entry.py"):
        assert script in text
        assert (PACKAGING / script).is_file()


def test_spec_keeps_the_model_pipeline_and_unused_qt_out():
    excludes = set(_strings_assigned("excludes"))
    assert {"torch", "transformers", "optimum", "onnx"} <= excludes
    unused_qt = set(_strings_assigned("UNUSED_QT"))
    assert {"QtQml", "QtQuick", "QtNetwork", "QtWebEngineCore", "Qt3DCore", "QtMultimedia"} <= unused_qt
    used = {"QtCore", "QtGui", "QtWidgets", "QtDBus", "QtSvg"}
    assert not used & unused_qt
    # Every Qt module the app imports must be one the bundle keeps.
    imported = set()
    for path in (ROOT / "desktop").glob("*.py"):
        imported |= set(re.findall(r"PySide6\.(Qt\w+)", path.read_text(encoding="utf-8")))
    assert imported, "the desktop app imports no Qt module?"
    assert not imported & unused_qt, f"the app imports {imported & unused_qt}, which the spec excludes"


def test_spec_loads_onnxruntime_before_usearch():
    hidden = _strings_assigned("hiddenimports")
    assert hidden.index("onnxruntime") < hidden.index("usearch")
    assert {"numkong", "librarian.models", "pypdfium2_raw", "selectolax.lexbor"} <= set(hidden)


def test_spec_collects_the_model_and_the_whole_demo_library():
    text = SPEC.read_text(encoding="utf-8")
    assert 'collect_data_files("librarian.models", includes=["shipped/*"])' in text
    # The demo library holds a .py file: collect_data_files skips those unless told otherwise.
    assert any(p.suffix == ".py" for p in (ROOT / "engine" / "demo").iterdir())
    assert re.search(r'collect_data_files\("librarian\.engine", include_py_files=True', text)
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "shipped/*" in config["tool"]["setuptools"]["package-data"]["librarian.models"]


@pytest.mark.parametrize("entry", ["librarian_entry.py", "librarian_gui_entry.py"])
def test_entry_scripts_answer_spawned_workers_before_importing_the_app(entry):
    tree = ast.parse((PACKAGING / entry).read_text(encoding="utf-8"))
    main = next(n for n in tree.body if isinstance(n, ast.If))  # if __name__ == "__main__":
    calls = [ast.unparse(n) for n in main.body]
    freeze = next(i for i, c in enumerate(calls) if "freeze_support()" in c)
    first_app_import = next(i for i, c in enumerate(calls) if c.startswith("from librarian"))
    assert freeze < first_app_import


@pytest.mark.parametrize("script", SCRIPTS)
def test_scripts_are_executable_bash(script):
    path = PACKAGING / script
    assert path.is_file()
    assert os.access(path, os.X_OK), f"chmod +x {path}"
    assert path.read_text(encoding="utf-8").startswith("#!/usr/bin/env bash\n")
    assert "set -euo pipefail" in path.read_text(encoding="utf-8")
    bash = shutil.which("bash")
    if bash:
        done = subprocess.run([bash, "-n", str(path)], capture_output=True, text=True, timeout=30)
        assert done.returncode == 0, done.stderr


def test_deb_depends_on_no_python():
    text = (PACKAGING / "build_deb.sh").read_text(encoding="utf-8")
    fallback = re.search(r'FALLBACK_DEPENDS="(.*?)"', text, re.S)
    assert fallback and "python" not in fallback.group(1).lower()
    for lib in ("libgl1", "libegl1", "libxkbcommon0", "libfontconfig1", "libdbus-1-3", "libxcb-cursor0"):
        assert lib in fallback.group(1)


def test_desktop_entry_and_icons():
    desktop = PACKAGING / "linux" / "librarian.desktop"
    entries = dict(line.split("=", 1) for line in desktop.read_text(encoding="utf-8").splitlines() if "=" in line)
    assert entries["Icon"] == "librarian"
    assert entries["Exec"].split()[0] == "librarian-gui"  # the .deb's /usr/bin/librarian-gui
    assert "librarian-gui" in (PACKAGING / "build_deb.sh").read_text(encoding="utf-8")
    icons = ROOT / "desktop" / "icons"
    assert (icons / "librarian.svg").is_file()
    assert {p.name for p in icons.glob("librarian-*.png")} >= {"librarian-48.png", "librarian-256.png"}
    validate = shutil.which("desktop-file-validate")
    if validate is None:
        pytest.skip("desktop-file-validate is not installed (Debian: desktop-file-utils)")
    done = subprocess.run([validate, str(desktop)], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stdout + done.stderr


def test_windows_and_macos_recipes_match_the_bundle():
    iss = (PACKAGING / "windows" / "librarian.iss").read_text(encoding="utf-8")
    assert r"dist\librarian" in iss and "librarian-gui.exe" in iss and "{#AppVersion}" in iss
    dmg = (PACKAGING / "macos" / "build_dmg.sh").read_text(encoding="utf-8")
    assert "Librarian.app" in dmg and "hdiutil create" in dmg
    spec = SPEC.read_text(encoding="utf-8")
    assert 'name="librarian-gui"' in spec and 'name="Librarian.app"' in spec


def test_release_workflow_builds_all_three():
    workflow = (ROOT / ".github" / "workflows" / "release.yml").read_text(encoding="utf-8")
    for runner in ("ubuntu-22.04", "windows-latest", "macos-14"):
        assert f"runs-on: {runner}" in workflow
    for step in ("build_deb.sh", "build_bundle.sh", "build_dmg.sh", "librarian.iss", "verify_clean_install.sh"):
        assert step in workflow
