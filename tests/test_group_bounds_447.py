"""Groups past every member bound (helper 447): members counted past the tracked ones and past
the short ids (`groups.MAX_MEMBERS`, `groups.MAX_UNTRACKED_IDS`) are known by one bit of a
bitmap hashed from their fingerprints, so a resend of one counts nothing and its resolve takes
it off; the bitmap is stored, bounded, and read back (absent from records written before)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from test_groups_round4_untracked import Event, apply, ticketed
from test_redteam_round4_storms import grouping, pod, webhook
from test_redteam_round4_storms import groups as stored_groups
from test_storms_round5_a import at_every_bound
from triage.incidents import groups
from triage.incidents.codec import incident_from_json, incident_to_json
from triage.incidents.lifecycle import Action, Incident, State
from triage.incidents.members import known_member
from triage.incidents.store import MAX_RECORD_BYTES
from triage.models import Status


@pytest.fixture(autouse=True)
def _small_bounds(monkeypatch: pytest.MonkeyPatch) -> None:
    """One member tracked, one known by its short id: the third and later are hashed."""
    monkeypatch.setattr(groups, "MAX_MEMBERS", 1)
    monkeypatch.setattr(groups, "MAX_UNTRACKED_IDS", 1)


def _storm(names: str) -> Incident:
    """An open, ticketed group whose members `names` (one letter each) fired at minute 0."""
    stored: Incident | None = None
    for name in names:
        _, stored = apply(stored, Event(name), 0)
        stored = ticketed(stored)
    assert stored is not None
    return stored


def test_a_resend_of_a_member_past_every_bound_counts_nothing_and_writes_nothing() -> None:
    """A member known by neither record nor id, resent stamped as before, is the same member:
    counted once, and the resend writes nothing (a storm's repeat stays free)."""
    stored = _storm("abc")
    assert stored.group is not None and stored.group.untracked == 2
    action, after = apply(stored, Event("c", queued_minutes=1), 1)
    assert action is Action.COUNT and after is stored


def test_the_group_closes_when_every_member_past_the_bounds_resolves() -> None:
    """Resent once, then every member resolves: the group closes at the last resolve, and
    not before while a hashed member still fires."""
    stored = _storm("abcd")
    for name in "abcd":
        _, stored = apply(stored, Event(name, queued_minutes=1), 1)
    order = "acbd"
    for i, name in enumerate(order):
        _, after = apply(stored, Event(name, Status.RESOLVED, 2, 2), 2)
        assert after is not None
        stored = after
        last = i == len(order) - 1
        assert (stored.state is State.CLOSED) is last, (name, stored.group)
    assert stored.group is not None and stored.group.untracked_bits == b""


def test_a_resolve_of_a_member_never_seen_leaves_the_hashed_count() -> None:
    """A resolve of an alert the group never counted takes no hashed member off: the group
    stays open while those fire (before, it took one of those counted by no id off)."""
    stored = _storm("abc")
    _, stored = apply(stored, Event("b", Status.RESOLVED, 1, 1), 1)
    assert stored is not None and stored.group is not None and stored.group.still_firing == 2
    _, after = apply(stored, Event("zz", Status.RESOLVED, 2, 2), 2)
    assert after is not None and after.group is not None and after.group.still_firing == 2


def test_the_hashed_members_are_stored_bounded_and_read_back() -> None:
    """The bitmap goes through the codec as it was, at most `HASHED_BITS` / 8 bytes however
    many members are hashed, and a record written before it reads with none."""
    stored = _storm("abcdefghij")
    assert stored.group is not None
    bits = stored.group.untracked_bits
    assert 0 < len(bits) <= groups.HASHED_BITS // 8
    read = incident_from_json(incident_to_json(stored))
    assert read.group is not None and read.group.untracked_bits == bits
    before = json.loads(incident_to_json(stored))
    del before["group"]["untracked_bits"]
    old = incident_from_json(json.dumps(before))
    assert old.group is not None and old.group.untracked_bits == b""
    assert incident_to_json(old) == json.dumps(before, separators=(",", ":"), ensure_ascii=False)


def test_a_group_counted_by_no_id_before_the_bitmap_still_closes() -> None:
    """A record written before the bitmap, with members counted by no id: a resolve of a
    member the group does not know takes one of them off, as it did, so the group closes."""
    stored = _storm("ab")
    assert stored.group is not None
    legacy = dataclasses.replace(stored, group=dataclasses.replace(stored.group, untracked=2))
    _, after = apply(legacy, Event("b", Status.RESOLVED, 1, 1), 1)
    _, after = apply(after, Event("x", Status.RESOLVED, 1, 1), 1)
    assert after is not None and after.state is State.OPEN
    _, after = apply(after, Event("a", Status.RESOLVED, 1, 1), 1)
    assert after is not None and after.state is State.CLOSED


def test_a_member_known_by_its_bit_is_found_firing_in_its_group() -> None:
    """A member past every bound is a member all the same for moves and for resolves that
    no longer carry the group's labels (`known_member`): found firing, so its resolve
    reaches the group it fires in."""
    stored = _storm("abc")
    assert stored.group is not None
    member = known_member(stored.group, Event("c").fingerprint)
    assert member is not None and member.status is Status.FIRING
    assert known_member(stored.group, Event("zz").fingerprint) is None


async def test_a_storm_past_every_bound_stays_open_while_one_hashed_member_fires(
    tmp_path: Path,
) -> None:
    """Six members fire (one tracked, one by id, four by their bits), Alertmanager resends
    them all, and all but the last resolve: the group stays one open ticket, as that member
    still fires (a resend counted again or a resolve taking off the wrong member would not
    show here; closing once the known members resolve would)."""
    c = grouping(tmp_path)
    storm = webhook([pod(i) for i in range(6)])
    await c.deliver(c.message(storm, 0))
    await c.deliver(c.message(storm, 5), 1)
    await c.deliver(c.message(webhook([pod(i, "resolved", 10) for i in range(5)]), 10))
    [group] = await stored_groups(c)
    assert str(group.state) == "open" and "close" not in c.kinds(), c.kinds()
    await c.deliver(c.message(webhook([pod(5, "resolved", 11)]), 11))
    [group] = await stored_groups(c)
    assert str(group.state) == "closed" and c.kinds()[-1] == "close", c.kinds()


def test_a_group_at_every_bound_with_every_bit_set_leaves_room_in_its_record() -> None:
    """Untitled, a group at every bound whose bitmap has every bit set takes at most 270 KB
    of the 350 KB a record holds (11 KB more than without it): 80 KB stay for its ticket,
    labels and history."""
    full = at_every_bound()
    assert full.group is not None
    every_bit = b"\xff" * (groups.HASHED_BITS // 8)
    group = dataclasses.replace(full.group, untracked_bits=every_bit)
    body = incident_to_json(dataclasses.replace(full, group=group))
    assert len(body.encode()) <= MAX_RECORD_BYTES - 80_000
    assert incident_from_json(body).group == group
