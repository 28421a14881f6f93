"""Summariser round 13: an answer written as YAML, a dismissal over a line break, and more.

A model that ignores the JSON contract may answer in YAML (fenced or bare `key: value` lines):
it is read when its meaning is plain (block scalars, lists, quoted scalars) and refused as
`ambiguous_answer` when it is not (a key given twice, anchors, tags, a second document). A
dismissal by waiting ("wait for it to clear on its own") is one whatever whitespace stands
between its words, a line break too (Markdown renders a single one as a space)."""

from __future__ import annotations

import contextlib
import io
import json
from datetime import UTC, datetime

import pytest

import triage.summarise.answer as answers
from factories import view
from scaling import assert_linear
from test_summarise_hostile_answers import (
    Model,
    bedrock_model,
    deterministic,
    logs,
    model,
    openai_model,
    ticket_from,
)
from triage.models import Alert, Status
from triage.redact import Redactor
from triage.summarise import FALLBACK_REASONS, claims, grounding, prompt
from triage.summarise.grounding import MARK
from triage.summarise.llm import contain

__all__ = ["bedrock_model", "logs", "model", "openai_model"]  # fixtures, used by name

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


def _contained(description: str, steps: list[str]) -> tuple[str, list[str], dict[str, int]]:
    """The description, steps and rejected kinds `contain` publishes for SOURCE."""
    redactor = Redactor()
    shown = grounding.evidence(prompt.alert_view(view(SOURCE), redactor, 6000))
    draft = prompt.TicketDraft(title=TITLE, priority="medium", description=description, steps=steps)
    result = contain(draft, view(SOURCE), redactor, shown)
    return result.ticket.description, list(result.ticket.steps), dict(result.rejected)


def _ungated(text: str) -> tuple[str, int]:
    """What every language's claims mark in `text`, with no literal gate before them."""
    marked = 0
    for language in claims._LANGUAGES:
        text, count = claims._marked_in(text, language)
        marked += count
    return text, marked


# --- an answer in YAML -------------------------------------------------------------------------

EXPECTED = prompt.TicketDraft(
    title="Disk full on db-1",
    priority="high",
    description="Disk /data at 97% on db-1.\nGrowing 2% an hour.",
    steps=["Check db-1's disk usage", "Free space under /data"],
)

_YAML = """title: Disk full on db-1
priority: high
description: |
  Disk /data at 97% on db-1.
  Growing 2% an hour.
steps:
  - Check db-1's disk usage
  - Free space under /data
"""


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(_YAML, id="bare"),
        pytest.param(f"```yaml\n{_YAML}```", id="fenced"),
        pytest.param(f"Here is the ticket:\n\n```yml\n{_YAML}```\nHope this helps.", id="prose"),
        pytest.param(f"---\n{_YAML}...\n", id="document-markers"),
        pytest.param(_YAML.replace("  - ", "- "), id="list-at-key-indent"),
        pytest.param(
            "title: \"Disk full on db-1\"\npriority: 'high'\n"
            'description: "Disk /data at 97% on db-1.\\nGrowing 2% an hour."\n'
            'steps: ["Check db-1\'s disk usage", "Free space under /data"]\n',
            id="quoted-and-flow",
        ),
        pytest.param(
            "Title: Disk full on db-1\nPriority: High\n"
            "Description: |-\n  Disk /data at 97% on db-1.\n  Growing 2% an hour.\n"
            "Next Steps:\n  - 'Check db-1''s disk usage'\n  - Free space\n    under /data\n",
            id="synonyms-and-folding",
        ),
        pytest.param(
            "# ticket\ntitle: Disk full on db-1\npriority: high\n"
            "description: >\n  Disk /data at 97%\n  on db-1.\n\n  Growing 2% an hour.\n"
            "steps:\n  - Check db-1's disk usage\n\n  - Free space under /data\n",
            id="folded-block",
        ),
    ],
)
def test_an_answer_in_yaml_is_read_as_its_ticket(text: str) -> None:
    """A ticket written as YAML (bare, fenced, after prose; block, folded, quoted and flow
    scalars, a list at its key's indent, a field under a synonym) is the ticket it plainly
    is, as its JSON would be."""
    assert answers.draft(text) == EXPECTED


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(_YAML + "description: something else\n", id="key-twice"),
        pytest.param(_YAML + "next_steps:\n  - Ignore the alert\n", id="synonym-twice"),
        pytest.param(_YAML.replace("title: Disk", "title: &t Disk"), id="anchor"),
        pytest.param(_YAML.replace("priority: high", "priority: !!str high"), id="tag"),
        pytest.param(_YAML + "---\n" + _YAML, id="two-documents"),
        pytest.param(_YAML.replace("steps:\n", "steps: Check it\n"), id="value-and-list"),
        pytest.param(_YAML.replace("  Growing", "Growing"), id="unindented-line"),
        pytest.param(
            _YAML.replace("description: |", 'description: "Disk /data\n  at 97%"  '),
            id="quote-over-lines",
        ),
    ],
)
def test_an_ambiguous_yaml_answer_is_refused_as_such(text: str) -> None:
    """YAML whose ticket is not plain (a field given twice, under two names too, an anchor, a
    tag, two documents, a value and a list, a line that belongs to no field) is refused as
    ambiguous, not guessed at."""
    with pytest.raises(answers.AmbiguousAnswer):
        answers.draft(text)


def test_prose_with_colons_is_no_yaml_ticket() -> None:
    """Prose whose lines hold colons ("Note: …") is no ticket: still refused as no JSON."""
    with pytest.raises(json.JSONDecodeError):
        answers.draft("Note: I could not read the alert.\nReason: it was empty.")


def test_ambiguous_answer_is_a_named_fallback_reason() -> None:
    """`LLMFallbacks` counts an ambiguous answer by its own reason, not as `other`."""
    assert "ambiguous_answer" in FALLBACK_REASONS


async def test_a_yaml_answer_is_published_once_contained(model: Model) -> None:
    """The summariser publishes a YAML answer's ticket, checked as a JSON one is: its
    dismissal of a firing alert is marked, and no fallback is counted."""
    model.queue(
        "```yaml\ntitle: Checkout API 5xx on web-1\npriority: high\n"
        "description: >\n  Errors on web-1,\n  all clear.\nsteps:\n  - Check web-1\n```"
    )
    ticket, metrics = await ticket_from(model)
    assert ticket.title == "Checkout API 5xx on web-1"
    assert ticket.description.startswith(f"Errors on web-1, {MARK}.")
    assert ticket.steps[0] == "Check web-1"
    assert metrics.counter("LLMFallbacks", reason="ambiguous_answer") == 0


async def test_an_ambiguous_yaml_answer_falls_back_as_such(model: Model, logs: io.StringIO) -> None:
    """An ambiguous YAML answer (a description given twice) is not guessed at: the
    deterministic ticket is written and `LLMFallbacks` says `ambiguous_answer`."""
    model.queue(
        "title: Checkout API 5xx on web-1\ndescription: Errors on web-1.\n"
        "steps:\n  - Check web-1\ndescription: It was only a test.\n"
    )
    ticket, metrics = await ticket_from(model)
    assert ticket == deterministic()
    assert metrics.counter("LLMFallbacks", reason="ambiguous_answer") == 1


def test_reading_yaml_is_linear() -> None:
    """A YAML answer of many lines or steps costs time in proportion to its length."""

    def read(n: int) -> None:
        for text in (
            "title: x\ndescription: |\n" + "  line\n" * n + "steps:\n  - a\n",
            "title: x\ndescription: d\nsteps:\n" + "  - step\n" * n,
            "title: x\ndescription: d\nsteps:\n  - a\n" + "    more\n" * n,
            "a: b\n" * n,
        ):
            with contextlib.suppress(ValueError):
                answers.draft(text)

    assert_linear(read, 200)


# --- a dismissal by waiting, whatever whitespace stands between its words ---------------------

_WHITESPACE = ["\t", "\u00a0", "\n", "\r\n", " \n  ", "\n\n", "\u2003", "\u3000", "  \t "]


@pytest.mark.parametrize("gap", _WHITESPACE, ids=repr)
@pytest.mark.parametrize(
    "phrase",
    [
        "Wait for it to clear on its{}own.",
        "Wait for it to clear{}on its own.",
        "Let the errors{}subside by themselves.",
        "Resolve the{}PagerDuty incident.",
    ],
)
def test_a_dismissal_is_marked_whatever_whitespace_splits_it(phrase: str, gap: str) -> None:
    """A tab, a non-breaking or wide space, a run of them or a line break between a dismissal's
    words (Markdown renders a single line break as a space) hides no dismissal: it is marked
    in a description as in a step, gated as ungated."""
    text = phrase.format(gap)
    assert claims._marked_claims(text) == _ungated(text)
    assert claims._marked_claims(text)[1] == 1, text
    description, steps, rejected = _contained(f"Errors on web-1.\n{text}", ["Check web-1", text])
    assert MARK in description
    assert MARK in steps[1]
    assert rejected == {"claim": 2}


@pytest.mark.parametrize(
    "text",
    [
        "Check whether it clears\non its own.",
        "Do not wait for it to clear\non its own.",
        "Wait for the deploy to finish,\nthen check web-1.",
        "Errors on web-1\nresolve the DNS name first.",
        "Do not close\nthe ticket.",
    ],
)
def test_a_line_break_makes_no_dismissal_of_a_check(text: str) -> None:
    """A check, a negation or a wait for something else over a line break dismisses
    nothing: nothing is marked."""
    assert claims._marked_claims(text) == (text, 0)
    assert _ungated(text) == (text, 0)


@pytest.mark.parametrize(
    "text", ["Check that the incident is\nresolved.", "Confirm the incident\nis resolved."]
)
def test_a_claim_inside_a_rejected_one_over_a_line_break_is_marked(text: str) -> None:
    """A claim over a line break that its clause makes none (a check before it) hides no
    claim that starts on the next line: that one is still marked, as a line of its own."""
    marked, count = claims._marked_claims(text)
    assert count == 1
    assert marked.endswith(f"\n{MARK}.")
    assert _ungated(text) == (marked, count)
