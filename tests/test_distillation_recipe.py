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
    examples = [Example("ict", "radiators move heat into air", 0, passage_text(passages[0]), -1),
                Example("ict", "zzzz qqqq", 1, passage_text(passages[1]), -1)]
    out = training_data.add_negatives(passages, examples, seed=1)
    assert out[0].negative == 2, "the heating radiator is the only other-document BM25 hit"
    assert out[1].negative == -1, "no BM25 hit: no negative (the trainer draws a random passage)"


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
