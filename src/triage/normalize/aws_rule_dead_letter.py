"""A dead-letter message of an EventBridge rule's target: the rule matched an event but could
not deliver it to one of its targets (after the target's retry policy, or at once for an error
no retry can help: a missing permission, a target that no longer exists), and EventBridge sent
the event to the target's dead-letter queue, which teams point at their alert queue. The body is
the event the rule could not deliver; why is in the message's attributes: `RULE_ARN`,
`TARGET_ARN`, `ERROR_CODE` (NO_PERMISSIONS, NO_RESOURCE, THROTTLING, SDK_CLIENT_ERROR …),
`ERROR_MESSAGE`, `EXHAUSTED_RETRY_CONDITION` (MaximumRetryAttempts, MaximumEventAgeInSeconds)
and `RETRY_ATTEMPTS` (EventBridge User Guide, "Using dead-letter queues to process undelivered
events"). `normalize_body` reads a message as one when its attributes name a rule (format
`eventbridge-dead-letter`, source `aws`), whatever its body holds, as it reads a Scheduler
dead letter (`aws_scheduler`): the event never reached the target, so the failed delivery is the
news. The event is context: its source, detail-type, id and time are shown, never read as an
alert of its own (the rule's other targets, the queue among them, may have received it).

It fires titled with the rule, its target and the error code, the error message shown; keyed
by the rule and its target, never the error's text, the retry count or the event, so a rule
that keeps failing to deliver to one target is one incident counting repeats, and each target
of a rule is its own. EventBridge sends nothing once deliveries succeed again: the incident
stays open until `triage incidents close` closes it (or its route's `resolve_after_s`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from triage.models import Alert, Status
from triage.normalize import aws_dead_letters as letters
from triage.normalize import common
from triage.normalize.common import Normalized
from triage.normalize.vendors import labelled

SOURCE = "aws"
#: The format an EventBridge rule's dead-letter message is read as.
FORMAT = "eventbridge-dead-letter"
#: The attribute naming the rule whose target the event did not reach.
RULE_ARN = "RULE_ARN"
#: A rule's ARN: arn:<partition>:events:<region>:<account>:rule/[<bus>/]<name>.
_RULE_PREFIX = "rule/"


def is_dead_letter(attributes: Mapping[str, str]) -> bool:
    """Whether a message's attributes are those of an EventBridge rule's dead letter: a rule's
    ARN, and the error or target EventBridge names with it."""
    rule = attributes.get(RULE_ARN)
    return (
        isinstance(rule, str)
        and rule.startswith("arn:")
        and ":events:" in rule
        and (letters.ERROR_CODE in attributes or letters.TARGET_ARN in attributes)
    )


def normalize(body: str | bytes, attributes: Mapping[str, str]) -> Normalized:
    """One firing alert for the rule's failed delivery, keyed by rule and target."""
    rule = common.ident(attributes.get(RULE_ARN), RULE_ARN)
    target = common.ident_or_none(attributes.get(letters.TARGET_ARN), letters.TARGET_ARN) or ""
    code = common.word(attributes.get(letters.ERROR_CODE), letters.ERROR_CODE)
    bus, name = _rule_names(rule)
    region, account = letters.arn_part(rule, 3), letters.arn_part(rule, 4)
    text = letters.body_text(body)
    event = letters.undelivered_event(text)
    alert = Alert(
        source=SOURCE,
        status=Status.FIRING,
        title=_title(bus, name, target, code),
        severity="error",
        description=_description(attributes, event),
        labels=labelled(
            ("service", "eventbridge"),
            ("rule", name),
            ("event_bus", bus),
            ("target", target),
            *letters.failure_labels(attributes, event, code),
            ("account", account),
            ("region", region),
        ),
        occurred_at=common.now(),
        identity={"service": "eventbridge", "rule": rule, "target": target},
        raw={"MessageAttributes": dict(attributes), "Body": text},
    )
    return Normalized((alert,), (), ())


def _rule_names(rule: str) -> tuple[str, str]:
    """(event bus, name) of a rule's ARN ("" for the default bus); ("", the ARN) for one of
    another shape."""
    resource = rule.split(":", 5)[-1]
    if resource.startswith(_RULE_PREFIX):
        bus, _, name = resource.removeprefix(_RULE_PREFIX).rpartition("/")
        if name:
            return bus, name
    return "", rule


def _title(bus: str, name: str, target: str, code: str | None) -> str:
    """ "EventBridge rule order-events (orders-bus) could not deliver to order-processor:
    NO_PERMISSIONS": names, not ARNs."""
    scoped = f"{name} ({bus})" if bus and bus != "default" else name
    target_name = letters.resource_name(target) if target else ""
    to = f" to {target_name}" if target_name else " to its target"
    why = f": {code}" if code else ""
    return common.title(f"EventBridge rule {scoped} could not deliver an event{to}{why}")


def _description(attributes: Mapping[str, str], event: dict[str, Any]) -> str:
    """The error message EventBridge gave, why it stopped retrying, and the event it carried."""
    return letters.undelivered_description(
        attributes,
        event,
        "The event never reached this target: send it again once it is fixed.",
    )
