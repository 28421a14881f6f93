"""Summarisers behind one `Summariser` seam.

Without `OPENAI_API_KEY` the deterministic summariser writes every ticket. With it, the LLM
summariser writes new tickets and the deterministic one stands behind it: whenever the model is
unavailable, slow, refusing or wrong, `FallbackSummariser` counts `SummarizationFailures` and
`LLMFallbacks{reason}` and returns the deterministic ticket, so the message still succeeds.
Either way the ticket is redacted before it leaves the process.
"""

from __future__ import annotations

import asyncio

import structlog

from triage.errors import SummariserError
from triage.metrics import Metrics
from triage.models import Ticket
from triage.redact import Redactor
from triage.settings import Settings
from triage.summarise.base import Summariser
from triage.summarise.deterministic import DeterministicSummariser, load_patterns
from triage.view import RedactedAlert, redact_ticket

__all__ = ["DeterministicSummariser", "FallbackSummariser", "Summariser", "build_summariser"]

log = structlog.get_logger(__name__)


class FallbackSummariser:
    """`primary` (the LLM) first; on any SummariserError, `fallback` writes the ticket."""

    def __init__(
        self,
        primary: Summariser,
        fallback: DeterministicSummariser,
        metrics: Metrics,
        redactor: Redactor,
    ) -> None:
        self.primary = primary
        self.fallback = fallback
        self.metrics = metrics
        self.redactor = redactor

    async def summarise(self, alert: RedactedAlert) -> Ticket:
        try:
            return await self.primary.summarise(alert)
        except SummariserError as exc:
            reason = str(exc) or "error"
            self.metrics.incr("SummarizationFailures")
            self.metrics.incr("LLMFallbacks", reason=reason)
            log.warning("summariser.fallback", reason=reason)
        return redact_ticket(self.fallback.write(alert), self.redactor)

    async def aclose(self) -> None:
        await asyncio.gather(self.primary.aclose(), self.fallback.aclose())


class RedactingSummariser:
    """The deterministic summariser on its own, with its tickets redacted like the LLM's."""

    def __init__(self, inner: DeterministicSummariser, redactor: Redactor) -> None:
        self.inner = inner
        self.redactor = redactor

    async def summarise(self, alert: RedactedAlert) -> Ticket:
        return redact_ticket(self.inner.write(alert), self.redactor)

    async def aclose(self) -> None:
        await self.inner.aclose()


def build_summariser(
    settings: Settings, metrics: Metrics, redactor: Redactor | None = None
) -> Summariser:
    """The summariser the settings ask for; logs once which one it is.

    `redactor` knows the credentials the process holds (backend token, API keys): they are
    redacted by exact value wherever they might appear in a ticket.
    """
    redactor = redactor or Redactor()
    deterministic = DeterministicSummariser(load_patterns(settings.patterns_file))
    if settings.openai_api_key is None:
        log.info("summariser.deterministic", reason="OPENAI_API_KEY is not set")
        return RedactingSummariser(deterministic, redactor)
    from triage.summarise.llm import LlmSummariser  # the openai SDK loads only when used

    llm = LlmSummariser(settings, metrics=metrics, redactor=redactor)
    log.info(
        "summariser.llm",
        model=settings.openai_model,
        base_url=settings.openai_base_url or "https://api.openai.com/v1",
        fallback="deterministic",
    )
    return FallbackSummariser(llm, deterministic, metrics, redactor)
