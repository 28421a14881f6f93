"""The DynamoDB store reads a record once per unit of work: a task that just read or wrote a
record changes its own copy next, conditional on the version it saw, and reads again only when
another writer got there first. On moto's server, counted by a proxy in front of it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from factories import T0, alert
from fault_proxy import FaultProxy
from moto_speed import loopback_aws_client
from triage.incidents.dynamodb import DynamoDBStore, create_table
from triage.incidents.lifecycle import Action, Policy
from triage.models import Priority, Ticket

POLICY = Policy(update_interval=timedelta(minutes=15), reopen_window=timedelta(hours=1))
GET, PUT = "DynamoDB_20120810.GetItem", "DynamoDB_20120810.PutItem"
CONFLICT = "ConditionalCheckFailedException"
TICKET = Ticket(title="api-5xx is failing", priority=Priority.HIGH, description="d")


@pytest.fixture
async def proxied(moto_url: str) -> AsyncIterator[tuple[FaultProxy, Any]]:
    """A table on moto, and a DynamoDB client whose calls a FaultProxy counts."""
    async with loopback_aws_client("dynamodb", endpoint_url=moto_url) as plain:
        await create_table(plain, "incidents")
    with FaultProxy(moto_url) as proxy:
        async with loopback_aws_client("dynamodb", endpoint_url=proxy.url) as client:
            yield proxy, client


def _replica(client: Any) -> DynamoDBStore:
    return DynamoDBStore(client, "incidents", POLICY, timedelta(minutes=2), timedelta(days=30))


async def _open(store: DynamoDBStore, owner: str) -> str:
    """The unit of work of a new incident: the claim, the ticket, the sink's confirm."""
    opened = await store.begin(alert("api-5xx"), owner, T0)
    assert opened.action is Action.OPEN
    await store.save_ticket(opened.fingerprint, owner, TICKET)
    await store.confirm(opened.fingerprint, owner, "backend", "T-1", finish=True)
    return opened.fingerprint


async def test_a_new_incident_reads_its_record_once(proxied: tuple[FaultProxy, Any]) -> None:
    """Opening an incident (claim, ticket, confirm) costs one GetItem and three PutItems, not a
    GetItem before every write."""
    proxy, client = proxied
    store = _replica(client)
    fingerprint = await _open(store, "m1#0@a")
    assert (proxy.requests(GET), proxy.requests(PUT)) == (1, 3)
    stored = await store.get(fingerprint)
    assert stored is not None and stored.pending is None and stored.refs == {"backend": "T-1"}


async def test_a_write_by_another_replica_in_between_is_kept(
    proxied: tuple[FaultProxy, Any],
) -> None:
    """Another replica counts a repeat between our claim and our confirm: our write on our own
    copy is refused (its version moved on), we read again, and the record keeps both."""
    proxy, client = proxied
    ours, other = _replica(client), _replica(client)
    opened = await ours.begin(alert("api-5xx"), "m1#0@a", T0)
    counted = await other.begin(alert("api-5xx", minutes=1), "m2#0@b", T0 + timedelta(minutes=1))
    assert counted.action is Action.COUNT
    await ours.save_ticket(opened.fingerprint, "m1#0@a", TICKET)
    await ours.confirm(opened.fingerprint, "m1#0@a", "backend", "T-1", finish=True)
    assert proxy.errors(CONFLICT) == 1
    stored = await ours.get(opened.fingerprint)
    assert stored is not None
    assert stored.occurrences == 2
    assert stored.ticket == TICKET and stored.refs == {"backend": "T-1"}
    assert stored.pending is None


async def test_a_task_that_did_not_write_the_record_reads_it(
    proxied: tuple[FaultProxy, Any],
) -> None:
    """Only the task that wrote a record uses its copy: a repeat counted by another task (which
    another replica may have written since, as often as not in a storm) reads first."""
    proxy, client = proxied
    store = _replica(client)
    await _open(store, "m1#0@a")
    before = proxy.requests(GET)
    repeat = asyncio.create_task(
        store.begin(alert("api-5xx", minutes=1), "m2#0@a", T0 + timedelta(minutes=1))
    )
    assert (await repeat).action is Action.COUNT
    assert proxy.requests(GET) == before + 1
    assert proxy.errors(CONFLICT) == 0


async def test_a_member_looked_up_then_placed_reads_its_record_once(
    proxied: tuple[FaultProxy, Any],
) -> None:
    """A member's group looked up, then the member placed in a group, in one task: one GetItem
    (the look-up's answer, "no such record", is the copy the write is conditional on)."""
    proxy, client = proxied
    store = _replica(client)
    assert await store.member_group("f" * 32) is None
    await store.place_member("f" * 32, "group-1", T0)
    assert (proxy.requests(GET), proxy.requests(PUT)) == (1, 1)
    assert await store.member_group("f" * 32) == "group-1"
