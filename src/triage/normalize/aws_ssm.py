"""Systems Manager Run Command's (and Maintenance Windows') notices to an SNS topic: a command's
summary ({"commandId", "documentName", "instanceIds", "status", "eventTime" …}) or one
instance's invocation (the same with "instanceId").

A command id is new on every run, so it identifies nothing: the incident is the document's
(account + Region + document), or for an invocation the document's on that instance, fired by
a run that failed or timed out and resolved by the next run that succeeded. A run in progress
or cancelled changes no ticket. The notices name no account or Region: they are the topic's.
The same runs' status changes through an EventBridge rule are keyed alike, as source
`eventbridge` (`command_event_identity`, with the event's account and Region)."""

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

#: A command's or invocation's status → the ticket change; InProgress, Pending, Cancelled
#: (a person stopped it) and Cancelling change nothing.
_STATUS: dict[str, Status] = {
    "FAILED": FIRE,
    "TIMEDOUT": FIRE,
    "SUCCESS": RESOLVE,
}
#: At most this many of a summary's instances are shown.
_INSTANCES_MAX = 20


def matches(payload: dict[str, Any]) -> bool:
    return "commandId" in payload and "documentName" in payload


def normalize(payload: dict[str, Any], topic: Topic) -> Normalized:
    document = common.ident(payload.get("documentName"), "documentName")
    instance = common.ident_or_none(payload.get("instanceId"), "instanceId")
    given = common.word(payload.get("status"), "status") or ""
    state = canonical(given, _STATUS)
    status = _STATUS.get(state)
    if status is None:
        where = f"{common.short(document)}{_on(common.short(instance) if instance else None)}"
        detail = f"Run Command {where} is {common.short(given or None)}: no ticket change"
        return Normalized((), (Skipped(SOURCE, "no_state_change", detail),))
    labels = service_labels("ssm", topic.account, topic.region)
    common.add_label(labels, "document", document)
    # The deterministic ticket's step names the instance by these, as an RDS event's source.
    common.add_label(labels, "source_type", "instance" if instance else None)
    common.add_label(labels, "source_id", instance)
    common.add_label(labels, "command", common.unnested(payload.get("commandId")))
    common.add_label(labels, "status", given)
    identity = document_identity(topic.account, topic.region, document, instance)
    return one(
        Alert(
            source=SOURCE,
            status=status,
            title=common.title(f"Run Command {document}{_on(instance)}: {given}"),
            description=_description(payload),
            labels=labels,
            occurred_at=occurred(payload.get("eventTime"), topic.sent),
            identity=identity,
            raw=payload,
        )
    )


def document_identity(
    account: str, region: str, document: str, instance: str | None
) -> dict[str, str]:
    """A document's runs' identity (on `instance`, for an invocation), whichever way they are
    told: this notice, or an EventBridge rule's status change (`command_event_identity`)."""
    identity = {"service": "ssm", "account": account, "region": region, "document": document}
    if instance:
        identity["instance"] = instance
    return identity


def command_event_identity(detail: dict[str, Any], account: str, region: str) -> dict[str, str]:
    """The document (and instance) of an "EC2 Command Status-change Notification" or "EC2
    Command Invocation Status-change Notification" an EventBridge rule sent (`document-name`,
    an invocation's `instance-id`), keyed as the SNS notice keys them, for
    `aws_state_changes`: one incident per document (and instance), either way."""
    document = common.ident(detail.get("document-name"), "detail.document-name")
    instance = common.ident_or_none(
        common.unnested(detail.get("instance-id")), "detail.instance-id"
    )
    return document_identity(account, region, document, instance)


def _on(instance: str | None) -> str:
    return f" on {instance}" if instance else ""


def _description(payload: dict[str, Any]) -> str:
    """The command, its instances and where its output went, one `key: value` line each."""
    instances = common.items_or_empty(payload.get("instanceIds"))[:_INSTANCES_MAX]
    lines = [f"instances: {', '.join(common.shown(i) for i in instances)}"] if instances else []
    keys = ("commandId", "requestedDateTime", "outputS3BucketName", "outputS3KeyPrefix")
    lines += [f"{key}: {common.shown(payload[key])}" for key in keys if payload.get(key)]
    return common.text("\n".join(lines), "notice", common.DESCRIPTION_MAX) or ""
