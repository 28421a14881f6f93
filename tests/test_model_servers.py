"""The LLM summariser against OpenAI-compatible servers that answer as their documentation
says (vLLM, Text Generation Inference, FastAPI-based servers, Azure OpenAI), with the real
openai client over loopback HTTP: each gets the model's ticket when one can be had, and the
fallback otherwise, without the answer of one request spoiling the next."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import structlog.testing

from factories import alert, view
from hostile_server import HostileServer, answer, hostile
from triage.demo.model import ChatServer, Reply, completion, default_model, estimated_tokens
from triage.metrics import Metrics
from triage.models import Alert, Priority, Ticket
from triage.redact import Redactor
from triage.settings import Settings
from triage.summarise import FallbackSummariser, build_summariser

#: The context window of the small model the vLLM stand-in serves, in tokens.
CONTEXT = 1900
#: The TGI stand-in's: a long alert's prompt does not fit, the same cut to a quarter does.
TGI_CONTEXT = 2600


@pytest.fixture
def chat() -> Iterator[ChatServer]:
    with ChatServer() as server:
        yield server


def summariser_for(
    chat: ChatServer | HostileServer, metrics: Metrics, **overrides: Any
) -> FallbackSummariser:
    values: dict[str, Any] = {
        "openai_api_key": "sk-test-key",
        "openai_base_url": chat.url,
        # Long enough that a loaded CI worker's first call never times out: no test here is
        # of timeouts (2 s timed out a Bedrock test's first call under load).
        "llm_timeout_s": 30.0,
        "llm_retries": 0,
        **overrides,
    }
    summariser = build_summariser(Settings(**values), metrics, Redactor())
    assert isinstance(summariser, FallbackSummariser)
    return summariser


def vllm_small_context(request: dict[str, Any]) -> Reply:
    """vLLM serving a model with a CONTEXT-token window: a request whose prompt and output
    bound do not fit is refused with vLLM's own 400, which names both token fields."""
    wanted = request.get("max_tokens") or request.get("max_completion_tokens") or 0
    used = sum(estimated_tokens(message["content"]) for message in request["messages"])
    if used + wanted <= CONTEXT:
        return default_model(request)
    message = (
        f"'max_tokens' or 'max_completion_tokens' is too large: {wanted}. This model's maximum"
        f" context length is {CONTEXT} tokens and your request has {used} input tokens"
        f" ({wanted} > {CONTEXT} - {used}). None"
    )
    body = {"object": "error", "message": message, "type": "BadRequestError", "param": None}
    return Reply(400, {**body, "code": 400})


def long_alert() -> Alert:
    """An alert whose raw payload fills a prompt past the small model's context."""
    payload = {"log": " ".join(f"line {i}: request failed upstream" for i in range(600))}
    return alert("long").model_copy(update={"raw": payload})


async def test_a_prompt_too_long_for_vllm_does_not_spoil_later_requests(chat: ChatServer) -> None:
    """vLLM's too-long 400 names max_completion_tokens: it is the prompt's length, not a
    reasoning model's refusal, so later requests keep max_tokens and a short alert still gets
    the model's ticket (every later incident fell back as prompt_too_long before)."""
    chat.responder = vllm_small_context
    metrics = Metrics()
    summariser = summariser_for(chat, metrics, llm_max_input_tokens=3000)
    await summariser.summarise(view(long_alert()))
    await summariser.summarise(view(alert("short")))
    await summariser.aclose()
    assert metrics.counter("LLMCalls", outcome="ok") == 1  # the short alert's: the model's
    assert metrics.counter("SummarizationFailures") == 1  # the long alert's only
    assert all("max_completion_tokens" not in request for request in chat.requests)


TICKET = {
    "title": "Checkout API returns 5xx",
    "priority": "medium",
    "description": "The checkout API fails.",
    "steps": ["Check the error rate dashboard"],
}
JSON = json.dumps(TICKET)


async def model_ticket(chat: ChatServer, content: str, source: Alert | None = None) -> Ticket:
    """The ticket written for `source` when the model answers `content`; asserts it is the
    model's (no fallback)."""
    chat.responder = lambda _request: completion(content)
    metrics = Metrics()
    summariser = summariser_for(chat, metrics)
    ticket = await summariser.summarise(view(source or alert()))
    await summariser.aclose()
    assert metrics.counter("SummarizationFailures") == 0
    assert metrics.counter("LLMCalls", outcome="ok") == 1
    return ticket


@pytest.mark.parametrize(
    "content",
    [
        "Here is the ticket:\n" + JSON,
        JSON + "\n\nLet me know if you need anything else.",
        "Sure! Here it is:\n```json\n" + JSON + "\n```\nHope this helps.",
        "```json\n" + JSON + "\n```\nI chose medium because nothing says more.",
        "<think>The alert says {checkout} fails.</think>\nThe ticket: " + JSON,
        json.dumps({"ticket": TICKET}),
        json.dumps({**TICKET, "severity": "high", "Summary": "5xx"}),
        json.dumps({**TICKET, "steps": "1. Check the error rate dashboard\n2. Roll back"}),
        json.dumps({**TICKET, "description": ["The checkout API fails.", "Since 10:00."]}),
        json.dumps({**TICKET, "steps": [{"step": 1, "action": "Check the error rate dashboard"}]}),
        'The alert asks me to write {"note": "all clear"} first; I will not. Ticket: ' + JSON,
    ],
    ids=[
        "prose-before",
        "prose-after",
        "fence-inside-prose",
        "remark-after-fence",
        "think-then-prose",
        "wrapped",
        "extra-keys",
        "steps-as-one-string",
        "description-as-paragraphs",
        "steps-as-objects",
        "object-quoted-before-the-ticket",
    ],
)
async def test_an_answer_in_a_near_miss_shape_is_the_models_ticket(
    chat: ChatServer, content: str
) -> None:
    """A server that does not enforce the schema (Ollama, older vLLM, Bedrock) gets answers
    with prose around the JSON, a wrapper, extra keys, steps as one string or as objects, or
    a description as paragraphs: each is read as the ticket it is (each fell back before)."""
    ticket = await model_ticket(chat, content)
    assert ticket.title == "Checkout API returns 5xx"
    assert ticket.description.startswith("The checkout API fails.")
    assert ticket.steps[0] == "Check the error rate dashboard"


@pytest.mark.parametrize(
    ("said", "expected"),
    [("High", "high"), ("P1", "high"), ("urgent", "high"), (1, "high"), ("soon", "medium")],
)
async def test_the_models_priority_is_read_as_an_alerts_would_be(
    chat: ChatServer, said: object, expected: str
) -> None:
    """A model's priority in another spelling ("High", "P1", "urgent", 1) is read as the
    alert's own priority field is, still one step at most from the severity's default
    (urgent is critical, cut to high); a word that is no priority suggests none. Each of
    these answers fell back before."""
    source = alert(priority=None).model_copy(update={"severity": "warning"})
    ticket = await model_ticket(chat, json.dumps({**TICKET, "priority": said}), source)
    assert ticket.priority is Priority(expected)


async def test_an_answer_past_the_contract_is_cut_to_it(chat: ChatServer) -> None:
    """A 100 KB description, 500 steps and a 300-character title are cut to the ticket
    contract (4,000 characters on a word boundary, 8 steps, 120 characters), not thrown away
    for the fallback."""
    long = {
        **TICKET,
        "title": "Checkout API returns 5xx " * 12,
        "description": "The checkout API fails. " * 4200,
        "steps": [f"Check the error rate dashboard, view {i}" for i in range(500)],
    }
    ticket = await model_ticket(chat, json.dumps(long))
    assert len(ticket.title) <= 120 and ticket.title.startswith("Checkout API returns 5xx")
    assert 3000 < len(ticket.description) <= 4000
    last_word = ticket.description.removesuffix("…").split()[-1]
    assert last_word in {"The", "checkout", "API", "fails."}
    assert len(ticket.steps) == 8


def tgi_small_context(request: dict[str, Any]) -> Reply:
    """Text Generation Inference's Messages API with a TGI_CONTEXT-token window: a prompt that
    does not fit is a 422 whose `error` is a string (the SDK's message is "Error code: 422")."""
    wanted = request.get("max_tokens") or 0
    used = sum(estimated_tokens(message["content"]) for message in request["messages"])
    if used + wanted <= TGI_CONTEXT:
        return default_model(request)
    message = (
        f"Input validation error: `inputs` tokens + `max_new_tokens` must be <= {TGI_CONTEXT}."
        f" Given: {used} `inputs` tokens and {wanted} `max_new_tokens`"
    )
    return Reply(422, {"error": message, "error_type": "validation"})


async def test_a_prompt_too_long_for_tgi_is_sent_again_shorter(chat: ChatServer) -> None:
    """TGI's 422 for a prompt past its context is the prompt's length: sent once more cut to
    a quarter, the model's ticket, and no breaker failure (it was `rejected_422`, a provider
    fault: a few long alerts opened the breaker for every alert)."""
    chat.responder = tgi_small_context
    metrics = Metrics()
    summariser = summariser_for(chat, metrics, llm_max_input_tokens=3000)
    await summariser.summarise(view(long_alert()))
    await summariser.aclose()
    assert chat.request_count == 2
    assert metrics.counter("SummarizationFailures") == 0


def gateway_small_context(message: str) -> Callable[[dict[str, Any]], Reply]:
    """A gateway in front of a TGI_CONTEXT-token model, passing on its provider's 400 in the
    provider's words when the prompt does not fit."""

    def answer(request: dict[str, Any]) -> Reply:
        used = sum(estimated_tokens(message["content"]) for message in request["messages"])
        if used + (request.get("max_tokens") or 0) <= TGI_CONTEXT:
            return default_model(request)
        error = {"message": message, "type": "invalid_request_error", "param": None}
        return Reply(400, {"error": {**error, "code": "400"}})

    return answer


@pytest.mark.parametrize(
    "message",
    [
        # LiteLLM or another proxy passing on Claude's (Anthropic's API or Bedrock's).
        "litellm.BadRequestError: AnthropicException - input length and `max_tokens` exceed"
        " context limit: 196395 + 900 > 200000, decrease input length or `max_tokens` and try"
        " again",
        "litellm.BadRequestError: BedrockException - Input is too large: too many total text"
        " bytes: 9437184 > 9000000",
        # Bedrock's OpenAI-compatible endpoint.
        "prompt tokens exceed model maximum of 200000",
        # xAI's.
        "This model's maximum prompt length is 131072 but the request contains 150000 tokens.",
    ],
    ids=["claude-context-limit", "claude-text-bytes", "bedrock-openai", "xai"],
)
async def test_a_gateways_words_for_a_prompt_too_long_send_it_again_shorter(
    chat: ChatServer, message: str
) -> None:
    """A prompt too long in the words of the provider behind a gateway (Anthropic's, Bedrock's,
    xAI's): sent once more cut to a quarter, the model's ticket (it fell back as rejected_400,
    a provider fault, so a few long alerts opened the breaker for every alert)."""
    chat.responder = gateway_small_context(message)
    metrics = Metrics()
    summariser = summariser_for(chat, metrics, llm_max_input_tokens=3000)
    await summariser.summarise(view(long_alert()))
    await summariser.aclose()
    assert chat.request_count == 2
    assert metrics.counter("SummarizationFailures") == 0


@pytest.mark.parametrize(
    "message",
    [
        "max_tokens is too large: 4000. This model supports at most 2048 completion tokens,"
        " whereas you provided 4000.",
        "max_tokens: 4000 > 2048, which is the maximum allowed number of output tokens for"
        " claude-instant-1.2",
    ],
    ids=["openai", "anthropic"],
)
async def test_an_output_bound_refusal_is_not_taken_for_a_long_prompt(
    chat: ChatServer, message: str
) -> None:
    """A server refusing the output bound triage asks for (OpenAI's and Anthropic's words,
    which name a size and a maximum) is refused for the request, not the alert's length: no
    shorter prompt is sent (it would be refused the same way), and it counts against the
    breaker as any refusal of the request triage always sends does."""
    chat.responder = lambda _request: Reply(
        400, {"error": {"message": message, "type": "invalid_request_error", "code": None}}
    )
    metrics = Metrics()
    summariser = summariser_for(chat, metrics, llm_breaker_failures=1)
    for name in ("a", "b"):
        await summariser.summarise(view(alert(name)))
    await summariser.aclose()
    assert chat.request_count == 1
    assert metrics.counter("LLMFallbacks", reason="rejected_400") == 1
    assert metrics.counter("LLMFallbacks", reason="breaker_open") == 1


def fastapi_server(request: dict[str, Any]) -> Reply:
    """An OpenAI-compatible server built on FastAPI whose `response_format.type` takes only
    text and json_object: json_schema fails its validation with FastAPI's own 422."""
    kind = request["response_format"]["type"]
    if kind in ("text", "json_object"):
        return default_model(request)
    detail = {
        "type": "literal_error",
        "loc": ["body", "response_format", "type"],
        "msg": "Input should be 'text' or 'json_object'",
        "input": kind,
    }
    return Reply(422, {"detail": [detail]})


async def test_a_422_refusing_json_schema_gets_json_object_for_good(chat: ChatServer) -> None:
    """A server refusing json_schema with a 422 (FastAPI's validation) rather than a 400 is
    asked again with json_object, and that is kept: every ticket is the model's (each fell
    back as rejected_422 and the breaker opened)."""
    chat.responder = fastapi_server
    metrics = Metrics()
    summariser = summariser_for(chat, metrics)
    for name in ("a", "b", "c"):
        await summariser.summarise(view(alert(name)))
    await summariser.aclose()
    assert metrics.counter("SummarizationFailures") == 0
    kinds = [request["response_format"]["type"] for request in chat.requests]
    assert kinds == ["json_schema", "json_object", "json_object", "json_object"]


def azure_content_filter(_request: dict[str, Any]) -> Reply:
    """Azure OpenAI's 400 when its content filter refuses the prompt."""
    error = {
        "message": "The response was filtered due to the prompt triggering Azure OpenAI's"
        " content management policy.",
        "type": None,
        "param": "prompt",
        "code": "content_filter",
        "status": 400,
        "innererror": {
            "code": "ResponsibleAIPolicyViolation",
            "content_filter_result": {"violence": {"filtered": True, "severity": "medium"}},
        },
    }
    return Reply(400, {"error": error})


async def test_azures_content_filter_is_counted_as_content_filter(chat: ChatServer) -> None:
    """Azure's content-filter 400 falls back as `content_filter` (it was `rejected_400`,
    indistinguishable from a refused request), is not retried and never opens the breaker."""
    chat.responder = azure_content_filter
    metrics = Metrics()
    summariser = summariser_for(chat, metrics, llm_retries=2, llm_breaker_failures=2)
    for name in ("a", "b", "c"):
        await summariser.summarise(view(alert(name)))
    await summariser.aclose()
    assert chat.request_count == 3
    assert metrics.counter("LLMFallbacks", reason="content_filter") == 3


async def test_novas_content_filter_through_a_gateway_never_opens_the_breaker(
    chat: ChatServer,
) -> None:
    """Amazon Nova's refusal of the prompt's text passed on by a gateway (a plain 400 whose
    code says nothing): `content_filter`, this alert's alone, never retried nor counted
    against the breaker, so hostile alert text cannot switch the model off for the other
    incidents (it fell back as rejected_400 and opened it)."""
    message = (
        "litellm.BadRequestError: BedrockException - This request has been blocked by our"
        " content filters. Please adjust your text prompt to submit a new request."
    )
    chat.responder = lambda _request: Reply(
        400, {"error": {"message": message, "type": None, "param": None, "code": "400"}}
    )
    metrics = Metrics()
    summariser = summariser_for(chat, metrics, llm_retries=2, llm_breaker_failures=2)
    for name in ("a", "b", "c"):
        await summariser.summarise(view(alert(name)))
    await summariser.aclose()
    assert chat.request_count == 3
    assert metrics.counter("LLMFallbacks", reason="content_filter") == 3


def grammar_only_server(request: dict[str, Any]) -> Reply:
    """A server whose `response_format` takes only its own grammar types (Text Generation
    Inference before json_object: `json` or `regex`): any other type is axum's plain-text
    422, and a request without one is answered."""
    kind = (request.get("response_format") or {}).get("type")
    if kind is None:
        return default_model(request)
    message = (
        "Failed to deserialize the JSON body into the target type: response_format: unknown"
        f" variant `{kind}`, expected `json` or `regex` at line 1 column 2048"
    )
    return Reply(422, message, {"Content-Type": "text/plain; charset=utf-8"})


async def test_a_server_refusing_json_object_too_is_asked_without_it(chat: ChatServer) -> None:
    """A server refusing json_schema and then json_object is asked with neither (the system
    message asks for JSON), once it said so, and every ticket is the model's: each fell back
    as rejected_422 before, and the breaker opened."""
    chat.responder = grammar_only_server
    metrics = Metrics()
    summariser = summariser_for(chat, metrics)
    for name in ("a", "b"):
        await summariser.summarise(view(alert(name)))
    await summariser.aclose()
    assert metrics.counter("SummarizationFailures") == 0
    kinds = [(request.get("response_format") or {}).get("type") for request in chat.requests]
    assert kinds == ["json_schema", "json_object", None, None]


async def test_an_answer_without_a_title_gets_the_alerts_own(chat: ChatServer) -> None:
    """A title missing or null in the model's answer is the alert's own title, the rest of the
    ticket the model's (it fell back as invalid_fields before)."""
    untitled = {key: value for key, value in TICKET.items() if key != "title"}
    ticket = await model_ticket(chat, json.dumps(untitled))
    assert ticket.title == "api-5xx is failing"
    assert ticket.description.startswith("The checkout API fails.")


async def test_a_whole_ticket_stopped_at_the_output_limit_is_the_models(chat: ChatServer) -> None:
    """`finish_reason: length` on an answer whose ticket closed before the limit is the
    model's ticket (it fell back as truncated); one cut inside its JSON still falls back as
    truncated."""
    whole = completion(JSON, finish_reason="length")
    chat.then(whole, completion(JSON[:50], finish_reason="length"))
    metrics = Metrics()
    summariser = summariser_for(chat, metrics)
    first = await summariser.summarise(view(alert("a")))
    await summariser.summarise(view(alert("b")))
    await summariser.aclose()
    assert first.title == "Checkout API returns 5xx"
    assert metrics.counter("LLMFallbacks", reason="truncated") == 1


async def test_a_base_url_without_v1_says_what_to_check() -> None:
    """OPENAI_BASE_URL without /v1 (Ollama answers its plain-text 404 there): one line that
    quotes the server and says to check the model and the base URL's path, and the breaker
    opens at once."""
    not_found = answer(404, {"Content-Type": "text/plain"}, b"404 page not found")
    metrics = Metrics()
    with structlog.testing.capture_logs() as logs:
        async with hostile(not_found) as server:
            summariser = summariser_for(server, metrics)
            await summariser.summarise(view(alert("a")))
            await summariser.summarise(view(alert("b")))
            await summariser.aclose()
    [line] = [e for e in logs if e["event"] == "llm.rejected"]
    assert "404 page not found" in line["error"]
    assert "/v1" in line["hint"] and "OPENAI_MODEL" in line["hint"]
    assert metrics.counter("LLMFallbacks", reason="breaker_open") == 1


def streamed(content: str, pieces: int = 4) -> bytes:
    """A chat completion as server-sent events, as a gateway that always streams sends it: a
    role delta, the content in `pieces`, the finish reason, a usage chunk, then [DONE]."""
    size = -(-len(content) // pieces)
    deltas = [{"role": "assistant", "content": ""}]
    deltas += [{"content": content[i : i + size]} for i in range(0, len(content), size)]
    chunks: list[dict[str, Any]] = [
        {"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": delta}]}
        for delta in deltas
    ]
    chunks.append({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    chunks.append({"choices": [], "usage": {"prompt_tokens": 120, "completion_tokens": 40}})
    events = "".join(f"data: {json.dumps(chunk)}\n\n" for chunk in chunks)
    return (events + "data: [DONE]\n\n").encode()


async def test_an_answer_streamed_unasked_is_the_models_ticket() -> None:
    """A gateway that streams whatever the request says (server-sent events, not one chat
    completion): the chunks add up to the model's ticket and its token counts (every call
    fell back as bad_response and the breaker opened)."""
    reply = answer(200, {"Content-Type": "text/event-stream"}, streamed(JSON))
    metrics = Metrics()
    async with hostile(reply) as server:
        summariser = summariser_for(server, metrics)
        ticket = await summariser.summarise(view(alert()))
        await summariser.aclose()
    assert ticket.title == "Checkout API returns 5xx"
    assert metrics.counter("SummarizationFailures") == 0
    assert metrics.counter("LLMTokensIn") == 120 and metrics.counter("LLMTokensOut") == 40


def no_system_role(request: dict[str, Any]) -> Reply:
    """vLLM serving a model whose chat template has no system role (Gemma's): a request with
    a system message is refused with the template's own words."""
    if any(message["role"] == "system" for message in request["messages"]):
        body = {"object": "error", "message": "System role not supported", "code": 400}
        return Reply(400, {**body, "type": "BadRequestError", "param": None})
    return default_model(request)


async def test_a_model_without_a_system_role_gets_the_instructions_first(
    chat: ChatServer,
) -> None:
    """A chat template refusing the system role: the instructions go first in the one user
    message, the alert after them in its fence, from then on; every ticket is the model's
    (each fell back as rejected_400 and the breaker opened)."""
    chat.responder = no_system_role
    metrics = Metrics()
    summariser = summariser_for(chat, metrics)
    for name in ("a", "b"):
        await summariser.summarise(view(alert(name)))
    await summariser.aclose()
    assert metrics.counter("SummarizationFailures") == 0
    assert [len(request["messages"]) for request in chat.requests] == [2, 1, 1]
    [message] = chat.requests[-1]["messages"]
    assert message["role"] == "user" and message["content"].startswith("You are an on-call")
    assert message["content"].index("JSON") < message["content"].index("<alert-")


def refusing_system(body: Any) -> Callable[[dict[str, Any]], Reply]:
    """A server answering any request with a system message with the 400 `body`."""

    def answer(request: dict[str, Any]) -> Reply:
        if any(message["role"] == "system" for message in request["messages"]):
            return Reply(400, body)
        return default_model(request)

    return answer


@pytest.mark.parametrize(
    "body",
    [
        # OpenAI's o1-mini and o1-preview (and Azure's deployments of them).
        {
            "error": {
                "message": "Unsupported value: 'messages[0].role' does not support 'system' with"
                " this model.",
                "type": "invalid_request_error",
                "param": "messages[0].role",
                "code": "unsupported_value",
            }
        },
        # A LiteLLM proxy in front of a Bedrock model without system prompts.
        {
            "error": {
                "message": 'litellm.BadRequestError: BedrockException - {"message":"This model'
                " doesn't support system messages. Try again without a system message or use a"
                ' model that supports system messages."}',
                "type": None,
                "param": None,
                "code": "400",
            }
        },
        # OpenRouter in front of Google AI Studio's Gemma: the provider's words in metadata.raw.
        {
            "error": {
                "message": "Provider returned error",
                "code": 400,
                "metadata": {
                    "raw": '{\n  "error": {\n    "code": 400,\n    "message": "Developer'
                    ' instruction is not enabled for models/gemma-3-27b-it",\n    "status":'
                    ' "INVALID_ARGUMENT"\n  }\n}\n',
                    "provider_name": "Google AI Studio",
                },
            }
        },
    ],
    ids=["openai-o1-mini", "litellm-bedrock", "openrouter-gemma"],
)
async def test_each_servers_refusal_of_the_system_role_gets_the_instructions_first(
    chat: ChatServer, body: dict[str, Any]
) -> None:
    """Other servers' words for a model without a system role (OpenAI's o1-mini, a proxy
    passing on Bedrock's, OpenRouter passing on Google's in `metadata.raw`): the instructions
    go first in the one user message from then on, and every ticket is the model's (each fell
    back as rejected_400 and the breaker opened)."""
    chat.responder = refusing_system(body)
    metrics = Metrics()
    summariser = summariser_for(chat, metrics)
    for name in ("a", "b"):
        await summariser.summarise(view(alert(name)))
    await summariser.aclose()
    assert metrics.counter("SummarizationFailures") == 0
    assert [len(request["messages"]) for request in chat.requests] == [2, 1, 1]


def thinking_server(field: str) -> Callable[[dict[str, Any]], Reply]:
    """vLLM (or Ollama, DeepSeek's API) serving a reasoning model with a reasoning parser: the
    thinking comes apart in `field` and counts against max_tokens; under 2,000 the answer
    stops (`length`) before any content."""

    def answer(request: dict[str, Any]) -> Reply:
        thought = "The alert says the checkout API fails. " * 40
        if request["max_tokens"] < 2000:
            reply = completion(None, finish_reason="length", completion_tokens=900)
        else:
            reply = default_model(request)
        message = reply.body["choices"][0]["message"]
        if field == "content":  # no reasoning parser: the thinking inline, first
            ticket = message["content"] or ""
            message["content"] = f"<think>{thought}" + (f"</think>\n{ticket}" if ticket else "")
        else:
            message[field] = thought
        return reply

    return answer


@pytest.mark.parametrize("field", ["reasoning_content", "reasoning", "content"])
async def test_a_thinking_model_gets_room_to_think_and_write_the_ticket(
    chat: ChatServer, field: str
) -> None:
    """A reasoning model that takes `max_tokens` (served by vLLM, Ollama or DeepSeek's API,
    its thinking apart or inline in <think>) and ran out thinking before its ticket: asked
    again at once with room to think, and every later call has it, so each ticket is the
    model's (each fell back as `truncated`)."""
    chat.responder = thinking_server(field)
    metrics = Metrics()
    summariser = summariser_for(chat, metrics)
    for name in ("a", "b"):
        await summariser.summarise(view(alert(name)))
    await summariser.aclose()
    assert metrics.counter("SummarizationFailures") == 0
    bounds = [request["max_tokens"] for request in chat.requests]
    assert bounds[0] < 2000 and bounds[1] >= 2000 and bounds[2] == bounds[1]


def small_thinking_model(request: dict[str, Any]) -> Reply:
    """vLLM serving a small-context reasoning model (CONTEXT tokens): a bound that does not
    fit beside the prompt is vLLM's too-long 400; within 900 it finishes an easy alert's
    ticket but runs out thinking on a hard one."""
    used = sum(estimated_tokens(message["content"]) for message in request["messages"])
    if used + request["max_tokens"] > CONTEXT:
        return vllm_small_context(request)
    hard = any("hard" in message["content"] for message in request["messages"][1:])
    reply = completion(None, finish_reason="length") if hard else default_model(request)
    reply.body["choices"][0]["message"]["reasoning_content"] = "Let me think. " * 50
    return reply


async def test_a_context_with_no_room_to_think_keeps_the_tickets_bound(chat: ChatServer) -> None:
    """A reasoning model whose context has no room for a larger bound (vLLM's too-long 400 for
    it): the bound goes back to a ticket's, for good, and the next alert it can answer within
    that bound gets the model's ticket (every later call asked the larger bound, was refused,
    and fell back as prompt_too_long)."""
    chat.responder = small_thinking_model
    metrics = Metrics()
    summariser = summariser_for(chat, metrics)
    await summariser.summarise(view(alert("hard")))
    ticket = await summariser.summarise(view(alert("easy")))
    await summariser.aclose()
    assert metrics.counter("LLMCalls", outcome="ok") == 1  # the easy alert's: the model's
    bounds = [request["max_tokens"] for request in chat.requests]
    assert bounds[-1] < 2000 and bounds.count(max(bounds)) == 1
    assert ticket.title == "easy is failing"


async def test_a_huge_answer_is_not_parsed(chat: ChatServer) -> None:
    """An answer far longer than any ticket (300 KB of prose before the JSON) is not parsed at
    all: it falls back as answer_too_large, so it never holds the event loop."""
    chat.responder = lambda _request: completion("x " * 150_000 + JSON)
    metrics = Metrics()
    summariser = summariser_for(chat, metrics)
    await summariser.summarise(view(alert()))
    await summariser.aclose()
    assert metrics.counter("LLMFallbacks", reason="answer_too_large") == 1
