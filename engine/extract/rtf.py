"""RTF via striprtf (BSD): control words stripped, then treated like plain text with line numbers.

RTF is 7-bit ASCII; non-ASCII characters arrive as ``\\'hh`` escapes in the code page that
``\\ansicpgNNNN`` declares (cp1252 when absent) or as ``\\uN`` escapes, which striprtf resolves.
"""

from __future__ import annotations

import codecs
import contextlib
import re
from pathlib import Path

from ..errors import ExtractionError
from ._common import MAX_TEXT_BYTES, Collector, read_prefix
from .base import Extracted
from .plain import text_segments
from .titles import text_title

_CODEPAGE = re.compile(rb"\\ansicpg(\d+)")
# The document's title in its {\info} group: "{\title Repairs needed before winter}".
_INFO_TITLE = re.compile(r"\{\\title\s+((?:[^{}\\]|\\[^{}])*)\}")


def extract_rtf(path: Path) -> Extracted:
    from striprtf.striprtf import rtf_to_text

    data, truncated = read_prefix(path, MAX_TEXT_BYTES)
    if not data.lstrip()[:5] == b"{\\rtf":
        raise ExtractionError("not a valid RTF file")
    encoding = "cp1252"
    m = _CODEPAGE.search(data[:4096])
    if m:
        with contextlib.suppress(LookupError):
            encoding = codecs.lookup(f"cp{int(m.group(1))}").name
    try:
        text = rtf_to_text(data.decode("latin-1"), encoding=encoding, errors="replace")
    except (ValueError, IndexError) as exc:  # malformed escapes and groups
        raise ExtractionError(f"corrupt RTF file ({exc})") from exc
    collector = Collector(keep_lines=True)
    text_segments(text, collector)
    collector.full = collector.full or truncated
    return collector.result(_info_title(data, encoding) or text_title(text), "rtf", path)


def _info_title(data: bytes, encoding: str) -> str | None:
    """The {\\title ...} of the {\\info} group, its escapes resolved; None when there is none."""
    from striprtf.striprtf import rtf_to_text

    m = _INFO_TITLE.search(data[:16384].decode("latin-1"))
    if m is None:
        return None
    try:
        return " ".join(rtf_to_text("{\\rtf1 " + m.group(1) + "}", encoding=encoding, errors="replace").split()) or None
    except (ValueError, IndexError):
        return None  # a broken title does not cost the text
