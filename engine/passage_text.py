"""What the passage tower reads for a passage, and the hash that says two passages read the same.

Identical passages share one vector (a licence pasted into fifty packages, a manual installed twice,
quoted mail, one version of a document beside the next): the embedder encodes a text once and copies
the vector into every passage whose `text_hash` matches, in SQLite, so each passage still owns its
row and its vector (engine/indexer.py `Embedder`).

The hash is taken of the embedding text with each run of whitespace made one space and the ends
trimmed: the tokenizer splits words at whitespace and never sees how much of it there was, so texts
that differ only there are the same input to the model. The whitespace is the kind the tokenizer
reads as a space; the control characters Python also counts as whitespace (form feed, vertical
tab, \\x1c-\\x1f, \\x85) the shipped tokenizer deletes instead, so they are kept as they are.
Case is kept too: the shipped tokenizer lowercases, but a hash stored in the index outlives the
model (a re-embed with a cased model keeps it), and on a real library (Python docs, Debian
reference, bash) folding case found no duplicate that whitespace alone did not.
"""

from __future__ import annotations

import hashlib
import re

# Whitespace except the control characters among it (see the module docstring).
_SPACES = re.compile(r"[^\S\x0b\x0c\x1c-\x1f\x85]+")
TEXT_HASH_BYTES = 16  # 128 bits: no two different texts meet by chance in any library


def embedding_text(title: str | None, body: str) -> str:
    """What the passage tower reads for a passage: its title line (document › heading), then its body."""
    return f"{title}\n{body}" if title else body


def normalised(text: str) -> str:
    """``text`` as the tokenizer splits it: whitespace runs made one space, the ends trimmed."""
    return _SPACES.sub(" ", text).strip(" ")


def text_hash(title: str | None, body: str) -> bytes:
    """The hash two passages share exactly when the passage tower reads the same words from them."""
    text = normalised(embedding_text(title, body))
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=TEXT_HASH_BYTES).digest()
