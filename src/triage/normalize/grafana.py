"""Grafana webhooks: unified alerting (Grafana 8 onward: an Alertmanager-shaped group with `orgId`,
`title`, `state`, `message`, and per alert `silenceURL`, `dashboardURL`, `panelURL`, `values`
from 9.x, `valueString`) and the legacy dashboard alert of Grafana ≤ 9 (`ruleId`, `evalMatches`).

Identity, unified: the alert's full label set (sorted), hashed by us — Grafana's own
`fingerprint` is not used, so identical label sets match across re-deliveries and versions —
and, for an organisation other than 1 (`orgId`, the group's else the alert's), the org
(`ORG_KEY`): one rule provisioned in two orgs is two incidents, and org 1's keep their key.
Identity, legacy: organisation + rule id (legacy alerts have no labels; tags are not identity).

The contact point's "Test notification" is skipped on purpose (reason "test_notification"): it
proves the webhook works, it is not an incident. Unified alerting sends it as an alert labelled
alertname=TestAlert, instance=Grafana (summary "Notification test"), and, with custom labels and
annotations (Grafana 10.1's test dialog) that replace those, in a group whose `groupKey` is the
one Grafana gives a test ("<receiver>-<fingerprint>-<seconds>", `contact_point_test`); legacy
alerting as rule id 0 named "Test notification". Legacy `no_data`, `pending` and `paused` states change no ticket.
kube-prometheus' Watchdog heartbeat and InfoInhibitor (severity "none") are skipped as on the
Alertmanager paths (`alertmanager.no_incident`): their rules imported into Grafana alerting, or
a Mimir ruler's alerts that Grafana's alerting sends, fire forever or only to inhibit.
"""

from __future__ import annotations

import re
from typing import Any

from triage.errors import InvalidAlertError
from triage.models import Alert, Status
from triage.normalize import alertmanager, common
from triage.normalize.common import Normalized, Skipped

SOURCE = "grafana"

_LEGACY_STATUS = {"alerting": Status.FIRING, "ok": Status.RESOLVED}
_LEGACY_QUIET = {"no_data", "pending", "paused", "unknown"}


def matches_unified(payload: dict[str, Any]) -> bool:
    return alertmanager.has_alert_list(payload) and (
        "orgId" in payload
        or payload.get("version") == "1"
        or {"title", "state", "message"} <= payload.keys()
    )


def normalize_unified(payload: dict[str, Any]) -> Normalized:
    is_test = _all_tests if contact_point_test(payload) else alertmanager.no_incident
    return alertmanager.normalize_group(
        payload, SOURCE, is_test=is_test, keyed=lambda alert: _in_org(alert, payload)
    )


#: The group key Grafana gives a contact point's test (`TestReceivers`): the receiver's name,
#: the test alert's label fingerprint (16 hex digits) and the Unix second it was sent. A rule's
#: group is keyed by its route's matchers and its labels ("{}/{…}:{…}"), never so.
_TEST_GROUP_KEY = re.compile(r"[^{].{0,1000}-[0-9a-f]{16}-[0-9]{1,19}", re.DOTALL)


def contact_point_test(group: dict[str, Any]) -> bool:
    """Whether a group is a contact point's test: its `groupKey` has the shape Grafana gives
    a test ("<receiver>-<fingerprint>-<seconds>"). The test dialog's custom labels and
    annotations replace the default TestAlert, Grafana and "Notification test"
    (`alertmanager.grafana_test`), so only the key still says so."""
    key = group.get("groupKey")
    return isinstance(key, str) and _TEST_GROUP_KEY.fullmatch(key) is not None


def _all_tests(labels: dict[str, str], annotations: dict[str, str]) -> str | None:
    """Every alert of a contact point's test group is the test ("test_notification")."""
    return "test_notification"


#: The identity's name for a Grafana organisation other than 1: in the `__…__` form Grafana
#: and Prometheus keep for their own labels, so no label a rule sets can take its place.
ORG_KEY = "__grafana_org_id__"


def _in_org(alert: Alert, group: dict[str, Any]) -> Alert:
    """`alert` keyed by its organisation too when that is not org 1: one rule provisioned alike
    in two orgs carries the same labels, and must be two incidents. Org 1 (and a group that
    names none) is keyed by the labels alone, as before, so its incidents keep their key. The
    group's `orgId` wins over the alert's own."""
    entry = common.obj_or_empty(alert.raw.get("alert"))
    org = _org_id(group.get("orgId"))
    if org is None and "orgId" not in group:
        org = _org_id(entry.get("orgId"))
    if org is None or org == "1":
        return alert
    return alert.model_copy(update={"identity": {**alert.identity, ORG_KEY: org}})


def _org_id(value: Any) -> str | None:
    """An organisation id as text ("2"): a positive whole number (Grafana's ids are int64 from
    1), as a number or as ASCII digits; None for anything else (absent, a boolean, blank, zero
    or less, a fraction, an object, a number past int64)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer() and abs(value) < _INT64:
        value = int(value)
    if isinstance(value, str):
        digits = value.strip()
        if not (digits.isascii() and digits.isdigit() and len(digits) <= _INT64_DIGITS):
            return None
        value = int(digits)
    if isinstance(value, int) and 0 < value < _INT64:
        return str(value)
    return None


_INT64 = 2**63
_INT64_DIGITS = len(str(_INT64))


def matches_legacy(payload: dict[str, Any]) -> bool:
    return (
        "ruleId" in payload
        and "state" in payload
        and ("ruleName" in payload or "evalMatches" in payload)
    )


def normalize_legacy(payload: dict[str, Any]) -> Normalized:
    """A legacy dashboard alert notification: one rule, one state."""
    rule_id = common.ident(payload.get("ruleId"), "ruleId")
    rule_name = common.line(common.unnested(payload.get("ruleName")), "ruleName")
    if rule_id == "0" and rule_name == "Test notification":
        detail = "legacy Grafana notification channel test"
        return Normalized((), (Skipped(SOURCE, "test_notification", detail),))
    state = common.line(payload.get("state"), "state") or ""
    status = _LEGACY_STATUS.get(state.lower())
    if status is None:
        if state.lower() in _LEGACY_QUIET:
            detail = f"legacy alert {common.short(rule_name)} is {state}"
            return Normalized((), (Skipped(SOURCE, state.lower(), detail),))
        raise InvalidAlertError(f"state {common.short(state)} is not alerting, ok or no_data")
    given_tags = common.obj_or_empty(payload.get("tags"))  # tags are shown, never identity
    tags = common.text_map(given_tags)
    labels = common.labels_from(tags)
    for key, label in (
        ("ruleId", "rule_id"),
        ("dashboardId", "dashboard_id"),
        ("panelId", "panel_id"),
    ):
        common.add_label(labels, label, common.whole(payload.get(key)))  # 7.0 is id 7
    matches = common.items_or_empty(payload.get("evalMatches"))
    values = ", ".join(
        f"{common.shown(m.get('metric'))}={common.shown(m.get('value'))}"
        for m in matches
        if isinstance(m, dict)
    )
    message = common.text(payload.get("message"), "message", common.DESCRIPTION_MAX)
    runbook = alertmanager.runbook_link(tags)
    given = (tags.get("runbook_url") or tags.get("runbook") or "").strip()
    unlinked = f"Runbook: {given}" if given and not runbook else ""  # not a link, still read
    parts = (message, f"Values: {values}" if values else "", unlinked)
    description = "\n\n".join(p for p in parts if p)
    # An unread priority tag stays visible as the tag's label, and a note says why.
    priority, unread = common.first_priority(
        labels, (f"{SOURCE} tags.priority", given_tags.get("priority"))
    )
    alert = Alert(
        source=SOURCE,
        status=status,
        title=common.first_title(
            rule_name, payload.get("title"), f"Grafana alert rule {rule_id}", field="ruleName"
        ),
        team=common.word(given_tags.get("team"), "tags.team"),
        priority=priority,
        severity=common.word(given_tags.get("severity"), "tags.severity"),
        description=common.text(description, "description", common.DESCRIPTION_MAX) or "",
        runbook_url=runbook,
        links=common.links(
            source=common.url(payload.get("ruleUrl"), "ruleUrl"),
            image=common.url(payload.get("imageUrl"), "imageUrl"),
        ),
        labels=labels,
        occurred_at=common.now(),  # legacy notifications carry no time
        identity={
            "org_id": common.ident_or_none(payload.get("orgId"), "orgId") or "",
            "rule_id": rule_id,
        },
        raw=payload,
    )
    return Normalized((alert,), (), unread)
