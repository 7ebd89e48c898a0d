"""`librarian eval` on a tiny BEIR collection with known answers, and the metrics by hand."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from librarian.engine.cli import main
from librarian.engine.evaluation import mrr_at, ndcg_at, recall_at

DOCS = {
    "d1": ("Glaciers", "Glaciers carve U-shaped valleys as the ice grinds slowly downhill."),
    "d2": ("Volcanoes", "Lava from shield volcanoes flows far before it cools into basalt."),
    "d3": ("Tides", "The moon's gravity pulls the oceans into two daily tidal bulges."),
    "d4": ("Deserts", "Dunes migrate as wind lifts sand grains over their crests."),
    "d5": ("Coral", "Reef-building corals need warm, clear and shallow seawater."),
}
QUERIES = {"q1": "how do glaciers shape valleys", "q2": "why are there two tides a day", "q3": "sand dunes moving"}
QRELS = [("q1", "d1", 2), ("q2", "d3", 1), ("q3", "d4", 1), ("q3", "d5", 0)]


@pytest.fixture
def collection(tmp_path: Path) -> Path:
    folder = tmp_path / "tiny"
    folder.mkdir()
    with open(folder / "corpus.jsonl", "w") as fh:
        for doc_id, (title, text) in DOCS.items():
            fh.write(json.dumps({"_id": doc_id, "title": title, "text": text}) + "\n")
    with open(folder / "queries.jsonl", "w") as fh:
        for qid, text in QUERIES.items():
            fh.write(json.dumps({"_id": qid, "text": text}) + "\n")
    (folder / "qrels.tsv").write_text("query-id\tcorpus-id\tscore\n" + "".join(f"{q}\t{d}\t{s}\n" for q, d, s in QRELS))
    return folder


def test_eval_cli_reports_every_metric_for_every_mode(collection, capsys):
    assert main(["eval", str(collection), "--mode", "all", "--json"]) == 0
    results = json.loads(capsys.readouterr().out)
    assert [r["mode"] for r in results] == ["hybrid", "dense", "keyword"]
    for r in results:
        assert set(r) >= {"ndcg@10", "recall@100", "mrr@10", "queries", "docs", "index_seconds",
                          "query_ms_p50", "query_ms_p95"}
        assert r["queries"] == 3 and r["docs"] == 5
        assert r["ndcg@10"] == pytest.approx(1.0) and r["recall@100"] == 1.0 and r["mrr@10"] == 1.0


def test_one_mode_prints_one_object(collection, capsys):
    assert main(["eval", str(collection), "--mode", "keyword", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["mode"] == "keyword" and result["ndcg@10"] == pytest.approx(1.0)


def test_metrics_by_hand():
    relevant = {"a": 2, "b": 1}
    # a at rank 2, b at rank 3: DCG = 3/log2(3) + 1/log2(4); ideal = 3/log2(2) + 1/log2(3)
    expected = (3 / math.log2(3) + 1 / 2) / (3 + 1 / math.log2(3))
    assert ndcg_at(["x", "a", "b"], relevant) == pytest.approx(expected)
    assert recall_at(["x", "a"], relevant) == 0.5
    assert mrr_at(["x", "y", "b"], relevant) == pytest.approx(1 / 3)
    assert ndcg_at([], relevant) == 0.0


def test_malformed_collection_is_one_clear_line(tmp_path, capsys):
    (tmp_path / "corpus.jsonl").write_text("{}\n")
    assert main(["eval", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("librarian: error:") and err.count("\n") == 1


# -- a real-library dev set: questions.tsv scored on a folder of files ---------------------------------
LIBRARY_FILES = {
    "notes/bread.md": "# Sourdough bread\n\nFeed the starter with flour and water the night before baking.",
    "notes/bike.txt": "Bicycle repair\n\nTo fix a flat tyre, remove the inner tube and patch the puncture.",
    "code/config.py": "PROMPT_COMMAND = 'history -a'\n# runs before every prompt is shown\n",
    "copies/bike-copy.txt": "Bicycle repair\n\nTo fix a flat tyre, remove the inner tube and patch the puncture.",
}
QUESTIONS = ("kind\tquestion\tanswers\n"
             "paraphrase\tmending a punctured wheel\tcopies/bike-copy.txt\n"  # its copy is what is shown
             "paraphrase\tfeeding the starter the night before\tnotes/bread.md\n"
             "exact\tPROMPT_COMMAND\tcode/config.py | notes/missing.txt\n")


@pytest.fixture
def devset(tmp_path: Path) -> tuple[Path, Path]:
    library = tmp_path / "library"
    for name, text in LIBRARY_FILES.items():
        (library / name).parent.mkdir(parents=True, exist_ok=True)
        (library / name).write_text(text)
    folder = tmp_path / "devset"
    folder.mkdir()
    (folder / "questions.tsv").write_text(QUESTIONS)
    return folder, library


def test_library_devset_scores_each_kind_and_mode_and_counts_copies(devset, tmp_path, capsys):
    folder, library = devset
    index = tmp_path / "index"
    argv = ["eval", str(folder), "--library", str(library), "--index", str(index), "--mode", "all", "--json"]
    assert main(argv) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {(r["kind"], r["mode"]) for r in rows} == {(k, m) for k in ("exact", "paraphrase")
                                                      for m in ("hybrid", "dense", "keyword")}
    by = {(r["kind"], r["mode"]): r for r in rows}
    assert by["exact", "keyword"]["queries"] == 1 and by["paraphrase", "keyword"]["queries"] == 2
    assert by["exact", "keyword"]["mrr@10"] == 1.0  # an answer list may name files that do not exist
    # the bike answer is a copy folded into the other file's result: it counts as found
    assert by["paraphrase", "hybrid"]["success@10"] == 1.0
    assert (index / "index.sqlite3").exists()  # kept for the next run
    assert main(argv[:-1]) == 0  # the text table, from the kept index
    assert "S@3" in capsys.readouterr().out


def test_library_devset_with_a_share_embedded_writes_nothing(devset, tmp_path, capsys):
    folder, library = devset
    index = tmp_path / "index"
    base = ["eval", str(folder), "--library", str(library), "--index", str(index), "--mode", "dense", "--json"]
    assert main(base) == 0
    full = json.loads(capsys.readouterr().out)
    assert main([*base, "--embedded", "0"]) == 0
    none = json.loads(capsys.readouterr().out)
    assert all(r["success@10"] == 0.0 for r in none)  # no vector: dense finds nothing
    assert main(base) == 0  # the vectors left out were left out of that run only
    again = json.loads(capsys.readouterr().out)
    assert [{**r, "query_ms_p50": 0} for r in again] == [{**r, "query_ms_p50": 0} for r in full]


def test_library_devset_needs_its_folder_and_a_good_header(devset, tmp_path, capsys):
    folder, _ = devset
    assert main(["eval", str(folder)]) == 1
    assert "--library" in capsys.readouterr().err
    (folder / "questions.tsv").write_text("question\tanswer\nx\ty\n")
    assert main(["eval", str(folder), "--library", str(tmp_path)]) == 1
    assert "header" in capsys.readouterr().err
