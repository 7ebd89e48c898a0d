"""Teacher vectors computed once, and hard negatives mined with both of the app's signals.

On a CPU the teacher is the main cost of distillation if it runs at every step: a 6-layer forward pass for
every passage the student sees, again on every pass over the data. Here it runs **once** per text
(``TeacherVectors``): every corpus passage as the indexer would embed it, every question, and every
inverse-cloze positive (the passage without its question sentence), cached as ``.npy`` under the work
folder. Training then reads its targets from memory.

**Negatives** (``mine_negatives``) are mined the way the app searches, with both signals: BM25 over the
corpus (SQLite FTS5, ``training_data``) and the teacher's cosine over every corpus passage, fused by
reciprocal rank as hybrid search does. Passages of the question's own document are never negatives (they
are often relevant too), nor is a passage the teacher scores at least as high as the question's own
positive: such a "negative" is more likely an unlabelled positive (RocketQA's denoising, with the teacher
as the judge). Each question keeps ``NEGATIVES_PER_QUESTION``; training draws one per pass.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

NEGATIVES_PER_QUESTION = 4
DENSE_DEPTH = 30  # teacher-cosine candidates per question before fusion
RRF_K = 60  # reciprocal-rank fusion constant (Cormack et al. 2009), as the app's fusion tests used
BLOCK = 4096  # texts per cached block: an interrupted run keeps the blocks it finished


def cached_vectors(path: Path, texts: Sequence[str], encode: Callable[[list[str]], np.ndarray], *,
                   log: Callable[[str], None] = print, what: str = "texts") -> np.ndarray:
    """``encode`` over ``texts`` in blocks, each saved beside ``path`` as it finishes; the whole as
    ``path`` (float16: 384 dims x 100k texts = 77 MB) once all blocks exist. Re-runs read the cache."""
    if path.exists():
        vectors = np.load(path)
        if len(vectors) == len(texts):
            return vectors.astype(np.float32)
    parts = path.parent / f"{path.stem}.parts"
    parts.mkdir(parents=True, exist_ok=True)
    blocks = []
    started = time.perf_counter()
    for number, start in enumerate(range(0, len(texts), BLOCK)):
        part = parts / f"{number:05d}.npy"
        chunk = list(texts[start:start + BLOCK])
        if part.exists() and len(np.load(part)) == len(chunk):
            blocks.append(np.load(part))
            continue
        vectors = np.asarray(encode(chunk), dtype=np.float16)
        np.save(part, vectors)
        blocks.append(vectors)
        done = start + len(chunk)
        log(f"teacher vectors, {what}: {done}/{len(texts)} ({done / (time.perf_counter() - started):.0f}/s)")
    whole = np.concatenate(blocks) if blocks else np.zeros((0, 0), np.float16)
    np.save(path, whole)
    for part in parts.iterdir():
        part.unlink()
    parts.rmdir()
    return whole.astype(np.float32)


def dense_candidates(questions: np.ndarray, passages: np.ndarray, depth: int = DENSE_DEPTH,
                     rows: int = 2048) -> np.ndarray:
    """Indices of each question's ``depth`` nearest passages by cosine, best first (exact, in blocks)."""
    depth = min(depth, len(passages))
    out = np.zeros((len(questions), depth), dtype=np.int64)
    for start in range(0, len(questions), rows):
        scores = questions[start:start + rows] @ passages.T
        top = np.argpartition(-scores, depth - 1, axis=1)[:, :depth]
        order = np.argsort(-np.take_along_axis(scores, top, axis=1), axis=1)
        out[start:start + rows] = np.take_along_axis(top, order, axis=1)
    return out


def mine_negatives(*, question_vectors: np.ndarray, positive_vectors: np.ndarray, passage_vectors: np.ndarray,
                   bm25: Sequence[Sequence[int]], docs: Sequence[str], positives: Sequence[int],
                   keep: int = NEGATIVES_PER_QUESTION) -> tuple[list[list[int]], dict]:
    """Each question's hard negatives: BM25 and teacher-cosine candidates fused by reciprocal rank, own
    document and likely false negatives (teacher score >= the positive's) removed. Returns the lists and
    counts of what was dropped."""
    dense = dense_candidates(question_vectors, passage_vectors)
    positive_scores = np.einsum("ij,ij->i", question_vectors, positive_vectors)
    negatives: list[list[int]] = []
    dropped = {"own_document": 0, "false_negative": 0, "without_negative": 0}
    for i, (own, own_doc) in enumerate(zip(positives, (docs[p] for p in positives), strict=True)):
        fused: dict[int, float] = {}
        for ranking in (bm25[i], dense[i].tolist()):
            for rank, candidate in enumerate(ranking):
                fused[candidate] = fused.get(candidate, 0.0) + 1.0 / (RRF_K + rank + 1)
        chosen: list[int] = []
        for candidate in sorted(fused, key=fused.__getitem__, reverse=True):
            if candidate == own or docs[candidate] == own_doc:
                dropped["own_document"] += 1
                continue
            if float(question_vectors[i] @ passage_vectors[candidate]) >= positive_scores[i]:
                dropped["false_negative"] += 1
                continue
            chosen.append(candidate)
            if len(chosen) == keep:
                break
        dropped["without_negative"] += not chosen
        negatives.append(chosen)
    return negatives, dropped


def write_negatives(negatives: list[list[int]], dropped: dict, path: Path) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"dropped": dropped, "negatives": negatives}), encoding="utf-8")
    tmp.replace(path)


def read_negatives(path: Path) -> tuple[list[list[int]], dict]:
    raw = json.loads(path.read_text(encoding="utf-8"))
    return raw["negatives"], raw["dropped"]


def cached_bm25(path: Path, passages: list[dict], examples: list) -> list[list[int]]:
    """Each question's BM25 candidates from other documents (``training_data.bm25_candidates``), kept in
    ``path``: ~7 minutes of one core for 33k questions."""
    from .training_data import bm25_candidates

    if path.exists():
        saved = json.loads(path.read_text(encoding="utf-8"))
        if len(saved) == len(examples):
            return saved
    lists = bm25_candidates(passages, examples)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(lists), encoding="utf-8")
    tmp.replace(path)
    return lists


def prepare(work: Path, passages: list[dict], examples: list, baseline: Path, *,
            log: Callable[[str], None] = print) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[list[int]]]:
    """The teacher's vectors (questions, positives, corpus passages) and the mined negatives, each stage
    cached under ``work``. The teacher is the app's own encoder on the ``baseline`` folder (the shipped
    MiniLM-L6 int8): the very question tower the student's passages will meet."""
    from librarian.engine.encoders import load_model

    from .training_data import passage_text

    model = load_model(baseline, passage_threads=2, question_threads=2)
    texts = [passage_text(p) for p in passages]
    passage_vectors = cached_vectors(work / "teacher_passages.npy", texts, model.passage.embed, log=log,
                                     what="corpus passages")
    # A positive differs from its corpus passage only for inverse cloze (the question sentence removed).
    changed = [i for i, ex in enumerate(examples) if ex.positive_text != texts[ex.positive]]
    changed_vectors = cached_vectors(work / "teacher_positives.npy", [examples[i].positive_text for i in changed],
                                     model.passage.embed, log=log, what="positives without their question")
    positive_vectors = passage_vectors[[ex.positive for ex in examples]]
    positive_vectors[changed] = changed_vectors
    question_vectors = cached_vectors(work / "teacher_questions.npy", [ex.question for ex in examples],
                                      model.question.embed, log=log, what="questions")
    negatives_file = work / "negatives.json"
    if not negatives_file.exists():
        bm25 = cached_bm25(work / "bm25.json", passages, examples)
        negatives, dropped = mine_negatives(question_vectors=question_vectors, positive_vectors=positive_vectors,
                                            passage_vectors=passage_vectors, bm25=bm25,
                                            docs=[p["doc"] for p in passages],
                                            positives=[ex.positive for ex in examples])
        write_negatives(negatives, dropped, negatives_file)
    negatives, dropped = read_negatives(negatives_file)
    log(f"negatives: {sum(map(len, negatives))} for {len(examples)} questions; dropped {dropped}")
    return question_vectors, positive_vectors, passage_vectors, negatives
