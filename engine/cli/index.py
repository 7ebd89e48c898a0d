"""`librarian index PATH...`: add folders or files as roots and bring the index up to date."""

from __future__ import annotations

import argparse
import sys

from ..results import Progress
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
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=run)


class ProgressBar:
    """tqdm bars fed by the indexer's progress callback: files first, then passages embedded."""

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
            unit = "file" if p.phase == "indexing" else "passage"
            self.bar = tqdm(total=total, unit=unit, desc=p.phase, file=sys.stderr, dynamic_ncols=True, leave=True)
        if self.bar is None:
            return
        if self.phase == "indexing":
            self.bar.total = max(p.files_total, 1)
            self.bar.n = p.files_done
            self.bar.set_postfix(passages=p.passages, embedded=p.embedded, failed=p.files_failed, refresh=False)
        else:
            self.bar.total = max(p.to_embed, 1)
            self.bar.n = p.embedded
            self.bar.set_postfix(rate=f"{p.rate:.0f}/s", refresh=False)
        self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


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
        bar = ProgressBar(enabled=not args.quiet and sys.stderr.isatty())
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
