"""Amazon Redshift Serverless events an EventBridge rule sends (`source`
aws.redshift-serverless: "Redshift Serverless Management", "… Monitoring", "… Security" …),
read for what they mean, as Redshift's cluster events by SNS are (`aws_rds`): one incident per
account, Region, workgroup or namespace and condition, resolved by the event that ends it (a
base RPU change that failed, REDSHIFT-SERVERLESS-EVENT-1002, ends when one completes, 1001).

Where the shapes come from: docs.aws.amazon.com/redshift/latest/mgmt/
serverless-event-notifications-eventbridge.html (the event ids, their categories, severities
and messages) and docs.aws.amazon.com/eventbridge/latest/ref/events-ref-redshift-serverless.html
(the source and detail types). AWS documents neither the keys of `detail` nor an example
event, so no key is relied on: the event id is the `REDSHIFT-SERVERLESS-EVENT-nnnn` among the
detail's top-level text values, whatever its key, and the resource is the event's ARNs in
`resources` (EventBridge's envelope), else the workgroup or namespace its message names.

An event whose id is an information only (a snapshot completed, the software updated, a
workgroup deleted …) changes no ticket (Skipped, one log line); an id this table does not know
fires as a condition of its own, as AWS may add events: nothing is lost. An event with no id
(a CloudTrail API call) is read as any other service's event (`eventbridge`). Source
`eventbridge`, as an EventBridge rule's events are, so routes that match it keep matching."""

from __future__ import annotations

import re
from typing import Any

from triage.errors import InvalidAlertError
from triage.models import Alert
from triage.normalize import common
from triage.normalize.aws_shared import FIRE, RESOLVE, occurred, service_labels
from triage.normalize.common import Normalized, Skipped

SOURCE = "eventbridge"
#: Redshift Serverless's EventBridge events come from here.
EVENTBRIDGE_SOURCE = "aws.redshift-serverless"
_PREFIX = "REDSHIFT-SERVERLESS-EVENT-"
_EVENT_ID = re.compile(r"\bREDSHIFT-SERVERLESS-EVENT-(\d{4})\b", re.IGNORECASE)
#: A workgroup's or namespace's name as its messages write it (names are 3-64 of a-z, 0-9, -);
#: "Workgroup base RPU change …" names none.
_NAMED = re.compile(
    r"\b(workgroup|namespace) \[?([a-z0-9-]{3,64})\]?(?![\w-]| RPU\b)", re.IGNORECASE
)
#: At most this much of a detail's text value is searched for the id and the name.
_SEARCHED = 4000

#: (condition, events that start it, events that end it), from the documentation's table:
#: only where the service itself says the condition ended.
_PAIRS = (
    ("base-rpu-change", ("1002", "1029"), ("1001",)),
    ("workgroup-creation", ("1011",), ("1008",)),
    ("restore-from-snapshot", ("1005",), ("1004",)),
    ("restore-from-recovery-point", ("1007",), ("1006",)),
    ("glue-registration", ("1032",), ("1031",)),
    ("glue-deregistration", ("1035",), ("1034",)),
    ("track-update", ("1036", "1037"), ("1038",)),
    ("kms-key-access", ("1039",), ("1040",)),
)
_EVENTS = {
    number: (condition, status)
    for condition, starts, ends in _PAIRS
    for numbers, status in ((starts, FIRE), (ends, RESOLVE))
    for number in numbers
}
#: Information that starts or ends no condition: a snapshot completed (1000), the software
#: updated (1003), a workgroup deleted (1009), admin credentials updated (1016), a Glue
#: (de)registration started (1030, 1033), datashare changes of a restore (1045-1047).
_NOTICES = frozenset({"1000", "1003", "1009", "1016", "1030", "1033", "1045", "1046", "1047"})
#: What each event says, for the title (the message's own text is only described).
_SAYS = {
    "1001": "base RPU change completed",
    "1002": "base RPU change failed",
    "1029": "base RPU change failed: not enough disk space",
    "1008": "workgroup created and ready",
    "1011": "workgroup creation failed: service-linked role inaccessible",
    "1004": "restore from snapshot completed",
    "1005": "restore from snapshot failed",
    "1006": "restore from recovery point completed",
    "1007": "restore from recovery point failed",
    "1012": "cannot access the namespace's secret",
    "1013": "cannot access the KMS key of the admin credentials secret",
    "1014": "cannot rotate the secret: an operation is under way",
    "1015": "cannot rotate the secret: no workgroup attached",
    "1031": "Glue Data Catalog registration completed",
    "1032": "Glue Data Catalog registration failed",
    "1034": "Glue Data Catalog deregistration completed",
    "1035": "Glue Data Catalog deregistration failed",
    "1036": "track update failed",
    "1037": "track update failed: workgroup busy",
    "1038": "track change completed",
    "1039": "invalid KMS key permissions: namespace inaccessible",
    "1040": "KMS key permissions restored",
    "1048": "Secrets Manager opt-out failed",
    "1049": "Secrets Manager opt-in failed",
    "1050": "admin credentials reset failed",
    "1500": "Elastic IP address limit reached",
    "1501": "subnet has no available IP addresses",
    "1502": "subnet has no available IP addresses",
}


def matches(source: str, detail: dict[str, Any]) -> bool:
    """A Redshift Serverless event that names its event id (a CloudTrail call names none)."""
    return source == EVENTBRIDGE_SOURCE and _event_number(detail) is not None


def from_eventbridge(
    payload: dict[str, Any], detail: dict[str, Any], account: str, facts: str
) -> Normalized:
    """The incident of the event's workgroup or namespace and condition; `facts` is the
    detail as `eventbridge` describes any event."""
    number = _event_number(detail) or ""
    code = _PREFIX + number
    kind = common.unnested(payload.get("detail-type"))
    if number in _NOTICES:
        what = f"Redshift Serverless {code} ({common.short(kind, 100)}) is information"
        return Normalized((), (Skipped(SOURCE, "no_state_change", f"{what}: no ticket change"),))
    condition, status = _EVENTS.get(number, (code, FIRE))
    region = common.ident_or_none(payload.get("region"), "region") or ""
    resources = _resources(payload)
    named = _named(detail)
    if not resources and named is None:
        raise InvalidAlertError(
            f"Redshift Serverless event {code} names no workgroup or namespace: its resources "
            "list is empty and no text of its detail names one"
        )
    source_type, source_id = _source(resources, named)
    labels = service_labels("redshift-serverless", account, region)
    common.add_label(labels, "event_source", EVENTBRIDGE_SOURCE)
    common.add_label(labels, "detail_type", kind)
    common.add_label(labels, "source_type", source_type)
    common.add_label(labels, "source_id", source_id)
    common.add_label(labels, "event_id", code)
    common.add_label(labels, "resources", ", ".join(resources[:20]))
    shown = named[1] if named and named[0] == source_type else source_id
    alert = Alert(
        source=SOURCE,
        status=status,
        title=common.first_title(
            f"Redshift Serverless {source_type} {shown}: {_SAYS.get(number, code)}",
            field="detail",
        ),
        # Its own level (INFO, WARN, ERROR), as any other event's `detail.severity` is read.
        severity=_severity(detail.get("severity")),
        description=common.text(facts, "detail", common.DESCRIPTION_MAX) or "",
        labels=labels,
        occurred_at=occurred(payload.get("time")),
        identity={
            "service": "redshift-serverless",
            "account": account,
            "region": region,
            "resources": "\n".join(resources) if resources else f"{source_type}/{source_id}",
            "condition": condition,
        },
        raw=payload,
    )
    return Normalized((alert,))


def _severity(value: Any) -> str | None:
    """The event's `severity` when it is a word (ERROR ranks high, as a Glue job's does)."""
    return common.word(value, "detail.severity") if isinstance(value, str) else None


def _texts(detail: dict[str, Any]) -> list[str]:
    """The detail's top-level text values (a list's text items too), each searched in part."""
    values = [
        v for value in detail.values() for v in (value if isinstance(value, list) else [value])
    ]
    return [item[:_SEARCHED] for item in values if isinstance(item, str)]


def _event_number(detail: dict[str, Any]) -> str | None:
    """The number of the event id one of the detail's text values holds, else None."""
    for text in _texts(detail):
        found = _EVENT_ID.search(text)
        if found is not None:
            return found[1]
    return None


def _named(detail: dict[str, Any]) -> tuple[str, str] | None:
    """("workgroup", name) or ("namespace", name) as the event's message names it."""
    for text in _texts(detail):
        found = _NAMED.search(text)
        if found is not None:
            return found[1].lower(), found[2]
    return None


def _resources(payload: dict[str, Any]) -> list[str]:
    """The event's resources (ARNs), sorted so their order never changes the incident."""
    given = common.items(payload.get("resources"), "resources")
    return sorted({common.ident(resource, "resources[]") for resource in given})


def _source(resources: list[str], named: tuple[str, str] | None) -> tuple[str, str]:
    """The resource's type and id: the first ARN's ("…:workgroup/<id>"), else the name the
    message gives (`from_eventbridge` refuses an event with neither)."""
    if not resources:
        return named or ("resource", "")
    tail = resources[0].split(":", 5)[-1]
    kind, slash, rest = tail.partition("/")
    return (kind, rest) if slash and kind and rest else ("resource", tail)
