"""`librarian eval DIR`: retrieval quality of the whole pipeline.

DIR is either a BEIR collection (corpus.jsonl, queries.jsonl, qrels.tsv: nDCG@10, Recall@100, MRR@10)
or a real-library dev set (questions.tsv, see devsets/debian-docs/README.md: success@3, success@10 and
MRR@10 per kind of question), scored on the library folder given with --library.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from ..errors import CollectionError
from ..results import MODES
from .common import print_json


def add_parser(sub) -> None:
    p = sub.add_parser("eval", help="measure retrieval quality on a BEIR collection or a real-library dev set",
                       description="With a BEIR collection (corpus.jsonl, queries.jsonl, qrels.tsv): index it into a "
                                   "temporary index and report nDCG@10, Recall@100, MRR@10 and query latency. With a "
                                   "real-library dev set (questions.tsv): index the folder given with --library (into "
                                   "--index, kept for the next run) and report success@3, success@10 and MRR@10 per "
                                   "kind of question.")
    p.add_argument("collection", metavar="DIR")
    p.add_argument("--mode", choices=[*MODES, "all"], default="hybrid")
    p.add_argument("--library", metavar="FOLDER", help="a real-library dev set's documents")
    p.add_argument("--index", metavar="DIR", help="where the real library's index is kept (default: a temporary dir)")
    p.add_argument("--embedded", type=float, default=1.0, metavar="SHARE",
                   help="score as if only this share of the documents had vectors yet (0-1; default 1)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    modes = list(MODES) if args.mode == "all" else [args.mode]
    model_dir = Path(args.model_dir) if args.model_dir else None
    folder = Path(args.collection)
    if (folder / "questions.tsv").exists():
        return _run_library(args, folder, modes, model_dir)
    from ..evaluation import evaluate

    results = evaluate(folder, modes=modes, model_dir=model_dir)
    if args.json:
        print_json(results if args.mode == "all" else results[0])
        return 0
    for r in results:
        print(f"{r['collection']:<12} {r['mode']:<8} nDCG@10 {r['ndcg@10']:.3f}  R@100 {r['recall@100']:.3f}  "
              f"MRR@10 {r['mrr@10']:.3f}  queries {r['queries']}  docs {r['docs']}  index {r['index_seconds']:.1f} s  "
              f"p50 {r['query_ms_p50']:.1f} ms  p95 {r['query_ms_p95']:.1f} ms")
    return 0


def _run_library(args: argparse.Namespace, folder: Path, modes: list, model_dir: Path | None) -> int:
    from ..evaluation import evaluate_library

    if not args.library:
        raise CollectionError(f"{folder} is a real-library dev set: give its documents' folder with --library")
    if not 0.0 <= args.embedded <= 1.0:
        raise CollectionError("--embedded is a share between 0 and 1")
    with tempfile.TemporaryDirectory(prefix="librarian-eval-") as tmp:
        rows = evaluate_library(folder / "questions.tsv", Path(args.library), data_dir=Path(args.index or tmp),
                                modes=modes, embedded=args.embedded, model_dir=model_dir)
    if args.json:
        print_json(rows)
        return 0
    for r in rows:
        print(f"{r['collection']:<12} {r['kind']:<11} {r['mode']:<8} S@3 {r['success@3']:.3f}  "
              f"S@10 {r['success@10']:.3f}  MRR@10 {r['mrr@10']:.3f}  queries {r['queries']}  "
              f"embedded {r['embedded']:.0%}  p50 {r['query_ms_p50']:.1f} ms")
    return 0
