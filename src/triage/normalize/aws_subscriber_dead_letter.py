"""The record a subscriber of an EventBridge Custom Event Bus writes to its dead-letter queue
(`OnFailureConfiguration.Arn`) when a delivery to its target fails past its `RetryPolicy`
(EventBridge User Guide, "Retry policies and dead-letter queues"): a JSON document, not the
event, naming the bus (`busArn`), the subscriber (`subscriberArn`), its target (`targetArn`),
the error (`errorCode`, `errorMessage`), why retries stopped (`exhaustedRetryCondition`,
`retryAttempts`) and the events that failed together (`failedMessages`: their ids, groups and
times, never their bodies). Teams point that queue at their alert queue.

Read as format `eventbridge-subscriber-dead-letter`, source `aws`: it fires titled with the
subscriber, its bus, its target and the error code, the error message and the failed events'
ids shown; keyed by the subscriber and its target, never the error, the retry count or the
events, so a subscriber that keeps failing is one incident counting repeats, as a rule
target's dead letter is (`aws_rule_dead_letter`). EventBridge sends nothing once deliveries
pass again: the incident stays open until `triage incidents close` closes it (or its route's
`resolve_after_s`).
"""

from __future__ import annotations

from typing import Any

from triage.models import Alert, Status
from triage.normalize import aws_dead_letters as letters
from triage.normalize import common
from triage.normalize.common import Normalized
from triage.normalize.vendors import labelled

SOURCE = "aws"
FORMAT = "eventbridge-subscriber-dead-letter"
#: The key a record cannot be one without: the subscriber that could not deliver.
SUBSCRIBER = "subscriberArn"
#: At most this many failed events' ids are shown.
_EVENTS_SHOWN = 10


def matches(payload: dict[str, Any]) -> bool:
    """A subscriber's dead-letter record: an EventBridge subscriber's ARN, and the failed
    events or the error."""
    subscriber = payload.get(SUBSCRIBER)
    return (
        isinstance(subscriber, str)
        and subscriber.startswith("arn:")
        and ":events:" in subscriber
        and ("failedMessages" in payload or "errorCode" in payload)
    )


def normalize(payload: dict[str, Any]) -> Normalized:
    """One firing alert for the subscriber's failed delivery, keyed by subscriber and target."""
    subscriber = common.ident(payload.get(SUBSCRIBER), SUBSCRIBER)
    target = common.ident_or_none(payload.get("targetArn"), "targetArn") or ""
    bus = common.word(payload.get("busArn"), "busArn") or ""  # shown only: any type is read
    code = common.word(payload.get("errorCode"), "errorCode")
    failed = [common.obj_or_empty(m) for m in _listed(payload.get("failedMessages"))]
    name, bus_name = _named(subscriber), _named(bus) if bus else ""
    alert = Alert(
        source=SOURCE,
        status=Status.FIRING,
        title=_title(name, bus_name, target, len(failed), code),
        severity="error",
        description=_description(payload, failed),
        labels=labelled(
            ("service", "eventbridge"),
            ("subscriber", name),
            ("event_bus", bus_name),
            ("target", target),
            ("error_code", code),
            ("exhausted_retry_condition", payload.get("exhaustedRetryCondition")),
            ("retry_attempts", payload.get("retryAttempts")),
            ("failed_events", len(failed)),
            ("account", letters.arn_part(subscriber, 4)),
            ("region", letters.arn_part(subscriber, 3)),
        ),
        occurred_at=common.now(),
        identity={"service": "eventbridge", "subscriber": subscriber, "target": target},
        raw=payload,
    )
    return Normalized((alert,), (), ())


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _named(arn: str) -> str:
    """A subscriber's or bus's name: `subscriber/<name>/<id>` → <name> (the id EventBridge adds
    is no name); a resource of another shape, its last part."""
    parts = arn.split(":", 5)[-1].split("/")
    return parts[1] if len(parts) > 2 and parts[1] else letters.resource_name(arn)


def _title(name: str, bus: str, target: str, count: int, code: str | None) -> str:
    """ "EventBridge subscriber large-orders (orders) could not deliver 2 events to
    large-orders: ACCESS_DENIED": names, not ARNs."""
    scoped = f"{name} ({bus})" if bus else name
    events = "an event" if count <= 1 else f"{count} events"
    target_name = letters.resource_name(target) if target else ""
    to = f" to {target_name}" if target_name else " to its target"
    why = f": {code}" if code else ""
    return common.title(f"EventBridge subscriber {scoped} could not deliver {events}{to}{why}")


def _description(payload: dict[str, Any], failed: list[dict[str, Any]]) -> str:
    """The error message, why retries stopped, and which events failed."""
    attributes = {
        letters.ERROR_MESSAGE: payload.get("errorMessage"),
        letters.EXHAUSTED: payload.get("exhaustedRetryCondition"),
        letters.RETRIES: common.unnested(payload.get("retryAttempts")),
    }
    lines = letters.failure_lines(attributes, "EventBridge")
    for message in failed[:_EVENTS_SHOWN]:
        said = ", ".join(
            f"{field} {value}"
            for field in ("eventId", "eventGroupId", "timestamp")
            if (value := common.word(message.get(field), field))
        )
        if said:
            lines.append(f"Failed event: {said}.")
    if len(failed) > _EVENTS_SHOWN:
        lines.append(f"… and {len(failed) - _EVENTS_SHOWN} more failed events.")
    lines.append("The events never reached the target: send them again once it is fixed.")
    return common.text("\n".join(lines), "description", common.DESCRIPTION_MAX) or ""
