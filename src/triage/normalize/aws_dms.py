"""AWS DMS events an EventBridge rule sends (`source` aws.dms: "DMS Replication Task State
Change", "DMS Replication Instance State Change" …), read for what they mean, as DMS's SNS
notices are (`aws_rds`): one incident per account, Region, resource and condition, resolved by
the event that ends it (a task that failed, DMS-EVENT-0078, ends when it starts again,
DMS-EVENT-0069; reading paused at a limit ends when reading resumes). Any other event fires as
a condition of its own, its event id.

`detail` holds `type` (REPLICATION_TASK …), `category`, `eventType` (REPLICATION_TASK_FAILED …),
`eventId` (DMS-EVENT-0078), `resourceLink` (the console page) and `detailMessage`; the resource
is the event's one ARN in `resources`, whose last part (the task's resource id, the same on
every event of the task, where a console link's name may be missing) is its source id. An
event without its `eventId` is known by its `eventType`. Read as any other service's event,
every event of a task was one incident that only fired: a task that failed and then ran again
stayed open. Source `eventbridge`, as an EventBridge rule's events are."""

from __future__ import annotations

from typing import Any

from triage.errors import InvalidAlertError
from triage.models import Alert
from triage.normalize import aws_rds, common
from triage.normalize.aws_shared import arn_region_account, first_line, occurred, service_labels

SOURCE = "eventbridge"
#: DMS's EventBridge events come from here.
EVENTBRIDGE_SOURCE = "aws.dms"
#: An event without its id, known by its type: the event id DMS gives that type.
_EVENT_IDS = {
    "REPLICATION_TASK_FAILED": "DMS-EVENT-0078",
    "REPLICATION_TASK_STARTED": "DMS-EVENT-0069",
    "REPLICATION_TASK_STOPPED": "DMS-EVENT-0079",
}


def matches(source: str, detail: dict[str, Any]) -> bool:
    """A DMS event that names its event (`eventId` or `eventType`)."""
    return source == EVENTBRIDGE_SOURCE and any(
        detail.get(key) not in (None, "") for key in ("eventId", "eventType")
    )


def from_eventbridge(payload: dict[str, Any], detail: dict[str, Any], account: str) -> Alert:
    """The incident of a DMS event's resource and condition."""
    code = _code(detail)
    condition, status = aws_rds.condition_of(code)
    arn = common.ident(_one_resource(payload.get("resources")), "resources[0]")
    arn_region, arn_account = arn_region_account(arn)
    region = common.ident_or_none(payload.get("region"), "region") or arn_region
    account = account or arn_account
    source_type = _source_type(detail.get("type"))
    source_id = common.ident(arn.rsplit(":", 1)[-1], "resources[0]")
    message = common.text(detail.get("detailMessage"), "detail.detailMessage")
    labels = service_labels("dms", account, region)
    common.add_label(labels, "event_source", EVENTBRIDGE_SOURCE)
    common.add_label(labels, "detail_type", common.unnested(payload.get("detail-type")))
    common.add_label(labels, "source_type", source_type)
    common.add_label(labels, "source_id", source_id)
    common.add_label(labels, "event_id", code)
    common.add_label(labels, "category", common.unnested(detail.get("category")))
    name = _console_name(detail.get("resourceLink"))
    common.add_label(labels, "resource_name", name)
    named = f"DMS {source_type} {name or source_id}"
    return Alert(
        source=SOURCE,
        status=status,
        title=common.first_title(
            f"{named}: {first_line(message)}" if message else None,
            f"{named}: {code}",
            field="detail.detailMessage",
        ),
        description=message or "",
        labels=labels,
        links=common.links(resource=common.url(detail.get("resourceLink"), "resourceLink")),
        occurred_at=occurred(payload.get("time")),
        identity={
            "service": "dms",
            "account": account,
            "region": region,
            "source_type": source_type,
            "source_id": source_id,
            "condition": condition,
        },
        raw=payload,
    )


def _code(detail: dict[str, Any]) -> str:
    """The event's id (DMS-EVENT-0078, in capitals whatever case it came in), else the id its
    type is known by, else its type as given."""
    given = detail.get("eventId")
    if given not in (None, ""):
        code = common.ident(given, "detail.eventId")
        return code.upper() if aws_rds.is_event_code(code) else code
    kind = common.ident(detail.get("eventType"), "detail.eventType")
    return _EVENT_IDS.get(kind.strip().upper(), kind)


def _one_resource(value: Any) -> Any:
    """The event's resource: the first ARN of `resources`."""
    resources = common.items(value, "resources")
    if not resources:
        raise InvalidAlertError("DMS event names no resource: its resources list is empty")
    return resources[0]


def _source_type(value: Any) -> str:
    """REPLICATION_TASK → replication-task, as DMS's SNS notices name the source type (what
    is not a word of letters and underscores is kept as given)."""
    kind = common.ident_or_none(common.unnested(value), "detail.type") or "resource"
    if kind.isascii() and kind.replace("_", "").isalpha() and kind.isupper():
        return kind.lower().replace("_", "-")
    return kind


def _console_name(link: Any) -> str | None:
    """The resource's name at the end of its console link ("…#taskDetails/orders-cdc"), shown
    in the title; the identity keeps the ARN's id, which every event carries."""
    line = first_line(link)
    if not line or "#" not in line:
        return None
    name = line.rpartition("#")[2].rpartition("/")[2].strip()
    return common.line(name, "resourceLink", 255, shown=True) if name and " " not in name else None
