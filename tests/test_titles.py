"""Titles a person would give a document (issue 13 item 4): first heading or a first line that reads
like a title, never a web address, a version number, decoration or a markup directive; permalink
marks off titles and heading paths; a page's <title> less its site's name."""

from __future__ import annotations

from pathlib import Path

import pytest
from fixtures.make_files import make_pdf
from librarian.engine.extract import extract
from librarian.engine.extract.pdf_reflow import document_words, reflow
from librarian.engine.extract.titles import comment_title, strip_permalink, text_title


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


TEXT_TITLES = [
    # an underlined heading, though a paragraph follows at once
    ("Country Sourdough - my weekend loaf\n===================================\nMakes one loaf.\n",
     "Country Sourdough - my weekend loaf"),
    # reStructuredText: directives and labels first, roles and " --- " in the heading
    (".. highlight:: c\n\n.. _marshalling-utils:\n\nData marshalling support\n========================\n",
     "Data marshalling support"),
    (":mod:`csv` --- CSV File Reading and Writing\n=============\n\n.. module:: csv\n",
     "csv — CSV File Reading and Writing"),
    # over- and underlined
    ("#####\nParts\n#####\n\nbody text\n", "Parts"),
    # a Markdown heading in a .txt
    ("## Packing list ¶\n- boots\n", "Packing list"),
    # a lone version number, a web address and a rule come before the title
    ("1.7.7\n\nhttps://example.org/changes\n-----\nRelease notes for the garden planner\n\nFixed.\n",
     "Release notes for the garden planner"),
    # an all-capitals title line followed by its first sentence
    ("HALF MARATHON TRAINING PLAN - spring race\nGoal: finish under 2 hours.\n",
     "HALF MARATHON TRAINING PLAN - spring race"),
    # not titles: prose running on, a salutation, a list, a stub marker, a table header
    ("It rained all day\nand the river rose.\n", None),
    ("Dear Sir,\n\nThe heating is broken.\n", None),
    ("- renew passport\n- call the plumber\n", None),
    ("TODO\n\n- renew passport\n", None),
    ("Path\tDescription\tX-Ref\n./misc\tOdds and ends\n", None),
    ("$ ######## Activate optimized mode ########\n$ make\n", None),  # a terminal transcript
    ("", None),
]


@pytest.mark.parametrize(("text", "expected"), TEXT_TITLES)
def test_text_title(text, expected):
    assert text_title(text) == expected


CODE_TITLES = [
    ('"""Rename holiday photos after the moment they were taken.\n\nLonger text.\n"""\nimport os\n',
     "Rename holiday photos after the moment they were taken"),
    ("#! /bin/bash\n#\n# aliasconv.sh - convert csh aliases to bash aliases and functions\n#\n# usage: x\n",
     "aliasconv.sh - convert csh aliases to bash aliases and functions"),
    # a summary over two comment lines, then more sentences: its first sentence
    ("#\n# .kshenv -- functions and aliases to provide the beginnings of a ksh\n#\t     environment for bash.\n",
     ".kshenv -- functions and aliases to provide the beginnings of a ksh environment for bash"),
    # the licence block is skipped, the summary after it kept
    ("// Copyright 2024 Foo Ltd.\n// Licensed under the MIT License.\n\n/* Parse config files. */\nint x;\n",
     "Parse config files"),
    ("# -*- coding: utf-8 -*-\nimport os\n", None),
    ("shcat()\n{\n  cat\n}\n", None),
]


@pytest.mark.parametrize(("text", "expected"), CODE_TITLES)
def test_code_title_is_its_opening_summary(text, expected):
    assert comment_title(text) == expected


def test_code_file_without_a_summary_keeps_its_name(tmp_path):
    assert extract(_write(tmp_path, "cat.sh", "shcat()\n{\n  cat\n}\n")).title == "cat"
    assert extract(_write(tmp_path, "rename.py", '"""Rename photos by date."""\n')).title == "Rename photos by date"


@pytest.mark.parametrize(("label", "expected"), [
    ("Lists¶", "Lists"), ("Lists ¶", "Lists"), ("Install #", "Install"), ("C#", "C#"),
    ("Setup \uf0c1", "Setup"), ("§ Scope", "Scope"), ("Usage {#usage}", "Usage"), ("Links 🔗", "Links"),
])
def test_permalink_marks_come_off(label, expected):
    assert strip_permalink(label) == expected


def test_html_heading_paths_lose_permalink_marks(tmp_path):
    page = _write(tmp_path, "tty.html", "<html><head><title>tty — Terminal control — Python 3.11 docs</title></head>"
                  "<body><h1>tty — Terminal control<a class='headerlink' href='#t'>¶</a></h1><p>Intro.</p>"
                  "<h2>Functions<a class='headerlink' href='#f'>¶</a></h2><p>Body.</p></body></html>")
    result = extract(page)
    assert result.title == "tty — Terminal control"
    assert [s.locator.heading for s in result.segments] == ["tty — Terminal control", "tty — Terminal control › Functions"]
    assert "¶" not in "".join(s.text for s in result.segments)


def test_markdown_heading_paths_lose_permalink_marks_and_attributes(tmp_path):
    result = extract(_write(tmp_path, "a.md", "# Guide {#guide}\n\ntext\n\n## Install ¶\n\nmore\n"))
    assert result.title == "Guide"
    assert result.segments[-1].locator.heading == "Guide › Install"


def test_pages_sharing_one_title_are_named_by_their_h1(tmp_path):
    for name, heading in (("params.html", "Shell Parameters"), ("builtins.html", "Shell Builtins")):
        _write(tmp_path, name, f"<html><head><title>Bash Reference Manual</title></head>"
                               f"<body><h1>{heading}</h1><p>Text.</p></body></html>")
    assert extract(tmp_path / "params.html").title == "Shell Parameters"
    alone = tmp_path / "alone"
    alone.mkdir()
    _write(alone, "intro.html", "<html><head><title>Introduction to Python</title></head>"
                                "<body><h1>Introduction</h1><p>Text.</p></body></html>")
    assert extract(alone / "intro.html").title == "Introduction to Python"


def test_rtf_title_from_its_info_group(tmp_path):
    rtf = tmp_path / "letter.rtf"
    rtf.write_bytes(rb"{\rtf1\ansi{\info{\title Repairs before winter: heating}{\author M}}"
                    rb"\pard Dear Mr Hollmann,\par The heating is broken.\par}")
    assert extract(rtf).title == "Repairs before winter: heating"
    plain = tmp_path / "plain.rtf"
    plain.write_bytes(rb"{\rtf1\ansi\pard Dear Mr Hollmann,\par The heating is broken.\par}")
    assert extract(plain).title == "plain"


# ------------------------------------------------------------------------------ PDF reflow (item 5)

FULL = "x" * 60  # a line that runs to the right margin


def test_reflow_joins_lines_that_run_to_the_margin_and_keeps_paragraph_ends():
    page = "\n".join([
        "3 Basic Shell Features",
        "Bash is an acronym for the Bourne-Again shell, the traditional Unix",
        "shell originally written by Stephen Bourne, with the same command",
        "language.",
        "This chapter briefly summarizes the building blocks of the shell: com-",
        "mands, control structures, functions and the many built-",
        "in commands that every shell user types each and every single day.",
        "3.1 Shell Syntax",
        "1. Reads its input from a file, from a string or from the terminal and",
        "2. Breaks the input into words.",
        "",
        "After a gap.",
    ])
    words = document_words([page, "the built-in commands"])
    assert reflow(page, words).split("\n") == [
        "3 Basic Shell Features",
        "Bash is an acronym for the Bourne-Again shell, the traditional Unix shell originally written by"
        " Stephen Bourne, with the same command language.",
        "This chapter briefly summarizes the building blocks of the shell: commands, control structures,"
        " functions and the many built-in commands that every shell user types each and every single day.",
        "3.1 Shell Syntax",
        "1. Reads its input from a file, from a string or from the terminal and",
        "2. Breaks the input into words.",
        "",
        "After a gap.",
    ]


def test_reflow_leaves_a_short_page_and_code_lines_alone():
    assert reflow("for f in *; do\n  echo $f\ndone") == "for f in *; do\n  echo $f\ndone"


def test_pdf_text_is_reflowed_into_paragraphs(tmp_path):
    lines = ["The starter should be fed twice a day with equal weights of flour",
             "and water, and kept at room temperature until it doubles. A com-",
             "mand of the oven matters just as much as the dough does, really.",
             "Bake at 250 degrees.",
             "Then let it cool for an hour before you cut the first slice of it."]
    pdf = make_pdf(tmp_path / "loaf.pdf", ["\n".join(lines)])
    text = extract(pdf).segments[0].text
    assert "flour and water, and kept" in text and "A command of the oven" in text
    assert "does, really.\nBake at 250 degrees.\nThen let it cool" in text


@pytest.mark.parametrize(("text", "expected"), [
    # an index directive's indented entries are part of the directive
    (".. highlight:: c\n\n.. index::\n   single: buffer protocol\n   single: buffer object\n\n"
     ".. _bufferobjects:\n\nBuffer Protocol\n---------------\n", "Buffer Protocol"),
    # a heading that is the word "Copyright" is a title; a copyright notice is not
    ("*********\nCopyright\n*********\n\nPython and this documentation is:\n", "Copyright"),
    ("Copyright 2024 Foo Ltd.\n\nGarden planner notes\n\nSow in April.\n", "Garden planner notes"),
])
def test_text_title_after_directives_and_notices(text, expected):
    assert text_title(text) == expected


def test_code_summary_stops_at_the_fields_after_it():
    text = ("# arrayops.bash --- hide some of the nasty syntax for manipulating bash arrays\n"
            "# Author: Noah Friedman\n# Created: 2016-07-08\n# Public domain\n\nfoo() { :; }\n")
    assert comment_title(text) == "arrayops.bash --- hide some of the nasty syntax for manipulating bash arrays"
