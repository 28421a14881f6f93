"""What the dead-letter messages of EventBridge share, whoever could not deliver (a rule's
target: `aws_rule_dead_letter`; a schedule: `aws_scheduler`; an event bus itself:
`aws_bus_dead_letter`): the message attributes that say why, and how they are shown. The body
is what was not delivered; it is kept whole with the alert, never read as an alert."""

from __future__ import annotations

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
