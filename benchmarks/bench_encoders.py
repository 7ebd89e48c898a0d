"""Encoder speed: fp32 ONNX vs the shipped int8 model, measured interleaved in one run.

    python benchmarks/bench_encoders.py [--rounds 3] [--threads 2] [--with-optimized]

Passages/s at exactly 128 and 256 word pieces (real passages, batches of 32) and query p50 latency (each query
alone, tokenisation included). The fp32 model is models/_work/fp32/model.onnx, written by
``python -m librarian.models.export``; without it only the int8 row is printed. Shared machines are noisy:
read the ratio columns, not absolute times. Runs in the app venv (onnxruntime + tokenizers + numpy).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

from librarian.models.fidelity import load_eval_set  # noqa: E402
from librarian.models.speed import cpu_description, measure  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shipped", type=Path, default=REPO / "models" / "shipped")
    ap.add_argument("--work", type=Path, default=REPO / "models" / "_work")
    ap.add_argument("--eval-root", type=Path, default=Path("/work/shared/eval"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--seqs", type=int, default=128, help="sequences per length and round")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--with-optimized", action="store_true", help="also time the ORT-optimised fp32 graph")
    ap.add_argument("--json", type=Path, help="also write the numbers here")
    args = ap.parse_args(argv)

    manifest = json.loads((args.shipped / "manifest.json").read_text(encoding="utf-8"))
    int8 = args.shipped / manifest["towers"]["passage"]["file"]
    tokenizer = args.shipped / manifest["tokenizer"]
    models: dict[str, Path] = {}
    fp32 = args.work / "fp32" / "model.onnx"
    if fp32.exists():
        models["fp32 ONNX"] = fp32
    else:
        print(f"note: {fp32} not found (run python -m librarian.models.export); int8 only", file=sys.stderr)
    if args.with_optimized and (args.work / "fp32_opt" / "model.onnx").exists():
        models["fp32 ONNX, ORT-optimised"] = args.work / "fp32_opt" / "model.onnx"
    models[f"int8 shipped ({manifest['quantization']['weight_type']})"] = int8

    data = load_eval_set(args.eval_root, per_collection_cap=1500)
    res = measure(
        models,
        tokenizer,
        data.all_passages(),
        data.all_queries(),
        lengths=(128, 256),
        batch=args.batch,
        n_seqs=args.seqs,
        n_queries=100,
        rounds=args.rounds,
        threads=args.threads,
    )
    base = res[next(iter(models))]
    print(
        f"\n{cpu_description()}; {args.threads} threads, "
        f"batch {args.batch}, medians of {args.rounds} interleaved rounds; ratios vs the first row\n"
    )
    header = "| model | MB | passages/s @128 | @256 | query p50 ms | x @128 | x @256 | query ms x |"
    print(header)
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, path in models.items():
        r = res[name]
        print(
            f"| {name} | {path.stat().st_size / 1e6:.1f} | {r['passages_per_s@128']:.1f} | {r['passages_per_s@256']:.1f} "
            f"| {r['query_p50_ms']:.2f} | {r['passages_per_s@128'] / base['passages_per_s@128']:.2f} "
            f"| {r['passages_per_s@256'] / base['passages_per_s@256']:.2f} "
            f"| {r['query_p50_ms'] / base['query_p50_ms']:.2f} |"
        )
    if args.json:
        args.json.write_text(json.dumps({k: {**v, "path": str(models[k])} for k, v in res.items()}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
