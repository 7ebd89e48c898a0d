"""PPTX via python-pptx (MIT): one segment per slide, ``locator.page`` = slide number.

Text comes from every shape in z-order: text frames, tables, groups (recursively); speaker notes
are appended because people often write the real content there.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import ExtractionError
from ..userfiles import open_user_file
from ._common import Collector
from ._zipcheck import open_zip
from .base import Extracted, Locator


def _shape_texts(shapes: Any) -> Iterator[str]:
    todo = list(reversed(list(shapes)))
    while todo:
        shape = todo.pop()
        if getattr(shape, "shapes", None) is not None and shape.shape_type == 6:  # MSO_SHAPE_TYPE.GROUP
            todo.extend(reversed(list(shape.shapes)))
            continue
        if getattr(shape, "has_text_frame", False) and shape.has_text_frame:
            yield shape.text_frame.text
        elif getattr(shape, "has_table", False) and shape.has_table:
            rows = ("\t".join(cell.text for cell in row.cells) for row in shape.table.rows)
            yield "\n".join(rows)


def extract_pptx(path: Path) -> Extracted:
    from lxml import etree
    from pptx import Presentation
    from pptx.exc import PackageNotFoundError, PythonPptxError

    collector = Collector()
    first_title: str | None = None
    with open_user_file(path) as fh, open_zip(fh, "PPTX"):
        try:
            deck = Presentation(fh)
        except PackageNotFoundError as exc:
            raise ExtractionError("not a valid PPTX file") from exc
        except ValueError as exc:  # wrong content type: a .pptx that is some other package
            raise ExtractionError(f"not a PowerPoint presentation ({exc})") from exc
        except (KeyError, PythonPptxError, etree.XMLSyntaxError) as exc:
            raise ExtractionError("corrupt or truncated PPTX file") from exc
        try:
            core_title = (deck.core_properties.title or "").strip() or None
        except Exception:  # broken docProps must not lose the slides
            core_title = None
        for number, slide in enumerate(deck.slides, start=1):
            title_shape = slide.shapes.title
            slide_title = " ".join((title_shape.text_frame.text if title_shape is not None else "").split())
            first_title = first_title or slide_title or None
            texts = [t for t in _shape_texts(slide.shapes) if t.strip()]
            if slide.has_notes_slide:
                notes = slide.notes_slide.notes_text_frame
                if notes is not None and notes.text.strip():
                    texts.append(notes.text)
            collector.add("\n".join(texts), Locator(page=number, heading=slide_title or None))
            if collector.full:
                break
    return collector.result(core_title or first_title, "pptx", path)
