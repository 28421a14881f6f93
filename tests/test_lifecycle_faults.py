"""Faults of the incident lifecycle a hostile or unlucky sender causes: messages delivered out
of order or twice (SQS is at least once), flapping, clocks that disagree, groups whose members
change, replicas racing. The pipeline runs on the in-memory store and fake sinks of
test_pipeline, so each case is a few milliseconds."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from factories import T0
from test_pipeline import Rig, rig
from triage.incidents import Action
from triage.pipeline import OFFLOAD_BODY_BYTES
from triage.routes import load_router
from triage.settings import Settings
from triage.sqs.inbox import Message


def generic(mid: str, sent_min: float, *, receipt: str = "rh-1", **fields: object) -> Message:
    """A generic alert's message `mid`, queued `sent_min` minutes after T0 and received then
    (a redelivery passes another `receipt` and is received later: see `redeliver`)."""
    sent = T0 + timedelta(minutes=sent_min)
    body = json.dumps({"title": "disk full", "dedup_key": "disk-a", **fields})
    return Message(mid, body, receipt, 1, sent, received_at=sent)


def redeliver(message: Message, at_min: float) -> Message:
    """The same message (same id and body) handed out again, received `at_min` after T0."""
    received = T0 + timedelta(minutes=at_min)
    return Message(message.id, message.body, "rh-2", 2, message.sent_at, received_at=received)


async def _process(r: Rig, message: Message, now: datetime | None = None) -> list[Action]:
    r.clock.now = now or message.received_at
    return [outcome.action for outcome in await r.pipeline.process(message)]


@pytest.mark.parametrize("padding", [0, OFFLOAD_BODY_BYTES], ids=["small", "offloaded"])
async def test_a_timeless_repeat_delivered_again_after_the_resolve_does_not_reopen(
    padding: int,
) -> None:
    """A repeat whose source gave no time, delivered again after the resolve was applied (its
    ack was lost), is dated when it was queued, before the resolve: it reopens nothing (it was
    dated when it was read, later on each delivery, so the second looked newest)."""
    r = rig()
    repeat = generic("m2", 1, padding="x" * padding)
    assert await _process(r, generic("m1", 0)) == [Action.OPEN]
    assert await _process(r, repeat) == [Action.COUNT]
    assert await _process(r, generic("m3", 2, status="resolved")) == [Action.CLOSE]
    assert await _process(r, redeliver(repeat, 5)) == [Action.IGNORE]
    assert r.sink.kinds() == ["open", "close"]


# --- Group members whose labels change ---------------------------------------------------------

HOST_GROUPS = """
[[route]]
name = "hosts"
sinks = ["backend"]
group_by = ["host"]
[route.match]
source = ["generic"]
"""


def host_rig(tmp_path: Path) -> Rig:
    """A pipeline whose route groups generic alerts by their `host`."""
    routes = tmp_path / "routes.toml"
    routes.write_text(HOST_GROUPS)
    r = rig()
    r.pipeline.router = load_router(Settings(routes_file=routes))
    return r


def dated(mid: str, minutes: float, **fields: object) -> Message:
    """A generic alert's message, stamped `minutes` after T0 (its own `timestamp`)."""
    at = (T0 + timedelta(minutes=minutes)).isoformat()
    return generic(mid, minutes, timestamp=at, **fields)


async def _groups(r: Rig) -> dict[str, str]:
    """Each stored group's title and state."""
    return {i.title: str(i.state) for i in await r.store.incidents() if i.group is not None}


async def test_a_resolve_without_the_label_its_group_is_keyed_by_closes_that_group(
    tmp_path: Path,
) -> None:
    """A script that resolves with its dedup_key only (no host) resolves the member in the
    group it fired in, and the group's ticket closes (it went to a group of its own, host=∅,
    and the ticket stayed open for good)."""
    r = host_rig(tmp_path)
    assert await _process(r, dated("m1", 0, host="a")) == [Action.OPEN]
    assert await _process(r, dated("m2", 1, status="resolved")) == [Action.CLOSE]
    assert r.sink.kinds() == ["open", "close"]
    assert await _groups(r) == {"host=a": "closed"}


async def test_a_member_that_moves_to_another_group_resolves_in_the_one_it_left(
    tmp_path: Path,
) -> None:
    """An alert that fires under another host now is a member of that host's group and no
    longer of the first, which closes when none of its members fires; its resolve then closes
    the second. Each ticket opens and closes once, and another delivery changes nothing."""
    r = host_rig(tmp_path)
    await _process(r, dated("m1", 0, host="a"))
    moved = dated("m2", 1, host="b")
    assert await _process(r, moved) == [Action.OPEN]
    assert await _groups(r) == {"host=a": "closed", "host=b": "open"}
    assert await _process(r, redeliver(moved, 2)) == [Action.IGNORE]
    assert await _process(r, dated("m3", 3, host="b", status="resolved")) == [Action.CLOSE]
    assert await _groups(r) == {"host=a": "closed", "host=b": "closed"}
    assert r.sink.kinds() == ["open", "open", "close", "close"]
    assert r.summariser.calls == 2
