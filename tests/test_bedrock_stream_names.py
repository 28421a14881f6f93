"""What the Bedrock summariser names of what an endpoint wrote (and so every line, metric or
message that carries it): an event stream's refusal only AWS's own event, message and
exception types, a refusal's log line only an error code of AWS's form holding no credential;
never a credential-shaped identifier a server wrote, whoever redacts the text after it."""

from __future__ import annotations

import pytest
import structlog.testing

import triage.summarise.eventstream as eventstream
from factories import view
from test_bedrock import bedrock, retries_at_once, source, summariser_for, task_role
from test_bedrock_eventstream import START, _message
from triage.demo.converse import ConverseServer, converse_error

__all__ = ["bedrock", "retries_at_once", "task_role"]  # fixtures, used by name

#: Identifiers shaped like credentials: each is a Python identifier of at most 64 characters.
CREDENTIAL_SHAPED = [
    pytest.param("AKIAQ7ZK4MWB2XHP9TLR", id="aws-access-key-id"),
    pytest.param("ghp_" + "R8sVx2LqT7nZ4yKpW9bC3mHd6fJa1eGu5QoX", id="github-token"),
    pytest.param("sk_live_" + "51HqLyjWDarjtT1zdp7dc9Q2", id="stripe-key"),
    pytest.param("glpat_" + "x9Yb2Qw7Lk4Rt8Vn3Mz6", id="gitlab-token-like"),
]


@pytest.mark.parametrize("value", CREDENTIAL_SHAPED)
@pytest.mark.parametrize(
    "header",
    [":message-type", ":exception-type", ":error-code", ":event-type"],
)
def test_a_credential_shaped_header_is_never_named(header: str, value: str) -> None:
    """A credential-shaped identifier as the message, exception, error or event type of a
    stream's message is not in the refusal's text: it is `unnamed`."""
    headers = {":message-type": "exception", header: value}
    if header == ":event-type":
        headers[":message-type"] = "event"
    with pytest.raises(eventstream.StreamRefused) as refused:
        eventstream.converse_answer(START + _message(headers, b"["))
    said = str(refused.value)
    assert value not in said and "unnamed" in said, said


@pytest.mark.parametrize(
    ("headers", "said"),
    [
        pytest.param(
            {":message-type": "exception", ":exception-type": "validationException"},
            "an exception event: validationException",
            id="an-exception",
        ),
        pytest.param(
            {":message-type": "exception", ":exception-type": "ThrottlingException"},
            "an exception event: ThrottlingException",
            id="an-error-of-the-api",
        ),
        pytest.param(
            {":message-type": "event", ":event-type": "contentBlockDelta"},
            "a contentBlockDelta event's payload is no JSON",
            id="an-event",
        ),
    ],
)
def test_aws_own_names_are_named(headers: dict[str, str], said: str) -> None:
    """AWS's own exception, error and event types are named as they are, so the refusal still
    says what happened."""
    with pytest.raises(eventstream.StreamRefused, match=said):
        eventstream.converse_answer(START + _message(headers, b"["))


@pytest.mark.parametrize("exception", sorted(eventstream.BUSY_EXCEPTIONS))
def test_a_busy_models_exception_is_named_and_retried(exception: str) -> None:
    """Each exception that says the model is busy is named as it is and keeps its reason, so
    the summariser retries it as the same error answered as JSON."""
    headers = {":message-type": "exception", ":exception-type": exception}
    with pytest.raises(eventstream.StreamRefused, match=f"an exception event: {exception}$") as e:
        eventstream.converse_answer(START + _message(headers, b""))
    assert e.value.busy == eventstream.BUSY_EXCEPTIONS[exception]


@pytest.mark.parametrize("code", [value.values[0] for value in CREDENTIAL_SHAPED])
async def test_a_credential_shaped_error_code_is_not_logged(
    bedrock: ConverseServer, code: str
) -> None:
    """An endpoint refusing Converse with a credential-shaped error type: the refusal's log
    line, as logged (before any processor redacts it), does not hold it."""
    bedrock.responder = lambda _request: converse_error(400, code, "refused")
    summariser = summariser_for(bedrock, llm_retries=0)
    with structlog.testing.capture_logs() as logs:
        await summariser.summarise(view(source()))
    await summariser.aclose()
    [line] = [e for e in logs if e["event"] == "llm.rejected"]
    assert code not in repr(line) and line["code"] == "an error code of no AWS form", line


async def test_an_error_code_of_aws_form_is_logged_as_it_is(bedrock: ConverseServer) -> None:
    """Bedrock's own error code is logged as it is, so the line still says what failed."""
    bedrock.responder = lambda _request: converse_error(400, "ValidationException", "bad")
    summariser = summariser_for(bedrock, llm_retries=0)
    with structlog.testing.capture_logs() as logs:
        await summariser.summarise(view(source()))
    await summariser.aclose()
    [line] = [e for e in logs if e["event"] == "llm.rejected"]
    assert line["code"] == "ValidationException"
