"""Why a result matched, told so a person can check it: the query words its passage holds, how close
in meaning it is, and in the preview the words and the sentence that carried the meaning."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import indexed_folder
from librarian.engine import explain

NOTES = {
    "bread.md": ("# Baking notes\n\nThe oven was bought in May and the receipt is in the drawer. "
                 "Feed the sourdough starter with flour and water the night before you bake. "
                 "The kitchen tiles need cleaning after every bake."),
    "bike.txt": "Bicycle repair\n\nTo fix a flat tyre, take the inner tube out and patch the puncture.",
    "tax.txt": "Tax return 2024\n\nDeductible costs: the home office, the train pass and the union fee.",
}


@pytest.fixture(scope="module")
def library(tmp_path_factory, real_model):
    yield from indexed_folder(tmp_path_factory, real_model, NOTES)


def test_a_hybrid_hit_names_its_words_and_its_similarity(library):
    hit = library.search("sourdough starter", k=3).hits[0]
    assert Path(hit.path).name == "bread.md"
    assert set(hit.words) == {"sourdough", "starter"}
    assert hit.similarity is not None and 0.2 < hit.similarity <= 1.0
    assert hit.why.startswith(f"meaning {hit.similarity:.2f}") and "words: sourdough, starter" in hit.why
    assert hit.root and Path(hit.path).parent == Path(hit.root)


def test_a_meaning_only_hit_says_so_and_keyword_mode_has_no_similarity(library):
    hit = library.search("mending a punctured wheel", k=3).hits[0]
    assert Path(hit.path).name == "bike.txt"
    assert hit.words == ("puncture",) or hit.words == ()  # "punctured" starts like "puncture"
    assert hit.why.startswith("meaning ")
    keyword = library.search("puncture", k=3, mode="keyword").hits[0]
    assert keyword.similarity is None and keyword.why == "words: puncture"
    dense = library.search("puncture", k=3, mode="dense").hits[0]
    assert dense.words == () and dense.similarity is not None


def test_the_preview_marks_the_words_and_the_sentence_that_carries_the_meaning(library):
    hit = library.search("what to do the evening before baking sourdough", k=3).hits[0]
    context = library.passage_context(hit.passage_id, query="what to do the evening before baking sourdough")
    marked = {context.text[s:e].lower() for s, e in context.word_spans}
    assert {"sourdough", "bake", "baking"} & marked and "sourdough" in marked
    assert context.meaning_span is not None
    start, end = context.meaning_span
    assert context.text[start:end] == "Feed the sourdough starter with flour and water the night before you bake."
    plain = library.passage_context(hit.passage_id)  # no query: nothing to mark
    assert plain.word_spans == () and plain.meaning_span is None


def test_sentences_skip_fragments_and_keep_offsets():
    text = "  Intro.  The tempfile module makes scratch files. They vanish when closed!\n\n- a list item here\nok"
    spans = explain.sentences(text)
    assert [text[s:e] for s, e in spans] == ["The tempfile module makes scratch files.", "They vanish when closed!",
                                             "- a list item here\nok"]
    assert explain.closest_sentence(None, text, (0, len(text)), "scratch") is None  # no model, no sentence
