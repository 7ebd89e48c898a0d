"""Text → unit vectors. The contract is one abstract method, `Encoder.embed_batch`; batching by
length, int8 packing and query encoding are derived from it.

`OnnxEncoder` runs one tower of a model folder (``manifest.json`` + ONNX + ``tokenizer.json``) on
onnxruntime. `load_model` checks the folder (manifest values, file checksums: engine/model_folder.py)
and returns both towers (question, passage) and the model's identity (the sha256 of the passage
tower), which the index records so vectors of two models are never mixed.
"""

from __future__ import annotations

import os
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Literal

import numpy as np

from .errors import ModelError
from .model_folder import REINSTALL, TowerSpec, file_sha256, read_manifest, verify_files

__all__ = ["Encoder", "EncoderThreads", "LazyEncoder", "Model", "OnnxEncoder", "TowerSpec", "all_cores",
           "default_model_dir", "file_sha256", "load_model", "read_manifest", "to_int8"]

# Fork-after-use warnings and oversubscription: the tokenizer's own thread pool is not needed.
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


# Passages per onnxruntime run: one. The int8 model quantizes its activations with one scale per tensor,
# computed at run time, so in a batch each passage's vector depends on its neighbours (and their padding):
# the same text got different vectors in different batches, and a batch's outlier degraded the others.
# Alone, a passage gets the vector it will always get, as a query does
# (`python benchmarks/bench_encoder_threads.py --fp32 models/_work/fp32/model.onnx`, 2 threads): batch 1
# as fast as batch 8 (90-100 vs 94-101 passages/s; on 1,024 real library passages 65-66 vs 63-66/s),
# cosine to the fp32 export min .983 vs .981, to the passage alone 1.0 vs .987. BEIR nDCG@10 dense,
# batch 1 vs 8: npl .431 vs .426, cranfield .364 vs .364, cisi .426 vs .429. A keystroke also takes
# effect sooner (`before_batch` runs before every passage).
ENCODE_BATCH = 1


def all_cores() -> int:
    """The cores this process may run on (its affinity mask where the OS has one, else all of them)."""
    affinity = getattr(os, "sched_getaffinity", None)
    count = len(affinity(0)) if affinity is not None else (os.cpu_count() or 1)
    return max(count, 1)


class EncoderThreads:
    """How many threads the passage tower may use for its next batch: ``most`` while nobody types,
    one while someone does (the window needs a core to stay responsive).

    Read before every batch the encoder runs, so a keystroke takes effect within one batch. onnxruntime
    fixes a session's thread pool when it is created (RunOptions cannot change it), so `OnnxEncoder`
    keeps one session per thread count it has been asked for."""

    def __init__(self, most: int | None = None) -> None:
        self.most = max(int(most), 1) if most else all_cores()
        self._typing = threading.Event()

    def set_typing(self, typing: bool) -> None:
        (self._typing.set if typing else self._typing.clear)()

    @property
    def typing(self) -> bool:
        return self._typing.is_set()

    def current(self) -> int:
        """Threads for the batch about to run."""
        return 1 if self._typing.is_set() else self.most


class Encoder(ABC):
    """Embeds texts into L2-normalised float32 vectors of ``dims`` dimensions."""

    dims: int
    max_length: int

    @abstractmethod
    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        """float32 [len(texts), dims], each row of unit length (or zero for empty input)."""

    def token_lengths(self, texts: Sequence[str]) -> list[int]:
        """Length of each text in the encoder's pieces (capped); used to batch similar lengths."""
        return [min(len(t) // 4 + 2, self.max_length) for t in texts]

    def embed(self, texts: Sequence[str], *, batch_size: int = ENCODE_BATCH,
              before_batch: Callable[[], None] | None = None) -> np.ndarray:
        """Embed any number of texts, batching texts of similar length to waste little on padding.
        ``before_batch`` runs before each batch (the indexer waits there while someone types)."""
        return in_length_order(self.token_lengths(texts), lambda idx: self.embed_batch([texts[i] for i in idx]),
                               dims=self.dims, batch_size=batch_size, before_batch=before_batch)

    def embed_query(self, text: str) -> np.ndarray:
        """One query, alone: dynamic int8 scales depend on the batch, so a query never shares one."""
        return self.embed_batch([text])[0]


def in_length_order(lengths: Sequence[int], encode: Callable[[np.ndarray], np.ndarray], *, dims: int,
                    batch_size: int, before_batch: Callable[[], None] | None) -> np.ndarray:
    """float32 [len(lengths), dims]: ``encode(indexes)`` run on batches of ``batch_size`` texts of
    similar length (shortest first, little padding), each row put back in its text's place;
    ``before_batch`` runs before each batch."""
    out = np.empty((len(lengths), dims), dtype=np.float32)
    order = np.argsort(np.asarray(lengths, dtype=np.int64), kind="stable")
    for start in range(0, len(order), batch_size):
        if before_batch is not None:
            before_batch()
        idx = order[start:start + batch_size]
        out[idx] = encode(idx)
    return out


def cosines(vectors: np.ndarray, query: np.ndarray) -> np.ndarray:
    """The cosine of each row of ``vectors`` (float or int8) with ``query``."""
    rows = np.asarray(vectors, dtype=np.float32).reshape(len(vectors), -1)
    query = np.asarray(query, dtype=np.float32)
    norms = np.linalg.norm(rows, axis=1) * float(np.linalg.norm(query))
    return rows @ query / np.maximum(norms, 1e-12)


def to_int8(vectors: np.ndarray) -> np.ndarray:
    """Unit float vectors → int8 the way USearch's i8 storage does it (scale by 127, round, clamp)."""
    return np.clip(np.rint(vectors * 127.0), -127, 127).astype(np.int8)


class OnnxEncoder(Encoder):
    """One tower of a model folder on onnxruntime (CPU)."""

    def __init__(self, model_dir: Path, spec: TowerSpec, tokenizer_file: Path, dims: int, *,
                 threads: int | EncoderThreads = 2, spinning: bool = False) -> None:
        from tokenizers import Tokenizer

        switching = isinstance(threads, EncoderThreads)  # a plain count is fixed: one session
        self.threads = threads if isinstance(threads, EncoderThreads) else EncoderThreads(threads)
        self.dims = dims
        self.max_length = spec.max_length
        self._spec = spec
        self._tokenizer_file = tokenizer_file
        self._local = threading.local()
        self._tokenizer_cls = Tokenizer
        try:
            self._probe = self._new_tokenizer()
        except Exception as exc:
            raise ModelError(f"could not read the tokenizer {tokenizer_file}: {exc}") from exc
        self._path = model_dir / spec.file
        self._spinning = spinning
        # Both sessions are built now, not on the first keystroke: building one holds the GIL (PITFALLS
        # §1.5), and the window would freeze just when someone types.
        counts = {1, self.threads.most} if switching else {self.threads.most}
        self._sessions = {count: self._new_session(count) for count in sorted(counts)}
        session = self._sessions[self.threads.most]
        self._inputs = {i.name for i in session.get_inputs()}
        outputs = {o.name: o.shape for o in session.get_outputs()}
        path = self._path
        if spec.output not in outputs:
            raise ModelError(f"{path} has no output {spec.output!r} (it has {list(outputs)})")
        width = (outputs[spec.output] or [None])[-1]
        if isinstance(width, int) and dims and width != dims:
            raise ModelError(f"{path} gives {width}-dimensional vectors but its manifest.json says dims {dims} "
                             f"({REINSTALL})")
        if not dims and isinstance(width, int):  # `of_file`: the graph says
            self.dims = width

    @classmethod
    def of_file(cls, path: Path, tokenizer_file: Path, *, max_length: int, threads: int = 2,
                pooling: str = "mean", normalize: bool = True, output: str = "last_hidden_state") -> OnnxEncoder:
        """This encoder on a bare ONNX file, without a model folder around it (the model pipeline's fidelity
        and speed gates measure the app's own encoder on exports that have no manifest yet)."""
        spec = TowerSpec(file=Path(path).name, max_length=max_length, pooling=pooling, normalize=normalize,
                         output=output)
        return cls(Path(path).parent, spec, Path(tokenizer_file), 0, threads=threads)  # dims: the graph's

    def _new_session(self, threads: int):
        from ._onnxruntime import ort  # telemetry off before onnxruntime loads

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Spinning pool threads pick up the next parallel section sooner (+9% passages/s measured here)
        # but burn a core while idle between calls: worth it for bulk encoding only.
        spin = self._spinning and threads > 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "1" if spin else "0")
        # Variable batch × length shapes would make the arena keep the worst case forever.
        options.enable_cpu_mem_arena = False
        options.enable_mem_pattern = False
        options.log_severity_level = 3
        try:
            return ort.InferenceSession(str(self._path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:
            raise ModelError(f"could not load the model {self._path}: {exc}") from exc

    def _new_tokenizer(self):
        tok = self._tokenizer_cls.from_file(str(self._tokenizer_file))
        tok.no_padding()
        tok.enable_truncation(max_length=self.max_length)
        return tok

    @property
    def tokenizer(self):
        """A tokenizer for this thread: a shared one raises "Already borrowed" under concurrency."""
        tok = getattr(self._local, "tokenizer", None)
        if tok is None:
            tok = self._local.tokenizer = self._new_tokenizer()
        return tok

    def token_lengths(self, texts: Sequence[str]) -> list[int]:
        return [len(e.ids) for e in self.tokenizer.encode_batch(list(texts))]

    def embed(self, texts: Sequence[str], *, batch_size: int = ENCODE_BATCH,
              before_batch: Callable[[], None] | None = None) -> np.ndarray:
        """As `Encoder.embed`, but each text is tokenized once: the lengths that order the batches
        come from the same encodings the model then reads."""
        encodings = self.tokenizer.encode_batch(list(texts)) if texts else []
        return in_length_order([len(e.ids) for e in encodings], lambda idx: self._run([encodings[i] for i in idx]),
                               dims=self.dims, batch_size=batch_size, before_batch=before_batch)

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        return self._run(self.tokenizer.encode_batch(list(texts)))

    def _run(self, encodings: list) -> np.ndarray:
        return self.run_ids([e.ids for e in encodings])

    def run_ids(self, sequences: Sequence[Sequence[int]]) -> np.ndarray:
        """One batch of already tokenised texts, padded here: pooled (and normalised) vectors."""
        width = max((len(seq) for seq in sequences), default=1) or 1
        ids = np.zeros((len(sequences), width), dtype=np.int64)
        mask = np.zeros((len(sequences), width), dtype=np.int64)
        for row, seq in enumerate(sequences):
            n = len(seq)
            ids[row, :n] = seq
            mask[row, :n] = 1
        feed = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feed["token_type_ids"] = np.zeros_like(ids)
        session = self._sessions.get(self.threads.current()) or self._sessions[self.threads.most]
        (hidden,) = session.run([self._spec.output], feed)
        if hidden.ndim == 2:  # pooled inside the graph
            pooled = hidden
        elif self._spec.pooling == "cls":
            pooled = hidden[:, 0]
        else:
            weights = mask[:, :, None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        pooled = pooled.astype(np.float32, copy=False)
        if self._spec.normalize:
            norms = np.linalg.norm(pooled, axis=1, keepdims=True)
            pooled = pooled / np.maximum(norms, 1e-12)
        return pooled


class LazyEncoder(Encoder):
    """An encoder built on first use: a search process never loads the passage tower, an indexing
    run that finds nothing new never loads either (each session costs tens of MB)."""

    def __init__(self, build, *, dims: int, max_length: int) -> None:
        self.dims = dims
        self.max_length = max_length
        self._build = build
        self._encoder: Encoder | None = None
        self._lock = threading.Lock()

    @property
    def loaded(self) -> Encoder:
        if self._encoder is None:
            with self._lock:
                if self._encoder is None:
                    self._encoder = self._build()
        return self._encoder

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        return self.loaded.embed_batch(texts)

    def embed(self, texts: Sequence[str], *, batch_size: int = ENCODE_BATCH,
              before_batch: Callable[[], None] | None = None) -> np.ndarray:
        return self.loaded.embed(texts, batch_size=batch_size, before_batch=before_batch)

    def token_lengths(self, texts: Sequence[str]) -> list[int]:
        return self.loaded.token_lengths(texts)


@dataclass(frozen=True)
class Model:
    """Both towers of a model folder and the facts the index records about it."""

    question: Encoder
    passage: Encoder
    model_id: str  # sha256 of the passage tower: vectors from different ids never mix
    name: str
    dims: int
    tokenizer_file: Path | None
    passage_max_length: int
    # The passage tower's thread count, lowered while someone types (`Library.set_typing`).
    threads: EncoderThreads = field(default_factory=EncoderThreads)


def default_model_dir() -> Path:
    override = os.environ.get("LIBRARIAN_MODEL_DIR")
    if override:
        return Path(override)
    return Path(str(resources.files("librarian.models") / "shipped"))


def load_model(model_dir: Path | None = None, *, verify: Literal["cached", "full"] = "cached",
               passage_threads: int | None = None, question_threads: int = 1) -> Model:
    """Check the folder and prepare both towers (each loaded on first use). The passage tower uses
    ``passage_threads`` (default: every core) while nobody types, one while someone does
    (`Model.threads`).

    The manifest's checksums are always verified; ``"cached"`` trusts a file whose size, times and
    inode match an earlier verification (engine/model_folder.py), ``"full"`` hashes every file again.
    """
    model_dir = Path(model_dir) if model_dir else default_model_dir()
    manifest = read_manifest(model_dir)
    verify_files(model_dir, manifest, use_cache=verify == "cached")
    towers, dims = manifest.towers, manifest.dims
    tokenizer_file = model_dir / manifest.tokenizer
    threads = EncoderThreads(passage_threads)
    passage = LazyEncoder(lambda: OnnxEncoder(model_dir, towers["passage"], tokenizer_file, dims,
                                              threads=threads, spinning=threads.most > 1),
                          dims=dims, max_length=towers["passage"].max_length)
    question = LazyEncoder(lambda: OnnxEncoder(model_dir, towers["question"], tokenizer_file, dims,
                                               threads=question_threads),
                           dims=dims, max_length=towers["question"].max_length)
    model_id = manifest.sha256[towers["passage"].file]  # verified just above
    return Model(question=question, passage=passage, model_id=model_id, name=manifest.name,
                 dims=dims, tokenizer_file=tokenizer_file, passage_max_length=towers["passage"].max_length,
                 threads=threads)
