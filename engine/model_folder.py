"""A model folder: its ``manifest.json`` read and checked, and the files it lists verified.

    model_dir/
      manifest.json    name, dims, tokenizer, inputs, towers {question, passage}, sha256 {file: digest},
                       and how the folder was built (source, quantization, fidelity, speed, built, onnxruntime)
      model.onnx ...   the towers' ONNX files (and any external data they share)
      tokenizer.json

This module is the one definition of that folder: the engine reads it (`read_manifest`), the model
pipeline (``models/``) writes it (`Manifest.create`, `Manifest.check_release`, `write_manifest`).
Every manifest value the engine uses is checked in `read_manifest`: a damaged or hand-edited
manifest gives one `ModelError` naming the file and the fix, never a traceback or a model that
silently runs wrong.

`verify_files` hashes every file listed under ``sha256`` against the manifest before the model is
used: a truncated download or a flipped bit would otherwise load and give wrong vectors. Hashing the
shipped model costs ~0.1 s, so a verified file is remembered in a small JSON cache, keyed the way
git's index keys a clean file (path, size, mtime_ns, ctime_ns, inode). A write to the file changes
its ctime, which unlike the mtime cannot be set back with ``os.utime``, so a rewritten file is hashed
again. A stat cache cannot see a change that leaves every stat field alone (bit rot under an intact
inode): ``verify="full"`` in `load_model`, or deleting the cache, hashes everything again. The cache
is an optimisation only: missing, corrupt or unwritable, it is ignored.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import stat
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

from .errors import ModelError

log = logging.getLogger(__name__)

MANIFEST_FORMAT = 1
POOLINGS = ("mean", "cls")
TOWERS = ("question", "passage")
REINSTALL = "reinstall Librarian, or point --model-dir / LIBRARIAN_MODEL_DIR at an intact model folder"
CACHE_ENV = "LIBRARIAN_CACHE_DIR"
CACHE_NAME = "model-checksums.json"
CACHE_MAX_ENTRIES = 64
_SHA256 = re.compile(r"[0-9a-f]{64}")
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
# What a folder the pipeline ships must also say about itself (the engine does not need it to run).
RELEASE_KEYS = ("source", "quantization", "fidelity", "speed", "built", "onnxruntime")


@dataclass(frozen=True, slots=True)
class TowerSpec:
    file: str
    max_length: int
    pooling: str  # "mean" | "cls"
    normalize: bool
    output: str = "last_hidden_state"

    def to_json(self) -> dict[str, Any]:
        return {"file": self.file, "max_length": self.max_length, "pooling": self.pooling,
                "normalize": self.normalize, "output": self.output}


@dataclass(frozen=True, slots=True)
class Manifest:
    """The checked contents of ``manifest.json``; file names are relative to the model folder."""

    name: str
    dims: int
    tokenizer: str
    towers: Mapping[str, TowerSpec]  # "question" and "passage"
    sha256: Mapping[str, str]  # every file the model reads -> its hex digest
    inputs: tuple[str, ...] = INPUTS
    build: Mapping[str, Any] = field(default_factory=dict)  # RELEASE_KEYS and anything else recorded

    def to_json(self) -> dict[str, Any]:
        return {"format": MANIFEST_FORMAT, "name": self.name, "dims": self.dims, "tokenizer": self.tokenizer,
                "inputs": list(self.inputs), "towers": {side: self.towers[side].to_json() for side in TOWERS},
                "sha256": dict(self.sha256), **self.build}

    @classmethod
    def create(cls, folder: Path, *, name: str, dims: int, towers: Mapping[str, TowerSpec],
               tokenizer: str = "tokenizer.json", inputs: tuple[str, ...] = INPUTS,
               extra_files: tuple[str, ...] = (), **build: Any) -> Manifest:
        """A manifest for the files now in ``folder``: the towers' files, the tokenizer and ``extra_files``
        (external data the graphs read) are checksummed here."""
        files = sorted({t.file for t in towers.values()} | {tokenizer, *extra_files})
        return cls(name=name, dims=dims, tokenizer=tokenizer, towers=dict(towers),
                   sha256={f: file_sha256(folder / f) for f in files}, inputs=tuple(inputs), build=build)

    def check_release(self, folder: Path) -> None:
        """What the pipeline must prove before it ships ``folder``: the engine reads this manifest back
        unchanged, its provenance is complete, and every listed file has its checksum. `ValueError`
        otherwise."""
        missing = [k for k in RELEASE_KEYS if k not in self.build]
        if missing:
            raise ValueError(f"the manifest of {folder} lacks {', '.join(missing)}")
        if "passages" not in self.build["fidelity"]:
            raise ValueError(f"the manifest of {folder} records no fidelity.passages")
        try:
            again = parse_manifest(json.loads(json.dumps(self.to_json())), manifest_path=folder / "manifest.json",
                                   default_name=self.name)
        except ModelError as exc:
            raise ValueError(str(exc)) from exc
        if again != self:
            raise ValueError(f"the manifest of {folder} does not read back as written")
        for file, digest in self.sha256.items():
            if not (folder / file).is_file() or file_sha256(folder / file) != digest:
                raise ValueError(f"{folder / file} is missing or does not match its checksum")


# -- manifest.json ------------------------------------------------------------------------------
def read_manifest(model_dir: Path) -> Manifest:
    manifest_path = model_dir / "manifest.json"
    if not manifest_path.is_file():
        raise ModelError(f"no model at {model_dir}: manifest.json is missing "
                         "(reinstall Librarian or set LIBRARIAN_MODEL_DIR)")
    try:
        raw = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelError(f"{manifest_path} is unreadable: {exc} ({REINSTALL})") from exc
    return parse_manifest(raw, manifest_path=manifest_path, default_name=model_dir.name)


def parse_manifest(raw: object, *, manifest_path: Path, default_name: str) -> Manifest:
    """Check every value the engine uses; the first bad one is a `ModelError`."""

    def bad(what: str) -> ModelError:
        return ModelError(f"{manifest_path} is damaged: {what} ({REINSTALL})")

    if not isinstance(raw, dict):
        raise bad(f"it holds a JSON {type(raw).__name__}, not an object")
    if raw.get("format", MANIFEST_FORMAT) != MANIFEST_FORMAT:
        raise bad(f"format {raw['format']!r} is not one this version of Librarian reads")
    name = raw.get("name", default_name)
    if not isinstance(name, str):
        raise bad(f"'name' must be text, not {name!r}")
    dims = _positive_int(raw.get("dims"), "'dims'", bad)
    tokenizer = _file_name(raw.get("tokenizer", "tokenizer.json"), "'tokenizer'", bad)
    towers_raw = raw.get("towers")
    if not isinstance(towers_raw, dict):
        raise bad(f"'towers' must be an object with {' and '.join(TOWERS)}, not {towers_raw!r}")
    towers = {side: _tower(towers_raw.get(side), side, bad) for side in TOWERS}
    hashes = raw.get("sha256")
    if not isinstance(hashes, dict) or not hashes:
        raise bad("'sha256' must map each model file to its checksum")
    for file, digest in hashes.items():
        _file_name(file, "a file under 'sha256'", bad)
        if not isinstance(digest, str) or not _SHA256.fullmatch(digest):
            raise bad(f"the checksum of {file} is not a sha256 hex digest: {digest!r}")
    unlisted = sorted(({t.file for t in towers.values()} | {tokenizer}) - hashes.keys())
    if unlisted:
        raise bad(f"'sha256' lists no checksum for {', '.join(unlisted)}")
    inputs = raw.get("inputs", list(INPUTS))
    if not isinstance(inputs, list) or not inputs or not all(isinstance(i, str) and i for i in inputs):
        raise bad(f"'inputs' must list the graphs' input names, not {inputs!r}")
    known = {"format", "name", "dims", "tokenizer", "inputs", "towers", "sha256"}
    return Manifest(name=name, dims=dims, tokenizer=tokenizer, towers=towers, sha256=dict(hashes),
                    inputs=tuple(inputs), build={k: v for k, v in raw.items() if k not in known})


def write_manifest(manifest: Manifest, folder: Path) -> None:
    """``folder/manifest.json``, atomically (a reader never sees half a manifest)."""
    path = folder / "manifest.json"
    tmp = path.with_name(".manifest.json.tmp")
    tmp.write_text(json.dumps(manifest.to_json(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def _tower(raw: object, side: str, bad) -> TowerSpec:
    if not isinstance(raw, dict):
        raise bad(f"the {side} tower is missing (towers.{side} is {raw!r})")
    where = f"towers.{side}"
    pooling = raw.get("pooling")
    if pooling not in POOLINGS:
        raise bad(f"{where}.pooling must be one of {', '.join(POOLINGS)}, not {pooling!r}")
    normalize = raw.get("normalize")
    if not isinstance(normalize, bool):
        raise bad(f"{where}.normalize must be true or false, not {normalize!r}")
    output = raw.get("output")
    if not isinstance(output, str) or not output:
        raise bad(f"{where}.output must name the model's output, not {output!r}")
    return TowerSpec(file=_file_name(raw.get("file"), f"{where}.file", bad),
                     max_length=_positive_int(raw.get("max_length"), f"{where}.max_length", bad),
                     pooling=pooling, normalize=normalize, output=output)


def _positive_int(value: object, what: str, bad) -> int:
    # bool is an int in Python: `true` is not a dimension.
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise bad(f"{what} must be a positive whole number, not {value!r}")
    return value


def _file_name(value: object, what: str, bad) -> str:
    """A file inside the model folder: relative, no '..', so a manifest cannot point elsewhere."""
    if not isinstance(value, str) or not value.strip():
        raise bad(f"{what} must name a file, not {value!r}")
    parts = re.split(r"[/\\]", value)
    if value.startswith(("/", "\\")) or ":" in value or ".." in parts:
        raise bad(f"{what} must name a file inside the model folder, not {value!r}")
    return value


# -- checksums ----------------------------------------------------------------------------------
def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_files(model_dir: Path, manifest: Manifest, *, use_cache: bool = True) -> None:
    """Every file under ``sha256`` exists and has its checksum, or a `ModelError` names it."""
    cache = _read_cache() if use_cache else {}
    updated = False
    for name, expected in manifest.sha256.items():
        path = model_dir / name
        try:
            st = os.stat(path)
        except OSError as exc:
            raise ModelError(f"model file {path} is missing or unreadable: {exc.strerror or exc} "
                             f"({REINSTALL})") from exc
        if not stat.S_ISREG(st.st_mode):
            raise ModelError(f"model file {path} is not a regular file ({REINSTALL})")
        key, fingerprint = os.path.abspath(path), _fingerprint(st)
        entry = cache.get(key)
        if entry is not None and {k: entry.get(k) for k in fingerprint} == fingerprint:
            actual = entry.get("sha256")
        else:
            try:
                actual = file_sha256(path)
            except OSError as exc:
                raise ModelError(f"model file {path} is unreadable: {exc.strerror or exc} ({REINSTALL})") from exc
            cache.pop(key, None)  # re-inserted last: the cache keeps the most recently verified
            cache[key] = {**fingerprint, "sha256": actual}
            updated = True
        if actual != expected:
            raise ModelError(f"model file {path} is damaged: its sha256 does not match manifest.json "
                             f"({REINSTALL})")
    if updated:
        _write_cache(cache)


def _fingerprint(st: os.stat_result) -> dict[str, int]:
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "ctime_ns": st.st_ctime_ns, "ino": st.st_ino}


def checksum_cache_file() -> Path:
    override = os.environ.get(CACHE_ENV)
    folder = Path(override) if override else Path(platformdirs.user_cache_dir("librarian", appauthor=False))
    return folder / CACHE_NAME


def _read_cache() -> dict[str, dict]:
    try:
        raw = json.loads(checksum_cache_file().read_text(encoding="utf-8"))
        files = raw["files"] if raw.get("version") == 1 else {}
    except (OSError, ValueError, AttributeError, KeyError, TypeError):
        return {}
    if not isinstance(files, dict):
        return {}
    return {k: v for k, v in files.items() if isinstance(v, dict)}


def _write_cache(cache: dict[str, dict]) -> None:
    """Atomically (temporary file + rename): a reader never sees half a cache. Failure is harmless."""
    path = checksum_cache_file()
    kept = dict(list(cache.items())[-CACHE_MAX_ENTRIES:])
    temporary: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".checksums-", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump({"version": 1, "files": kept}, fh, indent=1)
        os.replace(temporary, path)
    except OSError as exc:
        log.debug("could not write the model checksum cache %s: %s", path, exc)
        if temporary is not None:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
