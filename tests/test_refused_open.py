"""A new ticket a sink refuses for good (SinkRejectedError: a 400 or 422 from its service): the
message fails on every receive until SQS moves it to the DLQ, each delivery and a DLQ redrive
send the open again to the sinks that refused it (and to no other), and the incident's later
alerts go on meanwhile. A later effect refused so (a close's 403) is sent again the same way.
The real pipeline and supervisor on in-memory queues and stores (SQLite and DynamoDB for the
replicas)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from memory_inbox import _Entry
from memory_store import MemoryStore
from moto_speed import aws_session
from test_pipeline import LEASE, POLICY, CountingSummariser, crash_loops, group_rig
from test_signals_trust_scenarios import (
    FIRING,
    LIMIT,
    RESOLVED,
    Queue,
    Recorder,
    counted,
    drain,
    pipeline,
)
from triage.errors import SinkRejectedError, SinkUnavailableError, StoreBusyError
from triage.incidents import Action, Ledger
from triage.incidents.codec import incident_from_json, incident_to_json
from triage.incidents.dynamodb import DynamoDBStore, create_table
from triage.incidents.lifecycle import Incident, Refusal, State
from triage.incidents.sqlite import SQLiteStore
from triage.incidents.store import Store
from triage.metrics import Metrics
from triage.models import EffectKind
from triage.normalize import normalize_body
from triage.pipeline import Pipeline
from triage.redact import Redactor
from triage.sinks.base import Sink
from triage.sqs.identity import REDRIVEN_FROM_ATTRIBUTE
from triage.sqs.inbox import Message


def refusal() -> SinkRejectedError:
    return SinkRejectedError("400: bad request")


def delivery(mid: str, body: str, receive: int, **attributes: str) -> Message:
    """One receive of message `mid` (a new receipt handle each time, as SQS gives)."""
    return Message(mid, body, f"rh-{mid}-{receive}", receive, None, attributes=attributes)


async def test_a_backend_fixed_before_the_next_receive_takes_the_open_once() -> None:
    """Each receive of the refused open's message calls the refusing sink again (so a backend
    fixed meanwhile takes it without waiting for the DLQ and a redrive): the second receive
    opens the one ticket, the message is acked, and the summary is not written twice."""
    queue, metrics = Queue(), Metrics()
    sink = Recorder(failures=[refusal()])
    summariser = CountingSummariser()
    (mid,) = queue.put(FIRING)
    await drain(queue, pipeline([sink], metrics, summariser=summariser), metrics)
    assert sink.kinds() == ["open"] and summariser.calls == 1
    assert queue.deleted == [mid] and queue.dead == []
    assert counted(metrics) == {"TicketsCreated": 1, "MessagesFailed": 1, "MessagesHandled": 1}
    assert metrics.counter("MessagesFailed", reason="sink_rejected") == 1


async def test_a_dlq_redrive_sends_the_refused_open_again() -> None:
    """Refused on all LIMIT receives, the message is dead-lettered; redriven (a new SQS message
    id, the same identity) once the backend is fixed, it opens the incident's one ticket with
    the summary written the first time, and is acked."""
    queue, metrics = Queue(), Metrics()
    sink = Recorder(failures=[refusal() for _ in range(LIMIT)])
    summariser = CountingSummariser()
    handler = pipeline([sink], metrics, summariser=summariser)
    (mid,) = queue.put(FIRING)
    await drain(queue, handler, metrics)
    assert queue.dead == [mid] and sink.effects == []
    redriven = Message("m9", FIRING, "", 0, None, attributes={REDRIVEN_FROM_ATTRIBUTE: mid})
    assert redriven.identity == mid
    queue.entries["m9"] = _Entry(redriven)
    await drain(queue, handler, metrics)
    assert queue.deleted == ["m9"]
    assert sink.kinds() == ["open"] and summariser.calls == 1
    incident = await handler.ledger.store.get(only_incident_key(handler))
    assert incident is not None and incident.refs == {"backend": "T-1"}
    assert incident.pending is None


def only_incident_key(handler: Pipeline) -> str:
    """The fingerprint of the one incident `handler`'s store holds."""
    store = handler.ledger.store
    assert isinstance(store, MemoryStore)
    (key,) = [k for kind, k in store.records if kind == "incident"]
    return key


@pytest.mark.parametrize("order", [("backend", "github"), ("github", "backend")])
async def test_only_the_refusing_sink_is_called_again(order: tuple[str, str]) -> None:
    """The route's other sink takes the open on the first delivery, whichever runs first, and is
    never called again; the redelivery calls only the sink that refused, which takes it."""
    backend = Recorder(failures=[refusal()])
    github = Recorder(name="github")
    sinks = {"backend": backend, "github": github}
    handler = pipeline([sinks[name] for name in order], Metrics())
    with pytest.raises(SinkRejectedError):
        await handler.process(delivery("m0", FIRING, 1))
    assert github.kinds() == ["open"] and backend.kinds() == []
    await handler.process(delivery("m0", FIRING, 2))
    assert github.kinds() == ["open"] and backend.kinds() == ["open"]
    incident = await handler.ledger.store.get(only_incident_key(handler))
    assert incident is not None and incident.refs == {"backend": "T-1", "github": "T-1"}
    assert not incident.refused


async def test_the_incidents_later_alerts_are_not_held_up_by_the_refused_open() -> None:
    """While the open's message is failing, a repeat of the incident (another message) is
    counted and acked, and its resolve closes it; the refused message's next delivery then
    sends nothing (the incident it would open a ticket for is over) and is acked."""
    backend = Recorder(failures=[refusal(), refusal()])
    handler = pipeline([backend], Metrics())
    with pytest.raises(SinkRejectedError):
        await handler.process(delivery("m0", FIRING, 1))
    (repeat,) = await handler.process(delivery("m1", FIRING, 1))
    assert repeat.action is Action.COUNT
    (resolved,) = await handler.process(delivery("m2", RESOLVED, 1))
    assert resolved.action is Action.CLOSE
    (again,) = await handler.process(delivery("m0", FIRING, 2))
    assert again.action is Action.IGNORE
    assert backend.kinds() == [] and len(backend.failures) == 1


async def test_a_refused_open_is_sent_by_the_reopen_not_by_its_old_message() -> None:
    """Once the incident closed and fired again, the reopen sends the backend the ticket it
    refused (see test_refused_open_later.py), and the refused message's next delivery sends
    nothing more and is acked: one open in all."""
    backend = Recorder(failures=[refusal()])
    handler = pipeline([backend], Metrics())
    with pytest.raises(SinkRejectedError):
        await handler.process(delivery("m0", FIRING, 1))
    await handler.process(delivery("m1", RESOLVED, 1))
    (reopened,) = await handler.process(delivery("m2", FIRING, 1))
    assert reopened.action is Action.REOPEN and backend.kinds() == ["open"]
    (again,) = await handler.process(delivery("m0", FIRING, 2))
    assert again.action is Action.IGNORE and backend.kinds() == ["open"]
    incident = await handler.ledger.store.get(only_incident_key(handler))
    assert incident is not None and incident.refused == {}
    assert incident.refs == {"backend": "T-1"}


async def test_a_retry_after_another_sink_failed_calls_the_refusing_sink_again() -> None:
    """The backend refuses, then GitHub fails transiently in the same attempt (the effect is
    given back): the message's retry sends the open to both, and each takes it once."""
    backend = Recorder(failures=[refusal()])
    github = Recorder(name="github", failures=[SinkUnavailableError("503")])
    handler = pipeline([backend, github], Metrics())
    with pytest.raises(SinkUnavailableError):
        await handler.process(delivery("m0", FIRING, 1))
    await handler.process(delivery("m0", FIRING, 2))
    assert backend.kinds() == ["open"] and github.kinds() == ["open"]
    incident = await handler.ledger.store.get(only_incident_key(handler))
    assert incident is not None and incident.pending is None and not incident.refused


async def test_a_redelivery_waits_for_another_alerts_effect_in_progress() -> None:
    """Another alert's update of the incident in progress when the refused open's message
    comes back: the message waits for it (held, StoreBusyError) instead of being taken for a
    repeat and acked; once the update is over, the next delivery sends the open."""
    offset = [timedelta(0)]
    store = MemoryStore(POLICY, LEASE)
    ledger = Ledger(store, lambda: datetime.now(UTC) + offset[0])
    backend = Recorder(failures=[refusal()])
    handler = Pipeline(
        ledger, CountingSummariser(), [backend], Metrics(), redactor=Redactor(), policy=POLICY
    )
    with pytest.raises(SinkRejectedError):
        await handler.process(delivery("m0", FIRING, 1))
    offset[0] = POLICY.update_interval + timedelta(minutes=1)
    (firing,) = normalize_body(FIRING).alerts
    update = await store.begin(handler.event(firing), "m1#0@d1", ledger.clock())
    assert update.action is Action.UPDATE
    with pytest.raises(StoreBusyError):
        await handler.process(delivery("m0", FIRING, 2))
    await store.finish(firing.fingerprint, "m1#0@d1")
    await handler.process(delivery("m0", FIRING, 3))
    assert backend.kinds() == ["open"]


async def test_a_redelivery_while_the_refusal_stands_fails_again_without_a_second_summary() -> None:
    """A second refusal fails the redelivery the same way (SinkRejectedError), with no second
    LLM call, and the incident still holds the refusal for the next delivery."""
    backend = Recorder(failures=[refusal(), refusal()])
    summariser = CountingSummariser()
    handler = pipeline([backend], Metrics(), summariser=summariser)
    for receive in (1, 2):
        with pytest.raises(SinkRejectedError):
            await handler.process(delivery("m0", FIRING, receive))
    assert summariser.calls == 1 and backend.kinds() == []
    incident = await handler.ledger.store.get(only_incident_key(handler))
    assert incident is not None and incident.state is State.OPEN
    assert (
        incident.refused == {"backend": Refusal(EffectKind.OPEN, "m0#0")}
        and incident.pending is None
    )


async def test_a_close_the_backend_refuses_for_good_is_sent_again_by_its_redelivery() -> None:
    """README (The ticket backend): a later effect's 400 or 403 "fails the message as for a new
    ticket, and a DLQ redrive sends it again once that is fixed". The resolve's close refused
    fails its message; its next delivery sends the close again (to the backend alone, not to
    GitHub, which took it), and the backend takes it."""
    backend = Recorder()
    github = Recorder(name="github")
    handler = pipeline([backend, github], Metrics())
    await handler.process(delivery("m0", FIRING, 1))
    backend.failures.append(SinkRejectedError("403: forbidden"))
    with pytest.raises(SinkRejectedError):
        await handler.process(delivery("m1", RESOLVED, 1))
    assert backend.kinds() == ["open"] and github.kinds() == ["open", "close"]
    (again,) = await handler.process(delivery("m1", RESOLVED, 2))
    assert again.action is Action.CLOSE
    assert backend.kinds() == ["open", "close"] and github.kinds() == ["open", "close"]
    incident = await handler.ledger.store.get(only_incident_key(handler))
    assert incident is not None and incident.state is State.CLOSED and not incident.refused


async def test_a_groups_refused_open_is_sent_again_by_its_members_redelivery(
    tmp_path: Path,
) -> None:
    """A grouping route's first ticket refused: the member's message fails, and its next
    delivery sends the group's open again (summarised once), which the backend takes."""
    r = group_rig(tmp_path)
    backend = Recorder(failures=[refusal()])
    r.pipeline.sinks = {"backend": backend}
    with pytest.raises(SinkRejectedError):
        await r.pipeline.process(crash_loops(range(1), receipt="rh-1"))
    [outcome] = await r.pipeline.process(crash_loops(range(1), receipt="rh-2"))
    assert outcome.action is Action.OPEN
    [opened] = backend.effects
    assert opened.alert.group is not None and r.summariser.calls == 1


@pytest.fixture(params=["sqlite", "dynamodb"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    """Each test runs once per store: SQLite on disk, DynamoDB on moto's server."""
    if request.param == "sqlite":
        s = SQLiteStore(str(tmp_path / "t.db"), POLICY, LEASE, timedelta(days=30))
        await s.open()
        yield s
        await s.aclose()
        return
    moto_url = request.getfixturevalue("moto_url")
    async with aws_session().client("dynamodb", endpoint_url=moto_url) as client:
        await create_table(client, "incidents")
        yield DynamoDBStore(client, "incidents", POLICY, LEASE, timedelta(days=30))


def replica(store: Store, sinks: Sequence[Sink], summariser: CountingSummariser) -> Pipeline:
    """One replica's pipeline on the store the replicas share."""
    ledger = Ledger(store)
    return Pipeline(ledger, summariser, sinks, Metrics(), redactor=Redactor(), policy=POLICY)


async def test_a_redelivery_at_another_replica_sends_the_refused_open(store: Store) -> None:
    """The refusal is kept in the store the replicas share: the message's next delivery, at
    another replica, calls the refusing sink again (and only it) and opens the one ticket."""
    backend, github = Recorder(failures=[refusal()]), Recorder(name="github")
    summariser = CountingSummariser()
    first = replica(store, [backend, github], summariser)
    second = replica(store, [backend, github], summariser)
    with pytest.raises(SinkRejectedError):
        await first.process(delivery("m0", FIRING, 1))
    await second.process(delivery("m0", FIRING, 2))
    assert backend.kinds() == ["open"] and github.kinds() == ["open"]
    assert summariser.calls == 1


def test_the_refusal_is_written_only_when_set_and_reads_back() -> None:
    """The store's format: an incident with no refusal is written as before (old records and
    new ones without it read alike), and one with a refusal reads back the same."""
    at = datetime(2026, 1, 1, tzinfo=UTC)
    plain = Incident("fp", State.OPEN, "generic", "t", at, at)
    assert '"refused"' not in incident_to_json(plain)
    assert incident_from_json(incident_to_json(plain)).refused == {}
    marks = {
        "backend": Refusal(EffectKind.OPEN, "m0#0"),
        "github": Refusal(EffectKind.CLOSE, "m1#0"),
    }
    refused = Incident("fp", State.OPEN, "generic", "t", at, at, refused=marks)
    assert incident_from_json(incident_to_json(refused)).refused == marks
