"""One end-to-end check with the shipped int8 model: the window finds a document by meaning."""

from __future__ import annotations

from librarian.desktop._testing import make_context, write_docs
from librarian.desktop.results_model import Role
from librarian.desktop.window import MainWindow
from librarian.engine.extract import extract
from librarian.engine.library import Library


def test_the_window_finds_by_meaning_with_the_real_model(qtbot, tmp_path, real_model):
    docs = write_docs(tmp_path / "docs")
    data = tmp_path / "data"
    w = MainWindow(make_context(tmp_path, lambda: Library.open(data, model=real_model, extract=extract)))
    qtbot.addWidget(w)
    w.show()
    qtbot.waitUntil(lambda: w.snapshot is not None)
    with qtbot.waitSignal(w.indexing.idle, timeout=60000):
        w.add_folder(str(docs))
    w.bar.set_mode("dense")
    with qtbot.waitSignal(w.results_shown, timeout=10000):
        qtbot.keyClicks(w.bar.box, "when do I have to pay the government")  # no word in common
    assert w.model.hit(0).path.endswith("taxes-2024.txt")
    assert w.model.index(0, 0).data(Role.MATCHED) == "matched by meaning"
    w.close()
