"""Leftovers of the summariser's reading, checked at the fastest level that shows them: a
ticket encoded twice inside prose is read, and only as far as a bounded search goes."""

from __future__ import annotations

import json

import pytest

import triage.summarise.answer as answers

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
