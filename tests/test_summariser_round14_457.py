"""Summariser round 14: a step that silences the alert by changing its rule, and more.

A step that loosens the alert's own rule (its threshold raised, its `for:` duration or
evaluation periods lengthened, the rule relaxed or edited "so it stops firing"), puts it on
an ignore list, inhibits it, routes it to a null receiver or sets its severity to info stops
the next page as surely as "mute the monitor" does: it is marked as that is, gated as
ungated. Tuning anything else (a pool, a timeout, a memory limit) or checking the rule is
kept."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from factories import view
from triage.models import Alert, Status
from triage.redact import Redactor
from triage.summarise import claims, grounding, prompt
from triage.summarise.grounding import MARK
from triage.summarise.llm import contain

TITLE = "Checkout API 5xx on web-1"

SOURCE = Alert(
    source="generic",
    status=Status.FIRING,
    title=TITLE,
    severity="warning",
    description="error rate 12% on web-1",
    occurred_at=datetime(2026, 11, 23, 9, 0, tzinfo=UTC),
    identity={"dedup_key": "checkout-5xx"},
)


def _contained(
    description: str, steps: list[str], source: Alert = SOURCE
) -> tuple[str, list[str], dict[str, int]]:
    """The description, steps and rejected kinds `contain` publishes for `source`."""
    redactor = Redactor()
    shown = grounding.evidence(prompt.alert_view(view(source), redactor, 6000))
    draft = prompt.TicketDraft(title=TITLE, priority="medium", description=description, steps=steps)
    result = contain(draft, view(source), redactor, shown)
    return result.ticket.description, list(result.ticket.steps), dict(result.rejected)


def _ungated(text: str) -> tuple[str, int]:
    """What every language's claims mark in `text`, with no literal gate before them."""
    marked = 0
    for language in claims._LANGUAGES:
        text, count = claims._marked_in(text, language)
        marked += count
    return text, marked


# --- a step silencing the alert by changing its rule -------------------------------------------

_RETUNING = [
    "Raise the threshold so it stops firing",
    "Raise the threshold",
    "Increase the for: duration",
    "Set the alarm's evaluation periods to 100",
    "Add it to the ignore list",
    "Raise the alert threshold to 50%",
    "Bump the threshold to 99%",
    "Increase the alert's threshold above the current error rate",
    "Change the alert rule's for: to 24h",
    "Set for: 1h on the CheckoutErrors rule",
    "Increase the evaluation window to 1 day",
    "Set EvaluationPeriods to 100 on the alarm",
    "Set datapoints to alarm to 100 of 100",
    "Increase the pending period to 24 hours",
    "Raise the threshold of the CheckoutErrors alert",
    "Add checkout-5xx to the ignore list",
    "Add this alert to the exclusion list",
    "Add web-1 to the alert's allowlist",
    "Add web-1 to the allowlist of the alert",
    "Lower the alert threshold sensitivity",
    "Increase the alert's duration so it fires less",
    "Exclude web-1 from the CheckoutErrors alert",
    "Relax the alert condition",
    "Loosen the alerting rule",
    "Tune the alert so it stops firing",
    "Edit the rule so that it no longer fires",
    "Adjust the alert's query to stop it from firing",
    "Comment out the alert rule in the Prometheus rules file",
    "Add an inhibit rule for CheckoutErrors",
    "Route the alert to the null receiver",
    "Set the alert's receiver to blackhole",
    "Set the severity label to info",
    "Change the alert's severity to info",
    "aws cloudwatch put-metric-alarm --alarm-name checkout --threshold 100000",
    "kubectl edit prometheusrule checkout-alerts -n monitoring",
]


@pytest.mark.parametrize("step", _RETUNING)
def test_a_step_silencing_the_alert_by_changing_its_rule_is_marked(step: str) -> None:
    """A step that loosens the alert's rule (threshold, `for:`, evaluation periods, pending
    period), relaxes or edits it so it stops firing, lists it to be ignored or excluded,
    inhibits it, routes it nowhere or sets its severity to info silences it: it is marked,
    gated as ungated."""
    _, steps, rejected = _contained("Errors on web-1.", ["Check web-1", step])
    assert MARK in steps[1], steps
    assert rejected == {"claim": 1}
    assert claims._marked_claims(step) == _ungated(step)


@pytest.mark.parametrize(
    "step",
    [
        "Raise the connection pool size to 50",
        "Increase the timeout to 30 s",
        "Raise the memory limit of web-1",
        "Check the alert's threshold and for: duration",
        "Review whether the threshold fits the traffic after the incident",
        "Do not raise the threshold",
        "Increase the replica count to 4",
        "Add web-1's IP to the firewall allow list",
        "Add the new host to the inventory list",
        "Change the log level to info",
        "Set the log severity filter to debug while you reproduce it",
        "Roll back the 09:00 deploy so the alert stops firing",
        "Restart web-1 so it stops failing",
        "Increase the autoscaler's CPU threshold for scale-out",
        "Exclude the health checker from the access log",
        "Route traffic to the standby region",
    ],
)
def test_a_step_changing_something_else_is_kept(step: str) -> None:
    """Tuning a pool, a timeout, a limit, a log level or the autoscaler, checking the rule,
    a negation, a fix whose goal is that the alert stops, or listing a host elsewhere silences
    no alert: the step is kept."""
    _, steps, rejected = _contained("Errors on web-1.", ["Check web-1", step])
    assert steps == ["Check web-1", step]
    assert rejected == {}
    assert _ungated(step) == (step, 0)


def test_a_rule_change_in_the_description_is_marked() -> None:
    """The same advice written in the description is marked there too."""
    description, _, rejected = _contained(
        "Errors on web-1. Raise the threshold so it stops firing.", ["Check web-1"]
    )
    assert description.startswith("Errors on web-1. ")
    assert MARK in description
    assert rejected == {"claim": 1}


def test_a_resolved_alert_may_be_retuned() -> None:
    """A resolved alert's ticket may advise raising its threshold (a post-incident tuning):
    claims are checked only for a firing alert."""
    resolved = SOURCE.model_copy(update={"status": Status.RESOLVED})
    _, steps, rejected = _contained("Errors on web-1.", ["Raise the threshold"], resolved)
    assert steps == ["Raise the threshold"]
    assert rejected == {}
