"""Edit a folder's exclusion patterns (a ``.librarianignore`` in gitignore syntax, read by the crawler)
with a live preview of what would be indexed: how many files, how big, a sample of paths.

The preview (`Library.preview_exclusions`) walks the folder as indexing would, on the thread pool,
and applies the edited patterns on top. The walk already applies the *saved* file, so a pattern
deleted in the editor shows its effect once saved (the preview says so). Files the default
exclusions leave out (`engine.exclusions`) are listed apart, each with its class, and the preview
says how to bring one back: a ``!pattern`` line.
"""

from __future__ import annotations

import contextlib
import html
import os
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from .formatting import count_text, size_text
from .tasks import Tasks

IGNORE_FILE = ".librarianignore"
SAMPLE = 12
PREVIEW_LIMIT = 200_000  # files; a preview of a huge tree stops counting here
HELP = ("One pattern per line, as in .gitignore:  *.log  ·  build/  ·  drafts/**/*.tmp  ·  "
        "!keep-this.log  ·  # comment")


@dataclass(frozen=True, slots=True)
class PreviewResult:
    files: int
    bytes: int
    excluded: int  # by the edited patterns, on top of what the crawler already skips
    sample: tuple[str, ...]
    truncated: bool = False
    error: str = ""
    by_default: int = 0  # left out by the default exclusions
    default_sample: tuple[tuple[str, str], ...] = ()  # (path, class name)


def read_patterns(root: str) -> str:
    try:
        return (Path(root) / IGNORE_FILE).read_text(encoding="utf-8")
    except FileNotFoundError:
        return ""


def write_patterns(root: str, text: str) -> Path:
    """Save ``text`` as the folder's ``.librarianignore`` atomically, never writing through a link.

    The folder may be shared with people who can plant files in it, so no name is predictable: the
    new content goes to a private temporary file (``mkstemp``: O_CREAT|O_EXCL|O_NOFOLLOW, random
    name, same folder), is flushed to disk, then renamed over the old file. If ``.librarianignore``
    is itself a symlink, the rename replaces the link with a regular file and its target is left
    untouched: the commit step of git's lock files (rename over the name, ``LOCK_NO_DEREF``), not
    its write-through-the-link default. An empty text removes the file (or the link, not its target).
    """
    folder = Path(root)
    path = folder / IGNORE_FILE
    if not text.strip():
        path.unlink(missing_ok=True)
        return path
    data = (text if text.endswith("\n") else text + "\n").encode("utf-8")
    mode = _kept_mode(path)
    fd, tmp_name = tempfile.mkstemp(dir=folder, prefix=IGNORE_FILE + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as tmp:
            tmp.write(data)
            tmp.flush()
            os.fsync(tmp.fileno())
        os.chmod(tmp_name, mode)
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise
    return path


def _kept_mode(path: Path) -> int:
    """The permission bits the saved file gets: those of the regular file it replaces, else rw-r--r--
    (``mkstemp`` makes its file owner-only, which would hide the patterns from other users)."""
    try:
        info = path.lstat()
    except OSError:
        return 0o644
    return stat.S_IMODE(info.st_mode) if stat.S_ISREG(info.st_mode) else 0o644


def preview(root: str, patterns: str, *, limit: int = PREVIEW_LIMIT) -> PreviewResult:
    """What indexing ``root`` would read once ``patterns`` are applied too (runs on the thread pool)."""
    from librarian.engine.errors import LibrarianError
    from librarian.engine.library import Library

    try:
        found = Library.preview_exclusions(root, patterns, limit=limit, sample=SAMPLE)
    except LibrarianError as exc:  # a pattern that does not compile: said in the preview, not raised
        return PreviewResult(0, 0, 0, (), error=str(exc))
    return PreviewResult(found.files, found.bytes, found.excluded, found.sample, found.truncated,
                         by_default=found.by_default, default_sample=found.default_sample)


def preview_text(result: PreviewResult) -> str:
    if result.error:
        return result.error
    more = "+" if result.truncated else ""
    lines = [f"Would index {count_text(result.files, 'file')}{more} ({size_text(result.bytes)})"
             + (f"; these patterns leave out {result.excluded:,} more." if result.excluded else ".")]
    lines += [f"  {path}" for path in result.sample]
    if result.files > len(result.sample):
        lines.append(f"  … and {result.files - len(result.sample):,} more")
    if result.by_default:
        lines.append(f"Left out by default (generated or vendored): {count_text(result.by_default, 'file')}. "
                     "To bring one back, add a line with ! before its pattern, e.g. !_static/")
        lines += [f"  {path}  ({name})" for path, name in result.default_sample]
        if result.by_default > len(result.default_sample):
            lines.append(f"  … and {result.by_default - len(result.default_sample):,} more")
    return "\n".join(lines)


class IgnoreEditor(QDialog):
    saved = Signal(str)  # the root whose patterns were saved
    preview_ready = Signal(object)  # PreviewResult (tests wait on this)

    def __init__(self, root: str, tasks: Tasks, parent: QWidget | None = None, *, delay_ms: int = 300) -> None:
        super().__init__(parent)
        self.root = root
        self.tasks = tasks
        self.last_preview: PreviewResult | None = None  # not `result`: that is QDialog.result()
        self._request = 0
        self.setWindowTitle(f"Exclusions — {Path(root).name or root}")
        self.resize(620, 520)
        # Rich text on purpose (the bold folder); the folder name is escaped, as it may hold markup.
        self.intro = intro = QLabel(f"Files in <b>{html.escape(root)}</b> that match these patterns are not "
                                    "indexed. Hidden files and files listed in .gitignore are already left out.")
        intro.setTextFormat(Qt.TextFormat.RichText)
        intro.setWordWrap(True)
        self.editor = QPlainTextEdit()
        self.editor.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.editor.setPlaceholderText("*.log\nnode_modules/\nold drafts/")
        help_label = QLabel(HELP)
        help_label.setWordWrap(True)
        help_label.setEnabled(False)
        self.preview = QPlainTextEdit()
        self.preview.setReadOnly(True)
        font = QFont(self.preview.font())
        self.preview.setFont(font)
        self.preview.setPlaceholderText("Working out what would be indexed…")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self._save)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.editor, 2)
        layout.addWidget(help_label)
        layout.addWidget(QLabel("Preview"))
        layout.addWidget(self.preview, 3)
        layout.addWidget(buttons)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(delay_ms)
        self.timer.timeout.connect(self.refresh_preview)
        self.editor.setEnabled(False)
        self.tasks.start(lambda: read_patterns(root), done=self._on_loaded, failed=self._on_load_failed)

    @Slot(int, object)
    def _on_loaded(self, _tag: int, text: object) -> None:
        self.editor.setPlainText(str(text))
        self.editor.setEnabled(True)
        self.editor.textChanged.connect(self.timer.start)
        self.editor.setFocus()
        self.refresh_preview()

    @Slot(int, object)
    def _on_load_failed(self, _tag: int, error: object) -> None:
        self.editor.setEnabled(True)
        self.editor.textChanged.connect(self.timer.start)
        self.preview.setPlainText(f"Could not read {IGNORE_FILE}: {error}")

    @Slot()
    def refresh_preview(self) -> None:
        self._request += 1
        root, patterns = self.root, self.editor.toPlainText()
        self.tasks.start(lambda: preview(root, patterns), done=self._on_preview, failed=self._on_preview_failed,
                         tag=self._request)

    @Slot(int, object)
    def _on_preview(self, request: int, result: object) -> None:
        if request != self._request or not isinstance(result, PreviewResult):
            return
        self.last_preview = result
        self.preview.setPlainText(preview_text(result))
        self.preview_ready.emit(result)

    @Slot(int, object)
    def _on_preview_failed(self, request: int, error: object) -> None:
        if request == self._request:
            self.preview.setPlainText(f"Could not list the folder: {error}")

    @Slot()
    def _save(self) -> None:
        try:
            write_patterns(self.root, self.editor.toPlainText())
        except OSError as exc:
            self.preview.setPlainText(f"Could not save {IGNORE_FILE} in {self.root}: {exc.strerror or exc}")
            return
        self.saved.emit(self.root)
        self.accept()
