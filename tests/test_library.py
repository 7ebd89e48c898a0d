"""The indexing pipeline through the `Library` façade: incremental updates, moves, duplicates, two
phases, model changes and the vector cache, on real files with a fast deterministic encoder."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from conftest import FakeEncoder, fake_model
from librarian.engine.encoders import ENCODE_BATCH, Model
from librarian.engine.errors import IndexLockedError, LibrarianError
from librarian.engine.extract import extract as extract_in_process
from librarian.engine.library import Library
from librarian.engine.lock import WriterLock
from librarian.engine.results import IndexControl, SearchFilters


class CountingEncoder(FakeEncoder):
    def __init__(self) -> None:
        super().__init__()
        self.encoded = 0

    def embed_batch(self, texts):
        self.encoded += len(texts)
        return super().embed_batch(texts)


def counting_model() -> tuple[Model, CountingEncoder]:
    enc = CountingEncoder()
    return Model(question=enc, passage=enc, model_id="fake-64", name="fake", dims=64, tokenizer_file=None,
                 passage_max_length=256), enc


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    root = tmp_path / "docs"
    (root / "cars").mkdir(parents=True)
    (root / "cars" / "engines.md").write_text("# Engines\n\nRacing cars need powerful engines and light bodies.\n")
    (root / "bread.txt").write_text("Sourdough bread rises slowly because wild yeast produces gas overnight.\n")
    (root / "garden.txt").write_text("Compost turns kitchen scraps and leaves into rich soil for the garden.\n")
    return root


def open_library(data_dir: Path, model: Model | None = None) -> Library:
    return Library.open(data_dir, model=model or fake_model(), extract=extract_in_process)


def test_index_then_search_by_words_and_by_meaning(docs, data_dir):
    with open_library(data_dir) as lib:
        lib.add_folder(docs)
        report = lib.update()
        assert (report.added, report.failed) == (3, 0)
        status = lib.status()
        assert (status.documents, status.passages, status.embedded) == (3, 3, 3)
        for mode in ("hybrid", "keyword", "dense"):
            hits = lib.search("sourdough yeast", mode=mode).hits
            assert hits[0].path.endswith("bread.txt"), mode
        hit = lib.search("powerful engines").hits[0]
        assert hit.locator.heading == "Engines" and hit.matched == "both"
        assert "engines" in hit.snippet[hit.highlights[0][0]:hit.highlights[0][1]].lower()


def test_unchanged_files_are_not_reprocessed_and_changes_are(docs, data_dir):
    model, enc = counting_model()
    with open_library(data_dir, model) as lib:
        lib.add_folder(docs)
        lib.update()
        encoded = enc.encoded
        assert lib.update().unchanged == 3 and enc.encoded == encoded
        target = docs / "bread.txt"
        target.write_text("Rye bread is dense and keeps for a week.\n")
        report = lib.update()
        assert report.changed == 1 and enc.encoded == encoded + 1
        assert lib.search("rye", mode="keyword").hits[0].path.endswith("bread.txt")
        assert not lib.search("sourdough", mode="keyword").hits
        # touched but identical: hashed, not re-embedded
        os.utime(target, (time.time() + 5, time.time() + 5))
        assert lib.update().unchanged == 3 and enc.encoded == encoded + 1
        assert lib.check().ok


def test_rename_and_move_keep_vectors_and_delete_removes(docs, data_dir):
    model, enc = counting_model()
    with open_library(data_dir, model) as lib:
        lib.add_folder(docs)
        lib.update()
        encoded = enc.encoded
        (docs / "bread.txt").rename(docs / "cars" / "loaf.txt")
        report = lib.update()
        assert report.moved == 1 and report.removed == 0 and enc.encoded == encoded
        assert lib.search("sourdough").hits[0].path.endswith("cars/loaf.txt")
        (docs / "garden.txt").unlink()
        report = lib.update()
        assert report.removed == 1
        assert lib.status().documents == 2
        assert not lib.search("compost", mode="keyword").hits
        check = lib.check()
        assert check.ok and check.vectors_indexed == 2


def test_identical_content_is_copied_not_reencoded_and_collapses_in_results(docs, data_dir):
    model, enc = counting_model()
    with open_library(data_dir, model) as lib:
        lib.add_folder(docs)
        lib.update()
        encoded = enc.encoded
        (docs / "copy-of-bread.txt").write_bytes((docs / "bread.txt").read_bytes())
        assert lib.update().added == 1 and enc.encoded == encoded
        hits = lib.search("sourdough yeast").hits
        bread = [h for h in hits if "bread" in h.path]
        assert len(bread) == 1 and len(bread[0].duplicates) == 1
        assert lib.check().ok


def test_two_phases_keyword_first_then_meaning(docs, data_dir):
    with open_library(data_dir) as lib:
        lib.add_folder(docs)
        lib.update(embed=False)
        status = lib.status()
        assert status.passages == 3 and status.embedded == 0
        assert lib.search("compost", mode="keyword").hits
        assert not lib.search("compost", mode="dense").hits
        assert lib.search("compost").hits[0].matched == "words"
        lib.update()
        assert lib.status().embedded == 3
        assert lib.search("compost", mode="dense").hits


def test_vector_cache_is_rebuilt_from_sqlite_without_reencoding(docs, data_dir):
    with open_library(data_dir) as lib:
        lib.add_folder(docs)
        lib.update()
    (data_dir / "vectors.usearch").write_bytes(b"garbage, as after a crash mid-save")
    model, enc = counting_model()
    with open_library(data_dir, model) as lib:
        assert enc.encoded == 0
        assert len(lib.vectors) == 3
        assert lib.check(repair=True).ok
        assert lib.check().ok
        assert lib.search("compost", mode="dense").hits[0].path.endswith("garden.txt")
        assert enc.encoded == 1  # only the query


def test_another_model_means_a_clear_full_reembed_never_mixed_vectors(docs, data_dir):
    with open_library(data_dir) as lib:
        lib.add_folder(docs)
        lib.update()
    other = fake_model(dims=32, name="other")
    with open_library(data_dir, other) as lib:
        assert lib.model_mismatch == ("fake", "other")
        result = lib.search("compost")
        assert result.mode == "keyword" and all(h.matched == "words" for h in result.hits)
        report = lib.update()
        assert report.embedded == 3 and lib.model_mismatch is None
        assert lib.check().ok
        assert lib.search("compost", mode="dense").hits


class Killed(Exception):
    pass


class CrashingEncoder(FakeEncoder):
    """Stops dead (as a killed process would) after ``batches`` batches."""

    def __init__(self, dims: int, batches: int) -> None:
        super().__init__(dims)
        self.left = batches

    def embed_batch(self, texts):
        if self.left == 0:
            raise Killed("killed mid-embedding")
        self.left -= 1
        return super().embed_batch(texts)


def test_a_model_change_keeps_the_library_searchable_and_survives_a_kill_mid_reembed(tmp_path, data_dir,
                                                                                     monkeypatch):
    from librarian.engine import indexer

    monkeypatch.setattr(indexer, "EMBED_BATCH", 16)  # rounds of 16 passages, each committed
    notes = tmp_path / "notes"
    notes.mkdir()
    for i in range(40):
        (notes / f"note-{i:02d}.txt").write_text(f"Note {i} about compost heaps and garden soil, number {i}.\n")
    with open_library(data_dir) as lib:
        lib.add_folder(notes)
        lib.update()
        assert lib.status().embedded == 40
    crashing = CrashingEncoder(32, batches=2 * 16 // ENCODE_BATCH + 1)  # two rounds of 16 committed, then the kill
    new = Model(question=FakeEncoder(32), passage=crashing, model_id="new-32", name="new", dims=32,
                tokenizer_file=None, passage_max_length=256)
    with open_library(data_dir, new) as lib:
        assert lib.model_mismatch == ("fake", "new")
        progress = []
        with pytest.raises(Killed):
            lib.update(progress=progress.append)
        assert any(p.phase == "embedding" for p in progress)
    with open_library(data_dir, fake_model(dims=32, name="new")) as lib:  # the next start
        assert lib.model_mismatch is None, "the index already belongs to the new model"
        status = lib.status()
        assert status.documents == 40 and status.passages == 40, "no document or passage was lost"
        assert 0 < status.embedded < 40, "part of the library is in the new model's space, none in the old"
        assert lib.check().ok
        assert len(lib.search("compost garden", mode="keyword", k=100).hits) == 40
        hits = lib.search("compost garden", k=100).hits
        assert len(hits) == 40, "hybrid finds every note: embedded ones by both, the rest by their words"
        assert lib.update().embedded == 40 - status.embedded
        assert lib.check().ok and lib.status().embedded == 40


def test_filters_by_folder_kind_and_date(docs, data_dir):
    with open_library(data_dir) as lib:
        lib.add_folder(docs)
        old = docs / "garden.txt"
        os.utime(old, (1_000_000_000, 1_000_000_000))
        lib.update()
        cars = str((docs / "cars").resolve())
        assert {Path(h.path).name for h in lib.search("engines bread compost", filters=SearchFilters(folder=cars)).hits} == {"engines.md"}
        assert {h.kind for h in lib.search("engines bread compost", filters=SearchFilters(kinds=("markdown",))).hits} == {"markdown"}
        recent = lib.search("engines bread compost", filters=SearchFilters(modified_after=1_500_000_000)).hits
        assert "garden.txt" not in {Path(h.path).name for h in recent} and recent


def test_forget_removes_a_root_and_its_documents(docs, data_dir, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    (other / "note.txt").write_text("A note about violins and cellos.")
    with open_library(data_dir) as lib:
        lib.add_folder(docs)
        lib.add_folder(other)
        lib.update()
        assert lib.forget(docs) == 3
        assert lib.roots() == [str(other.resolve())]
        assert lib.status().documents == 1 and lib.check().ok
        with pytest.raises(LibrarianError, match="not a library folder"):
            lib.forget(docs)


def test_one_writer_at_a_time(docs, data_dir):
    with open_library(data_dir) as lib:
        lib.add_folder(docs)
        held = WriterLock(data_dir / "lock")
        held.acquire()
        try:
            with pytest.raises(IndexLockedError, match="another Librarian process"):
                lib.update()
            assert lib.search("compost", mode="keyword") is not None  # readers never block
        finally:
            held.release()
        assert lib.update().added == 3


def test_cancel_stops_and_a_rerun_finishes(docs, data_dir):
    for i in range(30):
        (docs / f"extra{i}.txt").write_text(f"Extra document number {i} about tulips.")
    control = IndexControl()
    seen = []
    calls = []

    def extract_then_cancel(path):
        calls.append(path)
        if len(calls) == 3:
            control.cancel()
        return extract_in_process(path)

    with Library.open(data_dir, model=fake_model(), extract=extract_then_cancel) as lib:
        lib.add_folder(docs)
        report = lib.update(progress=seen.append, control=control)
        assert report.cancelled and lib.status().documents < 33
        assert lib.update().cancelled is False
        assert lib.status().documents == 33 and lib.check().ok
    assert {p.phase for p in seen} >= {"scanning", "indexing"}


def test_passage_context_shows_the_passage_in_its_document(docs, data_dir):
    long = " ".join(f"Paragraph sentence {i} mentions the harbour lighthouse keeper." for i in range(60))
    (docs / "long.txt").write_text(long)
    with open_library(data_dir) as lib:
        lib.add_folder(docs)
        lib.update()
        hit = lib.search("Paragraph sentence 30", mode="keyword").hits[0]
        context = lib.passage_context(hit.passage_id)
        start, end = context.passage_span
        assert context.path.endswith("long.txt")
        assert 0 <= start < end <= len(context.text)
        assert "sentence 30" in context.text[start:end] or "sentence 30" in context.text


def test_a_missing_root_keeps_its_documents_until_forgotten(docs, data_dir, tmp_path):
    with open_library(data_dir) as lib:
        lib.add_folder(docs)
        lib.update()
        away = tmp_path / "unplugged"
        docs.rename(away)
        report = lib.update()
        assert report.removed == 0
        status = lib.status()
        assert status.documents == 3
        assert any("folder not found" in f.reason for f in status.failed)
        assert lib.search("compost", mode="keyword").hits
        away.rename(docs)
        report = lib.update()
        assert report.unchanged == 3 and not lib.status().failed


def test_close_during_an_update_cancels_it_and_waits(docs, data_dir):
    import threading

    for i in range(200):
        (docs / f"bulk{i}.txt").write_text(f"Bulk note {i} about harbour cranes and container ships.")
    started = threading.Event()

    def slow_extract(path):
        started.set()
        return extract_in_process(path)

    lib = Library.open(data_dir, model=fake_model(), extract=slow_extract)
    lib.add_folder(docs)
    results = []
    worker = threading.Thread(target=lambda: results.append(lib.update()))
    worker.start()
    assert started.wait(10)
    lib.close()  # must not pull the connection from under the running update
    worker.join(30)
    assert not worker.is_alive() and results and results[0].cancelled
    with open_library(data_dir) as again:
        assert again.check().ok
        again.update()
        assert again.status().documents == 203
