"""Every passage embedded once (issue 12, item 2): identical passages share one computed vector, each
passage keeping its own copy in its own row, so edits, deletes, renames and a kill -9 of one file
never cost the other its vector. Real files, real SQLite, a fake encoder that records what it reads."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from conftest import FakeEncoder
from librarian.engine.encoders import Model
from librarian.engine.extract import extract as extract_in_process
from librarian.engine.library import Library
from librarian.engine.passage_text import normalised, text_hash
from librarian.engine.results import SearchFilters

RUNNER = Path(__file__).parent / "crash_runner.py"

LICENCE = "MIT License\n\n" + "\n\n".join(
    f"Licence clause {n}. Permission is hereby granted, free of charge, to any person obtaining a copy of "
    f"this software and associated documentation files, to deal in the software without restriction, "
    f"including the rights to use, copy, modify, merge, publish and distribute copies, subject to clause {n}."
    for n in range(1, 9))


def notes(topic: str) -> str:
    """A tail of text only one file holds."""
    return "\n\n".join(f"Notes on {topic}, part {n}: the {topic} needs watering and {topic} care in week {n}."
                       for n in range(1, 4))


class RecordingEncoder(FakeEncoder):
    """Records every text it is asked to embed."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []

    def embed_batch(self, texts):
        self.texts += list(texts)
        return super().embed_batch(texts)


def recording_model() -> tuple[Model, RecordingEncoder]:
    encoder = RecordingEncoder()
    return Model(question=FakeEncoder(), passage=encoder, model_id="fake-64", name="fake", dims=64,
                 tokenizer_file=None, passage_max_length=256), encoder


def open_library(data_dir: Path, model: Model) -> Library:
    return Library.open(data_dir, model=model, extract=extract_in_process)


def stored(lib: Library) -> dict[tuple[str, int], tuple[bytes, bytes | None]]:
    """(file name, ordinal) -> (text hash, vector bytes) of every passage in the index."""
    rows = lib._reader().conn.execute(
        "SELECT d.path, p.ordinal, p.text_hash, p.vector FROM passages p JOIN documents d ON d.id = p.document_id")
    return {(Path(path).name, ordinal): (digest, vector) for path, ordinal, digest, vector in rows}


def shared_ordinals(lib: Library, first: str, second: str) -> list[int]:
    """Ordinals at which two files hold the same passage text."""
    rows = stored(lib)
    return sorted(o for (name, o), (digest, _) in rows.items()
                  if name == first and rows.get((second, o), (None,))[0] == digest)


def assert_healthy(lib: Library) -> None:
    check = lib.check()
    assert check.ok, check
    status = lib.status()
    assert status.embedded == status.passages == check.vectors_indexed


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    root = tmp_path / "docs"
    root.mkdir()
    (root / "roses.txt").write_text(LICENCE + "\n\n" + notes("roses"))
    (root / "tulips.txt").write_text(LICENCE + "\n\n" + notes("tulips"))
    return root


# -- one encoding per text ----------------------------------------------------------------------------
def test_a_second_identical_passage_is_not_encoded(docs, data_dir):
    model, encoder = recording_model()
    with open_library(data_dir, model) as lib:
        lib.add_folder(docs)
        lib.update()
        rows = stored(lib)
        shared = shared_ordinals(lib, "roses.txt", "tulips.txt")
        assert len(shared) >= 2  # the licence's passages are the same in both files
        read = Counter(normalised(text) for text in encoder.texts)
        assert max(read.values()) == 1  # no text read twice
        assert len(encoder.texts) == len({digest for digest, _ in rows.values()}) == len(rows) - len(shared)
        for ordinal in shared:  # both files hold the one vector computed for the text
            assert rows[("roses.txt", ordinal)][1] == rows[("tulips.txt", ordinal)][1] is not None
        assert_healthy(lib)


def test_a_passage_whose_text_has_a_stored_vector_gets_a_copy(docs, data_dir, tmp_path):
    model, encoder = recording_model()
    later = tmp_path / "later"
    later.mkdir()
    (later / "lilies.txt").write_text(LICENCE + "\n\n" + notes("lilies"))
    with open_library(data_dir, model) as lib:
        lib.add_folder(docs)
        lib.update()
        before = stored(lib)
        encoder.texts.clear()
        lib.add_folder(later)
        lib.update()
        after = stored(lib)
        shared = shared_ordinals(lib, "roses.txt", "lilies.txt")
        assert shared and all(after[("lilies.txt", o)][1] == before[("roses.txt", o)][1] for o in shared)
        lilies = [digest for (name, _), (digest, _) in after.items() if name == "lilies.txt"]
        assert len(encoder.texts) == len(lilies) - len(shared)
        assert not any("Licence clause 1." in text for text in encoder.texts)
        assert_healthy(lib)


def test_identical_texts_in_one_batch_are_encoded_once(data_dir):
    model, encoder = recording_model()
    records = [(f"r{n}", "Standard notice", "This message and its attachments are confidential.") for n in range(5)]
    records.append(("other", "Other", "Sourdough bread rises slowly overnight."))
    with Library.open(data_dir, model=model) as lib:
        lib.add_records(records)
        assert sorted(encoder.texts) == sorted(["Other\nSourdough bread rises slowly overnight.",
                                                "Standard notice\nThis message and its attachments are confidential."])
        assert lib.status().embedded == 6
        assert_healthy(lib)


def test_whitespace_runs_do_not_make_a_text_new_but_case_does():
    assert text_hash("Title", "one  two\n\tthree ") == text_hash("Title", "one two three")
    assert text_hash("Title", "one two") != text_hash("Title", "One two")
    assert text_hash("Title", "one\x0ctwo") != text_hash("Title", "one two")  # the tokenizer deletes a form feed
    assert text_hash(None, "body") == text_hash("", "body") == text_hash("body", "")  # one word either way
    assert text_hash("A", "b c") == text_hash("A b", "c") != text_hash("A", "bc")  # the same words, read alike


def test_a_passage_stored_without_a_hash_is_embedded_and_gets_one(docs, data_dir):
    """Rows an older writer left without a hash: computed when embedded, then shared like any other."""
    model, encoder = recording_model()
    with open_library(data_dir, model) as lib:
        lib.add_folder(docs)
        lib.update(embed=False)
        writer = lib._writer()
        with writer.transaction():
            writer.conn.execute("UPDATE passages SET text_hash = NULL")
        lib.update()
        rows = stored(lib)
        assert all(digest is not None and vector is not None for digest, vector in rows.values())
        assert len(encoder.texts) == len({digest for digest, _ in rows.values()}) < len(rows)
        assert_healthy(lib)


# -- one file changes, the other keeps its vector -------------------------------------------------------
@pytest.fixture
def embedded(docs, data_dir):
    """The library over ``docs``, embedded, with the licence's vectors shared by both files."""
    model, encoder = recording_model()
    lib = open_library(data_dir, model)
    lib.add_folder(docs)
    lib.update()
    shared = shared_ordinals(lib, "roses.txt", "tulips.txt")
    assert len(shared) >= 2
    yield lib, encoder, shared, stored(lib)
    lib.close()


def tulips_kept(lib: Library, docs: Path, shared: list[int], before: dict) -> None:
    """tulips.txt holds the vectors it had, and a search by meaning still finds its licence."""
    after = stored(lib)
    for ordinal in shared:
        assert after[("tulips.txt", ordinal)] == before[("tulips.txt", ordinal)]
    only_tulips = SearchFilters(folder=str(docs / "tulips.txt"))
    hits = lib.search("permission granted free of charge", mode="dense", k=5, filters=only_tulips).hits
    assert [Path(h.path).name for h in hits] == ["tulips.txt"]


def test_editing_one_file_keeps_the_others_vector(embedded, docs):
    lib, encoder, shared, before = embedded
    (docs / "roses.txt").write_text(LICENCE + "\n\n" + notes("red roses"))
    encoder.texts.clear()
    lib.update()
    tulips_kept(lib, docs, shared, before)
    assert not any("Licence clause 1." in text for text in encoder.texts)  # the edited file's copy came from tulips
    assert_healthy(lib)


def test_deleting_one_file_keeps_the_others_vector(embedded, docs):
    lib, _, shared, before = embedded
    (docs / "roses.txt").unlink()
    lib.update()
    tulips_kept(lib, docs, shared, before)
    assert not any(name == "roses.txt" for name, _ in stored(lib))
    assert_healthy(lib)


def test_renaming_one_file_keeps_both_vectors(embedded, docs):
    lib, encoder, shared, before = embedded
    (docs / "roses.txt").rename(docs / "climbing roses.txt")
    encoder.texts.clear()
    lib.update()
    tulips_kept(lib, docs, shared, before)
    after = stored(lib)
    assert all(after[("climbing roses.txt", o)] == before[("roses.txt", o)] for o in shared)
    assert encoder.texts == []
    assert_healthy(lib)


# -- kill -9 in the middle of embedding ----------------------------------------------------------------
def test_a_kill_in_the_middle_of_shared_embedding_heals(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    for n in range(12):
        (docs / f"copy{n:02}.txt").write_text(LICENCE + "\n\n" + notes(f"plant{n}"))
    data_dir = tmp_path / "data"
    killed = subprocess.run([sys.executable, str(RUNNER), str(data_dir), str(docs), "mid-embed"],
                            capture_output=True, text=True, timeout=120)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    finished = subprocess.run([sys.executable, str(RUNNER), str(data_dir), str(docs), "none"],
                              capture_output=True, text=True, timeout=120)
    assert finished.returncode == 0, finished.stderr
    model, _ = recording_model()
    with open_library(data_dir, model) as lib:
        assert_healthy(lib)
        check = lib.check()
        assert check.duplicates == check.missing == check.orphans == 0
        vectors_by_text: dict[bytes, set[bytes]] = {}
        for digest, vector in stored(lib).values():
            assert vector is not None
            vectors_by_text.setdefault(digest, set()).add(vector)
        assert all(len(vectors) == 1 for vectors in vectors_by_text.values())  # one vector per text
        assert len(vectors_by_text) < lib.status().passages


def test_an_edit_encodes_only_the_passages_it_changed(docs, data_dir):
    """A note appended to a file that no other file shares: its unchanged passages keep their vectors
    (taken from its own previous version), only the new text is encoded."""
    model, encoder = recording_model()
    journal = "\n\n".join(f"Day {n}. Walked to the river, counted {n} herons, and wrote down the weather, "
                          f"the wind from the west and the colour of the water at dusk, entry {n}."
                          for n in range(1, 40))
    (docs / "journal.txt").write_text(journal)
    with open_library(data_dir, model) as lib:
        lib.add_folder(docs)
        lib.update()
        before = {o: v for (name, o), (_, v) in stored(lib).items() if name == "journal.txt"}
        encoder.texts.clear()
        (docs / "journal.txt").write_text(journal + "\n\nA last entry about the orchard and its pears.")
        lib.update()
        after = {o: v for (name, o), (_, v) in stored(lib).items() if name == "journal.txt"}
        assert all(v is not None for v in after.values())
        kept = [o for o, v in after.items() if v in before.values()]
        assert kept and len(encoder.texts) == len(after) - len(kept) >= 1
        assert all("orchard" in text for text in encoder.texts)
        assert_healthy(lib)  # the vectors reused in SQLite are in the search cache too
