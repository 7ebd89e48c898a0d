"""The indexing strip in the status bar: what is happening in words, a bar, pause/resume and cancel."""

from __future__ import annotations

from librarian.engine.results import Progress
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QToolButton, QWidget

from .formatting import count_text, duration_text


def progress_text(p: Progress) -> str:
    """One line for people: which phase, how far, how long is left."""
    if p.phase == "scanning":
        return f"Looking for files… {count_text(p.files_seen, 'file')} found"
    meaning = ""
    if p.to_embed:
        meaning = f" · meaning {p.embedded:,} of {p.to_embed:,}"
    eta = duration_text(p.eta_s)
    left = f" · {eta} left" if eta else ""
    if p.phase == "indexing":
        failed = f" · {count_text(p.files_failed, 'problem')}" if p.files_failed else ""
        return (f"Reading files: {p.files_done:,} of {p.files_total:,} · "
                f"{count_text(p.passages, 'passage')}{meaning}{failed}{left}")
    if p.phase == "embedding":
        return f"Understanding meaning: {p.embedded:,} of {p.to_embed:,} passages{left}"
    return "Up to date"


def progress_fraction(p: Progress) -> tuple[int, int]:
    """(value, maximum) for a QProgressBar; (0, 0) means busy without a known end."""
    if p.phase == "indexing" and p.files_total:
        return p.files_done, p.files_total
    if p.phase == "embedding" and p.to_embed:
        return min(p.embedded, p.to_embed), p.to_embed
    if p.phase == "done":
        return 1, 1
    return 0, 0


class IndexingStatus(QWidget):
    pause_clicked = Signal()
    resume_clicked = Signal()
    cancel_clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.label = QLabel("")
        self.label.setTextFormat(Qt.TextFormat.PlainText)  # "Adding <folder>…" quotes a path
        self.bar = QProgressBar()
        self.bar.setTextVisible(False)
        self.bar.setMaximumWidth(160)
        self.bar.setMaximumHeight(14)
        self.pause_button = QToolButton()
        self.pause_button.setText("Pause")
        self.pause_button.setAutoRaise(True)
        self.cancel_button = QToolButton()
        self.cancel_button.setText("Stop")
        self.cancel_button.setToolTip("Stop indexing; what was read so far is kept")
        self.cancel_button.setAutoRaise(True)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        layout.addWidget(self.bar)
        layout.addWidget(self.pause_button)
        layout.addWidget(self.cancel_button)
        self._paused = False
        self.pause_button.clicked.connect(self._toggle_pause)
        self.cancel_button.clicked.connect(self.cancel_clicked)
        self.setVisible(False)

    @Slot(object)
    def show_progress(self, p: Progress) -> None:
        self.setVisible(True)
        text = progress_text(p)
        self.label.setText(("Paused · " if self._paused else "") + text)
        value, maximum = progress_fraction(p)
        self.bar.setRange(0, maximum)
        self.bar.setValue(value)

    def show_busy(self, text: str) -> None:
        self.setVisible(True)
        self.label.setText(text)
        self.bar.setRange(0, 0)

    @Slot(bool)
    def set_paused(self, paused: bool) -> None:
        self._paused = paused
        self.pause_button.setText("Resume" if paused else "Pause")
        text = self.label.text().removeprefix("Paused · ")
        self.label.setText(("Paused · " if paused else "") + text)

    @Slot(bool)
    def set_running(self, running: bool) -> None:
        self.setVisible(running)
        if not running:
            self.set_paused(False)

    @Slot()
    def _toggle_pause(self) -> None:
        (self.resume_clicked if self._paused else self.pause_clicked).emit()
