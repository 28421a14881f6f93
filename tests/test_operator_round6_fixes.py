"""Round 6 operator fixes, past the red team's own cases (test_redteam_round6_operator.py): a
close by hand ends a flap count (a resolve still counts), an owed update a silence held goes
out once it ends, a matcher on a listed key no incident has as a label is refused naming the
filter meant (and matches a label of that name when one exists), and the status page's form
keeps every matcher, a refused one's too."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime, timedelta

import httpx2
import pytest

from factories import alert
from test_operator_filters import BEARER
from test_operator_filters import store as store  # 300 open incidents
from test_operator_silence_preview import client as client  # the operator's routes
from test_redteam_round4_storms import Cluster, at, pod, webhook
from triage.incidents.lifecycle import (
    Action,
    Incident,
    Policy,
    State,
    closed_by_hand,
    decide,
)
from triage.models import Priority, Status, Ticket
from triage.ops.operator import Filter, FilterRefused, list_incidents, new_silence, parse_filter

NOW = datetime(2026, 12, 6, 11, 0, tzinfo=UTC)
POLICY = Policy(flap_threshold=3)


def _flapping(reopens: int) -> Incident:
    """An open ticketed incident of alert `flaky` that reopened `reopens` times and flaps."""
    return Incident(
        alert("flaky").fingerprint, State.OPEN, "generic", "flaky is failing",
        NOW - timedelta(hours=1), NOW - timedelta(minutes=5), refs={"backend": "T-1"},
        ticket=Ticket(title="flaky", priority=Priority.HIGH, description="d"),
        reopens=reopens, flapping=reopens >= POLICY.flap_threshold, occurrences=reopens + 1,
    )  # fmt: skip


def test_a_close_by_hand_ends_the_flap_count() -> None:
    """A flapping incident closed by hand, firing again within the reopen window, reopens as
    a first reopen: counted 1 and not flapping (the alert never resolved)."""
    closed = closed_by_hand(_flapping(3), NOW)
    assert closed.state is State.CLOSED and closed.closed_at == NOW and closed.pending is None
    fired = decide(closed, alert("flaky", at=NOW + timedelta(minutes=1)), NOW, POLICY)
    assert fired.action is Action.REOPEN and fired.incident is not None
    assert fired.incident.reopens == 1 and not fired.incident.flapping


def test_a_resolve_still_counts_toward_flapping() -> None:
    """An incident that reopened twice resolves and fires again: its third reopen in a row
    marks it flapping, as before (only a close by hand ends the count)."""
    opened = _flapping(2)
    resolved = decide(opened, alert("flaky", Status.RESOLVED, NOW), NOW, POLICY)
    assert resolved.action is Action.CLOSE and resolved.incident is not None
    later = NOW + timedelta(minutes=1)
    fired = decide(resolved.incident, alert("flaky", at=later), later, POLICY)
    assert fired.action is Action.REOPEN and fired.incident is not None
    assert fired.incident.reopens == 3 and fired.incident.flapping


async def test_an_owed_update_a_silence_held_goes_out_once_it_ends() -> None:
    """A pod crash-loops at 0, 1 and 2 minutes (an update owed at the interval's end) and is
    silenced for 2 h at 3 minutes: one sweep's passes send nothing while the silence lasts,
    and the first pass after it ends (the index keeps the incident due) sends the update."""
    c = Cluster(silenced=True)
    for minute in range(3):
        await c.deliver(c.message(webhook([pod(0, minutes=minute)]), minute))
    quiet = new_silence(["pod=api-0"], "2h", "rolling the api back", "ops", at(3))
    await c.store.add_silence(quiet, at(3))
    sweep = c.sweep()
    for minutes in (16, 40, 122):
        c.clock.now = at(minutes)
        await sweep.once()
    assert c.kinds() == ["open"]
    c.clock.now = at(124)
    await sweep.once()
    assert c.kinds() == ["open", "update"]
    [incident] = await c.store.incidents()
    assert incident.update_owed_at is None and incident.occurrences == 3


def _listed(fingerprint: str, labels: dict[str, str]) -> Incident:
    """An open ticketed incident of priority critical with `labels`."""
    return Incident(
        fingerprint, State.OPEN, "generic", f"disk full on {fingerprint[:4]}",
        NOW - timedelta(hours=1), NOW, refs={"backend": "T-1"}, labels=labels,
        ticket=Ticket(title="disk", priority=Priority.CRITICAL, description="d"),
    )  # fmt: skip


class _Listing:
    """A store that holds exactly `incidents` (all `list_incidents` reads of one)."""

    def __init__(self, incidents: list[Incident]) -> None:
        self._incidents = incidents

    async def incidents(self) -> list[Incident]:
        return list(self._incidents)


@pytest.mark.parametrize(
    ("matcher", "says"),
    [
        ("priority=critical", "the priority filter (--priority critical, priority=critical)"),
        ("state!=closed", "would list every incident; use the state filter"),
        ("route=~db.*", "no filter takes the route"),
        ("fingerprint=aaaa", "incidents show FINGERPRINT"),
    ],
)
async def test_a_matcher_on_a_listed_key_no_incident_has_is_refused(
    matcher: str, says: str
) -> None:
    """A matcher named as a key the listing shows (priority, state, route, fingerprint),
    which no incident has as a label, is refused naming what filters by that key."""
    keep = parse_filter(now=NOW, match=[matcher])
    store = _Listing([_listed("a" * 32, {"env": "prod"})])
    with pytest.raises(FilterRefused, match=re.escape(says)):
        await list_incidents(store, keep)  # type: ignore[arg-type]


async def test_a_label_named_as_a_listed_key_is_matched_as_any_label() -> None:
    """Where alerts do carry a `priority` label, `match=priority=P1` lists those that have
    it as that label's value says, not refused and not by the ticket's priority."""
    labelled = _listed("b" * 32, {"priority": "P1"})
    store = _Listing([_listed("a" * 32, {"env": "prod"}), labelled])
    keep = parse_filter(now=NOW, match=["priority=P1"])
    listed = await list_incidents(store, keep)  # type: ignore[arg-type]
    assert [i.fingerprint for i in listed] == [labelled.fingerprint]
    assert await list_incidents(store, Filter()) != []  # type: ignore[arg-type]


def _match_inputs(html: str) -> list[str]:
    """The values of the filter form's `match` inputs that hold one."""
    return re.findall(r'<input name=match value="([^"]*)"', html)


async def test_the_page_refuses_a_listed_key_matcher_keeping_the_form(
    client: httpx2.AsyncClient,
) -> None:
    """`/?match=priority=critical&match=env=prod` is a 400 page naming the priority filter
    (not "0 of 300"), its form holding both matchers to correct, and a field for one more."""
    page = await client.get("/?match=priority%3Dcritical&match=env%3Dprod", headers=BEARER)
    assert page.status_code == 400
    assert "use the priority filter" in page.text and "of 300 open incidents" not in page.text
    assert _match_inputs(page.text) == ["priority=critical", "env=prod"]
    assert page.text.count("<input name=match") == 3


async def test_a_refused_filters_form_keeps_every_matcher(client: httpx2.AsyncClient) -> None:
    """A filter refused as it parses (a quoted value) answers a form holding every matcher
    typed, escaped, so fixing the one refused does not lose the others."""
    page = await client.get('/?match=env%3D"prod"&match=team%3D<b>', headers=BEARER)
    assert page.status_code == 400 and "double quotes" in page.text
    assert _match_inputs(page.text) == ["env=&quot;prod&quot;", "team=&lt;b&gt;"]
    assert "<b>" not in page.text


def test_a_reopened_incident_lists_when_it_reopened() -> None:
    """`incident_json` gives `reopened_at` (null until it reopens), with `opened_at`."""
    from triage.ops.operator import incident_json
    from triage.redact import Redactor

    never = _listed("c" * 32, {})
    again = dataclasses.replace(never, reopened_at=NOW - timedelta(minutes=10))
    assert incident_json(never, Redactor())["reopened_at"] is None
    assert incident_json(again, Redactor())["reopened_at"] == "2026-12-06T10:50:00+00:00"
