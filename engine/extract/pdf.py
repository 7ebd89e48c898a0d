"""PDF via pypdfium2 (Apache-2.0/BSD; PyMuPDF is AGPL): one segment per page, ``locator.page``.

PDFium is not thread-safe, "not even with different documents" (pypdfium2 docs). Extraction
workers are single-threaded processes, but in-process callers (tests, the CLI's ``--no-isolation``)
may use threads, so every PDFium call runs under one module lock.

The file is handed to PDFium as an open file object rather than a path: PDFium wants UTF-8 paths,
and a Linux file name that is not valid UTF-8 would fail to encode.
"""

from __future__ import annotations

import threading
from pathlib import Path

from ..errors import ExtractionError
from ..userfiles import open_user_file
from ._common import Collector
from .base import Extracted, Locator

_PDFIUM_LOCK = threading.Lock()

# PDFium's FPDF_ERR_* codes, as the reason a user reads.
_LOAD_ERRORS = {
    1: "unknown PDF error",
    2: "file not found or could not be opened",
    3: "not a valid PDF (corrupt or truncated)",
    4: "encrypted (password required)",
    5: "unsupported PDF security handler",
    6: "page not found or content error",
}


def extract_pdf(path: Path) -> Extracted:
    import pypdfium2 as pdfium

    collector = Collector()
    title = None
    with _PDFIUM_LOCK, open_user_file(path) as fh:
        try:
            doc = pdfium.PdfDocument(fh)
        except pdfium.PdfiumError as exc:
            code = getattr(exc, "err_code", None)
            reason = _LOAD_ERRORS.get(code) if isinstance(code, int) else None
            raise ExtractionError(reason or f"not a valid PDF ({exc})") from exc
        try:
            try:
                title = (doc.get_metadata_dict().get("Title") or "").strip() or None
            except pdfium.PdfiumError:
                title = None  # broken metadata does not make the text unreadable
            for index in range(len(doc)):
                try:
                    page = doc[index]
                    textpage = page.get_textpage()
                    text = textpage.get_text_range()
                    textpage.close()
                    page.close()
                except pdfium.PdfiumError as exc:
                    # One bad page should not cost the rest of the document.
                    if index == 0 and len(doc) == 1:
                        raise ExtractionError(f"could not read the PDF's only page ({exc})") from exc
                    continue
                collector.add(text, Locator(page=index + 1))
                if collector.full:
                    break
        finally:
            doc.close()
    return collector.result(title, "pdf", path)
