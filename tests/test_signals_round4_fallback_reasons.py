"""`LLMFallbacks{reason}` has a closed set of reasons: a hostile model server answering
every status there is (or a summariser naming its failure in its own words) adds no series
beyond it; the status or words go in the `summariser.fallback` line's `detail`, redacted,
and every reason the docs name keeps its own series."""

from __future__ import annotations

import ast
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from factories import alert, view
from triage.demo.model import ChatServer, error
from triage.errors import ModelError, SummariserError
from triage.logs import configure_logging
from triage.metrics import Metrics
from triage.models import Ticket
from triage.redact import Redactor
from triage.settings import Settings
from triage.summarise import (
    FALLBACK_REASONS,
    FallbackSummariser,
    bedrock,
    build_summariser,
    eventstream,
    fallback_reason,
)
from triage.summarise.deterministic import DeterministicSummariser
from triage.view import RedactedAlert

SUMMARISE = Path(__file__).resolve().parent.parent / "src" / "triage" / "summarise"

#: The reasons README's LLM section and `errors.ModelError` name: each keeps its own series.
DOCUMENTED = [
    "timeout",
    "rate_limited",
    "unreachable",
    "server_error_503",
    "rejected_403",
    "invalid_json",
    "invalid_fields",
    "truncated",
    "refused",
    "content_filter",
    "no_credentials",
    "breaker_open",
    "bad_response",
    "unsettled_text",
    "rejected_307",
    "quota_exceeded",
    "prompt_too_long",
    "redirected",
    "no_message",
    "bad_event_stream",
    "empty_answer",
    "no_choices",
    "llm_busy",
    "answer_too_large",
    "answer_undecodable",
    "server_error_101",
    "rejected_400",
    "error",
]


@pytest.fixture
def chat() -> Iterator[ChatServer]:
    with ChatServer() as server:
        yield server


@pytest.fixture
def json_logs() -> io.StringIO:
    """The process's JSON log lines, through the real processors (redaction included)."""
    stream = io.StringIO()
    configure_logging("json", "info", stream)
    return stream


def fallback_lines(logs: io.StringIO) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in logs.getvalue().splitlines()]
    return [line for line in lines if line["event"] == "summariser.fallback"]


def reasons(metrics: Metrics) -> dict[str, float]:
    """LLMFallbacks by reason, as /metrics and CloudWatch would show it."""
    return {
        dict(dims)["reason"]: value
        for (name, dims), value in metrics.counters().items()
        if name == "LLMFallbacks" and dims
    }


async def test_a_server_answering_every_status_adds_no_series_past_the_closed_set(
    chat: ChatServer, json_logs: io.StringIO
) -> None:
    """Forty statuses no one names (5xx and 4xx alike, 599 and 999 among them) through the real
    openai client count under `server_error` and `rejected` only, each line's `detail` saying
    which status it was; a status the docs name (503) keeps its own series."""
    statuses = [*range(505, 520), *range(590, 600), 999, *range(460, 470), 503]
    replies = iter(statuses)
    chat.responder = lambda _request: error(next(replies), "nope")
    metrics = Metrics()
    settings = Settings(
        openai_api_key="k",
        openai_base_url=chat.url,
        llm_retries=0,
        llm_breaker_failures=1000,
    )
    summariser = build_summariser(settings, metrics, Redactor())
    try:
        for _ in statuses:
            await summariser.summarise(view(alert()))
    finally:
        await summariser.aclose()
    counted = reasons(metrics)
    assert counted == {"server_error": 26, "rejected": 10, "server_error_503": 1}
    details = {line.get("detail") for line in fallback_lines(json_logs)}
    assert {"server_error_599", "server_error_999", "rejected_469"} <= details


class Failing:
    """A summariser that fails with `error` every time (any Summariser may sit in front)."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    async def summarise(self, alert: RedactedAlert) -> Ticket:
        raise self.error

    async def aclose(self) -> None:
        return None


async def _fall_back(error: Exception) -> Metrics:
    metrics = Metrics()
    fallback = FallbackSummariser(Failing(error), DeterministicSummariser(), metrics, Redactor())
    await fallback.summarise(view(alert()))
    return metrics


async def test_a_reason_in_a_servers_words_is_other_with_its_words_redacted_in_the_line(
    json_logs: io.StringIO,
) -> None:
    """A failure named in words no one listed (a server's text, a secret in it) counts under
    `other`; the words reach the line's `detail` only, redacted."""
    key = "AKIAIOSFODNN7EXAMPLE"
    metrics = await _fall_back(SummariserError(f"upstream said: use key {key} instead"))
    assert reasons(metrics) == {"other": 1}
    (line,) = fallback_lines(json_logs)
    assert line["reason"] == "other" and "upstream said" in line["detail"]
    assert key not in json_logs.getvalue()


@pytest.mark.parametrize(
    ("raised", "counted"),
    [
        ("server_error_5031", "server_error"),
        ("server_error_٥٠٣", "server_error"),
        ("server_error_0503", "server_error"),
        ("rejected_4000", "rejected"),
        ("rejected_", "rejected"),
        ("", "error"),
    ],
)
async def test_a_status_reason_not_named_counts_under_its_kind(raised: str, counted: str) -> None:
    """A status reason that is not one of the named statuses, in any spelling (extra digits,
    another script's digits, a leading zero, none), counts under its kind only."""
    error = ModelError(raised, outcome="server_error") if raised else SummariserError("")
    assert reasons(await _fall_back(error)) == {counted: 1}


def test_every_documented_reason_keeps_its_own_series() -> None:
    """The reasons README and ModelError document are in the closed set, unchanged."""
    assert [fallback_reason(reason) for reason in DOCUMENTED] == DOCUMENTED
    assert set(DOCUMENTED) <= FALLBACK_REASONS


def _raised_reasons() -> set[str]:
    """Every reason the summarisers raise as a literal: the first argument of ModelError,
    SummariserError, Skipped and `_invalid`, and the model's busy exceptions' reasons."""
    found: set[str] = set()
    for path in SUMMARISE.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            first = node.args[0]
            if name in {"ModelError", "SummariserError", "Skipped", "_invalid"} and isinstance(
                first, ast.Constant
            ):
                found.add(str(first.value))
    found |= set(eventstream.BUSY_EXCEPTIONS.values()) | set(bedrock._BUSY.values())
    return found


def test_every_reason_the_code_raises_is_in_the_closed_set() -> None:
    """A reason added to a summariser without its place in FALLBACK_REASONS fails here,
    instead of counting as `other`."""
    raised = _raised_reasons()
    assert len(raised) > 15
    assert {fallback_reason(reason) for reason in raised} == raised
    assert raised <= FALLBACK_REASONS
