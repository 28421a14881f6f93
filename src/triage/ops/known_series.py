"""The counter series whose dimension values are known when the daemon starts, declared then
so that `/metrics` shows them at 0 before their first event (Prometheus's advice for labelled
counters: a series that first appears at 1 gives `increase()` no earlier sample, so the first
event after every restart went uncounted)."""

from __future__ import annotations

from collections.abc import Iterable

from triage.errors import TransientError, TriageError
from triage.metrics import Metrics
from triage.sqs.working import DRY_RUN_REASON, SHUTDOWN_REASON

#: The outcomes each sink's code counts under `SinkCalls{sink,outcome}`.
SINK_OUTCOMES: dict[str, tuple[str, ...]] = {
    "backend": ("ok", "skipped", "rejected", "unauthorized", "throttled", "unavailable", "network"),
    "slack": ("ok", "skipped", "rejected", "throttled", "unavailable", "network"),
    "github": (
        "ok",
        "found",
        "digested",
        "skipped",
        "refused",
        "rejected",
        "throttled",
        "unavailable",
    ),
}
#: The outcomes of `LLMCalls{outcome}`: an answer, and what a model client's error says it is.
LLM_OUTCOMES = (
    "ok",
    "refused",
    "invalid",
    "rejected",
    "timeout",
    "rate_limited",
    "unreachable",
    "server_error",
)
#: Why a message is released that no error class names: a crash, a timeout, a lost delete.
_RELEASE_REASONS = ("bug", "timeout", "delete")


def declare_known_series(
    metrics: Metrics, sinks: Iterable[str] = (), *, dead_letters: bool = False
) -> None:
    """Declare, at the daemon's start, the counter series whose dimension values are known
    then (Prometheus's advice for labelled counters), so `increase()` counts their first event
    after a restart: each of `sinks` with each of its outcomes, the model's outcomes, and the
    reasons of the error tree for `MessagesFailed` (the transient ones for `MessagesHeld`;
    with `dead_letters`, when the daemon knows the queue's maxReceiveCount, for
    `MessagesDeadLettered` too: at 0 without it, it would say "none" where it cannot know).
    Series whose values come from alerts (`source`, `team`) or are free text appear with their
    first event, which `increase()` cannot count (the README says so)."""
    for sink in sinks:
        for outcome in SINK_OUTCOMES.get(sink, ()):
            metrics.declare("SinkCalls", sink=sink, outcome=outcome)
    for outcome in LLM_OUTCOMES:
        metrics.declare("LLMCalls", outcome=outcome)
    for reason in (*_reasons(TriageError), *_RELEASE_REASONS):
        metrics.declare("MessagesFailed", reason=reason)
        if dead_letters:
            metrics.declare("MessagesDeadLettered", reason=reason)
    if dead_letters:  # given back undeleted by a stop, on their last receive
        for reason in (SHUTDOWN_REASON, DRY_RUN_REASON):
            metrics.declare("MessagesDeadLettered", reason=reason)
    for reason in _reasons(TransientError):
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
