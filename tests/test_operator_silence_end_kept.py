"""Re-adding a silence (same matchers, comment and author) with an earlier end, on another replica
sharing the store: the store keeps the one silence and its later end, as two Alertmanager
silences would quiet until the later one ends, and the operator is told so, with the way to end
it sooner; likewise when another, broader silence outlasts a new one. Two store objects on one
SQLite file, and on one DynamoDB table (moto)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from moto_speed import loopback_aws_client
from test_store import LEASE, POLICY
from triage.incidents import Store
from triage.incidents.dynamodb import DynamoDBStore, create_table
from triage.incidents.silences import Silence
from triage.incidents.sqlite import SQLiteStore
from triage.ops.operator import new_silence, silence_warnings

MATCHERS = ["team=payments", "env=prod"]
KEEP = timedelta(days=30)


@pytest.fixture(params=["sqlite", "dynamodb"])
async def replicas(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[tuple[Store, Store]]:
    """Two replicas' stores over the same records."""
    if request.param == "sqlite":
        stores = [SQLiteStore(str(tmp_path / "t.db"), POLICY, LEASE, KEEP) for _ in range(2)]
        for store in stores:
            await store.open()
        yield stores[0], stores[1]
        for store in stores:
            await store.aclose()
        return
    moto_url = request.getfixturevalue("moto_url")
    async with (
        loopback_aws_client("dynamodb", endpoint_url=moto_url) as one,
        loopback_aws_client("dynamodb", endpoint_url=moto_url) as other,
    ):
        await create_table(one, "incidents")
        yield (
            DynamoDBStore(one, "incidents", POLICY, LEASE, KEEP),
            DynamoDBStore(other, "incidents", POLICY, LEASE, KEEP),
        )


async def _add(
    store: Store, now: datetime, ends: datetime, comment: str = "db work"
) -> tuple[Silence, Silence]:
    """The silence asked for, ending at `ends`, and the store's answer to its add."""
    asked = new_silence(MATCHERS, None, comment, "alice", now, until=ends.isoformat())
    return asked, await store.add_silence(asked, now)


def _said(asked: Silence, added: Silence) -> list[str]:
    """What the operator who asked for `asked` hears of the store's answer `added`, beyond
    the warnings about the silence itself (no incidents in the store)."""
    about_silence = silence_warnings(added, [])
    return [w for w in silence_warnings(added, [], asked=asked) if w not in about_silence]


async def test_an_earlier_end_on_another_replica_keeps_the_later_and_says_so(
    replicas: tuple[Store, Store],
) -> None:
    """Replica B's add ending earlier answers replica A's silence, its end unchanged, with one
    warning naming that silence, both ends and how to end it sooner."""
    a, b = replicas
    now = datetime.now(UTC)
    _, first = await _add(a, now, now + timedelta(hours=3))
    asked, added = await _add(b, now + timedelta(seconds=5), now + timedelta(hours=1))
    assert added.id == first.id and added.ends() == first.ends()
    [warning] = _said(asked, added)
    assert first.id in warning
    assert first.ends().isoformat(timespec="seconds") in warning
    assert asked.ends_at.isoformat(timespec="seconds") in warning
    assert "another comment" in warning and f"expire {first.id}" in warning
    assert [s.ends() for s in await a.silences()] == [first.ends()]


async def test_following_the_advice_ends_the_quiet_at_the_earlier_time(
    replicas: tuple[Store, Store],
) -> None:
    """Adding it with another comment, then expiring the kept id, leaves only the earlier end in
    effect, seen from the other replica, with no moment without a silence in between."""
    a, b = replicas
    now = datetime.now(UTC)
    _, first = await _add(a, now, now + timedelta(hours=3))
    wanted = now + timedelta(hours=1)
    _, shorter = await _add(b, now, wanted, comment="db work, ends sooner")
    assert shorter.id != first.id
    await b.expire_silence(first.id, now + timedelta(seconds=1))
    later = now + timedelta(seconds=2)
    assert [s.ends() for s in await a.silences() if s.active(later)] == [wanted]


async def test_a_retry_or_a_longer_add_says_nothing_of_the_end(
    replicas: tuple[Store, Store],
) -> None:
    """The same end again (a retry) or a later one (an extension) needs no word: the answer
    shows the end asked for."""
    a, b = replicas
    now = datetime.now(UTC)
    _, first = await _add(a, now, now + timedelta(hours=1))
    retried, again = await _add(b, now, now + timedelta(hours=1))
    longer, extended = await _add(b, now, now + timedelta(hours=2))
    assert again.id == extended.id == first.id
    assert _said(retried, again) == [] and _said(longer, extended) == []
    assert extended.ends() == longer.ends_at


async def test_a_retry_on_a_replica_whose_clock_is_seconds_behind_says_nothing(
    replicas: tuple[Store, Store],
) -> None:
    """A duration add retried where the clock reads a few seconds earlier ends that much earlier
    than the first: a clock's difference, not a shorter silence asked for, so no warning."""
    a, b = replicas
    now = datetime.now(UTC)
    first = await a.add_silence(new_silence(MATCHERS, "2h", "db work", "alice", now), now)
    behind = now - timedelta(seconds=3)
    retried = new_silence(MATCHERS, "2h", "db work", "alice", behind)
    again = await b.add_silence(retried, behind)
    assert again.id == first.id
    assert _said(retried, again) == []


async def test_a_broader_silence_ending_later_is_named_with_how_to_end_it(
    replicas: tuple[Store, Store],
) -> None:
    """A silence whose matchers are a subset of a new one's (another comment, so another
    silence) quiets every alert the new one does: when it ends later, the operator who added
    the new one hears its id and end, as the earlier end asked for changes nothing before it."""
    a, b = replicas
    now = datetime.now(UTC)
    broad = new_silence(["team=payments"], None, "db work", "bob", now, until=_at(now, 3))
    broad = await a.add_silence(broad, now)
    narrow = new_silence(MATCHERS, None, "deploy", "alice", now, until=_at(now, 1))
    added = await b.add_silence(narrow, now)
    kept = await b.silences()
    [warning] = _said_with(added, kept)
    assert broad.id in warning and broad.ends().isoformat(timespec="seconds") in warning
    assert f"expire {broad.id}" in warning


async def test_silences_that_end_sooner_or_match_other_alerts_are_not_named(
    replicas: tuple[Store, Store],
) -> None:
    """No word of a silence that ends before the new one, one that does not hold for every
    alert the new one quiets (a matcher the new one lacks), or one expired by hand."""
    a, b = replicas
    now = datetime.now(UTC)
    sooner = new_silence(["team=payments"], None, "short", "bob", now, until=_at(now, 0.5))
    other = new_silence(["team=payments", "env=staging"], "5h", "staging", "bob", now)
    ended = new_silence(["team=payments"], None, "ended", "bob", now, until=_at(now, 5))
    for silence in (sooner, ended):
        await a.add_silence(silence, now)
    await a.add_silence(other, now)
    await a.expire_silence(ended.id, now + timedelta(seconds=1))
    added = await b.add_silence(new_silence(MATCHERS, "1h", "deploy", "alice", now), now)
    assert _said_with(added, await b.silences()) == []


def _at(now: datetime, hours: float) -> str:
    return (now + timedelta(hours=hours)).isoformat()


def _said_with(added: Silence, kept: list[Silence]) -> list[str]:
    """What the operator hears of the store's other silences, beyond the warnings about the
    silence itself."""
    about_silence = silence_warnings(added, [])
    return [w for w in silence_warnings(added, [], silences=kept) if w not in about_silence]
