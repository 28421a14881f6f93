"""A stored silence that can never mute (it ends before it starts: a hand-written record, or
one expired before its start came) is neither in effect nor listed as coming, and expiring it
says it never took effect rather than that it "had ended" at a time still ahead."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest

from factories import T0
from memory_store import MemoryStore
from triage.app import open_configured_store
from triage.aws import Aws
from triage.cli import main
from triage.incidents.silences import Matcher, Silence, SilenceCache
from triage.ops.operator import shown_silences
from triage.settings import load_settings

HOUR = timedelta(hours=1)


def _backwards(now: object) -> Silence:
    """Starts in two hours, ends in one: as written by hand into the shared table."""
    start = now + 2 * HOUR  # type: ignore[operator]
    return Silence("backwards001", (Matcher.parse("team=pay"),), start, start - HOUR, "c", "a")


def _pending_expired(now: object) -> Silence:
    """Starts in an hour (another replica's clock ahead), expired before then: ends at its start."""
    start = now + HOUR  # type: ignore[operator]
    return Silence(
        "pending00001", (Matcher.parse("team=pay"),), start, start + HOUR, "other", "a", start
    )


async def test_a_silence_that_can_never_mute_is_not_in_effect_nor_listed_as_coming() -> None:
    """Neither the one ending before its start nor the one expired before its start is among
    the silences in effect or those `silence list` shows (only `--all` shows them)."""
    store = MemoryStore()
    for silence in (_backwards(T0), _pending_expired(T0)):
        await store.add_silence(silence, T0)
    cache = SilenceCache(store, max_age_s=0.0)
    assert await cache.in_effect(T0) == ()
    kept = await store.silences()
    assert shown_silences(kept, T0, every=False) == []
    assert len(shown_silences(kept, T0, every=True)) == 2


def test_expiring_a_silence_that_ends_before_it_starts_says_it_never_took_effect(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`silence expire` of a stored silence ending before it starts exits 0, changes nothing,
    and says it never took effect, not that it had ended at a time still ahead."""
    monkeypatch.setenv("TRIAGE_STORE_URL", f"sqlite:///{tmp_path / 'triage.db'}")
    monkeypatch.setenv("TRIAGE_LOG_LEVEL", "warning")

    async def seed() -> None:
        settings = load_settings()
        aws = Aws(settings)
        store = await open_configured_store(settings, aws)
        try:
            await store.add_silence(_backwards(store.now()), store.now())
        finally:
            await store.aclose()
            await aws.aclose()

    asyncio.run(seed())
    assert main(["silence", "list"]) == 0
    assert capsys.readouterr().out == ""
    assert main(["silence", "expire", "backwards001"]) == 0
    _, err = capsys.readouterr()
    assert "never took effect" in err and "had ended" not in err, err
