"""The Problems view: files that could not be read (`Status.failed`), with the reason, so nothing is
silently missing from the index."""

from __future__ import annotations

from librarian.engine.results import Failure
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from .delegate import PlainToolTipDelegate
from .formatting import count_text, file_name, folder_of


class ProblemsModel(QAbstractTableModel):
    HEADERS = ("File", "Folder", "Problem")

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._failures: tuple[Failure, ...] = ()

    def set_failures(self, failures: tuple[Failure, ...] | list[Failure]) -> None:
        failures = tuple(sorted(failures, key=lambda f: f.path))
        if failures == self._failures:
            return
        self.beginResetModel()
        self._failures = failures
        self.endResetModel()

    def failure(self, row: int) -> Failure | None:
        return self._failures[row] if 0 <= row < len(self._failures) else None

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._failures)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.HEADERS[section]
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        failure = self.failure(index.row()) if index.isValid() else None
        if failure is None:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return (file_name(failure.path), folder_of(failure.path), failure.reason)[index.column()]
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{failure.display_path}\n{failure.reason}"
        if role == Qt.ItemDataRole.UserRole:
            return failure.path
        return None


class ProblemsDialog(QDialog):
    reveal_requested = Signal(object)  # an OS path: a Qt string would drop the bytes that are not UTF-8
    copy_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Problems")
        self.resize(760, 380)
        self.model = ProblemsModel(self)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setItemDelegate(PlainToolTipDelegate(self.table))  # tooltips hold paths and reasons
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.setWordWrap(False)
        self.table.setAlternatingRowColors(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.table.doubleClicked.connect(self._reveal)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.reveal_button = QPushButton("Show in folder")
        self.copy_button = QPushButton("Copy list")
        buttons.addButton(self.reveal_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.reveal_button.clicked.connect(self._reveal)
        self.copy_button.clicked.connect(self._copy)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        layout.addWidget(buttons)
        self.set_failures(())

    def set_failures(self, failures, warnings=()) -> None:
        """``failures`` could not be read; ``warnings`` were indexed only in part (shown with the
        reason prefixed, so a truncated file is never mistaken for a whole one)."""
        partly = [Failure(w.path, f"indexed in part: {w.reason}") for w in warnings]
        self.model.set_failures(tuple(failures) + tuple(partly))
        failed, n = len(failures), self.model.rowCount()
        parts = []
        if failed:
            parts.append(f"{count_text(failed, 'file')} could not be read and {'is' if failed == 1 else 'are'} "
                         "not searchable. Fix or remove them; they are retried when they change.")
        if partly:
            parts.append(f"{count_text(len(partly), 'file')} {'was' if len(partly) == 1 else 'were'} "
                         "indexed only in part (see why beside each).")
        self.summary.setText(" ".join(parts) or "Every file in your folders was read.")
        self.reveal_button.setEnabled(n > 0)
        self.copy_button.setEnabled(n > 0)

    @Slot()
    def _reveal(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        row = rows[0].row() if rows else 0
        failure = self.model.failure(row)
        if failure is not None:
            self.reveal_requested.emit(failure.path)

    @Slot()
    def _copy(self) -> None:
        lines = [f"{self.model.failure(r).display_path}\t{self.model.failure(r).reason}"  # type: ignore[union-attr]
                 for r in range(self.model.rowCount())]
        self.copy_requested.emit("\n".join(lines))
