"""Notifications AWS services publish to an SNS topic themselves, in JSON of their own: a team
that subscribed its queue to the topic it already had gets tickets instead of dead letters.

| notice | matched by | one incident per | resolved when |
|---|---|---|---|
| RDS-style event subscription (RDS, Aurora, DocumentDB and Neptune, which use RDS's event ids; DMS; Redshift): `aws_rds` | `Event Source` and `Event ID` (Redshift: `About this Event`) | account + region + source type + source id + condition | the event that ends its condition (`aws_rds._PAIRS`: failover completed, instance started, a DMS task started again, a Redshift resize completed …) |
| EC2 Auto Scaling | `Service` "AWS Auto Scaling" and `Event` | group ARN + launch or terminate | a launch (termination) succeeds after a launch (termination) error |
| ElastiCache and MemoryDB (`aws_elasticache`, also their one-line message form) | every key `ElastiCache:<Event>` (`MemoryDB:<Event>`), any case | service + account + region + node or cluster + condition | the event that ends its condition (`aws_elasticache._SERVICES`) |
| CodeDeploy triggers (`aws_codedeploy`) | `eventTriggerName` and `deploymentId` | account + region + application + deployment group (an instance's notice: the instance) | the group's (instance's) next deployment that succeeded |
| Systems Manager Run Command and Maintenance Windows (`aws_ssm`) | `commandId` and `documentName` | account + region (the topic's) + document (an invocation's: + instance) | the next run that succeeded |
| Amazon Inspector classic (`aws_inspector`) | `event` and `template`, `run` or `target` | account + region + assessment template | a completed run that found nothing (a run in progress is Skipped) |
| Cost Anomaly Detection (`aws_cost_anomaly`) | `anomalyId` and `monitorArn` | account + monitor + anomaly | never (it fires; `triage incidents close` closes it) |
| AWS Config (`aws_config`) | `messageType`, `notificationCreationTime`, `recordVersion` | account + region + rule + resource type + resource | COMPLIANT or NOT_APPLICABLE (its other notifications are Skipped) |
| DevOps Guru (`aws_devops_guru`) | an insight's `messageType` and `insightId`; the resource-filter failure's `awsInsightSource` | account + region + insight (source `eventbridge`: the fingerprint of the insight's EventBridge events); the failure: account + region + filter type | CLOSED_INSIGHT (the failure: never) |
| CodeStar notification rule (CodePipeline, CodeBuild, CodeCommit …) | `detailType`, `source`, `detail`, `notificationRuleArn` | read as the EventBridge event it carries (source `eventbridge`: the fingerprint of the same event sent by an EventBridge rule) | as that event |

The condition of an event that neither starts nor ends a pair is its own event id, so each
kind of event on a resource is an incident of its own and only ever fires. Identities hold no
time, request id, activity id or message text. Auto Scaling's test notification and its
lifecycle-hook notifications (meant for the hook's automation) and CodePipeline's manual
approval requests (meant for the approver) are Skipped. Amazon SES's mail feedback (bounces,
complaints, deliveries) is refused with its reason: it is for the application that sent the
mail, not an alert.

AWS Backup, Elastic Beanstalk, CloudFormation and AWS Budgets publish text instead
(`aws_text_notices`, `aws_cloudformation`, which `sns` asks first). Source `aws` for all but
CodeStar's and DevOps Guru's: these are the services' own notices, the service named in the identity and the
labels. A notice falls back on the topic for the account and Region it leaves out.
`normalize.recognise_body` tries these shapes only for a body no other format reads, so they
change no other format's alerts. (GuardDuty, Security Hub, AWS Health, Amazon Inspector and
Macie publish only to EventBridge: an EventBridge rule's events, through SNS or not, are
`eventbridge`'s.)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from triage.errors import InvalidAlertError
from triage.models import Alert
from triage.normalize import (
    aws_codedeploy,
    aws_config,
    aws_cost_anomaly,
    aws_devops_guru,
    aws_elasticache,
    aws_inspector,
    aws_rds,
    aws_ssm,
    common,
    eventbridge,
)
from triage.normalize.aws_shared import (
    FIRE,
    RESOLVE,
    SOURCE,
    Topic,
    arn_region_account,
    occurred,
    one,
    service_labels,
    topic_of,
)
from triage.normalize.common import Normalized, Skipped

__all__ = ["SOURCE", "matches", "normalize"]


def matches(payload: dict[str, Any]) -> bool:
    """One of the notices above, by keys no alert format has."""
    return any(kind.matches(payload) for kind in _KINDS)


def normalize(payload: dict[str, Any], envelope: dict[str, Any] | None = None) -> Normalized:
    """The alerts of one notice; `envelope` is the SNS notification it came in, if any."""
    topic = topic_of(envelope)
    kind = next(kind for kind in _KINDS if kind.matches(payload))
    return kind.read(payload, topic)


# --- EC2 Auto Scaling ------------------------------------------------------------------------

_AUTOSCALING = "AWS Auto Scaling"
_TEST = "autoscaling:TEST_NOTIFICATION"
#: Event → (condition, status, what happened, as the title says it).
_ASG_EVENTS = {
    "autoscaling:EC2_INSTANCE_LAUNCH_ERROR": ("launch", FIRE, "could not launch an instance"),
    "autoscaling:EC2_INSTANCE_LAUNCH": ("launch", RESOLVE, "launched an instance"),
    "autoscaling:EC2_INSTANCE_TERMINATE_ERROR": (
        "terminate",
        FIRE,
        "could not terminate an instance",
    ),
    "autoscaling:EC2_INSTANCE_TERMINATE": ("terminate", RESOLVE, "terminated an instance"),
}


def _is_autoscaling(payload: dict[str, Any]) -> bool:
    return payload.get("Service") == _AUTOSCALING and (
        "Event" in payload or "LifecycleTransition" in payload
    )


def _autoscaling(payload: dict[str, Any], topic: Topic) -> Normalized:
    event = common.ident_line(common.unnested(payload.get("Event")), "Event")
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
    region, account = arn_region_account(arn)
    group = group or arn.rpartition("autoScalingGroupName/")[2] or arn
    condition, status, happened = _ASG_EVENTS.get(event, (event, FIRE, event))
    labels = service_labels(
        "autoscaling", account or common.word(payload.get("AccountId"), ""), region
    )
    whole_group = common.whole_word(payload.get("AutoScalingGroupName"), "AutoScalingGroupName")
    common.add_label(labels, "group", whole_group or group)
    common.add_label(labels, "instance", common.unnested(payload.get("EC2InstanceId")))
    common.add_label(labels, "status_code", common.unnested(payload.get("StatusCode")))
    facts = [payload.get(key) for key in ("StatusMessage", "Description", "Cause")]
    facts.append(payload.get("Details"))
    return one(
        Alert(
            source=SOURCE,
            status=status,
            title=common.title(f"Auto Scaling {happened} in {group}", "Event"),
            description=_joined(facts),
            labels=labels,
            occurred_at=occurred(
                payload.get("Time"), payload.get("EndTime"), payload.get("StartTime"), topic.sent
            ),
            identity={"service": "autoscaling", "group": arn, "condition": condition},
            raw=payload,
        )
    )


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
    `detail-type`), read as EventBridge's, so both deliveries of one event share a fingerprint.
    What the rule adds (`additionalAttributes`: the failed stage and actions) is shown with the
    event's details, which no identity reads."""
    event = {key: value for key, value in payload.items() if key not in _CODESTAR_ONLY}
    event["detail-type"] = payload["detailType"]
    added = payload.get("additionalAttributes")
    if isinstance(added, dict) and added and "additionalAttributes" not in payload["detail"]:
        event["detail"] = {**payload["detail"], "additionalAttributes": added}
    return eventbridge.normalize(event)


_CODESTAR_ONLY = frozenset({"detailType", "notificationRuleArn", "additionalAttributes"})


# --- CodePipeline manual approval ----------------------------------------------------------


def _is_approval(payload: dict[str, Any]) -> bool:
    approval = payload.get("approval")
    return isinstance(approval, dict) and "pipelineName" in approval and "consoleLink" in payload


def _approval(payload: dict[str, Any], topic: Topic) -> Normalized:
    """Skipped: a manual approval action asking a person to approve a pipeline's next stage is
    a request for that person (its review link), not an alert; an approval that expires fails
    the pipeline, which its failure event reports. The detail names the action, never its
    approval token."""
    approval = payload["approval"]
    action = "/".join(
        common.short(approval.get(key)) for key in ("pipelineName", "stageName", "actionName")
    )
    detail = (
        f"CodePipeline manual approval requested for {action}: approve or reject it in the "
        "console, it is not an alert"
    )
    return Normalized((), (Skipped(SOURCE, "approval_request", detail),))


# --- Amazon SES ----------------------------------------------------------------------------

#: SES's notices of a mail it sent (notificationType; a configuration set's events: eventType).
_SES_KINDS = frozenset(
    {"Bounce", "Complaint", "Delivery", "Send", "Reject", "Open", "Click", "Received"}
    | {"Rendering Failure", "DeliveryDelay", "Subscription", "AmazonSnsSubscriptionSucceeded"}
)


def _is_ses(payload: dict[str, Any]) -> bool:
    """A notice of a mail (its `mail`), or the one SES sends first when the topic is set up."""
    kind = payload.get("notificationType", payload.get("eventType"))
    return (
        isinstance(kind, str)
        and kind in _SES_KINDS
        and (isinstance(payload.get("mail"), dict) or kind == _SES_SUBSCRIBED)
    )


_SES_SUBSCRIBED = "AmazonSnsSubscriptionSucceeded"


def _ses(payload: dict[str, Any], topic: Topic) -> Normalized:
    """Refused, saying why: a bounce or a complaint is feedback on one mail for the application
    that sent it, which has to act on it (stop mailing the address), not an alert a team
    triages; dropped here, the application would never see it. The dead-letter queue keeps it
    until the subscription is moved."""
    kind = common.short(payload.get("notificationType", payload.get("eventType")), 40)
    raise InvalidAlertError(
        f"Amazon SES {kind} notification: mail feedback for the application that sends the "
        "mail, not an alert; subscribe that application's queue to the SES topic, not triage's"
    )


# --- shared ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Kind:
    matches: Callable[[dict[str, Any]], bool]
    read: Callable[[dict[str, Any], Topic], Normalized]


#: Tried in order; the first whose `matches` is true reads the notice.
_KINDS = (
    _Kind(aws_rds.matches, aws_rds.normalize),
    _Kind(aws_config.matches, aws_config.normalize),
    _Kind(_is_autoscaling, _autoscaling),
    _Kind(aws_cost_anomaly.matches, aws_cost_anomaly.normalize),
    _Kind(_is_codestar, _codestar),
    _Kind(aws_inspector.matches, aws_inspector.normalize),
    _Kind(aws_codedeploy.matches, aws_codedeploy.normalize),
    _Kind(aws_ssm.matches, aws_ssm.normalize),
    _Kind(_is_approval, _approval),
    _Kind(_is_ses, _ses),
    _Kind(aws_elasticache.matches, aws_elasticache.normalize),
    _Kind(aws_devops_guru.matches, aws_devops_guru.normalize),
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
