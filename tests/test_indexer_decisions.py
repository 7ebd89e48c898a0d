"""The indexer's per-file decision is a value: each case decided from real files, without SQLite.

To add a case: write a file with `put`, describe what the index holds with `row` (a `DocumentRow`),
call `decide` (a `FileDecider` with fakes for the twin lookup and the extractor), assert on the
decision returned. `Counts` and `GoneDocuments` are plain objects, tested the same way.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from librarian.engine.chunk import word_offsets
from librarian.engine.decisions import (
    CopyTwin,
    Counts,
    Fail,
    FileAt,
    GoneDocuments,
    Move,
    Touch,
    Unchanged,
    Vanished,
    Write,
    decide_by_stat,
)
from librarian.engine.errors import ExtractionError
from librarian.engine.extract.base import Extracted, Segment
from librarian.engine.indexer import FileDecider, content_hash
from librarian.engine.store import DocumentRow


def put(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def row(document_id: int = 1, *, path: str = "/docs/a.txt", digest: str | None = "old", status: str = "ok",
        size: int = 5, mtime_ns: int = 100, kind: str | None = "text") -> DocumentRow:
    return DocumentRow(id=document_id, path=path, root_id=1, size=size, mtime_ns=mtime_ns, content_hash=digest,
                       kind=kind, title="a", status=status, error=None, passage_count=1)


def at(path: Path) -> FileAt:
    info = path.stat()
    return FileAt(str(path), 1, size=info.st_size, mtime_ns=info.st_mtime_ns, kind="text")


def plain_text(path: Path) -> Extracted:
    text = path.read_text(encoding="utf-8")
    return Extracted(title=path.stem, segments=[Segment(text)], kind="text")


def decide(path: Path, existing: DocumentRow | None = None, *, gone: tuple[DocumentRow, ...] = (),
           twin: DocumentRow | None = None, extract=plain_text):
    decider = FileDecider(offsets=word_offsets, extract=extract, find_twin=lambda digest, exclude: twin,
                          gone=GoneDocuments(gone))
    return decider.decide(path, at(path), existing)


# -- the stat decides --------------------------------------------------------------------------------
def test_same_size_and_mtime_is_unchanged_without_reading_the_file():
    existing = row(size=5, mtime_ns=100)
    assert decide_by_stat(existing, size=5, mtime_ns=100, rehash=False) == Unchanged(failed=False)
    assert decide_by_stat(row(status="failed"), size=5, mtime_ns=100, rehash=False) == Unchanged(failed=True)


@pytest.mark.parametrize("size, mtime_ns, rehash", [(6, 100, False), (5, 101, False), (5, 100, True)])
def test_a_new_stat_or_a_rehash_looks_at_the_content(size, mtime_ns, rehash):
    assert decide_by_stat(row(size=5, mtime_ns=100), size=size, mtime_ns=mtime_ns, rehash=rehash) is None
    assert decide_by_stat(None, size=size, mtime_ns=mtime_ns, rehash=rehash) is None


# -- the content hash decides ------------------------------------------------------------------------
def test_same_content_under_a_new_mtime_is_a_touch(tmp_path):
    path = put(tmp_path, "a.txt", "alpha")
    existing = row(7, digest=content_hash(path))
    assert decide(path, existing) == Touch(7, size=5, mtime_ns=path.stat().st_mtime_ns)


def test_a_failed_document_with_the_same_content_is_read_again(tmp_path):
    path = put(tmp_path, "a.txt", "alpha")
    assert isinstance(decide(path, row(7, digest=content_hash(path), status="failed")), Write)


def test_a_new_file_with_the_content_of_a_vanished_one_is_a_move(tmp_path):
    path = put(tmp_path, "b.txt", "alpha")
    vanished = row(3, path="/docs/old.txt", digest=content_hash(path))
    decision = decide(path, gone=(vanished,))
    assert decision == Move(3, to=at(path))


def test_a_vanished_document_is_claimed_once(tmp_path):
    gone = GoneDocuments([row(3, digest="h"), row(4, digest="h"), row(5, digest="h", status="failed")])
    assert {gone.claim("h"), gone.claim("h")} == {3, 4}
    assert gone.claim("h") is None  # a failed row is never the source of a move
    assert [r.id for r in gone.still_gone()] == [5]


def test_a_changed_file_never_takes_a_vanished_documents_place(tmp_path):
    path = put(tmp_path, "a.txt", "alpha")
    vanished = row(3, path="/docs/old.txt", digest=content_hash(path))
    assert isinstance(decide(path, row(7), gone=(vanished,)), Write)


def test_the_content_of_another_document_is_copied_from_that_twin(tmp_path):
    path = put(tmp_path, "a.txt", "alpha")
    twin = row(9, path="/docs/twin.txt", digest=content_hash(path))
    assert decide(path, twin=twin) == CopyTwin(at(path), content_hash(path), twin, replaces=None)
    assert decide(path, row(7), twin=twin) == CopyTwin(at(path), content_hash(path), twin, replaces=7)


# -- the text decides ---------------------------------------------------------------------------------
def test_new_text_is_written_with_its_passages(tmp_path):
    path = put(tmp_path, "a.txt", "alpha beta gamma")
    decision = decide(path, row(7))
    assert isinstance(decision, Write)
    assert (decision.replaces, decision.kind, decision.title, decision.text) == (7, "text", "a", "alpha beta gamma")
    assert [p.body for p in decision.passages] == ["alpha beta gamma"]
    assert decision.warning is None


def test_a_file_indexed_in_part_is_written_with_a_warning(tmp_path):
    path = put(tmp_path, "a.txt", "alpha")

    def truncated(path: Path) -> Extracted:
        return Extracted(title="a", segments=[Segment("alpha")], kind="text", truncated=True,
                         notes=("text truncated",))

    decision = decide(path, extract=truncated)
    assert isinstance(decision, Write) and decision.warning == "text truncated"


def test_an_unextractable_file_fails_and_drops_its_old_passages(tmp_path):
    path = put(tmp_path, "a.txt", "alpha")

    def refuse(path: Path) -> Extracted:
        raise ExtractionError("encrypted PDF")

    assert decide(path, row(7), extract=refuse) == Fail(at(path), "encrypted PDF", digest=content_hash(path),
                                                         replaces=7)


def test_an_unreadable_file_fails_before_hashing(tmp_path):
    path = put(tmp_path, "a.txt", "alpha")
    decider = FileDecider(offsets=word_offsets, extract=plain_text, find_twin=lambda d, e: None,
                          gone=GoneDocuments(()), hash_file=_permission_denied)
    decision = decider.decide(path, at(path), row(7))
    assert isinstance(decision, Fail) and decision.reason.startswith("unreadable:")
    assert decision.replaces is None and decision.digest is None  # as before: the old passages stay


def test_a_file_deleted_while_indexed_is_vanished(tmp_path):
    path = put(tmp_path, "a.txt", "alpha")
    file = at(path)
    path.unlink()
    decider = FileDecider(offsets=word_offsets, extract=plain_text, find_twin=lambda d, e: None,
                          gone=GoneDocuments(()))
    assert decider.decide(path, file, None) == Vanished()


def test_the_batch_is_offered_a_commit_before_a_slow_extraction_only(tmp_path):
    path = put(tmp_path, "a.txt", "alpha")
    offered: list[str] = []
    decider = FileDecider(offsets=word_offsets, extract=plain_text, find_twin=lambda d, e: None,
                          gone=GoneDocuments(()), before_extract=lambda: offered.append("commit"))
    decider.decide(path, at(path), row(7, digest=content_hash(path)))  # a touch: no extraction
    assert offered == []
    decider.decide(path, at(path), row(7))
    assert offered == ["commit"]


# -- counting -----------------------------------------------------------------------------------------
def test_counts_tally_each_decision_into_the_report(tmp_path):
    file = FileAt("/docs/a.txt", 1, size=1, mtime_ns=1, kind="text")
    write = Write(file, "h", kind="text", title="a", text="x", passages=(), warning=None, replaces=None)
    counts = Counts()
    for decision in (Unchanged(), Touch(1, 1, 1), Move(2, file), Fail(file, "no"), Vanished(), write,
                     CopyTwin(file, "h", row(), replaces=4)):
        counts.count(decision)
    report = counts.report(embedded=3, seconds=1.5, cancelled=False)
    assert (report.unchanged, report.moved, report.failed, report.added, report.changed) == (2, 1, 1, 1, 1)
    assert (report.embedded, report.seconds, report.cancelled) == (3, 1.5, False)


def _permission_denied(path: Path) -> str:
    raise PermissionError(13, "Permission denied", str(path))
