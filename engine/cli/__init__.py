"""`librarian` command line: one module per command, this one parses and dispatches.

Expected failures (`LibrarianError`) print one line and exit with the error's ``exit_status`` (1,
or 75 "try again later" while another process holds the index); Ctrl-C exits 130. Never a traceback
unless LIBRARIAN_DEBUG=1. An unexpected failure is first checked against the index file: when
SQLite finds it damaged, that is the one line the user sees (a corrupt page can surface as any
exception, e.g. a KeyError for a row that vanished); a genuine bug still shows its traceback.
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import os
import sys

from ..errors import LibrarianError
from . import admin, evaluate, index, search, shell, watch

COMMANDS = {
    "index": index,
    "search": search,
    "status": admin.status,
    "check": admin.check,
    "forget": admin.forget,
    "watch": watch,
    "eval": evaluate,
    "shell": shell,
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="librarian",
        description="Offline search of your own documents, by meaning and by words. "
                    "With no command, starts the desktop app (or, without a screen, a search prompt).")
    parser.add_argument("--data-dir", metavar="DIR",
                        help="where the index lives (default: the platform's user data dir, or $LIBRARIAN_DATA_DIR)")
    parser.add_argument("--model-dir", metavar="DIR", help="a model folder other than the shipped one")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what happens")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for _name, module in COMMANDS.items():
        module.add_parser(sub)  # type: ignore[attr-defined]
    gui = sub.add_parser("gui", help="start the desktop app", description="Start the desktop app.")
    gui.add_argument("--demo", action="store_true",
                     help="when no folder has been added yet, start with the bundled demo library")
    gui.set_defaults(run=_run_gui)
    return parser


def _run_gui(args: argparse.Namespace) -> int:
    """Start the desktop app: the one place the engine reaches `desktop`. `librarian` is also the app's
    launcher (the frozen bundle has one executable for both), so it calls the app's entry function with
    plain arguments (an argv list), late, as `git gui` hands over to a separate program. The dependency
    runs one way: the app imports only the engine's façade, never `engine.cli` (tests/test_facade.py)."""
    # The app logs to its own file; the console handler set up for the commands would echo it.
    for handler in list(logging.getLogger().handlers):
        if isinstance(handler, logging.StreamHandler) and not isinstance(handler, logging.FileHandler):
            logging.getLogger().removeHandler(handler)
    try:
        from librarian.desktop.app import main as gui_main
    except ImportError as exc:
        raise LibrarianError(f"the desktop app is not available ({exc})") from exc
    if getattr(args, "demo", True):  # `librarian` with no command behaves like `librarian gui --demo`
        from .common import demo_library_path, open_library

        try:
            with open_library(args) as library:
                if not library.roots():
                    library.add_folder(demo_library_path())
        except LibrarianError:
            pass  # the app itself explains a missing model or an unusable index
    argv = []
    if args.data_dir:
        argv += ["--data-dir", args.data_dir]
    if args.model_dir:
        argv += ["--model-dir", args.model_dir]
    return int(gui_main(argv) or 0)


def main(argv: list[str] | None = None) -> int:
    multiprocessing.freeze_support()
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    run = getattr(args, "run", None) or (_run_gui if shell.has_display() else shell.run)
    try:
        return int(run(args) or 0)
    except LibrarianError as exc:
        if os.environ.get("LIBRARIAN_DEBUG"):
            raise
        print(f"librarian: error: {exc}", file=sys.stderr)
        return exc.exit_status
    except KeyboardInterrupt:
        print("librarian: interrupted; what was indexed so far is kept", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # `librarian search --json | head`: the reader left. Point stdout at devnull so the
        # interpreter's final flush does not complain about the closed pipe.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except Exception as exc:
        damage = None if os.environ.get("LIBRARIAN_DEBUG") else _damage_behind(args, exc)
        if damage is None:
            raise
        print(f"librarian: error: {damage}", file=sys.stderr)
        return damage.exit_status


def _damage_behind(args: argparse.Namespace, exc: Exception) -> LibrarianError | None:
    """The `LibrarianError` an unexpected exception stands for (a damaged index file, a full disk),
    or None when the index is sound and the exception is a bug to report as it is."""
    import sqlite3

    from ..library import DB_NAME, resolve_data_dir
    from ..store import integrity_problem, translate_sqlite_error

    db = resolve_data_dir(getattr(args, "data_dir", None)) / DB_NAME
    if isinstance(exc, sqlite3.Error):
        translated = translate_sqlite_error(exc, db)
        if isinstance(translated, LibrarianError):
            return translated
    if not db.is_file():
        return None
    problem = integrity_problem(db)
    if problem is None:
        return None
    from ..errors import IndexDamagedError

    return IndexDamagedError(db.parent, problem)


if __name__ == "__main__":
    sys.exit(main())
