"""CodeDeploy triggers' notices to an SNS topic (`eventTriggerName`, `deploymentId`): a
deployment's ({"applicationName", "deploymentGroupName", "status": "FAILED", "errorInformation"
…}) or an instance's ({"instanceId", "instanceStatus", "lifecycleEvents"}).

A deployment id is new on every deployment, so it identifies nothing: the incident is the
deployment group's (account + Region + application + group), fired by a deployment that failed
or was stopped and resolved by the group's next deployment that succeeded, as a pipeline's next
successful execution resolves its failure (its deployments' state changes through an
EventBridge rule are keyed alike, as source `eventbridge`: `group_event_identity`). An instance's notice is the
instance's incident (account + Region + instance), fired by its failure and resolved by its
next success. A deployment or an instance only starting or in progress changes no ticket."""

from __future__ import annotations

import json
import re
from typing import Any

from triage.models import Alert, Status
from triage.normalize import common
from triage.normalize.aws_regions import console_host
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

#: A deployment's or an instance's status → the ticket change; any other (CREATED,
#: IN_PROGRESS, READY, PENDING, SKIPPED) changes nothing.
_STATUS: dict[str, Status] = {
    "FAILED": FIRE,
    "STOPPED": FIRE,
    "SUCCEEDED": RESOLVE,
}


def matches(payload: dict[str, Any]) -> bool:
    return "eventTriggerName" in payload and "deploymentId" in payload


def normalize(payload: dict[str, Any], topic: Topic) -> Normalized:
    account = common.ident_or_none(payload.get("accountId"), "accountId") or topic.account
    region = common.ident_or_none(payload.get("region"), "region") or topic.region
    if "instanceId" in payload:
        return _instance(payload, account, region, topic)
    return _deployment(payload, account, region, topic)


def _deployment(payload: dict[str, Any], account: str, region: str, topic: Topic) -> Normalized:
    application = common.ident(payload.get("applicationName"), "applicationName")
    group = common.ident(payload.get("deploymentGroupName"), "deploymentGroupName")
    state = canonical(common.word(payload.get("status"), "status") or "", _STATUS)
    status = _STATUS.get(state)
    if status is None:
        return _unchanged(f"deployment group {common.short(group)}", state)
    deployment = common.word(payload.get("deploymentId"), "deploymentId")
    labels = service_labels("codedeploy", account, region)
    common.add_label(labels, "application", application)
    # The deterministic ticket's step names the group by these, as an RDS event's source.
    common.add_label(labels, "source_type", "deployment group")
    common.add_label(labels, "source_id", group)
    common.add_label(labels, "deployment", common.unnested(payload.get("deploymentId")))
    common.add_label(labels, "status", state)
    return one(
        Alert(
            source=SOURCE,
            status=status,
            title=common.title(f"CodeDeploy {application}/{group}: deployment {state}"),
            description=_description(payload),
            labels=labels,
            links=common.links(deployment=_console(region, deployment)),
            occurred_at=occurred(payload.get("completeTime"), topic.sent),
            identity=group_identity(account, region, application, group),
            raw=payload,
        )
    )


def group_identity(account: str, region: str, application: str, group: str) -> dict[str, str]:
    """A deployment group's identity, whichever way its deployments are told: this trigger,
    or an EventBridge rule's state change (`group_event_identity`)."""
    return {
        "service": "codedeploy",
        "account": account,
        "region": region,
        "application": application,
        "group": group,
    }


def group_event_identity(detail: dict[str, Any], account: str, region: str) -> dict[str, str]:
    """The group of a "CodeDeploy Deployment State-change Notification" an EventBridge rule
    sent (`detail.application`, `detail.deploymentGroup`), keyed as its trigger keys it, for
    `aws_state_changes`: one incident per group, resolved by its next success, either way."""
    application = common.ident(detail.get("application"), "detail.application")
    group = common.ident(detail.get("deploymentGroup"), "detail.deploymentGroup")
    return group_identity(account, region, application, group)


def _instance(payload: dict[str, Any], account: str, region: str, topic: Topic) -> Normalized:
    instance = common.ident(payload.get("instanceId"), "instanceId")
    state = canonical(common.word(payload.get("instanceStatus"), "instanceStatus") or "", _STATUS)
    status = _STATUS.get(state)
    if status is None:
        return _unchanged(f"instance {common.short(instance, 200)}", state)
    named = instance.rsplit("/", 1)[-1]
    labels = service_labels("codedeploy", account, region)
    common.add_label(labels, "source_type", "instance")
    common.add_label(labels, "source_id", named)
    common.add_label(labels, "deployment", common.unnested(payload.get("deploymentId")))
    common.add_label(labels, "status", state)
    return one(
        Alert(
            source=SOURCE,
            status=status,
            title=common.title(f"CodeDeploy instance {named}: deployment {state}"),
            description=_lifecycle(payload.get("lifecycleEvents")),
            labels=labels,
            occurred_at=occurred(payload.get("lastUpdatedAt"), topic.sent),
            identity={
                "service": "codedeploy",
                "account": account,
                "region": region,
                "instance": instance,
            },
            raw=payload,
        )
    )


def _unchanged(what: str, state: str) -> Normalized:
    detail = f"CodeDeploy {what} is {common.short(state or None)}: no ticket change"
    return Normalized((), (Skipped(SOURCE, "no_state_change", detail),))


def _description(payload: dict[str, Any]) -> str:
    """The error (CodeDeploy sends it and the overview as JSON text or as objects), then the
    instances' overview, one `key: value` line each."""
    error = _object(payload.get("errorInformation"))
    lines = [
        f"{key}: {common.shown(error[key])}"
        for key in ("ErrorCode", "ErrorMessage")
        if key in error
    ]
    overview = _object(payload.get("deploymentOverview"))
    lines += [f"{key}: {common.shown(value)}" for key, value in list(overview.items())[:_FACTS_MAX]]
    return common.text("\n".join(lines), "errorInformation", common.DESCRIPTION_MAX) or ""


def _lifecycle(value: Any) -> str:
    """An instance's lifecycle events, one "event: status" line each."""
    lines = []
    for event in common.items_or_empty(value)[:_FACTS_MAX]:
        facts = common.obj_or_empty(event)
        name, status = facts.get("LifecycleEvent"), facts.get("LifecycleEventStatus")
        if name is not None:
            lines.append(f"{common.shown(name)}: {common.shown(status)}")
    return common.text("\n".join(lines), "lifecycleEvents", common.DESCRIPTION_MAX) or ""


#: At most this many lifecycle events or overview counts are shown.
_FACTS_MAX = 30


def _object(value: Any) -> dict[str, Any]:
    """An object, or JSON text of one (at most 64 KiB of it); {} for anything else."""
    if isinstance(value, str) and len(value) <= _JSON_CHARS:
        try:
            value = json.loads(value)
        except (ValueError, RecursionError):
            return {}
    return common.obj_or_empty(value)


_JSON_CHARS = 64 * 1024


def _console(region: str, deployment: str | None) -> str | None:
    """The deployment's console page, for a Region and deployment id of the shapes AWS uses,
    in the console of the Region's partition (`console_host`: China's and GovCloud's have
    domains of their own); None where that console is not known."""
    if not deployment or not _ID.fullmatch(deployment) or not _REGION.fullmatch(region):
        return None
    host = console_host(region)
    if host is None:
        return None
    return f"{host}/codedeploy/home?region={region}#/deployments/{deployment}"


_ID = re.compile(r"d-[A-Z0-9]{1,20}")
_REGION = re.compile(r"[a-z]{2}(?:-[a-z]+){1,2}-\d")
