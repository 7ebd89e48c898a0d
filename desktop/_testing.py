"""Helpers for the GUI tests, the screenshot script and the latency benchmark (not used by the app):
a small folder of documents, and a context whose library opens in a temporary data dir."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .actions import Actions
from .context import AppContext
from .opener import Opened
from .settings import Settings

if TYPE_CHECKING:
    from librarian.engine.library import Library

DOCS = {
    "garden/tomatoes.md": "# Growing tomatoes\n\nTomatoes need full sun, deep watering and a stake. "
                          "Pinch out the side shoots every week so the plant puts its energy into fruit.\n",
    "garden/compost.txt": "Compost turns kitchen scraps and autumn leaves into rich dark soil. Keep the heap "
                          "moist and turn it every few weeks.\n",
    "money/taxes-2024.txt": "The quarterly tax return is due at the end of April. Keep every receipt for "
                            "deductible expenses in one folder.\n",
    "money/budget.md": "# Household budget\n\n## Groceries\n\nWe spend about 400 euros a month on food.\n\n"
                       "## Rent\n\nThe rent goes up by three percent in September.\n",
    "travel/alps.md": "# Alps trip\n\nDay one: the train to Innsbruck, then the bus to the valley. "
                      "The hut serves barley soup and bread dumplings.\n",
}


def write_docs(root: Path, docs: dict[str, str] | None = None) -> Path:
    for rel, text in (docs or DOCS).items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


class RecordingActions(Actions):
    """Records what would be opened, revealed or copied instead of launching anything."""

    def __init__(self) -> None:
        self.opened: list[str] = []
        self.revealed: list[str] = []
        self.copied: list[str] = []

    def open(self, path: str) -> bool:
        self.opened.append(path)
        return True

    def reveal(self, path: str) -> bool:
        self.revealed.append(path)
        return True

    def copy(self, text: str) -> None:
        self.copied.append(text)


def make_context(tmp: Path, open_library: Callable[[], Library | Opened], **kwargs: Any) -> AppContext:
    """A context for a test window: settings in ``tmp``, no watcher, no update at open, recorded actions."""

    def opener() -> Opened:
        result = open_library()
        return result if isinstance(result, Opened) else Opened(result)

    options: dict[str, Any] = {"watch": False, "update_on_open": False, "actions": RecordingActions()}
    options.update(kwargs)
    return AppContext(settings=Settings(tmp / "settings.ini"), open_library=opener, **options)
