"""AWS Config's notifications to its delivery channel's SNS topic (`messageType`,
`notificationCreationTime`, `recordVersion`). A rule's compliance change is an alert: one
incident per account, Region, rule and resource, fired by NON_COMPLIANT and resolved by
COMPLIANT or NOT_APPLICABLE (the resource is no longer in the rule's scope); INSUFFICIENT_DATA
changes no ticket. The same change as an EventBridge rule sends it ("Config Rules Compliance
Change") is read alike (`from_eventbridge`), as source `eventbridge`. Config's other
notifications on that topic (configuration item changes, snapshot and history deliveries, rule
evaluations started) record the account's configuration, not a problem: Skipped, so a delivery
channel's topic does not fill the DLQ."""

from __future__ import annotations

from typing import Any

from triage.models import Alert, Status
from triage.normalize import common
from triage.normalize.aws_shared import (
    FIRE,
    RESOLVE,
    SOURCE,
    Topic,
    canonical,
    occurred,
    one,
    service_labels,
)
from triage.normalize.common import Normalized, Skipped

_COMPLIANCE = "ComplianceChangeNotification"
#: The (source, detail-type) of the same notice as an EventBridge rule sends it.
EVENTBRIDGE_COMPLIANCE = ("aws.config", "Config Rules Compliance Change")
#: The source of that event's alerts, as of every EventBridge rule's event.
EVENTBRIDGE_SOURCE = "eventbridge"
_STATUS: dict[str, Status] = {
    "NON_COMPLIANT": FIRE,
    "COMPLIANT": RESOLVE,
    "NOT_APPLICABLE": RESOLVE,
}


def matches(payload: dict[str, Any]) -> bool:
    return (
        isinstance(payload.get("messageType"), str)
        and "recordVersion" in payload
        and "notificationCreationTime" in payload
    )


def normalize(payload: dict[str, Any], topic: Topic) -> Normalized:
    kind = common.word(payload.get("messageType"), "messageType") or "notification"
    if kind != _COMPLIANCE:
        detail = (
            f"AWS Config {common.short(kind)} notification: a record of configuration, not an alert"
        )
        return Normalized((), (Skipped(SOURCE, "not_an_alert", detail),))
    return _compliance_change(payload, topic, SOURCE, common.Labels())


def from_eventbridge(payload: dict[str, Any], detail: dict[str, Any], account: str) -> Normalized:
    """A "Config Rules Compliance Change" an EventBridge rule sent, for `eventbridge`: its
    `detail` is the ComplianceChangeNotification the delivery channel's topic carries, read as
    that notice is (the same identity: an incident per account, Region, rule and resource),
    the event's account and Region standing in for the topic's. Source `eventbridge`, as an
    EventBridge rule's events are, so routes that match it keep matching; its `event_source`
    and `detail_type` labels name the event. Read as any other event, every rule's and
    resource's non-compliance was one incident that never resolved."""
    region = common.ident_or_none(payload.get("region"), "region") or ""
    topic = Topic(account, region, payload.get("time"))
    via = common.Labels()
    common.add_label(via, "event_source", common.unnested(payload.get("source")))
    common.add_label(via, "detail_type", common.unnested(payload.get("detail-type")))
    return _compliance_change(detail, topic, EVENTBRIDGE_SOURCE, via)


def _compliance_change(
    payload: dict[str, Any], topic: Topic, source: str, via: common.Labels
) -> Normalized:
    """A ComplianceChangeNotification: its rule's and resource's incident, told by `source`
    (the topic's `aws`, or `eventbridge`), `via` added to its labels (what delivered it, when
    that is not the topic)."""
    account = common.ident_or_none(payload.get("awsAccountId"), "awsAccountId") or topic.account
    region = common.ident_or_none(payload.get("awsRegion"), "awsRegion") or topic.region
    rule = common.ident(payload.get("configRuleName"), "configRuleName")
    resource_type = common.ident(payload.get("resourceType"), "resourceType")
    resource = common.ident(payload.get("resourceId"), "resourceId")
    new = common.obj_or_empty(payload.get("newEvaluationResult"))
    compliance = canonical(common.word(new.get("complianceType"), "complianceType") or "", _STATUS)
    status = _STATUS.get(compliance)
    if status is None:
        detail = (
            f"AWS Config {common.short(resource_type)} {common.short(resource)} is "
            f"{common.short(compliance or None)} for rule {common.short(rule)}: no ticket change"
        )
        return Normalized((), (Skipped(source, "no_state_change", detail),))
    labels = service_labels("config", account, region)
    common.add_label(labels, "rule", rule)
    common.add_label(labels, "resource_type", resource_type)
    common.add_label(labels, "resource", resource)
    common.add_label(labels, "compliance", compliance)
    for name, value in via.items():
        common.add_label(labels, name, value)
    return one(
        Alert(
            source=source,
            status=status,
            title=common.title(
                f"AWS Config: {resource_type} {resource} is {compliance} with {rule}"
            ),
            description=_description(payload, new, compliance),
            labels=labels,
            occurred_at=occurred(
                payload.get("notificationCreationTime"), new.get("resultRecordedTime"), topic.sent
            ),
            identity={
                "service": "config",
                "account": account,
                "region": region,
                "rule": rule,
                "resource_type": resource_type,
                "resource": resource,
            },
            raw=payload,
        )
    )


def _description(payload: dict[str, Any], new: dict[str, Any], compliance: str) -> str:
    """The change (old → new compliance) and the rule's annotation, when it wrote one."""
    old = common.obj_or_empty(payload.get("oldEvaluationResult"))
    before = common.word(old.get("complianceType"), "oldEvaluationResult.complianceType")
    lines = [f"Compliance: {before} → {compliance}" if before else f"Compliance: {compliance}"]
    annotation = common.text(new.get("annotation"), "annotation")
    if annotation:
        lines.append(annotation)
    return common.text("\n\n".join(lines), "description", common.DESCRIPTION_MAX) or ""
