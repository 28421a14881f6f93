"""A dead-letter event of EventBridge Scheduler: a schedule failed to invoke its target (after
its retry policy, or at once for an error no retry can help), and Scheduler sent the message
to the schedule's dead-letter queue, which teams point at their alert queue. The message's
body is what the schedule would have sent its target (any JSON or text); why it failed is in
the message's attributes, not the body: `ERROR_CODE`, `ERROR_MESSAGE`, `SCHEDULE_ARN`,
`TARGET_ARN`, `EXHAUSTED_RETRY_CONDITION` (MaximumRetryAttempts, MaximumEventAgeInSeconds) and
`RETRY_ATTEMPTS`. `normalize_body` reads a message as one when its attributes name a schedule
(format `scheduler-dead-letter`, source `aws`), whatever its body holds: the body never reached
the target, so the failure is the news, not the body.

It fires titled with the schedule, its target and the error code, the error message shown;
keyed by the schedule and its target, never the error's text or the retry count, so a
recurring schedule that keeps failing is one incident counting repeats. Scheduler sends
nothing when invocations succeed again: the incident stays open until `triage incidents close`
closes it (or its route's `resolve_after_s`).
"""

from __future__ import annotations

from collections.abc import Mapping

from triage.models import Alert, Status
from triage.normalize import common
from triage.normalize.aws_dead_letters import (
    ERROR_CODE,
    EXHAUSTED,
    RETRIES,
    TARGET_ARN,
    arn_part,
    body_text,
    failure_lines,
    resource_name,
)
from triage.normalize.common import Normalized
from triage.normalize.vendors import labelled

SOURCE = "aws"
#: The format a Scheduler dead-letter message is read as (`triage.normalize.Recognised`).
FORMAT = "scheduler-dead-letter"
#: The attribute naming the schedule (the others: `aws_dead_letters`).
SCHEDULE_ARN = "SCHEDULE_ARN"
#: A schedule's ARN: arn:<partition>:scheduler:<region>:<account>:schedule/<group>/<name>.
_SCHEDULE_PREFIX = "schedule/"


def is_dead_letter(attributes: Mapping[str, str]) -> bool:
    """Whether a message's attributes are those of a Scheduler dead letter: a schedule's ARN,
    and the error or target Scheduler names with it."""
    schedule = attributes.get(SCHEDULE_ARN)
    return (
        isinstance(schedule, str)
        and schedule.startswith("arn:")
        and ":scheduler:" in schedule
        and (ERROR_CODE in attributes or TARGET_ARN in attributes)
    )


def normalize(body: str | bytes, attributes: Mapping[str, str]) -> Normalized:
    """One firing alert for the schedule's failed invocation, keyed by schedule and target."""
    schedule = common.ident(attributes.get(SCHEDULE_ARN), SCHEDULE_ARN)
    target = common.ident_or_none(attributes.get(TARGET_ARN), TARGET_ARN) or ""
    code = common.word(attributes.get(ERROR_CODE), ERROR_CODE)
    group, name = _schedule_names(schedule)
    region, account = arn_part(schedule, 3), arn_part(schedule, 4)
    alert = Alert(
        source=SOURCE,
        status=Status.FIRING,
        title=_title(group, name, target, code),
        severity="error",
        description=_description(attributes),
        labels=labelled(
            ("service", "scheduler"),
            ("schedule", name),
            ("schedule_group", group),
            ("target", target),
            ("error_code", code),
            ("exhausted_retry_condition", attributes.get(EXHAUSTED)),
            ("retry_attempts", attributes.get(RETRIES)),
            ("account", account),
            ("region", region),
        ),
        occurred_at=common.now(),
        identity={"service": "scheduler", "schedule": schedule, "target": target},
        raw={"MessageAttributes": dict(attributes), "Body": body_text(body)},
    )
    return Normalized((alert,), (), ())


def _schedule_names(schedule: str) -> tuple[str, str]:
    """(group, name) of a schedule's ARN; ("", the ARN) for one of another shape."""
    resource = schedule.split(":", 5)[-1]
    if resource.startswith(_SCHEDULE_PREFIX):
        group, _, name = resource.removeprefix(_SCHEDULE_PREFIX).rpartition("/")
        if name:
            return group, name
    return "", schedule


def _title(group: str, name: str, target: str, code: str | None) -> str:
    """ "EventBridge Scheduler: schedule nightly-report (reports) failed to invoke
    report-builder: AWS.Scheduler.TargetInvocationFailed": names, not ARNs."""
    scoped = f"{name} ({group})" if group and group != "default" else name
    target_name = resource_name(target) if target else ""
    to = f" {target_name}" if target_name else " its target"
    why = f": {code}" if code else ""
    return common.title(f"EventBridge Scheduler: schedule {scoped} failed to invoke{to}{why}")


def _description(attributes: Mapping[str, str]) -> str:
    """The error message Scheduler gave, and why it stopped retrying."""
    lines = failure_lines(attributes, "Scheduler")
    lines.append("The schedule's input never reached its target: send it again once it is fixed.")
    return common.text("\n".join(lines), "description", common.DESCRIPTION_MAX) or ""
