"""Opening the library (runs on the thread pool: it loads the ONNX model and touches SQLite).

A missing or damaged model is not fatal when an index already exists: the library opens without a
model and searches by words only, and the window says why. With no index and no model there is
nothing to search, and the window shows the message instead.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Opened:
    library: object | None  # librarian.engine.library.Library
    model_problem: str = ""  # opened without a model: words only, and this is why
    error: str = ""  # nothing could be opened


def open_library(data_dir: str | None, model_dir: str | None) -> Opened:
    from librarian.engine.encoders import load_model
    from librarian.engine.errors import LibrarianError, ModelError
    from librarian.engine.library import DB_NAME, Library, default_data_dir

    try:
        # One encoder thread for indexing: the other core stays with the window, so typing stays
        # responsive while a folder is embedded (the CLI uses two).
        model = load_model(Path(model_dir) if model_dir else None, passage_threads=1)
        return Opened(Library.open(data_dir, model=model))
    except ModelError as exc:
        log.error("cannot load the model: %s", exc)
        path = Path(data_dir).expanduser() if data_dir else default_data_dir()
        if (path / DB_NAME).exists():
            try:
                return Opened(Library(path, None), model_problem=str(exc))
            except LibrarianError as inner:
                return Opened(None, error=f"{exc}\n\nThe index could not be opened either: {inner}")
        return Opened(None, error=str(exc))
    except LibrarianError as exc:
        log.error("cannot open the library: %s", exc)
        return Opened(None, error=str(exc))
