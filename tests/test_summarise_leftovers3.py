"""Summariser leftovers, third pass, at the fastest level that shows each: nothing inside a link
or code is a statement or a tag of a priority (a runbook's `?priority=critical` is left whole),
and a tag in a ticket's text ("[P0] Checkout is down" in the description or a step, "P0: …"
opening a line, "… - P0" ending one) is corrected to the ticket's priority as a statement is,
while a title loses a level at its end as it does one at its start."""

from __future__ import annotations

import json

import pytest

from test_summarise_hostile_answers import (
    ALERT,
    Model,
    bedrock_model,
    deterministic,
    model,
    openai_model,
    ticket_from,
)
from triage.models import Priority
from triage.summarise.priority import agreeing, untagged

__all__ = ["bedrock_model", "model", "openai_model"]  # fixtures, used by name

RUNBOOK = "https://runbooks.example.com/checkout?priority=critical"

# --- nothing inside a link or code states a priority -------------------------------------------

#: Text whose only statement or tag of a priority is inside a link or code.
VERBATIM = [
    pytest.param(f"Runbook: {RUNBOOK}", id="a-query-ending-the-line"),
    pytest.param(f"See {RUNBOOK}.", id="a-query-before-a-full-stop"),
    pytest.param(f"See [the runbook]({RUNBOOK})", id="a-markdown-link-target"),
    pytest.param("See [the runbook](/runbooks/checkout?priority=critical)", id="a-relative-link"),
    pytest.param(f"See <{RUNBOOK}>", id="an-autolink"),
    pytest.param("Runbook: runbooks.example.com/checkout?priority=critical", id="no-scheme"),
    pytest.param("Grafana: https://grafana.example.com/d/x?severity=P0", id="a-severity-query"),
    pytest.param("Run `curl https://x.example.com/api?prio=urgent`", id="inline-code"),
    pytest.param("Set `priority: critical` in the rule", id="inline-code-statement"),
    pytest.param("```yaml\npriority: critical\nlabels: [P0]\n```", id="a-fenced-block"),
    pytest.param("Open https://x.example.com/board/[P0] now", id="a-tag-in-a-url"),
    pytest.param("Open https://x.example.com/(P0)", id="a-parenthesised-tag-in-a-url"),
    pytest.param("Check `[P0]` labels", id="a-tag-in-inline-code"),
]


@pytest.mark.parametrize("text", VERBATIM)
def test_nothing_inside_a_link_or_code_is_corrected(text: str) -> None:
    """A priority stated or tagged inside a URL (a query, a path, a Markdown link's target,
    an autolink, one without a scheme) or inside code is part of the link or the code: the
    text is left as written, so the link still works."""
    assert agreeing(text, Priority.HIGH) == (text, 0)


@pytest.mark.parametrize(
    "title",
    [
        pytest.param("Checkout down https://x.example.com/board/[P0]", id="a-url"),
        pytest.param("Checkout [down](https://x.example.com/[P0])", id="a-link-target"),
        pytest.param("Checkout down `[P0]`", id="inline-code"),
        pytest.param("Checkout down https://x.example.com/(P0)", id="parentheses-in-a-url"),
    ],
)
def test_a_tag_inside_a_link_or_code_stays_in_the_title(title: str) -> None:
    """A bracketed level inside a URL, a Markdown link's target or inline code is no tag of
    the title's: the title is left as written."""
    assert untagged(title, Priority.HIGH) == (title, 0)


def test_a_statement_beside_a_link_is_still_corrected() -> None:
    """A statement outside the link on the same line is corrected; the link is left whole."""
    text = f"Priority: critical, runbook {RUNBOOK}"
    published = f"Priority: high (corrected from critical), runbook {RUNBOOK}"
    assert agreeing(text, Priority.HIGH) == (published, 1)


def test_the_deterministic_ticket_keeps_the_runbook_link_whole() -> None:
    """An alert's description quoting its runbook link with `?priority=critical` beside a
    high priority field: the ticket's description holds the link unchanged."""
    alert = ALERT.model_copy(
        update={"priority": Priority.HIGH, "description": f"Checkout 5xx.\nRunbook: {RUNBOOK}"}
    )
    ticket = deterministic(alert)
    assert f"Runbook: {RUNBOOK}\n" in ticket.description + "\n"
    assert "corrected from" not in ticket.description


# --- a tag in a ticket's text states a priority ------------------------------------------------

#: (text, the text published beside a high ticket).
BODY_TAGS = [
    pytest.param("[P0] Checkout is down", "[P1, corrected from P0] Checkout is down", id="p"),
    pytest.param(
        "Checkout is down (P0).", "Checkout is down (P1, corrected from P0).", id="parentheses"
    ),
    pytest.param(
        "[CRITICAL] Checkout is down", "[high, corrected from CRITICAL] Checkout is down", id="w"
    ),
    pytest.param(
        "Errors rose.\n[Sev1] Checkout is down",
        "Errors rose.\n[high, corrected from Sev1] Checkout is down",
        id="on-a-later-line",
    ),
    pytest.param(
        "[Priority: P0] Checkout", "[Priority: P1 (corrected from P0)] Checkout", id="named"
    ),
    pytest.param(
        "P0: Checkout is down", "P1 (corrected from P0): Checkout is down", id="opening-a-line"
    ),
    pytest.param(
        "Errors rose.\nSEV1 | Checkout is down",
        "Errors rose.\nhigh (corrected from SEV1) | Checkout is down",
        id="opening-a-later-line",
    ),
    pytest.param(
        "Checkout is down - P0", "Checkout is down - P1 (corrected from P0)", id="ending-a-line"
    ),
    pytest.param(
        "Checkout is down: P0.\nMore.",
        "Checkout is down: P1 (corrected from P0).\nMore.",
        id="ending-a-line-before-a-stop",
    ),
]


@pytest.mark.parametrize(("text", "published"), BODY_TAGS)
def test_a_tag_in_a_tickets_text_is_corrected(text: str, published: str) -> None:
    """A priority tag in a description or step (bracketed anywhere, a level opening or ending
    a line after a separator) naming another priority than the ticket's states the ticket's,
    what it said kept, and is counted, as a "Priority: …" statement is."""
    assert agreeing(text, Priority.HIGH) == (published, 1)


@pytest.mark.parametrize(("text", "published"), BODY_TAGS)
def test_a_corrected_tag_is_corrected_once(text: str, published: str) -> None:
    """A corrected tag states the ticket's priority: reading the text again (the pipeline
    settles a ticket's text more than once) changes nothing."""
    assert agreeing(published, Priority.HIGH) == (published, 0)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("[P1] Checkout is down", id="agrees"),
        pytest.param("Checkout is down - P1", id="agrees-at-the-end"),
        pytest.param("Disk usage (high) on db-1", id="a-word-in-parentheses"),
        pytest.param("See [1] and [web-1]", id="no-level"),
        pytest.param("[Media] uploads fail", id="a-word-of-another-language"),
        pytest.param("The P0 budget is spent", id="a-level-in-a-sentence"),
        pytest.param("Latency [critical](https://grafana.example.com/d/x)", id="a-links-text"),
        pytest.param("Upgrade the app to p2 now", id="no-separator"),
        pytest.param("Disk is full.\nImpact | P1", id="agrees-after-a-pipe"),
    ],
)
def test_text_without_another_priority_tag_is_left(text: str) -> None:
    """A tag agreeing with the ticket, brackets holding no priority, a level inside a
    sentence and a Markdown link's text are left as written."""
    assert agreeing(text, Priority.HIGH) == (text, 0)


async def test_the_models_description_and_steps_state_the_tickets_priority(
    model: Model,
) -> None:
    """A model's description "[P0] Checkout is down" and step "Page the on-call - P0" beside
    a high ticket publish high, what was written kept, each counted among the rejects."""
    answer = {
        "title": "Checkout API 5xx on web-1",
        "priority": "high",
        "description": "[P0] Checkout is down on web-1.",
        "steps": ["Check web-1 - P0", "Check web-1 again"],
    }
    model.queue(json.dumps(answer))
    ticket, metrics = await ticket_from(model, ALERT.model_copy(update={"priority": Priority.HIGH}))
    assert metrics.counter("SummarizationFailures") == 0
    assert ticket.description.startswith("[P1, corrected from P0] Checkout is down on web-1.")
    assert ticket.steps[0] == "Check web-1 - P1 (corrected from P0)"
    assert metrics.counter("LLMGroundingRejects") == 2


def test_the_deterministic_ticket_corrects_a_tag_in_the_alerts_description() -> None:
    """An alert whose description opens "[P0]" beside a high priority field gets a high
    ticket whose description says P1, and what the alert wrote."""
    alert = ALERT.model_copy(
        update={"priority": Priority.HIGH, "description": "[P0] Checkout is down."}
    )
    ticket = deterministic(alert)
    assert ticket.description.startswith("[P1, corrected from P0] Checkout is down.")


# --- a title's level at its end is a tag --------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "published", "contradicting"),
    [
        pytest.param("Checkout down - P0", "Checkout down", 1, id="after-a-dash"),
        pytest.param("Checkout down (P0)", "Checkout down", 1, id="in-parentheses"),
        pytest.param("Checkout down | SEV1", "Checkout down", 1, id="after-a-pipe"),
        pytest.param("Checkout down: P1", "Checkout down", 0, id="after-a-colon-agreeing"),
        pytest.param("Checkout down \u2014 p 0.", "Checkout down.", 1, id="before-a-stop"),
        pytest.param("[P0] Checkout down - P0", "Checkout down", 2, id="both-ends"),
        pytest.param(
            "https://x.example.com/a down - P0", "https://x.example.com/a down", 1, id="after-a-url"
        ),
    ],
)
def test_a_level_ending_a_title_is_taken_out(
    title: str, published: str, contradicting: int
) -> None:
    """A P- or Sev-level ending a title after a separator is a tag as one opening it is:
    taken out, and counted when it names another priority than the ticket's."""
    assert untagged(title, Priority.HIGH) == (published, contradicting)


@pytest.mark.parametrize(
    "title",
    [
        pytest.param("Upgrade blocked by P0", id="no-separator"),
        pytest.param("Checkout down - P0 budget", id="not-at-the-end"),
        pytest.param("Checkout down - P9", id="past-the-scale"),
        pytest.param("Latency over p95", id="a-percentile"),
        pytest.param("Disk full - Severity: P2", id="a-statements-value"),
    ],
)
def test_a_title_without_a_level_at_its_end_is_left(title: str) -> None:
    """A level without a separator before it, one that does not end the title, one past the
    scale and a percentile are left as written."""
    assert untagged(title, Priority.HIGH) == (title, 0)


async def test_the_models_title_loses_a_level_at_its_end(model: Model) -> None:
    """A model titling the ticket "Checkout API 5xx on web-1 - P0" beside a high ticket
    publishes "Checkout API 5xx on web-1", the tag counted among the rejects."""
    answer = {
        "title": "Checkout API 5xx on web-1 - P0",
        "priority": "high",
        "description": "Errors on web-1.",
        "steps": ["Check web-1"],
    }
    model.queue(json.dumps(answer))
    ticket, metrics = await ticket_from(model, ALERT.model_copy(update={"priority": Priority.HIGH}))
    assert ticket.title == "Checkout API 5xx on web-1"
    assert metrics.counter("LLMGroundingRejects") == 1
