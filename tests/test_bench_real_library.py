"""The real-library benchmark's own parts (benchmarks/bench_real_library.py): junk classes, reading an
index of either schema, the projection of a stopped run, the table, the library from .deb files and
the side-by-side package folder. No network, no model."""

from __future__ import annotations

import importlib.util
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("bench_real_library", REPO / "benchmarks" / "bench_real_library.py")
assert _spec is not None and _spec.loader is not None
bench = importlib.util.module_from_spec(_spec)
sys.modules["bench_real_library"] = bench  # dataclasses look their module up by name
_spec.loader.exec_module(bench)


@pytest.mark.parametrize(("path", "expected"), [
    ("/lib/doc/python3.11/html/searchindex.js", "searchindex.js"),
    ("/lib/doc/python3.11/html/_static/doctools.js", "_static/"),
    ("/lib/doc/python3.11/html/_sources/library/os.rst.txt", "_sources/"),
    ("/lib/doc/python3.11/html/genindex-A.html", "genindex"),
    ("/lib/site/vendor/jquery.min.js", "minified .js/.css"),
    ("/lib/site/app.js.map", "source maps"),
    ("/lib/doc/bash-doc/changelog.Debian.gz", "changelog"),
    ("/lib/doc/python3.11/html/whatsnew/changelog.html", "changelog"),
    ("/lib/doc/foo/NEWS.gz", "changelog"),
    ("/lib/doc/python3.11/html/library/os.html", None),
    ("/lib/doc/bash/bashref.pdf", None),
    ("/lib/notes/news-from-home.txt", None),
    ("/lib/src/CHANGES.rst", "changelog"),
    ("/lib/notes/newspaper.txt", None),
    ("/lib/static/genie.html", None),
])
def test_junk_class_by_path(path, expected):
    assert bench.junk_class(path) == expected


def _index(path: Path, *, with_text_hash: bool) -> Path:
    """A data folder's SQLite file with the columns the benchmark reads, in the old or new shape."""
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE documents (id INTEGER PRIMARY KEY, path TEXT, status TEXT)")
    extra = ", text_hash BLOB" if with_text_hash else ""
    conn.execute(f"CREATE TABLE passages (id INTEGER PRIMARY KEY, document_id INTEGER, vector BLOB{extra})")
    docs = [(1, "/lib/a.txt", "ok"), (2, "/lib/b.txt", "ok"), (3, "/lib/html/searchindex.js", "ok"),
            (4, "/lib/broken.pdf", "failed"), (5, "/lib/x/_static/big.js", "left_out")]
    conn.executemany("INSERT INTO documents VALUES (?, ?, ?)", docs)
    # a.txt: 3 passages, all embedded, two with the same text; b.txt: 2, one embedded (a copy of a's
    # first text); searchindex.js: 4, one embedded.
    passages = [(1, b"v", b"h1"), (1, b"v", b"h1"), (1, b"v", b"h2"), (2, b"v", b"h1"), (2, None, b"h3"),
                (3, b"v", b"h4"), (3, None, b"h5"), (3, None, b"h6"), (3, None, b"h7")]
    if with_text_hash:
        conn.executemany("INSERT INTO passages (document_id, vector, text_hash) VALUES (?, ?, ?)", passages)
    else:
        conn.executemany("INSERT INTO passages (document_id, vector) VALUES (?, ?)", [p[:2] for p in passages])
    conn.commit()
    conn.close()
    return path


def test_read_index_counts_a_new_index_with_shared_vectors(tmp_path):
    counts = bench.read_index(_index(tmp_path / "index.sqlite3", with_text_hash=True))
    assert (counts.documents, counts.files, counts.failed, counts.left_out) == (5, 3, 1, 1)
    assert (counts.passages, counts.embedded) == (9, 5)
    assert counts.vectors == 3  # h1, h2, h4: each text embedded once
    assert (counts.real_files, counts.real_passages) == (2, 5)
    assert counts.junk_stored == {"searchindex.js": 4, "_static/": 0}
    assert counts.junk_embedded == {"searchindex.js": 1, "_static/": 0}


def test_read_index_counts_every_vector_of_an_index_without_text_hash(tmp_path):
    counts = bench.read_index(_index(tmp_path / "index.sqlite3", with_text_hash=False))
    assert (counts.passages, counts.embedded, counts.vectors) == (9, 5, 5)


def test_read_index_of_a_data_folder_not_yet_written(tmp_path):
    assert bench.read_index(tmp_path / "index.sqlite3") == bench.IndexCounts()


def _measured(label: str, *, keyword_s: float, embed_s: float, passages: int, embedded: int,
              stopped: bool = False):
    counts = bench.IndexCounts(documents=10, files=10, passages=passages, embedded=embedded, vectors=embedded,
                               real_files=10, real_passages=passages)
    at_stop = counts if stopped else None
    return bench.Measured(label, bench.Timed(keyword_s), bench.Timed(embed_s, at_stop=at_stop), counts, 12)


def test_a_stopped_run_projects_its_time_from_the_share_embedded():
    run = _measured("new", keyword_s=5, embed_s=10, passages=100, embedded=25, stopped=True)
    assert run.projected
    assert run.embed_seconds == pytest.approx(40)
    assert run.passages_per_s == pytest.approx(2.5)


def test_a_run_stopped_after_it_had_embedded_everything_is_not_projected():
    run = _measured("new", keyword_s=5, embed_s=10, passages=100, embedded=100, stopped=True)
    assert not run.projected
    assert run.embed_seconds == 10


def test_the_table_has_both_versions_and_old_over_new():
    old = _measured("baseline", keyword_s=6, embed_s=300, passages=1000, embedded=1000)
    new = _measured("checkout", keyword_s=3, embed_s=50, passages=500, embedded=100, stopped=True)
    table = bench.markdown_table([old, new]).splitlines()
    assert table[0] == "|  | baseline | checkout | old/new |"
    rows = {line.split(" | ")[0].lstrip("| "): line for line in table[2:]}
    assert rows["passages stored"] == "| passages stored | 1,000 | 500 | 2.00x |"
    assert rows["time until keyword-searchable"] == "| time until keyword-searchable | 6.0 s | 3.0 s | 2.00x |"
    # 50 s for a fifth of 500 passages: 250 s to embed, 253 s in all.
    assert rows["time until fully embedded"] == (
        "| time until fully embedded | 306.0 s | 253.0 s (projected) | 1.21x (projected) |")
    assert rows["files not in the index (skipped by name)"].endswith("| 2 | 2 | 1.00x |")


def test_one_version_alone_has_no_ratio_column():
    table = bench.markdown_table([_measured("checkout", keyword_s=1, embed_s=2, passages=4, embedded=4)])
    assert table.splitlines()[0] == "|  | checkout |"


@pytest.mark.skipif(shutil.which("dpkg-deb") is None, reason="needs dpkg-deb")
def test_the_library_is_the_packages_documents_without_dpkg_metadata(tmp_path):
    tree = tmp_path / "pkg"
    for path, text in {"usr/share/doc/foo/README": "read me", "usr/share/foo/guide.html": "<p>guide</p>",
                       "usr/share/lintian/overrides/foo": "foo: x", "usr/share/doc-base/foo": "Document: foo",
                       "DEBIAN/control": "Package: foo\nVersion: 1\nArchitecture: all\nMaintainer: x <x@y>\n"
                                         "Description: test\n"}.items():
        (tree / path).parent.mkdir(parents=True, exist_ok=True)
        (tree / path).write_text(text)
    (tree / "usr/share/doc/foo/guide").symlink_to("../../foo")  # a link between the two stays good
    deb = tmp_path / "foo_1_all.deb"
    subprocess.run(["dpkg-deb", "--root-owner-group", "--build", str(tree), str(deb)], check=True,
                   capture_output=True)
    work = tmp_path / "work"
    work.mkdir()
    library = bench.build_library([deb], work)
    assert sorted(p.name for p in library.iterdir()) == ["doc", "foo"]
    assert (library / "doc/foo/guide/guide.html").read_text() == "<p>guide</p>"
    assert bench.count_files(library) == 2


def test_the_packages_already_in_the_cache_are_not_downloaded(tmp_path):
    (tmp_path / "foo_1_all.deb").write_bytes(b"")
    (tmp_path / "foo_2_all.deb").write_bytes(b"")
    assert bench.download_packages(["foo"], tmp_path) == [tmp_path / "foo_2_all.deb"]


def test_a_version_runs_from_its_own_package_folder(tmp_path):
    source = tmp_path / "src"
    (source / "engine").mkdir(parents=True)
    (source / "engine" / "__init__.py").write_text("")
    version = bench.Version("fake", bench.package_folder(source, tmp_path / "pkg"))
    assert (tmp_path / "pkg/librarian/engine").resolve() == (source / "engine").resolve()
    assert not (tmp_path / "pkg/librarian/desktop").exists()
    bench.check_imports_from(version)  # not the editable install's engine/: no SystemExit


def test_a_version_whose_code_does_not_import_is_refused(tmp_path):
    version = bench.Version("empty", tmp_path / "pkg")  # nothing there: the editable install answers
    (tmp_path / "pkg").mkdir()
    with pytest.raises(SystemExit, match="librarian.engine"):
        bench.check_imports_from(version)
