"""`librarian eval COLLECTION_DIR`: retrieval quality of the whole pipeline on a BEIR collection."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..results import MODES
from .common import print_json


def add_parser(sub) -> None:
    p = sub.add_parser("eval", help="measure retrieval quality on a BEIR-format collection",
                       description="Index COLLECTION_DIR (corpus.jsonl, queries.jsonl, qrels.tsv) into a temporary "
                                   "index and report nDCG@10, Recall@100, MRR@10 and query latency.")
    p.add_argument("collection", metavar="COLLECTION_DIR")
    p.add_argument("--mode", choices=[*MODES, "all"], default="hybrid")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..evaluation import evaluate

    modes = list(MODES) if args.mode == "all" else [args.mode]
    results = evaluate(Path(args.collection), modes=modes, model_dir=Path(args.model_dir) if args.model_dir else None)
    if args.json:
        print_json(results if args.mode == "all" else results[0])
        return 0
    for r in results:
        print(f"{r['collection']:<12} {r['mode']:<8} nDCG@10 {r['ndcg@10']:.3f}  R@100 {r['recall@100']:.3f}  "
              f"MRR@10 {r['mrr@10']:.3f}  queries {r['queries']}  docs {r['docs']}  index {r['index_seconds']:.1f} s  "
              f"p50 {r['query_ms_p50']:.1f} ms  p95 {r['query_ms_p95']:.1f} ms")
    return 0
