"""Triage's own signals, round 6 (helper 511): work the process starts in the background while
a message is worked (a reload, a flush, a renewal) logs under no message's ids."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any, cast

import structlog

from memory_inbox import MemoryInbox
from triage.incidents.lifecycle import Action, Outcome
from triage.incidents.silences import SilenceCache
from triage.incidents.store import Store
from triage.logs import get_logger, start_background
from triage.metrics import Metrics
from triage.sqs.inbox import Message
from triage.sqs.supervisor import Progress, Supervisor, SupervisorConfig
from triage.tracing import Tracing, current_trace_id

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
MESSAGE_IDS = ("message_id", "trace_id", "fingerprint")

log = get_logger(__name__)


async def until(condition: Callable[[], bool], deadline_s: float = 10.0) -> None:
    """Wait for `condition`, failing past `deadline_s`."""
    give_up = time.monotonic() + deadline_s
    while not condition():
        assert time.monotonic() < give_up, "condition not met in time"
        await asyncio.sleep(0.01)


def _leaked(lines: list[dict[str, Any]], events: set[str]) -> list[tuple[str, str]]:
    """(event, key) for each message id a line of `events` carries."""
    return [(e["event"], k) for e in lines if e["event"] in events for k in MESSAGE_IDS if k in e]


async def test_a_task_started_in_the_background_logs_under_no_messages_ids() -> None:
    """`start_background`, called while a message's ids and trace are bound, runs its work
    with none of them: its lines carry no message id, trace id or fingerprint, and it sees
    no current trace id, so a search for the message finds only the message's lines."""
    seen: list[str | None] = []

    async def reload() -> None:
        seen.append(current_trace_id())
        log.info("cache.reloaded")

    with structlog.testing.capture_logs(
        processors=[structlog.contextvars.merge_contextvars]
    ) as logs:
        with (
            Tracing().carried(TRACEPARENT),
            structlog.contextvars.bound_contextvars(message_id="m-1", fingerprint="fp-1"),
        ):
            log.info("message.received")
            task = start_background(reload(), name="reload")
        await task
    assert [e["event"] for e in logs] == ["message.received", "cache.reloaded"]
    assert "message_id" in logs[0] and "trace_id" in logs[0]  # the message's own line has them
    assert _leaked(logs, {"cache.reloaded"}) == []
    assert seen == [None]
    assert task.get_name() == "reload"


class _OneSilence:
    """A store whose silences are one that was just added."""

    async def silences(self) -> list[Any]:
        return [SimpleNamespace(id="s-1")]


async def test_a_silences_reload_a_message_started_logs_under_no_messages_ids() -> None:
    """The silences read one message's check started is every worker's: `silences.changed`
    carries no message id, trace id or fingerprint of the message that happened to ask."""
    cache = SilenceCache(cast(Store, _OneSilence()))
    with (
        structlog.testing.capture_logs(
            processors=[structlog.contextvars.merge_contextvars]
        ) as logs,
        Tracing().carried(TRACEPARENT),
        structlog.contextvars.bound_contextvars(message_id="m-1", fingerprint="fp-1"),
    ):
        await cache.current()
    assert [e["event"] for e in logs] == ["silences.changed"]
    assert _leaked(logs, {"silences.changed"}) == []


async def test_a_store_ping_failing_in_a_way_nobody_expected_is_said_at_warning_once() -> None:
    """A store ping that raises what no store's known fault is (a bug, an answer the client
    cannot read) is said at warning at its first failure and once more when the ping answers
    again: at debug only, a ping failing every 5 s for hours is invisible at the default
    level, and with no traffic nothing else says so."""
    failing = True
    pings = 0

    async def ping() -> None:
        nonlocal pings
        pings += 1
        if failing:
            raise KeyError("TableStatus")

    supervisor = Supervisor(
        SupervisorConfig(wait_s=0, retry_base_s=1000, shutdown_grace_s=1),
        MemoryInbox(),
        _nothing,
        Metrics(),
        store_probe=ping,
    )
    supervisor.STORE_PROBE_S = 0.01
    with structlog.testing.capture_logs() as logs:
        serving = asyncio.create_task(supervisor.serve())
        await until(lambda: pings >= 5)
        failing = False
        seen = pings
        await until(lambda: pings >= seen + 2)
        supervisor.should_exit.set()
        await serving
    said = [
        (e["event"], e["log_level"])
        for e in logs
        if e["event"].startswith("store.probe") and e["log_level"] != "debug"
    ]
    assert said == [("store.probe_failed", "warning"), ("store.probe_recovered", "info")]
    failed = next(e for e in logs if e["event"] == "store.probe_failed")
    assert failed["error_type"] == "KeyError"


async def _nothing(message: Message, _progress: Progress) -> list[Outcome]:
    """A message that goes through."""
    return [Outcome("f" * 32, Action.COUNT)]
