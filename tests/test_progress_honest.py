"""Honest progress (issue 12, items 3 and 5): totals that shrink, bars that end at 100%, one rate, an
ETA that holds while paused, plain and JSON lines when stderr is not a terminal, and the passage
tower dropping to one thread from the next batch when someone types."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import threading
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from conftest import FakeEncoder, fake_model
from librarian.engine.cli import main
from librarian.engine.cli.index import LineProgress, ProgressBar, progress_line, progress_reporter
from librarian.engine.encoders import ENCODE_BATCH, EncoderThreads, Model
from librarian.engine.extract import extract
from librarian.engine.indexer import THREAD_STALL, _ProgressMeter
from librarian.engine.library import Library
from librarian.engine.results import IndexControl, Progress


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def write_files(root: Path, count: int, prefix: str = "doc") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        (root / f"{prefix}{i:03}.txt").write_text(f"Note {i} about {prefix} topic{i} and shared words.")
    return root


# -- the meter ---------------------------------------------------------------------------------------
def test_eta_holds_still_while_paused_and_does_not_inflate_after():
    clock = Clock()
    control = IndexControl(clock=clock)
    meter = _ProgressMeter(None, control=control, clock=clock)
    meter.phase, meter.to_embed = "embedding", 1000
    meter.note_embedded(100)
    clock.now += 10
    meter.note_embedded(100)  # 100 passages in 10 s of work: 10/s, 800 left
    assert meter.snapshot().rate == pytest.approx(10)
    assert meter.snapshot().eta_s == pytest.approx(80)
    clock.now += 4  # a batch in progress: the estimate counts down with the work time
    assert meter.snapshot().eta_s == pytest.approx(76)

    control.pause()
    clock.now += 600  # ten minutes paused
    held = meter.snapshot()
    assert held.paused and held.eta_s == pytest.approx(76) and held.rate == pytest.approx(10)

    control.resume()
    clock.now += 6
    meter.note_embedded(100)  # the same pace after the pause: the pause is not counted as work
    after = meter.snapshot()
    assert not after.paused
    assert after.rate == pytest.approx(10)
    assert after.eta_s == pytest.approx(70)


def test_the_rate_follows_the_last_minute_of_work():
    clock = Clock()
    meter = _ProgressMeter(None, clock=clock)
    meter.phase, meter.to_embed = "embedding", 100_000
    for _ in range(20):  # slow at first: 10/s for 200 s
        meter.note_embedded(100)
        clock.now += 10
    for _ in range(50):  # then 50/s for 100 s: the minute that counts
        clock.now += 2
        meter.note_embedded(100)
    assert meter.rate() == pytest.approx(50, rel=0.05)


def test_while_files_are_read_the_eta_counts_the_core_the_encoder_gets_back_after():
    """On two cores the reader takes one from the encoder: the ETA of the reading phase is the reading left
    plus what is left after it at twice the shared rate (it was the shared rate throughout: 2x too long)."""
    clock = Clock()
    store = {"stored": 0, "without": 0}
    meter = _ProgressMeter(None, count=lambda: (store["stored"], store["without"]), clock=clock, cores=2)
    meter.files_total = 100
    meter.reading_started()
    for second in range(0, 21, 2):  # 20 s: 50 files read, 1,000 passages to embed, 10 embedded a second
        clock.now += 2 if second else 0
        meter.files_done = second * 50 // 20
        store.update(stored=second * 50, without=second * 50 - second * 10)
        meter.note_embedded(20 if second else 0)
    p = meter.snapshot()
    assert (p.embedded, p.to_embed, p.rate) == (200, 1000, pytest.approx(10))
    # 20 s of reading left (50 files at 2.5/s), meanwhile 200 embedded at 10/s; the 1,600 left after it
    # (800 waiting + 1,000 the unread files will bring - 200) at 10/s x 2 cores / 1 x the thread stall.
    free = 10 * 2 * THREAD_STALL
    assert p.eta_s == pytest.approx(20 + 1600 / free)
    meter.files_done = 100  # the last file read, its passages not committed yet: still the free rate
    store.update(stored=2000, without=1800)
    meter.recount(force=True)
    assert meter.snapshot().phase == "indexing" and meter.snapshot().eta_s == pytest.approx(1800 / free)


def test_when_reading_ends_the_rate_is_measured_again_from_there():
    clock = Clock()
    meter = _ProgressMeter(None, clock=clock, cores=4)
    meter.files_total, meter.to_embed = 10, 100_000
    meter.reading_started()
    for _ in range(30):  # 60 s of 10/s while files are read
        clock.now += 2
        meter.note_embedded(20)
    meter.files_done = 10
    assert meter.rate() == pytest.approx(10, rel=0.05)
    meter.reading_done()
    assert meter.snapshot().phase == "embedding"
    expected = 10 * 4 / 3 * THREAD_STALL
    assert meter.rate() == pytest.approx(expected, rel=0.05), "until the new pace is seen: the expected one"
    for _ in range(6):  # 12 s at 25/s alone
        clock.now += 2
        meter.note_embedded(50)
    assert meter.rate() == pytest.approx(25), "the slow minute of reading no longer counts"
    assert meter.snapshot().eta_s == pytest.approx((100_000 - 900) / 25)


def test_totals_come_from_the_store_and_shrink():
    clock = Clock()
    left = {"stored": 500, "without": 500}
    meter = _ProgressMeter(None, count=lambda: (left["stored"], left["without"]), clock=clock)
    meter.recount(force=True)
    assert meter.snapshot().to_embed == 500
    left.update(stored=300, without=200)  # 100 embedded meanwhile, 200 passages went with their files
    meter.note_embedded(100)
    p = meter.snapshot()
    assert (p.embedded, p.to_embed, p.library_passages, p.library_embedded) == (100, 300, 300, 100)


def test_totals_shrink_when_an_ignore_file_removes_work_and_the_run_ends_at_100(tmp_path):
    docs = write_files(tmp_path / "docs", 30, "keep")
    write_files(docs, 90, "junk")
    data = tmp_path / "data"
    with Library.open(data, model=fake_model(), extract=extract) as library:
        library.add_folder(docs)
        library.update(embed=False)  # 120 passages stored, none embedded yet
    (docs / ".librarianignore").write_text("junk*\n")

    embedding_started = threading.Event()

    class HeldEncoder(FakeEncoder):
        """Encodes only once the producer is done, so the run's first total is the old one."""

        def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
            assert embedding_started.wait(30)
            return super().embed_batch(texts)

    model = replace(fake_model(), passage=HeldEncoder(64))
    seen: list[Progress] = []

    def on_progress(p: Progress) -> None:
        seen.append(p)
        if p.phase == "embedding":
            embedding_started.set()

    with Library.open(data, model=model, extract=extract) as library:
        report = library.update(progress=on_progress)
    assert report.removed == 90
    assert seen[0].to_embed == 120  # what was left when the run began
    final = seen[-1]
    assert final.phase == "done"
    assert final.to_embed == final.embedded == 30  # shrank with the ignore file; the bar is full
    assert final.library_passages == final.library_embedded == 30
    assert all(p.embedded <= p.to_embed for p in seen)


# -- the command line ----------------------------------------------------------------------------------
def sample_run(total: int = 400) -> list[Progress]:
    """A run's progress as the indexer emits it: scanning, indexing, embedding, done."""
    base = Progress(phase="indexing", files_seen=20, files_total=20, library_passages=total)
    out = [Progress(phase="scanning", files_seen=20)]
    out += [replace(base, files_done=i, passages=i * 20, to_embed=i * 20) for i in range(21)]
    out += [replace(base, phase="embedding", files_done=20, passages=total, to_embed=total, embedded=n,
                    rate=40.0, eta_s=(total - n) / 40, library_embedded=n) for n in range(0, total + 1, 4)]
    out.append(replace(out[-1], phase="done", eta_s=0.0))
    return out


def test_plain_lines_are_throttled_and_end_with_a_final_line():
    clock = Clock()
    stream = io.StringIO()
    lines = LineProgress(stream, clock=clock)
    for p in sample_run():
        lines(p)
        clock.now += 0.1  # the indexer may call back ten times a second
    lines.close()
    out = stream.getvalue().splitlines()
    assert out[0] == "scanning: 20 files"
    assert "indexing 20/20 files, 400 passages; meaning 0/400 passages (0%)" in out
    assert "meaning 200/400 passages (50%), 40/s, less than a minute left" in out
    assert out[-1] == "done: 20/20 files, meaning 400/400 passages (100%)"
    assert len(out) < 60  # ~120 callbacks: one line per 5% of a phase or 2 s, not one per callback


def test_plain_line_words():
    p = Progress(phase="embedding", embedded=2340, to_embed=9812, rate=41, eta_s=180)
    assert progress_line(p) == "meaning 2,340/9,812 passages (23%), 41/s, about 3 min left"
    assert progress_line(replace(p, paused=True)) == "meaning 2,340/9,812 passages (23%), paused"
    assert progress_line(Progress(phase="indexing", files_done=340, files_total=1204, passages=900)) == \
        "indexing 340/1,204 files, 900 passages"


def test_json_lines_parse_and_carry_rate_and_eta():
    stream = io.StringIO()
    lines = LineProgress(stream, json_lines=True, clock=Clock())
    for p in sample_run():
        lines(p)
    lines.close()
    records = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [r["phase"] for r in records][0] == "scanning" and records[-1]["phase"] == "done"
    assert {"phase", "files_done", "files_total", "embedded", "to_embed", "rate", "eta_s"} <= set(records[-1])
    assert records[-1]["embedded"] == records[-1]["to_embed"] == 400
    assert any(r["eta_s"] for r in records)


def test_the_bar_reaches_100_and_shows_one_rate(capsys):
    bar = progress_reporter("bar")
    assert isinstance(bar, ProgressBar)
    states = []
    for p in sample_run()[:-1]:
        bar(replace(p, to_embed=p.to_embed + 40) if p.phase == "embedding" else p)  # a total that shrinks
        states.append((bar.bar.n, bar.bar.total) if bar.bar is not None else None)
    bar(sample_run()[-1])
    assert (bar.bar.n, bar.bar.total) == (400, 400)
    bar.close()
    err = capsys.readouterr().err
    assert "100%" in err and "it/s" not in err and "passages/s" not in err


def test_auto_is_plain_without_a_terminal_and_quiet_silences():
    assert isinstance(progress_reporter("auto", stream=io.StringIO()), LineProgress)
    assert progress_reporter("auto", quiet=True, stream=io.StringIO()).enabled is False


def test_index_prints_json_lines_when_asked(tmp_path, capsys):
    docs = write_files(tmp_path / "docs", 3)
    assert main(["--data-dir", str(tmp_path / "data"), "index", "--progress", "json", str(docs)]) == 0
    err = capsys.readouterr().err.splitlines()
    records = [json.loads(line) for line in err if line.startswith("{")]
    assert records and records[-1]["phase"] == "done"
    assert records[-1]["embedded"] == records[-1]["to_embed"] == 3


def test_index_with_stderr_piped_prints_plain_lines(tmp_path):
    docs = write_files(tmp_path / "docs", 3)
    env = {**os.environ, "LIBRARIAN_DATA_DIR": str(tmp_path / "data")}
    done = subprocess.run([sys.executable, "-m", "librarian.engine.cli", "index", str(docs)], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert "scanning: 3 files" in lines or any(line.startswith("scanning: ") for line in lines)
    assert "indexing 3/3 files, 3 passages" in "\n".join(lines)
    assert "done: 3/3 files, meaning 3/3 passages (100%)" in lines


# -- threads ---------------------------------------------------------------------------------------------
class ThreadRecordingEncoder(FakeEncoder):
    """Records the thread count each batch ran with; a hook may run before a batch."""

    def __init__(self, threads: EncoderThreads) -> None:
        super().__init__(64)
        self.threads = threads
        self.used: list[int] = []
        self.before_batch = lambda number: None

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        self.before_batch(len(self.used))
        self.used.append(self.threads.current())
        return super().embed_batch(texts)


def test_typing_drops_the_next_batch_to_one_thread_and_idle_brings_every_core_back(tmp_path, monkeypatch):
    import librarian.engine.indexer as indexer

    monkeypatch.setattr(indexer, "STEP_ASIDE_AT_MOST_SECONDS", 0.0)  # batches run at once: their threads counted
    threads = EncoderThreads(4)
    encoder = ThreadRecordingEncoder(threads)
    model: Model = replace(fake_model(), passage=encoder, threads=threads)
    docs = write_files(tmp_path / "docs", 200)
    with Library.open(tmp_path / "data", model=model, extract=extract) as library:
        def typing_at(number: int) -> None:  # the user types while batch 1 runs, stops during batch 3
            if number == 1:
                library.set_typing(True)
            elif number == 3:
                library.set_typing(False)

        encoder.before_batch = typing_at
        library.add_folder(docs)
        library.update()
    assert len(encoder.used) >= 5
    assert encoder.used[:5] == [4, 1, 1, 4, 4]


class ExtractLog:
    """The real extractor, recording whether someone was typing at each file it read."""

    def __init__(self, gate) -> None:
        self.gate = gate
        self.typing_at_read: list[bool] = []

    def __call__(self, path: Path):
        self.typing_at_read.append(self.gate.typing)
        return extract(path)


def test_no_file_is_read_while_someone_types_and_reading_resumes_when_the_box_goes_idle(tmp_path):
    docs = write_files(tmp_path / "docs", 5)
    with Library.open(tmp_path / "data", model=fake_model(), extract=extract) as library:
        gate = library._typing
        log = ExtractLog(gate)
        library._extract_override = log
        library.add_folder(docs)
        library.set_typing(True)
        runner = threading.Thread(target=library.update)
        runner.start()
        assert gate.stepped_aside.wait(30), "the producer reached its first file and waited"
        assert log.typing_at_read == []
        library.set_typing(False)
        runner.join(60)
        assert not runner.is_alive()
        assert log.typing_at_read == [False] * 5
        assert library.status().documents == 5


def test_no_batch_starts_while_someone_types_and_encoding_resumes_when_the_box_goes_idle(tmp_path):
    threads = EncoderThreads(2)
    encoder = ThreadRecordingEncoder(threads)
    model: Model = replace(fake_model(), passage=encoder, threads=threads)
    docs = write_files(tmp_path / "docs", 60)
    with Library.open(tmp_path / "data", model=model, extract=extract) as library:
        library.add_folder(docs)
        library.update(embed=False)  # read first: the embedder is all that runs
        gate = library._typing
        typing_at_start: list[bool] = []

        def record(number: int) -> None:
            typing_at_start.append(gate.typing)
            if number == 1:
                library.set_typing(True)  # the user types while batch 1 runs

        encoder.before_batch = record
        runner = threading.Thread(target=library.update)
        runner.start()
        assert gate.stepped_aside.wait(30), "the embedder reached batch 2 and waited"
        assert len(typing_at_start) == 2, "no batch started while typing"
        library.set_typing(False)
        runner.join(60)
        assert not runner.is_alive()
    assert typing_at_start[0] is False and not any(typing_at_start[2:])
    assert len(typing_at_start) >= 3 and library_embedded_all(tmp_path / "data")


def library_embedded_all(data: Path) -> bool:
    with Library.open(data, model=fake_model()) as library:
        status = library.status()
    return status.embedded == status.to_embed


def test_non_stop_typing_still_lets_files_through(tmp_path, monkeypatch):
    import librarian.engine.indexer as indexer

    monkeypatch.setattr(indexer, "STEP_ASIDE_AT_MOST_SECONDS", 0.0)
    docs = write_files(tmp_path / "docs", 3)
    with Library.open(tmp_path / "data", model=fake_model(), extract=extract) as library:
        library.add_folder(docs)
        library.set_typing(True)
        report = library.update()
        assert library._typing.stepped_aside.is_set()
    assert report.added == 3


def test_non_stop_typing_lets_a_few_passages_through_after_each_wait(tmp_path, monkeypatch):
    """The encoder runs one passage per call: after each wait that the typist outlasts, the embedder encodes
    `PASSAGES_PER_STEP_ASIDE` passages before it waits again (one a wait would stall indexing)."""
    import librarian.engine.indexer as indexer

    monkeypatch.setattr(indexer, "STEP_ASIDE_AT_MOST_SECONDS", 0.0)  # every wait runs out at once
    docs = write_files(tmp_path / "docs", 24)
    with Library.open(tmp_path / "data", model=fake_model(), extract=extract) as library:
        library.add_folder(docs)
        library.update(embed=False)
        gate = library._typing
        waits: list[bool] = []
        real_step_aside = gate.step_aside

        def counted(control):
            gave_up = real_step_aside(control)
            if threading.current_thread().name == "librarian-embedder":
                waits.append(gave_up)
            return gave_up

        monkeypatch.setattr(gate, "step_aside", counted)
        library.set_typing(True)
        assert library.update().embedded == 24
    assert waits == [True] * (24 // indexer.PASSAGES_PER_STEP_ASIDE)


def test_a_cancelled_run_does_not_wait_for_the_typist():
    gate_control = IndexControl()
    gate_control.cancel()
    from librarian.engine.indexer import TypingGate

    gate = TypingGate()
    gate.set_typing(True)
    gate.step_aside(gate_control)  # returns at once: nothing to wait for once cancelled
    assert gate.stepped_aside.is_set()


def test_a_keyword_only_library_ignores_typing(tmp_path):
    with Library.open(tmp_path / "data", model=fake_model()):
        pass
    with Library.open_keyword_only(tmp_path / "data") as library:
        library.set_typing(True)  # no model: nothing to slow down, and no error


def test_the_real_tower_gives_the_same_vectors_with_one_thread(real_model):
    encoder = real_model.passage.loaded
    texts = ["A kayak on the lake at dawn.", "Sourdough needs a lively starter and patience."] * 3
    if len(encoder._sessions) == 1:
        pytest.skip("one core: there is only one session")
    ran: list[int] = []
    for count, session in list(encoder._sessions.items()):
        class Spy:
            def __init__(self, inner, count=count):
                self.inner, self.count = inner, count

            def run(self, *args, **kwargs):
                ran.append(self.count)
                return self.inner.run(*args, **kwargs)

        encoder._sessions[count] = Spy(session)
    try:
        real_model.threads.set_typing(False)  # the model is shared by the session's tests: start idle
        all_cores = encoder.embed(texts)
        real_model.threads.set_typing(True)
        one = encoder.embed(texts)
    finally:
        real_model.threads.set_typing(False)
        encoder._sessions = {count: spy.inner for count, spy in encoder._sessions.items()}
    batches = -(-len(texts) // ENCODE_BATCH)
    assert ran == [real_model.threads.most] * batches + [1] * batches
    assert np.allclose(all_cores, one, atol=1e-4)


# -- the app -----------------------------------------------------------------------------------------------
class TypingLibrary:
    """Stands in for the library: records what the search box tells it."""

    def __init__(self) -> None:
        self.typing: list[bool] = []

    def set_typing(self, typing: bool) -> None:
        self.typing.append(typing)


def test_the_search_box_tells_the_library_who_types_and_when_it_is_idle(qtbot):
    from librarian.desktop.search_worker import SearchController
    from librarian.desktop.tasks import Tasks
    from PySide6.QtCore import QThreadPool

    controller = SearchController(Tasks(QThreadPool()))
    library = TypingLibrary()
    controller.set_library(library)  # type: ignore[arg-type]
    controller.typing_timer.setInterval(20)
    controller.request("")  # keystrokes (emptied box: no search runs)
    controller.request("")
    assert library.typing == [True], "told once, not per keystroke"
    with qtbot.waitSignal(controller.typing_timer.timeout, timeout=5000):
        pass
    assert library.typing == [True, False]
    controller.request("", immediate=True)  # a mode or filter change is no typing
    assert library.typing == [True, False]


def test_paused_strip_hides_the_estimate_and_brings_it_back(qtbot):
    from librarian.desktop.progress import IndexingStatus

    strip = IndexingStatus()
    qtbot.addWidget(strip)
    p = Progress(phase="embedding", embedded=100, to_embed=1000, eta_s=600, rate=5,
                 library_passages=1000, library_embedded=100)
    strip.show_progress(p)
    assert strip.label.text().endswith("about 10 min left")
    strip.set_paused(True)
    assert strip.label.text().startswith("Paused · ") and "left" not in strip.label.text()
    strip.set_paused(False)
    assert strip.label.text().endswith("about 10 min left")


def test_library_dialog_counters_agree_with_each_other(qtbot):
    from librarian.desktop.library_panel import LibraryDialog, LibrarySnapshot
    from librarian.engine.results import Status

    dialog = LibraryDialog()
    qtbot.addWidget(dialog)
    status = Status(roots=("/docs",), documents=900, passages=7795, embedded=98, failed=(), model="m",
                    data_dir="/d")
    dialog.set_snapshot(LibrarySnapshot(status))
    assert "98 of 7,795 understood" in dialog.summary.text()
    assert dialog.roots.item(0).text().endswith("Words: ready · meaning: 1%")  # not "Searchable"
    running = Progress(phase="embedding", embedded=500, to_embed=8509, library_passages=8509, library_embedded=500)
    dialog.show_progress(running)
    assert "500 of 8,509 understood" in dialog.summary.text()
    assert "meaning: 5% (500 of 8,509 passages)" in dialog.progress.text()
    assert dialog.roots.item(0).text().endswith("meaning: 5%")
    dialog.set_snapshot(LibrarySnapshot(status))  # a status read from before the last progress
    assert "500 of 8,509 understood" in dialog.summary.text()
    dialog.show_progress(None)  # the run ended: the status is the source again
    assert "98 of 7,795 understood" in dialog.summary.text()
