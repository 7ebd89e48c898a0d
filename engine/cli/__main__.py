"""`python -m librarian.engine.cli`: the same as the `librarian` command."""

import sys

from . import main

if __name__ == "__main__":  # not when an extraction worker re-imports the main module
    sys.exit(main())
