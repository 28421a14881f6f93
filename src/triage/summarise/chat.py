"""The seam between the LLM summariser and a model's API: one request, text in, text out.

`LlmSummariser` (`llm.py`) owns everything the providers share: the breaker, the concurrency
cap, retries within a budget, validation of the answer and what is done to it. A `ChatModel`
only speaks its API: `openai_chat.OpenAiChat` (Chat Completions, any OpenAI-compatible server)
and `bedrock.BedrockChat` (Bedrock's Converse API, SigV4 with the default credential chain).
A failed request raises `triage.errors.ModelError`, which says whether another attempt may help.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

#: Upper bound on the tokens the model may write; a ticket is short.
MAX_OUTPUT_TOKENS = 900
#: Low: the same alert should give the same ticket, and facts are copied, not invented.
TEMPERATURE = 0.2

#: Why the model stopped: it finished, it ran out of tokens, or a filter stopped it.
Stop = Literal["end", "length", "filtered"]


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
        """The model's answer to one system + user message pair, within `timeout_s`; raises
        ModelError for a request that failed."""
        ...

    async def aclose(self) -> None:
        """Release the client; called once at shutdown."""
        ...
