"""The OpenAI-compatible provider's faults, against loopback servers with the real openai client:
each one ends in a defined outcome (retried within the budget, or the deterministic ticket),
the breaker hears of the provider's own faults and not of the alert's, and the key the
process holds never reaches a log line."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest

from factories import alert, view
from hostile_server import Answer, answer, endless, hostile
from triage.demo.model import ChatServer, Reply, completion, default_model, error
from triage.errors import ConfigError
from triage.logs import configure_logging
from triage.metrics import Metrics
from triage.models import Alert, Ticket
from triage.redact import Redactor
from triage.settings import Settings, load_settings
from triage.sinks.aio import MAX_BODY_BYTES
from triage.summarise import FallbackSummariser, build_summariser
from triage.summarise.deterministic import DeterministicSummariser
from triage.summarise.llm import LlmSummariser
from triage.summarise.openai_chat import MAX_BODY_BYTES as MODEL_BODY_BYTES

#: A key of no shape the redactor knows: only holding it can keep it out of the logs.
KEY = "proxy-cred-Q7w9zXy2Lk"
THRESHOLD = 2


def summariser_for(url: str, metrics: Metrics, **overrides: Any) -> FallbackSummariser:
    values: dict[str, Any] = {
        "openai_api_key": KEY,
        "openai_base_url": url,
        "llm_timeout_s": 30.0,  # a loaded worker's first call may pass 2 s; timeout tests set theirs
        "llm_retries": 2,
        "llm_breaker_failures": THRESHOLD,
        "llm_breaker_reset_s": 60.0,
        **overrides,
    }
    summariser = build_summariser(Settings(**values), metrics, Redactor())
    assert isinstance(summariser, FallbackSummariser)
    return summariser


def ticket_json() -> str:
    return json.dumps(
        {
            "title": "Checkout API returns 5xx",
            "priority": "medium",
            "description": "The checkout API fails.",
            "steps": ["Check the error rate dashboard"],
        }
    )


@pytest.fixture
def chat() -> Iterator[ChatServer]:
    with ChatServer() as server:
        yield server


@pytest.fixture
def logs() -> io.StringIO:
    """The process's JSON log lines, through the real processors (redaction included)."""
    stream = io.StringIO()
    configure_logging("json", "info", stream)
    return stream


def events(logs: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in logs.getvalue().splitlines()]


async def summarise_times(summariser: FallbackSummariser, times: int) -> list[Ticket]:
    tickets = [await summariser.summarise(view(alert())) for _ in range(times)]
    await summariser.aclose()
    return tickets


def drip_then_answer(body: bytes, every_s: float, pieces: int) -> Answer:
    """A 200 whose body comes in `pieces`, one every `every_s` (each well inside a read
    timeout), then whole: an answer that arrives, only too late."""

    async def write(writer: asyncio.StreamWriter) -> None:
        head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}"
        writer.write(f"{head}\r\nConnection: close\r\n\r\n".encode())
        size = -(-len(body) // pieces)
        for start in range(0, len(body), size):
            await asyncio.sleep(every_s)
            writer.write(body[start : start + size])
            await writer.drain()

    return write


async def test_an_answer_dripped_past_the_timeout_is_cut_at_the_timeout() -> None:
    """A server that sends a valid answer a piece at a time, each inside the read timeout but
    the whole past TRIAGE_LLM_TIMEOUT_S, is a `timeout` and the fallback: the client's own
    per-read timeouts would have waited for it (up to three times the setting)."""
    body = json.dumps(completion(ticket_json()).body).encode()
    metrics = Metrics()
    async with hostile(drip_then_answer(body, every_s=0.1, pieces=8)) as server:
        summariser = summariser_for(server.url + "/v1", metrics, llm_timeout_s=0.3, llm_retries=0)
        [ticket] = await summarise_times(summariser, 1)
    assert metrics.counter("LLMCalls", outcome="timeout") == 1
    assert metrics.counter("LLMFallbacks", reason="timeout") == 1
    assert ticket.title != "Checkout API returns 5xx"


def _openai_error(status: int, code: str, message: str) -> Answer:
    body = {"error": {"message": message, "type": code, "code": code}}
    return answer(status, {"Content-Type": "application/json"}, json.dumps(body).encode())


@pytest.mark.parametrize(
    ("reply", "reason", "before_open"),
    [
        (_openai_error(401, "invalid_api_key", "Incorrect API key provided"), "rejected_401", 1),
        (_openai_error(403, "unsupported_country", "Country not supported"), "rejected_403", 1),
        (
            _openai_error(404, "model_not_found", "The model `gpt-x` does not exist"),
            "rejected_404",
            1,
        ),
        (_openai_error(429, "insufficient_quota", "You exceeded your quota"), "quota_exceeded", 1),
        (_openai_error(402, "payment_required", "Insufficient credits"), "quota_exceeded", 1),
        (
            answer(200, {"Content-Type": "text/html"}, b"<html>Sign in</html>"),
            "bad_response",
            THRESHOLD,
        ),
        (
            answer(308, {"Location": "http://127.0.0.1:9/v1/chat/completions"}),
            "rejected_308",
            THRESHOLD,
        ),
    ],
    ids=["bad-key", "forbidden", "no-model", "no-quota", "no-credit", "html-page", "redirect"],
)
async def test_a_provider_that_refuses_every_request_opens_the_breaker_without_retries(
    reply: Answer, reason: str, before_open: int, logs: io.StringIO
) -> None:
    """A refused key, a missing model, a spent quota, a page that is no chat completion or a
    redirect (never followed): one request per call (no retry can help), each counted against
    the breaker, which then spares the provider; every ticket is the deterministic one. What
    only someone acting on the account cures opens it at the first refusal."""
    metrics = Metrics()
    async with hostile(reply) as server:
        summariser = summariser_for(server.url + "/v1", metrics)
        await summarise_times(summariser, THRESHOLD + 1)
    assert len(server.requests) == before_open
    assert metrics.counter("LLMFallbacks", reason=reason) == before_open
    assert metrics.counter("LLMFallbacks", reason="breaker_open") == THRESHOLD + 1 - before_open
    assert [e["event"] for e in events(logs)].count("breaker.opened") == 1


async def test_a_revoked_key_or_spent_quota_is_said_once(logs: io.StringIO) -> None:
    """A key revoked or a quota spent: the server's words once (`llm.rejected`) and the
    breaker opening, then quiet: every incident until the threshold said both at warning
    (nine lines for five incidents at the default threshold)."""
    reply = _openai_error(429, "insufficient_quota", "You exceeded your current quota")
    async with hostile(reply) as server:
        summariser = summariser_for(server.url + "/v1", Metrics(), llm_breaker_failures=5)
        await summarise_times(summariser, 6)
    loud = [e["event"] for e in events(logs) if e["level"] in ("warning", "error")]
    assert loud == ["llm.rejected", "breaker.opened"]
    assert len(server.requests) == 1


async def test_a_model_outage_is_one_warning_once_the_breaker_opens(logs: io.StringIO) -> None:
    """A model answering 503 to every request: the failure before the threshold is a warning
    (`summariser.fallback`), the one that opens the breaker and the calls it then skips say
    so at info, and `breaker.opened` is the outage's one line at warning."""
    reply = answer(503, {"Content-Type": "application/json"}, b'{"error": {"message": "down"}}')
    async with hostile(reply) as server:
        summariser = summariser_for(server.url + "/v1", Metrics(), llm_retries=0)
        await summarise_times(summariser, THRESHOLD + 2)
    loud = [(e["event"], e.get("error")) for e in events(logs) if e["level"] == "warning"]
    assert loud == [("summariser.fallback", None), ("breaker.opened", "server_error_503")]
    quiet = [e["reason"] for e in events(logs) if e["event"] == "summariser.fallback"][1:]
    assert quiet == ["server_error_503", "breaker_open", "breaker_open"]


@pytest.mark.parametrize(
    "reply",
    [
        answer(200, {"Content-Type": "application/json"}, b" " * (MAX_BODY_BYTES + 1)),
        answer(200, {"Content-Type": "application/json"}, b" " * (MODEL_BODY_BYTES + 1)),
        endless(),
    ],
    ids=["over-the-sinks-bound", "over-the-models-bound", "endless"],
)
async def test_an_answer_over_the_bound_is_not_retried(reply: Answer) -> None:
    """A 200 of more than the model's 4 MiB (the SDK would parse it whole on the event loop),
    whole or never ending, is read no further than the bound and falls back as
    answer_too_large after one request (it was `unreachable`, and asked again for another
    16 MiB each retry), counted against the breaker."""
    metrics = Metrics()
    async with hostile(reply) as server:
        summariser = summariser_for(server.url + "/v1", metrics, llm_breaker_failures=1)
        await summarise_times(summariser, 2)
    assert len(server.requests) == 1
    assert metrics.counter("LLMFallbacks", reason="answer_too_large") == 1
    assert metrics.counter("LLMFallbacks", reason="breaker_open") == 1


def _in_an_hour() -> str:
    return format_datetime(datetime.now(UTC) + timedelta(hours=1), usegmt=True)


@pytest.mark.parametrize(
    "headers",
    [
        {"retry-after-ms": "600000"},
        {"Retry-After": "3600"},
        {"Retry-After": _in_an_hour()},
        {"x-ratelimit-remaining-tokens": "0", "x-ratelimit-reset-tokens": "6m0s"},
    ],
    ids=["retry-after-ms", "seconds", "http-date", "ratelimit-reset"],
)
async def test_a_wait_longer_than_the_budget_pauses_the_model(
    headers: dict[str, str], logs: io.StringIO
) -> None:
    """A 429 asking for a longer wait than a call may take (in OpenAI's milliseconds, in
    seconds, as a date, or as the reset of the spent token limit): one request, the fallback at once, and the model left alone for the
    breaker's reset time instead of being asked again by the next incident."""
    body = json.dumps({"error": {"message": "Rate limit reached", "code": "rate_limit_exceeded"}})
    reply = answer(429, {"Content-Type": "application/json", **headers}, body.encode())
    metrics = Metrics()
    async with hostile(reply) as server:
        summariser = summariser_for(server.url + "/v1", metrics)
        await summarise_times(summariser, 2)
    assert len(server.requests) == 1
    assert metrics.counter("LLMFallbacks", reason="rate_limited") == 1
    assert metrics.counter("LLMFallbacks", reason="breaker_open") == 1
    paused = [e for e in events(logs) if e["event"] == "llm.paused"]
    assert len(paused) == 1 and paused[0]["retry_after_s"] >= 360
    # One warning for the pause: the breaker's, saying why; the call's own lines are info.
    loud = [e for e in events(logs) if e["level"] == "warning"]
    assert [(e["event"], e.get("why")) for e in loud] == [("breaker.opened", "asked_to_wait")]


async def test_a_short_retry_after_ms_is_waited_for(chat: ChatServer, logs: io.StringIO) -> None:
    """A 429 with `retry-after-ms` inside the budget: the retry waits at least that long, then
    the answer is the ticket."""
    chat.then(Reply(429, {"error": {"message": "slow down"}}, {"retry-after-ms": "600"}))
    chat.then(completion(ticket_json()))
    metrics = Metrics()
    [ticket] = await summarise_times(summariser_for(chat.url, metrics, llm_timeout_s=5.0), 1)
    assert ticket.title == "Checkout API returns 5xx"
    [retry] = [e for e in events(logs) if e["event"] == "llm.retry"]
    assert retry["wait_s"] >= 0.6


def _gemini_429(delay: str, *, wrapped: bool) -> Any:
    """Gemini's OpenAI-compatible 429 (no Retry-After header): a list of one Google error
    whose message speaks of quota and billing and whose `RetryInfo` says the wait; `wrapped`,
    as a proxy passes it on: the Google error JSON-escaped inside an OpenAI-style message."""
    google = {
        "error": {
            "code": 429,
            "message": "You exceeded your current quota, please check your plan and billing "
            f"details. Please retry in {delay}.",
            "status": "RESOURCE_EXHAUSTED",
            "details": [
                {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": []},
                {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": delay},
            ],
        }
    }
    if wrapped:
        return {"error": {"message": json.dumps(google, indent=2), "code": 429}}
    return [google]


@pytest.mark.parametrize("wrapped", [False, True], ids=["gemini", "through-a-proxy"])
async def test_a_wait_said_only_in_the_body_is_waited_for(
    wrapped: bool, chat: ChatServer, logs: io.StringIO
) -> None:
    """A 429 whose wait is only in its body (Gemini's `RetryInfo`, its words "quota … billing"
    notwithstanding) is a rate limit: the retry waits at least that long, then the answer is
    the ticket (the billing words made it a spent quota: the fallback, the breaker open)."""
    chat.then(Reply(429, _gemini_429("0.600s", wrapped=wrapped)))
    chat.then(completion(ticket_json()))
    metrics = Metrics()
    [ticket] = await summarise_times(summariser_for(chat.url, metrics, llm_timeout_s=5.0), 1)
    assert ticket.title == "Checkout API returns 5xx"
    [retry] = [e for e in events(logs) if e["event"] == "llm.retry"]
    assert retry["wait_s"] >= 0.6


async def test_a_long_wait_said_in_the_body_pauses_the_model(logs: io.StringIO) -> None:
    """Gemini's 429 asking for 600 s in its body: the model is paused for that long (a wait,
    not a refusal that only someone acting on the account cures)."""
    body = json.dumps(_gemini_429("600s", wrapped=False)).encode()
    reply = answer(429, {"Content-Type": "application/json"}, body)
    metrics = Metrics()
    async with hostile(reply) as server:
        summariser = summariser_for(server.url + "/v1", metrics)
        await summarise_times(summariser, 2)
    assert len(server.requests) == 1
    assert metrics.counter("LLMFallbacks", reason="rate_limited") == 1
    [paused] = [e for e in events(logs) if e["event"] == "llm.paused"]
    assert paused["retry_after_s"] >= 600


def _long_alert_summary(chat: ChatServer, metrics: Metrics) -> FallbackSummariser:
    return summariser_for(chat.url, metrics, llm_max_input_tokens=1500)


def long_alert() -> Alert:
    """An alert whose raw payload alone fills the prompt's budget."""
    payload = {"log": " ".join(f"line {i}: request failed upstream" for i in range(600))}
    return alert().model_copy(update={"raw": payload})


@pytest.mark.parametrize(
    "message",
    [
        "This model's maximum context length is 1024 tokens",  # OpenAI, vLLM
        "the request exceeds the available context size, try increasing it",  # llama.cpp
    ],
)
async def test_a_prompt_too_long_for_the_model_is_sent_again_shorter(
    chat: ChatServer, message: str
) -> None:
    """A 400 saying the prompt is longer than the context: the same alert is asked once more
    with a prompt cut to a quarter, and that answer is the ticket (not the fallback, not a
    breaker failure)."""
    chat.then(error(400, message))
    metrics = Metrics()
    summariser = _long_alert_summary(chat, metrics)
    ticket = await summariser.summarise(view(long_alert()))
    await summariser.aclose()
    first, second = (len(r["messages"][1]["content"]) for r in chat.requests)
    assert second < first / 2
    assert metrics.counter("SummarizationFailures") == 0
    assert ticket.title


async def test_a_prompt_the_model_never_takes_falls_back_without_opening_the_breaker(
    chat: ChatServer,
) -> None:
    """A model that finds every prompt too long: each call asks twice (full, then cut) and
    falls back with `prompt_too_long`; the alert's length is not the provider failing, so the
    breaker stays closed however often it happens."""
    chat.responder = lambda _request: Reply(
        400, {"error": {"message": "too long", "code": "context_length_exceeded"}}
    )
    metrics = Metrics()
    summariser = _long_alert_summary(chat, metrics)
    for _ in range(THRESHOLD + 1):
        await summariser.summarise(view(long_alert()))
    await summariser.aclose()
    assert chat.request_count == 2 * (THRESHOLD + 1)
    assert metrics.counter("LLMFallbacks", reason="prompt_too_long") == THRESHOLD + 1
    assert metrics.counter("LLMFallbacks", reason="breaker_open") == 0


async def test_a_key_the_server_echoes_never_reaches_a_log_line(logs: io.StringIO) -> None:
    """A 401 whose message quotes the key in full (as some OpenAI-compatible proxies do): the
    log line names the refusal, and neither it nor the ticket holds the key."""
    reply = _openai_error(401, "invalid_api_key", f"Incorrect API key provided: {KEY}")
    metrics = Metrics()
    async with hostile(reply) as server:
        [ticket] = await summarise_times(summariser_for(server.url + "/v1", metrics), 1)
    assert KEY in server.requests[0].head.decode()
    assert any(e["event"] == "llm.rejected" and e["status"] == 401 for e in events(logs))
    assert KEY not in logs.getvalue()
    assert KEY not in ticket.model_dump_json()


async def test_a_key_with_a_trailing_newline_is_sent_without_it(chat: ChatServer) -> None:
    """OPENAI_API_KEY read from a secret file with its trailing newline: the request carries
    the key, not a header aiohttp refuses to send (every call was `unreachable`)."""
    chat.then(completion(ticket_json()))
    metrics = Metrics()
    summariser = summariser_for(chat.url, metrics, openai_api_key=KEY + "\n")
    [ticket] = await summarise_times(summariser, 1)
    assert ticket.title == "Checkout API returns 5xx"
    assert metrics.counter("LLMCalls", outcome="ok") == 1


@pytest.mark.parametrize("key", ["sk-abc def-0123456789", "sk-\u00e9t\u00e9-0123456789", " \n"])
def test_a_key_that_cannot_be_sent_is_refused_at_start_up(
    key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A key with a space, a non-ASCII character or nothing but whitespace inside it stops the
    daemon with one clear line naming OPENAI_API_KEY, instead of failing every request later."""
    monkeypatch.setenv("TRIAGE_LLM_PROVIDER", "openai")
    monkeypatch.setenv("OPENAI_API_KEY", key)
    with pytest.raises(ConfigError, match="OPENAI_API_KEY"):
        build_summariser(load_settings(), Metrics())


async def test_the_fallback_ticket_is_written_when_every_fault_is_exhausted(
    chat: ChatServer,
) -> None:
    """A 502 page of HTML on every request: retried within the budget, then the deterministic
    ticket; the reason names the status."""
    chat.responder = lambda _request: Reply(502, "<html><body>Bad gateway</body></html>")
    metrics = Metrics()
    summariser = FallbackSummariser(
        LlmSummariser(
            Settings(openai_api_key=KEY, openai_base_url=chat.url, llm_retries=1),
            metrics=metrics,
        ),
        DeterministicSummariser(),
        metrics,
        Redactor(),
    )
    [ticket] = await summarise_times(summariser, 1)
    assert chat.request_count == 2
    assert metrics.counter("LLMFallbacks", reason="server_error_502") == 1
    assert ticket.title


def _too_long(delay_s: float) -> Reply:
    body = {"error": {"message": "too long", "code": "context_length_exceeded"}}
    return Reply(400, body, delay_s=delay_s)


async def test_the_shortened_prompt_spends_the_same_budget(chat: ChatServer) -> None:
    """After a too-long answer that took most of the budget, a 503 asking for a wait past
    what is left ends the call: the shortened prompt's retries share the call's budget."""
    chat.then(
        _too_long(delay_s=0.3),
        Reply(503, {"error": {"message": "busy"}}, {"Retry-After": "0.25"}),
        completion(ticket_json()),
    )
    metrics = Metrics()
    summariser = summariser_for(chat.url, metrics, message_timeout_s=1.0, llm_retries=3)
    await summarise_times(summariser, 1)
    assert chat.request_count == 2
    assert metrics.counter("LLMFallbacks", reason="server_error_503") == 1


@pytest.mark.parametrize("status", [408, 425])
async def test_a_request_timeout_or_too_early_answer_is_retried(
    chat: ChatServer, status: int
) -> None:
    """A 408 (the server gave up waiting) or a 425 (Too Early: a proxy would not take a
    request it might replay) is a wait, not a refusal: retried, and the next answer used."""
    chat.then(Reply(status, {"error": {"message": "try again"}}), completion(ticket_json()))
    metrics = Metrics()
    [ticket] = await summarise_times(summariser_for(chat.url, metrics), 1)
    assert ticket.title == "Checkout API returns 5xx"
    assert metrics.counter("LLMCalls", outcome="server_error") == 1


async def test_an_error_sent_with_a_200_is_retried_by_its_code(chat: ChatServer) -> None:
    """A gateway's `{"error": {"code": 502}}` with status 200 (OpenRouter sends one when the
    model behind it fails mid-answer) is retried as a 502 would be, and the next answer used."""
    chat.then(
        Reply(200, {"error": {"code": 502, "message": "upstream provider failed"}}),
        completion(ticket_json()),
    )
    metrics = Metrics()
    [ticket] = await summarise_times(summariser_for(chat.url, metrics), 1)
    assert ticket.title == "Checkout API returns 5xx"
    assert metrics.counter("LLMCalls", outcome="server_error") == 1


async def test_a_tool_call_instead_of_content_is_named_an_empty_answer(
    chat: ChatServer, logs: io.StringIO
) -> None:
    """A model that answers with a tool call and no content: the fallback, with one log line
    saying the answer was empty (not that its JSON was invalid)."""
    call = {"id": "c1", "type": "function", "function": {"name": "f", "arguments": ticket_json()}}
    reply = completion(None, finish_reason="tool_calls")
    reply.body["choices"][0]["message"]["tool_calls"] = [call]
    chat.then(reply)
    metrics = Metrics()
    await summarise_times(summariser_for(chat.url, metrics), 1)
    assert metrics.counter("LLMFallbacks", reason="empty_answer") == 1
    invalid = [e for e in events(logs) if e["event"] == "llm.invalid_answer"]
    assert [e["reason"] for e in invalid] == ["empty_answer"]


async def test_a_content_list_and_a_thinking_block_still_give_the_models_ticket(
    chat: ChatServer,
) -> None:
    """A message whose content is a list of parts (a thinking part, then the text), and one
    whose text starts with a reasoning model's <think>…</think>: both are the model's ticket,
    not a fallback every time for servers that answer so."""
    parts = [{"type": "thinking", "thinking": "about it"}, {"type": "text", "text": ticket_json()}]
    listed = completion(None)
    listed.body["choices"][0]["message"]["content"] = parts
    chat.then(listed, completion(f"<think>\nThe alert says {{...}}\n</think>\n{ticket_json()}"))
    metrics = Metrics()
    tickets = await summarise_times(summariser_for(chat.url, metrics), 2)
    assert [t.title for t in tickets] == ["Checkout API returns 5xx"] * 2
    assert metrics.counter("SummarizationFailures") == 0


def _never_answers() -> Answer:
    """Reads the request and never answers (the client must give up on its own bound)."""

    async def write(writer: asyncio.StreamWriter) -> None:
        await asyncio.Event().wait()

    return write


async def test_calls_queued_behind_a_hung_model_skip_it_once_the_breaker_opens() -> None:
    """A model that never answers, one request slot, six new incidents at once: after
    TRIAGE_LLM_BREAKER_FAILURES timeouts the calls still queued for the slot fall back without
    a request (each waited, then found the breaker open), instead of each timing out in turn."""
    metrics = Metrics()
    async with hostile(_never_answers()) as server:
        summariser = summariser_for(
            server.url + "/v1",
            metrics,
            llm_timeout_s=0.2,
            llm_retries=0,
            llm_concurrency=1,
            message_timeout_s=30.0,
        )
        await asyncio.gather(*(summariser.summarise(view(alert(f"a{i}"))) for i in range(6)))
        await summariser.aclose()
    assert len(server.requests) == THRESHOLD
    assert metrics.counter("LLMFallbacks", reason="timeout") == THRESHOLD
    assert metrics.counter("LLMFallbacks", reason="breaker_open") == 6 - THRESHOLD


async def test_a_call_that_waited_its_budget_for_a_slot_makes_no_request() -> None:
    """Calls queued for the one request slot behind a model that never answers give up when
    their budget (TRIAGE_MESSAGE_TIMEOUT_S / 2) is spent, as `llm_busy`, without a request; a
    queued call made its request however long it had waited, and its message outlived its own
    time limit."""
    metrics = Metrics()
    async with hostile(_never_answers()) as server:
        summariser = summariser_for(
            server.url + "/v1",
            metrics,
            llm_timeout_s=0.3,
            llm_retries=0,
            llm_concurrency=1,
            llm_breaker_failures=10,
            message_timeout_s=0.8,
        )
        await asyncio.gather(*(summariser.summarise(view(alert(f"a{i}"))) for i in range(3)))
        await summariser.aclose()
    assert len(server.requests) < 3
    assert metrics.counter("LLMFallbacks", reason="llm_busy") >= 1
    assert metrics.counter("SummarizationFailures") == 3


#: Tokens the stand-in reasoning model thinks with before it writes (at its default effort).
THINKING_TOKENS = 2000


def _reasoning_model(request: dict[str, Any]) -> Reply:
    """OpenAI's reasoning models: `max_tokens` and a temperature other than 1 are refused, and
    thinking counts against `max_completion_tokens` (a budget it fills stops it with
    finish_reason length and no content); asked for low effort it thinks a quarter as long."""
    if "max_tokens" in request:
        message = (
            "Unsupported parameter: 'max_tokens' is not supported with this model. "
            "Use 'max_completion_tokens' instead."
        )
        return Reply(400, {"error": {"message": message, "param": "max_tokens"}})
    if request.get("temperature", 1) != 1:
        message = (
            "Unsupported value: 'temperature' does not support 0.2 with this model. "
            "Only the default (1) value is supported."
        )
        return Reply(400, {"error": {"message": message, "param": "temperature"}})
    if "reasoning_effort" in request and request["model"] == "o1-mini":
        message = "Unsupported parameter: 'reasoning_effort' is not supported with this model."
        return Reply(400, {"error": {"message": message, "param": "reasoning_effort"}})
    thinking = THINKING_TOKENS // (4 if request.get("reasoning_effort") == "low" else 1)
    if request["max_completion_tokens"] <= thinking:
        return completion(None, finish_reason="length")
    return default_model(request)


@pytest.mark.parametrize(("model", "refusals"), [("gpt-5-mini", 2), ("o1-mini", 3)])
async def test_a_reasoning_model_gets_the_parameters_it_takes(
    chat: ChatServer, model: str, refusals: int
) -> None:
    """A model refusing `max_tokens` and the temperature (o-series, gpt-5): the request is
    adapted once (max_completion_tokens with room for its thinking, low reasoning effort
    unless it refuses that too, the model's own temperature) and every ticket is the model's;
    each call fell back with rejected_400 before."""
    chat.responder = _reasoning_model
    metrics = Metrics()
    tickets = await summarise_times(summariser_for(chat.url, metrics, openai_model=model), 2)
    assert metrics.counter("SummarizationFailures") == 0
    assert all(ticket.title == "api-5xx is failing" for ticket in tickets)
    last = chat.requests[-1]
    assert last["max_completion_tokens"] > 900
    assert last.get("reasoning_effort") == (None if model == "o1-mini" else "low")
    assert "max_tokens" not in last and "temperature" not in last
    assert chat.request_count == refusals + 2  # each refusal once for good, then one a call


@pytest.mark.parametrize(
    ("code", "opens"),
    [("invalid_model", True), ("content_policy_violation", False), ("content_filter", False)],
)
async def test_a_400_opens_the_breaker_unless_it_refuses_the_alerts_text(
    code: str, opens: bool
) -> None:
    """A 400 about the request triage always sends (a model name a proxy does not know)
    counts against the breaker; a content filter's or policy's 400 refuses this alert's text
    only and never does. Neither is retried."""
    reply = _openai_error(400, code, "Invalid model name passed in model=gpt-4o-mini")
    metrics = Metrics()
    async with hostile(reply) as server:
        await summarise_times(summariser_for(server.url + "/v1", metrics), THRESHOLD + 1)
    assert len(server.requests) == (THRESHOLD if opens else THRESHOLD + 1)
    assert metrics.counter("LLMFallbacks", reason="breaker_open") == (1 if opens else 0)


async def test_calls_refused_at_once_by_a_reasoning_model_all_adapt(chat: ChatServer) -> None:
    """Several first calls to a reasoning model at once, each refused for the same parameter:
    every one adapts and writes the model's ticket, not only the first to hear of it."""
    chat.responder = _reasoning_model
    metrics = Metrics()
    summariser = summariser_for(chat.url, metrics, openai_model="gpt-5-mini")
    await asyncio.gather(*(summariser.summarise(view(alert(f"a{i}"))) for i in range(3)))
    await summariser.aclose()
    assert metrics.counter("SummarizationFailures") == 0
    assert metrics.counter("LLMCalls", outcome="ok") == 3
