"""Librarian's headless core: crawl, extract, chunk, encode, store, search. Imports no Qt.

The version is the one in pyproject.toml: `importlib.metadata.version("librarian")`.
"""
