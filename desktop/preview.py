"""The preview pane: the best passage of the selected result in its surrounding text, marked and
scrolled into view, with where it is (page, heading, line) on its own line and buttons to open, reveal
or copy the path. The text is read on the thread pool (`Library.passage_context`, given the query);
a newer selection drops older loads.

How the passage is marked: a soft tint of the palette's highlight colour mixed into the page colour
(a selection it is not, and it reads in light and dark themes alike), the query's words in bold, and
the sentence closest in meaning to the query in a slightly stronger tint.

Titles, headings, paths and text all come from the user's files, so none of it is ever rendered as
markup: the labels are plain text, the snippet's HTML is built from escaped text, the passage is set
with ``setPlainText``, and no link opens."""

from __future__ import annotations

from typing import TYPE_CHECKING

from librarian.engine.results import Hit, PassageContext
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QColor, QFont, QPalette, QTextBlockFormat, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from .formatting import file_name, folder_of, heading_below_title, highlighted_html, plain_html
from .reflow import unwrap
from .tasks import Tasks

if TYPE_CHECKING:
    from librarian.engine.library import Library

PASSAGE_TINT = 0.12  # share of the highlight colour in the passage's background
MEANING_TINT = 0.26  # ... in the background of the sentence closest in meaning to the query
PARAGRAPH_GAP = 6  # pixels between paragraphs of documents whose lines are paragraphs (not code)
PROSE_KINDS = frozenset({"pdf", "html", "docx", "odt", "epub", "pptx", "email", "mbox"})
# Kinds whose text is often wrapped by hand: shown with its paragraphs unwrapped (`reflow.unwrap`).
UNWRAP_KINDS = frozenset({"text", "markdown", "email", "mbox", "rtf"})


def tint(base: QColor, accent: QColor, share: float) -> QColor:
    """``accent`` mixed into ``base``, opaque: a background that stays readable in any palette."""
    return QColor.fromRgbF(*(b + (a - b) * share for b, a in
                             ((base.redF(), accent.redF()), (base.greenF(), accent.greenF()),
                              (base.blueF(), accent.blueF()))))


def locator_text(locator, title: str = "") -> str:
    """"Page 3 · Section › Sub", "Line 12": where the passage is, less the document's title that the
    pane shows above it."""
    if locator is None:
        return ""
    heading = heading_below_title(getattr(locator, "heading", None), title, keep_title=True)
    if getattr(locator, "page", None) is not None:
        head = f"Page {locator.page}"
        return f"{head} · {heading}" if heading else head
    if heading:
        return heading
    if getattr(locator, "line", None) is not None:
        return f"Line {locator.line}"
    return ""


class PreviewPane(QWidget):
    # OS paths: object, not str, because Qt strings drop the bytes of a name that is not UTF-8.
    open_requested = Signal(object)
    reveal_requested = Signal(object)
    copy_requested = Signal(object)
    loaded = Signal(object)  # PassageContext shown (tests wait on this)

    def __init__(self, tasks: Tasks, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tasks = tasks
        self.library: Library | None = None
        self.hit: Hit | None = None
        self.query = ""
        self.context: PassageContext | None = None
        self._request = 0

        self.title = QLabel()
        font = QFont(self.title.font())
        font.setBold(True)
        font.setPointSizeF(max(font.pointSizeF() * 1.2, 1.0))
        self.title.setFont(font)
        self.title.setWordWrap(True)
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.path = QLabel()
        self.path.setWordWrap(True)
        self.path.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.path.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.where = QLabel()
        self.where.setObjectName("previewLocator")
        self.where.setWordWrap(True)
        # A long heading path must not widen the pane (and squeeze the result list): let it wrap.
        self.where.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.path.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        for label in (self.title, self.path, self.where):
            # A QLabel guesses rich text by default: a Subject "<h1 …><a href=…>" would render.
            label.setTextFormat(Qt.TextFormat.PlainText)
            label.setOpenExternalLinks(False)

        self.open_button = QPushButton("Open")
        self.open_button.setToolTip("Open the file (Enter)")
        self.reveal_button = QPushButton("Show in folder")
        self.reveal_button.setToolTip("Show the file in its folder (Ctrl+Enter)")
        self.copy_button = QPushButton("Copy path")
        for button in (self.open_button, self.reveal_button, self.copy_button):
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keep the keyboard in the search box / list
        self.open_button.clicked.connect(self._open)
        self.reveal_button.clicked.connect(self._reveal)
        self.copy_button.clicked.connect(self._copy)
        buttons = QHBoxLayout()
        buttons.addWidget(self.open_button)
        buttons.addWidget(self.reveal_button)
        buttons.addWidget(self.copy_button)
        buttons.addStretch(1)

        self.text = QTextBrowser()
        self.text.setOpenLinks(False)
        self.text.setOpenExternalLinks(False)
        self.text.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.text.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addWidget(self.title)
        layout.addWidget(self.path)
        layout.addWidget(self.where)
        layout.addLayout(buttons)
        layout.addWidget(self.text, 1)
        self.show_hit(None)

    def set_library(self, library: Library) -> None:
        self.library = library

    # -- showing ------------------------------------------------------------------------------------
    def show_hit(self, hit: Hit | None, *, query: str = "") -> None:
        self._request += 1
        self.hit = hit
        self.query = query
        self.context = None
        enabled = hit is not None
        for button in (self.open_button, self.reveal_button, self.copy_button):
            button.setEnabled(enabled)
        self.copy_button.setText("Copy path")
        if hit is None:
            self.title.setText("")
            self.path.setText("")
            self.where.setText("")
            self.path.setToolTip("")
            self.text.setHtml("")
            self.text.setPlaceholderText("Select a result to see where it matched.")
            return
        self.title.setText(hit.title or file_name(hit.path))
        self.path.setText(f"{file_name(hit.path)}  —  {folder_of(hit.path)}")
        self.path.setToolTip(plain_html(hit.display_path))
        self.where.setText(locator_text(hit.locator, hit.title))
        # The snippet at once; the passage in its context when the pool has read it.
        self.text.setHtml(f"<p>{highlighted_html(hit.snippet, hit.highlights)}</p>")
        library = self.library
        if library is not None:
            passage_id, asked = hit.passage_id, self.query.strip() or None
            self.tasks.start(lambda: library.passage_context(passage_id, query=asked), done=self._on_context,
                             failed=self._on_failed, tag=self._request)

    @Slot(int, object)
    def _on_context(self, request: int, context: object) -> None:
        if request != self._request or not isinstance(context, PassageContext):
            return
        self.show_context(context)

    @Slot(int, object)
    def _on_failed(self, request: int, error: object) -> None:
        if request != self._request:
            return
        self.text.setPlainText(f"The text of this result cannot be shown: {error}\n\n"
                               "The file may have changed since it was indexed.")

    def show_context(self, context: PassageContext) -> None:
        self.context = context
        where = locator_text(context.locator, context.title)
        if where:
            self.where.setText(where)
        text, where_is = unwrap(context.text) if context.kind in UNWRAP_KINDS else (context.text, None)
        self.text.setPlainText(text)
        if context.kind in PROSE_KINDS:
            self._space_paragraphs()
        length = len(context.text)

        def shown(position: int) -> int:
            position = max(0, min(position, length))
            return where_is[position] if where_is is not None else position

        start, end = shown(context.passage_span[0]), shown(context.passage_span[1])
        end = max(start, end)
        self._mark(start, end, PASSAGE_TINT)
        if context.meaning_span is not None:
            m_start, m_end = (shown(p) for p in context.meaning_span)
            self._mark(m_start, max(m_start, m_end), MEANING_TINT)
        for w_start, w_end in context.word_spans:
            w_start, w_end = shown(w_start), shown(w_end)
            if w_end > w_start:
                self._bold(w_start, w_end)
        self._scroll_to(start)
        self.loaded.emit(context)

    def _cursor(self, start: int, end: int) -> QTextCursor:
        cursor = QTextCursor(self.text.document())
        cursor.setPosition(start)
        cursor.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
        return cursor

    def _mark(self, start: int, end: int, share: float) -> None:
        fmt = QTextCharFormat()
        palette = self.palette()
        fmt.setBackground(tint(palette.color(QPalette.ColorRole.Base), palette.color(QPalette.ColorRole.Highlight),
                               share))
        self._cursor(start, end).mergeCharFormat(fmt)

    def _bold(self, start: int, end: int) -> None:
        fmt = QTextCharFormat()
        fmt.setFontWeight(QFont.Weight.Bold)
        self._cursor(start, end).mergeCharFormat(fmt)

    def _space_paragraphs(self) -> None:
        """A small gap after each paragraph: reflowed PDF pages and web pages put one per line."""
        cursor = QTextCursor(self.text.document())
        cursor.select(QTextCursor.SelectionType.Document)
        fmt = QTextBlockFormat()
        fmt.setBottomMargin(PARAGRAPH_GAP)
        cursor.mergeBlockFormat(fmt)

    def _scroll_to(self, start: int) -> None:
        """Start the view two lines above the passage, so it reads in context. The document is laid
        out first: QTextEdit does it lazily, and positions are only known after."""
        doc = self.text.document()
        doc.documentLayout().documentSize()
        block_rect = doc.documentLayout().blockBoundingRect(doc.findBlock(start))
        line = self.text.fontMetrics().lineSpacing()
        top = block_rect.top() + self._line_offset(start) * line - 2 * line
        self.text.verticalScrollBar().setValue(max(0, int(top)))
        view = QTextCursor(doc)
        view.setPosition(start)
        self.text.setTextCursor(view)

    def _line_offset(self, position: int) -> int:
        """Which wrapped line of its block ``position`` sits on."""
        block = self.text.document().findBlock(position)
        layout = block.layout()
        if layout is None or layout.lineCount() == 0:
            return 0
        line = layout.lineForTextPosition(position - block.position())
        return line.lineNumber() if line.isValid() else 0

    def passage_visible(self) -> bool:
        """Whether the highlighted passage's start is inside the viewport (for tests)."""
        rect = self.text.cursorRect()
        return self.text.viewport().rect().intersects(rect)

    def changeEvent(self, event) -> None:
        super().changeEvent(event)
        if event.type() == event.Type.PaletteChange and self.context is not None:
            self.show_context(self.context)  # the highlight colour follows the theme

    # -- buttons ------------------------------------------------------------------------------------
    @Slot()
    def _open(self) -> None:
        if self.hit is not None:
            self.open_requested.emit(self.hit.path)

    @Slot()
    def _reveal(self) -> None:
        if self.hit is not None:
            self.reveal_requested.emit(self.hit.path)

    @Slot()
    def _copy(self) -> None:
        if self.hit is not None:
            self.copy_requested.emit(self.hit.path)
            self.copy_button.setText("Copied")
