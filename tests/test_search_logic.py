"""Fusion, grouping, query parsing and snippets: pure functions, no index needed."""

from __future__ import annotations

from librarian.engine.query import parse
from librarian.engine.search import Ranked, group_by_document, make_snippet, rrf


def test_rrf_rewards_agreement_between_lists():
    keyword = Ranked((1, 2, 3), (9.0, 5.0, 1.0))
    dense = Ranked((3, 1, 4), (0.9, 0.8, 0.7))
    fused = rrf([keyword, dense], k=60)
    assert max(fused, key=fused.get) == 1  # ranked 1st and 2nd beats 3rd and 1st
    assert fused[1] == 1 / 61 + 1 / 62
    assert fused[4] == 1 / 63
    assert set(fused) == {1, 2, 3, 4}


def test_grouping_keeps_the_best_passage_per_document_and_counts_the_rest():
    scores = {10: 0.5, 11: 0.9, 12: 0.1, 20: 0.7}
    doc_of = {10: 1, 11: 1, 12: 1, 20: 2}
    groups = group_by_document(scores, doc_of, keyword={10, 20}, dense={11})
    assert [(g.document_id, g.best_pid, g.passages) for g in groups] == [(1, 11, 3), (2, 20, 1)]
    assert groups[0].words and groups[0].meaning
    assert groups[1].words and not groups[1].meaning


def test_query_parsing_drops_stop_words_and_keeps_phrases():
    q = parse('how do I make "sourdough bread" rise faster')
    assert q.phrases == (("sourdough", "bread"),)
    assert q.terms == ("make", "rise", "faster")
    assert q.fts() == '("sourdough bread") AND ("sourdough bread" OR "make" OR "rise" OR "faster")'
    assert parse("to be or not to be").terms  # all stop words: keep them rather than match nothing


def test_query_tokens_suit_code_and_versions():
    q = parse("parse_config v1.7 MyWidget")
    # issue 15 item 4: an identifier is a phrase of its parts (and CamelCase its whole token too)
    assert q.terms == ("parse config", "v1", "7", "mywidget", "my widget")
    assert parse('"; DROP TABLE x; --').fts() == '"drop" OR "table" OR "x"'


def test_snippet_centres_on_the_terms_and_marks_them():
    body = ("Filler words here. " * 40) + "The sourdough starter needs feeding daily. " + ("More filler. " * 40)
    snippet, spans = make_snippet(body, ["sourdough", "feeding"], width=120)
    assert "sourdough" in snippet and snippet.startswith("… ") and snippet.endswith(" …")
    marked = [snippet[s:e].lower() for s, e in spans]
    assert "sourdough" in marked and "feeding" in marked


def test_term_spans_start_at_words_only_and_find_a_word_that_starts_inside_a_passed_over_match():
    from librarian.engine.search import term_spans

    text = "misinformation, information retrieval; irretrievable 买了retrieval"
    spans = [text[s:e] for s, e in term_spans(text, ["information", "retrieval"])]
    assert spans == ["information", "retrieval", "retrieval"], "not inside misinformation / irretrievable"
    # The phrase alternative matches inside "xprompt" and is passed over; "command" starts inside
    # that match and is still found.
    other = "xprompt command"
    assert [other[s:e] for s, e in term_spans(other, ["prompt command", "command"])] == ["command"]
