"""The passage tower as the indexer runs it: threads (every core vs one, as while someone types), batch
size and length sorting, and the memory the second ONNX session costs.

    python benchmarks/bench_encoder_threads.py [--passages 96] [--rounds 2] [--fp32 models/_work/fp32/model.onnx]

"cos to alone": each passage's vector against the one it gets encoded alone. The int8 model scales its
activations per tensor at run time, so in a batch a vector depends on the batch's other passages.

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

import numpy as np
from librarian.engine.encoders import (
    ENCODE_BATCH,
    EncoderThreads,
    OnnxEncoder,
    all_cores,
    default_model_dir,
    read_manifest,
)

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
    ap.add_argument("--fp32", type=Path, help="the fp32 ONNX export (models/_work/fp32/model.onnx, written by "
                    "`python -m librarian.models.export`): also print each configuration's cosine to it")
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
    configs = [(f"{threads.most} threads, batch {ENCODE_BATCH} (the app's), sorted", False, ENCODE_BATCH, True),
               (f"{threads.most} threads, batch 2, sorted", False, 2, True),
               (f"{threads.most} threads, batch 8, sorted", False, 8, True),
               (f"{threads.most} threads, batch 32, sorted", False, 32, True),
               (f"{threads.most} threads, batch 32, unsorted", False, 32, False),
               (f"1 thread (typing), batch {ENCODE_BATCH}, sorted", True, ENCODE_BATCH, True)]
    results: dict[str, list[float]] = {label: [] for label, *_ in configs}
    vectors: dict[str, np.ndarray] = {}
    for _ in range(args.rounds):
        for label, typing, batch, by_length in configs:
            threads.set_typing(typing)
            started = time.perf_counter()
            if by_length:
                out = encoder.embed(texts, batch_size=batch)
            else:
                out = np.vstack([encoder.embed_batch(texts[start:start + batch])
                                 for start in range(0, len(texts), batch)])
            results[label].append(len(texts) / (time.perf_counter() - started))
            vectors[label] = out
    threads.set_typing(False)
    alone = np.vstack([encoder.embed_batch([text]) for text in texts])
    fp32 = None
    if args.fp32 is not None:
        reference = OnnxEncoder.of_file(args.fp32, folder / manifest.tokenizer, max_length=spec.max_length,
                                        threads=threads.most)
        fp32 = reference.embed(texts, batch_size=1)
    print(f"{'':48s} {'passages/s per round':>24s}  {'cos to alone min':>16s}"
          + ("  cos to fp32 mean / min" if fp32 is not None else ""))
    for label, rates in results.items():
        cos_alone = (vectors[label] * alone).sum(axis=1)
        line = f"{label:48s} " + "  ".join(f"{rate:6.1f}" for rate in rates) + f"  {cos_alone.min():16.4f}"
        if fp32 is not None:
            cos = (vectors[label] * fp32).sum(axis=1)
            line += f"  {cos.mean():.4f} / {cos.min():.4f}"
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
