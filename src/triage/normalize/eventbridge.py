"""EventBridge events other than CloudWatch alarm state changes, sent by a rule straight to the
queue (or through an SNS topic): AWS Health events, GuardDuty findings, Security Hub findings,
and any other service's event a team chose to route here (an ECS task stopped, a CodePipeline
execution failed, an EC2 instance state change, a CloudTrail API call …).

Every event carries the same envelope: `source` (aws.health), `detail-type` ("AWS Health
Event"), `account`, `region`, `time`, `resources` and the service's own `detail`. Three services
are read for what they mean, and RDS's, DMS's, Redshift Serverless's, Inspector's, Macie's and
Config's compliance changes (in their own modules); services' state changes are read from the
envelope and the state `aws_state_changes` names; the rest from the envelope alone:

| event | one alert per | identity | resolved when | severity |
|---|---|---|---|---|
| AWS Health | event and account | account + eventArn | statusCode `closed` | issue: error, investigation and scheduledChange: warning, accountNotification: info |
| GuardDuty finding | finding | account + region + finding id | the finding is archived | 1-3.9 low, 4-6.9 medium, 7-8.9 high, 9-10 critical |
| Security Hub findings | finding (one event holds up to 100) | account + finding Id | workflow RESOLVED or SUPPRESSED, record ARCHIVED, or compliance PASSED | its Severity.Label |
| Security Hub OCSF findings ("Findings Imported V2", `aws_ocsf`) | finding | account + `finding_info.uid` | status Suppressed, Resolved, Archived or Deleted, or compliance Pass | its `severity` (else its `severity_id`'s name) |
| RDS events (`aws_rds.from_eventbridge`) | resource and condition | account + region + source type + source id + condition (its EventID's pair, else the EventID) | the event that ends its condition (an instance started after its stop) | none |
| DMS events (`aws_dms`) | resource and condition | account + region + source type + source id (the resource ARN's id) + condition (its eventId's pair, else the eventId) | the event that ends its condition (a failed task started again) | none |
| Redshift Serverless events (`aws_redshift_serverless`) | workgroup or namespace and condition | account + region + resources (else the workgroup or namespace its message names) + condition (its event id's pair, else the event id) | the event that ends its condition (a base RPU change completed after one failed); an information event changes no ticket | its `detail.severity` when it is a word (ERROR, WARN) |
| AWS Config compliance changes (`aws_config.from_eventbridge`) | rule and resource | the identity of Config's SNS notice (account + region + rule + resource type + resource) | COMPLIANT or NOT_APPLICABLE; INSUFFICIENT_DATA changes no ticket | none |
| Inspector and Macie findings, Trusted Advisor check items, DevOps Guru insights (`aws_findings`) | finding, check item, insight | account + region + finding ARN or id; account + check + resource (or what an item with none is named by); account + region + insightId | Inspector: CLOSED or SUPPRESSED; Macie: archived; a check item OK; an insight closed | theirs |
| AWS services' state changes (`aws_state_changes`: CodeBuild, CodePipeline, Step Functions, Glue, Auto Scaling, ECS (its container instances and managed daemons too), Batch, Backup, EMR, Athena (a workgroup's failed queries; a success resolves nothing), EMR Serverless (an application's job by its name), DataSync (a task's executions), SageMaker, ECR, EC2 Image Builder (an image's builds), Amplify (an app's branch), Redshift Data API, MediaLive alerts (each alarm_id its own; CLEARED resolves), MediaConvert jobs (a job in ERROR by its queue and error code; progress and completion change nothing), CloudFormation, CodeDeploy, Run Command, Systems Manager compliance (each compliance type its own), Secrets Manager rotations (per secret), IAM Access Analyzer findings, external, internal and unused access (per finding; archived, resolved or deleted resolves), ACM certificates (expiry, expired and renewal action one incident, which the certificate available again resolves), Inspector coverage (its scan type too) and scans, GuardDuty malware scans of S3 objects (each object its own), CloudWatch Synthetics canaries (a failed run fires, the next successful run resolves; by `canary-name`), EC2 and EBS) | thing whose state changes | account + region + source + detail-type (Auto Scaling: launch, terminate, detach or instance refresh; a CodeBuild phase: its build's; a CloudFormation resource: its stack's; a stack set's operations: the stack set) + what the runs share (a project, a state machine, a job's name, a group, a scanned S3 object; else the resources); CodeDeploy deployments and Run Command runs: the identity of the service's SNS notice (account + region + the deployment group; the document, an invocation's + instance) | its next success (a build that succeeded, an instance running, a stack deleted); a run starting, in progress or stopped as planned (an ECS task a deployment replaced) changes no ticket | an ECR or Inspector scan: its worst level counted; malware found in an object: HIGH; an ECS service's or deployment's event: its `eventType` (INFO, WARN, ERROR); else `detail.severity` when it is a word |
| Lambda asynchronous invocation failed (`lambda` / `Lambda Function Invocation Result - Failure`: an on-failure destination's record, `aws_lambda_destinations`) | function and error type; an event that is an alert: that alert | the identity of the record sent to an SQS destination (the function, any version or alias, + its error type): source `aws`; an event that is an alert: the alert's own, its description naming the function's failure | never (a `… - Success` event changes no ticket); an alert's: as the alert | error; an alert's: its own |
| Cost Anomaly Detection (`aws.ce` / `Anomaly Detected`, `aws_cost_anomaly`) | anomaly | the identity of its SNS notice (account + monitor + anomalyId): source `aws` | never | none |
| a scheduled rule's tick (`aws.events` / `Scheduled Event`) | none: Skipped (`scheduled_event`) | | | |
| any other event | event type and resources | account + region + source + detail-type + resources (+ a CloudTrail call's eventSource and eventName, and the ARNs its record's `resources` name) | never: such events only fire; one that states a success (`… Succeeded`, `status: COMPLETED`) and no failure changes no ticket (`aws_outcomes`) | `detail.severity` when it is a word |

A state change's title ends with the state that made it (`CodeBuild Build State Change:
orders-api-build FAILED`); the title is never part of the identity.

Every alert here but a Lambda invocation's failure and a cost anomaly (source `aws`, as their
record sent to a queue and notice sent to a topic are) has source `eventbridge`, so routes that match it keep matching. Events keyed
by the identity of the service's SNS notice of the same change (RDS's, Config's, CodeDeploy's,
Run Command's) are as many incidents, resolved alike, either way; their fingerprints differ
from the notice's only by the source.

A GuardDuty or Inspector finding Security Hub imported (ASFF or OCSF) is keyed as that
service's own event keys it (`aws_finding_keys`), so the finding received both ways is one
incident. So a finding that GuardDuty reports again (its count rising) or Security Hub
re-imports is a repeat of one incident, and the same service event for another resource is another incident.
A member account's GuardDuty, Inspector or Macie finding that its delegated administrator
receives is keyed by the administrator's `account`, as before, and labelled with the member's
as `finding_account`: the account whose resource it is.
Only the identity fields and the state can refuse an event; titles, descriptions, severities and
facts of odd JSON types are read as text or passed over, as in every format. One Security Hub
finding that cannot be read is left out of its event (noted in the log), not the others with it.
"""

from __future__ import annotations

import re
from datetime import datetime
from itertools import islice
from typing import Any
from urllib.parse import quote

import pydantic

from triage.errors import InvalidAlertError
from triage.models import Alert, Status
from triage.normalize import (
    aws_config,
    aws_cost_anomaly,
    aws_dms,
    aws_finding_keys,
    aws_findings,
    aws_lambda_destinations,
    aws_ocsf,
    aws_outcomes,
    aws_rds,
    aws_redshift_serverless,
    aws_state_changes,
    common,
)
from triage.normalize.aws_regions import console_host
from triage.normalize.aws_shared import add_finding_account
from triage.normalize.aws_shared import team_tag as _team
from triage.normalize.common import Normalized, Skipped

SOURCE = "eventbridge"

HEALTH = "aws.health"
GUARDDUTY = "aws.guardduty"
SECURITYHUB = "aws.securityhub"

#: A scheduled rule's tick (`rate(5 minutes)`, `cron(…)`): its detail is empty and it says
#: only that the time came. A rule some teams point at the queue as a heartbeat, or by
#: mistake; never an alert.
SCHEDULED_EVENT = ("aws.events", "Scheduled Event")

#: AWS Health's event categories, as the severity a reader expects of each.
_HEALTH_SEVERITY = {
    "issue": "error",
    "investigation": "warning",
    "scheduledchange": "warning",
    "accountnotification": "info",
}

#: Security Hub states that end a finding (Workflow.Status, RecordState, Compliance.Status).
_SECURITYHUB_CLOSED_WORKFLOW = {"RESOLVED", "SUPPRESSED"}

#: At most this many of an event's resources or a finding's affected entities are shown.
_SHOWN_RESOURCES = 20
#: At most this many top-level facts of another service's `detail` are shown.
_SHOWN_FACTS = 30
_FACT_CHARS = 300
#: A state word shown in a title is cut to this many characters (AWS's longest is ~30).
_STATE_CHARS = 40


def matches(payload: dict[str, Any]) -> bool:
    """An EventBridge event envelope: a `source`, a `detail-type` and an object `detail`.
    (CloudWatch's own events come first in `FORMATS` and never reach this one.)"""
    return (
        isinstance(payload.get("source"), str)
        and isinstance(payload.get("detail-type"), str)
        and isinstance(payload.get("detail"), dict)
    )


def normalize(payload: dict[str, Any]) -> Normalized:
    source = common.ident(payload.get("source"), "source")
    kind = common.ident(payload.get("detail-type"), "detail-type")
    account = common.ident(payload.get("account"), "account")
    detail: dict[str, Any] = payload["detail"]
    if source == HEALTH:
        return Normalized((_health(payload, detail, account, kind),))
    if source == GUARDDUTY and kind == "GuardDuty Finding":
        return Normalized((_guardduty(payload, detail, account),))
    if source == SECURITYHUB and "findings" in detail:
        return _securityhub(payload, detail, account, kind)
    if source == aws_rds.EVENTBRIDGE_SOURCE and detail.get("EventID") not in (None, ""):
        return Normalized((aws_rds.from_eventbridge(payload, detail, account),))
    if aws_dms.matches(source, detail):
        return Normalized((aws_dms.from_eventbridge(payload, detail, account),))
    if aws_redshift_serverless.matches(source, detail):
        return aws_redshift_serverless.from_eventbridge(payload, detail, account, _facts(detail))
    if (source, kind) == aws_config.EVENTBRIDGE_COMPLIANCE:
        return aws_config.from_eventbridge(payload, detail, account)
    if (source, kind) == SCHEDULED_EVENT:
        return _scheduled_tick(payload)
    if (source, kind) == aws_lambda_destinations.EVENTBRIDGE_FAILURE:
        return aws_lambda_destinations.normalize_failure_record(detail)
    if (source, kind) == aws_cost_anomaly.EVENTBRIDGE and "anomalyId" in detail:
        return aws_cost_anomaly.from_eventbridge(payload, detail, account)
    finding = aws_findings.READERS.get((source, kind))
    if finding is not None:
        return Normalized((finding(payload, detail, account),))
    return _other(payload, detail, account, source, kind)


def _envelope_labels(account: str, region: str | None, source: str, kind: str) -> common.Labels:
    labels = common.Labels()
    common.add_label(labels, "account", account)
    common.add_label(labels, "region", region)
    common.add_label(labels, "event_source", source)
    common.add_label(labels, "detail_type", kind)
    return labels


def _occurred(*candidates: Any) -> datetime:
    for value in candidates:
        when = common.timestamp(value)
        if when is not None:
            return when
    return common.now()


def _whole_joined(items: list[dict[str, Any]], key: str) -> str:
    """The first _SHOWN_RESOURCES values of `key` that show something in `items`, each whole
    (`common.whole_word`), joined for one label: shown cut as the values cut one by one
    were, and read whole by routes and groups (two long ARNs that differ past the cut)."""
    values = (common.whole_word(item.get(key), key) for item in items)
    return ", ".join(islice((value for value in values if value), _SHOWN_RESOURCES))


# --- AWS Health ------------------------------------------------------------------------------


def _health(payload: dict[str, Any], detail: dict[str, Any], account: str, kind: str) -> Alert:
    arn = common.ident(detail.get("eventArn"), "detail.eventArn")
    affected = (
        common.ident_or_none(detail.get("affectedAccount"), "detail.affectedAccount") or account
    )
    service = common.word(detail.get("service"), "detail.service")
    code = common.word(detail.get("eventTypeCode"), "detail.eventTypeCode")
    category = common.word(detail.get("eventTypeCategory"), "detail.eventTypeCategory")
    status_code = (common.word(detail.get("statusCode"), "detail.statusCode") or "").lower()
    region = common.whole_word(detail.get("eventRegion"), "detail.eventRegion") or (
        common.whole_word(payload.get("region"), "region")
    )
    entity_objects = [
        common.obj_or_empty(e) for e in common.items_or_empty(detail.get("affectedEntities"))
    ]
    entities = [common.word(entity.get("entityValue"), "entityValue") for entity in entity_objects]
    shown_entities = [entity for entity in entities if entity][:_SHOWN_RESOURCES]
    labels = _envelope_labels(affected, region, HEALTH, kind)
    # Whole, not `word`'s: a label keeps the value routes and groups read (`add_label`).
    common.add_label(labels, "service", common.unnested(detail.get("service")))
    common.add_label(labels, "event_type", common.unnested(detail.get("eventTypeCode")))
    common.add_label(labels, "category", common.unnested(detail.get("eventTypeCategory")))
    common.add_label(labels, "resources", _whole_joined(entity_objects, "entityValue"))
    body = [_health_description(detail.get("eventDescription"))]
    if shown_entities:
        body.append("Affected: " + ", ".join(shown_entities))
    return Alert(
        source=SOURCE,
        status=Status.RESOLVED if status_code == "closed" else Status.FIRING,
        title=common.first_title(
            _health_title(service, code), kind, f"AWS Health event {arn}", field="detail"
        ),
        team=_team(*(entity.get("tags") for entity in entity_objects)),
        severity=_HEALTH_SEVERITY.get((category or "").lower()),
        description=common.text("\n\n".join(part for part in body if part), "detail") or "",
        labels=labels,
        links=common.links(event=_health_link(arn)),
        occurred_at=_occurred(
            detail.get("lastUpdatedTime"), detail.get("startTime"), payload.get("time")
        ),
        identity={"account": affected, "event": arn},
        raw=payload,
    )


#: An event type code as AWS Health writes them: upper-case words joined by underscores.
_EVENT_CODE = re.compile(r"[A-Z0-9]+(?:_[A-Z0-9]+)+")


def _health_title(service: str | None, code: str | None) -> str | None:
    """AWS_EC2_INSTANCE_STORE_DRIVE_PERFORMANCE_DEGRADED → "AWS Health: EC2 instance store
    drive performance degraded". Any other text is shown as it was given: made into words and
    lower case, a token in it (`squ_…`, a key) would lose the shape the redactor knows it by."""
    if not code:
        return None
    if not _EVENT_CODE.fullmatch(code):
        return f"AWS Health: {service} {code}" if service else f"AWS Health: {code}"
    words = code
    for prefix in ("AWS_", f"{service}_" if service else ""):
        if prefix and words.upper().startswith(prefix.upper()):
            words = words[len(prefix) :]
    what = " ".join(words.replace("_", " ").lower().split()) or code
    return f"AWS Health: {service} {what}" if service else f"AWS Health: {what}"


def _health_link(arn: str) -> str | None:
    """The event in the AWS Health Dashboard, which shows the commercial partition's events
    only: an event of another partition (its ARN's, `arn:aws-cn:health:…`) gets no link."""
    if not arn.startswith("arn:aws:health:"):
        return None
    return f"https://health.aws.amazon.com/health/home#/account/event-log?eventID={quote(arn, safe='')}"


def _health_description(value: Any) -> str | None:
    """The English description, else the first one given."""
    descriptions = [common.obj_or_empty(item) for item in common.items_or_empty(value)]
    english = [d for d in descriptions if d.get("language") == "en_US"]
    for description in english + descriptions:
        text = common.text(description.get("latestDescription"), "latestDescription")
        if text:
            return text
    return None


# --- GuardDuty -------------------------------------------------------------------------------


def _guardduty(payload: dict[str, Any], detail: dict[str, Any], account: str) -> Alert:
    finding = common.ident(detail.get("id"), "detail.id")
    region = common.ident(payload.get("region"), "region")
    finding_type = common.word(detail.get("type"), "detail.type")
    service = common.obj_or_empty(detail.get("service"))
    resource = common.obj_or_empty(detail.get("resource"))
    labels = _envelope_labels(account, region, GUARDDUTY, "GuardDuty Finding")
    add_finding_account(labels, account, detail.get("accountId"))
    common.add_label(labels, "finding_type", common.unnested(detail.get("type")))
    common.add_label(labels, "resource_type", common.unnested(resource.get("resourceType")))
    common.add_label(labels, "count", common.unnested(service.get("count")))
    link = _guardduty_link(region, finding)
    return Alert(
        source=SOURCE,
        status=Status.RESOLVED if service.get("archived") is True else Status.FIRING,
        title=common.first_title(
            _prefixed("GuardDuty", detail.get("title")),
            _prefixed("GuardDuty", finding_type),
            f"GuardDuty finding {finding}",
            field="detail.title",
        ),
        team=_team(*(common.obj_or_empty(part).get("tags") for part in resource.values())),
        severity=_guardduty_severity(detail.get("severity")),
        description=common.text(
            detail.get("description"), "detail.description", common.DESCRIPTION_MAX
        )
        or "",
        labels=labels,
        links=common.links(finding=common.url(link, "finding")),
        occurred_at=_occurred(
            detail.get("updatedAt"), service.get("eventLastSeen"), payload.get("time")
        ),
        identity={"account": account, "region": region, "finding": finding},
        raw=payload,
    )


def _guardduty_link(region: str, finding: str) -> str | None:
    """The finding's page in the GuardDuty console of its Region's partition (China's and
    GovCloud's consoles have domains of their own); None where that console is not known."""
    host = console_host(region)
    if host is None:
        return None
    return f"{host}/guardduty/home?region={region}#/findings?fId={quote(finding, safe='')}"


def _prefixed(prefix: str, value: Any) -> str | None:
    return f"{prefix}: {value}" if isinstance(value, str) and value.strip() else None


def _guardduty_severity(value: Any) -> str | None:
    """GuardDuty's number as the word its console shows for it."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = float(value)
    except OverflowError:  # an integer no float holds (10**400): past GuardDuty's 0 to 10 too
        return None
    except ValueError:
        return common.word(value, "detail.severity")
    if not 0 <= number <= 10:  # also NaN
        return None
    if number >= 9:
        return "critical"
    if number >= 7:
        return "high"
    return "medium" if number >= 4 else "low"


# --- Security Hub ----------------------------------------------------------------------------


def _securityhub(
    payload: dict[str, Any], detail: dict[str, Any], account: str, kind: str
) -> Normalized:
    alerts: list[Alert] = []
    notes: list[str] = []
    unreadable: InvalidAlertError | None = None
    for i, item in enumerate(common.items(detail.get("findings"), "detail.findings")):
        where = f"detail.findings[{i}]"
        try:
            finding = common.obj(item, where, required=True)
            if aws_ocsf.is_ocsf(finding):  # Security Hub's "Findings Imported V2"
                # Whole: its label only (`aws_ocsf` keys a finding by its own reading).
                region = common.whole_word(payload.get("region"), "region")
                labels = _envelope_labels(account, region, SECURITYHUB, kind)
                alerts.append(aws_ocsf.finding(payload, finding, account, labels, where))
            else:
                alerts.append(_finding(payload, finding, account, kind, where))
        except (InvalidAlertError, pydantic.ValidationError) as exc:
            # One unreadable finding must not take the event's other findings to the DLQ.
            error = (
                exc
                if isinstance(exc, InvalidAlertError)
                else InvalidAlertError(f"{where}: invalid")
            )
            unreadable = unreadable or error
            notes.append(f"{SOURCE} {where} left out of its event: {error}")
    if not alerts:
        raise unreadable or InvalidAlertError("Security Hub event holds no findings")
    return Normalized(tuple(alerts), (), tuple(notes))


def _finding(
    payload: dict[str, Any], finding: dict[str, Any], account: str, kind: str, where: str
) -> Alert:
    finding_id = common.ident(finding.get("Id"), f"{where}.Id")
    owner = (
        common.ident_or_none(common.unnested(finding.get("AwsAccountId")), f"{where}.AwsAccountId")
        or account
    )
    region, whole_region = _region(
        (finding.get("Region"), f"{where}.Region"), (payload.get("region"), "region")
    )
    workflow = common.obj_or_empty(finding.get("Workflow"))
    compliance = common.obj_or_empty(finding.get("Compliance"))
    remediation = common.obj_or_empty(
        common.obj_or_empty(finding.get("Remediation")).get("Recommendation")
    )
    resource_objects = [
        common.obj_or_empty(r) for r in common.items_or_empty(finding.get("Resources"))
    ]
    resources = [common.word(resource.get("Id"), "Resources.Id") for resource in resource_objects]
    shown_resources = [resource for resource in resources if resource][:_SHOWN_RESOURCES]
    labels = _envelope_labels(owner, whole_region, SECURITYHUB, kind)
    common.add_label(labels, "product", common.unnested(finding.get("ProductName")))
    common.add_label(labels, "compliance", common.unnested(compliance.get("Status")))
    common.add_label(labels, "workflow", common.unnested(workflow.get("Status")))
    common.add_label(labels, "resources", _whole_joined(resource_objects, "Id"))
    body = [common.text(finding.get("Description"), f"{where}.Description")]
    body.append(common.text(remediation.get("Text"), "Remediation.Recommendation.Text"))
    if shown_resources:
        body.append("Affected: " + ", ".join(shown_resources))
    return Alert(
        source=SOURCE,
        status=Status.RESOLVED if _finding_closed(finding, workflow, compliance) else Status.FIRING,
        title=common.first_title(
            finding.get("Title"), f"Security Hub finding {finding_id}", field=f"{where}.Title"
        ),
        team=_team(*(resource.get("Tags") for resource in resource_objects)),
        severity=common.word(
            common.obj_or_empty(finding.get("Severity")).get("Label"), f"{where}.Severity.Label"
        ),
        description=common.text(
            "\n\n".join(part for part in body if part), where, common.DESCRIPTION_MAX
        )
        or "",
        runbook_url=common.url(remediation.get("Url"), "Remediation.Recommendation.Url"),
        labels=labels,
        occurred_at=_occurred(finding.get("UpdatedAt"), payload.get("time")),
        identity=aws_finding_keys.native_identity(
            finding_id, finding.get("ProductArn"), account, region
        )
        or {"account": owner, "finding": finding_id},
        raw={
            **{key: value for key, value in payload.items() if key != "detail"},
            "finding": finding,
        },
    )


def _region(*stated: tuple[Any, str]) -> tuple[str | None, str | None]:
    """The first stated (value, field) Region that shows something, cut as shown (`word`)
    and whole: a Macie finding's identity has always named it cut, so it keys the incident
    so still, while its label is whole (`add_label` shows it cut and keeps it whole for
    routes and groups). (None, None) when none does."""
    for value, field in stated:
        cut = common.word(value, field)
        if cut:
            return cut, common.whole_word(value, field)
    return None, None


def _finding_closed(
    finding: dict[str, Any], workflow: dict[str, Any], compliance: dict[str, Any]
) -> bool:
    def upper(value: Any) -> str:
        return value.strip().upper() if isinstance(value, str) else ""

    return (
        upper(workflow.get("Status")) in _SECURITYHUB_CLOSED_WORKFLOW
        or upper(finding.get("RecordState")) == "ARCHIVED"
        or upper(compliance.get("Status")) == "PASSED"
    )


# --- any other service -----------------------------------------------------------------------


def _other(
    payload: dict[str, Any], detail: dict[str, Any], account: str, source: str, kind: str
) -> Normalized:
    change = aws_state_changes.reading(source, kind)
    status = aws_state_changes.status_of(change, detail)
    if status is None:
        return _unchanged(kind, detail, change)
    if change is None and (success := aws_outcomes.stated_success(kind, detail)):
        return _succeeded(kind, success)
    region = common.ident_or_none(payload.get("region"), "region")
    resources = sorted(
        {
            common.ident(resource, "resources[]")
            for resource in common.items(payload.get("resources"), "resources")
        }
    )
    family = change.family if change is not None and change.family else kind
    identity = {"account": account, "region": region or "", "source": source, "detail_type": family}
    if change is None:
        named = _unread_identity(identity, detail, resources)
    else:
        named = _state_identity(identity, detail, resources, change)
    labels = _envelope_labels(account, region, source, kind)
    if change is not None and change.native is not None:
        # Keyed by the identity the service's own SNS notice of the change has (as RDS's
        # events are), so its incidents are as many, and as resolved, either way.
        identity = change.native(detail, account, region or "")
        common.add_label(labels, "aws_service", identity.get("service"))
    common.add_label(labels, "resources", ", ".join(resources[:_SHOWN_RESOURCES]))
    if change is not None:
        common.add_label(
            labels, "state", common.unnested(aws_state_changes.state_of(change, detail))
        )
        if change.by:  # what the runs share, by name: what the ticket's steps point at
            common.add_label(labels, "resource", named)
    alert = Alert(
        source=SOURCE,
        status=status,
        title=common.first_title(_title(kind, named, change, detail), kind, field="detail-type"),
        severity=_severity(change, detail),
        description=common.text(_facts(detail), "detail", common.DESCRIPTION_MAX) or "",
        labels=labels,
        occurred_at=_occurred(payload.get("time")),
        identity=identity,
        raw=payload,
    )
    if change is None or aws_state_changes.is_known(change, detail):
        return Normalized((alert,))
    state = common.short(aws_state_changes.state_of(change, detail), 60)
    note = f"{SOURCE} {common.short(kind, 100)} state {state} is not one triage knows: it fires"
    return Normalized((alert,), (), (note,))


def _severity(change: aws_state_changes.StateChange | None, detail: dict[str, Any]) -> str | None:
    """The severity a reading ranks the event as (an ECR scan's worst findings), else the
    detail's own `severity` when it is a word."""
    if change is not None and change.rank is not None:
        return change.rank(detail)
    severity = detail.get("severity")
    return common.word(severity, "detail.severity") if isinstance(severity, str) else None


def _unread_identity(identity: dict[str, str], detail: dict[str, Any], resources: list[str]) -> str:
    """An event triage does not read is its resources'; a CloudTrail event, which names none,
    is the call it records, on the resources its record names (`_called_on`). Adds them to
    `identity`; returns what the title names."""
    identity["resources"] = "\n".join(resources)
    call = common.ident_or_none(common.unnested(detail.get("eventName")), "detail.eventName")
    if call is None:
        return _name(resources[0]) if resources else ""
    identity["call"] = call
    identity["call_source"] = (
        common.ident_or_none(common.unnested(detail.get("eventSource")), "detail.eventSource") or ""
    )
    called_on = _called_on(detail)
    if not called_on:
        return call
    identity["call_resources"] = "\n".join(called_on)
    return f"{call} {_name(called_on[0])}"


#: At most this many of a CloudTrail record's resources are read.
_CALLED_ON_MAX = 20


def _called_on(detail: dict[str, Any]) -> list[str]:
    """The ARNs of the resources a CloudTrail record says its call was on (its `resources`:
    `[{"ARN", "accountId", "type"}]`, as KMS's ScheduleKeyDeletion names its key), sorted: two
    keys scheduled for deletion are two incidents, not one of the call. None for a record that
    names none (a console sign-in), which stays keyed by its call as before."""
    entries = common.items_or_empty(detail.get("resources"))[:_CALLED_ON_MAX]
    arns = {common.obj_or_empty(entry).get("ARN") for entry in entries}
    return sorted(
        common.ident(arn, "detail.resources[].ARN")
        for arn in arns
        if isinstance(arn, str) and arn.strip()
    )


def _state_identity(
    identity: dict[str, str],
    detail: dict[str, Any],
    resources: list[str],
    change: aws_state_changes.StateChange,
) -> str:
    """A state change's resource (`aws_state_changes`): its `by` keys, else its resources, and
    its `also` keys that are given. Adds them to `identity`; returns what the title names."""
    if change.by:
        # A new run, build or task per attempt: what the attempts share is the incident.
        read = detail | change.named_by(detail) if change.named_by else detail
        identity |= {key: common.ident(read.get(key), f"detail.{key}") for key in change.by}
        named = " ".join(_name(identity[key]) for key in change.by)
    else:
        if change.run_of is not None:  # the runs' resource, not this run's
            resources = sorted({change.run_of(resource) for resource in resources})
        identity["resources"] = "\n".join(resources)
        named = _name(resources[0]) if resources else ""
    for key in change.also:
        given = common.ident_or_none(common.unnested(detail.get(key)), f"detail.{key}")
        if given is not None:
            identity[key] = given
            named = f"{named} {given}".strip()
    return named


def _title(
    kind: str, named: str, change: aws_state_changes.StateChange | None, detail: dict[str, Any]
) -> str:
    """`<detail-type>: <what the runs share> <state>`: a state change's title ends with the
    state that made it (`CodeBuild Build State Change: orders-api-build FAILED`), once, so a
    list of tickets says what happened. The title is shown, never hashed (`identity` is)."""
    title = f"{kind}: {named}" if named else kind
    state = aws_state_changes.state_of(change, detail) if change is not None else None
    shown = common.word(state, "detail state", _STATE_CHARS)
    if shown and shown not in title.split():
        title = f"{title} {shown}"
    return title


def _unchanged(
    kind: str, detail: dict[str, Any], change: aws_state_changes.StateChange | None
) -> Normalized:
    """An event whose state only says a run started, is under way or went as planned (or a
    detail-type that only ever says so): no ticket change."""
    state = aws_state_changes.state_of(change, detail) if change is not None else None
    said = f" is {common.short(state, 60)}" if state is not None else ""
    what = f"{common.short(kind, 100)}{said}: no ticket change"
    return Normalized((), (Skipped(SOURCE, "no_state_change", what),))


def _scheduled_tick(payload: dict[str, Any]) -> Normalized:
    """A scheduled rule's tick: no ticket change, the rule named so its owner finds it."""
    rules = [_name(str(r)) for r in common.items_or_empty(payload.get("resources"))[:1]]
    rule = common.short(rules[0], 100) if rules else "a scheduled rule"
    what = f"EventBridge Scheduled Event of {rule}: a schedule's tick, not an alert"
    return Normalized((), (Skipped(SOURCE, "scheduled_event", what),))


def _succeeded(kind: str, success: str) -> Normalized:
    """An event triage does not read that states a success (`aws_outcomes`): no ticket
    change, so a rule that sends a service's every event opens none for its successes."""
    what = f"{common.short(kind, 100)} says {success}: no ticket change"
    return Normalized((), (Skipped(SOURCE, "no_state_change", what),))


def _name(value: str) -> str:
    """An ARN's resource part (task/checkout/b99d…), any other value as it is."""
    parts = value.split(":", 5)
    return parts[5] if len(parts) == 6 and parts[0] == "arn" else value


def _facts(detail: dict[str, Any]) -> str:
    """The event's top-level details, one `key: value` line each, as a reader scans them."""
    lines = []
    for key, value in list(detail.items())[:_SHOWN_FACTS]:
        name = common.line(key, "detail key", common.LABEL_KEY_MAX)
        shown = common.line(common.shown(value), f"detail.{key}", _FACT_CHARS * 4)
        if name and shown:
            lines.append(f"{name}: {common.cut(shown, _FACT_CHARS, ellipsis=True)}")
    return "\n".join(lines)
