"""Hostile answers' siblings, on both APIs' loopback stand-ins: a title that shows nothing, a
priority in another case, language or notation, a description that echoes the alert's JSON with
secrets in it, a key written twice, a ticket followed by another, steps by the hundred and a step
of 100 kB with no space to cut at. Each ends as a bounded, clean ticket whose choices are the
ones named here, or as the deterministic ticket with one line saying why; never an exception."""

from __future__ import annotations

import io
import json
import unicodedata
from typing import Any

import pytest

import triage.summarise.answer as answers
from test_summarise_hostile_answers import (
    ALERT,
    AWS_KEY,
    TICKET,
    Model,
    bedrock_model,
    events,
    logs,
    model,
    openai_model,
    published,
    ticket_from,
)
from triage.models import Priority, Ticket
from triage.summarise.base import DESCRIPTION_CHARS, MAX_STEPS, STEP_CHARS, TITLE_CHARS

__all__ = ["bedrock_model", "logs", "model", "openai_model"]  # fixtures, used by name

#: What a published ticket may hold of the characters a reader cannot see or that move text.
_UNSEEN = ("Cc", "Cf", "Co", "Cs", "Zl", "Zp")


def _bounded(ticket: Ticket) -> None:
    """The ticket contract's bounds, and nothing unseen in what is published."""
    assert 0 < len(ticket.title.strip()) <= TITLE_CHARS
    assert len(ticket.description) <= DESCRIPTION_CHARS  # the priority's note included
    assert 1 <= len(ticket.steps) <= MAX_STEPS
    assert all(0 < len(step) <= STEP_CHARS for step in ticket.steps)
    unseen = {c for c in published(ticket) if unicodedata.category(c) in _UNSEEN} - {"\n"}
    assert not unseen


def _no_fallback(logs: io.StringIO) -> None:
    assert [e for e in events(logs) if e["event"] == "summariser.fallback"] == []


@pytest.mark.parametrize(
    "title",
    [
        pytest.param("   \t  ", id="whitespace"),
        pytest.param("\x00\x07\x1b[2J\x7f", id="controls"),
        pytest.param("\u200b\u200c\u200d\u2060\ufeff", id="zero-width"),
        pytest.param("\u202e", id="bidi-override"),
        pytest.param("\u202e\u2066\u2069\u200f\u061c", id="bidi-marks"),
        pytest.param("\u2028\u2029\x85", id="line-separators"),
    ],
)
async def test_a_title_that_shows_nothing_is_the_alerts_own(
    model: Model, logs: io.StringIO, title: str
) -> None:
    """A title of whitespace, controls, zero-width characters or bidi overrides only leaves
    nothing once cleaned: the alert's own title stands in, and the rest of the model's ticket
    is kept."""
    model.queue(json.dumps({**TICKET, "title": title, "description": "Errors seen on web-1."}))
    ticket, _ = await ticket_from(model)
    _no_fallback(logs)
    assert ticket.title == ALERT.title
    assert ticket.description.startswith("Errors seen on web-1.")
    _bounded(ticket)


@pytest.mark.parametrize(
    ("said", "expected"),
    [
        # The alert (severity warning, no priority of its own) defaults to medium, and the
        # model may move it one step: a word read as low or high shows it was read.
        pytest.param("Hoch", Priority.HIGH, id="german-high"),
        pytest.param("niedrig", Priority.LOW, id="german-low"),
        pytest.param("P1", Priority.HIGH, id="P1"),
        pytest.param("p3", Priority.LOW, id="p3"),
        pytest.param("sev2", Priority.HIGH, id="sev2"),
        pytest.param("SEV-1", Priority.HIGH, id="SEV-1-capped"),
        pytest.param("LOW", Priority.LOW, id="upper-case"),
        pytest.param("Baja", Priority.LOW, id="spanish-low"),
        pytest.param("Priority: Low", Priority.LOW, id="labelled-low"),
        pytest.param("priorität: hoch", Priority.HIGH, id="labelled-german"),
        pytest.param("**Priority**: low", Priority.LOW, id="labelled-markdown"),
        pytest.param("Severity: low", Priority.MEDIUM, id="severity-label-is-no-priority"),
        pytest.param("whatever", Priority.MEDIUM, id="no-priority"),
    ],
)
async def test_a_priority_in_another_case_language_or_notation_is_read(
    model: Model, logs: io.StringIO, said: str, expected: Priority
) -> None:
    """A priority written in another case, language or notation ("Hoch", "P1", "sev2",
    "Priority: Low") is read as the word it is, then bounded one step from the severity's
    default (SEV-1 is critical, capped at high); a word that names no priority suggests none,
    and a severity's label does not make its value a priority."""
    model.queue(json.dumps({**TICKET, "priority": said}))
    ticket, _ = await ticket_from(model)
    _no_fallback(logs)
    assert ticket.priority is expected
    _bounded(ticket)


PASSWORD = "Hunter2Secret9"
EMAIL = "oncall.lead@example.org"
GITHUB_TOKEN = "ghp_" + "Z7k2Qw9Lm4Np8Rs1Tv6Xy3Bc5Df0Gh2Jk4Mn"
#: Secrets of no known shape: only the names they are given away by.
API_KEY = "q8Zt3vLp0Wm2Xr7N"
CLIENT_SECRET = "Vb5Kd9Qe2Lr8Tn4M"


async def test_a_description_echoing_the_alerts_json_is_redacted(
    model: Model, logs: io.StringIO
) -> None:
    """A description that is the alert's JSON echoed back, raw fields and all, may keep its
    plain fields, but not one secret of it: keys, tokens, passwords in DSNs, URLs and headers,
    values under a secret's name and e-mail addresses are redacted before the ticket leaves
    the summariser."""
    echoed = {
        "title": ALERT.title,
        "labels": {"team": "payments", "password": PASSWORD, "owner": EMAIL},
        "raw": {
            "AccessKeyId": AWS_KEY,
            "dsn": f"postgres://app:{PASSWORD}@db-7.internal/orders",
            "headers": {"Authorization": f"Bearer {GITHUB_TOKEN}", "x-api-key": API_KEY},
            "client_secret": CLIENT_SECRET,
            "webhook": f"https://ops:{PASSWORD}@hooks.example.org/x?token={CLIENT_SECRET}",
        },
    }
    model.queue(json.dumps({**TICKET, "description": json.dumps(echoed, indent=2)}))
    ticket, _ = await ticket_from(model)
    text = published(ticket)
    for secret in (AWS_KEY, PASSWORD, EMAIL, GITHUB_TOKEN, API_KEY, CLIENT_SECRET):
        assert secret not in text
        assert secret not in logs.getvalue()
    _bounded(ticket)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        pytest.param(
            '{"title": "Checkout API 5xx on web-1", "priority": "low", "priority": "critical",'
            ' "description": "Errors on web-1.", "steps": ["Check web-1"]}',
            Priority.HIGH,
            id="json-low-then-critical",
        ),
        pytest.param(
            '{"title": "Checkout API 5xx on web-1", "priority": "critical", "priority": "low",'
            ' "description": "Errors on web-1.", "steps": ["Check web-1"]}',
            Priority.LOW,
            id="json-critical-then-low",
        ),
        pytest.param(
            "{'title': 'Checkout API 5xx on web-1', 'priority': 'low', 'priority': 'critical',"
            " 'description': 'Errors on web-1.', 'steps': ['Check web-1']}",
            Priority.HIGH,
            id="python-dict-low-then-critical",
        ),
        pytest.param(
            '{"title": "Checkout API 5xx on web-1", "Priority": "critical", "priority": "low",'
            ' "description": "Errors on web-1.", "steps": ["Check web-1"]}',
            Priority.LOW,
            id="other-case-then-low",
        ),
    ],
)
async def test_a_key_written_twice_is_read_as_json_reads_it_the_last(
    model: Model, logs: io.StringIO, content: str, expected: Priority
) -> None:
    """Deliberately, a key written twice is read as JSON's own parsers read it (Python's json,
    JavaScript's JSON.parse, a Python dict literal): the last one wins, whatever the spelling
    of the key, so the ticket says what any other reader of the same answer sees; a "critical"
    so smuggled in after the model's own is still moved only one step from the severity's
    default (medium: high), never to critical."""
    model.queue(content)
    ticket, _ = await ticket_from(model)
    _no_fallback(logs)
    assert ticket.priority is expected
    assert ticket.priority is not Priority.CRITICAL


_SECOND = {**TICKET, "title": "Checkout errors on web-1", "steps": ["Roll back web-1"]}


@pytest.mark.parametrize(
    ("joined", "expected"),
    [
        pytest.param("{first}{second}", TICKET["title"], id="adjacent"),
        pytest.param("{first}\n{second}", TICKET["title"], id="next-line"),
        pytest.param("{first} and {second}", TICKET["title"], id="prose-between"),
        pytest.param(
            "{first}\n\nOr, fenced:\n```json\n{second}\n```", _SECOND["title"], id="second-fenced"
        ),
        pytest.param("[{first}, {second}]", None, id="array-of-two"),
    ],
)
async def test_a_ticket_followed_by_another_is_one_of_them_deliberately(
    model: Model, logs: io.StringIO, joined: str, expected: str | None
) -> None:
    """Two tickets in one answer: deliberately, a fenced block is the answer when there is one
    (the model's own mark for it, as prose around a fence is its remark); else the first
    ticket-like object is, and what follows it is a remark; a JSON list of tickets is no
    ticket (the deterministic one, one line saying why). Nothing of the ticket not chosen
    reaches the one written."""
    content = joined.format(first=json.dumps(TICKET), second=json.dumps(_SECOND))
    model.queue(content)
    ticket, metrics = await ticket_from(model)
    if expected is None:
        [line] = [e for e in events(logs) if e["event"] == "summariser.fallback"]
        assert line["reason"] == "invalid_fields"
        assert metrics.counter("SummarizationFailures") == 1
    else:
        _no_fallback(logs)
        assert ticket.title == expected
        other = _SECOND if expected == TICKET["title"] else TICKET
        assert other["steps"][0] not in ticket.steps
    _bounded(ticket)


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param({"steps": [f"Check web-{i}" for i in range(500)]}, id="500-steps"),
        pytest.param({"steps": "\n".join(f"{i}. Check web-1" for i in range(500))}, id="500-lines"),
        pytest.param({"steps": [{"n": i, "do": "Check web-1"} for i in range(500)]}, id="objects"),
        pytest.param({"steps": ["Check web-1 " * 8_500]}, id="step-100KB"),
        pytest.param({"steps": ["x" * 100_000]}, id="step-100KB-one-word"),
        pytest.param({"title": "y" * 100_000}, id="title-100KB-one-word"),
        pytest.param({"description": "z" * 100_000}, id="description-100KB-one-word"),
        pytest.param(
            {"description": "Errors on web-1. " * 1_000, "priority": "low"},
            id="description-long-with-a-priority-note",
        ),
        pytest.param({"steps": ["", " ", "\u200b"] * 100 + ["Check web-1"]}, id="blanks-first"),
    ],
)
async def test_steps_and_fields_past_the_contract_are_cut(
    model: Model, logs: io.StringIO, fields: dict[str, Any]
) -> None:
    """Hundreds of steps (a list, lines of one string, objects), one step of 100 kB with or
    without a space to cut at, a title or description of one 100 kB word: the model's ticket,
    cut to the contract (8 steps of 300 characters, a title of 120, a description of 4,000)."""
    model.queue(json.dumps({**TICKET, **fields}))
    ticket, _ = await ticket_from(model)
    _no_fallback(logs)
    _bounded(ticket)


def test_a_labelled_priority_of_a_severity_stays_no_priority() -> None:
    """A severity's label ("Severity: 2") is not stripped like a priority's: severity is not
    priority, and "2" alone would read as a P-level."""
    assert answers.draft(json.dumps({**TICKET, "priority": "Severity: 2"})).priority is None
    assert answers.draft(json.dumps({**TICKET, "priority": "Priority: P2"})).priority == "medium"


@pytest.mark.parametrize(
    "title",
    [
        pytest.param("\u202e\u200b", id="shows-nothing"),
        pytest.param("Checkout down on 10.9.8.7", id="ungrounded"),
    ],
)
async def test_the_alerts_own_title_standing_in_is_cut_to_the_contract(
    model: Model, logs: io.StringIO, title: str
) -> None:
    """When the alert's own title stands in for the model's (one that shows nothing, or one
    with a fact the alert never stated), a long one is cut to the contract's 120 characters,
    as the deterministic summariser cuts it, not to the sinks' wider limit."""
    long = ALERT.model_copy(update={"title": "Checkout API 5xx on web-1 " * 12})
    model.queue(json.dumps({**TICKET, "title": title}))
    ticket, _ = await ticket_from(model, long)
    _no_fallback(logs)
    assert ticket.title.startswith("Checkout API 5xx on web-1")
    _bounded(ticket)


@pytest.mark.parametrize("title", ["***", "—", "...", "🔥🔥", "[P1]", "```"])
async def test_a_title_of_marks_only_is_the_alerts_own(
    model: Model, logs: io.StringIO, title: str
) -> None:
    """A title with no letter or digit (emphasis marks, a dash, an ellipsis, emoji, a bare
    priority tag) names nothing that failed: the alert's own title stands in."""
    model.queue(json.dumps({**TICKET, "title": title}))
    ticket, _ = await ticket_from(model)
    _no_fallback(logs)
    assert ticket.title == ALERT.title
    _bounded(ticket)


async def test_steps_of_marks_only_are_dropped(model: Model, logs: io.StringIO) -> None:
    """Steps with no letter or digit ("-", "...", "**") are no steps: dropped, the rest kept."""
    model.queue(json.dumps({**TICKET, "steps": ["-", "...", "Check web-1", "**"]}))
    ticket, _ = await ticket_from(model)
    _no_fallback(logs)
    assert ticket.steps == ("Check web-1",)


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param({"description": "..."}, id="description-dots"),
        pytest.param({"description": "—\n\n***"}, id="description-marks"),
        pytest.param({"steps": ["-", "..."]}, id="steps-marks"),
    ],
)
async def test_an_answer_whose_text_is_marks_only_is_answered_by_the_fallback(
    model: Model, logs: io.StringIO, fields: dict[str, Any]
) -> None:
    """A description or steps with no letter or digit say nothing, like missing ones: the
    deterministic ticket, with one line saying why (`invalid_fields`)."""
    model.queue(json.dumps({**TICKET, **fields}))
    ticket, metrics = await ticket_from(model)
    assert metrics.counter("LLMFallbacks", reason="invalid_fields") == 1
    [line] = [e for e in events(logs) if e["event"] == "summariser.fallback"]
    assert line["reason"] == "invalid_fields"
    _bounded(ticket)


@pytest.mark.parametrize(
    "steps",
    [
        pytest.param(["Check web-1"] * 500, id="one-step-500-times"),
        pytest.param(["Check web-1", "check  WEB-1", "Check\u200b web-1"], id="same-but-spelling"),
    ],
)
async def test_a_step_written_again_is_one_step(
    model: Model, logs: io.StringIO, steps: list[str]
) -> None:
    """A step the model writes again (500 times, or again in another case, spacing or with an
    invisible character) is one step in the ticket, not a list of the same line."""
    model.queue(json.dumps({**TICKET, "steps": [*steps, "Roll back web-1"]}))
    ticket, _ = await ticket_from(model)
    _no_fallback(logs)
    assert [s.casefold().split() for s in ticket.steps].count(["check", "web-1"]) == 1
    _bounded(ticket)


async def test_steps_and_paragraphs_encoded_twice_are_read_as_lists(
    model: Model, logs: io.StringIO
) -> None:
    """Steps or a description written as a JSON string holding a list ("[\\"Check web-1\\",
    …]"), as small models do, are the list it holds, not one step or paragraph of JSON."""
    model.queue(
        json.dumps(
            {
                **TICKET,
                "description": json.dumps(["Errors on web-1.", "Checkout fails."]),
                "steps": json.dumps(["Check web-1", "Roll back web-1"]),
            }
        )
    )
    ticket, _ = await ticket_from(model)
    _no_fallback(logs)
    assert ticket.steps == ("Check web-1", "Roll back web-1")
    assert ticket.description.startswith("Errors on web-1.\n\nCheckout fails.")
    _bounded(ticket)


def test_a_string_of_brackets_that_is_no_list_stays_text() -> None:
    """A step string that opens with a bracket but is no JSON list of text ("[WARN] disk
    full", a list of numbers) is read as the text it is."""
    read = answers.draft(json.dumps({**TICKET, "steps": "[WARN] check web-1\n[1, 2]"}))
    assert read.steps == ["[WARN] check web-1", "[1, 2]"]
