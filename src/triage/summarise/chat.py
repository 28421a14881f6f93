"""The seam between the LLM summariser and a model's API: one request, text in, text out.

`LlmSummariser` (`llm.py`) owns everything the providers share: the breaker, the concurrency
cap, retries within a budget, validation of the answer and what is done to it. A `ChatModel`
only speaks its API: `openai_chat.OpenAiChat` (Chat Completions, any OpenAI-compatible server)
and `bedrock.BedrockChat` (Bedrock's Converse API, SigV4 with the default credential chain).
A failed request raises `triage.errors.ModelError`, which says whether another attempt may help.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol

from triage.errors import ConfigError
from triage.logs import start_background
from triage.normalize.common import cut
from triage.redact import hold, redact

if TYPE_CHECKING:
    from triage.settings import Settings

#: Upper bound on the tokens the model may write; a ticket is short.
MAX_OUTPUT_TOKENS = 900
#: The same for a reasoning model, whose thinking counts against it before the ticket starts.
REASONING_OUTPUT_TOKENS = 4000
#: Low: the same alert should give the same ticket, and facts are copied, not invented.
TEMPERATURE = 0.2

#: Why the model stopped: it finished, it ran out of tokens (its output's, or its context
#: window's: the prompt left too little room), or a filter stopped it.
Stop = Literal["end", "length", "context", "filtered"]

#: The `ModelError` reason of a prompt longer than the model takes: the alert's own doing, so
#: the summariser asks once more with a shorter prompt instead of blaming the provider.
PROMPT_TOO_LONG = "prompt_too_long"

#: How models and the servers and gateways in front of them say the prompt is longer than the
#: model takes, whichever API passes it on: OpenAI's `context_length_exceeded` and "maximum
#: context length", vLLM's, llama.cpp's "context size", Text Generation Inference's "`inputs`
#: tokens + `max_new_tokens` must be <= …", Bedrock's "Input is too long for requested model",
#: Claude's "prompt is too long", "input length and `max_tokens` exceed context limit" and
#: "Input is too large: too many total text bytes", Bedrock's OpenAI endpoint's "prompt tokens
#: exceed model maximum", Gemini's "input token count (…) exceeds the maximum", xAI's
#: "maximum prompt length". Not a refusal of the output bound (Bedrock's "The maximum tokens
#: you requested exceeds the model limit", OpenAI's "max_tokens is too large: …"): that is
#: the request triage always sends, not the alert.
TOO_LONG = re.compile(
    r"context.?(length|window|size|limit)|maximum (context|prompt length)|too long"
    r"|(input|prompt) is too large"
    r"|too many (input |total text )?(tokens|bytes)|exceeds? the (model'?s? )?max"
    r"|tokens exceed model maximum"
    r"|`?inputs`? (tokens \+ `?max_new_tokens`? must be|must have less than)",
    re.IGNORECASE,
)

#: A content filter refusing the prompt's text in words, whatever the status or code says:
#: Amazon Nova's "This request has been blocked by our content filters. Please adjust your
#: text prompt to submit a new request.", from Bedrock or a gateway in front of it.
CONTENT_FILTERED = re.compile(r"blocked by (our |the )?content filter", re.IGNORECASE)


#: How much of a model's or a server's words a log line reads, and how much of them it keeps.
LOG_READ_CHARS = 4000
LOG_CHARS = 200


def for_log(words: str, redacted: Callable[[str], str] = redact) -> str:
    """A model's or a server's words (a refusal, an error message) for a log line: on one line,
    `redacted` before they are cut, and cut between words only. Either prompt injection or a
    server may put a key in them: no cut leaves a piece of it the redactor no longer knows,
    neither where the read of them ends (a long password before it, once redacted, would bring
    the piece into the line) nor where the line does."""
    read = words[:LOG_READ_CHARS].split()
    if len(words) > LOG_READ_CHARS and read and not words[LOG_READ_CHARS].isspace():
        read.pop()  # the word the read cut into
    said = redacted(" ".join(read))  # a held key spelled out too (`redact/spelled.py`)
    return cut(said, LOG_CHARS, ellipsis=True, whole_words=True)


#: More tokens than any one call can bill: a count past it is a server's nonsense.
MAX_TOKEN_COUNT = 10_000_000


def count(value: object) -> int | None:
    """A provider's token count as the metrics may add it: a whole number from 0 to
    MAX_TOKEN_COUNT; anything else (a string, a float, a negative or a huge number, which
    would break or poison the counters) is no count."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_TOKEN_COUNT:
        return value
    return None


def openai_key(settings: Settings) -> str:
    """OPENAI_API_KEY as it goes in the Authorization header: stripped (a secret file's or a
    variable's trailing newline would otherwise fail every request as `unreachable`), held so
    every redactor in the process hides it (a server may echo it in an error), and refused at
    start-up when it still cannot be a header value."""
    key = settings.openai_api_key.get_secret_value().strip() if settings.openai_api_key else ""
    if not key:
        raise ConfigError("the OpenAI provider needs OPENAI_API_KEY")
    if not (key.isascii() and key.isprintable()) or any(c.isspace() for c in key):
        raise ConfigError(
            "OPENAI_API_KEY is not a usable key (whitespace, control or non-ASCII characters "
            "inside it)"
        )
    hold(key)
    return key


@dataclass(frozen=True, slots=True)
class Answer:
    """What the model said, in the terms the summariser needs."""

    text: str
    stop: Stop = "end"
    #: The model's own refusal message, when the API reports one apart from the text.
    refusal: str | None = None
    #: Tokens the provider billed, when it says (None: it did not).
    prompt_tokens: int | None = None
    completion_tokens: int | None = None


class ChatModel(Protocol):
    """One model API. `complete` makes exactly one request (never retries: the summariser does)."""

    #: Names the provider in logs: "openai", "bedrock".
    provider: str
    #: The model asked, for logs.
    model: str

    async def complete(self, system: str, user: str, timeout_s: float) -> Answer:
        """The model's answer to one system + user message pair, within `timeout_s` whole
        (the body's last byte included, however slowly it comes); raises ModelError for a
        request that failed."""
        ...

    async def aclose(self) -> None:
        """Release the client; called once at shutdown."""
        ...


class DeferredChat:
    """A `ChatModel` built on a worker thread at its first request, not at start-up.

    Importing the openai SDK costs about as much CPU as the rest of the daemon's start-up
    together (its package imports every API type it has: ~0.6-0.9 s on this project's
    machines), and a replica started to absorb a storm of repeats may never call the model.
    The first request waits for the build; a build that failed is tried again by the next.
    """

    def __init__(self, provider: str, model: str, build: Callable[[], ChatModel]) -> None:
        self.provider = provider
        self.model = model
        self._build = build
        self._built: ChatModel | None = None
        self._building: asyncio.Task[ChatModel] | None = None

    async def _get(self) -> ChatModel:
        if self._built is not None:
            return self._built
        if self._building is None or (
            self._building.done()
            and (self._building.cancelled() or self._building.exception() is not None)
        ):
            self._building = start_background(asyncio.to_thread(self._build), name="chat-build")
        # Shielded: a request cancelled while the SDK loads leaves the build to the next one.
        self._built = await asyncio.shield(self._building)
        return self._built

    async def complete(self, system: str, user: str, timeout_s: float) -> Answer:
        return await (await self._get()).complete(system, user, timeout_s)

    async def aclose(self) -> None:
        if self._built is None and self._building is not None and not self._building.done():
            # Shutdown while the SDK loads: the thread cannot be stopped, so let it finish.
            await asyncio.gather(self._building, return_exceptions=True)
            if not self._building.cancelled() and self._building.exception() is None:
                self._built = self._building.result()
        if self._built is not None:
            await self._built.aclose()
