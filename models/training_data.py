"""Questions without annotators, and the hard negatives DPR showed matter most.

From each training passage (see ``corpus.py``) at most one question is made, seeded:

* **inverse cloze** (Lee et al. 2019, ORQA): one sentence of the passage is the question; the positive is
  the passage *without* that sentence 90% of the time (kept 10%, so word overlap is not the only cue);
* **heading → section**: the heading of a section asks for its first passage ("Configuring the
  network interface" → the text under it), the way people type what they remember of a title;
* **cropped span**: a short run of words from the passage (keyword-like queries).

BM25's half of the hard negatives comes from here (`bm25_candidates`: SQLite FTS5, the engine the app uses for
keyword search, over the whole training corpus; passages of the question's own document are excluded, since
they are often relevant too); ``targets.py`` fuses them with the teacher's nearest passages and drops likely
false negatives.
"""

from __future__ import annotations

import json
import random
import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from librarian.engine.extract._common import HEADING_SEPARATOR
from librarian.engine.indexer import embedding_text

_SENTENCE = re.compile(r"[^.!?\n]+[.!?]?")
_WORD = re.compile(r"\w+", re.UNICODE)
MAX_QUERY_TERMS = 8  # the rarest terms of a question: they carry BM25's ranking, and keep FTS5 fast
COMMON_TERM_SHARE = 0.05  # terms in more passages than this are dropped (stop words)
NEGATIVE_DEPTH = 20  # a negative is drawn from the top NEGATIVE_DEPTH BM25 hits of other documents


@dataclass(frozen=True, slots=True)
class Example:
    kind: str  # "ict" | "heading" | "span"
    question: str
    positive: int  # index into the passage list
    positive_text: str  # the positive as the student sees it (ICT: may lack the question sentence)


def passage_text(p: dict) -> str:
    """What the encoder reads for a passage: exactly what the indexer embeds."""
    return embedding_text(p["title"], p["body"])


def _sentences(body: str) -> list[tuple[int, int]]:
    spans = []
    for m in _SENTENCE.finditer(body):
        words = len(_WORD.findall(m.group()))
        if 5 <= words <= 40:
            spans.append(m.span())
    return spans


def make_questions(passages: list[dict], *, seed: int = 2, share: float = 0.6) -> list[Example]:
    """At most one question for a ``share`` of the passages (negatives are filled in later)."""
    rng = random.Random(seed)
    examples: list[Example] = []
    first_of_section: set[int] = set()
    seen_titles: set[str] = set()
    for i, p in enumerate(passages):
        if HEADING_SEPARATOR in p["title"] and p["title"] not in seen_titles:
            first_of_section.add(i)
        seen_titles.add(p["title"])
    for i, p in enumerate(passages):
        if rng.random() > share:
            continue
        body = p["body"]
        roll = rng.random()
        if i in first_of_section and roll < 0.2:
            heading = p["title"].split(HEADING_SEPARATOR)[-1].strip()
            if 2 <= len(_WORD.findall(heading)) <= 16:
                examples.append(Example("heading", heading, i, passage_text(p)))
                continue
        if roll < 0.85:
            spans = _sentences(body)
            if len(spans) >= 3:
                start, end = spans[rng.randrange(len(spans))]
                question = " ".join(body[start:end].split())
                rest = body if rng.random() < 0.1 else (body[:start] + body[end:])
                shown = {**p, "body": " ".join(rest.split())}
                examples.append(Example("ict", question, i, passage_text(shown)))
                continue
        words = body.split()
        if len(words) >= 20:
            n = rng.randint(3, 8)
            start = rng.randrange(len(words) - n)
            examples.append(Example("span", " ".join(words[start:start + n]), i, passage_text(p)))
    return examples


def _fts_query(text: str, document_frequency: dict[str, int], max_df: int) -> str:
    terms = {w for w in _WORD.findall(text.lower()) if len(w) > 1}
    known = sorted((document_frequency.get(t, 0), t) for t in terms)
    chosen = [t for df, t in known if 0 < df <= max_df][:MAX_QUERY_TERMS]
    return " OR ".join(f'"{t}"' for t in chosen)


def bm25_candidates(passages: list[dict], examples: list[Example]) -> list[list[int]]:
    """Each question's top ``NEGATIVE_DEPTH`` BM25 hits among passages of *other* documents, best first."""
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE p USING fts5(title, body, tokenize='unicode61')")
    db.executemany("INSERT INTO p(rowid, title, body) VALUES (?, ?, ?)",
                   ((i, p["title"], p["body"]) for i, p in enumerate(passages)))
    db.execute("CREATE VIRTUAL TABLE v USING fts5vocab(p, 'row')")
    document_frequency = dict(db.execute("SELECT term, doc FROM v"))
    max_df = max(10, int(COMMON_TERM_SHARE * len(passages)))
    out = []
    for ex in examples:
        query = _fts_query(ex.question, document_frequency, max_df)
        hits: list[int] = []
        if query:
            rows = db.execute("SELECT rowid FROM p WHERE p MATCH ? ORDER BY bm25(p) LIMIT ?",
                              (query, NEGATIVE_DEPTH * 3)).fetchall()
            own_doc = passages[ex.positive]["doc"]
            hits = [r[0] for r in rows if passages[r[0]]["doc"] != own_doc][:NEGATIVE_DEPTH]
        out.append(hits)
    db.close()
    return out


def write(examples: list[Example], path: Path) -> None:
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        for ex in examples:
            fh.write(json.dumps({"kind": ex.kind, "question": ex.question, "positive": ex.positive,
                                 "positive_text": ex.positive_text},
                                ensure_ascii=False) + "\n")
    tmp.replace(path)


def read(path: Path) -> list[Example]:
    with open(path, encoding="utf-8") as fh:
        # Files written before negatives moved to targets.py also hold an unused "negative".
        return [Example(**{key: value for key, value in json.loads(line).items() if key != "negative"})
                for line in fh]
