"""The LLM summariser on Amazon Bedrock: the real aioboto3 client against a loopback Converse
server that refuses any request it cannot verify as SigV4-signed by the credentials it expects,
which the client gets as an ECS task would (the container credentials endpoint)."""

from __future__ import annotations

import asyncio
import gzip
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
import structlog.testing
from botocore.credentials import Credentials
from tenacity import wait_none

from daemon_harness import TOKEN, Queues
from daemon_harness import settings_for as daemon_settings
from factories import view
from hostile_server import Answer, answer, endless, hostile, then_drip
from triage.app import run_daemon
from triage.demo.converse import ConverseServer, converse_error, converse_reply
from triage.demo.loopback import KeepAliveHandler, LoopbackServer
from triage.demo.model import INVENTED_IP, Reply, alert_in
from triage.demo.ticketd import TicketServer
from triage.errors import ConfigError, SummariserError
from triage.logs import configure_logging
from triage.metrics import Metrics
from triage.models import Alert, Priority, Status
from triage.settings import Settings, load_settings
from triage.summarise import FallbackSummariser, build_summariser, llm
from triage.summarise.bedrock import MAX_ANSWER_BYTES, BedrockChat
from triage.summarise.llm import LlmSummariser

REGION = "eu-west-1"
MODEL_ID = "anthropic.claude-3-haiku-20240307-v1:0"
#: What the task role's credentials endpoint hands out (a session token, like a real role).
ROLE = Credentials("ASIATASKROLE0EXAMPLE", "task-role-secret-key-0123456789", "task-role-token-xyz")
SECRET = "AKIAIOSFODNN7EXAMPLE"


class CredentialsEndpoint(LoopbackServer):
    """ECS's container credentials endpoint (AWS_CONTAINER_CREDENTIALS_FULL_URI): the task
    role's temporary credentials as JSON, to any GET."""

    thread_name = "ecs-credentials"

    def __init__(self, role: Credentials) -> None:
        self.role = role
        self.requests = 0
        super().__init__()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(KeepAliveHandler):
            def do_GET(self) -> None:
                server.requests += 1
                expires = datetime.now(UTC) + timedelta(hours=1)
                body = json.dumps(
                    {
                        "AccessKeyId": server.role.access_key,
                        "SecretAccessKey": server.role.secret_key,
                        "Token": server.role.token,
                        "Expiration": expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    }
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet."""

        return Handler


@pytest.fixture(autouse=True)
def retries_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The summariser's retries go without its jittered wait (up to 0.5 s each): which calls
    are retried is under test here; how long a retry waits is test_llm_faults.py's."""
    monkeypatch.setattr(llm, "_backoff", wait_none())


@pytest.fixture
def task_role(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[CredentialsEndpoint]:
    """The process gets AWS credentials only as an ECS task does: from the container
    credentials endpoint (no keys in the environment, no config files)."""
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    with CredentialsEndpoint(ROLE) as endpoint:
        monkeypatch.setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", endpoint.base_url + "/creds")
        yield endpoint


@pytest.fixture
def bedrock(task_role: CredentialsEndpoint) -> Iterator[ConverseServer]:
    with ConverseServer(ROLE, REGION) as server:
        yield server


def settings_for(server: ConverseServer, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "llm_provider": "bedrock",
        "bedrock_model_id": MODEL_ID,
        "aws_region": REGION,
        "aws_endpoint_url_bedrock_runtime": server.url,
        # Long enough that a loaded CI worker's first call (client, credentials, signing, the
        # first connection) never times out where a test waits for another outcome: a test
        # of timeouts sets its own. (2 s timed out a refusal test's only call under load.)
        "llm_timeout_s": 30.0,
        "llm_retries": 2,
        "llm_breaker_failures": 3,
        "llm_breaker_reset_s": 60.0,
        **overrides,
    }
    return Settings(**values)


def summariser_for(
    server: ConverseServer, metrics: Metrics | None = None, **overrides: Any
) -> FallbackSummariser:
    summariser = build_summariser(settings_for(server, **overrides), metrics or Metrics())
    assert isinstance(summariser, FallbackSummariser)
    return summariser


def ticket_json(**fields: Any) -> str:
    ticket = {
        "title": "Checkout API returns 5xx",
        "priority": "medium",
        "description": "The checkout API fails.",
        "steps": ["Check the error rate dashboard"],
    }
    return json.dumps({**ticket, **fields})


def source(**fields: Any) -> Alert:
    values: dict[str, Any] = {
        "source": "generic",
        "status": Status.FIRING,
        "title": "Checkout API returns 5xx",
        "severity": "warning",
        "occurred_at": datetime(2026, 11, 23, 9, 0, tzinfo=UTC),
        "identity": {"dedup_key": "checkout-5xx"},
        **fields,
    }
    return Alert(**values)


async def test_a_signed_converse_call_with_the_task_role_writes_the_ticket(
    bedrock: ConverseServer, task_role: CredentialsEndpoint
) -> None:
    """With the task role's credentials from the container endpoint, the summariser calls
    Converse for TRIAGE_BEDROCK_MODEL_ID, signed (SigV4, session token included) for bedrock in
    AWS_REGION; the model's answer becomes the ticket, and its usage is counted."""
    bedrock.then(converse_reply(ticket_json(), input_tokens=321, output_tokens=45))
    metrics = Metrics()
    summariser = summariser_for(bedrock, metrics)
    ticket = await summariser.summarise(view(source()))
    await summariser.aclose()
    assert bedrock.refused == []
    assert bedrock.model_ids == [MODEL_ID]
    assert task_role.requests >= 1
    assert ticket.title == "Checkout API returns 5xx"
    assert ticket.priority is Priority.MEDIUM
    [request] = bedrock.requests
    assert "Answer with one JSON object only" in request["system"][0]["text"]
    assert alert_in(request)["title"] == "Checkout API returns 5xx"
    assert request["inferenceConfig"]["maxTokens"] > 0
    assert metrics.counter("LLMCalls", outcome="ok") == 1
    assert (metrics.counter("LLMTokensIn"), metrics.counter("LLMTokensOut")) == (321, 45)
    assert metrics.counter("SummarizationFailures") == 0


async def test_a_request_signed_with_other_credentials_is_refused_and_falls_back(
    bedrock: ConverseServer,
) -> None:
    """The stand-in checks signatures for real: when it expects another role's secret, the
    request is refused (403, not retried) and the deterministic ticket is written."""
    bedrock.credentials = Credentials(ROLE.access_key, "another-secret", ROLE.token)
    metrics = Metrics()
    summariser = summariser_for(bedrock, metrics)
    ticket = await summariser.summarise(view(source()))
    await summariser.aclose()
    assert bedrock.refused == ["the signature does not match the request"]
    assert bedrock.request_count == 0
    assert metrics.counter("LLMFallbacks", reason="rejected_403") == 1
    assert ticket.title == "Checkout API returns 5xx"


async def test_the_endpoint_falls_back_to_aws_endpoint_url(bedrock: ConverseServer) -> None:
    """Without AWS_ENDPOINT_URL_BEDROCK_RUNTIME, Converse goes to AWS_ENDPOINT_URL."""
    bedrock.then(converse_reply(ticket_json(title="From AWS_ENDPOINT_URL")))
    summariser = summariser_for(
        bedrock, aws_endpoint_url_bedrock_runtime=None, aws_endpoint_url=bedrock.url
    )
    ticket = await summariser.summarise(view(source()))
    await summariser.aclose()
    assert ticket.title == "From AWS_ENDPOINT_URL"


async def test_throttling_is_retried_once_by_us_and_never_by_botocore(
    bedrock: ConverseServer,
) -> None:
    """A ThrottlingException, then an answer: two requests in all (botocore's own retries are
    off, ours retry once), the answer is used, each outcome counted."""
    bedrock.then(
        converse_error(429, "ThrottlingException", "Too many requests"),
        converse_reply(ticket_json(title="After the retry")),
    )
    metrics = Metrics()
    summariser = summariser_for(bedrock, metrics)
    ticket = await summariser.summarise(view(source()))
    await summariser.aclose()
    assert ticket.title == "After the retry"
    assert bedrock.request_count == 2
    assert metrics.counter("LLMCalls", outcome="rate_limited") == 1
    assert metrics.counter("LLMCalls", outcome="ok") == 1


async def test_5xx_exhausts_the_retries_falls_back_and_opens_the_breaker(
    bedrock: ConverseServer,
) -> None:
    """ServiceUnavailable on every request: each call makes 1 + TRIAGE_LLM_RETRIES requests and
    falls back; after TRIAGE_LLM_BREAKER_FAILURES such calls the breaker skips Bedrock."""
    bedrock.responder = lambda _request: converse_error(503, "ServiceUnavailableException")
    metrics = Metrics()
    summariser = summariser_for(bedrock, metrics, llm_retries=1, llm_breaker_failures=2)
    for _ in range(3):
        await summariser.summarise(view(source()))
    await summariser.aclose()
    assert bedrock.request_count == 4  # two calls of two requests; the third is not made
    assert metrics.counter("LLMFallbacks", reason="server_error_503") == 2
    assert metrics.counter("LLMFallbacks", reason="breaker_open") == 1
    assert metrics.counter("SummarizationFailures") == 3


async def test_access_denied_is_not_retried(bedrock: ConverseServer) -> None:
    """AccessDenied (no bedrock:InvokeModel, or no model access): one request, then fallback."""
    bedrock.responder = lambda _request: converse_error(403, "AccessDeniedException")
    metrics = Metrics()
    summariser = summariser_for(bedrock, metrics)
    await summariser.summarise(view(source()))
    await summariser.aclose()
    assert bedrock.request_count == 1
    assert metrics.counter("LLMFallbacks", reason="rejected_403") == 1
    assert metrics.counter("LLMCalls", outcome="rejected") == 1


async def test_a_slow_model_times_out_and_falls_back(bedrock: ConverseServer) -> None:
    """Answers slower than TRIAGE_LLM_TIMEOUT_S: every attempt times out, the ticket is the
    deterministic one, the reason is `timeout`."""
    bedrock.latency_s = 1.0
    metrics = Metrics()
    summariser = summariser_for(bedrock, metrics, llm_timeout_s=0.3, llm_retries=1)
    await summariser.summarise(view(source()))
    await summariser.aclose()
    assert metrics.counter("LLMCalls", outcome="timeout") == 2
    assert metrics.counter("LLMFallbacks", reason="timeout") == 1


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        (converse_reply("not json at all"), "invalid_json"),
        (converse_reply(ticket_json(steps=[7])), "invalid_fields"),
        (converse_reply(ticket_json()[:60], stop_reason="max_tokens"), "truncated"),
        (converse_reply("", stop_reason="guardrail_intervened"), "content_filter"),
    ],
)
async def test_an_unusable_answer_falls_back(
    bedrock: ConverseServer, reply: Any, reason: str
) -> None:
    """Invalid JSON, fields outside the contract, a cut-off answer and a guardrail's
    intervention each fall back with their own reason, without a retry."""
    bedrock.then(reply)
    metrics = Metrics()
    summariser = summariser_for(bedrock, metrics)
    await summariser.summarise(view(source()))
    await summariser.aclose()
    assert bedrock.request_count == 1
    assert metrics.counter("LLMFallbacks", reason=reason) == 1


async def test_no_secret_reaches_the_converse_request(bedrock: ConverseServer) -> None:
    """An alert quoting an AWS key, in its description and raw payload: the bytes Bedrock
    receives hold the redaction placeholder, never the key."""
    alert = source(description=f"deploy used {SECRET}", raw={"env": {"key": SECRET}})
    summariser = summariser_for(bedrock)
    await summariser.summarise(view(alert))
    await summariser.aclose()
    [raw] = bedrock.raw_bodies
    assert SECRET.encode() not in raw
    assert b"[REDACTED:aws-key]" in raw


async def test_facts_bedrock_invents_are_marked_and_counted(bedrock: ConverseServer) -> None:
    """The same grounding as the OpenAI path: a model inventing an address, a host and an
    instance gets them marked [unverified] and counted in LLMGroundingRejects."""
    bedrock.gullible = True
    metrics = Metrics()
    summariser = summariser_for(bedrock, metrics)
    ticket = await summariser.summarise(view(source()))
    await summariser.aclose()
    assert INVENTED_IP not in ticket.description
    assert "[unverified]" in ticket.description
    assert metrics.counter("LLMGroundingRejects") >= 3
    assert ticket.title == "Checkout API returns 5xx"  # its title held an invented host


async def test_concurrent_calls_are_capped(bedrock: ConverseServer) -> None:
    """At most TRIAGE_LLM_CONCURRENCY Converse requests are in flight."""

    bedrock.latency_s = 0.2
    summariser = summariser_for(bedrock, llm_concurrency=2)
    alerts = [source(identity={"dedup_key": f"k{i}"}) for i in range(5)]
    await asyncio.gather(*(summariser.summarise(view(a)) for a in alerts))
    await summariser.aclose()
    assert bedrock.request_count == 5
    assert bedrock.max_in_flight == 2


def test_the_provider_setting_picks_the_summariser() -> None:
    """TRIAGE_LLM_PROVIDER: bedrock builds the Converse client and logs its model and region;
    none wins over an OpenAI key; openai without a key is a config error naming both."""
    with structlog.testing.capture_logs() as logs:
        summariser = build_summariser(
            Settings(llm_provider="bedrock", aws_region=REGION, bedrock_model_id=MODEL_ID),
            Metrics(),
        )
    assert isinstance(summariser, FallbackSummariser)
    assert isinstance(summariser.primary, LlmSummariser)
    assert isinstance(summariser.primary.model, BedrockChat)
    [line] = [e for e in logs if e["event"] == "summariser.llm"]
    assert (line["provider"], line["model"], line["region"]) == ("bedrock", MODEL_ID, REGION)
    plain = build_summariser(Settings(llm_provider="none", openai_api_key="sk-x"), Metrics())
    assert not isinstance(plain, FallbackSummariser)
    with pytest.raises(ConfigError, match="TRIAGE_LLM_PROVIDER=openai needs OPENAI_API_KEY"):
        load_settings(llm_provider="openai")


def test_the_default_provider_follows_the_openai_key() -> None:
    """Unset (or empty) TRIAGE_LLM_PROVIDER means openai with OPENAI_API_KEY, else none."""
    assert Settings().llm == "none"
    assert Settings(openai_api_key="sk-x").llm == "openai"
    assert Settings(llm_provider="BEDROCK").llm == "bedrock"
    # An env file's empty lines (`TRIAGE_LLM_PROVIDER=`, `OPENAI_API_KEY=`) mean unset.
    assert Settings(llm_provider="", openai_api_key="").llm == "none"


async def test_the_daemon_writes_tickets_with_bedrock_and_the_task_role(
    bedrock: ConverseServer, queues: Queues, backend: TicketServer, tmp_path: Path
) -> None:
    """`triage run` with TRIAGE_LLM_PROVIDER=bedrock: one session's credential chain (the task
    role) serves SQS and Bedrock; two incidents, two signed Converse calls, two tickets the
    model wrote."""
    bedrock.answer = {"description": "Written by Bedrock.", "priority": "medium"}
    bedrock.region = "us-east-1"  # the daemon's region: moto's queues live there
    queues.send(
        {"title": "Nightly backup failed", "dedup_key": "backup", "team": "data"},
        {"title": "Disk almost full", "dedup_key": "disk", "team": "platform"},
    )
    settings = daemon_settings(
        queues,
        backend.url,
        tmp_path / "triage.db",
        llm_provider="bedrock",
        bedrock_model_id=MODEL_ID,
        aws_endpoint_url_bedrock_runtime=bedrock.url,
        sqs_wait_time=0,  # short polls: a long poll held the drain's end a second
    )
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("BACKEND_TOKEN", TOKEN)
        result = await run_daemon(settings, drain=True)
    assert bedrock.refused == []
    assert bedrock.request_count == 2
    assert sorted(t["body"]["description"] for t in backend.tickets) == ["Written by Bedrock."] * 2
    assert result.metrics.counter("SummarizationFailures") == 0


def _converse_body(content: Any, usage: Any) -> Reply:
    return Reply(
        body={
            "output": {"message": {"role": "assistant", "content": content}},
            "stopReason": "end_turn",
            "usage": usage,
        }
    )


GOOD_USAGE = {"inputTokens": 100, "outputTokens": 50, "totalTokens": 150}


@pytest.mark.parametrize(
    ("content", "usage"),
    [
        pytest.param(5, GOOD_USAGE, id="content-a-number"),
        pytest.param({"text": "{}"}, GOOD_USAGE, id="content-an-object"),
        pytest.param([{"text": 5}], GOOD_USAGE, id="text-a-number"),
        pytest.param([{"text": ["{"]}], GOOD_USAGE, id="text-a-list"),
        pytest.param([{"text": None}], GOOD_USAGE, id="text-null"),
        pytest.param(None, GOOD_USAGE, id="content-null"),
        pytest.param([{"text": "x"}], [1, 2], id="usage-a-list"),
        pytest.param([{"text": "x"}], {"inputTokens": "many"}, id="tokens-a-string"),
        pytest.param([{"text": "x"}], {"inputTokens": -5}, id="tokens-negative"),
        pytest.param([{"text": "x"}], {"outputTokens": 10**400}, id="tokens-huge"),
    ],
)
async def test_a_converse_answer_of_the_wrong_shape_is_a_bad_response(
    bedrock: ConverseServer, content: Any, usage: Any
) -> None:
    """A Converse answer whose content, text or usage has the wrong type is an invalid answer
    (the fallback writes the ticket, the breaker hears of it), never an exception out of the
    summariser nor a string added to the token counters."""
    bedrock.then(_converse_body(content, usage))
    metrics = Metrics()
    settings = settings_for(bedrock, llm_retries=0)
    llm = LlmSummariser(settings, metrics=metrics)
    try:
        with pytest.raises(SummariserError):
            await llm.summarise(view(source()))
    finally:
        await llm.aclose()
    assert metrics.counter("LLMTokensIn") == 0


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (403, "AccessDeniedException"),
        (403, "ExpiredTokenException"),
        (403, "UnrecognizedClientException"),
        (404, "ResourceNotFoundException"),
    ],
)
async def test_refused_credentials_or_a_missing_model_open_the_breaker(
    bedrock: ConverseServer, status: int, code: str
) -> None:
    """No model access, expired or unknown credentials, a model not in the region: only
    someone acting on the account cures it, so the first refusal opens the breaker (one
    request, no retry), which then spares Bedrock."""
    bedrock.responder = lambda _request: converse_error(status, code)
    metrics = Metrics()
    summariser = summariser_for(bedrock, metrics, llm_breaker_failures=2)
    for _ in range(3):
        await summariser.summarise(view(source()))
    await summariser.aclose()
    assert bedrock.request_count == 1
    assert metrics.counter("LLMFallbacks", reason=f"rejected_{status}") == 1
    assert metrics.counter("LLMFallbacks", reason="breaker_open") == 2


async def test_an_input_too_long_for_the_model_is_sent_again_shorter(
    bedrock: ConverseServer,
) -> None:
    """A ValidationException saying the input is too long: the alert is asked once more with a
    prompt cut to a quarter, and that answer is the ticket; the alert's length never counts
    against the breaker (opening here at the first provider fault)."""
    payload = {"log": " ".join(f"line {i}: request failed upstream" for i in range(600))}
    bedrock.then(
        converse_error(400, "ValidationException", "Input is too long for requested model."),
        converse_reply(ticket_json(title="Shorter prompt")),
        converse_error(400, "ValidationException", "Input is too long for requested model."),
        converse_error(400, "ValidationException", "Input is too long for requested model."),
    )
    metrics = Metrics()
    summariser = summariser_for(bedrock, metrics, llm_breaker_failures=1)
    ticket = await summariser.summarise(view(source(raw=payload)))
    await summariser.summarise(view(source(raw=payload)))
    after = await summariser.summarise(view(source()))
    await summariser.aclose()
    first, second = (len(r["messages"][0]["content"][0]["text"]) for r in bedrock.requests[:2])
    assert ticket.title == "Shorter prompt"
    assert second < first / 2
    assert metrics.counter("LLMFallbacks", reason="prompt_too_long") == 1
    assert after.title == "Checkout API returns 5xx"  # the stand-in's: the breaker is closed
    assert bedrock.request_count == 5


async def test_a_validation_refusal_of_the_request_itself_opens_the_breaker(
    bedrock: ConverseServer,
) -> None:
    """A ValidationException about the request triage always sends (a parameter the model
    refuses): every call would be refused the same way, so it counts against the breaker,
    not retried. (A model id Converse does not serve, or one needing an inference profile,
    opens it at once: `test_a_refusal_only_someone_can_cure_is_said_once_with_what_to_do`.)"""
    message = "temperature: must be at most 1"
    bedrock.responder = lambda _request: converse_error(400, "ValidationException", message)
    metrics = Metrics()
    summariser = summariser_for(bedrock, metrics, llm_breaker_failures=2)
    for _ in range(3):
        await summariser.summarise(view(source()))
    await summariser.aclose()
    assert bedrock.request_count == 2
    assert metrics.counter("LLMFallbacks", reason="rejected_400") == 2
    assert metrics.counter("LLMFallbacks", reason="breaker_open") == 1


async def test_credentials_bedrock_echoes_never_reach_a_log_line(bedrock: ConverseServer) -> None:
    """An error whose message quotes the task role's secret key and session token (a proxy, a
    stand-in or a library may echo them): the log line names the refusal without either."""
    stream = io.StringIO()
    configure_logging("json", "info", stream)
    echoed = f"token {ROLE.token} secret {ROLE.secret_key} not valid"
    bedrock.then(converse_error(403, "UnrecognizedClientException", echoed))
    summariser = summariser_for(bedrock)
    ticket = await summariser.summarise(view(source()))
    await summariser.aclose()
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert any(line["event"] == "llm.rejected" for line in lines)
    for secret in (ROLE.token, ROLE.secret_key):
        assert secret not in stream.getvalue()
        assert secret not in ticket.model_dump_json()


async def test_a_redirect_is_not_followed(bedrock: ConverseServer) -> None:
    """A Converse endpoint answering 307 to another server: the signed request (its prompt and
    session token) is not sent there, and the call falls back as `redirected`, not retried."""
    with ConverseServer(ROLE, REGION) as elsewhere:
        location = f"{elsewhere.url}/model/{MODEL_ID}/converse"
        bedrock.then(Reply(status=307, body={}, headers={"Location": location}))
        metrics = Metrics()
        summariser = summariser_for(bedrock, metrics)
        await summariser.summarise(view(source()))
        await summariser.aclose()
        assert elsewhere.raw_bodies == []
    assert bedrock.request_count == 1
    assert metrics.counter("LLMFallbacks", reason="redirected") == 1


async def test_a_page_that_is_no_converse_answer_opens_the_breaker(
    task_role: CredentialsEndpoint,
) -> None:
    """A 200 HTML page where Converse answers belong (a proxy's login page): each call falls
    back as no_message without a retry, and the breaker then spares the endpoint, as it does
    for OpenAI's base URL."""
    page = answer(200, {"Content-Type": "text/html"}, b"<html><body>Sign in</body></html>")
    metrics = Metrics()
    async with hostile(page) as server:
        settings = Settings(
            llm_provider="bedrock",
            aws_region=REGION,
            aws_endpoint_url_bedrock_runtime=server.url,
            llm_breaker_failures=2,
        )
        summariser = build_summariser(settings, metrics)
        for _ in range(3):
            await summariser.summarise(view(source()))
        await summariser.aclose()
    assert len(server.requests) == 2
    assert metrics.counter("LLMFallbacks", reason="no_message") == 2
    assert metrics.counter("LLMFallbacks", reason="breaker_open") == 1


async def test_an_answer_cut_off_by_the_context_window_is_asked_again_shorter(
    bedrock: ConverseServer,
) -> None:
    """stopReason model_context_window_exceeded (the prompt left the answer too little room):
    the alert is asked once more with a prompt cut to a quarter, and that answer is the ticket,
    not a `truncated` fallback."""
    payload = {"log": " ".join(f"line {i}: request failed upstream" for i in range(600))}
    bedrock.then(
        converse_reply('{"title": "Checkout', stop_reason="model_context_window_exceeded"),
        converse_reply(ticket_json(title="Shorter prompt")),
    )
    metrics = Metrics()
    summariser = summariser_for(bedrock, metrics)
    ticket = await summariser.summarise(view(source(raw=payload)))
    await summariser.aclose()
    first, second = (len(r["messages"][0]["content"][0]["text"]) for r in bedrock.requests)
    assert ticket.title == "Shorter prompt"
    assert second < first / 2
    assert metrics.counter("LLMTokensIn") == 200  # both answers' usage is counted


async def test_no_credentials_at_all_open_the_breaker(
    bedrock: ConverseServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No credentials anywhere in the chain (no role, no keys, no instance metadata): one
    `llm.no_credentials` and the breaker opens, so Bedrock is not asked again for
    TRIAGE_LLM_BREAKER_RESET_S."""
    monkeypatch.delenv("AWS_CONTAINER_CREDENTIALS_FULL_URI")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    metrics = Metrics()
    summariser = summariser_for(bedrock, metrics, llm_breaker_failures=2)
    with structlog.testing.capture_logs() as logs:
        for _ in range(3):
            await summariser.summarise(view(source()))
    await summariser.aclose()
    assert bedrock.raw_bodies == []
    assert [e["event"] for e in logs].count("llm.no_credentials") == 1
    assert metrics.counter("LLMFallbacks", reason="no_credentials") == 1
    assert metrics.counter("LLMFallbacks", reason="breaker_open") == 2


async def test_debug_logging_never_shows_the_session_token(bedrock: ConverseServer) -> None:
    """At TRIAGE_LOG_LEVEL=debug botocore logs each request's headers, the session token
    among them: the token the request was signed with is held, so no line carries it."""
    stream = io.StringIO()
    configure_logging("json", "debug", stream)
    summariser = summariser_for(bedrock)
    await summariser.summarise(view(source()))
    await summariser.aclose()
    assert "x-amz-security-token" in stream.getvalue().lower()
    assert ROLE.token not in stream.getvalue()


async def fallback_reason(server_url: str, **overrides: Any) -> tuple[Metrics, str]:
    """One summarise call to a Converse endpoint at `server_url`; the fallback's reason."""
    metrics = Metrics()
    settings = Settings(
        llm_provider="bedrock",
        aws_region=REGION,
        aws_endpoint_url_bedrock_runtime=server_url,
        **overrides,
    )
    summariser = build_summariser(settings, metrics)
    try:
        await summariser.summarise(view(source()))
    finally:
        await summariser.aclose()
    [(_, dims)] = [key for key in metrics.counters() if key[0] == "LLMFallbacks"]
    return metrics, dict(dims)["reason"]


@pytest.mark.parametrize(
    "reply",
    [
        answer(200, {"Content-Type": "application/json"}, b" " * (MAX_ANSWER_BYTES + 1)),
        endless(),
    ],
    ids=["over-the-bound", "endless"],
)
async def test_an_answer_over_the_bound_is_not_read_whole(
    task_role: CredentialsEndpoint, reply: Answer
) -> None:
    """A Converse answer of more than MAX_ANSWER_BYTES (1 MiB, far more than any ticket),
    whole or never ending, is read no further than the bound, and botocore never parses it on
    the event loop: the call falls back as answer_too_large, counted against the breaker and
    not retried (a proxy or endpoint that sends that much is broken, or hostile)."""
    async with hostile(reply) as server:
        metrics, reason = await fallback_reason(
            server.url, llm_breaker_failures=1, llm_timeout_s=3.0
        )
    assert reason == "answer_too_large"
    assert len(server.requests) == 1
    assert metrics.counter("LLMCalls", outcome="invalid") == 1


async def test_a_gzip_bomb_is_not_inflated(task_role: CredentialsEndpoint) -> None:
    """An answer that says it is gzip (64 KiB inflating to 64 MiB, past the bound) is parsed as
    the bytes that came, never inflated: an answer botocore cannot read."""
    bomb = gzip.compress(b"\0" * (64 * 1024 * 1024), compresslevel=1)
    headers = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
    async with hostile(answer(200, headers, bomb)) as server:
        _, reason = await fallback_reason(server.url)
    assert reason == "bad_response"


async def test_an_answer_dripped_for_ever_is_cut_at_the_timeout(
    task_role: CredentialsEndpoint,
) -> None:
    """A 200 whose body comes a byte at a time, each well inside any read timeout, ends at
    TRIAGE_LLM_TIMEOUT_S as a timeout (every attempt), not when the body does."""
    async with hostile(then_drip(200, every_s=0.01)) as server:
        metrics, reason = await fallback_reason(server.url, llm_timeout_s=0.3, llm_retries=1)
    assert reason == "timeout"
    assert metrics.counter("LLMCalls", outcome="timeout") == 2


@pytest.mark.parametrize(
    "role", [answer(500, body=b"unavailable"), then_drip(200)], ids=["fails", "drips"]
)
async def test_a_task_role_endpoint_that_fails_or_drips_is_within_the_timeout(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, role: Answer
) -> None:
    """The container credentials endpoint failing (botocore tries it again for seconds) or
    answering a byte at a time when the client is made: the call still ends at
    TRIAGE_LLM_TIMEOUT_S as a timeout, not an error with a traceback, nor never (client
    creation was outside the call's bound)."""
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    async with hostile(role) as endpoint:
        monkeypatch.setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", endpoint.url + "/creds")
        with structlog.testing.capture_logs() as logs:
            metrics, reason = await fallback_reason(
                "http://127.0.0.1:9", llm_timeout_s=0.3, llm_retries=0
            )
    assert reason == "timeout"
    assert metrics.counter("LLMCalls", outcome="timeout") == 1
    assert [e for e in logs if e["log_level"] == "error"] == []


async def test_a_refusal_cut_inside_a_credential_it_echoed_logs_no_piece_of_it(
    bedrock: ConverseServer,
) -> None:
    """Bedrock's (or a proxy's) message quoting a credential where the log line's 200
    characters end: the message is redacted before it is cut, so no piece of the key is kept."""
    key = "AKIA" + "Q7ZK4MWB2XHP9TLR"
    message = "You don't have access. " + "x" * 170 + f" key={key} was refused by the account"
    bedrock.responder = lambda _request: converse_error(403, "AccessDeniedException", message)
    summariser = summariser_for(bedrock, Metrics())
    with structlog.testing.capture_logs() as logs:
        await summariser.summarise(view(source()))
    await summariser.aclose()
    [line] = [e for e in logs if e["event"] == "llm.rejected"]
    assert line["error"].startswith("You don't have access.") and line["error"].endswith("…")
    assert "AKIA" not in line["error"] and key[4:12] not in line["error"]


async def test_model_access_not_granted_says_what_to_grant(bedrock: ConverseServer) -> None:
    """AccessDeniedException, a first day's usual error (model access not requested in the
    console, or no bedrock:InvokeModel for the task role): its one line says what to grant."""
    message = "You don't have access to the model with the specified model ID."
    bedrock.responder = lambda _request: converse_error(403, "AccessDeniedException", message)
    summariser = summariser_for(bedrock, Metrics())
    with structlog.testing.capture_logs() as logs:
        await summariser.summarise(view(source()))
    await summariser.aclose()
    [line] = [e for e in logs if e["event"] == "llm.rejected"]
    assert "Model access" in line["hint"] and "bedrock:InvokeModel" in line["hint"]
    assert line["error"] == message


@pytest.mark.parametrize(
    ("status", "code", "message", "reason", "hint"),
    [
        (
            429,
            "ThrottlingException",
            "Too many tokens per day, please wait before trying again.",
            "quota_exceeded",
            "Service Quotas",
        ),
        (
            400,
            "ValidationException",
            "Invocation of model ID anthropic.claude-sonnet-4-20250514-v1:0 with on-demand"
            " throughput isn't supported. Retry your request with the ID or ARN of an inference"
            " profile that contains this model.",
            "rejected_400",
            "inference profile",
        ),
        (
            400,
            "ValidationException",
            "This action doesn't support the model that you provided. Try again with a supported"
            " text or chat model.",
            "rejected_400",
            "TRIAGE_BEDROCK_MODEL_ID to a text or chat model",
        ),
        (
            400,
            "ValidationException",
            "The provided model identifier is invalid.",
            "rejected_400",
            "TRIAGE_BEDROCK_MODEL_ID to a text or chat model",
        ),
        (
            400,
            "ValidationException",
            "The model ID anthropic.claude-3-haiku-20240307-v1:0 is not supported in this Region.",
            "rejected_400",
            "enabled for the account in AWS_REGION",
        ),
    ],
    ids=[
        "tokens-per-day",
        "inference-profile-only",
        "not-a-chat-model",
        "invalid-model-id",
        "not-in-region",
    ],
)
async def test_a_refusal_only_someone_can_cure_is_said_once_with_what_to_do(
    bedrock: ConverseServer, status: int, code: str, message: str, reason: str, hint: str
) -> None:
    """A spent daily token quota (a ThrottlingException: it was retried, each incident, until
    the threshold), a model served only through an inference profile, and a model id Converse
    does not serve here (no chat model, no such id, not in the region: each failed incident
    after incident until the threshold): one request, one line saying what to do, and the
    breaker opens at once."""
    bedrock.responder = lambda _request: converse_error(status, code, message)
    metrics = Metrics()
    summariser = summariser_for(bedrock, metrics, llm_breaker_failures=3)
    with structlog.testing.capture_logs() as logs:
        for _ in range(3):
            await summariser.summarise(view(source()))
    await summariser.aclose()
    assert bedrock.request_count == 1
    assert metrics.counter("LLMFallbacks", reason=reason) == 1
    [line] = [e for e in logs if e["event"] == "llm.rejected"]
    assert hint in line["hint"]


# --- Bedrock's own words, as its models and the service send them ---------------------------

#: Converse's refusal of a system prompt for a model without one (Mistral 7B Instruct, Titan
#: Text, older Cohere and AI21 models; the service's own text, word for word).
NO_SYSTEM = (
    "This model doesn't support system messages. Try again without a system message or use a"
    " model that supports system messages."
)


def without_system(request: dict[str, Any]) -> Reply:
    """A model whose Converse refuses any request with a system prompt (HTTP 400)."""
    if request.get("system"):
        return converse_error(400, "ValidationException", NO_SYSTEM)
    return converse_reply(ticket_json(title="Written without a system prompt"))


async def test_a_model_refusing_system_messages_gets_the_instructions_first(
    bedrock: ConverseServer,
) -> None:
    """A model without system prompts: the refused call is asked again at once with the
    instructions first in the user message (the alert still fenced after them), and later
    calls never send one, so no call pays a refused request again; every ticket is the
    model's (each fell back as rejected_400 and the breaker opened)."""
    bedrock.responder = without_system
    metrics = Metrics()
    summariser = summariser_for(bedrock, metrics, llm_retries=0, llm_breaker_failures=1)
    with structlog.testing.capture_logs() as logs:
        first = await summariser.summarise(view(source()))
        second = await summariser.summarise(view(source(title="Queue depth high")))
    await summariser.aclose()
    assert first.title == second.title == "Written without a system prompt"
    assert metrics.counter("SummarizationFailures") == 0
    assert ["system" in request for request in bedrock.requests] == [True, False, False]
    text = bedrock.requests[-1]["messages"][0]["content"][0]["text"]
    assert text.index("Answer with one JSON object only") < text.index("<alert-")
    adapted = [e for e in logs if e["event"] == "llm.request_adapted"]
    assert [e["refused"] for e in adapted] == ["the system prompt"]


async def test_concurrent_calls_refused_a_system_prompt_each_ask_again(
    bedrock: ConverseServer,
) -> None:
    """Calls in flight together when the model first refuses the system prompt: each is asked
    again without it (judged by what it sent, not by what another call has learnt), and the
    adaptation is logged once."""
    bedrock.responder = without_system
    metrics = Metrics()
    summariser = summariser_for(bedrock, metrics, llm_retries=0)
    with structlog.testing.capture_logs() as logs:
        await asyncio.gather(*(summariser.summarise(view(source())) for _ in range(3)))
    await summariser.aclose()
    assert metrics.counter("SummarizationFailures") == 0
    assert [e["event"] for e in logs].count("llm.request_adapted") == 1


@pytest.mark.parametrize(
    "message",
    [
        # Claude on Bedrock, its context less than the prompt and the output bound.
        "The model returned the following errors: input length and `max_tokens` exceed context"
        " limit: 196395 + 900 > 200000, decrease input length or `max_tokens` and try again",
        # Claude on Bedrock, a request past its byte limit.
        "Input is too large: too many total text bytes: 9437184 > 9000000",
        # Models served through Bedrock's OpenAI-compatible engine.
        "prompt tokens exceed model maximum of 200000",
    ],
    ids=["context-limit", "text-bytes", "model-maximum"],
)
async def test_each_bedrock_wording_of_a_prompt_too_long_is_sent_again_shorter(
    bedrock: ConverseServer, message: str
) -> None:
    """Each way Bedrock's models say the prompt does not fit: the alert is asked once more,
    cut to a quarter, and that answer is the ticket; it never counts against the breaker (it
    fell back as rejected_400, one provider fault of the few that open it)."""
    payload = {"log": " ".join(f"line {i}: request failed upstream" for i in range(600))}
    bedrock.then(
        converse_error(400, "ValidationException", message),
        converse_reply(ticket_json(title="Shorter prompt")),
    )
    metrics = Metrics()
    summariser = summariser_for(bedrock, metrics, llm_breaker_failures=1)
    ticket = await summariser.summarise(view(source(raw=payload)))
    await summariser.aclose()
    first, second = (len(r["messages"][0]["content"][0]["text"]) for r in bedrock.requests)
    assert ticket.title == "Shorter prompt"
    assert second < first / 2


async def test_the_output_token_limit_refusal_is_not_taken_for_a_long_prompt(
    bedrock: ConverseServer,
) -> None:
    """Bedrock's "The maximum tokens you requested exceeds the model limit" is about the request
    triage always sends, not the alert's length: no shorter prompt is tried (it would be
    refused the same way), and it counts against the breaker."""
    message = (
        "The maximum tokens you requested exceeds the model limit of 512. Try again with a"
        " maximum tokens value that is lower than 512."
    )
    bedrock.responder = lambda _request: converse_error(400, "ValidationException", message)
    metrics = Metrics()
    summariser = summariser_for(bedrock, metrics, llm_breaker_failures=1)
    for _ in range(2):
        await summariser.summarise(view(source()))
    await summariser.aclose()
    assert bedrock.request_count == 1
    assert metrics.counter("LLMFallbacks", reason="rejected_400") == 1
    assert metrics.counter("LLMFallbacks", reason="breaker_open") == 1


async def test_a_content_filter_refusing_one_alert_never_opens_the_breaker(
    bedrock: ConverseServer,
) -> None:
    """Amazon Nova's Responsible-AI refusal of the prompt (a ValidationException in its own
    documented words) is this alert's text, not the provider failing: `content_filter`, not
    retried, and never counted against the breaker, so hostile alert text cannot switch the
    model off for every other incident (it fell back as rejected_400 and opened it)."""
    message = (
        "This request has been blocked by our content filters. Please adjust your text prompt"
        " to submit a new request."
    )
    bedrock.responder = lambda _request: converse_error(400, "ValidationException", message)
    metrics = Metrics()
    # A timeout long enough that a loaded machine never retries a call by timing it out.
    summariser = summariser_for(
        bedrock, metrics, llm_retries=2, llm_breaker_failures=2, llm_timeout_s=30.0
    )
    for _ in range(3):
        await summariser.summarise(view(source()))
    await summariser.aclose()
    assert bedrock.request_count == 3
    assert metrics.counter("LLMFallbacks", reason="content_filter") == 3
    assert metrics.counter("LLMCalls", outcome="refused") == 3


async def test_a_retry_after_longer_than_the_budget_pauses_the_model(
    bedrock: ConverseServer,
) -> None:
    """A ServiceUnavailableException (or throttling) that says when to come back, through a
    Retry-After header, longer than a call's whole budget: not retried within the call, and the
    model is left alone until the breaker's reset (`llm.paused`), as for OpenAI's 429."""
    reply = converse_error(503, "ServiceUnavailableException", "Service unavailable.")
    reply.headers["Retry-After"] = "600"
    bedrock.responder = lambda _request: reply
    metrics = Metrics()
    summariser = summariser_for(bedrock, metrics, llm_retries=2)
    with structlog.testing.capture_logs() as logs:
        for _ in range(2):
            await summariser.summarise(view(source()))
    await summariser.aclose()
    assert bedrock.request_count == 1
    [paused] = [e for e in logs if e["event"] == "llm.paused"]
    assert paused["retry_after_s"] == 600
    assert metrics.counter("LLMFallbacks", reason="breaker_open") == 1


def thinking_model(request: dict[str, Any]) -> Reply:
    """A reasoning model on Converse (DeepSeek-R1, gpt-oss): its thinking comes first, as a
    reasoningContent block, and counts against maxTokens; under 2,000 it runs out before the
    ticket."""
    thought = {"reasoningContent": {"reasoningText": {"text": "The alert says 5xx. " * 40}}}
    if request["inferenceConfig"]["maxTokens"] < 2000:
        return Reply(
            body={
                "output": {"message": {"role": "assistant", "content": [thought]}},
                "stopReason": "max_tokens",
                "usage": {"inputTokens": 400, "outputTokens": 900, "totalTokens": 1300},
            }
        )
    content = [thought, {"text": ticket_json(title="Thought it through")}]
    return Reply(
        body={
            "output": {"message": {"role": "assistant", "content": content}},
            "stopReason": "end_turn",
            "usage": {"inputTokens": 400, "outputTokens": 1500, "totalTokens": 1900},
        }
    )


async def test_a_reasoning_model_gets_room_to_think_and_write_the_ticket(
    bedrock: ConverseServer,
) -> None:
    """A model whose answer holds reasoning blocks and stopped at maxTokens before its ticket:
    asked again at once with room to think (as OpenAI's reasoning models get), and every
    later call has that room, so each ticket is the model's (each fell back as `truncated`)."""
    bedrock.responder = thinking_model
    metrics = Metrics()
    summariser = summariser_for(bedrock, metrics, llm_retries=0)
    with structlog.testing.capture_logs() as logs:
        first = await summariser.summarise(view(source()))
        second = await summariser.summarise(view(source(title="Queue depth high")))
    await summariser.aclose()
    assert first.title == second.title == "Thought it through"
    assert metrics.counter("SummarizationFailures") == 0
    bounds = [request["inferenceConfig"]["maxTokens"] for request in bedrock.requests]
    assert bounds[0] < 2000 and bounds[1:] == [bounds[1]] * 2 and bounds[1] >= 2000
    assert [e["event"] for e in logs].count("llm.request_adapted") == 1


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (429, "ModelNotReadyException"),
        (408, "ModelTimeoutException"),
        (424, "ModelErrorException"),
        (500, "InternalServerException"),
    ],
)
async def test_each_transient_converse_error_is_retried(
    bedrock: ConverseServer, status: int, code: str
) -> None:
    """Converse's documented passing failures (a model not ready yet, one that took too long
    or failed this time, an internal error), each answered once and then the model's ticket:
    retried by the summariser within its budget, and the retry's answer is the ticket."""
    bedrock.then(
        converse_error(status, code, "The system encountered an unexpected error."),
        converse_reply(ticket_json(title="After the retry")),
    )
    metrics = Metrics()
    summariser = summariser_for(bedrock, metrics, llm_retries=1)
    ticket = await summariser.summarise(view(source()))
    await summariser.aclose()
    assert ticket.title == "After the retry"
    assert bedrock.request_count == 2


async def test_an_upgrade_nobody_asked_for_is_a_server_fault(
    task_role: CredentialsEndpoint,
) -> None:
    """A 101 as the final answer to Converse (which botocore reads as an empty success) is the
    endpoint unwell, as a 5xx is, and as the OpenAI client and the sinks read it: retried
    within the budget, then the fallback as server_error_101 (it was `no_message`, not
    retried)."""

    async def switching(writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n")
        await writer.drain()

    async with hostile(switching) as server:
        _, reason = await fallback_reason(server.url, llm_retries=1)
    assert reason == "server_error_101"
    assert len(server.requests) == 2


async def test_a_dated_retry_after_is_read_against_the_answers_own_date(
    bedrock: ConverseServer,
) -> None:
    """A Retry-After given as a date is read against the answer's own Date header, not this
    host's clock: a server an hour behind this host that asks for 600 s is left alone 600 s
    (read against this host's clock the date would lie in the past: no wait at all)."""
    import email.utils
    import time

    server_now = time.time() - 3600
    reply = converse_error(503, "ServiceUnavailableException", "Service unavailable.")
    reply.headers["Date"] = email.utils.formatdate(server_now, usegmt=True)
    reply.headers["Retry-After"] = email.utils.formatdate(server_now + 600, usegmt=True)
    bedrock.responder = lambda _request: reply
    summariser = summariser_for(bedrock, Metrics(), llm_retries=2)
    with structlog.testing.capture_logs() as logs:
        await summariser.summarise(view(source()))
    await summariser.aclose()
    [paused] = [e for e in logs if e["event"] == "llm.paused"]
    assert 590 <= paused["retry_after_s"] <= 600
