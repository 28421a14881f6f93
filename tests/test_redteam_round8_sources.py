"""Red team, round 8: alerts real senders send that triage read wrongly when this was written,
built from the tools' documented payloads: a Nagios or Icinga check's CRITICAL ranked no higher
than its WARNING, a New Relic issue's DEACTIVATED state refused, two New Relic accounts' issues
merged into one incident, and more (each section names its bug). Each bug is a strict xfail that
fails today for the reason it names and passes once the bug is fixed; each plain test beside
one holds the behaviour the fix must keep."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from triage.errors import InvalidAlertError
from triage.models import Alert, Priority, Status
from triage.normalize import normalize_body
from triage.summarise.priority import default_priority

PAYLOADS = Path(__file__).parent / "payloads"

#: Least to most urgent, to compare two priorities.
_LADDER = (Priority.LOW, Priority.MEDIUM, Priority.HIGH, Priority.CRITICAL)


def _sample(name: str) -> dict[str, Any]:
    value: dict[str, Any] = json.loads((PAYLOADS / name).read_text(encoding="utf-8"))
    return value


def _only(body: dict[str, Any] | list[Any], **kwargs: Any) -> Alert:
    """The one alert `body` becomes."""
    [alert] = normalize_body(json.dumps(body), **kwargs).alerts
    return alert


def _ticket_priority(alert: Alert) -> Priority:
    """The priority the ticket gets before any reading of its text: the stated one, else the
    severity's default (`triage.summarise.priority.decide`)."""
    return alert.priority or default_priority(alert.severity)


def _rank(alert: Alert) -> int:
    return _LADDER.index(_ticket_priority(alert))


# --- nagios / icinga: a CRITICAL check ranked as its WARNING ------------------------------------


@pytest.mark.xfail(
    strict=True,
    reason="generic: a Nagios/Icinga check state (CRITICAL, DOWN) is read as a status only, "
    "never as a severity, so a CRITICAL check defaults to medium like its WARNING",
)
@pytest.mark.parametrize(
    ("critical", "warning"),
    [
        ({"title": "db-1/Disk", "status": "CRITICAL"}, {"title": "db-1/Disk", "status": "WARNING"}),
        (
            {"title": "** PROBLEM Service Alert: db-1/Disk is CRITICAL **"},
            {"title": "** PROBLEM Service Alert: db-1/Disk is WARNING **"},
        ),
        ({"title": "Check_MK: db-1/Disk OK -> CRIT"}, {"title": "Check_MK: db-1/Disk OK -> WARN"}),
    ],
    ids=["status", "nagios-subject", "checkmk-subject"],
)
def test_a_checks_critical_state_outranks_its_warning(
    critical: dict[str, Any], warning: dict[str, Any]
) -> None:
    """A check gone CRITICAL gets a higher default priority than the same check gone WARNING
    (one incident: the state is not its identity)."""
    hot, warm = _only(critical), _only(warning)
    assert hot.fingerprint == warm.fingerprint
    assert _rank(hot) > _rank(warm)


def test_a_checks_warning_and_recovery_are_one_incident() -> None:
    """A check's WARNING fires a medium ticket and its RECOVERY resolves the same incident (the
    behaviour the CRITICAL case is held against)."""
    warning = _only({"title": "** PROBLEM Service Alert: db-1/Disk is WARNING **"})
    recovery = _only({"title": "** RECOVERY Service Alert: db-1/Disk is OK **"})
    assert _ticket_priority(warning) is Priority.MEDIUM
    assert (recovery.status, recovery.fingerprint) == (Status.RESOLVED, warning.fingerprint)


# --- new relic workflows: DEACTIVATED refused; two accounts merged ------------------------------


@pytest.mark.xfail(
    strict=True,
    reason="newrelic: the documented issue state DEACTIVATED (AiIssuesIssueState) is refused "
    "as invalid, so the message goes to the DLQ instead of changing no ticket or resolving",
    raises=InvalidAlertError,
)
def test_a_new_relic_issue_deactivated_is_not_refused() -> None:
    """A workflow notification of an issue in state DEACTIVATED (one of the four states New
    Relic's issues API lists) is read, as a resolve or as no ticket change, never refused."""
    body = _sample("newrelic/created.json")
    body.update(state="DEACTIVATED", trigger="STATE_CHANGE")
    normalized = normalize_body(json.dumps(body))
    assert all(alert.status is Status.RESOLVED for alert in normalized.alerts)
    assert normalized.alerts or normalized.skipped


def _newrelic_in_account(account: int) -> dict[str, Any]:
    """The sample issue as account `account`'s workflow sends it: the issue page's link is the
    only field of the default template that names the account."""
    body = _sample("newrelic/created.json")
    body["issueUrl"] = body["issueUrl"].replace("/accounts/1/", f"/accounts/{account}/")
    return body


@pytest.mark.xfail(
    strict=True,
    reason="newrelic: a workflow issue is keyed by policy, condition and entity names only, "
    "never the account its issueUrl names, so two accounts' issues merge into one incident",
)
def test_two_new_relic_accounts_issues_of_one_name_are_two_incidents() -> None:
    """Staging's and production's accounts, each with a "Golden Signals" policy whose "High
    CPU" condition fires on an entity of the same name, are two incidents (the legacy channel
    keys by account too)."""
    staging, production = _only(_newrelic_in_account(1)), _only(_newrelic_in_account(2))
    assert staging.fingerprint != production.fingerprint


def test_one_new_relic_accounts_issue_opens_and_closes_one_incident() -> None:
    """One account's issue, created then closed, is one incident that the close resolves."""
    created = _only(_newrelic_in_account(7))
    closed_body = _newrelic_in_account(7)
    closed_body.update(state="CLOSED", trigger="STATE_CHANGE")
    closed = _only(closed_body)
    assert (closed.status, closed.fingerprint) == (Status.RESOLVED, created.fingerprint)
