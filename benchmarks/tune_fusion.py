"""Tune fusion on the development collections without re-indexing for every setting.

Each collection is indexed once per passage size (cached under benchmarks/_data/), then for every
query the keyword and dense candidate lists are fetched once; fusion variants are scored offline.
Prints nDCG@10 per collection and the mean, for BM25, dense and each fusion.

    python benchmarks/tune_fusion.py [--target 128] [--collections cisi cranfield npl]
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

from librarian.engine import indexer
from librarian.engine.encoders import load_model
from librarian.engine.evaluation import load_collection, ndcg_at, recall_at
from librarian.engine.library import Library
from librarian.engine.query import parse
from librarian.engine.search import Ranked, rrf

EVAL = Path(__file__).resolve().parents[2] / "shared" / "eval"
CACHE = Path(__file__).resolve().parent / "_data"


def doc_ranking(scores: dict[int, float], doc_of: dict[int, str]) -> list[str]:
    best: dict[str, float] = {}
    for pid, s in scores.items():
        d = doc_of[pid]
        if d not in best or s > best[d]:
            best[d] = s
    return sorted(best, key=lambda d: -best[d])


def minmax(r: Ranked) -> dict[int, float]:
    if not r.ids:
        return {}
    lo, hi = min(r.scores), max(r.scores)
    return {i: (s - lo) / (hi - lo) if hi > lo else 1.0 for i, s in zip(r.ids, r.scores, strict=True)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--target", type=int, default=indexer.PASSAGE_TARGET_PIECES)
    parser.add_argument("--collections", nargs="*", default=["cisi", "cranfield", "npl"])
    parser.add_argument("--depth", type=int, default=200)
    parser.add_argument("--max-terms", type=int, default=None, help="as hybrid search does (MAX_QUERY_TERMS)")
    args = parser.parse_args()
    indexer.PASSAGE_TARGET_PIECES = args.target
    model = load_model()
    table: dict[str, dict[str, float]] = {}
    for name in args.collections:
        coll = load_collection(EVAL / name)
        data = CACHE / f"{name}-t{args.target}"
        fresh = not (data / "index.sqlite3").exists()
        lib = Library.open(data, model=model)
        if fresh:
            lib.add_records(coll.corpus)
        store = lib._reader()
        doc_of = {int(pid): path for pid, path in store.conn.execute(
            "SELECT p.id, d.path FROM passages p JOIN documents d ON d.id = p.document_id")}
        searcher = lib._searcher
        variants: dict[str, list[float]] = {}
        for qid, text in coll.queries:
            parsed = parse(text)
            kw = searcher._keyword(store, parsed, args.depth, None, max_terms=args.max_terms)
            qv = model.question.embed_query(parsed.text)
            dn = searcher._dense(store, qv, args.depth, None, {})
            filled = lib.vectors.similarities(qv, [i for i in kw.ids if i not in set(dn.ids)])
            rel = coll.qrels[qid]
            runs = {
                "bm25": dict(zip(kw.ids, kw.scores, strict=True)),
                "dense": dict(zip(dn.ids, dn.scores, strict=True)),
            }
            for k in (30, 60):
                runs[f"rrf k={k}"] = rrf([kw, dn], k=k)
            nk = minmax(kw)
            top = max(kw.scores) if kw.scores else 1.0
            dense_s = dict(zip(dn.ids, dn.scores, strict=True))
            for a in (0.5, 0.6, 0.7, 0.8):
                runs[f"convex a={a}"] = {i: a * minmax(dn).get(i, 0.0) + (1 - a) * nk.get(i, 0.0) for i in set(nk) | set(dense_s)}
                for alpha in (1.0, 2.0):
                    kwn = {i: (sc / top) * kw.coverage.get(i, 1.0) ** alpha for i, sc in zip(kw.ids, kw.scores, strict=True)}
                    runs[f"cos+cov a={a} p={alpha}"] = {i: a * dense_s.get(i, 0.0) + (1 - a) * kwn.get(i, 0.0)
                                                       for i in set(kwn) | set(dense_s)}
                    both = {**filled, **dense_s}
                    runs[f"cos+cov filled a={a} p={alpha}"] = {i: a * both.get(i, 0.0) + (1 - a) * kwn.get(i, 0.0)
                                                              for i in set(kwn) | set(both)}
            for label, scores in runs.items():
                ranked = doc_ranking(scores, doc_of)
                variants.setdefault(label, []).append(ndcg_at(ranked, rel))
                variants.setdefault(label + " R@100", []).append(recall_at(ranked, rel))
        table[name] = {label: statistics.fmean(v) for label, v in variants.items()}
        lib.close()
    labels = list(next(iter(table.values())))
    print(f"{'variant (target ' + str(args.target) + ')':<28}" + "".join(f"{n:>11}" for n in table) + f"{'mean':>9}")
    for label in labels:
        vals = [table[n][label] for n in table]
        print(f"{label:<28}" + "".join(f"{v:>11.3f}" for v in vals) + f"{statistics.fmean(vals):>9.3f}")


if __name__ == "__main__":
    main()
