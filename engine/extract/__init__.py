"""The extractor registry: which files Librarian reads, and the one call that reads them.

    kind_for(path)  -> "pdf" / "markdown" / ... or None   (suffix and name only: no I/O, cheap
                                                            enough for the crawler to call per file)
    extract(path)   -> Extracted                           (in this process; see ``isolate`` for the
                                                            worker processes used on real folders)

Format modules are imported on first use, not here: the crawler and the extraction worker start
without loading PDFium, lxml or python-pptx until a file needs them.

``extract`` dispatches by suffix, then by sniffing the first bytes: a file whose suffix is unknown
or belongs to a binary container format (PDF, zip-based office files, RTF) is checked against its
signature, so a PDF saved as ``.docx`` is still read as a PDF and an old binary ``.doc`` renamed
``.docx`` gets a clear reason instead of "corrupt".
"""

from __future__ import annotations

import importlib
import zipfile
import zlib
from pathlib import Path
from typing import BinaryIO

from ..errors import ExtractionError
from ..paths import display_path
from ..userfiles import NotARegularFileError, open_user_file
from ._zipcheck import check_zip, read_prefix_of_member
from .base import Extracted, ExtractFn, Extractor, Locator, Segment

__all__ = [
    "EXTRACTORS",
    "SUPPORTED_SUFFIXES",
    "Extracted",
    "Extractor",
    "Locator",
    "Segment",
    "added_extractors",
    "extract",
    "extractor_for",
    "kind_for",
    "register",
    "sniff",
    "unregister",
]


def _lazy(module: str, function: str) -> ExtractFn:
    def run(path: Path) -> Extracted:
        fn: ExtractFn = getattr(importlib.import_module(f"{__name__}.{module}"), function)
        return fn(path)

    run.__qualname__ = run.__name__ = f"{module}.{function}"
    return run


_CODE = (
    ".py .pyi .pyw .js .mjs .cjs .jsx .ts .tsx .mts .cts .java .kt .kts .scala .groovy .gradle .c .h .cc "
    ".cpp .cxx .hpp .hh .hxx .cs .go .rs .rb .php .pl .pm .lua .r .swift .m .mm .dart .ex .exs .erl .hrl "
    ".hs .ml .mli .clj .cljs .fs .fsx .vb .jl .zig .nim .el .lisp .scm .rkt .vim .sh .bash .zsh .fish "
    ".ps1 .psm1 .bat .cmd .sql .json .jsonc .json5 .yaml .yml .toml .ini .cfg .conf .properties .css "
    ".scss .sass .less .vue .svelte .xml .xsd .proto .graphql .gql .tf .hcl .cmake .mk .nix"
)

EXTRACTORS: list[Extractor] = [
    Extractor("text", (".txt", ".text", ".csv", ".tsv", ".rst", ".adoc", ".asciidoc", ".org", ".tex", ".bib"),
              _lazy("plain", "extract_text")),
    Extractor("markdown", (".md", ".markdown", ".mdown", ".mkd", ".mkdn"), _lazy("markdown", "extract_markdown")),
    Extractor("code", tuple(_CODE.split()), _lazy("source", "extract_code")),
    Extractor("html", (".html", ".htm", ".xhtml"), _lazy("htmlpage", "extract_html")),
    Extractor("pdf", (".pdf",), _lazy("pdf", "extract_pdf")),
    Extractor("docx", (".docx",), _lazy("worddoc", "extract_docx")),
    Extractor("odt", (".odt",), _lazy("odt", "extract_odt")),
    Extractor("epub", (".epub",), _lazy("epub", "extract_epub")),
    Extractor("pptx", (".pptx",), _lazy("slides", "extract_pptx")),
    Extractor("rtf", (".rtf",), _lazy("rtf", "extract_rtf")),
    Extractor("email", (".eml",), _lazy("mail", "extract_eml")),
    Extractor("mbox", (".mbox",), _lazy("mail", "extract_mbox")),
]

# Well-known files without a suffix (lower-cased name -> kind).
NAMES = {
    **dict.fromkeys(("readme", "license", "licence", "copying", "authors", "changelog", "notice", "install",
                     "todo", "news", "contributing"), "text"),
    **dict.fromkeys(("makefile", "dockerfile", "containerfile", "jenkinsfile", "vagrantfile", "rakefile",
                     "gemfile", "procfile"), "code"),
}

_BY_SUFFIX: dict[str, Extractor] = {}
_BY_KIND: dict[str, Extractor] = {}
_ADDED: dict[str, Extractor] = {}  # kind -> extractor registered after start-up (by a plugin or a test)


def _add(extractor: Extractor) -> None:
    _BY_KIND[extractor.kind] = extractor
    for suffix in extractor.suffixes:
        _BY_SUFFIX[suffix.lower()] = extractor


def register(extractor: Extractor) -> None:
    """Add (or replace) an extractor; later registrations win for a shared suffix.

    Extraction workers (``isolate``) started after this call register it too, so its function must
    pickle by reference (a module-level function of an importable module), as any target handed to
    a "spawn" process must.
    """
    _ADDED[extractor.kind] = extractor
    _add(extractor)


def unregister(kind: str) -> None:
    """Undo `register` for ``kind``; a built-in extractor it had displaced takes its suffixes back."""
    _ADDED.pop(kind, None)
    _BY_SUFFIX.clear()
    _BY_KIND.clear()
    for extractor in (*EXTRACTORS, *_ADDED.values()):
        _add(extractor)


def added_extractors() -> tuple[Extractor, ...]:
    """The extractors `register` added in this process, in order: what a new worker must register."""
    return tuple(_ADDED.values())


for _extractor in EXTRACTORS:
    _add(_extractor)

# The built-in suffixes; extractors registered later are found by kind_for but not listed here.
SUPPORTED_SUFFIXES: frozenset[str] = frozenset(_BY_SUFFIX)
_CONTAINERS = {"pdf", "docx", "odt", "epub", "pptx", "rtf"}


def _by_path(path: Path) -> Extractor | None:
    suffix = path.suffix.lower()
    found = _BY_SUFFIX.get(suffix)
    if found is None and not suffix:
        kind = NAMES.get(path.name.lower())
        found = _BY_KIND.get(kind) if kind else None
    return found


def kind_for(path: Path | str) -> str | None:
    """The kind of extractor a file gets, from its name alone; None means "not ours, skip it"."""
    found = _by_path(Path(path))
    return found.kind if found else None


def sniff(path: Path) -> str | None:
    """The kind the first bytes announce, for container formats only; None when nothing matches.

    Raises ExtractionError for formats recognised but not supported (legacy binary Office), for
    zip bombs, and (through `open_user_file`) for anything that is not a regular file.
    """
    with open_user_file(path) as fh:
        head = fh.read(1024)
        if head.startswith(b"PK\x03\x04"):
            return _sniff_zip(fh)
    if b"%PDF-" in head:  # the spec allows junk before the header
        return "pdf"
    if head.startswith(b"{\\rtf"):
        return "rtf"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        raise ExtractionError("legacy binary Office file (.doc/.ppt/.xls) is not supported; save it as .docx/.pptx")
    lowered = head.lstrip().lower()
    if lowered.startswith((b"<!doctype html", b"<html")):
        return "html"
    return None


def _sniff_zip(fh: BinaryIO) -> str | None:
    """The zip-based format of an open file. The zip-bomb check comes before any member is read,
    as on every other zip path, and of ``mimetype`` only its first bytes are inflated."""
    try:
        with zipfile.ZipFile(fh) as zf:
            check_zip(zf)
            names = set(zf.namelist())
            mimetype = read_prefix_of_member(zf, "mimetype", 100)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, NotImplementedError, RuntimeError,
            OSError, EOFError):
        return None  # leave the verdict to the suffix's extractor ("corrupt or truncated ...")
    if "word/document.xml" in names:
        return "docx"
    if "ppt/presentation.xml" in names:
        return "pptx"
    if mimetype.startswith(b"application/epub+zip"):
        return "epub"
    if mimetype.startswith(b"application/vnd.oasis.opendocument.text"):
        return "odt"
    return None


def extractor_for(path: Path) -> Extractor | None:
    """The extractor ``extract`` would use (reads the first bytes of container-format files)."""
    found = _by_path(path)
    if found is None or found.kind in _CONTAINERS:
        sniffed = sniff(path)
        if sniffed is not None and (found is None or sniffed != found.kind):
            return _BY_KIND[sniffed]
    return found


def extract(path: Path | str) -> Extracted:
    """Extract ``path`` in this process. Raises ExtractionError with a short, readable ``reason``
    and the file's ``path`` (undecodable bytes shown as U+FFFD, so the message is valid text).

    Exceptions other than ExtractionError are bugs in an extractor or its library; they propagate
    here and are reported as "unexpected ..." by the isolation layer.
    """
    path = Path(path)
    try:
        return _extract(path)
    except ExtractionError as exc:
        if exc.path is not None:
            raise
        raise ExtractionError(exc.reason, path=display_path(path)) from exc


def _extract(path: Path) -> Extracted:
    try:
        found = extractor_for(path)
        if found is None:
            raise ExtractionError("unsupported file type")
        return found.extract(path)
    except NotARegularFileError as exc:  # swapped for a FIFO, socket or device since the crawl
        raise ExtractionError(exc.strerror or "not a regular file") from exc
    except FileNotFoundError as exc:
        raise ExtractionError("file not found (moved or deleted?)") from exc
    except PermissionError as exc:
        raise ExtractionError("permission denied") from exc
    except IsADirectoryError as exc:
        raise ExtractionError("is a folder, not a file") from exc
    except OSError as exc:
        raise ExtractionError(f"could not read the file ({exc.strerror or exc})") from exc
    except RecursionError as exc:  # pathologically nested markup
        raise ExtractionError("document structure nested too deeply") from exc
