"""HTML (and the XHTML inside EPUBs): visible text split into sections at h1-h6.

selectolax's lexbor backend is fast, MIT licensed and brings no other dependency (PITFALLS §7);
its deprecated Modest backend is not used. The walk is iterative: hostile pages nest thousands of
elements deep and would blow Python's recursion limit.
"""

from __future__ import annotations

import bisect
import codecs
import html
import os
import re
from pathlib import Path
from typing import Any

from ..errors import ExtractionError
from ..exclusions import generated_search_page
from ._common import HEADING_SEPARATOR, MAX_TEXT_BYTES, Collector, decode_text, read_prefix
from .base import Extracted, Locator
from .boilerplate import children, redirect_target, strip_navigation
from .site_repeats import drop_repeated_blocks, site_repeats
from .titles import strip_permalink

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
            text = strip_permalink(" ".join(node.text(deep=True, separator=" ").split()))
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
_NO_TITLE = "<no title>"  # Sphinx's stand-in for a page without a heading
SIBLING_PAGES = 4  # pages of the same folder compared when a <title> may be the site's name
SIBLING_BYTES = 8192
_TITLE_TAG = re.compile(rb"<title[^>]*>([^<]{1,1000})</title>", re.IGNORECASE)


def page_title(tree: Any, path: Path | None = None) -> str | None:
    """The page's own name: its <title> less the site's suffix, or its <h1>.

    Pages of one site add the site's name to their <title> ("Shell Parameters — Python docs") or
    all share one <title> ("Bash Reference Manual" on every page). The rules taken:

    - a <title> with a separator, on a page with one <h1> that is a part of it or stands apart
      from it: the <h1> (Sphinx and MkDocs put the page's own name in its one <h1>); an <h1> that
      is the part after the last separator is the site's banner, and the <title> before it is kept;
    - a <title> with a separator on a page with several <h1>: the <title> less its last part;
    - one <h1> set apart inside the <title> ("Shell Parameters (Bash Reference Manual)"): the <h1>;
    - a <title> without separator that a page of the same folder (``path``'s siblings) shares:
      the site's name, so the page's one <h1> is its title;
    - otherwise the <title> ("Introduction to Python" with <h1>Introduction</h1>).
    """
    title = _node_text(tree.css_first("title"))
    title = "" if title.casefold().startswith(_NO_TITLE) else title
    headings = [text for text in (strip_permalink(_node_text(node)) for node in tree.css("h1")) if text]
    if not title:
        return headings[0] if headings else None
    if not headings:
        return title
    parts = _TITLE_SEPARATOR.split(title)
    if len(parts) > 1:
        site = parts[-1]
        if len(headings) == 1 and headings[0].casefold() != site.casefold():
            return headings[0]
        return _without_suffix(title) or title
    single = headings[0] if len(headings) == 1 and headings[0].casefold() != title.casefold() else None
    if single and (_set_apart_in(title, single) or (path is not None and _shared_with_siblings(title, path))):
        return single
    return title


def _without_suffix(title: str) -> str:
    """``title`` less the part after its last separator ("curses — Terminal handling — Python docs"
    -> "curses — Terminal handling")."""
    separators = list(_TITLE_SEPARATOR.finditer(title))
    return title[: separators[-1].start()].strip() if separators else title


def _shared_with_siblings(title: str, path: Path) -> bool:
    """Whether a nearby page in ``path``'s folder has the very same <title> (the site's name)."""
    try:
        names = sorted(entry.name for entry in os.scandir(path.parent)
                       if entry.name != path.name and entry.name.lower().endswith((".html", ".htm"))
                       and entry.is_file(follow_symlinks=False))
    except OSError:
        return False
    here = bisect.bisect(names, path.name)
    for name in names[max(0, here - SIBLING_PAGES // 2) : here + SIBLING_PAGES // 2]:
        try:
            data, _ = read_prefix(path.parent / name, SIBLING_BYTES)
        except (OSError, ExtractionError):
            continue
        m = _TITLE_TAG.search(data)
        if m and " ".join(html.unescape(m.group(1).decode("utf-8", "replace")).split()) == title:
            return True
    return False


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
    title = page_title(tree, path)  # before the chrome goes: a banner <header> may hold the <h1>
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
        drop_repeated_blocks(root, site_repeats(path))  # the site's template text: a footer, a notice
        for heading, text in sections(root):
            collector.add(text, Locator(heading=heading))
            if collector.full:
                break
    collector.full = collector.full or truncated
    return collector.result(title, "html", path)
