"""Transport faults nobody picked by hand: a seeded schedule of faults at every remote of one
pipeline, with the invariants the design promises checked once everything has settled.

Each seed drives one real pipeline (`app.pipeline_from`, the real backend, GitHub and Slack
sinks behind their circuit breakers, the OpenAI summariser) through a run of alert messages:
incidents firing, repeating, resolving and firing again, and a group of two hosts' disks. Every
remote is a loopback stand-in (`ticketd`, `github_stub`, a Slack webhook, the chat model) behind
a `FaultProxy` of its own, and the store (in memory, or a SQLite file) fails writes on cue. The
schedule, drawn from the seed, says what each remote does with each of its requests (and the
store with each write): answer, reset or close the connection before the request reaches the
service, or *after* the
service did the work (the ticket exists, the answer is lost), hang past the client's timeout,
answer 429 with every kind of Retry-After, 5xx and the waits 408/409/425 with bodies of the
wrong type (HTML, empty, a JSON array, cut-off JSON, megabytes), GitHub's rate-limit 403s
(resets past, absurd, unreadable), trickle the answer, redirect, or cut it short; and SQS may
lose the delete of a processed message, which then comes back. The queue is modelled as SQS does it with the supervisor's rules
(`sqs/supervisor.py`): success deletes, a wait holds the message without spending a receive, a
transient failure releases it with a backoff from the receive count (never past what is left
of SQS's 12 h from the receive, which SQS would refuse: the model's queue says so if asked),
and the sixth receive dead-letters it. The generator never injects a fault into a message's fifth receive, so a
transient fault never earns a dead letter. A fault-free tail then drains the queue and the
sweep.

The invariants (`check_end`): every incident has exactly one ticket open at the backend and at
most one GitHub issue while it fires, none once resolved, and no other (no duplicate after a
lost answer); every ticket and issue is one an incident names; no comment is posted twice for
one effect; nothing is acked with an effect of its incident left undone; nothing is
dead-lettered; the pipeline's counters agree with what the services hold; nothing but the
error tree's exceptions leaves the pipeline, every failure's error says why (the supervisor's
one line), a sink's failed call adds no warning of its own, and no secret reaches a remote, an
error text or a log line. A failure prints the seed and the schedule cut down to the faults
that still fail it (`shrink`).

The real `Supervisor` runs the same pipeline through faults that cost no wait, on a memory
inbox, in `test_the_real_supervisor_keeps_the_promises_through_quick_faults`.

The seeds are chosen by time: `MEMORY_SEEDS` and `SQLITE_SEEDS` runs take a few seconds (a
timeout fault costs the client's timeout, 0.25 s, in real time; everything else is the fake
clock's). About 4,000 more were run by hand (fault rates 0.15 to 0.6, runs of 40 and 90
actions): they found the fixed bugs the regression tests below keep; one seed in twenty with a
group among the alerts found a message acked with a group's effect it claimed left undone,
which the pipeline now fixes (the regression tests below). A run is not exactly
repeatable: timeouts are real, and aiohttp may retry an idempotent request on a pooled
connection the proxy closed.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import random
import re
import socket
import struct
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
import structlog
from pydantic import SecretStr

from factories import T0
from github_stub import GitHubServer
from memory_inbox import MemoryInbox
from memory_store import MemoryStore
from test_pipeline import Clock
from triage.app import pipeline_from, policy_from
from triage.breaker import CircuitBreaker
from triage.demo.loopback import KeepAliveHandler, LoopbackServer
from triage.demo.model import ChatServer
from triage.demo.ticketd import TicketServer
from triage.errors import (
    BackpressureError,
    PermanentError,
    StoreThrottledError,
    StoreUnavailableError,
    TransientError,
)
from triage.health import Health
from triage.incidents import State, Store
from triage.incidents.silences import SilenceCache
from triage.incidents.sqlite import SQLiteStore
from triage.incidents.store import R, RecordChange
from triage.metrics import Metrics
from triage.ops.sweep import Sweep
from triage.pipeline import Pipeline
from triage.redact import Redactor
from triage.routes import load_router
from triage.secrets import BackendToken
from triage.settings import Settings
from triage.sinks.backend import BackendSink
from triage.sinks.base import Sink
from triage.sinks.github import GitHubSink
from triage.sinks.guard import Backpressure, GuardedSink
from triage.sinks.slack import SlackSink
from triage.sqs.base import SupervisorBase
from triage.sqs.inbox import MAX_VISIBILITY_S, Message
from triage.sqs.supervisor import Supervisor, SupervisorConfig
from triage.summarise import build_summariser

BACKEND_TOKEN = "fault-model-backend-Zq81"
GITHUB_TOKEN = "ghp_faultmodelBot0123456789abcdefABCDEF"
OPENAI_KEY = "sk-faultmodel-Kx92mQ"
SLACK_PATH = "/services/T0FAULT/B0MODEL/hookSecretXyz123"
#: A password the alerts quote: no remote, error text or log line may ever see it.
ALERT_SECRET = "Sup3rS3cretPw"
#: The variable the backend's token is read from (set for the run by `play`).
TOKEN_VARIABLE = "TRIAGE_FAULT_MODEL_BACKEND_TOKEN"
REPO = "acme/ops"
ROUTE = "/api/service/tickets"
#: Every client's timeout: a hang costs this much real time (long enough that a busy
#: machine's stall is not taken for one).
TIMEOUT_S = 0.25
#: SQS's redrive: the receive after this many goes to the DLQ.
MAX_RECEIVES = 5
#: The supervisor's defaults (`SupervisorConfig`).
RETRY_BASE_S, RETRY_MAX_S, MAX_HOLD_S = 2.0, 300.0, 3600.0
VISIBILITY_S = 60.0
#: What the supervisor leaves unused of SQS's 12 h from a receive (`_hideable_s`).
VISIBILITY_MARGIN_S = SupervisorBase.VISIBILITY_MARGIN_S

ROUTES = """
[[route]]
name = "disks"
sinks = ["backend", "github", "slack"]
group_by = ["host"]
[route.match]
labels = { grouped = "yes" }

[[route]]
name = "default"
sinks = ["backend", "github", "slack"]
"""

SINGLES = ("api-5xx", "queue-lag", "cert-expiry")
MEMBERS = ("disk-1", "disk-2")
#: The remotes of a schedule; "sqs" is the queue's delete of a processed message.
REMOTES = ("backend", "github", "slack", "llm", "store", "sqs")


# --- The faults ---------------------------------------------------------------------------------

#: Faults a remote's request may meet, and their weights. `…_after` ones reach the service
#: first: it did the work, and the answer is lost.
HTTP_FAULTS: dict[str, int] = {
    "reset_before": 4,
    "close_before": 2,
    "reset_after": 6,
    "truncated_after": 3,
    "hang_before": 1,
    "hang_after": 1,
    "trickle": 3,
    "429": 2,
    "429:0": 1,
    "429:2": 2,
    "429:-5": 1,
    "429:3600": 1,
    "429:99999999": 1,
    "429:nan": 1,
    "429:date-past": 1,
    "429:date-soon": 1,
    "429:soon-ish": 1,
    "500:html": 2,
    "502:empty": 2,
    "503:array": 2,
    "503:truncated": 2,
    "503:huge": 1,
    "408:html": 1,
    "409:array": 1,
    "425:empty": 1,
    "307": 1,
    "302": 1,
}
STORE_FAULTS: dict[str, int] = {"unavailable": 3, "unavailable_after": 3, "throttled": 2}
#: A delete SQS did not carry out (a failed batch entry): the message comes back, processed.
SQS_FAULTS: dict[str, int] = {"delete_lost": 1}
#: GitHub's own way to say wait: a 403 of its rate limits, the reset an epoch time (past,
#: absurdly far, unreadable), or its secondary limit's words.
GITHUB_FAULTS: dict[str, int] = {
    "403:reset-0": 1,
    "403:reset-1e30": 1,
    "403:reset-soon": 1,
    "403:reset-nan": 1,
    "403:secondary": 1,
}

#: How each synthesised body reads.
BODIES: dict[str, bytes] = {
    "html": b"<html><head><title>502</title></head><body><h1>Bad Gateway</h1></body></html>",
    "empty": b"",
    "array": b'[{"message": "not an object"}, 2, null]',
    "truncated": b'{"message": "Service Unavail',
    "huge": b"<p>" + b"x" * (2 * 1024 * 1024) + b"</p>",
}


def _faults_of(remote: str) -> tuple[list[str], list[int]]:
    """The faults `remote` may meet, and their weights. A 409 is a wait only at the backend
    (a request in flight with the same Idempotency-Key); GitHub and Slack take no such key,
    and their 409s are refusals."""
    own = {"store": STORE_FAULTS, "sqs": SQS_FAULTS}
    if remote in own:
        return list(own[remote]), list(own[remote].values())
    faults = {k: w for k, w in HTTP_FAULTS.items() if remote == "backend" or k[:3] != "409"}
    if remote == "github":
        faults |= GITHUB_FAULTS
    return list(faults), list(faults.values())


#: A schedule: remote -> the number of its request (or store write), from 0 -> its fault.
Schedule = dict[str, dict[int, str]]

#: Requests per remote a schedule covers; the run's later ones are answered.
SCHEDULED = 400


def draw_schedule(rng: random.Random, rate: float) -> Schedule:
    """Each request of each remote meets a fault with chance `rate`; each store write and SQS
    delete with a third of it (a failed write fails the attempt before any sink is called, so
    the sinks' faults would rarely be reached)."""
    schedule: Schedule = {}
    for remote in REMOTES:
        names, weights = _faults_of(remote)
        chance = rate / 3 if remote in ("store", "sqs") else rate
        schedule[remote] = {
            n: rng.choices(names, weights)[0] for n in range(SCHEDULED) if rng.random() < chance
        }
    return schedule


class Plan:
    """One remote's part of the schedule, as its requests come: the n-th meets fault n, unless
    the plan is quiet (a fifth receive, or the fault-free tail), when every request is
    answered (and still counted, so the schedule stays where it was drawn)."""

    def __init__(self, faults: dict[int, str]) -> None:
        self.faults = faults
        self.count = 0
        self.quiet = False

    def next(self) -> str:
        n, self.count = self.count, self.count + 1
        return "ok" if self.quiet else self.faults.get(n, "ok")


# --- A proxy that fails on cue ------------------------------------------------------------------


@dataclass
class Request:
    line: str
    head: bytes
    body: bytes


async def _read_request(reader: asyncio.StreamReader) -> Request | None:
    """One HTTP/1.1 request (Content-Length framed, as every client here sends), or None when
    the client closed the connection."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
        return None
    match = re.search(rb"(?im)^content-length:\s*(\d+)", head)
    body = await reader.readexactly(int(match[1])) if match else b""
    return Request(head.split(b"\r\n", 1)[0].decode("latin-1"), head, body)


@dataclass
class Answer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def wire(self, *, length: int | None = None) -> bytes:
        lines = "".join(f"{k}: {v}\r\n" for k, v in self.headers)
        size = len(self.body) if length is None else length
        return (
            f"HTTP/1.1 {self.status} Fault\r\n{lines}Content-Length: {size}\r\n\r\n".encode()
            + self.body
        )


_HOP = frozenset({"connection", "keep-alive", "content-length", "transfer-encoding"})


def _parse_answer(raw: bytes) -> Answer:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = []
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() not in _HOP:
            headers.append((name.strip(), value.strip()))
    return Answer(int(lines[0].split()[1]), headers, body)


def _retry_after(value: str) -> str:
    """A Retry-After header as the fault names it."""
    if value == "date-past":
        return "Wed, 21 Oct 2015 07:28:00 GMT"
    if value == "date-soon":
        return "Fri, 01 Jan 2100 00:00:00 GMT"
    if value == "soon-ish":
        return "in a moment"
    return value


@dataclass
class FaultProxy:
    """A loopback HTTP proxy in front of one remote; each request meets the next fault of its
    `plan`. Asyncio on the test's own loop: no thread, no fixed wait."""

    name: str
    upstream: tuple[str, int]
    plan: Plan
    #: The wall clock the remote keeps (its rate limits' reset times are epoch seconds).
    wall: Callable[[], float]
    #: Requests whose answer was lost after the service acted on them.
    lost: int = 0
    #: Every request and the fault it met.
    seen: list[str] = field(default_factory=list)
    #: Every request body that went on to the service.
    bodies: list[bytes] = field(default_factory=list)
    port: int = 0
    _server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while (request := await _read_request(reader)) is not None:
                fault = self.plan.next()
                self.seen.append(f"{fault} {request.line}")
                if not await self._answer(fault, request, reader, writer):
                    break
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.transport.abort()

    async def _answer(
        self,
        fault: str,
        request: Request,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> bool:
        """Meet `request` with `fault`; whether the connection may serve another request."""
        if fault in ("reset_before", "close_before", "hang_before"):
            if fault == "reset_before":
                _reset(writer)
            elif fault == "hang_before":
                await reader.read()  # until the client gives up and closes
            return False
        status, _, detail = fault.partition(":")
        if status.isdigit():
            writer.write(self._synthesised(int(status), detail).wire())
            await writer.drain()
            return True
        answer = await self._forward(request)
        if fault == "ok":
            writer.write(answer.wire())
        elif fault == "trickle":
            data = answer.wire()
            for i in range(0, len(data), 16):
                writer.write(data[i : i + 16])
                await writer.drain()
                await asyncio.sleep(0)
        else:
            self.lost += 1
            if fault == "reset_after":
                _reset(writer)
            elif fault == "truncated_after":
                whole = answer.wire(length=len(answer.body) + 100)
                writer.write(whole[: len(whole) - len(answer.body) // 2])
                await writer.drain()
            else:  # hang_after
                await reader.read()
            return False
        await writer.drain()
        return True

    def _synthesised(self, status: int, detail: str) -> Answer:
        headers = [("Content-Type", "text/html" if detail == "html" else "application/json")]
        if status == 429:
            if detail:
                headers.append(("Retry-After", _retry_after(detail)))
            return Answer(429, headers, b'{"message": "slow down"}')
        if status in (301, 302, 307):
            return Answer(status, [("Location", "http://127.0.0.1:9/elsewhere")], b"")
        if status == 403:
            return self._github_limit(detail)
        return Answer(status, headers, BODIES[detail])

    def _github_limit(self, detail: str) -> Answer:
        """GitHub's 403 for a spent primary budget (its reset as `detail` says), or for its
        secondary limit."""
        if detail == "secondary":
            body = b'{"message": "You have exceeded a secondary rate limit."}'
            return Answer(403, [("Content-Type", "application/json")], body)
        reset = detail.removeprefix("reset-")
        if reset == "soon":
            reset = str(int(self.wall()) + 90)
        headers = [
            ("Content-Type", "application/json"),
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset", reset),
        ]
        return Answer(403, headers, b'{"message": "API rate limit exceeded for user."}')

    async def _forward(self, request: Request) -> Answer:
        """The service's own answer to `request` (one connection each, closed after it)."""
        reader, writer = await asyncio.open_connection(*self.upstream)
        try:
            lines = request.head.decode("latin-1").split("\r\n")
            kept = [
                line
                for line in lines[1:]
                if line and line.partition(":")[0].strip().lower() not in ("connection",)
            ]
            head = "\r\n".join([lines[0], *kept, "Connection: close", "", ""]).encode("latin-1")
            writer.write(head + request.body)
            await writer.drain()
            self.bodies.append(request.body)
            return _parse_answer(await reader.read())
        finally:
            writer.close()
            await writer.wait_closed()


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with a TCP RST, as a crashed peer or a load balancer's idle cut does."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


# --- The Slack stand-in -------------------------------------------------------------------------


class SlackHook(LoopbackServer):
    """An incoming webhook on 127.0.0.1: records each post's JSON, answers 200 "ok"."""

    thread_name = "slack-hook"

    def __init__(self) -> None:
        self.posts: list[dict[str, Any]] = []
        super().__init__()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        hook = self

        class Handler(KeepAliveHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.path == SLACK_PATH:
                    hook.posts.append(json.loads(raw))
                    status, body = 200, b"ok"
                else:
                    status, body = 404, b"no_service"
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet."""

        return Handler


# --- A store that fails on cue ------------------------------------------------------------------


class Faulty:
    """What the store's writes meet: the `store` part of the schedule."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan

    async def write(self, write: Callable[[], Awaitable[R]]) -> R:
        fault = self.plan.next()
        if fault == "unavailable":
            raise StoreUnavailableError("injected: the store is unreachable")
        if fault == "throttled":
            raise StoreThrottledError("injected: the table is throttled", retry_after_s=1.0)
        result = await write()
        if fault == "unavailable_after":
            raise StoreUnavailableError("injected: the write's answer was lost")
        return result


class FaultyMemoryStore(MemoryStore):
    def __init__(self, faulty: Faulty, settings: Settings) -> None:
        super().__init__(policy_from(settings), timedelta(seconds=settings.effect_lease_s))
        self.faulty = faulty

    async def _update(self, kind: str, key: str, change: RecordChange[R]) -> R:
        return await self.faulty.write(
            lambda: super(FaultyMemoryStore, self)._update(kind, key, change)
        )


class FaultySQLiteStore(SQLiteStore):
    faulty: Faulty

    async def _update(self, kind: str, key: str, change: RecordChange[R]) -> R:
        return await self.faulty.write(
            lambda: super(FaultySQLiteStore, self)._update(kind, key, change)
        )


# --- The world: services, proxies, the pipeline, the queue and the clock -------------------------


@dataclass
class Queued:
    id: str
    body: str
    name: str
    status: str
    sent_at: Any
    visible_at: Any
    receives: int = 0
    #: acked | dead | None (on the queue)
    end: str | None = None
    #: The delivery the supervisor holds (a wait), tried again as it was received.
    held: Message | None = None
    held_since: Any = None
    store_failures: int = 0
    #: When SQS handed out the current delivery: it hides one for 12 h from then, at most.
    received_at: Any = None


class Elapsed:
    """T0 plus the real time since it was made: the clock of a run under the real supervisor,
    which waits in real time."""

    def __init__(self) -> None:
        self._start = time.monotonic()

    @property
    def now(self) -> datetime:
        return T0 + timedelta(seconds=time.monotonic() - self._start)

    def __call__(self) -> datetime:
        return self.now


@dataclass
class World:
    """One run: the remotes and their proxies, the pipeline, the queue and the clock."""

    kind: str
    tmp: Path
    schedule: Schedule
    clock: Clock | Elapsed = field(default_factory=Clock)
    queue: list[Queued] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    steps: list[str] = field(default_factory=list)
    #: Faults on (False in the fault-free tail).
    faulting: bool = True
    rng: random.Random = field(default_factory=lambda: random.Random(0))
    #: Every log line of the run so far (structlog's capture).
    logs: list[dict[str, Any]] = field(default_factory=list)

    def mono(self) -> float:
        """The sinks' and breakers' monotonic clock: the fake clock, in seconds."""
        return 10_000.0 + (self.clock.now - T0).total_seconds()

    def wall(self) -> float:
        return self.clock.now.timestamp()

    async def fake_sleep(self, seconds: float) -> None:
        if isinstance(self.clock, Elapsed):
            await asyncio.sleep(seconds)
        else:
            self.clock.now += timedelta(seconds=seconds)

    async def start(self) -> None:
        """The stand-ins, a proxy before each, and the pipeline whose sinks call them."""
        await self._serve_remotes()
        self.settings = self._settings()
        self.faulty = Faulty(self.plans["store"])
        self.store = await self._store()
        self.metrics = Metrics()
        self.guards = [
            GuardedSink(
                sink,
                CircuitBreaker(f"sink:{sink.name}", 5, 30.0, clock=self.mono),
                clock=self.mono,
            )
            for sink in self._sinks()
        ]
        self.backpressure = Backpressure(self.guards, Health())
        redactor = Redactor()
        silences = SilenceCache(self.store, max_age_s=0)
        self.summariser = build_summariser(self.settings, self.metrics, redactor)
        self.pipeline: Pipeline = pipeline_from(
            self.settings,
            self.store,
            self.summariser,
            self.guards,
            self.metrics,
            redactor,
            load_router(self.settings),
            silences=silences,
        )
        self.pipeline.ledger.clock = self.clock
        self.sweep = Sweep(
            self.store, self.pipeline, silences, None, 1.0, owner="sweep", clock=self.clock
        )

    async def _serve_remotes(self) -> None:
        self.backend = TicketServer(BACKEND_TOKEN, route=ROUTE).start()
        self.github = GitHubServer(
            tokens={GITHUB_TOKEN: "triage-bot"}, repositories=(REPO,), clock=self.wall
        ).start()
        self.slack = SlackHook().start()
        self.chat = ChatServer().start()
        self.plans = {remote: Plan(self.schedule.get(remote, {})) for remote in REMOTES}
        servers = {"backend": self.backend, "github": self.github, "slack": self.slack}
        self.proxies = {
            name: FaultProxy(name, _address(server), self.plans[name], self.wall)
            for name, server in (servers | {"llm": self.chat}).items()
        }
        for proxy in self.proxies.values():
            await proxy.start()

    def _settings(self) -> Settings:
        """Every remote through its proxy; every client's timeout short, no retry of its own."""
        routes = self.tmp / "routes.toml"
        routes.write_text(ROUTES)
        return Settings(
            routes_file=routes,
            backend_base_url=self.proxies["backend"].url,
            backend_service_route=ROUTE,
            backend_update_route=ROUTE + "/{ref}/updates",
            backend_resolve_route=ROUTE + "/{ref}/resolve",
            backend_timeout_s=TIMEOUT_S,
            backend_token_env_key=TOKEN_VARIABLE,
            github_api_url=self.proxies["github"].url,
            github_repository=REPO,
            github_token=SecretStr(GITHUB_TOKEN),
            github_timeout_s=TIMEOUT_S,
            slack_webhook_url=SecretStr(self.proxies["slack"].url + SLACK_PATH),
            slack_timeout_s=TIMEOUT_S,
            slack_min_interval_s=0,
            openai_api_key=SecretStr(OPENAI_KEY),
            openai_base_url=self.proxies["llm"].url + "/v1",
            llm_timeout_s=TIMEOUT_S,
            llm_retries=0,
        )

    def _sinks(self) -> list[Sink]:
        """The real sinks, on the fake clock (GitHub's budgets in the faulty store)."""
        return [
            BackendSink(
                self.settings, BackendToken(self.settings), metrics=self.metrics, clock=self.mono
            ),
            GitHubSink(
                self.settings,
                metrics=self.metrics,
                budgets=self.store,
                clock=self.mono,
                wall_clock=self.wall,
            ),
            SlackSink(self.settings, metrics=self.metrics, clock=self.mono, sleep=self.fake_sleep),
        ]

    async def _store(self) -> Store:
        if self.kind == "memory":
            return FaultyMemoryStore(self.faulty, self.settings)
        store = FaultySQLiteStore(
            str(self.tmp / "incidents.db"),
            policy_from(self.settings),
            timedelta(seconds=self.settings.effect_lease_s),
            timedelta(days=30),
        )
        store.faulty = self.faulty
        await store.open()
        return store

    async def stop(self) -> None:
        for guard in self.guards:
            await guard.aclose()
        await self.summariser.aclose()
        await self.store.aclose()
        for proxy in self.proxies.values():
            await proxy.stop()
        for server in (self.backend, self.github, self.slack, self.chat):
            server.stop()

    # --- the queue ---

    def send(self, name: str, status: str, host: str | None) -> None:
        body: dict[str, Any] = {
            "title": f"{name} is failing",
            "dedup_key": name,
            "status": status,
            "priority": "P1",
            "team": "platform",
            "timestamp": self.clock.now.isoformat(),
            "description": f"{name}: postgres://app:{ALERT_SECRET}@db-1:5432/orders refused",
        }
        if name in MEMBERS:
            body["labels"] = {"grouped": "yes"}
            body["host"] = host or "a"
        mid = f"m{len(self.queue)}"
        now = self.clock.now
        self.queue.append(Queued(mid, json.dumps(body), name, status, now, now))
        self.steps.append(f"send {mid} {name} {status}")

    def _plan(self, queued: Queued | None) -> None:
        """Faults on for the next attempt, unless it is a message's last receive before the
        DLQ (the generator never dead-letters a message by itself) or the tail."""
        receive = 0 if queued is None else queued.receives + (queued.held is None)
        last = receive >= MAX_RECEIVES
        for plan in self.plans.values():
            plan.quiet = last or not self.faulting

    async def deliver(self, queued: Queued) -> None:
        """One receive of `queued` (or the held delivery's next try), and what the supervisor
        does with its end."""
        now = self.clock.now
        self._plan(queued)
        if queued.held is not None:
            message, queued.held = queued.held, None
        else:
            queued.receives += 1
            if queued.receives > MAX_RECEIVES:
                queued.end = "dead"
                self.steps.append(f"  {queued.id} dead-lettered")
                return
            queued.received_at = now
            message = Message(
                queued.id,
                queued.body,
                f"rh-{queued.id}-{queued.receives}",
                queued.receives,
                queued.sent_at,
                received_at=now,
            )
        queued.visible_at = now + timedelta(seconds=VISIBILITY_S)
        logged = len(self.logs)
        try:
            outcomes = await self.pipeline.process(message)
        except Exception as exc:
            self._one_line(queued, self.logs[logged:])
            self._failed(queued, message, exc)
            return
        queued.store_failures = 0
        queued.held_since = None
        self.steps.append(f"  {queued.id}: {', '.join(str(o.action) for o in outcomes)}")
        await self._acked(queued, message)

    def _failed(self, queued: Queued, message: Message, exc: Exception) -> None:
        """What the supervisor does with a failed attempt (`_until_done`)."""
        now = self.clock.now
        if isinstance(exc, BackpressureError):
            self._hold(queued, message, exc, exc.retry_after_s)
        elif isinstance(exc, StoreUnavailableError):
            queued.store_failures += 1
            wait_s = min(30.0, 2.0 ** min(queued.store_failures - 1, 16))
            self._hold(queued, message, exc, max(wait_s, exc.retry_after_s or 0.0))
        elif isinstance(exc, PermanentError):
            self.problems.append(f"{queued.id} rejected: {exc.reason} {exc}")
            self._said_why(exc)
            queued.visible_at = now
        elif isinstance(exc, TransientError):
            self._said_why(exc)
            self._release(queued, exc.retry_after_s, f"{exc.reason}: {exc}")
        else:  # a bug: the supervisor logs it with a traceback
            self.problems.append(f"{queued.id} crashed: {type(exc).__name__}: {exc}")
            self._release(queued, None, repr(exc))

    def _one_line(self, queued: Queued, lines: list[dict[str, Any]]) -> None:
        """A failed attempt's own line is the supervisor's (`message.retry`, `.held`), or the
        breaker's that opened: a sink's failed call logs at debug, so a fault at a remote
        adds no warning of the sink's own."""
        loud = [
            e["event"]
            for e in lines
            if e.get("log_level") in ("warning", "error")
            and str(e["event"]).startswith(SINK_EVENTS)
            and str(e["event"]).endswith(FAILED_CALLS)
        ]
        if loud:
            self.problems.append(f"{queued.id}'s failed attempt logged {loud}")

    def _said_why(self, exc: Exception) -> None:
        """The one line the supervisor writes for a failure says why, and holds no secret."""
        text = str(exc)
        if not text.strip():
            self.problems.append(f"{type(exc).__name__} says nothing of why")
        for secret in SECRETS:
            if secret in text:
                self.problems.append(f"{type(exc).__name__}'s text holds a secret: {text[:200]}")

    def _hold(
        self, queued: Queued, message: Message, exc: TransientError, wait_s: float | None
    ) -> None:
        """`_until_done`'s hold: tried again after the wait, without a receive, unless held
        past max_hold_s or past what the heartbeat can keep hidden (`_hold_limit`: 12 h from
        the receive, less the margin and a visibility timeout); then released."""
        self._said_why(exc)
        now = self.clock.now
        queued.held_since = queued.held_since or now
        wait = max(wait_s if wait_s is not None else 1.0, 0.05)
        held_s = (now - queued.held_since).total_seconds() + wait
        if held_s > MAX_HOLD_S or wait > self._hideable_s(queued) - VISIBILITY_S:
            queued.held_since = None
            self._release(queued, wait, f"held too long: {exc.reason}")
            return
        queued.held = message
        queued.visible_at = now + timedelta(seconds=wait)
        self.steps.append(f"  {queued.id} held {wait:g} s: {exc.reason}")

    def _release(self, queued: Queued, retry_after_s: float | None, why: str) -> None:
        """`_retry_later`: the backoff, or the wait the service asked when longer, rounded up
        and never past what SQS lets this delivery stay hidden (`_hideable_s`)."""
        ceiling = min(RETRY_MAX_S, RETRY_BASE_S * 2 ** max(0, queued.receives - 1))
        delay = self.rng.uniform(ceiling / 2, ceiling)
        if retry_after_s is not None:
            delay = max(delay, retry_after_s)
        left_s = max(0, math.floor(self._hideable_s(queued)))
        hidden_s = min(math.ceil(delay), MAX_VISIBILITY_S, left_s)
        self._hide(queued, hidden_s)
        self.steps.append(f"  {queued.id} retry in {hidden_s} s: {why[:120]}")

    def _hideable_s(self, queued: Queued) -> float:
        """What is left of SQS's 12 h from the delivery's receive, less the supervisor's
        margin (`SupervisorBase._hideable_s`)."""
        age_s = (self.clock.now - queued.received_at).total_seconds()
        return MAX_VISIBILITY_S - VISIBILITY_MARGIN_S - age_s

    def _hide(self, queued: Queued, timeout_s: float) -> None:
        """SQS's ChangeMessageVisibility: it refuses to hide a delivery past MAX_VISIBILITY_S
        from its receive (the message would stay hidden as it was, not as asked)."""
        left_s = MAX_VISIBILITY_S - (self.clock.now - queued.received_at).total_seconds()
        if timeout_s > left_s:
            self.problems.append(
                f"{queued.id}: a release of {timeout_s:.0f} s asks past SQS's 12 h "
                f"from its receive ({left_s:.0f} s left): SQS refuses it"
            )
        queued.visible_at = self.clock.now + timedelta(seconds=timeout_s)

    async def _acked(self, queued: Queued, message: Message) -> None:
        """Deleted: no effect it claimed may be left undone (another message, held, may own
        one of its incident's)."""
        for incident in await self.store.incidents():
            pending = incident.pending
            if pending is not None and pending.owner.startswith(f"{queued.id}#"):
                self.problems.append(
                    f"{queued.id} acked with {incident.pending.kind} of {incident.title} undone"
                )
        if self.plans["sqs"].next() == "delete_lost":
            # Processed, but SQS still holds it: it comes back once its visibility ends.
            self.steps.append(f"  {queued.id} processed, its delete lost")
            return
        queued.end = "acked"
        for settled in message.on_deleted:
            settled()
        self.steps.append(f"  {queued.id} acked")

    # --- the supervisor's intake ---

    async def probe(self) -> None:
        """What the daemon's backpressure does between messages: probe a sink whose breaker
        is half-open (`Backpressure.intake_limit` starts it), with the faults of an attempt."""
        self.backpressure.intake_limit()
        self._plan(None)
        for guard in self.guards:
            if guard.probing and guard.can_probe:
                await guard.probe()

    def may_take(self) -> bool:
        return self.backpressure.intake_limit() != 0

    def next_visible(self) -> Queued | None:
        """The next delivery: a held message due first (intake paused or not), else a new
        receive if intake allows."""
        now = self.clock.now
        due = [q for q in self.queue if q.end is None and q.visible_at <= now]
        held = [q for q in due if q.held is not None]
        if held:
            return held[0]
        return due[0] if due and self.may_take() else None

    async def step(self) -> bool:
        """Deliver the next message, or let time pass until one is due; False when nothing is
        left on the queue."""
        waiting = [q for q in self.queue if q.end is None]
        if not waiting:
            return False
        await self.probe()
        queued = self.next_visible()
        if queued is not None:
            self.steps.append(
                f"deliver {queued.id} (receive {queued.receives + (queued.held is None)})"
            )
            await self.deliver(queued)
            return True
        soonest = min(q.visible_at for q in waiting)
        blocked = [b for g in self.guards if (b := g.blocked_for()) is not None]
        wait = max((soonest - self.clock.now).total_seconds(), min(blocked, default=0.0), 1.0)
        self.clock.now += timedelta(seconds=wait)
        return True


#: The sinks' log events, and the endings of those that say a call failed (a decision the
#: sink took, such as skipping an update the backend refuses for good, is a line of its own).
SINK_EVENTS = ("backend.", "github.", "slack.", "sink.")
FAILED_CALLS = (
    ".unavailable",
    ".unreachable",
    ".throttled",
    ".rate_limited",
    ".rejected",
    ".redirected",
    ".unauthorized",
    ".bad_response",
    ".down",
)

SECRETS = (BACKEND_TOKEN, GITHUB_TOKEN, OPENAI_KEY, SLACK_PATH, ALERT_SECRET)


def _address(server: LoopbackServer) -> tuple[str, int]:
    return ("127.0.0.1", int(server.base_url.rsplit(":", 1)[1]))


# --- The run -----------------------------------------------------------------------------------

Action = tuple[Any, ...]


def actions_of(seed: int, count: int = 40) -> list[Action]:
    """The alerts of run `seed`, with deliveries and time between them."""
    rng = random.Random(seed)
    out: list[Action] = []
    for _ in range(count):
        roll = rng.random()
        if roll < 0.4:
            name = rng.choice(SINGLES + MEMBERS)
            status = "firing" if rng.random() < 0.65 else "resolved"
            out.append(("send", name, status, rng.choice(("a", "b"))))
        elif roll < 0.92:
            out.append(("deliver",))
        else:
            out.append(("clock", rng.choice((5, 60, 600, 1000))))
    return out


async def play(
    kind: str, tmp: Path, actions: list[Action], schedule: Schedule
) -> tuple[list[str], World]:
    """Carry the run out, drain it fault-free, check: the problems found, and the world."""
    world = World(kind, tmp, schedule)
    os.environ[TOKEN_VARIABLE] = BACKEND_TOKEN
    errors: list[str] = []
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(lambda _, context: errors.append(str(context.get("message"))))
    await world.start()
    try:
        with structlog.testing.capture_logs() as logs:
            world.logs = logs
            for action in actions:
                if action[0] == "send":
                    world.send(*action[1:])
                elif action[0] == "deliver":
                    await world.step()
                else:
                    world.clock.now += timedelta(seconds=action[1])
            world.faulting = False
            for _ in range(2000):
                if not await world.step():
                    break
            else:
                world.problems.append("the queue never drained")
            for _ in range(3):
                world.clock.now += timedelta(minutes=20)
                await world.probe()
                await world.sweep.once()
        problems = world.problems + await check_end(world, logs)
        problems += [f"unhandled in the loop: {e}" for e in errors]
        return problems, world
    finally:
        await world.stop()
        loop.set_exception_handler(None)
        os.environ.pop(TOKEN_VARIABLE, None)


async def check_end(world: World, logs: list[dict[str, Any]]) -> list[str]:
    """What must hold once every message is acked and the sweep has done its work."""
    problems = [
        f"{q.id} ({q.name} {q.status}) {q.end or 'left'}" for q in world.queue if q.end != "acked"
    ]
    incidents = await world.store.incidents()
    for incident in incidents:
        if incident.pending is not None:
            problems.append(f"{incident.title}: effect left {incident.pending.kind}")
        if incident.held is not None:
            problems.append(f"{incident.title}: effect still held {incident.held.kind}")
    problems += _backend(world, incidents)
    problems += _github(world, incidents)
    problems += _slack(world, incidents)
    problems += _counters(world)
    problems += _leaks(world, logs)
    return problems


def _backend(world: World, incidents: list[Any]) -> list[str]:
    """One open ticket per firing incident (its own reference), none for a resolved one, and
    every ticket one some incident names now or named before its close."""
    problems = []
    closed: set[str] = set()
    reopened: set[str] = set()
    for event in world.backend.events:
        if event["kind"] == "resolve":
            closed.add(event["id"])
            reopened.discard(event["id"])
        elif event["body"].get("reopened"):
            closed.discard(event["id"])
    tickets = world.backend.tickets
    open_by_fp: dict[str, list[str]] = {}
    for ticket in tickets:
        if ticket["id"] not in closed:
            open_by_fp.setdefault(ticket["body"]["fingerprint"], []).append(ticket["id"])
    for incident in incidents:
        mine = open_by_fp.pop(incident.fingerprint, [])
        ref = incident.refs.get("backend")
        if incident.state is State.OPEN:
            if mine != [ref]:
                problems.append(f"{incident.title}: open at the backend {mine}, its ref {ref}")
        elif mine:
            problems.append(f"{incident.title}: resolved, tickets {mine} open at the backend")
    for fingerprint, refs in open_by_fp.items():
        problems.append(f"tickets {refs} open at the backend for no incident ({fingerprint[:12]})")
    return problems


_MARKER = re.compile(r"<!-- triage:effect=([^ ]+) -->")


def _github(world: World, incidents: list[Any]) -> list[str]:
    """At most one open issue per incident (its own reference), none once resolved, and no
    comment posted twice for one effect."""
    problems = []
    issues = world.github.issues(REPO)
    by_fp: dict[str, list[dict[str, Any]]] = {}
    for issue in issues:
        found = re.search(r"triage:fingerprint=([0-9a-f]+)", issue.get("body") or "")
        if found:
            by_fp.setdefault(found[1], []).append(issue)
        keys = Counter(m[1] for c in issue["comment_bodies"] for m in _MARKER.finditer(c))
        twice = [k for k, n in keys.items() if n > 1]
        if twice:
            problems.append(f"issue {issue['number']}: comments posted twice for {twice}")
    for incident in incidents:
        mine = [i for i in by_fp.pop(incident.fingerprint, []) if i["state"] == "open"]
        ref = incident.refs.get("github")
        urls = [i["html_url"] for i in mine]
        if incident.state is State.OPEN and ref is not None and urls != [ref]:
            problems.append(f"{incident.title}: open issues {urls}, its ref {ref}")
        if incident.state is State.OPEN and ref is None and urls:
            problems.append(f"{incident.title}: open issues {urls}, no ref")
        if incident.state is State.CLOSED and urls:
            problems.append(f"{incident.title}: resolved, issues {urls} open")
    for fingerprint, left in by_fp.items():
        opened = [i["number"] for i in left if i["state"] == "open"]
        if opened:
            problems.append(f"issues {opened} open for no incident ({fingerprint[:12]})")
    return problems


def _slack(world: World, incidents: list[Any]) -> list[str]:
    """Every incident with a ticket was posted to Slack, and every resolved one's close too
    (Slack posts at least once: a lost answer may post twice, so no more is checked)."""
    problems = []
    texts = [str(post.get("text", "")) for post in world.slack.posts]
    for incident in incidents:
        if incident.ticket is None:
            continue
        if "slack" not in incident.refs:
            problems.append(f"{incident.title}: never posted to Slack")
        elif incident.state is State.CLOSED:
            resolved = f"Resolved: {incident.ticket.title}"
            if not any(text.startswith(resolved) for text in texts):
                problems.append(f"{incident.title}: its close never posted to Slack")
    return problems


def _counters(world: World) -> list[str]:
    """The pipeline's counters agree with what the backend holds (a confirmation the store
    wrote but did not answer is read back and counted once)."""
    problems = []
    created = world.metrics.counter("TicketsCreated", sink="backend")
    tickets = len(world.backend.tickets)
    if created != tickets:
        problems.append(f"TicketsCreated{{backend}} {created:g}, the backend holds {tickets}")
    resolves = sum(1 for e in world.backend.events if e["kind"] == "resolve")
    closed = world.metrics.counter("TicketsClosed", sink="backend")
    if closed != resolves:
        problems.append(f"TicketsClosed{{backend}} {closed:g}, the backend recorded {resolves}")
    return problems


def _leaks(world: World, logs: list[dict[str, Any]]) -> list[str]:
    """No secret in what reached a remote, nor in a log line."""
    problems = []
    for proxy in world.proxies.values():
        for body in proxy.bodies:
            if ALERT_SECRET.encode() in body:
                problems.append(f"{proxy.name} was sent the alert's password")
                break
    for entry in logs:
        line = json.dumps(entry, default=str)
        if any(secret in line for secret in SECRETS):
            problems.append(f"log line {entry.get('event')} holds a secret")
    return problems


def faults_in(schedule: Schedule) -> list[tuple[str, int]]:
    """Every fault of `schedule`, as (remote, request number)."""
    return [(remote, n) for remote, faults in schedule.items() for n in sorted(faults)]


def _without(schedule: Schedule, remote: str, n: int) -> Schedule:
    copy = {r: dict(faults) for r, faults in schedule.items()}
    del copy[remote][n]
    return copy


async def shrink(kind: str, tmp: Path, actions: list[Action], schedule: Schedule) -> Schedule:
    """The schedule with every fault left out that the failure does not need: whole halves
    of the faults first, then one at a time."""
    tries = 0

    async def fails(candidate: Schedule) -> bool:
        nonlocal tries
        tries += 1
        run_dir = tmp / f"shrink{tries}"
        run_dir.mkdir()
        return bool((await play(kind, run_dir, actions, candidate))[0])

    chunk = len(faults_in(schedule)) // 2
    while chunk >= 1:
        faults = faults_in(schedule)
        for start in range(0, len(faults), chunk):
            candidate = schedule
            for remote, n in faults[start : start + chunk]:
                candidate = _without(candidate, remote, n)
            if candidate != schedule and await fails(candidate):
                schedule = candidate
        chunk //= 2
    return {remote: faults for remote, faults in schedule.items() if faults}


async def run(
    seed: int,
    kind: str,
    tmp: Path,
    rate: float,
    *,
    spared: tuple[str, ...] = (),
) -> list[str]:
    """One seeded run (the `spared` remotes meet no fault); its problems, with the seed and
    the shrunk schedule that still fails."""
    rng = random.Random(f"faults-{seed}")
    actions = actions_of(seed)
    schedule = draw_schedule(rng, rate)
    for remote in spared:
        schedule[remote] = {}
    problems, first = await play(kind, tmp, actions, schedule)
    if not problems:
        return []
    short = await shrink(kind, tmp, actions, schedule)
    (tmp / "short").mkdir(exist_ok=True)
    replayed, world = await play(kind, tmp / "short", actions, short)
    if not replayed:
        # Timeouts are real: a stall of the machine can fail a run its replay passes. The
        # first run's problems and steps are what happened, so those are shown.
        return [
            f"seed {seed} ({kind}): " + "; ".join(problems),
            f"(not seen again on replay) schedule: {schedule}",
            f"actions: {actions}",
            "steps:",
            *first.steps,
        ]
    return [
        f"seed {seed} ({kind}): " + "; ".join(replayed),
        f"shrunk schedule: {short}",
        f"actions: {actions}",
        "steps:",
        *world.steps,
    ]


#: Chance that a request meets a fault (a store write or SQS delete: a third of it).
RATE = 0.3
#: Seeds the suite runs (chosen by time; all of 0-149 pass).
MEMORY_SEEDS = range(5)
SQLITE_SEEDS = range(2)


@pytest.mark.parametrize(("kind", "seeds"), [("memory", MEMORY_SEEDS), ("sqlite", SQLITE_SEEDS)])
async def test_faults_at_every_remote_leave_every_promise_kept(
    tmp_path: Path, kind: str, seeds: range
) -> None:
    """Seeded schedules of transport and store faults at every remote of a pipeline leave one
    ticket per incident in the right state, nothing dead-lettered or half done, the counters
    true and no secret out."""
    for seed in seeds:
        run_dir = tmp_path / f"s{seed}"
        run_dir.mkdir()
        problems = await run(seed, kind, run_dir, RATE)
        assert not problems, "\n".join(problems)


#: Runs the model found, cut down to the faults they need: a message holding a group's effect
#: waits (a store outage, Slack's Retry-After of an hour), another member's alert takes the
#: effect over, and on their next tries both decided "ignore" for their own alerts and were
#: acked with the effect half done (the backend told, GitHub or Slack not): the group's issue
#: was never opened or never closed (fixed in 77bc850).
GROUP_EFFECTS_LEFT = [
    (194, {"slack": {1: "429:3600"}}),  # the group's OPEN: GitHub and Slack never told
    (3, {"store": {26: "unavailable", 29: "throttled"}}),  # its CLOSE: the issue stayed open
]


@pytest.mark.parametrize(("seed", "schedule"), GROUP_EFFECTS_LEFT)
async def test_a_message_is_not_acked_with_a_group_effect_it_claimed_undone(
    tmp_path: Path, seed: int, schedule: Schedule
) -> None:
    """Run `seed`'s alerts with the few faults that broke it keep every promise: no message
    is acked while an effect it claimed (of a group its alert fell in) is left undone."""
    problems, _ = await play("memory", tmp_path, actions_of(seed), schedule)
    assert problems == []


#: The same promise broken after a store write whose answer was lost (the write happened):
#: the OPEN of a group was left at the backend alone (fixed: a claim whose write went
#: unanswered is remembered with the message, and its retry finishes it).
async def test_a_group_effect_is_not_left_after_a_store_answer_was_lost(tmp_path: Path) -> None:
    """Seed 297's alerts with the faults that broke it keep every promise."""
    schedule: Schedule = {
        "backend": {2: "408:html", 4: "503:truncated"},
        "github": {2: "425:empty", 3: "502:empty"},
        "store": {10: "unavailable", 24: "unavailable", 25: "unavailable", 26: "unavailable_after"},
    }
    problems, _ = await play("memory", tmp_path, actions_of(297), schedule)
    assert problems == []


# --- The real supervisor ------------------------------------------------------------------------
#
# The model above acts out the supervisor's rules on a fake clock. Here the real `Supervisor`
# runs the pipeline, on a memory inbox and in real time, so only faults that cost no long wait
# go in (no 429, hang or rate limit: those hold a message for a second or more), one worker
# takes the messages (two on one incident wait a second for each other) and the breakers
# reset in 50 ms; what is checked is that its tasks, acks and releases keep the same promises.

#: Faults that are retried soon (the supervisor's release rounds its backoff up to a second).
QUICK_FAULTS = (
    "reset_before",
    "close_before",
    "reset_after",
    "truncated_after",
    "trickle",
    "500:html",
    "502:empty",
    "503:array",
    "503:truncated",
)


def quick_schedule(seed: int, requests: int = 16) -> Schedule:
    """A few quick faults in each remote's first `requests` requests (then none, so the
    messages settle well within SQS's five receives)."""
    rng = random.Random(f"quick-{seed}")
    return {
        remote: {n: rng.choice(QUICK_FAULTS) for n in range(requests) if rng.random() < 0.15}
        for remote in ("backend", "github", "slack", "llm")
    }


async def supervised(tmp: Path, seed: int) -> list[str]:
    """`seed`'s alerts queued at once and served by the real supervisor until drained; what
    `check_end` finds, and what the supervisor itself did wrong."""
    world = World("memory", tmp, quick_schedule(seed), clock=Elapsed())
    os.environ[TOKEN_VARIABLE] = BACKEND_TOKEN
    await world.start()
    for guard in world.guards:  # an open breaker's wait is the run's longest: kept short
        guard.breaker.reset_s = 0.05
    try:
        with structlog.testing.capture_logs() as logs:
            inbox = MemoryInbox()
            for action in actions_of(seed):
                if action[0] == "send":
                    world.send(*action[1:])
                    inbox.put(world.queue[-1].body)
            supervisor = Supervisor(
                # One worker: two at once on one incident wait a second for each other.
                SupervisorConfig(
                    concurrency=1, wait_s=0, retry_base_s=0.01, retry_max_s=0.05, drain=True
                ),
                inbox,
                world.pipeline.process,
                world.metrics,
                intake_limit=world.backpressure.intake_limit,
            )
            async with asyncio.timeout(30):
                await supervisor.serve()
            for queued in world.queue:
                queued.end = "acked"  # what the inbox still holds is checked below
            problems = await check_end(world, logs)
    finally:
        await world.stop()
        os.environ.pop(TOKEN_VARIABLE, None)
    return problems + _supervisor_problems(supervisor, inbox)


def _supervisor_problems(supervisor: Supervisor, inbox: MemoryInbox) -> list[str]:
    """No bug, stuck message or rejection, and every message deleted."""
    stats = supervisor.stats
    problems = [
        f"{mid} failed: {failure.reason} {failure.error}"
        for mid, failure in stats.failures.items()
        if failure.reason in ("bug", "timeout")
    ]
    if stats.rejected:
        problems.append(f"{stats.rejected} rejected")
    return problems + [
        f"{mid} left after {e.receives} receives" for mid, e in inbox.entries.items()
    ]


async def test_the_real_supervisor_keeps_the_promises_through_quick_faults(tmp_path: Path) -> None:
    """The real supervisor serving a pipeline whose remotes reset, cut and fail answers acks
    every message once its effects are done, with one ticket per incident in the right state."""
    assert await supervised(tmp_path, 5) == []


# --- Regressions: faults the model found, cut down to the request that meets them ----------------

FIRE_THEN_RESOLVE: list[Action] = [
    ("send", "api-5xx", "firing", "a"),
    ("deliver",),
    ("send", "api-5xx", "resolved", "a"),
    ("deliver",),
]


@pytest.mark.parametrize(
    ("remote", "nth", "fault"),
    [
        ("github", 0, "425:empty"),  # the look-up for an issue already opened
        ("github", 4, "425:html"),  # the close (PATCH), after its comment
        ("slack", 0, "425:empty"),  # the new incident's post
        ("slack", 0, "307"),
        ("slack", 0, "302"),
        ("slack", 1, "301"),  # the resolve's post
    ],
)
async def test_a_too_early_or_redirect_answer_is_retried_not_a_refusal(
    tmp_path: Path, remote: str, nth: int, fault: str
) -> None:
    """GitHub's or Slack's 425 Too Early, and Slack's redirect, are retried as an outage is,
    not taken for a refusal: the issue closes and the post goes out (a refusal ended that
    sink's part of the effect for good, and the message failed)."""
    problems, _ = await play("memory", tmp_path, FIRE_THEN_RESOLVE, {remote: {nth: fault}})
    assert problems == []


async def test_a_ticket_whose_confirmation_answer_was_lost_is_counted_once(
    tmp_path: Path,
) -> None:
    """A ticket whose store confirmation was written but answered with an error counts once
    in TicketsCreated (it went uncounted: the redelivery found it confirmed; fixed in
    ad7d14b)."""
    actions: list[Action] = [("send", "api-5xx", "firing", "a"), ("deliver",), ("deliver",)]
    _, world = await play("memory", tmp_path, actions, {"store": {2: "unavailable_after"}})
    assert world.metrics.counter("TicketsCreated", sink="backend") == len(world.backend.tickets)


async def test_a_create_answered_409_past_the_conflict_window_is_held_not_refused(
    tmp_path: Path,
) -> None:
    """A new ticket's create answered 409 (its key in flight) again more than a minute after
    the first (an hour's Retry-After between) is still a wait, and the ticket is created (it
    was refused for good as a person's conflict, and the incident never had one)."""
    actions: list[Action] = [("send", "api-5xx", "firing", "a"), *[("deliver",)] * 6]
    schedule: Schedule = {"backend": {0: "409:array", 1: "429:3600", 2: "409:empty"}}
    problems, world = await play("memory", tmp_path, actions, schedule)
    assert problems == []
    assert len(world.backend.tickets) == 1


# --- SQS's 12 h: a delivery is hidden at most MAX_VISIBILITY_S from its receive ----------------


def aged_delivery(world: World, age_s: float) -> Queued:
    """A delivery received `age_s` ago on `world`'s clock (a supervisor may hold one that long
    with a long TRIAGE_MAX_HOLD_S)."""
    world.clock.now = T0 + timedelta(seconds=age_s)
    return Queued("m0", "{}", "api-5xx", "firing", T0, T0, receives=1, received_at=T0)


def test_the_models_sqs_refuses_to_hide_a_delivery_past_12_h_from_its_receive(
    tmp_path: Path,
) -> None:
    """The model's queue says so when a release asks SQS to hide a delivery past 12 h from
    its receive (SQS refuses such a change): up to what is left it is silent."""
    world = World("memory", tmp_path, {})
    queued = aged_delivery(world, 40_000)
    world._hide(queued, MAX_VISIBILITY_S - 40_000)
    assert world.problems == []
    world._hide(queued, MAX_VISIBILITY_S - 40_000 + 1)
    assert len(world.problems) == 1 and "past SQS's 12 h" in world.problems[0]


@pytest.mark.parametrize("retry_after_s", [None, 3600.0, 43_200.0])
def test_the_models_release_asks_no_more_than_sqs_has_left(
    tmp_path: Path, retry_after_s: float | None
) -> None:
    """The model releases as the supervisor does (`_retry_later`): its backoff or the wait
    the service asked, rounded up, but never past what is left of SQS's 12 h from the
    receive less VISIBILITY_MARGIN_S (`_hideable_s`)."""
    world = World("memory", tmp_path, {})
    age_s = MAX_VISIBILITY_S - VISIBILITY_MARGIN_S - 1.0  # less than any backoff left
    queued = aged_delivery(world, age_s)
    world._release(queued, retry_after_s, "why")
    assert world.problems == []
    hidden_s = (queued.visible_at - world.clock.now).total_seconds()
    assert hidden_s == MAX_VISIBILITY_S - VISIBILITY_MARGIN_S - age_s


def test_the_models_hold_ends_in_a_release_when_sqs_would_show_the_message_mid_hold(
    tmp_path: Path,
) -> None:
    """A hold whose wait would outlast what the heartbeat can keep hidden (12 h from the
    receive, less the margin and a visibility timeout) is a release, as the supervisor's
    `sqs_visibility_max` limit makes it, within what SQS has left."""
    world = World("memory", tmp_path, {})
    age_s = MAX_VISIBILITY_S - 1000.0
    queued = aged_delivery(world, age_s)
    message = Message("m0", "{}", "rh-m0-1", 1, T0, received_at=T0)
    world._hold(queued, message, BackpressureError("slow down", retry_after_s=2000.0), 2000.0)
    assert queued.held is None and world.problems == []
    assert "held too long" in world.steps[-1]
    assert queued.visible_at <= T0 + timedelta(seconds=MAX_VISIBILITY_S)
