"""A dead-letter message of an EventBridge event bus itself: the bus could not process or pass
on an event (a customer managed key disabled or missing, a cross-account or cross-Region
delivery to it refused) and sent the event to the bus's own dead-letter queue (its
`DeadLetterConfig`), which teams point at their alert queue (EventBridge User Guide, "Using
dead-letter queues to capture encrypted event errors"). The body is the event; why is in the
message's attributes, as on a rule target's dead letter (`aws_rule_dead_letter`) but naming
no rule: `ERROR_CODE`, `ERROR_MESSAGE` and, when EventBridge names them, the bus
(`TARGET_ARN`), `EXHAUSTED_RETRY_CONDITION` and `RETRY_ATTEMPTS`. `normalize_body` reads a
message as one (format `eventbridge-bus-dead-letter`, source `aws`) when its attributes carry
an error code, name no rule or schedule, and either name an event bus or carry an EventBridge
event: the event never reached the bus's rules, so the failed delivery is the news; the event
is context, shown, never read as an alert of its own.

It fires titled with the bus and the error code, the error message shown; keyed by the bus
(its ARN; else the account and Region of the event it could not take), never the error's text,
the retry count or the event, so a bus that keeps refusing events is one incident counting
repeats. EventBridge sends nothing once events pass again: the incident stays open until
`triage incidents close` closes it (or its route's `resolve_after_s`).
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
#: The format an event bus's own dead-letter message is read as.
FORMAT = "eventbridge-bus-dead-letter"
#: The attributes that make a dead letter another's: a rule's target's, a schedule's.
_OTHERS = ("RULE_ARN", "SCHEDULE_ARN")
#: An event bus's ARN: arn:<partition>:events:<region>:<account>:event-bus/<name>.
_BUS_PREFIX = "event-bus/"
#: The keys of an EventBridge event's envelope: a body with all of them is one.
_EVENT_KEYS = ("source", "detail-type", "account", "region")


def is_dead_letter(attributes: Mapping[str, str], body: str | bytes) -> bool:
    """Whether a message is an event bus's dead letter: an error code and no rule or schedule
    in its attributes, and an event bus named there or an EventBridge event for its body."""
    code = attributes.get(letters.ERROR_CODE)
    if not isinstance(code, str) or not code or any(name in attributes for name in _OTHERS):
        return False
    if _bus_arn(attributes):
        return True
    event = letters.undelivered_event(letters.body_text(body))
    return all(isinstance(event.get(key), str) for key in _EVENT_KEYS)


def normalize(body: str | bytes, attributes: Mapping[str, str]) -> Normalized:
    """One firing alert for the bus's failed delivery, keyed by the bus."""
    code = common.word(attributes.get(letters.ERROR_CODE), letters.ERROR_CODE)
    text = letters.body_text(body)
    event = letters.undelivered_event(text)
    bus = _bus_arn(attributes)
    account = letters.arn_part(bus, 4) if bus else common.word(event.get("account"), "account")
    region = letters.arn_part(bus, 3) if bus else common.word(event.get("region"), "region")
    name = letters.resource_name(bus) if bus else ""
    alert = Alert(
        source=SOURCE,
        status=Status.FIRING,
        title=_title(name, account, region, code),
        severity="error",
        description=_description(attributes, event),
        labels=labelled(
            ("service", "eventbridge"),
            ("event_bus", name),
            *letters.failure_labels(attributes, event, code),
            ("account", account),
            ("region", region),
        ),
        occurred_at=common.now(),
        identity={"service": "eventbridge", "event_bus": bus or f"{account or ''}:{region or ''}"},
        raw={"MessageAttributes": dict(attributes), "Body": text},
    )
    return Normalized((alert,), (), ())


def _bus_arn(attributes: Mapping[str, str]) -> str | None:
    """The event bus `TARGET_ARN` names, if it names one."""
    target = common.ident_or_none(attributes.get(letters.TARGET_ARN), letters.TARGET_ARN)
    if target and target.startswith("arn:") and ":events:" in target:
        return target if target.split(":", 5)[-1].startswith(_BUS_PREFIX) else None
    return None


def _title(name: str, account: str | None, region: str | None, code: str | None) -> str:
    """ "EventBridge event bus orders-bus could not deliver an event: KMS_KEY_DISABLED", or,
    with no bus named, the bus by its account and Region."""
    where = "/".join(part for part in (account, region) if part)
    bus = f" {name}" if name else (f" in {where}" if where else "")
    why = f": {code}" if code else ""
    return common.title(f"EventBridge event bus{bus} could not deliver an event{why}")


def _description(attributes: Mapping[str, str], event: dict[str, Any]) -> str:
    """The error message EventBridge gave, why it stopped retrying, and the event it carried."""
    return letters.undelivered_description(
        attributes,
        event,
        "The event never reached the bus's rules: check the bus's key and resource policy, "
        "then send it again.",
    )
