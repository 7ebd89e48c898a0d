"""manifest.json of a shipped model folder (read by the engine; keep the shape stable)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from librarian.engine.model_folder import file_sha256

FORMAT = 1
REQUIRED_KEYS = (
    "format",
    "name",
    "dims",
    "tokenizer",
    "inputs",
    "towers",
    "sha256",
    "source",
    "quantization",
    "fidelity",
    "speed",
    "built",
    "onnxruntime",
)
TOWER_KEYS = ("file", "max_length", "pooling", "normalize", "output")


def tower(file: str, max_length: int, pooling: str = "mean", normalize: bool = True) -> dict[str, Any]:
    return {
        "file": file,
        "max_length": max_length,
        "pooling": pooling,
        "normalize": normalize,
        "output": "last_hidden_state",
    }


def build(
    *,
    name: str,
    dims: int,
    folder: Path,
    model_file: str,
    tokenizer_file: str,
    inputs: list[str],
    question_max_length: int,
    passage_max_length: int,
    source: dict[str, Any],
    quantization: dict[str, Any],
    fidelity: dict[str, Any],
    speed: dict[str, Any],
    built: str,
    onnxruntime_version: str,
) -> dict[str, Any]:
    files = sorted({model_file, tokenizer_file})
    manifest = {
        "format": FORMAT,
        "name": name,
        "dims": dims,
        "tokenizer": tokenizer_file,
        "inputs": inputs,
        "towers": {
            "question": tower(model_file, question_max_length),
            "passage": tower(model_file, passage_max_length),
        },
        "sha256": {f: file_sha256(folder / f) for f in files},
        "source": source,
        "quantization": quantization,
        "fidelity": fidelity,
        "speed": speed,
        "built": built,
        "onnxruntime": onnxruntime_version,
    }
    validate(manifest, folder)
    return manifest


def validate(manifest: dict[str, Any], folder: Path | None = None) -> None:
    missing = [k for k in REQUIRED_KEYS if k not in manifest]
    if missing:
        raise ValueError(f"manifest is missing {missing}")
    if manifest["format"] != FORMAT:
        raise ValueError(f"unknown manifest format {manifest['format']}")
    for side in ("question", "passage"):
        t = manifest["towers"][side]
        if any(k not in t for k in TOWER_KEYS):
            raise ValueError(f"tower {side} lacks one of {TOWER_KEYS}")
    if folder is not None:
        for f, digest in manifest["sha256"].items():
            if file_sha256(folder / f) != digest:
                raise ValueError(f"sha256 of {f} does not match the manifest")


def write(manifest: dict[str, Any], path: Path) -> None:
    path.write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def read(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))
