"""File paths as the OS has them, as SQLite stores them, and as people read them.

On Linux a file name is bytes, and not every name is valid UTF-8: Python hands such a name over as a
str with surrogate escapes (PEP 383, ``os.fsdecode``), which works as a path but cannot be written to
SQLite, JSON or Qt. Three forms, one function each:

- the **OS path** (`str`, possibly with surrogate escapes): what the engine takes and gives back
  (`Hit.path`, `Library.roots()`, `Failure.path`, ...) and what opens the file;
- the **key** (`path_key`): the text the index stores in ``documents.path`` / ``roots.path``. Valid
  UTF-8, one key per path (two names never share a key) and back again with `key_path`;
- the **display form** (`display_path`): for showing only; each undecodable byte becomes U+FFFD, so
  ``caf\\xe9.txt`` and ``caf\\xe8.txt`` look alike on screen while staying two documents underneath.

The key maps each undecodable byte b (0x80-0xFF) to the private-use character U+EF00+b, the mapping
MirBSD's OPTU-8 (mksh) uses for raw octets. A name that literally holds a character of that range
has the character's UTF-8 bytes escaped the same way, so the map stays one-to-one. Valid UTF-8
names without such characters (all the usual ones) are their own key: indexes written before keys
existed need no migration; the rare row stored under the old lossy form (U+FFFD) no longer matches a
file on disk and is picked up again under its new key (a move, by content hash) on the next update.

The map works character by character and leaves "/" alone, so it keeps prefixes: the key of
``root + "/" + name`` is ``path_key(root) + "/" + path_key(name)``, and folder filters and
``LIKE root || '/%'`` work on keys unchanged.
"""

from __future__ import annotations

import base64
import os
import re
from pathlib import PurePath

_RAW_BYTE_BASE = 0xEF00  # OPTU-8: raw byte b (0x80-0xFF) <-> U+EF80..U+EFFF
_NEEDS_ESCAPE = re.compile("[\ud800-\udfff\uef80-\uefff]")  # surrogate escapes, and literal U+EF80..U+EFFF
_ESCAPED_BYTES = re.compile("[\uef80-\uefff]+")


def _os_bytes(text: str) -> bytes:
    """The bytes the OS uses for ``text`` (surrogate escapes become the raw bytes they stand for)."""
    try:
        return os.fsencode(text)
    except UnicodeEncodeError:  # a lone surrogate no file name can hold (hand-made str): keep it distinct
        return text.encode("utf-8", "surrogatepass")


def _escape(match: re.Match[str]) -> str:
    return "".join(chr(_RAW_BYTE_BASE + byte) for byte in _os_bytes(match.group()))


def path_key(path: PurePath | str) -> str:
    """The index's text key for an OS path: valid UTF-8, one-to-one, prefix-preserving."""
    text = os.fspath(path)
    return _NEEDS_ESCAPE.sub(_escape, text) if _NEEDS_ESCAPE.search(text) else text


def key_path(key: str) -> str:
    """The OS path a key stands for (the inverse of `path_key`): use it to open, stat or show the file."""
    if not _ESCAPED_BYTES.search(key):
        return key
    raw = bytearray()
    position = 0
    for match in _ESCAPED_BYTES.finditer(key):
        raw += os.fsencode(key[position:match.start()])
        raw += bytes(ord(c) - _RAW_BYTE_BASE for c in match.group())
        position = match.end()
    raw += os.fsencode(key[position:])
    return os.fsdecode(bytes(raw))


def display_path(path: PurePath | str) -> str:
    """An OS path as text that is always valid UTF-8, for showing: undecodable bytes become U+FFFD.
    Not unique (that is what `path_key` is for) and not for opening the file."""
    return _os_bytes(os.fspath(path)).decode("utf-8", "replace")


def is_lossy(path: PurePath | str) -> bool:
    """Whether `display_path` loses something of ``path`` (its name is not valid UTF-8)."""
    return display_path(path) != os.fspath(path)


def path_json(path: PurePath | str, *, field: str = "path") -> dict[str, str]:
    """``{field: display form}``, plus ``{field + "_bytes": base64 of the raw bytes}`` when the display
    form is lossy, as ripgrep's JSON output does (``{"bytes": ...}`` for paths that are not UTF-8):
    valid UTF-8 always, and enough to open the very file."""
    out = {field: display_path(path)}
    if is_lossy(path):
        out[field + "_bytes"] = base64.b64encode(_os_bytes(os.fspath(path))).decode("ascii")
    return out
