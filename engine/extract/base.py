"""The extraction contract: a file on disk becomes a title and a list of located text segments.

Each format lives in its own module and registers one `Extractor` for its suffixes (and, where a
suffix lies, a sniffed signature). Extractors raise `ExtractionError` with a short reason a user can
read ("not a valid PDF", "encrypted", "zip bomb: 2.1 GB uncompressed"); anything else they raise is
a bug that the isolation layer still reports as a failure of that file, never a crash of the run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Locator:
    """Where in its document a piece of text sits, so a result can open at the right place."""

    page: int | None = None  # 1-based page (PDF) or slide (PPTX)
    heading: str | None = None  # heading path, "Intro › Setup"
    line: int | None = None  # 1-based first line (code, plain text)

    def to_dict(self) -> dict[str, int | str]:
        return {k: v for k, v in (("page", self.page), ("heading", self.heading), ("line", self.line)) if v is not None}

    @classmethod
    def from_dict(cls, data: dict | None) -> Locator:
        data = data or {}
        return cls(page=data.get("page"), heading=data.get("heading"), line=data.get("line"))

    def __str__(self) -> str:
        parts = []
        if self.page is not None:
            parts.append(f"page {self.page}")
        if self.heading:
            parts.append(self.heading)
        if self.line is not None and self.page is None:
            parts.append(f"line {self.line}")
        return " · ".join(parts)


@dataclass(frozen=True, slots=True)
class Segment:
    """A run of text with one locator: a page, a section under one heading, a block of code lines."""

    text: str
    locator: Locator = field(default_factory=Locator)


@dataclass(frozen=True, slots=True)
class Extracted:
    """What an extractor returns. ``title`` falls back to the file name when the format has none."""

    title: str
    segments: list[Segment]
    kind: str  # short format name: "text", "markdown", "code", "html", "pdf", "docx", ...
    # True when the text was cut at the size cap (see ``_common.MAX_CHARS``); the last segment then
    # ends with a note saying so. Added after the first contract, hence the default.
    truncated: bool = False
    # Problems a user should see next to an indexed file: it was read, but not all of it made it
    # into the index ("text truncated: only the first 5,000,000 characters are indexed"). Empty for
    # most files; the chunker adds its own (`chunk.Chunked.notes`).
    notes: tuple[str, ...] = ()
    # Read, and kept out of the index on purpose (machine output: `exclusions.generated_reason`):
    # why. Such a file has no segments and is recorded with the status "left_out".
    left_out: str | None = None


ExtractFn = Callable[[Path], Extracted]


@dataclass(frozen=True, slots=True)
class Extractor:
    kind: str
    suffixes: tuple[str, ...]
    extract: ExtractFn
