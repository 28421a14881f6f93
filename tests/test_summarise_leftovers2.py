"""Summariser leftovers, second pass, each at the fastest level that shows it: a title states
no priority tag of its own (`[P0]`, `(P1)`, `[CRITICAL]`, `[Sev1]`), so the one each sink
shows is the ticket's, in both summarisers; and a ticket's JSON escaped as a string's inside
but written bare in prose (`Here: {\\"title\\": …}`) is read, within bounds."""

from __future__ import annotations

import json

import pytest

import triage.summarise.answer as answers
import triage.summarise.prompt as prompt
from factories import view
from test_summarise_hostile_answers import (
    ALERT,
    Model,
    bedrock_model,
    deterministic,
    model,
    openai_model,
    ticket_from,
)
from triage.models import EffectKind, Priority
from triage.sinks.base import Effect
from triage.sinks.github import text as github
from triage.summarise.priority import untagged

__all__ = ["bedrock_model", "model", "openai_model"]  # fixtures, used by name

TICKET = {
    "title": "Checkout API 5xx on web-1",
    "priority": "high",
    "description": "Errors on web-1.",
    "steps": ["Check web-1"],
}

# --- a title states no priority tag of its own --------------------------------------------------

#: (title, the title published, how many of its tags named another priority than high).
TAGGED = [
    pytest.param("[P0] Checkout down", "Checkout down", 1, id="p-level"),
    pytest.param("(P1) Checkout down", "Checkout down", 0, id="p-level-in-parentheses"),
    pytest.param("[CRITICAL] Checkout down", "Checkout down", 1, id="priority-word"),
    pytest.param("[Sev1] Checkout down", "Checkout down", 1, id="sev-level"),
    pytest.param("[sev-2] Checkout down", "Checkout down", 0, id="sev-level-with-dash"),
    pytest.param("[WARNING] Disk 91% full", "Disk 91% full", 1, id="severity-word"),
    pytest.param("Checkout down [P0]", "Checkout down", 1, id="at-the-end"),
    pytest.param("Checkout down (P 0).", "Checkout down.", 1, id="at-the-end-before-a-stop"),
    pytest.param("[P0] - Checkout down", "Checkout down", 1, id="with-a-separator"),
    pytest.param("[P0]: Checkout down", "Checkout down", 1, id="with-a-colon"),
    pytest.param("[Priority: P0] Checkout down", "Checkout down", 1, id="named"),
    pytest.param("[prio=urgent] Checkout down", "Checkout down", 1, id="named-with-equals"),
    pytest.param(
        "[FIRING:1] [P0] Checkout down", "[FIRING:1] Checkout down", 1, id="beside-another"
    ),
    pytest.param("[P0][checkout] Down", "[checkout] Down", 1, id="touching-another"),
    pytest.param("\u3010P0\u3011Checkout down", "Checkout down", 1, id="cjk-brackets"),
    pytest.param(
        "\u3010\u7d27\u6025\u3011\u652f\u4ed8\u5931\u8d25",
        "\u652f\u4ed8\u5931\u8d25",
        1,
        id="cjk-word",
    ),
    pytest.param("[P0] [P1] Checkout down", "Checkout down", 1, id="two-tags"),
    pytest.param("P0: Checkout down", "Checkout down", 1, id="leading-p-level"),
    pytest.param("SEV1 | Checkout down", "Checkout down", 1, id="leading-sev-level"),
    pytest.param("P1 - Checkout down", "Checkout down", 0, id="leading-p-level-agreeing"),
    pytest.param("[ P0 ] Checkout down", "Checkout down", 1, id="spaces-inside"),
]


@pytest.mark.parametrize(("title", "published", "contradicting"), TAGGED)
def test_a_titles_priority_tag_is_left_to_the_sinks(
    title: str, published: str, contradicting: int
) -> None:
    """A bracketed priority or severity level anywhere in a title, a named one, and a leading
    P- or Sev-level before a separator are taken out (each sink shows the ticket's priority
    its own way: GitHub's `[P1]` prefix), and those naming another priority are counted."""
    assert untagged(title, Priority.HIGH) == (published, contradicting)


@pytest.mark.parametrize(
    "title",
    [
        pytest.param("Checkout down [1]", id="a-number"),
        pytest.param("Checkout [web-1] down", id="a-host"),
        pytest.param("[Media] Upload failing", id="a-word-of-another-language"),
        pytest.param("Disk usage (high) on db-1", id="a-word-in-parentheses"),
        pytest.param("P0 latency budget spent", id="a-p-level-in-a-sentence"),
        pytest.param("[p95] latency over 2s", id="a-percentile"),
        pytest.param("High CPU on web-1", id="prose"),
        pytest.param("[P0 checkout] Down", id="more-than-a-level"),
        pytest.param("Sev1 incident review overdue", id="a-sev-level-in-a-sentence"),
        pytest.param("Latency [high](https://grafana.example.com/d/x)", id="a-link's-text"),
    ],
)
def test_a_title_without_a_priority_tag_is_left_as_written(title: str) -> None:
    """A number, a host or a word of another language in brackets, a word in parentheses, a
    level inside a sentence and a Markdown link's text tag no priority: the title is left as
    written."""
    assert untagged(title, Priority.HIGH) == (title, 0)


def test_a_title_of_tags_alone_is_empty() -> None:
    """A title that is nothing but a priority tag is empty once untagged, so the summariser
    writes another (the alert's own, or "Untitled … alert")."""
    assert untagged("[P0] ", Priority.HIGH) == ("", 1)


def _github_title(ticket_title: str, priority: Priority) -> str:
    """The GitHub issue title of an incident opening with a ticket of this title."""
    from triage.models import Ticket

    seen = view(ALERT)
    ticket = Ticket(title=ticket_title, priority=priority, description="d", steps=("s",))
    effect = Effect(EffectKind.OPEN, seen.fingerprint, seen, ticket, None, 1, 1, False, "k:1")
    return github.issue_title(effect)


@pytest.mark.parametrize(
    ("title", "stated", "published"),
    [
        ("[P0] Checkout down", Priority.HIGH, "Checkout down"),
        ("[P1] Checkout down", Priority.HIGH, "Checkout down"),
        ("[CRITICAL] Checkout down", Priority.LOW, "Checkout down"),
        ("[P0]", Priority.HIGH, "Untitled generic alert"),
    ],
)
def test_the_deterministic_ticket_title_states_no_priority_of_its_own(
    title: str, stated: Priority, published: str
) -> None:
    """An alert titled "[P0] Checkout down" whose priority field says high gets a ticket
    titled "Checkout down", so GitHub's issue reads "[P1] Checkout down", never "[P1] [P0] …";
    a title of a tag alone becomes "Untitled … alert"; a description written from the title
    (the alert has none) opens with the same."""
    source = ALERT.model_copy(update={"title": title, "priority": stated, "description": ""})
    ticket = deterministic(source)
    assert ticket.title == published
    assert ticket.description.startswith(f"{published}\n")
    assert _github_title(ticket.title, ticket.priority) == f"[P{stated.rank}] {published}"


@pytest.mark.parametrize(
    ("title", "rejects"),
    [("[P0] Checkout API 5xx on web-1", 1), ("Checkout API 5xx on web-1 (P1)", 0)],
)
async def test_the_models_title_states_no_priority_of_its_own(
    model: Model, title: str, rejects: int
) -> None:
    """A model's title tagged with another priority than the ticket's (or the ticket's own)
    is published untagged, the model's title otherwise kept, and a tag naming another
    priority counts among the grounding rejects."""
    model.queue(json.dumps({**TICKET, "title": title}))
    ticket, metrics = await ticket_from(model, ALERT.model_copy(update={"priority": Priority.HIGH}))
    assert metrics.counter("SummarizationFailures") == 0
    assert ticket.title == "Checkout API 5xx on web-1"
    assert metrics.counter("LLMGroundingRejects") == rejects


async def test_a_models_title_of_a_tag_alone_is_the_alerts_own(model: Model) -> None:
    """A model titling the ticket "[P0]" alone gets the alert's own title, itself untagged."""
    model.queue(json.dumps({**TICKET, "title": "[P0]"}))
    source = ALERT.model_copy(update={"priority": Priority.HIGH, "title": "[SEV1] Checkout 5xx"})
    ticket, metrics = await ticket_from(model, source)
    assert metrics.counter("SummarizationFailures") == 0
    assert ticket.title == "Checkout 5xx"


def test_the_prompt_asks_for_a_title_without_a_priority_tag() -> None:
    """The model is told what `untagged` enforces, so an honest model's title loses nothing
    and only a disobedient one's tag is counted."""
    system = " ".join(prompt.SYSTEM_PROMPT.split())
    assert 'no priority tag such as "[P1]"' in system


# --- escaped JSON written bare in prose -----------------------------------------------------------


def _escaped(found: object, times: int = 1) -> str:
    """`found`'s JSON escaped as a JSON string's inside `times` times, without the quotes."""
    text = json.dumps(found)
    for _ in range(times):
        text = json.dumps(text)[1:-1]
    return text


@pytest.mark.parametrize(
    "prose",
    [
        pytest.param("Here: {0}", id="after-prose"),
        pytest.param("{0}", id="alone"),
        pytest.param("Here is the ticket:\n{0}\nAnything else?", id="between-prose"),
        pytest.param("```json\n{0}\n```", id="fenced"),
        pytest.param("Sure. {{not json}} and then {0}.", id="after-a-brace-of-prose"),
    ],
)
def test_a_ticket_escaped_bare_in_prose_is_read(prose: str) -> None:
    """A ticket's JSON escaped as a JSON string's inside (`{\\"title\\": …}`) with no quotes
    around it, alone, in prose or in a fence, reads as that ticket."""
    assert answers.draft(prose.format(_escaped(TICKET))).model_dump() == TICKET


def test_an_escaped_tickets_own_escapes_are_read() -> None:
    """A line break, a quote, a backslash and a character beyond the BMP inside the escaped
    ticket's strings read as written; a line break between its keys (pretty-printed, then
    escaped) is whitespace."""
    ticket = {**TICKET, "description": 'Errors "5xx"\non C:\\web-1 \U0001f525'}
    pretty = json.dumps(json.dumps(ticket, indent=2))[1:-1]
    assert "\\n" in pretty
    assert answers.draft(f"Ticket: {pretty}").model_dump() == ticket


def test_a_ticket_escaped_twice_bare_in_prose_is_read() -> None:
    """A ticket escaped twice (`{\\\\\\"title\\\\\\": …}`) and written bare is read too."""
    assert answers.draft(f"Here: {_escaped(TICKET, 2)}").model_dump() == TICKET


def test_an_escaped_object_that_is_no_ticket_is_passed_over() -> None:
    """An escaped object without a ticket's fields before the ticket is passed over for it;
    with none after it, the answer stays invalid."""
    decoy = _escaped({"note": "decoy"})
    assert answers.draft(f"{decoy} then {_escaped(TICKET)}").title == TICKET["title"]
    with pytest.raises(json.JSONDecodeError):
        answers.draft(f"Only: {decoy}")


def test_only_the_first_escaped_objects_are_searched() -> None:
    """The search stops after `_STARTS` escaped openings: a ticket after more decoys than
    that is not read, so an answer of escaped braces costs a bounded number of parses."""
    decoy = _escaped({"note": "decoy"})
    within = " ".join([decoy] * (answers._STARTS - 1) + [_escaped(TICKET)])
    beyond = " ".join([decoy] * answers._STARTS + [_escaped(TICKET)])
    assert answers.draft(f"Tickets: {within}").title == TICKET["title"]
    with pytest.raises(json.JSONDecodeError):
        answers.draft(f"Tickets: {beyond}")


def test_an_escaped_object_longer_than_a_ticket_is_not_read() -> None:
    """An escaped object longer than `_ESCAPED_CHARS` is not unescaped past that bound, so it
    does not read, however long a hostile server makes it."""
    long = {**TICKET, "description": "x" * answers._ESCAPED_CHARS}
    with pytest.raises(json.JSONDecodeError):
        answers.draft(f"Here: {_escaped(long)}")
