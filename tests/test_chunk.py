"""Chunking invariants: spans lie inside the text, follow document order, respect the size budget."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from librarian.engine.chunk import chunk, document_text, word_offsets
from librarian.engine.extract.base import Extracted, Locator, Segment


def _doc(*texts: str, **loc) -> Extracted:
    return Extracted("Title", [Segment(t, Locator(**loc)) for t in texts], "text")


def test_long_text_is_split_near_the_target_with_overlap():
    sentences = [f"Sentence {i} is about engines and the speed of cars on roads." for i in range(80)]
    text, chunks = chunk(_doc(" ".join(sentences)), word_offsets, target=64)
    assert len(chunks) > 5
    assert all(c.pieces <= 64 for c in chunks)
    # consecutive passages share one closing sentence, so a thought cut at the edge is whole once
    assert any(chunks[i + 1].start < chunks[i].end for i in range(len(chunks) - 1))
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))


def test_sentence_longer_than_target_is_cut_into_windows():
    text, chunks = chunk(_doc("word " * 500), word_offsets, target=100)
    assert len(chunks) == 5
    assert all(c.pieces <= 100 for c in chunks)
    assert chunks[0].start == 0 and chunks[-1].end == len(text.rstrip())


def test_tiny_sections_merge_but_pages_never_do():
    doc = Extracted("T", [Segment("Intro.", Locator(heading="A")), Segment("More text here.", Locator(heading="B"))], "markdown")
    _, chunks = chunk(doc, word_offsets, target=64)
    assert len(chunks) == 1 and chunks[0].locator.heading == "A"
    pdf = Extracted("T", [Segment("Page one.", Locator(page=1)), Segment("Page two.", Locator(page=2))], "pdf")
    _, chunks = chunk(pdf, word_offsets, target=64)
    assert [c.locator.page for c in chunks] == [1, 2]


def test_line_locator_points_at_the_passage_start():
    lines = "\n".join(f"line {i} has some words in it" for i in range(1, 200))
    text, chunks = chunk(_doc(lines, line=1), word_offsets, target=32)
    for c in chunks:
        assert text.count("\n", 0, c.start) + 1 == c.locator.line


def test_empty_document_has_no_passages():
    assert chunk(Extracted("T", [], "text"), word_offsets)[1] == []
    assert chunk(_doc("   \n\n  "), word_offsets)[1] == []


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(min_size=0, max_size=400), min_size=0, max_size=6), st.integers(min_value=8, max_value=96))
def test_chunks_are_ordered_spans_within_the_text_and_cover_every_word(texts, target):
    doc = _doc(*texts)
    text, chunks = chunk(doc, word_offsets, target=target)
    full, _ = document_text(doc)
    assert text == full
    previous_start = -1
    for c in chunks:
        assert 0 <= c.start < c.end <= len(text)
        assert c.start >= previous_start
        assert c.pieces <= target + target // 4  # a tiny tail may join the passage before it
        previous_start = c.start
    covered = [False] * len(text)
    for c in chunks:
        for i in range(c.start, c.end):
            covered[i] = True
    for s, e in word_offsets(text):
        if text[s:e].strip():
            assert all(covered[s:e]), f"word {text[s:e]!r} at {s} is in no passage"
