"""What Librarian leaves out by default: files no person searches for, listed here and only here.

Two kinds of rule:

- **By name** (`DEFAULT_EXCLUSIONS`): gitignore patterns the crawl applies as if they were an ignore
  file at the root of every library folder, below the user's own ignore files. So a user brings a
  class back the way git does, with a ``!pattern`` line in the root's ``.librarianignore``
  (``!_static/``, ``!searchindex.js``). This is Recoll's ``skippedNames`` idea, kept in the
  gitignore syntax our users already write.
- **By content** (`generated_reason`): a file whose name looks ordinary but whose text is machine
  output (minified code, a search index, a blob of encoded data). The extractor reads it, keeps no
  passages, and gives the reason in `Extracted.left_out` ("left out: generated (minified
  JavaScript)"); the document is stored with the status "left_out" and listed apart: the file is known and is not read again while unchanged, it is no
  failure, and with no passages it never shows in results (as redirect stubs, see
  `extract.htmlpage`).

Left out on purpose: ``build/``, ``_build/`` and ``dist/``. A person's folder can be called
"build" (a house build, a build log of a project), and built HTML docs are often the only copy a
machine has (``/usr/share/doc``); what in them is machine output is caught by content instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class ExclusionClass:
    """One class of file left out by default: a short name, its patterns, and why."""

    name: str
    patterns: tuple[str, ...]
    reason: str


DEFAULT_EXCLUSIONS: tuple[ExclusionClass, ...] = (
    ExclusionClass("search indexes", ("searchindex.js", "search_index.json"),
                   "Sphinx and MkDocs full-text indexes: every word of the site in one blob"),
    ExclusionClass("minified or bundled code", ("*.min.js", "*.min.css", "*.bundle.js", "*.bundle.css"),
                   "machine-written copies of code, one line thousands of characters long"),
    ExclusionClass("source maps", ("*.map",), "position tables for minified code"),
    ExclusionClass("Sphinx build copies", ("_static/", "_sources/"),
                   "theme files and a second copy of every page's source"),
    ExclusionClass("generated index pages", ("genindex*.html", "py-modindex.html", "modindex.html"),
                   "alphabetical link lists generated from the pages themselves"),
    ExclusionClass("vendored packages", ("node_modules/", "bower_components/", "jspm_packages/"),
                   "other people's libraries installed by a package manager"),
    ExclusionClass("lock files", ("package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml",
                                  "poetry.lock", "Pipfile.lock", "uv.lock", "Cargo.lock", "Gemfile.lock",
                                  "composer.lock", "go.sum"),
                   "pinned versions and checksums written by package managers"),
    ExclusionClass("build and cache folders", ("__pycache__/", ".tox/", ".mypy_cache/", ".pytest_cache/",
                                               "*.egg-info/"),
                   "compiled files and tool caches"),
)


def default_lines() -> list[str]:
    """The default patterns as the lines of an ignore file, one comment per class."""
    lines = []
    for exclusion in DEFAULT_EXCLUSIONS:
        lines.append(f"# {exclusion.name}: {exclusion.reason}")
        lines.extend(exclusion.patterns)
    return lines


def default_class_of(rel_path: str) -> ExclusionClass | None:
    """The default class that leaves out ``rel_path`` ("/"-separated, relative to the root): the one
    of its outermost excluded folder, since the crawl never enters that folder, else the file's."""
    from .crawl import ignore_spec

    parts = rel_path.split("/")
    candidates = ["/".join(parts[:depth]) + "/" for depth in range(1, len(parts))] + [rel_path]
    for candidate in candidates:
        for exclusion in DEFAULT_EXCLUSIONS:
            if ignore_spec(exclusion.patterns).match_file(candidate):
                return exclusion
    return None


# ------------------------------------------------------------------------------- by content

_SAMPLE_CHARS = 256 * 1024  # what is judged: generated files are uniform, the head tells
_MIN_CHARS = 4096  # smaller files are left alone: cheap to keep, and statistics on them are noise
_LONG_LINE = 1000  # minifiers write lines of tens of thousands of characters; people rarely 1,000
_LONG_LINE_SHARE = 0.5  # of the characters, on long lines
_WORD_SHARE = 0.15  # of the characters, in word-like tokens (prose is ~0.8)
_MAX_JSON_CHARS = 1024 * 1024
_SEARCH_INDEX = re.compile(r"\bSearch\.setIndex\s*\(|\bvar\s+search_index\s*=")
_WORD = re.compile(r"[\"'(\[]*[^\W\d_]+(?:['’-][^\W\d_]+)*[\"')\].,;:!?]*")
_TABLES = {".csv", ".tsv"}  # a person's data: numbers, not words, and still theirs
_LANGUAGE = {".js": "JavaScript", ".mjs": "JavaScript", ".cjs": "JavaScript", ".css": "CSS", ".json": "JSON"}


def left_out(what: str) -> str:
    """The reason an extractor gives in `Extracted.left_out`; the document is stored with the status
    "left_out", which `Library.status` lists apart, neither as a failure nor as a problem."""
    return f"left out: generated ({what})"


def generated_reason(text: str, path: Path, *, kind: str) -> str | None:
    """Why the text of ``path`` is machine output no person searches for, or None when it is not.

    Measured on /usr/share/doc and a Python venv (7,600 text and code files): long lines are
    judged only in code, where every file over the threshold was generated (protobuf ``_pb2.py``,
    Pygments' Unicode tables, embedded XML) while prose files often keep a paragraph on one line.
    The share of word-like tokens is judged only in plain text: in code it also caught hand-written
    files (constant tables of URLs, XML templates), and tables (CSV of numbers) are data a person
    may have made.
    """
    suffix = path.suffix.lower()
    sample = text[:_SAMPLE_CHARS]
    if _SEARCH_INDEX.search(sample[:4096]):
        return left_out("search index")
    if len(text) < _MIN_CHARS:
        return None
    if suffix == ".json" and len(text) > _MAX_JSON_CHARS:
        return left_out(f"JSON data over {_MAX_JSON_CHARS // (1024 * 1024)} MB")
    if kind == "code" and _long_line_share(sample) > _LONG_LINE_SHARE:
        return left_out(f"minified {_LANGUAGE.get(suffix, 'code')}")
    if kind == "text" and suffix not in _TABLES and _word_share(sample) < _WORD_SHARE:
        return left_out("encoded data, almost no words")
    return None


def _long_line_share(text: str) -> float:
    long_chars = sum(len(line) for line in text.split("\n") if len(line) > _LONG_LINE)
    return long_chars / max(len(text), 1)


def _word_share(text: str) -> float:
    tokens = text.split()
    total = sum(map(len, tokens))
    words = sum(len(token) for token in tokens if len(token) <= 40 and _WORD.fullmatch(token))
    return words / max(total, 1)


def generated_search_page(html: bytes, path: Path) -> str | None:
    """Sphinx's ``search.html``: a form that loads ``searchindex.js``, no text of its own. Judged by
    content, since a person may well have a page of their own called search.html."""
    if path.name.lower() == "search.html" and b"searchindex.js" in html:
        return left_out("search page")
    return None
