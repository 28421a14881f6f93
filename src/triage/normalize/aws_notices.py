"""Notifications AWS services publish to an SNS topic themselves, in JSON of their own: a team
that subscribed its queue to the topic it already had gets tickets instead of dead letters.

| notice | matched by | one incident per | resolved when |
|---|---|---|---|
| RDS-style event subscription (RDS, Aurora, DocumentDB and Neptune, which use RDS's event ids; DMS) | `Event Source` and `Event ID` | account + region + source type + source id + condition | the event that ends its condition (`_RDS_PAIRS`: failover completed, recovery complete, instance started …) |
| EC2 Auto Scaling | `Service` "AWS Auto Scaling" and `Event` | group ARN + launch or terminate | a launch (termination) succeeds after a launch (termination) error |
| ElastiCache | every key `ElastiCache:<Event>` | account + region + node or cluster + condition | the event that ends its condition (`_ELASTICACHE_PAIRS`) |
| Cost Anomaly Detection | `anomalyId` and `monitorArn` | account + monitor + anomaly | never (it fires; `triage incidents close` closes it) |
| CodeStar notification rule (CodePipeline, CodeBuild, CodeCommit …) | `detailType`, `source`, `detail`, `notificationRuleArn` | read as the EventBridge event it carries (source `eventbridge`: the fingerprint of the same event sent by an EventBridge rule) | as that event |

The condition of an event that neither starts nor ends a pair is its own event id, so each
kind of event on a resource is an incident of its own and only ever fires. Identities hold no
time, request id, activity id or message text. Auto Scaling's test notification and its
lifecycle-hook notifications (meant for the hook's automation) are Skipped.

Source `aws` for all but CodeStar's: these are the services' own notices, the service named in
the identity and the labels. An ElastiCache notice names no account or region: they are the
topic's (ElastiCache publishes only to a topic of the cluster's account and Region); other
notices fall back on the topic for what they leave out. `normalize.recognise_body` tries these
shapes only for a body no other format reads, so they change no other format's alerts.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from triage.errors import InvalidAlertError
from triage.models import Alert, Status
from triage.normalize import common, eventbridge
from triage.normalize.common import Normalized, Skipped

SOURCE = "aws"

_FIRE, _RESOLVE = Status.FIRING, Status.RESOLVED


@dataclass(frozen=True, slots=True)
class Topic:
    """What the SNS envelope adds: the topic's account and Region, and when SNS sent it."""

    account: str = ""
    region: str = ""
    sent: Any = None


def topic_of(envelope: dict[str, Any] | None) -> Topic:
    """The topic of an SNS envelope; an empty Topic for a body that came without one."""
    if envelope is None:
        return Topic()
    region, account = _arn_region_account(envelope.get("TopicArn"))
    return Topic(account, region, envelope.get("Timestamp"))


def matches(payload: dict[str, Any]) -> bool:
    """One of the notices above, by keys no alert format has."""
    return any(kind.matches(payload) for kind in _KINDS)


def normalize(payload: dict[str, Any], envelope: dict[str, Any] | None = None) -> Normalized:
    """The alerts of one notice; `envelope` is the SNS notification it came in, if any."""
    topic = topic_of(envelope)
    kind = next(kind for kind in _KINDS if kind.matches(payload))
    return kind.read(payload, topic)


# --- RDS-style event subscriptions -----------------------------------------------------------

#: (condition, events that start it, events that end it), by the number of `RDS-EVENT-nnnn`,
#: from RDS's table of event messages: only where RDS itself says the condition ended.
_RDS_PAIRS: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
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
)
_RDS_EVENTS = {
    f"RDS-EVENT-{number}": (condition, status)
    for condition, starts, ends in _RDS_PAIRS
    for numbers, status in ((starts, _FIRE), (ends, _RESOLVE))
    for number in numbers
}
_EVENT_CODE = re.compile(r"([A-Z]{2,12})-EVENT-\d{1,6}", re.IGNORECASE)


def _is_rds_style(payload: dict[str, Any]) -> bool:
    return "Event Source" in payload and "Event ID" in payload


def _rds_style(payload: dict[str, Any], topic: Topic) -> Normalized:
    code = _event_code(payload.get("Event ID"))
    service = code.split("-", 1)[0].lower() if _EVENT_CODE.fullmatch(code) else "rds"
    source_type = common.ident(payload.get("Event Source"), "Event Source")
    link_text = payload.get("Identifier Link")
    source_arn = common.ident_or_none(payload.get("Source ARN"), "Source ARN")
    source_id = _source_id(payload.get("Source ID"), link_text, source_arn)
    region, account = _arn_region_account(source_arn)
    account = account or topic.account
    region = region or topic.region or _link_region(link_text) or ""
    condition, status = _RDS_EVENTS.get(code, (code, _FIRE))
    message = common.text(payload.get("Event Message"), "Event Message", common.DESCRIPTION_MAX)
    labels = _labels(service, account, region)
    common.add_label(labels, "source_type", source_type)
    common.add_label(labels, "source_id", source_id)
    common.add_label(labels, "event_id", code)
    named = f"{service.upper()} {source_type} {source_id}"
    return _one(
        Alert(
            source=SOURCE,
            status=status,
            title=common.first_title(
                f"{named}: {_first_line(message)}" if message else None,
                f"{named}: {code}",
                field="Event Message",
            ),
            description=message or "",
            runbook_url=common.url(_first_line(payload.get("Event ID")), "Event ID"),
            labels=labels,
            links=common.links(resource=common.url(_first_line(link_text), "Identifier Link")),
            occurred_at=_occurred(payload.get("Event Time"), topic.sent),
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


def _event_code(value: Any) -> str:
    """ "http://docs…/USER_Events.html#RDS-EVENT-0049 " → "RDS-EVENT-0049": the part after the
    link's "#" (DMS adds a space after it), or the whole value when it is no link; an event id
    in upper case whatever case it came in, so "rds-event-0013" is the same event."""
    event_id = common.ident(value, "Event ID")
    code = common.ident(event_id.rpartition("#")[2], "Event ID")
    return code.upper() if _EVENT_CODE.fullmatch(code) else code


def _source_id(value: Any, link_text: Any, source_arn: str | None) -> str:
    """`Source ID`; DMS, which sends none, writes "SourceId: …" on the Identifier Link's second
    line; else the resource part of `Source ARN`."""
    given = common.ident_or_none(value, "Source ID")
    if given:
        return given
    for line in link_text[: common.URL_MAX * 2].splitlines() if isinstance(link_text, str) else ():
        named, colon, given = line.strip().partition(":")
        if colon and named == "SourceId" and given.strip():
            return common.ident(given.strip(), "Identifier Link SourceId")
    if source_arn and source_arn.count(":") >= 5:
        return common.ident(source_arn.rsplit(":", 1)[1], "Source ARN")
    raise InvalidAlertError(
        "event notification names no source: no Source ID, Source ARN or SourceId line"
    )


def _link_region(link_text: Any) -> str | None:
    """The `region=` of a console link (what an event without a Source ARN tells of it)."""
    found = re.search(r"[?&]region=([a-z0-9-]{1,32})", _first_line(link_text) or "")
    return found[1] if found else None


# --- EC2 Auto Scaling ------------------------------------------------------------------------

_AUTOSCALING = "AWS Auto Scaling"
_TEST = "autoscaling:TEST_NOTIFICATION"
#: Event → (condition, status, what happened, as the title says it).
_ASG_EVENTS = {
    "autoscaling:EC2_INSTANCE_LAUNCH_ERROR": ("launch", _FIRE, "could not launch an instance"),
    "autoscaling:EC2_INSTANCE_LAUNCH": ("launch", _RESOLVE, "launched an instance"),
    "autoscaling:EC2_INSTANCE_TERMINATE_ERROR": (
        "terminate",
        _FIRE,
        "could not terminate an instance",
    ),
    "autoscaling:EC2_INSTANCE_TERMINATE": ("terminate", _RESOLVE, "terminated an instance"),
}


def _is_autoscaling(payload: dict[str, Any]) -> bool:
    return payload.get("Service") == _AUTOSCALING and (
        "Event" in payload or "LifecycleTransition" in payload
    )


def _autoscaling(payload: dict[str, Any], topic: Topic) -> Normalized:
    event = common.line(common.unnested(payload.get("Event")), "Event", common.IDENTITY_MAX)
    group = common.word(payload.get("AutoScalingGroupName"), "AutoScalingGroupName")
    if event == _TEST:
        detail = f"Auto Scaling test notification for group {common.short(group)}"
        return Normalized((), (Skipped(SOURCE, "test_notification", detail),))
    if event is None and "LifecycleTransition" in payload:
        detail = (
            f"Auto Scaling lifecycle hook notification for group {common.short(group)}: it "
            "is for the hook's automation (complete-lifecycle-action), not an alert"
        )
        return Normalized((), (Skipped(SOURCE, "lifecycle_hook", detail),))
    if event is None:
        raise InvalidAlertError("Auto Scaling notification has no Event")
    arn = common.ident(payload.get("AutoScalingGroupARN"), "AutoScalingGroupARN")
    region, account = _arn_region_account(arn)
    group = group or arn.rpartition("autoScalingGroupName/")[2] or arn
    condition, status, happened = _ASG_EVENTS.get(event, (event, _FIRE, event))
    labels = _labels("autoscaling", account or common.word(payload.get("AccountId"), ""), region)
    common.add_label(labels, "group", group)
    common.add_label(labels, "instance", common.unnested(payload.get("EC2InstanceId")))
    common.add_label(labels, "status_code", common.unnested(payload.get("StatusCode")))
    facts = [payload.get(key) for key in ("StatusMessage", "Description", "Cause")]
    facts.append(payload.get("Details"))
    return _one(
        Alert(
            source=SOURCE,
            status=status,
            title=common.title(f"Auto Scaling {happened} in {group}", "Event"),
            description=_joined(facts),
            labels=labels,
            occurred_at=_occurred(
                payload.get("Time"), payload.get("EndTime"), payload.get("StartTime"), topic.sent
            ),
            identity={"service": "autoscaling", "group": arn, "condition": condition},
            raw=payload,
        )
    )


# --- ElastiCache -----------------------------------------------------------------------------

_ELASTICACHE = "ElastiCache:"
#: (condition, event that starts it, event that ends it), from ElastiCache's event table.
_ELASTICACHE_PAIRS = (
    ("node-replacement", "CacheNodeReplaceStarted", "CacheNodeReplaceComplete"),
    ("add-node", "AddCacheNodeFailed", "AddCacheNodeComplete"),
    ("provisioning", "CacheClusterProvisioningFailed", "CacheClusterProvisioningComplete"),
    ("scaling", "CacheClusterScalingFailed", "CacheClusterScalingComplete"),
    ("snapshot", "SnapshotFailed", "SnapshotComplete"),
)
_ELASTICACHE_EVENTS = {
    event.lower(): (condition, status)
    for condition, start, end in _ELASTICACHE_PAIRS
    for event, status in ((start, _FIRE), (end, _RESOLVE))
}
#: A notice holds one event; a body with more is read up to this many, the rest noted.
_ELASTICACHE_MAX = 20
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def _is_elasticache(payload: dict[str, Any]) -> bool:
    return bool(payload) and all(str(key).startswith(_ELASTICACHE) for key in payload)


def _elasticache(payload: dict[str, Any], topic: Topic) -> Normalized:
    entries = list(payload.items())
    alerts = tuple(_cache_event(key, value, topic) for key, value in entries[:_ELASTICACHE_MAX])
    left = len(entries) - _ELASTICACHE_MAX
    notes = (f"{SOURCE} ElastiCache notice: {left} more event(s) left out",) if left > 0 else ()
    return Normalized(alerts, (), notes)


def _cache_event(key: str, value: Any, topic: Topic) -> Alert:
    words = key[len(_ELASTICACHE) :].split(maxsplit=1)
    event = common.ident(words[0] if words else None, "ElastiCache event")
    resource = common.ident(value, key)
    condition, status = _ELASTICACHE_EVENTS.get(event.lower(), (event, _FIRE))
    labels = _labels("elasticache", topic.account, topic.region)
    common.add_label(labels, "resource", resource)
    common.add_label(labels, "event", event)
    what = " ".join(_CAMEL.split(event)).lower()
    return Alert(
        source=SOURCE,
        status=status,
        title=common.title(f"ElastiCache {what}: {resource}", key),
        description=f"{_ELASTICACHE}{event} : {resource}",
        labels=labels,
        occurred_at=_occurred(topic.sent),
        identity={
            "service": "elasticache",
            "account": topic.account,
            "region": topic.region,
            "resource": resource,
            "condition": condition,
        },
        raw={key: value},
    )


# --- Cost Anomaly Detection ------------------------------------------------------------------


def _is_cost_anomaly(payload: dict[str, Any]) -> bool:
    return "anomalyId" in payload and "monitorArn" in payload


def _cost_anomaly(payload: dict[str, Any], topic: Topic) -> Normalized:
    anomaly = common.ident(payload.get("anomalyId"), "anomalyId")
    monitor = common.ident(payload.get("monitorArn"), "monitorArn")
    account = common.ident_or_none(common.unnested(payload.get("accountId")), "accountId")
    account = account or _arn_region_account(monitor)[1] or topic.account
    dimension = common.word(payload.get("dimensionalValue"), "dimensionalValue")
    monitor_name = common.word(payload.get("monitorName"), "monitorName")
    labels = _labels("ce", account, None)
    common.add_label(labels, "monitor", monitor_name)
    common.add_label(labels, "dimension", dimension)
    return _one(
        Alert(
            source=SOURCE,
            status=_FIRE,
            title=common.first_title(
                f"AWS cost anomaly: {dimension}" if dimension else None,
                f"AWS cost anomaly: {monitor_name}" if monitor_name else None,
                f"AWS cost anomaly {anomaly}",
                field="dimensionalValue",
            ),
            description=_anomaly_description(payload),
            labels=labels,
            links=common.links(anomaly=common.url(payload.get("anomalyDetailsLink"), "link")),
            occurred_at=_occurred(topic.sent, payload.get("anomalyEndDate")),
            identity={"service": "ce", "account": account, "monitor": monitor, "anomaly": anomaly},
            raw=payload,
        )
    )


def _anomaly_description(payload: dict[str, Any]) -> str:
    """The impact, the dates and each root cause, one `key: value` line each."""
    impact = common.obj_or_empty(payload.get("impact"))
    lines = [f"{key}: {common.shown(impact[key])}" for key in _IMPACT_KEYS if key in impact]
    dates = ("anomalyStartDate", "anomalyEndDate")
    lines += [f"{key}: {payload[key]}" for key in dates if isinstance(payload.get(key), str)]
    for cause in common.items_or_empty(payload.get("rootCauses"))[:_ROOT_CAUSES_MAX]:
        facts = common.obj_or_empty(cause)
        lines.append("root cause: " + ", ".join(f"{k}={common.shown(v)}" for k, v in facts.items()))
    return common.text("\n".join(lines), "impact", common.DESCRIPTION_MAX) or ""


_IMPACT_KEYS = ("totalImpact", "totalImpactPercentage", "totalActualSpend", "totalExpectedSpend")
_ROOT_CAUSES_MAX = 10


# --- CodeStar notification rules -------------------------------------------------------------


def _is_codestar(payload: dict[str, Any]) -> bool:
    return (
        "notificationRuleArn" in payload
        and isinstance(payload.get("detailType"), str)
        and isinstance(payload.get("source"), str)
        and isinstance(payload.get("detail"), dict)
    )


def _codestar(payload: dict[str, Any], topic: Topic) -> Normalized:
    """The EventBridge event a notification rule carries under its own keys (`detailType` for
    `detail-type`), read as EventBridge's, so both deliveries of one event share a fingerprint."""
    event = {key: value for key, value in payload.items() if key not in _CODESTAR_ONLY}
    event["detail-type"] = payload["detailType"]
    return eventbridge.normalize(event)


_CODESTAR_ONLY = frozenset({"detailType", "notificationRuleArn", "additionalAttributes"})


# --- AWS Backup (text) ----------------------------------------------------------------------

_BACKUP_SUBJECT = "Notification from AWS Backup"
#: The job's resource, as Backup writes it: "Resource ARN : arn:…. BackupJob ID : …" (a
#: completed job: "Backed up Resource ARN : …").
_BACKUP_RESOURCE = re.compile(r"Resource ARN ?: ?(arn:\S{1,2048})")
#: Backup's `State` message attribute → status; a state of neither (CREATED, RUNNING: a job
#: started) changes no ticket.
_BACKUP_STATES = {
    "COMPLETED": _RESOLVE,
    "FAILED": _FIRE,
    "EXPIRED": _FIRE,
    "ABORTED": _FIRE,
    "PARTIAL": _FIRE,
}


def backup(envelope: dict[str, Any]) -> Normalized | None:
    """An AWS Backup job's text notification, one incident per job type and resource (a
    completed job resolves the failed one); None for any other text, which `sns` reads as
    prose. Backup states the job's state in the `State` message attribute; without it (raw
    delivery) the message's first sentence says it."""
    message = envelope.get("Message")
    if envelope.get("Subject") != _BACKUP_SUBJECT or not isinstance(message, str):
        return None
    found = _BACKUP_RESOURCE.search(message[: common.DESCRIPTION_MAX * 4])
    if found is None:
        return None
    resource = common.ident(found[1].rstrip("."), "Resource ARN")
    attributes = _message_attributes(envelope.get("MessageAttributes"))
    sentence = _first_line(message.split(". ", 1)[0]) or _BACKUP_SUBJECT
    job = attributes.get("EventType") or _backup_job(sentence)
    state = (attributes.get("State") or _backup_state(sentence)).upper()
    topic = topic_of(envelope)
    account = attributes.get("AccountId") or topic.account
    if state not in _BACKUP_STATES:
        detail = f"AWS Backup {common.short(job)} for {common.short(resource, 200)} is {common.short(state)}"
        return Normalized((), (Skipped(SOURCE, "in_progress", detail),))
    labels = _labels("backup", account, topic.region)
    common.add_label(labels, "job", job)
    common.add_label(labels, "state", state)
    common.add_label(labels, "resource", resource)
    return _one(
        Alert(
            source=SOURCE,
            status=_BACKUP_STATES[state],
            title=common.title(f"{sentence.rstrip('.')}: {resource.rsplit(':', 1)[-1]}", "Message"),
            description=common.text(message, "Message", common.DESCRIPTION_MAX) or "",
            labels=labels,
            occurred_at=_occurred(topic.sent),
            identity={"service": "backup", "account": account, "job": job, "resource": resource},
            raw={key: envelope[key] for key in _BACKUP_KEPT if key in envelope},
        )
    )


#: The envelope's fields kept as `raw` (not SNS's signature or unsubscribe link).
_BACKUP_KEPT = ("Type", "MessageId", "TopicArn", "Subject", "Message", "Timestamp")


def _message_attributes(value: Any) -> dict[str, str]:
    """SNS message attributes ({"State": {"Type": "String", "Value": "FAILED"}}) as one-line
    text by name; an attribute of any other shape is passed over."""
    found: dict[str, str] = {}
    for name, attribute in common.obj_or_empty(value).items():
        text = common.word(common.obj_or_empty(attribute).get("Value"), f"MessageAttributes.{name}")
        if text:
            found[name] = text
    return found


def _backup_job(sentence: str) -> str:
    lowered = sentence.lower()
    return next((job for word, job in _BACKUP_JOBS if word in lowered), "BACKUP_JOB")


_BACKUP_JOBS = (("copy job", "COPY_JOB"), ("restore job", "RESTORE_JOB"))


def _backup_state(sentence: str) -> str:
    """ "An AWS Backup job was completed successfully" → COMPLETED; "… failed" → FAILED."""
    lowered = sentence.lower()
    if "failed" in lowered:
        return "FAILED"
    return "COMPLETED" if "completed" in lowered or "successful" in lowered else "STARTED"


# --- Elastic Beanstalk (text) ---------------------------------------------------------------

_BEANSTALK_SUBJECT = "AWS Elastic Beanstalk Notification - "
_HEALTH = re.compile(
    r"Environment health has transitioned from ([A-Za-z ]{1,20}) to ([A-Za-z ]{1,20})\."
)
#: Enhanced health statuses: Ok ends the incident, Warning, Degraded and Severe are one; the
#: rest (Info: an operation in progress, Pending, Unknown, No Data, Suspended) change nothing.
_HEALTH_STATUS = {"ok": _RESOLVE, "warning": _FIRE, "degraded": _FIRE, "severe": _FIRE}


def beanstalk(envelope: dict[str, Any]) -> Normalized | None:
    """An Elastic Beanstalk environment's health transition ("Environment health has
    transitioned from Ok to Severe."), one incident per environment that Ok resolves; None for
    any other text. Each transition has its own Subject, so read as prose every transition was
    an incident of its own, the recovery to Ok a new ticket and the Severe one never closed."""
    message = envelope.get("Message")
    subject = envelope.get("Subject")
    if not (isinstance(subject, str) and subject.startswith(_BEANSTALK_SUBJECT)):
        return None
    if not isinstance(message, str):
        return None
    text = message[: common.DESCRIPTION_MAX * 4]
    found = _HEALTH.search(text)
    facts = _colon_lines(text)
    environment = common.ident_or_none(facts.get("Environment"), "Environment")
    if found is None or environment is None:
        return None
    health = found[2].strip()
    topic = topic_of(envelope)
    application = common.ident_or_none(facts.get("Application"), "Application") or ""
    status = _HEALTH_STATUS.get(health.lower())
    if status is None:
        detail = (
            f"Elastic Beanstalk environment {common.short(environment)} is {common.short(health)}"
        )
        return Normalized((), (Skipped(SOURCE, "no_state_change", detail),))
    labels = _labels("elasticbeanstalk", topic.account, topic.region)
    common.add_label(labels, "application", application)
    common.add_label(labels, "environment", environment)
    common.add_label(labels, "health", health)
    return _one(
        Alert(
            source=SOURCE,
            status=status,
            title=common.title(f"Elastic Beanstalk {environment}: health {health}", "Message"),
            severity=common.word(health, "health"),
            description=common.text(message, "Message", common.DESCRIPTION_MAX) or "",
            labels=labels,
            links=common.links(environment=common.url(facts.get("Environment URL"), "URL")),
            occurred_at=_occurred(facts.get("Timestamp"), topic.sent),
            identity={
                "service": "elasticbeanstalk",
                "account": topic.account,
                "region": topic.region,
                "application": application,
                "environment": environment,
                "condition": "health",
            },
            raw={key: envelope[key] for key in _BACKUP_KEPT if key in envelope},
        )
    )


def _colon_lines(text: str) -> dict[str, str]:
    """ "Environment: my-env" lines as {name: value}, the first of each name."""
    found: dict[str, str] = {}
    for line in text.splitlines():
        name, colon, value = line.partition(": ")
        if colon and name.strip() and value.strip():
            found.setdefault(name.strip(), value.strip())
    return found


# --- shared ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Kind:
    matches: Callable[[dict[str, Any]], bool]
    read: Callable[[dict[str, Any], Topic], Normalized]


#: Tried in order; the first whose `matches` is true reads the notice.
_KINDS = (
    _Kind(_is_rds_style, _rds_style),
    _Kind(_is_autoscaling, _autoscaling),
    _Kind(_is_cost_anomaly, _cost_anomaly),
    _Kind(_is_codestar, _codestar),
    _Kind(_is_elasticache, _elasticache),
)


def _arn_region_account(value: Any) -> tuple[str, str]:
    """(Region, account) of an ARN ("arn:aws:rds:eu-west-1:123456789012:db:x"); empty parts for
    anything else."""
    if not isinstance(value, str):
        return "", ""
    parts = value.split(":", 5)
    if len(parts) < 6 or parts[0] != "arn":
        return "", ""
    region = common.line(parts[3], "ARN region", 64) or ""
    account = common.line(parts[4], "ARN account", 64) or ""
    return region, account


def _labels(service: str, account: str | None, region: str | None) -> dict[str, str]:
    labels: dict[str, str] = {}
    common.add_label(labels, "service", service)
    common.add_label(labels, "account", account)
    common.add_label(labels, "region", region)
    return labels


def _one(alert: Alert) -> Normalized:
    return Normalized((alert,))


def _first_line(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    return next(
        (line.strip() for line in value[: common.URL_MAX].splitlines() if line.strip()), None
    )


def _joined(values: list[Any]) -> str:
    """Display-only facts as one description: each that has text and says more than the others
    (Auto Scaling repeats its StatusMessage in its Description), on a paragraph of its own."""
    parts = [common.text(value, "notice", common.DESCRIPTION_MAX) for value in values]
    texts = [p for p in parts if p]
    kept = [
        t for i, t in enumerate(texts) if not any(_within(t, i, o, j) for j, o in enumerate(texts))
    ]
    return common.text("\n\n".join(kept), "notice", common.DESCRIPTION_MAX) or ""


def _within(text: str, i: int, other: str, j: int) -> bool:
    """Whether fact `i` says nothing fact `j` does not: it is part of it (an equal one only
    repeats an earlier one)."""
    return i != j and text in other and (text != other or j < i)


def _occurred(*candidates: Any) -> datetime:
    for value in candidates:
        when = common.timestamp(value)
        if when is not None:
            return when
    return common.now()
