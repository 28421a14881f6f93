"""Operators' faults, round 10 (helper 579): what a team adopting triage would hit when it
silences often, pages through a changing listing, or reads the store from the command line."""

from __future__ import annotations

from datetime import timedelta

import pytest

from factories import T0
from test_store import store as store  # the suite's SQLite and DynamoDB stores
from triage.incidents import store as store_module
from triage.incidents.silences import Matcher, Silence
from triage.incidents.store import Store


def _silence(n: int, start: timedelta, lasts: timedelta, comment: str = "deploy") -> Silence:
    return Silence.new(
        [Matcher.parse(f"title=deploy-{n}")], T0 + start, T0 + start + lasts, comment, "ci"
    )


# --- Ended silences never fill the store's room for new ones ---------------------------------


async def test_ended_silences_make_room_for_a_new_one(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pipeline that silences each deploy for 10 minutes can always add the next one: at the
    cap, the silences that ended longest ago are dropped from the history, never a refusal to
    "expire some first" that no expiry can satisfy (every kept one had ended already)."""
    monkeypatch.setattr(store_module, "MAX_SILENCES", 3)
    for n in range(3):
        await store.add_silence(_silence(n, timedelta(hours=n), timedelta(minutes=10)), T0)
    later = T0 + timedelta(hours=5)
    added = await store.add_silence(_silence(9, timedelta(hours=5), timedelta(minutes=10)), later)
    kept = await store.silences()
    assert [s.matchers[0].value for s in kept] == ["deploy-1", "deploy-2", "deploy-9"]
    assert kept[-1].id == added.id


async def test_silences_in_effect_at_the_cap_still_refuse_a_new_one(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only history is dropped: with the cap's worth of silences still muting, a new one is
    refused saying to expire some, and none of them is lost."""
    monkeypatch.setattr(store_module, "MAX_SILENCES", 3)
    for n in range(3):
        await store.add_silence(_silence(n, timedelta(0), timedelta(days=1)), T0)
    with pytest.raises(ValueError, match="expire some first"):
        await store.add_silence(_silence(9, timedelta(hours=1), timedelta(hours=1)), T0)
    assert len(await store.silences()) == 3


async def test_ended_silences_with_long_comments_make_room_in_the_record(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The store record's size bound is met the same way: ended silences with long comments
    are dropped, oldest ended first, so a new one fits."""
    monkeypatch.setattr(store_module, "MAX_RECORD_BYTES", 4_000)
    long = "rolled out build " + "x" * 900
    for n in range(3):
        await store.add_silence(_silence(n, timedelta(hours=n), timedelta(minutes=10), long), T0)
    later = T0 + timedelta(hours=5)
    await store.add_silence(_silence(9, timedelta(hours=5), timedelta(minutes=10), long), later)
    kept = await store.silences()
    assert kept[-1].matchers[0].value == "deploy-9" and len(kept) < 4
