"""Small builders for tests: canonical alerts without going through a normaliser."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from triage.models import Alert, Priority, Status
from triage.redact import Redactor
from triage.view import RedactedAlert, redact_alert

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def kept_ttl(days: float = 30, base: datetime = T0) -> timedelta:
    """A closed-incident TTL for a store whose records are dated from `base` (T0): `days`, or
    longer once the real clock has passed `base` + `days`. A SQLite store purges its expired
    records by the real clock, so a 30-day TTL on records dated 2026-11-23 made them vanish
    from 2026-12-23 on, and the tests reading them failed on the day the suite ran."""
    return max(timedelta(days=days), datetime.now(UTC) - base + timedelta(days=days))


def ends_after(base: datetime, days: float) -> datetime:
    """An end for a silence that starts at `base`: `days` after it, or after the real clock
    once that has passed `base`. The API, the page and the CLI list the silences active by the
    real clock, so one seeded to end on a fixed day disappears from them after it."""
    return max(base, datetime.now(UTC)) + timedelta(days=days)


def alert(
    name: str = "api-5xx",
    status: Status = Status.FIRING,
    at: datetime | None = None,
    *,
    minutes: float = 0,
    priority: Priority | None = Priority.HIGH,
) -> Alert:
    """A generic alert whose identity is `name`; `minutes` shifts occurred_at from T0."""
    return Alert(
        source="generic",
        status=status,
        title=f"{name} is failing",
        team="payments",
        priority=priority,
        occurred_at=(at or T0) + timedelta(minutes=minutes),
        identity={"dedup_key": name},
    )


def view(source: Alert, excerpt_chars: int = 6000) -> RedactedAlert:
    """`source` as the sinks and summarisers see it: the pipeline's redacted view, with the
    raw payload's excerpt the LLM is shown."""
    return redact_alert(source, Redactor(), excerpt_chars=excerpt_chars)
