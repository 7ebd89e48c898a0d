"""Check int8 models on an AVX2-only CPU (no AVX-512, no VNNI) by running them under QEMU user-mode emulation.

    python -m librarian.models.avx2_check models/shipped/model.onnx [more.onnx ...] [--passages 48]

Needs ``qemu-x86_64`` (Debian: ``apt-get install qemu-user``; QEMU >= 7.2 emulates AVX2). The same models are
run natively and under ``qemu-x86_64 -cpu Haswell-v4``, where MLAS picks its AVX2 u8s8 kernel (VPMADDUBSW,
which saturates on 8-bit int8 weights: onnxruntime #5849/#6004/#9599). Each model's vectors are compared with
the fp32 model's native vectors; a model that is fine natively but not under emulation has the saturation bug.
Runtime-light: numpy, onnxruntime, tokenizers. Slow (emulated): keep the sample small.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from librarian.engine.encoders import OnnxEncoder

from .fidelity import load_eval_set

REPO = Path(__file__).resolve().parent.parent
EMULATED_CPU = "Haswell-v4"


def cpu_features() -> dict[str, bool]:
    try:
        from numpy._core._multiarray_umath import __cpu_features__ as feats
    except ImportError:  # numpy < 2
        from numpy.core._multiarray_umath import __cpu_features__ as feats  # type: ignore[no-redef]
    return {k: bool(feats.get(k)) for k in ("AVX2", "AVX512F", "AVX512VNNI", "AVXVNNI")}


def sample(n_passages: int, n_queries: int, eval_root: Path) -> tuple[list[str], list[str]]:
    data = load_eval_set(eval_root, per_collection_cap=n_passages)
    passages = [
        p for c in data.collections for p in c.passages[: max(1, n_passages // len(data.collections))]
    ]
    queries = [q for c in data.collections for q in c.queries[: max(1, n_queries // len(data.collections))]]
    return passages, queries


def encode_all(
    models: list[Path], tokenizer: Path, passages: list[str], queries: list[str]
) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    for i, model in enumerate(models):
        p = OnnxEncoder.of_file(model, tokenizer, max_length=256, threads=1)
        q = OnnxEncoder.of_file(model, tokenizer, max_length=64, threads=1)
        out[f"p{i}"] = p.embed(passages, batch_size=16)
        out[f"q{i}"] = np.concatenate([q.embed_query(text)[None] for text in queries])
    return out


def worker(args: argparse.Namespace) -> int:
    payload = json.loads(Path(args.worker).read_text(encoding="utf-8"))
    vecs = encode_all(
        [Path(m) for m in payload["models"]],
        Path(payload["tokenizer"]),
        payload["passages"],
        payload["queries"],
    )
    # Any: numpy's stub would otherwise match the arrays against its own keyword flags (allow_pickle).
    arrays: dict[str, Any] = {"features": json.dumps(cpu_features()), **vecs}
    np.savez(payload["out"], **arrays)
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("models", nargs="*", type=Path, help="int8 models (default: the shipped one)")
    ap.add_argument("--reference", type=Path, default=REPO / "models" / "_work" / "fp32" / "model.onnx")
    ap.add_argument("--tokenizer", type=Path, default=REPO / "models" / "shipped" / "tokenizer.json")
    ap.add_argument("--eval-root", type=Path, default=Path("/work/shared/eval"))
    ap.add_argument("--passages", type=int, default=48)
    ap.add_argument("--queries", type=int, default=24)
    ap.add_argument("--min-cosine", type=float, default=0.98)
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        return worker(args)

    qemu = shutil.which("qemu-x86_64") or shutil.which("qemu-x86_64-static")
    if qemu is None:
        print("qemu-x86_64 not found (apt-get install qemu-user)", file=sys.stderr)
        return 2
    models = args.models or [REPO / "models" / "shipped" / "model.onnx"]
    passages, queries = sample(args.passages, args.queries, args.eval_root)
    tmp = Path(tempfile.mkdtemp(prefix="avx2check-"))
    try:
        payload = {
            "models": [str(m.resolve()) for m in models],
            "tokenizer": str(args.tokenizer.resolve()),
            "passages": passages,
            "queries": queries,
            "out": str(tmp / "emulated.npz"),
        }
        (tmp / "job.json").write_text(json.dumps(payload), encoding="utf-8")
        cmd = [
            qemu,
            "-cpu",
            EMULATED_CPU,
            sys.executable,
            "-m",
            "librarian.models.avx2_check",
            "--worker",
            str(tmp / "job.json"),
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            print(proc.stderr[-4000:], file=sys.stderr)
            return 2
        emulated = np.load(tmp / "emulated.npz")
        native = encode_all(models, args.tokenizer, passages, queries)
        ref = encode_all([args.reference], args.tokenizer, passages, queries)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    features = json.loads(str(emulated["features"]))
    print(f"native CPU: {cpu_features()}\nemulated CPU ({EMULATED_CPU}): {features}")
    if features.get("AVX512F") or features.get("AVX512VNNI") or not features.get("AVX2"):
        print("emulation did not hide AVX-512/VNNI; the check is meaningless", file=sys.stderr)
        return 2
    print(
        f"{len(passages)} passages, {len(queries)} queries; mean cosine vs native fp32 ({args.reference.name})"
    )
    print("| model | native passages | AVX2-only passages | native queries | AVX2-only queries |")
    print("|---|---:|---:|---:|---:|")
    bad = []
    for i, model in enumerate(models):
        row = []
        for kind in ("p", "q"):
            r = ref[f"{kind}0"]
            row.append(float(np.mean(np.sum(r * native[f"{kind}{i}"], axis=1))))
            row.append(float(np.mean(np.sum(r * emulated[f"{kind}{i}"], axis=1))))
        print(f"| {model} | {row[0]:.4f} | {row[1]:.4f} | {row[2]:.4f} | {row[3]:.4f} |")
        if min(row[1], row[3]) < args.min_cosine:
            bad.append(str(model))
    if bad:
        print(f"FAILED on AVX2-only: {bad}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
