"""Entry script of the frozen `librarian` executable (PyInstaller; see librarian.spec).

The same executable is the CLI and, with no command (or `librarian gui`), the desktop app.
Extraction workers are started with the "spawn" method, which re-runs this executable: answer
them first, before the CLI (and with it argparse) is even imported.
"""

import multiprocessing
import sys

if __name__ == "__main__":
    multiprocessing.freeze_support()
    from librarian.engine.cli import main

    sys.exit(main())
