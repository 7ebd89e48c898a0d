"""Question → ranked documents: dense candidates from USearch, keyword candidates from FTS5 (BM25),
fused (cosine plus coverage-weighted BM25), grouped by document, with a highlighted snippet per document.

Fusion works on passages (each list scores passages; see `convex_fuse`); a document's score is
its best passage's fused score, and the other passages of the same document that matched are counted, not repeated.
Documents with identical content (same hash, other path) collapse into one result, and so do near copies
(a few lines changed: engine/similar.py).

Every read of one search goes through `Store`'s read API inside one `Store.snapshot`, so the keyword
ranking, the candidates and the details shown come from the same version of the index while the
indexer commits. `Searcher` itself holds no SQL: it ranks what the store hands it.
"""

from __future__ import annotations

import functools
import math
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import numpy as np

from . import similar
from .encoders import Encoder, cosines
from .errors import QueryError
from .extract.base import Locator
from .passage_text import embedding_text
from .paths import display_path, key_path, path_key
from .query import WORD_START, ParsedQuery, clean_text, is_cjk, parse
from .results import Hit, Matched, Mode, SearchFilters, SearchResult
from .store import Candidate, DocumentFilter, Store
from .vectors import VectorCache

RRF_K = 60
MAX_QUERY_TERMS = 12  # in hybrid mode only: BM25 alone keeps every term
COMMON_TERM_SHARE = 0.2  # hybrid mode: terms in more than this share of passages leave the FTS query
EXPENSIVE_TERM = 5000  # ... even the rarest, when it is also in more passages than this (see `_keyword`)
NAME_MATCHES = 20
NAME_BONUS = 0.35
DENSE_WEIGHT = 0.65
# How far keyword evidence is trusted (`keyword_trust`): full at CLOSE_TO_BEST of the best cosine,
# falling with this power below it; the query's agreement is read on its first AGREEMENT_DEPTH
# keyword candidates. Measured on the BEIR collections and devsets/debian-docs (benchmarks/tune_fusion.py):
# a plateau from 0.68 to 0.75 (BEIR hybrid mean .453-.456, paraphrase MRR .644-.652); with passages
# encoded one at a time, 0.7 ranks best on both (npl .525 vs .518 at 0.75); 0.65 and 0.8 fall off.
CLOSE_TO_BEST = 0.7
WHOLE_QUERY = 0.999  # coverage of a passage holding every term of the query
WORDS_TIE_BREAK = 1e-3  # what BM25 still weighs among passages holding the whole query (`convex_fuse`)
SURE_OF_MEANING = 0.4  # below this best cosine meaning has no answer to agree with: words count in full
TRUST_SHARPNESS = 4
AGREEMENT_DEPTH = 5
MEANING_COSINE = 0.5
MEANING_MIN_COSINE = 0.25
MEANING_SHARE_OF_BEST = 0.8
CANDIDATES = 100
NEAR_DUPLICATE_SHOWN = 10  # near copies are folded among the first 10 results shown ...
NEAR_DUPLICATE_POOL = 2  # ... looking for them among twice as many documents
# When the candidate passages hold fewer than k documents (one long document fills the pool), ask
# each retriever again for FILL_GROWTH times as many, at most FILL_ROUNDS times in all: 100 → 400 → 1,600.
FILL_ROUNDS = 3
FILL_GROWTH = 4
SNIPPET_CHARS = 320
K = TypeVar("K")
V = TypeVar("V")
# Partly embedded library: the first EMBED_ON_THE_FLY keyword candidates without a vector are encoded
# during the search (cached by passage id: a passage's text never changes under its id); the others
# get the mean cosine of the first IMPUTE_FROM keyword candidates that have one (`fuse`). Measured on
# the dev sets with 20% of the documents embedded (benchmarks/tune_fusion.py): BEIR hybrid nDCG .370
# with none encoded (= keyword alone), .400 with 4, .414 with 8; 8 cost ~200 ms a query, 4 about half.
EMBED_ON_THE_FLY = 4
# The first characters of such a passage are encoded (~180 word pieces): on the real-library dev set at
# 20% embedded, 800 ranked as the whole passage did (hybrid MRR exact .878, paraphrase .585) in 70% of
# the time; 500 lost .022 on paraphrases.
ON_THE_FLY_CHARS = 800
ON_THE_FLY_CACHE = 4096
SKETCHES_KEPT = 2048
IMPUTE_FROM = 30
IMPUTE_DENSE_RANK = 10
# The relevance floor (`weak_matches`).
HYBRID_FLOOR = 0.25
DENSE_FLOOR = 0.35
KEYWORD_SHARE_OF_BEST = 0.5
BM25_WEIGHTS = (2.0, 1.0, 1.0)  # title, body, split identifiers


@dataclass(frozen=True, slots=True)
class Ranked:
    """A ranked candidate list from one retriever: passage ids best first, with raw scores.
    ``coverage`` (keyword lists only): the IDF-weighted share of the query's terms each passage holds."""

    ids: tuple[int, ...]
    scores: tuple[float, ...]
    coverage: dict[int, float] = field(default_factory=dict)
    more: bool = False  # the retriever stopped at its limit: asking for more would find more
    words: dict[int, tuple[str, ...]] = field(default_factory=dict)  # keyword lists: the query words each holds


def convex_fuse(keyword: Ranked, dense: Ranked, *, dense_weight: float = DENSE_WEIGHT,
                extra_similarities: dict[int, float] | None = None,
                guessed: dict[int, float] | None = None) -> dict[int, float]:
    """dense_weight · cosine + (1 − dense_weight) · trust · BM25 / best BM25 · coverage.

    Cosine keeps its magnitude (RRF would flatten a clear semantic winner into "rank 1 vs rank 3"),
    and a keyword match counts in proportion to how much of the query the passage holds: a passage
    sharing one common word of "fast automobile" is weak evidence however well BM25 ranks it among
    the passages that share only that word, while one holding every term, or the rare ones, keeps
    its full weight. ``extra_similarities`` gives the cosine of keyword candidates the dense list
    did not reach, ``guessed`` the cosine `fuse` expects of those without a vector yet (used for
    their score, never to judge them: their trust is full). Tuned on the development collections
    (benchmarks/tune_fusion.py): the plateau runs from 0.6 to 0.7; coverage to the first power.

    ``trust`` (`keyword_trust`) is how far the keyword evidence is about what the question means:
    on a question asked in other words than the documents' ("count how many times each word
    appears"), the passages sharing its words are about something else ("timeit ... times"), and
    with full weight they pushed the right answer, found by meaning alone, down the list (hybrid
    ranked worse than dense on the real-library dev set: MRR .594 vs .689).

    Among the passages holding every word of the query, the keyword side gives each its full weight
    and meaning orders them: "collections.defaultdict" is in the `collections` page and in a dozen
    pages that mention it in passing, where it can occur more often and more densely (BM25 ranked
    `typing` first, hybrid followed; `librarian eval` on the real-library set: exact MRR .905 → .957,
    dense .915; BEIR hybrid mean .456 → .455, cisi −.003). Unembedded ones (their cosine guessed) tie,
    and keep BM25's order among themselves."""
    cosine = {**(extra_similarities or {}), **dict(zip(dense.ids, dense.scores, strict=True))}
    top = max(keyword.scores, default=0.0)
    fused = {pid: dense_weight * max(sim, 0.0) for pid, sim in {**(guessed or {}), **cosine}.items()}
    if top > 0:
        trust = keyword_trust(keyword, dense, cosine)
        for pid, score in zip(keyword.ids, keyword.scores, strict=True):
            coverage = keyword.coverage.get(pid, 1.0)
            relative = score / top
            if coverage >= WHOLE_QUERY:
                # Every passage holding the whole query is an exact match: words cannot tell them apart
                # (BM25 only counts how often and how densely), meaning can. BM25 is left a tie-break.
                relative = 1.0 - WORDS_TIE_BREAK * (1.0 - relative)
            fused[pid] = fused.get(pid, 0.0) + (1 - dense_weight) * trust(pid) * relative * coverage
    return fused


def keyword_trust(keyword: Ranked, dense: Ranked, cosine: dict[int, float]) -> Callable[[int], float]:
    """How much a keyword candidate's match counts, from 0 to 1: the product of two agreements with
    meaning, each full at `CLOSE_TO_BEST` of the best cosine and falling as its `TRUST_SHARPNESS`-th
    power below it.

    - the query's: the mean cosine of its first `AGREEMENT_DEPTH` keyword candidates, against the
      best cosine of any passage. When the passages that hold the question's words are far from
      what it means, its words were the asking, not the topic, and keyword evidence counts less for
      every passage;
    - the passage's: its own cosine against the best. A passage far below the best in meaning keeps
      little of its keyword score, so a shared word does not lift it over the passages that answer.

    A passage holding every word of the query is trusted in full: that is an exact name, code or
    phrase found as typed ("EADDRINUSE", "kayaks"), which an encoder may not understand.

    The two together recovered most of the gap on paraphrased questions (real-library MRR .594 →
    .675, dense .689) and kept exact names first (.921), for −0.004 nDCG on the BEIR collections,
    where the keyword side of long, topical questions agrees with the dense side. When no passage is
    close in meaning (the best cosine under `SURE_OF_MEANING`, or no vectors yet), meaning has no
    answer to agree with, and every keyword match counts in full."""
    best = dense.scores[0] if dense.scores else max(cosine.values(), default=0.0)
    if best < SURE_OF_MEANING:
        return lambda _pid: 1.0  # meaning itself is unsure (no passage is a strong match): words decide
    near = CLOSE_TO_BEST * best
    seen = [cosine[pid] for pid in keyword.ids[:AGREEMENT_DEPTH] if pid in cosine]
    agreement = sum(seen) / len(seen) if seen else near
    query = min(1.0, max(agreement, 0.0) / near) ** TRUST_SHARPNESS

    def trust(pid: int) -> float:
        if keyword.coverage.get(pid, 0.0) >= WHOLE_QUERY:
            return 1.0  # it holds every word of the query: a name, a code, a phrase, found as typed
        return query * min(1.0, max(cosine.get(pid, near), 0.0) / near) ** TRUST_SHARPNESS

    return trust


def fuse(keyword: Ranked, dense: Ranked, cosine: dict[int, float]) -> dict[int, float]:
    """Passage scores for hybrid mode from the two candidate lists (`convex_fuse`). ``cosine``: the
    similarity of the keyword candidates the dense list did not reach, for those that have a vector.

    While the library is still being embedded, a keyword candidate may have no vector yet. Scored
    with a cosine of 0 it would sink below every embedded passage, and the embedded part of the
    library would flood the results (hybrid fell below keyword alone at 20% embedded). It is given
    instead the cosine its keyword evidence predicts: the mean cosine of the best keyword candidates
    that do have one (`expected_cosine`), so embedded and unembedded passages compete on one scale,
    and a fully embedded index is scored exactly as before."""
    known = {**cosine, **dict(zip(dense.ids, dense.scores, strict=True))}
    missing = [pid for pid in keyword.ids if pid not in known]
    guessed = dict.fromkeys(missing, expected_cosine(keyword, known, dense)) if missing else None
    return convex_fuse(keyword, dense, extra_similarities=cosine, guessed=guessed)


def expected_cosine(keyword: Ranked, known: dict[int, float], dense: Ranked) -> float:
    """The cosine a keyword candidate without a vector most likely has: the mean over the first
    `IMPUTE_FROM` keyword candidates that have one (keyword evidence of the same query, the same
    depth); failing that, what the dense list's `IMPUTE_DENSE_RANK`-th result has; else 0 (nothing
    embedded: hybrid ranks as keyword does)."""
    seen = [known[pid] for pid in keyword.ids[:IMPUTE_FROM] if pid in known]
    if not seen:
        seen = [known[pid] for pid in keyword.ids if pid in known]
    if seen:
        return max(sum(seen) / len(seen), 0.0)
    if dense.scores:
        return max(dense.scores[min(IMPUTE_DENSE_RANK, len(dense.scores)) - 1], 0.0)
    return 0.0


def rrf(lists: Sequence[Ranked], *, k: int = RRF_K, weights: Sequence[float] | None = None) -> dict[int, float]:
    """Reciprocal-rank fusion: sum over lists of weight / (k + rank), rank starting at 1."""
    fused: dict[int, float] = {}
    for index, ranked in enumerate(lists):
        weight = weights[index] if weights else 1.0
        for rank, pid in enumerate(ranked.ids, start=1):
            fused[pid] = fused.get(pid, 0.0) + weight / (k + rank)
    return fused


@dataclass(frozen=True, slots=True)
class Evidence:
    """What a search knows of each candidate passage, kept to explain its results."""

    cosine: dict[int, float]  # passages with a vector: their similarity to the question
    words: dict[int, tuple[str, ...]]  # keyword candidates: the query words they hold
    coverage: dict[int, float]  # keyword candidates: the IDF-weighted share of the query they hold


def weak_matches(scores: Sequence[float], coverages: Sequence[float], mode: Mode) -> list[bool]:
    """Which results (best first) fall below the relevance floor: shown only on request ("show weaker
    matches", `--all`). Calibrated on the development collections with questions of the other
    collections asked of each (none of whose results is relevant): in hybrid mode the floor keeps
    0.97-1.00 of the relevant documents a top 10 holds and shows 0.7-3.5 results (of 10) for a
    question the library cannot answer (benchmarks/tune_fusion.py floor).

    hybrid: the fused score (cosine-led, `convex_fuse`) under `HYBRID_FLOOR`; dense: the cosine under
    `DENSE_FLOOR`. Keyword mode has no scale of its own (BM25 grows with the query), so a result is
    weak when it holds less than `KEYWORD_SHARE_OF_BEST` of what the best one holds of the query's
    words (IDF-weighted coverage)."""
    if mode == "keyword":
        best = max(coverages, default=0.0)
        return [coverage < KEYWORD_SHARE_OF_BEST * best for coverage in coverages]
    floor = HYBRID_FLOOR if mode == "hybrid" else DENSE_FLOOR
    return [score < floor for score in scores]


@dataclass(slots=True)
class _DocGroup:
    document_id: int
    best_pid: int
    score: float
    passages: int
    words: bool
    meaning: bool


def close_in_meaning(dense: Ranked) -> set[int]:
    """Passages whose similarity says "this is about your question", not merely "nearest of what there
    is": near the best cosine of the query, or high on its own. Used only to explain a result."""
    if not dense.scores:
        return set()
    floor = max(MEANING_MIN_COSINE, min(MEANING_COSINE, MEANING_SHARE_OF_BEST * max(dense.scores)))
    return {pid for pid, score in zip(dense.ids, dense.scores, strict=True) if score >= floor}


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


class Recent(Generic[K, V]):
    """The ``size`` most recently used entries, safe across the search threads: what a search works
    out once and the next keystroke asks for again."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: K) -> V | None:
        with self._lock:
            value = self._entries.get(key)
            if value is not None:
                self._entries.move_to_end(key)
            return value

    def put(self, key: K, value: V) -> V:
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return value


class SketchCache:
    """Near-duplicate sketches of documents (engine/similar.py), by document id and content hash, the
    most recent `SKETCHES_KEPT`: the documents `fold_copies` had to read (likely near copies, or a
    document without stored min-hashes). Sketching an opening costs ~2.5 ms, and every keystroke of
    a search reads mostly the same documents (real-library index: k=50 p50 84 → 22 ms)."""

    def __init__(self) -> None:
        self._sketches: Recent[tuple[int, str], similar.Sketch] = Recent(SKETCHES_KEPT)

    def get(self, document_id: int, digest: str | None) -> similar.Sketch | None:
        # a record has no content hash to say it is unchanged: never cached
        return self._sketches.get((document_id, digest)) if digest is not None else None

    def put(self, document_id: int, digest: str | None, sketch: similar.Sketch) -> similar.Sketch:
        return self._sketches.put((document_id, digest), sketch) if digest is not None else sketch


def fold_copies(store: Store, groups: list[_DocGroup], info: dict[int, Candidate], k: int,
                known_sketches: SketchCache | None = None) -> tuple[list[_DocGroup], list[list[int]]]:
    """The first ``k`` groups that copy none shown before them, and for each the best passages of its
    copies: exact ones (same content hash, anywhere in ``groups``) and near ones (engine/similar.py),
    looked for among the first `NEAR_DUPLICATE_POOL` · min(k, `NEAR_DUPLICATE_SHOWN`) groups: the
    results a person reads, at a cost that does not grow with k.

    A document's min-hashes are stored with its passages: its text is read and shingled only when it
    shares one with a document shown before it (a likely near copy), or when it has none stored.
    ``known_sketches`` keeps those sketches of documents seen before (by id and content hash): the
    next keystroke reads and hashes nothing again."""
    pool = groups[:NEAR_DUPLICATE_POOL * min(k, NEAR_DUPLICATE_SHOWN)]
    shapes = store.document_shapes([g.document_id for g in pool])
    # Only documents with a peer of about their size can have a near copy.
    paired = similar.with_size_peers(shapes)
    digest_of = {g.document_id: info[g.best_pid].content_hash for g in pool}
    cache = known_sketches if known_sketches is not None else SketchCache()
    sketches: dict[int, similar.Sketch] = {}

    def sketch(docs: Iterable[int]) -> None:
        """Put the sketches of ``docs`` in ``sketches``: known ones, then the rest read in one go
        (sketching costs ~2.5 ms per 20,000 characters, and this runs on every keystroke)."""
        unknown = [doc for doc in docs if doc not in sketches]
        sketches.update((doc, known) for doc in unknown if (known := cache.get(doc, digest_of.get(doc))) is not None)
        openings = store.document_openings([doc for doc in unknown if doc not in sketches],
                                           max_chars=similar.OPENING_CHARS)
        for doc, text in openings.items():
            sketches[doc] = cache.put(doc, digest_of.get(doc), similar.sketch(text))

    sketch(doc for doc in paired if shapes[doc].min_hashes is None)
    min_hashes = {doc: stored if (stored := shapes[doc].min_hashes) is not None else sketches[doc].min_hashes
                  for doc in paired}
    shown_by_min_hash: dict[tuple[int, int], list[int]] = {}  # (which min-hash, its value) -> shown indexes

    def near_copy_of(doc: int) -> int | None:
        peers = {i for key in enumerate(min_hashes[doc]) for i in shown_by_min_hash.get(key, ())}
        for index in sorted(peers):
            other = shown[index].document_id
            if similar.could_be_near(shapes[doc], shapes[other]):
                sketch((doc, other))
                if similar.near_duplicates(sketches[doc].shingles, sketches[other].shingles):
                    return index
        return None

    shown: list[_DocGroup] = []
    copies: list[list[int]] = []
    by_hash: dict[str, int] = {}
    for group in groups:
        digest = info[group.best_pid].content_hash
        original = by_hash.get(digest) if digest else None
        if original is None and group.document_id in min_hashes:
            original = near_copy_of(group.document_id)
        if original is not None:
            copies[original].append(group.best_pid)
            if digest:
                by_hash.setdefault(digest, original)
            continue
        if len(shown) >= k:
            continue  # keep scanning only to collect copies of what is shown
        if digest:
            by_hash[digest] = len(shown)
        if group.document_id in min_hashes:
            for key in enumerate(min_hashes[group.document_id]):
                shown_by_min_hash.setdefault(key, []).append(len(shown))
        copies.append([])
        shown.append(group)
    return shown, copies


def document_filter(filters: SearchFilters | None) -> DocumentFilter | None:
    """``filters`` (OS paths, seconds) in the store's terms (path keys, nanoseconds)."""
    if filters is None:
        return None
    return DocumentFilter(
        folder=path_key(filters.folder.rstrip("/\\")) if filters.folder else None,  # documents.path holds keys
        kinds=tuple(filters.kinds),
        modified_after_ns=int(filters.modified_after * 1e9) if filters.modified_after is not None else None,
        modified_before_ns=int(filters.modified_before * 1e9) if filters.modified_before is not None else None)


class Searcher:
    def __init__(self, *, store: Callable[[], Store], vectors: VectorCache | None, encoder: Callable[[], Encoder] | None,
                 passage_encoder: Callable[[], Encoder] | None = None) -> None:
        self._store = store
        self._vectors = vectors
        self._encoder = encoder
        self._passage_encoder = passage_encoder
        self._on_the_fly: Recent[int, np.ndarray] = Recent(ON_THE_FLY_CACHE)  # passage id -> its vector
        self._sketches = SketchCache()
        self._executor: ThreadPoolExecutor | None = None
        self._idf_cache: dict[str, int] = {}
        self._idf_size = -1
        self._passage_count = 0

    def search(self, query: str, *, k: int = 10, mode: Mode = "hybrid",
               filters: SearchFilters | None = None) -> SearchResult:
        started = time.perf_counter()
        if not query or not query.strip():
            raise QueryError("the query is empty")
        if k < 1:
            raise QueryError("k must be at least 1")
        parsed = parse(query)  # undecodable bytes become U+FFFD, a long query is shortened
        store = self._store()
        encoding = None
        if mode in ("hybrid", "dense") and self._can_embed():
            # The encoder releases the GIL and SQLite does too: encode while FTS5 ranks.
            encoding = self._pool().submit(self._encode, parsed.text)
        timings: dict[str, float] = {}
        with store.snapshot():
            hits = self._ranked_hits(store, parsed, k, mode, filters, encoding, timings)
        took = (time.perf_counter() - started) * 1000
        return SearchResult(query=clean_text(query), mode=mode, took_ms=took, hits=tuple(hits), timings_ms=timings,
                            notes=parsed.notes)

    def _ranked_hits(self, store: Store, parsed: ParsedQuery, k: int, mode: Mode, filters: SearchFilters | None,
                     encoding: Future[tuple[np.ndarray, float]] | None, timings: dict[str, float]) -> list[Hit]:
        """The search itself, every read in the caller's snapshot of ``store``.

        Candidates are passages, results documents: when one long document fills a retriever's pool,
        grouping leaves fewer than k documents. Then each retriever that stopped at its limit is
        asked again for more, until k documents are found, every retriever is exhausted, or after
        `FILL_ROUNDS` rounds (bounded latency), as Lucene's grouping collector keeps collecting
        until it has its top-N groups rather than grouping a fixed top-N of hits.

        In hybrid mode the dense list is widened on its own when its passages hold fewer than k
        documents, even if keyword matches fill the k results: a few long documents close in meaning
        (a bash example's twenty passages) would otherwise hide every other document meaning would
        have found, leaving the places to weak keyword matches."""
        start = max(CANDIDATES, 2 * k)  # grouping: k documents need more than k passages
        limits = {"keyword": start, "dense": start}
        keyword_lists: dict[int, Ranked] = {}  # a round that widens only the dense list reuses FTS5's
        for _ in range(FILL_ROUNDS):
            hits, widen = self._rank_candidates(store, parsed, k, mode, filters, encoding, limits, timings,
                                                keyword_lists)
            if not widen:
                break
            for retriever in widen:
                limits[retriever] *= FILL_GROWTH
        return hits

    def _rank_candidates(self, store: Store, parsed: ParsedQuery, k: int, mode: Mode,
                         filters: SearchFilters | None, encoding: Future[tuple[np.ndarray, float]] | None,
                         limits: dict[str, int], timings: dict[str, float],
                         keyword_lists: dict[int, Ranked]) -> tuple[list[Hit], list[str]]:
        """One round of `_ranked_hits` with ``limits`` passages per retriever: the hits, and which
        retrievers stopped at their limit where a wider round could find more documents."""
        lists: list[Ranked] = []
        keyword = dense = Ranked((), ())
        if mode in ("hybrid", "keyword"):
            t = time.perf_counter()
            keyword = keyword_lists.get(limits["keyword"]) or self._keyword(
                store, parsed, limits["keyword"], filters, max_terms=MAX_QUERY_TERMS if mode == "hybrid" else None,
                meaning=encoding is not None)
            keyword_lists[limits["keyword"]] = keyword
            timings["fts"] = timings.get("fts", 0.0) + (time.perf_counter() - t) * 1000
            lists.append(keyword)
        query_vector = None
        if mode in ("hybrid", "dense"):
            if encoding is not None:  # waited for only now: the query is encoded while FTS5 ranks
                query_vector, timings["encode"] = encoding.result()
            dense = self._dense(store, query_vector, limits["dense"], filters, timings)
            lists.append(dense)
        t = time.perf_counter()
        named = self._named(store, parsed, filters) if mode != "dense" else []
        timings["fts"] = timings.get("fts", 0.0) + (time.perf_counter() - t) * 1000
        t = time.perf_counter()
        cosine = dict(zip(dense.ids, dense.scores, strict=True))
        if mode == "hybrid":
            extra = (self._vectors.similarities(query_vector, [i for i in keyword.ids if i not in cosine])
                     if query_vector is not None and self._vectors is not None else {})
            if query_vector is not None:
                unembedded = [i for i in keyword.ids if i not in cosine and i not in extra][:EMBED_ON_THE_FLY]
                extra.update(self._cosine_on_the_fly(store, query_vector, unembedded))
            fused = fuse(keyword, dense, extra)
            cosine.update(extra)
        else:
            only = lists[0]
            fused = dict(zip(only.ids, only.scores, strict=True))
        if named:
            self._boost_names(store, fused, named, keyword)
        info = store.candidates(list(fused), within=document_filter(filters))
        doc_of = {pid: candidate.document_id for pid, candidate in info.items()}
        words = set(keyword.ids) | set(keyword.coverage)
        groups = group_by_document(fused, doc_of, keyword=words, dense=close_in_meaning(dense))
        hits = self._hits(store, groups, info, parsed, k, mode, Evidence(cosine, keyword.words, keyword.coverage))
        timings["fuse"] = timings.get("fuse", 0.0) + (time.perf_counter() - t) * 1000
        widen = []
        if keyword.more and len(hits) < k:
            widen.append("keyword")
        if dense.more and (len(hits) < k or len({doc_of.get(pid) for pid in dense.ids} - {None}) < k):
            widen.append("dense")
        return hits, widen

    # -- retrievers -----------------------------------------------------------------------------
    def _keyword(self, store: Store, parsed: ParsedQuery, limit: int, filters: SearchFilters | None, *,
                 max_terms: int | None = None, meaning: bool = False) -> Ranked:
        """The keyword candidates (BM25, with each passage's share of the query's words). In hybrid
        mode (``max_terms`` set) with ``meaning`` to rank by, a query of stop words only finds none:
        "what are the" says nothing its words can find, and every question typed word by word passes
        through such prefixes, each scoring every passage that holds "are" (at 100k passages 40-90 ms,
        the slowest typed queries; the next keystroke waits for them). Keyword mode still matches them."""
        if max_terms is not None and meaning and parsed.stop_words_only:
            return Ranked((), ())
        terms = parsed.highlight_terms()
        idf = self._idf(store, terms)
        # A long question's commonest words cost most (every passage holding them is scored) and
        # weigh least: BM25 sees only its rarest MAX_QUERY_TERMS; coverage still counts them all.
        kept = sorted(parsed.terms, key=lambda t: -idf.get(t, 0.0))[:max_terms]
        if max_terms is not None and kept:
            # In hybrid mode, words in a large share of all passages say little and cost most: FTS5
            # must score every passage holding them. The rarest word is kept, unless it is as common,
            # scoring it costs (`EXPENSIVE_TERM`) and meaning can rank: "the use of", a prefix typed on
            # the way to a question, scored the 24,000 passages holding "use" (40 ms at 100k passages).
            common = self._passage_count * COMMON_TERM_SHARE
            rarest = self._idf_cache.get(kept[0], 0)
            if meaning and not parsed.phrases and rarest > common and rarest > EXPENSIVE_TERM:
                return Ranked((), ())
            kept = [kept[0]] + [t for t in kept[1:] if self._idf_cache.get(t, 0) <= common]
        match = ParsedQuery(parsed.text, tuple(t for t in parsed.terms if t in kept), parsed.phrases).fts()
        if match is None:
            return Ranked((), ())
        matches = store.keyword_matches(match, limit=limit, weights=BM25_WEIGHTS, within=document_filter(filters))
        ids = [m.passage_id for m in matches]
        more = len(matches) >= limit
        total = sum(idf.values()) or 1.0
        weight_of_stem: dict[str, float] = {}
        for term in terms:
            weight_of_stem[_stem(term)] = weight_of_stem.get(_stem(term), 0.0) + idf[term]
        pattern = _stems_pattern(tuple(weight_of_stem))
        weight_of_found = {_squash(stem): weight for stem, weight in weight_of_stem.items()}
        shown = [(term, _squash(_stem(term))) for term in parsed.shown_terms()]  # in the query's order
        coverage, words = {}, {}
        for pid, text in store.passage_texts(ids).items():
            held = f"{text.title}\n{text.body}\n{text.words}".lower()
            found = {_squash(m.group(0)) for m in word_matches(pattern, held)} if pattern else set()
            coverage[pid] = sum(weight_of_found.get(stem, 0.0) for stem in found) / total
            words[pid] = tuple(term for term, stem in shown if stem in found)
        return Ranked(tuple(ids), tuple(-m.bm25 for m in matches), coverage, more, words)

    def _named(self, store: Store, parsed: ParsedQuery, filters: SearchFilters | None) -> list[int]:
        """Documents whose file name holds every word of the query (and its phrases)."""
        match = parsed.fts_all()
        if match is None:
            return []
        return store.name_matches(match, limit=NAME_MATCHES, within=document_filter(filters))

    @staticmethod
    def _boost_names(store: Store, fused: dict[int, float], documents: list[int], keyword: Ranked) -> None:
        """A file named like the query ranks above whatever only resembles it: its best candidate
        passage (or its first) gets the full weight of a perfect keyword match on top."""
        best = max(fused.values(), default=0.0)
        passages = store.passage_ids_of(documents)
        for rank, doc in enumerate(documents):
            pids = passages.get(doc)
            if not pids:
                continue
            pid = max(pids, key=lambda p: fused.get(p, 0.0)) if any(p in fused for p in pids) else pids[0]
            fused[pid] = fused.get(pid, 0.0) + best + NAME_BONUS / (1 + rank)
            keyword.coverage.setdefault(pid, 1.0)

    def _idf(self, store: Store, terms: Sequence[str]) -> dict[str, float]:
        """BM25's idf of each term over passages; document frequencies cached per index size."""
        size = store.last_passage_id()
        if self._idf_size != size:
            self._idf_cache.clear()
            self._idf_size = size
            self._passage_count = store.passage_count()
        n = self._passage_count
        out = {}
        for term in terms:
            df = self._idf_cache.get(term)
            if df is None:
                df = store.document_frequency(term)
                if len(self._idf_cache) > 4096:
                    self._idf_cache.clear()
                self._idf_cache[term] = df
            out[term] = math.log((n - df + 0.5) / (df + 0.5) + 1.0)
        return out

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None

    def _can_embed(self) -> bool:
        return self._vectors is not None and self._encoder is not None and len(self._vectors) > 0

    def _pool(self) -> ThreadPoolExecutor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="librarian-query-encoder")
        return self._executor

    def _encode(self, text: str) -> tuple[np.ndarray, float]:
        assert self._encoder is not None
        started = time.perf_counter()
        return self._encoder().embed_query(text), (time.perf_counter() - started) * 1000

    def _cosine_on_the_fly(self, store: Store, query_vector: np.ndarray, ids: list[int]) -> dict[int, float]:
        """The cosine of passages that have no vector yet (the library is still being embedded), encoded
        now with the passage tower, as the embedder will, from their first `ON_THE_FLY_CHARS` (this is
        most of what a search costs while the library is embedded). Few (`EMBED_ON_THE_FLY`) and cached,
        so the next keystroke of the same query pays nothing for them."""
        if not ids or self._passage_encoder is None:
            return {}
        known = {pid: vector for pid in ids if (vector := self._on_the_fly.get(pid)) is not None}
        texts = store.passage_texts([pid for pid in ids if pid not in known])
        if texts:
            vectors = self._passage_encoder().embed([embedding_text(t.title, t.body)[:ON_THE_FLY_CHARS]
                                                     for t in texts.values()])
            for pid, vector in zip(texts, vectors, strict=True):
                known[pid] = self._on_the_fly.put(pid, vector)
        return dict(zip(known, (float(c) for c in cosines(np.array(list(known.values())), query_vector)),
                        strict=True)) if known else {}

    def _dense(self, store: Store, query_vector: np.ndarray | None, limit: int, filters: SearchFilters | None,
               timings: dict[str, float]) -> Ranked:
        if query_vector is None or self._vectors is None:
            return Ranked((), ())
        t = time.perf_counter()
        fetch = limit * 10 if filters else limit
        keys, sims = self._vectors.search(query_vector, fetch)
        timings["ann"] = timings.get("ann", 0.0) + (time.perf_counter() - t) * 1000
        more = len(keys) >= fetch
        ids = tuple(int(x) for x in keys)
        scores = tuple(float(x) for x in sims)
        if filters:
            allowed = set(store.candidates(list(ids), within=document_filter(filters)))
            kept = [(i, s) for i, s in zip(ids, scores, strict=True) if i in allowed][:limit]
            ids = tuple(i for i, _ in kept)
            scores = tuple(s for _, s in kept)
        return Ranked(ids, scores, more=more)

    # -- assembling hits ------------------------------------------------------------------------
    def _hits(self, store: Store, groups: list[_DocGroup], info: dict[int, Candidate],
              parsed: ParsedQuery, k: int, mode: Mode, evidence: Evidence) -> list[Hit]:
        shown, duplicate_docs = fold_copies(store, groups, info, k, self._sketches)
        details = store.shown_passages([g.best_pid for g in shown] + [p for ps in duplicate_docs for p in ps])
        terms = parsed.highlight_terms()
        weak = weak_matches([g.score for g in shown], [evidence.coverage.get(g.best_pid, 0.0) for g in shown], mode)
        hits: list[Hit] = []
        for index, group in enumerate(shown):
            passage = details[group.best_pid]  # the same snapshot as ``info``: still there
            path = key_path(passage.path)
            snippet, spans = make_snippet(passage.body, terms)
            words = evidence.words.get(group.best_pid, ()) if mode != "dense" else ()
            similarity = evidence.cosine.get(group.best_pid) if mode != "keyword" else None
            matched: Matched = "both" if group.words and group.meaning else "words" if group.words else "meaning"
            if mode == "keyword":
                matched = "words"
            elif mode == "dense":
                matched = "both" if spans else "meaning"
            elif not words and group.meaning:
                matched = "meaning"  # another passage of it held words; the one shown is here for its meaning
            hits.append(Hit(document_id=passage.document_id, path=path, title=passage.title or display_path(path),
                            kind=passage.kind or "", modified=passage.mtime_ns / 1e9,
                            score=group.score, passage_id=group.best_pid, passage=passage.ordinal, snippet=snippet,
                            highlights=tuple(spans), locator=Locator.from_dict(passage.locator),
                            matched=matched, other_passages=group.passages - 1,
                            duplicates=tuple(key_path(details[p].path) for p in duplicate_docs[index]),
                            words=words, similarity=similarity, weak=weak[index],
                            root=key_path(passage.root) if passage.root else ""))
        return hits


def _stem(term: str) -> str:
    """The part of a word its inflections share: a crude stand-in for the porter stemmer FTS5 uses.
    CJK bigrams are not inflected, nor an identifier's phrase ("prompt command", see `query.identifier_terms`)."""
    return term if len(term) <= 4 or is_cjk(term) or " " in term else term[: max(4, len(term) - 2)]


def _squash(text: str) -> str:
    """``text`` without separators: an identifier's phrase and each way of writing it in a passage
    (prompt_command, prompt command, promptcommand) come out the same."""
    return _SEPARATORS.sub("", text)


_SEPARATORS = re.compile(r"[\W_]+", re.UNICODE)


def _word_piece(term: str) -> str:
    """The regex for ``term``: an identifier's phrase matches its parts joined by any separator."""
    return r"[\W_]*".join(re.escape(part) for part in term.split(" "))


def _alternatives(words: Sequence[str], cjk: Sequence[str], flags: int = 0) -> re.Pattern[str] | None:
    """One regex for ``words`` (regex pieces, to be matched where a word starts: see `word_matches`)
    and ``cjk`` (pieces matched anywhere: a CJK run has no spaces between its words).

    The word-start test is not in this regex: its class of CJK letters costs ~2.5 ms to compile, and
    every keystroke compiles two such regexes (a fifth of a typed query's time at 100k passages). It
    is `_AT_WORD_START`, compiled once and tried where a word alternative matched."""
    parts = ([f"(?P<{_WORD_GROUP}>" + "|".join(words) + ")"] if words else []) + list(cjk)
    return re.compile("|".join(parts), flags | re.UNICODE) if parts else None


_WORD_GROUP = "word"
_AT_WORD_START = re.compile(WORD_START)


def word_matches(pattern: re.Pattern[str], text: str) -> Iterator[re.Match[str]]:
    """The matches of an `_alternatives` regex in ``text``, left to right, without overlaps: a word
    alternative only where a word starts (not after a letter or digit of its own script), a CJK
    piece anywhere. A match inside a word is passed over and the scan goes on from its next
    character, so a word that starts within it is still found."""
    pos = 0
    while (match := pattern.search(text, pos)) is not None:
        start, end = match.span()
        if match.lastgroup == _WORD_GROUP and not _AT_WORD_START.match(text, start):
            pos = start + 1
            continue
        yield match
        pos = end if end > start else start + 1


@functools.lru_cache(maxsize=256)
def _stems_pattern(stems: tuple[str, ...]) -> re.Pattern[str] | None:
    """One pass over a passage finds every stem it holds (longest first, at word starts)."""
    ordered = sorted(stems, key=len, reverse=True)
    return _alternatives([_word_piece(s) for s in ordered if not is_cjk(s)], [re.escape(s) for s in ordered if is_cjk(s)])


@functools.lru_cache(maxsize=256)
def _term_pattern(terms: tuple[str, ...]) -> re.Pattern[str] | None:
    """The query terms' words for highlighting: a word that starts like a term and goes on by at most
    a few letters more than the term itself (its inflections: "baked", "breads", "dough's"), so "bread"
    marks "breads" but not "breakfast"; CJK terms as they are."""
    return _alternatives([_word_piece(_stem(t)) + rf"\w{{0,{len(t) - len(_stem(t)) + INFLECTION_LETTERS}}}(?!\w)"
                          for t in terms if not is_cjk(t)],
                         [re.escape(t) for t in terms if is_cjk(t)], re.IGNORECASE)


INFLECTION_LETTERS = 3  # -ing, -ers, -ies, -'s: what an English inflection adds past the word


def term_spans(text: str, terms: Sequence[str]) -> list[tuple[int, int]]:
    """[start, end) spans in ``text`` of the words that start like one of ``terms``."""
    pattern = _term_pattern(tuple(terms))
    return [m.span() for m in word_matches(pattern, text)] if pattern else []


def make_snippet(body: str, terms: Sequence[str], *, width: int = SNIPPET_CHARS) -> tuple[str, list[tuple[int, int]]]:
    """The ``width`` characters of ``body`` richest in query terms, with the terms' spans marked."""
    text = " ".join(body.split())
    matches = term_spans(text, terms)
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
