"""Paints one result row: kind icon, title and date, file name and its folder (named from its library
folder), the snippet with the matched words in bold (two lines at most), then why it matched ("meaning
0.71 · words: sourdough") and where in the file. What says why is never cut: the heading path gives
way first. Hits below the relevance floor are drawn fainter; the "Show N weaker matches" row is a
single line drawn like a link. Colours come from the
palette, so light and dark themes both work; sizes come from the font, so high-DPI works.

Everything a row shows comes from the user's files and is shown as plain text: titles, names and the
locator are drawn with ``drawText`` (never parsed), the snippet's HTML is built from escaped text
(`highlighted_html`), and tooltips go through `PlainToolTipDelegate`."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QModelIndex, QPersistentModelIndex, QRect, QRectF, QSize, Qt
from PySide6.QtGui import (
    QAbstractTextDocumentLayout,
    QColor,
    QFont,
    QFontMetrics,
    QHelpEvent,
    QIcon,
    QPainter,
    QPalette,
    QTextDocument,
)
from PySide6.QtWidgets import QAbstractItemView, QStyle, QStyledItemDelegate, QStyleOptionViewItem, QToolTip

from .formatting import plain_html
from .icons import kind_icon
from .results_model import Role

PAD = 8
ICON = 32
SNIPPET_LINES = 2


class PlainToolTipDelegate(QStyledItemDelegate):
    """Shows an item's tooltip as plain text. Qt guesses whether a tooltip is HTML, so a file path
    like ``/x/<a href=…>y</a>.md`` would be rendered; the model keeps the plain text, the view escapes."""

    def tooltip_html(self, index: QModelIndex | QPersistentModelIndex) -> str:
        text = index.data(Qt.ItemDataRole.ToolTipRole)
        return plain_html(str(text)) if text else ""

    def helpEvent(self, event: QHelpEvent, view: QAbstractItemView, option: QStyleOptionViewItem,
                  index: QModelIndex | QPersistentModelIndex) -> bool:
        if event is None or view is None or event.type() != QEvent.Type.ToolTip or not index.isValid():
            return super().helpEvent(event, view, option, index)
        tooltip = self.tooltip_html(index)
        if tooltip:
            QToolTip.showText(event.globalPos(), tooltip, view, view.visualRect(index))
        else:
            QToolTip.hideText()
        return True


class HitDelegate(PlainToolTipDelegate):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._icons: dict[str, QIcon] = {}
        self._doc = QTextDocument()
        self._doc.setDocumentMargin(0)

    def _icon(self, kind: str) -> QIcon:
        icon = self._icons.get(kind)
        if icon is None:
            icon = self._icons[kind] = kind_icon(kind)
        return icon

    @staticmethod
    def _fonts(base: QFont) -> tuple[QFont, QFont]:
        title = QFont(base)
        title.setBold(True)
        title.setPointSizeF(base.pointSizeF() * 1.08 if base.pointSizeF() > 0 else base.pointSizeF())
        small = QFont(base)
        if base.pointSizeF() > 0:
            small.setPointSizeF(base.pointSizeF() * 0.9)
        return title, small

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:
        if index.data(Role.TOGGLE):
            return QSize(200, PAD * 3 + QFontMetrics(option.font).height())
        title, small = self._fonts(option.font)
        height = (PAD * 2 + QFontMetrics(title).height() + QFontMetrics(small).height() * 2
                  + QFontMetrics(option.font).lineSpacing() * SNIPPET_LINES + 6)
        return QSize(200, height)  # the view gives each row its full width

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""
        opt.icon = QIcon()
        widget = opt.widget
        style = widget.style() if widget is not None else None
        painter.save()
        if style is not None:
            style.drawPrimitive(QStyle.PrimitiveElement.PE_PanelItemViewItem, opt, painter, widget)
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)
        group = (QPalette.ColorGroup.Active if opt.state & QStyle.StateFlag.State_Active
                 else QPalette.ColorGroup.Inactive)
        text_role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        text = opt.palette.color(group, text_role)
        link = index.data(Role.TOGGLE)
        if link:
            link_colour = text if selected else opt.palette.color(group, QPalette.ColorRole.Link)
            self._paint_toggle(painter, opt, index.data() or link, link, text, link_colour)
            painter.restore()
            return
        if index.data(Role.WEAK) and not selected:
            text.setAlphaF(0.78)  # below the relevance floor: present, and quieter
        muted = QColor(text)
        muted.setAlphaF(0.68 * text.alphaF())
        rect: QRect = opt.rect.adjusted(PAD, PAD, -PAD, -PAD)
        title_font, small_font = self._fonts(opt.font)
        self._icon(index.data(Role.KIND) or "").paint(painter, QRect(rect.left(), rect.top() + 2, ICON, ICON))
        left = rect.left() + ICON + PAD
        width = rect.right() - left

        # line 1: title, date on the right
        fm_title, fm_small = QFontMetrics(title_font), QFontMetrics(small_font)
        date = index.data(Role.MODIFIED) or ""
        date_width = fm_small.horizontalAdvance(date) + PAD if date else 0
        y = rect.top()
        painter.setFont(small_font)
        painter.setPen(muted)
        painter.drawText(QRect(rect.right() - date_width, y, date_width, fm_title.height()),
                         Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, date)
        painter.setFont(title_font)
        painter.setPen(text)
        title = fm_title.elidedText(index.data(Qt.ItemDataRole.DisplayRole) or "", Qt.TextElideMode.ElideRight,
                                    max(width - date_width, 10))
        painter.drawText(QRect(left, y, width - date_width, fm_title.height()),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, title)
        y += fm_title.height()

        # line 2: file name — folder
        painter.setFont(small_font)
        painter.setPen(muted)
        where = f"{index.data(Role.FILE_NAME)}  —  {index.data(Role.FOLDER)}"
        painter.drawText(QRect(left, y, width, fm_small.height()), Qt.AlignmentFlag.AlignLeft,
                         fm_small.elidedText(where, Qt.TextElideMode.ElideMiddle, width))
        y += fm_small.height() + 3

        # lines 3-4: the snippet, matched words in bold
        y += self._paint_snippet(painter, opt.font, index.data(Role.SNIPPET_HTML) or "", text,
                                 QRect(left, y, width, QFontMetrics(opt.font).lineSpacing() * SNIPPET_LINES)) + 3

        # line 5: why it matched · more passages, then where in the file (cut first when space is short)
        painter.setFont(small_font)
        painter.setPen(muted)
        why = "   ·   ".join(m for m in (index.data(Role.WHY), index.data(Role.MORE)) if m)
        why_width = min(fm_small.horizontalAdvance(why), width)
        painter.drawText(QRect(left, y, width, fm_small.height()), Qt.AlignmentFlag.AlignLeft,
                         fm_small.elidedText(why, Qt.TextElideMode.ElideRight, width))
        locator = index.data(Role.LOCATOR) or ""
        room = width - why_width - 3 * PAD
        if locator and room > fm_small.averageCharWidth() * 6:
            painter.drawText(QRect(rect.right() - room, y, room, fm_small.height()), Qt.AlignmentFlag.AlignRight,
                             fm_small.elidedText(locator, Qt.TextElideMode.ElideMiddle, room))
        painter.restore()

    def _paint_toggle(self, painter: QPainter, opt: QStyleOptionViewItem, sentence: str, link: str,
                      colour: QColor, link_colour: QColor) -> None:
        """The "Show N weaker matches" row: one line inset like the titles; what comes before the link
        ("No close matches for …") in plain text, the link underlined."""
        rect = opt.rect.adjusted(PAD + ICON + PAD, 0, -PAD, 0)
        lead = sentence[: len(sentence) - len(link)] if sentence.endswith(link) else ""
        plain = QFont(opt.font)
        metrics = QFontMetrics(plain)
        lead = metrics.elidedText(lead, Qt.TextElideMode.ElideMiddle, rect.width() // 2) if lead else ""
        align = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        if lead:
            painter.setFont(plain)
            painter.setPen(colour)
            painter.drawText(rect, align, lead)
            rect.setLeft(rect.left() + metrics.horizontalAdvance(lead))
        underlined = QFont(opt.font)
        underlined.setUnderline(True)
        painter.setFont(underlined)
        painter.setPen(link_colour)
        painter.drawText(rect, align, QFontMetrics(underlined).elidedText(link, Qt.TextElideMode.ElideRight, rect.width()))

    def _paint_snippet(self, painter: QPainter, font: QFont, snippet_html: str, color: QColor, box: QRect) -> int:
        """Draw the snippet's rich text clipped to ``box``; returns the height it takes."""
        self._doc.setDefaultFont(font)
        self._doc.setHtml(snippet_html)
        self._doc.setTextWidth(box.width())
        context = QAbstractTextDocumentLayout.PaintContext()
        context.palette.setColor(QPalette.ColorRole.Text, color)
        context.clip = QRectF(0, 0, box.width(), box.height())
        painter.save()
        painter.translate(box.left(), box.top())
        painter.setClipRect(QRectF(0, 0, box.width(), box.height()))
        self._doc.documentLayout().draw(painter, context)
        painter.restore()
        return box.height()
