"""The counter series whose dimension values are known when the daemon starts, declared then
so that `/metrics` shows them at 0 before their first event (Prometheus's advice for labelled
counters: a series that first appears at 1 gives `increase()` no earlier sample, so the first
event after every restart went uncounted)."""

from __future__ import annotations

from collections.abc import Iterable

from triage.errors import TransientError, TriageError
from triage.metrics import Metrics
from triage.sinks.guard import BREAKER_OPEN
from triage.sqs.working import DRY_RUN_REASON, SHUTDOWN_REASON

#: The outcomes each sink's code counts under `SinkCalls{sink,outcome}`.
SINK_OUTCOMES: dict[str, tuple[str, ...]] = {
    "backend": (
        "ok",
        "skipped",
        "rejected",
        "unauthorized",
        "throttled",
        "unavailable",
        "network",
        "cancelled",
    ),
    "slack": ("ok", "skipped", "rejected", "throttled", "unavailable", "network", "cancelled"),
    "github": (
        "ok",
        "found",
        "digested",
        "skipped",
        "refused",
        "rejected",
        "throttled",
        "unavailable",
        # GitHub's errors, counted by their reason (sinks/github/).
        "network",
        "unauthorized",
        "rate_limited",
        "paused",
        "no_token",
        "bad_response",
        "redirected",
        "suspended",
        "no_access",
    ),
}
#: The outcomes of `LLMCalls{outcome}`: an answer, what a model client's error says it is, and
#: a request cut off by cancellation (the message's time limit, a stop) or failing with an
#: exception no `ModelError` names (`LlmSummariser._complete`).
LLM_OUTCOMES = (
    "ok",
    "refused",
    "invalid",
    "rejected",
    "timeout",
    "rate_limited",
    "unreachable",
    "server_error",
    "cancelled",
    "error",
)
#: Why a message is released that no error class names: a crash, a timeout, a lost delete,
#: an entry of a receive's answer that cannot be read (`triage.sqs.inbox.UNREADABLE_REASON`).
_RELEASE_REASONS = ("bug", "timeout", "delete", "unreadable")
#: Reasons the code gives an error where it raises it (`GitHubUnavailableError(...,
#: reason="network")`), beside its class's own; tests/test_signals_trust_scenarios.py reads
#: the source for every such reason and fails on one missing here.
_RAISED_REASONS = (
    "bad_response",
    "network",
    "no_token",
    "redirected",
    "route_not_found",
    "suspended",
    "unauthorized",
)
#: Those raised with a wait (a breaker open, a rate limit, a pause): held as well as failed.
_RAISED_WAIT_REASONS = (BREAKER_OPEN, "paused", "rate_limited")


def declare_known_series(
    metrics: Metrics, sinks: Iterable[str] = (), *, dead_letters: bool = False
) -> None:
    """Declare, at the daemon's start, the counter series whose dimension values are known
    then (Prometheus's advice for labelled counters), so `increase()` counts their first event
    after a restart: each of `sinks` with each of its outcomes, the model's outcomes, and the
    reasons of the error tree and of its raise sites for `MessagesFailed` (the waits' for
    `MessagesHeld`; with `dead_letters`, when the daemon knows the queue's maxReceiveCount, for
    `MessagesDeadLettered` too: at 0 without it, it would say "none" where it cannot know).
    Series whose values come from alerts (`source`, `team`) or are free text appear with their
    first event, which `increase()` cannot count (the README says so)."""
    for sink in sinks:
        for outcome in SINK_OUTCOMES.get(sink, ()):
            metrics.declare("SinkCalls", sink=sink, outcome=outcome)
    for outcome in LLM_OUTCOMES:
        metrics.declare("LLMCalls", outcome=outcome)
    raised = (*_RAISED_REASONS, *_RAISED_WAIT_REASONS)
    for reason in (*_reasons(TriageError), *_RELEASE_REASONS, *raised):
        metrics.declare("MessagesFailed", reason=reason)
        if dead_letters:
            metrics.declare("MessagesDeadLettered", reason=reason)
    if dead_letters:  # given back undeleted by a stop, on their last receive
        for reason in (SHUTDOWN_REASON, DRY_RUN_REASON):
            metrics.declare("MessagesDeadLettered", reason=reason)
    for reason in (*_reasons(TransientError), *_RAISED_WAIT_REASONS):
        metrics.declare("MessagesHeld", reason=reason)


def _reasons(root: type[TriageError]) -> set[str]:
    """The `reason` of `root` and of every error class under it."""
    found: set[str] = set()
    todo = [root]
    while todo:
        kind = todo.pop()
        found.add(kind.reason)
        todo.extend(kind.__subclasses__())
    return found
