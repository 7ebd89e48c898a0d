"""Plain-text helpers shared by the result list, preview and status widgets (no Qt, easy to test)."""

from __future__ import annotations

import html
import os
from datetime import datetime

from librarian.engine.crawl import human_size
from librarian.engine.paths import display_path

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


def duration_text(seconds: float | None) -> str:
    if seconds is None or seconds != seconds or seconds < 0:
        return ""
    if seconds < 60:
        return "less than a minute"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"about {minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"about {hours} h {minutes:02d} min"


def count_text(n: int, singular: str, plural: str | None = None) -> str:
    return f"{n:,} {singular if n == 1 else (plural or singular + 's')}"


size_text = human_size  # one size format for the engine's messages and the window
