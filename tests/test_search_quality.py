"""What a person expects of hybrid search, on the real shipped model: exact things are not buried
under semantic near-misses, and meaning still wins where the words are only a weak partial match."""

from __future__ import annotations

from pathlib import Path

import pytest
from librarian.engine.extract import extract
from librarian.engine.library import Library

RELEASES = {
    f"release-{v}.md": f"# Release notes\n\nVersion {v} of the sync client. {note}\n"
    for v, note in [
        ("1.5", "Faster uploads of large photo folders and a quieter tray icon."),
        ("1.6", "Conflict handling when two laptops edit the same file offline."),
        ("1.7", "The upload queue survives a restart; retries back off exponentially."),
        ("1.8", "Selective sync of shared folders and smaller memory use on startup."),
    ]
}
NEAR_MISSES = {
    "sync-guide.md": "# Keeping files in sync\n\nHow the client uploads changes, resolves conflicts and retries.\n",
    "parser.py": "def parse_config(path):\n    '''Read the settings file and return a dict of options.'''\n",
    "widget.js": "export class DatePickerWidget {\n  renderCalendarGrid(month) { return this.cells(month); }\n}\n",
    "settings-notes.txt": "Notes on how the application reads its configuration and options at startup.\n",
    "quarterly_numbers.txt": "Revenue grew in the north region while costs in logistics fell slightly.\n",
    "cars.txt": "Building a high-speed car detector: cameras track vehicles travelling at speed on motorways.\n",
    "db.txt": "Each database query is fast on its own, but hundreds of them make a page slow.\n",
    "react.txt": "Keep the first load fast on mid-range phones by splitting the JavaScript bundle.\n",
}


@pytest.fixture(scope="module")
def library(tmp_path_factory, real_model):
    root = tmp_path_factory.mktemp("quality")
    for name, text in {**RELEASES, **NEAR_MISSES}.items():
        (root / name).write_text(text)
    lib = Library.open(tmp_path_factory.mktemp("data"), model=real_model, extract=extract)
    lib.add_folder(root)
    lib.update()
    yield lib
    lib.close()


def first(lib: Library, query: str, mode: str = "hybrid") -> str:
    return Path(lib.search(query, k=5, mode=mode).hits[0].path).name  # type: ignore[arg-type]


@pytest.mark.parametrize("query, expected", [
    ("what changed in v1.7", "release-1.7.md"),
    ("1.7", "release-1.7.md"),
    ("parse_config", "parser.py"),
    ('"upload queue survives"', "release-1.7.md"),
    ("quarterly_numbers", "quarterly_numbers.txt"),
    ("quarterly numbers", "quarterly_numbers.txt"),
    ("calendar grid", "widget.js"),
    ("DatePickerWidget", "widget.js"),
])
def test_exact_tokens_phrases_and_file_names_rank_first(library, query, expected):
    assert first(library, query) == expected


def test_a_quoted_phrase_is_required(library):
    hits = library.search('"selective sync"', mode="hybrid").hits
    words = [h for h in hits if h.matched in ("words", "both")]
    assert [Path(h.path).name for h in words] == ["release-1.8.md"]


def test_meaning_beats_a_weak_partial_word_match(library):
    # "fast" appears in two near-misses; nothing says "automobile": the car text must still win
    assert first(library, "fast automobile") == "cars.txt"
    hit = library.search("fast automobile").hits[0]
    assert hit.matched == "meaning"
