"""The Library dialog: which folders are searched, their state, and the buttons to change them.

It shows a `LibrarySnapshot` the window refreshes on the thread pool and sends requests back by signal;
it never touches the engine itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from librarian.engine.paths import display_path, key_path, path_key
from librarian.engine.results import Progress, Status
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from .delegate import PlainToolTipDelegate
from .formatting import count_text, home_short
from .progress import meaning_counts, progress_text, understanding_text


@dataclass(frozen=True, slots=True)
class LibrarySnapshot:
    status: Status
    missing: frozenset[str] = frozenset()  # roots that are not on disk (unplugged drive, moved folder)


def _counts(status: Status, progress: Progress | None) -> tuple[int, int]:
    """(passages, embedded): from the running update's progress when there is one (it is newer than
    the last status read, and counted the same way), else from the status. One source for every
    counter the dialog shows, so they agree."""
    if progress is not None and progress.library_passages:
        return meaning_counts(progress)
    return status.to_embed, status.embedded


def root_state(root: str, snapshot: LibrarySnapshot, progress: Progress | None = None) -> str:
    """ "Words: ready · meaning: 34%": what searching the library finds now (counted for the whole
    library: its folders are embedded together), and this folder's own problems."""
    if root in snapshot.missing:
        return "Missing — the folder was moved, deleted or is on a drive that is not connected"
    prefix = root.rstrip("/\\")
    failed = sum(1 for f in snapshot.status.failed if f.path == root or f.path.startswith(prefix + "/")
                 or f.path.startswith(prefix + "\\"))
    state = understanding_text(*_counts(snapshot.status, progress), meaning=bool(snapshot.status.model))
    state = state[0].upper() + state[1:]
    return state + (f" · {count_text(failed, 'file')} could not be read" if failed else "")


def summary_text(status: Status, progress: Progress | None = None) -> str:
    passages, embedded = _counts(status, progress)
    text = f"{count_text(status.documents, 'document')} · {count_text(passages, 'passage')}"
    if status.model:
        text += f" · {embedded:,} of {passages:,} understood by meaning · model: {status.model}"
    return text


class LibraryDialog(QDialog):
    add_requested = Signal(str)
    remove_requested = Signal(object)  # roots are OS paths: a Qt string drops bytes that are not UTF-8
    exclusions_requested = Signal(object)
    update_requested = Signal()
    problems_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Library")
        self.resize(640, 420)
        self.snapshot: LibrarySnapshot | None = None
        self.last_progress: Progress | None = None  # of the running update; None when none runs
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.PlainText)  # quotes the model's name
        self.roots = QListWidget()
        self.roots.setItemDelegate(PlainToolTipDelegate(self.roots))  # tooltips hold folder paths
        self.roots.setAlternatingRowColors(True)
        self.roots.setWordWrap(True)
        self.roots.currentRowChanged.connect(self._selection_changed)
        self.progress = QLabel()
        self.progress.setWordWrap(True)
        self.progress.setTextFormat(Qt.TextFormat.PlainText)

        self.add_button = QPushButton("Add folder…")
        self.remove_button = QPushButton("Remove")
        self.remove_button.setToolTip("Stop searching this folder and drop it from the index "
                                      "(your files are not touched)")
        self.exclusions_button = QPushButton("Exclusions…")
        self.update_button = QPushButton("Update now")
        self.problems_button = QPushButton("Problems…")
        self.add_button.clicked.connect(self._add)
        self.remove_button.clicked.connect(self._remove)
        self.exclusions_button.clicked.connect(self._exclusions)
        self.update_button.clicked.connect(self.update_requested)
        self.problems_button.clicked.connect(self.problems_requested)
        side = QVBoxLayout()
        for button in (self.add_button, self.remove_button, self.exclusions_button, self.update_button,
                       self.problems_button):
            side.addWidget(button)
        side.addStretch(1)
        middle = QHBoxLayout()
        middle.addWidget(self.roots, 1)
        middle.addLayout(side)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        hint = QLabel("Drop folders onto the main window to add them too.")
        hint.setEnabled(False)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addLayout(middle, 1)
        layout.addWidget(self.progress)
        layout.addWidget(hint)
        layout.addWidget(buttons)
        self._selection_changed(-1)

    def set_snapshot(self, snapshot: LibrarySnapshot) -> None:
        self.snapshot = snapshot
        current = self.current_root()
        self.roots.clear()
        style = self.style()
        for root in snapshot.status.roots:
            missing = root in snapshot.missing
            item = QListWidgetItem(f"{home_short(root)}\n{root_state(root, snapshot, self.last_progress)}")
            item.setToolTip(display_path(root))
            item.setData(Qt.ItemDataRole.UserRole, path_key(root))  # text Qt keeps whole (see engine.paths)
            item.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning if missing
                                            else QStyle.StandardPixmap.SP_DirIcon))
            self.roots.addItem(item)
            if root == current:
                self.roots.setCurrentItem(item)
        self._show_summary()
        failed = len(snapshot.status.failed) + len(snapshot.status.warnings)
        self.problems_button.setText(f"Problems ({failed})…" if failed else "Problems…")
        self.problems_button.setEnabled(failed > 0)
        self._selection_changed(self.roots.currentRow())

    def _show_summary(self) -> None:
        if self.snapshot is None:
            return
        status = self.snapshot.status
        if not status.roots:
            self.summary.setText("No folders yet. Add one to start.")
        else:
            self.summary.setText(summary_text(status, self.last_progress))

    @Slot(object)
    def show_progress(self, progress: Progress | None, *, paused: bool = False) -> None:
        """The running update's progress (None: it ended); the summary and each folder's state
        follow its counts, so the dialog never shows two different numbers for one thing."""
        self.last_progress = progress
        self.progress.setText(progress_text(progress, paused=paused) if progress is not None else "")
        self._show_summary()
        if self.snapshot is not None:
            for row, root in enumerate(self.snapshot.status.roots):
                item = self.roots.item(row)
                if item is not None:
                    item.setText(f"{home_short(root)}\n{root_state(root, self.snapshot, progress)}")

    def current_root(self) -> str | None:
        item = self.roots.currentItem()
        return key_path(item.data(Qt.ItemDataRole.UserRole)) if item is not None else None

    @Slot(int)
    def _selection_changed(self, row: int) -> None:
        self.remove_button.setEnabled(row >= 0)
        self.exclusions_button.setEnabled(row >= 0)

    @Slot()
    def _add(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Add a folder to the library")
        if path:
            self.add_requested.emit(path)

    @Slot()
    def _remove(self) -> None:
        root = self.current_root()
        if root:
            self.remove_requested.emit(root)

    @Slot()
    def _exclusions(self) -> None:
        root = self.current_root()
        if root:
            self.exclusions_requested.emit(root)
