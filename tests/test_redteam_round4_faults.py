"""Red team, round 4: faults. Services that say "wait" (by date, in a 503, again and again as
GitHub's secondary limit, for one Slack webhook, in a redirect of one route), a 2xx that says it
failed, an OPEN redone under its Idempotency-Key with another body, a store throttled part-way
through a group, a DLQ that deletes letters early, and a host clock that is off or is stepped
(Retry-After dates, GitHub's reset and App JWTs, effect leases, creation budgets, SQS's 12-hour
cap). Each at the fastest level that shows it: loopback HTTP servers on 127.0.0.1, moto, the
in-memory store and inbox. What must hold: the message ends where the error tree says (acked,
retried, held), no ticket is lost or opened twice, and a wait lasts as long as the service
asked, by the service's clock. Each case failed when it was written, and was fixed."""

from __future__ import annotations

import asyncio
import email.utils
import json
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
import structlog
from pydantic import SecretStr

from case_chunks import dealt
from daemon_harness import TOKEN, Queues, settings_for
from factories import T0, view
from github_stub import GitHubServer, StubApp
from hostile_server import Answer, answer, hostile
from memory_inbox import MemoryInbox
from memory_store import MemoryStore
from recording_pipeline import POLICY, Sink, Summariser
from test_backend_sink import open_sink
from test_github_app_faults import rsa_pem
from test_readme_claims import check_lines
from test_signals_trust_scenarios import LIMIT, Queue, drain
from test_signals_trust_scenarios import pipeline as trusted_pipeline
from triage.breaker import BreakerState, CircuitBreaker
from triage.demo.ticketd import TicketServer
from triage.errors import (
    GitHubUnavailableError,
    SinkRejectedError,
    SinkThrottledError,
    SinkUnavailableError,
    StoreBusyError,
    StoreThrottledError,
    SummariserError,
    TransientError,
)
from triage.incidents.ledger import Ledger
from triage.incidents.lifecycle import Action
from triage.incidents.store import INCIDENT, R, RecordChange
from triage.metrics import Metrics
from triage.models import Alert, EffectKind, Priority, Status, Ticket
from triage.pipeline import Pipeline
from triage.ratelimit import Budget, Budgets, LocalBudgets
from triage.redact import Redactor
from triage.routes import load_router
from triage.secrets import BackendToken
from triage.settings import Settings
from triage.sinks.backend import BackendSink
from triage.sinks.base import Applied, Effect, Target
from triage.sinks.github import GitHubSink
from triage.sinks.guard import GuardedSink
from triage.sinks.slack import SlackSink
from triage.sqs.inbox import Message
from triage.sqs.supervisor import Supervisor, SupervisorConfig
from triage.summarise.llm import LlmSummariser
from triage.tracing import Tracing

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
#: The loopback backend's token (`daemon_harness.TOKEN`), where the backend sink reads it.
BACKEND_TOKEN = TOKEN
GITHUB_TOKEN = "ghp_round4FaultsToken00000000000000000000"
REPO = "acme/ops"
#: The effect lease the ledger tests use.
LEASE = timedelta(minutes=2)


@pytest.fixture(autouse=True)
def backend_token(monkeypatch: pytest.MonkeyPatch) -> None:
    """The backend sink's token, from the environment as the daemon reads it."""
    monkeypatch.setenv("BACKEND_TOKEN", BACKEND_TOKEN)


def effect(key: str = "fp:1") -> Effect:
    """A new incident's OPEN."""
    return Effect(EffectKind.OPEN, ALERT.fingerprint, view(ALERT), TICKET, None, 1, 1, False, key)


# --- A host clock that is off: a wait read against the answer's own clock ------------------------
#
# A service that says "wait until <time>" (Retry-After as an HTTP date, GitHub's
# x-ratelimit-reset) means its own clock, which its Date header tells. A host whose clock is off
# (a VM resumed, NTP stepped, a container without time sync) reads the same answer as a wait of
# a second (and comes straight back into the limit, every held message with it, for as long as
# the service asked) or of the longest wait (`MAX_WAIT_S`, an hour of paused intake for a
# two-minute limit).

#: How long the services below ask us to wait, by their own clock.
ASKED_S = 120.0
#: How far off the host clock is: ahead (positive) or behind the services'.
SKEWS_S = [pytest.param(3600.0, id="host-1h-ahead"), pytest.param(-3600.0, id="host-1h-behind")]


def http_date(epoch_s: float) -> str:
    """`epoch_s` as HTTP writes a date."""
    return email.utils.formatdate(epoch_s, usegmt=True)


def dated_wait(status: int, skew_s: float) -> Answer:
    """`status` with a Retry-After date ASKED_S past the service's clock, which is `skew_s`
    behind the host's, and the Date header that clock says."""
    service_now = time.time() - skew_s
    headers = {"Date": http_date(service_now), "Retry-After": http_date(service_now + ASKED_S)}
    return answer(status, {"Content-Type": "application/json", **headers})


@asynccontextmanager
async def backend_sink_at(url: str) -> AsyncIterator[BackendSink]:
    """The backend sink for the backend at `url`."""
    settings = Settings(backend_base_url=url)
    sink = BackendSink(settings, BackendToken(settings))
    try:
        yield sink
    finally:
        await sink.aclose()


@asynccontextmanager
async def slack_sink_at(url: str) -> AsyncIterator[SlackSink]:
    """The Slack sink posting to a webhook at `url`."""
    webhook = SecretStr(f"{url}/services/T1/B1/round4SlackSecret")
    sink = SlackSink(Settings(slack_webhook_url=webhook, slack_min_interval_s=0))
    try:
        yield sink
    finally:
        await sink.aclose()


async def _throttled_wait(open_sink: Callable[[str], Any], status: int, skew_s: float) -> float:
    """The wait the sink opened by `open_sink` takes from a dated `status` answer."""
    async with hostile(dated_wait(status, skew_s)) as server, open_sink(server.url) as sink:
        with pytest.raises(SinkThrottledError) as caught:
            await sink.apply(effect())
    assert caught.value.retry_after_s is not None
    return caught.value.retry_after_s


@pytest.mark.parametrize("skew_s", SKEWS_S)
@pytest.mark.parametrize(
    ("open_sink", "status"),
    [
        pytest.param(backend_sink_at, 429, id="backend"),
        pytest.param(slack_sink_at, 429, id="slack"),
    ],
)
async def test_a_dated_retry_after_is_read_against_the_answers_own_clock(
    open_sink: Callable[[str], Any], status: int, skew_s: float
) -> None:
    """A 429 whose Retry-After is a date two minutes past the answer's Date holds the message
    about two minutes, however far the host's clock is from the service's."""
    waited_s = await _throttled_wait(open_sink, status, skew_s)
    assert ASKED_S - 5 <= waited_s <= ASKED_S + 5


async def _model_pause_s(skew_s: float) -> float | None:
    """How long the LLM summariser pauses its model (`llm.paused`) for a 429 whose
    Retry-After is a date ten minutes past the answer's Date, on a host `skew_s` ahead of the
    model's server; None when it does not pause."""
    service_now = time.time() - skew_s
    headers = {
        "Content-Type": "application/json",
        "Date": http_date(service_now),
        "Retry-After": http_date(service_now + 600),
    }
    limited = b'{"error": {"message": "Rate limit reached", "code": "rate_limit_exceeded"}}'
    async with hostile(answer(429, headers, limited)) as server:
        settings = Settings(
            openai_api_key=SecretStr("sk-test-" + "k" * 32),
            openai_base_url=server.url + "/v1",
            llm_timeout_s=2.0,
            llm_retries=0,
        )
        llm = LlmSummariser(settings, metrics=Metrics(), redactor=Redactor())
        try:
            with structlog.testing.capture_logs() as logs, suppress(SummariserError):
                await llm.summarise(view(ALERT))
        finally:
            await llm.aclose()
    paused = [e["retry_after_s"] for e in logs if e["event"] == "llm.paused"]
    return paused[0] if paused else None


@pytest.mark.parametrize(
    "skew_s",
    [
        pytest.param(0.0, id="host-right"),
        *(pytest.param(skew.values[0], id=skew.id) for skew in SKEWS_S),
    ],
)
async def test_a_models_dated_retry_after_pauses_it_for_as_long_as_it_asked(
    skew_s: float,
) -> None:
    """A model server's 429 asking, by date, for ten minutes pauses the model about ten
    minutes (`llm.paused`), however far the host's clock is from the server's: not asked again
    by the next incident at once (host ahead), nor left alone for the longest wait (behind)."""
    paused_s = await _model_pause_s(skew_s)
    assert paused_s is not None and 600 - 60 <= paused_s <= 600 + 5, paused_s


async def _github_limit_wait(skew_s: float) -> float:
    """The wait the github sink takes from a spent primary budget that resets in half an
    hour by GitHub's clock, on a host whose clock is `skew_s` ahead of GitHub's."""
    with GitHubServer(tokens={GITHUB_TOKEN: "triage-bot"}) as github:
        settings = Settings(
            github_api_url=github.url,
            github_repository=REPO,
            github_token=SecretStr(GITHUB_TOKEN),
        )
        sink = GitHubSink(settings, wall_clock=lambda: time.time() + skew_s)
        try:
            github.set_rate_limit(0, reset_in_s=1800)
            with pytest.raises(SinkThrottledError) as caught:
                await sink.apply(effect())
        finally:
            await sink.aclose()
    assert caught.value.retry_after_s is not None
    return caught.value.retry_after_s


async def test_a_github_reset_on_a_host_whose_clock_agrees_waits_until_the_reset() -> None:
    """The control for the case below: with the host's clock right, a spent budget that
    resets in half an hour holds the message half an hour (less the test's own time)."""
    assert 1800 - 60 <= await _github_limit_wait(0.0) <= 1800 + 5


@pytest.mark.parametrize("skew_s", [7200.0, -1200.0], ids=["host-2h-ahead", "host-20m-behind"])
async def test_a_github_reset_is_read_against_githubs_own_clock(skew_s: float) -> None:
    """A spent primary budget that resets in half an hour by GitHub's clock holds the message
    about half an hour, however far the host's clock is from GitHub's."""
    waited_s = await _github_limit_wait(skew_s)
    assert 1800 - 5 <= waited_s <= 1800 + 5


# --- A host clock that jumps forward while an effect is in flight --------------------------------


@dataclass
class JumpingClock:
    """The ledger's clock: T0 until a test moves it, as a host's wall clock jumps (NTP steps
    it, a VM resumes)."""

    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now


@dataclass
class GatedSink:
    """A sink whose calls wait for `gate`: `started` counts the calls that began, so two
    effects in flight at once show as two."""

    gate: asyncio.Event = field(default_factory=asyncio.Event)
    started: list[EffectKind] = field(default_factory=list)
    name: str = "slack"

    async def apply(self, effect: Effect) -> Applied:
        self.started.append(effect.kind)
        await self.gate.wait()
        return Applied("posted") if effect.kind is EffectKind.OPEN else Applied()

    async def aclose(self) -> None:
        return None


def firing(message_id: str, key: str = "lag") -> Message:
    """A script's firing of the incident `key`, queued as message `message_id`."""
    body = json.dumps({"title": "orders-db lag", "dedup_key": key})
    return Message(message_id, body, f"r-{message_id}", 1, T0, received_at=T0)


async def until_async(
    condition: Callable[[], Awaitable[bool]], what: str, timeout_s: float = 5.0
) -> None:
    """Wait for the coroutine `condition` to say True, at most `timeout_s`."""
    try:
        async with asyncio.timeout(timeout_s):
            while not await condition():
                await asyncio.sleep(0.005)
    except TimeoutError:
        raise AssertionError(f"not within {timeout_s} s: {what}") from None


async def until(condition: Callable[[], bool], what: str, timeout_s: float = 5.0) -> None:
    """Wait for `condition`, at most `timeout_s`."""
    try:
        async with asyncio.timeout(timeout_s):
            while not condition():
                await asyncio.sleep(0.005)
    except TimeoutError:
        raise AssertionError(f"not within {timeout_s} s: {what}") from None


@pytest.mark.parametrize(
    "jump",
    [
        pytest.param(timedelta(0), id="no-jump"),
        pytest.param(LEASE + timedelta(minutes=1), id="past-the-lease"),
    ],
)
async def test_a_clock_jump_past_the_lease_never_sends_an_effect_in_flight_twice(
    jump: timedelta,
) -> None:
    """The host's clock jumps forward (or not) while this process's worker still waits on
    Slack for an incident's OPEN; a repeat of the alert arriving then is held, never a second
    OPEN posted beside the first (Slack takes no idempotency key: it would be a second message
    in the channel)."""
    clock = JumpingClock()
    sink = GatedSink()
    pipeline = Pipeline(
        Ledger(MemoryStore(POLICY, LEASE), clock=clock), Summariser(), [sink], Metrics(),
        redactor=Redactor(), policy=POLICY,
    )  # fmt: skip
    first = asyncio.create_task(pipeline.process(firing("m-1")))
    await until(lambda: len(sink.started) == 1, "the first OPEN in flight")
    clock.now = T0 + jump
    repeat = asyncio.create_task(pipeline.process(firing("m-2")))
    await until(lambda: repeat.done() or len(sink.started) > 1, "the repeat decided")
    started = list(sink.started)
    sink.gate.set()
    await asyncio.gather(first, repeat, return_exceptions=True)
    assert started == [EffectKind.OPEN]


@pytest.mark.parametrize(
    "stepped_back",
    [
        pytest.param(timedelta(0), id="clock-right"),
        pytest.param(timedelta(hours=1), id="clock-stepped-back-1h"),
    ],
)
async def test_a_dead_holders_claim_is_taken_over_once_its_lease_has_run(
    stepped_back: timedelta,
) -> None:
    """A replica claims an incident's OPEN and dies mid-call (its sink never answers); the
    host's clock is then stepped back (or not). Once the lease has run on the clock as it now
    reads, the alert's redelivery on another replica takes the OPEN over, instead of waiting
    for the clock to catch up with the dead holder's (held an hour, the message reaches
    `max_hold_s` and is released, its receives spent into the DLQ)."""
    clock = JumpingClock()
    store = MemoryStore(POLICY, LEASE)
    dead, alive = GatedSink(), Sink(name="slack")

    def replica(sink: Any) -> Pipeline:
        return Pipeline(
            Ledger(store, clock=clock), Summariser(), [sink], Metrics(), redactor=Redactor(),
            policy=POLICY,
        )  # fmt: skip

    dying = asyncio.create_task(replica(dead).process(firing("m-1")))
    try:
        await until(lambda: len(dead.started) == 1, "the dead replica's OPEN in flight")
        clock.now = T0 - stepped_back + LEASE + timedelta(seconds=30)
        redelivery = firing("m-1")
        with suppress(StoreBusyError):  # held: what the stepped-back case gets
            await replica(alive).process(replace(redelivery, receipt_handle="r-m-1-again"))
        assert [e.kind for e in alive.effects] == [EffectKind.OPEN]
    finally:
        dying.cancel()
        await asyncio.gather(dying, return_exceptions=True)


# --- The store throttling part-way through a group -----------------------------------------------


class ThrottlingStore(MemoryStore):
    """The in-memory store, throttled (as DynamoDB answers ProvisionedThroughputExceeded) on
    its `fail_on`-th write of an incident, once."""

    def __init__(self, fail_on: int) -> None:
        super().__init__(POLICY, LEASE)
        self.fail_on = fail_on
        self.writes = 0

    async def _update(self, kind: str, key: str, change: RecordChange[R]) -> R:
        if kind == INCIDENT:
            self.writes += 1
            if self.writes == self.fail_on:
                raise StoreThrottledError(
                    "dynamodb UpdateItem throttled: ProvisionedThroughputExceededException",
                    retry_after_s=0.1,
                )
        return await super()._update(kind, key, change)


def alertmanager_group(*instances: str) -> str:
    """An Alertmanager webhook body with one firing DiskFull alert per instance."""
    alerts = [
        {
            "status": "firing",
            "labels": {"alertname": "DiskFull", "instance": instance},
            "annotations": {"summary": f"disk full on {instance}"},
            "startsAt": "2026-11-23T08:55:00Z",
        }
        for instance in instances
    ]
    return json.dumps({"version": "4", "status": "firing", "receiver": "r", "alerts": alerts})


#: The writes a three-alert message makes (each alert's claim, confirm and finish).
GROUP_WRITES = range(1, 10)


async def _keys_per_alert_when_throttled_at(fail_on: int) -> tuple[int, dict[str, int]]:
    """How often a three-alert message was throttled when the store refused its `fail_on`-th
    write once, and how many Idempotency-Keys each alert's OPENs carried over its attempts."""
    sink = Sink()
    pipeline = Pipeline(
        Ledger(ThrottlingStore(fail_on)), Summariser(), [sink], Metrics(), redactor=Redactor(),
        policy=POLICY,
    )  # fmt: skip
    body = alertmanager_group("db-1", "db-2", "db-3")
    throttled = 0
    for attempt in (1, 2):
        try:
            await pipeline.process(
                Message("m-1", body, f"r-{attempt}", attempt, T0, received_at=T0)
            )
            break
        except StoreThrottledError:
            throttled += 1
    keys: dict[str, set[str]] = {}
    for opened in (e for e in sink.effects if e.kind is EffectKind.OPEN):
        keys.setdefault(opened.alert.labels.get("instance", ""), set()).add(opened.idempotency_key)
    return throttled, {instance: len(named) for instance, named in sorted(keys.items())}


@pytest.mark.parametrize("writes", dealt(GROUP_WRITES, 3))
async def test_a_store_throttled_part_way_through_a_group_opens_each_ticket_once(
    writes: list[int],
) -> None:
    """Whichever write of a three-alert message the store throttles (a claim, a confirm, a
    finish), the message waits (StoreThrottledError, nothing lost) and its next attempt opens
    the tickets still missing: each alert's ticket under one Idempotency-Key over both
    attempts (an OPEN whose confirmation was throttled is redone under the same key, which the
    backend answers with the ticket it made)."""
    got = {n: await _keys_per_alert_when_throttled_at(n) for n in writes}
    once = (1, {"db-1": 1, "db-2": 1, "db-3": 1})
    assert got == dict.fromkeys(writes, once)


# --- A 2xx that says it failed ------------------------------------------------------------------

#: Create answers with a 2xx status whose body says the create failed and names no ticket, as
#: what answers for a ticket system writes them: API Gateway's Lambda integration (the
#: function's failure as a 200), a GraphQL server, an `ok` or `success` flag.
FAILED_2XX: list[dict[str, Any]] = [
    {"errorMessage": "Task timed out after 3.00 seconds", "errorType": "Sandbox.Timedout"},
    {"data": None, "errors": [{"message": "database is locked"}]},
    {"ok": False, "error": "database_unavailable"},
    {"success": False, "message": "could not create the ticket"},
]


async def _outcome_of_create(body: dict[str, Any]) -> str:
    """What the backend sink makes of a create answered 200 with `body`: the error's class
    name, or `done as <ref>`."""
    content = json.dumps(body).encode()
    async with (
        hostile(answer(200, {"Content-Type": "application/json"}, content)) as server,
        backend_sink_at(server.url) as sink,
    ):
        try:
            applied = await sink.apply(effect())
        except TransientError as exc:
            return f"retried ({type(exc).__name__})"
    return f"done as {applied.ref}"


async def test_a_create_answered_2xx_with_a_failure_in_its_body_is_retried() -> None:
    """A create whose 2xx answer says in its body that it failed (and names no ticket) is
    retried under the same Idempotency-Key, not recorded as a ticket that does not exist."""
    got = [await _outcome_of_create(body) for body in FAILED_2XX]
    assert got == ["retried (SinkUnavailableError)"] * len(FAILED_2XX)


# --- A DLQ that loses what it is given ----------------------------------------------------------


def _queue_with_dlq(moto_url: str, queue: dict[str, str], dlq: dict[str, str]) -> Queues:
    """A queue with `queue`'s attributes whose redrive policy names a DLQ with `dlq`'s."""
    sqs = boto3.client("sqs", endpoint_url=moto_url, region_name="us-east-1")
    name = f"alerts-{uuid.uuid4().hex[:12]}"
    dlq_url = sqs.create_queue(QueueName=f"{name}-dlq", Attributes=dlq)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])
    policy = {"deadLetterTargetArn": arn["Attributes"]["QueueArn"], "maxReceiveCount": "5"}
    attributes = {**queue, "RedrivePolicy": json.dumps(policy)}
    url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    return Queues(moto_url, url, dlq_url)


@pytest.mark.parametrize(
    ("queue_keeps_s", "dlq_keeps_s", "verdict"),
    [
        pytest.param("345600", "1209600", "ok", id="dlq-keeps-longer"),
        pytest.param("1209600", "86400", "warn", id="dlq-keeps-a-day"),
    ],
)
def test_check_warns_of_a_dlq_that_keeps_letters_for_less_time_than_the_queue(
    queue_keeps_s: str, dlq_keeps_s: str, verdict: str, moto_url: str, tmp_path: Path
) -> None:
    """A standard queue's letter keeps its first enqueue time in the DLQ (AWS: "always set
    the retention period of a dead-letter queue to be longer than the retention period of the
    original queue"): a DLQ keeping letters a day, behind a queue keeping them fourteen,
    deletes a letter that waited a day on the queue as soon as it arrives. `triage check`'s
    queue line says so (warn, naming the retention); a DLQ that keeps them longer is ok."""
    queues = _queue_with_dlq(
        moto_url,
        {"MessageRetentionPeriod": queue_keeps_s},
        {"MessageRetentionPeriod": dlq_keeps_s},
    )
    (line,) = check_lines(settings_for(queues, "http://127.0.0.1:9", tmp_path / "t.db"), "queue")
    assert line.split()[0] == verdict, line
    assert verdict == "ok" or "retention" in line.lower(), line


# --- A later-effect route that redirects --------------------------------------------------------


@asynccontextmanager
async def slash_redirecting_backend() -> AsyncIterator[str]:
    """A ticket backend on 127.0.0.1 whose create route (`/tickets`) makes tickets T-1, T-2 … and
    whose update route answers every POST with a 308 to the same path with a slash added (as
    Django's APPEND_SLASH and many routers do); OPTIONS is answered 204. Its base URL."""
    created = 0

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal created
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            method, path, _ = head.split(b"\r\n", 1)[0].decode().split(" ", 2)
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            await reader.readexactly(length)
            if method == "OPTIONS":
                status, extra, body = 204, "", b""
            elif path == "/tickets":
                created += 1
                status, extra, body = 201, "", json.dumps({"id": f"T-{created}"}).encode()
            else:
                status, extra, body = 308, f"Location: {path}/\r\n", b""
            writer.write(
                f"HTTP/1.1 {status} Scripted\r\n{extra}Content-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
                + body
            )
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    async with server:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"


async def test_a_redirecting_update_route_does_not_open_the_breaker_for_new_tickets() -> None:
    """An update route the backend redirects (a slash missing from TRIAGE_BACKEND_UPDATE_ROUTE)
    is the backend answering, not the backend down, as a wrong route's 404 is: its updates fail
    (transient, one line naming the redirect), but the sink's breaker stays closed, so new
    incidents' tickets, which the create route takes, go on being opened."""
    async with slash_redirecting_backend() as url:
        settings = Settings(
            backend_base_url=url,
            backend_service_route="/tickets",
            backend_update_route="/tickets/{ref}/events",
        )
        guarded = GuardedSink(
            BackendSink(settings, BackendToken(settings)), CircuitBreaker("sink:backend", 3, 30)
        )
        try:
            first = await guarded.apply(effect("fp:1"))
            for n in range(3):
                update = replace(effect(f"fp:u{n}"), kind=EffectKind.UPDATE, ref=first.ref)
                with suppress(TransientError):
                    await guarded.apply(update)
            assert guarded.breaker.state is BreakerState.CLOSED
            assert (await guarded.apply(effect("other:1"))).ref == "T-2"
        finally:
            await guarded.aclose()


# --- A host clock that jumps forward while the daemon holds a message ---------------------------


class JumpedInbox(MemoryInbox):
    """The in-memory queue, its first delivery received `ago` before this host's clock now
    reads: what a wall clock stepped forward that far since that receive makes of it."""

    def __init__(self, ago: timedelta) -> None:
        super().__init__()
        self.ago = ago

    async def receive(self, max_messages: int, wait_s: int, visibility_s: int) -> list[Message]:
        received = await super().receive(max_messages, wait_s, visibility_s)
        before_the_step = datetime.now(UTC) - self.ago
        self.ago = timedelta(0)  # later receives come after the step
        return [replace(m, received_at=before_the_step) for m in received]


@pytest.mark.parametrize(
    "stepped",
    [
        pytest.param(timedelta(0), id="clock-steady"),
        pytest.param(timedelta(hours=13), id="clock-stepped-13h"),
    ],
)
async def test_a_retry_keeps_its_backoff_when_the_wall_clock_steps_forward(
    stepped: timedelta,
) -> None:
    """A message whose sink answered 503 is released for its backoff (at least half of
    retry_base_s on a first receive), seconds after it was received, whatever the wall clock
    did meanwhile: SQS counts the 12 h a delivery may stay hidden on its own clock."""
    inbox = JumpedInbox(stepped)
    inbox.put(json.dumps({"title": "orders-db lag", "dedup_key": "lag"}))

    async def handler(message: Message, _progress: Any) -> list[Any]:
        raise SinkUnavailableError("backend answered 503")

    config = SupervisorConfig(wait_s=0, retry_base_s=10, shutdown_grace_s=1)
    supervisor = Supervisor(config, inbox, handler, Metrics())
    serving = asyncio.create_task(supervisor.serve())
    try:
        await until(lambda: bool(inbox.visibility_calls), "the failed message released")
    finally:
        supervisor.should_exit.set()
        await asyncio.wait_for(serving, 10)
    (_, hidden_s), *_ = inbox.visibility_calls
    assert hidden_s >= 5


# --- A service that says "wait" with a 503 --------------------------------------------------------


@asynccontextmanager
async def writes_in_maintenance(
    sink: str, metrics: Metrics
) -> AsyncIterator[tuple[GuardedSink, Callable[[], list[Any]]]]:
    """The `sink` behind its breaker, its service's writes in maintenance (LIMIT POSTs answered
    503 with Retry-After: 1) while its reads and OPTIONS are answered; and a function giving
    the tickets (Slack: the posts) the service holds."""
    if sink == "slack":
        wait = answer(503, {"Retry-After": "1"}, b"service_unavailable")
        async with hostile(*[wait] * LIMIT, answer(200, {}, b"ok")) as server:
            webhook = SecretStr(f"{server.url}/services/T1/B1/round4SlackSecret")
            settings = Settings(slack_webhook_url=webhook, slack_min_interval_s=0)
            inner = SlackSink(settings, metrics=metrics)
            try:
                guarded = GuardedSink(inner, CircuitBreaker("sink:slack", 5, 30))
                yield guarded, lambda: server.requests[LIMIT:]
            finally:
                await inner.aclose()
        return
    if sink == "backend":
        with TicketServer(token=TOKEN) as server:
            server.fail_next(LIMIT, status=503, retry_after="1")
            async with open_sink(server.url, metrics=metrics) as inner:
                guarded = GuardedSink(inner, CircuitBreaker("sink:backend", 5, 30))
                yield guarded, lambda: server.tickets
        return
    with GitHubServer(tokens={GITHUB_TOKEN: "triage-bot"}, repositories=(REPO,)) as github:
        github.fail_next(LIMIT, 503, retry_after="1", method="POST")
        settings = Settings(
            github_api_url=github.url, github_repository=REPO, github_token=SecretStr(GITHUB_TOKEN)
        )
        inner = GitHubSink(settings, metrics=metrics)
        try:
            yield GuardedSink(inner, CircuitBreaker("sink:github", 5, 30)), github.issues
        finally:
            await inner.aclose()


@pytest.mark.parametrize("sink", ["backend", "github", "slack"])
async def test_a_503_that_says_when_to_come_back_holds_its_message_not_dead_letters_it(
    sink: str,
) -> None:
    """The service's writes are in maintenance (every POST 503 with Retry-After: 1) while what
    the sink's probe asks (the backend's OPTIONS, GitHub's reads) is answered, or (Slack) no
    probe is due yet: a service
    saying "wait" and how long (DESIGN: downstream outage is not poison) holds the message
    without spending its receives, so after the maintenance it opens its one ticket instead of
    reaching the DLQ on its third receive."""
    queue, metrics = Queue(), Metrics()
    (mid,) = queue.put(json.dumps({"title": "orders-db lag", "dedup_key": "lag"}))
    async with writes_in_maintenance(sink, metrics) as (guarded, tickets):
        await drain(queue, trusted_pipeline([guarded], metrics), metrics)
        made = len(tickets())
    assert queue.dead == []
    assert queue.deleted == [mid] and made == 1


# --- A GitHub App on a host whose clock is off ---------------------------------------------------


@pytest.fixture(scope="module")
def app_keys() -> tuple[str, str]:
    """An RSA key pair for the stub's App: (private PEM, public PEM)."""
    return rsa_pem()


async def _issue_opened_by_app(app_keys: tuple[str, str], skew_s: float) -> str | None:
    """The issue a GitHub App installation opens for a new incident, on a host whose clock is
    `skew_s` ahead of GitHub's; the error's reason when it cannot."""
    app = StubApp(app_id="4242", slug="triage-app", public_key=app_keys[1], installation_id=77)
    with GitHubServer(repositories=(REPO,), app=app) as github:
        settings = Settings(
            github_api_url=github.url,
            github_repository=REPO,
            github_app_id="4242",
            github_app_private_key=SecretStr(app_keys[0]),
            github_app_installation_id=77,
        )
        sink = GitHubSink(settings, wall_clock=lambda: time.time() + skew_s)
        try:
            return (await sink.apply(effect())).ref
        except GitHubUnavailableError as exc:
            return exc.reason
        finally:
            await sink.aclose()


@pytest.mark.parametrize(
    "skew_s",
    [
        pytest.param(0.0, id="host-right"),
        pytest.param(120.0, id="host-2min-ahead"),
        pytest.param(-900.0, id="host-15min-behind"),
    ],
)
async def test_a_github_app_on_a_host_whose_clock_is_off_still_opens_the_issue(
    skew_s: float, app_keys: tuple[str, str]
) -> None:
    """A GitHub App's JWT is refused when its times do not fit GitHub's clock (an `iat` in
    its future, an `exp` already past). A host a few minutes off GitHub (as octokit does for
    the same refusal) signs again by the time GitHub's answer says, and opens the issue,
    instead of the GitHub sink being down while the clock stays off."""
    ref = await _issue_opened_by_app(app_keys, skew_s)
    assert ref is not None and ref.endswith(f"/{REPO}/issues/1"), ref


# --- A creation budget when the clock is stepped back ---------------------------------------------

#: GitHub's per-minute creation budget as the sink keeps it: two issues a minute.
MINUTE_BUDGET = Budget("github:create:acme/ops:minute", 2, 60.0)
#: When the budget was spent, in epoch seconds.
SPENT_AT_S = 1_800_000_000.0


async def _wait_after_two_minutes(budgets: Budgets, stepped_back_s: float) -> float:
    """The wait a create is told two minutes after the budget was spent, on a clock stepped
    back `stepped_back_s` in between."""
    for _ in range(MINUTE_BUDGET.capacity):
        assert await budgets.take_token(MINUTE_BUDGET, SPENT_AT_S) == 0.0
    assert await budgets.take_token(MINUTE_BUDGET, SPENT_AT_S) > 0  # spent
    return await budgets.take_token(MINUTE_BUDGET, SPENT_AT_S - stepped_back_s + 120)


@pytest.mark.parametrize(
    "stepped_back_s",
    [
        pytest.param(0.0, id="clock-steady"),
        pytest.param(3600.0, id="clock-stepped-back-1h"),
    ],
)
@pytest.mark.parametrize(
    "budgets",
    [pytest.param(MemoryStore, id="store"), pytest.param(LocalBudgets, id="local")],
)
async def test_a_spent_creation_budget_refills_after_the_clock_is_stepped_back(
    budgets: Callable[[], Budgets], stepped_back_s: float
) -> None:
    """GitHub's two-a-minute creation budget, spent, then the host's clock stepped back an
    hour (or not): two minutes later a new issue may be created, in the store's shared budget
    and in a process's own alike, not refused until the clock has caught up an hour later
    (the incidents' issues held, then released into the DLQ past `max_hold_s`)."""
    assert await _wait_after_two_minutes(budgets(), stepped_back_s) == 0.0


# --- A redo under the same Idempotency-Key sends another request ----------------------------------


@dataclass
class KeyedBackend:
    """A ticket backend on 127.0.0.1 that keeps every create's body under its Idempotency-Key
    and checks a reused key's payload as the Idempotency-Key draft says (another body: 422).
    Its first create is held until `release` is set and then gets no answer (the connection
    closed: created, its answer lost); a later one with the same body gets 201 and the
    ticket's id."""

    url: str = ""
    release: asyncio.Event = field(default_factory=asyncio.Event)
    bodies: dict[str, list[Any]] = field(default_factory=dict)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            fields = dict(
                line.decode().lower().split(": ", 1) for line in head.split(b"\r\n")[1:] if line
            )
            body = await reader.readexactly(int(fields.get("content-length", "0")))
            if head.startswith(b"OPTIONS"):
                writer.write(b"HTTP/1.1 204 Scripted\r\nConnection: close\r\n\r\n")
                return
            sent = self.bodies.setdefault(fields.get("idempotency-key", ""), [])
            sent.append(json.loads(body))
            if sum(len(b) for b in self.bodies.values()) == 1:
                await self.release.wait()
                return  # created; the answer is lost
            status, answered = (
                (b"201 Created", {"id": "T-1"})
                if sent[-1] == sent[0]
                else (b"422 Unprocessable Content", {"error": "idempotency_key_reused"})
            )
            text = json.dumps(answered).encode()
            writer.write(
                b"HTTP/1.1 %s\r\nContent-Type: application/json\r\n"
                b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (status, len(text), text)
            )
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()


def crash_looping(*pods: int, message_id: str = "m-group", receipt: str = "rh") -> Message:
    """One Alertmanager notification: a crash-looping pod each, of one alertname and namespace
    (one group under GROUP_ROUTES)."""
    alerts = [
        {
            "status": "firing",
            "labels": {"alertname": "KubePodCrashLooping", "namespace": "shop", "pod": f"api-{i}"},
            "annotations": {"summary": f"pod api-{i} is crash looping"},
            "startsAt": T0.isoformat(),
        }
        for i in pods
    ]
    body = json.dumps({"version": "4", "groupKey": "g", "status": "firing", "alerts": alerts})
    return Message(message_id, body, receipt, 1, None, received_at=T0)


GROUP_ROUTES = """
[[route]]
name = "crash-loops"
sinks = ["backend"]
group_by = ["alertname", "namespace"]
[route.match]
source = ["alertmanager"]
"""


async def test_a_group_open_redone_under_its_key_is_answered_with_its_ticket(
    tmp_path: Path,
) -> None:
    """A group's OPEN is in flight when a second pod's message joins the group; the OPEN's
    answer is then lost, and its message's retry sends it again under the same
    Idempotency-Key with the same body as the first time, so a backend that checks a reused
    key's payload (as the Idempotency-Key draft and Stripe do) answers it with the ticket it
    made, instead of refusing it (422: the message fails towards the DLQ, the ticket it
    made unrecorded)."""
    routes = tmp_path / "routes.toml"
    routes.write_text(GROUP_ROUTES)
    settings = Settings(routes_file=routes)
    keyed = KeyedBackend()
    server = await asyncio.start_server(keyed.handle, "127.0.0.1", 0)
    async with server:
        keyed.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
        sink = BackendSink(Settings(backend_base_url=keyed.url), BackendToken(settings))
        pipeline = Pipeline(
            Ledger(MemoryStore(POLICY, LEASE)), Summariser(), [sink], Metrics(),
            redactor=Redactor(), policy=POLICY,
        )  # fmt: skip
        pipeline.router = load_router(settings)
        try:
            first = asyncio.create_task(pipeline.process(crash_looping(1)))
            await until(lambda: bool(keyed.bodies), "the group's OPEN at the backend")
            joined = await pipeline.process(crash_looping(2, message_id="m-pod-2"))
            assert [outcome.action for outcome in joined] == [Action.COUNT]  # in the group
            keyed.release.set()
            with pytest.raises(SinkUnavailableError):
                await first
            try:
                await pipeline.process(crash_looping(1, receipt="rh-again"))
                retried = "answered with its ticket"
            except SinkRejectedError as exc:
                retried = f"refused ({exc.status}), the message failed"
        finally:
            await sink.aclose()
    assert retried == "answered with its ticket"
    [(_, sent)] = keyed.bodies.items()
    assert sent[1] == sent[0]


def traced_firing(message_id: str, trace: str) -> Message:
    """A firing of the incident `lag` queued by the gateway with W3C trace context `trace`."""
    body = json.dumps({"title": "orders-db lag", "dedup_key": "lag"})
    traceparent = f"00-{trace * 32}-{'b' * 16}-01"
    attributes = {"traceparent": traceparent}
    return Message(
        message_id, body, f"r-{message_id}", 1, T0, received_at=T0, attributes=attributes
    )


@pytest.mark.parametrize(
    "next_trace",
    [
        pytest.param("a", id="same-trace"),
        pytest.param("c", id="another-trace"),
    ],
)
async def test_an_open_taken_over_by_another_traced_message_is_answered_with_its_ticket(
    next_trace: str,
) -> None:
    """An OPEN whose answer was lost is redone by the incident's next message, traced under
    the same trace or another: sent again under the same Idempotency-Key with the first
    request's body, a backend that checks a reused key's payload answers it with the ticket
    it made."""
    keyed = KeyedBackend()
    keyed.release.set()
    tracing = Tracing()
    server = await asyncio.start_server(keyed.handle, "127.0.0.1", 0)
    async with server:
        keyed.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
        settings = Settings(backend_base_url=keyed.url)
        sink = BackendSink(settings, BackendToken(settings))
        pipeline = Pipeline(
            Ledger(MemoryStore(POLICY, LEASE)), Summariser(), [sink], Metrics(),
            redactor=Redactor(), policy=POLICY,
        )  # fmt: skip
        try:
            first, then = traced_firing("m-1", "a"), traced_firing("m-2", next_trace)
            with (
                tracing.message(first.id, first.attributes["traceparent"]),
                pytest.raises(SinkUnavailableError),
            ):
                await pipeline.process(first)
            with tracing.message(then.id, then.attributes["traceparent"]):
                try:
                    await pipeline.process(then)
                    redone = "answered with its ticket"
                except SinkRejectedError as exc:
                    redone = f"refused ({exc.status}), the message failed"
        finally:
            await sink.aclose()
    assert redone == "answered with its ticket"
    [(_, sent)] = keyed.bodies.items()
    assert sent[1] == sent[0]


# --- GitHub's secondary rate limit, again and again ----------------------------------------------


@dataclass
class HandClock:
    """A monotonic clock the test moves by hand."""

    now: float = 1_000.0

    def __call__(self) -> float:
        return self.now


async def test_secondary_rate_limits_in_a_row_wait_longer_each_time() -> None:
    """GitHub's docs: without Retry-After, wait at least a minute after a secondary rate limit,
    and "if your request continues to fail due to a secondary rate limit, wait for an
    exponentially increasing amount of time between retries" (continuing may get the
    integration banned). Three in a row, each met as soon as the last pause ended, pause the
    sink longer each time."""
    clock = HandClock()
    limited = (
        "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
    )
    with GitHubServer(tokens={GITHUB_TOKEN: "triage-bot"}) as github:
        settings = Settings(
            github_api_url=github.url, github_repository=REPO, github_token=SecretStr(GITHUB_TOKEN)
        )
        sink = GitHubSink(settings, clock=clock)
        github.fail_next(3, 403, message=limited, method="POST")
        waits = []
        try:
            for n in range(3):
                with pytest.raises(SinkThrottledError) as caught:
                    await sink.apply(effect(f"fp:{n}"))
                assert caught.value.retry_after_s is not None
                waits.append(caught.value.retry_after_s)
                clock.now += caught.value.retry_after_s + 1  # the pause is over
        finally:
            await sink.aclose()
    assert waits[0] >= 60
    assert waits[1] > waits[0] and waits[2] > waits[1], waits


# --- One Slack webhook rate-limited while the others post -----------------------------------------


async def test_one_slack_webhooks_rate_limit_holds_only_its_own_messages() -> None:
    """A route's Slack webhook answers 429 (Retry-After: 30) while the default webhook posts:
    Slack limits posts per channel, and the sink leaves that webhook alone for the wait, so
    the message is held without pausing the daemon's intake (the other routes' tickets, and
    their Slack posts, go on), as for the backend's 409 of one key."""
    limited = answer(429, {"Retry-After": "30"}, b"rate_limited")
    async with hostile(answer(200, {}, b"ok")) as default, hostile(limited) as busy:
        webhook = SecretStr(f"{default.url}/services/T1/B1/round4SlackSecret")
        sink = SlackSink(Settings(slack_webhook_url=webhook, slack_min_interval_s=0))
        try:
            assert (await sink.apply(effect("fp:1"))).ref == "posted"
            busy_route = Target(webhook_url=f"{busy.url}/services/T1/B2/round4OtherSecret")
            with pytest.raises(SinkThrottledError) as caught:
                await sink.apply(replace(effect("fp:2"), target=busy_route))
        finally:
            await sink.aclose()
    assert caught.value.retry_after_s == 30
    assert not caught.value.pauses_intake
