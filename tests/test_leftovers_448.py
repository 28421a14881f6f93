"""Ticket-backend and fault leftovers of round 13 (task 448), each proved where it shows:

- A ServiceNow answer (`{"result": {"sys_id": …, "number": …}}`) named no ticket, so the
  Idempotency-Key became its reference, which no ServiceNow route finds.
- A `TRIAGE_BACKEND_TIMEOUT_S` whose request can outlast `TRIAGE_MESSAGE_TIMEOUT_S` was taken
  without a word: every slow answer cut the message off instead of failing the request.
- A claim given back after its finishing confirmation was written but unanswered logged
  `store.lease_lost` ("someone took the effect over"), which nobody did.
- An SQS entry a receive cannot read was made visible again at once: on a queue without a
  redrive policy it came straight back, in a loop as fast as SQS answers.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field as dc_field
from pathlib import Path
from typing import Any

import httpx2
import pytest
import structlog
from aiohttp import web

from factories import alert as factory_alert
from factories import view
from memory_store import MemoryStore
from recording_pipeline import POLICY, Sink, Summariser
from triage.app import deployment_warnings
from triage.errors import SinkUnavailableError, StoreUnavailableError
from triage.incidents.ledger import Ledger
from triage.incidents.lifecycle import Incident
from triage.incidents.store import INCIDENT
from triage.metrics import Metrics
from triage.models import EffectKind, Priority, Ticket
from triage.pipeline import Pipeline
from triage.redact import Redactor
from triage.routes import load_router
from triage.secrets import BackendToken
from triage.settings import Settings, backend_timeout_problem
from triage.sinks.backend import BackendSink
from triage.sinks.base import Applied, Effect
from triage.sqs.inbox import Message, SqsInbox
from triage.sqs.supervisor import Supervisor, SupervisorConfig

TOKEN = "test-token-448-0123456789"


# --- The ticket id in the common trackers' create answers ------------------------------------


async def _created_ref(monkeypatch: pytest.MonkeyPatch, answer: dict[str, Any]) -> str | None:
    """The reference a create answered with `answer` (201, JSON) gives the incident."""
    monkeypatch.setenv("BACKEND_TOKEN", TOKEN)

    async def created(_request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(201, json=answer)

    settings = Settings(backend_base_url="http://127.0.0.1:9")
    sink = BackendSink(settings, BackendToken(settings), transport=httpx2.MockTransport(created))
    ticket = Ticket(title="disk full", priority=Priority.HIGH, description="d", steps=("s",))
    fired = factory_alert()
    effect = Effect(EffectKind.OPEN, fired.fingerprint, view(fired), ticket, None, 1, 1, False, "k")
    try:
        return (await sink.apply(effect)).ref
    finally:
        await sink.aclose()


SYS_ID = "9d385017c611228701d22104cc95c371"


@pytest.mark.parametrize(
    ("answer", "ref"),
    [
        pytest.param(
            {"result": {"sys_id": SYS_ID, "number": "INC0010001", "state": "1"}},
            SYS_ID,
            id="servicenow",
        ),
        pytest.param({"result": {"number": "INC0010001"}}, "INC0010001", id="servicenow_number"),
        pytest.param(
            {"id": "10000", "key": "ED-24", "self": "https://jira.example/rest/api/2/issue/10000"},
            "10000",
            id="jira",
        ),
        pytest.param({"ticket": {"id": 35436, "status": "new"}}, "35436", id="zendesk"),
        pytest.param({"id": 1, "status": 2, "priority": 1}, "1", id="freshdesk"),
    ],
)
async def test_the_common_trackers_create_answers_name_their_ticket(
    monkeypatch: pytest.MonkeyPatch, answer: dict[str, Any], ref: str
) -> None:
    """ServiceNow's `result.sys_id` (the id its Table API's routes take; `number`, the one
    people read, when it is all there is), Jira's `id`, Zendesk's `ticket.id` and Freshdesk's
    `id` are each the ticket's reference, never the Idempotency-Key."""
    assert await _created_ref(monkeypatch, answer) == ref


# --- A backend timeout the message's own time limit cuts short -------------------------------


def test_a_backend_timeout_past_the_message_timeout_is_named_at_start_up(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A backend request may take three times TRIAGE_BACKEND_TIMEOUT_S (connect, send and
    read are each timed alone): when that reaches TRIAGE_MESSAGE_TIMEOUT_S, start-up (and
    `triage check`) names both in one warning; the defaults (10 s, 120 s) say nothing."""
    assert backend_timeout_problem(Settings()) is None
    slow = Settings(backend_timeout_s=45, message_timeout_s=120, effect_lease_s=150)
    problem = backend_timeout_problem(slow)
    assert problem is not None
    assert "TRIAGE_BACKEND_TIMEOUT_S (45)" in problem
    assert "TRIAGE_MESSAGE_TIMEOUT_S (120)" in problem
    warned = deployment_warnings(slow, ["backend"], {})
    assert ("config.backend_timeout_past_message", problem) in warned
    assert all(
        e != "config.backend_timeout_past_message"
        for e, _ in deployment_warnings(Settings(), ["backend"], {})
    )
    # Without the backend among the sinks, its timeout is nobody's concern.
    assert all(
        e != "config.backend_timeout_past_message"
        for e, _ in deployment_warnings(slow, ["slack"], {})
    )


# --- A claim given back after its finishing write went unanswered -----------------------------


class _FinishUnanswered(MemoryStore):
    """A store that writes the effect's finishing confirmation but does not answer it, and
    fails the read-back after it (one network blip): the claim is then given back."""

    def __init__(self) -> None:
        super().__init__(POLICY)
        self._blip = False
        self._read_failed = False

    async def confirm(self, *args: Any, **kwargs: Any) -> bool:
        written = await super().confirm(*args, **kwargs)
        if kwargs.get("finish") and not self._blip:
            self._blip = True
            raise StoreUnavailableError("dynamodb put_item failed: Read timeout on endpoint")
        return written

    async def get(self, fingerprint: str) -> Incident | None:
        if self._blip and not self._read_failed:
            self._read_failed = True
            raise StoreUnavailableError("dynamodb get_item failed: Could not connect")
        return await super().get(fingerprint)


async def test_a_claim_given_back_after_its_unanswered_finish_says_no_one_took_it() -> None:
    """The effect's last confirmation (which finishes it) was written, unanswered: giving the
    claim back finds no effect pending. That is no `store.lease_lost` warning (no one took the
    effect over), but one info line saying our own write may have landed."""
    store = _FinishUnanswered()
    pipeline = Pipeline(
        Ledger(store), Summariser(), [Sink()], Metrics(), redactor=Redactor(), policy=POLICY
    )
    body = json.dumps({"title": "disk full on db-1", "dedup_key": "disk-db-1", "team": "ops"})
    with structlog.testing.capture_logs() as logs, pytest.raises(StoreUnavailableError):
        await pipeline.process(Message("m-1", body, "rh-1", 1, None))
    events = [e["event"] for e in logs]
    assert "store.lease_lost" not in events
    [line] = [e for e in logs if e["event"] == "store.claim_already_over"]
    assert line["log_level"] == "info"


class _DownSink(Sink):
    """A backend that answers every call 503: the effect's claim is given back, still held
    under its owner's name for the message's retry."""

    async def apply(self, effect: Effect) -> Applied:
        raise SinkUnavailableError("backend answered 503")


async def test_a_claim_another_owner_holds_is_still_said_lost() -> None:
    """Giving back a claim whose effect another owner holds now is still `store.lease_lost`
    (at warning): there, someone did take it over."""
    store = MemoryStore(POLICY)
    pipeline = Pipeline(
        Ledger(store), Summariser(), [_DownSink()], Metrics(), redactor=Redactor(), policy=POLICY
    )
    body = json.dumps({"title": "disk full on db-1", "dedup_key": "disk-db-1", "team": "ops"})
    with pytest.raises(SinkUnavailableError):
        await pipeline.process(Message("m-1", body, "rh-1", 1, None))
    [incident] = await store._scan(INCIDENT)
    stored = await store.get(incident.key)
    assert stored is not None and stored.pending is not None
    with structlog.testing.capture_logs() as logs:
        await store.release(stored.fingerprint, "another-replica:m-9")
    [line] = [e for e in logs if e["event"] in ("store.lease_lost", "store.claim_already_over")]
    assert (line["event"], line["log_level"]) == ("store.lease_lost", "warning")


# --- An unreadable SQS entry on a queue without a redrive policy --------------------------------


def _entry(mid: str, handle: str, count: str) -> dict[str, Any]:
    """One ReceiveMessage entry whose body is no UTF-8 text (a lone surrogate)."""
    return {
        "MessageId": mid,
        "ReceiptHandle": handle,
        "Body": "alert \ud800 text",
        "Attributes": {"ApproximateReceiveCount": count},
    }


class _Sqs:
    """An SQS client whose first receive answers `entries`, every later one nothing; it
    records each visibility change (receipt handle, seconds)."""

    def __init__(self, *entries: dict[str, Any]) -> None:
        self.answers = [list(entries)]
        self.released: list[tuple[str, int]] = []

    async def receive_message(self, **_call: Any) -> dict[str, Any]:
        return {"Messages": self.answers.pop()} if self.answers else {}

    async def change_message_visibility_batch(self, **call: Any) -> dict[str, Any]:
        self.released += [(e["ReceiptHandle"], e["VisibilityTimeout"]) for e in call["Entries"]]
        return {"Successful": [{"Id": e["Id"]} for e in call["Entries"]]}

    async def delete_message_batch(self, **call: Any) -> dict[str, Any]:
        return {"Successful": [{"Id": e["Id"]} for e in call["Entries"]]}

    async def get_queue_attributes(self, **_call: Any) -> dict[str, Any]:
        return {"Attributes": {}}


async def _never_called(message: Message, _progress: Callable[[], None]) -> list[Any]:
    raise AssertionError(f"handed out: {message.id}")


async def _released(limit: int | None) -> list[tuple[str, int]]:
    """The visibility changes a supervisor (maxReceiveCount `limit`) asks for the unreadable
    entries of its first receive."""
    sqs = _Sqs(_entry("m-1", "rh-1", "1"), _entry("m-2", "rh-2", "4"))
    inbox = SqsInbox(sqs, "https://sqs.example/q")
    config = SupervisorConfig(wait_s=0, retry_base_s=2.0, retry_max_s=300.0)
    supervisor = Supervisor(config, inbox, _never_called, Metrics())
    supervisor.max_receive_count = limit
    serving = asyncio.create_task(supervisor.serve())
    try:
        async with asyncio.timeout(10):
            while len(sqs.released) < 2:
                await asyncio.sleep(0.01)
    finally:
        supervisor.should_exit.set()
        await asyncio.wait_for(serving, 10)
    return sorted(sqs.released)


async def test_an_unreadable_entry_without_a_redrive_policy_waits_out_the_retry_backoff() -> None:
    """Without a known redrive policy nothing moves an unreadable entry to a DLQ: it is hidden
    for the retry backoff (by its receive count, as a rejected message is), not released at
    once to be received again at once; with a policy it still goes back at once."""
    (first, first_s), (fourth, fourth_s) = await _released(None)
    assert (first, fourth) == ("rh-1", "rh-2")
    assert 1 <= first_s <= 2  # retry_base_s, jittered
    assert 8 <= fourth_s <= 16  # doubled for each receive before
    assert await _released(5) == [("rh-1", 0), ("rh-2", 0)]


# --- A group's open retried after members joined, to a backend that checks reused keys --------

#: A route grouping crash-looping pods by alertname and namespace, to the backend.
GROUPING = """
[[route]]
name = "crash-loops"
sinks = ["backend"]
group_by = ["alertname", "namespace"]
[route.match]
source = ["alertmanager"]
"""


def _pods(*pods: int) -> str:
    """An Alertmanager webhook (v4) of crash-looping pods `pods`, all firing."""
    alerts = [
        {
            "status": "firing",
            "labels": {"alertname": "KubePodCrashLooping", "namespace": "shop", "pod": f"api-{i}"},
            "annotations": {"summary": f"pod api-{i} is crash looping"},
            "startsAt": "2026-12-06T20:00:00Z",
            "endsAt": "0001-01-01T00:00:00Z",
        }
        for i in pods
    ]
    return json.dumps(
        {
            "version": "4",
            "groupKey": '{}:{alertname="KubePodCrashLooping"}',
            "status": "firing",
            "receiver": "triage",
            "externalURL": "http://alertmanager-0:9093",
            "alerts": alerts,
        }
    )


@dataclass
class _DraftBackend:
    """A ticket backend on 127.0.0.1 that enforces the IETF Idempotency-Key draft: a key
    seen before with another body is answered 422, with the same body it gets the ticket the
    key made. Its first answer is lost: the ticket is made, then it answers only after the
    client's timeout."""

    bodies: dict[str, bytes] = dc_field(default_factory=dict)
    statuses: list[int] = dc_field(default_factory=list)
    url: str = ""
    answered: asyncio.Event = dc_field(default_factory=asyncio.Event)

    async def handle(self, request: web.Request) -> web.Response:
        key, body = request.headers["Idempotency-Key"], await request.read()
        first = not self.bodies
        kept = self.bodies.setdefault(key, body)
        status = 201 if kept == body else 422
        self.statuses.append(status)
        if first:  # made, but the answer comes too late to be read
            await self.answered.wait()
        if status == 422:
            return web.json_response({"error": "key reused with a different body"}, status=422)
        return web.json_response({"id": f"T-{list(self.bodies).index(key) + 1}"}, status=201)


async def test_a_groups_open_retried_after_members_joined_sends_its_first_body(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A group's open whose answer was lost (the ticket made) is retried under the same
    Idempotency-Key after another member joined while it was in flight: the retry sends the
    first body, as it was (one member: the effect's body kept in the store before its first
    call, `Store.freeze_effect`), so a backend that checks a reused key's payload answers it
    with the ticket the key made, not 422 "key reused with a different body", which would
    fail the open for good. (With the kept body ignored, this backend answers 422.)"""
    monkeypatch.setenv("BACKEND_TOKEN", TOKEN)
    routes = tmp_path / "routes.toml"
    routes.write_text(GROUPING)
    backend = _DraftBackend()
    app = web.Application()
    app.router.add_post("/api/service/tickets", backend.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    backend.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    settings = Settings(backend_base_url=backend.url, backend_timeout_s=1.0, routes_file=routes)
    sink = BackendSink(settings, BackendToken(settings))
    store = MemoryStore(POLICY)
    pipeline = Pipeline(
        Ledger(store), Summariser(), [sink], Metrics(), redactor=Redactor(),
        router=load_router(settings), policy=POLICY,
    )  # fmt: skip
    try:
        opening = asyncio.create_task(pipeline.process(Message("m-1", _pods(0), "rh-1", 1, None)))
        async with asyncio.timeout(10):
            while not backend.statuses:
                await asyncio.sleep(0.01)
        # Pod api-1 joins the group while its open is in flight.
        await pipeline.process(Message("m-2", _pods(1), "rh-2", 1, None))
        with pytest.raises(SinkUnavailableError):
            await opening
        backend.answered.set()
        await pipeline.process(Message("m-1", _pods(0), "rh-3", 2, None))
    finally:
        await sink.aclose()
        await runner.cleanup()
    assert backend.statuses == [201, 201]  # the lost answer, and the retry's: never 422
    [key] = list(backend.bodies)
    first = json.loads(backend.bodies[key])
    assert (first["group"]["alerts"], len(first["group"]["members"])) == (1, 1)
    [group] = [i for i in await store.incidents() if i.group is not None]
    assert group.refs == {"backend": "T-1"}
