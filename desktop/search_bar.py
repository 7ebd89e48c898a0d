"""The top of the window: the search box, the mode switch and the filters (type, folder, date).

It knows nothing of searching: it reports the query, mode and `SearchFilters` and lets the window
decide. Up/Down/Page keys and Enter are forwarded as signals so the result list can be driven
without leaving the box.
"""

from __future__ import annotations

import time

from librarian.engine.paths import display_path, key_path, path_key
from librarian.engine.results import Mode, SearchFilters
from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from .icons import KIND_LABELS

MODE_LABELS: tuple[tuple[Mode, str], ...] = (("hybrid", "Words and meaning"), ("keyword", "Words only"), ("dense", "Meaning only"))
DATE_RANGES = (("Any time", None), ("Past day", 86400), ("Past week", 7 * 86400),
               ("Past month", 31 * 86400), ("Past year", 366 * 86400))
NAV_KEYS = {Qt.Key.Key_Up, Qt.Key.Key_Down, Qt.Key.Key_PageUp, Qt.Key.Key_PageDown}


class SearchBox(QLineEdit):
    navigate = Signal(int)  # a Qt.Key for the result list
    activated = Signal(bool)  # Enter: (reveal instead of open?)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key in NAV_KEYS:
            self.navigate.emit(int(key))
            return
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.activated.emit(bool(event.modifiers() & Qt.KeyboardModifier.ControlModifier))
            return
        if key == Qt.Key.Key_Escape and self.text():
            self.clear()
            return
        super().keyPressEvent(event)


class SearchBar(QWidget):
    changed = Signal()  # query text changed (debounced by the search controller)
    options_changed = Signal()  # mode or a filter changed (search again at once)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.box = SearchBox()
        self.box.setPlaceholderText("Search your documents — ask a question or type a few words")
        self.box.setClearButtonEnabled(True)
        self.box.setAccessibleName("Search")
        font = self.box.font()
        font.setPointSizeF(max(font.pointSizeF() * 1.25, 1.0))
        self.box.setFont(font)
        self.box.setMinimumHeight(self.box.sizeHint().height() + 6)

        self.mode = QComboBox()
        for value, label in MODE_LABELS:
            self.mode.addItem(label, value)
        self.mode.setToolTip("Words and meaning (best), exact words only, or meaning only (Ctrl+1/2/3)")
        self.kind = QComboBox()
        self.kind.addItem("All types", "")
        for kind, label in sorted(KIND_LABELS.items(), key=lambda kv: kv[1]):
            self.kind.addItem(label, kind)
        self.folder = QComboBox()
        self.folder.addItem("All folders", "")
        self.folder.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.folder.setMaximumWidth(320)
        self.date = QComboBox()
        for label, seconds in DATE_RANGES:
            self.date.addItem(label, seconds)
        for combo in (self.mode, self.kind, self.folder, self.date):
            combo.setFocusPolicy(Qt.FocusPolicy.TabFocus)
            combo.currentIndexChanged.connect(self.options_changed)
        self.box.textChanged.connect(self.changed)

        self.filter_row = QWidget()
        filters = QHBoxLayout(self.filter_row)
        filters.setContentsMargins(0, 0, 0, 0)
        filters.addWidget(self.mode)
        filters.addSpacing(12)
        for label, combo in (("Type", self.kind), ("Folder", self.folder), ("Modified", self.date)):
            caption = QLabel(label)
            caption.setBuddy(combo)
            filters.addWidget(caption)
            filters.addWidget(combo)
        filters.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.box)
        layout.addWidget(self.filter_row)

    # -- values ---------------------------------------------------------------------------------------
    def query(self) -> str:
        return self.box.text()

    def current_mode(self) -> Mode:
        return self.mode.currentData()

    def set_mode(self, mode: Mode) -> None:
        index = self.mode.findData(mode)
        if index >= 0:
            self.mode.setCurrentIndex(index)

    def filters(self, *, now: float | None = None) -> SearchFilters | None:
        kind = self.kind.currentData() or ""
        folder = key_path(self.folder.currentData()) if self.folder.currentData() else None
        seconds = self.date.currentData()
        after = ((now or time.time()) - seconds) if seconds else None
        if not kind and not folder and after is None:
            return None
        return SearchFilters(folder=folder, kinds=(kind,) if kind else (), modified_after=after)

    def set_roots(self, roots: tuple[str, ...] | list[str]) -> None:
        current = self.folder.currentData()
        self.folder.blockSignals(True)
        self.folder.clear()
        self.folder.addItem("All folders", "")
        for root in roots:
            self.folder.addItem(display_path(root), path_key(root))  # the key: text Qt keeps whole
        index = self.folder.findData(current)
        self.folder.setCurrentIndex(index if index >= 0 else 0)
        self.folder.blockSignals(False)
        if current and index < 0:
            self.options_changed.emit()  # the filtered folder went away

    def set_meaning_available(self, available: bool) -> None:
        """Without a usable model only words work: grey out the other modes."""
        model = self.mode.model()
        for row in range(self.mode.count()):
            item = model.item(row)  # type: ignore[attr-defined]
            if item is not None and self.mode.itemData(row) != "keyword":
                item.setEnabled(available)
        if not available:
            self.set_mode("keyword")

    def set_filters_visible(self, visible: bool) -> None:
        self.filter_row.setVisible(visible)

    def focus_box(self) -> None:
        self.box.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.box.selectAll()


class ForwardTyping(QObject):
    """Typing a letter while the result list has focus goes back to the search box."""

    def __init__(self, box: QLineEdit, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.box = box

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.KeyPress:
            key_event: QKeyEvent = event  # type: ignore[assignment]
            text = key_event.text()
            mods = key_event.modifiers() & ~Qt.KeyboardModifier.ShiftModifier
            if text and text.isprintable() and not text.isspace() and mods == Qt.KeyboardModifier.NoModifier:
                self.box.setFocus()
                self.box.insert(text)
                return True
            if key_event.key() == Qt.Key.Key_Backspace:
                self.box.setFocus()
                self.box.backspace()
                return True
        return False
