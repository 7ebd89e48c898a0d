"""A corrupt or tampered model folder is refused with a clear ModelError (never a traceback, never a
model that silently runs wrong), and the checksum cache that keeps start-up fast cannot be fooled.

Helpers at the top make a new probe a few lines:

- `linked_model` is a model folder whose files are symlinks to the shipped ones and whose
  manifest is a copy (for manifest tampering; the shipped files are never written);
- `copied_model` is a real copy (for damaging the files themselves);
- `edit_manifest(folder, change)` rewrites manifest.json with ``change(manifest)``;
- `flip_byte(path)` damages one byte and puts size and mtime back as they were;
- `refused(folder)` loads the folder, expects a ModelError and returns its message.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from librarian.engine import model_folder
from librarian.engine.cli import main
from librarian.engine.encoders import default_model_dir, load_model
from librarian.engine.errors import ModelError
from librarian.engine.model_folder import checksum_cache_file

SHIPPED = default_model_dir()
MODEL_FILES = ("model.onnx", "tokenizer.json")


@pytest.fixture
def linked_model(tmp_path: Path) -> Path:
    folder = tmp_path / "linked-model"
    folder.mkdir()
    for name in MODEL_FILES:
        (folder / name).symlink_to(SHIPPED / name)
    shutil.copyfile(SHIPPED / "manifest.json", folder / "manifest.json")
    return folder


@pytest.fixture
def copied_model(tmp_path: Path) -> Path:
    folder = tmp_path / "copied-model"
    folder.mkdir()
    for name in (*MODEL_FILES, "manifest.json"):
        shutil.copy2(SHIPPED / name, folder / name)
    return folder


def edit_manifest(folder: Path, change: Callable[[dict], object]) -> None:
    """``change`` edits the manifest in place, or returns a whole new JSON value to write instead."""
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    replaced = change(manifest)
    (folder / "manifest.json").write_text(json.dumps(manifest if replaced is None else replaced), encoding="utf-8")


def flip_byte(path: Path, offset: int | None = None) -> None:
    """Invert one byte (the middle one by default); size and atime/mtime are restored exactly."""
    before = path.stat()
    offset = before.st_size // 2 if offset is None else offset
    with open(path, "r+b") as fh:
        fh.seek(offset)
        byte = fh.read(1)
        fh.seek(offset)
        fh.write(bytes([byte[0] ^ 0xFF]))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = path.stat()
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)


def refused(folder: Path, **kwargs) -> str:
    with pytest.raises(ModelError) as caught:
        load_model(folder, **kwargs)
    return str(caught.value)


def cached_files() -> dict:
    return json.loads(checksum_cache_file().read_text(encoding="utf-8"))["files"]


# -- checksums ----------------------------------------------------------------------------------
def test_an_intact_copy_loads_and_its_verification_is_remembered(copied_model):
    model = load_model(copied_model)
    manifest = json.loads((copied_model / "manifest.json").read_text(encoding="utf-8"))
    assert model.model_id == manifest["sha256"]["model.onnx"]
    assert set(cached_files()) == {os.path.abspath(copied_model / name) for name in MODEL_FILES}


@pytest.mark.parametrize("name", MODEL_FILES)
def test_one_flipped_byte_is_refused(copied_model, name):
    flip_byte(copied_model / name)
    message = refused(copied_model)
    assert str(copied_model / name) in message and "damaged" in message and "reinstall" in message


def test_a_flipped_byte_after_a_cached_verification_is_still_caught(copied_model):
    """Same size, same mtime: only the ctime (which os.utime cannot set) betrays the write."""
    load_model(copied_model)
    flip_byte(copied_model / "model.onnx")
    assert "model.onnx is damaged" in refused(copied_model)


def test_a_cached_verification_is_not_hashed_again(copied_model, monkeypatch):
    load_model(copied_model)
    hashed: list[Path] = []
    monkeypatch.setattr(model_folder, "file_sha256", lambda path: hashed.append(path) or "0" * 64)
    load_model(copied_model)
    assert hashed == []
    # "full" ignores the cache (and here the stand-in hash makes every file look damaged).
    assert "damaged" in refused(copied_model, verify="full")
    assert hashed


@pytest.mark.parametrize("cache_content", [None, "not json", "[]", '{"version": 1, "files": 3}',
                                           '{"version": 1, "files": {"x": 1}}', '{"version": 9}'])
def test_a_missing_or_garbled_cache_is_ignored(copied_model, cache_content):
    if cache_content is not None:
        checksum_cache_file().parent.mkdir(parents=True, exist_ok=True)
        checksum_cache_file().write_text(cache_content, encoding="utf-8")
    assert load_model(copied_model).dims == 384
    flip_byte(copied_model / "tokenizer.json")
    assert "tokenizer.json is damaged" in refused(copied_model)


def test_a_cache_that_cannot_be_written_does_not_stop_loading(copied_model, tmp_path, monkeypatch):
    blocker = tmp_path / "a-file-not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("LIBRARIAN_CACHE_DIR", str(blocker / "cache"))  # mkdir fails, even as root
    assert load_model(copied_model).dims == 384
    flip_byte(copied_model / "model.onnx")
    assert "damaged" in refused(copied_model)


def test_a_cache_entry_with_the_wrong_digest_does_not_hide_damage(copied_model):
    """The cache records what was measured; it is compared with the manifest every time."""
    load_model(copied_model)
    cache = json.loads(checksum_cache_file().read_text(encoding="utf-8"))
    for entry in cache["files"].values():
        entry["sha256"] = "f" * 64
    checksum_cache_file().write_text(json.dumps(cache), encoding="utf-8")
    assert "damaged" in refused(copied_model)


def test_a_missing_model_file_is_named(linked_model):
    (linked_model / "tokenizer.json").unlink()
    message = refused(linked_model)
    assert str(linked_model / "tokenizer.json") in message and "missing" in message


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_a_fifo_in_place_of_a_model_file_is_refused_without_hanging(linked_model):
    (linked_model / "model.onnx").unlink()
    os.mkfifo(linked_model / "model.onnx")
    assert "not a regular file" in refused(linked_model)


# -- tampered manifest values -------------------------------------------------------------------
def _set(path: str | tuple[str, ...], value):
    """A change that sets manifest[a][b]... = value (path "a.b", or a tuple of keys when a key holds
    a dot); a value of DELETE removes the key."""
    def change(manifest: dict) -> None:
        *parents, last = path.split(".") if isinstance(path, str) else path
        node = manifest
        for key in parents:
            node = node[key]
        if value is DELETE:
            del node[last]
        else:
            node[last] = value
    return change


DELETE = object()

TAMPERED = {
    "dims-text": (_set("dims", "abc"), "'dims'"),
    "dims-numeric-text": (_set("dims", "384"), "'dims'"),
    "dims-bool": (_set("dims", True), "'dims'"),
    "dims-zero": (_set("dims", 0), "'dims'"),
    "dims-missing": (_set("dims", DELETE), "'dims'"),
    "pooling-unknown": (_set("towers.passage.pooling", "max"), "pooling"),
    "max-length-negative": (_set("towers.question.max_length", -1), "max_length"),
    "max-length-float": (_set("towers.question.max_length", 6.5), "max_length"),
    "normalize-text": (_set("towers.passage.normalize", "yes"), "normalize"),
    "output-missing": (_set("towers.passage.output", DELETE), "output"),
    "tower-missing": (_set("towers.passage", DELETE), "passage tower is missing"),
    "tower-not-object": (_set("towers.question", "model.onnx"), "question tower is missing"),
    "towers-missing": (_set("towers", DELETE), "'towers'"),
    "towers-list": (_set("towers", []), "'towers'"),
    "file-outside": (_set("towers.passage.file", "../../etc/passwd"), "inside the model folder"),
    "file-absolute": (_set("towers.passage.file", "/etc/passwd"), "inside the model folder"),
    "file-number": (_set("towers.passage.file", 7), "must name a file"),
    "tokenizer-outside": (_set("tokenizer", "../tokenizer.json"), "inside the model folder"),
    "sha256-missing": (_set("sha256", DELETE), "'sha256'"),
    "sha256-not-hex": (_set(("sha256", "model.onnx"), "abc"), "not a sha256"),
    "tower-file-unlisted": (_set("sha256", {"tokenizer.json": "0" * 64}), "no checksum for model.onnx"),
    "format-newer": (_set("format", 2), "format 2"),
    "name-not-text": (_set("name", ["x"]), "'name'"),
    "json-list": (lambda manifest: [manifest], "JSON list"),
    "json-string": (lambda manifest: "model", "JSON str"),
}


@pytest.mark.parametrize("change, says", TAMPERED.values(), ids=TAMPERED.keys())
def test_a_tampered_manifest_is_refused_clearly(linked_model, change, says):
    edit_manifest(linked_model, change)
    message = refused(linked_model)
    assert "manifest.json is damaged" in message and says in message and "reinstall" in message


@pytest.mark.parametrize("text", ["null", "3", "", "{", "\u00ff\u00fe"])
def test_a_manifest_that_is_no_object_is_refused(linked_model, text):
    (linked_model / "manifest.json").write_text(text, encoding="utf-8")
    message = refused(linked_model)
    assert "manifest.json" in message and "reinstall" in message


def test_a_changed_checksum_in_the_manifest_is_refused(linked_model):
    edit_manifest(linked_model, _set(("sha256", "model.onnx"), "0" * 64))
    assert "model.onnx is damaged" in refused(linked_model)


def test_dims_that_disagree_with_the_model_are_refused_at_first_use(copied_model):
    edit_manifest(copied_model, _set("dims", 128))
    model = load_model(copied_model)  # the towers load on first use, as before
    with pytest.raises(ModelError, match="384-dimensional vectors but its manifest.json says dims 128"):
        model.question.embed_query("hello")


# -- the edges turn it into a message -----------------------------------------------------------
@pytest.mark.parametrize("damage", [
    lambda folder: flip_byte(folder / "model.onnx"),
    lambda folder: edit_manifest(folder, _set("dims", "abc")),
    lambda folder: (folder / "manifest.json").write_text("[1, 2]", encoding="utf-8"),
], ids=["flipped-byte", "dims-text", "json-list"])
def test_the_cli_prints_one_line_for_a_bad_model(copied_model, tmp_path, capsys, damage):
    damage(copied_model)
    code = main(["--data-dir", str(tmp_path / "data"), "--model-dir", str(copied_model), "search", "x"])
    out, err = capsys.readouterr()
    assert code == 1 and out == ""
    assert err.startswith("librarian: error:") and err.count("\n") == 1 and "Traceback" not in err
    assert "reinstall" in err


def test_the_desktop_opener_reports_a_damaged_model(copied_model, tmp_path):
    from librarian.desktop.opener import open_library

    flip_byte(copied_model / "model.onnx")
    opened = open_library(str(tmp_path / "data"), str(copied_model))
    assert opened.library is None and "model.onnx is damaged" in opened.error
