"""Summariser round 11: the model's ticket as `contain` publishes it.

A time the alert states with a one-digit hour ("8:14:02 AM", CodeBuild's) is grounded when the
model copies it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from factories import view
from triage.models import Alert, Status
from triage.redact import Redactor
from triage.summarise import grounding, prompt
from triage.summarise.grounding import MARK
from triage.summarise.llm import contain

TITLE = "Checkout API 5xx on web-1"


def _alert(description: str) -> Alert:
    return Alert(
        source="generic",
        status=Status.FIRING,
        title=TITLE,
        severity="warning",
        description=description,
        links={"dashboard": "https://grafana.example.com/d/x"},
        occurred_at=datetime(2026, 11, 23, 9, 0, tzinfo=UTC),
        identity={"dedup_key": "checkout-5xx"},
    )


SOURCE = _alert("error rate 12% on web-1, see https://grafana.example.com/d/x")


def contained(
    description: str, steps: list[str], source: Alert = SOURCE
) -> tuple[str, list[str], dict[str, int]]:
    """The description, steps and rejected kinds `contain` publishes for `source`."""
    redactor = Redactor()
    shown = grounding.evidence(prompt.alert_view(view(source), redactor, 6000))
    draft = prompt.TicketDraft(title=TITLE, priority="medium", description=description, steps=steps)
    result = contain(draft, view(source), redactor, shown)
    return result.ticket.description, list(result.ticket.steps), dict(result.rejected)


# --- a time the alert states with a one-digit hour ---------------------------------------------


@pytest.mark.parametrize(
    ("stated", "written"),
    [
        pytest.param("8:14:02 AM", "8:14:02 AM", id="codebuild-start-time"),
        pytest.param("8:14", "8:14", id="hour-minute"),
        pytest.param("8:14:02", "08:14:02", id="model-pads-the-hour"),
        pytest.param("08:14", "8:14", id="model-drops-the-zero"),
    ],
)
def test_a_time_the_alert_states_with_a_one_digit_hour_is_grounded(
    stated: str, written: str
) -> None:
    """A clock the alert states ("Dec 5, 2026 8:14:02 AM") grounds the model's copy of it,
    with or without the hour's leading zero: a faithful ticket is not marked."""
    source = _alert(f"build started {stated} on web-1")
    description, _, rejected = contained(
        f"Build started {written} on web-1.", ["Check web-1"], source
    )
    assert description == f"Build started {written} on web-1."
    assert rejected == {}


@pytest.mark.parametrize("written", ["8:15", "18:14", "08:41", "9:00:05"])
def test_a_time_the_alert_never_states_is_still_marked(written: str) -> None:
    """Another clock than the alert's 8:14:02 (or its timestamp's 09:00) stays a fact the
    alert never stated: the hour's two spellings are one time, not any time."""
    source = _alert("build started 8:14:02 AM on web-1")
    description, _, rejected = contained(
        f"Build started {written} on web-1.", ["Check web-1"], source
    )
    assert description == f"Build started {MARK} on web-1."
    assert rejected == {"time": 1}
