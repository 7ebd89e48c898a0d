"""Hybrid fusion as a person meets it: what is not embedded yet still competes, and the relevance
floor hides what is likely unrelated (on the bundled demo library, with the real model)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import indexed_folder
from librarian.engine import search
from librarian.engine.library import Library, demo_library_path
from librarian.engine.search import Ranked, expected_cosine, fuse, weak_matches

# Close in meaning to QUESTION, without one of its words: embedded, they would flood a document whose
# vectors are not there yet if it were scored as if its cosine were 0.
NEIGHBOURS = {
    "pizza-night.md": "# Pizza night\n\nKnead flour, water, salt and yeast for ten minutes, then leave the ball "
                      "covered in a warm corner until it has doubled. Stretch it thin and top it.",
    "brioche.txt": "Brioche for Sunday\n\nButter, eggs and milk make it rich. Let the kneaded mass prove overnight "
                   "in the fridge, shape it and glaze it with egg.",
    "focaccia-notes.txt": "Focaccia\n\nOlive oil, flour and yeast. After kneading, leave it to prove for two hours "
                          "until bubbly, dimple it and sprinkle rosemary and salt.",
}


@pytest.fixture(scope="module")
def demo(tmp_path_factory, real_model):
    yield from indexed_folder(tmp_path_factory, real_model, NEIGHBOURS, base=demo_library_path())


def _without_vectors(lib: Library, name: str) -> None:
    """The document's passages leave the vector cache, as when the embedder has not reached it yet."""
    store = lib._reader()
    doc = next(row for root_id, _ in store.roots() for row in store.documents_under_root(root_id).values()
               if Path(row.path).name == name)
    with lib.vectors.lock:
        lib.vectors.remove(store.passage_ids_of([doc.id])[doc.id])


QUESTION = "how long should the dough rise before baking"  # no word of the file's name


@pytest.mark.parametrize("on_the_fly", [search.EMBED_ON_THE_FLY, 1])
def test_a_document_not_embedded_yet_still_ranks_first(demo, monkeypatch, on_the_fly):
    assert Path(demo.search(QUESTION).hits[0].path).name == "sourdough-bread-recipe.txt"
    lib = Library.open(demo.data_dir, model=demo.model)  # its own vector cache, changed below
    try:
        _without_vectors(lib, "sourdough-bread-recipe.txt")
        monkeypatch.setattr(search, "EMBED_ON_THE_FLY", on_the_fly)
        assert [Path(h.path).name for h in lib.search(QUESTION, mode="dense").hits[:3]].count(
            "sourdough-bread-recipe.txt") == 0  # meaning alone cannot see it
        hit = lib.search(QUESTION).hits[0]
        assert Path(hit.path).name == "sourdough-bread-recipe.txt"
        assert hit.similarity is not None and hit.similarity > 0.3  # encoded during the search
        assert len(lib._searcher._on_the_fly) <= on_the_fly  # a few passages only, kept for the next keystroke
    finally:
        lib.close()


def test_the_floor_shows_the_car_for_fast_automobile_and_nothing_for_nonsense(demo):
    shown = [Path(h.path).name for h in demo.search("fast automobile").strong]
    assert shown[0] == "building-a-high-speed-car-detector.pdf"
    assert set(shown) <= {"building-a-high-speed-car-detector.pdf", "optimizing-database-queries-for-speed.docx",
                          "react-performance-optimization.md"}  # the car, and at most what is about speed
    for mode in ("hybrid", "dense"):
        result = demo.search("zanzibar helicopter", mode=mode)
        assert result.hits and not result.strong  # weaker matches stay one click away
    assert len(demo.search("sourdough").strong) == 1


def test_fully_embedded_fusion_is_unchanged_by_the_guess():
    keyword = Ranked((1, 2), (9.0, 3.0), {1: 1.0, 2: 0.5})
    dense = Ranked((3, 1), (0.6, 0.5))
    assert fuse(keyword, dense, {2: 0.2}) == search.convex_fuse(keyword, dense, extra_similarities={2: 0.2})


def test_an_unembedded_keyword_candidate_gets_the_cosine_its_peers_have():
    keyword = Ranked((1, 2, 3), (9.0, 6.0, 3.0), {1: 0.8, 2: 0.8, 3: 0.8})
    dense = Ranked((7,), (0.55,))
    assert expected_cosine(keyword, {2: 0.5, 3: 0.45}, dense) == pytest.approx(0.475)
    fused = fuse(keyword, dense, {2: 0.5, 3: 0.45})
    assert fused[1] > fused[2] > fused[3]  # the best keyword match, without a vector, stays first
    assert expected_cosine(keyword, {}, dense) == pytest.approx(0.55)  # no peer: the dense list's level
    assert expected_cosine(keyword, {}, Ranked((), ())) == 0.0  # nothing embedded: keyword order
    nothing = fuse(keyword, Ranked((), ()), {})
    assert sorted(nothing, key=nothing.get, reverse=True) == [1, 2, 3]


def test_meaning_orders_the_passages_that_hold_the_whole_query():
    # "collections.defaultdict": typing's page mentions it more densely (BM25 first), collections' page is about it.
    typing, collections, glossary = 1, 2, 3
    keyword = Ranked((typing, glossary, collections), (9.0, 6.0, 5.0), {typing: 1.0, glossary: 1.0, collections: 1.0})
    dense = Ranked((collections, typing, glossary), (0.66, 0.54, 0.41))
    fused = fuse(keyword, dense, {})
    assert sorted(fused, key=fused.get, reverse=True) == [collections, typing, glossary]
    # A partial match still weighs its BM25 score: the whole-query match keeps its full keyword weight.
    partial = Ranked((typing, collections), (9.0, 5.0), {typing: 0.5, collections: 1.0})
    fused = fuse(partial, Ranked((typing, collections), (0.60, 0.60)), {})
    assert fused[collections] > fused[typing]


def test_whole_query_matches_without_vectors_keep_bm25_order_among_themselves():
    keyword = Ranked((1, 2, 3), (9.0, 6.0, 3.0), {1: 1.0, 2: 1.0, 3: 1.0})
    fused = fuse(keyword, Ranked((7,), (0.55,)), {})  # none of them embedded: one guessed cosine for all
    assert sorted((1, 2, 3), key=fused.get, reverse=True) == [1, 2, 3]
    assert fused[1] - fused[3] < 0.001  # ... a tie-break, not a margin


def test_floor_rules_per_mode():
    assert weak_matches([0.9, 0.26, 0.24], [0, 0, 0], "hybrid") == [False, False, True]
    assert weak_matches([0.5, 0.34], [0, 0], "dense") == [False, True]
    assert weak_matches([12.0, 11.0, 2.0], [0.9, 0.3, 0.5], "keyword") == [False, True, False]


# -- keyword trust, per kind of query (synthetic lists: what each retriever would hand over) -----------
def _ranks(fused: dict[int, float]) -> list[int]:
    return sorted(fused, key=lambda pid: (-fused[pid], pid))


def test_paraphrase_words_shared_by_chance_do_not_beat_the_meaning():
    # "count how many times each word appears": passage 1 (timeit) holds "times" often; passage 9 (Counter)
    # holds no query word but is much closer in meaning.
    keyword = Ranked((1, 2, 3, 4, 5), (9.0, 8.0, 7.0, 6.0, 5.0), {1: 0.6, 2: 0.5, 3: 0.5, 4: 0.4, 5: 0.4})
    dense = Ranked((9, 8, 1), (0.72, 0.55, 0.40))
    cosine = {2: 0.35, 3: 0.30, 4: 0.30, 5: 0.25}
    assert _ranks(fuse(keyword, dense, cosine))[0] == 9
    assert _ranks(search.convex_fuse(keyword, dense, extra_similarities=cosine, dense_weight=0.65))[0] == 9
    trust = search.keyword_trust(keyword, dense, {**cosine, 1: 0.40})
    assert trust(1) < 0.2  # the query's words were the asking: its keyword hits far from its meaning


def test_an_exact_name_keeps_its_keyword_weight():
    # "PROMPT_COMMAND": the page documenting it holds the identifier and is near the best in meaning.
    keyword = Ranked((1, 2), (12.0, 4.0), {1: 1.0, 2: 1.0})
    dense = Ranked((3, 1), (0.52, 0.50))
    trust = search.keyword_trust(keyword, dense, {1: 0.50, 2: 0.45, 3: 0.52})
    assert trust(1) == 1.0 and trust(2) == 1.0
    assert _ranks(fuse(keyword, dense, {2: 0.45}))[0] == 1  # the named page first, above a closer cosine


def test_a_mixed_query_ranks_the_passage_that_has_both():
    # "sourdough starter feeding schedule": words and meaning agree on passage 2.
    keyword = Ranked((1, 2), (10.0, 9.0), {1: 0.5, 2: 1.0})
    dense = Ranked((2, 3), (0.61, 0.60))
    assert _ranks(fuse(keyword, dense, {1: 0.48}))[0] == 2


def test_without_vectors_every_keyword_match_counts_in_full():
    keyword = Ranked((1, 2), (10.0, 5.0), {1: 1.0, 2: 0.5})
    assert search.keyword_trust(keyword, Ranked((), ()), {})(1) == 1.0
    fused = fuse(keyword, Ranked((), ()), {})
    assert fused[1] == pytest.approx(1 - search.DENSE_WEIGHT) and _ranks(fused) == [1, 2]


@pytest.fixture
def fts_calls(monkeypatch) -> list[str]:
    """The FTS5 MATCH expressions the keyword side asks for, as they are asked (cleared by the test)."""
    from librarian.engine.store import Store

    calls: list[str] = []
    real = Store.keyword_matches

    def counted(self, match, **kwargs):
        calls.append(match)
        return real(self, match, **kwargs)

    monkeypatch.setattr(Store, "keyword_matches", counted)
    return calls


def test_a_prefix_of_stop_words_asks_meaning_only_in_hybrid_mode_and_words_in_keyword_mode(demo, fts_calls):
    calls = fts_calls
    hybrid = demo.search("what are the", k=5)
    assert calls == [], "no passage is scored for the words of a stop-word prefix"
    assert hybrid.hits and not any(hit.words for hit in hybrid.hits), "meaning still ranks the library"
    keyword = demo.search("what are the", k=5, mode="keyword")
    assert calls and keyword.hits, "asked for words, the words are matched"
    calls.clear()
    demo.search("what are the loaves", k=5)
    assert calls, "one word that is not a stop word brings the keyword side back"


def test_a_query_whose_rarest_word_is_common_and_costly_asks_meaning_only_in_hybrid_mode(demo, fts_calls, monkeypatch):
    calls = fts_calls
    # "plan" is in 27 of the demo's ~100 passages: common, but cheap to score in a library this small.
    assert demo.search("plan", k=5).hits and calls, "a small library keeps its words"
    monkeypatch.setattr(search, "EXPENSIVE_TERM", 10)  # as if scoring its 27 passages were costly
    calls.clear()
    hybrid = demo.search("plan", k=5)
    assert calls == [] and hybrid.hits, "meaning alone ranks a query of common words"
    assert demo.search("plan", k=5, mode="keyword").hits and calls, "asked for words, the words are matched"
    calls.clear()
    assert demo.search("plan automobile", k=5).hits and calls, "a rare word brings the keyword side back"
    calls.clear()
    demo.search('"plan"', k=5)
    assert calls, "a quoted phrase is always matched as typed"


def test_without_meaning_a_stop_word_query_still_finds_its_words(tmp_path):
    from conftest import fake_model

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "hamlet.txt").write_text("To be, or not to be, that is the question.")
    with Library.open(tmp_path / "data", model=fake_model()) as lib:
        lib.add_folder(docs)
        lib.update()
    with Library.open_keyword_only(tmp_path / "data") as lib:
        assert [Path(h.path).name for h in lib.search("to be or not to be").hits] == ["hamlet.txt"]
