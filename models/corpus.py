"""Training passages from open documentation that Debian ships as packages (never the eval sets).

Each source is a Debian ``-doc`` package: downloaded with ``apt-get download`` (no root, no install),
unpacked with ``dpkg-deb -x`` into a cache folder, its HTML pages read by the app's own extractor
and cut by the app's own chunker, so the student learns on passages shaped exactly like the ones it
will embed in a user's library (title › heading + body, ~160 word pieces).

The mix is deliberately broad: system administration prose (Debian handbook and reference), a
programming language and a database manual, and scientific user guides (statistics, machine
learning, astronomy, biology, numerical computing, algebra), so the student is not tuned to one
register. Every step is seeded; the same cache gives the same corpus.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from librarian.engine.chunk import chunk, tokenizer_offsets
from librarian.engine.extract import extract
from librarian.engine.extract._common import HEADING_SEPARATOR
from librarian.engine.indexer import PASSAGE_TARGET_PIECES, passage_records


@dataclass(frozen=True)
class Source:
    package: str
    folder: str  # under the unpacked root
    include: str = r"\.html?$"  # regex on the path relative to ``folder``
    exclude: str = r"(genindex|search|py-modindex|index)\.html$|/_modules/|/_sources/|/generated/.*\.(pxd|rst)"


SOURCES: tuple[Source, ...] = (
    Source("debian-handbook", "usr/share/doc/debian-handbook/html", include=r"^en-US/.*\.html$"),
    Source("debian-reference-en", "usr/share/debian-reference", include=r"\.en\.html$"),
    Source("python3.11-doc", "usr/share/doc/python3.11/html", exclude=r"(genindex.*|search|py-modindex|contents)\.html$|/_static/|whatsnew/changelog"),
    Source("postgresql-doc-15", "usr/share/doc/postgresql-doc-15/html", exclude=r"release-\d"),
    Source("git-doc", "usr/share/doc/git-doc", exclude=r"RelNotes"),
    Source("python-sklearn-doc", "usr/share/doc/python-sklearn-doc/html"),
    Source("python-statsmodels-doc", "usr/share/doc/python-statsmodels-doc/html"),
    Source("python-astropy-doc", "usr/share/doc/python-astropy-doc/html"),
    Source("python-biopython-doc", "usr/share/doc/python-biopython-doc", include=r"\.html?$"),
    Source("octave-doc", "usr/share/doc/octave"),
    Source("maxima-doc", "usr/share/doc/maxima-doc"),
    Source("gnuplot-doc", "usr/share/doc/gnuplot"),
    Source("r-doc-html", "usr/share/R/doc", include=r"\.html$"),
)

MIN_PIECES = 24  # shorter passages (navigation stubs, lone headings) teach nothing
MIN_LETTER_SHARE = 0.6  # mostly prose, not tables of numbers or code dumps
MAX_SHORT_LINE_SHARE = 0.5  # menus, tables of contents and API lists are lines of one to three words
CHROME_HEADING = re.compile(r"^(navigation|table of contents|page contents|quick search|this page|previous topic|"
                            r"next topic|related topics|.*\bindex|source code for .*)$", re.IGNORECASE)


def fetch(cache: Path, sources: tuple[Source, ...] = SOURCES) -> Path:
    """Download the packages (once) and unpack them under ``cache/root``; returns that root."""
    debs, root = cache / "debs", cache / "root"
    debs.mkdir(parents=True, exist_ok=True)
    root.mkdir(parents=True, exist_ok=True)
    for source in sources:
        marker = root / f".{source.package}.unpacked"
        if marker.exists():
            continue
        found = sorted(debs.glob(f"{source.package}_*.deb"))
        if not found:
            subprocess.run(["apt-get", "download", source.package], cwd=debs, check=True,
                           stdout=subprocess.DEVNULL)
            found = sorted(debs.glob(f"{source.package}_*.deb"))
        if not found:
            raise RuntimeError(f"apt-get download {source.package} produced no .deb")
        subprocess.run(["dpkg-deb", "-x", str(found[-1]), str(root)], check=True)
        marker.write_text(found[-1].name)
    return root


def source_files(root: Path, source: Source) -> list[Path]:
    base = root / source.folder
    include, exclude = re.compile(source.include), re.compile(source.exclude)
    files = []
    for path in sorted(base.rglob("*")):
        rel = path.relative_to(base).as_posix()
        if path.is_file() and include.search(rel) and not exclude.search(rel):
            files.append(path)
    return files


def _letter_share(text: str) -> float:
    visible = [c for c in text if not c.isspace()]
    return sum(c.isalpha() for c in visible) / max(len(visible), 1)


def _short_line_share(text: str) -> tuple[float, int]:
    lines = [line for line in text.split("\n") if line.strip()]
    return sum(len(line.split()) <= 3 for line in lines) / max(len(lines), 1), len(lines)


def is_prose(title: str, body: str) -> bool:
    """Site chrome, indexes and listings are not what people search their documents for."""
    if CHROME_HEADING.match(title.split(HEADING_SEPARATOR)[-1].strip()):
        return False
    if _letter_share(body) < MIN_LETTER_SHARE:
        return False
    share, lines = _short_line_share(body)
    return not (lines >= 4 and share > MAX_SHORT_LINE_SHARE)


def passages_of(path: Path, offsets) -> Iterator[dict]:
    try:
        extracted = extract(path)
    except Exception:  # a page our extractor rejects is simply not training data
        return
    text, chunks = chunk(extracted, offsets, target=PASSAGE_TARGET_PIECES)
    for record, piece_count in zip(passage_records(extracted, text, chunks), (c.pieces for c in chunks), strict=True):
        if piece_count < MIN_PIECES or not is_prose(record.title or "", record.body):
            continue
        yield {"title": record.title or "", "body": record.body, "pieces": piece_count}


def build(cache: Path, out: Path, tokenizer_file: Path, *, per_source: int = 8000, seed: int = 1) -> dict:
    """Write ``out`` (JSON lines: id, source, doc, title, body) and return counts per source."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(tokenizer_file))
    tokenizer.no_padding()
    tokenizer.no_truncation()
    offsets = tokenizer_offsets(tokenizer)
    root = fetch(cache)
    rng = random.Random(seed)
    seen: set[bytes] = set()
    counts: dict[str, int] = {}
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        for source in SOURCES:
            files = source_files(root, source)
            rng.shuffle(files)
            kept = 0
            for doc_no, path in enumerate(files):
                if kept >= per_source:
                    break
                for passage in passages_of(path, offsets):
                    key = hashlib.blake2b(" ".join(passage["body"].lower().split()).encode(), digest_size=12).digest()
                    if key in seen:
                        continue
                    seen.add(key)
                    fh.write(json.dumps({"id": f"{source.package}:{doc_no}:{kept}", "source": source.package,
                                         "doc": f"{source.package}:{doc_no}", **passage}, ensure_ascii=False) + "\n")
                    kept += 1
                    if kept >= per_source:
                        break
            counts[source.package] = kept
    tmp.replace(out)
    return counts


def read(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]
