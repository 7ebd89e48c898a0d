"""Queries that must never crash or crawl, and keyword search in Chinese and Japanese.

To probe a new query: add a line to a parametrize list below, or call `found_by_words`
or `run_cli` in a five-line test.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import FakeEncoder
from librarian.engine import query as query_module
from librarian.engine.cli import main
from librarian.engine.encoders import Model
from librarian.engine.extract import extract as extract_in_process
from librarian.engine.library import Library
from librarian.engine.query import MAX_QUERY_CHARS, MAX_QUERY_TERMS, parse
from librarian.engine.store import SCHEMA_VERSION, NewPassage, Store, split_identifiers

MODES = ("hybrid", "dense", "keyword")
CJK_FILES = {
    "zh.txt": "我喜欢快速汽车和火车。周末我们坐火车去上海。",
    "ja.txt": "東京タワーに行きました。とても高かったです。",
    "mixed.txt": "他昨天买了iPhone手机，很喜欢。",
    "en.txt": "Fast cars and slow trains: a guide to travelling by rail.",
}
SHORTENED = f"query shortened to the first {MAX_QUERY_CHARS} characters"


class StrictEncoder(FakeEncoder):
    """Refuses text that is not valid Unicode, as the real tokenizer does (with a TypeError)."""

    def embed_batch(self, texts):
        for text in texts:
            text.encode("utf-8")  # raises UnicodeEncodeError on a lone surrogate
        return super().embed_batch(texts)


def strict_model() -> Model:
    encoder = StrictEncoder()
    return Model(question=encoder, passage=encoder, model_id="strict-64", name="strict", dims=64,
                 tokenizer_file=None, passage_max_length=256)


def write_files(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


@pytest.fixture
def library(tmp_path):
    """A library of `CJK_FILES` with a fast fake encoder that refuses lone surrogates."""
    lib = Library.open(tmp_path / "data", model=strict_model(), extract=extract_in_process)
    lib.add_folder(write_files(tmp_path / "docs", CJK_FILES))
    assert lib.update().failed == 0
    yield lib
    lib.close()


def found_by_words(lib: Library, query: str, mode: str = "keyword") -> list[str]:
    """The file names of the hits the keyword side found (the fake encoder's "meaning" is noise)."""
    return [Path(hit.path).name for hit in lib.search(query, mode=mode).hits if hit.matched != "meaning"]


def run_cli(data_dir: Path, *argv: str | bytes, stdin: bytes = b"") -> subprocess.CompletedProcess:
    """The real `librarian` in a child process, so argv and stdin can be raw bytes."""
    command = [os.fsencode(sys.executable), b"-m", b"librarian.engine.cli", b"--data-dir", os.fsencode(data_dir),
               *(os.fsencode(a) if isinstance(a, str) else a for a in argv)]
    proc = subprocess.run(command, input=stdin, capture_output=True, timeout=300)
    assert b"Traceback" not in proc.stderr, proc.stderr.decode("utf-8", "replace")
    assert proc.returncode == 0, proc.stderr.decode("utf-8", "replace")
    return proc


# -- undecodable bytes, through the real CLI and the real model ------------------------------------
@pytest.fixture(scope="module")
def bytes_index(tmp_path_factory):
    """A real-model index of a folder whose name is not valid UTF-8 (b"caf\\xe9"), plus one that is."""
    root = tmp_path_factory.mktemp("bytes-docs")
    odd = os.path.join(os.fsencode(root), b"caf\xe9")
    os.mkdir(odd)
    with open(os.path.join(odd, b"cars.txt"), "w", encoding="utf-8") as f:
        f.write("Racing cars need powerful engines and light bodies.\n")
    write_files(root / "plain", {"bread.txt": "Sourdough bread rises slowly overnight.\n"})
    data = tmp_path_factory.mktemp("bytes-data")
    assert main(["--data-dir", str(data), "index", "-q", str(root)]) == 0
    return data, odd


@pytest.mark.parametrize("mode", MODES)
def test_undecodable_query_and_folder_in_argv(bytes_index, mode):
    data, odd = bytes_index
    proc = run_cli(data, "search", b"racing caf\xff cars", "--folder", odd, "--mode", mode)
    assert b"cars.txt" in proc.stdout  # the folder filter matches the folder's documents
    assert b"bread.txt" not in proc.stdout


@pytest.mark.parametrize("mode", MODES)
def test_undecodable_lines_on_stdin(bytes_index, mode):
    data, _ = bytes_index
    lines = [b"caf\xff cars\n", b"\xfe\xfd\xfc\n", b"sourdough \xc3 bread\n"]
    proc = run_cli(data, "search", "--stdin", "--mode", mode, "-k", "3", stdin=b"".join(lines))
    results = [json.loads(line) for line in proc.stdout.decode("utf-8").splitlines()]
    assert [r["query"] for r in results] == ["caf\ufffd cars", "\ufffd\ufffd\ufffd", "sourdough \ufffd bread"]
    assert results[2]["results"][0]["path"].endswith("bread.txt")


def test_undecodable_line_in_the_shell(bytes_index):
    data, _ = bytes_index
    strict = {**os.environ, "PYTHONIOENCODING": "utf-8:strict"}  # as under a UTF-8 locale such as en_US.UTF-8
    proc = subprocess.run([sys.executable, "-m", "librarian.engine.cli", "--data-dir", str(data), "shell"],
                          input=b"racing caf\xff cars\n", capture_output=True, timeout=300, env=strict)
    assert proc.returncode == 0 and b"Traceback" not in proc.stderr, proc.stderr.decode("utf-8", "replace")
    assert b"cars.txt" in proc.stdout


@pytest.mark.parametrize("mode", MODES)
def test_lone_surrogates_never_reach_sqlite_or_the_encoder(library, mode):
    for query in ["caf\udcff car", "\ud800", "汽车\udfff"]:
        result = library.search(query, mode=mode)
        result.query.encode("utf-8")  # valid text, printable and JSON-safe


HOSTILE_QUERIES = ['"', '"""', "*", "NEAR(a b)", "^car", "-car", "car\x00train", "AND", "OR NOT", "'", ")",
                   "title:car", "{title}: car", "car*", "\\", "%", "😀 car", "مرحبا", "e\u0301te\u0301", "a\u200db",
                   "\ufeffcar", '汽"车', "。", "ー"]


@pytest.mark.parametrize("mode", MODES)
def test_fts5_syntax_and_odd_characters_are_plain_text(library, mode):
    for query in HOSTILE_QUERIES:
        library.search(query, mode=mode)  # results or none, never an exception


# -- long queries -----------------------------------------------------------------------------------
def test_de_duplicating_query_words_is_linear():
    """Counted, not timed (a loaded machine must not fail it): the old parse compared every new word
    with every kept one (`word not in terms` on a list), ~n²/2 comparisons for n distinct words."""
    comparisons = 0

    class Word(str):
        __hash__ = str.__hash__

        def __eq__(self, other):
            nonlocal comparisons
            comparisons += 1
            return str.__eq__(self, other)

    words = [Word(f"w{i}x") for i in range(5_000)]
    assert query_module._distinct(words, keep_stop_words=True) == words
    assert comparisons < 2 * len(words), comparisons


def test_a_long_query_is_shortened_with_a_note():
    parsed = parse("automobile " * 20_000)
    assert len(parsed.text) <= MAX_QUERY_CHARS and parsed.notes == (SHORTENED,)
    assert parse("a" * MAX_QUERY_CHARS).notes == ()


def test_a_query_of_many_different_words_keeps_the_first_few_hundred():
    page_of_chinese = "".join(chr(0x4E00 + i) for i in range(2000))  # ~2,000 different bigrams
    for query in [page_of_chinese, " ".join(f"w{i}" for i in range(600))]:
        parsed = parse(query)
        assert len(parsed.terms) == MAX_QUERY_TERMS
        assert parsed.notes == (f"only the first {MAX_QUERY_TERMS} different words of the query are matched as words",)


@pytest.mark.parametrize("mode", MODES)
def test_a_long_search_returns_the_note(library, mode):
    result = library.search("火车 trains " * 20_000, mode=mode)
    assert result.notes == (SHORTENED,)
    if mode != "dense":
        assert {"zh.txt", "en.txt"} <= {Path(h.path).name for h in result.hits}


def test_the_cli_shows_the_note_on_stderr_and_in_json(bytes_index, capsys):
    data, _ = bytes_index
    assert main(["--data-dir", str(data), "search", "bread " * MAX_QUERY_CHARS, "--mode", "keyword"]) == 0
    assert SHORTENED in capsys.readouterr().err
    proc = run_cli(data, "search", "--stdin", "--mode", "keyword", stdin=b"bread " * MAX_QUERY_CHARS + b"\n")
    assert json.loads(proc.stdout)["notes"] == [SHORTENED]


# -- Chinese and Japanese by keyword -------------------------------------------------------------------
@pytest.mark.parametrize(("query", "found"), [
    ("汽车", ["zh.txt"]),           # a word inside a run of Chinese
    ("火车", ["zh.txt"]),
    ("车", ["zh.txt"]),             # a single character
    ('"快速汽车"', ["zh.txt"]),      # a quoted run is a phrase of its bigrams...
    ('"汽车快速"', []),              # ...in that order
    ("上海 汽车", ["zh.txt"]),
    ("タワー", ["ja.txt"]),         # katakana inside a run of Japanese
    ("東京", ["ja.txt"]),
    ("行きました", ["ja.txt"]),
    ("iphone", ["mixed.txt"]),      # Latin letters glued to Chinese
    ("手机", ["mixed.txt"]),
    ("trains", ["en.txt"]),         # English is matched as before
])
@pytest.mark.parametrize("mode", ["keyword", "hybrid"])
def test_cjk_words_are_found_inside_runs(library, query, found, mode):
    assert found_by_words(library, query, mode) == found


def test_cjk_matches_are_highlighted(library):
    hit = library.search("汽车 東京", mode="keyword").hits
    marked = {h.snippet[s:e] for h in hit for s, e in h.highlights}
    assert {"汽车", "東京"} <= marked


def test_english_text_and_queries_are_indexed_as_before(tmp_path):
    store = Store(tmp_path / "index.sqlite3")
    doc = store.upsert_document(path="/x/a.md", root_id=None, size=1, mtime_ns=1, content_hash="h", kind="text",
                                title="Notes")
    body = "call parseConfig on the HTTPServer, then drive fast cars"
    store.insert_passages(doc, [NewPassage(0, "Notes", body, 0, len(body), {})])
    assert store.conn.execute("SELECT words FROM passages").fetchone()[0] == split_identifiers(f"Notes {body}")
    store.close()
    query = parse('fast "sports cars" engine')
    assert (query.terms, query.phrases) == (("fast", "engine"), (("sports", "cars"),))
    assert query.fts_all() == '"fast" AND "engine" AND "sports cars"'


def test_schema_3_index_is_migrated_and_cjk_becomes_searchable(tmp_path):
    db = tmp_path / "index.sqlite3"
    store = Store(db)
    doc = store.upsert_document(path="/x/zh.txt", root_id=None, size=1, mtime_ns=1, content_hash="h",
                                kind="text", title="笔记")
    body = CJK_FILES["zh.txt"] + " parseConfig"
    store.insert_passages(doc, [NewPassage(0, "笔记", body, 0, len(body), {})])
    store.close()
    # make it look like a schema-3 index: identifiers split, no CJK bigrams
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA recursive_triggers=ON")
    conn.execute("UPDATE passages SET words = 'parse Config'")
    conn.execute("UPDATE meta SET value = '3' WHERE key = 'schema_version'")
    conn.execute("DROP TABLE _sqlite_migrations")  # an index from before the migrations table
    conn.commit()
    assert conn.execute("SELECT count(*) FROM passages_fts WHERE passages_fts MATCH '\"汽车\"'").fetchone()[0] == 0
    conn.close()
    store = Store(db)
    assert store.get_meta("schema_version") == str(SCHEMA_VERSION)
    for match in ['"汽车"', '"快速 速汽 汽车"', '"车"', "config"]:
        count = store.conn.execute("SELECT count(*) FROM passages_fts WHERE passages_fts MATCH ?", (match,))
        assert count.fetchone()[0] == 1, match
    store.conn.execute("INSERT INTO passages_fts(passages_fts) VALUES ('integrity-check')")
    store.close()

