"""`librarian gui` / `librarian-gui`: set everything up (logging, crash reports, settings, the window)
in `main()` and run the event loop. Nothing happens at import time."""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PySide6.QtWidgets import QApplication

log = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="librarian-gui", description="Librarian's desktop app.")
    parser.add_argument("--data-dir", metavar="DIR", help="where the index lives (default: the platform's data dir)")
    parser.add_argument("--model-dir", metavar="DIR", help="a model folder other than the shipped one")
    parser.add_argument("--settings", metavar="FILE", help="settings file (default: in the platform's config dir)")
    parser.add_argument("--log-dir", metavar="DIR", help="log folder (default: the platform's log dir)")
    parser.add_argument("--no-watch", action="store_true", help="do not follow file changes while running")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    return parser


def main(argv: list[str] | None = None) -> int:
    # Extraction runs in worker processes: a frozen app must not start itself again in each of them.
    multiprocessing.freeze_support()
    args = build_parser().parse_args(sys.argv[1:] if argv is None else argv)

    from librarian.engine.library import demo_library_path

    from .context import AppContext
    from .errors import CrashReporter
    from .logs import default_log_dir, setup_logging
    from .opener import open_library
    from .settings import Settings, default_settings_path
    from .window import MainWindow

    try:
        log_path, handler = setup_logging(Path(args.log_dir) if args.log_dir else default_log_dir(),
                                          verbose=args.verbose)
    except OSError as exc:  # a read-only home must not stop the app
        print(f"librarian: cannot write the log file: {exc}", file=sys.stderr)
        log_path, handler = None, None
    log.info("starting the desktop app (data dir: %s)", args.data_dir or "default")

    # Worker threads (indexing, search) hand the GIL back every millisecond, not every five: the
    # window's event loop waits less for it while a folder is being indexed.
    sys.setswitchinterval(0.001)
    app = _application()

    reporter = CrashReporter(log_path=str(log_path or ""))
    reporter.install()
    settings = Settings(Path(args.settings) if args.settings else default_settings_path())
    data_dir, model_dir = args.data_dir, args.model_dir
    context = AppContext(
        settings=settings,
        open_library=lambda: open_library(data_dir, model_dir),
        demo_path=demo_library_path(),
        watch=not args.no_watch,
        log_path=str(log_path or ""),
    )
    window = MainWindow(context)
    window.show()
    try:
        code = app.exec()
    finally:
        window.shutdown()
        reporter.uninstall()
        log.info("desktop app closed")
        if handler is not None:
            logging.getLogger().removeHandler(handler)
            handler.close()
    return int(code)


def _application() -> QApplication:
    """The process's QApplication (a test's, or a new one), named and with the app's icon."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QApplication

    from .icons import app_icon

    app = QApplication.instance()
    if app is None:
        # Fractional scale factors (150 %) as they are, not rounded: crisp text on high-DPI screens.
        QGuiApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
        app = QApplication([sys.argv[0] if sys.argv else "librarian"])
    if not isinstance(app, QApplication):  # a QCoreApplication has no windows to show
        raise RuntimeError("this process already runs a Qt application without a GUI")
    app.setApplicationName("Librarian")
    app.setOrganizationName("Librarian")
    app.setApplicationDisplayName("Librarian")
    app.setDesktopFileName("librarian")
    app.setWindowIcon(app_icon())
    return app


if __name__ == "__main__":
    sys.exit(main())
