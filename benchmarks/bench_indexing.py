"""Indexing throughput end to end versus the raw passage encoder, on the same passages.

Writes N real documents (from ../shared/eval corpora, one file each, mixed .txt/.md) into a temp
folder, then in one process:
  1. `Library.update(embed=False)`: seconds until the folder is keyword-searchable;
  2. `Library.update()`: seconds until every passage is embedded;
  3. the raw passage encoder alone on exactly the stored passage texts.
Prints a table with passages/s of (2) and (3) and their ratio (the goal is >= 0.85), plus a full
end-to-end run (index + embed in one update) on a fresh data dir for the same ratio.

    python benchmarks/bench_indexing.py [--docs 3000]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from librarian.engine import indexer
from librarian.engine.encoders import load_model
from librarian.engine.library import Library

EVAL = Path(__file__).resolve().parents[2] / "shared" / "eval"


def write_corpus(folder: Path, count: int) -> int:
    written = 0
    for name in ("npl", "cisi", "cranfield"):
        with open(EVAL / name / "corpus.jsonl", encoding="utf-8") as fh:
            for line in fh:
                rec = json.loads(line)
                suffix = ".md" if written % 2 else ".txt"
                title = rec.get("title") or f"Note {rec['_id']}"
                body = f"# {title}\n\n{rec['text']}\n" if suffix == ".md" else f"{title}\n\n{rec['text']}\n"
                sub = folder / f"{name}-{written // 500:03}"
                sub.mkdir(exist_ok=True)
                (sub / f"{name}-{rec['_id']}{suffix}").write_text(body, encoding="utf-8")
                written += 1
                if written >= count:
                    return written
    return written


def raw_rate(model, texts: list[str]) -> float:
    started = time.perf_counter()
    for start in range(0, len(texts), 256):
        model.passage.embed(texts[start:start + 256], batch_size=32)
    return len(texts) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=3000)
    args = parser.parse_args()
    model = load_model()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "docs"
        folder.mkdir()
        docs = write_corpus(folder, args.docs)

        # Keyword-searchable first, then embedded: the two seconds a user sees.
        lib = Library.open(Path(tmp) / "data-a", model=model)
        lib.add_folder(folder)
        t0 = time.perf_counter()
        lib.update(embed=False)
        keyword_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        report = lib.update()
        embed_s = time.perf_counter() - t0
        store = lib._reader()
        texts = [f"{t}\n{b}" if t else b for t, b in store.conn.execute("SELECT title, body FROM passages ORDER BY id")]
        lib.close()
        passages = len(texts)

        # The whole pipeline in one update, interleaved with the encoder alone on the same passages.
        raw, full = [], {}
        for overlap in (False, True, False, True):
            raw.append(raw_rate(model, texts))
            lib = Library.open(Path(tmp) / f"data-{overlap}-{len(raw)}", model=model)
            lib.add_folder(folder)
            original = indexer.Indexer.__init__

            def patched(self, *a, overlap=overlap, original=original, **k):
                original(self, *a, **k)
                self.overlap = overlap

            indexer.Indexer.__init__ = patched  # type: ignore[method-assign]
            t0 = time.perf_counter()
            done = lib.update()
            full.setdefault(overlap, []).append(done.embedded / (time.perf_counter() - t0))
            indexer.Indexer.__init__ = original  # type: ignore[method-assign]
            lib.close()
        raw.append(raw_rate(model, texts))

    raw_mean = statistics.fmean(raw)
    rows.append(("documents", f"{docs}"))
    rows.append(("passages", f"{passages}"))
    rows.append(("seconds until keyword-searchable", f"{keyword_s:.1f}"))
    rows.append(("seconds more until fully embedded", f"{embed_s:.1f}"))
    rows.append(("raw encoder passages/s (mean of 3)", f"{raw_mean:.1f}"))
    rows.append(("embed phase alone passages/s", f"{report.embedded / embed_s:.1f}"))
    for overlap, label in ((False, "one update, phases in turn"), (True, "one update, phases overlapped (default)")):
        rate = statistics.fmean(full[overlap])
        rows.append((f"{label} passages/s", f"{rate:.1f}"))
        rows.append((f"{label} / raw encoder", f"{rate / raw_mean:.2f}"))
    width = max(len(k) for k, _ in rows)
    print(f"{'measure':<{width}} | value")
    print(f"{'-' * width}-|------")
    for key, value in rows:
        print(f"{key:<{width}} | {value}")


if __name__ == "__main__":
    main()
