"""Keystroke → results painted, in the real window (offscreen): p50/p95 over a set of queries.

    python benchmarks/bench_gui_latency.py [--fake-model] [--extra-docs N] [--rounds R]

For each query the box is cleared, the query typed (``--key-ms`` apart; 0: all keys at once), and the
clock runs from the last keystroke to the first paint of the result list after the model received that
query's results. Measured with the app's debounce (what a user feels) and, when that is not 0, with
none (the pipeline alone: pool hand-off, encode, FTS5 + vector search, fusion, model reset, paint).

Waiting is done in a running event loop (`QEventLoop.exec`), as the app waits in ``app.exec()``:
``QTest.qWait`` keeps the GIL while it sleeps, which starves the search thread and once made the
searches look 20x slower here than in the app (p50 ~700 ms vs ~50 ms on a 28k-passage library).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]

QUERIES = [
    "bread", "why is my sourdough dense", "tax deadline", "how to speed up a website", "compost smell",
    "train to innsbruck", "landlord repairs letter", "birthday party plan", "database pagination",
    "car detector camera", "half marathon long run", "scanner rollout results", "rename photos script",
    "clock", "budget meeting groceries", "react memo", "barley soup", "pass with stone cairns",
    "what to do when the dough spreads", "rent increase",
]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fake-model", action="store_true", help="the tests' fake encoder instead of the shipped model")
    parser.add_argument("--extra-docs", type=int, default=0, help="synthetic text files added to the demo library")
    parser.add_argument("--rounds", type=int, default=2, help="passes over the query list per setting")
    parser.add_argument("--data-dir", type=Path, help="measure over this existing index (e.g. a 100k-passage one "
                        "from bench_search.py) instead of the demo library")
    parser.add_argument("--while-indexing", type=int, default=0, metavar="N",
                        help="index N new files in the background while measuring")
    parser.add_argument("--key-ms", type=float, default=0.0,
                        help="milliseconds between keystrokes (0: each query typed at once; ~100-200: a person)")
    args = parser.parse_args(argv)

    from librarian.desktop._testing import make_context
    from librarian.desktop.window import MainWindow
    from librarian.engine.cli.common import demo_library_path
    from librarian.engine.extract import extract
    from librarian.engine.library import Library
    from PySide6.QtCore import QEvent, QEventLoop, QObject, QTimer
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])  # noqa: F841 - must exist before any widget
    if args.fake_model:
        sys.path.insert(0, str(ROOT / "tests"))
        from conftest import fake_model

        model = fake_model()
    else:
        from librarian.engine.encoders import load_model

        model = load_model()  # as desktop/opener.py loads it: every core, one while someone types
    sys.setswitchinterval(0.001)  # as desktop/app.py sets it

    work = Path(tempfile.mkdtemp(prefix="librarian-bench-gui-"))
    words = (Path(demo_library_path()) / "sourdough-bread-recipe.txt").read_text().split()

    def write_notes(folder: Path, count: int) -> None:
        """``count`` notes of 200 words each, every one a different text: each needs its own vector
        (identical passages share one, and would leave the encoder idle)."""
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(count):
            picked = random.Random(i).choices(words, k=200)
            (folder / f"note-{i:05d}.txt").write_text(f"note {i} " + " ".join(picked))

    if args.data_dir:
        library = Library.open(args.data_dir, model=model, extract=extract)
        if not library.roots():  # an index of records (bench_search.py): give the window a folder to show
            (work / "empty").mkdir()
            library.add_folder(work / "empty")
    else:
        docs = work / "docs"
        shutil.copytree(demo_library_path(), docs)
        write_notes(docs / "extra", args.extra_docs)
        library = Library.open(work / "data", model=model, extract=extract)
        library.add_folder(docs)
        started = time.perf_counter()
        report = library.update()
        print(f"indexed {report.added} files, {report.passages} passages in {time.perf_counter() - started:.1f} s "
              f"({'fake' if args.fake_model else model.name} model)")
    status = library.status()
    print(f"index: {status.documents} documents, {status.passages} passages")
    background = control = None
    measuring_started = 0.0
    if args.while_indexing:
        import threading

        write_notes(work / "incoming", args.while_indexing)
        library.add_folder(work / "incoming")
        # Read first, embed while measuring: as after adding a folder, whose files are read in a
        # minute and understood over the next ones (the embedder is what runs for long).
        read = library.update(embed=False)
        print(f"read {read.added} new files ({read.passages} passages) before measuring")
        from librarian.engine.results import IndexControl

        control = IndexControl()

        def index_in_background() -> None:
            started = time.perf_counter()
            report = library.update(control=control)
            print(f"background indexing: {report.embedded} passages embedded in "
                  f"{time.perf_counter() - started:.0f} s{' (cancelled)' if control.cancelled else ''}")

        background = threading.Thread(target=index_in_background, daemon=True)
        background.start()
        measuring_started = time.perf_counter()
        print(f"indexing {args.while_indexing} new files in the background while measuring")

    class PaintClock(QObject):
        def __init__(self) -> None:
            super().__init__()
            self.armed = False
            self.painted_at = 0.0

        def eventFilter(self, _obj, event) -> bool:
            if self.armed and event.type() == QEvent.Type.Paint:
                self.painted_at = time.perf_counter()
                self.armed = False
            return False

    def wait_until(predicate, ms: int = 10000) -> None:
        """Run the event loop until ``predicate()`` holds or ``ms`` pass (never QTest.qWait: see above)."""
        deadline = time.perf_counter() + ms / 1000
        loop = QEventLoop()
        poll = QTimer()
        poll.setInterval(1)
        poll.timeout.connect(lambda: (predicate() or time.perf_counter() >= deadline) and loop.quit())
        poll.start()
        if not predicate():
            loop.exec()
        poll.stop()

    def pause(ms: float) -> None:
        wait_until(lambda: False, int(ms))

    def type_text(box, text: str) -> None:
        for i, char in enumerate(text):
            if i and args.key_ms:
                pause(args.key_ms)
            QTest.keyClicks(box, char)

    rows = []
    from librarian.desktop.search_worker import DEBOUNCE_MS

    for delay in sorted({DEBOUNCE_MS, 0}, reverse=True):
        window = MainWindow(make_context(work, lambda: library, search_delay_ms=delay))
        window.resize(1200, 760)
        window.show()
        wait_until(lambda w=window: w.snapshot is not None)
        clock = PaintClock()
        window.list.viewport().installEventFilter(clock)
        shown: list[int] = []
        window.results_shown.connect(shown.append)

        def arm(_request_id: int, clock=clock) -> None:
            clock.armed = True  # the next paint of the list shows this result

        window.results_shown.connect(arm)
        latencies, engine = [], []
        for query in QUERIES[:5]:  # warm up: first inference, page cache, connections
            window.search.request(query, immediate=True)
            wait_until(lambda w=window: not w.search.busy)
        for _ in range(args.rounds):
            for query in QUERIES:
                window.bar.box.clear()
                wait_until(lambda w=window: not w.search.busy)
                pause(5)
                clock.painted_at = 0.0
                type_text(window.bar.box, query)
                typed = time.perf_counter()
                target = window.search.latest_id
                wait_until(lambda t=target, c=clock, s=shown: t in s and c.painted_at > 0)
                if clock.painted_at:
                    latencies.append((clock.painted_at - typed) * 1000)
                    engine.append(window.model.took_ms)
        indexing = "yes" if background is not None and background.is_alive() else "no"  # before close() cancels it
        if background is not None:
            print(f"measured for {time.perf_counter() - measuring_started:.0f} s")
        window.close()
        QTimer.singleShot(0, lambda: None)
        rows.append((delay, latencies, engine, indexing))

    print()
    print(f"{'debounce':>9} {'n':>4} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'engine p50':>11} {'engine p95':>11} "
          f"{'indexing to the end':>20}")
    for delay, latencies, engine, indexing in rows:
        print(f"{delay:>7}ms {len(latencies):>4} {statistics.median(latencies):>8.1f} "
              f"{percentile(latencies, 0.95):>8.1f} {max(latencies):>8.1f} "
              f"{statistics.median(engine):>11.1f} {percentile(engine, 0.95):>11.1f} {indexing:>20}")
    if background is not None:
        control.cancel()
        background.join()
        if args.data_dir:  # leave the measured index as it was
            library.forget(work / "incoming")
    library.close()
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
