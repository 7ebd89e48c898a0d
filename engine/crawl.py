"""Walk a library root and list the files Librarian should read.

Rules, shared by `crawl` (a full walk) and `is_excluded` (one path, for the file watcher):

- hidden files and folders (name starts with ".", or the Windows hidden attribute) are skipped;
- ``.gitignore`` and ``.librarianignore`` in any folder apply, in gitignore syntax, to that
  folder's subtree; deeper files refine outer ones (``!pattern`` re-includes), but as in git
  nothing inside an excluded folder can be re-included;
- files whose ``kind_for`` is None are skipped silently: they are not documents we read;
- files over ``max_file_bytes`` are reported through ``on_problem`` and not yielded;
- symlinks are followed only while they stay inside the root, and a folder reached twice (a link
  back to an ancestor, two links to one folder) is walked once; broken links are skipped;
- FIFOs, sockets and devices are skipped: reading a FIFO would block the extractor forever;
- unreadable folders are reported ("permission denied") and the walk goes on; a file that
  vanishes mid-walk is skipped.

Entries are visited in sorted name order so two walks of an unchanged tree agree.

File names that are not valid UTF-8 (possible on Linux) arrive as str with surrogate escapes
(PEP 383). They work as paths, but cannot be encoded as UTF-8: anything that shows or stores a
path as text (SQLite, JSON, the GUI) should use `display_path`, i.e.
``os.fsencode(p).decode("utf-8", "replace")``, and keep the original Path to open the file.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pathspec

from .extract import kind_for

IGNORE_FILES = (".gitignore", ".librarianignore")
DEFAULT_MAX_FILE_BYTES = 256 * 1024 * 1024
_MAX_IGNORE_FILE_BYTES = 1024 * 1024
_HIDDEN_ATTRIBUTE = getattr(stat, "FILE_ATTRIBUTE_HIDDEN", 0)

ProblemCallback = Callable[[Path, str], None]


@dataclass(frozen=True, slots=True)
class FoundFile:
    path: Path  # as reached under the root (not resolved through symlinks)
    size: int
    mtime_ns: int
    kind: str


def display_path(path: Path | str) -> str:
    """``path`` as text that is always valid UTF-8; undecodable bytes become U+FFFD."""
    return os.fsencode(path).decode("utf-8", "replace")


def human_size(n: int) -> str:
    """2147483648 -> "2.0 GB", 268435456 -> "256 MB" (binary units, one decimal below ten)."""
    value = float(n)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            break
        value /= 1024
    if unit == "bytes":
        return f"{n} bytes"
    return f"{value:.1f} {unit}" if value < 10 else f"{value:.0f} {unit}"


# ------------------------------------------------------------------------------------- ignore rules


@lru_cache(maxsize=512)
def _load_spec(path: str, mtime_ns: int, size: int) -> pathspec.PathSpec | None:
    """Parse one ignore file; cached by (path, mtime, size) because the watcher asks per event."""
    try:
        with open(path, "rb") as fh:
            lines = fh.read(_MAX_IGNORE_FILE_BYTES).decode("utf-8", "replace").splitlines()
    except OSError:
        return None
    try:
        return pathspec.GitIgnoreSpec.from_lines(lines)
    except Exception:
        # One malformed line must not void the whole file: keep the lines that parse.
        good = []
        for line in lines:
            try:
                pathspec.GitIgnoreSpec.from_lines([line])
            except Exception:
                continue
            good.append(line)
        return pathspec.GitIgnoreSpec.from_lines(good)


@dataclass(frozen=True)
class _Rules:
    """Ignore specs in force for one folder, outermost first, each with the folder it applies to."""

    specs: tuple[tuple[str, pathspec.PathSpec], ...] = ()

    def enter(self, folder: str, names: set[str] | None = None) -> _Rules:
        """The rules inside ``folder``: ours plus its own ignore files (``names`` = its listing,
        when known, saves the stat calls for the usual case of no ignore file)."""
        added = []
        for ignore in IGNORE_FILES:
            if names is not None and ignore not in names:
                continue
            candidate = os.path.join(folder, ignore)
            try:
                st = os.stat(candidate)
            except OSError:
                continue
            if stat.S_ISREG(st.st_mode):
                spec = _load_spec(candidate, st.st_mtime_ns, st.st_size)
                if spec is not None:
                    added.append((folder, spec))
        return _Rules(self.specs + tuple(added)) if added else self

    def excluded(self, path: str, is_dir: bool) -> bool:
        verdict: bool | None = None
        for base, spec in self.specs:
            rel = os.path.relpath(path, base).replace(os.sep, "/")
            if is_dir:
                rel += "/"  # lets dir-only patterns ("build/") match
            include = spec.check_file(rel).include  # True: ignored, False: re-included, None: silent
            if include is not None:
                verdict = include
        return bool(verdict)


def _hidden(name: str, st: os.stat_result | None = None) -> bool:
    if name.startswith("."):
        return True
    return bool(st is not None and _HIDDEN_ATTRIBUTE and getattr(st, "st_file_attributes", 0) & _HIDDEN_ATTRIBUTE)


def _within(path: str, root: str) -> bool:
    try:
        return os.path.commonpath([path, root]) == root
    except ValueError:  # different drives on Windows
        return False


# ------------------------------------------------------------------------------------------- crawl


def _too_large(size: int, limit: int) -> str:
    return f"too large ({human_size(size)} > {human_size(limit)} limit)"


def crawl(
    root: Path | str,
    *,
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
    on_problem: ProblemCallback | None = None,
) -> Iterator[FoundFile]:
    """Yield every file under ``root`` that should be indexed. ``root`` may be a single file.

    Problems worth showing the user (unreadable folders, files over the size limit) go to
    ``on_problem(path, reason)``; everything else that is skipped is skipped silently.
    """
    report: ProblemCallback = on_problem or (lambda _path, _reason: None)
    root = Path(os.path.abspath(root))
    try:
        root_st = os.stat(root)
    except FileNotFoundError:
        report(root, "not found")
        return
    except PermissionError:
        report(root, "permission denied")
        return
    except OSError as exc:
        report(root, f"cannot be read ({exc.strerror or exc})")
        return

    if not stat.S_ISDIR(root_st.st_mode):
        # An explicitly added file: no hidden/ignore rules, but the kind and the size still apply.
        kind = kind_for(root)
        if kind is not None and stat.S_ISREG(root_st.st_mode):
            if root_st.st_size > max_file_bytes:
                report(root, _too_large(root_st.st_size, max_file_bytes))
            else:
                yield FoundFile(root, root_st.st_size, root_st.st_mtime_ns, kind)
        return

    real_root = os.path.realpath(root)
    seen_dirs = {(root_st.st_dev, root_st.st_ino)}
    stack: list[tuple[_Rules, Iterator[os.DirEntry[str]]]] = []

    def open_dir(folder: str, rules: _Rules) -> None:
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except PermissionError:
            report(Path(folder), "permission denied")
            return
        except FileNotFoundError:
            return  # removed while we walked
        except OSError as exc:
            report(Path(folder), f"cannot be read ({exc.strerror or exc})")
            return
        stack.append((rules.enter(folder, {e.name for e in entries}), iter(entries)))

    open_dir(str(root), _Rules())
    while stack:
        rules, entries = stack[-1]
        entry = next(entries, None)
        if entry is None:
            stack.pop()
            continue
        if entry.name.startswith("."):
            continue
        try:
            is_dir = entry.is_dir()  # follows symlinks; False for broken ones
            is_link = entry.is_symlink()
        except OSError:
            continue
        if not is_dir and kind_for(entry.name) is None:
            continue  # cheapest test first: most skipped files are simply not documents
        if rules.excluded(entry.path, is_dir):
            continue
        if is_link and not _within(os.path.realpath(entry.path), real_root):
            continue
        try:
            st = os.stat(entry.path) if (is_link or is_dir) else entry.stat(follow_symlinks=False)
        except FileNotFoundError:
            continue  # vanished, or a broken link
        except PermissionError:
            report(Path(entry.path), "permission denied")
            continue
        except OSError:
            continue
        if _hidden(entry.name, st):
            continue
        if stat.S_ISDIR(st.st_mode):
            key = (st.st_dev, st.st_ino)
            if key in seen_dirs:
                continue  # a symlink loop, or a second way into a folder already walked
            seen_dirs.add(key)
            open_dir(entry.path, rules)
        elif stat.S_ISREG(st.st_mode):
            if st.st_size > max_file_bytes:
                report(Path(entry.path), _too_large(st.st_size, max_file_bytes))
                continue
            kind = kind_for(entry.name)
            if kind is not None:
                yield FoundFile(Path(entry.path), st.st_size, st.st_mtime_ns, kind)


def is_excluded(path: Path | str, root: Path | str, *, is_dir: bool | None = None) -> bool:
    """Whether `crawl(root)` would skip ``path``, without walking (the watcher calls this per event).

    Applies the hidden, ignore-file, kind and symlink rules. Not the size limit: that needs the
    file, and the indexer checks it when it stats the file. ``is_dir`` defaults to what is on disk
    now; pass it for a path that was deleted (a deleted folder has no suffix and would otherwise
    look like an unsupported file). Changes to ``.gitignore`` files are themselves excluded, since
    they are hidden: react to them with a rescan of the folder.
    """
    path = os.path.abspath(path)
    root = os.path.abspath(root)
    if path == root:
        return False
    if not _within(path, root):
        return True
    parts = Path(os.path.relpath(path, root)).parts
    if any(part.startswith(".") for part in parts):
        return True
    if is_dir is None:
        is_dir = os.path.isdir(path)
    if not is_dir and kind_for(parts[-1]) is None:
        return True
    rules = _Rules().enter(root)
    current = root
    for i, part in enumerate(parts):
        current = os.path.join(current, part)
        last = i == len(parts) - 1
        if rules.excluded(current, is_dir if last else True):
            return True
        if not last:
            rules = rules.enter(current)
    if not _within(os.path.realpath(path), os.path.realpath(root)):
        return True  # reached through a symlink that leads out of the root
    try:
        return _hidden(parts[-1], os.stat(path))
    except OSError:
        return False  # gone: the caller is handling a deletion, let it through
