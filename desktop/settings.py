"""What the app remembers between runs (window geometry, splitter, last search mode), in an INI file in
the platform's config dir. Tests pass their own file so they never touch the user's."""

from __future__ import annotations

from pathlib import Path

import platformdirs
from librarian.engine.results import MODES, Mode
from PySide6.QtCore import QByteArray, QSettings


def default_settings_path() -> Path:
    return Path(platformdirs.user_config_dir("librarian", appauthor=False)) / "desktop.ini"


class Settings:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._qs = QSettings(str(path), QSettings.Format.IniFormat)

    # window --------------------------------------------------------------------------------------
    def geometry(self) -> QByteArray | None:
        value = self._qs.value("window/geometry")
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    def set_geometry(self, value: QByteArray) -> None:
        self._qs.setValue("window/geometry", value)

    def splitter(self) -> QByteArray | None:
        value = self._qs.value("window/splitter")
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    def set_splitter(self, value: QByteArray) -> None:
        self._qs.setValue("window/splitter", value)

    # search --------------------------------------------------------------------------------------
    def mode(self) -> Mode:
        value = self._qs.value("search/mode", "hybrid")
        return value if value in MODES else "hybrid"

    def set_mode(self, mode: Mode) -> None:
        if mode in MODES:
            self._qs.setValue("search/mode", mode)

    def sync(self) -> None:
        self._qs.sync()
