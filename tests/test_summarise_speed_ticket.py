"""The pipeline's redaction of a new ticket (`view.redact_ticket`) hands back the summariser's
own ticket when the summariser settled it with the same redactor and the process still holds
the same credentials: its every text is then as that redactor leaves it (the LLM's are checked
so, `contain`'s `final`; the fallback's were just redacted, and redaction is idempotent). A
credential held since, another redactor, or a ticket no summariser settled is redacted again."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from factories import alert
from triage.errors import SummariserError
from triage.metrics import Metrics
from triage.models import Alert, Priority, Ticket
from triage.redact import Redactor, hold
from triage.settings import Settings
from triage.summarise import DeterministicSummariser, FallbackSummariser, Summariser
from triage.summarise.chat import Answer
from triage.summarise.llm import LlmSummariser
from triage.view import RedactedAlert, redact_alert, redact_ticket

#: A value the process comes to hold after the ticket was written (a token read later).
LATE_SECRET = "bluebird42orchard"


class OneAnswer:
    """A `ChatModel` in memory that answers every request with one ticket."""

    provider = "memory"
    model = "memory"

    def __init__(self, description: str) -> None:
        self.text = json.dumps(
            {
                "title": "checkout 5xx on web-7",
                "priority": "high",
                "description": description,
                "steps": ["Check the checkout service's error logs"],
            }
        )

    async def complete(self, system: str, user: str, timeout_s: float) -> Answer:
        return Answer(text=self.text)

    async def aclose(self) -> None:
        return None


class Refusing:
    """A primary summariser that always fails: the fallback writes every ticket."""

    async def summarise(self, alert: RedactedAlert) -> Ticket:
        raise SummariserError("refused")

    async def aclose(self) -> None:
        return None


def _source() -> Alert:
    return alert("checkout").model_copy(
        update={"description": f"5xx on web-7 after deploy {LATE_SECRET}"}
    )


def _llm(redactor: Redactor) -> LlmSummariser:
    settings = Settings(llm_timeout_s=30)
    answer = OneAnswer(f"web-7 answers 5xx since deploy {LATE_SECRET}.")
    return LlmSummariser(settings, model=answer, redactor=redactor, metrics=Metrics())


def _fallback(redactor: Redactor) -> FallbackSummariser:
    return FallbackSummariser(Refusing(), DeterministicSummariser(), Metrics(), redactor)


async def test_the_llms_settled_ticket_is_handed_back_as_it_is() -> None:
    """The LLM's ticket, redacted again by the pipeline with the redactor that settled it and
    the same credentials held, is the very same ticket (no text read a third time)."""
    redactor = Redactor()
    ticket = await _llm(redactor).summarise(redact_alert(_source(), redactor))
    assert LATE_SECRET in ticket.description  # no credential yet: it is alert text
    assert redact_ticket(ticket, redactor) is ticket


async def test_the_fallbacks_ticket_is_handed_back_as_it_is() -> None:
    """The deterministic ticket the fallback redacted is not redacted again by the pipeline
    while the same credentials are held."""
    redactor = Redactor()
    ticket = await _fallback(redactor).summarise(redact_alert(_source(), redactor))
    assert redact_ticket(ticket, redactor) is ticket


@pytest.mark.parametrize("summariser", [_llm, _fallback], ids=["llm", "fallback"])
async def test_a_credential_held_since_is_redacted_from_a_settled_ticket(
    summariser: Callable[[Redactor], Summariser],
) -> None:
    """A credential the process holds only after the summariser wrote the ticket is redacted
    by the pipeline's pass, from the LLM's ticket and from the fallback's."""
    redactor = Redactor()
    ticket = await summariser(redactor).summarise(redact_alert(_source(), redactor))
    assert LATE_SECRET in ticket.description
    hold(LATE_SECRET)
    public = redact_ticket(ticket, redactor)
    assert LATE_SECRET not in public.description
    assert public is not ticket


async def test_another_redactor_or_an_unsettled_ticket_is_redacted_again() -> None:
    """A redactor other than the one that settled the ticket reads it again (its credentials
    may differ); so is a ticket no summariser settled, and one redacted once already."""
    redactor = Redactor()
    ticket = await _llm(redactor).summarise(redact_alert(_source(), redactor))
    other = Redactor(lambda: [LATE_SECRET])
    assert LATE_SECRET not in redact_ticket(ticket, other).description
    made = Ticket(title="t", priority=Priority.LOW, description=f"key {LATE_SECRET}")
    assert redact_ticket(made, redactor) is not made
    assert redact_ticket(ticket, redactor) is ticket
    assert redact_ticket(ticket, redactor) is not ticket  # settled once: one pass handed back


class Counting(Redactor):
    """The redactor, counting the texts it reads whole (not answered from its memos)."""

    def __init__(self) -> None:
        super().__init__()
        self.read: list[str] = []

    def _redacted(self, text: str, secrets: tuple[str, ...]) -> str:
        self.read.append(text)
        return super()._redacted(text, secrets)


LONG = " ".join(
    f"Step {n}: the checkout service on web-7 answered 5xx after the deploy." for n in range(12)
)


async def test_a_long_description_the_redactor_leaves_alone_is_read_once() -> None:
    """The model's long description, which the redactor leaves as it is, is read once by the
    summariser and not by the pipeline: `final` knows it for a text the redactor was seen to
    leave alone; one that a check changed is read again (a mark can give the redactor a value)."""
    redactor = Counting()
    source = alert("checkout").model_copy(update={"description": LONG})
    summariser = _llm(redactor)
    summariser.model = OneAnswer(LONG)
    view = redact_alert(source, redactor)
    ticket = await summariser.summarise(view)
    assert ticket.description == LONG
    assert redact_ticket(ticket, redactor) is ticket
    # Once in all: the view's read, which the redactor remembers for the summariser's.
    assert redactor.read.count(LONG) == 1
    marked = LONG + " It started at 2026-01-02."  # a date the alert never gave: marked
    summariser.model = OneAnswer(marked)
    redactor.read.clear()
    ticket = await summariser.summarise(view)
    assert "[unverified]" in ticket.description
    assert redactor.read.count(ticket.description) == 1  # `final` read the marked text
