"""Round 6 fixes for a store a person edited or pointed elsewhere: a stored field of the wrong
JSON type is a corrupt record (`store_corrupt`) wherever it is, for every record kind; the API
and the status page answer an unreadable record as such, not as an outage, and say when a
listing left one out; a DynamoDB table keyed otherwise than triage keys it is refused at
start."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from factories import alert
from memory_store import MemoryStore
from moto_speed import loopback_aws_client
from test_operator_api import BEARER, serving
from triage.errors import ConfigError, StoreCorruptError
from triage.incidents.codec import (
    incident_to_json,
    sent_from_json,
    sent_to_json,
    view_from_json,
    view_to_json,
)
from triage.incidents.dynamodb import DynamoDBStore, create_table
from triage.incidents.lifecycle import (
    Escalation,
    Event,
    Group,
    Held,
    Incident,
    Member,
    Pending,
    Policy,
    Refusal,
    State,
    Trace,
)
from triage.incidents.records import INCIDENT, Record, Sent
from triage.models import EffectKind, Priority, Status, Ticket
from triage.redact import Redactor
from triage.view import redact_alert

T0 = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
CORRUPT = (StoreCorruptError,)


def _every_part() -> Incident:
    """An incident with every optional part set, so each nested field is in its record."""
    return Incident(
        fingerprint="fp-every",
        state=State.OPEN,
        source="generic",
        title="disk full",
        opened_at=T0,
        last_event_at=T0,
        closed_at=T0,
        occurrences=3,
        occurrences_at_update=1,
        last_update_at=T0,
        reopens=1,
        flapping=True,
        quiet_until=T0,
        refs={"backend": "T-1"},
        gone={"github": "7"},
        refused={"slack": Refusal(EffectKind.UPDATE, "m1#0")},
        ticket=Ticket(title="t", priority=Priority.HIGH, description="d", steps=("s",)),
        pending=Pending(
            EffectKind.OPEN, "m1#0", T0, 2, delta=1, done=("backend",), alert="{}", attempts=1
        ),
        seq=2,
        version=4,
        applied_at=T0,
        group=Group(
            route="r",
            by={"ns": "a"},
            members={"m1": Member(Status.FIRING, "api down", T0, T0)},
            untracked=1,
            untracked_ids=frozenset({"u1"}),
            window_s=1.5,
            untracked_times={"u1": Trace(T0, T0)},
            untracked_bits=b"\x01\x80",
        ),
        team="payments",
        labels={"host": "h1"},
        labels_past_cap={"namespace": "shop"},
        route="default",
        escalate_after_s=60.0,
        reopened_at=T0,
        escalation=Escalation("w1", T0, T0, ("slack",)),
        resolve_after_s=30.0,
        held=Held(EffectKind.OPEN, "silence-1", "{}", T0, T0),
        history=(Event(T0, "open", "note"),),
        effects_by=("m1#0",),
        counted_by=("0123456789ab",),
        last_queued_at=T0,
        update_owed_at_s=1.0,
        priority_was=Priority.MEDIUM,
        priority_stated=Priority.HIGH,
        priority_changed_at=T0,
        closed_by_hand_at=T0,
        counted_from=T0,
    )


#: For each field of an incident's record, a value of another JSON type than the field has
#: (a string for a string list: read as one it would be taken letter by letter).
WRONG_TOP: dict[str, object] = {
    "fingerprint": 5,
    "state": 5,
    "source": 5,
    "title": 5,
    "opened_at": 5,
    "last_event_at": 5,
    "closed_at": 5,
    "occurrences": "3",
    "occurrences_at_update": "1",
    "last_update_at": 5,
    "reopens": "1",
    "flapping": "false",
    "quiet_until": 5,
    "refs": {"backend": 5},
    "gone": ["github"],
    "refused": {"slack": [5, 5]},
    "ticket": {"title": 5, "priority": "high", "description": "d"},
    "pending": 0,
    "seq": 2.5,
    "version": "4",
    "applied_at": 5,
    "group": "r",
    "team": 5,
    "labels": {"host": ["h1"]},
    "labels_past_cap": {"namespace": ["shop"]},
    "route": False,
    "escalate_after_s": "60",
    "reopened_at": 5,
    "escalation": [],
    "resolve_after_s": True,
    "held": "silence-1",
    "history": {"open": "note"},
    "effects_by": "m1#0",
    "counted_by": "0123456789ab",
    "last_queued_at": 5,
    "update_owed_at_s": "1",
    "priority_was": 5,
    "priority_stated": ["high"],
    "priority_changed_at": 5,
    "closed_by_hand_at": 5,
    "counted_from": 5,
}

#: (object, field, wrong value) for each field inside an incident's nested objects.
WRONG_NESTED: list[tuple[str, str, object]] = [
    *[("pending", name, value) for name, value in {
        "kind": 5, "owner": 5, "until": 5, "seq": "2", "delta": "1", "done": "backend",
        "not_before": 5, "alert": 5, "attempts": "1", "retry_at": 5,
    }.items()],
    *[("held", name, value) for name, value in {
        "kind": 5, "silence": 5, "alert": 5, "since": 5, "until": 5,
    }.items()],
    *[("escalation", name, value) for name, value in {
        "owner": 5, "until": 5, "done_at": 5, "sent": "slack",
    }.items()],
    *[("group", name, value) for name, value in {
        "route": 5, "by": {"ns": 5}, "members": [], "untracked": "1",
        "untracked_ids": "u1", "window_s": "1.5", "untracked_times": [],
        "untracked_bits": 5,
    }.items()],
    ("group", "untracked_bits", "not base64!"),
]  # fmt: skip

#: Wrong values inside a group's member and a history line, by the position written.
WRONG_MEMBER = {"status": (0, 5), "title": (1, 5), "last_event_at": (2, 5), "since": (3, 5)}
WRONG_EVENT = {"at": (0, 5), "action": (1, 5), "note": (2, 5)}


async def _read_back(body: dict[str, Any]) -> Incident | None:
    """The incident a store holding `body` as its record reads (`store.get`)."""
    store = MemoryStore()
    store.records[(INCIDENT, "fp-every")] = Record("fp-every", INCIDENT, 4, json.dumps(body))
    return await store.get("fp-every")


def _record() -> dict[str, Any]:
    return json.loads(incident_to_json(_every_part()))  # type: ignore[no-any-return]


def test_every_field_of_every_part_of_an_incident_has_a_wrong_value_listed() -> None:
    """The wrong-type checks below cover every field an incident (and each nested part) has:
    a field added later without a type check makes this fail, not slip through unchecked."""
    fields = {f.name for f in dataclasses.fields(Incident)} - {"unknown"}
    assert set(WRONG_TOP) == fields
    for part, kind in (("pending", Pending), ("held", Held), ("escalation", Escalation)):
        listed = {name for where, name, _ in WRONG_NESTED if where == part}
        assert listed == {f.name for f in dataclasses.fields(kind)}, part
    group_fields = {f.name for f in dataclasses.fields(Group)}
    assert {name for where, name, _ in WRONG_NESTED if where == "group"} == group_fields
    assert set(WRONG_MEMBER) == {f.name for f in dataclasses.fields(Member)} - {"last_queued_at"}
    assert set(WRONG_EVENT) == {f.name for f in dataclasses.fields(Event)}


async def test_the_record_of_every_part_set_reads_back() -> None:
    """The record the checks below spoil reads back whole as it is (so each failure below is
    the spoilt field's)."""
    assert await _read_back(_record()) == _every_part()


@pytest.mark.parametrize(("name", "wrong"), WRONG_TOP.items(), ids=list(WRONG_TOP))
async def test_a_top_level_field_of_the_wrong_type_is_a_corrupt_record(
    name: str, wrong: object
) -> None:
    """A hand edit giving an incident's field another JSON type is `store_corrupt` when read
    (as bad JSON is), never an incident holding a number as its title that fails later."""
    body = _record()
    body[name] = wrong
    with pytest.raises(CORRUPT):
        await _read_back(body)


@pytest.mark.parametrize(
    ("part", "name", "wrong"), WRONG_NESTED, ids=[f"{p}.{n}" for p, n, _ in WRONG_NESTED]
)
async def test_a_nested_field_of_the_wrong_type_is_a_corrupt_record(
    part: str, name: str, wrong: object
) -> None:
    """The same inside an incident's pending effect, held effect, escalation and group."""
    body = _record()
    body[part][name] = wrong
    with pytest.raises(CORRUPT):
        await _read_back(body)


@pytest.mark.parametrize("name", [*WRONG_MEMBER, *WRONG_EVENT])
async def test_a_group_member_or_history_line_of_the_wrong_type_is_a_corrupt_record(
    name: str,
) -> None:
    """The same inside a group member's values and a history line's."""
    body = _record()
    if name in WRONG_MEMBER:
        place, wrong = WRONG_MEMBER[name]
        body["group"]["members"]["m1"][place] = wrong
    else:
        place, wrong = WRONG_EVENT[name]
        body["history"][0][place] = wrong
    with pytest.raises(CORRUPT):
        await _read_back(body)


def _sent() -> Sent:
    view = redact_alert(alert("disk full"), Redactor())
    ticket = Ticket(title="t", priority=Priority.HIGH, description="d")
    return Sent(
        seq=1, alert=view, ticket=ticket, occurrences=2, occurrences_at_update=1, flapping=False
    )


@pytest.mark.parametrize(
    ("name", "wrong"),
    [("title", 5), ("team", 5), ("description", None), ("links", {"runbook": 5})],
)
def test_a_held_alert_with_a_field_of_the_wrong_type_does_not_read(
    name: str, wrong: object
) -> None:
    """A held effect's alert (kept as JSON in the incident) with a field of another type is
    refused when read (TypeError: the sweep's and the pipeline's unreadable record), not
    carried into the ticket it writes."""
    data = json.loads(view_to_json(_sent().alert))
    assert view_from_json(json.dumps(data)) == _sent().alert
    data[name] = wrong
    with pytest.raises(TypeError):
        view_from_json(json.dumps(data))


@pytest.mark.parametrize(
    ("name", "wrong"),
    [("flapping", "false"), ("seq", "1"), ("occurrences", 2.0), ("trace_id", 5), ("alert", [])],
)
def test_a_sent_record_with_a_field_of_the_wrong_type_does_not_read(
    name: str, wrong: object
) -> None:
    """An effect's frozen body with a field of another type is unreadable (the next freeze
    writes over it), not coerced: `"flapping": "false"` read as true would mark a redo's
    ticket flapping, and `"seq": "1"` passed as a number."""
    data = json.loads(sent_to_json(_sent()))
    assert sent_from_json(json.dumps(data)).flapping is False
    data[name] = wrong
    with pytest.raises(TypeError):
        sent_from_json(json.dumps(data))


async def _two_incidents_one_spoilt() -> tuple[MemoryStore, str, str]:
    """A store of two open incidents, the first's title edited to a number; their
    fingerprints."""
    store = MemoryStore()
    opened = [await store.begin(alert(n), "m", T0) for n in ("spoilt", "kept")]
    spoilt, kept = (o.after.fingerprint for o in opened if o.after is not None)
    record = store.records[(INCIDENT, spoilt)]
    body = {**json.loads(record.body), "title": 5}
    store.records[(INCIDENT, spoilt)] = dataclasses.replace(record, body=json.dumps(body))
    return store, spoilt, kept


async def test_the_listing_counts_what_it_could_not_read() -> None:
    """A listing leaves out a record it cannot read and says how many it left out, for the
    API and the status page to say in turn."""
    store, _spoilt, kept = await _two_incidents_one_spoilt()
    listing = await store.listing()
    assert [i.fingerprint for i in listing.incidents] == [kept]
    assert listing.unreadable == 1
    assert store.unreadable_listed == 1


async def test_the_api_and_status_page_say_an_incident_could_not_be_read() -> None:
    """`GET /api/v1/incidents` says `"unreadable": 1` beside the one it lists, and the status
    page says a stored incident could not be read, so "1 open" hides nothing in silence;
    with none unreadable the API says 0 and the page says nothing."""
    store, _spoilt, kept = await _two_incidents_one_spoilt()
    async with serving(store) as client:
        listed = (await client.get("/api/v1/incidents", headers=BEARER)).json()
        page = (await client.get("/", headers=BEARER)).text
    assert [i["fingerprint"] for i in listed["incidents"]] == [kept]
    assert listed["unreadable"] == 1
    assert "1 stored incident could not be read" in page
    fine = MemoryStore()
    await fine.begin(alert("fine"), "m", T0)
    async with serving(fine) as client:
        assert (await client.get("/api/v1/incidents", headers=BEARER)).json()["unreadable"] == 0
        assert "could not be read" not in (await client.get("/", headers=BEARER)).text


async def test_an_unreadable_incident_page_is_no_outage() -> None:
    """The status page's `/incidents/<fp>` of an unreadable record says it is unreadable (a
    500), not "the store is unavailable" (a 503 a reload would only repeat)."""
    store, spoilt, _kept = await _two_incidents_one_spoilt()
    async with serving(store) as client:
        page = await client.get(f"/incidents/{spoilt}", headers=BEARER)
        api = await client.get(f"/api/v1/incidents/{spoilt}", headers=BEARER)
    assert page.status_code == 500
    assert "unreadable" in page.text and "unavailable" not in page.text
    assert api.status_code == 500 and "retry-after" not in api.headers
    assert "store_corrupt" in api.json()["error"]


def _table(moto_url: str, name: str, **shape: Any) -> None:
    ddb = boto3.client("dynamodb", endpoint_url=moto_url, region_name="us-east-1")
    ddb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST", **shape)


async def _opened(moto_url: str, name: str) -> DynamoDBStore:
    """A DynamoDB store over table `name`, opened as the daemon opens it."""
    async with loopback_aws_client("dynamodb", endpoint_url=moto_url) as client:
        store = DynamoDBStore(client, name, Policy(), timedelta(minutes=2), timedelta(days=1))
        await store.open()
        return store


@pytest.mark.parametrize(
    "shape",
    [
        {  # the right name, another type: every get_item of a string key is refused
            "KeySchema": [{"AttributeName": "fingerprint", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "fingerprint", "AttributeType": "N"}],
        },
        {  # a sort key besides: every write would have to name it
            "KeySchema": [
                {"AttributeName": "fingerprint", "KeyType": "HASH"},
                {"AttributeName": "at", "KeyType": "RANGE"},
            ],
            "AttributeDefinitions": [
                {"AttributeName": "fingerprint", "AttributeType": "S"},
                {"AttributeName": "at", "AttributeType": "N"},
            ],
        },
    ],
    ids=["number-key", "sort-key"],
)
async def test_a_dynamodb_table_keyed_almost_as_triage_keys_is_refused(
    moto_url: str, shape: dict[str, Any]
) -> None:
    """A table whose key is `fingerprint` but a number, or with a sort key besides, is
    refused at start with a ConfigError naming the table and the key triage needs."""
    _table(moto_url, "almost", **shape)
    with pytest.raises(ConfigError, match=r"dynamodb://almost: .*'fingerprint' \(type S\)"):
        await _opened(moto_url, "almost")


async def test_triage_s_own_table_is_taken_and_a_bodiless_item_counted(moto_url: str) -> None:
    """The table `create_table` makes is taken; an item of it holding no body (a console
    edit) is left out of a listing and counted as unreadable."""
    async with loopback_aws_client("dynamodb", endpoint_url=moto_url) as client:
        await create_table(client, "triage-own")
        await client.put_item(TableName="triage-own", Item={"fingerprint": {"S": "f" * 16}})
        store = DynamoDBStore(
            client, "triage-own", Policy(), timedelta(minutes=2), timedelta(days=1)
        )
        await store.open()
        listing = await store.listing()
    assert listing == ([], 1)
