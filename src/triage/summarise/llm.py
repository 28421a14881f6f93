"""The LLM summariser: one chat completion per new incident, bounded, checked and contained.

A call goes through these gates, in order; any failure raises `SummariserError`, and the
`FallbackSummariser` around this class then writes the ticket deterministically:

    circuit breaker       open after TRIAGE_LLM_BREAKER_FAILURES calls failed in a row; while open
                          no request is made; after TRIAGE_LLM_BREAKER_RESET_S one probe goes out
    concurrency cap       at most TRIAGE_LLM_CONCURRENCY requests in flight per process
    retries (tenacity)    429, 5xx, timeouts and connection errors are retried with jittered
                          exponential waits, at most TRIAGE_LLM_RETRIES times, and never past the
                          call's budget (the SDK's own retries are off, so they cannot stack)
    timeout               each request is cut at TRIAGE_LLM_TIMEOUT_S
    structured output     `json_schema` first; a server that rejects it (many OpenAI-compatible
                          servers do) is asked again with `json_object`, and that choice is kept
    validation            the answer must parse as a `TicketDraft` (length limits included)
    containment           `contain()`: the source's stated priority wins, else the model's may
                          move the severity's default one step (`priority.py`), and the ticket
                          says why; links that are not the alert's are removed; numbers, hosts,
                          addresses and identifiers that are not in the alert the model saw are
                          marked [unverified] (`grounding.py`; a title holding one is replaced
                          by the alert's own) and counted in `LLMGroundingRejects`; text is
                          redacted and cleaned of control characters

Input: the alert, redacted and cut (see `prompt.py`); credentials the process holds are redacted
by exact value too, so even an alert that quotes the backend token cannot put it in a prompt.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

import httpx2
import openai
import structlog
from openai.types.chat import ChatCompletion
from pydantic import ValidationError as PydanticValidationError
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
    stop_before_delay,
    wait_random_exponential,
)

import triage.summarise.grounding as grounding
import triage.summarise.prompt as prompt
from triage.breaker import CircuitBreaker
from triage.errors import SummariserError
from triage.metrics import Metrics
from triage.models import Priority, Ticket
from triage.normalize.common import cut, line, text
from triage.redact import Redactor
from triage.settings import Settings
from triage.summarise.priority import decide
from triage.view import RedactedAlert

log = structlog.get_logger(__name__)

#: Errors worth another attempt: the server is busy or down, or the request timed out.
_RETRYABLE = (
    openai.RateLimitError,
    openai.InternalServerError,
    openai.APIConnectionError,  # includes APITimeoutError
)

#: Upper bound on the tokens the model may write; a ticket is short.
MAX_OUTPUT_TOKENS = 900


class LlmSummariser:
    def __init__(
        self,
        settings: Settings,
        *,
        metrics: Metrics | None = None,
        redactor: Redactor | None = None,
        http_client: httpx2.AsyncClient | None = None,
        breaker: CircuitBreaker | None = None,
    ) -> None:
        if settings.openai_api_key is None:
            raise ValueError("LlmSummariser needs OPENAI_API_KEY")
        self.model = settings.openai_model
        self.timeout_s = settings.llm_timeout_s
        self.retries = settings.llm_retries
        self.max_input_chars = settings.llm_max_input_chars
        # The whole call, retries and waits included, stays within a share of the message's
        # own time limit, so a slow LLM never makes the message itself time out.
        self.budget_s = min(
            settings.message_timeout_s / 2, settings.llm_timeout_s * (settings.llm_retries + 1) + 10
        )
        self.metrics = metrics if metrics is not None else Metrics()
        self.redactor = redactor or Redactor()
        self.breaker = breaker or CircuitBreaker(
            "llm", settings.llm_breaker_failures, settings.llm_breaker_reset_s
        )
        self._slots = asyncio.Semaphore(settings.llm_concurrency)
        #: Flipped once when the server rejects json_schema; every later call uses json_object.
        self.json_schema_supported = True
        self._client = openai.AsyncOpenAI(
            api_key=settings.openai_api_key.get_secret_value(),
            base_url=settings.openai_base_url,
            timeout=settings.llm_timeout_s,
            max_retries=0,  # tenacity retries, within our budget; the SDK's would stack on top
            http_client=http_client,
        )

    async def summarise(self, alert: RedactedAlert) -> Ticket:
        if not self.breaker.allow():
            raise SummariserError("breaker_open")
        try:
            draft, shown = await self._ask(alert)
        except _Unavailable as exc:
            self.breaker.failure()
            raise SummariserError(exc.reason) from None
        except asyncio.CancelledError:
            self.breaker.cancelled()
            raise
        except SummariserError:
            # The server answered, just not usefully: it is up, so the breaker counts a success.
            self.breaker.success()
            raise
        self.breaker.success()
        contained = contain(draft, alert, self.redactor, shown)
        if contained.rejected:
            # Kinds and counts only: a rejected token may be a secret the model made up or echoed.
            self.metrics.incr("LLMGroundingRejects", sum(contained.rejected.values()))
            log.warning(
                "llm.ungrounded",
                count=sum(contained.rejected.values()),
                kinds=dict(sorted(contained.rejected.items())),
                title_replaced=contained.title_replaced,
            )
        return contained.ticket

    async def aclose(self) -> None:
        await self._client.close()

    # --- one call, with retries -----------------------------------------------------------

    async def _ask(self, alert: RedactedAlert) -> tuple[prompt.TicketDraft, grounding.Evidence]:
        """The model's draft, and the evidence of what it was shown."""
        # Redacting a large raw payload is CPU work: keep it off the event loop.
        messages, shown = await asyncio.to_thread(self._prepare, alert)
        started = time.monotonic()
        retrying = AsyncRetrying(
            retry=retry_if_exception_type(_RETRYABLE),
            stop=stop_after_attempt(self.retries + 1) | stop_before_delay(self.budget_s),
            wait=_wait,
            before_sleep=_log_retry,
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    remaining = self.budget_s - (time.monotonic() - started)
                    timeout = max(min(self.timeout_s, remaining), 0.1)
                    return await self._complete(messages, timeout), shown
        except openai.APITimeoutError:
            raise _Unavailable("timeout") from None
        except openai.RateLimitError:
            raise _Unavailable("rate_limited") from None
        except openai.APIConnectionError:
            raise _Unavailable("unreachable") from None
        except openai.InternalServerError as exc:
            raise _Unavailable(f"server_error_{exc.status_code}") from None
        except openai.APIStatusError as exc:  # 400/401/403/404/422: retrying will not help
            log.warning("llm.rejected", status=exc.status_code, error=_short(exc.message))
            self.metrics.incr("LLMCalls", outcome="rejected")
            raise SummariserError(f"rejected_{exc.status_code}") from None
        except openai.OpenAIError as exc:  # e.g. an answer that is not a chat completion at all
            log.warning("llm.error", error=type(exc).__name__)
            self.metrics.incr("LLMCalls", outcome="invalid")
            raise SummariserError("bad_response") from None
        raise AssertionError("tenacity neither returned nor raised")  # pragma: no cover

    def _prepare(self, alert: RedactedAlert) -> tuple[list[dict[str, str]], grounding.Evidence]:
        view = prompt.alert_view(alert, self.redactor, self.max_input_chars)
        return prompt.render(view), grounding.evidence(view)

    async def _complete(
        self, messages: list[dict[str, str]], timeout_s: float
    ) -> prompt.TicketDraft:
        async with self._slots:
            started = time.perf_counter()
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
            except _RETRYABLE as exc:
                self.metrics.incr("LLMCalls", outcome=_outcome(exc))
                raise
            finally:
                self.metrics.observe("LLMLatency", (time.perf_counter() - started) * 1000)
        usage = completion.usage
        if usage is not None:
            self.metrics.incr("LLMTokensIn", usage.prompt_tokens)
            self.metrics.incr("LLMTokensOut", usage.completion_tokens)
        return self._draft(completion)

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
            "temperature": 0.2,
            "max_tokens": MAX_OUTPUT_TOKENS,
        }
        # The SDK's low-level `post` (its documented way to send a body as is): `create` would
        # walk these plain dicts against its TypedDicts on every call, which profiled as half
        # of the SDK's CPU per call (0.73 -> 0.37 ms measured). Errors, parsing and the
        # ChatCompletion answer are the same.
        return await self._client.post(
            "/chat/completions",
            cast_to=ChatCompletion,
            body=body,
            options={"timeout": timeout_s},
        )

    def _draft(self, completion: Any) -> prompt.TicketDraft:
        if not completion.choices:
            return self._invalid("no_choices")
        choice = completion.choices[0]
        message = choice.message
        if getattr(message, "refusal", None):
            self.metrics.incr("LLMCalls", outcome="refused")
            log.warning("llm.refused", refusal=_short(str(message.refusal)))
            raise SummariserError("refused")
        if choice.finish_reason == "length":
            return self._invalid("truncated")
        if choice.finish_reason == "content_filter":
            self.metrics.incr("LLMCalls", outcome="refused")
            raise SummariserError("content_filter")
        content = _strip_fence(message.content or "")
        try:
            draft = prompt.TicketDraft.model_validate(json.loads(content))
        except (ValueError, PydanticValidationError) as exc:
            # A pydantic error quotes the input: log only its first line's shape, not the text.
            return self._invalid(
                "invalid_json" if isinstance(exc, json.JSONDecodeError) else "invalid_fields"
            )
        self.metrics.incr("LLMCalls", outcome="ok")
        return draft

    def _invalid(self, reason: str) -> prompt.TicketDraft:
        self.metrics.incr("LLMCalls", outcome="invalid")
        log.warning("llm.invalid_answer", reason=reason)
        raise SummariserError(reason)


class _Unavailable(Exception):
    """The model could not be reached or kept failing: counts against the breaker."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Contained:
    ticket: Ticket
    #: Rejected tokens by kind (url, ip, host, id, number, date, time); never the tokens.
    rejected: Counter[str]
    #: The model's title held a rejected token, so the alert's own title replaced it.
    title_replaced: bool = False


def contain(
    draft: prompt.TicketDraft, alert: RedactedAlert, redactor: Redactor, shown: grounding.Evidence
) -> Contained:
    """The model's draft made safe to publish, whatever the alert made the model write.

    `shown` is the alert as the model saw it (`grounding.evidence` of the prompt's view).
    """
    allowed = grounding.allowed_urls(alert.links.values(), alert.runbook_url, alert.description)
    rejected: Counter[str] = Counter()

    def clean(value: str) -> str:
        value, removed = grounding.links(value, allowed)
        rejected["url"] += removed
        return redactor.text(value)

    def ground(value: str) -> grounding.Checked:
        checked = grounding.check(clean(value), shown)
        rejected.update(checked.rejected)
        return checked

    # A title with an invented fact is worse than a plain one: the alert's own replaces it.
    # (The title is checked first, so `rejected` holds only its tokens here.)
    title = line(ground(draft.title).text, "title", prompt.TITLE_CHARS)
    title_replaced = rejected.total() > 0
    if title_replaced or not title:
        title = redactor.text(alert.title)
    description = text(ground(draft.description).text, "description", prompt.DESCRIPTION_CHARS)
    description = description or ""
    steps = [line(clean(step), "step", prompt.STEP_CHARS) for step in draft.steps]
    kept = [s for s in steps if s]
    if alert.runbook_url and not any(alert.runbook_url in s for s in kept):
        kept.insert(0, f"Follow the runbook: {redactor.text(alert.runbook_url)}")
    # The source's stated priority wins; otherwise the model may move the severity's default
    # one step, so alert text cannot talk it up to critical.
    decision = decide(
        alert.priority,
        alert.severity,
        Priority(draft.priority),
        by="by the summary's reading of the alert",
        suggester="summary",
    )
    if decision.note:
        description = f"{description}\n\n{redactor.text(decision.note)}".lstrip()
    ticket = Ticket(
        title=cut(title, 200, ellipsis=True),
        priority=decision.priority,
        description=description,
        steps=tuple(kept[: prompt.MAX_STEPS]),
    )
    return Contained(ticket, +rejected, title_replaced)


def _rejects_json_schema(exc: openai.BadRequestError) -> bool:
    text_ = f"{exc.message} {exc.body}".lower()
    return any(word in text_ for word in ("response_format", "json_schema", "structured", "schema"))


def _strip_fence(content: str) -> str:
    """Some models wrap JSON in ```json … ``` even when told not to."""
    stripped = content.strip()
    if stripped.startswith("```"):
        stripped = stripped.split("\n", 1)[-1] if "\n" in stripped else ""
        stripped = stripped.removesuffix("```").strip()
    return stripped


def _outcome(exc: BaseException) -> str:
    if isinstance(exc, openai.APITimeoutError):
        return "timeout"
    if isinstance(exc, openai.RateLimitError):
        return "rate_limited"
    if isinstance(exc, openai.APIConnectionError):
        return "unreachable"
    return "server_error"


_backoff = wait_random_exponential(multiplier=0.5, max=8)


def _wait(state: RetryCallState) -> float:
    """Jittered exponential, but never shorter than the server's Retry-After (when it sends
    one); the stop condition then refuses a wait that would overrun the call's budget."""
    delay = _backoff(state)
    exc = state.outcome.exception() if state.outcome else None
    if isinstance(exc, openai.APIStatusError):
        with contextlib.suppress(ValueError):
            delay = max(delay, float(exc.response.headers.get("retry-after", "")))
    return delay


def _log_retry(state: RetryCallState) -> None:
    exc = state.outcome.exception() if state.outcome else None
    log.info(
        "llm.retry",
        attempt=state.attempt_number,
        error=_outcome(exc) if exc else None,
        wait_s=round(state.next_action.sleep, 2) if state.next_action else None,
    )


def _short(value: str) -> str:
    return " ".join(value.split())[:200]
