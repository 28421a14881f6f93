"""Alert sources, round 11 (helper 408): alerts real senders send that triage read wrongly,
built from the tools' documented payloads, each with the behaviour its fix must keep."""

from __future__ import annotations

import json
from typing import Any

import pytest

from triage.models import Alert, Status
from triage.normalize import normalize_body
from triage.normalize.common import Normalized


def _read(body: dict[str, Any]) -> Normalized:
    """What `body` becomes."""
    return normalize_body(json.dumps(body))


def _only(body: dict[str, Any]) -> Alert:
    """The one alert `body` becomes."""
    [alert] = _read(body).alerts
    return alert


def _skip_reasons(body: dict[str, Any]) -> list[str]:
    """Why `body` changes no ticket: its skips' reasons, and no alert."""
    normalized = _read(body)
    assert normalized.alerts == ()
    return [skip.reason for skip in normalized.skipped]


# --- icinga: a custom notification on a problem opens its own incident ------------------------

#: Icinga 2's mail subject, as its notification scripts write it:
#: "[$NOTIFICATIONTYPE$] $SERVICEDISPLAYNAME$ on $HOSTDISPLAYNAME$ is $SERVICESTATE$!".


def test_an_icinga_custom_note_on_a_problem_joins_its_incident() -> None:
    """A [CUSTOM] notification (a note someone sent on a CRITICAL service) is the problem's
    incident, firing at the problem's severity, never one of its own."""
    problem = _only({"title": "[PROBLEM] Disk on db-1 is CRITICAL!"})
    note = _only({"title": "[CUSTOM] Disk on db-1 is CRITICAL!"})
    assert note.identity == problem.identity
    assert (note.status, note.severity, note.title) == (
        Status.FIRING,
        "CRITICAL",
        "Disk on db-1 is CRITICAL!",
    )


@pytest.mark.parametrize(
    "title",
    [
        "[CUSTOM] Disk on db-1 is OK!",
        "[CUSTOM] Host db-1 is UP!",
        "[CUSTOM] Disk on db-1 is UNKNOWN!",
    ],
)
def test_an_icinga_custom_note_on_a_healthy_check_changes_no_ticket(title: str) -> None:
    """A custom note on a check that is not failing states no problem: no ticket, and no
    resolve either (a note is no recovery)."""
    assert _skip_reasons({"title": title}) == ["no_state_change"]


def test_a_nagios_custom_note_on_a_problem_joins_its_incident() -> None:
    """Nagios' "** CUSTOM Service Alert: …" on a CRITICAL service is its problem's incident
    too, as Icinga's is."""
    problem = _only({"title": "** PROBLEM Service Alert: db-1/Disk is CRITICAL **"})
    note = _only({"title": "** CUSTOM Service Alert: db-1/Disk is CRITICAL **"})
    assert (note.identity, note.status) == (problem.identity, Status.FIRING)
    assert _skip_reasons({"title": "** CUSTOM Service Alert: db-1/Disk is OK **"}) == [
        "no_state_change"
    ]


def test_a_custom_tag_before_a_title_stays_part_of_it() -> None:
    """A script's "[Custom] X" tag (no Icinga check state after it) fires keyed by its whole
    title, as before."""
    alert = _only({"title": "[Custom] nightly export slow"})
    assert (alert.status, alert.identity["title"]) == (
        Status.FIRING,
        "[Custom] nightly export slow",
    )
