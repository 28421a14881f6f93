"""Alert text made inert for GitHub markdown: nothing in it can mention, embed, inject or
break the layout, and it still reads the same."""

from __future__ import annotations

import html
import itertools
import re

import pytest
import regex

from triage.sinks import markdown


@pytest.mark.parametrize(
    ("text", "inert"),
    [
        ("page @alice now", "page @&#8203;alice now"),
        ("cc @acme/sre-team", "cc @&#8203;acme/sre-team"),
        ("see #12 and acme/api#7", "see #&#8203;12 and acme/api#&#8203;7"),
        ("fixed by GH-42, gh-7", "fixed by GH-&#8203;42, gh-&#8203;7"),
        (
            "see https://github.com/acme/api/issues/1 and www.evil.example",
            "see https:&#8203;//github.com/acme/api/issues/1 and www&#8203;.evil.example",
        ),
    ],
)
def test_mentions_and_references_cannot_link(text: str, inert: str) -> None:
    """`@user`, `@org/team`, `#12`, `GH-12` and URLs get a zero-width space, so GitHub links,
    cross-references and notifies none."""
    assert markdown.inline(text) == inert


def test_images_and_links_cannot_form() -> None:
    """`![x](url)` and `[x](url)` lose their brackets and parentheses to escapes."""
    assert markdown.inline("![img](http://x/y.png)") == "\\!\\[img\\]\\(http:&#8203;//x/y.png\\)"
    assert markdown.inline("[click](https://evil)") == "\\[click\\]\\(https:&#8203;//evil\\)"


def test_html_cannot_start() -> None:
    """Tags, entities and comments arrive as text: `<` `>` `&` become entities."""
    assert markdown.inline("<script>alert(1)</script>") == (
        "&lt;script&gt;alert\\(1\\)&lt;/script&gt;"
    )
    assert markdown.inline('<img src=x onerror="a()">') == '&lt;img src=x onerror="a\\(\\)"&gt;'
    assert markdown.inline("<!-- triage:fingerprint=abc -->") == (
        "&lt;\\!-- triage:fingerprint=abc --&gt;"
    )
    assert markdown.inline("&lt;") == "&amp;lt;"


def test_code_spans_emphasis_and_tables_cannot_form() -> None:
    """Backticks, emphasis, strikethrough, math and table pipes are escaped."""
    assert markdown.inline("`rm -rf` *bold* _it_ ~~gone~~ $x$ | a |") == (
        "\\`rm -rf\\` \\*bold\\* \\_it\\_ \\~\\~gone\\~\\~ \\$x\\$ \\| a \\|"
    )


@pytest.mark.parametrize(
    ("line", "inert"),
    [
        ("# Heading", "#&#8203; Heading"),
        ("- item", "\\- item"),
        ("+ item", "\\+ item"),
        ("1. first", "1\\. first"),
        ("===", "\\==="),
        ("> quote", "&gt; quote"),
        ("    indented code", "indented code"),
    ],
)
def test_block_syntax_cannot_start_a_line(line: str, inert: str) -> None:
    """Headings, list items, setext rules, quotes and indented code do not start from text."""
    assert markdown.paragraphs(line) == inert


@pytest.mark.parametrize("rule", [":-", ":---:", ":--"])
def test_a_colon_rule_cannot_make_a_table(rule: str) -> None:
    """GitHub takes `:-` (a delimiter row needs no pipe) under a line for a one-column table
    whose header is that line: a line starting with `:` gets a backslash."""
    assert markdown.paragraphs(f"status\n{rule}") == f"status  \n\\{rule}"


def test_paragraphs_keep_lines_and_paragraphs() -> None:
    """Single newlines become hard line breaks, blank lines paragraph breaks, runs collapse."""
    assert markdown.paragraphs("one\ntwo\n\n\n\nthree\n") == "one  \ntwo\n\nthree"


def test_invisible_characters_are_dropped_and_controls_become_spaces() -> None:
    """Bidi overrides and zero-width characters disappear; a control character or a tab is a
    space, so two words the redactor read apart are never glued together."""
    assert markdown.inline("a\u202eb\u200bc\x00d\te") == "abc d e"
    assert markdown.paragraphs("AKIA\x00IOSF\x1bODNN") == "AKIA IOSF ODNN"
    assert markdown.title("AKIA\x07IOSF") == "AKIA IOSF"
    assert markdown.code("AKIA\x7fIOSF\x9bODNN") == "`AKIA IOSF ODNN`"


def test_long_text_is_cut_before_escaping() -> None:
    """The cut counts original characters and ends with an ellipsis."""
    assert markdown.inline("x" * 50, max_chars=10) == "x" * 9 + "…"
    assert len(markdown.paragraphs("y" * 20_000, max_chars=100)) == 100


def test_titles_are_plain_text_on_one_line() -> None:
    """Titles lose line breaks, and `@`/`#` get a zero-width space; nothing is backslashed."""
    assert markdown.title("disk *full*\non @db #3") == "disk *full* on @\u200bdb #\u200b3"
    assert markdown.title("GH-9 at https://x.io") == "GH-\u200b9 at https:\u200b//x.io"
    assert len(markdown.title("t" * 500)) == 240


def test_code_spans_cannot_be_closed_early() -> None:
    """A value shown as code cannot end its own span."""
    assert markdown.code("a`b") == "`a'b`"
    assert markdown.code("") == ""


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "data:text/html,<script>",
        "/relative/path",
        "ftp://files.example.com/x",
        "https://",
        "https://exa\u202emple.com",
    ],
)
def test_only_absolute_http_links_are_rendered(url: str) -> None:
    """Anything but an absolute http(s) URL with a host is not linked at all."""
    assert markdown.link("runbook", url) is None


def test_links_cannot_break_out_of_their_destination() -> None:
    """Spaces, angle brackets and quotes in a URL are percent-encoded (an `&` is an entity,
    which GitHub reads back); the label is inert."""
    assert markdown.link("run*book*", 'https://x.example/a b>c"d?q=1&r=2') == (
        "[run\\*book\\* \\(x.example\\)](<https://x.example/a%20b%3Ec%22d?q=1&amp;r=2>)"
    )


@pytest.mark.parametrize(
    ("name", "url", "shown"),
    [
        (
            "dashboard",
            "https://gr\u00e4fana.example.com/d?q=1",
            "[dashboard \\(xn--grfana-cua.example.com\\)](<https://xn--grfana-cua.example.com/d?q=1>)",
        ),
        (
            "https://ok.example.com",
            "https://%65vil.example.com:8443/x",
            "[https:&#8203;//ok.example.com \\(evil.example.com\\)](<https://evil.example.com:8443/x>)",
        ),
        (
            "n" * 80,
            "https://x.example/",
            f"[{'n' * 59}… \\(x.example\\)](<https://x.example/>)",
        ),
        (
            "db\u202e\x00dash",
            "http://[::1]:3000/d",
            "[db dash \\(::1\\)](<http://[::1]:3000/d>)",
        ),
    ],
)
def test_a_link_names_the_host_it_opens(name: str, url: str, shown: str) -> None:
    """A link's label is its name (one line, cut to 60 characters) and the host the URL
    opens as DNS spells it, which the destination spells the same way: an alert cannot
    dress a link up as one to another host."""
    assert markdown.link(name, url) == shown


def test_a_link_through_a_redirect_names_the_host_it_ends_on() -> None:
    """A link sent through a redirect domain points there and names the host it forwards to."""
    assert markdown.link("pr", "https://github.com/a/b/pull/1?x#y", through="r.example") == (
        "[pr \\(github.com\\)](<https://r.example/a/b/pull/1?x#y>)"
    )


@pytest.mark.parametrize("text", ["#" * 300, "@" * 300, "a#b@" * 100, "#1 " * 100, "x" * 300])
def test_a_title_as_sent_fits_in_githubs_limit(text: str) -> None:
    """The zero-width spaces that keep `#` and `@` from linking count against GitHub's 256
    characters: the title as sent is at most 240 (with `[P1] ` ahead, under 256)."""
    shown = markdown.title(text)
    assert len(shown) <= 240
    assert shown.endswith("…")


@pytest.mark.parametrize(
    "url",
    [
        "https://github.com@evil.example.com/x",
        "https://a1b2c3d4e5f6g7h8i9@evil.example.com/x",
        "https://svc:[REDACTED:password]@evil.example.com/x",
    ],
)
def test_a_links_user_info_is_left_out(url: str) -> None:
    """A URL's user info is no part of a link: `github.com@` would read as the host it is
    not, and a token written as the user name is of no shape the redactor knows."""
    assert (
        markdown.link("dash", url) == "[dash \\(evil.example.com\\)](<https://evil.example.com/x>)"
    )
    assert markdown.safe_url(url) == "https://evil.example.com/x"


#: Characters a reader sees as one though they are several code points: a joined emoji (a
#: woman and a laptop, joined by U+200D), a flag (two regional indicators), a letter and its
#: accent.
CLUSTERS = ["\N{WOMAN}\u200d\N{PERSONAL COMPUTER}", "\U0001f1eb\U0001f1f7", "e\u0301"]


def _kept_whole(original: str, kept: str) -> bool:
    """Whether `kept` is `original` up to a boundary between user-perceived characters."""
    ends = list(itertools.accumulate(len(c) for c in regex.findall(r"\X", original)))
    return original.startswith(kept) and (kept == "" or len(kept) in ends)


@pytest.mark.parametrize("cluster", CLUSTERS, ids=["joined emoji", "flag", "accent"])
@pytest.mark.parametrize("shift", range(4))
@pytest.mark.parametrize("cut", ["inline", "paragraphs", "title", "code"])
def test_a_cut_never_splits_what_a_reader_sees_as_one_character(
    cluster: str, shift: int, cut: str
) -> None:
    """Text cut to its limit (a title, a fact, a description, a code span) is cut between
    user-perceived characters: never half a flag (a lone letter box), a joined emoji whose
    zero-width joiner then joins the "…", or a letter without its accent."""
    original = "x" * shift + cluster * 20
    if cut == "code":
        kept = markdown.code(original, 21)[1:-1]
    else:
        shown = getattr(markdown, cut)(original, 21)
        assert shown.endswith("…")
        kept = shown[:-1]
    assert _kept_whole(original, kept), [hex(ord(c)) for c in kept[-3:]]


def test_a_links_destination_is_the_url_once_github_reads_its_entities() -> None:
    """GitHub reads entities in a link's destination (`&lt;` is `<` there): a URL holding an
    `&` keeps it as an entity, so the link opens the URL the alert named, not another."""
    url = "https://x.example/q?a=1&lt;2&amp;b=3&copy;"
    [destination] = re.findall(r"\]\(<(.*)>\)$", markdown.link("d", url) or "")
    assert html.unescape(destination) == markdown.safe_url(url)


#: What GitHub would act on in an issue or comment, each written as an alert could write it.
GITHUB_CONSTRUCTS = {
    "mention": "@alice please look",
    "team mention": "@acme/sre-team",
    "issue reference": "see #12",
    "cross-repository reference": "acme/api#7",
    "GH reference": "GH-42",
    "commit of another repository": "acme/api@a5c3785ed8d6a35868bc169f07e40e889087fd2e",
    "closing keyword": "fixes #12, closes acme/api#3",
    "closing keyword by URL": "resolves https://github.com/acme/api/issues/3",
    "www autolink": "www.evil.example/track",
    "email autolink": "mailto:ops@evil.example",
    "details": "<details><summary>x</summary>hidden</details>",
    "tracking pixel": '<img src="https://evil.example/p.gif">',
    "javascript link": '<a href="javascript:alert(1)">click</a>',
    "picture": '<picture><source srcset="https://evil.example/a.png"></picture>',
    "video": '<video src="https://evil.example/v.mp4"></video>',
    "image": "![x](https://evil.example/p.gif)",
    "reference link": "[x]: https://evil.example",
    "task list": "- [ ] approve the payout",
    "footnote": "[^1]: see the note",
    "math block": "$$\\begin{x}$$",
    "inline math": "$`x`$",
    "mermaid": "```mermaid",
    "suggestion": "~~~suggestion",
    "table": "| a | b |",
    "heading": "# Pwned",
    "alert block": "> [!WARNING]",
    "ordered list with parenthesis": "1) step",
    "entity": "&#64;alice",
}


def _acts_on_nothing(shown: str) -> bool:
    """Whether escaped text holds nothing GitHub acts on: no raw `<`, each markdown sign
    escaped by a backslash, each `@` and `#` followed by a zero-width space, no URL or `www.`
    left whole, no line starting a block. A hex word's code span (`a5c3785…`, which GitHub
    links to no commit) is triage's own markup, not the alert's."""
    shown = re.sub(r"`[0-9A-Fa-f]{7,}`", "", shown)
    unescaped = re.search(r"(?<!\\)(?:\\\\)*[\[\]()!`*_~|$]", shown)
    return (
        "<" not in shown
        and unescaped is None
        and re.search("[@#](?!\0)", shown.replace("&#8203;", "\0")) is None
        and "://" not in shown
        and "www." not in shown.lower()
        and not re.match(r"(?m)^(?:[-+>]|\d+[.)]|#+ )", shown)
    )


@pytest.mark.parametrize("text", GITHUB_CONSTRUCTS.values(), ids=GITHUB_CONSTRUCTS.keys())
def test_nothing_github_acts_on_survives_escaping(text: str) -> None:
    """Mentions, references, closing keywords, autolinks, the HTML GitHub renders, images,
    task lists, footnotes, math, mermaid and suggestion blocks, tables, headings and alert
    blocks in alert text are shown as text: none of them notifies, links, embeds or formats,
    in a line, in paragraphs and in a title (which GitHub renders references in)."""
    assert _acts_on_nothing(markdown.inline(text)), markdown.inline(text)
    assert _acts_on_nothing(markdown.paragraphs(f"{text}\n{text}")), markdown.paragraphs(text)
    title = markdown.title(text)
    assert re.search("[@#](?!\u200b)", title) is None and "://" not in title, title
