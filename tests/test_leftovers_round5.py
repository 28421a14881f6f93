"""Round 5 leftovers: a full group record still takes a big held alert (untracked members'
times make room), P4/P5 are low priority end to end, invisible characters in a secret
field's name, and stored alert text in CLI errors."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import structlog

from factories import T0, alert, view
from memory_store import MemoryStore
from triage.incidents import groups
from triage.incidents.codec import incident_to_json
from triage.incidents.groups import GroupKey
from triage.incidents.lifecycle import Group, Incident, Member, Policy, State, Trace
from triage.incidents.records import Hold
from triage.incidents.sqlite import SQLiteStore
from triage.incidents.store import MAX_RECORD_BYTES, Store
from triage.ingest.credentials import sift
from triage.models import Priority, Status
from triage.normalize import common, normalize_body
from triage.redact import Redactor
from triage.summarise.deterministic import DeterministicSummariser
from triage.summarise.priority import default_priority

KEY = GroupKey.of("pods", ("alertname",), {"alertname": "Crash"}, 0, str)
POLICY = Policy(update_interval=timedelta(minutes=15), reopen_window=timedelta(hours=1))


@pytest.fixture(params=["memory", "sqlite"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    """Each test runs once per store: in memory, and SQLite on disk."""
    if request.param == "memory":
        yield MemoryStore(POLICY)
        return
    s = SQLiteStore(str(tmp_path / "t.db"), POLICY, timedelta(minutes=2), timedelta(days=30))
    await s.open()
    yield s
    await s.aclose()


def _full_group() -> Incident:
    """A group at every bound, closed a moment ago: tracked members titled at full length, every id counted
    firing, and every kept time a resolved member's (its id no longer counted)."""
    at = T0 + timedelta(microseconds=123_456)
    title = "界" * groups.MEMBER_TITLE_CHARS
    members = {
        f"{0xA0000000 + n:08x}{n:024x}": Member(Status.RESOLVED, title, at, at, at)
        for n in range(groups.MAX_MEMBERS)
    }
    ids = frozenset(f"{n:08x}" for n in range(groups.MAX_UNTRACKED_IDS))
    first_resolved = groups.MAX_UNTRACKED_IDS
    times = {
        f"{first_resolved + n:08x}": Trace(at + timedelta(seconds=n), at)
        for n in range(groups.MAX_UNTRACKED_TIMES)
    }
    group = Group("pods", {"alertname": "Crash"}, members, len(ids), ids, untracked_times=times)
    return Incident(
        fingerprint=KEY.key,
        state=State.CLOSED,
        source="generic",
        title=KEY.title,
        opened_at=T0,
        last_event_at=T0,
        closed_at=T0,
        refs={"backend": "T-1"},
        group=group,
    )


async def _seed(store: Store, incident: Incident) -> None:
    """`incident` written as the store writes every incident (fitted to its bound)."""
    await store._transact(incident.fingerprint, lambda _stored: (incident, None))


async def test_a_full_group_takes_a_big_held_alert_by_dropping_resolved_members_times(
    store: Store,
) -> None:
    """A group at every bound (258 KB untitled) and a silenced member's 100 KB alert would pass
    what a record holds: the oldest resolved untracked members' times make room (one warning),
    so the write succeeds instead of failing the alert with RecordTooLargeError."""
    full = _full_group()
    await _seed(store, full)
    big = json.dumps({"title": "disk full", "description": "x" * 100_000})
    hold = Hold("s1", T0 + timedelta(hours=1), big)
    with structlog.testing.capture_logs() as logs:
        later = T0 + timedelta(minutes=10)  # a reopen, held by the silence
        await store.begin(alert("new-member", at=later), "m1", later, KEY, hold)
    stored = await store.get(KEY.key)
    assert stored is not None and stored.group is not None and stored.held is not None
    assert stored.held.alert == big
    times = stored.group.untracked_times
    assert 0 < len(times) < groups.MAX_UNTRACKED_TIMES
    ids = stored.group.untracked_ids
    kept_oldest = min(t.last_event_at for s, t in times.items() if s not in ids)
    dropped = [s for s in full.group.untracked_times if s not in times]  # type: ignore[union-attr]
    assert all(
        full.group.untracked_times[s].last_event_at < kept_oldest  # type: ignore[union-attr]
        for s in dropped
    )
    assert stored.group.untracked_ids == full.group.untracked_ids  # type: ignore[union-attr]
    assert len(incident_to_json(stored).encode()) <= MAX_RECORD_BYTES
    drops = [e for e in logs if e["event"] == "store.group_times_left_out"]
    assert [e["log_level"] for e in drops] == ["warning"]
    assert drops[0]["count"] == len(dropped)


@pytest.mark.parametrize("stated", ["P4", "p5", "P-4", "p 5", "P4 (whenever)"])
def test_p4_and_p5_are_low_as_a_stated_priority(stated: str) -> None:
    """P4 and P5 (below P3, the lowest of P0..P3) stated by any source read as low, where
    they used to be unread and the ticket medium."""
    assert common.priority(stated) is Priority.LOW


@pytest.mark.parametrize("severity", ["P4", "p5", "P-4", " p 5 "])
def test_p4_and_p5_as_a_severity_default_to_low(severity: str) -> None:
    """A severity of P4 or P5 defaults the ticket to low, not to medium as an unknown one."""
    assert default_priority(severity) is Priority.LOW


def test_the_common_scale_still_reads_no_bare_four_or_five() -> None:
    """A bare 4 or 5 stays unread on the P0..P3 scale (a number alone there is 0 to 3)."""
    assert common.priority("4") is None and common.priority(5) is None


OPSGENIE_BODY: dict[str, Any] = json.loads(
    (Path(__file__).parent / "payloads" / "vendors" / "opsgenie-create.json").read_text()
)


@pytest.mark.parametrize(
    ("stated", "expected"),
    [("P1", "critical"), ("P2", "high"), ("P3", "medium"), ("P4", "low"), ("P5", "low"),
     (4, "low"), ("p5", "low")],
)  # fmt: skip
async def test_each_opsgenie_priority_becomes_the_tickets_end_to_end(
    stated: Any, expected: str
) -> None:
    """An Opsgenie alert's P1..P5 is the priority of the ticket written for it (normalised,
    redacted, summarised): P1 critical, P2 high, P3 medium, P4 and P5 low."""
    body = {**OPSGENIE_BODY, "alert": {**OPSGENIE_BODY["alert"], "priority": stated}}
    [parsed] = normalize_body(json.dumps(body)).alerts
    ticket = await DeterministicSummariser().summarise(view(parsed))
    assert ticket.priority.value == expected


SECRET = "Xk7pL2mR9tQwE4rT"  # a password's shape: blanked under `pass`, `jwt`, `session`
#: Names of a secret field hidden by a character that draws nothing, but that is no control,
#: format or unassigned character: Hangul fillers, the blank Braille cell, the null notehead.
HIDDEN_NAMES = [
    "pass\u3164word",
    "to\u2800ken",
    "pa\u3164ss",
    "j\u2800wt",
    "ses\u115fsion",
    "pa\uffa0ss",
    "pa\U0001d159ss",
    "pa\u2800\u2800ss[]",
]


@pytest.mark.parametrize("name", HIDDEN_NAMES)
def test_a_secret_field_named_with_an_unseen_character_is_dropped_by_the_gateway(
    name: str,
) -> None:
    """The gateway drops a form field whose name reads as a secret's once the characters that
    draw nothing are gone, as it drops `password` or `pass` holding a secret."""
    assert sift([("title", "disk full"), (name, SECRET)]).dropped == (name,)


@pytest.mark.parametrize("name", HIDDEN_NAMES)
def test_a_secret_value_under_a_name_with_an_unseen_character_is_redacted(name: str) -> None:
    """The redactor blanks a JSON value under a name that reads as a secret's once the
    characters that draw nothing are gone, as it does under `password` or `pass`."""
    assert SECRET not in json.dumps(Redactor().value({"title": "disk full", name: SECRET}))
