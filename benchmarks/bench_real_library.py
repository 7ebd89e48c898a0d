"""A real library indexed by an older commit and by this checkout, in one run, on the same folder.

The library is built from Debian documentation packages (HTML, PDF and text; 1,000+ files with the
default packages): `apt-get download` into a cache folder (reused when the .deb files are there; no
root needed), `dpkg-deb -x` into a temporary folder, and the library folder is the unpacked
usr/share/doc plus the packages' own usr/share folders (usr/share/debian-reference, ...); dpkg's
metadata folders (doc-base, lintian, info, devhelp, ...) are left out. `--library DIR` uses an
existing folder instead and downloads nothing.

Each version runs the real CLI as a subprocess (stderr a file, not a terminal; nothing said about
threads, so each version uses its own defaults), each into a fresh temporary data folder:
  1. `python -m librarian.engine.cli --data-dir D index LIBRARY --no-embed`: the wall time until the
     folder is keyword-searchable;
  2. `python -m librarian.engine.cli --data-dir D index`: the wall time until every passage is
     embedded (process start and model load included, as a user waits for them).
"Time until fully embedded" is (1) + (2). Then the index is read (SQLite, read-only) for: files
indexed, failed and left out; passages stored; passages with a vector; vectors computed (distinct
`text_hash` among embedded passages where the schema has it, else passages with a vector: the
baseline's copies between identical files count as computed there); passages stored per real
(not junk) file; and the passages left from each junk class (`JUNK_CLASSES`, by path).
`--limit-seconds N` stops an embedding run after N s: passages/s is then measured at the stop and
the time until fully embedded is projected from the share embedded (marked "projected").

How each version runs: `git archive COMMIT engine desktop models` is unpacked into a temporary
folder, and a package folder maps librarian/engine, librarian/desktop, librarian/models to its
folders by symlinks; the subprocess is this venv's Python with PYTHONPATH set to that package folder
only. The same is done for this checkout (symlinks to its own folders), so the code measured is
the working tree's even if the venv's editable install points elsewhere. PYTHONPATH comes before
the editable install's finder; each run checks where `librarian.engine` was imported from and
stops if it is not the expected folder. Both versions share this venv's dependencies (no network).

The machine this runs on is shared and noisy (2 cores here): only the ratios between the two
versions in the same run mean anything, never the seconds on their own.

    python benchmarks/bench_real_library.py                  # default packages, baseline 3796213
    python benchmarks/bench_real_library.py --library /work/reallib/library --limit-seconds 600
    python benchmarks/bench_real_library.py --library /tmp/small --skip-baseline
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_PACKAGES = ("python3.11-doc", "debian-reference-en", "bash-doc")
DEFAULT_BASELINE = "3796213"
DEFAULT_CACHE = REPO / "benchmarks" / "_data" / "debs"
PACKAGE_FOLDERS = ("engine", "desktop", "models")  # installed as librarian.<name>

# usr/share folders that hold package metadata, not documents a person reads.
NOT_DOCUMENTS = frozenset({
    "doc-base", "lintian", "info", "devhelp", "man", "menu", "applications", "icons", "pixmaps",
    "mime", "bug", "bash-completion", "locale", "javascript",
})

# Generated or vendored files nobody searches for (issue 12, item 1), by path: what is left of each
# class in an index is the measure. Changelogs are listed too: keyword-searchable but maybe not
# embedded is a valid choice for them, so their passages stored and embedded are both shown.
JUNK_CLASSES: dict[str, re.Pattern[str]] = {
    "searchindex.js": re.compile(r"(^|/)searchindex\.js$"),
    "_static/": re.compile(r"/_static/"),
    "_sources/": re.compile(r"/_sources/"),
    "genindex": re.compile(r"(^|/)genindex[^/]*$"),
    "minified .js/.css": re.compile(r"\.min\.(js|css)$"),
    "source maps": re.compile(r"\.(js|css)\.map$"),
    "changelog": re.compile(r"(^|/)(changelog|changes|news)(\.[^/]*)?$", re.IGNORECASE),
}


def junk_class(path: str) -> str | None:
    """The junk class a document's path falls in (the first that matches), or None for a real document."""
    posix = path.replace("\\", "/")
    for name, pattern in JUNK_CLASSES.items():
        if pattern.search(posix):
            return name
    return None


# --- the library --------------------------------------------------------------------------------

def download_packages(packages: Sequence[str], cache: Path) -> list[Path]:
    """The .deb file of each package, downloaded with `apt-get download` unless the cache has one."""
    cache.mkdir(parents=True, exist_ok=True)
    missing = [p for p in packages if not sorted(cache.glob(f"{p}_*.deb"))]
    if missing:
        print(f"apt-get download {' '.join(missing)} (into {cache})", file=sys.stderr)
        subprocess.run(["apt-get", "download", *missing], cwd=cache, check=True)
    debs = []
    for package in packages:
        found = sorted(cache.glob(f"{package}_*.deb"))
        if not found:
            raise SystemExit(f"no .deb for {package} in {cache} after apt-get download")
        debs.append(found[-1])
    return debs


def build_library(debs: Iterable[Path], workdir: Path) -> Path:
    """Unpack the packages and gather their usr/share/doc and own usr/share folders in one folder."""
    unpacked = workdir / "unpacked"
    unpacked.mkdir()
    for deb in debs:
        subprocess.run(["dpkg-deb", "-x", str(deb), str(unpacked)], check=True)
    share = unpacked / "usr" / "share"
    library = workdir / "library"
    library.mkdir()
    # Moved side by side, so relative links between them (doc/x/docs -> ../../x) still resolve.
    for folder in sorted(share.iterdir()) if share.is_dir() else []:
        if folder.is_dir() and folder.name not in NOT_DOCUMENTS:
            shutil.move(str(folder), str(library / folder.name))
    if not any(library.iterdir()):
        raise SystemExit(f"the packages hold no documents under usr/share ({share})")
    return library


def count_files(folder: Path) -> int:
    return sum(1 for p in folder.rglob("*") if p.is_file())


# --- the versions -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Version:
    label: str  # "baseline 3796213" / "this checkout"
    package_dir: Path  # on PYTHONPATH: librarian/{engine,desktop,models} -> the version's folders


def package_folder(source: Path, package_dir: Path) -> Path:
    """A folder whose librarian/<name> links to source/<name> for each of engine, desktop, models."""
    root = package_dir / "librarian"
    root.mkdir(parents=True)
    for name in PACKAGE_FOLDERS:
        if (source / name).is_dir():
            (root / name).symlink_to((source / name).resolve(), target_is_directory=True)
    return package_dir


def archive_commit(commit: str, destination: Path) -> Path:
    """This repository's engine/, desktop/ and models/ at ``commit``, unpacked into ``destination``."""
    destination.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(REPO), "archive", "--format=tar", commit, *PACKAGE_FOLDERS],
                             check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(destination)], input=archive, check=True)
    return destination


def version_env(version: Version) -> dict[str, str]:
    """This process's environment with PYTHONPATH the version's package folder only, and none of
    Librarian's own overrides (each version finds its own shipped model)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIBRARIAN_")}
    env["PYTHONPATH"] = str(version.package_dir)
    return env


def check_imports_from(version: Version) -> None:
    """Stop unless `librarian.engine` imports from the version's package folder (not the editable install)."""
    found = subprocess.run([sys.executable, "-c", "import librarian.engine as e; print(e.__file__)"],
                           env=version_env(version), capture_output=True, text=True)
    if found.returncode != 0:
        raise SystemExit(f"{version.label}: librarian.engine does not import from {version.package_dir}:\n"
                         f"{found.stderr}")
    if not found.stdout.strip().startswith(str(version.package_dir)):
        raise SystemExit(f"{version.label}: librarian.engine came from {found.stdout.strip()}, "
                         f"not {version.package_dir}")


# --- running and reading an index ---------------------------------------------------------------

@dataclass
class Timed:
    seconds: float  # from start to the process's end, or to the moment it was stopped
    at_stop: IndexCounts | None = None  # stopped by `--limit-seconds`: what was committed by then


def cli(version: Version, data_dir: Path, args: Sequence[str], log: Path, *,
        limit_s: float | None = None) -> Timed:
    """Run the version's CLI to its end (or stop it after ``limit_s``), stderr into ``log``."""
    command = [sys.executable, "-m", "librarian.engine.cli", "--data-dir", str(data_dir), *args]
    with open(log, "a", encoding="utf-8") as err:
        err.write(f"$ {' '.join(command)}\n")
        err.flush()
        started = time.perf_counter()
        proc = subprocess.Popen(command, env=version_env(version), stdin=subprocess.DEVNULL,
                                stdout=err, stderr=err)
        try:
            proc.wait(timeout=limit_s)
        except subprocess.TimeoutExpired:
            # The work committed at the limit, read before the stop: a version that finishes its batch
            # on Ctrl+C and one that drops it are measured alike.
            seconds = time.perf_counter() - started
            at_stop = read_index(data_dir / "index.sqlite3")
            stop(proc)
            return Timed(seconds, at_stop=at_stop)
        seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"{version.label}: {' '.join(args)} exited {proc.returncode}; see {log}:\n"
                         + "".join(log.read_text(encoding="utf-8").splitlines(keepends=True)[-15:]))
    return Timed(seconds)


def stop(proc: subprocess.Popen) -> None:
    """Ctrl+C (the CLI closes the index cleanly), then a kill if it does not end within a minute."""
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@dataclass
class IndexCounts:
    documents: int = 0  # every document row, whatever its status
    files: int = 0  # documents indexed ('ok')
    failed: int = 0
    left_out: int = 0  # documents the version recorded as left out (generated, vendored)
    passages: int = 0
    embedded: int = 0  # passages with a vector
    vectors: int = 0  # vectors computed: distinct text_hash among embedded passages, or `embedded`
    real_files: int = 0  # 'ok' documents outside every junk class
    real_passages: int = 0
    junk_stored: dict[str, int] = field(default_factory=dict)
    junk_embedded: dict[str, int] = field(default_factory=dict)


def read_index(db_path: Path) -> IndexCounts:
    """Counts from a data folder's SQLite file, opened read-only (a run may still be writing it)."""
    counts = IndexCounts()
    if not db_path.exists():
        return counts
    conn = sqlite3.connect(f"{db_path.as_uri()}?mode=ro", uri=True, timeout=30)
    try:
        for status, n in conn.execute("SELECT status, count(*) FROM documents GROUP BY status"):
            counts.documents += n
            if status == "ok":
                counts.files = n
            elif status == "failed":
                counts.failed = n
            else:
                counts.left_out += n
        counts.passages, counts.embedded = conn.execute(
            "SELECT count(*), count(vector) FROM passages").fetchone()
        columns = {row[1] for row in conn.execute("PRAGMA table_info(passages)")}
        counts.vectors = (conn.execute("SELECT count(DISTINCT text_hash) FROM passages "
                                       "WHERE vector IS NOT NULL").fetchone()[0]
                          if "text_hash" in columns else counts.embedded)
        rows = conn.execute("SELECT d.path, d.status, count(p.id), count(p.vector) FROM documents d "
                            "LEFT JOIN passages p ON p.document_id = d.id GROUP BY d.id")
        for path, status, stored, embedded in rows:
            junk = junk_class(path)
            if junk is None:
                if status == "ok":
                    counts.real_files += 1
                    counts.real_passages += stored
                continue
            counts.junk_stored[junk] = counts.junk_stored.get(junk, 0) + stored
            counts.junk_embedded[junk] = counts.junk_embedded.get(junk, 0) + embedded
    finally:
        conn.close()
    return counts


@dataclass
class Measured:
    label: str
    keyword: Timed
    embedding: Timed
    counts: IndexCounts
    library_files: int  # regular files under the library folder (links to files included)

    @property
    def embedded_counts(self) -> IndexCounts:
        """The index as the embedding run left it, or as it was when the run was stopped."""
        return self.embedding.at_stop or self.counts

    @property
    def projected(self) -> bool:
        """Stopped before every passage had a vector: the embedding time is then projected."""
        done = self.embedded_counts
        return self.embedding.at_stop is not None and done.embedded < done.passages

    @property
    def embed_seconds(self) -> float:
        """The embedding run's seconds; when stopped early, scaled from the share of passages embedded
        by then (assumes every stored passage gets a vector, at the rate so far)."""
        done = self.embedded_counts
        if not self.projected:
            return self.embedding.seconds
        return self.embedding.seconds * done.passages / done.embedded if done.embedded else float("nan")

    @property
    def passages_per_s(self) -> float:
        return self.embedded_counts.embedded / self.embedding.seconds if self.embedding.seconds else float("nan")

    @property
    def vectors_per_s(self) -> float:
        """Vectors computed per second: the encoder's real work."""
        return self.embedded_counts.vectors / self.embedding.seconds if self.embedding.seconds else float("nan")


def measure(version: Version, library: Path, workdir: Path, *, limit_s: float | None) -> Measured:
    """Both runs of one version on ``library``, in a fresh data folder, and the index they left."""
    check_imports_from(version)
    data_dir = Path(tempfile.mkdtemp(prefix="data-", dir=workdir))
    log = workdir / f"{data_dir.name}.log"
    print(f"{version.label}: indexing {library} into {data_dir} (log {log})", file=sys.stderr)
    keyword = cli(version, data_dir, ["index", str(library), "--no-embed"], log)
    print(f"{version.label}: keyword-searchable after {keyword.seconds:.1f} s; embedding", file=sys.stderr)
    embedding = cli(version, data_dir, ["index"], log, limit_s=limit_s)
    counts = read_index(data_dir / "index.sqlite3")
    return Measured(version.label, keyword, embedding, counts, count_files(library))


# --- the table ----------------------------------------------------------------------------------

def ratio(old: float, new: float) -> str:
    """old/new, "" when either is unknown or new is zero."""
    if new == 0 or old != old or new != new:  # NaN != NaN
        return ""
    return f"{old / new:.2f}x"


def number(value: float, *, seconds: bool = False) -> str:
    if value != value:
        return "n/a"
    if seconds:
        return f"{value:,.1f} s"
    return f"{int(value):,}" if value == int(value) else f"{value:,.1f}"


@dataclass(frozen=True)
class Row:
    name: str
    values: list[float]  # one per run
    seconds: bool = False
    projected: tuple[bool, ...] = ()  # per run: the value is projected from a run stopped early

    def cells(self) -> list[str]:
        projected = self.projected or (False,) * len(self.values)
        return [number(v, seconds=self.seconds) + (" (projected)" if p else "")
                for v, p in zip(self.values, projected, strict=True)]


def table_rows(runs: Sequence[Measured]) -> list[Row]:
    def per_real(m: Measured) -> float:
        return m.counts.real_passages / m.counts.real_files if m.counts.real_files else float("nan")

    projected = tuple(m.projected for m in runs)
    rows = [
        Row("files indexed", [m.counts.files for m in runs]),
        Row("files failed", [m.counts.failed for m in runs]),
        Row("files left out (generated)", [m.counts.left_out for m in runs]),
        Row("files not in the index (skipped by name)", [m.library_files - m.counts.documents for m in runs]),
        Row("passages stored", [m.counts.passages for m in runs]),
        Row("passages stored per real file", [per_real(m) for m in runs]),
        Row("passages embedded" + (" (at the stop)" if any(projected) else ""),
            [m.embedded_counts.embedded for m in runs]),
        Row("vectors computed" + (" (at the stop)" if any(projected) else ""),
            [m.embedded_counts.vectors for m in runs]),
        Row("time until keyword-searchable", [m.keyword.seconds for m in runs], seconds=True),
        Row("time to embed (2nd run)", [m.embed_seconds for m in runs], seconds=True, projected=projected),
        Row("time until fully embedded", [m.keyword.seconds + m.embed_seconds for m in runs], seconds=True,
            projected=projected),
        Row("passages embedded/s", [m.passages_per_s for m in runs]),
        Row("vectors computed/s", [m.vectors_per_s for m in runs]),
    ]
    rows += [Row(f"junk {name}: passages stored", [m.counts.junk_stored.get(name, 0) for m in runs])
             for name in JUNK_CLASSES]
    rows.append(Row("junk (all classes): passages embedded", [sum(m.counts.junk_embedded.values()) for m in runs]))
    return rows


def markdown_table(runs: Sequence[Measured]) -> str:
    """One column per run, and old/new when there are two."""
    header = ["", *(m.label for m in runs)] + (["old/new"] if len(runs) == 2 else [])
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in table_rows(runs):
        cells = row.cells()
        if len(runs) == 2:
            old_over_new = ratio(row.values[0], row.values[1])
            cells.append(f"{old_over_new} (projected)" if old_over_new and any(row.projected) else old_over_new)
        lines.append("| " + " | ".join([row.name, *cells]) + " |")
    return "\n".join(lines)


def checkout_label() -> str:
    head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                          capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()
    return f"this checkout ({head}{' + changes' if dirty else ''})"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--packages", nargs="+", default=list(DEFAULT_PACKAGES),
                        help="Debian packages whose documentation makes the library")
    parser.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE, help="where the .deb files are kept")
    parser.add_argument("--library", type=Path, help="an existing folder to index instead (no download)")
    parser.add_argument("--baseline", default=DEFAULT_BASELINE, help="the older commit to compare with")
    parser.add_argument("--skip-baseline", action="store_true", help="measure this checkout only")
    parser.add_argument("--limit-seconds", type=float,
                        help="stop each embedding run after this long; its time is then projected")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (data dirs, logs)")
    args = parser.parse_args(argv)

    workdir = Path(tempfile.mkdtemp(prefix="bench-real-library-"))
    try:
        if args.library:
            library = args.library.resolve()
        else:
            library = build_library(download_packages(args.packages, args.cache_dir), workdir)
        print(f"library: {library} ({count_files(library):,} files)", file=sys.stderr)
        versions = []
        if not args.skip_baseline:
            source = archive_commit(args.baseline, workdir / "baseline-src")
            versions.append(Version(f"baseline {args.baseline}", package_folder(source, workdir / "baseline-pkg")))
        versions.append(Version(checkout_label(), package_folder(REPO, workdir / "checkout-pkg")))
        runs = [measure(v, library, workdir, limit_s=args.limit_seconds) for v in versions]
        print(f"\nLibrary: {library} ({count_files(library):,} files); {os.cpu_count()} cores.\n")
        print(markdown_table(runs))
    finally:
        if args.keep:
            print(f"kept {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
