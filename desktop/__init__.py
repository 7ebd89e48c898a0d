"""Librarian's desktop app (PySide6) on top of the engine's `Library` façade.

One module per concept: `app` (main, setup), `window` (the search window), `search_worker`
(search-as-you-type off the UI thread), `results_model` + `delegate` (the result list), `preview`,
`indexing` (the background writer thread), `library_panel`, `ignore_editor`, `problems`, `watching`.
Importing this package has no side effects; everything is set up in `app.main()`.
"""
