"""What an AWS event's own words say of how the work it reports ended, where a state key
alone does not: whether a stopped ECS task stopped as planned, and whether an event triage
does not read states a success. `aws_state_changes` reads the first as an ECS task's state;
`eventbridge` asks the second of every event no reading knows, so a success never opens a
ticket.

ECS's stop codes and reasons: AmazonECS/latest/developerguide/stopped-task-error-codes.html
and ecs_task_events.html (`stopCode` TaskFailedToStart, EssentialContainerExited,
UserInitiated, ServiceSchedulerInitiated, SpotInterruption, TerminationNotice; a container's
`exitCode`).
"""

from __future__ import annotations

import re
from typing import Any

from triage.normalize import common

#: A stopped ECS task's stop code (stopCode) when the stop was meant, as the word its state
#: is read as: a person or a tool stopped it, or it finished its work.
_STOPPED_BY_USER, _STOPPED_BY_SCHEDULER, _EXITED_0 = (
    "STOPPED_BY_USER",
    "STOPPED_BY_SCHEDULER",
    "STOPPED_AFTER_EXIT_0",
)
PLANNED_STOPS = (_STOPPED_BY_USER, _STOPPED_BY_SCHEDULER, _EXITED_0)
#: How ECS's service scheduler words a stop it made to replace or remove a task (a
#: deployment, a scale-in); it words a failed health check otherwise ("Task failed ELB
#: health checks …"), and that stop is a failure.
_SCALING_ACTIVITY = "scaling activity initiated by"


def task_stop(detail: dict[str, Any]) -> Any:
    """A task's `lastStatus`, or, for a task that stopped as planned, the word that says how:
    a user's StopTask, its service's scheduler replacing or removing it (a rolling deployment,
    a scale-in), or its containers all exiting 0 (a one-off task that did its work). A crash,
    an OOM kill, a failed start or health check, a Spot interruption stays STOPPED."""
    status = detail.get("lastStatus")
    if not isinstance(status, str) or status.strip().upper() != "STOPPED":
        return status
    code = detail.get("stopCode")
    code = code.strip().lower() if isinstance(code, str) else ""
    if code == "userinitiated":
        return _STOPPED_BY_USER
    if code == "serviceschedulerinitiated" and _by_scaling_activity(detail.get("stoppedReason")):
        return _STOPPED_BY_SCHEDULER
    if code == "essentialcontainerexited" and _all_exited_0(detail.get("containers")):
        return _EXITED_0
    return status


def _by_scaling_activity(reason: Any) -> bool:
    """Whether the scheduler's stoppedReason says a scaling activity (a deployment's or the
    service's) stopped the task."""
    return isinstance(reason, str) and reason.strip().lower().startswith(_SCALING_ACTIVITY)


def _all_exited_0(containers: Any) -> bool:
    """Whether every container that reports an exit code exited 0, and at least one did (the
    event does not say which containers are essential: one non-zero exit counts)."""
    codes = [
        common.obj_or_empty(container).get("exitCode")
        for container in common.items_or_empty(containers)
    ]
    given = [code for code in codes if code is not None]
    return bool(given) and all(code == 0 and not isinstance(code, bool) for code in given)


#: Words in which an event says what it did succeeded, and words in which it says a failure
#: or that what completed was undone (a rollback's or a cancellation's completion).
_SUCCESS = frozenset({"succeeded", "success", "successful", "completed", "complete", "finished"})
_FAILURE = frozenset(
    {
        "failed", "failure", "unsuccessful", "fault", "error", "errors", "errored", "timed",
        "timeout", "aborted", "rollback", "cancelled", "canceled",
    }
)  # fmt: skip
#: A state key's name that holds an earlier state, not the event's own.
_EARLIER = ("prev", "old", "from", "last")


def stated_success(kind: str, detail: dict[str, Any]) -> str | None:
    """For an event no `aws_state_changes` reading knows: the success it states, in its
    detail-type's last word (`… Succeeded`) or in a top-level state key's value (`status`,
    `state`, `result`, `…Status`, `…-state`), as triage's own lower-case word (never the
    event's text). None when it states none, or when anything in it says a failure or an
    undoing (a word of its detail-type or of a state, UPDATE_ROLLBACK_COMPLETE; a failure
    count above 0; an error message): such an event fires, as any event triage does not
    read, so a success never opens a ticket and a failure is never passed over."""
    words = [word.lower() for word in kind.split()]
    states = [
        _parts(value)
        for key, value in detail.items()
        if isinstance(value, str) and _is_state_key(key)
    ]
    said = words + [part for parts in states for part in parts]
    if _FAILURE.intersection(said) or _reports_failures(detail):
        return None
    # A state's last part says how it ended: UPDATE_COMPLETE did, COMPLETE_CLEANUP… is under way.
    ended = [*words[-1:], *(parts[-1] for parts in states if parts)]
    return next((word for word in ended if word in _SUCCESS), None)


def _parts(state: str) -> list[str]:
    """A state's words, lower case: `UPDATE_COMPLETE`, `scan-completed`, `Succeeded`."""
    return [part for part in re.split(r"[\s_\-]+", state.strip().lower()) if part]


def _is_state_key(key: str) -> bool:
    """`status`, `state`, `result`, and names ending so (`TrainingJobStatus`,
    `completed-phase-status`), but not an earlier state's (`previousStatus`)."""
    name = re.sub(r"[^a-z]", "", key.lower())
    if name.startswith(_EARLIER) and name not in ("laststatus", "laststate"):
        return False
    return name == "result" or name.endswith(("status", "state"))


def _reports_failures(detail: dict[str, Any]) -> bool:
    """Whether a top-level failure or error field says something: a count above 0
    (`numRulesFailed: 2`) or a text (`errorMessage: "2 of 9 files skipped"`)."""
    return any(
        _says_something(value)
        for key, value in detail.items()
        if "fail" in key.lower() or "error" in key.lower()
    )


def _says_something(value: Any) -> bool:
    """A count above 0, or a text that is no count and not blank."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return False
    number = common.count(value)
    if number is not None:
        return number > 0
    return isinstance(value, str) and bool(value.strip())
