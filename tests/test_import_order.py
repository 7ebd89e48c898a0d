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
