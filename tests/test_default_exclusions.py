"""Files no person searches for are left out by default, visibly: by name (gitignore patterns applied
as a root ignore file, `engine.exclusions.DEFAULT_EXCLUSIONS`) and by content (minified code, search
indexes, encoded blobs: read, kept with the status "left_out", a "left out: generated (...)" reason and no
passages). A
user brings a class back with ``!pattern`` in the root's ``.librarianignore``; the preview lists
what the defaults leave out.

To add a probe: write the file with `write`, then assert on `crawled(root)` (by name) or on
`extract(path).left_out` (by content).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import fake_model
from librarian.desktop.ignore_editor import preview, preview_text
from librarian.engine.crawl import crawl, is_excluded
from librarian.engine.exclusions import DEFAULT_EXCLUSIONS, default_lines, generated_reason
from librarian.engine.extract import extract
from librarian.engine.library import Library

PROSE = ("Sourdough bread rises slowly because wild yeast in the starter produces gas overnight, "
         "and a long cold proof gives the crumb its open structure and a deeper, tangier flavour.\n\n")
MINIFIED_JS = "!function(e,t){" + ";".join(f"var a{i}=e.x{i}||t[{i}]" for i in range(3000)) + "}(window,document);\n"
SEARCH_INDEX = 'Search.setIndex({"docnames":["index","usage"],"terms":{"bread":[0,1]}})\n' + "x" * 5000


def write(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def crawled(root: Path) -> set[str]:
    return {found.path.relative_to(root).as_posix() for found in crawl(root)}


@pytest.fixture
def sphinx(tmp_path: Path) -> Path:
    """A Sphinx-built HTML tree as found in /usr/share/doc, with one real page that must stay."""
    root = tmp_path / "html"
    page = "<html><head><title>Usage</title></head><body><h1>Usage</h1><p>{}</p></body></html>"
    write(root, "usage.html", page.format(PROSE * 3))
    write(root, "genindex.html", page.format("Index A B C"))
    write(root, "genindex-B.html", page.format("Index B"))
    write(root, "py-modindex.html", page.format("Module index"))
    write(root, "search.html", '<html><body><p>Please activate JavaScript.</p>'
                               '<script src="searchindex.js" defer></script></body></html>')
    write(root, "searchindex.js", SEARCH_INDEX)
    write(root, "_static/doctools.js", "function highlight(word) {\n  return word;\n}\n")
    write(root, "_static/jquery.min.js", MINIFIED_JS)
    write(root, "_sources/usage.rst.txt", "Usage\n=====\n\n" + PROSE)
    write(root, "assets/app.min.css", "body{margin:0}")
    write(root, "assets/app.bundle.js", "console.log(1)")
    write(root, "node_modules/left-pad/README.md", "# left-pad\n\nPads strings on the left.\n")
    write(root, "package-lock.json", '{"lockfileVersion": 3}')
    write(root, "__pycache__/notes.txt", "cached")
    return root


# ------------------------------------------------------------------------------------------ by name


def test_defaults_leave_out_generated_and_vendored_files_by_name(sphinx):
    assert crawled(sphinx) == {"usage.html", "search.html"}


@pytest.mark.parametrize("rel", ["searchindex.js", "_static/doctools.js", "_sources/usage.rst.txt",
                                 "genindex-B.html", "py-modindex.html", "assets/app.min.css",
                                 "assets/app.bundle.js", "node_modules/left-pad/README.md",
                                 "package-lock.json", "__pycache__/notes.txt"])
def test_the_watcher_agrees_with_the_crawl(sphinx, rel):
    assert is_excluded(sphinx / rel, sphinx)
    assert not is_excluded(sphinx / rel, sphinx, default_exclusions=False)


def test_a_person_s_build_folder_and_search_notes_stay(tmp_path):
    write(tmp_path, "build/kitchen-extension.md", "# Kitchen\n\n" + PROSE)
    write(tmp_path, "notes/search.md", "# Search\n\nWhere the keys were.\n")
    assert crawled(tmp_path) == {"build/kitchen-extension.md", "notes/search.md"}


def test_a_bang_pattern_in_the_root_ignore_file_brings_a_class_back(sphinx):
    write(sphinx, ".librarianignore", "!_static/\n!searchindex.js\n")
    found = crawled(sphinx)
    assert {"_static/doctools.js", "_static/jquery.min.js", "searchindex.js"} <= found
    assert "_sources/usage.rst.txt" not in found  # the other classes stay out
    assert not is_excluded(sphinx / "_static" / "doctools.js", sphinx)


def test_every_default_class_has_patterns_and_a_reason():
    for exclusion in DEFAULT_EXCLUSIONS:
        assert exclusion.patterns and exclusion.reason and exclusion.name
    lines = default_lines()
    assert "node_modules/" in lines and "searchindex.js" in lines


# --------------------------------------------------------------------------------------- by content


@pytest.mark.parametrize(("rel", "text", "reason"), [
    ("vendor/jquery.js", MINIFIED_JS, "left out: generated (minified JavaScript)"),
    ("theme/site.css", "body{" + "margin:0;padding:0;" * 400 + "}", "left out: generated (minified CSS)"),
    ("docs/searchindex-copy.js", SEARCH_INDEX, "left out: generated (search index)"),
    ("blob.txt", "\n".join(["QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAx"] * 200),
     "left out: generated (encoded data, almost no words)"),
])
def test_generated_content_is_read_but_kept_without_passages(tmp_path, rel, text, reason):
    extracted = extract(write(tmp_path, rel, text))
    assert extracted.segments == [] and extracted.left_out == reason


def test_a_big_json_blob_is_left_out(tmp_path):
    data = "[\n" + ",\n".join(f'  {{"id": {i}, "name": "item number {i}"}}' for i in range(40_000)) + "\n]\n"
    assert extract(write(tmp_path, "export/data.json", data)).left_out == "left out: generated (JSON data over 1 MB)"


def test_sphinx_search_page_is_left_out_but_a_page_called_search_stays(sphinx, tmp_path):
    assert extract(sphinx / "search.html").left_out == "left out: generated (search page)"
    own = write(tmp_path, "search.html", f"<html><body><h1>Search</h1><p>{PROSE}</p></body></html>")
    assert extract(own).segments


@pytest.mark.parametrize(("rel", "text"), [
    ("essay.txt", PROSE * 40),
    ("one-line-paragraphs.txt", (PROSE.strip() * 12 + "\n\n") * 5),  # prose may keep a paragraph on one line
    ("tool.py", "def rise(dough):\n    \"\"\"Let it rise.\"\"\"\n    return dough * 2\n\n" * 200),
    ("numbers.csv", "\n".join(f"{i},{i * 3.25},{i % 7}" for i in range(2000))),
    # Hand-written code with few words (a table of URLs) is not judged by its share of words.
    ("constants.py", "\n".join(f'RT_{i} = "http://schemas.openxmlformats.org/officeDocument/2006/rel/{i}"'
                               for i in range(200))),
])
def test_real_text_and_code_stay(tmp_path, rel, text):
    path = write(tmp_path, rel, text)
    assert generated_reason(text, path, kind="code" if rel.endswith(".py") else "text") is None
    assert extract(path).segments


# ------------------------------------------------------------------------------- library and preview


def test_indexing_lists_generated_files_apart_from_failures_and_problems(sphinx, data_dir):
    write(sphinx, "vendor/jquery.js", MINIFIED_JS)
    with Library.open(data_dir, model=fake_model(), extract=extract) as lib:
        lib.add_folder(sphinx)
        lib.update()
        status = lib.status()
        assert not status.failed and not status.warnings
        assert {(Path(w.path).name, w.reason) for w in status.left_out} == {
            ("search.html", "left out: generated (search page)"),
            ("jquery.js", "left out: generated (minified JavaScript)")}
        assert status.to_json()["left_out"][0]["reason"].startswith("left out: generated")
        assert status.documents == 3
        assert {Path(hit.path).name for hit in lib.search("sourdough", mode="keyword").hits} == {"usage.html"}


def test_preview_lists_what_the_defaults_leave_out_and_a_bang_brings_it_back(sphinx):
    found = Library.preview_exclusions(sphinx, "", sample=50)
    assert found.files == 2 and found.excluded == 0
    assert found.by_default == 12
    assert ("searchindex.js", "search indexes") in found.default_sample
    assert ("_static/jquery.min.js", "Sphinx build copies") in found.default_sample
    back = Library.preview_exclusions(sphinx, "!_static/\nusage.html\n", sample=50)
    assert (back.files, back.excluded, back.by_default) == (3, 1, 10)
    assert "_static/jquery.min.js" in back.sample  # the folder is back whole, as in the crawl
    # Inside a folder the defaults leave out, a file pattern cannot re-include (as in git).
    inside = Library.preview_exclusions(sphinx, "!node_modules/left-pad/README.md\n", sample=50)
    assert inside.by_default == 12


def test_the_editor_preview_shows_the_defaults_and_how_to_bring_one_back(sphinx):
    text = preview_text(preview(str(sphinx), ""))
    assert "Left out by default" in text and "!_static/" in text
    assert "searchindex.js  (search indexes)" in text


def test_cli_status_lists_generated_files_under_their_own_heading(tmp_path, capsys):
    from librarian.engine.cli import main

    write(tmp_path / "docs", "notes.txt", PROSE)
    write(tmp_path / "docs", "vendor/jquery.js", MINIFIED_JS)
    data = str(tmp_path / "data")
    assert main(["--data-dir", data, "index", "-q", str(tmp_path / "docs")]) == 0
    capsys.readouterr()
    assert main(["--data-dir", data, "status"]) == 0
    out = capsys.readouterr().out
    assert "left out as generated: 1" in out and "jquery.js: left out: generated (minified JavaScript)" in out
    assert "failed" not in out and "indexed in part" not in out
