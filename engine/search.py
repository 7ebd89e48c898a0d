"""Question → ranked documents: dense candidates from USearch, keyword candidates from FTS5 (BM25),
fused by reciprocal rank, grouped by document, with a highlighted snippet per document.

Fusion works on passages (each list ranks passages); a document's score is its best passage's
fused score, and the other passages of the same document that matched are counted, not repeated.
Documents with identical content (same hash, other path) collapse into one result.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from .encoders import Encoder
from .errors import QueryError
from .extract.base import Locator
from .query import ParsedQuery, parse
from .results import Hit, Matched, Mode, SearchFilters, SearchResult
from .store import Store
from .vectors import VectorCache

RRF_K = 60
CANDIDATES = 100
SNIPPET_CHARS = 320
BM25_WEIGHTS = (2.0, 1.0)  # title, body


@dataclass(frozen=True, slots=True)
class Ranked:
    """A ranked candidate list from one retriever: passage ids best first, with raw scores."""

    ids: tuple[int, ...]
    scores: tuple[float, ...]


def rrf(lists: Sequence[Ranked], *, k: int = RRF_K, weights: Sequence[float] | None = None) -> dict[int, float]:
    """Reciprocal-rank fusion: sum over lists of weight / (k + rank), rank starting at 1."""
    fused: dict[int, float] = {}
    for index, ranked in enumerate(lists):
        weight = weights[index] if weights else 1.0
        for rank, pid in enumerate(ranked.ids, start=1):
            fused[pid] = fused.get(pid, 0.0) + weight / (k + rank)
    return fused


@dataclass(slots=True)
class _DocGroup:
    document_id: int
    best_pid: int
    score: float
    passages: int
    words: bool
    meaning: bool


def group_by_document(scores: dict[int, float], doc_of: dict[int, int], *, keyword: set[int],
                      dense: set[int]) -> list[_DocGroup]:
    """Best passage per document, documents by descending score (ties: lower id first)."""
    groups: dict[int, _DocGroup] = {}
    for pid, score in sorted(scores.items(), key=lambda item: (-item[1], item[0])):
        doc = doc_of.get(pid)
        if doc is None:
            continue
        group = groups.get(doc)
        if group is None:
            groups[doc] = _DocGroup(doc, pid, score, 1, pid in keyword, pid in dense)
        else:
            group.passages += 1
            group.words |= pid in keyword
            group.meaning |= pid in dense
    return list(groups.values())


def _filter_sql(filters: SearchFilters | None) -> tuple[str, list]:
    if filters is None:
        return "", []
    clauses, params = [], []
    if filters.folder:
        folder = filters.folder.rstrip("/\\")
        clauses.append("(d.path = ? OR substr(d.path, 1, ?) = ?)")
        params += [folder, len(folder) + 1, folder + "/"]
    if filters.kinds:
        clauses.append(f"d.kind IN ({','.join('?' * len(filters.kinds))})")
        params += list(filters.kinds)
    if filters.modified_after is not None:
        clauses.append("d.mtime_ns >= ?")
        params.append(int(filters.modified_after * 1e9))
    if filters.modified_before is not None:
        clauses.append("d.mtime_ns <= ?")
        params.append(int(filters.modified_before * 1e9))
    return (" AND " + " AND ".join(clauses)) if clauses else "", params


class Searcher:
    def __init__(self, *, store: Callable[[], Store], vectors: VectorCache | None, encoder: Callable[[], Encoder] | None) -> None:
        self._store = store
        self._vectors = vectors
        self._encoder = encoder

    def search(self, query: str, *, k: int = 10, mode: Mode = "hybrid",
               filters: SearchFilters | None = None) -> SearchResult:
        started = time.perf_counter()
        if not query or not query.strip():
            raise QueryError("the query is empty")
        if k < 1:
            raise QueryError("k must be at least 1")
        parsed = parse(query)
        store = self._store()
        timings: dict[str, float] = {}
        candidates = max(CANDIDATES, k * 5)
        lists: list[Ranked] = []
        keyword = dense = Ranked((), ())
        if mode in ("hybrid", "keyword"):
            t = time.perf_counter()
            keyword = self._keyword(store, parsed, candidates, filters)
            timings["fts"] = (time.perf_counter() - t) * 1000
            lists.append(keyword)
        if mode in ("hybrid", "dense"):
            dense = self._dense(store, parsed, candidates, filters, timings)
            lists.append(dense)
        t = time.perf_counter()
        if mode == "hybrid":
            fused = rrf([keyword, dense])
        else:
            only = lists[0]
            fused = dict(zip(only.ids, only.scores, strict=True))
        info = self._passage_info(store, list(fused), filters)
        doc_of = {pid: row[0] for pid, row in info.items()}
        groups = group_by_document(fused, doc_of, keyword=set(keyword.ids), dense=set(dense.ids))
        hits = self._hits(store, groups, info, parsed, k, mode)
        timings["fuse"] = (time.perf_counter() - t) * 1000
        took = (time.perf_counter() - started) * 1000
        return SearchResult(query=query, mode=mode, took_ms=took, hits=tuple(hits), timings_ms=timings)

    # -- retrievers -----------------------------------------------------------------------------
    def _keyword(self, store: Store, parsed: ParsedQuery, limit: int, filters: SearchFilters | None) -> Ranked:
        match = parsed.fts()
        if match is None:
            return Ranked((), ())
        where, params = _filter_sql(filters)
        join = " JOIN passages p ON p.id = f.rowid JOIN documents d ON d.id = p.document_id" if where else ""
        sql = (f"SELECT f.rowid, bm25(passages_fts, {BM25_WEIGHTS[0]}, {BM25_WEIGHTS[1]}) AS s "
               f"FROM passages_fts f{join} WHERE passages_fts MATCH ?{where} ORDER BY s LIMIT ?")
        rows = store.conn.execute(sql, [match, *params, limit]).fetchall()
        return Ranked(tuple(int(r[0]) for r in rows), tuple(-float(r[1]) for r in rows))

    def _dense(self, store: Store, parsed: ParsedQuery, limit: int, filters: SearchFilters | None,
               timings: dict[str, float]) -> Ranked:
        if self._vectors is None or self._encoder is None or len(self._vectors) == 0:
            return Ranked((), ())
        t = time.perf_counter()
        query_vector = self._encoder().embed_query(parsed.text)
        timings["encode"] = (time.perf_counter() - t) * 1000
        t = time.perf_counter()
        fetch = limit * 10 if filters else limit
        keys, sims = self._vectors.search(query_vector, fetch)
        timings["ann"] = (time.perf_counter() - t) * 1000
        ids = tuple(int(x) for x in keys)
        scores = tuple(float(x) for x in sims)
        if filters:
            allowed = set(self._passage_info(store, list(ids), filters))
            kept = [(i, s) for i, s in zip(ids, scores, strict=True) if i in allowed][:limit]
            ids = tuple(i for i, _ in kept)
            scores = tuple(s for _, s in kept)
        return Ranked(ids, scores)

    # -- assembling hits ------------------------------------------------------------------------
    @staticmethod
    def _passage_info(store: Store, ids: list[int], filters: SearchFilters | None) -> dict[int, tuple]:
        """id -> (document_id, ordinal, body, locator, path, doc title, kind, mtime_ns, hash), filtered."""
        where, params = _filter_sql(filters)
        out: dict[int, tuple] = {}
        for start in range(0, len(ids), 900):
            chunk = ids[start:start + 900]
            marks = ",".join("?" * len(chunk))
            for r in store.conn.execute(
                    "SELECT p.id, p.document_id, p.ordinal, p.body, p.locator, d.path, d.title, d.kind, "
                    "d.mtime_ns, d.content_hash FROM passages p JOIN documents d ON d.id = p.document_id "
                    f"WHERE p.id IN ({marks}){where}", [*chunk, *params]):
                out[int(r[0])] = tuple(r[1:])
        return out

    def _hits(self, store: Store, groups: list, info: dict[int, tuple], parsed: ParsedQuery, k: int,
              mode: Mode) -> list[Hit]:
        hits: list[Hit] = []
        by_hash: dict[str, int] = {}
        duplicates: dict[int, list[str]] = {}
        terms = parsed.highlight_terms()
        for group in groups:
            doc_id, ordinal, body, locator, path, title, kind, mtime_ns, digest = info[group.best_pid]
            if digest and digest in by_hash:
                duplicates[by_hash[digest]].append(path)
                continue
            if len(hits) >= k:
                continue  # keep scanning only to collect duplicates of what is shown
            if digest:
                by_hash[digest] = len(hits)
            duplicates[len(hits)] = []
            snippet, spans = make_snippet(body, terms)
            matched: Matched = ("both" if group.words and group.meaning else "words" if group.words else "meaning")
            if mode == "keyword":
                matched = "words"
            elif mode == "dense":
                matched = "both" if spans else "meaning"
            hits.append(Hit(document_id=doc_id, path=path, title=title or path, kind=kind or "", modified=mtime_ns / 1e9,
                            score=group.score, passage_id=group.best_pid, passage=ordinal, snippet=snippet,
                            highlights=tuple(spans), locator=Locator.from_dict(json.loads(locator)),
                            matched=matched, other_passages=group.passages - 1))
        return [
            Hit(**{**{f: getattr(h, f) for f in Hit.__slots__}, "duplicates": tuple(duplicates.get(i, ()))})  # type: ignore[attr-defined]
            for i, h in enumerate(hits)
        ]


def _term_pattern(terms: Sequence[str]) -> re.Pattern[str] | None:
    """Words that start like a query term: a crude stand-in for the porter stemmer FTS5 uses."""
    parts = []
    for term in terms:
        stem = term if len(term) <= 4 else term[: max(4, len(term) - 2)]
        parts.append(re.escape(stem) + r"\w*")
    if not parts:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(parts) + r")", re.IGNORECASE | re.UNICODE)


def make_snippet(body: str, terms: Sequence[str], *, width: int = SNIPPET_CHARS) -> tuple[str, list[tuple[int, int]]]:
    """The ``width`` characters of ``body`` richest in query terms, with the terms' spans marked."""
    text = " ".join(body.split())
    pattern = _term_pattern(terms)
    matches = [m.span() for m in pattern.finditer(text)] if pattern else []
    start = 0
    if len(text) > width and matches:
        starts = np.array([s for s, _ in matches])
        best = max(range(len(matches)), key=lambda i: int(((starts >= starts[i]) & (starts < starts[i] + width * 0.8)).sum()))
        start = max(0, matches[best][0] - width // 5)
        space = text.rfind(" ", 0, start)
        start = space + 1 if space >= 0 and start > 0 else start
    end = min(len(text), start + width)
    if end < len(text):
        space = text.rfind(" ", start, end)
        end = space if space > start else end
    snippet = text[start:end]
    prefix = "… " if start > 0 else ""
    suffix = " …" if end < len(text) else ""
    spans = [(s - start + len(prefix), e - start + len(prefix)) for s, e in matches if s >= start and e <= end]
    return prefix + snippet + suffix, spans
