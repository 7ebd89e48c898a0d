"""Package discovery for this repository's layout (all other settings are in pyproject.toml).

The source folders engine/, desktop/ and models/ install as librarian.engine, librarian.desktop and
librarian.models (``package-dir`` in pyproject.toml). ``[tool.setuptools.packages.find]`` names what it
finds after the folders ("engine.cli") and cannot add the ``librarian.`` prefix, so discovery is done
here, as Tryton's modules do for the same layout: every folder below the three is a package, whether
it holds code (engine/cli) or data (engine/demo), and a new one cannot be dropped by a forgotten list.
"""

from setuptools import find_namespace_packages, setup

SOURCE_FOLDERS = ("engine", "desktop", "models")
BYTECODE = ["__pycache__", "*.__pycache__"]
SCRATCH = {"models": ["_work", "_work.*", "cache", "cache.*"]}  # the model pipeline's (see .gitignore)


def librarian_packages() -> list[str]:
    packages = []
    for folder in SOURCE_FOLDERS:
        left_out = BYTECODE + SCRATCH.get(folder, [])
        packages.append(f"librarian.{folder}")
        packages += [f"librarian.{folder}.{name}" for name in find_namespace_packages(folder, exclude=left_out)]
    return packages


setup(packages=librarian_packages())
