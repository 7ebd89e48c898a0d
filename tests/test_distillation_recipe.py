"""The distillation recipe's data steps and the towers' shared weights: runs in the app venv (no torch).

Training itself needs torch (the ``models`` extra) and hours; what is tested here is everything around it that
decides what the student learns from and what ships: which text counts as training prose, which questions are
made from a passage and which hard negatives they get, the acceptance rule, and that two ONNX towers sharing one
word-embedding file load and compute exactly what they computed before sharing.
"""

from __future__ import annotations

import numpy as np
import pytest
from librarian.models import corpus, training_data
from librarian.models.towers import decide, share_word_embeddings
from librarian.models.training_data import Example, passage_text


def _passage(doc: str, title: str, body: str) -> dict:
    return {"id": f"{doc}:0", "source": "test", "doc": doc, "title": title, "body": body, "pieces": 60}


CAR = ("The engine of a high-speed car must cool itself at every speed. Radiators move heat into the air. "
       "Racing teams tune the airflow through the front of the car with great care. "
       "A fast automobile also needs brakes that do not fade after repeated stops.")
BREAD = ("Bread dough rises because yeast produces carbon dioxide. Bakers knead the dough to develop gluten. "
         "The oven must be hot before the loaf goes in, or the crust stays pale. "
         "Sourdough uses wild yeast and lactic bacteria instead of baker's yeast.")
RADIATOR = ("A radiator in a house heats the room with hot water from a boiler. Old radiators need bleeding "
            "when air collects at the top. Thermostatic valves keep each room at its own temperature.")


def test_prose_filter_rejects_site_chrome_and_listings():
    assert corpus.is_prose("Guide › Cooling", CAR)
    assert not corpus.is_prose("Guide › Navigation", CAR)
    assert not corpus.is_prose("Guide › Table of Contents", CAR)
    assert not corpus.is_prose("Function Index", CAR)
    menu = "index\nmodules |\nnext |\nprevious |\nstatsmodels »\nUser Guide »"
    assert not corpus.is_prose("API", menu)
    assert not corpus.is_prose("Table", "1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 0.5 0.25 x y")


def test_corpus_passages_come_from_the_apps_extractor_and_chunker(tmp_path, shipped_tokenizer):
    page = tmp_path / "guide.html"
    sections = "".join(f"<h2>Section {i}</h2><p>{CAR} {BREAD}</p>" for i in range(4))
    page.write_text(f"<html><head><title>Car guide</title></head><body><nav>Home | Next</nav><h1>Car guide</h1>"
                    f"{sections}</body></html>", encoding="utf-8")
    offsets = corpus.tokenizer_offsets(shipped_tokenizer)
    found = list(corpus.passages_of(page, offsets))
    assert found, "the page gave no passages"
    assert all(p["title"].startswith("Car guide") for p in found)
    assert any("Section 2" in p["title"] for p in found)
    assert all("Home | Next" not in p["body"] for p in found)
    assert all(p["pieces"] >= corpus.MIN_PIECES for p in found)


def test_source_files_follow_include_and_exclude(tmp_path):
    base = tmp_path / "usr/share/doc/pkg"
    for rel in ("en-US/a.html", "de-DE/a.html", "en-US/genindex.html", "en-US/_sources/x.html", "en-US/b.txt"):
        (base / rel).parent.mkdir(parents=True, exist_ok=True)
        (base / rel).write_text("x")
    source = corpus.Source("pkg", "usr/share/doc/pkg", include=r"^en-US/.*\.html$")
    assert [p.relative_to(base).as_posix() for p in corpus.source_files(tmp_path, source)] == ["en-US/a.html"]


def test_questions_are_seeded_and_inverse_cloze_removes_its_sentence():
    passages = [_passage(f"d{i}", f"Doc {i} › Part {i}", text) for i, text in enumerate([CAR, BREAD, RADIATOR] * 20)]
    first = training_data.make_questions(passages, seed=5, share=1.0)
    again = training_data.make_questions(passages, seed=5, share=1.0)
    assert first == again
    assert {ex.kind for ex in first} >= {"ict", "span"}
    ict = [ex for ex in first if ex.kind == "ict"]
    removed = [ex for ex in ict if ex.question not in ex.positive_text]
    assert ict and len(removed) >= 0.75 * len(ict), "ICT keeps the sentence in ~10% of cases only"
    for ex in ict:
        assert ex.question in passages[ex.positive]["body"]
    for ex in first:
        if ex.kind == "heading":
            assert ex.question == passages[ex.positive]["title"].split(" › ")[-1]


def test_hard_negatives_are_bm25_hits_from_other_documents():
    passages = [_passage("cars", "Cars", CAR), _passage("bread", "Bread", BREAD),
                _passage("heating", "Heating", RADIATOR), _passage("cars", "Cars 2", CAR.replace("car", "vehicle"))]
    examples = [Example("ict", "radiators move heat into air", 0, passage_text(passages[0])),
                Example("ict", "zzzz qqqq", 1, passage_text(passages[1]))]
    out = training_data.bm25_candidates(passages, examples)
    assert out[0] == [2], "the heating radiator is the only other-document BM25 hit (never the own document's)"
    assert out[1] == [], "no BM25 hit: no candidate"


def test_acceptance_rule():
    def rows(dense: float) -> list[dict]:
        return [{"collection": c, "mode": m, "ndcg@10": dense if m == "dense" else 0.3, "recall@100": 0.5}
                for c in ("a", "b") for m in ("keyword", "dense", "hybrid")]

    base = rows(0.400)
    assert decide(base, rows(0.396), 1.9, 30.0)[0]
    ok, why = decide(base, rows(0.390), 1.9, 30.0)
    assert not ok and "short" in why
    assert not decide(base, rows(0.399), 1.5, 30.0)[0]
    assert decide(base, rows(0.421), 1.0, 30.0)[0]
    assert not decide(base, rows(0.399), 1.9, 41.0)[0]


def _tiny_tower(path, table: np.ndarray, weight: np.ndarray) -> None:
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper

    graph = helper.make_graph(
        [helper.make_node("Gather", ["table_quantized", "ids"], ["emb"], axis=0),
         helper.make_node("Cast", ["emb"], ["embf"], to=TensorProto.FLOAT),
         helper.make_node("MatMul", ["embf", "w"], ["out"])],
        "tower",
        [helper.make_tensor_value_info("ids", TensorProto.INT64, ["n"])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, ["n", weight.shape[1]])],
        [numpy_helper.from_array(table, "table_quantized"), numpy_helper.from_array(weight, "w")],
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))


def _run(path, ids):
    ort = pytest.importorskip("onnxruntime")
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {"ids": ids})[0]


def test_towers_share_one_embedding_file_and_compute_the_same(tmp_path):
    rng = np.random.default_rng(0)
    table = rng.integers(-127, 127, size=(500, 16), dtype=np.int8)
    _tiny_tower(tmp_path / "q.onnx", table, rng.standard_normal((16, 4)).astype(np.float32))
    _tiny_tower(tmp_path / "p.onnx", table, rng.standard_normal((16, 4)).astype(np.float32))
    ids = np.array([0, 7, 499, 7], dtype=np.int64)
    before = {name: _run(tmp_path / f"{name}.onnx", ids) for name in ("q", "p")}
    out = tmp_path / "shared"
    info = share_word_embeddings(tmp_path / "q.onnx", tmp_path / "p.onnx", out)
    assert info["bytes"] == table.nbytes
    assert (out / "word_embeddings.bin").read_bytes() == table.tobytes()
    for name, file in (("q", "question.onnx"), ("p", "passage.onnx")):
        assert (out / file).stat().st_size < table.nbytes, "the table must live outside the graph"
        np.testing.assert_array_equal(_run(out / file, ids), before[name])


def test_towers_with_different_tables_refuse_to_share(tmp_path):
    rng = np.random.default_rng(1)
    w = rng.standard_normal((16, 4)).astype(np.float32)
    _tiny_tower(tmp_path / "q.onnx", rng.integers(-127, 127, size=(50, 16), dtype=np.int8), w)
    _tiny_tower(tmp_path / "p.onnx", rng.integers(-127, 127, size=(50, 16), dtype=np.int8), w)
    with pytest.raises(RuntimeError, match="differ"):
        share_word_embeddings(tmp_path / "q.onnx", tmp_path / "p.onnx", tmp_path / "out")


@pytest.fixture(scope="module")
def shipped_tokenizer():
    from librarian.engine.encoders import default_model_dir
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(default_model_dir() / "tokenizer.json"))
    tok.no_padding()
    tok.no_truncation()
    return tok


# ------------------------------------------------------------------ teacher vectors and mined negatives
def _unit(rows) -> np.ndarray:
    v = np.asarray(rows, dtype=np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_mined_negatives_fuse_bm25_and_teacher_and_drop_own_document_and_false_negatives():
    from librarian.models.targets import mine_negatives

    # Passages 0-1 are the question's own document; 2 is closer to the question than its own positive
    # (an unlabelled positive); 3, 4, 5 are honest negatives, 4 the teacher's last but BM25's first.
    passages = _unit([[1, 0, 0], [0.9, 0.1, 0], [1, 0.02, 0], [0.7, 0.7, 0], [0, 0, 1], [0.5, 0, 0.8]])
    question = _unit([[1, 0.02, 0]])
    positive = passages[[0]] * 0.999  # the positive as shown to the student (sentence removed)
    negatives, dropped = mine_negatives(
        question_vectors=question, positive_vectors=_unit(positive), passage_vectors=passages,
        bm25=[[4]], docs=["own", "own", "b", "c", "d", "e"], positives=[0], keep=3)
    assert negatives == [[4, 3, 5]], "fused: 4 (in both lists) before 3 and 5 (teacher ranks 4 and 5)"
    assert dropped["own_document"] == 2 and dropped["false_negative"] == 1


def test_a_question_without_candidates_gets_no_negative():
    from librarian.models.targets import mine_negatives

    passages = _unit([[1, 0], [0, 1]])
    negatives, dropped = mine_negatives(question_vectors=_unit([[1, 0]]), positive_vectors=_unit([[1, 0]]),
                                        passage_vectors=passages, bm25=[[]], docs=["a", "a"], positives=[0])
    assert negatives == [[]] and dropped["without_negative"] == 1


def test_the_bm25_negatives_ablation_keeps_bm25_order_from_other_documents_only():
    from librarian.models.ablate import bm25_negatives
    from librarian.models.targets import NEGATIVES_PER_QUESTION

    docs = ["own", "own", "b", "c", "d", "e", "f", "g"]
    negatives = bm25_negatives([[1, 5, 0, 2, 7, 3, 4, 6], []], docs, [0, 2])
    assert negatives[0] == [5, 2, 7, 3][:NEGATIVES_PER_QUESTION], "own document left out, BM25's order kept"
    assert negatives[1] == []


def test_teacher_vectors_are_cached_in_blocks_and_an_interrupted_run_keeps_them(tmp_path, monkeypatch):
    from librarian.models import targets

    monkeypatch.setattr(targets, "BLOCK", 3)
    texts = [f"text {i}" for i in range(8)]
    calls: list[list[str]] = []

    def encode(chunk):
        calls.append(chunk)
        if len(calls) == 2 and not hasattr(encode, "failed"):
            encode.failed = True
            raise KeyboardInterrupt  # killed in the middle of the second block
        return _unit([[1.0, float(t.split()[1])] for t in chunk])

    path = tmp_path / "v.npy"
    with pytest.raises(KeyboardInterrupt):
        targets.cached_vectors(path, texts, encode, log=lambda _m: None)
    assert not path.exists() and len(list((tmp_path / "v.parts").iterdir())) == 1
    calls.clear()
    vectors = targets.cached_vectors(path, texts, encode, log=lambda _m: None)
    assert [len(c) for c in calls] == [3, 2], "the finished block is read back, not encoded again"
    np.testing.assert_allclose(vectors, _unit([[1.0, i] for i in range(8)]), atol=1e-3)  # float16 on disk
    assert path.exists() and not (tmp_path / "v.parts").exists()
    calls.clear()
    assert len(targets.cached_vectors(path, texts, encode, log=lambda _m: None)) == 8 and not calls


def test_dense_candidates_are_exact_nearest_passages_best_first():
    from librarian.models.targets import dense_candidates

    rng = np.random.default_rng(4)
    passages, questions = _unit(rng.standard_normal((200, 8))), _unit(rng.standard_normal((9, 8)))
    found = dense_candidates(questions, passages, depth=5, rows=4)
    expected = np.argsort(-(questions @ passages.T), axis=1)[:, :5]
    np.testing.assert_array_equal(found, expected)


def test_batches_are_seeded_length_sorted_within_windows_and_cover_every_example():
    from librarian.models.distill import batch_order

    rng = np.random.default_rng(5)
    lengths = rng.integers(10, 160, size=400).tolist()
    batches = batch_order(lengths, batch=8, steps=100, seed=7, window=5)
    assert batches == batch_order(lengths, batch=8, steps=100, seed=7, window=5), "a resumed run sees the same"
    assert len(batches) == 100 and all(len(b) == 8 for b in batches)
    first_pass = [i for b in batches[:50] for i in b]
    assert sorted(first_pass) == list(range(400)), "one pass shows each example once"
    spread = np.mean([max(lengths[i] for i in b) - min(lengths[i] for i in b) for b in batches])
    shuffled = np.mean([np.ptp(rng.choice(lengths, 8)) for _ in range(100)])
    assert spread < shuffled / 3, "a batch holds passages of similar length (little padding)"
