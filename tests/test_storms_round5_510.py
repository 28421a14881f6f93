"""Round 5 (helper 510): storms and counting leftovers. The real Pipeline on one in-memory
store (two replicas sharing it), a recording backend, and messages as SQS hands them out: a
repeat whose first attempt found its incident busy (another worker carrying out its effect)
is held and tried again in the same process, and must still be counted once."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from factories import alert
from test_pipeline import LEASE
from test_priority_raised_452 import Rig
from test_redteam_round4_storms import Cluster, at, pod, webhook
from test_storms_round4_484 import script
from triage.errors import StoreBusyError
from triage.incidents import Action
from triage.incidents.codec import incident_from_json
from triage.incidents.lifecycle import Pending, replace_incident
from triage.incidents.records import INCIDENT
from triage.models import Alert, EffectKind, Priority
from triage.sqs.inbox import Message

#: Past the update interval (15 minutes) after the ticket opened: a counted repeat updates it.
LATER = 20.0


async def busy(c: Cluster, holding: bool) -> None:
    """Another worker takes (`holding`) or finishes the effect in progress of the (first)
    incident."""
    incident = (await c.store.incidents())[0]
    pending = Pending(EffectKind.UPDATE, "other#0@d", c.clock.now + LEASE, 9)

    def change(stored: object) -> tuple[object, None]:
        assert stored is not None
        after = replace_incident(
            incident, pending=pending if holding else None, version=incident.version + 1
        )
        return after, None

    await c.store._transact(incident.fingerprint, change)  # type: ignore[arg-type]


async def held_then_retried(c: Cluster, message: Message) -> list[str]:
    """`message` received when another worker holds its (first) incident's effect (held:
    busy), then tried again by the same replica, as it was received, once that effect is over."""
    c.clock.now = message.received_at
    await busy(c, holding=True)
    with pytest.raises(StoreBusyError):
        await c.pipelines[0].process(message)
    await busy(c, holding=False)
    return [str(a) for a in await c.deliver(message)]


async def test_a_late_repeat_held_while_its_incident_is_busy_is_counted_once_on_its_retry() -> None:
    """A late repeat (older than the newest firing counted) whose first attempt found the
    incident busy counts once when its held retry goes through (the update it makes due),
    and SQS handing the same message out again afterwards counts nothing."""
    c = Cluster()
    await c.deliver(c.message(script("firing", 0), 0))
    await c.deliver(c.message(script("firing", 2), 2))
    late = dataclasses.replace(c.message(script("firing", 1), 2, mid="late"), received_at=at(LATER))
    assert await held_then_retried(c, late) == ["update"]
    [incident] = await c.store.incidents()
    assert incident.occurrences == 3
    again = c.message(script("firing", 1), LATER + 1, mid="late", count=2)
    assert [str(a) for a in await c.deliver(again, 1)] == ["ignore"]
    [incident] = await c.store.incidents()
    assert incident.occurrences == 3


async def test_an_alike_repeat_held_while_its_incident_is_busy_is_counted_once_on_its_retry() -> (
    None
):
    """Two repeats stamped and queued alike (one SendMessageBatch): the second, finding the
    incident busy, is held and counts once on its retry, not taken for another delivery of
    the first; SQS handing it out again afterwards counts nothing."""
    c = Cluster()
    await c.deliver(c.message(script("firing", 0), 0))
    await c.deliver(c.message(script("firing", 2), 2))
    twin = dataclasses.replace(c.message(script("firing", 2), 2, mid="twin"), received_at=at(LATER))
    assert await held_then_retried(c, twin) == ["update"]
    [incident] = await c.store.incidents()
    assert incident.occurrences == 3
    again = c.message(script("firing", 2), LATER + 1, mid="twin", count=2)
    again = dataclasses.replace(again, sent_at=at(2))
    assert [str(a) for a in await c.deliver(again, 1)] == ["ignore"]
    [incident] = await c.store.incidents()
    assert incident.occurrences == 3


async def test_a_late_message_of_two_alerts_one_busy_counts_each_once_over_its_retry() -> None:
    """An Alertmanager message of two pods' repeats, queued before the newest (SQS keeping no
    order): one pod's incident is busy, the other's repeat is decided; the held retry counts
    the busy one once and adds nothing to the one decided on the first attempt."""
    c = Cluster()
    both = webhook([pod(0), pod(1)])
    await c.deliver(c.message(both, 0))
    await c.deliver(c.message(both, 2))
    late = dataclasses.replace(c.message(both, 1, mid="late"), received_at=at(LATER))
    assert sorted(await held_then_retried(c, late)) == ["ignore", "update"]
    assert [i.occurrences for i in await c.store.incidents()] == [3, 3]
    assert c.kinds().count("update") == 2


def _changed(minutes: float, priority: Priority) -> Alert:
    """A person's change of the generic alert `api-5xx`'s priority to `priority`, made at
    `minutes`."""
    return alert(minutes=minutes, priority=priority).model_copy(update={"priority_changed": True})


@pytest.mark.parametrize(
    "order", [(Priority.LOW, Priority.CRITICAL), (Priority.CRITICAL, Priority.LOW)]
)
async def test_two_priority_changes_stamped_alike_leave_the_higher_whatever_their_order(
    tmp_path: Path, order: tuple[Priority, Priority]
) -> None:
    """Two people change one ticket's priority in the same instant (to low and to critical),
    their changes applied in either order (two replicas, SQS keeping no order): the ticket
    ends at the higher, critical, not at whichever came last."""
    r = Rig(tmp_path)
    assert await r.send(0, alert(minutes=0, priority=Priority.HIGH)) is Action.OPEN
    first, second = order
    assert await r.send(3, _changed(2, first)) is Action.UPDATE
    await r.send(4, _changed(2, second))
    stored = incident_from_json(r.store.records[(INCIDENT, _changed(2, first).fingerprint)].body)
    assert stored.ticket is not None and stored.ticket.priority is Priority.CRITICAL
    assert r.backend.effects[-1].ticket.priority is Priority.CRITICAL
