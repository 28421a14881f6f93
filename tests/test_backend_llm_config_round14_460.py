"""Round 14 (helper 460): the ticket backend sink, the model clients and configuration against
loopback servers behaving as real services and proxies do."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from factories import alert, view
from hostile_server import Answer, answer, hostile
from triage.demo.model import ChatServer, Reply, completion
from triage.metrics import Metrics
from triage.redact import Redactor
from triage.settings import Settings
from triage.summarise import FallbackSummariser, build_summariser

KEY = "proxy-cred-Q7w9zXy2Lk"


def summariser_for(url: str, metrics: Metrics, **overrides: Any) -> FallbackSummariser:
    values: dict[str, Any] = {
        "openai_api_key": KEY,
        "openai_base_url": url,
        "llm_timeout_s": 30.0,
        "llm_retries": 2,
        "llm_breaker_failures": 2,
        "llm_breaker_reset_s": 60.0,
        **overrides,
    }
    summariser = build_summariser(Settings(**values), metrics, Redactor())
    assert isinstance(summariser, FallbackSummariser)
    return summariser


TICKET = {
    "title": "Checkout API returns 5xx",
    "priority": "medium",
    "description": "The checkout API fails.",
    "steps": ["Check the error rate dashboard"],
}


def _sse(*chunks: dict[str, Any], done: bool = True) -> bytes:
    events = [f"data: {json.dumps(c)}\n\n" for c in chunks]
    if done:
        events.append("data: [DONE]\n\n")
    return "".join(events).encode()


def _delta(text: str, finish: str | None = None) -> dict[str, Any]:
    return {"choices": [{"index": 0, "delta": {"content": text}, "finish_reason": finish}]}


async def test_a_streamed_answer_cut_before_its_end_is_asked_again() -> None:
    """A stream closed mid-answer (no finish reason, no [DONE]: `Connection: close` and no
    length, so the cut reads as the end) is retried, not judged as the model's invalid JSON."""
    text = json.dumps(TICKET)
    cut = _sse(_delta(text[:30]), done=False)
    whole = _sse(_delta(text[:30]), _delta(text[30:], "stop"))
    head = {"Content-Type": "text/event-stream"}
    metrics = Metrics()
    async with hostile(answer(200, head, cut), answer(200, head, whole)) as server:
        summariser = summariser_for(server.url + "/v1", metrics)
        ticket = await summariser.summarise(view(alert()))
        await summariser.aclose()
    assert ticket.title == TICKET["title"]
    assert metrics.counter("LLMCalls", outcome="unreachable") == 1
    assert metrics.counter("SummarizationFailures") == 0


@pytest.mark.parametrize(
    ("error", "outcome"),
    [
        pytest.param(
            {"message": "The server had an error", "type": "server_error", "code": None},
            "server_error",
            id="openai-server-error-type",
        ),
        pytest.param({"message": "upstream", "code": "502"}, "server_error", id="code-as-text"),
        pytest.param(
            {"message": "Rate limit reached", "type": "requests", "code": "rate_limit_exceeded"},
            "rate_limited",
            id="openai-rate-limit-code",
        ),
        pytest.param({"message": "slow down", "code": "429"}, "rate_limited", id="429-as-text"),
    ],
)
async def test_an_error_in_a_200_named_in_words_or_text_is_retried(
    error: dict[str, Any], outcome: str
) -> None:
    """A 200 whose `error` names a 5xx or 429 as text ("502") or in OpenAI's words
    (`server_error`, `rate_limit_exceeded`) is retried as that status is, not a bad_response."""
    metrics = Metrics()
    with ChatServer() as chat:
        chat.then(Reply(200, {"error": error}), completion(json.dumps(TICKET)))
        summariser = summariser_for(chat.url, metrics)
        ticket = await summariser.summarise(view(alert()))
        await summariser.aclose()
    assert ticket.title == TICKET["title"]
    assert metrics.counter("LLMCalls", outcome=outcome) == 1
    assert metrics.counter("SummarizationFailures") == 0


def _errored_choice(streamed: bool) -> Answer:
    """A 200 whose one choice ends with `finish_reason: "error"` after part of the ticket, as
    OpenRouter answers when the provider behind it fails mid-answer (its error in the choice)."""
    text = json.dumps(TICKET)[:30]
    error = {"code": 502, "message": "Provider disconnected unexpectedly"}
    if streamed:
        last = {"choices": [{"index": 0, "delta": {}, "finish_reason": "error", "error": error}]}
        body = _sse(_delta(text), last)
        return answer(200, {"Content-Type": "text/event-stream"}, body)
    message = {"role": "assistant", "content": text}
    choice = {"index": 0, "message": message, "finish_reason": "error", "error": error}
    return answer(
        200, {"Content-Type": "application/json"}, json.dumps({"choices": [choice]}).encode()
    )


@pytest.mark.parametrize("streamed", [False, True], ids=["plain", "streamed"])
async def test_a_choice_that_finished_with_an_error_is_retried(streamed: bool) -> None:
    """A choice whose finish reason is `error` (OpenRouter: the provider failed mid-answer)
    is retried as its error's code says, not its piece of text judged as the model's JSON."""
    good = answer(
        200,
        {"Content-Type": "application/json"},
        json.dumps(completion(json.dumps(TICKET)).body).encode(),
    )
    metrics = Metrics()
    async with hostile(_errored_choice(streamed), good) as server:
        summariser = summariser_for(server.url + "/v1", metrics)
        ticket = await summariser.summarise(view(alert()))
        await summariser.aclose()
    assert ticket.title == TICKET["title"]
    assert metrics.counter("LLMCalls", outcome="server_error") == 1
    assert metrics.counter("SummarizationFailures") == 0


@pytest.mark.parametrize(
    ("finish", "outcome"),
    [
        pytest.param("model_length", "invalid", id="mistral-context-window"),
        pytest.param("insufficient_system_resource", "server_error", id="deepseek-resources"),
    ],
)
async def test_a_finish_reason_saying_the_answer_was_cut_is_asked_again(
    finish: str, outcome: str
) -> None:
    """Mistral's `model_length` (the context window filled: asked again with a shorter
    prompt) and DeepSeek's `insufficient_system_resource` (the server gave out: retried) end
    a piece of a ticket, not the model's whole answer."""
    metrics = Metrics()
    with ChatServer() as chat:
        chat.then(completion(json.dumps(TICKET)[:30], finish_reason=finish))
        chat.then(completion(json.dumps(TICKET)))
        summariser = summariser_for(chat.url, metrics)
        ticket = await summariser.summarise(view(alert()))
        await summariser.aclose()
    assert ticket.title == TICKET["title"]
    assert metrics.counter("LLMCalls", outcome=outcome) == 1
    assert metrics.counter("SummarizationFailures") == 0


# --- the ticket backend -----------------------------------------------------------------------

from collections.abc import AsyncIterator  # noqa: E402
from contextlib import asynccontextmanager  # noqa: E402
from datetime import UTC, datetime  # noqa: E402

from triage.models import Alert, EffectKind, Priority, Status, Ticket  # noqa: E402
from triage.secrets import BackendToken  # noqa: E402
from triage.sinks.backend import BackendSink  # noqa: E402
from triage.sinks.base import Effect  # noqa: E402

DISK = Alert(
    source="generic",
    status=Status.FIRING,
    title="orders-db disk full",
    team="data",
    priority=Priority.HIGH,
    occurred_at=datetime(2026, 11, 23, 3, tzinfo=UTC),
    identity={"dedup_key": "disk"},
)
DISK_TICKET = Ticket(title="Disk full", priority=Priority.HIGH, description="df says 100%")
UPDATE_ROUTE = "/api/service/tickets/{ref}/updates"


def effect(kind: EffectKind, ref: str | None, key: str = "fp:2") -> Effect:
    return Effect(kind, DISK.fingerprint, view(DISK), DISK_TICKET, ref, 3, 1, False, key)


@asynccontextmanager
async def backend_sink(url: str, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[BackendSink]:
    monkeypatch.setenv("BACKEND_TOKEN", "backend-token-460")
    settings = Settings(backend_base_url=url, backend_update_route=UPDATE_ROUTE)
    sink = BackendSink(settings, BackendToken(settings))
    try:
        yield sink
    finally:
        await sink.aclose()


@pytest.mark.parametrize(
    ("body", "segment"),
    [
        pytest.param(b'[{"id": "T-7", "title": "Disk full"}]', "T-7", id="one-row-list"),
        pytest.param(
            b'{"import_set": "ISET0010001", "result": [{"sys_id": "9d385017c6112287",'
            b' "status": "inserted"}]}',
            "9d385017c6112287",
            id="servicenow-import-set",
        ),
        pytest.param(b'[{"id": "T-7"}, {"id": "T-8"}]', "fp%3A1", id="two-rows-name-none"),
        pytest.param(
            b'{"issueId": "107001", "issueKey": "HELPDESK-1", "requestTypeId": "25"}',
            "107001",
            id="jira-service-management-request",
        ),
        pytest.param(
            b'{"result": [{"sys_id": "9d385017c6112287", "status": "error"}]}',
            "fp%3A1",
            id="failed-row-names-none",
        ),
    ],
)
async def test_a_create_answered_with_one_row_in_a_list_names_that_ticket(
    body: bytes, segment: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A create answered with a list holding one row (PostgREST's representation, ServiceNow's
    import set `result`) names the ticket by that row's id, and its update goes to it."""
    created = answer(201, {"Content-Type": "application/json"}, body)
    async with (
        hostile(created, answer(200, body=b"{}")) as server,
        backend_sink(server.url, monkeypatch) as sink,
    ):
        ref = (await sink.apply(effect(EffectKind.OPEN, None, key="fp:1"))).ref
        await sink.apply(effect(EffectKind.UPDATE, ref))
    line = server.requests[-1].head.split(b"\r\n", 1)[0].decode("ascii")
    assert line.split(" ")[1] == UPDATE_ROUTE.replace("{ref}", segment)


async def test_a_location_ending_in_a_slash_names_its_ticket(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A `201 Created` with no body whose Location ends in a slash, as Django's URLs do
    (`/api/service/tickets/T-9/`), names ticket T-9, and its update goes to T-9."""
    created = answer(201, {"Location": "/api/service/tickets/T-9/"})
    async with (
        hostile(created, answer(200, body=b"{}")) as server,
        backend_sink(server.url, monkeypatch) as sink,
    ):
        ref = (await sink.apply(effect(EffectKind.OPEN, None, key="fp:1"))).ref
        await sink.apply(effect(EffectKind.UPDATE, ref))
    assert ref == "T-9"
    line = server.requests[-1].head.split(b"\r\n", 1)[0].decode("ascii")
    assert line.split(" ")[1] == UPDATE_ROUTE.replace("{ref}", "T-9")


# --- the backend's breaker behind a gateway that refuses OPTIONS without a credential ---------

from aiohttp import web  # noqa: E402

from triage.breaker import BreakerState, CircuitBreaker  # noqa: E402
from triage.errors import SinkThrottledError, SinkUnavailableError  # noqa: E402
from triage.health import Health  # noqa: E402
from triage.sinks.guard import Backpressure, GuardedSink  # noqa: E402

THRESHOLD = 2
RESET_S = 30.0


class AuthGateway:
    """A gateway on 127.0.0.1 that refuses a request without a credential itself (API
    Gateway's 403 for a method it does not define, Kong's key-auth 401), and passes the rest
    to a backend that is down (503)."""

    def __init__(self, status: int, body: dict[str, str]) -> None:
        self.status, self.body = status, body
        self.posts = 0
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        if "Authorization" not in request.headers:
            return web.json_response(self.body, status=self.status)
        self.posts += 1
        return web.Response(status=503, text="no healthy upstream")


@asynccontextmanager
async def gateway_serving(gateway: AuthGateway) -> AsyncIterator[AuthGateway]:
    app = web.Application()
    app.router.add_route("*", "/api/service", gateway.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    gateway.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        yield gateway
    finally:
        await runner.cleanup()


async def outcome_of(guard: GuardedSink, key: str) -> str:
    """One message's OPEN as the worker sees it: `retried` (a receive spent), `held`, `done`."""
    try:
        await guard.apply(effect(EffectKind.OPEN, None, key=key))
    except SinkUnavailableError:
        return "retried"
    except SinkThrottledError:
        return "held"
    return "done"


@pytest.mark.parametrize(
    ("status", "body"),
    [
        pytest.param(403, {"message": "Missing Authentication Token"}, id="api-gateway-403"),
        pytest.param(401, {"message": "No API key found in request"}, id="kong-key-auth-401"),
    ],
)
async def test_an_outage_behind_a_gateway_refusing_the_probe_spends_no_more_receives(
    status: int, body: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A gateway that answers the probe's token-less OPTIONS with its own 401 or 403 proves
    nothing of the backend behind it: during the outage each half-open lets one message
    through as the probe (held when it fails), instead of closing and retrying into the DLQ."""
    monkeypatch.setenv("BACKEND_TOKEN", "backend-token-460")
    now = [0.0]
    clock = lambda: now[0]  # noqa: E731
    async with gateway_serving(AuthGateway(status, body)) as gateway:
        settings = Settings(backend_base_url=gateway.url, backend_service_route="/api/service")
        sink = BackendSink(settings, BackendToken(settings))
        breaker = CircuitBreaker("sink:backend", THRESHOLD, RESET_S, clock=clock)
        guard = GuardedSink(sink, breaker, clock=clock)
        pressure = Backpressure([guard], Health())
        try:
            assert [await outcome_of(guard, f"fp:{n}") for n in range(THRESHOLD)] == [
                "retried"
            ] * THRESHOLD
            assert guard.breaker.state is BreakerState.OPEN
            for cycle in range(3):
                now[0] += RESET_S
                pressure.intake_limit()
                if guard._probe is not None:
                    await guard._probe
                outcomes = [await outcome_of(guard, f"fp:{cycle}:{n}") for n in range(3)]
                assert outcomes == ["held"] * 3, f"cycle {cycle}"
                assert guard.breaker.state is BreakerState.OPEN
        finally:
            await guard.aclose()


# --- configuration ------------------------------------------------------------------------------

from triage.errors import ConfigError, ModelError  # noqa: E402
from triage.routes import load_router, variables_read  # noqa: E402
from triage.settings import load_settings, model_left_unasked, unknown_variables  # noqa: E402
from triage.summarise.bedrock import BedrockChat  # noqa: E402
from triage.summarise.chat import PROMPT_TOO_LONG  # noqa: E402


@pytest.mark.parametrize(
    "given",
    [
        pytest.param({"OPENAI_BASE_URL": "http://127.0.0.1:18080/v1"}, id="base-url"),
        pytest.param({"OPENAI_MODEL": "qwen2.5-coder"}, id="model"),
    ],
)
def test_an_openai_server_named_without_a_key_is_refused_naming_both(
    given: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """OPENAI_BASE_URL or OPENAI_MODEL set (a local Ollama, which takes no key) without
    OPENAI_API_KEY is refused naming both, not run with the model silently off."""
    for name in ("OPENAI_API_KEY", "TRIAGE_LLM_PROVIDER", "OPENAI_BASE_URL", "OPENAI_MODEL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in given.items():
        monkeypatch.setenv(name, value)
    problem = model_left_unasked(load_settings())
    [named] = given
    assert problem is not None
    assert named in problem and "OPENAI_API_KEY" in problem
    assert "18080" not in problem and "qwen" not in problem  # names settings, not values
    monkeypatch.setenv("TRIAGE_LLM_PROVIDER", "none")  # the model off on purpose
    assert model_left_unasked(load_settings()) is None
    monkeypatch.delenv("TRIAGE_LLM_PROVIDER")
    monkeypatch.setenv("OPENAI_API_KEY", "ollama")
    assert model_left_unasked(load_settings()) is None


def test_a_webhook_variable_the_routes_file_names_is_no_unknown_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A TRIAGE_-prefixed variable a route reads its webhook from is not warned of as "not a
    setting and is ignored"; a misspelt setting beside it still is."""
    routes = tmp_path / "routes.toml"
    routes.write_text(
        '[[route]]\nname = "payments"\nsinks = ["backend", "slack"]\nescalate_after_s = 60\n'
        '[route.match]\nteam = ["payments"]\n'
        '[route.slack]\nwebhook_url_env = "TRIAGE_SLACK_PAYMENTS_WEBHOOK"\n'
        '[route.escalate]\nslack_webhook_url_env = "TRIAGE_ONCALL_WEBHOOK"\n'
    )
    environ = {
        "TRIAGE_ROUTES_FILE": str(routes),
        "TRIAGE_SLACK_PAYMENTS_WEBHOOK": "https://hooks.slack.com/services/T0/B0/payments",
        "TRIAGE_ONCALL_WEBHOOK": "https://hooks.slack.com/services/T0/B0/oncall",
        "TRIAGE_CONCURENCY": "8",
    }
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    settings = load_settings()
    load_router(settings)  # the file is one the daemon starts with
    warned = unknown_variables(environ, read_elsewhere=variables_read(settings))
    assert [line.split()[0] for line in warned] == ["TRIAGE_CONCURENCY"]
    assert "TRIAGE_CONCURRENCY" in warned[0]


@pytest.mark.parametrize("token", ["Q7w9ZXy2LkP4mN8rT5", "q7w9zxy2lkp4mn8rt5", "9f86d081884c7d65"])
def test_a_token_pasted_as_the_region_is_refused_without_repeating_it(
    token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A short token of letters and digits on AWS_REGION's line (the secret from the line
    beside it) is refused naming AWS_REGION, without the token, in any case."""
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL_SQS", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.setenv("AWS_REGION", token)
    with pytest.raises(ConfigError) as refused:
        load_settings()
    said = str(refused.value)
    assert said.startswith("AWS_REGION")
    assert token.lower() not in said.lower()


#: AWS's documented example secret access key: 40 of base64's letters, digits, `/` and `+`.
AWS_SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


@pytest.mark.parametrize(
    "variable", ["GITHUB_REPOSITORY", "OPENAI_MODEL", "TRIAGE_BEDROCK_MODEL_ID", "AWS_REGION"]
)
def test_an_aws_secret_key_pasted_in_a_setting_is_refused_unrepeated(
    variable: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An AWS secret access key on a setting's line that is no secret (the line beside
    AWS_SECRET_ACCESS_KEY's) is refused naming the variable, never repeated: accepted, a model
    id is logged at start-up, and GITHUB_REPOSITORY's refusal quoted it."""
    monkeypatch.setenv(variable, AWS_SECRET_KEY)
    with pytest.raises(ConfigError) as refused:
        load_settings()
    said = str(refused.value)
    assert said.startswith(variable)
    assert "EXAMPLEKEY" not in said and "K7MDENG" not in said


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("BACKEND_TOKEN_SECRET_ID", "prod/payments/triage/BackendToken2024v2x"),
        ("TRIAGE_BEDROCK_MODEL_ID", "anthropic.claude-3-haiku-20240307-v1:0"),
        ("OPENAI_MODEL", "meta-llama/Llama-3.1-8B-Instruct"),
        ("GITHUB_REPOSITORY", "acme/Payments2024ServiceRepositoryName"),
    ],
)
def test_names_shaped_like_names_are_not_taken_for_a_secret_key(
    variable: str, value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A secret's name, a model id or a repository stays accepted beside that check."""
    monkeypatch.setenv(variable, value)
    load_settings()


class FlakyAuthBackend:
    """A backend on 127.0.0.1 whose token check fails while its identity provider is down
    (every POST 401, as a JWT check that cannot fetch its keys answers), then passes with the
    same token. OPTIONS is its own router's answer (naming its methods)."""

    def __init__(self) -> None:
        self.idp_down = True
        self.posts = 0
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        if request.method == "OPTIONS":
            return web.Response(status=200, headers={"Allow": "OPTIONS, POST"})
        self.posts += 1
        if self.idp_down:
            return web.json_response({"error": "invalid_token"}, status=401)
        return web.json_response({"id": f"T-{self.posts}"}, status=201)


async def test_a_token_refused_while_the_backends_auth_was_down_is_tried_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A token refused by a backend whose own auth was failing is not taken as refused for
    good: while it is still the one read, the breaker's probe lets one real call through once
    the refusal is old, and that call's success closes the breaker (intake resumes)."""
    backend = FlakyAuthBackend()
    now = [0.0]
    clock = lambda: now[0]  # noqa: E731
    app = web.Application()
    app.router.add_route("*", "/api/service", backend.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    backend.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    monkeypatch.setenv("BACKEND_TOKEN", "backend-token-460")
    settings = Settings(backend_base_url=backend.url, backend_service_route="/api/service")
    sink = BackendSink(settings, BackendToken(settings), clock=clock)
    guard = GuardedSink(
        sink, CircuitBreaker("sink:backend", THRESHOLD, RESET_S, clock=clock), clock=clock
    )
    pressure = Backpressure([guard], Health())
    try:
        assert await outcome_of(guard, "fp:1") == "held"  # refused: the breaker opens at once
        assert guard.breaker.state is BreakerState.OPEN
        backend.idp_down = False
        for _ in range(20):  # ten minutes of half-open rounds
            now[0] += RESET_S
            pressure.intake_limit()
            if guard._probe is not None:
                await guard._probe
            if await outcome_of(guard, f"fp:{now[0]:.0f}") == "done":
                break
        assert guard.breaker.state is BreakerState.CLOSED
        assert await outcome_of(guard, "fp:next") == "done"
    finally:
        await guard.aclose()
        await runner.cleanup()


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "Basic"])
async def test_a_backend_token_pasted_with_its_scheme_is_refused_saying_so(
    scheme: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """BACKEND_TOKEN written as the header's value (`Bearer <token>`) is refused saying to
    store the token alone, not as one with "whitespace inside"; the token is not repeated."""
    monkeypatch.delenv("BACKEND_TOKEN_SECRET_ID", raising=False)
    monkeypatch.setenv("BACKEND_TOKEN", f"{scheme} tok-460-abcdef")
    with pytest.raises(ConfigError) as refused:
        await BackendToken(load_settings()).get()
    said = str(refused.value)
    assert f"starts with '{scheme.capitalize()} '" in said and "alone" in said
    assert "tok-460" not in said


async def test_a_413_from_bedrock_s_endpoint_is_a_prompt_too_long() -> None:
    """A 413 in front of Bedrock (a proxy's body limit: nginx's HTML page) is the prompt too
    long, sent again shorter as OpenAI's 413 is, not a refusal that falls back at once."""
    page = b"<html><center><h1>413 Request Entity Too Large</h1></center></html>"
    async with hostile(answer(413, {"Content-Type": "text/html"}, page)) as server:
        chat = BedrockChat(
            Settings(
                llm_provider="bedrock",
                aws_region="eu-west-1",
                aws_endpoint_url_bedrock_runtime=server.url,
                llm_timeout_s=30.0,
            )
        )
        try:
            with pytest.raises(ModelError) as raised:
                await chat.complete("system", "user", 30.0)
        finally:
            await chat.aclose()
    assert raised.value.reason == PROMPT_TOO_LONG
    assert not raised.value.provider_fault


@pytest.mark.parametrize("status", [408, 425])
async def test_a_408_or_425_in_front_of_bedrock_is_retried(status: int) -> None:
    """A 408 (a proxy timed the request out) or 425 (Too Early) from Bedrock's endpoint is
    retried as the OpenAI client retries them (`server_error_<status>`), not a refusal."""
    async with hostile(
        answer(status, {"Content-Type": "text/html"}, b"<p>try later</p>")
    ) as server:
        chat = BedrockChat(
            Settings(
                llm_provider="bedrock",
                aws_region="eu-west-1",
                aws_endpoint_url_bedrock_runtime=server.url,
                llm_timeout_s=30.0,
            )
        )
        try:
            with pytest.raises(ModelError) as raised:
                await chat.complete("system", "user", 30.0)
        finally:
            await chat.aclose()
    assert (raised.value.reason, raised.value.retryable) == (f"server_error_{status}", True)


def test_azure_openai_s_own_variable_names_are_named_with_triage_s() -> None:
    """AZURE_OPENAI_ENDPOINT and AZURE_OPENAI_API_KEY (the names Azure's docs and SDK use),
    which triage does not read, are warned of naming the variables it reads instead: the
    model would otherwise be off in silence."""
    environ = {
        "AZURE_OPENAI_ENDPOINT": "https://res.openai.azure.com/",
        "AZURE_OPENAI_API_KEY": "0123456789abcdef0123456789abcdef",
        "AZURE_OPENAI_DEPLOYMENT_NAME": "gpt-4o",
    }
    warned = unknown_variables(environ)
    assert any("AZURE_OPENAI_ENDPOINT" in w and "OPENAI_BASE_URL" in w for w in warned)
    assert any("AZURE_OPENAI_API_KEY" in w and "did you mean OPENAI_API_KEY" in w for w in warned)
    assert any("AZURE_OPENAI_DEPLOYMENT_NAME" in w and "OPENAI_BASE_URL" in w for w in warned)
    assert not any("0123456789abcdef" in w for w in warned)
