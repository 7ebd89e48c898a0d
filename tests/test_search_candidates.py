"""Issue 15, items 3, 4 and 10, on real files in a tmp dir through the `Library` façade:
result lists filled to k when one long document fills the candidate pool, identifiers matched as
themselves, near-duplicate documents folded like exact copies.

To add a probe: write the files with `library({...})`, search with `paths(lib, query, mode)`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import fake_model
from librarian.engine import search as search_module
from librarian.engine import similar
from librarian.engine.extract import extract as extract_in_process
from librarian.engine.library import Library
from librarian.engine.query import parse
from librarian.engine.store import Store

MODES = ("keyword", "hybrid", "dense")


@pytest.fixture
def library(tmp_path: Path) -> Iterator:
    """``library({"a.md": text, ...})``: those files indexed (fake encoder), the open `Library`."""
    opened: list[Library] = []

    def make(files: dict[str, str]) -> Library:
        root = tmp_path / "docs"
        for name, text in files.items():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_text(text, encoding="utf-8")
        lib = Library.open(tmp_path / "data", model=fake_model(), extract=extract_in_process)
        opened.append(lib)
        lib.add_folder(root)
        report = lib.update()
        assert report.failed == 0
        return lib

    yield make
    for lib in opened:
        lib.close()


def paths(lib: Library, query: str, mode: str = "hybrid", k: int = 10) -> list[str]:
    """The file names of the results, best first."""
    return [Path(hit.path).name for hit in lib.search(query, mode=mode, k=k).hits]


# -- item 3: a long document must not starve the result list -----------------------------------------
def long_manual(paragraphs: int = 1000) -> str:
    """A manual whose every passage is about lighthouses: it alone fills any 100-passage pool."""
    return "\n\n".join(f"Lighthouse keeper lamp section {i}. The lighthouse keeper trims the lighthouse lamp "
                       "and the lighthouse keeper logs the lamp." for i in range(paragraphs))


def short_notes(count: int = 14) -> dict[str, str]:
    return {f"note{i:02}.md": f"Note {i} on harbour walks, tides and a distant lighthouse keeper lamp, once."
            for i in range(count)}


@pytest.mark.parametrize("mode", MODES)
def test_one_long_document_does_not_starve_the_result_list(library, mode):
    lib = library({"manual.md": long_manual(), **short_notes()})
    assert lib.status().passages > search_module.CANDIDATES + 14  # the manual alone overfills the pool
    found = paths(lib, "lighthouse keeper lamp", mode)
    assert len(found) == 10 and "manual.md" in found


def test_a_short_list_stays_short_when_the_index_has_no_more(library):
    lib = library({"manual.md": long_manual(), **short_notes(3)})
    assert len(paths(lib, "lighthouse keeper lamp", "keyword")) == 4
    assert len(paths(lib, "lighthouse keeper lamp", "dense")) == 4


def test_hybrid_widens_the_dense_list_when_one_document_fills_it(library, monkeypatch):
    """Keyword matches fill ten places, but the dense pool holds one document: meaning must still be
    asked for more, or every other document it would have found loses its place to weak keyword
    matches (a bash example's twenty passages hid the Bash manual on the real-library set)."""
    lib = library({"manual.md": long_manual(), **short_notes()})
    asked: list[int] = []
    real_dense = search_module.Searcher._dense

    def dense(self, store, vector, limit, filters, timings):
        asked.append(limit)
        return real_dense(self, store, vector, limit, filters, timings)

    monkeypatch.setattr(search_module.Searcher, "_dense", dense)
    # the notes hold "harbour" (keyword: 14 documents); the manual is nearer in meaning (dense: 1 document)
    result = lib.search("harbour lighthouse keeper lamp", mode="hybrid")
    assert len(result.hits) == 10
    assert asked[0] == search_module.CANDIDATES and max(asked) > search_module.CANDIDATES
    asked.clear()
    lib.search("harbour walks tides", mode="hybrid")  # its dense pool spans many notes: one round
    assert asked == [search_module.CANDIDATES]


def test_filling_is_bounded(library, monkeypatch):
    """With a single round, as before the fix, the pool is too small: the rounds are what fill it."""
    lib = library({"manual.md": long_manual(), **short_notes()})
    monkeypatch.setattr(search_module, "FILL_ROUNDS", 1)
    assert len(paths(lib, "lighthouse keeper lamp", "keyword")) < 10


# -- item 4: identifiers match as themselves ---------------------------------------------------------
IDENTIFIER_PAGES = {
    "bash-variables.md": "# Shell variables\n\nPROMPT_COMMAND\n\nIf set, its value is run before the "
                         "shell shows its primary prompt. HISTSIZE sets the history length.\n",
    # "prompt" and "command" often, never side by side: before the fix it ranked first
    "essay.md": "# Writing\n\n" + "A prompt starts a writer; good command of style ends a page. " * 4,
    "python-paths.md": "# Paths\n\nCall os.path.join to build a path from its parts.\n",
    "joinery.md": "# Joinery\n\nJoin the boards; the path of the saw matters; os is the bone in Latin. "
                  "Join, join, path, path.\n",
}
CAMEL_PAGE = {"widgets.md": "# Widgets\n\nThe class PromptCommand wraps a widget callback.\n"}


@pytest.mark.parametrize("mode", ["keyword", "hybrid"])
@pytest.mark.parametrize(("query", "page"), [("PROMPT_COMMAND", "bash-variables.md"),
                                             ("os.path.join", "python-paths.md"),
                                             ("set PROMPT_COMMAND", "bash-variables.md")])
def test_an_identifier_beats_a_page_holding_its_parts_apart(library, mode, query, page):
    lib = library(IDENTIFIER_PAGES)
    assert paths(lib, query, mode)[0] == page


def test_an_identifier_is_a_phrase_of_its_parts_never_separate_words():
    assert parse("PROMPT_COMMAND").fts() == '"prompt command"'
    assert parse("std::vector push").terms == ("std vector", "push")
    assert parse("parseConfig").terms == ("parseconfig", "parse config")  # as one token, or split
    assert parse("end of sentence. Next one").terms == ("end", "sentence", "next", "one")
    assert parse("what changed in v1.7").terms == ("changed", "v1", "7")  # a version is no identifier
    assert parse("e.g. U.S. maps").terms == ("e", "g", "u", "s", "maps")  # nor are abbreviations
    assert parse("GThe map").terms == ("gthe", "map")  # a typo: no one-letter part of a name


def test_camel_case_and_snake_case_spellings_find_each_other(library):
    lib = library({**IDENTIFIER_PAGES, **CAMEL_PAGE})
    assert sorted(paths(lib, "prompt_command", "keyword")) == ["bash-variables.md", "widgets.md"]
    assert sorted(paths(lib, "PromptCommand", "keyword")) == ["bash-variables.md", "widgets.md"]


def test_the_identifier_is_highlighted_whole(library):
    lib = library(IDENTIFIER_PAGES)
    hit = lib.search("PROMPT_COMMAND", mode="keyword").hits[0]
    assert "PROMPT_COMMAND" in [hit.snippet[s:e] for s, e in hit.highlights]


# -- item 10: near-duplicate documents fold --------------------------------------------------------
README_LINES = [f"Line {i}: the tidewater tool reads harbour charts and prints the tide table for port {i}."
                for i in range(25)]


def readme(changed: dict[int, str] | None = None) -> str:
    lines = list(README_LINES)
    for index, text in (changed or {}).items():
        lines[index] = text
    return "# Tidewater\n\n" + "\n".join(lines) + "\n"


def test_two_versions_of_a_readme_fold_and_another_document_does_not(library):
    other = ("# Harbour tides\n\nA different text on tide tables: harbour masters print charts of the tide "
             "each week, and the tidewater almanac lists the ports.\n") * 3
    lib = library({"v1/README.md": readme(),
                   "v2/README.md": readme({3: "Line 3: now with colour output.", 17: "Line 17: removed flag."}),
                   "almanac.md": other})
    for mode in MODES:
        hits = lib.search("tidewater harbour tide table", mode=mode).hits
        assert len(hits) == 2, [h.path for h in hits]
        readme_hit = next(h for h in hits if h.path.endswith("README.md"))
        assert len(readme_hit.duplicates) == 1 and readme_hit.duplicates[0].endswith("README.md")
        almanac = next(h for h in hits if h.path.endswith("almanac.md"))
        assert almanac.duplicates == ()


@pytest.fixture
def read_openings(monkeypatch) -> list[int]:
    """The documents whose text near-copy folding reads (to sketch them), in the order read."""
    read: list[int] = []
    real = Store.document_openings

    def recording(self, document_ids, *, max_chars):
        read.extend(document_ids)
        return real(self, document_ids, max_chars=max_chars)

    monkeypatch.setattr(Store, "document_openings", recording)
    return read


def document_id(lib: Library, name: str) -> int:
    return next(d for (d,) in lib._reader().conn.execute("SELECT id FROM documents WHERE path LIKE ?", (f"%{name}",)))


def test_the_next_keystroke_reads_no_document_again_until_one_changes(library, read_openings, tmp_path):
    lib = library({"v1/README.md": readme(), "v2/README.md": readme({3: "Line 3: now with colour output."})})
    first = lib.search("tidewater harbour tide table").hits
    assert len(read_openings) == 2 and len(first) == 1 and len(first[0].duplicates) == 1  # compared in full
    read_openings.clear()
    again = lib.search("tidewater harbour tide tables").hits  # the next keystroke
    assert read_openings == [] and [h.duplicates for h in again] == [h.duplicates for h in first]
    (tmp_path / "docs" / "v2" / "README.md").write_text(readme({3: "Line 3: now with colour output, again."}))
    lib.update()
    lib.search("tidewater harbour tide table")
    assert read_openings == [document_id(lib, "v2/README.md")]  # only the file whose content changed


def test_documents_of_one_size_that_are_no_copies_are_never_read_to_fold_copies(library, read_openings):
    """Every document here has peers of its size, so each could be a near copy; their stored
    min-hashes share nothing, so no text is read or shingled at search time."""
    topics = ["harbour tides and charts", "sourdough bread baking", "violin strings and bows",
              "mountain railway timetables", "beekeeping through winter"]
    lib = library({f"{n}.md": f"# Notes {n}\n\n" + " ".join(f"{topic}, page {i}." for i in range(60))
                   for n, topic in enumerate(topics)})
    for mode in MODES:
        assert len(lib.search("notes", mode=mode).hits) == len(topics)
    assert read_openings == []


def test_stored_min_hashes_are_those_of_the_text_read_at_search_time(library):
    """Written with the passages or sketched when shown, a document's min-hashes are of the same
    text: a stored sketch and a search-time one always agree on which documents are near copies."""
    lib = library({"v1/README.md": readme(), "long.md": "# Long\n\n" + "\n\n".join(
        f"Paragraph {i}: the tidewater almanac lists the ports and harbour masters of the coast." for i in range(400))})
    store = lib._reader()
    for name in ("v1/README.md", "long.md"):
        doc = document_id(lib, name)
        stored = store.document_shapes([doc])[doc].min_hashes
        opening = store.document_openings([doc], max_chars=similar.OPENING_CHARS)[doc]
        assert stored and stored == similar.sketch(opening).min_hashes


def test_an_edit_renews_the_stored_min_hashes_and_a_copy_takes_its_twins(library, tmp_path):
    lib = library({"v1/README.md": readme()})
    before = lib._reader().document_shapes([doc := document_id(lib, "v1/README.md")])[doc].min_hashes
    (tmp_path / "docs" / "v1" / "README.md").write_text("A note about something else entirely, not tides.")
    (tmp_path / "docs" / "twin.md").write_text(readme())
    lib.update()
    store = lib._reader()
    shapes = store.document_shapes([doc, twin := document_id(lib, "twin.md")])
    assert shapes[doc].min_hashes == similar.sketch("A note about something else entirely, not tides.").min_hashes
    assert shapes[twin].min_hashes == before


def test_documents_without_stored_min_hashes_are_sketched_when_shown(library, read_openings):
    lib = library({"v1/README.md": readme(), "v2/README.md": readme({3: "Line 3: now with colour output."})})
    with lib._writer().transaction() as conn:
        conn.execute("UPDATE documents SET min_hashes = NULL")
    hits = lib.search("tidewater harbour tide table").hits
    assert len(hits) == 1 and len(hits[0].duplicates) == 1
    assert sorted(read_openings) == sorted(document_id(lib, n) for n in ("v1/README.md", "v2/README.md"))


def test_resemblance_of_near_and_different_texts():
    near = similar.resemblance(similar.shingles(readme()), similar.shingles(readme({5: "Line 5: changed."})))
    apart = similar.resemblance(similar.shingles(readme()), similar.shingles("Tide tables for harbour ports " * 20))
    assert near >= similar.NEAR_DUPLICATE > apart
    assert similar.resemblance(frozenset(), frozenset()) == 0.0


def test_near_copies_share_a_min_hash_and_unrelated_texts_do_not():
    """The min-hashes decide which pairs are compared in full: a near pair must share one."""
    def shared(a: str, b: str) -> set:
        return set(enumerate(similar.sketch(a).min_hashes)) & set(enumerate(similar.sketch(b).min_hashes))

    assert shared(readme(), readme({3: "Line 3: now with colour output.", 17: "Line 17: removed flag."}))
    assert not shared(readme(), "Tide tables for harbour ports, printed weekly by harbour masters. " * 5)
    assert similar.sketch("...").min_hashes == ()
