"""The shipped model folder: integrity, size, AVX2-safe int8 weights, recorded fidelity, and that it runs.

Runs in the app venv: onnxruntime + tokenizers + numpy (+ ``onnx`` from the dev extra for the weight audit).
No torch, no optimum. Pooling here is re-implemented on purpose (mean over the attention mask, L2-normalised),
independently of ``librarian.models.encode``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from librarian.engine.model_folder import file_sha256

SHIPPED = Path(__file__).resolve().parents[1] / "models" / "shipped"
MAX_FOLDER_BYTES = 40 * 1024 * 1024

# Ops that multiply the weight in an integer GEMM, and the index of the weight input.
GEMM_WEIGHT_INPUT = {
    "MatMulInteger": 1,
    "QAttention": 1,
    "DynamicQuantizeMatMul": 1,
    "MatMulIntegerToFloat": 1,
    "ConvInteger": 1,
    "QLinearMatMul": 3,
    "QGemm": 3,
}


@pytest.fixture(scope="module")
def manifest() -> dict:
    return json.loads((SHIPPED / "manifest.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def session(manifest):
    ort = pytest.importorskip("onnxruntime")
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.enable_cpu_mem_arena = False
    return ort.InferenceSession(
        str(SHIPPED / manifest["towers"]["passage"]["file"]), so, providers=["CPUExecutionProvider"]
    )


def test_manifest_shape(manifest):
    for key in (
        "format",
        "name",
        "dims",
        "tokenizer",
        "inputs",
        "towers",
        "sha256",
        "source",
        "quantization",
        "fidelity",
        "speed",
        "built",
        "onnxruntime",
    ):
        assert key in manifest, key
    assert manifest["format"] == 1
    assert manifest["dims"] == 384
    assert manifest["inputs"] == ["input_ids", "attention_mask", "token_type_ids"]
    assert set(manifest["towers"]) == {"question", "passage"}
    for tower in manifest["towers"].values():
        assert tower["pooling"] == "mean"
        assert tower["normalize"] is True
        assert tower["output"] == "last_hidden_state"
        assert (SHIPPED / tower["file"]).is_file()
    assert manifest["towers"]["question"]["max_length"] == 256  # a pasted paragraph is read whole
    assert manifest["towers"]["passage"]["max_length"] == 256
    q = manifest["quantization"]
    assert q["method"] == "dynamic" and q["per_channel"] is True
    assert q["weight_type"] in ("QInt8", "QUInt8")
    if q["weight_type"] == "QInt8":
        assert q["reduce_range"] is True, "int8 weights must be 7-bit to be safe on AVX2 CPUs without VNNI"
    assert q["why"]


def test_sha256_match_files(manifest):
    files = manifest["sha256"]
    assert manifest["tokenizer"] in files
    for tower in manifest["towers"].values():
        assert tower["file"] in files
    for name, digest in files.items():
        assert file_sha256(SHIPPED / name) == digest, f"{name} changed since the manifest was written"


def test_folder_size():
    total = sum(p.stat().st_size for p in SHIPPED.rglob("*") if p.is_file())
    assert total <= MAX_FOLDER_BYTES, f"models/shipped is {total / 2**20:.1f} MiB"


def test_recorded_fidelity(manifest):
    f = manifest["fidelity"]
    assert f["passages"] >= 500
    assert f["mean_cosine"] >= 0.99
    assert 0.0 < f["min_cosine"] <= f["mean_cosine"]
    assert f["query_top10_overlap"] >= 0.85


def test_int8_weights_are_avx2_safe(manifest):
    """Every integer-GEMM weight is uint8, or int8 within [-64, 63] (no u8*s8 int16 saturation without VNNI)."""
    onnx = pytest.importorskip("onnx", reason="the weight audit needs `onnx` (dev extra)")
    from onnx import numpy_helper

    model = onnx.load(str(SHIPPED / manifest["towers"]["passage"]["file"]))
    inits = {i.name: i for i in model.graph.initializer}
    checked = 0
    for node in model.graph.node:
        idx = GEMM_WEIGHT_INPUT.get(node.op_type)
        if idx is None:
            continue
        assert len(node.input) > idx and node.input[idx] in inits, (
            f"{node.name}: weight is not an initializer"
        )
        w = numpy_helper.to_array(inits[node.input[idx]])
        assert w.dtype in (np.uint8, np.int8), f"{node.name}: weight dtype {w.dtype}"
        if w.dtype == np.int8:
            assert w.min() >= -64 and w.max() <= 63, f"{node.name}: int8 weight range [{w.min()}, {w.max()}]"
        checked += 1
    assert checked >= 24, f"only {checked} quantised GEMMs; is the model int8?"
    # No float MatMul left with a weight initializer (everything heavy is quantised).
    float_matmuls = [
        n.name
        for n in model.graph.node
        if n.op_type in ("MatMul", "Gemm") and any(i in inits for i in n.input)
    ]
    assert not float_matmuls, float_matmuls


def test_tokenizer_has_no_builtin_padding_or_truncation(manifest):
    data = json.loads((SHIPPED / manifest["tokenizer"]).read_text(encoding="utf-8"))
    assert data.get("padding") is None
    assert data.get("truncation") is None
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(SHIPPED / manifest["tokenizer"]))
    assert len(tok.encode("short query").ids) < 10
    assert len(tok.encode("word " * 300).ids) > 256


def _encode(session, manifest, texts: list[str], side: str) -> np.ndarray:
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(SHIPPED / manifest["tokenizer"]))
    tok.no_padding()
    tok.enable_truncation(max_length=manifest["towers"][side]["max_length"])
    vecs = []
    for text in texts:  # one at a time, as queries are encoded
        ids = np.array([tok.encode(text).ids], dtype=np.int64)
        mask = np.ones_like(ids)
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        (hidden,) = session.run(["last_hidden_state"], feeds)
        assert hidden.shape == (1, ids.shape[1], manifest["dims"])
        pooled = (hidden * mask[:, :, None]).sum(axis=1) / mask.sum(axis=1, keepdims=True)
        vecs.append(pooled[0] / np.linalg.norm(pooled[0]))
    return np.stack(vecs)


def test_model_runs_on_cpu(session, manifest):
    assert [i.name for i in session.get_inputs()] == manifest["inputs"]
    assert all(i.type == "tensor(int64)" for i in session.get_inputs())
    assert [o.name for o in session.get_outputs()] == ["last_hidden_state"]
    vecs = _encode(
        session, manifest, ["hello world", "a longer sentence about aircraft wings " * 20], "passage"
    )
    assert vecs.shape == (2, 384)
    assert np.all(np.isfinite(vecs))
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)


def test_related_sentences_score_higher(session, manifest):
    (query,) = _encode(session, manifest, ["fast automobile"], "question")
    related, unrelated = _encode(
        session, manifest, ["High-Speed Car Engineering", "baking sourdough bread"], "passage"
    )
    assert float(query @ related) > float(query @ unrelated) + 0.2, (query @ related, query @ unrelated)


def test_padding_does_not_change_vectors(session, manifest):
    """Mean pooling must ignore padded positions: a padded batch gives the same vector as the text alone."""
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(SHIPPED / manifest["tokenizer"]))
    short, long = tok.encode("fast automobile").ids, tok.encode("High-Speed Car Engineering " * 5).ids
    ids = np.zeros((2, len(long)), dtype=np.int64)
    mask = np.zeros_like(ids)
    ids[0, : len(short)], mask[0, : len(short)] = short, 1
    ids[1], mask[1] = long, 1
    (hidden,) = session.run(
        ["last_hidden_state"],
        {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)},
    )
    batched = (hidden[0] * mask[0, :, None]).sum(axis=0) / mask[0].sum()
    batched /= np.linalg.norm(batched)
    (alone,) = _encode(session, manifest, ["fast automobile"], "question")
    # Dynamic int8 scales depend on the batch, so only approximately equal.
    assert float(batched @ alone) > 0.98
