"""Turning what a person typed into an FTS5 query and into highlight terms.

Words are matched as any-term (OR) so a natural-language question still finds passages that share
only some of its words; BM25 ranks those sharing more, and rarer, words first. A quoted "phrase" is
required and matched as a phrase. Stop words are dropped from the keyword query (they match half
the index and only cost time) but kept for the encoder, which reads the whole question.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

STOP_WORDS = frozenset(["a", "an", "and", "are", "as", "at", "be", "been", "but", "by", "can", "could", "did", "do", "does", "for", "from", "had", "has", "have", "how", "i", "if", "in", "into", "is", "it", "its", "me", "my", "no", "not", "of", "on", "or", "our", "so", "such", "than", "that", "the", "their", "them", "then", "there", "these", "they", "this", "to", "was", "we", "were", "what", "when", "where", "which", "who", "whom", "why", "will", "with", "would", "you", "your", "about", "after", "all", "also", "am", "any", "because", "before", "being", "between", "both", "each", "few", "further", "he", "her", "here", "hers", "him", "his", "more", "most", "much", "must", "nor", "only", "other", "out", "over", "own", "same", "she", "should", "some", "very", "just", "up", "down", "off", "under", "again", "once", "too", "until", "while"])

_TOKEN = re.compile(r"\w+", re.UNICODE)
_PHRASE = re.compile(r'"([^"]+)"')


@dataclass(frozen=True, slots=True)
class ParsedQuery:
    text: str  # what the encoder reads
    terms: tuple[str, ...]  # lower-cased keyword terms, stop words removed
    phrases: tuple[tuple[str, ...], ...]  # required phrases, as token tuples

    @property
    def empty(self) -> bool:
        return not self.terms and not self.phrases

    def fts(self) -> str | None:
        """The FTS5 MATCH expression, or None when nothing is left to match."""
        any_terms = " OR ".join(_quote(t) for t in self.terms)
        required = " AND ".join(_quote(" ".join(p)) for p in self.phrases)
        if required and any_terms:
            return f"({required}) AND ({required} OR {any_terms})"
        return required or any_terms or None

    def fts_all(self) -> str | None:
        """Every term and phrase required (AND): for matching file names."""
        parts = [_quote(t) for t in self.terms] + [_quote(" ".join(p)) for p in self.phrases]
        return " AND ".join(parts) or None

    def highlight_terms(self) -> tuple[str, ...]:
        words = set(self.terms)
        for phrase in self.phrases:
            words.update(phrase)
        return tuple(sorted(words, key=len, reverse=True))


def _quote(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def tokens(text: str) -> list[str]:
    """FTS5's unicode61 view of the text: runs of letters and digits; `snake_case` → snake, case."""
    return [t.lower() for t in _TOKEN.findall(text.replace("_", " "))]


def parse(query: str) -> ParsedQuery:
    phrases = []
    for match in _PHRASE.finditer(query):
        words = tuple(tokens(match.group(1)))
        if words:
            phrases.append(words)
    rest = _PHRASE.sub(" ", query).replace('"', " ")
    terms: list[str] = []
    for word in tokens(rest):
        if word not in STOP_WORDS and word not in terms:
            terms.append(word)
    if not terms and not phrases:  # a query of stop words only ("to be or not to be")
        terms = list(dict.fromkeys(tokens(rest)))
    return ParsedQuery(text=query.strip(), terms=tuple(terms), phrases=tuple(phrases))
