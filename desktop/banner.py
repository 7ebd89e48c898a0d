"""A one-line message above the results with an optional action: model missing or mismatched, a
folder that disappeared, an index still being built. Colours derive from the palette."""

from __future__ import annotations

from typing import Literal

from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPalette
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QStyle, QWidget

Level = Literal["info", "warning", "error"]
_TINTS = {"info": "#3b7dd8", "warning": "#d9a21b", "error": "#d64545"}
_ICONS = {
    "info": QStyle.StandardPixmap.SP_MessageBoxInformation,
    "warning": QStyle.StandardPixmap.SP_MessageBoxWarning,
    "error": QStyle.StandardPixmap.SP_MessageBoxCritical,
}


class Banner(QFrame):
    action_clicked = Signal()

    def __init__(self, level: Level = "info", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.level: Level = level
        self.icon = QLabel()
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.text.setTextFormat(Qt.TextFormat.PlainText)  # messages quote paths and model errors
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.button = QPushButton()
        self.button.setVisible(False)
        self.button.clicked.connect(self.action_clicked)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 6)
        layout.addWidget(self.icon)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.button)
        self.set_level(level)
        self.setVisible(False)

    def set_level(self, level: Level) -> None:
        self.level = level
        size = self.style().pixelMetric(QStyle.PixelMetric.PM_SmallIconSize)
        self.icon.setPixmap(self.style().standardIcon(_ICONS[level]).pixmap(size, size))
        self.update()

    def paintEvent(self, event) -> None:
        # Painted from the current palette each time (never a palette of our own), so the banner
        # follows light/dark theme changes and its text keeps the theme's colour.
        base = self.palette().color(QPalette.ColorRole.Window)
        tint = QColor(_TINTS[self.level])
        mixed = QColor(
            int(base.red() * 0.8 + tint.red() * 0.2),
            int(base.green() * 0.8 + tint.green() * 0.2),
            int(base.blue() * 0.8 + tint.blue() * 0.2),
        )
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        border = QColor(tint)
        border.setAlphaF(0.55)
        painter.setPen(border)
        painter.setBrush(mixed)
        painter.drawRoundedRect(QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5), 4, 4)
        painter.end()

    def show_message(self, text: str, *, level: Level | None = None, action: str = "") -> None:
        if level is not None and level != self.level:
            self.set_level(level)
        self.text.setText(text)
        self.button.setText(action)
        self.button.setVisible(bool(action))
        self.setVisible(True)

