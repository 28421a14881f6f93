"""Seeded mutants of a model's ticket (`json_mutants`: types swapped, keys dropped or written
twice, lists of 10,000, strings of 1 MB or of controls and bidi characters, numbers past any
range, nesting past the parser's, the ticket encoded as a JSON string), each as the whole answer
and inside prose or a fence: through the LLM summariser and its fallback, in process with an
in-memory model, each ends as a ticket within the contract, the model's or the deterministic
one, and never through the fallback's catch-all for a failure no reason names (`error`).

A failure names the seed, the mutant's number and the mutations that made it:
`json_mutants.mutants(GOOD, SEED, number + 1)` ends with it.
"""

from __future__ import annotations

import io
import json
import unicodedata

import pytest

from factories import view
from json_mutants import Mutant, mutants
from test_summarise_hostile_answers import ALERT, TICKET, events, logs, published
from triage.metrics import Metrics
from triage.models import Ticket
from triage.redact import Redactor
from triage.redact.disguises import _EMOJI_SEQUENCE
from triage.settings import Settings
from triage.summarise import FallbackSummariser
from triage.summarise.base import DESCRIPTION_CHARS, MAX_STEPS, STEP_CHARS, TITLE_CHARS
from triage.summarise.chat import Answer
from triage.summarise.deterministic import DeterministicSummariser
from triage.summarise.llm import LlmSummariser

__all__ = ["logs"]  # a fixture, used by name

GOOD = json.dumps({**TICKET, "steps": ["Check web-1", "Roll back web-1"]})
#: Changing it changes every mutant.
SEED = "summarise-answer-1"
MUTANTS = 300
#: How each mutant is written in the answer: alone, after prose, fenced.
WRAPS = ("{}", "Here is the ticket:\n{}\nHope this helps.", "```json\n{}\n```")
_UNSEEN = ("Cc", "Cf", "Co", "Cs", "Zl", "Zp")


class ScriptedChat:
    """A `ChatModel` in memory: answers each request with the next text it was given."""

    provider = "scripted"
    model = "scripted"

    def __init__(self) -> None:
        self.texts: list[str] = []

    async def complete(self, system: str, user: str, timeout_s: float) -> Answer:
        return Answer(text=self.texts.pop(0))

    async def aclose(self) -> None:
        return None


def _problem(ticket: Ticket) -> str | None:
    """What is wrong with a ticket against the contract, or None."""
    if not ticket.title.strip() or len(ticket.title) > TITLE_CHARS:
        return f"title of {len(ticket.title)} characters"
    if len(ticket.description) > DESCRIPTION_CHARS or not ticket.description.strip():
        return f"description of {len(ticket.description)} characters"
    if not 1 <= len(ticket.steps) <= MAX_STEPS:
        return f"{len(ticket.steps)} steps"
    if any(not step.strip() or len(step) > STEP_CHARS for step in ticket.steps):
        return "a step empty or too long"
    # An emoji sequence's joiners and selectors (`👨\u200d👩`) draw it, as the redactor keeps
    # them (`redact.disguises`): only what is left of the text is searched.
    shown = _EMOJI_SEQUENCE.sub("", published(ticket))
    unseen = {c for c in shown if unicodedata.category(c) in _UNSEEN} - {"\n"}
    return f"unseen characters {sorted(unseen)!r}" if unseen else None


@pytest.mark.parametrize("wrap", WRAPS, ids=["alone", "in-prose", "fenced"])
async def test_no_mutant_of_a_ticket_escapes_or_breaks_the_contract(
    logs: io.StringIO, wrap: str
) -> None:
    """Every mutant of a ticket answer, alone, in prose or fenced, ends as a ticket within
    the contract, and none reaches the fallback through its catch-all (`error`): each failure
    has its reason."""
    chat = ScriptedChat()
    settings = Settings(openai_api_key="sk-test-" + "k" * 32, llm_retries=0)
    metrics = Metrics()
    redactor = Redactor()
    llm = LlmSummariser(settings, model=chat, metrics=metrics, redactor=redactor)
    summariser = FallbackSummariser(llm, DeterministicSummariser(), metrics, redactor)
    alert = view(ALERT)
    failures: list[str] = []
    mutant: Mutant
    for mutant in mutants(GOOD, SEED, MUTANTS):
        chat.texts.append(wrap.replace("{}", mutant.body))
        ticket = await summariser.summarise(alert)
        found = _problem(ticket)
        if found:
            failures.append(f"{mutant.describe(SEED)}: {found}")
    caught = [e for e in events(logs) if e.get("reason") == "error"]
    assert not caught, caught[:3]
    assert not failures, "\n".join(failures[:10])
    # The fuzz is not only fallbacks: many mutants still read as the model's ticket.
    assert metrics.counter("LLMCalls", outcome="ok") > MUTANTS // 10
