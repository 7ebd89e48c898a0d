"""What a new user sees: no folders yet, so two ways to start."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from .icons import app_icon


class EmptyState(QWidget):
    add_folder_clicked = Signal()
    demo_clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        logo = QLabel()
        logo.setPixmap(app_icon().pixmap(96, 96))
        logo.setAlignment(Qt.AlignmentFlag.AlignCenter)
        title = QLabel("Your library is empty")
        font = QFont(title.font())
        font.setPointSizeF(max(font.pointSizeF() * 1.6, 1.0))
        font.setBold(True)
        title.setFont(font)
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        body = QLabel("Add a folder of documents and Librarian reads them: PDFs, Word and OpenDocument files, "
                      "e-books, web pages, notes and code. Then find things by what they mean, not only by "
                      "the exact words. Everything stays on this computer.")
        body.setWordWrap(True)
        body.setAlignment(Qt.AlignmentFlag.AlignCenter)
        body.setMaximumWidth(520)
        self.add_button = QPushButton("Add folder…")
        self.add_button.setDefault(True)
        self.demo_button = QPushButton("Try the demo library")
        self.add_button.clicked.connect(self.add_folder_clicked)
        self.demo_button.clicked.connect(self.demo_clicked)
        hint = QLabel("You can also drop folders onto this window.")
        hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        hint.setEnabled(False)

        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.demo_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addStretch(2)
        layout.addWidget(logo)
        layout.addSpacing(8)
        layout.addWidget(title)
        layout.addSpacing(4)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(body)
        row.addStretch(1)
        layout.addLayout(row)
        layout.addSpacing(16)
        layout.addLayout(buttons)
        layout.addSpacing(8)
        layout.addWidget(hint)
        layout.addStretch(3)
