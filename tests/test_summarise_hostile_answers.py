"""The model's answer is as hostile as the alert (prompt injection makes it say anything):
against the loopback OpenAI-compatible server and the Bedrock Converse stand-in, every answer
ends as the model's ticket within the contract, or as the deterministic one with one log line
saying why, and neither the ticket nor any log line holds a secret the answer wrote."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from factories import view
from test_bedrock import MODEL_ID, REGION, ROLE, CredentialsEndpoint
from triage.demo.converse import ConverseServer, converse_reply
from triage.demo.model import ChatServer, Reply, completion
from triage.logs import configure_logging
from triage.metrics import Metrics
from triage.models import Alert, Status, Ticket
from triage.redact import Redactor
from triage.settings import Settings
from triage.summarise import FallbackSummariser, build_summariser
from triage.summarise.deterministic import DeterministicSummariser
from triage.view import redact_ticket

#: An AWS access key of the documented shape, made up: no alert holds it.
AWS_KEY = "AKIA" + "Q7ZK4MWB2XHP9TLR"

ALERT = Alert(
    source="generic",
    status=Status.FIRING,
    title="Checkout API 5xx on web-1",
    team="payments",
    severity="warning",
    description="error rate 12% on web-1, see https://grafana.example.com/d/x",
    links={"dashboard": "https://grafana.example.com/d/x"},
    occurred_at=datetime(2026, 11, 23, 9, 0, tzinfo=UTC),
    identity={"dedup_key": "checkout-5xx"},
)

TICKET = {
    "title": "Checkout API 5xx on web-1",
    "priority": "high",
    "description": "Errors on web-1.",
    "steps": ["Check web-1"],
}


@dataclass
class Model:
    """A loopback model server and how to answer through it, whichever API it speaks."""

    settings: Settings
    #: Queues the model's next answer: its text, as the API carries it.
    queue: Callable[[str], None]
    #: Queues an answer as the API's whole reply, for a shape `queue` cannot make.
    reply: Callable[[Reply], None]


@pytest.fixture
def openai_model() -> Iterator[Model]:
    with ChatServer() as chat:
        settings = Settings(
            openai_api_key="sk-test-" + "k" * 32,
            openai_base_url=chat.url,
            llm_timeout_s=5.0,
            llm_retries=0,
        )
        yield Model(
            settings,
            queue=lambda text: chat.then(completion(text)),
            reply=lambda whole: chat.then(whole),
        )


@pytest.fixture
def bedrock_model(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Model]:
    """Bedrock with the task role's credentials, as an ECS task gets them (test_bedrock.py)."""
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    with CredentialsEndpoint(ROLE) as endpoint, ConverseServer(ROLE, REGION) as server:
        monkeypatch.setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", endpoint.base_url + "/creds")
        settings = Settings(
            llm_provider="bedrock",
            bedrock_model_id=MODEL_ID,
            aws_region=REGION,
            aws_endpoint_url_bedrock_runtime=server.url,
            llm_timeout_s=5.0,
            llm_retries=0,
        )
        yield Model(
            settings,
            queue=lambda text: server.then(converse_reply(text)),
            reply=lambda whole: server.then(whole),
        )


@pytest.fixture(params=["openai", "bedrock"])
def model(request: pytest.FixtureRequest) -> Model:
    return request.getfixturevalue(f"{request.param}_model")  # type: ignore[no-any-return]


@pytest.fixture
def logs() -> io.StringIO:
    """The process's JSON log lines, through the real processors (redaction included)."""
    stream = io.StringIO()
    configure_logging("json", "info", stream)
    return stream


def events(logs: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in logs.getvalue().splitlines()]


async def ticket_from(model: Model, source: Alert = ALERT) -> tuple[Ticket, Metrics]:
    """The ticket the LLM summariser writes for `source` from the model's queued answer, as
    the pipeline hands it to the sinks (redacted once more)."""
    metrics = Metrics()
    redactor = Redactor()
    summariser = build_summariser(model.settings, metrics, redactor)
    assert isinstance(summariser, FallbackSummariser)
    try:
        ticket = await summariser.summarise(view(source))
    finally:
        await summariser.aclose()
    return redact_ticket(ticket, redactor), metrics


def deterministic(source: Alert = ALERT) -> Ticket:
    return redact_ticket(DeterministicSummariser().write(view(source)), Redactor())


def published(ticket: Ticket) -> str:
    return "\n".join([ticket.title, ticket.description, *ticket.steps])


# --- what the answer says is logged redacted ------------------------------------------------


PREFIX = "I can't help with that. "


@pytest.mark.parametrize(
    "refusal",
    [
        pytest.param(PREFIX + "x" * 160 + f" key={AWS_KEY} is not mine", id="line-end"),
        pytest.param(
            PREFIX + "password=" + "p" * (3994 - len(PREFIX) - 10) + f" {AWS_KEY}", id="read-end"
        ),
    ],
)
async def test_a_refusal_cut_inside_a_key_it_wrote_logs_no_piece_of_it(
    openai_model: Model, logs: io.StringIO, refusal: str
) -> None:
    """A model's refusal holding a key-shaped token where the log line's 200 characters end,
    or where the 4,000 read of it ends (behind a long password the redactor shortens): the
    words are redacted before they are cut and cut between words, so no piece of the key is
    logged."""
    openai_model.reply(completion(None, refusal=refusal))
    ticket, metrics = await ticket_from(openai_model)
    assert ticket == deterministic()
    assert metrics.counter("LLMFallbacks", reason="refused") == 1
    [line] = [e for e in events(logs) if e["event"] == "llm.refused"]
    assert line["refusal"].startswith(PREFIX.strip())
    assert AWS_KEY[:6] not in logs.getvalue() and AWS_KEY[4:10] not in logs.getvalue()


# --- an answer with nothing left once cleaned is no answer ----------------------------------


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param({"description": "\u200b\u2060\ufeff"}, id="description-invisible"),
        pytest.param({"description": "\x00\x01\x1b"}, id="description-controls"),
        pytest.param({"description": "\u202e\u2066"}, id="description-bidi"),
        pytest.param({"steps": ["\u200b", "\x00", "\u202e"]}, id="steps-invisible"),
        pytest.param(
            {"title": "\u200b", "description": "\u200b", "steps": ["\u200b"]}, id="everything"
        ),
    ],
)
async def test_an_answer_empty_once_cleaned_is_answered_by_the_fallback(
    model: Model, logs: io.StringIO, fields: dict[str, Any]
) -> None:
    """A description or steps of invisible, control or bidi characters only pass the
    contract's "not empty" but leave nothing once cleaned: like a missing field, the answer is
    invalid and the deterministic ticket is written, with one line saying why."""
    model.queue(json.dumps({**TICKET, **fields}))
    ticket, metrics = await ticket_from(model)
    assert ticket == deterministic()
    assert metrics.counter("LLMFallbacks", reason="invalid_fields") == 1
    assert metrics.counter("LLMCalls", outcome="invalid") == 1
    assert metrics.counter("LLMCalls", outcome="ok") == 0
    [line] = [e for e in events(logs) if e["event"] == "summariser.fallback"]
    assert line["reason"] == "invalid_fields"
