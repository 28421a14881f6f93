"""Dynatrace problems and Grafana OnCall alert groups are keyed by the vendor's own problem or
group, never by a title two of them may share while both are open: resolving one closes its own
ticket only. What OnCall keeps to one open group (an Alertmanager integration's `groupKey`)
still keys its groups, with the fingerprint it had before, so a flapping alert still reopens one
ticket. The per-problem and per-group keys are the ones a payload naming no entity or no
integration always had (digests pinned from the release before this change)."""

from __future__ import annotations

import copy
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from factories import T0
from recording_pipeline import Sink, pipeline_into
from triage.models import Alert, Status
from triage.normalize import normalize_body
from triage.sqs.inbox import Message

PAYLOADS = Path(__file__).parent / "payloads" / "tools"
PIDS = ("-4638255364785743046_1764921600000V2", "-4638255364785743047_1764921700000V2")
GROUPS = ("I6HNZGUFG4K11", "I6HNZGUFG4K12")
GROUP_KEY = '{}:{alertname="DiskFull"}'

#: Fingerprints recorded before this change, for identities it must leave as they were.
DYNATRACE_BY_PID = "9e4c5a5c3eecb7625701da223a27d402"  # PIDS[0], as with no entity
ONCALL_BY_GROUP = "dc43ef70f38e1037be2e6d607611293f"  # GROUPS[0], as with no integration
ONCALL_BY_GROUP_KEY = "a03d8a9509c2be9c582fd1768ec3a41a"  # integration CZ7URAT4V3QF2, GROUP_KEY


def _sample(name: str) -> dict[str, Any]:
    value: dict[str, Any] = json.loads((PAYLOADS / name).read_text(encoding="utf-8"))
    return value


def _one(body: dict[str, Any]) -> Alert:
    [alert] = normalize_body(json.dumps(body)).alerts
    return alert


async def _lifecycle(bodies: list[dict[str, Any]]) -> list[list[str]]:
    """What one fresh pipeline decides for each body in turn, a minute apart."""
    pipeline = pipeline_into(Sink())
    actions = []
    for minute, body in enumerate(bodies):
        at = T0 + timedelta(minutes=minute)
        message = Message(f"m-{minute}", json.dumps(body), f"r-{minute}", 1, at, received_at=at)
        actions.append([str(outcome.action) for outcome in await pipeline.process(message)])
    return actions


def _dynatrace(state: str, pid: str, **fields: Any) -> dict[str, Any]:
    """A problem notification (the documented custom integration's placeholders) about problem
    `pid`, on the sample's entity and with its title."""
    body = _sample("dynatrace-open.json")
    link = f"https://abc12345.live.dynatrace.com/#problems/problemdetails;pid={pid}"
    return body | {"State": state, "PID": pid, "Problem URL": link} | fields


def _oncall(state: str, group: str, group_key: str | None = None) -> dict[str, Any]:
    """An outgoing webhook about alert group `group` of the sample's integration, titled as
    the sample ("Incident", OnCall's title for a webhook integration's alerts with none)."""
    body = copy.deepcopy(_sample("grafana-oncall-created.json"))
    body["alert_group"] |= {"id": group, "state": state}
    body["alert_group_id"] = group
    body["event"]["type"] = "resolve" if state == "resolved" else "alert group created"
    if group_key is not None:
        body["alert_payload"]["groupKey"] = group_key
    return body


async def test_two_open_dynatrace_problems_of_one_entity_and_title_keep_their_own_tickets() -> None:
    """Two problems open at once on one entity with one title (say two metric events of one
    name that Davis did not correlate) are two tickets: the first's resolve closes its own, and
    the second's resolve still has one to close."""
    actions = await _lifecycle(
        [
            _dynatrace("OPEN", PIDS[0]),
            _dynatrace("OPEN", PIDS[1]),
            _dynatrace("RESOLVED", PIDS[0]),
            _dynatrace("RESOLVED", PIDS[1]),
        ]
    )
    assert actions == [["open"], ["open"], ["close"], ["close"]]


async def test_a_dynatrace_problem_merged_into_its_twin_leaves_the_twins_ticket_open() -> None:
    """Davis merges one of two same-titled problems into the other: MERGED (sent for the
    merged problem) closes that problem's own ticket, and the survivor's stays open until its
    own resolve."""
    actions = await _lifecycle(
        [
            _dynatrace("OPEN", PIDS[0]),
            _dynatrace("OPEN", PIDS[1]),
            _dynatrace("MERGED", PIDS[0]),
            _dynatrace("RESOLVED", PIDS[1]),
        ]
    )
    assert actions == [["open"], ["open"], ["close"], ["close"]]


async def test_a_dynatrace_problem_retitled_while_open_is_closed_by_its_resolve() -> None:
    """Dynatrace may retitle an open problem or list another entity first as it grows: its
    PID stays, so its resolve still closes the ticket its opening made."""
    grown = {"ProblemTitle": "Multiple service problems"}
    grown["ImpactedEntities"] = [{"type": "HOST", "name": "web-1", "entity": "HOST-0001"}]
    actions = await _lifecycle(
        [_dynatrace("OPEN", PIDS[0]), _dynatrace("RESOLVED", PIDS[0], **grown)]
    )
    assert actions == [["open"], ["close"]]


def test_a_dynatrace_problem_is_keyed_by_its_pid() -> None:
    """The PID is the key, whatever the entity or title: the fingerprint a problem naming no
    entity always had; the display id and the PID are still labels."""
    alert = _one(_dynatrace("OPEN", PIDS[0]))
    assert alert.identity == {"problem": PIDS[0]}
    assert alert.fingerprint == DYNATRACE_BY_PID
    assert (alert.labels["pid"], alert.labels["problem"]) == (PIDS[0], "P-2512123")


def test_a_merged_dynatrace_problem_resolves() -> None:
    """MERGED is the merged problem's end: a resolve of its own key, its state kept shown."""
    alert = _one(_dynatrace("MERGED", PIDS[0]))
    assert alert.status is Status.RESOLVED
    assert alert.fingerprint == DYNATRACE_BY_PID
    assert alert.labels["state"] == "MERGED"


async def test_two_open_oncall_groups_of_one_title_keep_their_own_tickets() -> None:
    """Two alert groups open at once in one integration with one title (OnCall renders it
    apart from what it groups by) are two tickets, each closed by its own group's resolve."""
    actions = await _lifecycle(
        [
            _oncall("firing", GROUPS[0]),
            _oncall("firing", GROUPS[1]),
            _oncall("resolved", GROUPS[0]),
            _oncall("resolved", GROUPS[1]),
        ]
    )
    assert actions == [["open"], ["open"], ["close"], ["close"]]


def test_an_oncall_group_without_a_group_key_is_keyed_by_its_id() -> None:
    """Without an alert payload's `groupKey`, the group's id is the key, whatever its
    integration or title: the fingerprint a group naming no integration always had."""
    alert = _one(_oncall("firing", GROUPS[0]))
    assert alert.identity == {"alert_group": GROUPS[0]}
    assert alert.fingerprint == ONCALL_BY_GROUP
    assert alert.labels["alert_group_id"] == GROUPS[0]


async def test_an_oncall_group_key_still_keys_a_flapping_alerts_groups() -> None:
    """OnCall keeps one open group per `groupKey` in an integration, so the key still keys the
    group, with its fingerprint as before, and the next group of the same key reopens the
    ticket."""
    first = _oncall("firing", GROUPS[0], GROUP_KEY)
    assert _one(first).fingerprint == ONCALL_BY_GROUP_KEY
    actions = await _lifecycle(
        [
            first,
            _oncall("resolved", GROUPS[0], GROUP_KEY),
            _oncall("firing", GROUPS[1], GROUP_KEY),
        ]
    )
    assert actions == [["open"], ["close"], ["reopen"]]
