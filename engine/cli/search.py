"""`librarian search QUERY`: ranked documents, as text or JSON; `--stdin` for one query per line.

Text output lists the hits above the relevance floor (`Hit.weak` False; `--all` adds the weaker
ones and says how many were hidden otherwise), each with why it matched ("meaning 0.71 · words:
sourdough") and its snippet, the matched words in bold on a terminal (`--color`). JSON holds every
hit, each with its ``weak`` flag, whatever ``--all`` says.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator
from datetime import datetime

from ..errors import LibrarianError
from ..paths import display_path
from ..results import MODES, Hit, SearchFilters, SearchResult
from .common import open_library


def add_parser(sub) -> None:
    p = sub.add_parser("search", help="search the index", description="Search by meaning and by words. "
                       'A "quoted phrase" must appear as written.')
    p.add_argument("query", nargs="?", help="what to look for (omit with --stdin)")
    p.add_argument("-k", type=int, default=10, help="how many documents (default 10)")
    p.add_argument("--mode", choices=MODES, default="hybrid", help="hybrid (default), dense (meaning), keyword (words)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--stdin", action="store_true", help="read one query per line; print one JSON object per line")
    p.add_argument("--folder", help="only documents under this folder")
    p.add_argument("--type", dest="kinds", action="append", default=[], help="only this kind (pdf, docx, markdown, ...)")
    p.add_argument("--after", help="modified on or after this date (YYYY-MM-DD)")
    p.add_argument("--before", help="modified before this date (YYYY-MM-DD)")
    p.add_argument("--all", action="store_true", help="also list the weaker matches (below the relevance floor)")
    p.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                   help="matched words in bold: auto (on a terminal, unless NO_COLOR is set), always, never")
    p.set_defaults(run=run)


BOLD, NORMAL = "\033[1m", "\033[22m"


def use_color(choice: str, stream=None) -> bool:
    """Whether to write ANSI bold: always / never, or auto: a terminal, and no NO_COLOR
    (https://no-color.org) in the environment."""
    if choice != "auto":
        return choice == "always"
    stream = stream if stream is not None else sys.stdout
    isatty = getattr(stream, "isatty", None)
    return not os.environ.get("NO_COLOR") and callable(isatty) and bool(isatty())


def marked(text: str, spans: tuple[tuple[int, int], ...], *, color: bool) -> str:
    """``text`` with each [start, end) span in bold (overlapping spans merged); unchanged without color."""
    if not color:
        return text
    out, pos = [], 0
    for start, end in sorted((max(0, s), min(len(text), e)) for s, e in spans):
        start = max(start, pos)
        if end <= start:
            continue
        out += [text[pos:start], BOLD, text[start:end], NORMAL]
        pos = end
    out.append(text[pos:])
    return "".join(out)


def hit_lines(rank: int, hit: Hit, *, color: bool) -> list[str]:
    """How one hit reads in a terminal: title, path and place, why it matched, the snippet."""
    where = f" ({hit.locator})" if str(hit.locator) else ""
    title = f"{BOLD}{hit.title}{NORMAL}" if color else hit.title
    weaker = "  (weaker match)" if hit.weak else ""
    why = hit.why or hit.matched
    more = f" · +{hit.other_passages} more passage{'s' if hit.other_passages != 1 else ''}" if hit.other_passages else ""
    copies = [f"   also in: {also_in(hit.duplicates)}"] if hit.duplicates else []
    return [f"{rank}. {title}{weaker}", f"   {hit.display_path}{where}", *copies, f"   {why}{more}",
            f"   {marked(hit.snippet, hit.highlights, color=color)}"]


SHOWN_COPIES = 3


def also_in(paths: tuple[str, ...]) -> str:
    """The other files holding the same or nearly the same text as a hit (folded into it)."""
    shown = ", ".join(display_path(p) for p in paths[:SHOWN_COPIES])
    return shown + (f" (+{len(paths) - SHOWN_COPIES} more)" if len(paths) > SHOWN_COPIES else "")


def _date(text: str | None, flag: str) -> float | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError as exc:
        raise LibrarianError(f"{flag} wants a date like 2024-05-31, not {text!r}") from exc


def _filters(args: argparse.Namespace) -> SearchFilters | None:
    from pathlib import Path

    folder = str(Path(args.folder).expanduser().resolve()) if args.folder else None
    after, before = _date(args.after, "--after"), _date(args.before, "--before")
    if not (folder or args.kinds or after or before):
        return None
    return SearchFilters(folder=folder, kinds=tuple(args.kinds), modified_after=after, modified_before=before)


def _result_json(result: SearchResult) -> dict:
    return {"query": result.query, "took_ms": round(result.took_ms, 3),
            "timings_ms": {k: round(v, 3) for k, v in result.timings_ms.items()},
            "notes": list(result.notes), "results": [h.to_json() for h in result.hits]}


def _stdin_lines() -> Iterator[str]:
    """Standard input line by line, read as UTF-8 whatever the locale says; bytes that are not
    UTF-8 become U+FFFD (a query is text, and one bad byte must not end the whole batch)."""
    raw = getattr(sys.stdin, "buffer", None)
    if raw is None:  # stdin replaced by a text stream (tests, an embedding program)
        yield from sys.stdin
        return
    for line in raw:
        yield line.decode("utf-8", "replace")


def _print_notes(result: SearchResult) -> None:
    for note in result.notes:
        print(f"librarian: note: {note}", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    if args.stdin == bool(args.query):
        raise LibrarianError("give a QUERY or --stdin, not both or neither")
    filters = _filters(args)
    with open_library(args) as library:
        if args.stdin:
            for line in _stdin_lines():
                query = line.strip()
                if not query:
                    continue
                result = library.search(query, k=args.k, mode=args.mode, filters=filters)
                sys.stdout.write(json.dumps(_result_json(result), ensure_ascii=False) + "\n")
                sys.stdout.flush()
            return 0
        result = library.search(args.query, k=args.k, mode=args.mode, filters=filters)
        _print_notes(result)
        if not library.roots():
            print("the library is empty: add a folder with `librarian index PATH`", file=sys.stderr)
    if args.json:
        json.dump([h.to_json() for h in result.hits], sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        return 0
    hits = result.hits if args.all else result.strong
    hidden = len(result.hits) - len(hits)
    if not result.hits:
        print("no results")
    elif not hits:
        print("no close matches")
    color = use_color(args.color)
    for rank, hit in enumerate(hits, start=1):
        print("\n".join(hit_lines(rank, hit, color=color)))
    if hidden:
        print(f"{hidden} weaker match{'es' if hidden != 1 else ''} hidden: --all shows them")
    print(f"({result.took_ms:.0f} ms)", file=sys.stderr)
    return 0
