"""PDF via pypdfium2 (Apache-2.0/BSD; PyMuPDF is AGPL): one segment per page, ``locator.page``.

PDFium is not thread-safe, "not even with different documents" (pypdfium2 docs). Extraction
workers are single-threaded processes, but in-process callers (tests, the CLI's ``--no-isolation``)
may use threads, so every PDFium call runs under one module lock.

The file is handed to PDFium as an open file object rather than a path: PDFium wants UTF-8 paths,
and a Linux file name that is not valid UTF-8 would fail to encode.

PDFium marks a hyphen it judged to be a line-break hyphenation with U+FFFE ("com\ufffemand"); the
marker is dropped and the halves joined so that "command" matches. A compound broken at its own
hyphen ("well-known" at a line end) then reads "wellknown": rarer than a hyphenated word, and the
marker does not say which it was. Lines are then joined into paragraphs and plain hyphenation
undone (`pdf_reflow`). A PDF with no Title field is titled by the largest text on its
first page, the way a reader recognises a title page; the file name stays the last resort.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from pathlib import Path

from ..errors import ExtractionError
from ..userfiles import open_user_file
from ._common import Collector
from .base import Extracted, Locator
from .pdf_reflow import document_words, reflow

_PDFIUM_LOCK = threading.Lock()

# The marker and any line break or spaces PDFium put between the two halves of the word.
_SOFT_HYPHEN = re.compile("\ufffe[ \t]*(?:\r\n|\r|\n)?[ \t]*")

# Title from page 1: only its first characters are looked at (a title sits at the top), the
# largest text must stand out from the body text by this factor, and it must read like a label.
TITLE_SCAN_CHARS = 3000
TITLE_SIZE_RATIO = 1.15
TITLE_SIZE_TOLERANCE = 0.5  # points: one title set in one size still varies by rounding
MIN_TITLE_CHARS, MAX_TITLE_CHARS = 3, 200

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
            pages: list[tuple[int, str]] = []
            read = 0
            for index in range(len(doc)):
                try:
                    page = doc[index]
                    textpage = page.get_textpage()
                    text = join_soft_hyphens(textpage.get_text_range())
                    if index == 0 and title is None:
                        title = largest_text(textpage)
                    textpage.close()
                    page.close()
                except pdfium.PdfiumError as exc:
                    # One bad page should not cost the rest of the document.
                    if index == 0 and len(doc) == 1:
                        raise ExtractionError(f"could not read the PDF's only page ({exc})") from exc
                    continue
                pages.append((index, text))
                read += len(text)
                if read > collector.max_chars:
                    break  # the collector keeps no more than this
        finally:
            doc.close()
    words = document_words([text for _, text in pages])
    for index, text in pages:
        collector.add(reflow(text, words), Locator(page=index + 1))
        if collector.full:
            break
    return collector.result(title, "pdf", path)


def join_soft_hyphens(text: str) -> str:
    """Drop PDFium's U+FFFE hyphenation marker and join the word it split ("com\ufffe\nmand")."""
    return _SOFT_HYPHEN.sub("", text) if "\ufffe" in text else text


def largest_text(textpage: object) -> str | None:
    """The first run of the largest text on a page, when it is clearly larger than the body text
    and reads like a title (a few words, some letters); else None, and the file name is used."""
    import pypdfium2.raw as pdfium_c

    count = min(pdfium_c.FPDFText_CountChars(textpage), TITLE_SCAN_CHARS)
    chars = [(chr(pdfium_c.FPDFText_GetUnicode(textpage, i)), pdfium_c.FPDFText_GetFontSize(textpage, i))
             for i in range(count)]
    sizes = Counter(round(size, 1) for char, size in chars if not char.isspace())
    if len(sizes) < 2:
        return None  # one size throughout: nothing stands out as a title
    largest = max(sizes)
    body = sizes.most_common(1)[0][0]
    if largest < body * TITLE_SIZE_RATIO:
        return None
    run: list[str] = []
    for char, size in chars:
        if char.isspace():
            if run:
                run.append(" ")  # generated spaces and line breaks inside the title
        elif size >= largest - TITLE_SIZE_TOLERANCE:
            run.append(char)
        elif run:
            break  # the title run ended at the first smaller character
    title = " ".join(join_soft_hyphens("".join(run)).split())
    if MIN_TITLE_CHARS <= len(title) <= MAX_TITLE_CHARS and sum(c.isalpha() for c in title) >= 2:
        return title
    return None
