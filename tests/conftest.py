"""Shared fixtures: a hermetic data dir, a deterministic fake encoder, and the real shipped model."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# Tests that import onnxruntime directly (not through engine/_onnxruntime.py) must not phone home either.
os.environ["ORT_DISABLE_TELEMETRY"] = "1"

from librarian.engine.encoders import Encoder, Model  # noqa: E402


class FakeEncoder(Encoder):
    """Hashed bag of words: texts sharing words point the same way. Fast and deterministic."""

    def __init__(self, dims: int = 64) -> None:
        self.dims = dims
        self.max_length = 256

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dims), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                h = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=4).digest(), "little")
                out[row, h % self.dims] += 1.0 if (h >> 16) & 1 else -1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-12)


def fake_model(dims: int = 64, name: str = "fake") -> Model:
    encoder = FakeEncoder(dims)
    return Model(question=encoder, passage=encoder, model_id=f"{name}-{dims}", name=name, dims=dims,
                 tokenizer_file=None, passage_max_length=256)


@pytest.fixture(autouse=True)
def _hermetic_data_dir(tmp_path_factory, monkeypatch):
    """No test ever touches the real user data dir (or the user cache: the model checksum cache)."""
    monkeypatch.setenv("LIBRARIAN_DATA_DIR", str(tmp_path_factory.mktemp("default-data")))
    monkeypatch.setenv("LIBRARIAN_CACHE_DIR", str(tmp_path_factory.mktemp("default-cache")))


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


def indexed_folder(tmp_path_factory, model: Model, files: dict[str, str], *, base: Path | None = None):
    """A library over a new folder holding ``files`` (name -> text; over a copy of ``base`` when given),
    indexed and embedded: a generator for a module fixture (``yield from indexed_folder(...)``)."""
    import shutil

    from librarian.engine.library import Library

    root = tmp_path_factory.mktemp("folder")
    if base is not None:
        shutil.copytree(base, root, dirs_exist_ok=True)
    for name, text in files.items():
        (root / name).write_text(text)
    lib = Library.open(tmp_path_factory.mktemp("data"), model=model)
    lib.add_folder(root)
    lib.update()
    yield lib
    lib.close()


@pytest.fixture(scope="session")
def real_model():
    """The shipped int8 model (small enough for tests): the real path is always exercised."""
    from librarian.engine.encoders import default_model_dir, load_model

    if not (default_model_dir() / "manifest.json").exists():
        pytest.fail("the shipped model folder is missing: run `python -m librarian.models.export`")
    return load_model()
