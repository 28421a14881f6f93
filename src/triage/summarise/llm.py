"""The LLM summariser: one model call per new incident, bounded, checked and contained.

The provider is a `ChatModel` (`chat.py`): OpenAI's Chat Completions (`openai_chat.py`) or
Bedrock's Converse API (`bedrock.py`), chosen by TRIAGE_LLM_PROVIDER. Everything else is the
same for both. A call goes through these gates, in order; any failure raises `SummariserError`,
and the `FallbackSummariser` around this class then writes the ticket deterministically:

    circuit breaker       open after TRIAGE_LLM_BREAKER_FAILURES calls failed in a row by the
                          provider's fault (`ModelError.provider_fault`: down, busy, a refused
                          key, a missing model, a spent quota; not a prompt too long), or at
                          once when it asks for a longer wait than a call's budget or refuses
                          what only someone acting cures (a key, access, a quota); while open
                          no request is made; after TRIAGE_LLM_BREAKER_RESET_S one probe goes out
                          (a call let through before it opened makes no more requests, and
                          its late outcome moves nothing: only the probe's closes or reopens)
    concurrency cap       at most TRIAGE_LLM_CONCURRENCY requests in flight per process; a call
                          waits for a slot within its budget only, and skips the request if the
                          breaker opened while it waited
    retries (tenacity)    throttling, 5xx, timeouts and connection errors (`ModelError.retryable`)
                          are retried with jittered exponential waits, at least the server's
                          Retry-After, at most TRIAGE_LLM_RETRIES times, and never past the
                          call's budget (the clients' own retries are off, so they cannot stack);
                          a prompt the model finds too long is sent once more, cut to a quarter
    timeout               each request is cut at TRIAGE_LLM_TIMEOUT_S, whole (a server dripping
                          its answer cannot stretch it)
    validation            the answer must read as a `TicketDraft` (`answer.py`: the JSON object
                          in its text, near-miss fields read as the ticket they plainly are,
                          and cut to the contract's lengths)
    containment           `contain()`: the source's stated priority wins, else the model's may
                          move the severity's default one step (`priority.py`), and the ticket
                          says why; links that are not the alert's are removed; numbers, hosts,
                          addresses and identifiers that are not in the alert the model saw are
                          marked [unverified] (`grounding.py`; a title holding one is replaced
                          by the alert's own) and counted in `LLMGroundingRejects`, as are a
                          step's command that destroys the host or its data or turns its
                          protection off (`harm.py`), a command running text no reader sees
                          or sending a credential off the machine, in the title and
                          description as in a step (`grounding`), a
                          claim that a firing alert is over and a mention the alert did not
                          make (`claims.py`), a credential the process holds spelled out
                          (`spelled.py`; the redactor removes it), and a line stating another
                          priority than the ticket's ("Priority: critical" beside high:
                          corrected to the ticket's, `priority.agreeing`; a title's own
                          priority tag, "[P0] …", taken out, `priority.untagged`); the
                          runbook is the first step; text is redacted and cleaned of control characters first,
                          until it settles, so every check sees the text as published
                          (a zero-width space, a control or a JSON escape that a later step
                          removes cannot hide a link or a fact); the pipeline's redaction of
                          the ticket then changes nothing; a description or steps with nothing
                          left once cleaned are as invalid as missing ones (`invalid_fields`)

Input: the alert, redacted and cut to a token budget, with the known-error patterns it matches
as a hint (see `prompt.py`); credentials the process holds are redacted by exact value too, so
even an alert that quotes the backend token cannot put it in a prompt.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import NoReturn

import httpx2
import structlog
from pydantic import ValidationError as PydanticValidationError
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    wait_random_exponential,
)
from tenacity.stop import stop_base

import triage.summarise.answer as answers
import triage.summarise.claims as claims
import triage.summarise.grounding as grounding
import triage.summarise.handover as handover
import triage.summarise.harm as harm
import triage.summarise.instructions as instructions
import triage.summarise.prompt as prompt
import triage.summarise.scripts as scripts
import triage.summarise.shells as shells
from triage.aws import Aws
from triage.breaker import CircuitBreaker, Permit, note_opened
from triage.display import link_url, urls_as_opened
from triage.errors import ModelError, SummariserError
from triage.metrics import Metrics
from triage.models import Priority, Status, Ticket
from triage.normalize.common import cut, line, showing, text
from triage.redact import Redactor, held
from triage.settings import Settings
from triage.summarise.chat import (
    PROMPT_TOO_LONG,
    Answer,
    ChatModel,
    DeferredChat,
    for_log,
    openai_key,
)
from triage.summarise.deterministic import Pattern, load_patterns, match
from triage.summarise.priority import agreeing, decide, unprefixed, untagged
from triage.summarise.spelled import spells_credential
from triage.view import RedactedAlert, settled

log = structlog.get_logger(__name__)


def chat_model(
    settings: Settings, *, aws: Aws | None = None, http_client: httpx2.AsyncClient | None = None
) -> ChatModel:
    """The model client TRIAGE_LLM_PROVIDER names. OpenAI's SDK is imported, off the event
    loop, at the first request (`DeferredChat`), not at start-up."""
    if settings.llm == "bedrock":
        from triage.summarise.bedrock import BedrockChat

        return BedrockChat(settings, aws)
    openai_key(settings)  # a missing or unusable key is refused at start-up, not at a request

    def build() -> ChatModel:
        from triage.summarise.openai_chat import OpenAiChat

        return OpenAiChat(settings, http_client)

    return DeferredChat("openai", settings.openai_model, build)


class LlmSummariser:
    def __init__(
        self,
        settings: Settings,
        *,
        model: ChatModel | None = None,
        metrics: Metrics | None = None,
        redactor: Redactor | None = None,
        patterns: tuple[Pattern, ...] | None = None,
        aws: Aws | None = None,
        http_client: httpx2.AsyncClient | None = None,
        breaker: CircuitBreaker | None = None,
    ) -> None:
        self.model = model or chat_model(settings, aws=aws, http_client=http_client)
        self.timeout_s = settings.llm_timeout_s
        self.retries = settings.llm_retries
        self.max_input_tokens = settings.llm_max_input_tokens
        # The whole call, retries and waits included, stays within a share of the message's
        # own time limit, so a slow LLM never makes the message itself time out.
        self.budget_s = min(
            settings.message_timeout_s / 2, settings.llm_timeout_s * (settings.llm_retries + 1) + 10
        )
        self.metrics = metrics if metrics is not None else Metrics()
        self.redactor = redactor or Redactor()
        #: The known-error patterns whose category and steps are the prompt's hint.
        self.patterns = patterns if patterns is not None else load_patterns(settings.patterns_file)
        self.breaker = breaker or CircuitBreaker(
            "llm", settings.llm_breaker_failures, settings.llm_breaker_reset_s
        )
        self._slots = asyncio.Semaphore(settings.llm_concurrency)

    async def summarise(self, alert: RedactedAlert) -> Ticket:
        permit = self.breaker.allow()
        if permit is None:
            raise SummariserError("breaker_open")
        try:
            answer, shown = await self._ask(alert, permit)
        except ModelError as exc:
            error = SummariserError(exc.reason)
            if self._report(permit, exc):
                note_opened(error, self.breaker)  # `breaker.opened` says it at warning
            raise error from None
        except Skipped as exc:  # no request was made: no news of the provider
            raise SummariserError(str(exc)) from None
        except asyncio.CancelledError:
            raise  # no news either: the `finally` frees a probe slot it held
        except Exception:
            # A failure no ModelError names (a bug, or an answer a client library choked on):
            # the breaker hears of it, or a half-open breaker's probe would be out for ever
            # and every later call refused. The fallback logs it as an error.
            self.breaker.failure(permit)
            raise
        else:
            self.breaker.success(permit)
        finally:
            self.breaker.cancelled(permit)
        draft = self._draft(answer, alert)
        try:
            contained = contain(draft, alert, self.redactor, shown)
        except SummariserError as exc:
            self._invalid(str(exc))
        self.metrics.incr("LLMCalls", outcome="ok")
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
        await self.model.aclose()

    def _report(self, permit: Permit, exc: ModelError) -> bool:
        """Tell the breaker how the provider fared; True when this opened it. Busy, down,
        unreachable, a refused key or a missing model count as failures; a request it answered
        and refused alone (a prompt too long, a validation error) shows it up. A server asking
        for a longer wait than a whole call may take is left alone for the breaker's reset time
        instead of being asked again by the next incident, and the next (`llm.paused` says how
        long; `breaker.opened` is the line at warning); so is one refusing what only someone
        acting on the account cures (`ModelError.until_fixed`)."""
        if not exc.provider_fault:
            self.breaker.success(permit)
            return False
        if exc.until_fixed:
            # No wait cures it (a refused key, a spent quota): one line now, not one per
            # incident until the threshold; each probe after the reset finds it out again.
            self.breaker.trip("until_fixed", exc.reason)
            return True
        if exc.retry_after_s is not None and exc.retry_after_s >= self.budget_s:
            log.info("llm.paused", reason=exc.reason, retry_after_s=exc.retry_after_s)
            self.breaker.trip("asked_to_wait")
            return True
        return self.breaker.failure(permit, exc.reason)

    # --- one call, with retries -----------------------------------------------------------

    async def _ask(self, alert: RedactedAlert, permit: Permit) -> tuple[Answer, grounding.Evidence]:
        """The model's answer, and the evidence of what it was shown. A prompt the model
        finds too long (its tokens are not our estimate's, or its context is smaller than
        TRIAGE_LLM_MAX_INPUT_TOKENS: an error saying so, or an answer cut off by the context
        window) is asked once more, cut to a quarter, in the same budget."""
        started = time.monotonic()
        request, shown = await self._prepared(alert, self.max_input_tokens)
        shorter = max(self.max_input_tokens // 4, _MIN_INPUT_TOKENS)
        try:
            answer = await self._attempts(request, started, permit)
        except ModelError as exc:
            if exc.reason != PROMPT_TOO_LONG or shorter >= self.max_input_tokens:
                raise
        else:
            if answer.stop != "context" or shorter >= self.max_input_tokens:
                return answer, shown
            # A call made and billed, asked again shortened: counted as the same answer is
            # when it is the last (`_draft`: cut off by the context window, `invalid`).
            self.metrics.incr("LLMCalls", outcome="invalid")
        log.info("llm.prompt_shortened", max_input_tokens=shorter)
        request, shown = await self._prepared(alert, shorter)
        return await self._attempts(request, started, permit), shown

    async def _prepared(
        self, alert: RedactedAlert, max_tokens: int
    ) -> tuple[prompt.Prompt, grounding.Evidence]:
        # Redacting a large raw payload or group is CPU work: keep it off the event loop. A
        # small alert's takes less than the hop to a thread and back.
        if _small(alert):
            return self._prepare(alert, max_tokens)
        return await asyncio.to_thread(self._prepare, alert, max_tokens)

    async def _attempts(self, request: prompt.Prompt, started: float, permit: Permit) -> Answer:
        """The answer to `request`, retried while the error says another attempt may help and
        the call's budget (counted from `started`) allows."""
        retrying = AsyncRetrying(
            retry=retry_if_exception(lambda e: isinstance(e, ModelError) and e.retryable),
            stop=stop_after_attempt(self.retries + 1) | _PastBudget(started, self.budget_s),
            wait=_wait,
            before_sleep=_log_retry,
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                return await self._complete(request, started + self.budget_s, permit)
        raise AssertionError("tenacity neither returned nor raised")  # pragma: no cover

    def prepare(self, alert: RedactedAlert, max_tokens: int | None = None) -> prompt.Prompt:
        """The prompt this summariser sends for `alert` (the demo and the benchmark show it)."""
        return prompt.build(
            alert, self.redactor, max_tokens or self.max_input_tokens, match(self.patterns, alert)
        )

    def _prepare(
        self, alert: RedactedAlert, max_tokens: int
    ) -> tuple[prompt.Prompt, grounding.Evidence]:
        request = self.prepare(alert, max_tokens)
        # The hint's category names were shown too: naming one ("disk-full") states no fact.
        shown = {**request.view, "known_error_patterns": list(request.hints)}
        return request, grounding.evidence(shown)

    async def _complete(self, request: prompt.Prompt, deadline: float, permit: Permit) -> Answer:
        """One request, made once a slot is free, cut at TRIAGE_LLM_TIMEOUT_S or the call's
        `deadline` (monotonic), whichever comes first. A request that fails is counted in
        `LLMCalls` however it ends, as `LLMLatency` times it: one cut off by cancellation (the
        message's time limit, a stop) as `cancelled`, one failing with an exception no
        `ModelError` names as `error` (the fallback's word for it); both are re-raised
        unchanged, so a stop still stops."""
        async with self._slot(deadline, permit):
            timeout_s = max(min(self.timeout_s, deadline - time.monotonic()), 0.1)
            started = time.perf_counter()
            try:
                answer = await self.model.complete(request.system, request.user, timeout_s)
            except ModelError as exc:
                self.metrics.incr("LLMCalls", outcome=exc.outcome)
                raise
            except asyncio.CancelledError:
                self.metrics.incr("LLMCalls", outcome="cancelled")
                raise
            except Exception:
                self.metrics.incr("LLMCalls", outcome="error")
                raise
            finally:
                self.metrics.observe("LLMLatency", (time.perf_counter() - started) * 1000)
        if answer.prompt_tokens is not None:
            self.metrics.incr("LLMTokensIn", answer.prompt_tokens)
        if answer.completion_tokens is not None:
            self.metrics.incr("LLMTokensOut", answer.completion_tokens)
        return answer

    @contextlib.asynccontextmanager
    async def _slot(self, deadline: float, permit: Permit) -> AsyncIterator[None]:
        """One of the TRIAGE_LLM_CONCURRENCY request slots, waited for until the call's
        `deadline` at most: when the model is slow, calls queue here, and one that waited its
        whole budget would otherwise still make its request (and its message outlive its own
        time limit). A breaker that opened while the call waited (or retried) sends it to the
        fallback, not to a provider just found failing nor beside the probe. Neither is news
        of the provider (`Skipped`)."""
        try:
            async with asyncio.timeout(max(deadline - time.monotonic(), 0.0)):
                await self._slots.acquire()
        except TimeoutError:
            raise Skipped("llm_busy") from None
        try:
            if not self.breaker.admits(permit):
                raise Skipped("breaker_open")
            yield
        finally:
            self._slots.release()

    def _draft(self, answer: Answer, alert: RedactedAlert) -> prompt.TicketDraft:
        if answer.refusal:
            self._refused(answer.refusal)
        if answer.stop == "context":
            return self._invalid("truncated")
        if answer.stop == "filtered":
            self.metrics.incr("LLMCalls", outcome="refused")
            raise SummariserError("content_filter")
        # Stopped by its output limit, an answer is cut off, unless its ticket closed right
        # before the limit (or the server says `length` of a finished answer): whether it
        # reads as a whole ticket decides.
        cut_off = answer.stop == "length"
        if len(answer.text) > answers.MAX_ANSWER_CHARS:
            # No ticket is that long: only a broken or hostile server sends it, and its parse
            # would hold the event loop (and every other message) for milliseconds per MiB.
            return self._invalid("answer_too_large")
        if answers.unanswered(answer.text):  # a tool call, thinking alone, nothing visible
            return self._invalid("truncated" if cut_off else "empty_answer")
        # The tickets the alert's own text holds as JSON ("the ticket is {"title": …}"): an
        # answer repeating one is the alert's words, not the model's reading of it.
        quoted = answers.quoted_tickets(
            [alert.title, alert.description, *alert.labels.values()], alert.payload_excerpt
        )
        try:
            draft = answers.draft(answer.text, quoted)
        except RecursionError:  # JSON nested deeper than the parser's stack
            return self._invalid("invalid_json")
        except answers.EchoedAnswer:
            # Its only ticket is the alert's: the model obeyed the alert's text.
            return self._invalid("echoed_alert")
        except answers.AmbiguousAnswer:
            # YAML whose ticket is not plain (a field given twice, an alias, a tag): not
            # guessed at; cut off, it is the cut that made it so.
            return self._invalid("truncated" if cut_off else "ambiguous_answer")
        except (ValueError, PydanticValidationError) as exc:
            # A pydantic error quotes the input: log only its first line's shape, not the text.
            if cut_off:
                return self._invalid("truncated")
            return self._invalid(
                "invalid_json" if isinstance(exc, json.JSONDecodeError) else "invalid_fields"
            )
        if answers.refusal(draft):  # declined inside the JSON it was made to write
            self._refused(f"{draft.title}: {draft.description}")
        return draft

    def _refused(self, said: str) -> NoReturn:
        """The model declined: the fallback answers, as `refused`."""
        self.metrics.incr("LLMCalls", outcome="refused")
        # What the model said, at info: the fallback's line is the one at warning.
        log.info("llm.refused", refusal=for_log(said, self.redactor.text))
        raise SummariserError("refused")

    def _invalid(self, reason: str) -> NoReturn:
        self.metrics.incr("LLMCalls", outcome="invalid")
        # At info: the fallback's line (`summariser.fallback`) says it at warning, once.
        log.info("llm.invalid_answer", reason=reason)
        raise SummariserError(reason)


#: How many times the model's text is shaped and redacted before it must have settled: once
#: for most text, twice when the redactor undid an escape; an answer that still changes after
#: this many passes (escapes nested to hide a link) is refused, and the fallback writes.
_SETTLE_PASSES = 4


class Skipped(SummariserError):
    """Raised when a call gives up before its request: no slot came free within its budget
    (`llm_busy`), or the breaker opened while it waited (`breaker_open`)."""


#: The shortest prompt budget a too-long prompt is cut to (TRIAGE_LLM_MAX_INPUT_TOKENS' floor).
_MIN_INPUT_TOKENS = 200

#: An alert with at most this much text (and few group members) is prepared on the event loop.
_SMALL_CHARS = 4096
_SMALL_MEMBERS = 20


def _small(alert: RedactedAlert) -> bool:
    """Whether preparing `alert`'s prompt is quick: well under a millisecond of CPU."""
    if alert.group is not None and len(alert.group.members) > _SMALL_MEMBERS:
        return False
    chars = len(alert.title) + len(alert.description) + len(alert.payload_excerpt)
    chars += sum(len(k) + len(v) for k, v in alert.labels.items())
    chars += sum(len(v) for v in alert.links.values())
    return chars <= _SMALL_CHARS


@dataclass(frozen=True, slots=True)
class Contained:
    ticket: Ticket
    #: Rejected tokens by kind (url, ip, host, id, number, date, time, command, mention,
    #: claim, credential, priority: a line stating another priority, corrected; destroy and
    #: disarm: a step's command wrecking the host or turning its protection off, `harm.py`);
    #: never the tokens.
    rejected: Counter[str]
    #: The model's title held a rejected token, so the alert's own title replaced it.
    title_replaced: bool = False


def contain(
    draft: prompt.TicketDraft, alert: RedactedAlert, redactor: Redactor, shown: grounding.Evidence
) -> Contained:
    """The model's draft made safe to publish, whatever the alert made the model write.

    `shown` is the alert as the model saw it (`grounding.evidence` of the prompt's view).
    Raises SummariserError when nothing of the description or the steps is left once cleaned
    (`invalid_fields`), or the text never settles (`unsettled_text`).
    """
    # A label's URL (the site a check watches: Honeybadger's `url`) is the alert's own as its
    # description's are: the same sender wrote both.
    texts = "\n".join([alert.description, *alert.labels.values()])
    allowed = grounding.allowed_urls(alert.links.values(), alert.runbook_url, texts)
    rejected: Counter[str] = Counter()
    # The credentials the texts are settled with: one held after this is news to the
    # pipeline's pass (`view.settled`).
    holding = held()
    #: Texts the redactor was seen to leave as they are (with `holding`): `final` need not
    #: read one again (a long description is not remembered by the redactor's memo).
    fixed: set[str] = set()

    def settle(value: str, shape: Callable[[str], str | None]) -> str:
        """`value` as it will be published: shaped (controls and bidi out, whitespace, length)
        and redacted (invisible characters out, JSON's escaped slashes undone), again until
        neither changes it; so the checks below see the very text the sinks will get, and no
        character they do not see can hide a link or a fact from them."""
        for _ in range(_SETTLE_PASSES):
            # A Latin word spelt with look-alike Cyrillic or Greek letters is read (and
            # published) as the word it reads as (`scripts.as_latin`).
            # A zero-width character or an overlay inside a word ("ig\u200bnore") is taken
            # out first, so the word is read (and published) as it shows (`scripts.unsplit`).
            shaped = scripts.as_latin(shape(scripts.unsplit(value)) or "")
            # The process's own credential spelled out (a compromised server echoing the key
            # its request carried): the redactor removes it, and it is counted here first.
            if spells_credential(shaped):
                rejected["credential"] += 1
            settled = redactor.text_with(shaped, alert.named_secrets)
            if settled == value:
                if shaped == value:
                    fixed.add(value)
                return value
            value = settled
        raise SummariserError("unsettled_text")

    def clean(value: str, shape: Callable[[str], str | None]) -> str:
        value, removed = grounding.links(settle(value, shape), allowed)
        rejected["url"] += removed
        return value

    firing = alert.status is Status.FIRING

    def ground(value: str, shape: Callable[[str], str | None]) -> str:
        return said(grounding.check(unrun(clean(value, shape)), shown))

    def ground_step(value: str) -> str:
        return said(
            grounding.check_step(harmless(unhanded(unshelled(clean(value, as_step)))), shown)
        )

    def unhanded(value: str) -> str:
        """`value` with each clause telling its reader to hand a secret over marked
        (`handover.check`): "paste your token into the form" sends it to whoever asked."""
        checked = handover.check(value)
        rejected.update(checked.rejected)
        return checked.text

    def unshelled(value: str) -> str:
        """`value` with each reverse shell marked (`shells.marked`): the alert naming the
        address it hands the shell to does not make it one a responder should run."""
        value, found = shells.marked(value)
        rejected["command"] += found
        return value

    def unrun(value: str) -> str:
        """`value` with the commands no responder should run whatever the alert says marked,
        as a step's are (`grounding.check_step`): a responder copies a `curl … | sh`, a
        reverse shell or a credential file sent off the machine from the description or
        title as readily, and a command that destroys or disarms it tells them to run
        (`harm.check_prose`: one it says ran is a fact)."""
        value, hidden = grounding._hidden_runs(unshelled(value))
        value, sent = grounding._sent_credentials(value)
        rejected["command"] += hidden + sent
        value = unhanded(value)
        checked = harm.check_prose(value)
        rejected.update(checked.rejected)
        return checked.text

    def harmless(value: str) -> str:
        """`value` with each command that destroys the host or its data, or turns its
        protection off, marked (`harm.check`): alert text can ask the model for either."""
        checked = harm.check(value)
        rejected.update(checked.rejected)
        return checked.text

    def said(checked: grounding.Checked) -> str:
        """The checked text less the mentions and claims no alert text can ground."""
        rejected.update(checked.rejected)
        unclaimed = claims.check(checked.text, shown, firing=firing)
        rejected.update(unclaimed.rejected)
        return unclaimed.text

    def as_title(value: str) -> str | None:
        return line(value, "title", prompt.TITLE_CHARS)

    def as_description(value: str) -> str | None:
        return text(value, "description", prompt.DESCRIPTION_CHARS)

    def as_step(value: str) -> str | None:
        return line(value, "step", prompt.STEP_CHARS)

    # The source's stated priority wins; otherwise the model may move the severity's default
    # one step, so alert text cannot talk it up to critical.
    decision = decide(
        alert.priority,
        alert.severity,
        Priority(draft.priority) if draft.priority else None,
        by="by the summary's reading of the alert",
        suggester="summary",
    )

    def stated(value: str) -> str:
        """`value` stating no priority but the ticket's (`priority.agreeing`), in its prose
        too ("Treat as P4."): the model's words, not the alert's, unless quoted from it."""
        value, corrected = agreeing(
            value, decision.priority, severity=alert.severity, prose=True, quoting=shown.text
        )
        rejected["priority"] += corrected
        return value

    # A title with an invented fact is worse than a plain one: the alert's own replaces it.
    # (The title is checked first, so `rejected` holds only its tokens here.)
    title = as_title(ground(draft.title, as_title)) or ""
    title_replaced = rejected.total() > 0
    if not title_replaced and instructions.obeys(
        title, alert.title, [alert.description, *alert.labels.values(), alert.payload_excerpt]
    ):
        # Taken from the alert's words to its summariser ("title this ticket …"): every word
        # is the alert's, and the title is its instruction obeyed.
        rejected["instruction"] += 1
        title_replaced = True
    # Each sink shows the ticket's priority beside its title: a tag of the model's own ("[P0]
    # …") is taken out, and one naming another priority counted (`priority.untagged`).
    title, tags = untagged(title, decision.priority)
    # A bare level opening it ("P1 Checkout …") the alert's own title does not hold is one too.
    title, bare = unprefixed(title, alert.title, decision.priority)
    rejected["priority"] += tags + bare
    if title_replaced or not says_something(title) or showing(title) is None:
        # The alert's own title, untagged; one that shows nothing (invisible characters, a
        # blank Braille pattern) is none, and a ticket needs one (the deterministic
        # summariser's fallback, `_title`).
        own = untagged(urls_as_opened(redactor.text(alert.title)), decision.priority)[0].strip()
        title = own if showing(own) is not None else f"Untitled {alert.source} alert"
    # A line saying another priority than the ticket's would contradict it: corrected (the
    # description and steps cut to the contract's length again; the title is cut below).
    title = stated(title)
    # Grounded as `ground` does, with the text before its claims were marked kept for the
    # language check below.
    unclaimed = grounding.check(unrun(clean(draft.description, as_description)), shown)
    claims_before = rejected["claim"]
    description = as_description(stated(said(unclaimed))) or ""
    # A dismissal the claims marked in it (Chinese, Polish …): a check read its language.
    description_claimed = rejected["claim"] > claims_before
    steps = [
        s
        for s in (as_step(stated(ground_step(step))) for step in draft.steps)
        if s and says_something(s)
    ]
    if not says_something(description) or not steps:
        # Invisible, control or bidi characters, or marks, only: once cleaned, the answer lacks
        # these fields as much as one that left them out, and the deterministic ticket says more.
        raise SummariserError("invalid_fields")
    alert_words = f"{alert.title}\n{alert.description}"
    answered = "\n".join([title, description, *steps])
    if scripts.foreign(answered, alert_words, shown.text) is not None:
        # Written in a script the alert does not use (Russian, Chinese … to an English alert):
        # no check of dismissals reads it, and the alert's text asked for it.
        raise SummariserError("foreign_script")
    its_own = scripts.AlertText(alert.title, alert.description, alert.labels)
    if scripts.unread_and_unfounded(
        unclaimed.text, shown.text, its_own, claimed=description_claimed
    ):
        # Written in a language no check reads (Indonesian, Turkish; Chinese to a Chinese
        # alert) and naming none of the alert's facts, or only where it fires ("the alert on
        # web-1 is a false alarm"): a dismissal no check can see, as a real answer in any
        # language states what is wrong there, its numbers, errors or service. (Steps are
        # terse, "Check CPU, pools, queue depth", too short to tell a language by.) Read
        # before its claims were marked: a Polish dismissal naming nothing (its claims read
        # by `claims`) says less than the deterministic ticket, marks and all.
        raise SummariserError("foreign_script")
    kept = runbook_first(distinct(steps), alert.runbook_url, redactor)
    if decision.note:
        # Within the contract's length, the note included, as the deterministic ticket's is.
        note = redactor.text(decision.note)
        room = prompt.DESCRIPTION_CHARS - len(note) - 2
        description = f"{cut(description, room, ellipsis=True, whole_words=True)}\n\n{note}"
        description = description.lstrip()

    def final(value: str) -> str:
        """`value` settled again after the checks' own replacements and cuts: the pipeline
        redacts the ticket again before any sink, and that must change nothing. A mark can
        give the redactor a value to take ("password: [unverified]"); what it then changed is
        checked for links again. (A cut can leave only the head of a link that was checked.)"""
        for _ in range(_SETTLE_PASSES):
            if value in fixed:  # no check or cut changed it since `settle` saw it left alone
                return value
            redacted = redactor.text_with(value, alert.named_secrets)
            if redacted == value:
                return value
            value = grounding.links(redacted, allowed)[0]
        raise SummariserError("unsettled_text")

    ticket = Ticket(
        # The contract's length, whichever title it is: a correction (`stated`) lengthens the
        # model's, and the alert's own standing in was never cut to it.
        title=final(cut(title, prompt.TITLE_CHARS, ellipsis=True, whole_words=True)),
        priority=decision.priority,
        description=final(description),
        steps=tuple(final(step) for step in kept[: prompt.MAX_STEPS]),
    )
    # Every text is as the redactor leaves it (`final`): the pipeline's pass need not read it.
    return Contained(settled(ticket, redactor, holding), +rejected, title_replaced)


def says_something(text: str) -> bool:
    """Whether `text` holds a letter or a digit (of any script): a title, description or step
    of marks only ("...", "**", "—", emoji) names nothing, and is treated as empty."""
    return any(c.isalnum() for c in text)


def distinct(steps: list[str]) -> list[str]:
    """`steps` without one written again (in another case or spacing: "Check web-1" and
    "check  WEB-1"), the first kept: a model repeating a line lists it once."""
    seen: set[str] = set()
    kept: list[str] = []
    for step in steps:
        key = " ".join(step.casefold().split())
        if key not in seen:
            seen.add(key)
            kept.append(step)
    return kept


def runbook_first(steps: list[str], runbook_url: str | None, redactor: Redactor) -> list[str]:
    """`steps` with the runbook first: the model's own step that opens it moved to the front,
    else one added, naming it as it opens (`display.link_url`: no user info)."""
    if not runbook_url:
        return steps
    url = redactor.text(runbook_url)
    shown = link_url(url)
    if shown is None:
        return steps  # no link: the deterministic ticket leaves it out too, and no sink links it
    # The model's steps hold their links as they open (`grounding.links`), or as the alert
    # wrote them when that reads as the same host.
    forms = {shown, url}
    opening = next((s for s in steps if any(form in s for form in forms)), None)
    if opening is None:
        return [f"Follow the runbook: {shown}", *steps]
    return [opening, *(s for s in steps if s is not opening)]


class _PastBudget(stop_base):
    """Stops before a wait that would end past the call's budget, counted from `started`: the
    call's start, not the retrying round's (a shortened prompt's round spends the same one)."""

    def __init__(self, started: float, budget_s: float) -> None:
        self.started = started
        self.budget_s = budget_s

    def __call__(self, retry_state: RetryCallState) -> bool:
        return time.monotonic() - self.started + retry_state.upcoming_sleep >= self.budget_s


_backoff = wait_random_exponential(multiplier=0.5, max=8)


def _wait(state: RetryCallState) -> float:
    """Jittered exponential, but never shorter than the server's Retry-After (when it sends
    one); the stop condition then refuses a wait that would overrun the call's budget."""
    delay = _backoff(state)
    exc = state.outcome.exception() if state.outcome else None
    if isinstance(exc, ModelError) and exc.retry_after_s is not None:
        delay = max(delay, exc.retry_after_s)
    return delay


def _log_retry(state: RetryCallState) -> None:
    exc = state.outcome.exception() if state.outcome else None
    log.info(
        "llm.retry",
        attempt=state.attempt_number,
        error=exc.outcome if isinstance(exc, ModelError) else None,
        wait_s=round(state.next_action.sleep, 2) if state.next_action else None,
    )
