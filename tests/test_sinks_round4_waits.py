"""Round 4 faults, the sinks' waits: a Retry-After date is read against the answer's own Date
(the backend, Slack, the model), a service's 5xx that says when to come back holds its message
(GuardedSink) instead of spending its receives, and one Slack webhook's limit holds only that
webhook's messages. In-memory: httpx2's MockTransport for the services, fakes behind the
guard."""

from __future__ import annotations

import email.utils
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import httpx2
import pytest
from pydantic import SecretStr

from factories import view
from triage.breaker import BreakerState, CircuitBreaker
from triage.errors import SinkRejectedError, SinkThrottledError, SinkUnavailableError
from triage.models import Alert, EffectKind, Priority, Status, Ticket
from triage.secrets import BackendToken
from triage.settings import Settings
from triage.sinks.backend import BackendSink
from triage.sinks.base import Applied, Effect, Target
from triage.sinks.guard import GuardedSink
from triage.sinks.http import MAX_WAIT_S, parse_retry_after, retry_after_of
from triage.sinks.slack import SlackSink
from triage.summarise.openai_chat import _retry_after as model_retry_after

ALERT = Alert(
    source="generic",
    status=Status.FIRING,
    title="orders-db replication lag",
    team="data",
    priority=Priority.HIGH,
    occurred_at=datetime(2026, 11, 23, 3, tzinfo=UTC),
    identity={"dedup_key": "lag"},
)
TICKET = Ticket(title="Replication lag", priority=Priority.HIGH, description="lag 90 s")
TOKEN = "round4-waits-backend-token"
WEBHOOK = "https://hooks.example.test/services/T1/B1/round4WaitsSecret"
OTHER_WEBHOOK = "https://hooks.example.test/services/T1/B2/round4OtherSecret"
#: How long the services below ask us to wait, by their own clock.
ASKED_S = 120.0
SKEWS_S = [pytest.param(3600.0, id="host-1h-ahead"), pytest.param(-3600.0, id="host-1h-behind")]


@pytest.fixture(autouse=True)
def backend_token(monkeypatch: pytest.MonkeyPatch) -> None:
    """The backend sink's token, from the environment as the daemon reads it."""
    monkeypatch.setenv("BACKEND_TOKEN", TOKEN)


def effect(key: str = "fp:1", target: Target | None = None) -> Effect:
    """A new incident's OPEN (to `target`'s Slack webhook when given)."""
    opened = Effect(EffectKind.OPEN, ALERT.fingerprint, view(ALERT), TICKET, None, 1, 1, False, key)
    return opened if target is None else replace(opened, target=target)


def http_date(epoch_s: float) -> str:
    return email.utils.formatdate(epoch_s, usegmt=True)


def dated(skew_s: float, asked_s: float = ASKED_S) -> dict[str, str]:
    """A Date `skew_s` behind the host's clock and a Retry-After date `asked_s` past it."""
    service_now = time.time() - skew_s
    return {"Date": http_date(service_now), "Retry-After": http_date(service_now + asked_s)}


def answering(status: int, headers: dict[str, str], body: bytes = b"") -> httpx2.MockTransport:
    """A service that answers every request with `status`, `headers` and `body`."""
    return httpx2.MockTransport(
        lambda request: httpx2.Response(status, headers=headers, content=body)
    )


@asynccontextmanager
async def backend(transport: httpx2.AsyncBaseTransport) -> AsyncIterator[BackendSink]:
    settings = Settings(backend_base_url="http://backend.test")
    sink = BackendSink(settings, BackendToken(settings), transport=transport)
    try:
        yield sink
    finally:
        await sink.aclose()


@asynccontextmanager
async def slack(transport: httpx2.AsyncBaseTransport) -> AsyncIterator[SlackSink]:
    settings = Settings(slack_webhook_url=SecretStr(WEBHOOK), slack_min_interval_s=0)
    sink = SlackSink(settings, transport=transport)
    try:
        yield sink
    finally:
        await sink.aclose()


# --- Retry-After dates, by the answer's clock ----------------------------------------------------


@pytest.mark.parametrize("skew_s", SKEWS_S)
def test_a_retry_after_date_is_read_against_the_answers_date(skew_s: float) -> None:
    """A Retry-After date two minutes past the answer's Date is a two-minute wait, however far
    the host's clock is from the service's."""
    waited_s = retry_after_of(httpx2.Headers(dated(skew_s)))
    assert waited_s is not None and abs(waited_s - ASKED_S) < 2


@pytest.mark.parametrize(
    ("date", "expected_s"),
    [
        pytest.param(None, ASKED_S, id="no-date"),
        pytest.param("not a date", ASKED_S, id="unreadable-date"),
    ],
)
def test_without_a_readable_date_the_host_clock_reads_the_retry_after(
    date: str | None, expected_s: float
) -> None:
    """An answer without a Date, or with one no parser reads, has its Retry-After date read
    against the host's clock, as before."""
    headers = {"Retry-After": http_date(time.time() + ASKED_S)}
    if date is not None:
        headers["Date"] = date
    waited_s = retry_after_of(httpx2.Headers(headers))
    assert waited_s is not None and abs(waited_s - expected_s) < 2


@pytest.mark.parametrize(
    ("asked_s", "expected_s"),
    [pytest.param(86_400 * 3, MAX_WAIT_S, id="days"), pytest.param(-600, 0.0, id="past")],
)
def test_a_retry_after_date_read_by_the_answers_date_stays_bounded(
    asked_s: float, expected_s: float
) -> None:
    """A date days past the answer's Date waits the longest wait, one before it none: the
    answer's clock changes what "now" is, not the bounds."""
    assert retry_after_of(httpx2.Headers(dated(7200.0, asked_s))) == expected_s


def test_a_delta_seconds_retry_after_ignores_the_date() -> None:
    """A Retry-After of seconds is those seconds, whatever the Date says."""
    headers = httpx2.Headers({"Date": http_date(time.time() - 7200), "Retry-After": "30"})
    assert retry_after_of(headers) == 30.0
    assert parse_retry_after("30", date=http_date(0)) == 30.0


@pytest.mark.parametrize("skew_s", SKEWS_S)
@pytest.mark.parametrize("status", [429, 503])
async def test_the_backend_waits_as_long_as_its_dated_retry_after_asks(
    status: int, skew_s: float
) -> None:
    """The backend's 429 (held) and 503 (unavailable) with a dated Retry-After carry a wait of
    about what it asked by its own clock."""
    async with backend(answering(status, dated(skew_s))) as sink:
        with pytest.raises((SinkThrottledError, SinkUnavailableError)) as caught:
            await sink.apply(effect())
    waited_s = caught.value.retry_after_s
    assert waited_s is not None and abs(waited_s - ASKED_S) < 5


@pytest.mark.parametrize("skew_s", SKEWS_S)
@pytest.mark.parametrize("status", [429, 503])
async def test_slack_waits_as_long_as_its_dated_retry_after_asks(
    status: int, skew_s: float
) -> None:
    """Slack's 429 (held) and 503 (unavailable) with a dated Retry-After carry a wait of about
    what it asked by its own clock."""
    async with slack(answering(status, dated(skew_s))) as sink:
        with pytest.raises((SinkThrottledError, SinkUnavailableError)) as caught:
            await sink.apply(effect())
    waited_s = caught.value.retry_after_s
    assert waited_s is not None and abs(waited_s - ASKED_S) < 5


@pytest.mark.parametrize("skew_s", SKEWS_S)
def test_the_models_dated_retry_after_is_read_by_its_own_clock(skew_s: float) -> None:
    """A model server's dated Retry-After (no `retry-after-ms`) is read against its Date."""
    waited_s = model_retry_after(httpx2.Headers(dated(skew_s, 600)))
    assert waited_s is not None and abs(waited_s - 600) < 5


# --- A 5xx that says when to come back: held behind the guard ------------------------------------


@dataclass
class FailingSink:
    """A sink whose calls fail with `error`; with `probe_error`, a probe that fails so, else
    one that answers (when `probes` is set)."""

    error: Exception
    probes: bool = True
    probe_error: Exception | None = None
    calls: list[Effect] = field(default_factory=list)

    @property
    def name(self) -> str:
        return "fake"

    async def apply(self, effect: Effect) -> Applied:
        self.calls.append(effect)
        raise self.error

    async def aclose(self) -> None:
        return None


@dataclass
class ProbedSink(FailingSink):
    async def probe(self) -> str:
        if self.probe_error is not None:
            raise self.probe_error
        return "up"


def guarded(inner: FailingSink, threshold: int = 5) -> GuardedSink:
    return GuardedSink(inner, CircuitBreaker("sink:fake", threshold, 30))


def in_maintenance(retry_after_s: float | None) -> SinkUnavailableError:
    return SinkUnavailableError("fake answered 503: maintenance", retry_after_s=retry_after_s)


@pytest.mark.parametrize(
    "make", [pytest.param(ProbedSink, id="probe-answers"), pytest.param(FailingSink, id="no-probe")]
)
async def test_a_5xx_with_a_wait_is_held_for_that_wait(make: Callable[..., FailingSink]) -> None:
    """A service's 503 that says when to come back, while its probe answers (or it has none),
    holds the message for the wait it asked (SinkThrottledError), instead of retrying it."""
    sink = guarded(make(in_maintenance(7.0)))
    with pytest.raises(SinkThrottledError) as caught:
        await sink.apply(effect())
    assert caught.value.retry_after_s == 7.0
    assert caught.value.pauses_intake
    assert isinstance(caught.value.__cause__, SinkUnavailableError)


async def test_a_5xx_with_a_wait_of_zero_is_held_at_least_a_second() -> None:
    """A Retry-After of 0 still holds the message a moment: not straight back into the 503."""
    with pytest.raises(SinkThrottledError) as caught:
        await guarded(ProbedSink(in_maintenance(0.0))).apply(effect())
    assert caught.value.retry_after_s == 1.0


async def test_a_5xx_without_a_wait_is_still_retried() -> None:
    """A 503 that says nothing of when to come back, while the probe answers, is this call's
    failure: retried (SinkUnavailableError), as before."""
    with pytest.raises(SinkUnavailableError):
        await guarded(ProbedSink(in_maintenance(None))).apply(effect())


async def test_a_5xx_with_a_wait_still_counts_towards_the_breaker() -> None:
    """Held 503s are the service failing: enough of them open the breaker, whose hold then
    speaks for the service."""
    sink = guarded(ProbedSink(in_maintenance(3.0)), threshold=2)
    for n in range(2):
        with pytest.raises(SinkThrottledError):
            await sink.apply(effect(f"fp:{n}"))
    assert sink.breaker.state is BreakerState.OPEN


async def test_a_5xx_with_a_wait_whose_probe_fails_opens_the_breaker_at_once() -> None:
    """A 503 with a wait whose probe fails too is the service down: the breaker opens at once
    and the message is held, as for any failure its probe confirms."""
    inner = ProbedSink(in_maintenance(3.0), probe_error=SinkUnavailableError("down"))
    sink = guarded(inner)
    with pytest.raises(SinkThrottledError):
        await sink.apply(effect())
    assert sink.breaker.state is BreakerState.OPEN


async def test_a_rejection_is_not_held() -> None:
    """Only an outage that names its wait is held: a rejection still fails its message."""
    with pytest.raises(SinkRejectedError):
        await guarded(ProbedSink(SinkRejectedError("400"))).apply(effect())


# --- One Slack webhook's limit -------------------------------------------------------------------


def per_webhook(limited: str, status: int = 429) -> httpx2.MockTransport:
    """Slack: `limited`'s webhook answers `status` with Retry-After: 30, every other posts."""

    def handle(request: httpx2.Request) -> httpx2.Response:
        if str(request.url) == limited:
            return httpx2.Response(status, headers={"Retry-After": "30"}, content=b"rate_limited")
        return httpx2.Response(200, content=b"ok")

    return httpx2.MockTransport(handle)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(None, id="429"),
        pytest.param(b'{"ok": false, "error": "ratelimited"}', id="ok-false-ratelimited"),
    ],
)
async def test_one_webhooks_rate_limit_holds_only_its_messages(body: bytes | None) -> None:
    """A route's webhook rate-limited (a 429, or a 2xx saying `ratelimited`) holds its message
    without pausing intake, and so do its next posts while the wait lasts; the default
    webhook goes on posting."""

    def handle(request: httpx2.Request) -> httpx2.Response:
        if str(request.url) != OTHER_WEBHOOK:
            return httpx2.Response(200, content=b"ok")
        if body is None:
            return httpx2.Response(429, headers={"Retry-After": "30"}, content=b"rate_limited")
        return httpx2.Response(200, headers={"Retry-After": "30"}, content=body)

    route = Target(webhook_url=OTHER_WEBHOOK)
    async with slack(httpx2.MockTransport(handle)) as sink:
        for key in ("fp:2", "fp:3"):
            with pytest.raises(SinkThrottledError) as caught:
                await sink.apply(effect(key, route))
            assert not caught.value.pauses_intake, key
            assert caught.value.retry_after_s is not None and caught.value.retry_after_s > 25
        assert (await sink.apply(effect("fp:1"))).ref == "posted"


async def test_a_webhooks_503_with_a_wait_holds_its_later_posts() -> None:
    """A webhook's 503 that says when to come back leaves that webhook alone for the wait (its
    next post is held, not sent), while the default webhook posts."""
    transport = per_webhook(OTHER_WEBHOOK, status=503)
    route = Target(webhook_url=OTHER_WEBHOOK)
    async with slack(transport) as sink:
        with pytest.raises(SinkUnavailableError) as first:
            await sink.apply(effect("fp:2", route))
        assert first.value.retry_after_s == 30
        with pytest.raises(SinkThrottledError) as held:
            await sink.apply(effect("fp:3", route))
        assert not held.value.pauses_intake
        assert (await sink.apply(effect("fp:1"))).ref == "posted"


def in_maintenance_writes(request: httpx2.Request) -> httpx2.Response:
    """A service whose writes are in maintenance (503, Retry-After: 4) while OPTIONS answers."""
    if request.method == "OPTIONS":
        return httpx2.Response(204)
    return httpx2.Response(503, headers={"Retry-After": "4"}, content=b"maintenance")


@pytest.mark.parametrize(
    "open_sink", [pytest.param(backend, id="backend"), pytest.param(slack, id="slack")]
)
async def test_a_real_sinks_503_with_a_wait_is_held_behind_its_guard(
    open_sink: Callable[[httpx2.AsyncBaseTransport], Any],
) -> None:
    """The backend's and Slack's own 503 with Retry-After, behind the guard (the backend's
    OPTIONS probe answering, Slack with none), hold the message for the wait it asked."""
    async with open_sink(httpx2.MockTransport(in_maintenance_writes)) as inner:
        with pytest.raises(SinkThrottledError) as caught:
            await GuardedSink(inner, CircuitBreaker("sink:x", 5, 30)).apply(effect())
    assert caught.value.retry_after_s == 4.0
