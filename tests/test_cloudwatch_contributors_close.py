"""A deleted CloudWatch Metrics Insights (GROUP BY) alarm closes its contributors' incidents:
each contributor that still fires is resolved through the pipeline's normal resolve (so every
sink sees an ordinary close, with the deletion's note), exactly once across replicas and
deliveries, on every store; a contributor firing after the deletion opens its ticket again."""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import AsyncIterator, MutableMapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from factories import T0
from memory_store import MemoryStore
from moto_speed import loopback_aws_client
from test_pipeline import LEASE, POLICY, Clock, CountingSummariser, FakeSink
from triage.errors import SinkUnavailableError
from triage.incidents import Action, Ledger, State, Store
from triage.incidents.dynamodb import DynamoDBStore, create_table
from triage.incidents.records import CHILDREN
from triage.incidents.sqlite import SQLiteStore
from triage.metrics import Metrics
from triage.pipeline import Pipeline
from triage.redact import Redactor
from triage.routes import load_router
from triage.settings import Settings
from triage.sqs.inbox import Message

PAYLOADS = Path(__file__).parent / "payloads" / "cloudwatch"
ALARM = "DynamoDBInsightsAlarm"


@pytest.fixture(params=["memory", "sqlite", "dynamodb"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    """Each test runs once per store: in memory, SQLite on disk, DynamoDB on moto's server."""
    if request.param == "memory":
        yield MemoryStore(POLICY, LEASE)
        return
    if request.param == "sqlite":
        s = SQLiteStore(str(tmp_path / "t.db"), POLICY, LEASE, timedelta(days=30))
        await s.open()
        yield s
        await s.aclose()
        return
    moto_url = request.getfixturevalue("moto_url")
    async with loopback_aws_client("dynamodb", moto_url) as client:
        await create_table(client, "incidents")
        yield DynamoDBStore(client, "incidents", POLICY, LEASE, timedelta(days=30))


@dataclass
class Replica:
    """One daemon's pipeline on the shared store, with a backend fake."""

    pipeline: Pipeline
    backend: FakeSink

    async def process(self, message: Message) -> list[Action]:
        return [outcome.action for outcome in await self.pipeline.process(message)]

    def closed(self) -> list[str]:
        """The titles of the tickets closed, in order."""
        return [e.alert.title for e in self.backend.effects if str(e.kind) == "close"]


def replica(store: Store, clock: Clock, routes: Path | None = None) -> Replica:
    backend = FakeSink("backend")
    settings = Settings(routes_file=routes) if routes is not None else None
    pipeline = Pipeline(
        Ledger(store, clock=clock),
        CountingSummariser(),
        [backend],
        Metrics(),
        redactor=Redactor(),
        policy=POLICY,
        router=load_router(settings) if settings is not None else None,
    )
    return Replica(pipeline, backend)


def _event() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(
        (PAYLOADS / "eventbridge-contributor.json").read_text(encoding="utf-8")
    )
    loaded["detail"].pop("muteDetail")
    return loaded


def contributor(table: str, state: str, at: str) -> dict[str, Any]:
    """Table `table`'s time series of the alarm changing to `state` at `at` (HH:MM, UTC)."""
    event = _event()
    event["time"] = f"2025-12-01T{at}:00Z"
    event["detail"]["alarmContributor"] = {"id": table, "attributes": {"TableName": table}}
    event["detail"]["state"] = {"value": state, "timestamp": f"2025-12-01T{at}:00.000+0000"}
    return event


def deletion(at: str = "15:00") -> dict[str, Any]:
    """The alarm deleted at `at`: its configuration change event with `operation: delete`."""
    event = _event()
    event["detail-type"] = "CloudWatch Alarm Configuration Change"
    event["time"] = f"2025-12-01T{at}:00Z"
    del event["detail"]["alarmContributor"]
    event["detail"]["operation"] = "delete"
    return event


def message(mid: str, body: dict[str, Any], receive: int = 1) -> Message:
    return Message(mid, json.dumps(body), f"rh-{mid}-{receive}", receive, T0, received_at=T0)


def title(table: str) -> str:
    return f"{ALARM} (TableName={table})"


async def _three_fire_one_resolves(one: Replica) -> None:
    for i, table in enumerate(["a", "b", "c"]):
        assert await one.process(message(f"f{i}", contributor(table, "ALARM", "13:00"))) == [
            Action.OPEN
        ]
    assert await one.process(message("ok-b", contributor("b", "OK", "14:00"))) == [Action.CLOSE]


async def test_a_deleted_alarm_closes_its_firing_contributors_once(store: Store) -> None:
    """Contributors a, b and c open; b resolves; the alarm's deletion closes a and c, once
    each, with the note that the alarm was deleted; delivered again it closes nothing more."""
    one = replica(store, Clock())
    await _three_fire_one_resolves(one)
    assert await one.process(message("del", deletion())) == [Action.RECORD]
    assert sorted(one.closed()) == sorted([title("b"), title("a"), title("c")])
    closes = [e for e in one.backend.effects if str(e.kind) == "close"]
    assert all("deleted" in e.alert.description for e in closes if e.alert.title != title("b"))
    assert {i.title: i.state for i in await store.incidents()} == {
        title("a"): State.CLOSED,
        title("b"): State.CLOSED,
        title("c"): State.CLOSED,
        ALARM: State.CLOSED,
    }
    effects = len(one.backend.effects)
    assert await one.process(message("del", deletion(), receive=2)) == [Action.IGNORE]
    assert len(one.backend.effects) == effects


async def test_two_replicas_handling_one_deletion_close_each_contributor_once(
    store: Store,
) -> None:
    """The deletion delivered to two replicas at once (SQS delivers at least once): every
    contributor's ticket is closed by one of them, never by both."""
    clock = Clock()
    one, two = replica(store, clock), replica(store, clock)
    await _three_fire_one_resolves(one)
    results = await asyncio.gather(
        one.process(message("del", deletion())),
        two.process(message("del", deletion(), receive=2)),
        return_exceptions=True,
    )
    for result in results:  # a delivery that met the other's claim is held, and comes back
        if isinstance(result, BaseException):
            await (one if result is results[0] else two).process(
                message("del", deletion(), receive=3)
            )
    closed = [*one.closed(), *two.closed()]
    assert sorted(closed) == sorted([title("a"), title("b"), title("c")])


async def test_a_contributor_firing_after_the_deletion_opens_its_ticket_again(
    store: Store,
) -> None:
    """A contributor of the alarm made again fires after the deletion: its ticket opens again
    (it is not taken for the deleted alarm's), and a second deletion closes it again."""
    clock = Clock()
    one = replica(store, clock)
    await _three_fire_one_resolves(one)
    await one.process(message("del", deletion()))
    clock.at(24 * 60)  # a day later
    [again] = await one.process(message("again", contributor("a", "ALARM", "16:00")))
    assert again in (Action.OPEN, Action.REOPEN)
    closed = len(one.closed())
    assert await one.process(message("del2", deletion("17:00"))) == [Action.IGNORE]
    assert one.closed()[closed:] == [title("a")]


async def test_a_late_resolve_of_a_refired_contributor_keeps_it_closing(store: Store) -> None:
    """A contributor resolves, fires again, and its older resolve is delivered late: the
    lifecycle ignores it, and the deletion still closes the contributor's ticket."""
    one = replica(store, Clock())
    await one.process(message("f", contributor("a", "ALARM", "13:00")))
    await one.process(message("ok", contributor("a", "OK", "13:30")))
    await one.process(message("again", contributor("a", "ALARM", "14:00")))
    assert await one.process(message("ok", contributor("a", "OK", "13:30"), receive=2)) == [
        Action.IGNORE
    ]
    await one.process(message("del", deletion()))
    assert one.closed() == [title("a"), title("a")]


async def test_a_close_that_failed_is_finished_by_the_retry_and_none_twice(store: Store) -> None:
    """The backend fails while the deletion closes the contributors: the message fails (it is
    retried), and its retry closes the rest; no ticket is closed twice."""
    one = replica(store, Clock())
    await _three_fire_one_resolves(one)
    one.backend.failures = 1
    one.pipeline.alert_concurrency = 1
    with pytest.raises(SinkUnavailableError):
        await one.process(message("del", deletion()))
    await one.process(message("del", deletion(), receive=2))
    assert sorted(one.closed()) == sorted([title("a"), title("b"), title("c")])


async def test_deleting_an_alarm_without_contributors_is_a_no_op_with_one_line(
    store: Store, logs: list[MutableMapping[str, Any]]
) -> None:
    """A deleted alarm that has no contributor (a single-metric alarm) resolves its own
    incident only, writes no children record, and says so in one log line."""
    one = replica(store, Clock())
    single = copy.deepcopy(deletion())
    single["detail"]["configuration"]["metrics"] = []
    assert await one.process(message("del", single)) == [Action.RECORD]
    assert one.backend.effects == []
    assert await store._get(CHILDREN, (await store.incidents())[0].fingerprint) is None
    lines = [e for e in logs if "children" in e["event"]]
    assert [line["event"] for line in lines] == ["alert.no_children"]
    assert not [e for e in logs if e["event"] == "alert.note"]


ROUTES = """
[[route]]
name = "per-alarm"
sinks = ["backend"]
group_by = ["alarm_name"]
"""


async def test_contributors_grouped_by_their_alarm_close_with_it(
    store: Store, tmp_path: Path
) -> None:
    """A route that groups the contributors by alarm name makes them one ticket; the alarm's
    deletion resolves every member, so that ticket closes, once."""
    routes = tmp_path / "routes.toml"
    routes.write_text(ROUTES)
    one = replica(store, Clock(), routes)
    for i, table in enumerate(["a", "b"]):
        await one.process(message(f"f{i}", contributor(table, "ALARM", "13:00")))
    await one.process(message("del", deletion()))
    await one.process(message("del", deletion(), receive=2))
    assert [str(e.kind) for e in one.backend.effects] == ["open", "close"]


async def test_a_contributor_open_before_its_record_was_kept_is_noted_when_it_fires_again() -> None:
    """A contributor whose incident opened before the store kept children (an upgrade), or
    whose note was lost, is noted by its next firing (a repeat the lifecycle only counts), so
    the alarm's deletion still closes it."""
    store = MemoryStore(POLICY, LEASE)
    one = replica(store, Clock())
    await one.process(message("f", contributor("a", "ALARM", "13:00")))
    [kept] = [k for k in store.records if k[0] == CHILDREN]
    del store.records[kept]
    assert await one.process(message("f2", contributor("a", "ALARM", "13:05"))) == [Action.COUNT]
    await one.process(message("del", deletion()))
    assert one.closed() == [title("a")]


async def test_a_contributor_named_by_a_secret_is_kept_redacted_and_still_closed() -> None:
    """A contributor whose attributes hold a credential (an access key as a dimension value) is
    kept in the store by its fingerprint and redacted title only, never the credential, and
    the alarm's deletion still closes its incident (its identity is not rebuilt from text)."""
    store = MemoryStore(POLICY, LEASE)
    one = replica(store, Clock())
    key = "AKIAIOSFODNN7EXAMPLE"
    await one.process(message("f", contributor(key, "ALARM", "13:00")))
    [kept] = [r for (kind, _), r in store.records.items() if kind == CHILDREN]
    assert key not in kept.body
    await one.process(message("del", deletion()))
    [closed] = one.closed()
    assert key not in closed
    assert [i.state for i in await store.incidents()] == [State.CLOSED, State.CLOSED]


async def test_a_dry_run_of_the_deletion_shows_each_contributor_closing_and_writes_nothing(
    logs: list[MutableMapping[str, Any]],
) -> None:
    """`triage run --dry-run` shows what the deletion would do to each firing contributor (a
    close each) and writes nothing: no incident, no children record, no sink call."""
    store = MemoryStore(POLICY, LEASE)
    one = replica(store, Clock())
    await _three_fire_one_resolves(one)
    before = dict(store.records)
    dry = replica(store, Clock())
    dry.pipeline.dry_run = True
    await dry.process(message("del", deletion()))
    assert store.records == before and dry.backend.effects == []
    previews = [e["action"] for e in logs if e["event"] == "alert.dry_run"]
    assert sorted(previews) == ["close", "close", "record"]


async def test_a_deletion_message_reports_progress_for_each_contributor_it_closes(
    store: Store,
) -> None:
    """One deletion message (a single alert) still reports progress to its supervisor as each
    contributor closes, so the no-progress timeout never cuts off a long deletion that moves."""
    one = replica(store, Clock())
    await _three_fire_one_resolves(one)
    reports: list[None] = []
    outcomes = await one.pipeline.process(message("del", deletion()), lambda: reports.append(None))
    assert [o.action for o in outcomes] == [Action.RECORD]
    assert len(reports) >= 2, reports  # a and c closed, each reported (then the message's end)
