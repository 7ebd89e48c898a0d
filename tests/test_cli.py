"""The CLI contract, end to end on real files of every supported format with the real shipped model."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from librarian.engine.cli import COMMANDS, build_parser, main
from librarian.engine.cli.common import demo_library_path


def cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def demo_index(tmp_path_factory):
    """The demo library indexed once, through the CLI, with networking disabled at the socket level."""
    data = tmp_path_factory.mktemp("demo-data")
    mp = pytest.MonkeyPatch()

    def no_network(*args, **kwargs):
        raise OSError("network disabled by the test")

    mp.setattr(socket, "socket", no_network)
    mp.setattr(socket, "create_connection", no_network)
    try:
        assert main(["--data-dir", str(data), "index", "-q", str(demo_library_path())]) == 0
    finally:
        mp.undo()
    return data


def test_every_command_has_help(capsys):
    for name in [*COMMANDS, "gui"]:
        with pytest.raises(SystemExit) as exc:
            build_parser().parse_args([name, "--help"])
        assert exc.value.code == 0
        assert "usage: librarian" in capsys.readouterr().out


def test_every_demo_format_is_indexed_without_failures(demo_index, capsys):
    code, out, _ = cli(capsys, "--data-dir", str(demo_index), "status", "--json")
    status = json.loads(out)
    assert code == 0
    assert status["failed"] == []
    assert status["documents"] == len(list(demo_library_path().iterdir()))
    assert status["embedded"] == status["passages"] > status["documents"]
    assert set(status) >= {"roots", "documents", "passages", "embedded", "failed"}


def test_fast_automobile_finds_the_car_detector_by_meaning(demo_index, capsys):
    code, out, _ = cli(capsys, "--data-dir", str(demo_index), "search", "fast automobile", "--mode", "dense", "--json")
    results = json.loads(out)
    assert code == 0
    assert Path(results[0]["path"]).name == "building-a-high-speed-car-detector.pdf"
    assert set(results[0]) >= {"path", "score", "snippet", "passage", "locator", "matched"}
    assert results[0]["locator"].get("page") in (1, 2, 3)


@pytest.mark.parametrize("query, expected", [
    ("make bread rise", "sourdough-bread-recipe.txt"),
    ("slow SQL", "optimizing-database-queries-for-speed.docx"),
    ("mountain hut", "alps-trip-notes-2024.md"),
    ("worm bin for kitchen scraps", "home-composting-guide.html"),
    ("birthday party", "lena-birthday-party.eml"),
    ("mould in the bathroom", "letter-to-landlord-repairs.rtf"),
    ("barcode scanner rollout", "q3-scanner-rollout-update.pptx"),
    ("clock that runs backwards", "the-clockmakers-apprentice.epub"),
    ("rename photos by EXIF date", "rename_photos.py"),
    ("budget vs actual", "household-budget-meeting-2024-09.odt"),
    ("virtualize long lists", "react-performance-optimization.md"),
])
def test_hybrid_search_finds_each_demo_document(demo_index, capsys, query, expected):
    code, out, _ = cli(capsys, "--data-dir", str(demo_index), "search", query, "--json", "-k", "3")
    assert code == 0
    assert Path(json.loads(out)[0]["path"]).name == expected


def test_check_is_ok_and_stdin_gives_one_json_line_per_query(demo_index, capsys, monkeypatch):
    code, out, _ = cli(capsys, "--data-dir", str(demo_index), "check", "--json")
    report = json.loads(out)
    assert code == 0 and report["ok"] is True and report["missing"] == report["orphans"] == report["duplicates"] == 0
    import io

    monkeypatch.setattr(sys, "stdin", io.StringIO("sourdough\n\nfast automobile\n"))
    code, out, _ = cli(capsys, "--data-dir", str(demo_index), "search", "--stdin", "-k", "2")
    lines = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and [line["query"] for line in lines] == ["sourdough", "fast automobile"]
    assert all(line["took_ms"] > 0 and len(line["results"]) <= 2 for line in lines)
    assert set(lines[0]["results"][0]) >= {"path", "score", "snippet", "passage", "locator", "matched"}


def test_expected_failures_print_one_line_and_exit_nonzero(tmp_path, capsys):
    code, out, err = cli(capsys, "--data-dir", str(tmp_path / "d"), "forget", str(tmp_path / "nowhere"))
    assert code == 1 and err.count("\n") == 1 and err.startswith("librarian: error:") and "Traceback" not in err
    code, _, err = cli(capsys, "--data-dir", str(tmp_path / "d"), "index", str(tmp_path / "missing"))
    assert code == 1 and "no such file or folder" in err
    code, _, err = cli(capsys, "--data-dir", str(tmp_path / "d"), "--model-dir", str(tmp_path), "status")
    assert code == 1 and "manifest.json is missing" in err


def test_forget_through_the_cli(tmp_path, capsys):
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "a.txt").write_text("Notes on harpsichord tuning.")
    data = str(tmp_path / "d")
    assert cli(capsys, "--data-dir", data, "index", "-q", str(folder))[0] == 0
    assert json.loads(cli(capsys, "--data-dir", data, "status", "--json")[1])["documents"] == 1
    assert cli(capsys, "--data-dir", data, "forget", str(folder))[0] == 0
    status = json.loads(cli(capsys, "--data-dir", data, "status", "--json")[1])
    assert status["documents"] == 0 and status["roots"] == []


def test_installed_entry_point_runs_with_the_data_dir_from_the_environment(tmp_path):
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "a.md").write_text("# Kites\n\nHow to fly a stunt kite on the beach.")
    env = {**os.environ, "LIBRARIAN_DATA_DIR": str(tmp_path / "env-data")}
    exe = Path(sys.executable).with_name("librarian")
    done = subprocess.run([str(exe), "index", "-q", str(folder)], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    found = subprocess.run([str(exe), "search", "kite", "--json"], env=env, capture_output=True, text=True, timeout=120)
    assert found.returncode == 0 and json.loads(found.stdout)[0]["path"].endswith("a.md")
    assert (tmp_path / "env-data" / "index.sqlite3").exists()
    assert oct((tmp_path / "env-data").stat().st_mode & 0o777) == "0o700"


def test_the_app_starts_on_the_demo_library_when_no_folder_was_added(tmp_path, monkeypatch):
    import librarian.desktop.app as app

    seen = []
    monkeypatch.setattr(app, "main", lambda argv: seen.append(argv) or 0)
    data = str(tmp_path / "d")
    assert main(["--data-dir", data, "gui", "--demo"]) == 0
    from librarian.engine.library import Library

    with Library.open(data) as lib:
        assert lib.roots() == [str(demo_library_path().resolve())]
    assert seen and seen[-1] == ["--data-dir", data]
