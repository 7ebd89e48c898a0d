"""`librarian index PATH...`: add folders or files as roots and bring the index up to date."""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, replace
from typing import Literal, TextIO

from ..results import Progress, duration_text
from .common import demo_library_path, open_library


def add_parser(sub) -> None:
    p = sub.add_parser("index", help="add folders/files and bring the index up to date",
                       description="Add each PATH as a library root (a folder or a single file), then index "
                                   "new, changed, moved and deleted files of every root. With no PATH and no "
                                   "roots yet, indexes the bundled demo library.")
    p.add_argument("paths", nargs="*", metavar="PATH")
    p.add_argument("--no-embed", action="store_true", help="store passages for keyword search only; embed later")
    p.add_argument("--rehash", action="store_true",
                   help="re-read every file to catch changes that kept the size and modification time "
                        "(slower; only files whose content changed are indexed again)")
    p.add_argument("--progress", choices=("auto", "bar", "plain", "json"), default="auto",
                   help="how progress is shown on stderr: a bar, a plain line per step (every 2 s or 5%%), "
                        "or a JSON object per line for scripts; auto (default): a bar on a terminal, "
                        "plain lines otherwise")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress output")
    p.set_defaults(run=run)


def about(seconds: float | None) -> str:
    """ "about 3 min left" (`duration_text`); "" when unknown."""
    text = duration_text(seconds)
    return f"{text} left" if text else ""


def _percent(done: int, total: int) -> int:
    """Rounded down: 100 only when all is done."""
    return done * 100 // total if total else 100


def rate_text(p: Progress) -> str:
    """ "41/s, about 3 min left" while passages are left to embed; "paused" while paused."""
    if p.paused:
        return "paused"
    if p.embedded >= p.to_embed:
        return ""
    return ", ".join(part for part in (f"{p.rate:,.0f}/s" if p.rate > 0 else "", about(p.eta_s)) if part)


def meaning_text(p: Progress) -> str:
    """ "meaning 2,340/9,812 passages (23%), 41/s, about 3 min left": this run's embedding."""
    if not p.to_embed:
        return "meaning: nothing new to embed"
    done = f"meaning {p.embedded:,}/{p.to_embed:,} passages ({_percent(p.embedded, p.to_embed)}%)"
    rate = rate_text(p)
    return f"{done}, {rate}" if rate else done


def progress_line(p: Progress) -> str:
    """One line per step for a log or a pipe (`--progress plain`)."""
    if p.phase == "scanning":
        return f"scanning: {p.files_seen:,} file{'' if p.files_seen == 1 else 's'}"
    if p.phase == "indexing":
        line = f"indexing {p.files_done:,}/{p.files_total:,} files, {p.passages:,} passages"
        if p.files_failed:
            line += f", {p.files_failed:,} failed"
        return line + (f"; {meaning_text(p)}" if p.to_embed else "")
    if p.phase == "embedding":
        return meaning_text(p)
    return f"done: {p.files_done:,}/{p.files_total:,} files, " + meaning_text(p)


def _step(p: Progress) -> int:
    """Which 5% step the run is at, in its phase (a line is due when it changes)."""
    if p.phase == "indexing":
        return _percent(p.files_done, p.files_total) // 5
    if p.phase == "embedding":
        return _percent(p.embedded, p.to_embed) // 5
    return 0


class LineProgress:
    """A line to ``stream`` per phase, then every ``every_s`` seconds or 5% of the phase, whichever
    comes first, and a final line: readable in a log, cheap in a pipe. ``json``: one JSON object per
    line instead (every `Progress` field), for scripts."""

    def __init__(self, stream: TextIO, *, json_lines: bool = False, every_s: float = 2.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.stream = stream
        self.json_lines = json_lines
        self.every_s = every_s
        self.clock = clock
        self._phase = ""
        self._step = -1
        self._last = -math.inf
        self._pending: Progress | None = None  # the newest state not yet written
        self._written = ""  # the last line: an unchanged state is not written again

    def __call__(self, p: Progress) -> None:
        now = self.clock()
        due = (p.phase != self._phase or p.phase == "done" or _step(p) != self._step
               or now - self._last >= self.every_s)
        if not due:
            self._pending = p
            return
        if p.phase != self._phase and self._phase:
            # How the phase ended (its counts as of now: "indexing 150/150 files"), before the next.
            self._write(replace(p, phase=self._phase))
        self._phase, self._step, self._last = p.phase, _step(p), now
        self._write(p)

    def _write(self, p: Progress) -> None:
        self._pending = None
        if self.json_lines:
            record = asdict(p)
            record["rate"] = round(p.rate, 2)
            record["eta_s"] = None if p.eta_s is None else round(p.eta_s)
            line = json.dumps(record)
        else:
            line = progress_line(p)
        if line == self._written:
            return
        self._written = line
        self.stream.write(line + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self._pending is not None:
            self._write(self._pending)


class ProgressBar:
    """tqdm bars fed by the indexer's progress callback: files first, then passages embedded. One
    rate (the indexer's: passages embedded per second, recent) and its ETA; tqdm's own are left out."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.bar = None
        self.phase = ""

    def __call__(self, p: Progress) -> None:
        if not self.enabled:
            return
        from tqdm import tqdm

        if p.phase != self.phase and p.phase in ("indexing", "embedding"):
            self.close()
            self.phase = p.phase
            total = p.files_total if p.phase == "indexing" else p.to_embed
            unit = "files" if p.phase == "indexing" else "passages"
            self.bar = tqdm(total=total, desc="indexing" if p.phase == "indexing" else "meaning", file=sys.stderr,
                            dynamic_ncols=True, leave=True,
                            bar_format="{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} " + unit + "{postfix}")
        if self.bar is None:
            return
        if p.phase == "done" and self.phase == "embedding":
            self.bar.total = max(p.to_embed, 1)
            self.bar.n = p.embedded if p.to_embed else 1
            self.bar.set_postfix_str("", refresh=False)
        elif self.phase == "indexing":
            self.bar.total = max(p.files_total, 1)
            self.bar.n = p.files_done if p.files_total else (1 if p.phase == "done" else 0)
            extra = f", {p.files_failed:,} failed" if p.files_failed else ""
            meaning = f"; {meaning_text(p)}" if p.to_embed else ""
            self.bar.set_postfix_str(f"{p.passages:,} passages{extra}{meaning}", refresh=False)
        else:
            self.bar.total = max(p.to_embed, 1)
            self.bar.n = p.embedded if p.to_embed else (1 if p.phase == "done" else 0)
            self.bar.set_postfix_str(rate_text(p), refresh=False)
        self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


ProgressMode = Literal["auto", "bar", "plain", "json"]


def progress_reporter(mode: ProgressMode, *, quiet: bool = False, stream: TextIO | None = None) -> ProgressBar | LineProgress:
    """The progress output ``--progress`` asks for: ``auto`` is a bar on a terminal, plain lines
    otherwise (a log, a pipe, CI); ``-q`` silences any."""
    stream = stream if stream is not None else sys.stderr
    if quiet:
        return ProgressBar(enabled=False)
    if mode == "auto":
        mode = "bar" if stream.isatty() else "plain"
    if mode == "bar":
        return ProgressBar(enabled=True)
    return LineProgress(stream, json_lines=mode == "json")


def run(args: argparse.Namespace) -> int:
    with open_library(args) as library:
        paths = list(args.paths)
        if not paths and not library.roots():
            paths = [str(demo_library_path())]
            print(f"no folders yet: indexing the demo library ({paths[0]})", file=sys.stderr)
        for path in paths:
            library.add_folder(path)
        if library.model_mismatch:
            old, new = library.model_mismatch
            print(f"the index was embedded with {old}; re-embedding every passage with {new}", file=sys.stderr)
        bar = progress_reporter(args.progress, quiet=args.quiet)
        try:
            report = library.update(progress=bar, embed=not args.no_embed, rehash=args.rehash)
        finally:
            bar.close()
        status = library.status()
    print(f"{report.added} added, {report.changed} changed, {report.moved} moved, {report.removed} removed, "
          f"{report.failed} failed, {report.unchanged} unchanged; {report.embedded} passages embedded "
          f"in {report.seconds:.1f} s. Index: {status.documents} documents, {status.passages} passages.",
          file=sys.stderr)
    if status.failed:
        print(f"{len(status.failed)} files could not be indexed: see `librarian status`", file=sys.stderr)
    return 0
