"""Turning what a person typed into an FTS5 query and into highlight terms.

Words are matched as any-term (OR) so a natural-language question still finds passages that share
only some of its words; BM25 ranks those sharing more, and rarer, words first. A quoted "phrase" is
required and matched as a phrase. Stop words are dropped from the keyword query (they match half
the index and only cost time) but kept for the encoder, which reads the whole question.

Chinese, Japanese and Korean are written without spaces, so FTS5's unicode61 tokenizer makes a whole
run of such characters one token and "汽车" would never match inside "我喜欢快速汽车". As Lucene's
CJKBigramFilter and Recoll (ngramlen 2) do, the keyword index also holds every CJK run as overlapping
character bigrams plus single characters (`cjk_index_words`, stored in the passages' ``words``
column), and a CJK run in a query becomes its bigrams: any-term like English words, a phrase of
bigrams inside quotes. Text without CJK characters is indexed and queried exactly as before.

An identifier in a query (PROMPT_COMMAND, os.path.join, std::vector, parseConfig) is one term: the
phrase of its parts, never its parts as separate any-terms (`identifier_terms`), so a page that
merely holds "prompt" here and "command" there does not match it. Quoted, it was already a phrase;
this is what Recoll and Lucene's WordDelimiterGraphFilter do with split words: keep them adjacent.

The query is text: undecodable bytes (which Python hands over as lone surrogates) become U+FFFD, and
the keyword side reads at most `MAX_QUERY_CHARS` characters and `MAX_QUERY_TERMS` distinct terms, so a
pasted book costs no more than a page; the encoder reads far fewer tokens than that anyway.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

STOP_WORDS = frozenset(["a", "an", "and", "are", "as", "at", "be", "been", "but", "by", "can", "could", "did", "do", "does", "for", "from", "had", "has", "have", "how", "i", "if", "in", "into", "is", "it", "its", "me", "my", "no", "not", "of", "on", "or", "our", "so", "such", "than", "that", "the", "their", "them", "then", "there", "these", "they", "this", "to", "was", "we", "were", "what", "when", "where", "which", "who", "whom", "why", "will", "with", "would", "you", "your", "about", "after", "all", "also", "am", "any", "because", "before", "being", "between", "both", "each", "few", "further", "he", "her", "here", "hers", "him", "his", "more", "most", "much", "must", "nor", "only", "other", "out", "over", "own", "same", "she", "should", "some", "very", "just", "up", "down", "off", "under", "again", "once", "too", "until", "while"])

MAX_QUERY_CHARS = 4000  # a page; real long queries (CISI's longest: 2,023 characters) stay whole
# Each distinct term costs an FTS5 look-up and a share of the MATCH: a page of Chinese holds thousands
# of bigrams. Twice the most any evaluation query has (CISI: 128).
MAX_QUERY_TERMS = 256

_TOKEN = re.compile(r"\w+", re.UNICODE)
_PHRASE = re.compile(r'"([^"]+)"')
_SURROGATE = re.compile("[\ud800-\udfff]")
# Han (with extensions and compatibility ideographs), kana, Hangul, and the marks written inside
# their words (々 〆 ー): the scripts written without spaces between words, as Lucene's CJK analyzer sees them.
_CJK_CHARS = ("\u1100-\u11ff\u3005-\u3007\u3021-\u3029\u3031-\u3035\u3038-\u303c\u3040-\u309f\u30a1-\u30fa"
              "\u30fc-\u30ff\u3131-\u318e\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\ua960-\ua97f\uac00-\ud7fb"
              "\uf900-\ufaff\uff66-\uff9f\uffa0-\uffdc\U00020000-\U0003134f")
_CJK = re.compile(f"[{_CJK_CHARS}]")
_SCRIPT_RUN = re.compile(f"[{_CJK_CHARS}]+|[^{_CJK_CHARS}]+")
# Regex: where a Latin (or any non-CJK) word may start: not right after a letter or digit of its own
# script, so "iphone" is found in 买了iphone手机 as the index finds it.
WORD_START = f"(?<![^\\W{_CJK_CHARS}])"


@dataclass(frozen=True, slots=True)
class ParsedQuery:
    text: str  # what the encoder reads
    terms: tuple[str, ...]  # lower-cased keyword terms, stop words removed; CJK runs as bigrams
    phrases: tuple[tuple[str, ...], ...]  # required phrases, as token tuples
    # The file-name index holds unicode61 tokens only (no CJK bigrams): its terms and phrases.
    # None: the same as ``terms`` / ``phrases``.
    name_terms: tuple[str, ...] | None = None
    name_phrases: tuple[tuple[str, ...], ...] | None = None
    notes: tuple[str, ...] = ()  # what the person should know about how the query was read
    stop_words_only: bool = False  # every word is a stop word ("what are the"): ``terms`` keeps them

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
        terms = self.terms if self.name_terms is None else self.name_terms
        phrases = self.phrases if self.name_phrases is None else self.name_phrases
        parts = [_quote(t) for t in terms] + [_quote(" ".join(p)) for p in phrases]
        return " AND ".join(parts) or None

    def shown_terms(self) -> tuple[str, ...]:
        """The keyword terms and the words of the phrases, in the query's order, each once: what a
        result says it matched ("words: sourdough, starter")."""
        words = dict.fromkeys(self.terms)
        for phrase in self.phrases:
            words.update(dict.fromkeys(phrase))
        return tuple(words)

    def highlight_terms(self) -> tuple[str, ...]:
        words = set(self.terms)
        for phrase in self.phrases:
            words.update(phrase)
        return tuple(sorted(words, key=len, reverse=True))


def _quote(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def clean_text(text: str) -> str:
    """``text`` with undecodable bytes as U+FFFD. Python gives argv, stdin and file names that are
    not valid UTF-8 as lone surrogates, which neither SQLite nor the tokenizer will take."""
    if not _SURROGATE.search(text):
        return text
    try:  # surrogate escapes are the original bytes: decode them, so valid UTF-8 among them survives
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeEncodeError:  # a lone surrogate that stands for no byte (U+D800-U+DC7F)
        return _SURROGATE.sub("\ufffd", text)


def shorten(text: str, limit: int = MAX_QUERY_CHARS) -> str:
    """The first ``limit`` characters of ``text``, cut at a space when one is near, so no word is halved."""
    if len(text) <= limit:
        return text
    cut = text[:limit]
    space = cut.rfind(" ")
    return cut[:space] if space > limit * 0.8 else cut


def is_cjk(token: str) -> bool:
    """Whether ``token`` (one script run) is CJK."""
    return bool(token) and _CJK.match(token) is not None


def cjk_bigrams(run: str) -> list[str]:
    """The overlapping character pairs of a CJK run: 快速汽车 → 快速 速汽 汽车; one character stays itself."""
    if len(run) < 2:
        return [run]
    return [run[i:i + 2] for i in range(len(run) - 1)]


def tokens(text: str) -> list[str]:
    """FTS5's unicode61 view of the text: runs of letters and digits; `snake_case` → snake, case."""
    return [t.lower() for t in _TOKEN.findall(text.replace("_", " "))]


def keyword_tokens(text: str) -> list[str]:
    """The tokens the passage index can match: unicode61's, with each CJK run as its bigrams and
    letters or digits glued to a CJK run (iPhone手机) split from it."""
    out: list[str] = []
    for token in tokens(text):
        if not _CJK.search(token):
            out.append(token)
            continue
        for run in _SCRIPT_RUN.findall(token):
            out.extend(cjk_bigrams(run) if is_cjk(run) else [run])
    return out


def cjk_index_words(text: str) -> str:
    """What the keyword index holds besides unicode61's tokens so CJK text can be found by its words:
    each CJK run's bigrams in order (so a quoted query matches them as a phrase), then its single
    characters, and the Latin or digit part of a token glued to CJK. Empty for text without CJK."""
    if not _CJK.search(text):
        return ""
    parts: list[str] = []
    for token in _TOKEN.findall(text.replace("_", " ")):
        if not _CJK.search(token):
            continue
        for run in _SCRIPT_RUN.findall(token):
            if not is_cjk(run):
                parts.append(run)
                continue
            parts.extend(cjk_bigrams(run))
            if len(run) > 1:
                parts.extend(run)
    return " ".join(parts)


# An identifier typed in a query: parts joined by underscores, dots or `::` (PROMPT_COMMAND,
# os.path.join, std::vector), or a CamelCase word (parseConfig, HTTPServer). CJK is left to the bigrams.
# A dot joins only before a letter: v1.7 and 3.14 are versions and numbers, matched by their parts.
_JOINED = re.compile(r"(?<![\w.:])_*[^\W_]+(?:(?:_+|::|\.(?=[^\W\d_]))[^\W_]+)+_*(?![\w:]|\.\w)")
_CAMEL = re.compile(r"(?<!\w)[^\W_\d]*(?:[a-z][A-Z]|[A-Z]{2}[a-z])[^\W_]*(?!\w)")
_CAMEL_PARTS = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")


def identifier_terms(identifier: str) -> list[str]:
    """The keyword terms of an identifier: itself where it is one unicode61 token (CamelCase:
    "promptcommand"), and the phrase of its parts ("prompt command"), never its parts on their own.

    The phrase is what makes the identifier match as itself: unicode61 splits PROMPT_COMMAND and
    os.path.join at the separators, and the `words` column holds CamelCase split (see
    `store.split_identifiers`), so the identifier is found wherever its parts stand side by side,
    while a page merely holding "prompt" and "command" apart does not match at all. A multi-word
    term is an FTS5 phrase (`ParsedQuery.fts` quotes every term), as a quoted query would be."""
    if _CJK.search(identifier):
        return keyword_tokens(identifier)
    whole = tokens(identifier)
    if all(len(token) == 1 for token in whole):  # an abbreviation (e.g., U.S.), not an identifier
        return keyword_tokens(identifier)
    if len(whole) > 1:  # joined by separators: its unicode61 tokens, in order
        return [" ".join(whole)]
    parts = [p.lower() for p in _CAMEL_PARTS.findall(identifier)]
    # A one-letter part is more often a typo ("GThe", "MOre") or a prefix (iPhone) than a word of a name.
    return whole + ([" ".join(parts)] if len(parts) > 1 and min(map(len, parts)) > 1 else [])


def _query_terms(text: str) -> list[str]:
    """`keyword_tokens` of ``text``, with each identifier as its `identifier_terms`, in query order."""
    out: list[str] = []
    start = 0
    for match in sorted([*_JOINED.finditer(text), *_CAMEL.finditer(text)], key=lambda m: m.start()):
        if match.start() < start:
            continue  # inside an identifier already read (a CamelCase part of snake_case)
        out.extend(keyword_tokens(text[start:match.start()]))
        out.extend(identifier_terms(match.group()))
        start = match.end()
    out.extend(keyword_tokens(text[start:]))
    return out


def _phrase_parts(words: str) -> list[tuple[str, ...]]:
    """The phrases a quoted text requires. A CJK run is a phrase of its bigrams; as those live in
    another column than the Latin words around them, a mixed phrase becomes one phrase per script
    stretch, each required (adjacency between the stretches is not checked)."""
    parts: list[tuple[str, ...]] = []
    latin: list[str] = []
    for token in tokens(words):
        for run in _SCRIPT_RUN.findall(token) if _CJK.search(token) else [token]:
            if is_cjk(run):
                if latin:
                    parts.append(tuple(latin))
                    latin = []
                parts.append(tuple(cjk_bigrams(run)))
            else:
                latin.append(run)
    if latin:
        parts.append(tuple(latin))
    return parts


def _distinct(words: list[str], *, keep_stop_words: bool) -> list[str]:
    """Distinct words in order, stop words dropped unless kept; a dict keeps this linear in the query's length."""
    return list(dict.fromkeys(w for w in words if keep_stop_words or w not in STOP_WORDS))


def parse(query: str, *, max_chars: int | None = MAX_QUERY_CHARS) -> ParsedQuery:
    """Read a query. Longer than ``max_chars`` (None: no limit), it is shortened, with a note saying so."""
    text = clean_text(query).strip()
    notes: tuple[str, ...] = ()
    if max_chars is not None and len(text) > max_chars:
        text = shorten(text, max_chars)
        notes = (f"query shortened to the first {max_chars} characters",)
    phrases: list[tuple[str, ...]] = []
    name_phrases: list[tuple[str, ...]] = []
    for match in _PHRASE.finditer(text):
        phrases.extend(_phrase_parts(match.group(1)))
        words = tuple(tokens(match.group(1)))
        if words:
            name_phrases.append(words)
    rest = _PHRASE.sub(" ", text).replace('"', " ")
    terms = _distinct(_query_terms(rest), keep_stop_words=False)
    stop_words_only = not terms and not phrases
    if stop_words_only:  # a query of stop words only ("to be or not to be")
        terms = _distinct(_query_terms(rest), keep_stop_words=True)
        stop_words_only = bool(terms)
    name_terms = _distinct(tokens(rest), keep_stop_words=False)
    if not name_terms and not name_phrases:
        name_terms = _distinct(tokens(rest), keep_stop_words=True)
    if len(terms) > MAX_QUERY_TERMS:
        terms, name_terms = terms[:MAX_QUERY_TERMS], name_terms[:MAX_QUERY_TERMS]
        notes += (f"only the first {MAX_QUERY_TERMS} different words of the query are matched as words",)
    return ParsedQuery(text=text, terms=tuple(terms), phrases=tuple(phrases), name_terms=tuple(name_terms),
                       name_phrases=tuple(name_phrases), notes=notes, stop_words_only=stop_words_only)
