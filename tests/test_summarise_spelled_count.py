"""The summariser counts a model answer that spells the process's own credential out as a
'credential' grounding reject (`LLMGroundingRejects`, and the kind in `llm.ungrounded`), now
that the redactor itself removes the spelling, on both APIs (loopback OpenAI-compatible server
and the Bedrock Converse stand-in); an answer echoing nothing of it counts no such reject."""

from __future__ import annotations

import io
import json

from test_summarise_answers_more import SPELLED, _own_secret, _squeezed
from test_summarise_hostile_answers import (
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

__all__ = ["bedrock_model", "logs", "model", "openai_model"]  # fixtures, used by name


def _kinds(logs: io.StringIO) -> dict[str, int]:
    """The reject kinds of the `llm.ungrounded` line, or none."""
    found = [e for e in events(logs) if e["event"] == "llm.ungrounded"]
    return dict(found[0]["kinds"]) if found else {}


async def test_a_spelled_credential_in_the_answer_is_counted_as_a_credential_reject(
    model: Model, logs: io.StringIO
) -> None:
    """The model's description and a step spelling our credential (dashes, then backwards):
    two 'credential' rejects are counted and logged by kind, and the ticket holds neither."""
    key = _own_secret(model)
    spell = dict(SPELLED)
    draft = {
        **TICKET,
        "description": f"Errors on web-1. Key: {spell['dashes'](key)}.",
        "steps": [f"Check web-1 with {spell['reversed'](key)}", "Roll back"],
    }
    model.queue(json.dumps(draft))
    ticket, metrics = await ticket_from(model)
    assert _kinds(logs).get("credential") == 2
    assert metrics.counter("LLMGroundingRejects") >= 2
    assert _squeezed(key) not in _squeezed(published(ticket))
    assert _squeezed(key)[::-1] not in _squeezed(published(ticket))


async def test_an_answer_without_our_credential_counts_no_credential_reject(
    model: Model, logs: io.StringIO
) -> None:
    """A plain answer: no 'credential' reject is counted."""
    model.queue(json.dumps(TICKET))
    _, metrics = await ticket_from(model)
    assert "credential" not in _kinds(logs)
    assert metrics.counter("LLMGroundingRejects") == 0
