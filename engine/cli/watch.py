"""`librarian watch`: index once, then keep every root current until interrupted."""

from __future__ import annotations

import argparse
import sys
import time

from ..results import UpdateReport
from .common import open_library


def add_parser(sub) -> None:
    p = sub.add_parser("watch", help="keep the index current as files change (Ctrl-C stops)",
                       description="Bring the index up to date, then watch every root and re-index what changes.")
    p.set_defaults(run=run)


def _report(report: UpdateReport) -> None:
    if report.added or report.changed or report.removed or report.moved or report.failed:
        print(f"{time.strftime('%H:%M:%S')} {report.added} added, {report.changed} changed, {report.moved} moved, "
              f"{report.removed} removed, {report.failed} failed", file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    from ..watch import Watcher

    with open_library(args) as library:
        _report(library.update())
        watcher = Watcher(library, on_update=_report)
        watcher.start()
        print(f"watching {len(library.roots())} roots; Ctrl-C stops", file=sys.stderr, flush=True)
        try:
            while True:
                time.sleep(3600)
        finally:
            watcher.stop()
