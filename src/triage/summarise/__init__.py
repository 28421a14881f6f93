"""Summarisers behind one `Summariser` seam.

With no LLM (`TRIAGE_LLM_PROVIDER=none`, the default without `OPENAI_API_KEY`) the deterministic
summariser writes every ticket. With one (OpenAI, or Bedrock with the task role), the LLM
summariser writes new tickets and the deterministic one stands behind it: whenever the model is
unavailable, slow, refusing or wrong, `FallbackSummariser` counts `SummarizationFailures` and
`LLMFallbacks{reason}` and returns the deterministic ticket, so the message still succeeds.
Either way the ticket is redacted before it leaves the process.

The reason is one of a closed set (`FALLBACK_REASONS`), so a hostile or broken model server
cannot add series: a status no one names counts under its kind (`server_error`, `rejected`),
words no one listed under `other`, and the `summariser.fallback` line's `detail` says which.
"""

from __future__ import annotations

import asyncio

import structlog

from triage.aws import Aws
from triage.breaker import opened_by
from triage.errors import SummariserError
from triage.metrics import Metrics
from triage.models import Ticket
from triage.redact import Redactor, held
from triage.settings import Settings
from triage.summarise.base import Summariser
from triage.summarise.chat import PROMPT_TOO_LONG, for_log
from triage.summarise.deterministic import DeterministicSummariser, load_patterns
from triage.view import RedactedAlert, redact_ticket, settled, url_origin

__all__ = [
    "FALLBACK_REASONS",
    "DeterministicSummariser",
    "FallbackSummariser",
    "Summariser",
    "build_summariser",
    "deterministic_summariser",
    "fallback_reason",
]

log = structlog.get_logger(__name__)

#: Statuses whose reason has a series of its own (`server_error_503`): those a provider or a
#: proxy in front of it answers, each telling an operator something different. Any other
#: status counts under its kind alone.
_NAMED_STATUSES = {
    "server_error": (101, 408, 424, 425, 500, 502, 503, 504),
    "rejected": (301, 302, 303, 307, 308, 400, 401, 403, 404, 405, 409, 410, 415, 422),
}
#: Every reason `LLMFallbacks{reason}` counts. What the summarisers name (the model clients'
#: errors, the answer's checks, the breaker and the request slots), the named statuses, each
#: status kind for the statuses not named, `error` for a failure that is no SummariserError
#: and `other` for a reason not listed here.
FALLBACK_REASONS = frozenset(
    {
        "timeout",
        "rate_limited",
        "unreachable",
        "quota_exceeded",
        PROMPT_TOO_LONG,
        "content_filter",
        "refused",
        "redirected",
        "no_credentials",
        "bad_response",
        "bad_event_stream",
        "no_message",
        "no_choices",
        "answer_too_large",
        "answer_undecodable",
        "invalid_json",
        "invalid_fields",
        "ambiguous_answer",
        "truncated",
        "empty_answer",
        "unsettled_text",
        "foreign_script",
        "echoed_alert",
        "breaker_open",
        "llm_busy",
        "error",
        "other",
        *_NAMED_STATUSES,
        *(f"{kind}_{status}" for kind, statuses in _NAMED_STATUSES.items() for status in statuses),
    }
)


def fallback_reason(reason: str) -> str:
    """`reason` as `LLMFallbacks` counts it: itself when listed; else the kind of a status
    reason (`server_error_599` is `server_error`); else `other` (`error` when empty)."""
    if reason in FALLBACK_REASONS:
        return reason
    if not reason:
        return "error"
    kind = next((kind for kind in _NAMED_STATUSES if reason.startswith(f"{kind}_")), None)
    return kind or "other"


class FallbackSummariser:
    """`primary` (the LLM) first; on any SummariserError (or any other failure, logged as an
    error), `fallback` writes the ticket."""

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
            said = str(exc)
            reason = fallback_reason(said)
            # The words behind a reason the set does not hold go in the line, not the label.
            detail = {"detail": for_log(said)} if said and said != reason else {}
            # An outage of the model says so once, at warning (`breaker.opened`): the call
            # whose failure opened the breaker, and those it then skips, say so at info.
            outage = reason == "breaker_open" or opened_by(exc) is not None
            (log.info if outage else log.warning)("summariser.fallback", reason=reason, **detail)
        except Exception as exc:
            # Whatever else an answer made go wrong (a bug, or a failure no reason names yet):
            # the deterministic ticket, not a message retried with a model call each time.
            reason = "error"
            log.error("summariser.fallback", reason=reason, error=type(exc).__name__, exc_info=exc)
        self.metrics.incr("SummarizationFailures")
        self.metrics.incr("LLMFallbacks", reason=reason)
        return _redacted(self.fallback.write(alert), self.redactor)

    async def aclose(self) -> None:
        await asyncio.gather(self.primary.aclose(), self.fallback.aclose())


class RedactingSummariser:
    """The deterministic summariser on its own, with its tickets redacted like the LLM's."""

    def __init__(self, inner: DeterministicSummariser, redactor: Redactor) -> None:
        self.inner = inner
        self.redactor = redactor

    async def summarise(self, alert: RedactedAlert) -> Ticket:
        return _redacted(self.inner.write(alert), self.redactor)

    async def aclose(self) -> None:
        await self.inner.aclose()


def _redacted(ticket: Ticket, redactor: Redactor) -> Ticket:
    """The deterministic `ticket` redacted, and `settled` with the credentials held before:
    the pipeline's own pass hands it back as it is unless one was held since."""
    holding = held()
    return settled(redact_ticket(ticket, redactor), redactor, holding)


def deterministic_summariser(settings: Settings, redactor: Redactor) -> RedactingSummariser:
    """The deterministic summariser with the settings' patterns file, its tickets redacted."""
    return RedactingSummariser(
        DeterministicSummariser(load_patterns(settings.patterns_file)), redactor
    )


def build_summariser(
    settings: Settings,
    metrics: Metrics,
    redactor: Redactor | None = None,
    *,
    aws: Aws | None = None,
) -> Summariser:
    """The summariser the settings ask for (`Settings.llm`); logs once which one it is.

    `redactor` knows the credentials the process holds (backend token, API keys): they are
    redacted by exact value wherever they might appear in a ticket. `aws` is the daemon's
    session, whose credential chain signs Bedrock's requests.
    """
    redactor = redactor or Redactor()
    if settings.llm == "none":
        reason = (
            "TRIAGE_LLM_PROVIDER is none"
            if settings.llm_provider == "none"
            else "OPENAI_API_KEY is not set and TRIAGE_LLM_PROVIDER is unset"
        )
        log.info("summariser.deterministic", reason=reason)
        return deterministic_summariser(settings, redactor)
    deterministic = DeterministicSummariser(load_patterns(settings.patterns_file))
    from triage.summarise.llm import LlmSummariser  # the model's SDK loads only when used

    llm = LlmSummariser(
        settings, metrics=metrics, redactor=redactor, patterns=deterministic.patterns, aws=aws
    )
    if settings.llm == "bedrock":
        where = settings.aws_endpoint_url_bedrock_runtime or settings.aws_endpoint_url
        log.info(
            "summariser.llm",
            provider="bedrock",
            model=settings.bedrock_model_id,
            region=settings.aws_region,
            endpoint=url_origin(where) if where else "aws",
            fallback="deterministic",
        )
    else:
        log.info(
            "summariser.llm",
            provider="openai",
            model=settings.openai_model,
            base_url=url_origin(settings.openai_base_url or "https://api.openai.com/v1"),
            fallback="deterministic",
        )
    return FallbackSummariser(llm, deterministic, metrics, redactor)
