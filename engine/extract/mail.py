"""E-mail: single messages (.eml) and mailboxes (.mbox), with the standard ``email`` package.

Each message becomes one segment: a short header block (From, To, Date, Subject) so that "the mail
from Anna about the lease" can match, then the body, text/plain preferred, HTML reduced to its
text. Attachments are not opened.

The mbox is split by hand rather than with ``mailbox.mbox``: that class opens the file for writing
when it can, and the user's files are only ever read (DESIGN invariant 4). It also streams, so a
multi-gigabyte mailbox stops at the size cap instead of being read whole.
"""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from email.message import EmailMessage, Message
from pathlib import Path

from ..userfiles import open_user_file
from ._common import MAX_TEXT_BYTES, Collector, read_prefix
from .base import Extracted, Locator

HEADERS = ("From", "To", "Cc", "Date", "Subject")
_MAX_LINE_BYTES = 1024 * 1024


def _header(msg: Message, name: str) -> str:
    try:
        value = msg.get(name)
    except Exception:  # a malformed header must not lose the message
        return ""
    return " ".join(str(value).split()) if value is not None else ""


def _part_text(part: Message) -> str:
    try:
        content = part.get_content() if isinstance(part, EmailMessage) else None
        if isinstance(content, str):
            return content
    except (LookupError, UnicodeError, ValueError, AssertionError, KeyError):
        pass  # unknown or lying charset: decode the raw payload below
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload.decode(charset, "replace")
    except LookupError:
        return payload.decode("utf-8", "replace")


def message_text(msg: Message) -> str:
    """The readable body: text/plain preferred, else HTML stripped, else nothing."""
    body: Message | None = None
    if isinstance(msg, EmailMessage):
        try:
            body = msg.get_body(preferencelist=("plain", "html"))
        except (KeyError, LookupError, ValueError):
            body = None
    if body is None:
        return ""
    text = _part_text(body)
    if body.get_content_subtype() == "html":
        from .htmlpage import html_to_text

        text = html_to_text(text)
    return text


def _segment(msg: Message) -> tuple[str, str]:
    subject = _header(msg, "Subject")
    head = "\n".join(f"{name}: {value}" for name in HEADERS if (value := _header(msg, name)))
    return subject, f"{head}\n\n{message_text(msg)}"


def _parse(data: bytes) -> Message:
    return email.message_from_bytes(data, policy=email.policy.default)


def extract_eml(path: Path) -> Extracted:
    # Bounded like every text read: past this the rest is attachments, not words worth the memory.
    data, truncated = read_prefix(path, MAX_TEXT_BYTES)
    msg = _parse(data)
    del data
    subject, text = _segment(msg)
    collector = Collector()
    collector.add(text, Locator(heading=subject or None))
    collector.full = collector.full or truncated
    return collector.result(subject, "email", path)


def _mbox_messages(path: Path) -> Iterator[bytes]:
    """Split at "From " lines that start the file or follow a blank line (mboxo/mboxrd)."""
    lines: list[bytes] = []
    size = 0
    previous_blank = True
    with open_user_file(path) as fh:
        # Lines are read in bounded pieces and a message stops growing at the text cap: a mailbox
        # that is one 200 MB line (or one 200 MB message) must not be held whole in memory.
        for line in iter(lambda: fh.readline(_MAX_LINE_BYTES), b""):
            if line.startswith(b"From ") and previous_blank:
                if lines:
                    yield b"".join(lines)
                lines, size = [], 0
                previous_blank = False
                continue  # the envelope line is not part of the message
            if line.startswith(b">") and line.lstrip(b">").startswith(b"From "):
                line = line[1:]  # mboxrd quoting
            if size < MAX_TEXT_BYTES:
                lines.append(line)
                size += len(line)
            previous_blank = not line.strip()
    if lines and any(line.strip() for line in lines):
        yield b"".join(lines)


def extract_mbox(path: Path) -> Extracted:
    collector = Collector()
    for number, raw in enumerate(_mbox_messages(path), start=1):
        subject, text = _segment(_parse(raw))
        collector.add(text, Locator(heading=subject or f"message {number}"))
        if collector.full:
            break
    return collector.result(None, "mbox", path)
