"""Every benchmark in one command (`make bench`), each printing its own table. Run by hand on a quiet
machine; figures are comparable only within one run (shared machines are noisy).

    python benchmarks/run_all.py [--quick]

1. encoders: fp32 vs shipped int8 throughput and query latency (ratios);
2. indexing: end-to-end passages/s against the raw encoder on the same passages;
3. search: latency p50/p95 with its breakdown at 10k and 100k passages, memory, USearch at 1M;
4. quality: `librarian eval --mode all` on every collection in ../shared/eval.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
EVAL = HERE.parents[1] / "shared" / "eval"


def run(*args: str) -> None:
    print(f"\n$ {' '.join(args)}", flush=True)
    subprocess.run([sys.executable, *args], check=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="smaller sizes, no 1M ANN")
    args = parser.parse_args()
    run(str(HERE / "bench_encoders.py"))
    run(str(HERE / "bench_indexing.py"), "--docs", "1000" if args.quick else "3000")
    if args.quick:
        run(str(HERE / "bench_search.py"), "--sizes", "10000", "--ann", "0")
    else:
        run(str(HERE / "bench_search.py"))
    print("\n| collection | mode | nDCG@10 | Recall@100 | MRR@10 | p50 ms | p95 ms |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for collection in sorted(p for p in EVAL.iterdir() if (p / "corpus.jsonl").exists()):
        out = subprocess.run([sys.executable, "-m", "librarian.engine.cli", "eval", str(collection), "--mode", "all",
                              "--json"], capture_output=True, text=True, check=True).stdout
        for r in json.loads(out):
            print(f"| {r['collection']} | {r['mode']} | {r['ndcg@10']:.3f} | {r['recall@100']:.3f} | {r['mrr@10']:.3f} | "
                  f"{r['query_ms_p50']:.1f} | {r['query_ms_p95']:.1f} |", flush=True)


if __name__ == "__main__":
    main()
