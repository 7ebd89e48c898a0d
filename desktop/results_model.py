"""The result list as a `QAbstractListModel`: one row per document (the engine groups passages by
file), rows handed to the view in batches through `canFetchMore`/`fetchMore`. Tested without widgets.

A search as you type asks the engine for one page of documents (the first screens: a page costs a
third of what 50 documents cost on a real library). When the view scrolls past the last of them
and the engine may hold more (`more_available`), `fetchMore` emits `more_wanted` once; the wider
search's new documents are then appended (`extend`), the rows already shown staying as they are.

Hits below the engine's relevance floor (`Hit.weak`) are not rows at first: after the strong hits
comes one row, "Show 5 weaker matches" (`Role.TOGGLE`), that `show_weak` replaces with them.
"""

from __future__ import annotations

from enum import IntEnum

from librarian.engine.paths import display_path
from librarian.engine.results import Hit, Locator, SearchResult
from PySide6.QtCore import QAbstractListModel, QByteArray, QModelIndex, QPersistentModelIndex, Qt, Signal

from .formatting import (
    MATCHED_TEXT,
    count_text,
    file_name,
    folder_in_root,
    folder_of,
    heading_below_title,
    highlighted_html,
    modified_text,
)

Index = QModelIndex | QPersistentModelIndex


class Role(IntEnum):
    HIT = Qt.ItemDataRole.UserRole + 1
    PATH = Qt.ItemDataRole.UserRole + 2
    KIND = Qt.ItemDataRole.UserRole + 3
    FILE_NAME = Qt.ItemDataRole.UserRole + 4
    FOLDER = Qt.ItemDataRole.UserRole + 5
    MODIFIED = Qt.ItemDataRole.UserRole + 6
    SNIPPET_HTML = Qt.ItemDataRole.UserRole + 7
    LOCATOR = Qt.ItemDataRole.UserRole + 8
    MATCHED = Qt.ItemDataRole.UserRole + 9
    MORE = Qt.ItemDataRole.UserRole + 10
    WHY = Qt.ItemDataRole.UserRole + 11  # "meaning 0.71 · words: sourdough, starter"
    WEAK = Qt.ItemDataRole.UserRole + 12  # below the relevance floor
    TOGGLE = Qt.ItemDataRole.UserRole + 13  # the "Show N weaker matches" row: that link; None on hits


class ResultsModel(QAbstractListModel):
    more_wanted = Signal()  # every hit is a row and the engine may hold more: search wider

    def __init__(self, parent=None, *, batch_size: int = 20) -> None:
        super().__init__(parent)
        self.batch_size = batch_size
        self._hits: tuple[Hit, ...] = ()  # the rows there are to load: strong hits, then weak if shown
        self._weak: tuple[Hit, ...] = ()  # weak hits behind the toggle row, until `show_weak`
        self._weak_shown = False
        self._loaded = 0
        self.more_available = False  # the engine stopped at the number asked: a wider search finds more
        self._more_asked = False
        self.query = ""
        self.mode = ""
        self.took_ms = 0.0

    # -- filling ------------------------------------------------------------------------------------
    def set_result(self, result: SearchResult | None, *, more: bool = False) -> None:
        """Show ``result``; ``more``: the engine may hold further documents (see `more_wanted`)."""
        self.beginResetModel()
        hits = result.hits if result else ()
        self._hits = tuple(hit for hit in hits if not hit.weak)
        self._weak = tuple(hit for hit in hits if hit.weak)
        self._weak_shown = False
        self._loaded = min(self.batch_size, len(self._hits))
        self.more_available = more and result is not None
        self._more_asked = False
        self.query = result.query if result else ""
        self.mode = result.mode if result else ""
        self.took_ms = result.took_ms if result else 0.0
        self.endResetModel()

    def extend(self, result: SearchResult, *, more: bool) -> int:
        """Append the documents of a wider search for the same query that are not rows yet (the rows
        shown keep their places); returns how many. Strong ones join the strong hits (before the
        toggle row, if any), weak ones the weak hits (rows at once if those are shown)."""
        known = {hit.path for hit in (*self._hits, *self._weak)}
        new = [hit for hit in result.hits if hit.path not in known]
        strong = tuple(hit for hit in new if not hit.weak)
        weak = tuple(hit for hit in new if hit.weak)
        self.beginResetModel()  # rows may move past the toggle row; the view restores its place
        all_loaded = self._loaded == len(self._hits)
        if self._weak_shown:
            self._hits = self._hits + strong + weak
        else:
            self._hits = self._hits + strong
            self._weak = self._weak + weak
        if all_loaded:  # the list was at its end: the next batch shows at once
            self._loaded = min(len(self._hits), self._loaded + self.batch_size)
        self.more_available = more
        self._more_asked = False
        self.endResetModel()
        return len(new)

    def clear(self) -> None:
        self.set_result(None)

    @property
    def total(self) -> int:
        """All hits of the current result, strong and weak, loaded into rows or not yet."""
        return len(self._hits) + len(self._weak)

    @property
    def strong(self) -> int:
        """The hits above the relevance floor."""
        return sum(not hit.weak for hit in self._hits)

    @property
    def hidden(self) -> int:
        """Weak hits still behind the toggle row."""
        return len(self._weak)

    def hit(self, row: int) -> Hit | None:
        return self._hits[row] if 0 <= row < self._loaded else None

    def toggle_row(self) -> int | None:
        """The row of "Show N weaker matches", once every strong hit is a row; None when there is none."""
        return self._loaded if self._weak and self._loaded == len(self._hits) else None

    def show_weak(self) -> None:
        """Replace the toggle row with the weak hits (the first batch of them)."""
        row = self.toggle_row()
        if row is None:
            return
        self.beginRemoveRows(QModelIndex(), row, row)
        weak, self._weak = self._weak, ()
        self.endRemoveRows()
        self._hits = self._hits + weak
        self._weak_shown = True
        count = min(self.batch_size, len(weak))
        self.beginInsertRows(QModelIndex(), row, row + count - 1)
        self._loaded += count
        self.endInsertRows()

    def toggle_link(self) -> str:
        """The clickable part of the toggle row: "Show 5 weaker matches"."""
        n = len(self._weak)
        return f"Show {n} weaker match{'es' if n != 1 else ''}"

    def toggle_text(self) -> str:
        """The toggle row's sentence: with no strong hit it first says so."""
        if self._hits:
            return self.toggle_link()
        return f"No close matches for “{self.query.strip()}”. {self.toggle_link()}"

    # -- Qt model interface ---------------------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else self._loaded + (self.toggle_row() is not None)

    def canFetchMore(self, parent: Index = QModelIndex()) -> bool:  # noqa: B008
        return not parent.isValid() and (self._loaded < len(self._hits) or self._can_ask_more())

    def _can_ask_more(self) -> bool:
        # Behind a toggle row a wider search would only add weaker matches: not before they are shown.
        return self.more_available and not self._more_asked and self.toggle_row() is None

    def fetchMore(self, parent: Index = QModelIndex()) -> None:  # noqa: B008
        if parent.isValid():
            return
        count = min(self.batch_size, len(self._hits) - self._loaded)
        if count <= 0:
            if self._can_ask_more():
                self._more_asked = True
                self.more_wanted.emit()
            return
        toggle = bool(self._weak) and self._loaded + count == len(self._hits)  # the toggle row follows
        self.beginInsertRows(QModelIndex(), self._loaded, self._loaded + count - 1 + toggle)
        self._loaded += count
        self.endInsertRows()

    def roleNames(self) -> dict[int, QByteArray]:
        names = super().roleNames()
        names.update({int(r): QByteArray(r.name.lower().encode()) for r in Role})
        return names

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        if index.row() == self.toggle_row():
            return self._toggle_data(role)
        if not 0 <= index.row() < self._loaded:
            return None
        hit = self._hits[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return hit.title or file_name(hit.path)
        if role == Qt.ItemDataRole.ToolTipRole:  # Qt drops what is not UTF-8; open hit.path itself
            return hit.display_path + copies_tooltip(hit)
        if role == Qt.ItemDataRole.AccessibleDescriptionRole:
            return f"{file_name(hit.path)} in {folder_of(hit.path)}. {hit.snippet}"
        if role == Role.HIT:
            return hit
        if role == Role.PATH:
            return hit.path
        if role == Role.KIND:
            return hit.kind
        if role == Role.FILE_NAME:
            return file_name(hit.path)
        if role == Role.FOLDER:
            return folder_in_root(hit.path, hit.root) if hit.root else folder_of(hit.path)
        if role == Role.MODIFIED:
            return modified_text(hit.modified)
        if role == Role.SNIPPET_HTML:
            return highlighted_html(hit.snippet, hit.highlights)
        if role == Role.LOCATOR:
            heading = heading_below_title(hit.locator.heading, hit.title)
            return str(Locator(page=hit.locator.page, heading=heading, line=hit.locator.line))
        if role == Role.MATCHED:
            return MATCHED_TEXT.get(hit.matched, hit.matched)
        if role == Role.MORE:
            return more_text(hit)
        if role == Role.WHY:
            return hit.why or MATCHED_TEXT.get(hit.matched, hit.matched)
        if role == Role.WEAK:
            return hit.weak
        return None

    def _toggle_data(self, role: int):
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return self.toggle_text()
        if role == Role.TOGGLE:
            return self.toggle_link()
        if role == Qt.ItemDataRole.ToolTipRole:
            return "Matches below the relevance floor: they share little with your search (Enter shows them)"
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren


def more_text(hit: Hit) -> str:
    parts = []
    if hit.other_passages:
        parts.append(f"+{count_text(hit.other_passages, 'more passage')} in this file")
    if hit.duplicates:
        # folded copies: the same text, or nearly (a few lines changed: engine/similar.py)
        parts.append(f"also in {count_text(len(hit.duplicates), 'other file')}")
    return " · ".join(parts)


TOOLTIP_COPIES = 5


def copies_tooltip(hit: Hit) -> str:
    """The tooltip's lines naming the files folded into ``hit`` (same or nearly the same text)."""
    if not hit.duplicates:
        return ""
    lines = [display_path(p) for p in hit.duplicates[:TOOLTIP_COPIES]]
    if len(hit.duplicates) > TOOLTIP_COPIES:
        lines.append(f"and {len(hit.duplicates) - TOOLTIP_COPIES} more")
    return "\nAlso in:\n" + "\n".join(lines)
