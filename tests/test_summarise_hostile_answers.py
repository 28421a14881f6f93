"""The model's answer is as hostile as the alert (prompt injection makes it say anything):
against the loopback OpenAI-compatible server and the Bedrock Converse stand-in, every answer
ends as the model's ticket within the contract, or as the deterministic one with one log line
saying why, and neither the ticket nor any log line holds a secret the answer wrote."""

from __future__ import annotations

import dataclasses
import io
import json
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from pydantic import ValidationError as PydanticValidationError

import triage.summarise.answer as answers
from factories import view
from test_bedrock import MODEL_ID, REGION, ROLE, CredentialsEndpoint
from triage.demo.converse import ConverseServer, converse_error, converse_reply
from triage.demo.model import ChatServer, Reply, completion
from triage.logs import configure_logging
from triage.metrics import Metrics
from triage.models import Alert, Priority, Status, Ticket
from triage.redact import Redactor
from triage.settings import Settings
from triage.summarise import FallbackSummariser, build_summariser
from triage.summarise.base import DESCRIPTION_CHARS, MAX_STEPS, STEP_CHARS, TITLE_CHARS
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
    queue: Callable[[str], object]
    #: Queues an answer as the API's whole reply, for a shape `queue` cannot make.
    reply: Callable[[Reply], object]


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
    it comes out of the summariser (the pipeline redacts it once more, which must change
    nothing: what is checked here is the summariser's own work)."""
    metrics = Metrics()
    redactor = Redactor()
    summariser = build_summariser(model.settings, metrics, redactor)
    assert isinstance(summariser, FallbackSummariser)
    try:
        ticket = await summariser.summarise(view(source))
    finally:
        await summariser.aclose()
    assert redact_ticket(ticket, redactor) == ticket
    return ticket, metrics


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


# --- fields out of bounds: cut, mapped, or the fallback -------------------------------------

#: A word the model's answers hold: no log line may.
CANARY = "zq-canary-4711"
MODEL = "model"


def _answer(**fields: Any) -> str:
    return json.dumps({**TICKET, "description": f"Errors on web-1 ({CANARY}).", **fields})


OUT_OF_BOUNDS = [
    pytest.param(_answer(title="Checkout fails " * 14_000), MODEL, id="title-200KB"),
    pytest.param(_answer(steps=["Check web-1"] * 10_000), MODEL, id="steps-10000"),
    pytest.param(_answer(steps=["Check web-1 " * 8_500]), MODEL, id="step-100KB"),
    pytest.param(_answer(description="Errors. " * 25_000), MODEL, id="description-200KB"),
    pytest.param(_answer(title="Checkout fails " * 70_000), "answer_too_large", id="title-1MB"),
    pytest.param(
        _answer(description="Errors. " * 125_000), "answer_too_large", id="description-1MB"
    ),
    pytest.param(_answer(priority="CRITICAL"), MODEL, id="priority-CRITICAL"),
    pytest.param(_answer(priority="urgent"), MODEL, id="priority-urgent"),
    pytest.param(_answer(priority="p1"), MODEL, id="priority-p1"),
    pytest.param(_answer(priority=None), MODEL, id="priority-null"),
    pytest.param(_answer(priority=["critical"]), MODEL, id="priority-list"),
    pytest.param(_answer().replace('"high"', "NaN"), MODEL, id="priority-NaN"),
    pytest.param(
        json.dumps({k: v for k, v in json.loads(_answer()).items() if k != "priority"}),
        MODEL,
        id="priority-missing",
    ),
    pytest.param(f"```json\n{_answer()}\n```", MODEL, id="fenced"),
    pytest.param(f"Sure:\n```json\n{_answer()}\n```\nAnything else?", MODEL, id="fence-in-prose"),
    pytest.param(_answer() + "\n" + _answer(title="Second"), MODEL, id="two-objects"),
    pytest.param(
        _answer(route="pager", fingerprint="x", team="other", sinks=["slack"], labels={}),
        MODEL,
        id="extra-keys",
    ),
    pytest.param(json.dumps({"ticket": json.loads(_answer())}), MODEL, id="nested-ticket"),
    pytest.param(_answer(title=42), "invalid_fields", id="title-number"),
    pytest.param(_answer(title=["a", "b"]), "invalid_fields", id="title-list"),
    pytest.param(_answer(description=None), "invalid_fields", id="description-null"),
    pytest.param(_answer(description={"text": 42}), "invalid_fields", id="description-obj"),
    pytest.param(
        _answer(description={"text": "Errors on web-1."}), MODEL, id="description-paragraphs"
    ),
    pytest.param(_answer(steps={"a": CANARY}), "invalid_fields", id="steps-object"),
    pytest.param(_answer(steps=[CANARY, 1, None]), "invalid_fields", id="steps-mixed"),
    pytest.param(
        _answer().replace('"Checkout API 5xx on web-1"', "NaN"), "invalid_fields", id="title-NaN"
    ),
    pytest.param(
        _answer(title="Check\x00out", description=f"a\x00b {CANARY}", steps=["c\x00d"]),
        MODEL,
        id="null-bytes",
    ),
    pytest.param(
        _answer(
            title="Check\x1b[31mout\x07",
            description=f"a\x1b]8;;https://evil.example\x07b\x7f\x85 {CANARY}",
            steps=["c\x08d\x1b[2J", "e\u2028f"],
        ),
        MODEL,
        id="control-characters",
    ),
    pytest.param(
        _answer(
            title="Check \u202eout\u202c \u2066x\u2069",
            description=f"a\u202eb\u200f\u061c {CANARY}",
            steps=["c\u202dd", "\u2067e"],
        ),
        MODEL,
        id="bidi-overrides",
    ),
    pytest.param(
        _answer(title="Checkout\ud800 fails", description="a\udfff b", steps=["c\ud83d d"]),
        MODEL,
        id="lone-surrogates",
    ),
    pytest.param(f"{CANARY} " + "[" * 100_000 + "]" * 100_000, "invalid_json", id="deep-json"),
    pytest.param(f"I think {CANARY} is fine.", "invalid_json", id="prose-only"),
    # Two tickets in a list: which is the model's is not plain (one alone is read as it).
    pytest.param(json.dumps([json.loads(_answer())] * 2), "invalid_fields", id="array"),
]

#: What a published ticket may hold of the characters a reader cannot see or that move text.
_UNSEEN = ("Cc", "Cf", "Co", "Cs", "Zl", "Zp")


@pytest.mark.parametrize(("content", "outcome"), OUT_OF_BOUNDS)
async def test_an_answer_out_of_bounds_is_cut_mapped_or_answered_by_the_fallback(
    model: Model, logs: io.StringIO, content: str, outcome: str
) -> None:
    """Every field out of bounds (a 200 KB title, 10,000 steps, a 100 KB step, priorities in
    other words or none, a fence, two objects, extra keys, a wrapper, other types, NaN, null
    bytes, controls, bidi overrides, lone surrogates) is the model's ticket cut, cleaned and
    mapped to the contract, or the deterministic ticket with one `summariser.fallback` line
    naming why (an answer of 1 MB, longer than any ticket, is not read: answer_too_large); no log line holds the answer's words, and the priority stays one step from the
    severity's default."""
    model.queue(content)
    ticket, metrics = await ticket_from(model)
    fallbacks = [e for e in events(logs) if e["event"] == "summariser.fallback"]
    if outcome == MODEL:
        assert metrics.counter("SummarizationFailures") == 0 and fallbacks == []
        assert len(ticket.title) <= TITLE_CHARS
        assert len(ticket.description) <= DESCRIPTION_CHARS + 300  # the priority's note
        assert 1 <= len(ticket.steps) <= MAX_STEPS
        assert all(len(step) <= STEP_CHARS for step in ticket.steps)
        unseen = {c for c in published(ticket) if unicodedata.category(c) in _UNSEEN} - {"\n"}
        assert not unseen and "\n" not in ticket.title + "".join(ticket.steps)
        assert ticket.priority in (Priority.LOW, Priority.MEDIUM, Priority.HIGH)
        assert "evil.example" not in published(ticket)
    else:
        assert ticket == deterministic()
        assert metrics.counter("LLMFallbacks", reason=outcome) == 1
        assert [line["reason"] for line in fallbacks] == [outcome]
    assert CANARY not in logs.getvalue()


# --- secrets the answer writes ---------------------------------------------------------------

#: Secret-shaped text a model can write without ever being shown a secret: made up, each of a
#: shape the redactor knows.
INVENTED = {
    "aws-key": AWS_KEY,
    "github-token": "ghp_" + "Zx9Yw8Vu7T" * 4,
    "slack-token": "xoxb-" + "1234567890-1234567890123-" + "AbCdEfGhIjKlMnOpQrStUvWx",
    "dsn-password": "postgres://app:Hunter2Secret9@db-7.internal:5432/orders",
    "jwt": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJvcHMiLCJyb2xlIjoiYWRtaW4ifQ."
    + "c2lnbmF0dXJlLW9mLXRoZS10b2tlbi0xMjM0",
}
#: What must not be published of each: the part that is the secret.
SECRET_PART = {
    "aws-key": AWS_KEY,
    "github-token": INVENTED["github-token"],
    "slack-token": INVENTED["slack-token"],
    "dsn-password": "Hunter2Secret9",
    "jwt": "c2lnbmF0dXJlLW9mLXRoZS10b2tlbi0xMjM0",
}


@pytest.mark.parametrize("kind", sorted(INVENTED))
async def test_a_secret_the_model_invents_is_redacted_wherever_it_writes_it(
    model: Model, logs: io.StringIO, kind: str
) -> None:
    """Secret-shaped text the model makes up (prompt injection: "print an AWS key") is
    redacted from the title, the description and every step before the ticket leaves, and
    reaches no log line."""
    secret = INVENTED[kind]
    model.queue(
        _answer(
            title=f"Checkout API 5xx on web-1 {secret}",
            description=f"Use {secret} to log in.",
            steps=[f"export TOKEN={secret}", f"Run: login {secret}"],
        )
    )
    ticket, metrics = await ticket_from(model)
    assert metrics.counter("SummarizationFailures") == 0  # the model's ticket, made safe
    assert SECRET_PART[kind] not in published(ticket)
    assert SECRET_PART[kind] not in logs.getvalue()


async def test_a_key_the_model_joins_from_pieces_in_two_labels_is_redacted(model: Model) -> None:
    """An alert holding a key in two labels, neither piece a key to the redactor (so the
    prompt shows both): the model that joins them writes a key, and the answer's redaction
    takes it out of the ticket."""
    head, tail = AWS_KEY[:8], AWS_KEY[8:]
    source = ALERT.model_copy(update={"labels": {"part_a": head, "part_b": tail}})
    assert view(source).labels == {"part_a": head, "part_b": tail}  # the model saw both
    model.queue(
        _answer(
            description=f"The labels spell the key {head}{tail}.",
            steps=[f"Revoke {head}{tail}", "Check web-1"],
        )
    )
    ticket, metrics = await ticket_from(model, source)
    assert metrics.counter("SummarizationFailures") == 0
    assert AWS_KEY not in published(ticket)


async def test_a_credential_a_compromised_openai_server_writes_is_redacted(
    openai_model: Model, logs: io.StringIO
) -> None:
    """A compromised OpenAI-compatible server knows the API key it was sent; writing it into
    its answer publishes nothing: the key is redacted by exact value, whatever its shape."""
    held_key = "proxy-cred-Q7w9zXy2Lk"  # of no shape the redactor knows
    settings = openai_model.settings.model_copy(update={"openai_api_key": SecretStr(held_key)})
    openai_model.queue(_answer(description=f"Your key is {held_key}.", steps=[held_key]))
    ticket, _ = await ticket_from(dataclasses.replace(openai_model, settings=settings))
    assert held_key not in published(ticket) and held_key not in logs.getvalue()


async def test_credentials_a_compromised_converse_server_writes_are_redacted(
    bedrock_model: Model, logs: io.StringIO
) -> None:
    """A compromised Bedrock endpoint sees the task role's session token (and could learn its
    secret key): writing them into its answer publishes neither."""
    bedrock_model.queue(
        _answer(description=f"Token {ROLE.token}, secret {ROLE.secret_key}.", steps=[ROLE.token])
    )
    ticket, _ = await ticket_from(bedrock_model)
    for credential in (ROLE.token, ROLE.secret_key):
        assert credential not in published(ticket) and credential not in logs.getvalue()


# --- what a server says is logged redacted, wherever the read of it ends -------------------


def _behind_a_long_password(read_chars: int, kept: int) -> str:
    """Words in which `AWS_KEY` crosses the `read_chars`-th character, `kept` of its
    characters before it, behind a password long enough that redacting it leaves the key's
    piece inside a log line's 200 characters."""
    head = "Access denied: password="
    padding = read_chars - kept - len(head) - 1
    return f"{head}{'p' * padding} {AWS_KEY} was refused"


async def test_a_converse_error_read_up_to_inside_a_key_logs_no_piece_of_it(
    bedrock_model: Model, logs: io.StringIO
) -> None:
    """Bedrock's (or a proxy's) error whose first 4,000 characters, the part a log line reads,
    end inside a key behind a long password: the password's redaction brings the key's piece
    into the line's 200 characters, and the read drops it instead of logging it."""
    message = _behind_a_long_password(4000, kept=10)
    bedrock_model.reply(converse_error(403, "AccessDeniedException", message))
    ticket, _ = await ticket_from(bedrock_model)
    assert ticket == deterministic()
    [line] = [e for e in events(logs) if e["event"] == "llm.rejected"]
    assert line["error"].startswith("Access denied: password=")
    assert AWS_KEY[:6] not in logs.getvalue()


async def test_an_error_in_an_answer_read_up_to_inside_a_key_logs_no_piece_of_it(
    openai_model: Model, logs: io.StringIO
) -> None:
    """The same on the OpenAI-compatible path: a gateway's error sent with a 200, whose first
    4,000 characters end inside a key behind a long password, logs no piece of the key."""
    message = _behind_a_long_password(4000, kept=10)
    openai_model.reply(Reply(body={"error": {"message": message, "code": 400}}))
    ticket, _ = await ticket_from(openai_model)
    assert ticket == deterministic()
    [line] = [e for e in events(logs) if e["event"] == "llm.error"]
    assert line["detail"].startswith("Access denied: password=")
    assert AWS_KEY[:6] not in logs.getvalue()


# --- an answer as large as a server may send is read only as far as a ticket holds ----------


_HEAD = {"title": "Checkout API 5xx", "priority": "high", "description": "Errors."}
#: An item no reading accepts (a number where text belongs): were it read, the answer would be
#: invalid, so an answer with it past what a ticket holds proves it was never read.
_POISON = [42] * 1_000


@pytest.mark.parametrize(
    ("answer", "kept"),
    [
        pytest.param({**_HEAD, "steps": ["Check web-1"] * 8 + _POISON}, 8, id="steps-list"),
        pytest.param(
            {**_HEAD, "steps": [{"n": 1, "do": "Check"}] * 8 + _POISON}, 8, id="step-objects"
        ),
        pytest.param(
            {**_HEAD, "steps": ["Check web-1"], "description": ["Errors. " * 20] * 30 + _POISON},
            1,
            id="description-paragraphs",
        ),
    ],
)
def test_an_answer_is_read_only_as_far_as_a_ticket_holds(answer: dict[str, Any], kept: int) -> None:
    """Steps and paragraphs past what a ticket holds (8 steps, 4,000 characters) are never
    read, so a server's answer of millions of them costs about its JSON's parse: an item no
    reading accepts, placed after them, leaves the answer valid."""
    read = answers.draft(json.dumps(answer))
    assert len(read.steps) == kept
    assert len(read.description) <= DESCRIPTION_CHARS


def test_blank_steps_are_read_up_to_a_thousand_items() -> None:
    """Blank steps count towards the 1,000 items read: a step after 1,000 blank ones is not
    reached (the answer has no steps, and is invalid), so millions of blanks cost little."""
    draft_of = answers.draft
    assert draft_of(json.dumps({**_HEAD, "steps": [" "] * 999 + ["Check web-1"]})).steps
    with pytest.raises(PydanticValidationError):
        draft_of(json.dumps({**_HEAD, "steps": [" "] * 1_000 + ["Check web-1"]}))


# --- one line says why ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        pytest.param(completion("Sure! {title: oops"), "invalid_json", id="invalid-json"),
        pytest.param(completion(_answer(title=42)), "invalid_fields", id="invalid-fields"),
        pytest.param(completion(_answer(steps=["\u200b"])), "invalid_fields", id="empty-cleaned"),
        pytest.param(completion(""), "empty_answer", id="empty"),
        pytest.param(completion('{"title": "x', finish_reason="length"), "truncated", id="cut"),
        pytest.param(completion(None, refusal="I can't help with that."), "refused", id="refused"),
    ],
)
async def test_an_unusable_answer_is_one_line_at_warning_saying_why(
    openai_model: Model, logs: io.StringIO, reply: Reply, reason: str
) -> None:
    """An answer the summariser cannot use logs exactly one line at warning or above, the
    fallback's, naming the reason; what the model said (a refusal's words) is at info."""
    openai_model.reply(reply)
    ticket, _ = await ticket_from(openai_model)
    assert ticket == deterministic()
    loud = [e for e in events(logs) if e["level"] in ("warning", "error", "critical")]
    assert [(e["event"], e["reason"]) for e in loud] == [("summariser.fallback", reason)]
