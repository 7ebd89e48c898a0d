"""`librarian` with no command: the desktop app where there is a screen, else a search prompt in the
terminal. Either way, a library with no folders yet gets the bundled demo library first."""

from __future__ import annotations

import argparse
import os
import sys

from .common import demo_library_path, open_library
from .search import hit_lines, use_color


def has_display() -> bool:
    if sys.platform in ("win32", "darwin"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")) or \
        os.environ.get("QT_QPA_PLATFORM") == "offscreen"


def add_parser(sub) -> None:
    p = sub.add_parser("shell", help="search from a prompt in the terminal",
                       description="Index the demo library if no folder was added yet, then read queries from a "
                                   "prompt and print results (empty line or Ctrl-D quits).")
    p.set_defaults(run=run)


def _tolerate_undecodable_input() -> None:
    """Bytes the terminal's encoding cannot decode become U+FFFD instead of ending the session
    with a UnicodeDecodeError: a query is text."""
    reconfigure = getattr(sys.stdin, "reconfigure", None)
    if reconfigure is not None:
        reconfigure(errors="replace")


def run(args: argparse.Namespace) -> int:
    from .index import ProgressBar

    with open_library(args) as library:
        if not library.roots():
            print(f"No folders yet: indexing the demo library ({demo_library_path()}).", file=sys.stderr)
            library.add_folder(demo_library_path())
        bar = ProgressBar(enabled=sys.stderr.isatty())
        try:
            library.update(progress=bar)
        finally:
            bar.close()
        status = library.status()
        print(f"{status.documents} documents, {status.passages} passages. Type a query "
              "(try: fast automobile); an empty line quits.", file=sys.stderr)
        _tolerate_undecodable_input()
        while True:
            try:
                query = input("search> ").strip()
            except EOFError:
                break
            if not query:
                break
            result = library.search(query, k=5)
            color = use_color("auto")
            for note in result.notes:
                print(f"  note: {note}")
            strong = result.strong
            if not result.hits:
                print("  no results")
            elif not strong:
                print(f"  no close matches ({len(result.hits)} weaker: `librarian search --all` lists them)")
            for rank, hit in enumerate(strong, start=1):
                print("\n".join("  " + line for line in hit_lines(rank, hit, color=color)))
            print(f"  ({result.took_ms:.0f} ms)")
    return 0
