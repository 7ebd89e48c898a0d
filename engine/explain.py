"""Why a passage matched, in a form a preview can mark: where the query's words sit in a text, and
which sentence of the passage is closest in meaning to the question.

The sentence is found by encoding the passage's sentences with the passage tower and comparing each
with the question's vector: the same similarity that ranked the passage, at a finer grain. It costs
one small batch (a passage holds a handful of sentences) and runs only when a preview opens.
"""

from __future__ import annotations

import re

import numpy as np

from .encoders import Model, cosines
from .query import parse
from .search import term_spans

# A sentence ends at . ! ? (followed by space and not inside "e.g. x") or at a line break that ends a
# paragraph or a list item; a heading path or a code line is a "sentence" of its own.
_SENTENCE_END = re.compile(r"(?<=[.!?;:])\s+(?=[\"'(\[]?[A-Z0-9])|\n\s*\n|\n(?=\s*(?:[-*•]|\d+[.)])\s)")
MIN_SENTENCE_WORDS = 3
MAX_SENTENCES = 32  # a passage is ~160 word pieces: more than this are fragments of a table or a list


def sentences(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Spans of the sentences of ``text[start:end]`` holding at least `MIN_SENTENCE_WORDS` words,
    leading and trailing spaces left out."""
    end = len(text) if end is None else end
    spans, at = [], start
    for match in _SENTENCE_END.finditer(text, start, end):
        spans.append((at, match.start()))
        at = match.end()
    spans.append((at, end))
    out = []
    for s, e in spans:
        piece = text[s:e]
        stripped = piece.strip()
        if len(stripped.split()) >= MIN_SENTENCE_WORDS:
            lead = len(piece) - len(piece.lstrip())
            out.append((s + lead, s + lead + len(stripped)))
    return out


def word_spans(text: str, query: str) -> tuple[tuple[int, int], ...]:
    """Where the query's words (and words starting like them) sit in ``text``."""
    return tuple(term_spans(text, parse(query).highlight_terms()))


def closest_sentence(model: Model | None, text: str, span: tuple[int, int], query: str) -> tuple[int, int] | None:
    """The span of the sentence in ``text[span]`` closest in meaning to ``query``; None when the
    passage is one sentence (the passage mark says it all) or there is no model."""
    if model is None or not query.strip():
        return None
    candidates = sentences(text, *span)[:MAX_SENTENCES]
    if len(candidates) < 2:
        return None
    question = model.question.embed_query(parse(query).text)
    vectors = model.passage.embed([text[s:e] for s, e in candidates])
    best = int(np.argmax(cosines(vectors, question)))
    return candidates[best]
