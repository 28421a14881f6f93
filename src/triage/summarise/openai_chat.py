"""OpenAI Chat Completions (or any OpenAI-compatible server, `OPENAI_BASE_URL`) as a `ChatModel`.

The client is the SDK's for OPENAI_BASE_URL (`endpoint.py`: its query kept apart, an Azure
OpenAI deployment's `api-key` and `api-version`). Structured output: `json_schema` first; a
server that rejects it (many OpenAI-compatible servers do, with a 400 or a FastAPI 422) is
asked again with `json_object`, and one that rejects that too without either; the choice is
kept. So are `max_completion_tokens` and the model's own temperature for a model that refuses
`max_tokens` or ours, the instructions in the user message for one without a system role, a
later api-version for an Azure model that needs one (`OpenAiChat._adapt`), and room to think
for a reasoning model that ran out of it (`OpenAiChat._room_to_think`).
The SDK's own retries are off: the summariser retries, within its budget, so the two cannot
stack. Each error answer becomes a `ModelError` that says whether to retry (429 with its
wait, 5xx, a 1xx as the final answer), to shorten the prompt (too long for the context, in OpenAI's, vLLM's,
llama.cpp's or TGI's words), or to give up (a content filter's refusal is `content_filter`),
and whether the provider is at fault (a refused key, a missing model, a spent quota, a
redirect, a page that is no chat completion, an answer too large to read or not in the coding
it names) or only this request. An answer streamed though
no stream was asked for (some gateways always stream) is added up into the chat completion
it stands for.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import chain
from typing import Any

import httpx2
import openai
import structlog
from openai._base_client import get_platform
from openai._httpx2 import request_exceptions, timeout_exceptions
from openai._models import FinalRequestOptions
from openai._utils._json import openapi_dumps

from triage.errors import ModelError
from triage.settings import Settings
from triage.sinks.aio import AiohttpTransport, AnswerTooLarge, AnswerUnread
from triage.sinks.http import MAX_WAIT_S, retry_after_of
from triage.summarise import prompt
from triage.summarise.answer import MAX_ANSWER_CHARS
from triage.summarise.chat import (
    CONTENT_FILTERED,
    MAX_OUTPUT_TOKENS,
    PROMPT_TOO_LONG,
    REASONING_OUTPUT_TOKENS,
    TEMPERATURE,
    TOO_LONG,
    Answer,
    count,
    for_log,
)
from triage.summarise.endpoint import endpoint, openai_client
from triage.tls import client_context

log = structlog.get_logger(__name__)


#: The largest answer body read from an OpenAI-compatible server. The SDK parses it on the
#: event loop in one `json.loads`, which holds the GIL (0.6-2.7 ms per MiB), so a larger one is
#: not read at all (`answer_too_large`): room for the longest text the summariser reads
#: (`MAX_ANSWER_CHARS`) in UTF-8, or streamed in OpenAI's small chunks (~250 bytes per event).
MAX_BODY_BYTES = 16 * MAX_ANSWER_CHARS


class OpenAiChat:
    provider = "openai"

    def __init__(self, settings: Settings, http_client: httpx2.AsyncClient | None = None) -> None:
        self.model = settings.openai_model
        where = endpoint(settings.openai_base_url)
        #: The api-version triage chose for an Azure deployment (None: the URL's own, or no
        #: deployment); a model that needs a later one moves it (`_later_api_version`).
        self.api_version = where.query["api-version"] if where.api_version_ours else None
        #: What the server refused once and no later request asks for (`_adapt`).
        #: The structured output asked for: json_schema, then json_object, then none (the
        #: system message asks for JSON either way, and the answer is validated).
        self.response_format: str | None = "json_schema"
        self.temperature_supported = True
        self.tokens_field = "max_tokens"
        self.reasoning_effort_supported = True
        #: Whether the server takes a system message (some models' chat templates do not).
        self.system_role_supported = True
        #: Whether a reasoning model gets room to think (`_room_to_think`), and whether its
        #: context turned out to have none (`_no_room_to_think`).
        self.thinks = False
        self.no_room_to_think = False
        self._dropped: set[str] = set()
        #: The HTTP client the SDK's client sends on, which `_send` sends on too.
        self._http = http_client or httpx2.AsyncClient(
            transport=AiohttpTransport(client_context(), max_body_bytes=MAX_BODY_BYTES)
        )
        self._client = openai_client(
            settings,
            timeout=settings.llm_timeout_s,
            max_retries=0,  # the summariser retries, within its budget
            # On the sinks' aiohttp transport, on the process's one TLS context: httpx2's own
            # pool probed every idle connection's socket on each request and cost ~40% more
            # daemon CPU per new incident at concurrency 64 (bench/RESULTS.md). Unlike the
            # SDK's own aiohttp client, it bounds an answer (decoded) and the whole call, and
            # tells a refused connection from a timeout.
            http_client=self._http,
        )
        #: Where each request is posted (`chat_completions_path`), made once.
        self._path = chat_completions_path(self._client)
        #: The options `post` would make of its arguments on every call, made once; each
        #: request copies them with its body and timeout (`_post`).
        self._options = FinalRequestOptions.construct(
            method="post",
            url=self._path,
            json_data=None,
            content=None,
            files=None,
            timeout=settings.llm_timeout_s,
            follow_redirects=False,
        )
        #: What every request to OpenAI's own client has in common (`_Wire`), made at the first
        #: call; None for a client whose requests the SDK must build each time (`_made_wire`).
        self._wire: _Wire | None = None
        self._wire_made = False

    async def complete(self, system: str, user: str, timeout_s: float) -> Answer:
        messages = (system, user)
        # Cut whole: the client's own timeouts are per socket read, so a server dripping its
        # answer a piece at a time inside the read timeout would stretch the call.
        try:
            async with asyncio.timeout(timeout_s):
                completion = await self._completion(messages, timeout_s)
                if self._room_to_think(completion):
                    completion = await self._completion(messages, timeout_s)
        except TimeoutError:
            raise ModelError("timeout", outcome="timeout", retryable=True) from None
        return await read_answer(completion)

    def _room_to_think(self, completion: Any) -> bool:
        """Whether `completion` shows a reasoning model that takes `max_tokens` (its thinking
        apart, in `reasoning_content` or `reasoning`, or inline in <think>) stopped by the
        bound before its ticket: its thinking counts against the bound, so it is asked again,
        and from then on, with REASONING_OUTPUT_TOKENS, as a model refusing `max_tokens` is.
        Never again once its context had no room for that (`_no_room_to_think`)."""
        if self.thinks or self.no_room_to_think or not _thinking(completion):
            return False
        if completion["choices"][0].get("finish_reason") != "length":
            return False
        self.thinks = True
        self._drop(f"max_tokens {MAX_OUTPUT_TOKENS}", f"{REASONING_OUTPUT_TOKENS} to think in")
        return True

    def _no_room_to_think(self, exc: openai.APIStatusError, sent: dict[str, Any]) -> bool:
        """Whether a too-long refusal was of the larger bound `_room_to_think` gave: a small
        context has no room for it beside the prompt, so the bound goes back to a ticket's,
        for good, and the request is made again with it (the model still finishes what it can
        within it, instead of every later call being refused)."""
        if not self.thinks or sent.get(self.tokens_field) != REASONING_OUTPUT_TOKENS:
            return False
        self.thinks = False
        self.no_room_to_think = True
        self._drop(f"max_tokens {REASONING_OUTPUT_TOKENS}", f"{MAX_OUTPUT_TOKENS}: no room")
        return True

    async def _completion(self, messages: tuple[str, str], timeout_s: float) -> Any:
        """The chat completion's JSON, the request adapted (`_adapt`) to what the server
        refused of it; each refusal removes a part the request had, so this loop ends."""
        try:
            while True:
                body = self._body(messages)
                try:
                    return await self._post(body, timeout_s)
                except (openai.BadRequestError, openai.UnprocessableEntityError) as exc:
                    if not self._adapt(exc, body):
                        raise
        except openai.OpenAIError as exc:
            raise _model_error(exc) from None
        except (ValueError, RecursionError):
            # A 200 labelled JSON that is not (or is nested past the parser's stack).
            log.info("llm.error", error="the answer's body is not JSON")
            raise ModelError("bad_response", outcome="invalid", provider_fault=True) from None

    def _adapt(self, exc: openai.APIStatusError, sent: dict[str, Any]) -> bool:
        """Whether a 400 (or a FastAPI or TGI server's 422) refused a part of the request
        `sent` that this model or server does without, now dropped from every later request:
        OpenAI's reasoning models (o-series, gpt-5) refuse `max_tokens` for
        `max_completion_tokens` and any temperature but their default, some of them
        `reasoning_effort`; many OpenAI-compatible servers refuse json_schema (json_object
        then), and a few json_object too (none then: the system message asks for JSON, and
        the answer is validated either way). Judged by what
        was sent, so a call whose refusal another call has already adapted to tries again too.
        Without this, every call to such a model fell back. A refusal saying the prompt and
        the output bound do not fit the context (vLLM names both token fields in it) is the
        prompt's length (`_status_error`), and taking it for a reasoning model's refusal
        would ask every later call for 4,000 output tokens, too many for that small context
        whatever the prompt; it adapts only the larger bound a thinking model was given
        (`_no_room_to_think`)."""
        if _too_long(exc):
            return self._no_room_to_think(exc, sent)
        if self._later_api_version(exc):
            return True
        said = f"{exc.param} {_said(exc)}".lower()
        if "max_tokens" in sent and "max_completion_tokens" in said:
            self._drop("max_tokens", "max_completion_tokens")
            self.tokens_field = "max_completion_tokens"
        elif "reasoning_effort" in sent and "reasoning_effort" in said:
            self._drop("reasoning_effort", "the model's default")
            self.reasoning_effort_supported = False
        elif "temperature" in sent and "temperature" in said:
            self._drop("temperature", "the model's default")
            self.temperature_supported = False
        elif sent["messages"][0]["role"] == "system" and _SYSTEM_REFUSED.search(said):
            self._drop("the system role", "the instructions first in the user message")
            self.system_role_supported = False
        elif "response_format" in sent and _rejects_response_format(exc):
            refused = sent["response_format"]["type"]
            self.response_format = "json_object" if refused == "json_schema" else None
            self._drop(refused, self.response_format or "JSON asked for by the system message")
        else:
            return False
        return True

    def _later_api_version(self, exc: openai.APIStatusError) -> bool:
        """Whether Azure refused the api-version triage chose for a later one it names ("Model
        o4-mini is enabled only for api versions 2024-12-01-preview and later"), which every
        later request then carries. An api-version OPENAI_BASE_URL names is never moved."""
        needed = _LATER_API_VERSION.search(_said(exc))
        sent = exc.request.url.params.get("api-version", "")
        if self.api_version is None or needed is None or needed["version"] <= sent:
            return False
        if needed["version"] > self.api_version:
            self._drop(f"api-version {self.api_version}", f"api-version {needed['version']}")
            self.api_version = needed["version"]
            # Always the Azure client: only a deployment's api-version is ever triage's.
            if isinstance(self._client, openai.AsyncAzureOpenAI):
                self._client = self._client.copy(api_version=self.api_version)
        return True

    def _drop(self, part: str, instead: str) -> None:
        """Log, once, a part of the request this server refuses."""
        if part not in self._dropped:
            self._dropped.add(part)
            log.info("llm.request_adapted", refused=part, instead=instead)

    @property
    def reasoning(self) -> bool:
        """Whether the model is a reasoning model: only those refuse `max_tokens`."""
        return self.tokens_field == "max_completion_tokens"

    async def aclose(self) -> None:
        await self._client.close()

    def _body(self, messages: tuple[str, str]) -> dict[str, Any]:
        """The request, less the parts this server refused (`_adapt`)."""
        body: dict[str, Any] = {
            "model": self.model,
            "messages": self._messages(*messages),
            self.tokens_field: (
                REASONING_OUTPUT_TOKENS if self.reasoning or self.thinks else MAX_OUTPUT_TOKENS
            ),
        }
        if self.response_format == "json_schema":
            body["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "ticket", "strict": True, "schema": prompt.json_schema()},
            }
        elif self.response_format is not None:
            body["response_format"] = {"type": self.response_format}
        if self.temperature_supported:
            body["temperature"] = TEMPERATURE
        if self.reasoning and self.reasoning_effort_supported:
            # Its thinking counts against its output tokens: asked to think briefly, and given
            # room for the thinking and the ticket, it does not stop before the ticket.
            body["reasoning_effort"] = "low"
        return body

    def _messages(self, system: str, user: str) -> list[dict[str, str]]:
        """The system and user messages; for a server refusing the system role, one user
        message with the instructions first: the alert is still inside its nonce fence, after
        them, so it cannot speak as they do."""
        if self.system_role_supported:
            return [{"role": "system", "content": system}, {"role": "user", "content": user}]
        return [{"role": "user", "content": f"{system}\n{user}"}]

    async def _post(self, body: dict[str, Any], timeout_s: float) -> Any:
        """The answer's body (`answer_body`) to a chat completion request of `body`.

        OpenAI's own client: sent from the parts made once (`_Wire`), on the same httpx2
        client, failures raised as the SDK's `request` raises them (`_send`). The SDK's
        `request` rebuilt the same URL, headers and options on every call, ~250 µs of the ~3 ms
        of CPU a new incident costs (`tests/test_new_incident_cost_516.py`: the same request
        on the wire as the SDK's documented `post`, call after call, and the same errors)."""
        wire = self._wire if self._wire_made else await self._made_wire()
        if wire is not None:
            return answer_body(await self._send(wire.request(body, timeout_s)))
        # Any other client (Azure's): the SDK's low-level `request`, which its documented
        # `post` (a body sent as is) makes of its arguments: `create` would walk these plain
        # dicts against its TypedDicts on every call, which profiled as half of the SDK's CPU
        # per call (0.73 -> 0.37 ms measured), and `post` builds its options anew each time
        # (~30 µs of ~240), where a copy of the ones made once does. Errors are the same. The
        # answer comes back as the HTTP answer itself, read here as the SDK reads one for
        # `cast_to=object` (`answer_body`): building a ChatCompletion model of it was a quarter
        # of what is left, to read five fields, and the SDK's response wrapper half of the rest.
        # No redirect is followed: the SDK's client would re-send the prompt to wherever a
        # server points and trust the answer from there. A 3xx is a rejection (the fallback).
        options = self._options.model_copy(update={"json_data": body, "timeout": timeout_s})
        return answer_body(await self._client.request(httpx2.Response, options))

    async def _made_wire(self) -> _Wire | None:
        """The parts every request of OpenAI's own client shares, taken once from the request
        the SDK builds (`_Wire.of`). None, and every request built by the SDK, for a client
        that builds each one anew: Azure's (it routes a deployment, and its api-version may
        move), one with the SDK's own retries, a provider's runtime, workload identity, a key
        read from a callable or an idempotency key per request."""
        self._wire_made = True
        client = self._client
        if not _fixed_requests(client):
            return None
        if client._platform is None:
            # As the SDK's `request` does: `get_platform` may block reading files.
            client._platform = await asyncio.to_thread(get_platform)
        self._wire = _Wire.of(
            client._build_request(self._options.model_copy(update={"json_data": {}}))
        )
        return self._wire

    async def _send(self, request: httpx2.Request) -> httpx2.Response:
        """`request`'s answer, on the SDK's client's own httpx2 client (no redirect followed),
        each failure raised as the SDK's `request` raises it: a timeout as APITimeoutError, any
        other failure to get an answer as APIConnectionError (each with the HTTP client's error
        as its cause: `_model_error` reads an unread answer there), an answer that is not a
        success as the SDK's status error for it, its body read."""
        try:
            response = await self._http.send(request, follow_redirects=False)
        except timeout_exceptions() as exc:
            raise openai.APITimeoutError(request=request) from exc
        except openai.OpenAIError:
            raise
        except request_exceptions() as exc:
            raise openai.APIConnectionError(request=request) from exc
        if not response.is_success:
            if not response.is_closed:
                await response.aread()
            raise self._client._make_status_error_from_response(response) from None
        return response


#: The SDK's header naming a request's read timeout: each call's own (`_Wire.request`).
_READ_TIMEOUT = b"x-stainless-read-timeout"

#: What makes the SDK build each request anew (`_fixed_requests`): its attributes that must all
#: be None (absent from another version of the SDK: not known, so not fixed).
_PER_REQUEST = ("_provider_runtime", "_workload_identity_auth", "_api_key_provider")


def _fixed_requests(client: openai.AsyncOpenAI) -> bool:
    """Whether every request `client` builds for a chat completion is the same but for its
    body and timeout: OpenAI's own client, none of the SDK's retries (each would carry its
    count), no idempotency key (drawn per request), no credential or runtime of its own."""
    return (
        type(client) is openai.AsyncOpenAI
        and client.max_retries == 0
        and client._idempotency_header is None
        and client.custom_auth is None
        and all(getattr(client, name, client) is None for name in _PER_REQUEST)
    )


@dataclass(frozen=True)
class _Wire:
    """A chat completion request's URL and headers, the same on every call of a client whose
    requests are fixed (`_fixed_requests`), taken from one the SDK built (`of`); each request
    adds its body, its read timeout header and its timeout as the SDK would (`request`)."""

    url: httpx2.URL
    #: The headers before and after the read timeout's, as built (their names' case kept), less
    #: the Content-Length httpx2 sets for each body.
    before: tuple[tuple[bytes, bytes], ...]
    after: tuple[tuple[bytes, bytes], ...]

    @classmethod
    def of(cls, built: httpx2.Request) -> _Wire | None:
        """The fixed parts of `built`; None when it names no read timeout to fill in."""
        headers = [(k, v) for k, v in built.headers.raw if k.lower() != b"content-length"]
        at = next((i for i, (k, _) in enumerate(headers) if k.lower() == _READ_TIMEOUT), None)
        if at is None:
            return None
        return cls(built.url, tuple(headers[:at]), tuple(headers[at + 1 :]))

    def request(self, body: dict[str, Any], timeout_s: float) -> httpx2.Request:
        """The request the SDK builds for `body` and `timeout_s`: its JSON as the SDK writes
        it, the timeout in its header as the SDK writes it and in the request's extensions as
        httpx2 does."""
        read_timeout = (_READ_TIMEOUT, str(timeout_s).encode())
        return httpx2.Request(
            "POST",
            self.url,
            headers=[*self.before, read_timeout, *self.after],
            content=openapi_dumps(body),
            extensions={"timeout": httpx2.Timeout(timeout_s).as_dict()},
        )


def answer_body(response: httpx2.Response) -> Any:
    """A successful answer's body as the SDK reads one for `cast_to=object`: the JSON of a body
    whose media type ends in `json` (its parameters aside), else its text (a page, or events
    streamed though no stream was asked for, which `read_answer` reads). A body labelled JSON
    that is not raises ValueError (or RecursionError), as the SDK's reading did."""
    media_type = response.headers.get("content-type", "*").split(";")[0]
    return response.json() if media_type.endswith("json") else response.text


#: The API path of a chat completion, which the SDK appends to its base URL.
_CHAT_COMPLETIONS = "/chat/completions"


def chat_completions_path(client: openai.AsyncOpenAI) -> str:
    """Where `client` posts a chat completion. For OpenAI's own client, the whole URL, joined
    once as the SDK joins the path to its base URL (which is fixed) on every call: that parse
    and join again was ~25 µs of its ~350 µs per call. For Azure's, the path, which its client
    routes to the deployment or the v1 API itself."""
    if type(client) is not openai.AsyncOpenAI:
        return _CHAT_COMPLETIONS
    base = client.base_url
    joined = base.raw_path + _CHAT_COMPLETIONS.lstrip("/").encode()
    return str(base.copy_with(raw_path=joined))


#: The longest streamed answer (the text of its server-sent events) assembled on the event
#: loop. Each event is parsed apart, ~2-3 µs each, so this many characters cost under a
#: millisecond; a longer stream is assembled in a worker thread, which gives the loop the GIL
#: back between events. (A plain answer's JSON, one parse the SDK has already made, is read
#: here: it holds only a few fields.)
STREAM_ON_LOOP_CHARS = 32 * 1024


async def read_answer(completion: Any) -> Answer:
    """The Answer in a chat completion's JSON, or in the text of the events it was streamed
    as; a long stream is assembled off the event loop (`STREAM_ON_LOOP_CHARS`)."""
    if isinstance(completion, str) and len(completion) > STREAM_ON_LOOP_CHARS:
        return await asyncio.to_thread(_answer, completion)
    return _answer(completion)


def _answer(completion: Any) -> Answer:
    """The Answer in a chat completion's JSON; an answer of another shape is invalid."""
    if isinstance(completion, str) and _streamed(completion):
        completion = _assembled(completion)
    if isinstance(completion, dict) and isinstance(completion.get("error"), dict):
        raise _error_in_body(completion["error"])
    if not isinstance(completion, dict) or "choices" not in completion:
        # A page (a proxy's error, a login form) or another API's answer: whatever is at the
        # base URL is not serving chat completions, for this request or any other.
        log.info("llm.error", error="the answer is not a chat completion")
        raise ModelError("bad_response", outcome="invalid", provider_fault=True)
    try:
        choices = completion["choices"]
        if not choices:
            raise ModelError("no_choices", outcome="invalid")
        choice = choices[0]
        finish_reason = choice.get("finish_reason")
        if finish_reason in _FAILED_FINISHES or isinstance(choice.get("error"), dict):
            raise _choice_failed(choice)
        stop = _STOPS.get(finish_reason, "end") if isinstance(finish_reason, str) else "end"
        # Azure sends no message at all for an answer its content filter withheld.
        message = choice["message"] if "message" in choice or stop != "filtered" else {}
        content, refusal = message.get("content"), message.get("refusal")
        usage = completion.get("usage") or {}
        prompt_tokens, completion_tokens = (
            usage.get("prompt_tokens"),
            usage.get("completion_tokens"),
        )
    except (TypeError, KeyError, AttributeError, IndexError):
        raise ModelError("bad_response", outcome="invalid") from None
    text = _text(content)
    if text is None or not _count(prompt_tokens, completion_tokens):
        raise ModelError("bad_response", outcome="invalid")
    return Answer(
        text=text,
        stop=stop,  # type: ignore[arg-type]
        refusal=_refusal(refusal),
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
    )


#: Finish reasons that are not a finished answer, and why the model stopped: its output bound
#: (`length`), its context window (Mistral's `model_length`; the prompt is asked again
#: shorter), a content filter.
_STOPS = {"length": "length", "model_length": "context", "content_filter": "filtered"}

#: Finish reasons of a choice the server gave out on (`_choice_failed`): an error after the
#: answer began (OpenRouter's and Mistral's `error`), DeepSeek's `insufficient_system_resource`.
_FAILED_FINISHES = frozenset({"error", "insufficient_system_resource"})


def _choice_failed(choice: dict[str, Any]) -> ModelError:
    """A choice that ended with an error (`_FAILED_FINISHES`, or an `error` beside it), as
    OpenRouter answers when the provider behind it fails after the answer began: its text is
    a piece, not the model's answer. Acted on as its error's code says (`_error_in_body`), and
    retried as a server error when it names none."""
    error = choice.get("error")
    if isinstance(error, dict):
        return _error_in_body(error)
    return ModelError("server_error", outcome="server_error", retryable=True)


def _refusal(refusal: object) -> str | None:
    """The model's refusal in words; a blank one (`" "`, as some servers fill the field) says
    nothing, and the answer is judged by its content instead."""
    said = refusal.strip() if isinstance(refusal, str) else str(refusal or "")
    return said or None


#: The lines that may open a server-sent event stream: a comment (OpenRouter's
#: `: OPENROUTER PROCESSING` keep-alive) or any of its fields (`data`, `event`, `id`, `retry`).
_SSE_LINE = re.compile(r"\A\s*(?::|(?:data|event|id|retry)(?::|\r?\n))")


#: A stream's event data, on a line of its own.
_SSE_DATA = re.compile(r"^data:", re.MULTILINE)


def _streamed(body: str) -> bool:
    """Whether an answer's text is a server-sent event stream, whatever line opens it: one
    that opens as a stream does and holds at least one event's data (a page opening with
    ":(" is no stream, and stays an answer that is no chat completion)."""
    return _SSE_LINE.match(body) is not None and _SSE_DATA.search(body) is not None


def _thinking(completion: Any) -> bool:
    """Whether a chat completion's message holds the model's thinking: apart from its content
    (`reasoning_content`: vLLM's older parsers, DeepSeek's API; `reasoning`: vLLM's newer
    ones, Ollama, OpenRouter), or first in it, in <think> (no reasoning parser)."""
    try:
        message = completion["choices"][0]["message"]
        thought = message.get("reasoning_content") or message.get("reasoning")
        content = message.get("content")
    except (KeyError, IndexError, TypeError, AttributeError):
        return False
    if isinstance(content, str) and content.lstrip().startswith("<think>"):
        return True
    return isinstance(thought, str) and bool(thought.strip())


def _assembled(events: str) -> Any:
    """The chat completion a streamed answer adds up to: its chunks' content and refusal
    deltas joined, the last finish reason, usage and choice's error (`_choice_failed`). Some gateways stream whatever the
    request says (`stream` is not asked for). An event that is not a chunk leaves the text as
    it is, which is then no chat completion; an error event is the answer's error. A stream
    whose text passes what the summariser reads (`MAX_ANSWER_CHARS`) is not read further, and no
    stream is read past its `[DONE]`. One that ends with neither `[DONE]` nor a finish reason broke off
    (`_broke_off`)."""
    content: list[str] = []
    refusal: list[str] = []
    finish: object = None
    usage: object = None
    chars = 0
    done = False
    error: object = None  # a choice's own (OpenRouter's, with `finish_reason: "error"`)
    for data in _event_data(events):
        if data == "[DONE]":
            # The stream's end: what follows (a proxy's second answer run on) is no part of it.
            done = True
            break
        if not data:
            continue
        try:
            chunk = json.loads(data)
        except (ValueError, RecursionError):  # not JSON, or nested past the parser's stack
            return events
        if not isinstance(chunk, dict) or isinstance(chunk.get("error"), dict):
            return chunk
        choices = chunk.get("choices") or []
        if not isinstance(choices, list):
            return chunk  # no chunk of a chat completion: refused as its answer
        usage = chunk.get("usage") or usage
        for choice in choices:
            if not isinstance(choice, dict) or choice.get("index", 0) != 0:
                continue
            delta = choice.get("delta")
            if isinstance(delta, dict):
                content.append(_piece(delta.get("content")))
                refusal.append(_piece(delta.get("refusal")))
                chars += len(content[-1]) + len(refusal[-1])
            finish = choice.get("finish_reason") or finish
            error = choice.get("error") if isinstance(choice.get("error"), dict) else error
        if chars > MAX_ANSWER_CHARS:
            # Broken or hostile, like a plain answer that long (`answer_too_large`).
            raise ModelError("answer_too_large", outcome="invalid", provider_fault=True)
    if not done and finish is None:
        raise _broke_off()
    message = {"content": "".join(content), "refusal": "".join(refusal) or None}
    choice = {"message": message, "finish_reason": finish} | ({"error": error} if error else {})
    return {"choices": [choice], "usage": usage}


def _broke_off() -> ModelError:
    """A streamed answer that ended before its end: no chunk said why the model stopped and no
    `[DONE]` came. A stream sent with `Connection: close` and no length ends where the
    connection does, so a proxy's idle cut or a worker's crash mid-answer reads as its end;
    its text is a piece of the model's, not what the model wrote. Retried, as an answer whose
    body broke off before its Content-Length is (`unreachable`), instead of the piece being
    judged as the model's JSON (`invalid_json`, never asked again)."""
    log.info("llm.error", error="the streamed answer broke off before its end")
    return ModelError("unreachable", outcome="unreachable", retryable=True)


def _event_data(events: str) -> Iterator[str]:
    """The data of each event of a stream: its `data:` lines joined by line breaks, as the SSE
    spec has it (a server pretty-printing its chunks writes one over several lines). A
    server that writes a `data:` line per chunk with no blank line between events has each
    line read alone, when together they are no JSON. Other fields and comments are skipped."""
    lines: list[str] = []
    for line in chain(events.splitlines(), [""]):
        if line.startswith("data:"):
            lines.append(line.removeprefix("data:").strip())
        elif not line.strip() and lines:
            yield from _one_or_each(lines)
            lines = []


def _one_or_each(lines: list[str]) -> list[str]:
    """An event's data lines as its one JSON value, else each line alone."""
    if len(lines) == 1:
        return lines
    joined = "\n".join(lines)
    try:
        json.loads(joined)
    except (ValueError, RecursionError):
        return lines
    return [joined]


def _piece(value: object) -> str:
    """A streamed delta's text: a string, or the text parts of a list of parts (Mistral's
    reasoning models stream a `thinking` part first, as `_text` reads a whole answer's);
    nothing for a delta without one (a role, a tool call)."""
    return value if isinstance(value, str) else (_text(value) or "")


def _text(content: object) -> str | None:
    """The message's text: its `content` string, or the text parts of a content list (as
    Mistral's reasoning models send it, a thinking part first); None if it is neither."""
    if content is None or isinstance(content, str):
        return content or ""
    if not isinstance(content, list) or not all(isinstance(part, dict) for part in content):
        return None
    texts = [part.get("text") for part in content if part.get("type") == "text"]
    if not all(isinstance(text, str) for text in texts):
        return None
    return "".join(texts)


def _error_in_body(error: dict[str, Any]) -> ModelError:
    """An error sent with a 200 (gateways such as OpenRouter do, when the model behind them
    fails after the answer has begun), acted on as its code would be as a status: a 429 or a
    5xx is retried; anything else means the gateway is not serving this model. The code is a
    number (OpenRouter's `502`), the same in a string (LiteLLM's `"502"`), or only OpenAI's
    words for it (`_BODY_ERROR_WORDS`: its own mid-answer `{"type": "server_error", "code":
    null}`, a rate limit's `rate_limit_exceeded`)."""
    status = _status_in_body(error)
    if status == 429:
        return ModelError("rate_limited", outcome="rate_limited", retryable=True)
    if status is not None:
        return ModelError(f"server_error_{status}", outcome="server_error", retryable=True)
    if _words_in_body(error) == "server_error":
        return ModelError("server_error", outcome="server_error", retryable=True)
    if _words_in_body(error) == "rate_limited":
        return ModelError("rate_limited", outcome="rate_limited", retryable=True)
    log.info("llm.error", error="the answer is an error", detail=for_log(str(error.get("message"))))
    return ModelError("bad_response", outcome="invalid", provider_fault=True)


#: A status as an error object's `code` writes it in a string (LiteLLM's `"502"`).
_STATUS_TEXT = re.compile(r"[1-5][0-9]{2}")

#: OpenAI's words, as an error object's `type` or `code`, for an error worth another attempt:
#: what they mean, as a status's kind. (`insufficient_quota` is no wait: not among them.)
_BODY_ERROR_WORDS = {
    "server_error": "server_error",
    "rate_limit_exceeded": "rate_limited",
    "rate_limit_error": "rate_limited",
}


def _status_in_body(error: dict[str, Any]) -> int | None:
    """The status an error object's `code` names when it is 429 or a 5xx (a number, or one
    written in a string), else None."""
    code = error.get("code")
    if isinstance(code, str) and _STATUS_TEXT.fullmatch(code.strip()):
        code = int(code)
    if not isinstance(code, int) or isinstance(code, bool):
        return None
    return code if code == 429 or 500 <= code < 600 else None


def _words_in_body(error: dict[str, Any]) -> str | None:
    """What an error object's `code`, else its `type`, says in OpenAI's words
    (`_BODY_ERROR_WORDS`), or None."""
    for word in (error.get("code"), error.get("type")):
        if isinstance(word, str) and word.strip().lower() in _BODY_ERROR_WORDS:
            return _BODY_ERROR_WORDS[word.strip().lower()]
    return None


def _count(*values: object) -> bool:
    """Token counts are whole numbers the metrics can add (`chat.count`), or absent."""
    return all(v is None or count(v) is not None for v in values)


def _model_error(exc: openai.OpenAIError) -> ModelError:
    if isinstance(exc, openai.APITimeoutError):
        return ModelError("timeout", outcome="timeout", retryable=True)
    if isinstance(exc, openai.APIConnectionError):
        if isinstance(exc.__cause__, AnswerUnread):
            return _unread(exc.__cause__)
        return ModelError("unreachable", outcome="unreachable", retryable=True)
    if isinstance(exc, openai.APIStatusError):
        return _status_error(exc)
    # e.g. an answer that is not a chat completion at all
    log.info("llm.error", error=type(exc).__name__)
    return ModelError("bad_response", outcome="invalid", provider_fault=True)


def _unread(exc: AnswerUnread) -> ModelError:
    """An answer not read: too large, or not in the coding its Content-Encoding names (or in
    one never asked for). An error answer is what its status says, as one with an unreadable
    body is (`_status_error`: a 429 still waits its Retry-After); the unread body is only its
    line's reason. A success unread is broken or hostile, and the same for the next request,
    so not retried; the provider's fault, so the breaker hears of it. The fallback's line
    (`answer_too_large`, `answer_undecodable`) says which."""
    status = exc.status_code
    if status is not None and not 200 <= status < 300:  # (the transport sets its request)
        # Our words, not the answer's (which was never read).
        log.info("llm.answer_unread", status=status, unread=type(exc).__name__, error=str(exc))
        response = httpx2.Response(status, headers=exc.headers, request=exc.request)
        return _status_error(
            openai.APIStatusError(f"Error code: {status}", response=response, body=None)
        )
    log.debug("llm.error", error=f"{type(exc).__name__}: {exc}")  # our words, not the answer's
    reason = "answer_too_large" if isinstance(exc, AnswerTooLarge) else "answer_undecodable"
    return ModelError(reason, outcome="invalid", provider_fault=True)


def _too_long(exc: openai.APIStatusError) -> bool:
    """Whether an error answer says the prompt is longer than the model's context takes."""
    return bool(TOO_LONG.search(f"{exc.code} {_said(exc)}"))


def _said(exc: openai.APIStatusError) -> str:
    """What an error answer says, wherever the server put it: OpenAI's `error.message` (the
    SDK's message), Text Generation Inference's `error` string or a FastAPI server's
    `detail`, which the SDK keeps only in the body (its message is then "Error code: 422"),
    and the provider's own error that OpenRouter passes on in `metadata.raw` (its message is
    then "Provider returned error")."""
    body: object = exc.body
    if isinstance(body, dict):
        metadata = body.get("metadata")
        raw = metadata.get("raw") if isinstance(metadata, dict) else None
        body = raw if isinstance(raw, str) else body.get("detail")
    return f"{exc.message} {body}" if isinstance(body, str | list) else exc.message


def _status_error(exc: openai.APIStatusError) -> ModelError:
    """An error answer as the summariser acts on it: wait and retry (throttled, 5xx, a 1xx as
    the final answer), make the prompt shorter (too long), or give up on the model for now
    (anything else, the breaker told when it is the provider's fault, not this request's)."""
    status = exc.status_code
    retry_after_s = _retry_after(exc.response.headers)
    if retry_after_s is None and status in (429, 503):
        retry_after_s = _wait_in_body(exc)
    if status == 429 and (retry_after_s is not None or not _quota_spent(exc)):
        return ModelError(
            "rate_limited", outcome="rate_limited", retryable=True, retry_after_s=retry_after_s
        )
    # 425 Too Early: a proxy will take it later. A 1xx as the final answer (an upgrade no one
    # asked for) broke HTTP's rules: the provider unwell, as with a 5xx, never this request's.
    if status < 200 or status >= 500 or status in (408, 425):
        return ModelError(
            f"server_error_{status}",
            outcome="server_error",
            retryable=True,
            retry_after_s=retry_after_s,
        )
    if status == 413 or (status in (400, 422) and _too_long(exc)):
        log.info("llm.prompt_too_long", status=status, error=for_log(_said(exc)))
        return ModelError(PROMPT_TOO_LONG, outcome="rejected")
    # A redirect (never followed: the prompt would go elsewhere), a refused key (401, 403), a
    # model or base URL that is not there (404), a spent quota or credit (429
    # insufficient_quota, OpenRouter's 402), a 400 or 422 about the request triage always
    # sends (a model name a proxy does not know, a parameter it refuses: only the alert's
    # text differs between requests): every request fails the same way until someone acts,
    # so it is not retried, and the breaker hears of it. A refusal of this alert's text (a
    # content filter or policy) is this request's alone.
    if _refuses_content(exc):
        log.info("llm.content_filter", status=status, error=for_log(_said(exc)))
        return ModelError("content_filter", outcome="refused")
    provider_fault = 300 <= status < 400 or status in (400, 401, 402, 403, 404, 422, 429)
    reason = "quota_exceeded" if status in (402, 429) else f"rejected_{status}"
    hint = {"hint": not_found_hint(exc)} if status == 404 else {}
    until_fixed = status in _UNTIL_FIXED
    # At warning when it opens the breaker: the server's words beside `breaker.opened`. Else
    # at info, and the fallback's line (`summariser.fallback`) is the call's one at warning.
    (log.warning if until_fixed else log.info)(
        "llm.rejected", status=status, reason=reason, error=for_log(_said(exc)), **hint
    )
    return ModelError(
        reason, outcome="rejected", provider_fault=provider_fault, until_fixed=until_fixed
    )


#: What a 404 most often means: a model name the server does not serve, or a base URL
#: without the path its API is under (Ollama's, vLLM's and LiteLLM's end in /v1).
NOT_FOUND_HINT = (
    "check OPENAI_MODEL against the server's models and OPENAI_BASE_URL's path"
    " (OpenAI-compatible servers serve under /v1)"
)

#: What Azure OpenAI's 404 `DeploymentNotFound` means: the deployment named is not the
#: resource's (in a deployment's URL, or as the model of its v1 API).
AZURE_NOT_FOUND_HINT = (
    "check the Azure OpenAI deployment's name in OPENAI_BASE_URL (…/openai/deployments/<name>),"
    " or OPENAI_MODEL with the v1 API (…/openai/v1), against the resource's deployments"
)


def not_found_hint(exc: openai.APIStatusError) -> str:
    """What a 404 most likely means, in the words of the server that sent it."""
    return AZURE_NOT_FOUND_HINT if exc.code == "DeploymentNotFound" else NOT_FOUND_HINT


#: A refused key or country (401, 403), a model or base URL that is not there (404), a spent
#: quota or credit (402, 429 insufficient_quota): only someone acting on the account cures it.
_UNTIL_FIXED = frozenset({401, 402, 403, 404, 429})


def _refuses_content(exc: openai.APIStatusError) -> bool:
    """A refusal of what the prompt says (OpenAI's `content_policy_violation`, Azure's
    `content_filter`, an `invalid_prompt`, or a filter's words that a gateway passes on),
    not of how the request is made."""
    said = f"{exc.code} {exc.type}".lower()
    codes = ("content_policy", "content_filter", "invalid_prompt")
    return any(word in said for word in codes) or bool(CONTENT_FILTERED.search(_said(exc)))


def _quota_spent(exc: openai.APIStatusError) -> bool:
    """A 429 that no wait cures: the account's quota or credit is spent (OpenAI's
    `insufficient_quota`, and the words other servers use for it). A 429 that says how long
    to wait is a rate limit, whatever its words."""
    said = f"{exc.code} {exc.type} {exc.message}".lower().replace("_", " ")
    return any(
        words in said for words in ("insufficient quota", "billing", "credit balance", "no credit")
    )


def _retry_after(headers: httpx2.Headers) -> float | None:
    """The wait the server asked for: `retry-after-ms` (OpenAI's, precise), else `Retry-After`
    (seconds, or an HTTP date read against the answer's own Date: `retry_after_of`), else
    when the spent rate limit resets (`_limit_reset`); bounded as every service's is."""
    with contextlib.suppress(ValueError):
        milliseconds = float(headers.get("retry-after-ms", ""))
        if math.isfinite(milliseconds) and milliseconds >= 0:
            return min(milliseconds / 1000, MAX_WAIT_S)
    asked = retry_after_of(headers)
    return asked if asked is not None else _limit_reset(headers)


#: A wait said in an error's body, where a server sends no header for it: Google's
#: `RetryInfo` (`"retryDelay": "26s"`, JSON-escaped when a proxy wraps the error in its own
#: message) and the sentence OpenAI's and Gemini's messages end with ("Please try again in
#: 6.5s.", "Please retry in 38.86s.").
_BODY_WAIT = re.compile(
    r"retryDelay[\\\"':\s]{1,12}(?P<delay>\d+(?:\.\d+)?)s\b"
    r"|(?:retry|try again) in (?P<said>\d+(?:\.\d+)?) ?(?P<unit>ms|s|sec|seconds?)\b",
    re.IGNORECASE,
)


def _wait_in_body(exc: openai.APIStatusError) -> float | None:
    """The wait a 429 or 503 asks for in its body alone (Gemini's OpenAI-compatible API sends
    no `Retry-After`: its per-minute limits say "You exceeded your current quota … billing"
    with a `RetryInfo` of seconds, a wait, not a spent account); bounded like a header's."""
    body = exc.body if isinstance(exc.body, str) else json.dumps(exc.body, default=str)
    found = _BODY_WAIT.search(f"{exc.message} {body}"[:_BODY_WAIT_CHARS])
    if found is None:
        return None
    if found["delay"] is not None:
        seconds = float(found["delay"])
    else:
        seconds = float(found["said"]) / (1000 if found["unit"].lower() == "ms" else 1)
    return min(seconds, MAX_WAIT_S) if math.isfinite(seconds) else None


#: How much of an error answer is searched for a wait (an error is short; a page is not).
_BODY_WAIT_CHARS = 16_384


#: One unit of a Go-style duration, as OpenAI writes its resets ("6m0s", "1.5s", "20ms").
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")
#: A whole duration: its parts and nothing else. Matched first, as searching for a part at
#: every digit of a run with no unit reads the run to its end each time (16,000 digits: 4.5 s).
_DURATION = re.compile(r"(?:\d+(?:\.\d+)?(?:ms|h|m|s))+")
_UNIT_S = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}


def _limit_reset(headers: httpx2.Headers) -> float | None:
    """When the rate limit that is spent resets: `x-ratelimit-reset-requests` or `-tokens`,
    for each whose `x-ratelimit-remaining-…` is 0 (the longer, when both are); None if neither
    is spent or says when."""
    waits = [
        _duration_s(headers.get(f"x-ratelimit-reset-{kind}", ""))
        for kind in ("requests", "tokens")
        if headers.get(f"x-ratelimit-remaining-{kind}", "").strip() == "0"
    ]
    known = [wait for wait in waits if wait is not None]
    return min(max(known), MAX_WAIT_S) if known else None


def _duration_s(value: str) -> float | None:
    """Seconds in a Go-style duration ("1h2m3.5s", "20ms"); None if it is not one."""
    value = value.strip()
    if _DURATION.fullmatch(value) is None:
        return None
    parts = _DURATION_PART.findall(value)
    if not parts or "".join(number + unit for number, unit in parts) != value:
        return None
    return sum(float(number) * _UNIT_S[unit] for number, unit in parts)


#: Azure's refusal of an api-version older than the model or a feature needs.
_LATER_API_VERSION = re.compile(
    r"enabled only for api versions (?P<version>\d{4}-\d{2}-\d{2}(-preview)?) and later",
    re.IGNORECASE,
)

#: How a model without a system role refuses one: chat templates' (Gemma's "System role not
#: supported", older Mistral templates' "Conversation roles must alternate user/assistant"),
#: OpenAI's o1-mini ("'messages[0].role' does not support 'system' with this model"),
#: Bedrock's through a proxy ("This model doesn't support system messages") and Google's for
#: Gemma ("Developer instruction is not enabled for models/gemma-3-27b-it").
_SYSTEM_REFUSED = re.compile(
    r"system role|roles must alternate|(doesn't|does not) support ('system'|system messages)"
    r"|developer instruction is not enabled",
    re.IGNORECASE,
)


def _rejects_response_format(exc: openai.APIStatusError) -> bool:
    """Whether a refusal is of the structured output asked for (json_schema or json_object:
    Text Generation Inference, for one, takes neither, and says so about `response_format`)."""
    text = f"{exc.message} {exc.body}".lower()
    words = ("response_format", "json_schema", "json_object", "structured", "schema")
    return any(word in text for word in words)
