"""Navigation chrome and redirect stubs on web pages: found per page, without seeing the site.

Site menus, breadcrumbs, "Available Languages: en | fr | ja" bars and texinfo's
``[ << ] [ < ] [ Up ] [ > ]`` or "Next: …, Previous: …, Up: …" lines open the passages of their
pages and match every query about "modules" or "next". `strip_navigation` removes them from a
parsed page before its text is walked, in two steps:

1. **Structure.** Elements that say they are navigation: ``role`` navigation, banner, contentinfo
   or search (Sphinx marks its sidebar and its related-links bars so), and ``<header>`` /
   ``<footer>`` outside ``<article>``, ``<aside>``, ``<main>``, ``<nav>`` and ``<section>``: the
   HTML-AAM rule by which a browser gives them the banner and contentinfo roles. (``<nav>`` itself
   is dropped by the section walker.)
2. **Link density**, the classic boilerplate rule of jusText and Boilerpipe, tuned for
   documentation, where short prose full of cross-references must stay. A *bar* is a short block
   (at most `BAR_MAX_LETTERS` letters) with at least `BAR_MIN_LINKS` links and fewer words outside
   its links than links, not ending like a sentence: a menu, a breadcrumb, a language bar. A line
   with two or more ``rel="next|prev|up"`` links ("Next: …, Up: …") and a row of bracketed
   buttons are bars too. A *link list* is a longer list or table with at most one word outside
   its links per two links: a table of contents, a sidebar menu; a list nested in a list item is
   judged with its outer list. Link lists go only when the page keeps at least `LINK_PAGE_SHARE`
   of its letters without them: a page made of links (a bookmarks file, an index page) is its
   links. Headings that labelled a removed list stay: they may title a section of links.

`redirect_target` recognises pages that only send the reader elsewhere: a ``<meta refresh>`` to
another address on a page with almost no text, or a body that is one "moved to" / "the node you
are looking for is at" sentence with its link (texinfo writes one such page per renamed node).
They are treated as Nutch treats a parsed redirect: no document text of their own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_PERMALINK_MARKS = frozenset({"¶", "§", "#", "\uf0c1", "\U0001f517"})  # \uf0c1: Font Awesome's link icon
BAR_MIN_LINKS = 3
BAR_MAX_LETTERS = 400
# Below this share of the page's letters left after removing its link lists, the page is a link page
# (bookmarks, an index) and keeps them.
LINK_PAGE_SHARE = 0.25
REDIRECT_MAX_WORDS = 60

_NAV_ROLES = frozenset({"navigation", "banner", "contentinfo", "search"})
# header/footer get the banner/contentinfo role only outside these (HTML-AAM).
_SCOPING = frozenset({"article", "aside", "main", "nav", "section"})
# Elements judged as bars or link lists; inline elements (a, span, em) never are.
_BOXES = frozenset({"p", "div", "ul", "ol", "menu", "dl", "table", "tbody", "thead", "tfoot", "tr", "center",
                    "blockquote", "aside", "section", "header", "footer", "address", "form", "details"})
_LISTS = frozenset({"ul", "ol", "menu", "dl", "table", "tbody"})
_NEVER = frozenset({"html", "body", "main", "article"})  # the page itself is never chrome
_SKIPPED = frozenset({"script", "style", "noscript", "template", "head", "svg", "math"})
# A word: a run of letters or digits; each CJK or kana character counts as one, since those
# scripts put no spaces between words.
_WORD = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]|[^\W_]+")
# texinfo / texi2html button rows: "[ << ] [ < ] [ Up ] [ > ] [ >> ] [Top] [Contents] [Index] [ ? ]"
_BUTTON_ROW = re.compile(r"\s*(?:\[[^\[\]]{0,40}\]\s*){3,}")
# Prose ends with a word and a full stop; a "[ ? ]" button does not.
_SENTENCE_END = re.compile(r"[^\W_][.!?。！？][\W_]*$")
# Link types that say "this link moves through the document" (HTML link types; makeinfo and
# Sphinx set them on their "Next: …, Previous: …, Up: …" lines).
_NAV_RELS = frozenset({"next", "prev", "previous", "up", "contents", "index", "start", "first", "last", "top"})
_REFRESH_URL = re.compile(r"^\s*\d*(?:\.\d*)?\s*[;,]\s*(?:url\s*=\s*)?['\"]?\s*(\S[^'\"]*)", re.IGNORECASE)
_MOVED = re.compile(
    r"\b(?:moved|relocated|redirect\w*|looking for is at|can now be found|has been replaced|now lives|now at)\b",
    re.IGNORECASE)


@dataclass
class _Counts:
    """Text under an element, as the link-density rules see it."""

    words: int = 0  # words outside links
    links: int = 0
    rel_links: int = 0  # links whose rel says next/prev/up/contents
    letters: int = 0
    text: list[str] | None = None  # the raw text, kept only while it is short (button rows)

    def add(self, other: _Counts) -> None:
        self.words += other.words
        self.links += other.links
        self.rel_links += other.rel_links
        self.letters += other.letters
        if self.text is not None:
            if other.text is None or self.letters > BAR_MAX_LETTERS:
                self.text = None
            else:
                self.text.extend(other.text)


def strip_navigation(root: Any) -> int:
    """Remove navigation chrome under ``root`` (a selectolax node) in place; returns how many
    elements were removed."""
    removed = _structural(root) + _permalinks(root)
    marks, kept_letters, total_letters = _mark(root, drop_link_lists=True)
    if total_letters and kept_letters < LINK_PAGE_SHARE * total_letters:
        marks, _, _ = _mark(root, drop_link_lists=False)  # a page of links: its links are its text
    for node in marks:
        node.decompose()
    return removed + len(marks)


def _permalinks(root: Any) -> int:
    """Remove the permalink marks documentation generators put after every heading and definition
    (Sphinx and MkDocs ``<a class="headerlink" href="#id">¶</a>``): a link to this very page whose
    whole text is a mark. Left in, "readlines()¶ Read and return…" reaches passages and snippets."""
    doomed = [node for node in root.css("a")
              if (node.attributes.get("href") or "").startswith("#")
              and node.text(deep=True).strip() in _PERMALINK_MARKS]
    for node in doomed:
        node.decompose()
    return len(doomed)


def _structural(root: Any) -> int:
    """Remove the elements that say they are navigation; one walk, linear in the page's size."""
    doomed = []
    todo: list[tuple[Any, bool]] = [(child, False) for child in children(root)]  # (node, inside _SCOPING)
    while todo:
        node, scoped = todo.pop()
        tag = node.tag
        if not isinstance(tag, str) or tag.startswith(("_", "!", "-")):
            continue
        role = (node.attributes.get("role") or "").strip().lower()
        if role in _NAV_ROLES or (tag in ("header", "footer") and not scoped):
            doomed.append(node)  # its subtree goes with it: not walked
            continue
        scoped = scoped or tag in _SCOPING
        todo.extend((child, scoped) for child in children(node))
    for node in doomed:
        node.decompose()
    return len(doomed)


def _mark(root: Any, *, drop_link_lists: bool) -> tuple[list[Any], int, int]:
    """The elements to remove, the letters they leave and the letters there were. One iterative
    post-order walk: hostile pages nest too deep for recursion."""
    marks: list[Any] = []
    total = 0
    top = _Counts(text=[])
    frames = [top]  # the counts of the open elements, innermost last
    todo: list[tuple[Any, bool, bool]] = [(child, False, False) for child in reversed(children(root))]
    while todo:
        node, leaving, in_link = todo.pop()  # (node, leaving it, inside a link)
        if leaving:
            counts = frames.pop()
            if _is_chrome(node, counts, drop_link_lists=drop_link_lists):
                marks.append(node)  # and its text is not counted in its parent's
            else:
                frames[-1].add(counts)
            continue
        tag = node.tag
        if tag == "-text":
            text = node.text_content or ""
            words = _WORD.findall(text)
            letters = sum(map(len, words))
            total += letters
            counts = frames[-1]
            counts.letters += letters
            if not in_link:
                counts.words += len(words)
            if counts.text is not None:
                counts.text.append(text)
            continue
        if not isinstance(tag, str) or tag.startswith(("_", "!", "-")) or tag in _SKIPPED:
            continue
        counts = _Counts(text=[])
        if tag == "a" and node.attributes.get("href") is not None and not in_link:
            counts.links = 1
            counts.rel_links = int(not _NAV_RELS.isdisjoint((node.attributes.get("rel") or "").lower().split()))
            in_link = True
        frames.append(counts)
        todo.append((node, True, in_link))
        todo.extend((child, False, in_link) for child in reversed(children(node)))
    return marks, top.letters, total


def _is_chrome(node: Any, counts: _Counts, *, drop_link_lists: bool) -> bool:
    tag = node.tag
    if tag not in _BOXES or tag in _NEVER:
        return False
    if tag in _LISTS and node.parent is not None and node.parent.tag in ("li", "dd"):
        return False  # a nested list is part of its outer list (a table of contents), judged with it
    if counts.letters <= BAR_MAX_LETTERS:
        text = "".join(counts.text or ())
        if _BUTTON_ROW.fullmatch(text):
            return True  # disabled buttons have no link: "[ << ] [ < ] [ Up ] [ > ]"
        if counts.links >= BAR_MIN_LINKS and counts.words < counts.links:
            return not _SENTENCE_END.search(text)  # "See also a, b and c." is prose: it stays
        return counts.rel_links >= 2 and counts.words <= counts.links  # "Next: Shell Variables, Up: Intro"
    return (drop_link_lists and tag in _LISTS and counts.links >= BAR_MIN_LINKS
            and counts.words * 2 <= counts.links)


def children(node: Any) -> list[Any]:
    """The direct child nodes of a selectolax node, in order."""
    out = []
    child = node.child
    while child is not None:
        out.append(child)
        child = child.next
    return out


def redirect_target(tree: Any) -> str | None:
    """Where a redirect stub sends its reader; None for a page with content of its own."""
    body = tree.body
    words = _WORD.findall(body.text(deep=True, separator=" ")) if body is not None else []
    if len(words) > REDIRECT_MAX_WORDS:
        return None
    for meta in tree.css("meta[http-equiv]"):
        if (meta.attributes.get("http-equiv") or "").strip().lower() == "refresh":
            found = _REFRESH_URL.match(meta.attributes.get("content") or "")
            if found:
                return found.group(1).strip()
    links = body.css("a[href]") if body is not None else []
    if len(links) == 1 and len(words) <= 30 and _MOVED.search(" ".join(words)):
        return links[0].attributes.get("href") or ""
    return None
