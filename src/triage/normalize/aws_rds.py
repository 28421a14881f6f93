"""RDS-style event subscription notices: RDS, Aurora, DocumentDB and Neptune (which use RDS's
event ids and subscriptions), DMS and Redshift: `{"Event Source": "db-instance", "Event Time": …,
"Identifier Link": …, "Source ID": …, "Source ARN": …, "Event ID": "…#RDS-EVENT-0013",
"Event Message": …}`. DMS names its task in `SourceId` (older notices: on the link's second
line); Redshift names its cluster in `Resource`, its event in `About this Event` and adds its
`Severity` (INFO, ERROR) and `Category`. One incident per account, Region, source type, source
id and condition; the event that ends a condition (`_PAIRS`) resolves it, any other event fires
as a condition of its own (its event id)."""

from __future__ import annotations

import re
from typing import Any

from triage.errors import InvalidAlertError
from triage.models import Alert, Status
from triage.normalize import common
from triage.normalize.aws_shared import (
    FIRE,
    RESOLVE,
    SOURCE,
    Topic,
    arn_region_account,
    first_line,
    occurred,
    one,
    service_labels,
)
from triage.normalize.common import Normalized

Pairs = tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...]

#: Per service, (condition, events that start it, events that end it) by the number of
#: `<SERVICE>-EVENT-nnnn`, from each service's table of event messages: only where the service
#: itself says the condition ended.
_PAIRS: dict[str, Pairs] = {
    "RDS": (
        ("failover", ("0013", "0069", "0072", "0073"), ("0015", "0049", "0071")),
        ("global-failover", ("0181", "0187"), ("0185",)),
        ("multi-az-activation", ("0050",), ("0051",)),
        ("recovery", ("0020",), ("0021",)),
        ("multi-az-recovery", ("0052",), ("0053",)),
        ("offline-maintenance", ("0026",), ("0027",)),
        ("shutdown", ("0004",), ("0006",)),
        ("stopped", ("0087",), ("0088", "0154")),
        ("read-replica-error", ("0045",), ("0046",)),
        ("backup", ("0001",), ("0002",)),
        ("manual-snapshot", ("0040",), ("0042",)),
        ("automated-snapshot", ("0090",), ("0091",)),
        ("cluster-snapshot", ("0074",), ("0075",)),
        ("automated-cluster-snapshot", ("0168",), ("0169",)),
        ("snapshot-copy", ("0059", "0196"), ("0060", "0197")),
        ("instance-class-change", ("0012",), ("0014",)),
        ("storage-change", ("0018",), ("0017",)),
        ("storage-autoscaling", ("0217",), ("0218",)),
        ("multi-az-conversion", ("0024",), ("0025",)),
        ("single-az-conversion", ("0030",), ("0029",)),
        ("parameter-group-change", ("0011",), ("0092",)),
        ("switchover", ("0247", "0250", "0259"), ("0248", "0251", "0260")),
    ),
    # A task failed (0078) ends when it runs again (0069, started); reading paused at the swap
    # files' or the disk's limit (0091, 0092) when reading resumes (0093). A stop (0079) is
    # often the end of a full load: it fires alone.
    "DMS": (
        ("task-failure", ("0078",), ("0069",)),
        ("reading-paused", ("0091", "0092"), ("0093",)),
    ),
    "REDSHIFT": (
        ("maintenance", ("2003",), ("2004",)),
        ("resize", ("2006", "3500"), ("3002",)),
        ("restore", ("2008", "3501"), ("3003",)),
    ),
}
_EVENTS = {
    f"{service}-EVENT-{number}": (condition, status)
    for service, pairs in _PAIRS.items()
    for condition, starts, ends in pairs
    for numbers, status in ((starts, FIRE), (ends, RESOLVE))
    for number in numbers
}
#: How a service's name is written in a title (otherwise in capitals: RDS, DMS).
_NAMES = {"redshift": "Redshift"}
_EVENT_CODE = re.compile(r"([A-Z]{2,12})-EVENT-\d{1,6}", re.IGNORECASE)


def condition_of(code: str) -> tuple[str, Status]:
    """The condition an event id starts or ends (`_PAIRS`) and what it does to it; any other
    event is a condition of its own that fires."""
    return _EVENTS.get(code, (code, FIRE))


def is_event_code(code: str) -> bool:
    """Whether `code` is a service's event id ("DMS-EVENT-0078", any case)."""
    return _EVENT_CODE.fullmatch(code) is not None


def matches(payload: dict[str, Any]) -> bool:
    return "Event Source" in payload and ("Event ID" in payload or _REDSHIFT_EVENT in payload)


#: Where Redshift links its event's documentation, the event id after the "#".
_REDSHIFT_EVENT = "About this Event"


def normalize(payload: dict[str, Any], topic: Topic) -> Normalized:
    field = "Event ID" if "Event ID" in payload else _REDSHIFT_EVENT
    event_link = payload.get(field)
    code = _event_code(event_link, field)
    service = code.split("-", 1)[0].lower() if _EVENT_CODE.fullmatch(code) else "rds"
    source_type = common.ident(payload.get("Event Source"), "Event Source")
    link_text = payload.get("Identifier Link")
    source_arn = common.ident_or_none(payload.get("Source ARN"), "Source ARN")
    source_id = _source_id(payload, link_text, source_arn)
    region, account = arn_region_account(source_arn)
    account = account or topic.account
    region = region or topic.region or _link_region(link_text) or ""
    condition, status = _EVENTS.get(code, (code, FIRE))
    message = common.text(payload.get("Event Message"), "Event Message", common.DESCRIPTION_MAX)
    labels = service_labels(service, account, region)
    common.add_label(labels, "source_type", source_type)
    common.add_label(labels, "source_id", source_id)
    common.add_label(labels, "event_id", code)
    common.add_label(labels, "category", _category(payload.get("Category")))
    named = f"{_NAMES.get(service, service.upper())} {source_type} {source_id}"
    return one(
        Alert(
            source=SOURCE,
            status=status,
            title=common.first_title(
                f"{named}: {first_line(message)}" if message else None,
                f"{named}: {code}",
                field="Event Message",
            ),
            severity=common.word(payload.get("Severity"), "Severity"),
            description=message or "",
            runbook_url=common.url(first_line(event_link), field),
            labels=labels,
            links=common.links(resource=common.url(first_line(link_text), "Identifier Link")),
            occurred_at=occurred(payload.get("Event Time"), topic.sent),
            identity={
                "service": service,
                "account": account,
                "region": region,
                "source_type": source_type,
                "source_id": source_id,
                "condition": condition,
            },
            raw=payload,
        )
    )


#: RDS's EventBridge events ("RDS DB Instance Event", "RDS DB Cluster Event" …) come from here.
EVENTBRIDGE_SOURCE = "aws.rds"


def from_eventbridge(payload: dict[str, Any], detail: dict[str, Any], account: str) -> Alert:
    """An RDS event an EventBridge rule sent (`detail`: SourceType, SourceIdentifier, EventID,
    Message, EventCategories), for `eventbridge`: the incident of its resource and condition,
    resolved by the event that ends it, as the same event by SNS is. Read as any other
    service's event, every event of an instance was one incident that only fired: the instance
    started again kept its stop's incident firing. Source `eventbridge`, as an EventBridge
    rule's events are, so routes that match it keep matching."""
    code = common.ident(detail.get("EventID"), "detail.EventID")
    code = code.upper() if _EVENT_CODE.fullmatch(code) else code
    service = code.split("-", 1)[0].lower() if _EVENT_CODE.fullmatch(code) else "rds"
    source_type = common.ident(detail.get("SourceType"), "detail.SourceType")
    source_id = common.ident(detail.get("SourceIdentifier"), "detail.SourceIdentifier")
    region = common.ident_or_none(payload.get("region"), "region") or ""
    condition, status = _EVENTS.get(code, (code, FIRE))
    message = common.text(detail.get("Message"), "detail.Message", common.DESCRIPTION_MAX)
    labels = service_labels(service, account, region)
    common.add_label(labels, "event_source", EVENTBRIDGE_SOURCE)
    common.add_label(labels, "detail_type", common.unnested(payload.get("detail-type")))
    common.add_label(labels, "source_type", source_type)
    common.add_label(labels, "source_id", source_id)
    common.add_label(labels, "event_id", code)
    common.add_label(labels, "category", _category(detail.get("EventCategories")))
    named = f"{_NAMES.get(service, service.upper())} {source_type} {source_id}"
    return Alert(
        source="eventbridge",
        status=status,
        title=common.first_title(
            f"{named}: {first_line(message)}" if message else None,
            f"{named}: {code}",
            field="detail.Message",
        ),
        description=message or "",
        labels=labels,
        occurred_at=occurred(detail.get("Date"), payload.get("time")),
        identity={
            "service": service,
            "account": account,
            "region": region,
            "source_type": source_type,
            "source_id": source_id,
            "condition": condition,
        },
        raw=payload,
    )


def _category(value: Any) -> Any:
    """Redshift's event categories (["Monitoring"]) as one label value; anything else as it
    is, for the label to read or pass over."""
    if isinstance(value, list):
        return ", ".join(common.shown(item) for item in value[:_CATEGORIES_MAX])
    return value


_CATEGORIES_MAX = 10


def _event_code(value: Any, field: str) -> str:
    """ "http://docs…/USER_Events.html#RDS-EVENT-0049 " → "RDS-EVENT-0049": the part after the
    link's "#" (DMS adds a space after it), or the whole value when it is no link; an event id
    in upper case whatever case it came in, so "rds-event-0013" is the same event."""
    event_id = common.ident(value, field)
    code = common.ident(event_id.rpartition("#")[2], field)
    return code.upper() if _EVENT_CODE.fullmatch(code) else code


def _source_id(payload: dict[str, Any], link_text: Any, source_arn: str | None) -> str:
    """`Source ID`; DMS, which sends none, its `SourceId` (older notices: "SourceId: …" on the
    Identifier Link's second line); Redshift its `Resource`; else the resource part of
    `Source ARN`."""
    for key in _SOURCE_ID_KEYS:
        given = common.ident_or_none(payload.get(key), key)
        if given:
            return given
    for line in link_text[: common.URL_MAX * 2].splitlines() if isinstance(link_text, str) else ():
        named, colon, given = line.strip().partition(":")
        if colon and named == "SourceId" and given.strip():
            return common.ident(given.strip(), "Identifier Link SourceId")
    if source_arn and source_arn.count(":") >= 5:
        return common.ident(source_arn.rsplit(":", 1)[1], "Source ARN")
    raise InvalidAlertError(
        "event notification names no source: no Source ID, SourceId, Resource, Source ARN or "
        "SourceId line"
    )


_SOURCE_ID_KEYS = ("Source ID", "SourceId", "Resource")


def _link_region(link_text: Any) -> str | None:
    """The `region=` of a console link (what an event without a Source ARN tells of it)."""
    found = re.search(r"[?&]region=([a-z0-9-]{1,32})", first_line(link_text) or "")
    return found[1] if found else None
