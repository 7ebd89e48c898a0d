"""Minimal sentence encoder over an ONNX ``last_hidden_state`` graph.

Runtime-light on purpose: only ``numpy``, ``onnxruntime`` and ``tokenizers``. The model pipeline (fidelity gate,
speed measurement) and ``benchmarks/bench_encoders.py`` use it, so it must import in the app venv (no torch).
It mirrors what the app does: mean pooling over the attention mask, then L2 normalisation.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from librarian.engine._onnxruntime import ort  # telemetry off before the import
from tokenizers import Tokenizer


def session_options(threads: int = 2) -> ort.SessionOptions:
    """Session settings recommended for 2-4 core laptops (PITFALLS.md §1.5)."""
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.add_session_config_entry("session.intra_op.allow_spinning", "0")
    so.enable_cpu_mem_arena = False
    so.enable_mem_pattern = False
    so.log_severity_level = 3
    return so


def make_session(model_path: str | Path, threads: int = 2) -> ort.InferenceSession:
    return ort.InferenceSession(str(model_path), session_options(threads), providers=["CPUExecutionProvider"])


def load_tokenizer(path: str | Path, max_length: int | None = None) -> Tokenizer:
    """Tokenizer with no built-in padding and (optionally) truncation at ``max_length`` word pieces."""
    tok = Tokenizer.from_file(str(path))
    tok.no_padding()
    if max_length is None:
        tok.no_truncation()
    else:
        tok.enable_truncation(max_length=max_length)
    return tok


def mean_pool(hidden: np.ndarray, mask: np.ndarray, normalize: bool = True) -> np.ndarray:
    m = mask.astype(np.float32)[:, :, None]
    summed = (hidden.astype(np.float32) * m).sum(axis=1)
    counts = np.clip(m.sum(axis=1), 1e-9, None)
    vec = summed / counts
    if normalize:
        vec /= np.clip(np.linalg.norm(vec, axis=1, keepdims=True), 1e-12, None)
    return vec.astype(np.float32)


class Encoder:
    """Encode texts with one ONNX session: pad per batch, mean-pool, L2-normalise."""

    def __init__(
        self,
        model_path: str | Path,
        tokenizer_path: str | Path,
        max_length: int = 256,
        threads: int = 2,
        session: ort.InferenceSession | None = None,
    ) -> None:
        self.model_path = Path(model_path)
        self.session = session or make_session(model_path, threads)
        self.tokenizer = load_tokenizer(tokenizer_path, max_length)
        self.max_length = max_length
        self.input_names = {i.name for i in self.session.get_inputs()}
        self.output_name = self.session.get_outputs()[0].name

    def run_ids(self, ids: Sequence[Sequence[int]]) -> np.ndarray:
        """Pooled, normalised vectors for already tokenized sequences (one batch, padded here)."""
        width = max(len(x) for x in ids)
        input_ids = np.zeros((len(ids), width), dtype=np.int64)
        mask = np.zeros((len(ids), width), dtype=np.int64)
        for row, seq in enumerate(ids):
            input_ids[row, : len(seq)] = seq
            mask[row, : len(seq)] = 1
        feeds = {"input_ids": input_ids, "attention_mask": mask}
        if "token_type_ids" in self.input_names:
            feeds["token_type_ids"] = np.zeros_like(input_ids)
        (hidden,) = self.session.run([self.output_name], feeds)
        return mean_pool(hidden, mask)

    def tokenize(self, texts: Sequence[str]) -> list[list[int]]:
        return [e.ids for e in self.tokenizer.encode_batch(list(texts))]

    def encode(self, texts: Sequence[str], batch_size: int = 32, sort_by_length: bool = True) -> np.ndarray:
        """Encode ``texts`` in batches; batches are built from length-sorted texts (as the indexer does)."""
        ids = self.tokenize(texts)
        order = np.argsort([len(x) for x in ids], kind="stable") if sort_by_length else np.arange(len(ids))
        out = np.zeros((len(ids), 0), dtype=np.float32)
        chunks: list[tuple[np.ndarray, np.ndarray]] = []
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            chunks.append((idx, self.run_ids([ids[i] for i in idx])))
        if chunks:
            out = np.zeros((len(ids), chunks[0][1].shape[1]), dtype=np.float32)
            for idx, vecs in chunks:
                out[idx] = vecs
        return out

    def encode_one_by_one(self, texts: Sequence[str]) -> np.ndarray:
        """Encode each text alone (queries: dynamic int8 scales depend on the batch)."""
        return np.concatenate([self.run_ids(self.tokenize([t])) for t in texts], axis=0)
