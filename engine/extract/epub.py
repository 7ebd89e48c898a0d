"""EPUB without EbookLib (AGPL-3.0, PITFALLS §7): the zip is read by hand.

``META-INF/container.xml`` names the OPF package file; its spine lists the chapters in reading
order; each chapter's XHTML goes through the HTML section walker. ``locator.heading`` starts with
the chapter title, taken from the book's table of contents (EPUB 3 nav document or EPUB 2 NCX),
else from the chapter's own first heading or <title>. Each file is read once, in order of first
appearance in the spine; ``linear="no"`` items that the text links to follow the main text under
`OUTSIDE_READING_ORDER`, the others are left out.
"""

from __future__ import annotations

import posixpath
import zipfile
from pathlib import Path
from urllib.parse import unquote
from xml.etree import ElementTree as ET

from ..errors import ExtractionError
from . import htmlpage
from ._common import Collector
from ._zipcheck import open_zip, read_member
from .base import Extracted, Locator
from .odt import parse_xml

CONTAINER = "{urn:oasis:names:tc:opendocument:xmlns:container}"
OPF = "{http://www.idpf.org/2007/opf}"
DC = "{http://purl.org/dc/elements/1.1/}"
NCX = "{http://www.daisy.org/z3986/2005/ncx/}"
ENC = "{http://www.w3.org/2001/04/xmlenc#}"
# Heading-path label of spine items marked linear="no". E-readers (and Calibre's viewer) show them
# only when a link leads there. So do we: an item that the book's text links to (notes, an answer
# key) is indexed after the main text, marked with this label; one that nothing in the text links
# to (a Sphinx book's other-language copies: 87% of the Ubuntu Packaging Guide) is left out.
OUTSIDE_READING_ORDER = "Outside the reading order"
MAX_TITLE_CHARS = 300  # a chapter title is a label that prefixes every heading path of the chapter
# Font obfuscation is listed in encryption.xml too, but it is not DRM on the text.
_FONT_OBFUSCATION = {"http://www.idpf.org/2008/embedding", "http://ns.adobe.com/pdf/enc#RC"}


def _resolve(base_dir: str, href: str) -> str:
    return posixpath.normpath(posixpath.join(base_dir, unquote(href.split("#", 1)[0])))


def _toc_titles(zf: zipfile.ZipFile, opf: ET.Element, base_dir: str, manifest: dict[str, tuple[str, str, str]]) -> dict[str, str]:
    """Map chapter file -> first TOC label pointing into it. Missing or broken TOCs give {}."""
    titles: dict[str, str] = {}
    nav = next((href for href, _, props in manifest.values() if "nav" in props.split()), None)
    try:
        if nav is not None:
            tree = htmlpage.parse(zf.read(nav).decode("utf-8", "replace"))
            nav_dir = posixpath.dirname(nav)
            for link in tree.css("nav a"):
                href = link.attributes.get("href")
                label = " ".join(link.text(deep=True, separator=" ").split())
                if href and label:
                    titles.setdefault(_resolve(nav_dir, href), label)
            if titles:
                return titles
        spine = opf.find(f"{OPF}spine")
        ncx_id = spine.get("toc") if spine is not None else None
        if ncx_id and ncx_id in manifest:
            ncx_path = manifest[ncx_id][0]
            ncx = parse_xml(zf.read(ncx_path), "EPUB", ncx_path)
            for point in ncx.iter(NCX + "navPoint"):
                label_el = point.find(f"{NCX}navLabel/{NCX}text")
                content = point.find(NCX + "content")
                if label_el is not None and content is not None and content.get("src"):
                    label = " ".join((label_el.text or "").split())
                    if label:
                        titles.setdefault(_resolve(posixpath.dirname(ncx_path), content.get("src", "")), label)
    except (KeyError, ExtractionError):
        return titles  # the TOC is a nicety: chapters fall back to their own headings
    return titles


def _check_drm(zf: zipfile.ZipFile, chapters: list[str]) -> None:
    if "META-INF/encryption.xml" not in zf.namelist():
        return
    enc = parse_xml(zf.read("META-INF/encryption.xml"), "EPUB", "encryption.xml")
    for data in enc.iter(ENC + "EncryptedData"):
        method = data.find(ENC + "EncryptionMethod")
        ref = data.find(f"{ENC}CipherData/{ENC}CipherReference")
        algorithm = method.get("Algorithm") if method is not None else None
        if ref is not None and algorithm not in _FONT_OBFUSCATION and _resolve("", ref.get("URI", "")) in chapters:
            raise ExtractionError("encrypted EPUB (DRM-protected)")


def _own_title(tree: object) -> str | None:
    # A chapter's <title> is often just the book title again, so headings come first.
    for selector in ("h1", "h2", "h3", "title"):
        node = tree.css_first(selector)  # type: ignore[attr-defined]
        if node is not None:
            text = " ".join(node.text(deep=True, separator=" ").split())
            if text:
                return text
    return None


def _spine_chapters(opf: ET.Element, manifest: dict[str, tuple[str, str, str]]) -> dict[str, bool]:
    """The XHTML files of the spine in reading order, each once: {file: is it linear}.

    A file listed again (directly, or by another manifest id for the same href with a different
    #fragment, as in ``the-basics.xhtml#o163``, ``#o170``...) is read only once, at its first
    appearance: a 400 KB book whose spine names one chapter 1,250 times must not become 1,250
    copies of it. Items marked ``linear="no"`` (notes, answer keys, other-language appendices) come
    after every linear item, whatever their place in the spine (the caller keeps only those the
    text links to); a file that the spine lists both ways is linear. No spine at all fails the
    book, as Calibre does ("Spine is empty"): guessing an order from the manifest could index a
    table of contents, a cover or an appendix as if they were the text.
    """
    if opf.find(f"{OPF}spine/{OPF}itemref") is None:
        raise ExtractionError("EPUB has no reading order (spine)")
    linear: dict[str, None] = {}
    auxiliary: dict[str, None] = {}
    for ref in opf.iter(OPF + "itemref"):
        item = manifest.get(ref.get("idref", ""))
        if item and ("html" in item[1] or item[0].endswith((".xhtml", ".html", ".htm"))):
            is_linear = ref.get("linear", "yes").strip().lower() != "no"
            (linear if is_linear else auxiliary).setdefault(item[0])
    if not linear and not auxiliary:
        raise ExtractionError("EPUB reading order (spine) lists no XHTML chapters")
    chapters = dict.fromkeys(linear, True)
    chapters.update((name, False) for name in auxiliary if name not in chapters)
    return chapters


def _link_targets(tree: object, chapter: str) -> set[str]:
    """The files inside the book that a chapter's links lead to (fragments dropped)."""
    chapter_dir = posixpath.dirname(chapter)
    targets = set()
    for link in tree.css("a[href]"):  # type: ignore[attr-defined]
        href = (link.attributes.get("href") or "").strip()
        if href and not href.startswith("#") and ":" not in href.split("/", 1)[0]:  # no http:, mailto:
            targets.add(_resolve(chapter_dir, href))
    return targets


def extract_epub(path: Path) -> Extracted:
    collector = Collector()
    with open_zip(path, "EPUB") as zf:
        container = parse_xml(read_member(zf, "META-INF/container.xml", "EPUB"), "EPUB", "container.xml")
        rootfile = container.find(f".//{CONTAINER}rootfile")
        opf_path = rootfile.get("full-path") if rootfile is not None else None
        if not opf_path:
            raise ExtractionError("not a valid EPUB file (no package document in container.xml)")
        opf = parse_xml(read_member(zf, opf_path, "EPUB"), "EPUB", opf_path)
        base_dir = posixpath.dirname(opf_path)

        title_el = opf.find(f"{OPF}metadata/{DC}title")
        title = (title_el.text or "").strip() if title_el is not None else None
        manifest = {
            item.get("id", ""): (_resolve(base_dir, item.get("href", "")), item.get("media-type", ""),
                                 item.get("properties", ""))
            for item in opf.iter(OPF + "item")
        }
        chapters = _spine_chapters(opf, manifest)
        _check_drm(zf, list(chapters))
        toc = _toc_titles(zf, opf, base_dir, manifest)
        names = set(zf.namelist())

        linked: set[str] = set()  # files the chapters read so far link to
        for chapter, is_linear in chapters.items():
            if collector.full:
                break
            if chapter not in names or not (is_linear or chapter in linked):
                continue  # a spine entry pointing nowhere, or a non-linear item no reader reaches
            tree = htmlpage.parse(zf.read(chapter).decode("utf-8", "replace"))
            linked.update(_link_targets(tree, chapter))
            chapter_title = (toc.get(chapter) or _own_title(tree) or "")[:MAX_TITLE_CHARS] or None
            root = tree.body
            if root is None:
                continue
            prefix = (chapter_title,) if chapter_title else ()
            if not is_linear:
                prefix = (OUTSIDE_READING_ORDER, *prefix)
            for heading, text in htmlpage.sections(root, prefix=prefix):
                collector.add(text, Locator(heading=heading))
                if collector.full:
                    break
    return collector.result(title, "epub", path)
