"""Red team, HTTP peers round 7: triage's own clients against peers that answer in hostile or
broken ways (a body dripped a byte at a time, one that never ends, a rate limit, a proxy's
sign-in page). Each is the real code over real HTTP to a loopback server on 127.0.0.1
(`hostile_server`). A strict xfail is a bug found: it fails today for the reason it names, and
passes once the bug is fixed."""

from __future__ import annotations

import asyncio
import contextlib
import json
from datetime import timedelta
from pathlib import Path

import pytest

from hostile_server import Answer, HostileServer, answer, hostile, then_reset
from test_escalate import HOOK_PATH, T0, escalator, guard_of, guarded_escalator, incident
from test_redteam_round6_sinks import backend_at, effect, paths, slack_at
from triage.breaker import BreakerState
from triage.cli import main
from triage.errors import SinkThrottledError, SinkUnavailableError
from triage.models import EffectKind

# --- triage health: the probe of whatever holds the endpoints' port ---------------------------


#: How many bytes the dripping server sends before it gives up and closes the connection.
DRIP_BYTES = 200


def counted_drip(sent: list[int], every_s: float = 0.02) -> Answer:
    """A 200 promising 100,000 bytes, then a byte every `every_s` (far inside any per-read
    timeout) for `DRIP_BYTES` bytes, then a close; `sent[0]` counts the bytes as they go."""

    async def write(writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
        await writer.drain()
        for _ in range(DRIP_BYTES):
            writer.write(b"x")
            await writer.drain()
            sent[0] += 1
            await asyncio.sleep(every_s)

    return write


def counted_flood(sent: list[int], most: int) -> Answer:
    """A 200 with a chunked body sent as fast as it is read, up to `most` bytes; `sent[0]`
    counts the bytes written (a client that stops reading stops the count near its bound)."""

    async def write(writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")
        writer.write(b"Transfer-Encoding: chunked\r\n\r\n")
        piece = b"x" * 65536
        chunk = b"%x\r\n%s\r\n" % (len(piece), piece)
        while sent[0] < most:
            writer.write(chunk)
            await writer.drain()
            sent[0] += len(piece)
        writer.write(b"0\r\n\r\n")
        await writer.drain()

    return write


async def health_against(
    server_answer: Answer, probe_timeout: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Run `triage health --timeout <probe_timeout>` against a server answering `server_answer`."""
    async with hostile(server_answer) as server:
        monkeypatch.setenv("TRIAGE_HTTP_PORT", server.url.rsplit(":", 1)[1])
        await asyncio.to_thread(main, ["health", "--timeout", probe_timeout])


async def test_health_gives_up_on_a_dripping_answer_within_its_timeout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`triage health --timeout 0.2` against a program that drips its body a byte every 20 ms
    hangs up long before the drip ends (10x its timeout), instead of waiting it out."""
    sent = [0]
    await health_against(counted_drip(sent), "0.2", monkeypatch)
    assert sent[0] < DRIP_BYTES, f"the probe waited for all {sent[0]} dripped bytes"


async def test_health_reads_a_bounded_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    """`triage health` against a program answering a body without end stops reading at a
    bound (triage's answers are a few hundred bytes), not after 40 MiB in memory."""
    sent = [0]
    most = 40 * 1024 * 1024
    await health_against(counted_flood(sent, most), "30", monkeypatch)
    assert sent[0] < most // 2, f"the probe read {sent[0]:,} bytes"


# --- escalation webhooks ----------------------------------------------------------------------


class _Clock:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_an_escalation_webhooks_rate_limit_is_a_wait_not_a_slack_outage(
    tmp_path: Path,
) -> None:
    """An escalation webhook on the Slack sink's host answering 429 with Retry-After: 30 is
    a wait of 30 s (SinkThrottledError, as the Slack sink's own 429 is), and no failure of
    Slack: two escalations (the second held for what is left of the wait) leave the sink's
    breaker (two failures to open) closed, so the channels' posts and the daemon's intake go
    on."""
    guard = guard_of("slack", _Clock(), failures=2)  # type: ignore[arg-type]
    limited = answer(429, {"Retry-After": "30", "Content-Type": "text/plain"}, b"rate_limited")
    errors: list[Exception] = []
    async with hostile(limited) as server:
        escalator = guarded_escalator(
            tmp_path,
            f'slack_webhook_url = "{server.url}{HOOK_PATH}"',
            guard,
            f"{server.url}/services/T01/B09/D3f4ult",
        )
        try:
            for _ in range(2):
                try:
                    await escalator.escalate(incident(), T0 + timedelta(minutes=31))
                except (SinkUnavailableError, SinkThrottledError) as exc:
                    errors.append(exc)
        finally:
            await escalator.aclose()
    assert guard.breaker.state is BreakerState.CLOSED, "a rate limit opened Slack's breaker"
    assert [type(e) for e in errors] == [SinkThrottledError] * 2, errors
    # The first is the webhook's 30 s; the second, held without a request, what is left of it.
    first, second = (e.retry_after_s for e in errors if isinstance(e, SinkThrottledError))
    assert first == 30.0 and second is not None and 0 < second <= 30.0, errors


class _EscalationIssue:
    """GitHub's API for one issue (acme/ops#7) as an escalation uses it, on a loopback server:
    labels are taken, comments kept and listed as triage's (`triage-bot`), and the answer to
    the first comment posted breaks off after GitHub made the comment (a reset, as a proxy's
    idle cut or a deploy gives)."""

    LOGIN = "triage-bot"

    def __init__(self) -> None:
        self.server: HostileServer | None = None
        self.comments: list[dict[str, object]] = []

    async def __call__(self, writer: asyncio.StreamWriter) -> None:
        assert self.server is not None
        request = self.server.requests[-1]
        method, target = request.head.split(b" ", 2)[:2]
        path = target.decode().split("?", 1)[0]
        if method == b"POST" and path.endswith("/comments"):
            said = json.loads(request.body)
            made = {"id": len(self.comments) + 1, "body": said["body"], "user": self._user()}
            self.comments.append(made)
            if len(self.comments) == 1:
                await then_reset(201, sent=b'{"id": 1, "bo')(writer)
                return
            await self._json(writer, 201, made)
        elif method == b"GET" and path.endswith("/comments"):
            await self._json(writer, 200, self.comments)
        elif method == b"POST" and path.endswith("/labels"):
            await self._json(writer, 200, [{"name": "escalated"}])
        elif method == b"GET" and path == "/user":
            await self._json(writer, 200, self._user())
        else:
            await self._json(writer, 404, {"message": "Not Found"})

    def _user(self) -> dict[str, object]:
        return {"login": self.LOGIN, "type": "User"}

    @staticmethod
    async def _json(writer: asyncio.StreamWriter, status: int, body: object) -> None:
        headers = {"Content-Type": "application/json"}
        await answer(status, headers, json.dumps(body).encode())(writer)


async def test_an_escalation_comment_whose_answer_broke_off_is_not_posted_twice(
    tmp_path: Path,
) -> None:
    """GitHub made the escalation's comment and the connection broke in its answer: the
    issue gets one escalation comment, not a second at the sweep's retry (the GitHub sink's
    own comments are found by their marker on a retry), so nobody watching it is told twice."""
    github = _EscalationIssue()
    async with hostile(github) as server:
        github.server = server
        escalating = escalator(tmp_path, 'github_label = "escalated"', api_url=server.url)
        issue = incident({"github": "https://github.com/acme/ops/issues/7"})
        try:
            # Failed as unreachable today; a fix may instead take GitHub's 201 as done.
            with contextlib.suppress(SinkUnavailableError):
                await escalating.escalate(issue, T0 + timedelta(minutes=31))
            await escalating.escalate(issue, T0 + timedelta(minutes=36))  # the sweep's retry
        finally:
            await escalating.aclose()
    assert len(github.comments) == 1, [c["body"] for c in github.comments]


# --- the ticket backend ----------------------------------------------------------------------

#: A sign-in page, as an SSO or egress proxy answers for a route it holds back.
SIGN_IN_PAGE = (
    b"<!doctype html><html><head><title>Sign in</title></head>"
    b"<body><form action=/login>Sign in to continue</form></body></html>"
)


async def test_a_resolve_answered_with_an_html_page_is_not_taken_as_done(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A resolve answered 200 with an HTML sign-in page (a proxy in front of the backend whose
    session lapsed since the ticket was made) reached no ticket backend: it fails as
    transient (SinkUnavailableError), so its retry closes the ticket, instead of the incident
    being resolved here while its ticket stays open there."""
    monkeypatch.setenv("BACKEND_TOKEN", "round7-backend-token")
    page = answer(200, {"Content-Type": "text/html; charset=utf-8"}, SIGN_IN_PAGE)
    async with hostile(page) as server, backend_at(server.url) as sink:
        with pytest.raises(SinkUnavailableError):
            await sink.apply(effect(EffectKind.CLOSE, "T-7", key="fp:3"))
    assert paths(server) == ["/api/service/tickets/T-7/resolve"]


# --- the Slack sink -----------------------------------------------------------------------------


async def test_a_post_answered_with_an_html_page_is_not_taken_as_posted() -> None:
    """A webhook post answered 200 with an HTML page (an egress proxy's sign-in or block
    page, a URL that is a web app's and not a webhook's) is not Slack's `ok`: the post fails
    as transient, so its retry reaches Slack, instead of the incident's message being counted
    as in the channel when nobody saw it."""
    async with (
        hostile(answer(200, {"Content-Type": "text/html; charset=utf-8"}, SIGN_IN_PAGE)) as server,
        slack_at(server) as sink,
    ):
        with pytest.raises(SinkUnavailableError):
            await sink.apply(effect(EffectKind.OPEN))
