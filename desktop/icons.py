"""The app icon (package data in ``icons/``) and one small icon per file kind.

File-kind icons come from the desktop theme when it has them (native look) and are otherwise painted:
a page with a coloured band and a short label, sized for high-DPI screens. No disk access per row.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPainterPath, QPixmap

# kind → (theme icon name, badge text, badge colour)
KINDS: dict[str, tuple[str, str, str]] = {
    "pdf": ("application-pdf", "PDF", "#d93f3f"),
    "docx": ("x-office-document", "DOC", "#2f6fd6"),
    "doc": ("x-office-document", "DOC", "#2f6fd6"),
    "odt": ("x-office-document", "ODT", "#2f6fd6"),
    "rtf": ("x-office-document", "RTF", "#2f6fd6"),
    "pptx": ("x-office-presentation", "PPT", "#e0782b"),
    "epub": ("application-epub+zip", "EPUB", "#3a9a5b"),
    "html": ("text-html", "HTML", "#7a4fc9"),
    "markdown": ("text-x-generic", "MD", "#46607a"),
    "code": ("text-x-script", "</>", "#2b8a8a"),
    "text": ("text-x-generic", "TXT", "#6b7280"),
    "email": ("message-rfc822", "EML", "#b7791f"),
    "mbox": ("message-rfc822", "MBOX", "#b7791f"),
}
KIND_LABELS: dict[str, str] = {
    "pdf": "PDF", "docx": "Word", "odt": "OpenDocument", "rtf": "Rich text", "pptx": "Slides",
    "epub": "E-book", "html": "Web page", "markdown": "Markdown", "code": "Code", "text": "Plain text",
    "email": "E-mail", "mbox": "Mailbox",
}


def icons_dir() -> Path:
    return Path(str(resources.files("librarian.desktop") / "icons"))


def app_icon() -> QIcon:
    icon = QIcon()
    folder = icons_dir()
    for size in (16, 32, 48, 64, 128, 256):
        png = folder / f"librarian-{size}.png"
        if png.exists():
            icon.addFile(str(png))
    svg = folder / "librarian.svg"
    if svg.exists():
        icon.addFile(str(svg))
    return icon


def kind_icon(kind: str) -> QIcon:
    """Callers cache these (per delegate): icons must not outlive the QApplication."""
    theme_name, _, _ = KINDS.get(kind, ("text-x-generic", "", ""))
    if QIcon.hasThemeIcon(theme_name):
        return QIcon.fromTheme(theme_name)
    icon = QIcon()
    for size in (32, 64, 128):
        icon.addPixmap(paint_badge(kind, size))
    return icon


def paint_badge(kind: str, size: int) -> QPixmap:
    _, label, colour = KINDS.get(kind, ("", (kind[:4].upper() or "FILE"), "#6b7280"))
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    p = QPainter(pixmap)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    s = size / 32.0
    page = QPainterPath()
    page.moveTo(6 * s, 2 * s)
    page.lineTo(20 * s, 2 * s)
    page.lineTo(27 * s, 9 * s)
    page.lineTo(27 * s, 30 * s)
    page.lineTo(6 * s, 30 * s)
    page.closeSubpath()
    p.setPen(QColor("#9aa3ad"))
    p.setBrush(QColor("#fbfbfc"))
    p.drawPath(page)
    fold = QPainterPath()
    fold.moveTo(20 * s, 2 * s)
    fold.lineTo(20 * s, 9 * s)
    fold.lineTo(27 * s, 9 * s)
    p.drawPath(fold)
    band = QRectF(2 * s, 15 * s, 28 * s, 11 * s)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QColor(colour))
    p.drawRoundedRect(band, 2 * s, 2 * s)
    font = QFont()
    font.setBold(True)
    font.setPixelSize(max(6, int((7 if len(label) <= 3 else 6) * s)))
    p.setFont(font)
    p.setPen(QColor("white"))
    p.drawText(band, Qt.AlignmentFlag.AlignCenter, label)
    p.end()
    return pixmap
