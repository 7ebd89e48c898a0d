"""The search window: search bar on top, results and preview side by side, banners for the states that
need the user's attention, indexing progress and problems in the status bar.

It wires the pieces together and owns no long work: searches, previews and status reads go to the
thread pool, writes to the indexing thread, and their results come back by signal.
"""

from __future__ import annotations

import html
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from librarian.engine.results import Hit, Progress, SearchResult
from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from .banner import Banner
from .context import AppContext
from .empty_state import EmptyState
from .formatting import count_text, home_short, plain_html
from .icons import app_icon
from .ignore_editor import IgnoreEditor
from .indexing import IndexingController, Job
from .library_panel import LibraryDialog, LibrarySnapshot
from .menus import build_menus
from .opener import Opened
from .preview import PreviewPane
from .problems import ProblemsDialog
from .progress import IndexingStatus
from .results_view import ResultsView, message_text
from .search_bar import SearchBar
from .search_worker import SearchController
from .tasks import Tasks
from .watching import LibraryWatcher

if TYPE_CHECKING:
    from librarian.engine.library import Library

log = logging.getLogger(__name__)

PAGE_OPENING, PAGE_EMPTY, PAGE_SEARCH, PAGE_ERROR = range(4)
STATUS_REFRESH_MS = 1500


def take_snapshot(library: Library) -> LibrarySnapshot:
    """Runs on the pool: the status query and a stat per root."""
    status = library.status()
    missing = frozenset(root for root in status.roots if not Path(root).exists())
    return LibrarySnapshot(status, missing)


class MainWindow(QMainWindow):
    library_opened = Signal()
    status_refreshed = Signal(object)  # LibrarySnapshot
    results_shown = Signal(int)  # request id, once the model holds its result

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.settings = context.settings
        self.tasks = Tasks(context.pool, self)
        self.library: Library | None = None
        self.indexing: IndexingController | None = None
        self.watcher: LibraryWatcher | None = None
        self.snapshot: LibrarySnapshot | None = None
        self.library_dialog: LibraryDialog | None = None
        self.problems_dialog: ProblemsDialog | None = None
        self.last_error = ""
        self._closed = False
        self._meaning = True

        self.setWindowTitle("Librarian")
        self.setWindowIcon(app_icon())
        self.setAcceptDrops(True)
        self._build()
        build_menus(self)
        self._restore()

        self.search = SearchController(self.tasks, delay_ms=context.search_delay_ms, parent=self)
        self.search.results.connect(self._on_results)
        self.search.more_results.connect(self._on_more_results)
        self.search.failed.connect(self._on_search_failed)
        self.search.cleared.connect(self._on_cleared)
        self.bar.changed.connect(self._query_changed)
        self.bar.options_changed.connect(self._options_changed)

        self.status_timer = QTimer(self)
        self.status_timer.setSingleShot(True)
        self.status_timer.setInterval(STATUS_REFRESH_MS)
        self.status_timer.timeout.connect(self.refresh_status)

        self.tasks.start(context.open_library, done=self._on_opened, failed=self._on_open_failed)

    # -- building ---------------------------------------------------------------------------------------
    def _build(self) -> None:
        self.bar = SearchBar()
        self.bar.set_mode(self.settings.mode())
        self.results = ResultsView(self.bar.box)
        self.results.current_changed.connect(self._current_changed)
        self.results.activated.connect(self._activate)
        # Short names for what the rest of the window (and the tests) use most.
        self.model, self.list, self.list_message, self.left = (
            self.results.model, self.results.list, self.results.message, self.results)
        self.model.more_wanted.connect(self._more_wanted)

        self.preview = PreviewPane(self.tasks)
        self.preview.open_requested.connect(self._open_path)
        self.preview.reveal_requested.connect(self._reveal_path)
        self.preview.copy_requested.connect(self.context.actions.copy_path)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.left)
        self.splitter.addWidget(self.preview)
        self.splitter.setStretchFactor(0, 5)
        self.splitter.setStretchFactor(1, 4)
        self.splitter.setChildrenCollapsible(False)

        self._build_pages()

        self.model_banner = Banner("warning")
        self.model_banner.action_clicked.connect(self.reembed)
        self.missing_banner = Banner("warning")
        self.missing_banner.action_clicked.connect(self.open_library_dialog)
        self.info_banner = Banner("info")

        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(10, 10, 10, 4)
        layout.addWidget(self.bar)
        layout.addWidget(self.model_banner)
        layout.addWidget(self.missing_banner)
        layout.addWidget(self.info_banner)
        layout.addWidget(self.pages, 1)
        self.setCentralWidget(central)

        self.bar.box.navigate.connect(self.results.navigate)
        self.bar.box.activated.connect(self._activate)
        self._build_status_bar()
        self._show_page(PAGE_OPENING)
        self._set_list_message("")

    def _build_pages(self) -> None:
        """What fills the window below the bar: opening, empty library, results, fatal error."""
        self.empty = EmptyState()
        self.empty.add_folder_clicked.connect(self.choose_folder)
        self.empty.demo_clicked.connect(self.add_demo)
        self.opening = QLabel("Opening your library…")
        self.opening.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.error_page = QLabel()
        self.error_page.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.error_page.setWordWrap(True)
        self.error_page.setTextFormat(Qt.TextFormat.RichText)  # our own markup; the message is escaped
        self.error_page.setMargin(32)
        self.error_page.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.pages = QStackedWidget()
        for page in (self.opening, self.empty, self.splitter, self.error_page):
            self.pages.addWidget(page)

    def _build_status_bar(self) -> None:
        self.result_label = QLabel()
        self.result_label.setTextFormat(Qt.TextFormat.PlainText)
        self.indexing_status = IndexingStatus()
        self.problems_button = QToolButton()
        self.problems_button.setAutoRaise(True)
        self.problems_button.setVisible(False)
        self.problems_button.clicked.connect(self.open_problems)
        self.library_button = QToolButton()
        self.library_button.setText("Library…")
        self.library_button.setAutoRaise(True)
        self.library_button.clicked.connect(self.open_library_dialog)
        status = self.statusBar()
        status.addWidget(self.result_label, 1)
        status.addPermanentWidget(self.indexing_status)
        status.addPermanentWidget(self.problems_button)
        status.addPermanentWidget(self.library_button)

    def _restore(self) -> None:
        geometry = self.settings.geometry()
        if geometry is None or not self.restoreGeometry(geometry):
            self.resize(1100, 720)
        splitter = self.settings.splitter()
        if splitter is not None:
            self.splitter.restoreState(splitter)
        else:
            self.splitter.setSizes([560, 440])

    # -- opening ----------------------------------------------------------------------------------------
    @Slot(int, object)
    def _on_opened(self, _tag: int, opened: object) -> None:
        assert isinstance(opened, Opened)
        if self._closed:
            if opened.library is not None:
                opened.library.close()
            return
        if opened.library is None:
            self._show_fatal(opened.error)
            return
        self.library = library = opened.library
        self.indexing = IndexingController(library, self)
        self.indexing.progress.connect(self._on_progress)
        self.indexing.running_changed.connect(self._on_running_changed)
        self.indexing.paused_changed.connect(self.indexing_status.set_paused)
        self.indexing.job_finished.connect(self._on_job_finished)
        self.indexing.job_failed.connect(self._on_job_failed)
        self.indexing_status.pause_clicked.connect(self.indexing.pause)
        self.indexing_status.resume_clicked.connect(self.indexing.resume)
        self.indexing_status.cancel_clicked.connect(self.indexing.cancel)
        self.search.set_library(library)
        self.preview.set_library(library)
        if opened.model_problem:
            self._meaning = False
            self.bar.set_meaning_available(False)
            self.model_banner.show_message(
                f"The language model could not be loaded, so only words are searched, not meaning. "
                f"{opened.model_problem}", level="error")
        self._show_model_mismatch()
        if self.context.watch:
            self.watcher = LibraryWatcher(library, self.tasks, quiet_seconds=self.context.watch_quiet_seconds,
                                          parent=self)
            self.watcher.changed.connect(self._on_files_changed)
        self.refresh_status(on_open=True)
        self.library_opened.emit()

    @Slot(int, object)
    def _on_open_failed(self, _tag: int, error: object) -> None:
        self._show_fatal(f"{error}")

    def _show_page(self, page: int) -> None:
        self.pages.setCurrentIndex(page)
        self.bar.set_filters_visible(page == PAGE_SEARCH)  # nothing to filter before there is a library

    def _show_fatal(self, message: str) -> None:
        self.last_error = message
        # The message quotes paths and third-party errors: escaped, so it never renders as markup.
        self.error_page.setText(f"<h3>Librarian cannot open your library</h3><p>{html.escape(message)}</p>"
                                "<p>Reinstalling Librarian restores the model; your index is not touched.</p>")
        self._show_page(PAGE_ERROR)
        self.bar.setEnabled(False)

    def _show_model_mismatch(self) -> None:
        mismatch = self.library.model_mismatch if self.library is not None else None
        if mismatch:
            old, new = mismatch
            self.model_banner.show_message(
                f"This index was built with the model “{old}”; this Librarian uses “{new}”. Searching by "
                "words works; meaning search is off until the passages are re-embedded.",
                level="warning", action="Re-embed now")
        elif self._meaning:
            self.model_banner.setVisible(False)

    # -- status -----------------------------------------------------------------------------------------
    @Slot()
    def refresh_status(self, on_open: bool = False) -> None:
        if self.library is None or self._closed:
            return
        library = self.library
        self.tasks.start(lambda: take_snapshot(library), done=self._on_status, tag=int(on_open))

    @Slot(int, object)
    def _on_status(self, on_open: int, snapshot: object) -> None:
        if self._closed or not isinstance(snapshot, LibrarySnapshot):
            return
        self.snapshot = snapshot
        status = snapshot.status
        running = self.indexing is not None and self.indexing.running
        self.bar.set_roots(status.roots)
        self._show_page(PAGE_SEARCH if status.roots or running else PAGE_EMPTY)
        if self.pages.currentIndex() == PAGE_SEARCH and not self.bar.box.hasFocus() and on_open:
            self.bar.focus_box()
        failed = len(status.failed) + len(status.warnings)
        self.problems_button.setVisible(failed > 0)
        self.problems_button.setText(f"⚠ {count_text(failed, 'problem')}")
        if snapshot.missing:
            names = ", ".join(home_short(p) for p in sorted(snapshot.missing))
            self.missing_banner.show_message(
                f"{'A library folder is' if len(snapshot.missing) == 1 else 'Library folders are'} missing: "
                f"{names}. Reconnect the drive, or remove the folder from the library. Until then the "
                "index is not updated automatically, so nothing of it is dropped.",
                action="Manage folders…")
        else:
            self.missing_banner.setVisible(False)
        self._update_info_banner()
        if self.model.total == 0:
            self._set_list_message(self.bar.query())
        if self.library_dialog is not None:
            self.library_dialog.set_snapshot(snapshot)
        if self.problems_dialog is not None:
            self.problems_dialog.set_failures(status.failed, status.warnings)
        if on_open:
            if self.watcher is not None and status.roots:
                self.watcher.restart()
            if self.context.update_on_open and status.roots:
                self._auto_update()
        self.status_refreshed.emit(snapshot)

    def _update_info_banner(self) -> None:
        snapshot = self.snapshot
        running = self.indexing is not None and self.indexing.updating
        if snapshot is None or not running:
            self.info_banner.setVisible(False)
            return
        status = snapshot.status
        if status.documents == 0:
            self.info_banner.show_message("Reading your files for the first time. Results appear as soon as "
                                          "the first files are read.")
        elif self._meaning and status.embedded < status.to_embed:
            self.info_banner.show_message("Still indexing: searching by words already works; meaning search "
                                          "improves as the rest is understood.")
        else:
            self.info_banner.setVisible(False)

    # -- searching ----------------------------------------------------------------------------------------
    @Slot()
    def _query_changed(self) -> None:
        self.search.request(self.bar.query(), self.bar.current_mode(), self.bar.filters())

    @Slot()
    def _options_changed(self) -> None:
        self.settings.set_mode(self.bar.current_mode())
        self.search.request(self.bar.query(), self.bar.current_mode(), self.bar.filters(), immediate=True)

    @Slot()
    def set_mode_from_action(self) -> None:
        action = self.sender()
        if isinstance(action, QAction):
            self.bar.set_mode(action.data())

    def search_again(self) -> None:
        if self.bar.query().strip():
            self.search.request(self.bar.query(), self.bar.current_mode(), self.bar.filters(), immediate=True)

    @Slot(int, object)
    def _on_results(self, request_id: int, result: object) -> None:
        assert isinstance(result, SearchResult)
        self.results.show_result(result, more=len(result.hits) >= self.search.landed_k)
        if not self.model.total:
            self._set_list_message(result.query)
        self._show_summary(result)
        self.results_shown.emit(request_id)

    @Slot(int, object)
    def _on_more_results(self, request_id: int, result: object) -> None:
        assert isinstance(result, SearchResult)
        self.results.extend_result(result, more=len(result.hits) >= self.search.landed_k)
        self._show_summary(result)
        self.results_shown.emit(request_id)

    @Slot()
    def _more_wanted(self) -> None:
        self.search.request_more()

    def _show_summary(self, result: SearchResult) -> None:
        # The engine's notes (e.g. "query shortened to ...") say why the results may differ from the box.
        self.result_label.setText(" · ".join(filter(None, (self._summary(result.took_ms), *result.notes))))

    def _summary(self, took_ms: float) -> str:
        """"3 results (+5 weaker) · 12 ms": the strong hits, and how many fell below the floor;
        "20+ results" while scrolling down may find more."""
        strong = self.model.strong
        weaker = self.model.total - strong
        if not self.model.total:
            return ""
        more = "+" if self.model.more_available and not weaker else ""
        shown = count_text(strong, "result").replace(" ", f"{more} ", 1) + (f" (+{weaker:,} weaker)" if weaker else "")
        return f"{shown} · {took_ms:.0f} ms"

    @Slot(int, str)
    def _on_search_failed(self, request_id: int, message: str) -> None:
        self.results.clear()
        self.results.show_message(f"This search could not run: {message}")
        self.result_label.setText("")
        self.results_shown.emit(request_id)

    @Slot(int)
    def _on_cleared(self, request_id: int) -> None:
        self.results.clear()
        self._set_list_message("")
        self.result_label.setText("")
        self.results_shown.emit(request_id)

    def _set_list_message(self, query: str) -> None:
        self.results.show_message(message_text(
            query, self.snapshot.status if self.snapshot else None,
            indexing=self.indexing is not None and self.indexing.updating,
            filtered=self.bar.filters() is not None,
            words_only=self.bar.current_mode() == "keyword" and self._meaning))

    # -- results and preview --------------------------------------------------------------------------------
    def current_hit(self) -> Hit | None:
        return self.results.current_hit()

    @Slot(object)
    def _current_changed(self, hit: object) -> None:
        self.preview.show_hit(hit if isinstance(hit, Hit) else None, query=self.model.query)

    @Slot(bool)
    def _activate(self, reveal: bool) -> None:
        if self.results.on_toggle():  # Enter on "Show N weaker matches", from the box or the list
            self.results.show_weak()
            return
        (self.reveal_current if reveal else self.open_current)()

    @Slot()
    def open_current(self) -> None:
        hit = self.current_hit()
        if hit is not None:
            self._open_path(hit.path)

    @Slot()
    def reveal_current(self) -> None:
        hit = self.current_hit()
        if hit is not None:
            self._reveal_path(hit.path)

    @Slot(str)
    def _open_path(self, path: str) -> None:
        self.context.actions.open(path)

    @Slot(str)
    def _reveal_path(self, path: str) -> None:
        self.context.actions.reveal(path)

    # -- library changes ---------------------------------------------------------------------------------
    @Slot()
    def choose_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Add a folder to the library")
        if path:
            self.add_folder(path)

    @Slot()
    def add_demo(self) -> None:
        if self.context.demo_path is not None:
            self.add_folder(str(self.context.demo_path))

    @Slot(str)
    def add_folder(self, path: str) -> None:
        if self.indexing is None:
            return
        self._show_page(PAGE_SEARCH)
        self.indexing_status.show_busy(f"Adding {path}…")
        self.indexing.add_folder(path)
        self.bar.focus_box()

    @Slot(str)
    def remove_folder(self, path: str) -> None:
        if self.indexing is None:
            return
        answer = QMessageBox.question(
            self, "Remove folder",
            plain_html(f"Stop searching {home_short(path)}?\n\nIts documents are removed from the index. "
                       "Your files are not touched."))
        if answer == QMessageBox.StandardButton.Yes:
            self.indexing.forget(path)

    @Slot()
    def update_now(self) -> None:
        """An update the user asked for: runs even with a folder missing, after saying what that does."""
        if self.indexing is None:
            return
        missing = self.snapshot.missing if self.snapshot is not None else frozenset()
        if missing:
            names = "\n".join(home_short(p) for p in sorted(missing))
            answer = QMessageBox.question(
                self, "Update with a folder missing",
                plain_html(f"These library folders are missing:\n{names}\n\nUpdating now removes their documents "
                           "from the index (they are read again when the folders come back). Update anyway?"))
            if answer != QMessageBox.StandardButton.Yes:
                return
        self.indexing.request_update()

    def _auto_update(self) -> None:
        """An update nobody asked for (at start, after file changes). The engine drops the documents of
        a root it cannot find, so while one is missing (an unplugged drive) these are skipped."""
        if self.indexing is None or self._closed:
            return
        if self.snapshot is not None and self.snapshot.missing:
            log.info("automatic update skipped: %s missing", ", ".join(sorted(self.snapshot.missing)))
            return
        self.indexing.request_update()

    @Slot()
    def reembed(self) -> None:
        if self.indexing is not None and self.library is not None and self.library.model_mismatch:
            self.model_banner.show_message("Re-embedding every passage with the current model…", level="info")
            self.indexing.reembed()

    @Slot()
    def _on_files_changed(self) -> None:
        self._auto_update()

    @Slot(object)
    def _on_progress(self, progress: Progress) -> None:
        self.indexing_status.show_progress(progress)
        if self.library_dialog is not None:
            self.library_dialog.show_progress(progress)
        if not self.status_timer.isActive():
            self.status_timer.start()
        if self.model.total == 0 and progress.passages and not self.search.busy:
            self.search_again()  # first results while the first files are being read

    @Slot(bool)
    def _on_running_changed(self, running: bool) -> None:
        self.indexing_status.set_running(running)
        if not running and self.library_dialog is not None:
            self.library_dialog.show_progress(None)
        self._update_info_banner()

    @Slot(object, object)
    def _on_job_finished(self, job: Job, result: object) -> None:
        if job.kind in ("add", "forget") and self.watcher is not None:
            self.watcher.restart()
        if job.kind in ("update", "reembed"):
            self._show_model_mismatch()
            self.search_again()
        if job.kind == "forget":
            self.search_again()
        self.refresh_status()

    @Slot(object, str)
    def _on_job_failed(self, job: Job, message: str) -> None:
        self.last_error = message
        what = {"update": "Indexing", "add": "Adding the folder", "forget": "Removing the folder",
                "reembed": "Re-embedding"}[job.kind]
        self.statusBar().showMessage(f"{what} failed: {message}", 15000)
        self.refresh_status()

    # -- dialogs ------------------------------------------------------------------------------------------
    @Slot()
    def open_library_dialog(self) -> None:
        if self.library_dialog is None:
            dialog = self.library_dialog = LibraryDialog(self)
            dialog.add_requested.connect(self.add_folder)
            dialog.remove_requested.connect(self.remove_folder)
            dialog.exclusions_requested.connect(self.edit_exclusions)
            dialog.update_requested.connect(self.update_now)
            dialog.problems_requested.connect(self.open_problems)
        if self.snapshot is not None:
            self.library_dialog.set_snapshot(self.snapshot)
        if self.indexing is not None and self.indexing.last_progress is not None and self.indexing.running:
            self.library_dialog.show_progress(self.indexing.last_progress)
        self.library_dialog.show()
        self.library_dialog.raise_()
        self.library_dialog.activateWindow()

    @Slot()
    def open_problems(self) -> None:
        if self.problems_dialog is None:
            self.problems_dialog = ProblemsDialog(self)
            self.problems_dialog.reveal_requested.connect(self._reveal_path)
            self.problems_dialog.copy_requested.connect(self.context.actions.copy)
        if self.snapshot is not None:
            self.problems_dialog.set_failures(self.snapshot.status.failed, self.snapshot.status.warnings)
        self.problems_dialog.show()
        self.problems_dialog.raise_()

    @Slot(str)
    def edit_exclusions(self, root: str) -> IgnoreEditor:
        editor = IgnoreEditor(root, self.tasks, self.library_dialog or self)
        editor.saved.connect(self._exclusions_saved)
        editor.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        editor.show()
        return editor

    @Slot(str)
    def _exclusions_saved(self, _root: str) -> None:
        self._auto_update()

    @Slot()
    def show_about(self) -> None:
        QMessageBox.about(self, "About Librarian",
                          "<h3>Librarian</h3><p>Searches your own documents by meaning and by words, "
                          "entirely on this computer.</p>"
                          + (f"<p>Log file: {html.escape(self.context.log_path)}</p>"
                             if self.context.log_path else ""))

    # -- drag and drop ---------------------------------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        urls = event.mimeData().urls() if event.mimeData().hasUrls() else []
        if urls and all(url.isLocalFile() for url in urls) and self.indexing is not None:
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = [url.toLocalFile() for url in event.mimeData().urls() if url.isLocalFile()]
        for path in paths:
            self.add_folder(path)  # the engine takes a folder or a single file
        if paths:
            event.acceptProposedAction()

    # -- closing -----------------------------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:
        self.shutdown()
        super().closeEvent(event)

    def shutdown(self) -> None:
        """Save settings, stop watching, cancel indexing (nothing committed is lost), close the index."""
        if self._closed:
            return
        self._closed = True
        self.settings.set_geometry(self.saveGeometry())
        self.settings.set_splitter(self.splitter.saveState())
        self.settings.set_mode(self.bar.current_mode())
        self.settings.sync()
        self.search.timer.stop()
        self.status_timer.stop()
        if self.watcher is not None:
            self.watcher.stop()
        if self.indexing is not None:
            self.indexing.shutdown()
        self.tasks.wait()
        if self.library is not None:
            self.library.close()
        for dialog in (self.library_dialog, self.problems_dialog):
            if dialog is not None:
                dialog.close()
