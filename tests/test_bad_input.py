"""A folder full of hostile files: the run completes, `status` names each failure with its reason,
and every good file is searchable. Real worker processes, real CLI, real model."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import fake_model
from fixtures.make_files import make_docx, make_pdf, make_zip_bomb, truncate_copy
from fixtures.misbehaving import cli_env, cli_with_misbehaving
from librarian.engine.extract import extract as extract_in_process
from librarian.engine.library import Library


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("hostile")
    (root / "good.md").write_text("# Lighthouses\n\nThe lighthouse keeper trimmed the lamp wick every evening.\n")
    (root / "latin1.txt").write_bytes("Crème brûlée needs a blowtorch and patience.".encode("cp1252"))
    make_pdf(root / "good.pdf", ["Page one is about glaciers.", "Page two is about icebergs calving."])
    (root / "corrupt.pdf").write_bytes(b"%PDF-1.7\n" + os.urandom(4000))
    make_docx(root / "full.docx")
    truncate_copy(root / "full.docx", root / "truncated.docx", 0.5)
    make_zip_bomb(root / "bomb.docx", "docx", inflated_bytes=1 << 30)
    make_zip_bomb(root / "bomb.epub", "epub", inflated_bytes=1 << 30)
    with open(root / "huge.txt", "wb") as fh:  # 2 GB, sparse: costs no disk
        fh.truncate(2 * 1024**3)
    (root / "binary.txt").write_bytes(bytes(range(256)) * 64)
    (root / "undecodable.txt").write_bytes(b"\x81\x8d\x8f\x90\x9d" * 50 + b"\xff\xfe\xfd" * 50)
    os.mkdir(root / "loop")
    os.symlink(root / "loop", root / "loop" / "again")
    name = os.fsdecode(b"caf\xe9-notes.txt")  # not valid UTF-8
    (root / name).write_text("Notes about espresso crema and grinder burrs.")
    (root / "stuck.hang").write_text("stands for a PDF that sends the parser into an endless loop")
    return root


def test_hostile_folder_through_the_cli(hostile, tmp_path):
    env = {**os.environ, "LIBRARIAN_DATA_DIR": str(tmp_path / "data"), "LIBRARIAN_EXTRACT_TIMEOUT": "4"}
    exe = str(Path(sys.executable).with_name("librarian"))
    done = subprocess.run(cli_with_misbehaving("index", "-q", str(hostile)), env=cli_env(env), capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    status = json.loads(subprocess.run([exe, "status", "--json"], env=env, capture_output=True, text=True,
                                       timeout=120).stdout)
    reasons = {Path(f["path"]).name: f["reason"] for f in status["failed"]}
    assert "not a valid pdf" in reasons["corrupt.pdf"].lower() or "corrupt" in reasons["corrupt.pdf"].lower()
    assert "truncated" in reasons["truncated.docx"].lower() or "corrupt" in reasons["truncated.docx"].lower()
    assert "zip bomb" in reasons["bomb.docx"] and "zip bomb" in reasons["bomb.epub"]
    assert "too large" in reasons["huge.txt"]
    assert "binary" in reasons["binary.txt"]
    assert "timed out" in reasons["stuck.hang"]
    assert set(reasons) <= {"corrupt.pdf", "truncated.docx", "bomb.docx", "bomb.epub", "huge.txt", "binary.txt",
                            "stuck.hang", "undecodable.txt"}
    expected = [("lighthouse keeper", "good.md"), ("creme brulee blowtorch", "latin1.txt"),
                ("icebergs calving", "good.pdf"), ("espresso crema", "caf\ufffd-notes.txt")]
    out = subprocess.run([exe, "search", "--stdin", "-k", "3"], input="\n".join(q for q, _ in expected), env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    for line, (query, name) in zip(out.stdout.splitlines(), expected, strict=True):
        assert Path(json.loads(line)["results"][0]["path"]).name == name, query
    check = subprocess.run([exe, "check", "--json"], env=env, capture_output=True, text=True, timeout=120)
    assert check.returncode == 0 and json.loads(check.stdout)["ok"]


def test_a_file_deleted_while_being_indexed_is_skipped(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    for name in ("a", "b", "c"):
        (docs / f"{name}.txt").write_text(f"Document {name} about rowing boats.")

    def extract_after_deleting(path: Path):
        if path.name == "b.txt":
            path.unlink()  # gone between the crawl and the extraction
        return extract_in_process(path)

    with Library.open(tmp_path / "data", model=fake_model(), extract=extract_after_deleting) as lib:
        lib.add_folder(docs)
        report = lib.update()
        assert report.failed == 0
        status = lib.status()
        assert status.documents == 2 and not status.failed
        assert {Path(h.path).name for h in lib.search("rowing", mode="keyword").hits} == {"a.txt", "c.txt"}


def test_unreadable_folder_is_reported_and_the_rest_indexed(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root reads every folder")
    docs = tmp_path / "docs"
    (docs / "secret").mkdir(parents=True)
    (docs / "secret" / "x.txt").write_text("hidden")
    (docs / "open.txt").write_text("An open note about kayaks.")
    os.chmod(docs / "secret", 0)
    try:
        with Library.open(tmp_path / "data", model=fake_model(), extract=extract_in_process) as lib:
            lib.add_folder(docs)
            lib.update()
            reasons = {Path(f.path).name: f.reason for f in lib.status().failed}
            assert "permission denied" in reasons["secret"]
            assert lib.search("kayaks", mode="keyword").hits
    finally:
        os.chmod(docs / "secret", 0o755)
