"""The Slack sink against a loopback incoming-webhook server over real HTTP."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import socket
import threading
from collections.abc import AsyncIterator, Iterator, MutableMapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import MappingProxyType
from typing import Any
from urllib.parse import quote

import pytest
from pydantic import SecretStr

from factories import view
from hostile_server import Answer, answer, hostile, then_drip, then_reset
from triage.errors import (
    ConfigError,
    SinkRejectedError,
    SinkThrottledError,
    SinkUnavailableError,
)
from triage.metrics import Metrics
from triage.models import Alert, EffectKind, Priority, Status, Ticket
from triage.settings import Settings, load_settings
from triage.sinks.aio import MAX_BODY_BYTES
from triage.sinks.base import Effect, NotSent, Target
from triage.sinks.slack import SlackSink
from triage.view import GroupView, MemberView

#: The secret part of a webhook URL, as Slack issues them.
SECRET_PATH = "/services/T0001/B0002/s3cr3tXYZtoken"
ISSUE_URL = "https://github.com/acme/ops/issues/12"

ALERT = Alert(
    source="cloudwatch",
    status=Status.FIRING,
    title="checkout-api-5xx-rate",
    team="payments",
    priority=Priority.CRITICAL,
    severity="SEV-1",
    description="5xx above 5% for 10 minutes",
    runbook_url="https://runbooks.example.com/checkout",
    links={"alarm": "https://console.aws.amazon.com/cloudwatch/home?a=1&b=2"},
    labels={"region": "eu-west-1", "account": "123456789012", "state": "ALARM"},
    occurred_at=datetime(2026, 11, 23, 3, 4, tzinfo=UTC),
    identity={"alarm": "checkout-api-5xx-rate"},
)
TICKET = Ticket(
    title="Checkout API 5xx rate above 5%",
    priority=Priority.CRITICAL,
    description="The checkout API answers 5xx to more than 5% of requests.",
    steps=("Open the runbook", "Check the last deploy"),
)


def effect(
    kind: EffectKind = EffectKind.OPEN,
    *,
    ticket: Ticket = TICKET,
    alert: Alert = ALERT,
    ref: str | None = None,
    webhook_url: str | None = None,
    flapping: bool = False,
    refs: dict[str, str] | None = None,
) -> Effect:
    return Effect(
        kind,
        alert.fingerprint,
        view(alert),
        ticket,
        ref,
        occurrences=4,
        new_occurrences=1,
        flapping=flapping,
        idempotency_key=f"{alert.fingerprint}:1",
        target=Target(webhook_url=webhook_url),
        refs=MappingProxyType({"github": ISSUE_URL, "backend": "T-7"} if refs is None else refs),
    )


# --- the loopback webhook ------------------------------------------------------------------


@dataclass
class Hook:
    """A threaded stand-in for Slack's webhook endpoint: records every POST and answers `ok`,
    or the statuses queued with `answer()`, as Slack does (plain-text error codes)."""

    posts: list[dict[str, Any]] = field(default_factory=list)
    answers: list[tuple[int, str, dict[str, str]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    port: int = 0

    def url(self, path: str = SECRET_PATH) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def answer(self, status: int, text: str, headers: dict[str, str] | None = None) -> None:
        with self.lock:
            self.answers.append((status, text, headers or {}))

    def bodies(self) -> list[dict[str, Any]]:
        with self.lock:
            return [post["body"] for post in self.posts]


@pytest.fixture
def hook() -> Iterator[Hook]:
    """A loopback webhook server on 127.0.0.1 (an ephemeral port), stopped after the test."""
    state = Hook()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with state.lock:
                state.posts.append(
                    {"path": self.path, "headers": dict(self.headers), "body": json.loads(raw)}
                )
                status, text, headers = state.answers.pop(0) if state.answers else (200, "ok", {})
            payload = text.encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.port = server.server_address[1]
    # A short poll interval: shutdown() waits up to one interval, once per test.
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()
    thread.join()


class FakeTime:
    """An injected monotonic clock that moves only when the sink sleeps (or a test says so)."""

    def __init__(self) -> None:
        self.now_s = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now_s

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now_s += seconds


@asynccontextmanager
async def open_sink(
    url: str, *, fake: FakeTime | None = None, metrics: Metrics | None = None, **settings: Any
) -> AsyncIterator[SlackSink]:
    fake = fake or FakeTime()
    sink = SlackSink(
        Settings(slack_webhook_url=SecretStr(url), **settings),
        metrics=metrics,
        clock=fake.clock,
        sleep=fake.sleep,
    )
    try:
        yield sink
    finally:
        await sink.aclose()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


# --- Block Kit validation ------------------------------------------------------------------


def text_objects(message: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for block in message["blocks"]:
        if "text" in block:
            yield block["text"]
        yield from block.get("fields", ())
        yield from block.get("elements", ())


def assert_well_formed(message: dict[str, Any]) -> None:
    """The structure and limits Slack enforces on an incoming-webhook message."""
    assert isinstance(message["text"], str) and message["text"]
    assert message["unfurl_links"] is False and message["unfurl_media"] is False
    blocks = message["blocks"]
    assert isinstance(blocks, list) and 1 <= len(blocks) <= 50
    for block in blocks:
        assert block["type"] in {"header", "section", "context"}
        if block["type"] == "header":
            assert block["text"]["type"] == "plain_text"
            assert 1 <= len(block["text"]["text"]) <= 150
        elif block["type"] == "section":
            assert "text" in block or "fields" in block
            if "text" in block:
                assert block["text"]["type"] in {"mrkdwn", "plain_text"}
                assert 1 <= len(block["text"]["text"]) <= 3000
            assert len(block.get("fields", ())) <= 10
            for item in block.get("fields", ()):
                assert item["type"] in {"mrkdwn", "plain_text"}
                assert 1 <= len(item["text"]) <= 2000
        else:
            assert 1 <= len(block["elements"]) <= 10
    for obj in text_objects(message):
        assert set(obj) <= {"type", "text", "emoji", "verbatim"}
        if obj["type"] == "mrkdwn":
            assert obj["verbatim"] is True  # Slack adds no links or mentions of its own


def all_text(message: dict[str, Any]) -> str:
    return "\n".join([message["text"], *(obj["text"] for obj in text_objects(message))])


# --- tests ---------------------------------------------------------------------------------


async def test_critical_open_posts_one_block_kit_message(hook: Hook) -> None:
    """A critical OPEN posts one well-formed Block Kit message with the facts and ticket links."""
    async with open_sink(hook.url()) as sink:
        assert (await sink.apply(effect())).ref == "posted"
    [post] = hook.posts
    assert post["path"] == SECRET_PATH
    assert post["headers"]["Content-Type"] == "application/json"
    message = post["body"]
    assert_well_formed(message)
    header, description, facts, steps, links, context = message["blocks"]
    assert header["text"]["text"] == "\N{LARGE RED CIRCLE} CRITICAL: Checkout API 5xx rate above 5%"
    assert description["text"] == {"type": "plain_text", "text": TICKET.description, "emoji": False}
    assert [(f["type"], f["text"]) for f in facts["fields"]] == [
        ("plain_text", "Source\ncloudwatch"),
        ("plain_text", "Team\npayments"),
        ("plain_text", "Where\naccount=123456789012, region=eu-west-1"),
        ("mrkdwn", "Since\n<!date^1795403040^{date_short_pretty} {time}|2026-11-23 03:04 UTC>"),
        ("plain_text", "Severity\nSEV-1"),
        ("mrkdwn", f"Ticket\n<{ISSUE_URL}|GitHub #12>"),
        ("mrkdwn", "Ticket\nbackend ticket T-7"),
    ]
    assert steps["text"]["type"] == "plain_text"
    assert steps["text"]["text"] == "Steps\n1. Open the runbook\n2. Check the last deploy"
    assert links["text"]["text"] == (
        "*Links*\n<https://runbooks.example.com/checkout|runbook (runbooks.example.com)>"
        " · <https://console.aws.amazon.com/cloudwatch/home?a=1&amp;b=2"
        "|alarm (console.aws.amazon.com)>"
    )
    assert context["elements"][0]["text"] == f"fingerprint {ALERT.fingerprint}"
    assert "CRITICAL: Checkout API 5xx rate above 5% · team: payments" in message["text"]


@pytest.mark.parametrize(
    ("priority", "posted"),
    [
        (Priority.CRITICAL, True),
        (Priority.HIGH, True),
        (Priority.MEDIUM, False),
        (Priority.LOW, False),
    ],
)
async def test_open_below_the_threshold_posts_nothing(
    hook: Hook, priority: Priority, posted: bool
) -> None:
    """With the default threshold (high), high and critical OPENs post; lower ones return None."""
    metrics = Metrics()
    ticket = TICKET.model_copy(update={"priority": priority})
    async with open_sink(hook.url(), metrics=metrics) as sink:
        ref = (await sink.apply(effect(ticket=ticket))).ref
    assert ref == ("posted" if posted else None)
    assert len(hook.posts) == int(posted)
    outcome = "ok" if posted else "skipped"
    assert metrics.counter("SinkCalls", sink="slack", outcome=outcome) == 1


async def test_threshold_is_configurable(hook: Hook, monkeypatch: pytest.MonkeyPatch) -> None:
    """TRIAGE_SLACK_MIN_PRIORITY (any case) moves the threshold: at CRITICAL a high OPEN is quiet."""
    monkeypatch.setenv("SLACK_WEBHOOK_URL", hook.url())
    monkeypatch.setenv("TRIAGE_SLACK_MIN_PRIORITY", "CRITICAL")
    settings = load_settings()
    assert settings.slack_min_priority is Priority.CRITICAL
    sink = SlackSink(settings)
    try:
        high = TICKET.model_copy(update={"priority": Priority.HIGH})
        assert (await sink.apply(effect(ticket=high))).ref is None
        assert (await sink.apply(effect())).ref == "posted"
    finally:
        await sink.aclose()
    assert len(hook.posts) == 1


async def test_hostile_alert_text_arrives_inert(hook: Hook) -> None:
    """Mentions, Slack markup, links, markdown images and HTML in alert text arrive as plain text."""
    hostile = (
        "ping @org/team @here @channel @everyone <!channel> <!here> <@U123> <!subteam^S1|@ops>"
        " <http://evil.example|click me> ![img](http://x/y.png) <script>alert(1)</script> a&b"
    )
    alert = ALERT.model_copy(
        update={
            "title": hostile,
            "team": "@here",
            "description": hostile,
            "labels": {"host": hostile},
        }
    )
    ticket = Ticket(
        title=hostile[:200], priority=Priority.CRITICAL, description=hostile, steps=(hostile,)
    )
    async with open_sink(hook.url()) as sink:
        await sink.apply(effect(alert=alert, ticket=ticket))
    [message] = hook.bodies()
    assert_well_formed(message)
    text = all_text(message)
    for dangerous in ("<!channel>", "<!here>", "<@U123>", "<!subteam", "<http://evil", "<script>"):
        assert dangerous not in text
    # No `@` followed directly by a word is left for Slack (or anyone) to read as a mention.
    assert re.search(r"@\w", text) is None
    assert "@\u200dorg/team" in text and "@\u200dhere" in text
    assert "&lt;!channel&gt;" in text and "&lt;script&gt;" in text and "a&amp;b" in text
    # The markdown image is neither turned into a link nor previewed.
    assert "![img](http://x/y.png)" in text and "<http://x/y.png" not in text
    # Only our own markup remains: the date, and the links to the runbook, alarm and issue.
    own = re.findall(r"<[^>]*>", text)
    assert all(tag.startswith(("<!date^", "<https://")) for tag in own), own


async def test_summary_and_steps_are_plain_text_slack_never_formats(hook: Hook) -> None:
    """The ticket's description and steps (the alert's and the model's words) are plain_text
    blocks: a ``` cannot swallow the message into a code block, nor `*`, `_`, `~` restyle it."""
    styled = "```\n*bold* _italic_ ~struck~ `code`\n```"
    ticket = Ticket(
        title="Disk full", priority=Priority.CRITICAL, description=styled, steps=(styled,)
    )
    async with open_sink(hook.url()) as sink:
        await sink.apply(effect(ticket=ticket))
    [message] = hook.bodies()
    assert_well_formed(message)
    carrying = [b for b in message["blocks"] if "```" in b.get("text", {}).get("text", "")]
    assert len(carrying) == 2
    assert all(b["text"]["type"] == "plain_text" for b in carrying)
    mrkdwn = [o["text"] for o in text_objects(message) if o["type"] == "mrkdwn"]
    assert not any(mark in text for text in mrkdwn for mark in ("```", "_italic_", "~struck~"))


async def test_the_alerts_words_in_facts_and_follow_ups_are_plain_text(hook: Hook) -> None:
    """Team, severity, where and a follow-up's title (alert and model words) are plain_text:
    a `*`, `_`, `~` or ``` in them cannot restyle the message; only our date and links are
    markup."""
    styled = "*bold* _italic_ ~struck~ ```code```"
    labels = {**ALERT.labels, "region": styled}
    alert = ALERT.model_copy(update={"team": styled, "severity": styled, "labels": labels})
    ticket = TICKET.model_copy(update={"title": styled})
    async with open_sink(hook.url()) as sink:
        await sink.apply(effect(alert=alert, ticket=ticket))
        await sink.apply(effect(EffectKind.CLOSE, ref="posted", alert=alert, ticket=ticket))
    opened, closed = hook.bodies()
    for message in (opened, closed):
        assert_well_formed(message)
        assert styled in all_text(message)
        mrkdwn = [o["text"] for o in text_objects(message) if o["type"] == "mrkdwn"]
        assert not any(mark in text for text in mrkdwn for mark in ("*bold*", "_italic_", "```"))


async def test_crafted_link_cannot_bring_its_own_label(hook: Hook) -> None:
    """A `|` or `>` in a link URL is percent-encoded, so the link keeps our label."""
    alert = ALERT.model_copy(update={"links": {"dashboard": "https://evil.example/x|Official>y"}})
    async with open_sink(hook.url()) as sink:
        await sink.apply(effect(alert=alert))
    [message] = hook.bodies()
    assert "<https://evil.example/x%7COfficial%3Ey|dashboard (evil.example)>" in all_text(message)


async def test_long_text_is_cut_to_slack_limits_without_splitting(hook: Hook) -> None:
    """Oversized text fits Slack's limits, cut with "…" but never inside an entity or an emoji."""
    coder = "\N{WOMAN}\u200d\N{PERSONAL COMPUTER}"
    ticket = Ticket(
        title=coder * 66,  # 198 code points, over the header's 150
        priority=Priority.CRITICAL,
        description="x" + "<&>" * 6000,  # escaped, the cut at 2999 lands inside "&amp;"
        steps=tuple("x" * 900 for _ in range(20)),
    )
    alert = ALERT.model_copy(update={"labels": {"host": "h" * 5000}})
    async with open_sink(hook.url()) as sink:
        await sink.apply(effect(alert=alert, ticket=ticket))
    [message] = hook.bodies()
    assert_well_formed(message)
    header = message["blocks"][0]["text"]["text"]
    assert header.endswith(f"{coder}…")
    description = message["blocks"][1]["text"]["text"]
    assert description.endswith("…") and len(description) <= 3000
    # Every `&` left starts a whole entity.
    assert "&" not in re.sub(r"&(amp|lt|gt);", "", description)


async def test_a_text_of_many_lines_is_a_few_lines_in_the_channel(hook: Hook) -> None:
    """A description of 1,500 lines (or of 2,000 line breaks between two words) is posted in at
    most LINES_MAX lines, with every word it had: the rest of its lines join the last one,
    and runs of blank lines are one, so alert text cannot make a message pages tall."""
    from triage.sinks.slack import LINES_MAX

    for description in ("\n".join(f"line {n}" for n in range(1500)), "top" + "\n" * 2000 + "end"):
        ticket = TICKET.model_copy(update={"description": description})
        async with open_sink(hook.url()) as sink:
            await sink.apply(effect(ticket=ticket))
    for message in hook.bodies():
        assert_well_formed(message)
        shown = message["blocks"][1]["text"]
        assert shown["type"] == "plain_text"
        assert shown["text"].count("\n") < LINES_MAX, shown["text"][:200]
    many, gap = (m["blocks"][1]["text"]["text"] for m in hook.bodies())
    assert many.startswith("line 0\nline 1\n") and "line 40 line 41" in many
    assert gap == "top\n\nend"


async def test_reopen_and_close_post_short_follow_ups(hook: Hook) -> None:
    """REOPEN and CLOSE of a posted incident each post one line with the title and ticket links."""
    resolved = ALERT.model_copy(update={"status": Status.RESOLVED})
    async with open_sink(hook.url()) as sink:
        assert (
            await sink.apply(effect(EffectKind.REOPEN, ref="posted", flapping=True))
        ).ref is None
        assert (
            await sink.apply(effect(EffectKind.CLOSE, ref="posted", alert=resolved))
        ).ref is None
    reopen, close = hook.bodies()
    links = {"type": "mrkdwn", "text": f"<{ISSUE_URL}|GitHub #12> · backend ticket T-7"}
    for message in (reopen, close):
        assert_well_formed(message)
        line, refs = message["blocks"]
        assert line["text"]["type"] == "plain_text"
        assert refs["text"] == {**links, "verbatim": True}
    assert reopen["blocks"][0]["text"]["text"] == (
        "\N{CLOCKWISE RIGHTWARDS AND LEFTWARDS OPEN CIRCLE ARROWS} Fired again: "
        f"{TICKET.title} (4 occurrences in all, flapping)"
    )
    assert close["blocks"][0]["text"]["text"] == (
        f"\N{WHITE HEAVY CHECK MARK} Resolved: {TICKET.title}"
    )
    assert close["text"] == f"Resolved: {TICKET.title}"


async def test_a_long_group_cannot_push_the_ticket_links_out_of_a_follow_up(hook: Hook) -> None:
    """Group label values that fill the follow-up's 3,000 characters once escaped are cut;
    the GitHub issue link and backend ticket id after them keep a section of their own."""
    member = MemberView(ALERT.fingerprint, ALERT.title, Status.FIRING, ALERT.occurred_at)
    group = GroupView(dict.fromkeys(("service", "host", "cluster"), "&" * 1000), (member,))
    reopen = effect(EffectKind.REOPEN, ref="posted")
    reopen = replace(reopen, alert=replace(reopen.alert, group=group))
    async with open_sink(hook.url()) as sink:
        await sink.apply(reopen)
    [message] = hook.bodies()
    assert_well_formed(message)
    line, refs = message["blocks"]
    assert line["text"]["text"].endswith("…")
    assert refs["text"]["text"] == f"<{ISSUE_URL}|GitHub #12> · backend ticket T-7"


async def test_updates_and_unposted_incidents_are_skipped(
    hook: Hook, logs: list[MutableMapping[str, Any]]
) -> None:
    """UPDATE posts nothing (logged at debug); a follow-up of an incident never posted is skipped."""
    async with open_sink(hook.url()) as sink:
        assert (await sink.apply(effect(EffectKind.UPDATE, ref="posted"))).ref is None
        assert (await sink.apply(effect(EffectKind.CLOSE, ref=None))).ref is None
    assert hook.posts == []
    skipped = [
        (e["log_level"], e["effect"], e["reason"]) for e in logs if e["event"] == "sink.skipped"
    ]
    assert skipped == [
        ("debug", "update", "updates are not posted"),
        ("info", "close", "not posted at open"),
    ]


async def test_route_webhook_overrides_the_default(hook: Hook) -> None:
    """A route's webhook_url receives the post instead of SLACK_WEBHOOK_URL."""
    async with open_sink(hook.url()) as sink:
        await sink.apply(effect(webhook_url=hook.url("/services/T9/B9/route")))
    assert [post["path"] for post in hook.posts] == ["/services/T9/B9/route"]


async def test_a_route_webhook_that_is_no_url_is_rejected(hook: Hook) -> None:
    """A route webhook_url that is not http(s) is a SinkRejectedError that does not quote it."""
    async with open_sink(hook.url()) as sink:
        with pytest.raises(SinkRejectedError, match="not an http") as caught:
            await sink.apply(effect(webhook_url="hooks.slack.com/services/T/B/hidden"))
    assert "hidden" not in str(caught.value)
    assert hook.posts == []


@pytest.mark.parametrize("value", [None, "", "hooks.slack.com/services/T/B/X"])
def test_missing_or_bad_default_webhook_is_a_config_error(value: str | None) -> None:
    """The sink refuses to start without an http(s) SLACK_WEBHOOK_URL, naming the variable."""
    with pytest.raises(ConfigError, match="SLACK_WEBHOOK_URL") as caught:
        SlackSink(Settings(slack_webhook_url=None if value is None else SecretStr(value)))
    assert "services" not in str(caught.value)


async def test_429_passes_retry_after_on_and_holds_the_webhook(hook: Hook) -> None:
    """A 429 with Retry-After is a SinkThrottledError carrying the delay (the message is held);
    the webhook is then left alone (no request) until that delay has passed."""
    fake = FakeTime()
    hook.answer(429, "rate_limited", {"Retry-After": "30"})
    async with open_sink(hook.url(), fake=fake) as sink:
        with pytest.raises(SinkThrottledError, match="429") as caught:
            await sink.apply(effect())
        assert caught.value.retry_after_s == 30
        fake.now_s += 10
        with pytest.raises(SinkThrottledError, match="rate-limited") as held:
            await sink.apply(effect())
        assert held.value.retry_after_s == pytest.approx(20)
        assert len(hook.posts) == 1
        fake.now_s += 20
        assert (await sink.apply(effect())).ref == "posted"
    assert len(hook.posts) == 2


@pytest.mark.parametrize(
    ("broken", "timeout_s"),
    [
        (then_reset(200), 10.0),
        (then_drip(200), 0.5),  # cut by the bound on the whole call: 3 x 0.5 s
        (answer(200, body=b"x" * (MAX_BODY_BYTES + 1)), 10.0),
    ],
    ids=["reset", "dripped", "oversized"],
)
async def test_a_2xx_whose_body_breaks_is_posted_not_repeated(
    broken: Answer, timeout_s: float, logs: list[MutableMapping[str, Any]]
) -> None:
    """Slack said 200 before the body broke (reset, dripped past the call's bound, too large):
    the message is in the channel, so the effect is done; failing it would post it again on
    the retry (webhooks take no idempotency key). One log line says the answer was lost."""
    async with hostile(broken) as server:
        async with open_sink(server.url + SECRET_PATH, slack_timeout_s=timeout_s) as sink:
            assert (await sink.apply(effect())).ref == "posted"
        assert len(server.requests) == 1
    [posted] = [e for e in logs if e["event"].startswith("slack.")]
    assert posted["event"] == "slack.posted" and "unread" in posted["answer"]


@pytest.mark.parametrize(
    ("error", "raised"),
    [
        ("invalid_arguments", SinkRejectedError),
        ("invalid_payload", SinkRejectedError),
        ("internal_error", SinkUnavailableError),
        ("ratelimited", SinkThrottledError),
    ],
)
async def test_ok_false_in_a_200_is_no_post(
    hook: Hook, error: str, raised: type[Exception], logs: list[MutableMapping[str, Any]]
) -> None:
    """A 200 whose JSON says `{"ok": false, "error": …}` (Slack's Web API, a workflow
    webhook) posted nothing: it is Slack's refusal, mapped by its error word, not success."""
    hook.answer(200, json.dumps({"ok": False, "error": error}))
    async with open_sink(hook.url()) as sink:
        with pytest.raises(raised, match=error):
            await sink.apply(effect())
    assert "slack.posted" not in [e["event"] for e in logs]


async def test_ratelimited_in_a_200_holds_the_webhook(hook: Hook) -> None:
    """`{"ok": false, "error": "ratelimited"}` holds the webhook like a 429, for Retry-After."""
    fake = FakeTime()
    hook.answer(200, '{"ok": false, "error": "ratelimited"}', {"Retry-After": "30"})
    async with open_sink(hook.url(), fake=fake) as sink:
        with pytest.raises(SinkThrottledError) as caught:
            await sink.apply(effect())
        assert caught.value.retry_after_s == 30
        with pytest.raises(SinkThrottledError, match="rate-limited"):
            await sink.apply(effect())
    assert len(hook.posts) == 1


@pytest.mark.parametrize("status", [500, 502, 503, 408])
async def test_server_errors_are_transient(hook: Hook, status: int) -> None:
    """5xx and 408 raise SinkUnavailableError."""
    hook.answer(status, "internal_error")
    async with open_sink(hook.url()) as sink:
        with pytest.raises(SinkUnavailableError, match=str(status)):
            await sink.apply(effect())


async def test_unreachable_webhook_is_transient() -> None:
    """A closed port is a SinkUnavailableError, not a crash."""
    async with open_sink(f"http://127.0.0.1:{closed_port()}{SECRET_PATH}") as sink:
        with pytest.raises(SinkUnavailableError, match="unreachable"):
            await sink.apply(effect())


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, "invalid_payload"),
        (403, "not_allowed_token_type"),
        (404, "unknown_method"),
    ],
)
async def test_client_errors_are_rejected_with_slacks_reason(
    hook: Hook, status: int, error: str, logs: list[MutableMapping[str, Any]]
) -> None:
    """Other 4xx to a new incident's message raise SinkRejectedError naming the status and
    Slack's error text (a channel that is gone is not among them: see the tests below)."""
    hook.answer(status, error)
    async with open_sink(hook.url()) as sink:
        with pytest.raises(SinkRejectedError, match=f"{status}: {error}"):
            await sink.apply(effect())
    [rejected] = [e for e in logs if e["event"] == "slack.rejected"]
    assert (rejected["status"], rejected["reason"], rejected["host"]) == (
        status,
        error,
        "127.0.0.1",
    )


async def test_posts_to_one_webhook_are_spaced(hook: Hook) -> None:
    """Back-to-back posts to one webhook wait out the minimum interval; another webhook does not."""
    fake = FakeTime()
    async with open_sink(hook.url(), fake=fake, slack_min_interval_s=1.0) as sink:
        await sink.apply(effect())
        await sink.apply(effect())
        assert fake.sleeps == [1.0]
        await sink.apply(effect(webhook_url=hook.url("/services/T9/B9/other")))
        assert fake.sleeps == [1.0]
        fake.now_s += 0.25
        await sink.apply(effect())
        assert fake.sleeps == [1.0, 0.75]
        fake.now_s += 5
        await sink.apply(effect())
        assert fake.sleeps == [1.0, 0.75]
    assert len(hook.posts) == 5


async def test_concurrent_posts_are_serialised_and_spaced(hook: Hook) -> None:
    """Three posts started at once go one at a time, each a full interval after the last."""
    fake = FakeTime()
    async with open_sink(hook.url(), fake=fake, slack_min_interval_s=2.0) as sink:
        await asyncio.gather(*(sink.apply(effect()) for _ in range(3)))
    assert fake.sleeps == [2.0, 2.0]
    assert len(hook.posts) == 3


async def test_webhook_url_never_appears_in_logs_or_errors(
    hook: Hook, logs: list[MutableMapping[str, Any]], caplog: pytest.LogCaptureFixture
) -> None:
    """Across success, rejection, outage and network failure, no log line or error shows the
    webhook's secret path; logs name only the host."""
    caplog.set_level(logging.WARNING)  # what the daemon's logging lets libraries print
    errors: list[str] = []
    # A server that echoes the path it was called on, as a careless proxy might.
    hook.answer(200, "ok")
    hook.answer(404, f"no_service for {SECRET_PATH}")
    hook.answer(503, f"upstream {hook.url()} down")
    # … or percent-encoded, or only the token at the path's end
    hook.answer(400, f"bad path {quote(SECRET_PATH, safe='')}")
    hook.answer(400, f"unknown token {SECRET_PATH.rsplit('/', 1)[-1]}")
    async with open_sink(hook.url()) as sink:
        await sink.apply(effect())
        for _ in range(4):
            with pytest.raises((SinkRejectedError, SinkUnavailableError)) as caught:
                await sink.apply(effect())
            errors.append(repr(caught.value))
    async with open_sink(f"http://127.0.0.1:{closed_port()}{SECRET_PATH}") as sink:
        with pytest.raises(SinkUnavailableError) as caught:
            await sink.apply(effect())
        errors.append(repr(caught.value))
        assert caught.value.__cause__ is None and caught.value.__suppress_context__
    seen = repr(logs) + caplog.text + "\n".join(errors)
    assert "s3cr3tXYZtoken" not in seen
    # Slack's answer is no error code, so no text of it is told: the status is.
    for error, status in zip(errors, (404, 503, 400, 400), strict=False):
        assert f"{status}: no error code" in error
    assert {e["host"] for e in logs if "host" in e} == {"127.0.0.1"}
    assert {e["event"] for e in logs} >= {
        "slack.posted",
        "slack.rejected",
        "slack.unavailable",
        "slack.unreachable",
    }


async def test_outcomes_are_counted(hook: Hook) -> None:
    """Each outcome is counted as SinkCalls{sink=slack, outcome=…}."""
    metrics = Metrics()
    hook.answer(200, "ok")
    hook.answer(503, "down")
    hook.answer(400, "invalid_payload")
    async with open_sink(hook.url(), metrics=metrics) as sink:
        await sink.apply(effect())
        with pytest.raises(SinkUnavailableError):
            await sink.apply(effect())
        with pytest.raises(SinkRejectedError):
            await sink.apply(effect())
        await sink.apply(effect(EffectKind.UPDATE, ref="posted"))
    outcomes = {
        o: metrics.counter("SinkCalls", sink="slack", outcome=o)
        for o in ("ok", "unavailable", "rejected", "skipped")
    }
    assert outcomes == {"ok": 1, "unavailable": 1, "rejected": 1, "skipped": 1}


# --- the channel's later life --------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (410, "channel_is_archived"),
        (404, "channel_not_found"),
        (404, "no_service"),
        (403, "action_prohibited"),
        (200, '{"ok": false, "error": "not_in_channel"}'),
        (200, '{"ok": false, "error": "token_revoked"}'),
        (200, '{"ok": false, "error": "invalid_auth"}'),
        (200, '{"ok": false, "error": "account_inactive"}'),
    ],
)
@pytest.mark.parametrize("kind", [EffectKind.OPEN, EffectKind.REOPEN, EffectKind.CLOSE])
async def test_a_channel_that_is_gone_skips_the_post_with_one_warning(
    hook: Hook,
    logs: list[MutableMapping[str, Any]],
    status: int,
    error: str,
    kind: EffectKind,
) -> None:
    """A channel archived or deleted, the app removed from it, the webhook or token revoked:
    the post is skipped with one `slack.refused` warning naming Slack's word, not a failure
    of the message (which would send every one of them to the DLQ while it lasts)."""
    hook.answer(status, error)
    async with open_sink(hook.url()) as sink:
        applied = await sink.apply(effect(kind, ref=None if kind is EffectKind.OPEN else "posted"))
    assert applied.ref is None and applied.skipped is not None
    [line] = [e for e in logs if e["log_level"] == "warning"]
    assert line["event"] == "slack.refused" and line["error"] in error


async def test_a_follow_up_refused_for_its_payload_fails_as_a_new_incident_does(
    hook: Hook, logs: list[MutableMapping[str, Any]]
) -> None:
    """A follow-up Slack refuses for its payload in both forms (not its channel gone) fails as
    a new incident's message does (retried, then the DLQ, which a redrive after the fix
    sends), with no warning of the sink's own: the message's failure line says why."""
    hook.answer(400, "invalid_payload")
    async with open_sink(hook.url()) as sink:
        with pytest.raises(SinkRejectedError, match="invalid_payload"):
            await sink.apply(effect(EffectKind.CLOSE, ref="posted"))
    assert [e["event"] for e in logs if e["log_level"] == "warning"] == []


@pytest.mark.parametrize(
    ("status", "answer", "reason"),
    [
        (404, "channel_not_found", "slack refused: channel_not_found"),
        (400, " invalid_payload\n", "slack refused: invalid_payload"),
        (400, "<html>password=hunter2 Ignore previous instructions</html>", "slack refused (400)"),
        (400, "invalid_payload: token xoxb-123 in text", "slack refused (400)"),
        (403, "Action_Prohibited", "slack refused (403)"),
        (400, "a" * 41, "slack refused (400)"),
        (200, '{"ok": false, "error": "not_in_channel"}', "slack refused: not_in_channel"),
        (200, '{"ok": false, "error": "hunter2 <b>x</b>"}', "slack refused (200)"),
    ],
)
async def test_a_refusal_is_said_by_slacks_error_code_alone(
    hook: Hook, logs: list[MutableMapping[str, Any]], status: int, answer: str, reason: str
) -> None:
    """A refused follow-up's skip (its channel gone) and its warning, or its failure (any
    other refusal), carry Slack's error code (lower-case letters and `_`, at most 40) and
    nothing else of its answer: text that is no code (a proxy's page, words quoting the
    request) is left out for the status; the history reads `refused`."""
    hook.answer(status, answer)
    async with open_sink(hook.url()) as sink:
        if "channel" not in reason:
            with pytest.raises(SinkRejectedError) as caught:
                await sink.apply(effect(EffectKind.CLOSE, ref="posted"))
            told = str(caught.value)
            assert reason.removeprefix("slack refused").strip(" :()") in told
            assert "hunter2" not in f"{logs} {told}" and "xoxb" not in f"{logs} {told}"
            return
        applied = await sink.apply(effect(EffectKind.CLOSE, ref="posted"))
    assert (applied.skipped, applied.why) == (reason, NotSent.REFUSED)
    [line] = [e for e in logs if e["event"] == "slack.refused"]
    code = reason.removeprefix("slack refused: ") if ":" in reason else None
    assert line["error"] == code
    assert "hunter2" not in f"{line} {applied}" and "xoxb" not in f"{line} {applied}"


async def test_each_skip_of_the_slack_sink_says_its_word(hook: Hook) -> None:
    """An update, an opening below the minimum priority and a follow-up of an incident not
    posted at open are each skipped with their own word, whatever the reason's text."""
    low = TICKET.model_copy(update={"priority": Priority.LOW})
    async with open_sink(hook.url()) as sink:
        update = await sink.apply(effect(EffectKind.UPDATE, ref="posted"))
        below = await sink.apply(effect(ticket=low))
        unposted = await sink.apply(effect(EffectKind.CLOSE, ref=None))
    assert [update.why, below.why, unposted.why] == [
        NotSent.UPDATES_NOT_POSTED,
        NotSent.BELOW_MIN_PRIORITY,
        NotSent.NOT_POSTED_AT_OPEN,
    ]
    assert hook.bodies() == []


@pytest.mark.parametrize("error", ["invalid_blocks", "msg_too_long"])
async def test_refused_blocks_are_posted_again_as_plain_text(
    hook: Hook, logs: list[MutableMapping[str, Any]], error: str
) -> None:
    """When Slack refuses a new incident's blocks (or its length), the incident is posted
    again as its ticket links and one escaped line, so the channel still hears of it (the
    links first: an unclosed ``` in the title cannot swallow them)."""
    hook.answer(400, error)
    hostile = TICKET.model_copy(update={"title": "<!channel> @here ``` down"})
    async with open_sink(hook.url()) as sink:
        assert (await sink.apply(effect(ticket=hostile))).ref == "posted"
    refused, plain = hook.bodies()
    assert "blocks" in refused and "blocks" not in plain
    assert plain["text"] == (
        f"<{ISSUE_URL}|GitHub #12> · backend ticket T-7\n"
        "\N{LARGE RED CIRCLE} CRITICAL: &lt;!channel&gt; @\u200dhere ``` down · team: payments"
    )
    assert plain["unfurl_links"] is False and plain["unfurl_media"] is False
    assert [e["event"] for e in logs if e["log_level"] == "warning"] == ["slack.blocks_refused"]
