"""Fidelity gate: how close the int8 model's sentence vectors stay to the fp32 ONNX model's.

Passages: title + text of real documents from the development collections (``/work/shared/eval/*``),
truncated at 256 word pieces, encoded as the indexer encodes them (`ENCODE_BATCH`, one at a time).
Queries: every query of those collections, encoded one at a time (dynamic int8 scales depend on the batch).
Top-10 overlap: per collection, int8 query vs int8 passages against fp32 query vs fp32 passages.
Both sides are encoded by the app's own encoder (``engine.encoders.OnnxEncoder``), so the gate measures
what the app will run. Runtime-light (numpy, onnxruntime, tokenizers).
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from librarian.engine.encoders import OnnxEncoder

DEFAULT_EVAL_ROOT = Path("/work/shared/eval")
PASSAGE_MAX_LENGTH = 256
# Questions are read up to the model's own limit: at 64 pieces a pasted paragraph lost its second half
# (CISI dense nDCG@10 .404 at 64, .422 at 256); a typed query is a few pieces and costs the same.
QUERY_MAX_LENGTH = 256


@dataclass
class Collection:
    name: str
    passages: list[str]
    queries: list[str]


@dataclass
class EvalSet:
    collections: list[Collection]
    per_collection_cap: int
    seed: int

    @property
    def n_passages(self) -> int:
        return sum(len(c.passages) for c in self.collections)

    @property
    def n_queries(self) -> int:
        return sum(len(c.queries) for c in self.collections)

    def all_passages(self) -> list[str]:
        return [p for c in self.collections for p in c.passages]

    def all_queries(self) -> list[str]:
        return [q for c in self.collections for q in c.queries]

    def fingerprint(self) -> str:
        h = hashlib.sha256()
        for c in self.collections:
            h.update(c.name.encode())
            for t in c.passages + ["\x00"] + c.queries:
                h.update(t.encode() + b"\x01")
        return h.hexdigest()[:16]


def _read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def load_eval_set(root: Path = DEFAULT_EVAL_ROOT, per_collection_cap: int = 1500, seed: int = 13) -> EvalSet:
    """Every collection under ``root`` with corpus.jsonl + queries.jsonl; corpora above the cap are sampled."""
    collections = []
    for corpus in sorted(root.glob("*/corpus.jsonl")):
        docs = _read_jsonl(corpus)
        queries_path = corpus.parent / "queries.jsonl"
        queries = [q["text"].strip() for q in _read_jsonl(queries_path)] if queries_path.exists() else []
        if len(docs) > per_collection_cap:
            docs = random.Random(seed).sample(docs, per_collection_cap)
        passages = [
            " ".join(p for p in (d.get("title", "").strip(), d.get("text", "").strip()) if p) for d in docs
        ]
        passages = [p for p in passages if p]
        collections.append(Collection(corpus.parent.name, passages, [q for q in queries if q]))
    if not collections:
        raise FileNotFoundError(f"no */corpus.jsonl under {root}")
    return EvalSet(collections, per_collection_cap, seed)


@dataclass
class Vectors:
    passages: np.ndarray
    queries: np.ndarray


def encode_eval_set(model: Path, tokenizer: Path, data: EvalSet, threads: int = 2) -> Vectors:
    p_enc = OnnxEncoder.of_file(model, tokenizer, max_length=PASSAGE_MAX_LENGTH, threads=threads)
    q_enc = OnnxEncoder.of_file(model, tokenizer, max_length=QUERY_MAX_LENGTH, threads=threads)
    queries = data.all_queries()
    return Vectors(p_enc.embed(data.all_passages()),
                   np.concatenate([q_enc.embed_query(q)[None] for q in queries]) if queries
                   else np.zeros((0, q_enc.dims), np.float32))


def cached_reference_vectors(
    model: Path, tokenizer: Path, data: EvalSet, cache_dir: Path, model_sha: str, threads: int = 2
) -> Vectors:
    """fp32 reference vectors, cached by model digest and eval-set fingerprint (re-runs are cheaper)."""
    cache = cache_dir / f"ref_{model_sha[:16]}_{data.fingerprint()}.npz"
    if cache.exists():
        z = np.load(cache)
        return Vectors(z["passages"], z["queries"])
    vecs = encode_eval_set(model, tokenizer, data, threads)
    cache_dir.mkdir(parents=True, exist_ok=True)
    np.savez(cache, passages=vecs.passages, queries=vecs.queries)
    return vecs


@dataclass
class FidelityReport:
    passages: int
    queries: int
    mean_cosine: float
    min_cosine: float
    p01_cosine: float
    query_mean_cosine: float
    query_top10_overlap: float
    per_collection_top10_overlap: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {k: (round(v, 5) if isinstance(v, float) else v) for k, v in asdict(self).items()}


def compare(reference: Vectors, candidate: Vectors, data: EvalSet, k: int = 10) -> FidelityReport:
    cos = np.sum(reference.passages * candidate.passages, axis=1)
    qcos = np.sum(reference.queries * candidate.queries, axis=1)
    overlaps: dict[str, float] = {}
    all_ov: list[float] = []
    p0 = q0 = 0
    for c in data.collections:
        np_, nq = len(c.passages), len(c.queries)
        if nq:
            kk = min(k, np_)
            ref = _topk(reference.queries[q0 : q0 + nq] @ reference.passages[p0 : p0 + np_].T, kk)
            cand = _topk(candidate.queries[q0 : q0 + nq] @ candidate.passages[p0 : p0 + np_].T, kk)
            ov = [len(set(a) & set(b)) / kk for a, b in zip(ref, cand, strict=True)]
            overlaps[c.name] = round(float(np.mean(ov)), 4)
            all_ov.extend(ov)
        p0 += np_
        q0 += nq
    return FidelityReport(
        passages=int(len(cos)),
        queries=int(len(qcos)),
        mean_cosine=float(cos.mean()),
        min_cosine=float(cos.min()),
        p01_cosine=float(np.percentile(cos, 1)),
        query_mean_cosine=float(qcos.mean()) if len(qcos) else float("nan"),
        query_top10_overlap=float(np.mean(all_ov)) if all_ov else float("nan"),
        per_collection_top10_overlap=overlaps,
    )


def _topk(scores: np.ndarray, k: int) -> np.ndarray:
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    return part


@dataclass
class Gate:
    min_mean_cosine: float = 0.99
    min_passages: int = 500
    min_top10_overlap: float = 0.85

    def failures(self, r: FidelityReport) -> list[str]:
        out = []
        if r.passages < self.min_passages:
            out.append(f"only {r.passages} passages measured (need >= {self.min_passages})")
        if not r.mean_cosine >= self.min_mean_cosine:
            out.append(f"mean cosine int8 vs fp32 {r.mean_cosine:.4f} < {self.min_mean_cosine}")
        if not r.query_top10_overlap >= self.min_top10_overlap:
            out.append(f"query top-10 overlap {r.query_top10_overlap:.3f} < {self.min_top10_overlap}")
        return out
