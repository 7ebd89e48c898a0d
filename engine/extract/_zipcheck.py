"""Open the zip container of DOCX / ODT / EPUB / PPTX files safely.

A zip bomb is a few megabytes on disk that inflate to gigabytes. python-docx, python-pptx and our
own ODT/EPUB readers read whole members into memory, so the central directory is checked *before*
any parser sees the file: total declared size, per-member compression ratio, number of members.

Declared sizes are trustworthy enough: ``zipfile`` stops inflating at a member's declared size and
then fails its CRC check, so a member that lies about its size errors out instead of growing. The
worker's memory limit (``isolate.py``) is the last line of defence behind this check.
"""

from __future__ import annotations

import contextlib
import os
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from ..errors import ExtractionError
from ..userfiles import open_user_file

MAX_TOTAL_BYTES = 512 * 1024 * 1024
MAX_RATIO = 200  # real office XML compresses 5-30x; 1 GB of zeros compresses ~1000x
RATIO_MIN_BYTES = 8 * 1024 * 1024  # small members may be as repetitive as they like
MAX_MEMBERS = 50_000


def _size(n: int) -> str:
    return f"{n / 2**30:.1f} GB" if n >= 2**30 else f"{n / 2**20:.0f} MB"


def check_zip(
    zf: zipfile.ZipFile,
    *,
    max_total: int | None = None,
    max_ratio: float | None = None,
    ratio_min_bytes: int | None = None,
) -> None:
    """Raise ExtractionError("zip bomb: ...") when the archive would inflate beyond the limits.

    Limits default to the module constants, read at call time so tests can lower them.
    """
    max_total = MAX_TOTAL_BYTES if max_total is None else max_total
    max_ratio = MAX_RATIO if max_ratio is None else max_ratio
    ratio_min_bytes = RATIO_MIN_BYTES if ratio_min_bytes is None else ratio_min_bytes
    infos = zf.infolist()
    if len(infos) > MAX_MEMBERS:
        raise ExtractionError(f"zip bomb: {len(infos):,} members")
    total = 0
    for info in infos:
        total += info.file_size
        if total > max_total:
            raise ExtractionError(f"zip bomb: over {_size(max_total)} uncompressed")
        if info.file_size >= ratio_min_bytes:
            ratio = info.file_size / max(info.compress_size, 1)
            if ratio > max_ratio:
                raise ExtractionError(
                    f"zip bomb: {info.filename!r} inflates {ratio:,.0f}x to {_size(info.file_size)}"
                )


@contextmanager
def open_zip(source: Path | BinaryIO, label: str) -> Iterator[zipfile.ZipFile]:
    """Open ``source`` (a path, or a user file already opened with `open_user_file`) as a checked
    zip; corrupt archives become ExtractionError naming ``label``.

    This is the only way extractors open a zip: every read of a member comes after `check_zip`.
    Libraries that open the package themselves (python-docx, python-pptx) get the same file object
    inside the ``with`` block, so the bytes they parse are the bytes that were checked.
    Errors raised while the caller reads members (bad CRC, truncated deflate stream) inside the
    ``with`` block are translated too, so each extractor needs only this one guard.
    """
    corrupt = f"corrupt or truncated {label} file"
    try:
        with contextlib.ExitStack() as stack:
            fh = stack.enter_context(open_user_file(source)) if isinstance(source, (str, os.PathLike)) else source
            zf = stack.enter_context(zipfile.ZipFile(fh))
            check_zip(zf)
            yield zf
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError) as exc:
        raise ExtractionError(corrupt) from exc
    except NotImplementedError as exc:  # unsupported compression method or encryption
        raise ExtractionError(f"unsupported {label} file ({exc})") from exc
    except RuntimeError as exc:
        if "encrypted" in str(exc) or "password" in str(exc):
            raise ExtractionError(f"encrypted {label} file") from exc
        raise


def read_prefix_of_member(zf: zipfile.ZipFile, name: str, limit: int) -> bytes:
    """The first ``limit`` inflated bytes of a member (b"" when absent): enough to sniff a type,
    never the whole of a member that may be a bomb."""
    try:
        with zf.open(name) as member:
            return member.read(limit)
    except KeyError:
        return b""


def read_member(zf: zipfile.ZipFile, name: str, label: str) -> bytes:
    """Read one member; a missing required member means the file is not really a ``label``."""
    try:
        return zf.read(name)
    except KeyError as exc:
        raise ExtractionError(f"not a valid {label} file ({name} is missing)") from exc
