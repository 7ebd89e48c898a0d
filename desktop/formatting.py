"""Plain-text helpers shared by the result list, preview and status widgets (no Qt, easy to test)."""

from __future__ import annotations

import html
import os
from datetime import datetime

from librarian.engine.crawl import human_size
from librarian.engine.paths import display_path
from librarian.engine.results import duration_text  # noqa: F401  (the views take it from here)

MATCHED_TEXT = {
    "words": "matched your words",
    "meaning": "matched by meaning",
    "both": "matched words and meaning",
}


def file_name(path: str) -> str:
    """The shown name of an OS path (U+FFFD for bytes that are not UTF-8: Qt would drop them)."""
    return display_path(os.path.basename(path.rstrip("/\\")) or path)


def home_short(path: str, *, home: str | None = None) -> str:
    """``path`` with the home folder written as ``~``, for showing (see `file_name`)."""
    path = display_path(path)
    home = display_path(home if home is not None else os.path.expanduser("~"))
    if home and home not in ("/", "") and (path == home or path.startswith(home + os.sep)):
        return "~" + path[len(home):]
    return path


def folder_of(path: str, *, home: str | None = None) -> str:
    return home_short(os.path.dirname(path.rstrip("/\\")), home=home)


def heading_below_title(heading: str | None, title: str, *, keep_title: bool = False) -> str | None:
    """A heading path less the document's own title at its head ("Guide › Install" in "Guide" reads
    "Install"): the title is shown just above it. A heading that is the title alone gives None, or
    itself with ``keep_title`` (the preview says which section it shows, even the first)."""
    if not heading:
        return None
    if heading.casefold() == title.casefold():
        return heading if keep_title else None
    head = title + " › "
    return heading[len(head):] if title and heading.startswith(head) else heading


def folder_in_root(path: str, root: str) -> str:
    """The folder of ``path`` named from its library folder: "Documents/recipes" for
    ~/Documents/recipes/loaf.txt under the root ~/Documents; the root's own name for a file at its
    top. The full path stays one tooltip away; every row repeating it only hides what differs."""
    folder = os.path.dirname(path.rstrip("/\\"))
    root = root.rstrip("/\\") or root
    try:
        relative = os.path.relpath(folder, root)
    except ValueError:  # another drive (Windows)
        return folder_of(path)
    if relative == os.pardir or relative.startswith(os.pardir + os.sep):
        return folder_of(path)  # not under the root after all
    name = display_path(os.path.basename(root)) or display_path(root)
    return name if relative == os.curdir else f"{name}{os.sep}{display_path(relative)}"


def modified_text(timestamp: float, *, now: datetime | None = None) -> str:
    if not timestamp:
        return ""
    when = datetime.fromtimestamp(timestamp)
    now = now or datetime.now()
    days = (now.date() - when.date()).days
    if days == 0:
        return f"today {when:%H:%M}"
    if days == 1:
        return "yesterday"
    if 0 < days < 7:
        return when.strftime("%A")
    if when.year == now.year:
        return f"{when.day} {when:%b}"
    return f"{when.day} {when:%b %Y}"


def highlighted_html(text: str, spans: tuple[tuple[int, int], ...] | list, *, tag: str = "b") -> str:
    """``text`` as HTML with each [start, end) span wrapped in ``<tag>``; overlapping spans merge."""
    merged: list[list[int]] = []
    for start, end in sorted((max(0, int(s)), min(len(text), int(e))) for s, e in spans):
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    out, pos = [], 0
    for start, end in merged:
        out.append(html.escape(text[pos:start]))
        out.append(f"<{tag}>{html.escape(text[start:end])}</{tag}>")
        pos = end
    out.append(html.escape(text[pos:]))
    return "".join(out)


def plain_html(text: str) -> str:
    """``text`` as HTML that shows exactly as written, markup and all.

    For the Qt widgets that guess whether a string is HTML (``Qt::mightBeRichText``) and have no
    plain-text switch: tooltips and the static ``QMessageBox`` helpers. Titles, subjects and paths come
    from the user's files, and a file is free to name itself ``<a href=…>verify here</a>``. The same
    escaping as Qt's own ``convertFromPlainText``, with line breaks and runs of spaces kept."""
    return f'<p style="white-space:pre-wrap">{html.escape(text)}</p>'




def count_text(n: int, singular: str, plural: str | None = None) -> str:
    return f"{n:,} {singular if n == 1 else (plural or singular + 's')}"


size_text = human_size  # one size format for the engine's messages and the window
