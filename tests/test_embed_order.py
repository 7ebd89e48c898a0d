"""Useful first (issue 12, item 4): the embedder fills in vectors in an order that makes a library
understood only in part most useful (engine/embed_order.py), read from an index, never sorted per batch.

The Library tests store every passage first (``update(embed=False)``) and then embed with an encoder
that records the texts in the order it is handed them, so the order is the rule's and not the crawl's."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from conftest import FakeEncoder
from fixtures.make_files import make_pdf
from librarian.engine import embed_order
from librarian.engine.embed_order import (
    CODE,
    DATA,
    LOGS,
    NOTES,
    OFFICE,
    OTHER,
    PDF,
    WEB,
    DocumentOrder,
    document_class,
    passage_priority,
)
from librarian.engine.encoders import Model
from librarian.engine.extract import extract as extract_in_process
from librarian.engine.library import Library
from librarian.engine.passage_text import embedding_text, normalised
from librarian.engine.store import NewPassage, Store

DAY_NS = 86_400 * 10**9
NOW_NS = time.time_ns()


class OrderRecordingEncoder(FakeEncoder):
    """Records the texts of each `embed` call in the order given (before batching by length)."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []

    def embed(self, texts, *, batch_size=32, before_batch=None):
        self.texts += list(texts)
        return super().embed(texts, batch_size=batch_size, before_batch=before_batch)


def recording_model() -> tuple[Model, OrderRecordingEncoder]:
    encoder = OrderRecordingEncoder()
    return Model(question=FakeEncoder(), passage=encoder, model_id="fake-64", name="fake", dims=64,
                 tokenizer_file=None, passage_max_length=256), encoder


def embedding_order(lib: Library, encoder: OrderRecordingEncoder) -> list[tuple[str, int]]:
    """(file name, ordinal) of each passage, in the order the encoder read them."""
    where = {normalised(embedding_text(title, body)): (Path(path).name, ordinal)
             for path, ordinal, title, body in lib._reader().conn.execute(
                 "SELECT d.path, p.ordinal, p.title, p.body FROM passages p JOIN documents d ON d.id = p.document_id")}
    return [where[normalised(text)] for text in encoder.texts]


def first_seen(order: list[tuple[str, int]]) -> list[str]:
    """File names in the order their first passage was embedded."""
    names: list[str] = []
    for name, _ in order:
        if name not in names:
            names.append(name)
    return names


def prose(topic: str, paragraphs: int = 1) -> str:
    return "\n\n".join(f"Paragraph {n} about {topic}: the {topic} review covers planning, costs and the "
                       f"people who look after {topic} every week of the year." for n in range(paragraphs))


def set_mtime(path: Path, mtime_ns: int) -> None:
    os.utime(path, ns=(mtime_ns, mtime_ns))


# -- the rule -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(("kind", "path", "expected"), [
    ("pdf", "/d/report.pdf", PDF), ("docx", "/d/letter.docx", OFFICE), ("epub", "/d/book.epub", OFFICE),
    ("markdown", "/d/notes.md", NOTES), ("text", "/d/todo.txt", NOTES), ("email", "/d/mail.eml", NOTES),
    ("html", "/d/page.html", WEB), ("text", "/d/CHANGELOG", LOGS), ("markdown", "/d/CHANGELOG.md", LOGS),
    ("text", "/d/NEWS", LOGS), ("code", "/d/server.log.json", LOGS), ("code", "/d/tool.py", CODE),
    ("code", "/d/settings.yaml", DATA), ("text", "/d/table.csv", DATA), ("plugin-kind", "/d/x.foo", OTHER),
    ("pdf", "/d/changelog.pdf", PDF), ("text", "/d/newsletter.txt", NOTES), ("code", "C:\\d\\app.LOG.json", LOGS),
])
def test_document_classes(kind, path, expected):
    assert document_class(kind, path) == expected


def test_class_order_is_a_persons_documents_first():
    assert PDF < OFFICE < NOTES < WEB < OTHER < LOGS < CODE < DATA


def priority(*, kind="text", path="/d/a.txt", mtime_ns=NOW_NS, root_added=1_700_000_000.0, ordinal=0) -> int:
    return passage_priority(DocumentOrder(kind, path, mtime_ns, root_added).base(), ordinal)


def test_priorities_follow_the_rule_most_significant_first():
    later_root = 1_700_000_000.0 + 3600
    # a folder added later beats everything in an older one, even its code against the older one's PDFs
    assert priority(kind="code", path="/d/x.py", root_added=later_root) < priority(kind="pdf", path="/d/x.pdf")
    # folders added within the same ten minutes count as added together
    assert priority(kind="pdf", path="/d/x.pdf", root_added=1_700_000_000.0 + 60) == priority(
        kind="pdf", path="/d/x.pdf")
    # the opening of any document beats the rest of every document
    assert priority(kind="code", path="/d/x.py", ordinal=31) < priority(kind="pdf", path="/d/x.pdf", ordinal=32)
    # then the kind
    assert priority(kind="pdf", path="/d/x.pdf", ordinal=5) < priority(kind="markdown", path="/d/x.md", ordinal=0)
    # then how deep in the document, band by band
    assert priority(ordinal=40, mtime_ns=NOW_NS - 900 * DAY_NS) < priority(ordinal=70)
    assert priority(ordinal=40) == priority(ordinal=63)
    # then recency, to the day
    assert priority(mtime_ns=NOW_NS) < priority(mtime_ns=NOW_NS - 2 * DAY_NS)
    # a document of no folder (an evaluation collection) waits behind every folder's
    assert priority(root_added=None) > priority(kind="code", path="/d/x.json", ordinal=10**6, mtime_ns=0)


def test_out_of_range_inputs_stay_in_their_fields():
    assert priority(mtime_ns=-5) == priority(mtime_ns=0)  # before 1970
    assert priority(mtime_ns=10**30) == priority(mtime_ns=300 * 365 * DAY_NS)  # after 2149
    assert priority(root_added=float("nan")) == priority(root_added=None)
    assert 0 <= priority(root_added=-1.0, ordinal=10**9, kind="code", path="/d/x.json", mtime_ns=0) < 2**63


# -- the embedder follows it --------------------------------------------------------------------------
def test_a_pdf_a_note_code_and_data_are_embedded_in_that_order_and_a_log_never(tmp_path, data_dir):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "tool.py").write_text('"""Budget tool."""\n\ndef total(rows):\n    return sum(r.cost for r in rows)\n')
    (docs / "CHANGELOG").write_text("Version 2.1\n\n" + prose("release"))
    (docs / "notes.md").write_text("# Garden notes\n\n" + prose("garden"))
    make_pdf(docs / "report.pdf", [prose("budget")], title="Budget report")
    (docs / "settings.json").write_text('{"currency": "EUR", "owner": "Ann", "review": "the budget review"}\n')
    for path in docs.iterdir():
        set_mtime(path, NOW_NS)  # recency must not decide here
    model, encoder = recording_model()
    with Library.open(data_dir, model=model, extract=extract_in_process) as lib:
        lib.add_folder(docs)
        lib.update(embed=False)
        lib.update()
        # the CHANGELOG is kept for words only (embed_order.KEYWORD_ONLY): never embedded
        assert first_seen(embedding_order(lib, encoder)) == ["report.pdf", "notes.md", "tool.py", "settings.json"]
        assert lib.status().keyword_only > 0


def test_newer_before_older_and_openings_before_the_rest_of_a_huge_document(tmp_path, data_dir):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "huge.md").write_text("# Handbook\n\n" + prose("handbook", paragraphs=200))
    (docs / "old.txt").write_text(prose("archive"))
    (docs / "new.txt").write_text(prose("plans"))
    set_mtime(docs / "huge.md", NOW_NS)
    set_mtime(docs / "new.txt", NOW_NS - 3 * DAY_NS)
    set_mtime(docs / "old.txt", NOW_NS - 300 * DAY_NS)
    model, encoder = recording_model()
    with Library.open(data_dir, model=model, extract=extract_in_process) as lib:
        lib.add_folder(docs)
        lib.update(embed=False)
        lib.update()
        order = embedding_order(lib, encoder)
    assert max(o for name, o in order if name == "huge.md") >= embed_order.OPENING  # it is huge
    position = {entry: index for index, entry in enumerate(order)}
    opening_end = max(position[("huge.md", o)] for o in range(embed_order.OPENING))
    rest_start = min(position[("huge.md", o)] for _, o in order if o >= embed_order.OPENING)
    assert opening_end < position[("new.txt", 0)] < position[("old.txt", 0)] < rest_start


def test_a_folder_added_later_is_embedded_first(tmp_path, data_dir):
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    make_pdf(first / "report.pdf", [prose("budget")], title="Budget report")
    (first / "notes.md").write_text("# Garden notes\n\n" + prose("garden"))
    (second / "tool.py").write_text('"""Loader."""\n\ndef load(path):\n    return open(path).read()\n')
    (second / "recipes.md").write_text("# Recipes\n\n" + prose("bread"))
    model, encoder = recording_model()
    with Library.open(data_dir, model=model, extract=extract_in_process) as lib:
        lib.add_folder(first)
        writer = lib._writer()
        with writer.transaction():  # as if the first folder had been added an hour ago
            writer.conn.execute("UPDATE roots SET added = added - 3600")
        lib.update(embed=False)
        lib.add_folder(second)
        lib.update(embed=False)  # stored before the embedder starts: the order is the rule's, not the crawl's
        lib.update()
        assert first_seen(embedding_order(lib, encoder)) == ["recipes.md", "tool.py", "report.pdf", "notes.md"]


# -- the cost of asking: no sort per batch ------------------------------------------------------------
def steps_to_take_a_batch(store: Store, size: int = 32) -> int:
    """SQLite virtual-machine steps (in hundreds) one `passages_to_embed` call costs: work, not time."""
    steps = [0]

    def count() -> int:
        steps[0] += 1
        return 0

    store.conn.set_progress_handler(count, 100)
    try:
        assert len(store.passages_to_embed(size)) == size
    finally:
        store.conn.set_progress_handler(None, 100)
    return steps[0]


def add_passages(store: Store, documents: int, per_document: int, *, start: int = 0) -> None:
    with store.transaction():
        for n in range(start, start + documents):
            doc = store.upsert_document(path=f"/d/doc{n}.txt", root_id=None, size=1, mtime_ns=n * DAY_NS,
                                        content_hash=f"h{n}", kind="text", title=f"doc {n}")
            store.insert_passages(doc, [NewPassage(o, f"doc {n}", f"passage {o} of document {n}", 0, 1, {})
                                        for o in range(per_document)])


def test_taking_a_batch_costs_the_same_in_a_small_and_a_large_library(tmp_path):
    store = Store(tmp_path / "index.sqlite3")
    try:
        add_passages(store, 10, 10)
        small = steps_to_take_a_batch(store)
        add_passages(store, 400, 50, start=10)  # 20,100 passages waiting
        store.conn.execute("ANALYZE")
        large = steps_to_take_a_batch(store)
        assert large <= small * 2 + 2  # a sort of 20,000 rows would cost hundreds of times more
        plan = " ".join(str(row) for row in store.conn.execute(
            "EXPLAIN QUERY PLAN SELECT id, title, body, text_hash FROM passages WHERE vector IS NULL "
            "ORDER BY priority, id LIMIT 32"))
        assert "passages_embed_order" in plan and "TEMP B-TREE" not in plan
    finally:
        store.close()


def test_a_copied_document_takes_the_priority_of_its_own_place(tmp_path):
    """A file with the content of another (`copy_passages`) keeps the text hashes, and its passages
    wait as its own folder and kind say, not as the original's."""
    store = Store(tmp_path / "index.sqlite3")
    try:
        with store.transaction():
            old_root, new_root = store.add_root("/old"), store.add_root("/new")
            store.conn.execute("UPDATE roots SET added = added - 3600 WHERE id = ?", (old_root,))
            original = store.upsert_document(path="/old/a.txt", root_id=old_root, size=1, mtime_ns=NOW_NS,
                                             content_hash="h", kind="text", title="A")
            store.insert_passages(original, [NewPassage(o, "A", f"passage {o}", 0, 1, {}) for o in range(40)])
            copy = store.upsert_document(path="/new/a.txt", root_id=new_root, size=1, mtime_ns=NOW_NS,
                                         content_hash="h", kind="text", title="A")
            store.copy_passages(from_document=original, to_document=copy)
        added = dict(store.conn.execute("SELECT id, added FROM roots"))
        rows = store.conn.execute("SELECT document_id, ordinal, text_hash, priority FROM passages").fetchall()
        by_place = {(doc, ordinal): (digest, prio) for doc, ordinal, digest, prio in rows}
        for ordinal in range(40):
            assert by_place[(copy, ordinal)][0] == by_place[(original, ordinal)][0]
            assert by_place[(copy, ordinal)][1] == priority(path="/new/a.txt", root_added=added[new_root],
                                                            ordinal=ordinal)
        ids_of = {doc: [pid for pid, in store.conn.execute(
            "SELECT id FROM passages WHERE document_id = ? ORDER BY ordinal", (doc,))] for doc in (original, copy)}
        # the newer folder's copy first, whole; then the original's opening, then its rest
        assert [p.id for p in store.passages_to_embed(80)] == ids_of[copy] + ids_of[original]
    finally:
        store.close()
