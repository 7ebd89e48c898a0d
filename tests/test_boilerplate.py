"""Issue 15, items 6 and 7: navigation chrome stays out of passages; redirect stubs are no documents.

The pages below are trimmed copies of real generated pages (Apache httpd 2.4 manual, texi2any 6.8
split HTML with and without its texi2html button style, Sphinx 5 as in the Python 3.11 docs).
To add a probe: write the page with `page(tmp_path, body)` (or `write`), then assert on
`text_of(path)` or `is_stub(path)`.
"""

from __future__ import annotations

from pathlib import Path

from conftest import fake_model
from librarian.engine.extract import extract
from librarian.engine.extract.htmlpage import extract_html
from librarian.engine.library import Library

ARTICLE = ("The directives contained in this module allow for manipulation and control of URLs as requests "
           "arrive at the server.")


def write(tmp_path: Path, html: str, name: str = "page.html") -> Path:
    path = tmp_path / name
    path.write_text(html, encoding="utf-8")
    return path


def page(tmp_path: Path, body: str, *, head: str = "<title>A page</title>", name: str = "page.html") -> Path:
    return write(tmp_path, f"<!DOCTYPE html><html><head>{head}</head><body>{body}</body></html>", name)


def text_of(path: Path) -> str:
    return "\n".join(segment.text for segment in extract_html(path).segments)


def is_stub(path: Path) -> bool:
    extracted = extract_html(path)
    return not extracted.segments and not extracted.notes


# --------------------------------------------------------------------------- navigation (item 6)

APACHE_BODY = f"""
<div id="page-header">
<p class="menu"><a href="../mod/index.html">Modules</a> | <a href="../mod/quickreference.html">Directives</a> |
<a href="https://cwiki.apache.org/confluence/display/httpd/FAQ">FAQ</a> | <a href="../glossary.html">Glossary</a> |
<a href="../sitemap.html">Sitemap</a> | <a href="https://bz.apache.org/bugzilla/">Report a bug</a></p>
<p class="apache">Apache HTTP Server Version 2.4</p></div>
<div id="path"><a href="https://www.apache.org/">Apache</a> &gt; <a href="https://httpd.apache.org/">HTTP Server</a>
&gt; <a href="https://httpd.apache.org/docs/">Documentation</a> &gt; <a href="../index.html">Version 2.4</a>
&gt; <a href="./index.html">Modules</a></div>
<div id="page-content"><div id="preamble"><h1>Apache Module mod_alias</h1>
<div class="toplang"><p><span>Available Languages: </span><a href="../../en/mod/mod_alias.html">&nbsp;en&nbsp;</a> |
<a href="../../fr/mod/mod_alias.html" hreflang="fr">&nbsp;fr&nbsp;</a> |
<a href="../../ja/mod/mod_alias.html" hreflang="ja">&nbsp;ja&nbsp;</a> |
<a href="../../ko/mod/mod_alias.html" hreflang="ko">&nbsp;ko&nbsp;</a></p></div>
<h3>Summary</h3>
<p>{ARTICLE} The <code class="directive"><a href="#alias">Alias</a></code> and
<code class="directive"><a href="#scriptalias">ScriptAlias</a></code> directives are used to map between URLs and
filesystem paths.</p></div>
<div id="quickview"><h3 class="directives">Directives</h3>
<ul id="toc"><li><a href="#alias">Alias</a></li><li><a href="#aliasmatch">AliasMatch</a></li>
<li><a href="#redirect">Redirect</a></li><li><a href="#redirectmatch">RedirectMatch</a></li></ul>
<h3>Bugfix checklist</h3><ul class="seealso"><li><a href="https://www.apache.org/dist/httpd/CHANGES_2.4">httpd
changelog</a></li><li><a href="https://bz.apache.org/bugzilla/buglist.cgi">Known issues</a></li>
<li><a href="https://bz.apache.org/bugzilla/enter_bug.cgi">Report a bug</a></li></ul></div>
<h2 id="order">Order of Processing</h2>
<p>Aliases and Redirects occurring in different contexts are processed like other directives according to
standard merging rules.</p>
</div>
<div class="bottomlang"><p><span>Available Languages: </span><a href="../../en/mod/mod_alias.html">&nbsp;en&nbsp;</a> |
<a href="../../fr/mod/mod_alias.html">&nbsp;fr&nbsp;</a> | <a href="../../ja/mod/mod_alias.html">&nbsp;ja&nbsp;</a></p></div>
<div id="footer"><p class="apache">Copyright 2025 The Apache Software Foundation.</p>
<p class="menu"><a href="../mod/index.html">Modules</a> | <a href="../mod/quickreference.html">Directives</a> |
<a href="../glossary.html">Glossary</a> | <a href="../sitemap.html">Sitemap</a></p></div>
"""


def test_apache_menus_breadcrumb_and_language_bars_leave_the_text(tmp_path):
    text = text_of(page(tmp_path, APACHE_BODY))
    for chrome in ("Modules |", "Sitemap", "Available Languages", "HTTP Server >", "Documentation",
                   "AliasMatch", "Known issues"):
        assert chrome not in text
    assert ARTICLE in " ".join(text.split())
    assert "Alias and ScriptAlias directives are used to map" in " ".join(text.split())
    assert "processed like other directives according to standard merging rules" in " ".join(text.split())
    assert "Copyright 2025" in text  # plain text, no links: kept (only repetition across pages would tell)


# texi2any 6.8 -c TEXI2HTML=1 --split=node: the button bar of a node page.
TEXI2HTML_BUTTONS = """<table class="header" cellpadding="1" cellspacing="1" border="0">
<tr><td valign="middle" align="left">[<a href="index.html" title="Beginning of this chapter"> &lt;&lt; </a>]</td>
<td valign="middle" align="left">[<a href="index.html" title="Previous section in reading order"> &lt; </a>]</td>
<td valign="middle" align="left">[<a href="index.html" title="Up section"> Up </a>]</td>
<td valign="middle" align="left">[<a href="Variables.html" title="Next section in reading order"> &gt; </a>]</td>
<td valign="middle" align="left">[<a href="Variables.html" title="Next chapter"> &gt;&gt; </a>]</td>
<td valign="middle" align="left"> &nbsp; </td>
<td valign="middle" align="left">[<a href="index.html" title="Cover (top) of document">Top</a>]</td>
<td valign="middle" align="left">[Contents]</td>
<td valign="middle" align="left">[Index]</td>
<td valign="middle" align="left">[<a href="demo_abt.html#SEC_About" title="About (help)"> ? </a>]</td>
</tr></table>"""
NODE_TEXT = "The shell reads commands from standard input when no file is named."


def test_texinfo_button_rows_leave_the_text(tmp_path):
    body = f"""<div class="chapter" id="Invoking">{TEXI2HTML_BUTTONS}<hr>
<h1 class="chapter">1 Invoking the Shell</h1><p>{NODE_TEXT}
It exits with the status of the last command run.</p></div>{TEXI2HTML_BUTTONS}"""
    text = text_of(page(tmp_path, body))
    assert "[" not in text and "Contents" not in text and "Up" not in text
    assert text.startswith("1 Invoking the Shell\n" + NODE_TEXT)


def test_texinfo_button_row_without_links_still_goes(tmp_path):
    # The first node of a manual: most buttons are disabled (no link), only their brackets remain.
    body = f"<p>[ &lt;&lt; ] [ &lt; ] [ Up ] [ &gt; ] [ &gt;&gt; ]</p><h1>Top</h1><p>{NODE_TEXT}</p>"
    assert text_of(page(tmp_path, body)) == f"Top\n{NODE_TEXT}"


def test_makeinfo_next_previous_up_lines_leave_the_text(tmp_path):
    # texi2any 6.8 split output (Maxima, Bash, Autoconf manuals): one such line opens every node.
    header = """<div class="header"><p>
Next: <a href="Variables.html" accesskey="n" rel="next">Shell Variables</a>, Previous: <a href="index.html"
accesskey="p" rel="prev">Demo Manual</a>, Up: <a href="index.html" accesskey="u" rel="up">Demo Manual</a> &nbsp;
</p></div>"""
    with_index = header.replace("&nbsp;", '&nbsp; [<a href="toc.html#SEC_Contents" rel="contents">Contents</a>]'
                                          '[<a href="ix.html" rel="index">Index</a>]')
    for bar in (header, with_index):
        body = f'<div class="chapter">{bar}<hr><h2 class="chapter">1 Invoking the Shell</h2><p>{NODE_TEXT}</p></div>'
        assert text_of(page(tmp_path, body)) == f"1 Invoking the Shell\n{NODE_TEXT}"


SPHINX_BODY = """
<div class="related" role="navigation" aria-label="related navigation"><h3>Navigation</h3><ul>
<li class="right"><a href="../genindex.html" title="General Index">index</a></li>
<li class="right"><a href="../py-modindex.html" title="Python Module Index">modules</a> |</li>
<li class="nav-item"><a href="../index.html">3.11.2 Documentation</a> &#187;</li></ul></div>
<div class="document"><div class="documentwrapper"><div class="bodywrapper"><div class="body" role="main">
<section id="module-pipes"><h1><code>pipes</code> — Interface to shell pipelines<a class="headerlink"
href="#module-pipes">¶</a></h1>
<p><strong>Source code:</strong> <a href="https://github.com/python/cpython/tree/3.11/Lib/pipes.py">Lib/pipes.py</a></p>
<p>The <a class="reference internal" href="#module-pipes"><code>pipes</code></a> module defines a class to abstract
the concept of a <em>pipeline</em> — a sequence of converters from one file to another.</p>
<div class="admonition seealso"><p class="admonition-title">See also</p>
<p><a href="subprocess.html">subprocess</a>, <a href="shlex.html">shlex</a> and <a href="os.html">os</a>.</p></div>
</section></div></div></div>
<div class="sphinxsidebar" role="navigation" aria-label="main navigation"><div class="sphinxsidebarwrapper">
<div><h3><a href="../contents.html">Table of Contents</a></h3><ul><li><a href="#">pipes — Interface</a><ul>
<li><a href="#pipes.Template">Template</a></li><li><a href="#template-objects">Template Objects</a></li></ul></li>
</ul></div><div><h4>Previous topic</h4><p class="topless"><a href="ossaudiodev.html">ossaudiodev</a></p></div>
</div></div></div>
<div class="footer">&copy; <a href="../copyright.html">Copyright</a> 2001-2023, Python Software Foundation.</div>
"""


def test_sphinx_sidebar_and_related_bars_leave_the_text(tmp_path):
    text = text_of(page(tmp_path, SPHINX_BODY))
    for chrome in ("Navigation", "3.11.2 Documentation", "Table of Contents", "Template Objects",
                   "Previous topic", "ossaudiodev"):
        assert chrome not in text
    flat = " ".join(text.split())
    assert "module defines a class to abstract the concept of a pipeline" in flat
    assert "Source code: Lib/pipes.py" in flat
    assert "See also subprocess, shlex and os." in flat  # "See also a, b and c." is prose, not a menu


def test_permalink_marks_after_headings_and_definitions_leave_the_text(tmp_path):
    body = """<div class="body"><section id="io"><h1>io<a class="headerlink" href="#io" title="Permalink">¶</a></h1>
<dl class="py method"><dt class="sig" id="io.IOBase.readlines"><span>readlines</span>()<a class="headerlink"
href="#io.IOBase.readlines" title="Permalink to this definition">¶</a></dt>
<dd><p>Read and return a list of lines from the stream. See <a href="#io.IOBase.readline">readline</a>,
section <a href="#sec">§</a> 2 and <a href="other.html#x">¶</a>.</p></dd></dl>
<h2>MkDocs<a class="headerlink" href="#mkdocs">#</a></h2><p>Text under it.</p></section></div>"""
    flat = " ".join(text_of(page(tmp_path, body)).split())
    assert "readlines()" in flat and "readlines()¶" not in flat
    assert "¶" not in flat.replace("and ¶", "")  # only the link to another page keeps its mark
    assert "MkDocs#" not in flat and "#" not in flat
    assert "See readline, section" in flat, "an ordinary link to this page stays"
    assert "and ¶." in flat, "a mark linking to another page is no permalink of this one"


def test_html5_header_footer_and_roles_go_but_those_inside_an_article_stay(tmp_path):
    body = """<header><a href="/">Home</a> <span>Site tagline of the blog</span></header>
<div role="banner">Banner words</div><div role="search"><form>Search the site</form></div>
<main><article><header><p>Posted by Anna on a rainy Monday</p></header>
<p>Kayaks are narrow boats moved by a double-bladed paddle.</p>
<footer><p>Filed under boats</p></footer></article></main>
<footer><p>Made with a static site generator</p></footer>"""
    text = text_of(page(tmp_path, body))
    assert "tagline" not in text and "Banner words" not in text and "Search the site" not in text
    assert "static site generator" not in text
    assert text.split("\n") == ["Posted by Anna on a rainy Monday",
                                "Kayaks are narrow boats moved by a double-bladed paddle.", "Filed under boats"]


def test_prose_rich_in_links_stays(tmp_path):
    body = """<p>Use <a href="a">open()</a> to read a file, <a href="b">os.stat()</a> to look at it,
<a href="c">shutil.copy()</a> to copy it and <a href="d">os.remove()</a> to delete it when done.</p>
<ul><li><a href="x">PEP 8</a> - the style guide, with a long explanation of naming.</li>
<li><a href="y">PEP 257</a> - docstring conventions that tools rely on.</li>
<li><a href="z">PEP 484</a> - type hints and how checkers read them.</li></ul>"""
    text = text_of(page(tmp_path, body))
    assert "os.remove() to delete it when done." in " ".join(text.split())
    assert text.count("PEP") == 3


def test_a_page_made_of_links_keeps_them(tmp_path):
    # A bookmarks export or an index page: its links are its text.
    items = "".join(f'<li><a href="https://example.org/{i}">Recipe for {name}</a></li>'
                    for i, name in enumerate(["lentil soup", "rye bread", "plum cake", "pesto", "kimchi",
                                              "miso glaze", "fig jam", "onion tart", "pickled beets",
                                              "barley salad", "chickpea stew", "apple crumble"] * 3))
    text = text_of(page(tmp_path, f"<h1>Bookmarks</h1><ul>{items}</ul>"))
    assert text.count("Recipe for") == 36


def test_a_long_table_of_contents_goes_when_the_page_has_its_own_text(tmp_path):
    toc = "".join(f'<li><a href="ch{i}.html">Chapter {i}: a section title of some length</a><ul>'
                  f'<li><a href="ch{i}.html#a">Part A of {i}</a></li></ul></li>' for i in range(20))
    prose = "<p>" + " ".join(["Rowing boats need oars and a steady rhythm."] * 40) + "</p>"
    text = text_of(page(tmp_path, f"<h1>Guide</h1><ul>{toc}</ul>{prose}"))
    assert "Chapter" not in text and "Part A" not in text
    assert text.count("steady rhythm") == 40


def test_epub_chapters_are_not_filtered(tmp_path):
    # Only web pages lose chrome: a book's text (walked by htmlpage.sections) is left as it is.
    from librarian.engine.extract.htmlpage import parse, sections

    tree = parse(f"<body>{TEXI2HTML_BUTTONS}<p>{NODE_TEXT}</p></body>")
    assert "Contents" in sections(tree.body)[0][1]


# --------------------------------------------------------------------------- redirect stubs (item 7)

# texi2any 6.8 writes one of these per @anchor and renamed node (trimmed: its style sheet).
TEXINFO_REDIRECT = """<!DOCTYPE html PUBLIC "-//W3C//DTD HTML 4.01 Transitional//EN" "http://www.w3.org/TR/html4/loose.dtd">
<html>
<!-- Created by GNU Texinfo 6.8, https://www.gnu.org/software/texinfo/ -->
<!-- This file redirects to the location of a node or anchor -->
<head>
<meta http-equiv="Content-Type" content="text/html; charset=utf-8">
<title>Old Invoking Name (Demo Manual)</title>
<meta name="description" content="Old Invoking Name (Demo Manual)">
<meta name="Generator" content="texi2any">
<meta http-equiv="Refresh" content="0; url=Invoking.html#Old-Invoking-Name">
<meta name="viewport" content="width=device-width,initial-scale=1">
</head>
<body lang="en">
<p>The node you are looking for is at <a href="Invoking.html#Old-Invoking-Name">Old Invoking Name</a>.</p>
</body>
"""
# The Apache httpd manual's top index.html (Debian apache2-doc), verbatim.
APACHE_REFRESH = """<html><head><meta http-equiv="refresh" content="0; URL=en/index.html"></head>
<body>
<table><tr><td><a href="da/index.html">da/</a></td></tr>
<tr><td><a href="de/index.html">de/</a></td></tr>
<tr><td><a href="en/index.html">en/</a></td></tr>
<tr><td><a href="zh-cn/index.html">zh-cn/</a></td></tr>
</table></body></html>"""


def test_texinfo_redirect_page_is_a_stub(tmp_path):
    path = write(tmp_path, TEXINFO_REDIRECT, "Old-Invoking-Name.html")
    assert is_stub(path)
    assert extract_html(path).title == "Old Invoking Name (Demo Manual)"
    without_refresh = TEXINFO_REDIRECT.replace('<meta http-equiv="Refresh"', '<meta name="x"')
    assert is_stub(write(tmp_path, without_refresh, "older.html"))  # the sentence alone says it


def test_meta_refresh_pages_are_stubs(tmp_path):
    assert is_stub(write(tmp_path, APACHE_REFRESH, "index.html"))
    assert is_stub(page(tmp_path, "", head="<meta http-equiv=refresh content='2;url=https://example.org/new'>"))


def test_moved_to_page_is_a_stub(tmp_path):
    assert is_stub(page(tmp_path, '<p>This page has moved to <a href="https://example.org/new">the new site</a>.</p>'))


def test_pages_with_content_are_no_stubs(tmp_path):
    # An auto-reloading page (no other address) and a long page with a refresh both keep their text;
    # so does a short page that merely mentions a move.
    reload = page(tmp_path, f"<p>{ARTICLE}</p>", head='<meta http-equiv="refresh" content="30">', name="a.html")
    long_text = " ".join([ARTICLE] * 10)
    long = page(tmp_path, f"<p>{long_text}</p>", head='<meta http-equiv="refresh" content="0; url=b.html">',
                name="b.html")
    moved = page(tmp_path, "<p>We moved the piano to the hall.</p>", name="c.html")
    for path in (reload, long, moved):
        assert extract_html(path).segments, path.name


def test_redirect_stubs_are_indexed_as_empty_documents_not_failures_nor_results(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    write(docs, TEXINFO_REDIRECT, "Old-Invoking-Name.html")
    write(docs, APACHE_REFRESH, "index.html")
    page(docs, f"<h1>Invoking</h1><p>{NODE_TEXT}</p>", name="Invoking.html")
    with Library.open(tmp_path / "data", model=fake_model(), extract=extract) as lib:
        lib.add_folder(docs)
        report = lib.update()
        assert report.failed == 0 and report.added == 3
        status = lib.status()
        assert not status.failed and not status.warnings
        for query in ("node looking", "Invoking", "index"):
            for mode in ("keyword", "hybrid"):
                names = {Path(hit.path).name for hit in lib.search(query, mode=mode).hits}
                assert names <= {"Invoking.html"}, (query, mode, names)
        again = lib.update()  # recorded: the next run does not read the stubs again
        assert again.unchanged == 3 and again.added == again.changed == again.failed == 0


def test_deeply_nested_chrome_does_not_recurse(tmp_path):
    depth = 5000
    body = ("<div><header>" * depth + "<p>inside</p>" + "</header></div>" * depth
            + "<main>" + '<div><a href="x">link</a>' * depth + "<p>Kept words of the article.</p>"
            + "</div>" * depth + "</main>")
    assert "Kept words of the article." in text_of(page(tmp_path, body))
