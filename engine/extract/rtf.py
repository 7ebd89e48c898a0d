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

_CODEPAGE = re.compile(rb"\\ansicpg(\d+)")


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
    return collector.result(None, "rtf", path)
