"""Alert groups (Grafana and Alertmanager): one Grafana rule in two organisations is two
incidents while org 1's keep their key; Grafana's contact-point test is skipped on every path
it can reach triage by; the note for alerts `max_alerts` cut out promises no resolve."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from triage.models import Alert
from triage.normalize import normalize_body

PAYLOADS = Path(__file__).parent / "payloads"


def _sample(name: str) -> dict[str, Any]:
    value: dict[str, Any] = json.loads((PAYLOADS / name).read_text(encoding="utf-8"))
    return value


def _grafana_alerts(top: Any, per_alert: Any) -> tuple[Alert, ...]:
    """The Grafana sample group's alerts with `orgId` set at the top (None: absent) and on
    each alert (None: absent)."""
    group = copy.deepcopy(_sample("grafana/group-firing.json"))
    group.pop("orgId")
    if top is not None:
        group["orgId"] = top
    for alert in group["alerts"]:
        alert.pop("orgId", None)
        if per_alert is not None:
            alert["orgId"] = per_alert
    return normalize_body(json.dumps(group)).alerts


def _fingerprints(alerts: tuple[Alert, ...]) -> list[str]:
    return [alert.fingerprint for alert in alerts]


def test_org_one_and_no_org_keep_the_label_sets_key() -> None:
    """Org 1 (as a number or text) and a group without `orgId` are keyed by the labels alone,
    as before, so incidents open before the upgrade keep their key."""
    without = _grafana_alerts(None, None)
    assert [dict(a.identity) for a in without] == [
        {k: v for k, v in a["labels"].items() if v}
        for a in _sample("grafana/group-firing.json")["alerts"]
    ]
    for top, per_alert in ((1, 1), ("1", None), (None, 1)):
        assert _fingerprints(_grafana_alerts(top, per_alert)) == _fingerprints(without)


@pytest.mark.parametrize(("top", "per_alert"), [(2, None), (None, 2), ("2", 2), (2, 1)])
def test_another_org_is_another_incident(top: Any, per_alert: Any) -> None:
    """An org other than 1, at the group's top level or else on the alert, keys its alerts
    apart from org 1's (the group's `orgId` wins over an alert's)."""
    org_one = _fingerprints(_grafana_alerts(1, 1))
    other = _grafana_alerts(top, per_alert)
    assert all(mine != theirs for mine, theirs in zip(_fingerprints(other), org_one, strict=True))
    assert all(alert.identity.get("__grafana_org_id__") == "2" for alert in other)


def test_two_orgs_other_than_one_are_two_incidents() -> None:
    """Org 2 and org 3 are apart from each other too, not only from org 1."""
    assert _fingerprints(_grafana_alerts(2, None)) != _fingerprints(_grafana_alerts(3, None))


@pytest.mark.parametrize(
    "odd", [True, "", "  ", {"id": 2}, 1.5, 0, -1, "-2", "²", "9" * 5000, 2**64, 1e300]
)
def test_an_org_that_is_no_id_keys_as_none(odd: Any) -> None:
    """An `orgId` that is no id (a boolean, blank text, an object, a fraction, zero or less,
    a digit that is no ASCII digit, a number past int64) is no org: the alert is keyed by its
    labels and still gets its ticket."""
    assert _fingerprints(_grafana_alerts(odd, None)) == _fingerprints(_grafana_alerts(None, None))


# --- Grafana's contact-point test on the Alertmanager paths ---------------------------------------


def _grafana_test_alert(**overrides: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "labels": {"alertname": "TestAlert", "instance": "Grafana"},
        "annotations": {"summary": "Notification test"},
        "startsAt": now.isoformat(),
        "endsAt": (now + timedelta(hours=1)).isoformat(),
    } | overrides


def test_grafanas_test_alert_posted_to_the_api_is_skipped() -> None:
    """The test alert a Grafana contact point of type Alertmanager posts to `/api/v2/alerts`
    is skipped as `test_notification`, opening no ticket."""
    normalized = normalize_body(json.dumps([_grafana_test_alert()]))
    assert normalized.alerts == ()
    assert [s.reason for s in normalized.skipped] == ["test_notification"]


def test_grafanas_test_alert_in_an_alertmanager_webhook_group_is_skipped() -> None:
    """Relayed by an Alertmanager (Grafana's contact point pointed at a real Alertmanager that
    routes to triage), the test alert in its webhook group is skipped too."""
    group = _sample("alertmanager/group-firing.json")
    group["alerts"] = [_grafana_test_alert(status="firing")]
    normalized = normalize_body(json.dumps(group))
    assert normalized.alerts == ()
    assert [s.reason for s in normalized.skipped] == ["test_notification"]


def test_a_real_alert_beside_the_test_alert_is_kept() -> None:
    """Only the test alert is skipped: a real alert posted with it opens its ticket."""
    real = _grafana_test_alert(labels={"alertname": "HighLatency", "instance": "api-1"})
    normalized = normalize_body(json.dumps([_grafana_test_alert(), real]))
    assert [a.labels["alertname"] for a in normalized.alerts] == ["HighLatency"]


def test_an_alert_named_testalert_from_elsewhere_is_not_skipped() -> None:
    """An alert a team named TestAlert on its own instance is no Grafana test: it is kept."""
    own = _grafana_test_alert(labels={"alertname": "TestAlert", "instance": "db-1"}, annotations={})
    assert len(normalize_body(json.dumps([own])).alerts) == 1


# --- max_alerts -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["alertmanager/group-resolved.json", "alertmanager/group-firing.json"]
)
def test_the_max_alerts_note_says_cut_resolves_never_come_and_how_to_stop_it(name: str) -> None:
    """A cut group's note says that Alertmanager does not send the cut resolves again (their
    tickets stay open until closed by hand) and advises `max_alerts: 0`, rather than promising
    the cut alerts in a later notification."""
    group = _sample(name) | {"truncatedAlerts": 3}
    [note] = [n for n in normalize_body(json.dumps(group)).notes if "max_alerts" in n]
    assert "left 3 alert(s)" in note
    assert "max_alerts: 0" in note and "never" in note
    assert "arrive when the group is next notified" not in note
