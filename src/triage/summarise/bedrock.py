"""Amazon Bedrock's Converse API as a `ChatModel`: the task role instead of an API key.

The request goes through the process's aioboto3 session (`triage.aws.Aws`), so it is signed
with SigV4 from the default credential chain: on ECS the task role, elsewhere the environment,
a profile or instance metadata. Region: AWS_REGION; endpoint: AWS_ENDPOINT_URL_BEDROCK_RUNTIME,
else AWS_ENDPOINT_URL, else AWS's. botocore's own retries are off (one attempt per call): the
summariser retries throttling and 5xx within its budget, so the two cannot stack.

Converse has no JSON mode common to every model, so the model is asked for JSON by the system
message alone and its answer is validated like any other (an invalid one falls back).
"""

from __future__ import annotations

import asyncio
from typing import Any

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

from triage.aws import Aws
from triage.errors import ModelError
from triage.settings import Settings
from triage.summarise.chat import MAX_OUTPUT_TOKENS, TEMPERATURE, Answer, Stop, count

log = structlog.get_logger(__name__)

#: Converse errors worth another attempt, and the fallback reason each one counts as.
_BUSY = {
    "ThrottlingException": "rate_limited",
    "ModelNotReadyException": "rate_limited",
    "ModelTimeoutException": "timeout",
}
#: stopReason values that are not a finished answer.
_STOPS: dict[str, Stop] = {
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "guardrail_intervened": "filtered",
    "content_filtered": "filtered",
}


#: What botocore's parser raises on an answer of the wrong shape (a number for the content
#: list, text that is not a string, usage that is not an object): its own error, or whatever
#: Python raised as it walked the answer. An answer, not a failure to reach Bedrock.
_UNPARSABLE = (
    ResponseParserError,
    TypeError,
    AttributeError,
    KeyError,
    IndexError,
    ValueError,
    OverflowError,
    RecursionError,
)


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

    async def complete(self, system: str, user: str, timeout_s: float) -> Answer:
        client = await self._client()
        try:
            async with asyncio.timeout(timeout_s):
                response = await client.converse(
                    modelId=self.model,
                    system=[{"text": system}],
                    messages=[{"role": "user", "content": [{"text": user}]}],
                    inferenceConfig={"maxTokens": MAX_OUTPUT_TOKENS, "temperature": TEMPERATURE},
                )
        except TimeoutError:
            raise ModelError("timeout", outcome="timeout", retryable=True) from None
        except ClientError as exc:
            raise _client_error(exc) from None
        except BotoCoreError as exc:
            raise _botocore_error(exc) from None
        except _UNPARSABLE as exc:
            log.warning("llm.error", error=f"an answer botocore cannot read: {type(exc).__name__}")
            raise ModelError("bad_response", outcome="invalid") from None
        return _answer(response)

    async def aclose(self) -> None:
        if self._owns_aws:
            await self._aws.aclose()

    async def _client(self) -> Any:
        config = Config(
            # One attempt per call: the summariser's retries are the only ones.
            retries={"total_max_attempts": 1, "mode": "standard"},
            connect_timeout=min(5.0, self.timeout_s),
            read_timeout=self.timeout_s,
        )
        return await self._aws.client("bedrock-runtime", self.endpoint_url, config)


def _answer(response: Any) -> Answer:
    """The Answer in a Converse response; one of another shape is invalid."""
    try:
        blocks = response["output"]["message"]["content"]
    except (KeyError, TypeError):
        raise ModelError("no_message", outcome="invalid") from None
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


def _client_error(exc: ClientError) -> ModelError:
    error = exc.response.get("Error", {})
    code = str(error.get("Code", ""))
    status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
    if code in _BUSY:
        reason = _BUSY[code]
        return ModelError(reason, outcome=reason, retryable=True)
    if status >= 500 or code == "ModelErrorException":  # 424: the model failed this time
        return ModelError(f"server_error_{status}", outcome="server_error", retryable=True)
    # AccessDenied (no bedrock:InvokeModel, model access not granted), ResourceNotFound (no such
    # model in this region), Validation: the same request would fail again.
    log.warning("llm.rejected", status=status, code=code, error=_short(str(error.get("Message"))))
    return ModelError(f"rejected_{status}", outcome="rejected")


def _botocore_error(exc: BotoCoreError) -> ModelError:
    if isinstance(exc, ReadTimeoutError):
        return ModelError("timeout", outcome="timeout", retryable=True)
    if isinstance(exc, HTTPClientError | BotoConnectionError):  # refused, closed, connect timeout
        return ModelError("unreachable", outcome="unreachable", retryable=True)
    if isinstance(exc, CredentialRetrievalError):  # the container credentials endpoint failed
        return ModelError("no_credentials", outcome="unreachable", retryable=True)
    if isinstance(exc, NoCredentialsError | PartialCredentialsError):
        log.warning("llm.no_credentials", error=type(exc).__name__)
        return ModelError("no_credentials", outcome="rejected")
    log.warning("llm.error", error=type(exc).__name__)
    return ModelError("bad_response", outcome="invalid")


def _short(value: str) -> str:
    return " ".join(value.split())[:200]
