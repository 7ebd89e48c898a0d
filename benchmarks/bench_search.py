"""Search latency, memory and ANN scale: the numbers of the search issue, in one run.

    python benchmarks/bench_search.py [--sizes 10000 100000] [--ann 1000000] [--queries 300]

Corpus: real text — the development collections plus Python source and documentation found on this
machine (the standard library and installed packages), indexed as records through the normal
chunker into SQLite/FTS5. Vectors: the first --real passages are embedded with the shipped model;
the rest are those real vectors with Gaussian noise (synthetic from real ones), which leaves every
timing but the encoder's unchanged and keeps USearch's graph honest (random vectors would not).
Queries: the development collections' questions, and their first three words as a typed query.
Prints: latency p50/p95 with the encode / ANN / FTS / fuse+snippets breakdown per size; resident
memory of a fresh search process; USearch at --ann vectors (build time, memory, top-100 p50,
recall@10 against exact search). Cached under benchmarks/_data/.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
EVAL = HERE.parents[1] / "shared" / "eval"
CACHE = HERE / "_data"
TEXT_ROOTS = [Path(sys.base_prefix) / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}",
              Path("/work/venv-models/lib/python3.11/site-packages"), Path(sys.prefix) / "lib"]


def records(limit_chars: int):
    """(id, title, text) records of real text, the eval corpora first, then source files."""
    total = 0
    for name in ("npl", "cisi", "cranfield"):
        with open(EVAL / name / "corpus.jsonl", encoding="utf-8") as fh:
            for line in fh:
                rec = json.loads(line)
                total += len(rec["text"])
                yield f"{name}:{rec['_id']}", rec.get("title") or "", rec["text"]
    seen = set()
    for root in TEXT_ROOTS:
        if not root.exists():
            continue
        for path in sorted(root.rglob("*")):
            if path.suffix not in (".py", ".md", ".rst", ".txt") or not path.is_file():
                continue
            real = path.resolve()
            if real in seen:
                continue
            seen.add(real)
            try:
                text = real.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            if len(text) < 200:
                continue
            total += len(text)
            yield str(real), path.name, text[:200_000]
            if total >= limit_chars:
                return


def queries(limit: int) -> list[str]:
    out = []
    for name in ("cisi", "cranfield", "npl"):
        with open(EVAL / name / "queries.jsonl", encoding="utf-8") as fh:
            out += [json.loads(line)["text"] for line in fh]
    return out[:limit]


def build(size: int, real: int) -> Path:
    """An index of about ``size`` passages with vectors, cached."""
    from librarian.engine import indexer
    from librarian.engine.encoders import load_model, to_int8
    from librarian.engine.library import Library

    data = CACHE / f"search-{size}"
    marker = data / "ready"
    if marker.exists():
        return data
    model = load_model()
    lib = Library.open(data, model=model)
    store = lib._writer()
    lib._prepare_write()
    writer = indexer.Writer(store=store, vectors=lib.vectors, model_id=model.model_id)
    idx = indexer.Indexer(writer, encoder=None, offsets=lib._offsets, extract=lambda p: None)  # type: ignore[arg-type]
    batch = []
    for rec in records(limit_chars=size * 900):
        batch.append(rec)
        if len(batch) >= 500:
            idx.add_records(batch)
            batch = []
            if store.counts()["passages"] >= size:
                break
    if batch:
        idx.add_records(batch)
    rows = store.conn.execute("SELECT id, title, body FROM passages ORDER BY id LIMIT ?", (size,)).fetchall()
    store.conn.execute("DELETE FROM passages WHERE id > ?", (rows[-1][0],))
    texts = [f"{t}\n{b}" if t else b for _, t, b in rows[:real]]
    base = model.passage.embed(texts, batch_size=32)
    rng = np.random.default_rng(0)
    ids = [r[0] for r in rows]
    vectors = np.empty((len(ids), base.shape[1]), dtype=np.float32)
    vectors[: len(base)] = base
    pick = rng.integers(0, len(base), size=len(ids) - len(base))
    noisy = base[pick] + rng.normal(0, 0.03, size=(len(pick), base.shape[1])).astype(np.float32)
    vectors[len(base):] = noisy / np.linalg.norm(noisy, axis=1, keepdims=True)
    with store.transaction():
        store.set_vectors(ids, to_int8(vectors))
        store.bump_vectors_generation()
    lib.close()
    started = time.perf_counter()
    lib = Library.open(data, model=model)  # rebuilds the USearch cache from SQLite
    lib._save_vectors(lib._reader())
    build_s = time.perf_counter() - started
    lib.close()
    marker.write_text(json.dumps({"usearch_build_s": build_s, "passages": len(ids)}))
    return data


def latency(data: Path, qs: list[str]) -> dict:
    from librarian.engine.library import Library

    lib = Library.open(data)
    out = {}
    for label, batch in (("question", qs), ("typed (3 words)", [" ".join(q.split()[:3]) for q in qs])):
        took, parts = [], {}
        for q in batch[:5]:
            lib.search(q)  # warm-up: caches, first-touch of pages
        for q in batch:
            r = lib.search(q, k=10)
            took.append(r.took_ms)
            for key, value in r.timings_ms.items():
                parts.setdefault(key, []).append(value)
        out[label] = {"p50": statistics.median(took), "p95": float(np.percentile(took, 95)),
                      **{k: statistics.median(v) for k, v in parts.items()}}
    lib.close()
    return out


PEAK_RSS_KB = """
def peak_rss_kb():
    # VmHWM is this process's own peak: getrusage's ru_maxrss in a child started by fork + exec
    # also holds the parent's peak before the exec (Linux keeps the larger), so the benchmark's
    # own memory (this process, hundreds of MB after a build) would be read as the search's.
    try:
        with open("/proc/self/status") as fh:
            return next(int(line.split()[1]) for line in fh if line.startswith("VmHWM:"))
    except (OSError, StopIteration):
        import resource
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
"""


def memory(data: Path, qs: list[str]) -> float:
    """Peak RSS (MB) of a fresh process that opens the index and runs the queries."""
    code = (PEAK_RSS_KB + "import sys, json; from librarian.engine.library import Library; "
            f"lib = Library.open({str(data)!r}); qs = json.loads(sys.stdin.read()); "
            "[lib.search(q) for q in qs]; print(peak_rss_kb())")
    done = subprocess.run([sys.executable, "-c", code], input=json.dumps(qs), capture_output=True, text=True,
                          check=True)
    return int(done.stdout.strip().splitlines()[-1]) / 1024


def ann(count: int, data: Path) -> dict:
    from librarian.engine.store import Store
    from usearch.index import Index

    store = Store(data / "index.sqlite3", read_only=True)
    real = np.concatenate([v for _, v in store.iter_vectors(dims=384)]).astype(np.float32)[:20000]
    store.close()
    real /= np.linalg.norm(real, axis=1, keepdims=True)
    rng = np.random.default_rng(1)
    pick = rng.integers(0, len(real), size=count)
    vectors = real[pick] + rng.normal(0, 0.05, size=(count, real.shape[1])).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    vectors_i8 = np.clip(np.rint(vectors * 127), -127, 127).astype(np.int8)
    index = Index(ndim=384, metric="cos", dtype="i8", connectivity=16, expansion_add=128, expansion_search=96)
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    index.add(np.arange(count, dtype=np.uint64), vectors_i8, threads=os.cpu_count() or 2)
    build_s = time.perf_counter() - started
    q = real[rng.integers(0, len(real), size=200)] + rng.normal(0, 0.05, size=(200, 384)).astype(np.float32)
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    times, recall = [], []
    for vec in q:
        t = time.perf_counter()
        m = index.search(vec, 100, threads=1)
        times.append((time.perf_counter() - t) * 1000)
        exact = index.search(vec, 10, exact=True, threads=os.cpu_count() or 2)
        recall.append(len(set(m.keys[:10].tolist()) & set(exact.keys.tolist())) / 10)
    return {"vectors": count, "build_s": build_s, "add_per_s": count / build_s,
            "index_mb": index.memory_usage / 2**20,
            "rss_growth_mb": (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0) / 1024,
            "p50_ms": statistics.median(times), "p95_ms": float(np.percentile(times, 95)),
            "recall@10": statistics.fmean(recall)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="*", default=[10_000, 100_000])
    parser.add_argument("--real", type=int, default=8000, help="passages embedded with the real model")
    parser.add_argument("--ann", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=300)
    args = parser.parse_args()
    qs = queries(args.queries)
    print("| passages | query | p50 ms | p95 ms | encode | ANN | FTS | fuse+snippets | peak RSS MB |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|")
    largest = None
    for size in args.sizes:
        data = build(size, min(args.real, size))
        largest = data
        lat = latency(data, qs)
        rss = memory(data, qs[:100])
        for label, r in lat.items():
            print(f"| {size:,} | {label} | {r['p50']:.1f} | {r['p95']:.1f} | {r.get('encode', 0):.1f} | "
                  f"{r.get('ann', 0):.2f} | {r.get('fts', 0):.1f} | {r.get('fuse', 0):.1f} | {rss:.0f} |")
        info = json.loads((data / "ready").read_text())
        print(f"|  | USearch cache rebuilt from SQLite in {info['usearch_build_s']:.1f} s |  |  |  |  |  |  |  |")
    if args.ann and largest is not None:
        a = ann(args.ann, largest)
        print()
        print("| USearch i8 vectors | build s | adds/s | index MB | RSS growth MB | top-100 p50 ms | p95 ms | recall@10 vs exact |")
        print("|---:|---:|---:|---:|---:|---:|---:|---:|")
        print(f"| {a['vectors']:,} | {a['build_s']:.0f} | {a['add_per_s']:.0f} | {a['index_mb']:.0f} | "
              f"{a['rss_growth_mb']:.0f} | {a['p50_ms']:.2f} | {a['p95_ms']:.2f} | {a['recall@10']:.3f} |")


if __name__ == "__main__":
    main()
