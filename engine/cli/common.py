"""Helpers the commands share: opening the library, the demo library, JSON output.

The `librarian` entry point imports this package at start, and so does every extraction worker
(the "spawn" start method re-imports the main module): nothing heavy may load at import time.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..library import Library


def open_library(args: argparse.Namespace) -> Library:
    from ..library import Library  # heavy (onnxruntime, usearch): loaded only when a command runs

    return Library.open(args.data_dir, model_dir=args.model_dir)


def demo_library_path() -> Path:
    from ..library import demo_library_path  # the façade's (the app uses it too): one definition

    return demo_library_path()


def print_json(data) -> None:
    json.dump(data, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")
