"""Every HTTP sink (backend, GitHub, Slack) against a loopback server whose "wait" answers
are odd: a Retry-After of 0, negative, unreadable or a date already past. A throttled message
is held for a real wait (the sink's default, at least a second), never sent straight back into
the limit that refused it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Protocol

import pytest
from pydantic import SecretStr

from factories import view
from hostile_server import answer, hostile
from triage.errors import SinkThrottledError, TriageError
from triage.models import Alert, EffectKind, Priority, Status, Ticket
from triage.secrets import BackendToken
from triage.settings import Settings
from triage.sinks.backend import BackendSink
from triage.sinks.base import Applied, Effect
from triage.sinks.github import GitHubSink
from triage.sinks.slack import SlackSink

ALERT = Alert(
    source="generic",
    status=Status.FIRING,
    title="disk full",
    team="ops",
    priority=Priority.CRITICAL,
    occurred_at=datetime(2026, 11, 23, 3, tzinfo=UTC),
    identity={"dedup_key": "disk"},
)
TICKET = Ticket(title="Disk full", priority=Priority.CRITICAL, description="df says 100%", steps=())
EFFECT = Effect(EffectKind.OPEN, ALERT.fingerprint, view(ALERT), TICKET, None, 1, 1, False, "k:1")

#: Each sink's wait for a 429 that says nothing usable about when to come back.
DEFAULT_WAIT_S = {"backend": 5.0, "github": 60.0, "slack": 1.0}


class _Sink(Protocol):
    async def apply(self, effect: Effect) -> Applied: ...


@asynccontextmanager
async def _sink(kind: str, url: str, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[_Sink]:
    sink: BackendSink | GitHubSink | SlackSink
    if kind == "backend":
        monkeypatch.setenv("BACKEND_TOKEN", "backend-token-1")
        settings = Settings(backend_base_url=url)
        sink = BackendSink(settings, BackendToken(settings))
    elif kind == "github":
        token = SecretStr("github-token-1")
        sink = GitHubSink(
            Settings(github_api_url=url, github_repository="acme/ops", github_token=token)
        )
    else:
        webhook = SecretStr(f"{url}/services/T1/B1/webhook-token-1")
        sink = SlackSink(Settings(slack_webhook_url=webhook, slack_min_interval_s=0))
    try:
        yield sink
    finally:
        await sink.aclose()


@pytest.mark.parametrize("kind", ["backend", "github", "slack"])
@pytest.mark.parametrize("retry_after", ["-5", "-0.5", "soon", "nan"])
async def test_an_unusable_retry_after_waits_the_sinks_default(
    kind: str, retry_after: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 429 whose Retry-After is negative or no number is read as absent: the sink's own
    default wait, not a wait of 0 that sends the message straight back."""
    async with (
        hostile(answer(429, {"Retry-After": retry_after})) as server,
        _sink(kind, server.url, monkeypatch) as sink,
    ):
        with pytest.raises(SinkThrottledError) as caught:
            await sink.apply(EFFECT)
    assert caught.value.retry_after_s == max(DEFAULT_WAIT_S[kind], 1.0)


@pytest.mark.parametrize("kind", ["backend", "github", "slack"])
@pytest.mark.parametrize("retry_after", ["0", "0.01", "Wed, 21 Oct 2015 07:28:00 GMT"])
async def test_a_wait_of_nothing_is_still_a_second(
    kind: str, retry_after: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 429 asking to come back at once (0, a moment, a date already past) is held for at
    least a second: a limit answered straight away only answers 429 again."""
    async with (
        hostile(answer(429, {"Retry-After": retry_after})) as server,
        _sink(kind, server.url, monkeypatch) as sink,
    ):
        with pytest.raises(SinkThrottledError) as caught:
            await sink.apply(EFFECT)
    assert caught.value.retry_after_s is not None and caught.value.retry_after_s >= 1.0


@pytest.mark.parametrize("kind", ["backend", "github", "slack"])
@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
async def test_a_redirect_to_another_host_gets_nothing_of_ours(
    kind: str, status: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A redirect to another host is never followed: that host receives no request, so
    neither our token nor the ticket goes there, and the sink fails with its own error."""
    async with hostile(answer(200, body=b"[]")) as elsewhere:
        redirect = answer(status, {"Location": f"{elsewhere.url}/steal"})
        async with hostile(redirect) as server, _sink(kind, server.url, monkeypatch) as sink:
            with pytest.raises(TriageError):
                await sink.apply(EFFECT)
        assert len(server.requests) == 1
        assert elsewhere.requests == []
