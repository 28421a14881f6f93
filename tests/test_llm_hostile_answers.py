"""Hostile model answers (prompt injection, or a compromised OpenAI-compatible server) against
the LLM summariser over a loopback server: what the ticket says is what was checked."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from factories import view
from triage.breaker import CircuitBreaker
from triage.demo.model import ChatServer, Reply, completion
from triage.metrics import Metrics
from triage.models import Alert, Status, Ticket
from triage.redact import Redactor
from triage.settings import Settings
from triage.summarise import FallbackSummariser
from triage.summarise.deterministic import DeterministicSummariser
from triage.summarise.llm import LlmSummariser
from triage.view import redact_ticket

EVIL = "evil.example"

ALERT = Alert(
    source="generic",
    status=Status.FIRING,
    title="Checkout API 5xx on web-1",
    team="payments",
    description="error rate 12% on web-1, see https://grafana.example.com/d/x",
    links={"dashboard": "https://grafana.example.com/d/x"},
    occurred_at=datetime(2026, 11, 23, 9, 0, tzinfo=UTC),
    identity={"dedup_key": "checkout-5xx"},
)


@pytest.fixture
def chat() -> Iterator[ChatServer]:
    with ChatServer() as server:
        yield server


ANSWER = {
    "title": "Checkout API 5xx on web-1",
    "priority": "high",
    "description": "Errors on web-1.",
    "steps": ["Check web-1"],
}


async def summarise(chat: ChatServer, answer: dict[str, Any]) -> tuple[Ticket, Metrics]:
    chat.then(completion(json.dumps(answer)))
    return await summarise_reply(chat)


async def summarise_reply(chat: ChatServer) -> tuple[Ticket, Metrics]:
    """The ticket for ALERT from the server's next answer (queued by the caller)."""
    settings = Settings(
        openai_api_key="sk-test-" + "k" * 32,
        openai_base_url=chat.url,
        llm_timeout_s=2.0,
        llm_retries=0,
    )
    metrics = Metrics()
    redactor = Redactor()
    llm = LlmSummariser(settings, metrics=metrics, redactor=redactor)
    summariser = FallbackSummariser(llm, DeterministicSummariser(), metrics, redactor)
    try:
        return await summariser.summarise(view(ALERT)), metrics
    finally:
        await summariser.aclose()


def published(ticket: Ticket) -> str:
    """The ticket's text as the sinks get it: after the pipeline redacts it once more."""
    public = redact_ticket(ticket, Redactor())
    return "\n".join([public.title, public.description, *public.steps])


# Each hides a link or a host from the checks with characters that a later step removes or
# turns into others: invisible ones (the redactor drops them), controls (the description's
# cleaning drops them) and JSON escapes (the redactor undoes one level each time it runs).
DISGUISED = [
    pytest.param("h\u200bttps://evil.example/steal", id="zero-width-space"),
    pytest.param("https:\u2060//evil.example/steal", id="word-joiner"),
    pytest.param("https:\\/\\/evil.example/steal", id="json-escaped-slashes"),
    pytest.param("https:\\\\/\\\\/evil.example/steal", id="json-escaped-twice"),
]


@pytest.mark.parametrize("link", DISGUISED)
async def test_a_disguised_link_is_removed_wherever_the_model_writes_it(
    chat: ChatServer, link: str
) -> None:
    """A link the model hides with invisible characters or JSON escapes is removed from title,
    description and steps, as it will be published (after the pipeline's redaction)."""
    ticket, _ = await summarise(
        chat,
        {
            "title": f"Checkout API 5xx on web-1 {link}",
            "priority": "high",
            "description": f"Open {link} now.",
            "steps": [f"Open {link}"],
        },
    )
    assert EVIL not in published(ticket)


async def test_a_control_character_cannot_hide_an_invented_host(chat: ChatServer) -> None:
    """A control character inside an invented host or link in the description (which the
    description's cleaning drops) does not let the host or link past the checks."""
    ticket, metrics = await summarise(
        chat,
        {
            "title": "Checkout API 5xx on web-1",
            "priority": "high",
            "description": "Traffic goes to evil\x00.example; see h\x01ttps://evil.example/x.",
            "steps": ["Check web-1"],
        },
    )
    assert EVIL not in published(ticket)
    assert metrics.counter("LLMGroundingRejects") >= 2


async def test_the_published_ticket_is_the_checked_one(chat: ChatServer) -> None:
    """The pipeline's second redaction changes nothing in an LLM ticket: every check ran on
    the text as it is published."""
    ticket, _ = await summarise(
        chat,
        {
            "title": "Checkout API 5xx on web-1 \\\\\\/ \u200b",
            "priority": "high",
            "description": "a \\\\\\\\/ b \\u0068ttp c &#58; d",
            "steps": ["x \\\\\\/ y", "Check web-1"],
        },
    )
    assert redact_ticket(ticket, Redactor()) == ticket


@pytest.mark.parametrize(
    "usage",
    [
        pytest.param({"prompt_tokens": -5, "completion_tokens": 1}, id="negative"),
        pytest.param({"prompt_tokens": 1, "completion_tokens": 10**400}, id="huge"),
    ],
)
async def test_a_token_count_the_metrics_cannot_add_is_a_bad_response(
    chat: ChatServer, usage: dict[str, int]
) -> None:
    """A negative token count or one too large for a float is an invalid answer (the fallback
    writes), never a negative counter or an OverflowError out of the summariser."""
    body = completion(json.dumps(ANSWER)).body
    chat.then(Reply(body={**body, "usage": usage}))
    ticket, metrics = await summarise_reply(chat)
    assert ticket == DeterministicSummariser().write(view(ALERT))
    assert metrics.counter("LLMFallbacks", reason="bad_response") == 1
    assert metrics.counter("LLMTokensIn") == 0 and metrics.counter("LLMTokensOut") == 0


class _Broken:
    """A model client that fails in a way no ModelError names (a bug, a parser's surprise)."""

    provider = "broken"
    model = "broken"

    def __init__(self) -> None:
        self.calls = 0

    async def complete(self, system: str, user: str, timeout_s: float) -> Any:
        self.calls += 1
        raise RuntimeError("unexpected")

    async def aclose(self) -> None:
        pass


async def test_an_unexpected_failure_of_the_probe_does_not_jam_the_breaker() -> None:
    """When the half-open breaker's probe fails with an exception no ModelError names, the
    breaker hears of it: a later call probes again instead of being refused for ever."""
    now = [0.0]
    breaker = CircuitBreaker("llm", 1, 10.0, clock=lambda: now[0])
    breaker.trip()  # open
    now[0] = 11.0  # half-open: the next call is the probe
    model = _Broken()
    settings = Settings(openai_api_key="sk-test-" + "k" * 32, llm_retries=0)
    llm = LlmSummariser(settings, model=model, breaker=breaker)
    with pytest.raises(RuntimeError):
        await llm.summarise(view(ALERT))
    now[0] = 22.0  # past another reset: another probe is due
    with pytest.raises(RuntimeError):
        await llm.summarise(view(ALERT))
    assert model.calls == 2


async def test_a_description_cut_after_its_checks_is_still_the_models(chat: ChatServer) -> None:
    """A description that its [unverified] marks push past the limit is cut, and the ticket is
    still the model's (not the fallback's), even when the cut falls inside the alert's link."""
    filler = "web-1 saw 77 errors. " * 180
    answer = {**ANSWER, "description": f"{filler}See https://grafana.example.com/d/x"}
    assert len(answer["description"]) <= 4000
    ticket, metrics = await summarise(chat, answer)
    assert metrics.counter("SummarizationFailures") == 0
    assert ticket.title == ANSWER["title"] and "[unverified]" in ticket.description
    assert redact_ticket(ticket, Redactor()) == ticket
