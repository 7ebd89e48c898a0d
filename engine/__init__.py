"""Librarian's headless core: crawl, extract, chunk, encode, store, search. Imports no Qt."""

__version__ = "0.1.0"
