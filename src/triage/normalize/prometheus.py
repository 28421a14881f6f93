"""Alerts posted to Alertmanager's API (`POST /api/v2/alerts`, or v1): what Prometheus, vmalert
and the Mimir and Loki rulers send when their `alerting:` points at triage instead of an
Alertmanager. The body is a JSON array (`decode.PostedAlerts`) of
`{"labels", "annotations", "startsAt", "endsAt", "generatorURL"}`, up to 64 a request
(Prometheus 2; 256 from 3.x).

The source is `alertmanager`, not a new one: the fingerprint hashes the source with the full
label set, so an alert posted here and the same alert in an Alertmanager webhook are one
incident, and a team can move between the two paths, or run both, without a second ticket.

No status field exists: an alert is resolved when its `endsAt` is set and not after the moment
its message was queued (`common.now()`), else firing. A firing alert is re-sent every resend
interval (1 min) with the same `startsAt` and an `endsAt` a few intervals ahead: each repeat is
the same event of one open incident, counted. A resolved one is re-sent for 15 minutes with the
same `endsAt`, and a closed incident ignores it. Everything else (title, team, priority,
runbook, links, an unreadable alert left out with a note) is read as in an Alertmanager group,
and Grafana's contact-point test (a contact point of type Alertmanager posts it here) and
kube-prometheus' Watchdog heartbeat and InfoInhibitor are skipped as in a webhook
(`alertmanager.no_incident`). An array whose items carry a `title` is a script's generic alerts
batched, which no rule evaluator posts: refused, never keyed by labels alone.
"""

from __future__ import annotations

from typing import Any

from triage.decode import PostedAlerts
from triage.errors import InvalidAlertError
from triage.models import Status
from triage.normalize import alertmanager, common
from triage.normalize.common import Normalized

SOURCE = alertmanager.SOURCE


def matches(payload: dict[str, Any]) -> bool:
    """Only the decoder makes a PostedAlerts, from a top-level array of alert objects."""
    return isinstance(payload, PostedAlerts)


def normalize(payload: dict[str, Any]) -> Normalized:
    _refuse_script_alerts(payload)
    return alertmanager.normalize_group(
        payload, SOURCE, is_test=alertmanager.no_incident, status_of=status_by_end
    )


def _refuse_script_alerts(payload: dict[str, Any]) -> None:
    """Refuses an array whose items carry a `title`: a script's generic alerts batched in one
    body (`jq -s`), which no rule evaluator posts. Read as posted alerts, each would be keyed
    by its labels alone and its title lost, so two scripts' alerts of the same labels would be
    one incident; refused, the gateway's generic path queues each on its own (a batch)."""
    for index, item in enumerate(common.items_or_empty(payload.get("alerts"))):
        if isinstance(item, dict) and "title" in item:
            raise InvalidAlertError(
                f"body is a JSON array of a script's alerts (item [{index}] has a title), not "
                "of alerts posted to Alertmanager's API: queue each as its own message, or "
                "post the array to the gateway's /v1/alerts/generic, which queues each"
            )


def status_by_end(entry: dict[str, Any], where: str, group: dict[str, Any]) -> Status:
    """Resolved when `endsAt` is set and not after the message was queued; else firing. Go's
    zero time ("0001-01-01T00:00:00Z", what an unset `endsAt` marshals to) is no end. An
    `endsAt` that is no time at all cannot say which: the alert is left out."""
    value = entry.get("endsAt")
    ends_at = common.instant(value)  # the epoch is an end here, where `timestamp` reads none
    if ends_at is not None:
        return Status.RESOLVED if ends_at <= common.now() else Status.FIRING
    if value is None or (isinstance(value, str) and (not value.strip() or _zero_time(value))):
        return Status.FIRING
    raise InvalidAlertError(f"{where}.endsAt {common.short(value)} is not a time")


def _zero_time(value: str) -> bool:
    """Go's zero time, in any of the forms it is written ("0001-01-01T00:00:00Z", with
    fractions, or `Time.String()`'s "0001-01-01 00:00:00 +0000 UTC")."""
    return value.strip().startswith("0001-01-01")
