"""The passage tower as the indexer runs it: threads (every core vs one, as while someone types), batch
size and length sorting, and the memory the second ONNX session costs.

    python benchmarks/bench_encoder_threads.py [--passages 96] [--rounds 2]

Passages of 20 to 160 words (a real mix of short and full passages) from /usr/share/common-licenses, or
the demo library when that folder is missing. Configurations run interleaved, round after round: on a
shared machine read the columns against each other, not the absolute numbers.
"""

from __future__ import annotations

import argparse
import glob
import random
import time
from pathlib import Path

from librarian.engine.encoders import EncoderThreads, OnnxEncoder, all_cores, default_model_dir, read_manifest

REPO = Path(__file__).resolve().parents[1]


def sample_passages(count: int) -> list[str]:
    words: list[str] = []
    for name in sorted(glob.glob("/usr/share/common-licenses/*"))[:12]:
        if Path(name).is_file():
            words += Path(name).read_text(errors="replace").split()
    if len(words) < 1000:
        for name in sorted((REPO / "engine" / "demo").glob("*.txt")) + sorted((REPO / "engine" / "demo").glob("*.md")):
            words += name.read_text(errors="replace").split()
    rng = random.Random(1)
    out, at = [], 0
    while len(out) < count:
        n = rng.choice([20, 40, 80, 120, 120, 120, 160])
        out.append(" ".join(words[at:at + n]))
        at = (at + n) % max(len(words) - 200, 1)
    return out


def rss_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--passages", type=int, default=96)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args(argv)
    texts = sample_passages(args.passages)
    folder = default_model_dir()
    manifest = read_manifest(folder)
    spec = manifest.towers["passage"]
    threads = EncoderThreads(all_cores())
    before = rss_mb()
    fixed = OnnxEncoder(folder, spec, folder / manifest.tokenizer, manifest.dims, threads=threads.most)
    one_session = rss_mb()
    encoder = OnnxEncoder(folder, spec, folder / manifest.tokenizer, manifest.dims, threads=threads, spinning=True)
    two_sessions = rss_mb()
    del fixed
    print(f"memory: one session +{one_session - before:.0f} MB; two sessions (1 and {threads.most} threads) "
          f"+{two_sessions - one_session:.0f} MB")
    encoder.embed(texts[:16])  # warm up
    configs = [(f"{threads.most} threads, batch 32, sorted", False, 32, True),
               (f"{threads.most} threads, batch 32, unsorted", False, 32, False),
               (f"{threads.most} threads, batch 16, sorted", False, 16, True),
               (f"{threads.most} threads, batch 64, sorted", False, 64, True),
               ("1 thread (typing), batch 32, sorted", True, 32, True)]
    results: dict[str, list[float]] = {label: [] for label, *_ in configs}
    for _ in range(args.rounds):
        for label, typing, batch, by_length in configs:
            threads.set_typing(typing)
            started = time.perf_counter()
            if by_length:
                encoder.embed(texts, batch_size=batch)
            else:
                for start in range(0, len(texts), batch):
                    encoder.embed_batch(texts[start:start + batch])
            results[label].append(len(texts) / (time.perf_counter() - started))
    threads.set_typing(False)
    for label, rates in results.items():
        print(f"{label:40s} " + "  ".join(f"{rate:6.1f}" for rate in rates) + "  passages/s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
