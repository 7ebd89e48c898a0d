"""The result list as a `QAbstractListModel`: one row per document (the engine groups passages by
file), rows handed to the view in batches through `canFetchMore`/`fetchMore`. Tested without widgets.
"""

from __future__ import annotations

from enum import IntEnum

from librarian.engine.results import Hit, SearchResult
from PySide6.QtCore import QAbstractListModel, QByteArray, QModelIndex, QPersistentModelIndex, Qt

from .formatting import MATCHED_TEXT, file_name, folder_of, highlighted_html, modified_text

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


class ResultsModel(QAbstractListModel):
    def __init__(self, parent=None, *, batch_size: int = 20) -> None:
        super().__init__(parent)
        self.batch_size = batch_size
        self._hits: tuple[Hit, ...] = ()
        self._loaded = 0
        self.query = ""
        self.mode = ""
        self.took_ms = 0.0

    # -- filling ------------------------------------------------------------------------------------
    def set_result(self, result: SearchResult | None) -> None:
        self.beginResetModel()
        self._hits = result.hits if result else ()
        self._loaded = min(self.batch_size, len(self._hits))
        self.query = result.query if result else ""
        self.mode = result.mode if result else ""
        self.took_ms = result.took_ms if result else 0.0
        self.endResetModel()

    def clear(self) -> None:
        self.set_result(None)

    @property
    def total(self) -> int:
        """All hits of the current result, loaded into rows or not yet."""
        return len(self._hits)

    def hit(self, row: int) -> Hit | None:
        return self._hits[row] if 0 <= row < self._loaded else None

    # -- Qt model interface ---------------------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else self._loaded

    def canFetchMore(self, parent: Index = QModelIndex()) -> bool:  # noqa: B008
        return not parent.isValid() and self._loaded < len(self._hits)

    def fetchMore(self, parent: Index = QModelIndex()) -> None:  # noqa: B008
        if parent.isValid():
            return
        count = min(self.batch_size, len(self._hits) - self._loaded)
        if count <= 0:
            return
        self.beginInsertRows(QModelIndex(), self._loaded, self._loaded + count - 1)
        self._loaded += count
        self.endInsertRows()

    def roleNames(self) -> dict[int, QByteArray]:
        names = super().roleNames()
        names.update({int(r): QByteArray(r.name.lower().encode()) for r in Role})
        return names

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < self._loaded:
            return None
        hit = self._hits[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return hit.title or file_name(hit.path)
        if role == Qt.ItemDataRole.ToolTipRole:
            return hit.display_path  # Qt drops what is not UTF-8; open hit.path itself
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
            return folder_of(hit.path)
        if role == Role.MODIFIED:
            return modified_text(hit.modified)
        if role == Role.SNIPPET_HTML:
            return highlighted_html(hit.snippet, hit.highlights)
        if role == Role.LOCATOR:
            return str(hit.locator)
        if role == Role.MATCHED:
            return MATCHED_TEXT.get(hit.matched, hit.matched)
        if role == Role.MORE:
            return more_text(hit)
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren


def more_text(hit: Hit) -> str:
    parts = []
    if hit.other_passages:
        n = hit.other_passages
        parts.append(f"+{n} more passage{'s' if n != 1 else ''} in this file")
    if hit.duplicates:
        n = len(hit.duplicates)
        parts.append(f"{n} identical cop{'ies' if n != 1 else 'y'}")
    return " · ".join(parts)
