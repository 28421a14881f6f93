"""Leftovers of the summariser, each at the fastest level that shows it: a ticket encoded twice
inside prose is read, and only as far as a bounded search goes; a line of the ticket stating
another priority than the ticket's is corrected, in both summarisers' tickets."""

from __future__ import annotations

import json

import pytest

import triage.summarise.answer as answers
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
from triage.summarise.priority import agreeing

__all__ = ["bedrock_model", "model", "openai_model"]  # fixtures, used by name

TICKET = {
    "title": "Checkout API 5xx on web-1",
    "priority": "high",
    "description": "Errors on web-1.",
    "steps": ["Check web-1"],
}


@pytest.mark.parametrize(
    "prose",
    [
        "Here you go: {0}",
        "Here you go:\n\n{0}\n\nAnything else?",
        'Before: "{{not a ticket}}" and "{{\\"a\\": 1}}", then {0}.',
    ],
)
def test_a_ticket_encoded_twice_inside_prose_is_read(prose: str) -> None:
    """A ticket JSON-encoded as a string and written inside prose (after quoted strings that
    hold no ticket) reads as that ticket."""
    quoted = json.dumps(json.dumps(TICKET))
    assert answers.draft(prose.format(quoted)).model_dump() == TICKET


def test_only_the_first_quoted_objects_are_searched() -> None:
    """The search for a quoted ticket stops after `_STARTS` strings that open with an object:
    a ticket quoted after more decoys than that is not read, so a hostile answer of quoted
    braces costs a bounded number of parses."""
    decoy = json.dumps(json.dumps({"note": "decoy"}))
    quoted = json.dumps(json.dumps(TICKET))
    within = " ".join([decoy] * (answers._STARTS - 1) + [quoted])
    beyond = " ".join([decoy] * answers._STARTS + [quoted])
    assert answers.draft(f"Tickets: {within}").title == TICKET["title"]
    with pytest.raises(json.JSONDecodeError):
        answers.draft(f"Tickets: {beyond}")


# --- a line stating another priority than the ticket's ----------------------------------------

#: (text, the ticket's priority, the text published).
CONTRADICTED = [
    pytest.param(
        "Priority: critical\nErrors on web-1.",
        Priority.HIGH,
        "Priority: high (corrected from critical)\nErrors on web-1.",
        id="plain",
    ),
    pytest.param(
        "**Priority:** critical",
        Priority.HIGH,
        "**Priority:** high (corrected from critical)",
        id="markdown-key",
    ),
    pytest.param(
        "Priority: **critical**.",
        Priority.LOW,
        "Priority: **low (corrected from critical)**.",
        id="markdown-value",
    ),
    pytest.param(
        "Severity: P0. Errors on web-1.",
        Priority.HIGH,
        "Severity: P1 (corrected from P0). Errors on web-1.",
        id="severity-p-level",
    ),
    pytest.param(
        "PRIORITY=P 0 | TEAM=payments",
        Priority.MEDIUM,
        "PRIORITY=P2 (corrected from P 0) | TEAM=payments",
        id="key-value-segments",
    ),
    pytest.param(
        "| Priority | critical |",
        Priority.HIGH,
        "| Priority | high (corrected from critical) |",
        id="table-row",
    ),
    pytest.param(
        "Priorität: kritisch",
        Priority.HIGH,
        "Priorität: high (corrected from kritisch)",
        id="german",
    ),
    pytest.param(
        "Priorité : basse", Priority.HIGH, "Priorité : high (corrected from basse)", id="french"
    ),
    pytest.param(
        "优先级\uff1a紧急", Priority.HIGH, "优先级\uff1ahigh (corrected from 紧急)", id="chinese"
    ),
    pytest.param(
        "Приоритет: низкий",
        Priority.HIGH,
        "Приоритет: high (corrected from низкий)",
        id="russian",
    ),
    pytest.param(
        "Prio: urgent - page now\nPriority: low",
        Priority.HIGH,
        "Prio: high (corrected from urgent) - page now\nPriority: high (corrected from low)",
        id="every-line",
    ),
]


@pytest.mark.parametrize(("text", "final", "published"), CONTRADICTED)
def test_a_line_stating_another_priority_is_corrected(
    text: str, final: Priority, published: str
) -> None:
    """A "Key: value" statement of a priority (Priority, Prio, a P-level under Severity, in the
    languages the summariser reads priority words in; Markdown around it, a table cell, a
    `KEY=value` segment) that is not the ticket's is made to state the ticket's, keeping what
    it said: the ticket no longer contradicts itself."""
    assert agreeing(text, final) == (published, published.count("corrected from"))


@pytest.mark.parametrize(
    ("text", "final"),
    [
        pytest.param("Priority: high, one step above medium.", Priority.HIGH, id="agrees"),
        pytest.param("Priority: P1 (page the on-call)", Priority.HIGH, id="agrees-p-level"),
        pytest.param("Priorität: hoch", Priority.HIGH, id="agrees-german"),
        pytest.param("Severity: critical", Priority.LOW, id="severity-is-not-priority"),
        pytest.param("Priority: high availability cluster", Priority.LOW, id="no-statement"),
        pytest.param("The priority: to restore checkout.", Priority.LOW, id="no-priority-word"),
        pytest.param("Priority of the queue is critical", Priority.LOW, id="not-key-value"),
        pytest.param("Reprioritise: critical", Priority.LOW, id="inside-a-word"),
    ],
)
def test_text_stating_no_other_priority_is_left_as_written(text: str, final: Priority) -> None:
    """A statement that agrees with the ticket, a severity word under Severity (severity is not
    priority), and text that states no priority as a key and a value are left as written."""
    assert agreeing(text, final) == (text, 0)


@pytest.mark.parametrize(
    ("severity", "published"),
    [
        pytest.param("P2", "Severity: P2", id="the-alerts-own-severity"),
        pytest.param("p 2", "Severity: P2", id="the-alerts-own-severity-spelled-otherwise"),
        pytest.param("warning", "Severity: P1 (corrected from P2)", id="another-severity"),
        pytest.param(None, "Severity: P1 (corrected from P2)", id="no-severity"),
    ],
)
def test_a_severity_the_alert_itself_has_is_no_contradiction(
    severity: str | None, published: str
) -> None:
    """A P-level under a severity's name that is the alert's own severity is a fact about the
    alert (the ticket's note says how priority moved from it): left as written; one the alert
    does not have is corrected."""
    assert agreeing("Severity: P2", Priority.HIGH, severity=severity)[0] == published


def test_the_deterministic_ticket_corrects_the_alerts_own_contradiction() -> None:
    """An alert whose priority field says high and whose description says "Priority: critical"
    gets a high ticket whose description says high, and what the alert wrote."""
    alert = ALERT.model_copy(
        update={"priority": Priority.HIGH, "description": "**Priority:** critical\nDisk full."}
    )
    ticket = deterministic(alert)
    assert ticket.priority is Priority.HIGH
    assert "**Priority:** high (corrected from critical)\nDisk full." in ticket.description
    assert "Priority:** critical" not in ticket.description


@pytest.mark.parametrize(
    ("stated", "expected"), [(None, Priority.HIGH), (Priority.LOW, Priority.LOW)]
)
async def test_the_models_ticket_states_its_own_priority_only(
    model: Model, stated: Priority | None, expected: Priority
) -> None:
    """A model answering priority high (or any, beside the source's stated low) with a
    description and steps saying "Priority: critical" publishes the ticket's priority in
    them, what was written kept, and counts each correction among the grounding rejects."""
    answer = {
        **TICKET,
        "priority": "high",
        "description": "Priority: critical\nErrors on web-1.",
        "steps": ["Severity: P0 - page the on-call", "Check web-1"],
    }
    model.queue(json.dumps(answer))
    ticket, metrics = await ticket_from(model, ALERT.model_copy(update={"priority": stated}))
    assert metrics.counter("SummarizationFailures") == 0
    assert ticket.priority is expected
    assert ticket.description.startswith(
        f"Priority: {expected} (corrected from critical)\nErrors on web-1."
    )
    assert ticket.steps[0] == f"Severity: P{_P[expected]} (corrected from P0) - page the on-call"
    assert metrics.counter("LLMGroundingRejects") == 2


_P = {Priority.CRITICAL: 0, Priority.HIGH: 1, Priority.MEDIUM: 2, Priority.LOW: 3}
