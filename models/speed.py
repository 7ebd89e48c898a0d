"""Encoder speed, measured as ratios within one run (shared machines are noisy).

Passages/s at a fixed length: batches of ``batch`` real passages cut to exactly ``length`` word pieces
(short passages are concatenated until long enough). Query latency: each query encoded alone, p50.
Models are interleaved round by round and the median over rounds is reported.
It times the app's own encoder (``engine.encoders.OnnxEncoder``): what the app will really run.
Runtime-light (numpy, onnxruntime, tokenizers).
"""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from librarian.engine.encoders import OnnxEncoder
from tokenizers import Tokenizer


def fixed_length_batches(
    texts: Sequence[str], tokenizer_path: Path, length: int, n_seqs: int
) -> list[list[int]]:
    """``n_seqs`` sequences of exactly ``length`` pieces ([CLS] ... [SEP]) built from real text."""
    tok = Tokenizer.from_file(str(tokenizer_path))
    tok.no_padding()
    tok.no_truncation()
    cls_id, sep_id = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    if cls_id is None or sep_id is None:
        raise ValueError("tokenizer has no [CLS]/[SEP]")
    body = length - 2
    seqs: list[list[int]] = []
    buf: list[int] = []
    for enc in tok.encode_batch(list(texts), add_special_tokens=False):
        buf.extend(enc.ids)
        while len(buf) >= body:
            seqs.append([cls_id, *buf[:body], sep_id])
            buf = []
            if len(seqs) >= n_seqs:
                return seqs
    if len(seqs) < n_seqs:
        raise ValueError(f"not enough text for {n_seqs} sequences of {length} pieces")
    return seqs


def passages_per_second(
    encoders: dict[str, OnnxEncoder], seqs: list[list[int]], batch: int = 32, rounds: int = 3
) -> dict[str, float]:
    times: dict[str, list[float]] = {k: [] for k in encoders}
    for enc in encoders.values():  # warm-up
        enc.run_ids(seqs[:batch])
    for _ in range(rounds):
        for name, enc in encoders.items():
            t0 = time.perf_counter()
            for start in range(0, len(seqs), batch):
                enc.run_ids(seqs[start : start + batch])
            times[name].append(time.perf_counter() - t0)
    return {k: len(seqs) / float(np.median(v)) for k, v in times.items()}


def query_latency_ms(
    encoders: dict[str, OnnxEncoder], queries: Sequence[str], rounds: int = 3
) -> dict[str, float]:
    """p50 ms per query (tokenise + run + pool), each query alone."""
    samples: dict[str, list[float]] = {k: [] for k in encoders}
    for enc in encoders.values():
        for q in queries[:5]:
            enc.embed_batch([q])
    for _ in range(rounds):
        for name, enc in encoders.items():
            for q in queries:
                t0 = time.perf_counter()
                enc.embed_batch([q])
                samples[name].append((time.perf_counter() - t0) * 1000.0)
    return {k: float(np.percentile(v, 50)) for k, v in samples.items()}


def measure(
    models: dict[str, Path],
    tokenizer_path: Path,
    passages: Sequence[str],
    queries: Sequence[str],
    lengths: Sequence[int] = (128,),
    batch: int = 32,
    n_seqs: int = 128,
    n_queries: int = 100,
    rounds: int = 3,
    threads: int = 2,
) -> dict[str, dict[str, float]]:
    """{model: {"passages_per_s@128": .., "query_p50_ms": ..}} for every model, measured interleaved."""
    result: dict[str, dict[str, float]] = {k: {} for k in models}
    for length in lengths:
        encs = {k: OnnxEncoder.of_file(p, tokenizer_path, max_length=length, threads=threads)
                for k, p in models.items()}
        seqs = fixed_length_batches(passages, tokenizer_path, length, n_seqs)
        for k, v in passages_per_second(encs, seqs, batch, rounds).items():
            result[k][f"passages_per_s@{length}"] = round(v, 1)
    qencs = {k: OnnxEncoder.of_file(p, tokenizer_path, max_length=64, threads=threads) for k, p in models.items()}
    for k, v in query_latency_ms(qencs, list(queries)[:n_queries], rounds).items():
        result[k]["query_p50_ms"] = round(v, 2)
    return result


def cpu_description() -> str:
    name, flags = platform.processor() or platform.machine(), set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name") and ":" in line:
                name = line.split(":", 1)[1].strip()
            elif line.startswith("flags") and ":" in line:
                flags = set(line.split(":", 1)[1].split())
    except OSError:
        pass
    isa = [f for f in ("avx2", "avx512f", "avx512_vnni", "avx_vnni") if f in flags]
    return f"{name} ({', '.join(isa) or 'isa unknown'}), {os.cpu_count()} logical cores"
