"""How incidents are written: a group's record, whose members' JSON is kept between writes, reads
back exactly, whatever its text holds, and never with a member's earlier values."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta

from triage.incidents.codec import incident_from_json, incident_to_json
from triage.incidents.lifecycle import Group, Incident, Member, State
from triage.models import Status

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
HOSTILE = 'a "quoted" \\ back\x00slash ✓ </script> \u2028'


def group_incident(members: dict[str, Member]) -> Incident:
    return Incident(
        fingerprint="group-key",
        state=State.OPEN,
        source="alertmanager",
        title=HOSTILE,
        opened_at=NOW,
        last_event_at=NOW,
        closed_at=None,
        occurrences=len(members),
        occurrences_at_update=1,
        applied_at=NOW,
        group=Group(route="crash-loops", by={"namespace": HOSTILE}, members=members),
    )


def test_a_group_with_hostile_text_reads_back_exactly() -> None:
    """Members, labels and titles with quotes, backslashes, NUL and non-ASCII text survive a
    write and a read, and the record is one valid JSON document with every field."""
    members = {
        f"fp-{i}": Member(Status.FIRING, f"{HOSTILE} {i}", NOW, NOW - timedelta(minutes=i))
        for i in range(50)
    }
    incident = group_incident(members)
    body = incident_to_json(incident)
    assert incident_from_json(body) == incident
    document = json.loads(body)
    assert document["group"]["members"]["fp-7"] == [
        "firing",
        f"{HOSTILE} 7",
        NOW.isoformat(),
        (NOW - timedelta(minutes=7)).isoformat(),
    ]
    assert document["group"]["by"] == {"namespace": HOSTILE}
    plain = dataclasses.replace(incident, group=None)
    assert json.loads(incident_to_json(plain))["group"] is None
    assert incident_from_json(incident_to_json(plain)) == plain


def test_a_member_that_changed_is_written_with_its_new_values() -> None:
    """After a write, a member replaced by a new event (or moved under another fingerprint) is
    written as it is now, not as the kept JSON of the earlier write says."""
    first = Member(Status.FIRING, "api-1 crash looping", NOW, NOW)
    members = {"fp-1": first, "fp-2": Member(Status.FIRING, "api-2", NOW, NOW)}
    incident_to_json(group_incident(members))
    later = NOW + timedelta(minutes=5)
    resolved = {**members, "fp-1": Member(Status.RESOLVED, "api-1 crash looping", later, later)}
    back = incident_from_json(incident_to_json(group_incident(resolved)))
    assert back.group is not None
    assert back.group.members["fp-1"].status is Status.RESOLVED
    assert back.group.members["fp-1"].last_event_at == later
    moved = incident_from_json(incident_to_json(group_incident({"fp-9": first})))
    assert moved.group is not None and set(moved.group.members) == {"fp-9"}
