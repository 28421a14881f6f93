"""Records across releases: fields a newer release wrote survive this release's changes to the
record, on SQLite and DynamoDB, and a record a newer release marks as beyond this one is refused
with one clear line and left as it was."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from factories import T0, alert
from moto_speed import loopback_aws_client
from triage.errors import StoreNewerError
from triage.incidents.codec import (
    MIN_READER,
    RECORD_FORMAT,
    incident_from_json,
    incident_to_json,
)
from triage.incidents.dynamodb import DynamoDBStore, create_table
from triage.incidents.lifecycle import Action, Policy, State
from triage.incidents.silences import Matcher, Silence
from triage.incidents.sqlite import SQLiteStore
from triage.incidents.store import BUDGET, INCIDENT, SILENCES, SILENCES_KEY, Record, Store
from triage.models import Status
from triage.ratelimit import Budget

POLICY = Policy(update_interval=timedelta(minutes=15), reopen_window=timedelta(hours=1))
LEASE = timedelta(minutes=2)
FP = alert().fingerprint
#: What a newer release might add: a value of any JSON shape, with text that needs escaping.
NEWER = {"runbook_votes": {"up": 3, "who": ['a "b"', "✓"]}, "score": 0.5}


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
    async with loopback_aws_client("dynamodb", endpoint_url=moto_url) as client:
        await create_table(client, "incidents")
        yield DynamoDBStore(client, "incidents", POLICY, LEASE, timedelta(days=30))


async def rewrite(store: Store, kind: str, key: str, edit: Callable[[Any], None]) -> None:
    """Change a stored record's JSON as a newer release would write it."""

    def change(record: Record | None) -> tuple[Record | None, None]:
        assert record is not None
        data = json.loads(record.body)
        edit(data)
        if kind == INCIDENT:
            data["version"] = record.version + 1
        body = json.dumps(data)
        return dataclasses.replace(record, version=record.version + 1, body=body), None

    await store._update(kind, key, change)


async def stored_json(store: Store, kind: str, key: str) -> Any:
    record = await store._get(kind, key)
    assert record is not None
    return json.loads(record.body)


async def opened(store: Store) -> None:
    """An incident opened and its ticket confirmed, as this release does it."""
    t = await store.begin(alert(), "m1", T0)
    assert t.action is Action.OPEN
    await store.confirm(FP, "m1", "backend", "T-1")
    await store.finish(FP, "m1")


def add_newer_fields(data: Any) -> None:
    data.update(NEWER)
    data["history"][0].append({"by": "replica-9"})


async def test_a_newer_field_survives_a_counted_repeat_and_a_close(store: Store) -> None:
    """Fields this release does not know (top level, and in a history line) are written back
    unchanged after a repeat is counted and after the incident closes."""
    await opened(store)
    await rewrite(store, INCIDENT, FP, add_newer_fields)
    t = await store.begin(alert(minutes=1), "m2", T0 + timedelta(minutes=1))
    assert t.action is Action.COUNT and t.after is not None and t.after.occurrences == 2
    data = await stored_json(store, INCIDENT, FP)
    assert {k: data[k] for k in NEWER} == NEWER and data["occurrences"] == 2
    later = T0 + timedelta(minutes=2)
    t = await store.begin(alert(status=Status.RESOLVED, minutes=2), "m3", later)
    assert t.action is Action.CLOSE
    await store.confirm(FP, "m3", "backend", "T-1")
    await store.finish(FP, "m3")
    data = await stored_json(store, INCIDENT, FP)
    assert data["state"] == "closed"
    assert {k: data[k] for k in NEWER} == NEWER
    assert data["history"][0][3:] == [{"by": "replica-9"}]


async def test_a_gone_mark_is_stored_with_its_confirmation_and_dropped_with_the_incident(
    store: Store,
) -> None:
    """A sink's gone answer is written in the confirmation's own write (`gone`, only when
    set), outlives a counted repeat, and an incident started afresh after a close long ago
    starts without it."""
    await store.begin(alert(), "m1", T0)
    await store.confirm(FP, "m1", "backend", "T-1", finish=True)
    assert "gone" not in await stored_json(store, INCIDENT, FP)
    t = await store.begin(alert(minutes=20), "m2", T0 + timedelta(minutes=20))
    assert t.action is Action.UPDATE
    await store.confirm(FP, "m2", "backend", None, finish=True, gone=True)
    assert (await stored_json(store, INCIDENT, FP))["gone"] == {"backend": "T-1"}
    t = await store.begin(alert(minutes=21), "m3", T0 + timedelta(minutes=21))
    assert t.action is Action.COUNT and t.after is not None and t.after.ticket_gone("backend")
    t = await store.begin(
        alert(status=Status.RESOLVED, minutes=22), "m4", T0 + timedelta(minutes=22)
    )
    await store.finish(FP, "m4")
    long_after = T0 + timedelta(hours=3)
    t = await store.begin(alert(at=long_after), "m5", long_after)
    assert t.action is Action.OPEN and t.after is not None and t.after.gone == {}
    await store.confirm(FP, "m5", "backend", "T-2", finish=True)
    assert "gone" not in await stored_json(store, INCIDENT, FP)


async def test_a_record_for_a_newer_reader_is_refused_and_left_alone(store: Store) -> None:
    """A record whose min_reader is beyond this release raises StoreNewerError (a one-line
    message naming the record and both formats), and nothing is written over it."""
    await opened(store)
    await rewrite(store, INCIDENT, FP, lambda d: d.update(min_reader=RECORD_FORMAT + 1))
    before = await store._get(INCIDENT, FP)
    with pytest.raises(StoreNewerError) as caught:
        await store.begin(alert(minutes=1), "m2", T0 + timedelta(minutes=1))
    message = str(caught.value)
    assert "\n" not in message and FP in message and f"format {RECORD_FORMAT + 1}" in message
    assert await store._get(INCIDENT, FP) == before
    assert await store.incidents() == []  # listed without it, as an unreadable record is


def silence(team: str) -> Silence:
    return Silence.new([Matcher.parse(f"team={team}")], T0, T0 + timedelta(hours=1), "c", "ann")


async def test_a_newer_silence_field_survives_this_release_writing_the_silences(
    store: Store,
) -> None:
    """A silence's unknown field and an unknown top-level key of the silences record are
    kept when this release adds a silence and expires that one."""
    first = await store.add_silence(silence("db"), T0)

    def newer(data: Any) -> None:
        data["silences"][0]["snooze_policy"] = {"kind": "business-hours"}
        data["owner_index"] = ["team"]

    await rewrite(store, SILENCES, SILENCES_KEY, newer)
    second = await store.add_silence(silence("web"), T0)
    await store.expire_silence(first.id, T0 + timedelta(minutes=5))
    data = await stored_json(store, SILENCES, SILENCES_KEY)
    by_id = {s["id"]: s for s in data["silences"]}
    assert by_id[first.id]["snooze_policy"] == {"kind": "business-hours"}
    assert by_id[first.id]["expired_at"] is not None and second.id in by_id
    assert data["owner_index"] == ["team"]


async def test_a_silence_for_a_newer_reader_is_not_honoured_and_kept(store: Store) -> None:
    """A silence whose min_reader is beyond this release is left out of what it honours (it
    cannot know what the silence means) and written back unchanged by its next change."""
    first = await store.add_silence(silence("db"), T0)

    def newer(data: Any) -> None:
        future = {**data["silences"][0], "id": "f" * 12, MIN_READER: RECORD_FORMAT + 1}
        data["silences"].append(future)

    await rewrite(store, SILENCES, SILENCES_KEY, newer)
    assert [s.id for s in await store.silences()] == [first.id]
    await store.expire_silence(first.id, T0 + timedelta(minutes=5))
    data = await stored_json(store, SILENCES, SILENCES_KEY)
    assert [s.get(MIN_READER) for s in data["silences"]] == [None, RECORD_FORMAT + 1]


def test_nested_unknown_fields_are_kept_while_their_object_is() -> None:
    """Unknown fields of the ticket, of a group member and of a pending effect read and write
    back unchanged; a pending effect this release replaces by another goes without them."""
    body = json.loads(
        incident_to_json(
            incident_from_json(
                json.dumps(
                    {
                        "fingerprint": "g",
                        "state": "open",
                        "source": "generic",
                        "title": "t",
                        "opened_at": T0.isoformat(),
                        "last_event_at": T0.isoformat(),
                        "ticket": {"title": "t", "priority": "high", "description": "d", "x": 1},
                        "pending": {
                            "kind": "open",
                            "owner": "m1",
                            "until": T0.isoformat(),
                            "seq": 1,
                            "done": [],
                            "trace": "abc",
                        },
                        "group": {
                            "route": "r",
                            "by": {},
                            "members": {"m": ["firing", "t", T0.isoformat(), T0.isoformat(), 7]},
                            "colour": "red",
                        },
                    }
                )
            )
        )
    )
    assert body["ticket"]["x"] == 1 and body["pending"]["trace"] == "abc"
    assert body["group"]["members"]["m"][4:] == [7] and body["group"]["colour"] == "red"
    incident = incident_from_json(json.dumps(body))
    assert incident.pending is not None and incident.state is State.OPEN
    done = dataclasses.replace(incident.pending, done=("backend",))
    kept = json.loads(incident_to_json(dataclasses.replace(incident, pending=done)))
    assert kept["pending"]["trace"] == "abc" and kept["pending"]["done"] == ["backend"]
    other = dataclasses.replace(incident.pending, seq=2)
    replaced = json.loads(incident_to_json(dataclasses.replace(incident, pending=other)))
    assert "trace" not in replaced["pending"]


async def test_a_newer_budget_field_survives_a_token_taken(store: Store) -> None:
    """A field a newer release keeps in a shared budget's record is written back unchanged
    when this release takes a token from it."""
    budget = Budget("github:create:acme/ops:minute", capacity=3, period_s=60.0)
    await store.take_token(budget, 1000.0)
    await rewrite(store, BUDGET, budget.name, lambda d: d.update(burst_owner="replica-9"))
    await store.take_token(budget, 1001.0)
    data = await stored_json(store, BUDGET, budget.name)
    assert data["burst_owner"] == "replica-9" and data["updated_s"] == 1001.0
