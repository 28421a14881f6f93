"""Round 4 of hostile alert text on every surface (helper 485): one table of payloads, each a
class of attack the earlier table (`test_escape_every_surface.PAYLOADS`) lacks, put in every
field an alert and its ticket have and shown through the real sinks and servers (Slack, GitHub,
the ticket backend, the status page, the operator commands), checked by that file's rules for
each surface (what may appear there at all); later rounds add their payloads to `PAYLOADS`.

Beside the table, what it found, each fixed:

- a commit SHA (a word of 7 or more hex digits) in alert text was a link on GitHub, to a commit
  of the repository or of any fork of it, shown cut to 7 (`markdown`: a code span now);
- a lone surrogate reached a JSON log line and the command line's JSON as a `\\ud800` escape,
  which strict JSON readers refuse (`logs`, `view.json_line`: U+FFFD, as the API writes);
- a URL in an incident's title, history note, team or label reached the terminal as the alert
  wrote it, where terminals make it a link (`github.com@evil.example`), though every other
  surface writes it as it opens (`operator_text`);

and a real browser (chromium) shows every title of both tables as the API has it, running and
fetching nothing."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from io import StringIO
from pathlib import Path

import pytest
import structlog

from browser import Browser, chromium_or_skip
from factories import alert
from github_stub import GitHubServer
from ingest_harness import loopback_client
from test_backend_sink import ROUTES, token_env
from test_backend_sink import open_sink as open_backend
from test_escape_every_surface import (
    BOT_TOKEN,
    REPO,
    _hidden,
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
from test_escape_every_surface import PAYLOADS as OLD_PAYLOADS
from test_operator_hostile import BEARER, NOW, serving
from test_slack_sink import Hook
from test_slack_sink import open_sink as open_slack
from triage.cli import main
from triage.demo.ticketd import TicketServer
from triage.display import visible
from triage.incidents.sqlite import SQLiteStore
from triage.incidents.store import Routing
from triage.logs import configure_logging
from triage.models import EffectKind, Priority, Ticket
from triage.ops.operator import incident_json
from triage.ops.operator_text import incident_block, incident_line
from triage.redact import Redactor
from triage.settings import Settings
from triage.sinks import markdown
from triage.sinks.github import GitHubSink
from triage.view import json_line

__all__ = ["github", "hook", "store", "token_env"]

#: Hostile alert text, one class of attack each: later rounds add theirs here.
PAYLOADS: dict[str, str] = {
    "commit_shas": "deployed a5c3785ed8d6a35868bc169f07e40e889087fd2e acme/ops@a5c3785 u@a5c37",
    "joined_mentions": "@\u200doctocat @\u200coctocat @\u2060here <@\u200dU123> <\u200d!here>",
    "full_width": "\uff20octocat \uff03123 \uff1c!channel\uff1e \uff48ttps\uff1a//evil.example",
    "task_lists": "- [ ] task\n- [x] done\n* [ ] star\n1) first\n+ plus",
    "tables": "| a | b |\n|---|---|\n| x | y |\nfoo | bar\n:-- | --:\n\\| \\\\| end",
    "fence_runs": "```````\n`` `code` ``\n~~~~~~~~\n```` ```",
    "bidi": "\u202eevil\u202c \u2067x\u2069 \u200f\u202dy\u202c",
    "slack_special": "<!subteam^S012AB3CD> <@W123|bob> <#C123|general> <!date^1^{date}|x> <!here|h>",
    "double_escapes": "&amp;lt;!channel&amp;gt; &#x3c;!here&#x3e; &lt;@U1&gt; &commat;me &num;1",
    "mrkdwn": "*bold* _it_ ~strike~ `code` ```block``` >quote :skull: \\* <http://a|b>",
    "html_breaks": "</script><script>window.__ran=true</script></style><svg onload=alert(1)>"
    "<math><mi xlink:href=javascript:alert(1)>x</mi></math></title></textarea>",
    "css": "</style><style>body{background:url(http://evil.example/x)}</style>",
    "attribute_unquoted": "x onmouseover=alert(1) `x` =x /><img src=x onerror=window.__ran=true>",
    "c1_controls": "\x9b31m\x9d8;;http://evil.example\x9c \x90q\x9c \x9a\x85",
    "separators": "a\u2028b\u2029c\x00d\x7fe",
    "autolinks": "user@example.com mailto:x@y.z xmpp:a@b.c <http://evil.example> evil.example/x",
    "image_references": "![alt][ref]\n[ref]: http://tracker.example/p.png\n![x]( <http://t> )",
    "blocks": "> [!CAUTION]\n> text\n***\n___\n- - -\n$$\\href{http://evil}{x}$$ $`x`$",
    "backslashes": "\\<!channel\\> \\@here \\#1 \\&lt; \\",
    "comment_halves": "<!-- open only\n--> close <!--> <!--->",
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
    """The issue (title, body, labels) and its comments are inert GitHub Markdown."""
    settings = Settings(github_api_url=github.url, github_repository=REPO, github_token=BOT_TOKEN)
    sink = GitHubSink(settings)
    try:
        ref = (await sink.apply(effect(payload))).ref
        assert ref is not None
        await sink.apply(effect(payload, EffectKind.CLOSE, ref=ref))
    finally:
        await sink.aclose()
    [issue] = github.issues(REPO)
    assert_title_inert(issue["title"])
    assert_markdown_inert(issue["body"])
    assert_labels_taken([label["name"] for label in issue["labels"]])
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
async def test_the_backend_is_sent_only_visible_text_and_http_links(
    backend: TicketServer, token_env: None, payload: str
) -> None:
    """The ticket backend is sent nothing hidden and no link but an http(s) one."""
    async with open_backend(backend.url, **ROUTES) as sink:
        assert (await sink.apply(effect(payload))).ref is not None
    [opened] = backend.tickets
    body = opened["body"]
    assert body["runbook_url"] is None
    assert all(url.startswith(("http://", "https://")) for url in body["links"].values())
    assert _hidden(json.dumps(body, ensure_ascii=False).replace("\\n", "")) == []


@payloads
def test_operator_commands_print_only_printable_lines(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    payload: str,
) -> None:
    """`incidents list|show` (JSON and text) and `silence list` write only printable lines,
    each JSON one a strict reader takes."""
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
            if "--output" not in args and line.startswith("{"):
                _utf8_json(line)


# --- GitHub: commit SHAs -------------------------------------------------------------------

#: A word of 7 or more hex digits: what GitHub links to a commit of the repository (or of any
#: fork of it, which GitHub shows under the repository's own address) and shows shortened.
_BARE_HEX = re.compile(r"(?<![0-9A-Za-z_])[0-9a-fA-F]{7,}(?![0-9A-Za-z_])")


def _bare_hex(body: str) -> list[str]:
    """The hex words of `body` GitHub would link as commits: those outside code spans, our
    markers (HTML comments, not rendered) and our links' destinations."""
    shown = [line for line in body.split("\n") if not line.startswith("<!-- triage:")]
    bare = re.sub(r"`[^`\n]*`|\]\(<[^<>\s]*>\)", "", "\n".join(shown))
    return _BARE_HEX.findall(bare)


async def test_a_commit_sha_in_an_alert_is_no_link_on_github(github: GitHubServer) -> None:
    """A commit SHA in an alert's words is shown whole and links nothing on GitHub: not to a
    commit a fork pushed (which GitHub shows as the repository's own), nor shortened to 7."""
    settings = Settings(github_api_url=github.url, github_repository=REPO, github_token=BOT_TOKEN)
    sink = GitHubSink(settings)
    payload = PAYLOADS["commit_shas"]
    try:
        ref = (await sink.apply(effect(payload))).ref
        assert ref is not None
        await sink.apply(effect(payload, EffectKind.CLOSE, ref=ref))
    finally:
        await sink.aclose()
    [issue] = github.issues(REPO)
    for text in [issue["body"], *issue["comment_bodies"]]:
        assert "a5c3785ed8d6a35868bc169f07e40e889087fd2e" in text
        assert _bare_hex(text) == []


@pytest.mark.parametrize(
    "text",
    ["deploy 1234567 done", "DEADBEEF1", "abc1234\ndef5678", "at a5c3785.", "(0123456789abcdef)"],
)
def test_hex_words_are_code_spans_in_every_markdown_text(text: str) -> None:
    """`inline` and `paragraphs` write each word of 7 or more hex digits as a code span, whole,
    which GitHub links to no commit."""
    for shown in (markdown.inline(text), markdown.paragraphs(text)):
        assert _bare_hex(shown) == [], shown
        for word in _BARE_HEX.findall(text):
            assert f"`{word}`" in shown, shown


# --- JSON out of the process: lone surrogates ----------------------------------------------


def _utf8_json(line: str) -> object:
    """`line` read as JSON, as a strict reader takes it: every string in it whole Unicode
    (`\\ud800` alone is valid JSON text that Rust's serde_json, and so Vector, refuses)."""
    value = json.loads(line)
    json.dumps(value, ensure_ascii=False).encode("utf-8")  # raises on a lone surrogate
    return value


def test_a_json_log_line_holds_no_lone_surrogate() -> None:
    """A JSON log line quoting text with a lone surrogate (a value, a key, a library's
    message) is one a strict JSON reader takes: the surrogate is U+FFFD, as the API writes."""
    stream = StringIO()
    configure_logging("json", "info", stream)
    try:
        structlog.get_logger("triage.x").warning(
            "alert.seen", title="db \ud800 down", labels={"k\udc00": ["v\ud83d"]}
        )
        logging.getLogger("botocore").warning("lib %s", "q\udfff")
    finally:
        configure_logging("json", "info")
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2
    first, second = (_utf8_json(line) for line in lines)
    assert first["title"] == "db \ufffd down"  # type: ignore[index]
    assert first["labels"] == {"k\ufffd": ["v\ufffd"]}  # type: ignore[index]
    assert second["event"] == "lib q\ufffd"  # type: ignore[index]


def test_the_command_lines_json_holds_no_lone_surrogate() -> None:
    """A line of the command line's JSON output (`json_line`: a silence's comment stored by
    another writer, a dead letter) is one a strict JSON reader takes: a lone surrogate is
    U+FFFD, as the API writes it, and the line stays printable."""
    line = json_line({"comment\udc00": "maint \ud800 window", "n": 1})
    assert line.isprintable()
    assert _utf8_json(line) == {"comment\ufffd": "maint \ufffd window", "n": 1}


# --- the terminal: URLs in an alert's words -------------------------------------------------

#: A title naming URLs that read as another host than they open: user info that reads as a
#: host, and a host with a Cyrillic a (U+0430).
_MISLEADING_TITLE = (
    "log in at https://github.com@evil.example/session or https://gr\u0430fana.example.com/d/x"
)


async def test_the_terminal_writes_an_alerts_urls_as_they_open(store: SQLiteStore) -> None:
    """`incidents list|show --output text` write the URLs in an incident's title as they open
    (`display.urls_as_opened`), as the tickets' text has them: a terminal makes a URL in its
    output a link to click, and `https://github.com@evil.example/` reads as GitHub while it
    opens evil.example (a look-alike host reads as the real one)."""
    source = alert("misleading").model_copy(update={"title": _MISLEADING_TITLE})
    opened = await store.begin(source, "m", NOW)
    assert opened.after is not None
    [incident] = await store.incidents()
    listed = incident_line(incident_json(incident, Redactor()), incident.opened_at, NOW)
    shown = incident_block(incident_json(incident, Redactor(), history=True), NOW)
    for text in (listed, shown.split("\n", 1)[0]):
        assert "https://evil.example/session" in text, text
        assert "github.com@" not in text, text
        assert "https://xn--grfana-4nf.example.com/d/x" in text, text


async def test_the_terminal_writes_urls_in_a_team_or_label_as_they_open(
    store: SQLiteStore,
) -> None:
    """A team or a label value holding a URL (a `generatorURL`, a dashboard's) is written as it
    opens on the lines of `incidents list|show --output text` too: bare or quoted, a terminal
    makes it a link, and `github.com@evil.example` would read as GitHub."""
    misleading = "https://github.com@evil.example/login"
    opened = await store.begin(alert("labelled"), "m", NOW)
    assert opened.after is not None
    ticket = Ticket(title="t", priority=Priority.HIGH, description="d")
    routing = Routing("r", misleading, {"url": misleading})
    await store.save_ticket(opened.after.fingerprint, "m", ticket, routing)
    [incident] = await store.incidents()
    listed = incident_line(incident_json(incident, Redactor()), incident.opened_at, NOW)
    shown = incident_block(incident_json(incident, Redactor(), history=True), NOW)
    [team] = [line for line in shown.splitlines() if line.lstrip().startswith("team")]
    [labels] = [line for line in shown.splitlines() if line.lstrip().startswith("labels")]
    for text in (listed, team, labels):
        assert "https://evil.example/login" in text and "github.com@" not in text, text


# --- the status page in a real browser ------------------------------------------------------


async def test_a_browser_shows_every_title_as_written_and_runs_or_fetches_nothing(
    store: SQLiteStore, tmp_path: Path
) -> None:
    """Chromium, given each incident's page (its Content-Security-Policy and all), shows the
    title of every payload of both tables as the API has it (its visible characters, spaces
    collapsed as HTML shows them): faithful, but no script of the alert's ran, no element of
    its was made, and nothing was fetched from anywhere (no image, style or font)."""
    executable = chromium_or_skip()
    table = {**OLD_PAYLOADS, **PAYLOADS}
    shown = {name: text for name, text in table.items() if not name.startswith(("long", "emoji"))}
    fingerprints = {}
    for name, text in shown.items():
        source = alert(name).model_copy(update={"title": text if text.strip() else "t"})
        opened = await store.begin(source, "m", NOW)
        assert opened.after is not None
        fingerprints[name] = opened.after.fingerprint
    async with serving(store) as server, loopback_client(server.port) as http:
        titles = {
            name: (await http.get(f"/api/v1/incidents/{fp}", headers=BEARER)).json()["title"]
            for name, fp in fingerprints.items()
        }
        base = f"http://127.0.0.1:{server.port}/incidents/"
        seen = await asyncio.to_thread(
            _titles_in_chromium,
            executable,
            tmp_path,
            {n: base + fp for n, fp in fingerprints.items()},
        )
    for name, (title, elements, fetched, ran) in seen.items():
        assert title == " ".join(visible(titles[name]).split()), name
        assert (elements, fetched, ran) == (0, 0, False), name


def _titles_in_chromium(
    executable: str, tmp_path: Path, pages: dict[str, str]
) -> dict[str, tuple[str, int, int, bool]]:
    """For each page: its title as drawn (whitespace collapsed), how many elements it holds
    that the status page never writes (script, img, svg, iframe, object, embed, link), how many
    resources it fetched, and whether a payload's script ran (`window.__ran`)."""
    browser = Browser(executable, tmp_path / "profile")
    seen: dict[str, tuple[str, int, int, bool]] = {}
    try:
        browser.call("Network.enable", page=True)
        browser.call("Network.setExtraHTTPHeaders", {"headers": BEARER}, page=True)
        for name, url in pages.items():
            browser.call("Page.navigate", {"url": url}, page=True)
            browser.wait_for(
                f"location.href === {json.dumps(url)} && document.readyState === 'complete'"
                " && document.querySelector('h2') !== null",
                f"the page of {name}",
            )
            title = str(browser.evaluate("document.querySelector('h2').innerText"))
            elements = int(
                browser.evaluate(
                    "document.querySelectorAll('script,img,svg,iframe,object,embed,link,math,"
                    "video,audio,base,meta[http-equiv]').length"
                )
            )
            fetched = int(browser.evaluate("performance.getEntriesByType('resource').length"))
            ran = bool(browser.evaluate("window.__ran === true"))
            seen[name] = (" ".join(title.split()), elements, fetched, ran)
    finally:
        browser.close()
    return seen
