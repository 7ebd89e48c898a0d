"""Retrieval quality on a BEIR-format collection: nDCG@10 (graded), Recall@100, MRR@10.

The collection is indexed through the normal pipeline (chunking, FTS5, encoder, USearch) into a
temporary data dir, each corpus record a document whose path is its `_id`; each query is searched
through `Library.search` exactly as a user's would be, so the timings are the product's.
"""

from __future__ import annotations

import csv
import json
import math
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from .encoders import Model
from .errors import CollectionError
from .library import Library
from .results import Mode


@dataclass(frozen=True)
class Collection:
    name: str
    corpus: list[tuple[str, str, str]]
    queries: list[tuple[str, str]]
    qrels: dict[str, dict[str, int]]


def load_collection(folder: Path) -> Collection:
    folder = Path(folder)
    try:
        corpus = []
        with open(folder / "corpus.jsonl", encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    rec = json.loads(line)
                    corpus.append((str(rec["_id"]), rec.get("title") or "", rec.get("text") or ""))
        queries = []
        with open(folder / "queries.jsonl", encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    rec = json.loads(line)
                    queries.append((str(rec["_id"]), rec["text"]))
        qrels: dict[str, dict[str, int]] = {}
        with open(folder / "qrels.tsv", encoding="utf-8", newline="") as fh:
            reader = csv.reader(fh, delimiter="\t")
            header = next(reader, None)
            if header is None or header[0] != "query-id":
                raise CollectionError(f"{folder / 'qrels.tsv'} needs a header: query-id, corpus-id, score")
            for row in reader:
                if len(row) >= 3 and int(row[2]) > 0:
                    qrels.setdefault(row[0], {})[row[1]] = int(row[2])
    except FileNotFoundError as exc:
        raise CollectionError(f"{folder} is not a BEIR collection: {exc.filename} is missing") from exc
    except (ValueError, KeyError) as exc:
        raise CollectionError(f"{folder} is malformed: {exc}") from exc
    queries = [(qid, text) for qid, text in queries if qid in qrels]
    return Collection(folder.name, corpus, queries, qrels)


def ndcg_at(ranked: list[str], relevant: dict[str, int], k: int = 10) -> float:
    dcg = sum((2 ** relevant.get(d, 0) - 1) / math.log2(i + 2) for i, d in enumerate(ranked[:k]))
    ideal = sorted(relevant.values(), reverse=True)[:k]
    idcg = sum((2 ** g - 1) / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg > 0 else 0.0


def recall_at(ranked: list[str], relevant: dict[str, int], k: int = 100) -> float:
    return len(set(ranked[:k]) & set(relevant)) / len(relevant) if relevant else 0.0


def mrr_at(ranked: list[str], relevant: dict[str, int], k: int = 10) -> float:
    for i, d in enumerate(ranked[:k]):
        if d in relevant:
            return 1.0 / (i + 1)
    return 0.0


def evaluate(folder: Path, *, modes: list[Mode], model: Model | None = None, model_dir: Path | None = None) -> list[dict]:
    collection = load_collection(folder)
    with tempfile.TemporaryDirectory(prefix="librarian-eval-") as tmp:
        library = Library.open(tmp, model=model, model_dir=model_dir)
        try:
            started = time.perf_counter()
            library.add_records(collection.corpus)
            index_seconds = time.perf_counter() - started
            results = []
            for mode in modes:
                ndcg, recall, mrr, times = [], [], [], []
                for qid, text in collection.queries:
                    result = library.search(text, k=100, mode=mode)
                    times.append(result.took_ms)
                    ranked = [hit.path for hit in result.hits]
                    relevant = collection.qrels[qid]
                    ndcg.append(ndcg_at(ranked, relevant))
                    recall.append(recall_at(ranked, relevant))
                    mrr.append(mrr_at(ranked, relevant))
                n = max(len(ndcg), 1)
                results.append({
                    "collection": collection.name, "mode": mode,
                    "ndcg@10": round(sum(ndcg) / n, 4), "recall@100": round(sum(recall) / n, 4),
                    "mrr@10": round(sum(mrr) / n, 4), "queries": len(ndcg), "docs": len(collection.corpus),
                    "index_seconds": round(index_seconds, 2),
                    "query_ms_p50": round(statistics.median(times), 2) if times else 0.0,
                    "query_ms_p95": round(_percentile(times, 95), 2) if times else 0.0,
                })
            return results
        finally:
            library.close()


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, math.ceil(pct / 100 * len(ordered)) - 1))
    return ordered[index]
