"""Sources, round 15C (helper 490): the SaaS monitors' webhooks (Datadog, Dynatrace, …) in the
shapes their vendors document, that triage read wrongly: a template variable the vendor left
unfilled must never key every alert alike."""

from __future__ import annotations

import json
from typing import Any

import pytest

from triage.errors import InvalidAlertError
from triage.models import Status
from triage.normalize import normalize_body
from triage.normalize.common import Normalized


def _read(body: Any) -> Normalized:
    """What `body` becomes."""
    return normalize_body(json.dumps(body))


# --- Datadog: a $VARIABLE left as written --------------------------------------------------------


def _datadog(title: str, transition: str, **fields: Any) -> dict[str, Any]:
    """A custom payload of Datadog's Webhooks integration (docs.datadoghq.com/integrations/
    webhooks: $AGGREG_KEY, $ALERT_ID, $ALERT_TRANSITION, $EVENT_TITLE, $ALERT_SCOPE)."""
    return {"title": title, "alert_transition": transition, "org_id": "11", **fields}


def test_datadog_monitors_whose_aggreg_key_is_left_unfilled_stay_apart() -> None:
    """A `$AGGREG_KEY` Datadog left as written keys no alert: two monitors are two incidents."""
    cpu = _read(
        _datadog("[Triggered] CPU high", "Triggered", aggreg_key="$AGGREG_KEY", alert_id="1")
    )
    disk = _read(
        _datadog("[Triggered] Disk full", "Triggered", aggreg_key="$AGGREG_KEY", alert_id="2")
    )
    assert cpu.alerts[0].fingerprint != disk.alerts[0].fingerprint
    assert "$AGGREG_KEY" not in cpu.alerts[0].identity.values()


def test_a_datadog_recovery_with_its_alert_id_left_unfilled_closes_only_its_monitor() -> None:
    """A `$ALERT_ID` left as written is no monitor id: each monitor is keyed by its own name, so
    one's recovery (same fingerprint as its firing) never closes another's incident."""
    firing = _read(_datadog("[Triggered] CPU high", "Triggered", alert_id="$ALERT_ID"))
    other = _read(_datadog("[Triggered] Disk full", "Triggered", alert_id="$ALERT_ID"))
    recovery = _read(_datadog("[Recovered] CPU high", "Recovered", alert_id="$ALERT_ID"))
    assert recovery.alerts[0].status is Status.RESOLVED
    assert recovery.alerts[0].fingerprint == firing.alerts[0].fingerprint
    assert other.alerts[0].fingerprint != firing.alerts[0].fingerprint


def test_a_datadog_scope_left_unfilled_is_no_group() -> None:
    """A `$ALERT_SCOPE` left as written names no group: not in the title nor the identity."""
    read = _read(_datadog("[Triggered] CPU high", "Triggered", alert_id="7", scope="$ALERT_SCOPE"))
    alert = read.alerts[0]
    assert alert.title == "CPU high"
    assert alert.identity["scope"] == ""


def test_a_datadog_title_left_unfilled_is_refused_naming_the_variable() -> None:
    """A title that is `$EVENT_TITLE` as written is refused saying so, never one incident of
    every monitor titled "$EVENT_TITLE"."""
    with pytest.raises(InvalidAlertError, match=r"\$EVENT_TITLE.*unfilled"):
        _read(_datadog("$EVENT_TITLE", "Triggered"))


# --- Dynatrace: a {Placeholder} left as written ---------------------------------------------------


def _dynatrace(pid: str, state: str, title: str = "CPU saturation") -> dict[str, Any]:
    """A problem notification's custom payload (docs.dynatrace.com, Problem notifications,
    Webhook integration: {PID}, {ProblemID}, {State}, {ProblemTitle}; an unknown placeholder,
    such as a mistyped {Pid}, is sent as written)."""
    return {"PID": pid, "ProblemID": "P-24", "State": state, "ProblemTitle": title}


def test_a_dynatrace_pid_left_as_its_placeholder_is_refused() -> None:
    """A `PID` that is still a placeholder ("{Pid}") would key every problem alike (the first
    RESOLVED closing all): refused naming the placeholder and the one to write."""
    with pytest.raises(InvalidAlertError, match=r"\{Pid\}.*\{PID\}"):
        _read(_dynatrace("{Pid}", "OPEN"))


def test_a_dynatrace_title_left_as_its_placeholder_is_titled_by_the_problem() -> None:
    """A `ProblemTitle` still "{ProblemTitle}" is no title: the problem's own name is shown."""
    read = _read(_dynatrace("-55_1", "OPEN", title="{ProblemTitle}"))
    assert read.alerts[0].title == "Dynatrace problem -55_1"


def test_a_datadog_transition_left_unfilled_is_refused_naming_the_variable() -> None:
    """A `$ALERT_TRANSITION` left as written, under a title naming no state, is refused naming
    the variable, as it was before such a variable was read as absent."""
    with pytest.raises(InvalidAlertError, match=r"\$ALERT_TRANSITION.*unfilled"):
        _read(_datadog("CPU high", "$ALERT_TRANSITION", alert_id="7"))
