"""HTML (and the XHTML inside EPUBs): visible text split into sections at h1-h6.

selectolax's lexbor backend is fast, MIT licensed and brings no other dependency (PITFALLS §7);
its deprecated Modest backend is not used. The walk is iterative: hostile pages nest thousands of
elements deep and would blow Python's recursion limit.
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path
from typing import Any

from ..exclusions import generated_search_page
from ._common import HEADING_SEPARATOR, MAX_TEXT_BYTES, Collector, decode_text, read_prefix
from .base import Extracted, Locator
from .boilerplate import children, redirect_target, strip_navigation

SEP = HEADING_SEPARATOR
# Not content: scripts, styles, navigation chrome, embedded media.
DROP = frozenset(
    {"script", "style", "nav", "noscript", "template", "svg", "math", "canvas", "iframe", "object",
     "embed", "head", "select", "button"}
)
BLOCK = frozenset(
    {"address", "article", "aside", "blockquote", "body", "dd", "details", "dialog", "div", "dl", "dt",
     "fieldset", "figcaption", "figure", "footer", "form", "header", "hr", "li", "main", "ol", "p", "pre",
     "section", "summary", "table", "tbody", "thead", "tfoot", "tr", "ul", "caption", "center", "br"}
)
HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_SPACES = re.compile(r"[ \t\r\n\f]+")
# In HTML syntax "<title/>" opens a title that swallows the rest of the document; EPUB XHTML uses it.
_SELF_CLOSED = re.compile(r"<(title|script|style|textarea|iframe|noscript)(\s[^>]*)?/>", re.IGNORECASE)


def decode_html(data: bytes, *, truncated: bool = False) -> str:
    """A declared <meta charset> wins over detection; otherwise BOM / UTF-8 / charset_normalizer."""
    m = _META_CHARSET.search(data[:4096])
    if m and not data.startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            encoding = codecs.lookup(m.group(1).decode("ascii")).name
        except LookupError:
            encoding = None
        if encoding and not encoding.startswith("utf-16"):  # a utf-16 label in ASCII bytes is a lie
            return data.decode(encoding, "replace")
    return decode_text(data, truncated=truncated)


def parse(html: str) -> Any:
    from selectolax.lexbor import LexborHTMLParser

    return LexborHTMLParser(_SELF_CLOSED.sub(r"<\1\2></\1>", html))


def sections(root: Any, *, prefix: tuple[str, ...] = ()) -> list[tuple[str | None, str]]:
    """Walk ``root`` in document order; returns [(heading path or None, text)] per section.

    ``prefix`` starts every heading path (EPUB passes the chapter title). A heading equal to the
    innermost prefix element is not repeated ("Chapter 1 › Chapter 1").
    """
    out: list[tuple[str | None, str]] = []
    stack_h: list[tuple[int, str]] = []
    parts: list[str] = []

    def path() -> str | None:
        names = list(prefix) + [h for _, h in stack_h]
        return SEP.join(names) or None

    def flush() -> None:
        text = "".join(parts)
        if text.strip():
            out.append((path(), text))
        parts.clear()

    pre_depth = 0
    todo: list[tuple[Any, bool]] = [(root, False)]  # (node, leaving)
    while todo:
        node, leaving = todo.pop()
        tag = node.tag
        if leaving:
            if tag == "pre":
                pre_depth -= 1
            if tag in ("td", "th"):
                parts.append("\t")
            elif tag in BLOCK:
                parts.append("\n")
            continue
        if tag == "-text":
            text = node.text_content or ""
            parts.append(text if pre_depth else _SPACES.sub(" ", text))
            continue
        if not isinstance(tag, str) or tag.startswith(("_", "!", "-")) or tag in DROP:
            continue  # comments, doctype, dropped subtrees
        if tag in HEADINGS:
            level = HEADINGS[tag]
            text = " ".join(node.text(deep=True, separator=" ").split())
            flush()
            while stack_h and stack_h[-1][0] >= level:
                stack_h.pop()
            if text and not (not stack_h and prefix and text == prefix[-1]):
                stack_h.append((level, text[:300]))  # a label, not a paragraph
            parts.append(text + "\n")
            continue
        if tag == "pre":
            pre_depth += 1
        if tag in BLOCK:
            parts.append("\n")
        todo.append((node, True))
        todo.extend((child, False) for child in reversed(children(node)))
    flush()
    return [(heading, _tidy(text)) for heading, text in out]


def _tidy(text: str) -> str:
    lines = (line.strip(" ") for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


def html_to_text(html: str) -> str:
    """Visible text of an HTML fragment or page (used for HTML e-mail bodies)."""
    tree = parse(html)
    root = tree.body or tree.root
    return "\n\n".join(text for _, text in sections(root)) if root is not None else ""


# " | ", " - ", " – ", " — ", " · ", " • ", " » ", " :: " between a page's name and its site's name.
_TITLE_SEPARATOR = re.compile(r"\s+(?:[|\-–—·•»]|::)\s+")
# Permalink marks that documentation generators append to headings (Sphinx "¶"; not "#": "C#").
_HEADING_LINK_MARKS = " ¶§\U0001f517"


def page_title(tree: Any) -> str | None:
    """The page's <title>, or its single <h1> when that names this page better.

    Pages of one site often share one <title> ("Bash Reference Manual" on every page) or add the
    site's name to it ("Shell Parameters — Python docs"), and one page alone cannot tell which
    titles its siblings share. The rule taken: when the page has exactly one <h1> and the <title>
    contains it (set apart by punctuation), or the <title> ends with a site suffix after a
    separator, the <h1> is the title (Sphinx and MkDocs put the page's own name in its one <h1>).
    An <h1> that is only the site's name (the part after the separator) is a banner, and the
    <title> is kept. A <title> shared by every page with no separator ("Bash Reference Manual")
    and a different <h1> cannot be told from a page-specific title here, so it is kept.
    """
    title = _node_text(tree.css_first("title"))
    headings = [text for text in (_node_text(node).rstrip(_HEADING_LINK_MARKS) for node in tree.css("h1")) if text]
    if len(headings) == 1 and title and _h1_names_the_page(title, headings[0]):
        return headings[0]
    return title or (headings[0] if headings else None)


def _h1_names_the_page(title: str, heading: str) -> bool:
    parts = _TITLE_SEPARATOR.split(title)
    if len(parts) > 1 and heading.casefold() == parts[-1].casefold():
        return False  # the <h1> is the site's name ("Install - MySite" with <h1>MySite</h1>)
    return len(parts) > 1 or _set_apart_in(title, heading)


def _set_apart_in(title: str, heading: str) -> bool:
    """Whether ``title`` is ``heading`` plus decoration set apart by punctuation ("Shell Parameters
    (Bash Reference Manual)", "Bash Manual: Shell Parameters"), not a longer phrase that merely
    starts with it ("Introduction to Python" does not become "Introduction")."""
    start = title.casefold().find(heading.casefold())
    if start < 0:
        return False
    before, after = title[:start].rstrip(), title[start + len(heading):].lstrip()
    return (not before or not before[-1].isalnum()) and (not after or not after[0].isalnum())


def _node_text(node: Any) -> str:
    return " ".join(node.text(deep=True, separator=" ").split()) if node is not None else ""


def extract_html(path: Path) -> Extracted:
    data, truncated = read_prefix(path, MAX_TEXT_BYTES)
    search_page = generated_search_page(data, path)
    if search_page is not None:  # Sphinx's search form: recorded with the reason, no passages
        return Collector().result(None, "html", path, left_out=search_page)
    tree = parse(decode_html(data, truncated=truncated))
    del data  # the parsed tree holds the text; the raw bytes would only double the peak
    title = page_title(tree)  # before the chrome goes: a banner <header> may hold the <h1>
    collector = Collector()
    if redirect_target(tree) is not None:
        # A stub that only sends the reader elsewhere (meta refresh, "moved to ...", texinfo's
        # "The node you are looking for is at ..."): a document without text, as Nutch treats a
        # parsed redirect. It is recorded (the next run sees it unchanged and does not read it
        # again), it is no failure, and with no passages it never shows in results.
        return collector.result(title, "html", path)
    root = tree.body
    if root is not None:
        strip_navigation(root)
        for heading, text in sections(root):
            collector.add(text, Locator(heading=heading))
            if collector.full:
                break
    collector.full = collector.full or truncated
    return collector.result(title, "html", path)
