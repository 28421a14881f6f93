"""Events of one alert stamped alike and queued alike (one SendMessageBatch, one second's stamp):
the lifecycle orders them by status (a firing is the newer), so an incident, or a group's
member, ends alike whichever order replicas write them in. The lifecycle's pure functions, and
Alertmanager's notifications through two replicas (in-memory store)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest

from factories import T0
from test_redteam_round4_storms import Cluster, pod, webhook
from triage.incidents.groups import GroupKey, decide_group
from triage.incidents.lifecycle import Action, Decision, Incident, Policy, decide
from triage.models import Status
from triage.moves import MovedOut
from triage.sqs.inbox import Message

POLICY = Policy(
    update_interval=timedelta(minutes=15), reopen_window=timedelta(hours=1), flap_threshold=3
)
KEY = GroupKey.of("hosts", ("host",), {"host": "db-1"}, 0, str)
FIRING, RESOLVED = Status.FIRING, Status.RESOLVED


@dataclass(frozen=True)
class Event:
    """One alert's event as the pipeline applies it: stamped `seconds` after T0, its message
    queued `queued_s` after T0 (None: not known)."""

    status: Status
    seconds: float = 0
    queued_s: float | None = 0
    #: Its message's first delivery, which no other message carries (`_Event.first_sight`).
    first_sight: bool = False

    @property
    def fingerprint(self) -> str:
        return "fp-disk-a"

    @property
    def source(self) -> str:
        return "generic"

    @property
    def title(self) -> str:
        return "disk-a is full"

    @property
    def occurred_at(self) -> datetime:
        return T0 + timedelta(seconds=self.seconds)

    @property
    def queued_at(self) -> datetime | None:
        return None if self.queued_s is None else T0 + timedelta(seconds=self.queued_s)


def decide_one(stored: Incident | None, event: Event | MovedOut, grouped: bool) -> Decision:
    """The decision for `event` (a group member's when `grouped`), taken 10 s after T0."""
    now = T0 + timedelta(seconds=10)
    if grouped:
        return decide_group(stored, event, now, POLICY, KEY)
    return decide(stored, event, now, POLICY)


def play(
    stored: Incident | None, events: list[Event], grouped: bool
) -> tuple[Incident | None, str, list[str]]:
    """Apply `events` in order to `stored`, each effect done (its ticket's reference kept):
    the incident after them, its state and the effects decided."""
    effects = []
    for event in events:
        decision = decide_one(stored, event, grouped)
        if decision.incident is not None:
            stored = decision.incident
        if decision.action.effect is not None and stored is not None:
            effects.append(str(decision.action))
            stored = dataclasses.replace(stored, refs={"backend": "T-1"})
    assert stored is not None
    return stored, str(stored.state), effects


def ended(stored: Incident | None, events: list[Event], grouped: bool) -> tuple[str, list[str]]:
    """`play`'s state and effects."""
    _, state, effects = play(stored, events, grouped)
    return state, effects


def started(kind: str, grouped: bool) -> Incident | None:
    """The incident before the pair arrives: none, open since a firing two minutes before, or
    closed (recently) by a resolve a minute after that firing."""
    if kind == "none":
        return None
    earlier = [Event(FIRING, -120, -120)]
    if kind == "closed":
        earlier.append(Event(RESOLVED, -60, -60))
    stored, _, _ = play(None, earlier, grouped)
    return stored


@pytest.mark.parametrize("grouped", [False, True])
@pytest.mark.parametrize("kind", ["none", "open", "closed"])
def test_a_firing_and_a_resolve_stamped_and_queued_alike_end_alike_in_either_order(
    kind: str, grouped: bool
) -> None:
    """From every state, a firing and a resolve stamped with one second and queued in one
    millisecond leave the incident (or group) open in either order: the firing is the newer
    of the two. (From open, a resolve written first has closed it: the firing reopens it.)"""
    before = started(kind, grouped)
    fired_first, _ = ended(before, [Event(FIRING), Event(RESOLVED)], grouped)
    resolved_first, _ = ended(before, [Event(RESOLVED), Event(FIRING)], grouped)
    assert fired_first == resolved_first == "open"


@pytest.mark.parametrize("grouped", [False, True])
def test_a_resolve_stamped_and_queued_as_the_firing_applied_is_ignored(grouped: bool) -> None:
    """A resolve stamped and queued as the open incident's (or member's) newest firing is
    older: nothing is written, no close goes out."""
    stored, _, _ = play(started("open", grouped), [Event(FIRING)], grouped)
    decision = decide_one(stored, Event(RESOLVED), grouped)
    assert decision.action is Action.IGNORE and decision.incident is None


@pytest.mark.parametrize("grouped", [False, True])
def test_a_resolve_queued_later_than_a_firing_stamped_alike_still_closes(grouped: bool) -> None:
    """Queue time still comes before status: of a firing and a resolve stamped alike, the
    resolve whose message was queued later is the newer, in either order (a resolve and a
    re-fire in one instant, sent in two notifications)."""
    before = started("open", grouped)
    firing, resolve = Event(FIRING, queued_s=0), Event(RESOLVED, queued_s=1)
    either = ended(before, [firing, resolve], grouped)
    assert either == ended(before, [resolve, firing], grouped)
    assert either[0] == "closed"


@pytest.mark.parametrize("grouped", [False, True])
def test_a_re_fire_a_second_after_a_resolve_reopens_in_either_order(grouped: bool) -> None:
    """Flapping is still seen: a real re-fire one second after a resolve reopens the closed
    incident (group) whichever of the two is written first."""
    before = started("open", grouped)
    resolve, refire = Event(RESOLVED, 0, 0), Event(FIRING, 1, 1)
    assert ended(before, [resolve, refire], grouped) == ("open", ["close", "reopen"])
    assert ended(before, [refire, resolve], grouped) == ("open", [])


@pytest.mark.parametrize("grouped", [False, True])
def test_a_resolve_of_unknown_queue_time_stamped_as_the_firing_closes(grouped: bool) -> None:
    """Without queue times (alerts applied outside the pipeline) a resolve stamped as the
    open incident's firing still closes it: the status decides only between events whose
    messages are known to be queued alike."""
    before = started("open", grouped)
    pair = [Event(FIRING, queued_s=None), Event(RESOLVED, queued_s=None)]
    assert ended(before, pair, grouped) == ("closed", ["close"])


@pytest.mark.parametrize("grouped", [False, True])
def test_a_firing_stamped_and_queued_alike_is_still_a_repeat(grouped: bool) -> None:
    """Another message's firing stamped and queued as the one applied (one SendMessageBatch
    of alike repeats, each its message's first sight) is counted as a repeat, not ignored as
    older: the status ranks only events of two statuses."""
    stored, _, _ = play(started("open", grouped), [Event(FIRING)], grouped)
    assert decide_one(stored, Event(FIRING, first_sight=True), grouped).action is Action.COUNT


def test_the_firing_applied_delivered_again_counts_nothing() -> None:
    """The firing applied, its message delivered again (no first sight: SQS keeping a copy of
    a message it was asked to delete, whose short id may have left `counted_by`), counts
    nothing: stamped and queued alike, it is another delivery of that firing."""
    stored, _, _ = play(started("open", False), [Event(FIRING)], False)
    assert decide_one(stored, Event(FIRING), False).action is Action.IGNORE


@pytest.mark.parametrize("grouped", [False, True])
def test_a_moves_resolve_stamped_and_queued_as_the_firing_takes_the_alert_out(
    grouped: bool,
) -> None:
    """The resolve a move writes where its alert fired (stamped and queued as the firing that
    moves it) is no older than that firing: it resolves the member (closes the incident)."""
    stored, _, _ = play(started("open", grouped), [Event(FIRING)], grouped)
    decision = decide_one(stored, MovedOut(Event(RESOLVED)), grouped)
    assert decision.action is Action.CLOSE


async def refire_in_one_instant(order: str, queued_s: tuple[float, float]) -> tuple[str, list[str]]:
    """An Alertmanager alert fired at T0 (its ticket open), then, in order `order` ("rf" or
    "fr") on two replicas: its resolve (`endsAt` a minute later) and its re-fire (`startsAt`
    that same instant), their messages queued `queued_s` seconds after that minute. The
    incident's state and the backend's effects."""
    c = Cluster()
    await c.deliver(c.message(webhook([pod(0)]), 0))
    bodies = {
        "r": webhook([pod(0, "resolved", 1, starts=0)]),
        "f": webhook([pod(0, minutes=1)]),
    }
    queued = dict(zip("rf", queued_s, strict=True))
    for n, key in enumerate(order):
        when = T0 + timedelta(minutes=1, seconds=queued[key])
        message = Message(f"m-{key}", bodies[key], f"rh-{key}", 1, when, received_at=when)
        await c.deliver(message, n % 2)
    [stored] = await c.store.incidents()
    return str(stored.state), c.kinds()


async def test_an_alertmanager_resolve_and_re_fire_in_one_instant_and_one_batch_end_open() -> None:
    """Alertmanager's resolve (`endsAt`) and re-fire (`startsAt`) of one instant, queued in one
    batch, leave the incident open in either order: the re-fire reopens it after the close,
    or the resolve taken after the re-fire changes nothing."""
    assert await refire_in_one_instant("rf", (0, 0)) == (
        "open",
        ["open", "close", "reopen"],
    )
    assert await refire_in_one_instant("fr", (0, 0)) == ("open", ["open"])


async def test_an_alertmanager_resolve_queued_after_a_re_fire_of_one_instant_closes() -> None:
    """Queued in two batches, the one queued later is the newer, as the README says: a resolve
    queued after the re-fire stamped alike closes the incident in either order."""
    assert (await refire_in_one_instant("rf", (1, 0)))[0] == "closed"
    assert (await refire_in_one_instant("fr", (1, 0)))[0] == "closed"
