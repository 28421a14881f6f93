"""Round 10 of the sinks under faults (helper 565), each from a loopback server on 127.0.0.1:
Slack refusing a message's form, waits asked for without a readable Retry-After, and hostile
text in each sink's markup."""

from __future__ import annotations

import email.utils
import json
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

import pytest
from pydantic import SecretStr

from hostile_server import Answer, answer, hostile
from test_backend_hostile_answers import backend_sink
from test_backend_hostile_answers import effect as backend_effect
from test_slack_sink import FakeTime, open_sink
from test_slack_sink import effect as slack_effect
from triage.errors import SinkRejectedError, SinkThrottledError
from triage.models import EffectKind, Priority
from triage.settings import Settings
from triage.sinks.github.api import SECONDARY_LIMIT_MAX_WAIT_S, SECONDARY_LIMIT_WAIT_S, GitHubApi
from triage.sinks.http import UNSAID_WAIT_MOST_TIMES, parse_retry_after

SLACK_PATH = "/services/T0/B0/s3cr3tXYZtoken"
#: Slack's words for a message's form it will not take: the same message as plain text may pass.
FORM_REFUSALS = [
    "no_text",
    "invalid_blocks",
    "invalid_blocks_format",
    "too_many_attachments",
    "msg_too_long",
]


def _slack_effect(kind: EffectKind) -> Any:
    if kind is EffectKind.OPEN:
        return slack_effect()
    if kind is EffectKind.UPDATE:
        return replace(slack_effect(kind, ref="posted"), priority_was=Priority.LOW)
    return slack_effect(kind, ref="posted")


def _refusal(form: str, error: str) -> Any:
    if form == "text 400":
        return answer(400, {"Content-Type": "text/plain"}, error.encode())
    body = json.dumps({"ok": False, "error": error}).encode()
    return answer(200 if form == "json 200" else 400, {"Content-Type": "application/json"}, body)


@pytest.mark.parametrize("error", FORM_REFUSALS)
@pytest.mark.parametrize("form", ["text 400", "json 400", "json 200"])
@pytest.mark.parametrize(
    "kind", [EffectKind.OPEN, EffectKind.REOPEN, EffectKind.CLOSE, EffectKind.UPDATE]
)
async def test_every_message_slack_refuses_for_its_form_goes_again_as_plain_text(
    error: str, form: str, kind: EffectKind, logs: list[MutableMapping[str, Any]]
) -> None:
    """Every kind of message Slack refuses for its form (no_text, invalid_blocks …, as a
    webhook's text or a JSON error) is posted again as plain text, with one warning saying so."""
    posted = answer(200, {"Content-Type": "text/html"}, b"ok")
    async with (
        hostile(_refusal(form, error), posted) as server,
        open_sink(server.url + SLACK_PATH) as sink,
    ):
        applied = await sink.apply(_slack_effect(kind))
    assert not applied.refused
    first, second = (json.loads(r.body) for r in server.requests)
    assert "blocks" in first and "blocks" not in second and second["text"]
    warned = [e for e in logs if e["log_level"] in ("warning", "error")]
    assert [(e["event"], e["error"]) for e in warned] == [("slack.blocks_refused", error)]


async def test_a_new_incident_slack_refuses_in_both_forms_fails_naming_both(
    logs: list[MutableMapping[str, Any]],
) -> None:
    """A new incident whose blocks (no_text) and plain text (invalid_payload) Slack both
    refuses fails as SinkRejectedError naming both refusals (retried, then the DLQ), with no
    warning of the sink's own: the message's one failure line says why."""
    refusals = _refusal("text 400", "no_text"), _refusal("text 400", "invalid_payload")
    async with hostile(*refusals) as server, open_sink(server.url + SLACK_PATH) as sink:
        with pytest.raises(SinkRejectedError) as caught:
            await sink.apply(_slack_effect(EffectKind.OPEN))
    assert len(server.requests) == 2
    assert "invalid_payload" in str(caught.value) and "no_text" in str(caught.value)
    assert SLACK_PATH not in str(caught.value)
    assert [e for e in logs if e["log_level"] in ("warning", "error")] == []


# --- waits asked for without a readable Retry-After ------------------------------------------


def raw(status: int, header_lines: str = "", body: bytes = b"") -> Answer:
    """An answer written as given: `header_lines` may repeat a field, as no dict can."""

    async def write(writer: Any) -> None:
        head = f"HTTP/1.1 {status} Scripted\r\n{header_lines}Content-Length: {len(body)}\r\n"
        writer.write(f"{head}Connection: close\r\n\r\n".encode() + body)
        await writer.drain()

    return write


#: One call of a sink against the loopback server, raising what the sink raises.
Caller = Callable[[], Awaitable[Any]]


@asynccontextmanager
async def sink_caller(which: str, url: str) -> AsyncIterator[tuple[Caller, FakeTime]]:
    """A call of `which` sink (backend, slack, github) against `url`, and the clock the Slack
    and GitHub sinks read (moved past a wait they hold themselves; the backend holds none)."""
    fake = FakeTime()
    if which == "backend":
        async with backend_sink(url) as sink:
            yield (lambda: sink.apply(backend_effect())), fake
    elif which == "slack":
        async with open_sink(url + SLACK_PATH, fake=fake) as sink:
            yield (lambda: sink.apply(slack_effect())), fake
    else:
        settings = Settings(
            github_api_url=url,
            github_repository="acme/x",
            github_token=SecretStr("ghp_" + "x" * 36),
        )
        api = GitHubApi(settings, clock=fake.clock)
        try:
            yield (lambda: api.call("POST", "/repos/acme/x/issues", json={"title": "t"})), fake
        finally:
            await api.aclose()


SINKS = ["backend", "slack", "github"]


@pytest.mark.parametrize("which", SINKS)
@pytest.mark.parametrize(
    "lines",
    [
        "Retry-After: 30\r\nRetry-After: 30\r\n",
        "Retry-After: 5\r\nRetry-After: 30\r\n",
        "Retry-After: 30, soon\r\n",
    ],
    ids=["twice", "twice-unlike", "joined"],
)
async def test_a_retry_after_sent_twice_is_the_longest_wait_it_asks(which: str, lines: str) -> None:
    """A 429 whose Retry-After comes twice (a proxy adding its own; joined by commas, as HTTP
    reads it) waits the longest it asks for, in every sink, not as if it asked for none."""
    async with hostile(raw(429, lines)) as server, sink_caller(which, server.url) as (call, _):
        with pytest.raises(SinkThrottledError) as caught:
            await call()
    assert caught.value.retry_after_s == pytest.approx(30, abs=0.1)


@pytest.mark.parametrize(
    ("which", "base_s"), [("backend", 5.0), ("slack", 1.0), ("github", SECONDARY_LIMIT_WAIT_S)]
)
@pytest.mark.parametrize("lines", ["", "Retry-After: soon\r\n"], ids=["none", "unreadable"])
async def test_rate_limits_that_name_no_wait_wait_longer_in_a_row_alike(
    which: str, base_s: float, lines: str
) -> None:
    """429s in a row with no readable Retry-After wait the sink's base (Slack its one post a
    second), doubled each time up to sixteen times it, in every sink; a success starts over."""
    throttles = [raw(429, lines) for _ in range(7)]
    posted = {"backend": b'{"id": "T-1"}', "slack": b"ok", "github": b'{"number": 1}'}[which]
    ok = raw(201 if which != "slack" else 200, "Content-Type: application/json\r\n", posted)
    async with (
        hostile(*throttles, ok, raw(429, lines)) as server,
        sink_caller(which, server.url) as (call, fake),
    ):
        waits = []
        for _ in range(7):
            with pytest.raises(SinkThrottledError) as caught:
                await call()
            waits.append(caught.value.retry_after_s)
            fake.now_s += caught.value.retry_after_s or 0
        await call()
        with pytest.raises(SinkThrottledError) as caught:
            await call()
    most_s = base_s * UNSAID_WAIT_MOST_TIMES
    assert waits == [min(base_s * 2**n, most_s) for n in range(7)]
    assert caught.value.retry_after_s == base_s
    assert SECONDARY_LIMIT_MAX_WAIT_S == SECONDARY_LIMIT_WAIT_S * UNSAID_WAIT_MOST_TIMES


def test_a_retry_after_date_sent_twice_is_read_as_its_longest_wait() -> None:
    """Two HTTP dates joined by HTTP's comma (each with a comma of its own) read as the later
    one; a joined value with nothing readable in it asks for no wait."""
    now = 1_700_000_000.0
    first, second = (email.utils.formatdate(now + s, usegmt=True) for s in (30, 90))
    assert parse_retry_after(f"{first}, {second}", now) == pytest.approx(90)
    assert parse_retry_after("soon, later", now) is None
