"""Entry script of the windowed `librarian-gui` executable (Windows and macOS only; see librarian.spec).

On Windows a console executable opens a console window when started from the Start menu, and a
macOS .app needs a windowed executable: these platforms get this second, windowed executable
beside the console `librarian`. Both share one folder of libraries. On Linux `librarian` alone
is built and the .deb's `librarian-gui` is a two-line wrapper around `librarian gui`.
"""

import multiprocessing
import sys

if __name__ == "__main__":
    multiprocessing.freeze_support()  # extraction workers re-run this executable (spawn)
    from librarian.desktop.app import main

    sys.exit(main())
