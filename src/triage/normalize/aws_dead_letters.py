"""What the dead-letter messages of EventBridge share, whoever could not deliver (a rule's
target: `aws_rule_dead_letter`; a schedule: `aws_scheduler`; an event bus itself:
`aws_bus_dead_letter`): the message attributes that say why, and how they are shown. The body
is what was not delivered; it is kept whole with the alert, never read as an alert."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from triage.normalize import common

#: The attributes EventBridge and Scheduler set on a dead-letter message besides the ARN of
#: who could not deliver (`RULE_ARN`, `SCHEDULE_ARN`).
TARGET_ARN, ERROR_CODE, ERROR_MESSAGE = "TARGET_ARN", "ERROR_CODE", "ERROR_MESSAGE"
EXHAUSTED, RETRIES = "EXHAUSTED_RETRY_CONDITION", "RETRY_ATTEMPTS"


def arn_part(arn: str, index: int) -> str | None:
    """Part `index` of an ARN (3 the Region, 4 the account), or None when it has none."""
    parts = arn.split(":")
    return parts[index] if len(parts) > index and parts[index] else None


def resource_name(arn: str) -> str:
    """The last name of an ARN's resource (a function's, a queue's, a bus's): names, not
    ARNs, in a title."""
    return arn.rsplit(":", 1)[-1].rsplit("/", 1)[-1]


def failure_lines(attributes: Mapping[str, str], service: str) -> list[str]:
    """The error message `service` gave, and why it stopped retrying: the description's first
    lines."""
    message = common.text(attributes.get(ERROR_MESSAGE), ERROR_MESSAGE)
    lines = [message or f"{service}'s dead-letter message holds no error message."]
    condition = common.word(attributes.get(EXHAUSTED), EXHAUSTED)
    retries = common.word(attributes.get(RETRIES), RETRIES)
    if condition or retries:
        after = f" after {retries} retries" if retries else ""
        lines.append(f"{service} gave up{after} ({condition or 'no retry condition named'}).")
    return lines


def body_text(body: Any) -> str:
    """The body as text, kept whole with the alert (`raw`): what to send again. The store keeps
    it; nothing shows it."""
    if isinstance(body, bytes | bytearray):
        return bytes(body).decode("utf-8", errors="replace")
    return str(body)


def undelivered_event(text: str) -> dict[str, Any]:
    """The undelivered event when the body is an EventBridge event's JSON, else {}: only
    shown, never read as an alert."""
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return {}
    return value if isinstance(value, dict) else {}


def event_said(event: dict[str, Any]) -> str:
    """ "aws.ec2 EC2 Instance State-change Notification 7bf73129-…, 2026-11-23T10:00:00Z": what
    the undelivered event was, as far as its envelope says. Not its resources: their names
    (an alarm's "…-latency") would give the ticket the steps of the event's own problem."""
    said = " ".join(
        word
        for word in (
            common.word(event.get("source"), "source"),
            common.word(event.get("detail-type"), "detail-type"),
            common.word(event.get("id"), "id"),
        )
        if word
    )
    when = common.word(event.get("time"), "time")
    return f"{said}, {when}" if said and when else said


def failure_labels(
    attributes: Mapping[str, str], event: dict[str, Any], code: str | None
) -> tuple[tuple[str, Any], ...]:
    """The labels of why an event was not delivered and what it was (`vendors.labelled`
    pairs): the error code, the retry condition and count, the event's source and type."""
    return (
        ("error_code", code),
        ("exhausted_retry_condition", attributes.get(EXHAUSTED)),
        ("retry_attempts", attributes.get(RETRIES)),
        ("event_source", event.get("source")),
        ("detail_type", event.get("detail-type")),
    )


def undelivered_description(attributes: Mapping[str, str], event: dict[str, Any], then: str) -> str:
    """The error message EventBridge gave, why it stopped retrying, the event it carried, and
    `then`: what to do."""
    lines = failure_lines(attributes, "EventBridge")
    said = event_said(event)
    if said:
        lines.append(f"The undelivered event: {said}.")
    lines.append(then)
    return common.text("\n".join(lines), "description", common.DESCRIPTION_MAX) or ""
