"""A threshold event's `state` that is no state change (pending, acknowledged, no_data,
unknown …) is read as the generic `status` reads it: skipped, no ticket change, rather than an
error; a word triage does not know is still a clear error."""

from __future__ import annotations

import json
from typing import Any

import pytest

from triage.errors import InvalidAlertError
from triage.models import Status
from triage.normalize import normalize_body


def _threshold(state: Any) -> str:
    return json.dumps(
        {
            "event_type": "threshold_alert",
            "state": state,
            "rule_id": "rule-cpu-90",
            "metric": "cpu_usage",
            "current_value": 97.5,
            "threshold_value": 90,
            "operator": ">",
            "host": "db-7",
        }
    )


@pytest.mark.parametrize(
    "state", ["pending", "PENDING", "acknowledged", "ack", "no_data", "unknown", " Pending "]
)
def test_a_quiet_state_is_skipped(state: str) -> None:
    """The event changes no ticket: no alert, one Skipped naming the rule and its state."""
    result = normalize_body(_threshold(state))
    assert result.alerts == ()
    [skipped] = result.skipped
    assert (skipped.source, skipped.reason) == ("threshold", "no_state_change")
    assert "rule-cpu-90" in skipped.detail and state.strip() in skipped.detail


@pytest.mark.parametrize(
    ("state", "why"),
    [
        ("sideways", r"change no ticket: .*pending"),
        ("", r"change no ticket: .*pending"),
        (2, r"send the word, not a number"),
    ],
)
def test_an_unknown_state_is_still_an_error(state: Any, why: str) -> None:
    """A word triage does not read is refused, naming the field and the words it reads (or,
    for a number, asking for the word)."""
    with pytest.raises(InvalidAlertError, match=rf"^state .*{why}"):
        normalize_body(_threshold(state))


@pytest.mark.parametrize(
    ("state", "status"), [("triggered", Status.FIRING), ("ok", Status.RESOLVED)]
)
def test_a_state_change_still_makes_an_alert(state: str, status: Status) -> None:
    """Triggered and resolved words still make the alert they made."""
    [alert] = normalize_body(_threshold(state)).alerts
    assert alert.status is status
