"""The LLM summariser against Azure OpenAI as its data plane answers: a deployment's URL
(`…/openai/deployments/<name>/chat/completions?api-version=…`, the key in an `api-key`
header) and the v1 API (`…/openai/v1`, the key as a bearer token, no dated api-version), with
Azure's own refusals and answers, through the real openai client over loopback HTTP."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any, cast
from urllib.parse import parse_qsl, urlsplit

import pytest
import structlog.testing

from factories import alert, view
from triage.demo.loopback import KeepAliveHandler, LoopbackServer
from triage.demo.model import ChatServer, Reply, error
from triage.logs import configure_logging
from triage.metrics import Metrics
from triage.models import Ticket
from triage.ops import check
from triage.redact import Redactor
from triage.settings import Settings
from triage.summarise import FallbackSummariser, build_summariser

#: An Azure OpenAI key's shape: 84 characters, letters and digits.
KEY = "7f3Kq9ZpLw2Rx8VbN4mT6yHc1sDg5JaE0uFoQiXe3WrTy7Ui9OpAs2Df4Gh6Jk8Lz0Xc1Vb3Nm5Qw7Er9Ty2Ui4Op6"
DEPLOYMENT = "gpt-4o-triage"
#: The data-plane versions the stand-in knows, as Azure lists its GA and preview ones.
VERSIONS = frozenset({"2024-06-01", "2024-10-21", "2024-12-01-preview", "2025-01-01-preview"})
TICKET = {
    "title": "Checkout API returns 5xx",
    "priority": "medium",
    "description": "The checkout API fails.",
    "steps": ["Check the error rate dashboard"],
}

#: Azure's refusal of a missing or wrong key (word for word).
BAD_KEY = (
    "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide"
    " a valid key for an active subscription and use a correct regional API endpoint for your"
    " resource."
)
#: Azure's refusal of a bearer token that is no Microsoft Entra token (an API key sent so).
BAD_TOKEN = (
    "Unauthorized. Access token is missing, invalid, audience is incorrect"
    " (https://cognitiveservices.azure.com), or have expired."
)
NO_DEPLOYMENT = (
    "The API deployment for this resource does not exist. If you created the deployment within"
    " the last 5 minutes, please wait a moment and try again."
)


def azure_error(status: int, code: str, message: str, **extra: Any) -> Reply:
    """An error as Azure OpenAI sends one: `{"error": {"code": …, "message": …}}`."""
    return Reply(status, {"error": {"code": code, "message": message, **extra}})


def azure_completion(content: str | None, finish_reason: str = "stop", **choice: Any) -> Reply:
    """A 200 chat completion in Azure's shape: the prompt's and the choice's filter results
    beside OpenAI's fields."""
    safe = {k: {"filtered": False, "severity": "safe"} for k in ("hate", "self_harm", "sexual")}
    body = {
        "id": "chatcmpl-AzURe0example",
        "object": "chat.completion",
        "created": 1733390000,
        "model": "gpt-4o-2024-08-06",
        "system_fingerprint": "fp_azure",
        "prompt_filter_results": [{"prompt_index": 0, "content_filter_results": safe}],
        "choices": [
            {
                "index": 0,
                "finish_reason": finish_reason,
                "logprobs": None,
                "content_filter_results": safe,
                "message": {"role": "assistant", "content": content, "refusal": None},
                **choice,
            }
        ],
        "usage": {"prompt_tokens": 412, "completion_tokens": 61, "total_tokens": 473},
    }
    return Reply(200, body)


@dataclass(frozen=True)
class Seen:
    """One request as it reached the stand-in."""

    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: dict[str, Any]


class AzureOpenAI(LoopbackServer):
    """Azure OpenAI's data plane, as strict as Azure about where and how it is asked: a
    deployment's chat completions need the `api-key` header and a known `api-version`; the v1
    API takes the key as `api-key` or a bearer token and refuses a dated api-version. Any other
    request gets Azure's own refusal; a good one gets `responder`'s answer."""

    thread_name = "azure-openai"

    def __init__(self) -> None:
        self.responder: Callable[[dict[str, Any]], Reply] = lambda _request: azure_completion(
            json.dumps(TICKET)
        )
        #: The api-version the deployment's model needs at least (Azure's reasoning models
        #: need a preview one); None: any it knows.
        self.model_needs: str | None = None
        self._lock = threading.Lock()
        self._seen: list[Seen] = []
        super().__init__()

    @property
    def deployment_url(self) -> str:
        """The deployment's endpoint as the Azure portal shows it (its "Target URI")."""
        return f"{self.base_url}/openai/deployments/{DEPLOYMENT}"

    @property
    def seen(self) -> list[Seen]:
        with self._lock:
            return list(self._seen)

    def refusal(self, seen: Seen) -> Reply | None:
        """Azure's refusal of a request it would refuse; None for one it would answer."""
        path, query, headers = seen.path, seen.query, seen.headers
        deployment = path.removeprefix("/openai/deployments/").removesuffix("/chat/completions")
        if path.startswith("/openai/deployments/") and path.endswith("/chat/completions"):
            if headers.get("api-key") != KEY:
                bearer = "api-key" not in headers and "authorization" in headers
                return azure_error(401, "401", BAD_TOKEN if bearer else BAD_KEY)
            if "api-version" not in query:
                return azure_error(404, "404", "Resource not found")
            if query["api-version"] not in VERSIONS:
                return azure_error(400, "BadRequest", "API version not supported")
            if deployment != DEPLOYMENT:
                return azure_error(404, "DeploymentNotFound", NO_DEPLOYMENT)
            if self.model_needs and query["api-version"] < self.model_needs:
                message = (
                    f"Model o4-mini is enabled only for api versions {self.model_needs} and later"
                )
                return azure_error(400, "BadRequest", message)
            return None
        if path == "/openai/v1/chat/completions":
            keys = {
                headers.get("api-key"),
                headers.get("authorization", "").removeprefix("Bearer "),
            }
            if KEY not in keys:
                return azure_error(401, "401", BAD_KEY)
            if query.get("api-version", "preview") not in ("preview", "latest"):
                return azure_error(400, "BadRequest", "API version not supported")
            if seen.body.get("model") != DEPLOYMENT:  # v1 names the deployment as the model
                return azure_error(404, "DeploymentNotFound", NO_DEPLOYMENT)
            return None
        return azure_error(404, "404", "Resource not found")

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(KeepAliveHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                url = urlsplit(self.path)
                query = dict(parse_qsl(url.query, keep_blank_values=True))
                headers = {name.lower(): value for name, value in self.headers.items()}
                seen = Seen(url.path, query, headers, json.loads(raw or b"{}"))
                with server._lock:
                    server._seen.append(seen)
                self._send(server.refusal(seen) or server.responder(seen.body))

            def _send(self, reply: Reply) -> None:
                data = json.dumps(reply.body).encode()
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("apim-request-id", "3f2b2c1e-0000-4000-8000-000000000000")
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: tests assert on the recorded requests instead."""

        return Handler


@pytest.fixture
def azure() -> Iterator[AzureOpenAI]:
    with AzureOpenAI() as server:
        yield server


def summariser_for(base_url: str, metrics: Metrics, **overrides: Any) -> FallbackSummariser:
    values: dict[str, Any] = {
        "openai_api_key": KEY,
        "openai_base_url": base_url,
        # Long enough that a loaded CI worker's first call never times out: no test here is
        # of timeouts (2 s timed out a Bedrock test's first call under load).
        "llm_timeout_s": 30.0,
        "llm_retries": 0,
        **overrides,
    }
    summariser = build_summariser(Settings(**values), metrics, Redactor())
    assert isinstance(summariser, FallbackSummariser)
    return summariser


async def one_ticket(base_url: str, **overrides: Any) -> tuple[Ticket, Metrics]:
    """The ticket one alert gets from the model at `base_url`, and the call's metrics."""
    metrics = Metrics()
    summariser = summariser_for(base_url, metrics, **overrides)
    try:
        return await summariser.summarise(view(alert())), metrics
    finally:
        await summariser.aclose()


@pytest.mark.parametrize(
    ("suffix", "version"),
    [
        ("?api-version=2024-06-01", "2024-06-01"),
        ("/chat/completions?api-version=2025-01-01-preview", "2025-01-01-preview"),
        ("", "2024-10-21"),
    ],
    ids=["with-api-version", "portal-target-uri", "no-api-version"],
)
async def test_an_azure_deployment_url_gets_the_models_ticket(
    azure: AzureOpenAI, suffix: str, version: str
) -> None:
    """OPENAI_BASE_URL set to an Azure deployment (as the portal shows it, with or without its
    api-version or the API path): each request goes to the deployment's chat completions with
    the api-version kept (Azure's latest GA one when none is given), the key in `api-key` and
    no bearer token; the ticket is the model's (the SDK put the query before the path and sent
    a bearer token, so every incident fell back)."""
    ticket, metrics = await one_ticket(azure.deployment_url + suffix)
    [request] = azure.seen
    assert request.path == f"/openai/deployments/{DEPLOYMENT}/chat/completions"
    assert request.query == {"api-version": version}
    assert request.headers["api-key"] == KEY and "authorization" not in request.headers
    assert ticket.title == TICKET["title"]
    assert metrics.counter("SummarizationFailures") == 0


async def test_the_azure_v1_api_keeps_its_query_and_its_bearer_token(azure: AzureOpenAI) -> None:
    """Azure's v1 API (`…/openai/v1`, OPENAI_MODEL the deployment) with `api-version=preview`
    in OPENAI_BASE_URL: the query is sent after the path, not in front of it, the key as the
    bearer token OpenAI's API takes, and no dated api-version is added (v1 refuses one)."""
    ticket, metrics = await one_ticket(
        azure.base_url + "/openai/v1?api-version=preview", openai_model=DEPLOYMENT
    )
    [request] = azure.seen
    assert (request.path, request.query) == (
        "/openai/v1/chat/completions",
        {"api-version": "preview"},
    )
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert ticket.title == TICKET["title"]
    assert metrics.counter("SummarizationFailures") == 0


async def test_a_missing_deployment_says_to_check_the_deployment_name(azure: AzureOpenAI) -> None:
    """A deployment name the resource does not have (Azure's DeploymentNotFound 404): one
    `llm.rejected` line whose hint names the deployment in OPENAI_BASE_URL, not OPENAI_MODEL
    and a /v1 path, which a deployment URL does not use; the breaker opens at once."""
    url = azure.deployment_url.replace(DEPLOYMENT, "gpt-4o-typo")
    metrics = Metrics()
    summariser = summariser_for(url, metrics, llm_breaker_failures=3)
    with structlog.testing.capture_logs() as logs:
        for name in ("a", "b"):
            await summariser.summarise(view(alert(name)))
    await summariser.aclose()
    assert len(azure.seen) == 1
    [line] = [e for e in logs if e["event"] == "llm.rejected"]
    assert "/openai/deployments/" in line["hint"] and "OPENAI_BASE_URL" in line["hint"]
    assert metrics.counter("LLMFallbacks", reason="breaker_open") == 1


def prompt_filtered(_request: dict[str, Any]) -> Reply:
    """Azure's 400 when its content filter refuses the prompt, with its `innererror`."""
    message = (
        "The response was filtered due to the prompt triggering Azure OpenAI's content"
        " management policy. Please modify your prompt and retry. To learn more about our"
        " content filtering policies please read our documentation:"
        " https://go.microsoft.com/fwlink/?linkid=2198766"
    )
    innererror = {
        "code": "ResponsibleAIPolicyViolation",
        "content_filter_result": {
            "hate": {"filtered": False, "severity": "safe"},
            "jailbreak": {"filtered": True, "detected": True},
            "violence": {"filtered": False, "severity": "safe"},
        },
    }
    error = {"message": message, "type": None, "param": "prompt", "code": "content_filter"}
    return Reply(400, {"error": {**error, "status": 400, "innererror": innererror}})


def output_filtered(_request: dict[str, Any]) -> Reply:
    """Azure's 200 for an answer its filter withheld: `finish_reason: content_filter`, and no
    message at all for the choice."""
    reply = azure_completion(None, "content_filter")
    del reply.body["choices"][0]["message"]
    reply.body["choices"][0]["content_filter_results"]["violence"] = {
        "filtered": True,
        "severity": "medium",
    }
    return reply


@pytest.mark.parametrize(
    "responder",
    [
        prompt_filtered,
        output_filtered,
        lambda _request: azure_completion(None, "content_filter"),
    ],
    ids=["prompt-400", "answer-withheld", "answer-empty"],
)
async def test_azures_content_filter_falls_back_once_per_alert(
    azure: AzureOpenAI, responder: Callable[[dict[str, Any]], Reply]
) -> None:
    """Azure's content filter, refusing the prompt (its 400 with `innererror`) or withholding
    the answer (a 200 whose choice has `finish_reason: content_filter`, with or without a
    message): the deterministic ticket, `content_filter`, one request per alert (never
    retried), one log line each, and the breaker stays closed for the next alert (an answer
    withheld without its message fell back as `bad_response`)."""
    azure.responder = responder
    metrics = Metrics()
    summariser = summariser_for(
        azure.deployment_url, metrics, llm_retries=2, llm_breaker_failures=1
    )
    with structlog.testing.capture_logs() as logs:
        for name in ("a", "b"):
            await summariser.summarise(view(alert(name)))
    await summariser.aclose()
    assert len(azure.seen) == 2
    assert metrics.counter("LLMFallbacks", reason="content_filter") == 2
    assert [e["event"] for e in logs].count("summariser.fallback") == 2


async def test_the_api_key_header_never_reaches_a_log_line(azure: AzureOpenAI) -> None:
    """At debug level, with Azure refusing a key that it echoes back: the key sent in the
    `api-key` header appears in no log line (held and redacted as the bearer token is), and
    nowhere in a request but that header."""
    azure.responder = lambda _request: azure_error(401, "401", f"{BAD_KEY} Key: {KEY}")
    stream = io.StringIO()
    configure_logging("json", "debug", stream)
    metrics = Metrics()
    summariser = summariser_for(azure.deployment_url, metrics)
    await summariser.summarise(view(alert()))
    await summariser.aclose()
    assert any(
        json.loads(line)["event"] == "llm.rejected" for line in stream.getvalue().splitlines()
    )
    assert KEY not in stream.getvalue()
    [request] = azure.seen
    others = {name: value for name, value in request.headers.items() if name != "api-key"}
    assert KEY not in json.dumps([request.path, request.query, others, request.body])


async def test_triage_check_asks_an_azure_deployment_as_the_daemon_does(azure: AzureOpenAI) -> None:
    """`triage check`'s one-token request reaches an Azure deployment as the daemon's do (its
    path, api-version and `api-key`), so it reports the model answering instead of Azure's
    401 for a bearer token."""
    settings = Settings(openai_api_key=KEY, openai_base_url=azure.deployment_url)
    said = await check._llm(settings, cast(Any, None))  # the AWS session is Bedrock's only
    assert said.endswith("answers")
    [request] = azure.seen
    assert request.query == {"api-version": "2024-10-21"} and request.headers["api-key"] == KEY


async def test_a_model_needing_a_later_api_version_gets_it(azure: AzureOpenAI) -> None:
    """A deployment URL without api-version, serving a model that needs a later one than
    triage's default (Azure's "Model o4-mini is enabled only for api versions
    2024-12-01-preview and later"): asked again at once with the version Azure names, and
    every later request carries it (each incident fell back as rejected_400)."""
    azure.model_needs = "2024-12-01-preview"
    metrics = Metrics()
    summariser = summariser_for(azure.deployment_url, metrics)
    with structlog.testing.capture_logs() as logs:
        for name in ("a", "b"):
            await summariser.summarise(view(alert(name)))
    await summariser.aclose()
    assert metrics.counter("SummarizationFailures") == 0
    versions = [request.query["api-version"] for request in azure.seen]
    assert versions == ["2024-10-21", "2024-12-01-preview", "2024-12-01-preview"]
    assert [e["event"] for e in logs].count("llm.request_adapted") == 1
    assert all(request.headers["api-key"] == KEY for request in azure.seen)


async def test_an_api_version_the_url_names_is_never_moved(azure: AzureOpenAI) -> None:
    """The api-version OPENAI_BASE_URL names is the operator's: a model needing a later one
    falls back in Azure's words (`rejected_400`), and triage does not pick another."""
    azure.model_needs = "2024-12-01-preview"
    _ticket, metrics = await one_ticket(azure.deployment_url + "?api-version=2024-10-21")
    assert [request.query["api-version"] for request in azure.seen] == ["2024-10-21"]
    assert metrics.counter("LLMFallbacks", reason="rejected_400") == 1


async def test_a_gateway_key_in_the_base_urls_query_is_sent_and_never_logged() -> None:
    """A gateway that takes its key in the URL (`OPENAI_BASE_URL=…/v1?key=…`, as some proxies
    and API managers do): the key goes with every request, after the API path, and a refusal
    that quotes it leaves it out of the log line (a key of no random-looking shape went into
    the line as the server said it)."""
    gateway_key = "abcdefghij1234567890"
    stream = io.StringIO()
    configure_logging("json", "debug", stream)
    with ChatServer() as chat:
        chat.responder = lambda _request: error(403, f"gateway key {gateway_key} is suspended")
        await one_ticket(f"{chat.url}?key={gateway_key}")
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert any(e["event"] == "llm.rejected" and "suspended" in e["error"] for e in lines)
    assert gateway_key not in stream.getvalue()
    assert chat.request_count == 1
