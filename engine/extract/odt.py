"""ODT (OpenDocument text): ``content.xml`` read with the standard library, no odfpy.

Headings (``text:h`` with an outline level) build heading paths; paragraphs, lists, sections,
tables and text boxes are read in document order. Tables of contents are skipped: they repeat the
headings. Footnote bodies stay inline where they are cited, comments (``office:annotation``) go.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from ..errors import ExtractionError
from ._common import Collector, HeadingSections
from ._zipcheck import open_zip, read_member
from .base import Extracted

TEXT = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"
TABLE = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
OFFICE = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"
DC = "{http://purl.org/dc/elements/1.1/}"
_SKIP = {TEXT + "table-of-content", TEXT + "note-citation", OFFICE + "annotation", TEXT + "tracked-changes",
         TEXT + "alphabetical-index", TEXT + "illustration-index", TEXT + "sequence-decls"}


def parse_xml(data: bytes, label: str, name: str) -> ET.Element:
    """Parse package XML. A DOCTYPE has no business in OpenDocument/EPUB package files and is how
    entity-expansion bombs arrive, so it is refused outright."""
    if b"<!DOCTYPE" in data[:4096] or b"<!ENTITY" in data[:65536]:
        raise ExtractionError(f"unsafe {label} file ({name} declares a DOCTYPE)")
    try:
        return ET.fromstring(data)
    except ET.ParseError as exc:
        raise ExtractionError(f"corrupt {label} file ({name}: {exc})") from exc


def inline_text(el: ET.Element) -> str:
    """Text of a paragraph-like element: spans, links, spaces (``text:s c=N``), tabs, breaks."""
    parts: list[str] = []
    todo: list[Any] = [el]
    while todo:
        item = todo.pop()
        if isinstance(item, str):  # a tail, queued after its element's children
            parts.append(item)
            continue
        tag = item.tag
        if tag in _SKIP:
            if item.tail and item is not el:
                todo.append(item.tail)
            continue
        if tag == TEXT + "s":
            count = item.get(TEXT + "c") or "1"
            # Capped: a hostile c="1000000000" must not become a gigabyte of spaces.
            parts.append(" " * min(int(count) if count.isdigit() else 1, 100))
        elif tag == TEXT + "tab":
            parts.append("\t")
        elif tag == TEXT + "line-break":
            parts.append("\n")
        elif tag in (TEXT + "p", TEXT + "h") and item is not el:
            parts.append("\n")  # paragraph inside a frame or note body
        if item.tail and item is not el:
            todo.append(item.tail)
        todo.extend(reversed(list(item)))
        if item.text:
            parts.append(item.text)
    return "".join(parts)


def _table_text(table: ET.Element) -> str:
    rows = []
    for row in table.iter(TABLE + "table-row"):
        cells = []
        for cell in row:
            if cell.tag != TABLE + "table-cell":
                continue
            # Nested tables are left out here: table.iter() reaches their rows on its own.
            texts = (inline_text(child).strip() for child in cell if child.tag != TABLE + "table")
            cells.append(" ".join(t for t in texts if t))
        if any(cells):
            rows.append("\t".join(cells))
    return "\n".join(rows)


def extract_odt(path: Path) -> Extracted:
    with open_zip(path, "ODT") as zf:
        root = parse_xml(read_member(zf, "content.xml", "ODT"), "ODT", "content.xml")
        meta_title = None
        if "meta.xml" in zf.namelist():
            title_el = parse_xml(zf.read("meta.xml"), "ODT", "meta.xml").find(f".//{DC}title")
            meta_title = (title_el.text or "").strip() if title_el is not None else None

    body = root.find(f"{OFFICE}body/{OFFICE}text")
    collector = Collector()
    sections = HeadingSections(collector)
    todo = list(reversed(list(body))) if body is not None else []
    while todo and not collector.full:
        el = todo.pop()
        tag = el.tag
        if tag in _SKIP:
            continue
        if tag == TEXT + "h":
            text = " ".join(inline_text(el).split())
            raw_level = el.get(TEXT + "outline-level") or "1"
            level = int(raw_level) if raw_level.isdigit() else 1
            if text:
                sections.heading(level, text)
        elif tag == TEXT + "p":
            sections.add(inline_text(el))
        elif tag == TABLE + "table":
            sections.add(_table_text(el))
        else:  # lists, list items, sections, frames: containers, read their children in order
            todo.extend(reversed(list(el)))
    sections.flush()
    return collector.result(meta_title or sections.first_heading, "odt", path)
