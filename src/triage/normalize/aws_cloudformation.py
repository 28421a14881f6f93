"""CloudFormation's stack event notifications (a stack's NotificationARNs), text of
`Key='value'` lines: "StackId='arn:aws:cloudformation:…'", "LogicalResourceId='web'",
"ResourceStatus='CREATE_FAILED'", "ResourceStatusReason='…'" …

One incident per stack (its StackId), so a failed deployment is one ticket, not one per event:
a resource that failed or the stack rolling back (or failing to) fires; the stack itself
reaching a state that is complete and no rollback (CREATE_COMPLETE, UPDATE_COMPLETE,
DELETE_COMPLETE, IMPORT_COMPLETE) resolves. Every other event (in progress, a resource that
completed) changes no ticket. Read as prose, every event of every stack on a topic was one
incident under the Subject, never resolved. `cloudformation` returns None for any other text."""

from __future__ import annotations

from typing import Any

from triage.models import Alert, Status
from triage.normalize import common
from triage.normalize.aws_shared import (
    FIRE,
    RESOLVE,
    SOURCE,
    arn_region_account,
    occurred,
    one,
    service_labels,
    topic_of,
)
from triage.normalize.common import Normalized, Skipped

#: The envelope's fields kept as `raw` (never SNS's signature or its unsubscribe link).
_KEPT = ("Type", "MessageId", "TopicArn", "Subject", "Message", "Timestamp")
_STACK_TYPE = "AWS::CloudFormation::Stack"
#: At most this much of a message is read: an event's lines are a few hundred characters, and
#: ResourceProperties (the resource's whole template) is shown, never needed.
_READ_CHARS = 64 * 1024


def cloudformation(envelope: dict[str, Any]) -> Normalized | None:
    """A stack event notification as its stack's incident (see the module), or None."""
    message = envelope.get("Message")
    if not isinstance(message, str):
        return None
    facts = _quoted_lines(message[:_READ_CHARS])
    stack_id = facts.get("StackId", "")
    given = facts.get("ResourceStatus", "")
    # Decided on in capitals, shown as given (`aws_shared.canonical`).
    state = given.upper()
    if ":cloudformation:" not in stack_id or not stack_id.startswith("arn:") or not state:
        return None
    stack_id = common.ident(stack_id, "StackId")
    stack = common.line(facts.get("StackName"), "StackName") or _stack_name(stack_id)
    logical = common.line(facts.get("LogicalResourceId"), "LogicalResourceId") or stack
    whole_stack = facts.get("ResourceType") == _STACK_TYPE and logical == stack
    status = _stack_status(state) if whole_stack else _resource_status(state)
    if status is None:
        what = "stack" if whole_stack else f"resource {common.short(logical)} of stack"
        detail = f"CloudFormation {what} {common.short(stack)} is {common.short(given)}"
        return Normalized((), (Skipped(SOURCE, "no_state_change", detail),))
    region, account = arn_region_account(stack_id)
    topic = topic_of(envelope)
    labels = service_labels("cloudformation", account or topic.account, region or topic.region)
    common.add_label(labels, "stack", stack)
    common.add_label(labels, "resource", None if whole_stack else logical)
    common.add_label(labels, "resource_type", facts.get("ResourceType"))
    common.add_label(labels, "status", given)
    named = stack if whole_stack else f"{stack}: {logical}"
    return one(
        Alert(
            source=SOURCE,
            status=status,
            title=common.title(f"CloudFormation {named} {given}", "Message"),
            description=_description(facts),
            labels=labels,
            occurred_at=occurred(facts.get("Timestamp"), topic.sent),
            identity={"service": "cloudformation", "stack": stack_id},
            raw={key: envelope[key] for key in _KEPT if key in envelope},
        )
    )


def _stack_name(stack_id: str) -> str:
    """ "arn:aws:cloudformation:eu-west-1:1:stack/web/59b7…" → "web"."""
    parts = stack_id.split("/")
    return parts[1] if len(parts) >= 3 and parts[1] else stack_id


def _stack_status(state: str) -> Status | None:
    """The stack's own event: a rollback or a failure fires, a state complete and no rollback
    resolves; one in progress is neither."""
    if "ROLLBACK" in state or state.endswith("_FAILED"):
        return None if state.endswith("ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS") else FIRE
    if state.endswith("_COMPLETE"):
        return RESOLVE
    return None


def _resource_status(state: str) -> Status | None:
    """A resource's event: its failure fires the stack's incident; nothing a resource does ends
    it (the stack's own state does)."""
    return FIRE if state.endswith("_FAILED") else None


def _description(facts: dict[str, str]) -> str:
    """Why (ResourceStatusReason), then which resource, one `key: value` line each."""
    lines = [facts.get("ResourceStatusReason", "")]
    lines += [f"{key}: {facts[key]}" for key in _SHOWN if facts.get(key)]
    return common.text("\n".join(line for line in lines if line), "Message") or ""


_SHOWN = ("LogicalResourceId", "ResourceType", "PhysicalResourceId", "ResourceStatus")


def _quoted_lines(text: str) -> dict[str, str]:
    """ "Key='value'" lines as {Key: value}, the first of each key (quotes removed)."""
    found: dict[str, str] = {}
    for line in text.splitlines():
        name, equals, value = line.partition("=")
        if not equals or not name or " " in name:
            continue
        if len(value) >= 2 and value[0] == value[-1] == "'":
            value = value[1:-1]
        found.setdefault(name.strip(), value.strip())
    return found
