"""The indexing strip in the status bar: what is happening in words, a bar, pause/resume and cancel."""

from __future__ import annotations

from librarian.engine.results import Progress
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QToolButton, QWidget

from .formatting import count_text, duration_text


def understanding_text(passages: int, embedded: int, *, meaning: bool = True) -> str:
    """What can be searched and how: "words: ready · meaning: 34%" (rounded down: "ready" only when
    every passage has its vector). ``meaning`` False: opened without a model, words only."""
    if not meaning:
        return "words: ready"
    if embedded >= passages:
        return "words: ready · meaning: ready"
    return f"words: ready · meaning: {embedded * 100 // passages}%"


def meaning_counts(p: Progress) -> tuple[int, int]:
    """(passages, embedded) of the whole library as the run last counted them (the numbers `Status`
    gives); this run's own when the engine sent none."""
    if p.library_passages:
        return p.library_passages, p.library_embedded
    return p.to_embed, min(p.embedded, p.to_embed)


def progress_text(p: Progress, *, paused: bool = False) -> str:
    """One line for people: which phase, how far, how long is left (no estimate while paused)."""
    if p.phase == "scanning":
        return f"Looking for files… {count_text(p.files_seen, 'file')} found"
    if p.phase == "done":
        return "Up to date"
    eta = "" if paused or p.paused else duration_text(p.eta_s)
    left = f" · {eta} left" if eta else ""
    passages, embedded = meaning_counts(p)
    state = understanding_text(passages, embedded)
    if p.phase == "indexing":
        failed = f" · {count_text(p.files_failed, 'problem')}" if p.files_failed else ""
        return f"Reading files: {p.files_done:,} of {p.files_total:,} · {state}{failed}{left}"
    return f"Understanding meaning: {state} ({embedded:,} of {passages:,} passages){left}"


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
        self._last: Progress | None = None
        self.pause_button.clicked.connect(self._toggle_pause)
        self.cancel_button.clicked.connect(self.cancel_clicked)
        self.setVisible(False)

    @Slot(object)
    def show_progress(self, p: Progress) -> None:
        self.setVisible(True)
        self._last = p
        self._show_text()
        value, maximum = progress_fraction(p)
        self.bar.setRange(0, maximum)
        self.bar.setValue(value)

    def show_busy(self, text: str) -> None:
        self.setVisible(True)
        self._last = None
        self.label.setText(text)
        self.bar.setRange(0, 0)

    def _show_text(self) -> None:
        """The last progress in words; paused, without "about N min left" (nothing counts down)."""
        if self._last is None:
            text = self.label.text().removeprefix("Paused · ")
        else:
            text = progress_text(self._last, paused=self._paused)
        self.label.setText(("Paused · " if self._paused else "") + text)

    @Slot(bool)
    def set_paused(self, paused: bool) -> None:
        self._paused = paused
        self.pause_button.setText("Resume" if paused else "Pause")
        self._show_text()

    @Slot(bool)
    def set_running(self, running: bool) -> None:
        self.setVisible(running)
        if not running:
            self._last = None
            self.set_paused(False)

    @Slot()
    def _toggle_pause(self) -> None:
        (self.resume_clicked if self._paused else self.pause_clicked).emit()
