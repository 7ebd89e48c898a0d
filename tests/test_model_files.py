"""The shipped model folder: integrity, size, AVX2-safe int8 weights, recorded fidelity, and that it runs.

Runs in the app venv: onnxruntime + tokenizers + numpy (+ ``onnx`` from the dev extra for the weight audit).
No torch, no optimum. Pooling here is re-implemented on purpose (mean over the attention mask, L2-normalised),
independently of the engine's encoder (``engine.encoders``).
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


def _audit_int8_weights(path: Path) -> None:
    """Every integer-GEMM weight is uint8, or int8 within [-64, 63] (no u8*s8 int16 saturation without VNNI)."""
    onnx = pytest.importorskip("onnx", reason="the weight audit needs `onnx` (dev extra)")
    from onnx import numpy_helper

    model = onnx.load(str(path))  # external data (a shared word-embedding table) is read from beside it
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
    assert checked >= 12, f"{path.name}: only {checked} quantised GEMMs; is the model int8?"
    # No float MatMul left with a weight initializer (everything heavy is quantised).
    float_matmuls = [
        n.name
        for n in model.graph.node
        if n.op_type in ("MatMul", "Gemm") and any(i in inits for i in n.input)
    ]
    assert not float_matmuls, float_matmuls


@pytest.fixture(scope="module")
def two_tower_folder(tmp_path_factory) -> Path:
    """A question.onnx + passage.onnx folder sharing one word-embedding file, as `make towers` ships it,
    made from the shipped towers (one file or two), so what it computes is known."""
    pytest.importorskip("onnx", reason="building the folder needs `onnx` (dev extra)")
    from librarian.engine.model_folder import Manifest, TowerSpec, read_manifest, write_manifest
    from librarian.models.towers import PASSAGE_FILE, QUESTION_FILE, SHARED_FILE, share_word_embeddings

    folder = tmp_path_factory.mktemp("two-towers")
    shipped = read_manifest(SHIPPED)
    share_word_embeddings(SHIPPED / shipped.towers["question"].file, SHIPPED / shipped.towers["passage"].file, folder)
    (folder / "tokenizer.json").write_bytes((SHIPPED / "tokenizer.json").read_bytes())
    manifest = Manifest.create(
        folder, name="two towers", dims=shipped.dims, inputs=shipped.inputs, extra_files=(SHARED_FILE,),
        towers={"question": TowerSpec(QUESTION_FILE, 256, "mean", True),
                "passage": TowerSpec(PASSAGE_FILE, 256, "mean", True)},
        **{k: shipped.build[k] for k in ("source", "quantization", "fidelity", "speed", "built", "onnxruntime")})
    manifest.check_release(folder)
    write_manifest(manifest, folder)
    return folder


@pytest.mark.parametrize("which", ["shipped", "two towers"])
def test_int8_weights_are_avx2_safe(which, request):
    folder = SHIPPED if which == "shipped" else request.getfixturevalue("two_tower_folder")
    towers = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["towers"]
    files = sorted({t["file"] for t in towers.values()})
    assert len(files) == 2 or which == "shipped"
    for name in files:
        _audit_int8_weights(folder / name)


def test_two_towers_store_their_word_embeddings_once(two_tower_folder):
    from librarian.models.towers import PASSAGE_FILE, QUESTION_FILE, SHARED_FILE

    table = (two_tower_folder / SHARED_FILE).stat().st_size
    assert table > 10_000_000, "the int8 30522 x 384 table"
    for name in (QUESTION_FILE, PASSAGE_FILE):
        assert (two_tower_folder / name).stat().st_size < 16_000_000, "the table is not inside the graph"
    total = sum(p.stat().st_size for p in two_tower_folder.iterdir())
    assert total <= MAX_FOLDER_BYTES
    manifest = json.loads((two_tower_folder / "manifest.json").read_text(encoding="utf-8"))
    assert SHARED_FILE in manifest["sha256"], "the shared table is checksummed like every model file"


def test_the_app_runs_a_two_tower_folder_as_it_ran_the_shipped_one(two_tower_folder):
    from librarian.engine.encoders import load_model

    texts = ["fast automobile", "High-Speed Car Engineering", "baking sourdough bread " * 30]
    single, towers = load_model(SHIPPED, passage_threads=1), load_model(two_tower_folder, passage_threads=1)
    np.testing.assert_array_equal(towers.passage.embed(texts), single.passage.embed(texts))
    np.testing.assert_array_equal(towers.question.embed_query(texts[0]), single.question.embed_query(texts[0]))
    # The passage tower's file is the model's identity in an index: a new one means re-embedding.
    assert towers.model_id == file_sha256(two_tower_folder / "passage.onnx")


def test_the_shipped_manifest_is_the_engines_definition_read_back_unchanged(manifest):
    from librarian.engine.model_folder import read_manifest

    parsed = read_manifest(SHIPPED)
    assert parsed.to_json() == manifest
    parsed.check_release(SHIPPED)


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


def test_a_passage_gets_the_same_vector_whatever_is_encoded_beside_it():
    """The int8 graph scales activations per batch, so a batched passage's vector depended on its neighbours
    (cosine to itself alone down to .958 on real passages) and one text got two vectors. The indexer encodes
    each passage alone: the vector is the one a passage always gets, and the one a shared text shares."""
    from librarian.engine.encoders import load_model

    passage = load_model(SHIPPED, passage_threads=1).passage
    text = "High-Speed Car Engineering. Radiators, airflow and the brakes of a fast automobile."
    neighbours = ["ok", "Sourdough bread rises slowly in a cold kitchen. " * 30, "Ｚ" * 40 + " 0x7f " * 20]
    alone = passage.embed([text])[0]
    for other in neighbours:
        np.testing.assert_array_equal(passage.embed([other, text, other])[1], alone)
    np.testing.assert_array_equal(passage.embed_query(text), alone)


def test_the_release_check_refuses_a_manifest_without_provenance_or_with_a_stale_checksum(tmp_path):
    from librarian.engine.model_folder import Manifest, read_manifest

    shipped = read_manifest(SHIPPED)
    for name in shipped.sha256:
        (tmp_path / name).write_bytes((SHIPPED / name).read_bytes())
    bare = Manifest.create(tmp_path, name="x", dims=384, towers=shipped.towers, fidelity={"passages": 1})
    with pytest.raises(ValueError, match="lacks source, quantization, speed, built, onnxruntime"):
        bare.check_release(tmp_path)
    complete = Manifest.create(tmp_path, name="x", dims=384, towers=shipped.towers, **shipped.build)
    complete.check_release(tmp_path)
    (tmp_path / "tokenizer.json").write_text("{}", encoding="utf-8")
    with pytest.raises(ValueError, match="tokenizer.json is missing or does not match its checksum"):
        complete.check_release(tmp_path)


def test_the_fidelity_and_speed_gates_measure_the_apps_own_encoder():
    from librarian.engine.encoders import load_model
    from librarian.models.fidelity import Collection, EvalSet, compare, encode_eval_set
    from librarian.models.speed import measure

    passages = ["High-Speed Car Engineering. Radiators and airflow.", "Sourdough bread rises slowly. " * 40,
                "A letter to the landlord about repairs."]
    queries = ["fast automobile", "bread"]
    data = EvalSet([Collection("tiny", passages, queries)], per_collection_cap=10, seed=1)
    from librarian.engine.model_folder import read_manifest

    tower = SHIPPED / read_manifest(SHIPPED).towers["passage"].file
    vectors = encode_eval_set(tower, SHIPPED / "tokenizer.json", data, threads=1)
    app = load_model(SHIPPED, passage_threads=1)
    np.testing.assert_array_equal(vectors.passages, app.passage.embed(passages))  # as the indexer batches them
    np.testing.assert_array_equal(vectors.queries, np.stack([app.passage.embed_query(q) for q in queries]))
    report = compare(vectors, vectors, data, k=2)
    assert report.mean_cosine == pytest.approx(1.0, abs=1e-6) and report.query_top10_overlap == 1.0
    speed = measure({"shipped": tower}, SHIPPED / "tokenizer.json", passages * 4, queries,
                    lengths=(16,), batch=2, n_seqs=4, n_queries=2, rounds=1, threads=1)
    assert set(speed["shipped"]) == {"passages_per_s@16", "query_p50_ms"}
    assert all(v > 0 for v in speed["shipped"].values())
