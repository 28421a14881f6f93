"""The body an effect's first attempt sent (`Store.freeze_effect`) outlives every redo of the
effect however short TRIAGE_CLOSED_TTL_S is: the `sent` record is dated at least a day ahead
(longer when the lease makes the sweep's tries further apart), so a redo under the same
Idempotency-Key never sends a new body a backend refuses (422). A sweep interval too long for
that is refused at start, naming both settings.

On every store (in memory, SQLite on disk, DynamoDB on moto's server), with the store's clock
stepped by hand along the sweep's retry schedule."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from factories import alert, view
from memory_store import MemoryStore
from moto_speed import loopback_aws_client
from recording_pipeline import POLICY
from triage.app import open_configured_store
from triage.aws import Aws
from triage.errors import ConfigError
from triage.incidents.dynamodb import DynamoDBStore, create_table
from triage.incidents.records import SENT, Sent
from triage.incidents.schedule import CLAIM_CLOCK_SLACK, sweep_retry_delay
from triage.incidents.sqlite import SQLiteStore
from triage.incidents.store import Store, redo_gap, sent_keep_problem
from triage.models import Priority, Ticket
from triage.settings import Settings

FP = "api-5xx"
#: TRIAGE_EFFECT_LEASE_S's default.
LEASE = timedelta(seconds=150)
#: TRIAGE_SWEEP_INTERVAL_S's default.
SWEEP_EVERY = timedelta(seconds=5)
#: A TRIAGE_CLOSED_TTL_S shorter than the sweep's longest wait between tries.
SHORT_TTL = timedelta(minutes=10)
TICKET = Ticket(title="api-5xx is failing", priority=Priority.HIGH, description="d", steps=())


def sent(name: str = "api-5xx", occurrences: int = 3) -> Sent:
    """What effect 1 of the incident `api-5xx` sends, built from the alert `name`."""
    return Sent(1, view(alert(name)), TICKET, occurrences, 1, False, None)


@pytest.fixture(params=["memory", "sqlite", "dynamodb"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    """Each test runs once per store, every one with TRIAGE_CLOSED_TTL_S at ten minutes."""
    if request.param == "memory":
        yield MemoryStore(POLICY, LEASE, SHORT_TTL)
    elif request.param == "sqlite":
        s = SQLiteStore(str(tmp_path / "t.db"), POLICY, LEASE, SHORT_TTL)
        await s.open()
        yield s
        await s.aclose()
    else:
        moto_url = request.getfixturevalue("moto_url")
        async with loopback_aws_client("dynamodb", moto_url) as client:
            await create_table(client, "incidents")
            yield DynamoDBStore(client, "incidents", POLICY, LEASE, SHORT_TTL)


def hand_clock(store: Store, monkeypatch: pytest.MonkeyPatch) -> Callable[[timedelta], datetime]:
    """Stop the store's clock where it reads now; the returned call moves it on by a step."""
    at = [store.now()]
    monkeypatch.setattr(store, "now", lambda: at[0])

    def step(by: timedelta) -> datetime:
        at[0] += by
        return at[0]

    return step


async def test_every_try_of_a_failing_effect_over_hours_finds_its_first_body(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """TRIAGE_CLOSED_TTL_S is ten minutes and the backend fails for three hours: each of
    the sweep's tries (30 s after the first failure, doubling up to 15 min, each taken on the
    pass after its wait and frozen a lease later, by a clock up to a minute off) finds the
    first attempt's body unexpired, and is handed it."""
    step = hand_clock(store, monkeypatch)
    await store.freeze_effect(FP, sent())
    expired: list[int] = []
    handed: set[tuple[str, int]] = set()
    for tries in range(1, 17):  # 30 s, 1, 2, 4, 8, then 15 min apart: about three hours
        now = step(sweep_retry_delay(tries) + SWEEP_EVERY + LEASE + CLAIM_CLOCK_SLACK)
        record = await store._get(SENT, FP)
        if record is None or record.expires_at is None or record.expires_at <= now.timestamp():
            expired.append(tries)
        redo = await store.freeze_effect(FP, sent(f"redo-{tries}", occurrences=tries + 3))
        handed.add((redo.alert.title, redo.occurrences))
    assert (expired, handed) == ([], {("api-5xx is failing", 3)})


async def test_sqlites_purge_between_two_tries_leaves_the_body(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """TRIAGE_CLOSED_TTL_S is ten minutes; the body was frozen the sweep's longest wait
    between tries ago, and SQLite's purge (which reads the wall clock) runs before the redo:
    the redo is handed the body the first attempt sent, not the one it built."""
    store = SQLiteStore(str(tmp_path / "t.db"), POLICY, LEASE, SHORT_TTL)
    await store.open()
    try:
        real_now = store.now
        gap = redo_gap(LEASE, SWEEP_EVERY)
        monkeypatch.setattr(store, "now", lambda: real_now() - gap)
        await store.freeze_effect(FP, sent())
        monkeypatch.setattr(store, "now", real_now)
        store.purge_every_s = 0.0  # due: it runs after the next write
        await store.freeze_effect("disk-full", sent("disk-full"))  # a write, then the purge
        handed = await store.freeze_effect(FP, sent("redo", occurrences=9))
        assert (handed.alert.title, handed.occurrences) == ("api-5xx is failing", 3)
    finally:
        await store.aclose()


async def test_a_lease_of_hours_keeps_the_body_twice_the_tries_apart(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With TRIAGE_EFFECT_LEASE_S at eight hours (a crashed holder's effect waits that long to
    be taken over), the body is dated at least twice the tries' gap ahead, past the one-day
    floor: a redo that does not move it on still finds it a whole gap later."""
    lease = timedelta(hours=8)
    store = MemoryStore(POLICY, lease, SHORT_TTL)
    step = hand_clock(store, monkeypatch)
    await store.freeze_effect(FP, sent())
    record = await store._get(SENT, FP)
    assert record is not None and record.expires_at is not None
    assert record.expires_at >= step(2 * redo_gap(lease, timedelta(0))).timestamp()


def test_a_sweep_interval_too_long_for_the_kept_body_is_refused_naming_both_settings() -> None:
    """A sweep that looks every 13 h leaves tries further apart than a body kept a day (with a
    TRIAGE_CLOSED_TTL_S of ten minutes) survives: refused, naming both settings; the same
    interval with the default 30-day TTL, and the defaults, are accepted."""
    every_13_h = timedelta(hours=13)
    problem = sent_keep_problem(SHORT_TTL, LEASE, every_13_h)
    assert problem is not None
    assert "TRIAGE_SWEEP_INTERVAL_S (46800)" in problem
    assert "TRIAGE_CLOSED_TTL_S (600)" in problem
    assert sent_keep_problem(timedelta(days=30), LEASE, every_13_h) is None
    assert sent_keep_problem(SHORT_TTL, LEASE, SWEEP_EVERY) is None


async def test_the_store_is_not_opened_with_a_sweep_too_seldom_for_its_kept_bodies(
    tmp_path: Path,
) -> None:
    """The daemon (and every command that opens the store) stops at start with one
    ConfigError naming TRIAGE_SWEEP_INTERVAL_S and TRIAGE_CLOSED_TTL_S, and opens nothing."""
    db = tmp_path / "triage.db"
    settings = Settings(
        store_url=f"sqlite:///{db}", closed_ttl_s=600, flap_quiet_s=300, sweep_interval_s=46800
    )
    aws = Aws(settings)
    try:
        with pytest.raises(ConfigError, match=r"TRIAGE_SWEEP_INTERVAL_S .*TRIAGE_CLOSED_TTL_S"):
            await open_configured_store(settings, aws)
    finally:
        await aws.aclose()
    assert not db.exists()
