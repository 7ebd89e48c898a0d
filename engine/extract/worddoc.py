"""DOCX via python-docx (MIT): body walked in order, paragraphs and tables (nested too), sections
per heading.

``Document.paragraphs`` misses tables, text boxes and content controls, and ``Paragraph.text``
drops text inside revision marks (python-docx #413, #868, #803; PITFALLS §7). So python-docx only
opens the package and gives us styles and core properties; the text is read from the XML directly:
every ``w:t`` of a paragraph, inserted revisions included, deleted ones (``w:delText``) not. The
copy of a text box that Word keeps for old readers (``mc:Fallback``) is skipped so it is not read
twice.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import ExtractionError
from ..userfiles import open_user_file
from ._common import Collector, HeadingSections
from ._zipcheck import open_zip
from .base import Extracted

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
MC_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"
_HEADING_NAME = re.compile(r"^heading\s*([1-9])$", re.IGNORECASE)
# Containers whose children are body-level content (content controls, custom XML, smart tags).
_WRAPPERS = {W + "sdt", W + "sdtContent", W + "customXml", W + "smartTag"}


def _paragraph_text(p: Any) -> str:
    parts: list[str] = []
    todo = [p]
    while todo:
        el = todo.pop()
        tag = el.tag
        if tag == MC_FALLBACK:
            continue
        if tag == W + "t":
            parts.append(el.text or "")
        elif tag == W + "tab":
            parts.append("\t")
        elif tag in (W + "br", W + "cr"):
            parts.append("\n")
        elif tag == W + "noBreakHyphen":
            parts.append("-")
        elif tag == W + "p" and el is not p:
            parts.append("\n")  # a paragraph inside a text box
        todo.extend(reversed(list(el)))
    return "".join(parts)


class _Styles:
    """Heading level per style id, following ``basedOn`` so custom styles built on "Heading 2" count."""

    def __init__(self, styles_element: Any) -> None:
        self.info: dict[str, tuple[str, str | None, int | None]] = {}
        if styles_element is None:
            return
        for style in styles_element.iter(W + "style"):
            sid = style.get(W + "styleId")
            name_el = style.find(W + "name")
            based = style.find(W + "basedOn")
            outline = style.find(f"{W}pPr/{W}outlineLvl")
            level = None
            if outline is not None and (outline.get(W + "val") or "").isdigit():
                level = int(outline.get(W + "val")) + 1
            name = name_el.get(W + "val") if name_el is not None else ""
            if sid:
                self.info[sid] = (name or "", based.get(W + "val") if based is not None else None, level)

    def level(self, style_id: str | None) -> int | None:
        """1-9 for headings, 0 for the Title style, None for body text."""
        for _ in range(10):  # basedOn chains can loop in broken files
            if style_id is None or style_id not in self.info:
                return None
            name, based, outline = self.info[style_id]
            if name.lower() == "title":
                return 0
            m = _HEADING_NAME.match(name)
            if m:
                return int(m.group(1))
            if outline is not None and outline <= 9:
                return outline
            style_id = based
        return None


def _blocks(container: Any) -> Iterator[tuple[str, Any]]:
    """Yield ("p", w:p) and ("tbl", w:tbl) in document order, looking through wrappers."""
    todo = list(reversed(list(container)))
    while todo:
        el = todo.pop()
        if el.tag == W + "p":
            yield "p", el
        elif el.tag == W + "tbl":
            yield "tbl", el
        elif el.tag in _WRAPPERS:
            todo.extend(reversed(list(el)))


def _table_text(tbl: Any) -> str:
    """Rows on lines, cells separated by tabs; nested tables inline in their cell."""
    rows = []
    for tr in tbl.iter(W + "tr"):
        if _owning_table(tr) is not tbl:
            continue  # a row of a nested table: read with its cell
        cells = []
        for tc in tr.iter(W + "tc"):
            if _owning_table(tc) is not tbl:
                continue
            texts = []
            for kind, el in _blocks(tc):
                texts.append(_paragraph_text(el) if kind == "p" else _table_text(el))
            cells.append(" ".join(t.strip() for t in texts if t.strip()))
        if any(cells):
            rows.append("\t".join(cells))
    return "\n".join(rows)


def _owning_table(el: Any) -> Any:
    parent = el.getparent()
    while parent is not None and parent.tag != W + "tbl":
        parent = parent.getparent()
    return parent


def extract_docx(path: Path) -> Extracted:
    import docx
    from docx.opc.exceptions import PackageNotFoundError
    from lxml import etree

    with open_user_file(path) as fh, open_zip(fh, "DOCX"):
        try:
            document = docx.Document(fh)
        except PackageNotFoundError as exc:
            raise ExtractionError("not a valid DOCX file") from exc
        except ValueError as exc:  # python-docx: "not a Word file, content type is ..."
            raise ExtractionError(f"not a Word document ({exc})") from exc
        except (KeyError, etree.XMLSyntaxError) as exc:
            raise ExtractionError("corrupt or truncated DOCX file") from exc
        body = document.element.body
        styles = _Styles(document.styles.element)
        try:
            core_title = (document.core_properties.title or "").strip() or None
        except Exception:  # broken docProps must not lose the text
            core_title = None

        collector = Collector()
        sections = HeadingSections(collector)
        for kind, el in _blocks(body):
            if collector.full:
                break
            if kind == "tbl":
                sections.add(_table_text(el))
                continue
            text = _paragraph_text(el)
            style = el.find(f"{W}pPr/{W}pStyle")
            level = styles.level(style.get(W + "val") if style is not None else None)
            if level is not None and text.strip():
                sections.heading(level, " ".join(text.split()), body=text)
            else:
                sections.add(text)
        sections.flush()
        if not collector.segments and not collector.full:
            # Content in structures we do not walk (exotic wrappers): better all words than none.
            words = " ".join(t.text or "" for t in body.iter(W + "t"))
            collector.add(words)
    return collector.result(core_title or sections.first_heading, "docx", path)
