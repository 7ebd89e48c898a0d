"""`librarian status`, `check` and `forget`."""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from types import SimpleNamespace

from ..paths import display_path
from .common import open_library, print_json


def _status_parser(sub) -> None:
    p = sub.add_parser("status", help="what is indexed, and what failed", description="Show roots, counts and failures.")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=_status)


def _status(args: argparse.Namespace) -> int:
    with open_library(args) as library:
        status = library.status()
        mismatch = library.model_mismatch
    if args.json:
        print_json(status.to_json())
        return 0
    print(f"data dir:  {status.data_dir}")
    print(f"model:     {status.model}" + (f" (index embedded with {mismatch[0]}: run `librarian index`)" if mismatch else ""))
    print("roots:     " + (", ".join(map(display_path, status.roots)) or "none (add one with `librarian index PATH`)"))
    print(f"documents: {status.documents}")
    words_only = f", {status.keyword_only} kept for words only: changelogs, logs" if status.keyword_only else ""
    print(f"passages:  {status.passages} ({status.embedded} embedded{words_only})")
    if status.failed:
        print(f"failed:    {len(status.failed)}")
        for failure in status.failed:
            print(f"  {failure.display_path}: {failure.reason}")
    if status.warnings:
        print(f"indexed in part: {len(status.warnings)}")
        for warning in status.warnings:
            print(f"  {warning.display_path}: {warning.reason}")
    if status.left_out:
        print(f"left out as generated: {len(status.left_out)}")
        for item in status.left_out:
            print(f"  {item.display_path}: {item.reason}")
    return 0


def _check_parser(sub) -> None:
    p = sub.add_parser("check", help="verify the vector index against SQLite",
                       description="Verify the index file, and that every stored vector is in the vector index, "
                                   "unchanged, and nothing else is. Exits 1 when not ok, 75 while an index run "
                                   "is in progress. With --repair, a damaged index file is kept aside and a "
                                   "fresh index of the same folders is started.")
    p.add_argument("--json", action="store_true")
    p.add_argument("--repair", action="store_true", help="heal what differs")
    p.set_defaults(run=_check)


def _check(args: argparse.Namespace) -> int:
    from ..errors import IndexDamagedError

    try:
        with open_library(args) as library:
            report = library.check(repair=args.repair)
    except IndexDamagedError:
        if not args.repair:
            raise
        report = _rebuild(args)
    if args.json:
        print_json(report.to_json())
    else:
        for key, value in report.to_json().items():
            print(f"{key}: {value}")
    return 0 if report.ok else 1


def _rebuild(args: argparse.Namespace):
    """A damaged SQLite file cannot be repaired in place: keep it aside and start a fresh index of
    the same folders (`set_aside_damaged_index`), then tell the user to index again."""
    from ..library import set_aside_damaged_index

    kept, roots = set_aside_damaged_index(args.data_dir)
    with open_library(args) as library:
        report = library.check()
    print(f"the damaged index was kept as {kept}; a fresh index of {len(roots)} folder(s) was started. "
          "Your own files were not touched: run `librarian index` to index them again", file=sys.stderr)
    return replace(report, repaired=report.ok)


def _forget_parser(sub) -> None:
    p = sub.add_parser("forget", help="remove a root and everything indexed under it",
                       description="Remove a root and everything indexed under it. Your files are untouched.")
    p.add_argument("path", metavar="PATH")
    p.set_defaults(run=_forget)


def _forget(args: argparse.Namespace) -> int:
    with open_library(args) as library:
        removed = library.forget(args.path)
    print(f"forgot {args.path}: {removed} documents removed from the index", file=sys.stderr)
    return 0


status = SimpleNamespace(add_parser=_status_parser)
check = SimpleNamespace(add_parser=_check_parser)
forget = SimpleNamespace(add_parser=_forget_parser)
