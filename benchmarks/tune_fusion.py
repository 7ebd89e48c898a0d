"""Tune fusion offline, on the development collections and the real-library dev set, without
re-indexing or re-encoding for every setting.

Each BEIR collection is indexed once (cached under benchmarks/_data/); the real-library set
(devsets/debian-docs, see its README) is read from a data dir you indexed before with
`librarian --data-dir DIR index LIBRARY`. For every query the keyword list, the dense list and the
cosine of every keyword candidate that has a vector are fetched once ("dump", cached as a pickle);
then `engine.search.fuse` is scored on those lists for each variant, also with only a share of
the library embedded (whole documents, seeded), as while the app is still embedding.

    python benchmarks/tune_fusion.py dump [--rebuild] [--collections cisi cranfield npl] [--library-data DIR --library DIR]
    python benchmarks/tune_fusion.py score [--embedded 1.0 0.2]
    python benchmarks/tune_fusion.py floor

Prints nDCG@10 (BEIR) and MRR@10 / success@3 (real library, per kind) for keyword, dense and hybrid.
"""

from __future__ import annotations

import argparse
import pickle
import random
import shutil
import statistics
import sys
from dataclasses import dataclass, field
from pathlib import Path

from librarian.engine import search as search_module
from librarian.engine.encoders import load_model
from librarian.engine.evaluation import load_collection, load_questions, mrr_at, ndcg_at
from librarian.engine.library import Library
from librarian.engine.paths import key_path
from librarian.engine.query import parse
from librarian.engine.search import Ranked

ROOT = Path(__file__).resolve().parents[1]
EVAL = ROOT.parent / "shared" / "eval"
DEVSET = ROOT / "devsets" / "debian-docs"
CACHE = Path(__file__).resolve().parent / "_data"
DEPTH = 200
ALL_BEIR = ["cisi", "cranfield", "npl"]


@dataclass
class QueryLists:
    kind: str  # "beir", "paraphrase", "exact"
    text: str
    keyword: Ranked  # as hybrid mode asks for it (its rarest MAX_QUERY_TERMS terms)
    keyword_all: Ranked  # as keyword mode asks for it (every term)
    dense: Ranked
    cosine: dict[int, float]  # keyword candidates with a vector, outside the dense list
    relevant: dict[str, int]  # document key -> grade
    idf: dict[str, float] = field(default_factory=dict)


@dataclass
class Dump:
    name: str
    doc_of: dict[int, str]  # passage id -> document key (path, or content hash for copies)
    queries: list[QueryLists]


# The dumps are read back by this module and by experiments importing it: name it as they know it.
QueryLists.__module__ = Dump.__module__ = "tune_fusion"
sys.modules.setdefault("tune_fusion", sys.modules[__name__])


def _lists(lib: Library, text: str) -> tuple[Ranked, Ranked, Ranked, dict[int, float], dict[str, float]]:
    store = lib._reader()
    searcher = lib._searcher
    parsed = parse(text)
    with store.snapshot():
        keyword = searcher._keyword(store, parsed, DEPTH, None, max_terms=search_module.MAX_QUERY_TERMS)
        keyword_all = searcher._keyword(store, parsed, DEPTH, None)
        idf = searcher._idf(store, parsed.highlight_terms())
        assert lib.model is not None
        vector = lib.model.question.embed_query(parsed.text)
        dense = searcher._dense(store, vector, DEPTH, None, {})
        reached = set(dense.ids)
        cosine = lib.vectors.similarities(vector, [i for i in keyword.ids if i not in reached])
    return keyword, keyword_all, dense, cosine, idf


def _doc_keys(lib: Library, relative_to: Path | None) -> tuple[dict[int, str], dict[str, str]]:
    """passage -> document key; a document's key is its content hash when it has copies, so a copy of
    an answer counts as the answer (as results fold copies)."""
    store = lib._reader()
    rows = store.conn.execute(
        "SELECT p.id, d.path, d.content_hash FROM passages p JOIN documents d ON d.id = p.document_id").fetchall()
    key_of_path: dict[str, str] = {}
    doc_of = {}
    for pid, path, digest in rows:
        name = key_path(path)
        if relative_to is not None:
            name = str(Path(name).relative_to(relative_to))
        key = digest or name
        key_of_path[name] = key
        doc_of[int(pid)] = key
    return doc_of, key_of_path


FOREIGN = 30  # questions of each other set asked of a collection: none of its documents answers them


def foreign_questions(name: str, names: list[str]) -> list[str]:
    """Questions no document of ``name`` answers: a seeded sample of every other set's (for the
    relevance floor: what it shows for them is all noise)."""
    out = []
    for other in names:
        if other == name:
            continue
        texts = ([q.text for q in load_questions(DEVSET / "questions.tsv")] if other == "debian-docs"
                 else [text for _, text in load_collection(EVAL / other).queries])
        out += random.Random(other).sample(texts, min(FOREIGN, len(texts)))
    return out


def dump_beir(name: str, model, everything: list[str], *, rebuild: bool = False) -> Dump:
    """``rebuild``: index the collection again (extraction, chunking or the encoder changed) instead of
    reusing its index under benchmarks/_data/NAME."""
    coll = load_collection(EVAL / name)
    data = CACHE / name
    if rebuild and data.exists():
        shutil.rmtree(data)
    fresh = not (data / "index.sqlite3").exists()
    lib = Library.open(data, model=model)
    try:
        if fresh:
            lib.add_records(coll.corpus)
        doc_of, _ = _doc_keys(lib, None)
        doc_of = {pid: key for pid, key in doc_of.items()}
        # BEIR records are their own documents: key them by _id (the path), not by content hash.
        rows = lib._reader().conn.execute("SELECT p.id, d.path FROM passages p JOIN documents d ON d.id = p.document_id")
        doc_of = {int(pid): key_path(path) for pid, path in rows}
        queries = []
        for qid, text in coll.queries:
            keyword, keyword_all, dense, cosine, idf = _lists(lib, text)
            queries.append(QueryLists("beir", text, keyword, keyword_all, dense, cosine, coll.qrels[qid], idf))
        for text in foreign_questions(name, everything):
            keyword, keyword_all, dense, cosine, idf = _lists(lib, text)
            queries.append(QueryLists("foreign", text, keyword, keyword_all, dense, cosine, {}, idf))
        return Dump(name, doc_of, queries)
    finally:
        lib.close()


def dump_library(data: Path, library: Path, model, everything: list[str]) -> Dump:
    lib = Library.open(data, model=model)
    try:
        doc_of, key_of_path = _doc_keys(lib, library.resolve())
        queries = []
        for question in load_questions(DEVSET / "questions.tsv"):
            relevant = {key_of_path[a]: 1 for a in question.answers if a in key_of_path}
            keyword, keyword_all, dense, cosine, idf = _lists(lib, question.text)
            queries.append(QueryLists(question.kind, question.text, keyword, keyword_all, dense, cosine, relevant, idf))
        for text in foreign_questions("debian-docs", everything):
            keyword, keyword_all, dense, cosine, idf = _lists(lib, text)
            queries.append(QueryLists("foreign", text, keyword, keyword_all, dense, cosine, {}, idf))
        return Dump("debian-docs", doc_of, queries)
    finally:
        lib.close()


def ranking(scores: dict[int, float], doc_of: dict[int, str]) -> list[str]:
    best: dict[str, float] = {}
    for pid, score in scores.items():
        doc = doc_of.get(pid)
        if doc is not None and score > best.get(doc, float("-inf")):
            best[doc] = score
    return sorted(best, key=lambda d: (-best[d], d))


def masked(lists: QueryLists, embedded: set[int] | None) -> tuple[Ranked, dict[int, float]]:
    """The dense list and keyword cosines as a search sees them when only ``embedded`` passages have
    vectors: the first `search.EMBED_ON_THE_FLY` keyword candidates without one are encoded during
    the search, so their cosine is known."""
    if embedded is None:
        return lists.dense, lists.cosine
    kept = [(i, s) for i, s in zip(lists.dense.ids, lists.dense.scores, strict=True) if i in embedded]
    dense = Ranked(tuple(i for i, _ in kept), tuple(s for _, s in kept))
    cosine = {i: s for i, s in lists.cosine.items() if i in embedded}
    every = {**lists.cosine, **dict(zip(lists.dense.ids, lists.dense.scores, strict=True))}
    reached = set(dense.ids)
    unembedded = [i for i in lists.keyword.ids if i not in reached and i not in cosine]
    cosine.update({i: every[i] for i in unembedded[:search_module.EMBED_ON_THE_FLY] if i in every})
    return dense, cosine


def embedded_share(doc_of: dict[int, str], share: float, seed: int = 7) -> set[int] | None:
    if share >= 1.0:
        return None
    docs = sorted(set(doc_of.values()))
    random.Random(seed).shuffle(docs)
    chosen = set(docs[: int(len(docs) * share)])
    return {pid for pid, doc in doc_of.items() if doc in chosen}


def score(dump: Dump, share: float) -> dict[str, dict[str, list[float]]]:
    """kind -> "mode metric" -> per-query values."""
    embedded = embedded_share(dump.doc_of, share)
    out: dict[str, dict[str, list[float]]] = {}
    for q in dump.queries:
        dense, cosine = masked(q, embedded)
        runs = {
            "keyword": dict(zip(q.keyword_all.ids, q.keyword_all.scores, strict=True)),
            "dense": dict(zip(dense.ids, dense.scores, strict=True)),
            "hybrid": search_module.fuse(q.keyword, dense, cosine),
        }
        table = out.setdefault(q.kind, {})
        for mode, scores in runs.items():
            ranked = ranking(scores, dump.doc_of)
            table.setdefault(f"{mode} nDCG@10", []).append(ndcg_at(ranked, q.relevant))
            table.setdefault(f"{mode} MRR@10", []).append(mrr_at(ranked, q.relevant))
            table.setdefault(f"{mode} S@3", []).append(1.0 if set(ranked[:3]) & set(q.relevant) else 0.0)
    return out


def floor(dumps: list[Dump]) -> None:
    """The relevance floor per mode (`search.weak_matches`), judged on each top 10: the share of the
    relevant documents it keeps, the precision of what it shows, and how many results it shows for
    the questions of the other sets (none of them relevant)."""
    print(f"{'set':<14}{'mode':<9}{'kept':>6}{'precision':>11}{'shown':>7}{'foreign shown':>15}")
    for dump in dumps:
        for mode in ("hybrid", "dense", "keyword"):
            relevant = kept = shown = foreign_shown = own = foreign = 0
            for q in dump.queries:
                if mode == "hybrid":
                    scores = search_module.fuse(q.keyword, q.dense, q.cosine)
                    coverage = q.keyword.coverage
                elif mode == "dense":
                    scores, coverage = dict(zip(q.dense.ids, q.dense.scores, strict=True)), {}
                else:
                    scores = dict(zip(q.keyword_all.ids, q.keyword_all.scores, strict=True))
                    coverage = q.keyword_all.coverage
                best: dict[str, tuple[float, int]] = {}
                for pid, value in scores.items():
                    doc = dump.doc_of.get(pid)
                    if doc is not None and value > best.get(doc, (float("-inf"), 0))[0]:
                        best[doc] = (value, pid)
                top = sorted(best, key=lambda d: (-best[d][0], d))[:10]
                weak = search_module.weak_matches([best[d][0] for d in top],
                                                  [coverage.get(best[d][1], 0.0) for d in top], mode)
                strong = [d for d, w in zip(top, weak, strict=True) if not w]
                if q.kind == "foreign":
                    foreign += 1
                    foreign_shown += len(strong)
                    continue
                own += 1
                relevant += sum(d in q.relevant for d in top)
                kept += sum(d in q.relevant for d in strong)
                shown += len(strong)
            print(f"{dump.name:<14}{mode:<9}{kept / max(relevant, 1):>6.2f}{kept / max(shown, 1):>11.2f}"
                  f"{shown / max(own, 1):>7.1f}{foreign_shown / max(foreign, 1):>15.1f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("step", choices=["dump", "score", "floor"])
    parser.add_argument("--only", nargs="*", help="score only these dumps (names)")
    parser.add_argument("--collections", nargs="*", default=["cisi", "cranfield", "npl"])
    parser.add_argument("--library-data", type=Path, help="data dir holding the indexed real library")
    parser.add_argument("--library", type=Path, help="the real library's folder (answers are relative to it)")
    parser.add_argument("--embedded", nargs="*", type=float, default=[1.0, 0.2])
    parser.add_argument("--rebuild", action="store_true",
                        help="dump: index the BEIR collections again instead of reusing benchmarks/_data/NAME "
                             "(needed after a change to extraction, chunking or the encoder)")
    args = parser.parse_args()
    CACHE.mkdir(exist_ok=True)
    if args.step == "dump":
        model = load_model()
        everything = [*ALL_BEIR, "debian-docs"]
        for name in args.collections:
            (CACHE / f"{name}.lists.pickle").write_bytes(pickle.dumps(dump_beir(name, model, everything,
                                                                                 rebuild=args.rebuild)))
        if args.library_data:
            (CACHE / "debian-docs.lists.pickle").write_bytes(pickle.dumps(
                dump_library(args.library_data, args.library, model, everything)))
        return
    dumps = [pickle.loads(p.read_bytes()) for p in sorted(CACHE.glob("*.lists.pickle")) if p.stat().st_size]
    dumps = [d for d in dumps if not args.only or d.name in args.only]
    if args.step == "floor":
        floor(dumps)
        return
    for share in args.embedded:
        print(f"\n== {share:.0%} embedded")
        means: dict[str, list[float]] = {}
        for dump in dumps:
            for kind, table in score(dump, share).items():
                if kind == "foreign":
                    continue
                label = dump.name if kind == "beir" else f"{dump.name}/{kind}"
                metric = "nDCG@10" if kind == "beir" else "MRR@10"
                cells = {m: statistics.fmean(table[f"{m} {metric}"]) for m in ("keyword", "dense", "hybrid")}
                extra = ""
                if kind != "beir":
                    extra = "  S@3 " + " ".join(f"{m[0]}={statistics.fmean(table[f'{m} S@3']):.2f}"
                                                for m in ("keyword", "dense", "hybrid"))
                print(f"{label:<24} {metric:<8} " + "  ".join(f"{m} {v:.3f}" for m, v in cells.items()) + extra)
                if kind == "beir":
                    for m, v in cells.items():
                        means.setdefault(m, []).append(v)
        if means:
            print(f"{'BEIR mean':<24} nDCG@10  " + "  ".join(f"{m} {statistics.fmean(v):.3f}" for m, v in means.items()))


if __name__ == "__main__":
    main()
