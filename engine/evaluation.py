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
from .paths import key_path
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


@dataclass(frozen=True)
class Question:
    """One question of a real-library dev set: what a person types, of which kind, and the files
    (relative to the library's folder) that answer it."""

    kind: str  # "paraphrase" (half-remembered, in other words) or "exact" (a name, code or phrase)
    text: str
    answers: tuple[str, ...]


def load_questions(path: Path) -> list[Question]:
    """``questions.tsv``: a header, then kind <tab> question <tab> answer [| answer ...]."""
    questions = []
    try:
        with open(path, encoding="utf-8", newline="") as fh:
            reader = csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
            header = next(reader, None)
            if header is None or [h.strip() for h in header[:3]] != ["kind", "question", "answers"]:
                raise CollectionError(f"{path} needs a header: kind, question, answers")
            for number, row in enumerate(reader, start=2):
                if not row or not "".join(row).strip():
                    continue
                if len(row) < 3:
                    raise CollectionError(f"{path}, line {number}: needs kind, question and answers")
                answers = tuple(a.strip() for a in row[2].split("|") if a.strip())
                if not answers:
                    raise CollectionError(f"{path}, line {number}: no answer file")
                questions.append(Question(row[0].strip(), row[1].strip(), answers))
    except FileNotFoundError as exc:
        raise CollectionError(f"{path} is missing") from exc
    return questions


def evaluate_library(questions_file: Path, library_dir: Path, *, data_dir: Path, modes: list[Mode],
                     embedded: float = 1.0, model_dir: Path | None = None, k: int = 10) -> list[dict]:
    """Success@3, success@10 and MRR@10 per question kind and mode, on a real library indexed in
    ``data_dir`` (indexed there first if it is not yet: that takes long, so keep the data dir).

    A result answers a question when its file, or a copy folded into it, is one of the answer files.
    ``embedded`` < 1 scores the library as it is while the app is still embedding: the vectors of a
    seeded random share of the documents (whole documents, as the embedder works) are left out of the
    vector cache for this run only (nothing is written)."""
    questions = load_questions(questions_file)
    library_dir = Path(library_dir).resolve()
    library = Library.open(data_dir, model_dir=model_dir)
    try:
        if not any(Path(root).resolve() == library_dir for root in library.roots()):
            library.add_folder(library_dir)
        library.update()
        if embedded < 1.0:
            _leave_out_vectors(library, library_dir, embedded)
        rows = []
        for mode in modes:
            per_kind: dict[str, dict[str, list[float]]] = {}
            for question in questions:
                result = library.search(question.text, k=k, mode=mode)
                answers = set(question.answers)
                ranked = [_relative(hit.path, library_dir) for hit in result.hits]
                copies = [{_relative(p, library_dir) for p in hit.duplicates} for hit in result.hits]
                first = next((i for i, (path, dups) in enumerate(zip(ranked, copies, strict=True))
                              if path in answers or dups & answers), None)
                table = per_kind.setdefault(question.kind, {"s3": [], "s10": [], "mrr": [], "ms": []})
                table["s3"].append(1.0 if first is not None and first < 3 else 0.0)
                table["s10"].append(1.0 if first is not None and first < 10 else 0.0)
                table["mrr"].append(1.0 / (first + 1) if first is not None else 0.0)
                table["ms"].append(result.took_ms)
            for kind, table in sorted(per_kind.items()):
                n = len(table["mrr"])
                rows.append({"collection": questions_file.parent.name, "kind": kind, "mode": mode, "queries": n,
                             "embedded": embedded,
                             "success@3": round(sum(table["s3"]) / n, 4), "success@10": round(sum(table["s10"]) / n, 4),
                             "mrr@10": round(sum(table["mrr"]) / n, 4),
                             "query_ms_p50": round(statistics.median(table["ms"]), 2)})
        return rows
    finally:
        library.close()


def _relative(path: str, root: Path) -> str:
    try:
        return str(Path(path).relative_to(root))
    except ValueError:
        return path


def _leave_out_vectors(library: Library, root: Path, share: float, seed: int = 7) -> None:
    import random

    store = library._reader()
    root_id = next(rid for rid, path in store.roots() if Path(key_path(path)).resolve() == root)
    documents = sorted(row.id for row in store.documents_under_root(root_id).values())
    random.Random(seed).shuffle(documents)
    left_out = documents[int(len(documents) * share):]
    keys = [pid for pids in store.passage_ids_of(left_out).values() for pid in pids]
    with library.vectors.lock:
        library.vectors.remove(keys)
