"""The `sent` record an effect's redos read (`Store.freeze_effect`) is handed only to the
worker that still holds that effect, only for the incident it was kept for, read whatever
release wrote it, and kept while its effect is retried; and a silence expired by a clock that
was ahead can be ended again once the clock is back.

At the store's level, on the in-memory store (the record's rules are `Store`'s, shared by
every backend); the pipeline's cases are in tests/test_redteam_round5_faults.py."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta
from types import MappingProxyType

import pytest

from factories import T0, alert, view
from memory_store import MemoryStore
from recording_pipeline import POLICY
from triage.errors import StoreBusyError, StoreNewerError
from triage.incidents.codec import RECORD_FORMAT, sent_from_json, sent_to_json
from triage.incidents.records import SENT, Record, Sent
from triage.incidents.silences import Matcher, Silence
from triage.models import Priority, Status, Ticket
from triage.view import GroupView, MemberView

LEASE = timedelta(minutes=2)
FP = "api-5xx"
TICKET = Ticket(title="api-5xx is failing", priority=Priority.HIGH, description="d", steps=())


def sent(seq: int = 1, *, title: str = "api-5xx", opened_at: datetime | None = T0) -> Sent:
    """What effect `seq` of the incident `api-5xx` opened at `opened_at` sends."""
    return Sent(seq, view(alert(title)), TICKET, 3, 1, False, None, opened_at=opened_at)


# --- Only the worker that holds the effect is handed its body ----------------------------------


async def _claimed(store: MemoryStore, owner: str = "m1#0@a") -> tuple[str, Sent]:
    """`owner` claims the OPEN of a new incident: its fingerprint, and the body its attempt
    builds."""
    transition = await store.begin(alert(), owner, T0)
    claimed = transition.after
    assert claimed is not None and claimed.pending is not None
    return claimed.fingerprint, sent(claimed.pending.seq, opened_at=claimed.opened_at)


def kept_for(store: MemoryStore, fingerprint: str) -> Sent | None:
    record = store.records.get((SENT, fingerprint))
    return sent_from_json(record.body) if record is not None else None


async def test_the_holder_of_an_effect_freezes_its_body() -> None:
    """The worker that holds the effect keeps its body, and its redo is handed it."""
    store = MemoryStore(POLICY, LEASE)
    fp, own = await _claimed(store)
    assert await store.freeze_effect(fp, own, "m1#0@a") == own
    again = await store.freeze_effect(fp, replace(own, occurrences=9), "m1#0@a")
    assert again == own


async def test_a_worker_whose_effect_was_taken_over_is_refused_its_body() -> None:
    """Another replica took the effect over (the first worker's lease lapsed) and froze its
    body: the first worker's freeze raises, so it calls no sink, and the body stays."""
    store = MemoryStore(POLICY, LEASE)
    fp, own = await _claimed(store)
    await store.begin(alert(minutes=3), "m2#0@b", T0 + LEASE + timedelta(minutes=1))
    theirs = replace(own, occurrences=2)
    assert await store.freeze_effect(fp, theirs, "m2#0@b") == theirs
    with pytest.raises(StoreBusyError):
        await store.freeze_effect(fp, own, "m1#0@a")
    assert kept_for(store, fp) == theirs


async def test_a_worker_whose_effect_was_finished_is_refused_before_anything_is_kept() -> None:
    """The effect was finished by another (no body kept: it did not fit, or it was never
    frozen): the lapsed worker's freeze raises and keeps nothing."""
    store = MemoryStore(POLICY, LEASE)
    fp, own = await _claimed(store)
    await store.begin(alert(minutes=3), "m2#0@b", T0 + LEASE + timedelta(minutes=1))
    await store.finish(fp, "m2#0@b")
    with pytest.raises(StoreBusyError):
        await store.freeze_effect(fp, own, "m1#0@a")
    assert kept_for(store, fp) is None


async def test_a_kept_body_of_a_later_effect_says_the_earlier_one_is_over() -> None:
    """A body kept for a later effect of the same incident proves the asking worker's effect
    is over: it raises, and the later body stays."""
    store = MemoryStore(POLICY, LEASE)
    await store.freeze_effect(FP, sent(2, title="second"))
    with pytest.raises(StoreBusyError):
        await store.freeze_effect(FP, sent(1, title="stale"))
    assert kept_for(store, FP) == sent(2, title="second")


# --- Only for the incident it was kept for -----------------------------------------------------


async def test_a_body_kept_for_an_earlier_incident_is_not_handed_to_a_new_one() -> None:
    """The fingerprint's earlier incident (its record expired, its seq at 2) kept a body; the
    new incident's first effect (seq 1 again) keeps and sends its own."""
    store = MemoryStore(POLICY, LEASE)
    await store.freeze_effect(FP, sent(2, title="old"))
    later = T0 + timedelta(days=31)
    for seq in (1, 2):
        new = sent(seq, title=f"new {seq}", opened_at=later)
        assert await store.freeze_effect(FP, new) == new
        assert kept_for(store, FP) == new


async def test_a_body_kept_by_a_release_before_generations_is_still_handed_to_its_redo() -> None:
    """A body an older release kept (no `opened_at`) is matched by its seq alone, as before."""
    store = MemoryStore(POLICY, LEASE)
    old = sent(1, title="first", opened_at=None)
    await store.freeze_effect(FP, old)
    assert await store.freeze_effect(FP, sent(1, title="redo")) == old


def test_the_generation_reads_back_and_is_absent_from_an_older_releases_body() -> None:
    """`opened_at` round-trips; a body without it reads with None."""
    assert sent_from_json(sent_to_json(sent())) == sent()
    data = json.loads(sent_to_json(sent()))
    del data["opened_at"]
    assert sent_from_json(json.dumps(data)).opened_at is None


# --- Read whatever release wrote it ------------------------------------------------------------


def test_fields_of_a_newer_release_are_passed_over_everywhere_in_the_body() -> None:
    """A newer release's fields at the top, in the alert, in the ticket, in the group and
    after a member's values read as the body without them."""
    members = (MemberView("fp-1", "pod api-1 is crash looping", Status.FIRING, T0),)
    group = GroupView(MappingProxyType({"alertname": "KubePodCrashLooping"}), members, 2)
    grouped = replace(sent(), alert=replace(sent().alert, group=group))
    data = json.loads(sent_to_json(grouped))
    data["kept_by"] = "release 2"
    data["alert"]["fix_hint"] = "x"
    data["alert"]["group"]["window_s"] = 60
    data["alert"]["group"]["members"][0].append("2026-11-23T09:00:00+00:00")
    data["ticket"]["runbook_url"] = "https://runbooks.example/a"
    assert sent_from_json(json.dumps(data)) == grouped


async def test_a_body_a_newer_release_marks_as_beyond_this_one_is_refused_and_left() -> None:
    """A body whose `min_reader` is beyond this release is refused (StoreNewerError: the
    message goes to a replica of that release) and left as it was."""
    store = MemoryStore(POLICY, LEASE)
    data = json.loads(sent_to_json(sent()))
    data["min_reader"] = RECORD_FORMAT + 1
    body = json.dumps(data)
    store.records[(SENT, FP)] = Record(FP, SENT, 1, body, None)
    with pytest.raises(StoreNewerError):
        await store.freeze_effect(FP, sent(title="redo"))
    assert store.records[(SENT, FP)].body == body


# --- Kept while its effect is retried ----------------------------------------------------------


async def test_a_redo_moves_a_near_expiry_on_and_a_fresh_one_is_left() -> None:
    """A redo reading a body within half the time it is kept of its expiry (`closed_ttl`, a
    day at least) dates it that long from now (one write); a redo soon after writes nothing."""
    store = MemoryStore(POLICY, LEASE, closed_ttl=timedelta(hours=2))
    await store.freeze_effect(FP, sent())
    first = store.records[(SENT, FP)]
    assert await store.freeze_effect(FP, sent(title="redo")) == sent()
    assert store.records[(SENT, FP)] is first  # fresh: left as it was
    assert first.expires_at is not None
    store.records[(SENT, FP)] = replace(first, expires_at=store.now().timestamp() + 3600)
    assert await store.freeze_effect(FP, sent(title="redo")) == sent()
    moved = store.records[(SENT, FP)]
    assert moved.body == first.body
    assert moved.expires_at is not None
    assert moved.expires_at >= store.now().timestamp() + 86400 - 1


# --- A silence expired by a clock that was ahead -----------------------------------------------


async def _running(store: MemoryStore) -> Silence:
    made = Silence.new(
        [Matcher.parse("team=payments")], T0 - timedelta(hours=1), T0 + timedelta(hours=4),
        "deploy", "al",
    )  # fmt: skip
    return await store.add_silence(made, T0)


async def test_expire_silence_after_a_clock_ahead_ends_it_now() -> None:
    """`expire_silence` (the CLI's and API's call) of a silence a clock ahead expired ends it
    at the caller's now."""
    store = MemoryStore(POLICY)
    silence = await _running(store)
    await store.end_silence(silence.id, T0 + timedelta(hours=1))
    again = await store.expire_silence(silence.id, T0)
    assert again is not None and again.expired_at == T0


async def test_a_silence_expired_in_the_past_is_not_ended_again() -> None:
    """A silence expired before now stays as it was: this call did not end it."""
    store = MemoryStore(POLICY)
    silence = await _running(store)
    first = await store.end_silence(silence.id, T0)
    again = await store.end_silence(silence.id, T0 + timedelta(minutes=5))
    assert first is not None and again is not None
    assert again == (first[0], False)


async def test_a_silence_expired_before_it_started_stays_ended_at_its_start() -> None:
    """A silence expired before its start ends at its start; expiring it again before then
    changes nothing (it mutes nothing already)."""
    store = MemoryStore(POLICY)
    made = Silence.new(
        [Matcher.parse("team=payments")], T0 + timedelta(hours=1), T0 + timedelta(hours=4),
        "later", "al",
    )  # fmt: skip
    silence = await store.add_silence(made, T0)
    first = await store.end_silence(silence.id, T0)
    again = await store.end_silence(silence.id, T0 + timedelta(minutes=5))
    assert first is not None and first[0].expired_at == made.starts_at
    assert again == (first[0], False)
