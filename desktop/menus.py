"""The menu bar and the keyboard shortcuts of the search window."""

from __future__ import annotations

from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import QMainWindow, QMenu

from .search_bar import MODE_LABELS


def _action(window: QMainWindow, menu: QMenu, text: str, slot, shortcut=None) -> QAction:
    action = QAction(text, window)
    if shortcut is not None:
        action.setShortcut(QKeySequence(shortcut) if isinstance(shortcut, str) else shortcut)
    action.triggered.connect(slot)
    menu.addAction(action)
    return action


def build_menus(window) -> None:
    """``window`` is the `MainWindow`; its slots are what the menus call."""
    library = window.menuBar().addMenu("&Library")
    _action(window, library, "&Add folder…", window.choose_folder, "Ctrl+O")
    _action(window, library, "Try the &demo library", window.add_demo)
    _action(window, library, "&Manage folders…", window.open_library_dialog, "Ctrl+Shift+L")
    _action(window, library, "&Update now", window.update_now, "F5")
    _action(window, library, "&Problems…", window.open_problems)
    library.addSeparator()
    _action(window, library, "&Quit", window.close, QKeySequence.StandardKey.Quit)

    search = window.menuBar().addMenu("&Search")
    _action(window, search, "&Find", window.bar.focus_box, "Ctrl+L")
    search.addSeparator()
    for number, (mode, label) in enumerate(MODE_LABELS, start=1):
        action = _action(window, search, label, window.set_mode_from_action, f"Ctrl+{number}")
        action.setData(mode)
    search.addSeparator()
    _action(window, search, "&Open result", window.open_current)
    _action(window, search, "Show result in &folder", window.reveal_current)

    help_menu = window.menuBar().addMenu("&Help")
    _action(window, help_menu, "&About Librarian", window.show_about)
    # Ctrl+F as well as Ctrl+L: both are what people try.
    QShortcut(QKeySequence("Ctrl+F"), window, window.bar.focus_box)
