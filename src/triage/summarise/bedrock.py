"""Amazon Bedrock's Converse API as a `ChatModel`: the task role instead of an API key.

The request goes through the process's aioboto3 session (`triage.aws.Aws`), so it is signed
with SigV4 from the default credential chain: on ECS the task role, elsewhere the environment,
a profile or instance metadata. Region: AWS_REGION; endpoint: AWS_ENDPOINT_URL_BEDROCK_RUNTIME,
else AWS_ENDPOINT_URL, else AWS's. botocore's own retries are off (one attempt per call): the
summariser retries throttling and 5xx within its budget, so the two cannot stack.

Converse has no JSON mode common to every model, so the model is asked for JSON by the system
message alone and its answer is validated like any other (an invalid one falls back). A model
that takes no system prompt (Mistral 7B Instruct, Titan Text …: Converse refuses the request)
is asked again at once with the instructions first in the user message, and so from then on;
a reasoning model (its answer holds reasoning blocks) gets room to think before the ticket.

Throttling (a 429 whatever its body says), a model not ready or failing this time, 5xx and
timeouts are retried by the summariser, waiting at least a Retry-After if one is sent; a prompt too long for the model (a
ValidationException saying so in any of its models' words, or an answer stopped by the context
window) is sent again shorter; a content filter's refusal of the alert's text (Amazon Nova's)
is this alert's alone; refused, expired or unknown credentials, a model not in the region and
a redirect (never followed) count against the breaker without a retry. The secret
key and session token each request is signed with are held (`triage.redact.hold`), so no log
line can carry them, whatever an endpoint echoes.

An answer is bounded as the OpenAI client's is: in time, whole (TRIAGE_LLM_TIMEOUT_S, however
slowly its body comes), and in size (`MAX_ANSWER_BYTES`, read a piece at a time: botocore reads
an answer whole before it parses, on the event loop, so a broken or hostile endpoint could
otherwise fill the process's memory, or hold every other message while its answer is parsed). Its bytes are the ones parsed: aiobotocore asks for `identity` and does not
decompress, so a gzip bomb is not inflated. A larger answer counts against the breaker; a
larger error answer is what its status says, its body unread.

An answer sent as an event stream (`application/vnd.amazon.eventstream`, ConverseStream's framing,
though Converse was asked) is read as the answer it holds when it holds a whole one
(`eventstream.py`); one that does not is refused (`bad_event_stream`, with a line naming the
content type and what is wrong), one ending with a throttling or server exception is retried
as that error answered as JSON is, and one cut before its end (no `messageStop`, a message cut
short) is retried as a broken connection (`unreachable`), as an OpenAI stream cut short is.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable
from typing import Any, cast

import aiohttp
import structlog
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    CredentialRetrievalError,
    HTTPClientError,
    NoCredentialsError,
    PartialCredentialsError,
    ReadTimeoutError,
)
from botocore.exceptions import ConnectionError as BotoConnectionError
from botocore.parsers import ResponseParserError

from triage.aws import Aws, RedirectRefused, SharedTlsSession, told_error_code
from triage.errors import ModelError
from triage.redact import hold
from triage.settings import Settings
from triage.sinks.aio import AnswerTooLarge
from triage.sinks.http import retry_after_of
from triage.summarise.answer import MAX_ANSWER_CHARS
from triage.summarise.chat import (
    CONTENT_FILTERED,
    MAX_OUTPUT_TOKENS,
    PROMPT_TOO_LONG,
    REASONING_OUTPUT_TOKENS,
    TEMPERATURE,
    TOO_LONG,
    Answer,
    Stop,
    count,
    for_log,
)
from triage.summarise.eventstream import CONTENT_TYPE as EVENT_STREAM
from triage.summarise.eventstream import StreamRefused, converse_answer, is_event_stream

log = structlog.get_logger(__name__)

#: The largest Converse answer read: room for the longest answer text the summariser reads
#: (`MAX_ANSWER_CHARS`), each character up to four bytes of UTF-8. botocore parses the body
#: on the event loop, one JSON parse that holds the GIL, so a larger one is not read at all.
MAX_ANSWER_BYTES = 4 * MAX_ANSWER_CHARS

#: Converse errors worth another attempt, and the fallback reason each one counts as.
_BUSY = {
    "ThrottlingException": "rate_limited",
    "ModelNotReadyException": "rate_limited",
    "ModelTimeoutException": "timeout",
}
#: Refusals that no request would escape until someone acts (whatever the status says).
_PROVIDER_FAULTS = frozenset(
    {
        "AccessDeniedException",
        "ExpiredTokenException",
        "UnrecognizedClientException",
        "InvalidSignatureException",
        "ResourceNotFoundException",
        "ServiceQuotaExceededException",
    }
)
#: Converse's refusal of a system prompt for a model that has none: "This model doesn't
#: support system messages. Try again without a system message or use a model that supports
#: system messages."
_SYSTEM_REFUSED = re.compile(r"(doesn't|does not) support system messages", re.IGNORECASE)
#: stopReason values that are not a finished answer.
_STOPS: dict[str, Stop] = {
    "max_tokens": "length",
    "model_context_window_exceeded": "context",
    "guardrail_intervened": "filtered",
    "content_filtered": "filtered",
}


#: What botocore's parser raises on an answer of the wrong shape (a number for the content
#: list, text that is not a string, usage that is not an object): its own error, or whatever
#: Python raised as it walked the answer. An answer, not a failure to reach Bedrock (`triage
#: check` tells it so too).
UNPARSABLE: tuple[type[Exception], ...] = (
    ResponseParserError,
    TypeError,
    AttributeError,
    KeyError,
    IndexError,
    ValueError,
    OverflowError,
    RecursionError,
)


class _BoundedAnswer(aiohttp.ClientResponse):
    """An answer read whole, as botocore wants it, but a piece at a time and no further than
    `MAX_ANSWER_BYTES` (`AnswerTooLarge`, which botocore raises inside its HTTPClientError).
    An error answer that large is what its status says: its body is taken as empty, and
    botocore names an error it cannot read by its status (`_client_error`)."""

    async def read(self) -> bytes:
        if self._body is None:
            try:
                # aiohttp's own `read` keeps the body here, and returns it from here on.
                self._body = await self._bounded()
            except AnswerTooLarge as exc:
                self.close()  # the connection, with the rest of the answer, is not reused
                if 200 <= self.status < 300:
                    raise
                log.info("llm.answer_unread", status=self.status, unread=type(exc).__name__)
                self._body = b""
                return self._body  # (aiohttp's `read` refuses a closed answer's)
            except BaseException:
                self.close()
                raise
        return await super().read()

    async def _bounded(self) -> bytes:
        body = bytearray()
        async for piece in self.content.iter_chunked(64 * 1024):
            body += piece
            if len(body) > MAX_ANSWER_BYTES:
                raise AnswerTooLarge(f"an answer over {MAX_ANSWER_BYTES:,} bytes")
        return bytes(body)


class ConverseSession(SharedTlsSession):
    """The Bedrock client's HTTP session: the process's, with answers bounded in size."""

    answer_class = _BoundedAnswer


class BedrockChat:
    provider = "bedrock"

    def __init__(self, settings: Settings, aws: Aws | None = None) -> None:
        self.model = settings.bedrock_model_id
        self.region = settings.aws_region
        self.endpoint_url = settings.aws_endpoint_url_bedrock_runtime or settings.aws_endpoint_url
        self.timeout_s = settings.llm_timeout_s
        # The daemon's session when it has one (one credential chain per process); else our own.
        self._aws = aws or Aws(settings)
        self._owns_aws = aws is None
        #: The secret key last held (`_hold_credentials`).
        self._held: str | None = None
        #: Whether the model takes a system prompt; one that refused it is asked without.
        self.system_supported = True
        #: Whether the model thinks before it answers (`_room_to_think`).
        self.reasoning = False

    async def complete(self, system: str, user: str, timeout_s: float) -> Answer:
        try:
            async with asyncio.timeout(timeout_s):
                # The client too: botocore resolves the credentials when it makes one (the
                # task role's endpoint may fail, or answer a byte at a time).
                client = await self._client()
                await self._hold_credentials()
                response = await self._converse(client, system, user)
                if self._room_to_think(response):
                    response = await self._converse(client, system, user)
        except TimeoutError:
            raise ModelError("timeout", outcome="timeout", retryable=True) from None
        except ModelError:
            raise  # an event stream's refusal (`_read_event_stream`), said already
        except ClientError as exc:
            raise _client_error(exc) from None
        except BotoCoreError as exc:
            raise _botocore_error(exc) from None
        except UNPARSABLE as exc:
            raise _unparsable(exc) from None
        return read_answer(response)

    async def aclose(self) -> None:
        if self._owns_aws:
            await self._aws.aclose()

    async def _converse(self, client: Any, system: str, user: str) -> Any:
        """The Converse answer; a request refused for its system prompt is made again at once
        without one, the instructions first in the user message, and so are all later ones.
        Judged by what was sent: a call in flight when another learnt it asks again too."""
        request = self._request(system, user)
        try:
            return await client.converse(**request)
        except ClientError as exc:
            if "system" not in request or not _refuses_system(exc):
                raise
        if self.system_supported:
            self.system_supported = False
            log.info(
                "llm.request_adapted",
                refused="the system prompt",
                instead="the instructions first in the user message",
            )
        return await client.converse(**self._request(system, user))

    def _room_to_think(self, response: Any) -> bool:
        """Whether `response` shows a reasoning model (DeepSeek-R1, gpt-oss: reasoning blocks
        before the text) that a ticket's bound stopped before its ticket: its thinking counts
        against maxTokens, so it is asked again, and from then on, with
        REASONING_OUTPUT_TOKENS, as OpenAI's reasoning models are."""
        if self.reasoning or not _thinks(response) or response.get("stopReason") != "max_tokens":
            return False
        self.reasoning = True
        log.info(
            "llm.request_adapted",
            refused=f"maxTokens {MAX_OUTPUT_TOKENS}",
            instead=f"maxTokens {REASONING_OUTPUT_TOKENS} for a reasoning model",
        )
        return True

    def _request(self, system: str, user: str) -> dict[str, Any]:
        """Converse's arguments. Without a system prompt, the instructions go first in the
        one user message: the alert is still inside its nonce fence, after them, so it cannot
        speak as they do."""
        text = user if self.system_supported else f"{system}\n{user}"
        request: dict[str, Any] = {
            "modelId": self.model,
            "messages": [{"role": "user", "content": [{"text": text}]}],
            "inferenceConfig": {
                "maxTokens": REASONING_OUTPUT_TOKENS if self.reasoning else MAX_OUTPUT_TOKENS,
                "temperature": TEMPERATURE,
            },
        }
        if self.system_supported:
            request["system"] = [{"text": system}]
        return request

    async def _hold_credentials(self) -> None:
        """Hold the secret key and session token the request is signed with, as they are now
        (a task role's change every few hours), so every redactor in the process hides them: a
        server may echo them in an error, a library in a debug line."""
        # A coroutine on aioboto3's session (its type stubs are botocore's, which say not).
        credentials = await cast(Awaitable[Any], self._aws.session.get_credentials())
        if credentials is None:  # botocore raises NoCredentialsError when it signs
            return
        frozen = await credentials.get_frozen_credentials()
        if frozen.secret_key != self._held:
            hold(frozen.secret_key)
            hold(frozen.token)
            self._held = frozen.secret_key

    async def _client(self) -> Any:
        config = Config(
            # One attempt per call: the summariser's retries are the only ones.
            retries={"total_max_attempts": 1, "mode": "standard"},
            connect_timeout=min(5.0, self.timeout_s),
            read_timeout=self.timeout_s,
        )
        client = await self._aws.client(
            "bedrock-runtime", self.endpoint_url, config, session_cls=ConverseSession
        )
        read_event_streams(client)
        return client


def read_event_streams(client: Any) -> None:
    """Have a bedrock-runtime `client` read a Converse answer sent as an event stream
    (`_read_event_stream`); `triage check`'s client reads its answer so too. Once per client:
    the id makes a second registration a no-op."""
    client.meta.events.register(
        "before-parse.bedrock-runtime.Converse",
        _read_event_stream,
        unique_id="triage-converse-event-stream",
    )


def _read_event_stream(response_dict: dict[str, Any], **_: Any) -> None:
    """Before botocore parses a Converse answer: one sent as an event stream (ConverseStream's
    framing, though Converse was asked) becomes the Converse JSON it spells when it holds a
    whole answer (`eventstream.py`), so it is parsed and checked as any answer is; otherwise
    the request fails with a ModelError saying why, naming the content type."""
    headers = response_dict.get("headers") or {}
    if response_dict.get("status_code") != 200 or not is_event_stream(headers.get("content-type")):
        return
    try:
        answer = converse_answer(response_dict["body"])
    except StreamRefused as exc:
        raise _stream_refused(exc) from None
    response_dict["body"] = json.dumps(answer).encode()


def _stream_refused(exc: StreamRefused) -> ModelError:
    """An event stream holding no whole answer: a busy model's exception (throttled, failing,
    timed out) is retried as the same error answered as JSON is; a stream cut before its end
    is a broken connection (a proxy's idle cut, a worker's crash mid-answer, read as the end
    of a body with no length), retried as `unreachable` as an OpenAI stream cut short is, not
    a bad answer; anything else is no answer, from this endpoint for any request, so the
    breaker hears of it."""
    if exc.busy is not None:
        outcome = exc.busy if exc.busy in ("rate_limited", "timeout") else "server_error"
        return ModelError(exc.busy, outcome=outcome, retryable=True)
    if exc.cut:
        log.info("llm.error", error=f"an {EVENT_STREAM} answer broke off before its end: {exc}")
        return ModelError("unreachable", outcome="unreachable", retryable=True)
    log.info("llm.error", error=f"an {EVENT_STREAM} answer with no whole Converse answer: {exc}")
    return ModelError("bad_event_stream", outcome="invalid", provider_fault=True)


def _unparsable(exc: Exception) -> ModelError:
    """An answer botocore cannot read (a page, JSON of another shape): whatever is at the
    endpoint is not answering Converse, for this request or any other, so the breaker hears
    of it. (A 5xx with such a body is still a ClientError botocore names by its status.)"""
    log.info("llm.error", error=f"an answer botocore cannot read: {type(exc).__name__}")
    return ModelError("bad_response", outcome="invalid", provider_fault=True)


def _thinks(response: Any) -> bool:
    """Whether a Converse answer holds reasoning blocks (a reasoning model's thinking)."""
    try:
        blocks = response["output"]["message"]["content"]
    except (KeyError, TypeError):
        return False
    return isinstance(blocks, list) and any(
        isinstance(block, dict) and "reasoningContent" in block for block in blocks
    )


def read_answer(response: Any) -> Answer:
    """The Answer in a Converse response; one of another shape is invalid (ModelError:
    `no_message` without `output.message.content`, else `bad_response`). `triage check`
    reads its one-token answer with it too, so it passes only what a summary can use. A 1xx
    as the final answer (an upgrade no one asked for), which botocore reads as an empty
    success, is the endpoint unwell, as a 5xx is: retried (`server_error_<status>`)."""
    status = _status(response)
    if status is not None and status < 200:
        raise ModelError(f"server_error_{status}", outcome="server_error", retryable=True)
    try:
        blocks = response["output"]["message"]["content"]
    except (KeyError, TypeError):
        # No message at all (a page botocore read as an empty answer): not Converse answering.
        raise ModelError("no_message", outcome="invalid", provider_fault=True) from None
    if not isinstance(blocks, list):
        raise ModelError("bad_response", outcome="invalid")
    # Reasoning models add other blocks (reasoningContent); the ticket is in the text ones.
    texts: list[str] = []
    for block in blocks:
        if isinstance(block, dict) and "text" in block:
            if not isinstance(block["text"], str):
                raise ModelError("bad_response", outcome="invalid")
            texts.append(block["text"])
    usage = response.get("usage") or {}
    if not isinstance(usage, dict):
        raise ModelError("bad_response", outcome="invalid")
    prompt_tokens, completion_tokens = usage.get("inputTokens"), usage.get("outputTokens")
    if any(v is not None and count(v) is None for v in (prompt_tokens, completion_tokens)):
        raise ModelError("bad_response", outcome="invalid")
    return Answer(
        text="".join(texts),
        stop=_STOPS.get(str(response.get("stopReason")), "end"),
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
    )


def _status(response: Any) -> int | None:
    """The HTTP status botocore says a parsed answer came with, if it says one."""
    metadata = response.get("ResponseMetadata") if isinstance(response, dict) else None
    status = metadata.get("HTTPStatusCode") if isinstance(metadata, dict) else None
    return status if isinstance(status, int) and not isinstance(status, bool) else None


def _refuses_system(exc: ClientError) -> bool:
    """Whether Converse refused the request because the model takes no system prompt."""
    error = exc.response.get("Error", {})
    return error.get("Code") == "ValidationException" and bool(
        _SYSTEM_REFUSED.search(str(error.get("Message")))
    )


def _client_error(exc: ClientError) -> ModelError:
    error = exc.response.get("Error", {})
    code = str(error.get("Code", ""))
    message = for_log(str(error.get("Message")))
    # Whatever answers for Bedrock (a proxy, a stand-in) writes the code: a log line tells it
    # only in AWS's form and holding no credential, before any processor redacts the line.
    told = told_error_code(error.get("Code"))
    metadata = exc.response.get("ResponseMetadata", {})
    status = int(metadata.get("HTTPStatusCode") or 0)
    if code == "ThrottlingException" and _PER_DAY.search(message):
        # The account's daily tokens are spent: no retry helps until the quota resets.
        log.warning("llm.rejected", status=status, code=told, error=message, hint=_DAY_HINT)
        return ModelError("quota_exceeded", outcome="rejected", until_fixed=True)
    # Bedrock documents no Retry-After, but a proxy in front of it (or a later Bedrock) may say
    # how long to wait: no retry comes sooner, and a wait past the call's budget pauses it.
    retry_after_s = retry_after_of(metadata.get("HTTPHeaders") or {})
    if code in _BUSY or status == 429:
        # A 429 is throttling whatever its body: a proxy's page, or one botocore cannot read,
        # has only the status for its code.
        reason = _BUSY.get(code, "rate_limited")
        return ModelError(reason, outcome=reason, retryable=True, retry_after_s=retry_after_s)
    # 424: the model failed this time. 408 and 425 (Too Early): a proxy in front will take
    # the request later, as the OpenAI client reads them too.
    if status >= 500 or status in (408, 425) or code == "ModelErrorException":
        return ModelError(
            f"server_error_{status}",
            outcome="server_error",
            retryable=True,
            retry_after_s=retry_after_s,
        )
    if status == 413 or (code == "ValidationException" and TOO_LONG.search(message)):
        # A 413 is a body larger than what answers takes (a proxy's limit in front of
        # Bedrock): the prompt, as OpenAI's client reads it too.
        log.info("llm.prompt_too_long", status=status, code=told, error=message)
        return ModelError(PROMPT_TOO_LONG, outcome="rejected")
    if code == "ValidationException" and CONTENT_FILTERED.search(message):
        # The alert's text, not the provider: this request's alone, never the breaker's.
        log.info("llm.content_filter", status=status, code=told, error=message)
        return ModelError("content_filter", outcome="refused")
    # AccessDenied (no bedrock:InvokeModel, model access not granted), expired or unknown
    # credentials, ResourceNotFound (no such model in this region), a spent quota, and any
    # other Validation refusal (a model id that is no model or needs an inference profile, a
    # parameter the model refuses: the request's shape is the same for every alert, only its
    # text differs): every request fails the same way until someone acts, so the breaker
    # hears of it. None is retried.
    provider_fault = status in (400, 401, 403, 404) or code in _PROVIDER_FAULTS
    hint = _hint(code, message)
    # A 401 or 403 refuses the credentials (or their access), whatever its body names.
    until_fixed = code in _PROVIDER_FAULTS or bool(hint) or status in (401, 403)
    # At warning when it opens the breaker: the server's words beside `breaker.opened`. Else
    # at info, and the fallback's line (`summariser.fallback`) is the call's one at warning.
    (log.warning if until_fixed else log.info)(
        "llm.rejected", status=status, code=told, error=message, **hint
    )
    return ModelError(
        f"rejected_{status}",
        outcome="rejected",
        provider_fault=provider_fault,
        until_fixed=until_fixed,
    )


def _hint(code: str, message: str) -> dict[str, str]:
    """What a first day's refusal most often means, said with it: no model access, a model
    served only through an inference profile, or a model id Converse does not serve here.
    Each lasts until someone acts."""
    if code == "AccessDeniedException":
        return {"hint": _ACCESS_HINT}
    if code == "ValidationException" and _PROFILE_ONLY.search(message):
        return {"hint": _PROFILE_HINT}
    if code == "ValidationException" and _NO_SUCH_MODEL.search(message):
        return {"hint": _MODEL_HINT}
    return {}


#: "Too many tokens per day": a ThrottlingException no wait within a call cures.
_PER_DAY = re.compile(r"per day", re.IGNORECASE)
_DAY_HINT = "the account's daily token quota for the model is spent; raise it in Service Quotas"
#: "Invocation of model ID … with on-demand throughput isn't supported. Retry your request
#: with the ID or ARN of an inference profile that contains this model."
_PROFILE_ONLY = re.compile(r"on-demand throughput|inference profile", re.IGNORECASE)
_PROFILE_HINT = (
    "set TRIAGE_BEDROCK_MODEL_ID to an inference profile that serves the model (its id with"
    " a geography prefix, e.g. us. or eu.)"
)
#: Converse refusing the model id itself: "The provided model identifier is invalid.", "This
#: action doesn't support the model that you provided. Try again with a supported text or chat
#: model." (an embedding, image, speech or imported model), "The model ID … is not enabled for
#: this account.", "The model ID … is not supported in this Region."
_NO_SUCH_MODEL = re.compile(
    r"model identifier is invalid|(doesn't|does not) support the model"
    r"|model ID \S+ is not (enabled|supported)",
    re.IGNORECASE,
)
_MODEL_HINT = (
    "set TRIAGE_BEDROCK_MODEL_ID to a text or chat model (or its inference profile) that is"
    " enabled for the account in AWS_REGION and served by Converse"
)
#: What a first day's AccessDeniedException most often means, said with it.
_ACCESS_HINT = (
    "grant the task role bedrock:InvokeModel on TRIAGE_BEDROCK_MODEL_ID, and request access to"
    " the model in the Bedrock console (Model access) in AWS_REGION"
)


def _botocore_error(exc: BotoCoreError) -> ModelError:
    if isinstance(exc, ReadTimeoutError):
        return ModelError("timeout", outcome="timeout", retryable=True)
    if isinstance(exc.kwargs.get("error"), AnswerTooLarge):
        # Broken or hostile, and the same for the next request: not retried. The fallback's
        # line (`answer_too_large`) says it.
        log.debug("llm.error", error=str(exc.kwargs["error"]))
        return ModelError("answer_too_large", outcome="invalid", provider_fault=True)
    if isinstance(exc.kwargs.get("error"), RedirectRefused):
        # The endpoint points elsewhere: every request would be refused the same way.
        log.info("llm.rejected", error="the endpoint redirected; not followed")
        return ModelError("redirected", outcome="rejected", provider_fault=True)
    if isinstance(exc, HTTPClientError | BotoConnectionError):  # refused, closed, connect timeout
        return ModelError("unreachable", outcome="unreachable", retryable=True)
    if isinstance(exc, CredentialRetrievalError):  # the container credentials endpoint failed
        return ModelError("no_credentials", outcome="unreachable", retryable=True)
    if isinstance(exc, NoCredentialsError | PartialCredentialsError):
        # No request can be signed until someone provides credentials: the breaker hears.
        log.warning("llm.no_credentials", error=type(exc).__name__)
        return ModelError("no_credentials", outcome="rejected", until_fixed=True)
    log.info("llm.error", error=type(exc).__name__)
    return ModelError("bad_response", outcome="invalid")
