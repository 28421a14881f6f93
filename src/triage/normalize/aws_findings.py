"""Findings and checks of AWS services that publish them only to EventBridge (a rule sends them
to the queue, often through an SNS topic): Amazon Inspector's and Amazon Macie's findings,
Trusted Advisor's check items and DevOps Guru's insights. Read by `eventbridge` with these
readers, one incident per finding, check item or insight, as GuardDuty's findings are.

Read as any other service's event they were one incident per account, Region and resources:
every Macie finding, every Trusted Advisor check item and every DevOps Guru insight of an
account was one incident (their events name no resources), an insight's closing fired again, so a second bucket's exposed data was only counted and a check back
to OK fired again, and every vulnerability of one instance was one Inspector incident that its
findings closing kept firing.

| event | identity | resolved when | severity |
|---|---|---|---|
| Inspector (`Inspector2 Finding`) | account + Region + `findingArn` | its status is CLOSED (fixed) or SUPPRESSED (a suppression rule) | its `severity` (CRITICAL … INFORMATIONAL) |
| Macie (`Macie Finding`) | account + Region + finding `id` (a policy finding's later occurrences keep it) | the finding is `archived` | `severity.description` (Low, Medium, High) |
| DevOps Guru (`DevOps Guru New Insight Open`, `… New Anomaly Association`, `… Insight Severity Upgraded`, `… New Recommendation Created`, `… Insight Closed`) | account + Region + `insightId` | `DevOps Guru Insight Closed` | its `insightSeverity` (low, medium, high) |
| Trusted Advisor (`Trusted Advisor Check Item Refresh Notification`) | account + `check-name` + `resource_id`; an item with an empty `resource_id` (a service limit, an exposed key) + what its details name it by (`_item_names`) | its status is OK | its status (WARN, ERROR) |
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from typing import Any

from triage.models import Alert, Status
from triage.normalize import common
from triage.normalize.aws_shared import (
    add_finding_account,
    canonical,
    occurred,
    service_labels,
    team_tag,
)

#: The findings' source: they come as EventBridge events, as GuardDuty's do.
SOURCE = "eventbridge"
INSPECTOR = ("aws.inspector2", "Inspector2 Finding")
MACIE = ("aws.macie", "Macie Finding")
TRUSTED_ADVISOR = ("aws.trustedadvisor", "Trusted Advisor Check Item Refresh Notification")
DEVOPS_GURU = "aws.devops-guru"
#: DevOps Guru's events of one insight: it opened, grew (an anomaly, a recommendation, a
#: higher severity) or closed.
_GURU_CLOSED = "DevOps Guru Insight Closed"
_GURU_SEVERITIES = {word.upper(): word for word in ("low", "medium", "high")}
_GURU_EVENTS = (
    "DevOps Guru New Insight Open",
    "DevOps Guru New Anomaly Association",
    "DevOps Guru Insight Severity Upgraded",
    "DevOps Guru New Recommendation Created",
    _GURU_CLOSED,
)
#: A check item's statuses: OK resolves, WARN and ERROR fire.
_TA_STATUSES = frozenset({"OK", "WARN", "ERROR"})
#: At most this many of a check item's details are shown.
_DETAILS_MAX = 30
#: The names of a check item's details that say what the item is ("Region", "Service",
#: "Limit Name", "Access Key ID", "User Name (IAM or Root)", "DB Instance Name"), not how it
#: measures (Current Usage, Status, Time Updated, Estimated Monthly Savings), which change
#: from one refresh to the next. A support case's id is the case AWS opened about the item.
_ITEM_NAME = re.compile(r"\b(?:id|name|arn|region|az|service|bucket|resource)\b", re.IGNORECASE)
_NOT_ITEM_NAME = re.compile(r"\bcase\b", re.IGNORECASE)
#: Inspector's finding statuses that end it: fixed (CLOSED), or quieted by a rule (SUPPRESSED).
_INSPECTOR_ENDED = frozenset({"CLOSED", "SUPPRESSED"})
_STATUSES = _INSPECTOR_ENDED | {"ACTIVE"}
#: Inspector's severities, in the case a reader expects ("high").
_SEVERITIES = {
    word: word.lower() for word in ("CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL")
} | {"UNTRIAGED": "untriaged"}
#: At most this many of a finding's resources are read.
_RESOURCES_MAX = 20


def inspector(payload: dict[str, Any], detail: dict[str, Any], account: str) -> Alert:
    """An Inspector finding: a package vulnerability, a network path or a code weakness of one
    resource (an instance, an image, a function)."""
    finding = common.ident(detail.get("findingArn"), "detail.findingArn")
    region = common.ident_or_none(payload.get("region"), "region") or ""
    status = canonical(common.word(detail.get("status"), "detail.status") or "ACTIVE", _STATUSES)
    resources = [common.obj_or_empty(r) for r in common.items_or_empty(detail.get("resources"))]
    resource = next((r for r in resources[:_RESOURCES_MAX] if r.get("id")), {})
    resource_id = common.word(resource.get("id"), "detail.resources[].id")
    labels = _labels("inspector2", account, region, INSPECTOR)
    add_finding_account(labels, account, detail.get("awsAccountId"))
    common.add_label(labels, "finding_type", common.unnested(detail.get("type")))
    # The deterministic ticket's step names the resource by these, as an RDS event's source.
    common.add_label(labels, "source_type", common.unnested(resource.get("type")))
    common.add_label(labels, "source_id", common.unnested(resource.get("id")))
    common.add_label(labels, "status", _status_label(status, _STATUSES, detail.get("status")))
    common.add_label(labels, "score", common.unnested(detail.get("inspectorScore")))
    title = common.word(detail.get("title"), "detail.title", common.TITLE_MAX)
    return Alert(
        source=SOURCE,
        status=Status.RESOLVED if status in _INSPECTOR_ENDED else Status.FIRING,
        title=common.first_title(
            f"Inspector: {title} on {resource_id}" if title and resource_id else None,
            f"Inspector: {title}" if title else None,
            f"Inspector finding {finding}",
            field="detail.title",
        ),
        team=team_tag(*(r.get("tags") for r in resources[:_RESOURCES_MAX])),
        severity=_severity(detail.get("severity")),
        description=_description(detail.get("description"), _recommendation(detail)),
        labels=labels,
        occurred_at=occurred(detail.get("updatedAt"), payload.get("time")),
        identity={
            "service": "inspector2",
            "account": account,
            "region": region,
            "finding": finding,
        },
        raw=payload,
    )


def macie(payload: dict[str, Any], detail: dict[str, Any], account: str) -> Alert:
    """A Macie finding: sensitive data in an S3 object, or a bucket's policy weakened."""
    finding = common.ident(detail.get("id"), "detail.id")
    region = common.ident_or_none(payload.get("region"), "region") or ""
    affected = common.obj_or_empty(detail.get("resourcesAffected"))
    bucket = common.obj_or_empty(affected.get("s3Bucket"))
    key = common.obj_or_empty(affected.get("s3Object")).get("key")
    where = _place(bucket.get("name"), key)
    labels = _labels("macie", account, region, MACIE)
    add_finding_account(labels, account, detail.get("accountId"))
    common.add_label(labels, "finding_type", common.unnested(detail.get("type")))
    common.add_label(labels, "source_type", "S3 bucket" if bucket.get("name") else None)
    common.add_label(labels, "source_id", bucket.get("name"))
    common.add_label(labels, "object", key)
    common.add_label(labels, "count", common.unnested(detail.get("count")))
    title = common.word(detail.get("title"), "detail.title", common.TITLE_MAX)
    severity = common.obj_or_empty(detail.get("severity")).get("description")
    return Alert(
        source=SOURCE,
        status=Status.RESOLVED if detail.get("archived") is True else Status.FIRING,
        title=common.first_title(
            f"Macie: {title} ({where})" if title and where else None,
            f"Macie: {title}" if title else None,
            f"Macie finding {finding}",
            field="detail.title",
        ),
        team=team_tag(bucket.get("tags")),
        severity=common.word(severity, "detail.severity.description"),
        description=_description(detail.get("description")),
        labels=labels,
        occurred_at=occurred(detail.get("updatedAt"), payload.get("time")),
        identity={"service": "macie", "account": account, "region": region, "finding": finding},
        raw=payload,
    )


def _status_label(status: str, known: Collection[str], given: Any) -> Any:
    """The status label: a known status in AWS's capitals (`canonical`), any other as given
    and whole (`add_label` shows it cut), so routes and groups tell apart two unknown ones
    that differ past the cut."""
    return status if status in known else common.unnested(given)


def trusted_advisor(payload: dict[str, Any], detail: dict[str, Any], account: str) -> Alert:
    """A Trusted Advisor check's item refreshed: a resource the check flags (WARN, ERROR) or no
    longer flags (OK)."""
    check = common.ident(detail.get("check-name"), "detail.check-name")
    resource = common.ident_or_none(detail.get("resource_id"), "detail.resource_id") or ""
    status = canonical(common.word(detail.get("status"), "detail.status") or "", _TA_STATUSES)
    names = {} if resource else _item_names(detail.get("check-item-detail"))
    named = (
        resource.rsplit("/", 1)[-1].rsplit(":", 1)[-1] if resource else ", ".join(names.values())
    )
    labels = _labels("trustedadvisor", account, "", TRUSTED_ADVISOR)
    common.add_label(labels, "check", check)
    # The deterministic ticket's step names the resource by these, as an RDS event's source.
    common.add_label(labels, "source_type", "resource" if named else None)
    common.add_label(labels, "source_id", named)
    common.add_label(labels, "status", _status_label(status, _TA_STATUSES, detail.get("status")))
    return Alert(
        source=SOURCE,
        status=Status.RESOLVED if status == "OK" else Status.FIRING,
        title=common.first_title(
            f"Trusted Advisor: {check} ({named})" if named else None,
            f"Trusted Advisor: {check}",
            field="detail.check-name",
        ),
        severity=status or None,
        description=_item_detail(detail.get("check-item-detail")),
        labels=labels,
        occurred_at=occurred(payload.get("time")),
        identity={
            "service": "trustedadvisor",
            "account": account,
            "check": check,
            "resource": resource,
        }
        | _item_identity(names),
        raw=payload,
    )


def _item_names(value: Any) -> dict[str, str]:
    """What a check item with no `resource_id` is named by in its details, as given and in
    their order (`_ITEM_NAME`): a service limit's Region, Service and Limit Name, an exposed
    key's user and key id. Each such item of a check is an incident of its own."""
    names: dict[str, str] = {}
    for key, fact in list(common.obj_or_empty(value).items())[:_DETAILS_MAX]:
        if not _ITEM_NAME.search(key) or _NOT_ITEM_NAME.search(key):
            continue
        said = common.ident_line(common.unnested(fact), "detail.check-item-detail")
        if said:
            names[key] = said
    return names


def _item_identity(names: dict[str, str]) -> dict[str, str]:
    """The identity a check item's names add (none for an item with a `resource_id`, whose
    incident stays keyed as before): one value, the names sorted, so the order AWS writes
    them in does not matter."""
    if not names:
        return {}
    facts = "; ".join(f"{key}={names[key]}" for key in sorted(names))
    return {"item": common.ident(facts, "detail.check-item-detail")}


def devops_guru(payload: dict[str, Any], detail: dict[str, Any], account: str) -> Alert:
    """A DevOps Guru insight opened, grew or closed: anomalous behaviour of an application's
    resources, with what DevOps Guru recommends."""
    region = (
        common.ident_or_none(payload.get("region"), "region")
        or common.ident_or_none(detail.get("region"), "detail.region")
        or ""
    )
    kind = str(payload.get("detail-type"))
    labels = _labels("devops-guru", account, region, (DEVOPS_GURU, kind))
    closed = kind == _GURU_CLOSED
    return guru_insight(
        detail, account, region, labels, closed=closed, raw=payload, sent=payload.get("time")
    )


def guru_insight(
    detail: dict[str, Any],
    account: str,
    region: str,
    labels: dict[str, str],
    *,
    closed: bool,
    raw: dict[str, Any],
    sent: Any,
) -> Alert:
    """A DevOps Guru insight (an EventBridge event's `detail`, or the notice DevOps Guru
    publishes to its SNS topic: the same object), keyed by account, Region and insight;
    `labels` are its delivery's. Titled by its `insightName`, else its `insightDescription`
    (which a repeated insight's notices fill with prose about repeats); dated by its end or
    start, else `sent` (when its event or notification was sent)."""
    insight = common.ident(detail.get("insightId"), "detail.insightId")
    add_finding_account(labels, account, detail.get("accountId"))
    common.add_label(labels, "insight_type", common.unnested(detail.get("insightType")))
    common.add_label(labels, "message_type", common.unnested(detail.get("messageType")))
    named = common.word(detail.get("insightName"), "detail.insightName", common.TITLE_MAX)
    described = common.word(
        detail.get("insightDescription"), "detail.insightDescription", common.TITLE_MAX
    )
    severity = common.word(detail.get("insightSeverity"), "detail.insightSeverity")
    return Alert(
        source=SOURCE,
        status=Status.RESOLVED if closed else Status.FIRING,
        title=common.first_title(
            f"DevOps Guru: {named}" if named else None,
            f"DevOps Guru: {described}" if described else None,
            f"DevOps Guru insight {insight}",
            field="detail.insightDescription",
        ),
        # Its three words as a reader expects them; any other text as given (never lowered:
        # a secret in it must stay one the redactor knows).
        severity=_GURU_SEVERITIES.get(severity.upper(), severity) if severity else None,
        description=_description(
            detail.get("insightDescription"), _anomalies(detail), _recommendations(detail)
        ),
        labels=labels,
        links=common.links(insight=common.url(detail.get("insightUrl"), "detail.insightUrl")),
        occurred_at=occurred(
            detail.get("endTime") if closed else None,
            detail.get("startTime"),
            sent,
        ),
        identity={
            "service": "devops-guru",
            "account": account,
            "region": region,
            "insight": insight,
        },
        raw=raw,
    )


def _recommendations(detail: dict[str, Any]) -> str:
    """What DevOps Guru recommends (a `New Recommendation` notice's), one line each: its name,
    why, and the link it gives."""
    lines = []
    for item in common.items_or_empty(detail.get("recommendations"))[:_RESOURCES_MAX]:
        fields = common.obj_or_empty(item)
        said = [
            common.line(common.unnested(fields.get(key)), f"recommendations[].{key}", shown=True)
            for key in ("name", "reason", "link")
        ]
        shown = " ".join(part for part in said if part)
        if shown:
            lines.append(f"- {shown}")
    return "Recommendations:\n" + "\n".join(lines) if lines else ""


def _anomalies(detail: dict[str, Any]) -> str:
    """The insight's anomalies, one line each: what is anomalous (its description, else the
    metric it was found in), and on which resources (their names, else their ARNs)."""
    lines = []
    for anomaly in common.items_or_empty(detail.get("anomalies"))[:_RESOURCES_MAX]:
        fields = common.obj_or_empty(anomaly)
        said = common.line(
            common.unnested(fields.get("description")), "anomalies[].description", shown=True
        ) or _anomalous_metric(fields)
        resources = [
            common.word(common.obj_or_empty(r).get("name"), "anomalyResources[].name")
            for r in common.items_or_empty(fields.get("anomalyResources"))[:_RESOURCES_MAX]
        ] or [
            common.word(arn, "anomalies[].associatedResourceArns[]")
            for arn in common.items_or_empty(fields.get("associatedResourceArns"))[:_RESOURCES_MAX]
        ]
        named = ", ".join(name for name in resources if name)
        if said or named:
            lines.append(f"- {said or 'anomaly'}" + (f" ({named})" if named else ""))
    return "Anomalies:\n" + "\n".join(lines) if lines else ""


def _anomalous_metric(anomaly: dict[str, Any]) -> str | None:
    """ "AWS/SQS ApproximateAgeOfOldestMessage anomalous": the first CloudWatch metric an
    anomaly's source details name, or None."""
    for source in common.items_or_empty(anomaly.get("sourceDetails"))[:_RESOURCES_MAX]:
        metric = common.obj_or_empty(common.obj_or_empty(source).get("dataIdentifiers"))
        words = [
            common.word(metric.get(key), f"sourceDetails[].dataIdentifiers.{key}")
            for key in ("namespace", "name")
        ]
        if any(words):
            return " ".join(word for word in words if word) + " anomalous"
    return None


#: (source, detail-type) → its reader, for `eventbridge`.
READERS: dict[tuple[str, str], Callable[[dict[str, Any], dict[str, Any], str], Alert]] = {
    INSPECTOR: inspector,
    MACIE: macie,
    TRUSTED_ADVISOR: trusted_advisor,
} | {(DEVOPS_GURU, kind): devops_guru for kind in _GURU_EVENTS}


def _labels(service: str, account: str, region: str, event: tuple[str, str]) -> dict[str, str]:
    """The service, account and Region, and the event's source and detail-type as `eventbridge`
    labels every event."""
    labels = service_labels(service, account, region)
    common.add_label(labels, "event_source", event[0])
    common.add_label(labels, "detail_type", event[1])
    return labels


def _recommendation(detail: dict[str, Any]) -> Any:
    """The text of the remediation Inspector recommends (`remediation.recommendation.text`)."""
    remediation = common.obj_or_empty(detail.get("remediation"))
    return common.obj_or_empty(remediation.get("recommendation")).get("text")


def _place(bucket: Any, key: Any) -> str:
    """ "bucket/key" of the object a Macie finding is about, or whichever of them it names."""
    parts = (common.word(bucket, "s3Bucket.name"), common.word(key, "s3Object.key"))
    return "/".join(part for part in parts if part)


def _severity(value: Any) -> str | None:
    """Inspector's severity word ("HIGH") as a reader expects it ("high"); any other text as
    given (`aws_shared.canonical`)."""
    word = common.word(value, "detail.severity")
    return _SEVERITIES.get(word.upper(), word) if word else None


def _description(*parts: Any) -> str:
    """The finding's description, then the remediation it recommends, as paragraphs."""
    texts = [common.text(part, "detail.description", common.DESCRIPTION_MAX) for part in parts]
    joined = "\n\n".join(text for text in texts if text)
    return common.text(joined, "detail.description", common.DESCRIPTION_MAX) or ""


def _item_detail(value: Any) -> str:
    """A check item's details ({"Instance ID": "i-…", "Region/AZ": …}), one `key: value` line
    each."""
    facts = list(common.obj_or_empty(value).items())[:_DETAILS_MAX]
    lines = [f"{key}: {common.shown(fact)}" for key, fact in facts]
    return common.text("\n".join(lines), "detail.check-item-detail", common.DESCRIPTION_MAX) or ""
