"""OpenAI Chat Completions (or any OpenAI-compatible server, `OPENAI_BASE_URL`) as a `ChatModel`.

Structured output: `json_schema` first; a server that rejects it (many OpenAI-compatible
servers do) is asked again with `json_object`, and that choice is kept. The SDK's own retries
are off: the summariser retries, within its budget, so the two cannot stack.
"""

from __future__ import annotations

import contextlib
from typing import Any

import httpx2
import openai
import structlog

from triage.errors import ModelError
from triage.settings import Settings
from triage.sinks.aio import AiohttpTransport
from triage.summarise import prompt
from triage.summarise.chat import MAX_OUTPUT_TOKENS, TEMPERATURE, Answer, count
from triage.tls import client_context

log = structlog.get_logger(__name__)


class OpenAiChat:
    provider = "openai"

    def __init__(self, settings: Settings, http_client: httpx2.AsyncClient | None = None) -> None:
        if settings.openai_api_key is None:
            raise ValueError("the OpenAI provider needs OPENAI_API_KEY")
        self.model = settings.openai_model
        self.base_url = settings.openai_base_url or "https://api.openai.com/v1"
        #: Flipped once when the server rejects json_schema; every later call uses json_object.
        self.json_schema_supported = True
        self._client = openai.AsyncOpenAI(
            api_key=settings.openai_api_key.get_secret_value(),
            base_url=settings.openai_base_url,
            timeout=settings.llm_timeout_s,
            max_retries=0,  # the summariser retries, within its budget
            # On the sinks' aiohttp transport, on the process's one TLS context: httpx2's own
            # pool probed every idle connection's socket on each request and cost ~40% more
            # daemon CPU per new incident at concurrency 64 (bench/RESULTS.md). Unlike the
            # SDK's own aiohttp client, it bounds an answer (decoded) and the whole call, and
            # tells a refused connection from a timeout.
            http_client=http_client
            or httpx2.AsyncClient(transport=AiohttpTransport(client_context())),
        )

    async def complete(self, system: str, user: str, timeout_s: float) -> Answer:
        messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
        try:
            try:
                completion = await self._create(messages, timeout_s)
            except openai.BadRequestError as exc:
                if not (self.json_schema_supported and _rejects_json_schema(exc)):
                    raise
                # An OpenAI-compatible server without structured outputs: ask for plain JSON
                # mode from now on, and validate the answer ourselves either way.
                self.json_schema_supported = False
                log.info("llm.json_schema_unsupported", fallback="json_object")
                completion = await self._create(messages, timeout_s)
        except openai.OpenAIError as exc:
            raise _model_error(exc) from None
        except (ValueError, RecursionError):
            # A 200 labelled JSON that is not (or is nested past the parser's stack).
            log.warning("llm.error", error="the answer's body is not JSON")
            raise ModelError("bad_response", outcome="invalid") from None
        return _answer(completion)

    async def aclose(self) -> None:
        await self._client.close()

    async def _create(self, messages: list[dict[str, str]], timeout_s: float) -> Any:
        if self.json_schema_supported:
            response_format: Any = {
                "type": "json_schema",
                "json_schema": {"name": "ticket", "strict": True, "schema": prompt.json_schema()},
            }
        else:
            response_format = {"type": "json_object"}
        body = {
            "model": self.model,
            "messages": messages,
            "response_format": response_format,
            "temperature": TEMPERATURE,
            "max_tokens": MAX_OUTPUT_TOKENS,
        }
        # The SDK's low-level `post` (its documented way to send a body as is): `create` would
        # walk these plain dicts against its TypedDicts on every call, which profiled as half
        # of the SDK's CPU per call (0.73 -> 0.37 ms measured). Errors are the same. The answer
        # comes back as the JSON itself (`cast_to=object`): building a ChatCompletion model of
        # it was a quarter of what is left, to read five fields.
        # No redirect is followed: the SDK's client would re-send the prompt to wherever a
        # server points and trust the answer from there. A 3xx is a rejection (the fallback).
        return await self._client.post(
            "/chat/completions",
            cast_to=object,
            body=body,
            options={"timeout": timeout_s, "follow_redirects": False},
        )


def _answer(completion: Any) -> Answer:
    """The Answer in a chat completion's JSON; an answer of another shape is invalid."""
    try:
        choices = completion["choices"]
        if not choices:
            raise ModelError("no_choices", outcome="invalid")
        choice = choices[0]
        message = choice["message"]
        content, refusal = message.get("content"), message.get("refusal")
        usage = completion.get("usage") or {}
        prompt_tokens, completion_tokens = (
            usage.get("prompt_tokens"),
            usage.get("completion_tokens"),
        )
        stop = {"length": "length", "content_filter": "filtered"}.get(
            choice.get("finish_reason"), "end"
        )
    except (TypeError, KeyError, AttributeError, IndexError):
        raise ModelError("bad_response", outcome="invalid") from None
    if not isinstance(content, str | None) or not _count(prompt_tokens, completion_tokens):
        raise ModelError("bad_response", outcome="invalid")
    return Answer(
        text=content or "",
        stop=stop,  # type: ignore[arg-type]
        refusal=str(refusal) if refusal else None,
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
    )


def _count(*values: object) -> bool:
    """Token counts are whole numbers the metrics can add (`chat.count`), or absent."""
    return all(v is None or count(v) is not None for v in values)


def _model_error(exc: openai.OpenAIError) -> ModelError:
    if isinstance(exc, openai.APITimeoutError):
        return ModelError("timeout", outcome="timeout", retryable=True)
    if isinstance(exc, openai.RateLimitError):
        return ModelError(
            "rate_limited", outcome="rate_limited", retryable=True, retry_after_s=_retry_after(exc)
        )
    if isinstance(exc, openai.APIConnectionError):
        return ModelError("unreachable", outcome="unreachable", retryable=True)
    if isinstance(exc, openai.InternalServerError):
        return ModelError(
            f"server_error_{exc.status_code}",
            outcome="server_error",
            retryable=True,
            retry_after_s=_retry_after(exc),
        )
    if isinstance(exc, openai.APIStatusError):  # 400/401/403/404/422: retrying will not help
        log.warning("llm.rejected", status=exc.status_code, error=_short(exc.message))
        return ModelError(f"rejected_{exc.status_code}", outcome="rejected")
    # e.g. an answer that is not a chat completion at all
    log.warning("llm.error", error=type(exc).__name__)
    return ModelError("bad_response", outcome="invalid")


def _retry_after(exc: openai.APIStatusError) -> float | None:
    with contextlib.suppress(ValueError):
        return float(exc.response.headers.get("retry-after", ""))
    return None


def _rejects_json_schema(exc: openai.BadRequestError) -> bool:
    text = f"{exc.message} {exc.body}".lower()
    return any(word in text for word in ("response_format", "json_schema", "structured", "schema"))


def _short(value: str) -> str:
    return " ".join(value.split())[:200]
