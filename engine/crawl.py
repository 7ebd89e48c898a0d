"""Walk a library root and list the files Librarian should read.

Rules, shared by `crawl` (a full walk) and `is_excluded` (one path, for the file watcher):

- hidden files and folders (name starts with ".", or the Windows hidden attribute) are skipped;
- ``.gitignore`` and ``.librarianignore`` in any folder apply, in gitignore syntax, to that
  folder's subtree; deeper files refine outer ones (``!pattern`` re-includes), but as in git
  nothing inside an excluded folder can be re-included; matching takes bounded time whatever the
  rule (`ignore_spec`), and a bracket expression never matches "/", as in git;
- files whose ``kind_for`` is None are skipped silently: they are not documents we read;
- files over ``max_file_bytes`` are reported through ``on_problem`` and not yielded;
- symlinks are followed only while they stay inside the root, and a folder reached twice (a link
  back to an ancestor, two links to one folder) is walked once; broken links are skipped;
- FIFOs, sockets and devices are skipped: reading a FIFO would block the extractor forever (and
  since one can be swapped in after the walk, every read opens with `userfiles.open_user_file`);
- folders that cannot be listed (permission denied, an I/O error, a path over PATH_MAX) and entries
  that cannot be stat'ed are reported and the walk goes on: the indexer keeps what it had indexed
  under them. A file or folder that vanishes mid-walk is skipped: vanished is gone;
- ``skip_dirs`` (the data dir, when it lies inside a root) are never entered;
- the default exclusions (`exclusions.DEFAULT_EXCLUSIONS`: search indexes, minified code,
  ``_static/``, ``node_modules/``, lock files ...) apply as an ignore file at the root, below every
  ignore file of the user's, so ``!_static/`` in the root's ``.librarianignore`` brings a class
  back, as a later ignore file overrides an earlier one in git.

Entries are visited in sorted name order so two walks of an unchanged tree agree.

File names that are not valid UTF-8 (possible on Linux) arrive as str with surrogate escapes
(PEP 383). They work as paths, but cannot be encoded as UTF-8: store them with `path_key`, show them
with `display_path`, and keep the original Path to open the file (see `paths`).
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

import pathspec
from pathspec.patterns.gitignore.spec import GitIgnoreSpecPattern

from .exclusions import default_lines
from .extract import kind_for
from .paths import display_path, key_path, path_key  # noqa: F401  (re-exported: callers know them from here)

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


class _BoundedGlobPattern(GitIgnoreSpecPattern):
    """pathspec's gitignore pattern, translated so that matching takes bounded time.

    pathspec turns each ``*`` into ``[^/]*``; a pattern like ``*a*a*a*a*a*a*a*a*b`` against a name of
    sixty ``a`` then backtracks through every way of placing the stars (minutes at 100% CPU), and
    any cloned repository can ship such a rule. Here a star followed by a literal chunk and then
    another star becomes ``(?>[^/]*?CHUNK)``: an atomic group that commits to the first place the
    chunk fits. That is the classic greedy-star glob algorithm (git's ``wildmatch``, Python's
    ``fnmatch``, Go's ``path.Match``): a fixed-length chunk between two stars never needs to be
    placed later than its first fit, because the next star absorbs any gap. Only the last star of
    a segment may still move, so one segment costs linear time instead of exponential.
    """

    __slots__ = ()

    @classmethod
    def pattern_to_regex(cls, pattern):  # type: ignore[override]
        """Inner ``**`` get the same treatment: ``a/**/b/**/c`` against a deep path of ``b`` folders
        would otherwise try every way of spreading the folders over the ``**`` (polynomial with a
        degree of the number of ``**``). The run of segments between two inner ``**`` matches a
        fixed number of whole folders, so it too is committed at its first fit: an atomic group
        with a lazy ``**`` and a look-ahead for the "/" that the next ``**`` needs."""
        regex, include = super().pattern_to_regex(pattern)
        if not isinstance(regex, str):
            return regex, include
        # pathspec writes each inner "**" as exactly this; a segment glob cannot contain it,
        # since a segment holds no "/".
        parts = regex.split(_INNER_DOUBLE_STAR)
        if len(parts) <= 2:
            return regex, include
        middle = [f"(?>(?:/.+?)??{part}(?=/))" for part in parts[1:-1]]
        return "".join([parts[0], *middle, _INNER_DOUBLE_STAR, parts[-1]]), include

    @staticmethod
    def _translate_segment_glob(pattern: str, range_error: Literal["literal", "raise"]) -> str:
        chunks = _split_at_stars(pattern)
        translated = [_translate_chunk(chunk, range_error) for chunk in chunks]
        if len(chunks) == 1:
            return translated[0]
        middle = [f"(?>[^/]*?{chunk})" for chunk in translated[1:-1]]
        return "".join([translated[0], *middle, f"[^/]*{translated[-1]}"])


_INNER_DOUBLE_STAR = "(?:/.+)?"


def _translate_chunk(chunk: list[tuple[bool, str]], range_error: Literal["literal", "raise"]) -> str:
    """A star-free piece of a segment glob as pathspec translates it, except that a bracket
    expression never matches "/" (pathspec lets ``[!a]`` match it; git's wildmatch does not)."""
    translate = GitIgnoreSpecPattern._translate_segment_glob
    return "".join(f"(?!/){translate(text, range_error)}" if is_bracket else translate(text, range_error)
                   for is_bracket, text in chunk)


def _split_at_stars(glob: str) -> list[list[tuple[bool, str]]]:
    """Split a segment glob at its wildcard stars (not escaped, not inside brackets); each piece is
    a list of (is_bracket_expression, glob text), scanned the way pathspec scans them.
    ``a*b[*]`` -> [[(False, "a")], [(False, "b"), (True, "[*]")]]."""
    chunks: list[list[tuple[bool, str]]] = [[]]
    text, i, end = "", 0, len(glob)
    while i < end:
        char = glob[i]
        if char == "\\":
            text += glob[i:i + 2]
            i += 2
            continue
        if char == "*":
            chunks[-1].append((False, text))
            chunks.append([])
            text, i = "", i + 1
            continue
        if char == "[":
            j = i + 1
            if j < end and glob[j] in "!^":
                j += 1
            if j < end and glob[j] == "]":
                j += 1
            while j < end and glob[j] != "]":
                j += 1
            if j < end:
                chunks[-1].append((False, text))
                chunks[-1].append((True, glob[i:j + 1]))
                text, i = "", j + 1
                continue
            # No closing bracket: the rest goes to pathspec as it is, which discards the
            # pattern, as git does.
        text += char
        i += 1
    chunks[-1].append((False, text))
    return chunks


def ignore_spec(lines: Iterable[str]) -> pathspec.PathSpec:
    """Compile gitignore lines into a spec that matches in bounded time (see `_BoundedGlobPattern`).

    Use this, not ``pathspec.GitIgnoreSpec.from_lines``, for any patterns a user or a repository
    wrote. The "simple" backend is Python's ``re``, the one that understands atomic groups.
    """
    return pathspec.GitIgnoreSpec.from_lines(list(lines), _BoundedGlobPattern, backend="simple")


@lru_cache(maxsize=512)
def _load_spec(path: str, mtime_ns: int, size: int) -> pathspec.PathSpec | None:
    """Parse one ignore file; cached by (path, mtime, size) because the watcher asks per event."""
    try:
        with open(path, "rb") as fh:
            lines = fh.read(_MAX_IGNORE_FILE_BYTES).decode("utf-8", "replace").splitlines()
    except OSError:
        return None
    try:
        return ignore_spec(lines)
    except Exception:
        # One malformed line must not void the whole file: keep the lines that parse.
        good = []
        for line in lines:
            try:
                ignore_spec([line])
            except Exception:
                continue
            good.append(line)
        return ignore_spec(good)


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


@lru_cache(maxsize=1)
def _default_spec() -> pathspec.PathSpec:
    return ignore_spec(default_lines())


def _root_rules(root: str, default_exclusions: bool) -> _Rules:
    """The rules at a library root before its own ignore files: the defaults, when they apply."""
    return _Rules(((root, _default_spec()),)) if default_exclusions else _Rules()


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


_BROKEN_LINK = (errno.ENOENT, errno.ELOOP)  # vanished, a dangling link or a link loop: skipped silently


def _unreadable(exc: OSError) -> str:
    if isinstance(exc, PermissionError):
        return "permission denied"
    if exc.errno == errno.ENAMETOOLONG:
        return "path too long for this system (PATH_MAX or NAME_MAX)"
    return f"cannot be read ({exc.strerror or exc})"


def _dir_ids(folders: Iterable[Path | str]) -> set[tuple[int, int]]:
    """(device, inode) of each existing folder: how the walk recognises one however it is reached."""
    ids = set()
    for folder in folders:
        try:
            st = os.stat(folder)
        except OSError:
            continue
        ids.add((st.st_dev, st.st_ino))
    return ids


def crawl(
    root: Path | str,
    *,
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
    on_problem: ProblemCallback | None = None,
    skip_dirs: Iterable[Path | str] = (),
    default_exclusions: bool = True,
) -> Iterator[FoundFile]:
    """Yield every file under ``root`` that should be indexed. ``root`` may be a single file.

    Problems worth showing the user (unreadable folders, files over the size limit, paths too long
    for the system) go to ``on_problem(path, reason)``; everything else that is skipped is skipped
    silently. A folder reported there could not be listed: what it held is unknown, not gone, so
    callers must keep what they had indexed under it (see `Indexer`). ``skip_dirs`` are folders
    never entered, wherever they appear (Librarian's own data dir inside a root).
    ``default_exclusions=False`` walks as if `exclusions.DEFAULT_EXCLUSIONS` were empty (the
    preview uses it to show what the defaults leave out).
    """
    report: ProblemCallback = on_problem or (lambda _path, _reason: None)
    root = Path(os.path.abspath(root))
    try:
        root_st = os.stat(root)
    except FileNotFoundError:
        report(root, "not found")
        return
    except OSError as exc:
        report(root, _unreadable(exc))
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
    seen_dirs = {(root_st.st_dev, root_st.st_ino)} | _dir_ids(skip_dirs)
    stack: list[tuple[_Rules, Iterator[os.DirEntry[str]]]] = []

    def open_dir(folder: str, rules: _Rules) -> None:
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except FileNotFoundError:
            return  # removed while we walked
        except OSError as exc:
            report(Path(folder), _unreadable(exc))
            return
        stack.append((rules.enter(folder, {e.name for e in entries}), iter(entries)))

    open_dir(str(root), _root_rules(str(root), default_exclusions))
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
        except OSError as exc:
            if exc.errno not in _BROKEN_LINK:
                report(Path(entry.path), _unreadable(exc))
            continue
        if not is_dir and kind_for(entry.name) is None:
            continue  # cheapest test first: most skipped files are simply not documents
        if rules.excluded(entry.path, is_dir):
            continue
        if is_link and not _within(os.path.realpath(entry.path), real_root):
            continue
        try:
            st = os.stat(entry.path) if (is_link or is_dir) else entry.stat(follow_symlinks=False)
        except OSError as exc:  # permission denied, a path too long for the system, an I/O error
            if exc.errno not in _BROKEN_LINK:
                report(Path(entry.path), _unreadable(exc))
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


def is_excluded(path: Path | str, root: Path | str, *, is_dir: bool | None = None,
                default_exclusions: bool = True) -> bool:
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
    rules = _root_rules(root, default_exclusions).enter(root)
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
