"""Importing the engine's modules in any order must not crash the interpreter (usearch loaded
before onnxruntime segfaulted: see engine/vectors.py)."""

import subprocess
import sys

import pytest


@pytest.mark.parametrize("first", ["librarian.engine.vectors", "librarian.engine.library", "librarian.engine.cli"])
def test_engine_imports_then_model_load_do_not_crash(first):
    code = (f"import {first}; from librarian.engine.encoders import load_model; "
            "m = load_model(); print(m.question.embed_query('hello').shape)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "(384,)" in done.stdout


def test_cli_entry_point_imports_nothing_heavy():
    """Every extraction worker re-imports the entry point's module: it must stay light."""
    code = ("import sys, librarian.engine.cli; heavy = [m for m in ('onnxruntime', 'usearch', 'numpy', 'tokenizers') "
            "if m in sys.modules]; print(heavy)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
