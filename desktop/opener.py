"""Opening the library (runs on the thread pool: it loads the ONNX model and touches SQLite).

A missing or damaged model is not fatal when an index already exists: the library opens without a
model and searches by words only, and the window says why. With no index and no model there is
nothing to search, and the window shows the message instead.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from librarian.engine.library import Library

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Opened:
    library: Library | None
    model_problem: str = ""  # opened without a model: words only, and this is why
    error: str = ""  # nothing could be opened


def open_library(data_dir: str | None, model_dir: str | None) -> Opened:
    from librarian.engine.errors import LibrarianError, ModelError
    from librarian.engine.library import Library

    try:
        # Every core embeds while nobody types; one while someone does (the search controller tells
        # the library, `Library.set_typing`), so the window stays responsive.
        return Opened(Library.open(data_dir, model_dir=model_dir))
    except ModelError as exc:
        log.error("cannot load the model: %s", exc)
        if Library.has_index(data_dir):
            try:
                return Opened(Library.open_keyword_only(data_dir), model_problem=str(exc))
            except LibrarianError as inner:
                return Opened(None, error=f"{exc}\n\nThe index could not be opened either: {inner}")
        return Opened(None, error=str(exc))
    except LibrarianError as exc:
        log.error("cannot open the library: %s", exc)
        return Opened(None, error=str(exc))
