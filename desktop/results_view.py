"""The left side of the window: the result list (model, delegate, lazy rows) or, when there is nothing
to list, a sentence that says why and what to try. Keyboard: the search box drives it through
`navigate`; Enter / Ctrl+Enter on the list ask to open / reveal; typing goes back to the box. The
"Show N weaker matches" row opens with a click, Enter or Space, and the first weaker match is then
selected."""

from __future__ import annotations

from librarian.engine.results import Hit, SearchResult, Status
from PySide6.QtCore import QEvent, QItemSelectionModel, QModelIndex, QObject, Qt, Signal, Slot
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QAbstractItemView, QLabel, QLineEdit, QListView, QStackedWidget, QWidget

from .delegate import HitDelegate
from .formatting import count_text
from .results_model import ResultsModel
from .search_bar import ForwardTyping


def message_text(query: str, status: Status | None, *, indexing: bool, filtered: bool, words_only: bool) -> str:
    """What the list area says when it has no rows."""
    if not query.strip():
        if status is None:
            return "Type to search."
        if status.documents == 0 and indexing:
            return "Reading your files… you can start typing: results appear as files are read."
        return (f"Type to search {count_text(status.documents, 'document')}.\n\n"
                "Ask a question or type a few words. ↑ ↓ move through the results, Enter opens, "
                "Ctrl+Enter shows the file in its folder.")
    hints = []
    if filtered:
        hints.append("clear the filters")
    if words_only:
        hints.append("search by meaning as well as words")
    if indexing:
        hints.append("wait for indexing to finish")
    text = f"Nothing found for “{query.strip()}”."
    if hints:
        text += "\n\nTry to " + ", or ".join(hints) + "."
    return text


class _EnterKeys(QObject):
    def __init__(self, view: ResultsView) -> None:
        super().__init__(view)
        self.view = view

    def eventFilter(self, _watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.KeyPress:
            key_event: QKeyEvent = event  # type: ignore[assignment]
            if key_event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space) and self.view.on_toggle():
                self.view.show_weak()
                return True
            if key_event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                self.view.activated.emit(bool(key_event.modifiers() & Qt.KeyboardModifier.ControlModifier))
                return True
        return False


class ResultsView(QStackedWidget):
    current_changed = Signal(object)  # Hit or None
    activated = Signal(bool)  # open the current result (True: show it in its folder instead)
    weak_shown = Signal(int)  # the weaker matches were revealed: how many rows the list now has

    def __init__(self, search_box: QLineEdit, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = ResultsModel(self)
        self.list = QListView()
        self.list.setModel(self.model)
        self.list.setItemDelegate(HitDelegate(self.list))
        self.list.setUniformItemSizes(False)  # the "Show N weaker matches" row is one line high
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setAccessibleName("Results")
        self.list.doubleClicked.connect(self._double_clicked)
        self.list.clicked.connect(self._clicked)
        self.list.selectionModel().currentChanged.connect(self._current_changed)
        self.list.installEventFilter(ForwardTyping(search_box, self.list))
        self.list.installEventFilter(_EnterKeys(self))
        self.message = QLabel()
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setWordWrap(True)
        self.message.setTextFormat(Qt.TextFormat.PlainText)  # quotes the query back
        self.message.setMargin(24)
        self.message.setEnabled(False)
        self.addWidget(self.message)
        self.addWidget(self.list)

    def show_result(self, result: SearchResult, *, more: bool = False) -> None:
        """Show ``result`` instead of what is listed; ``more``: the engine may hold more documents."""
        # A refresh of the same query (after indexing) keeps the selection; a new query starts at the top.
        current = self.current_hit() if result.query == self.model.query else None
        self.model.set_result(result, more=more)
        if not self.model.total:
            self.current_changed.emit(None)
            return
        self.setCurrentWidget(self.list)
        row = 0  # the first strong hit, or the toggle row when there is none
        if current is not None:
            paths = [hit.path if (hit := self.model.hit(r)) else None for r in range(self.model.rowCount())]
            row = paths.index(current.path) if current.path in paths else 0
        self.select_row(row)

    def extend_result(self, result: SearchResult, *, more: bool) -> None:
        """Append the new documents of a wider search for the listed query, the list staying where it
        was scrolled and the same row selected."""
        current = self.current_hit()
        scrolled = self.list.verticalScrollBar().value()
        self.model.extend(result, more=more)
        if current is not None:
            paths = [hit.path if (hit := self.model.hit(r)) else None for r in range(self.model.rowCount())]
            if current.path in paths:
                index = self.model.index(paths.index(current.path), 0)
                self.list.selectionModel().setCurrentIndex(index, QItemSelectionModel.SelectionFlag.ClearAndSelect)
        self.list.verticalScrollBar().setValue(scrolled)

    def clear(self) -> None:
        self.model.clear()
        self.current_changed.emit(None)

    def show_message(self, text: str) -> None:
        self.message.setText(text)
        self.setCurrentWidget(self.message)

    def current_hit(self) -> Hit | None:
        index = self.list.currentIndex()
        return self.model.hit(index.row()) if index.isValid() else None

    def select_row(self, row: int) -> None:
        index = self.model.index(row, 0)
        if index.isValid():
            self.list.selectionModel().setCurrentIndex(index, QItemSelectionModel.SelectionFlag.ClearAndSelect)
            self.list.scrollTo(index)

    @Slot(int)
    def navigate(self, key: int) -> None:
        rows = self.model.rowCount()
        if not rows:
            return
        row = self.list.currentIndex().row() if self.list.currentIndex().isValid() else -1
        page = max(1, self.list.viewport().height() // max(self.list.sizeHintForRow(0), 1))
        step = {Qt.Key.Key_Up: -1, Qt.Key.Key_Down: 1, Qt.Key.Key_PageUp: -page, Qt.Key.Key_PageDown: page}
        target = row + step.get(Qt.Key(key), 0)
        if target >= rows and self.model.canFetchMore(QModelIndex()):
            self.model.fetchMore(QModelIndex())
            rows = self.model.rowCount()
        self.select_row(max(0, min(rows - 1, target)))

    @Slot(QModelIndex, QModelIndex)
    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        self.current_changed.emit(self.model.hit(current.row()) if current.isValid() else None)

    def on_toggle(self) -> bool:
        """Whether the current row is "Show N weaker matches"."""
        index = self.list.currentIndex()
        return index.isValid() and index.row() == self.model.toggle_row()

    @Slot()
    def show_weak(self) -> None:
        """Reveal the weak hits and select the first of them."""
        row = self.model.toggle_row()
        if row is None:
            return
        self.model.show_weak()
        self.weak_shown.emit(self.model.total)
        self.select_row(row)

    @Slot(QModelIndex)
    def _clicked(self, index: QModelIndex) -> None:
        if index.isValid() and index.row() == self.model.toggle_row():
            self.show_weak()

    @Slot(QModelIndex)
    def _double_clicked(self, index: QModelIndex) -> None:
        if self.model.hit(index.row()) is not None:
            self.select_row(index.row())
            self.activated.emit(False)
