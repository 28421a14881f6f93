"""A storm repeat's per-message work (issue 18): the lines of one message keep every field
they had (the trace id on each, the alert it reached) while what only a debug line or a new
incident needs is no longer done for every repeat."""

from __future__ import annotations

import asyncio
import io
import json
from dataclasses import replace

import structlog

from memory_inbox import MemoryInbox
from triage.incidents.lifecycle import Action, Outcome
from triage.logs import configure_logging, get_logger
from triage.metrics import DEFAULT_BUCKETS_S, Metrics
from triage.sqs.inbox import TRACEPARENT_ATTRIBUTE, Message
from triage.sqs.supervisor import Progress, Supervisor, SupervisorConfig
from triage.tracing import Tracing, current_trace_id

SENDER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{SENDER_TRACE}-00f067aa0ba902b7-01"


def _config() -> SupervisorConfig:
    return SupervisorConfig(wait_s=0, drain=True, retry_base_s=0, shutdown_grace_s=1)


class _TracedTwiceInbox(MemoryInbox):
    """Hands each delivery out twice in one answer (one receipt handle), as SQS may, every
    message carrying the gateway's `traceparent`."""

    async def receive(self, max_messages: int, wait_s: int, visibility_s: int) -> list[Message]:
        got = await super().receive(max_messages, wait_s, visibility_s)
        traced = [replace(m, attributes={TRACEPARENT_ATTRIBUTE: TRACEPARENT}) for m in got]
        return [*traced, *traced]


async def test_a_duplicate_delivery_line_names_the_messages_trace() -> None:
    """`message.duplicate_delivery` carries the trace id its message came with, as every other
    line of that message does: an operator following the trace finds it."""
    inbox = _TracedTwiceInbox()
    inbox.put("once")

    async def handler(message: Message, _progress: Progress) -> list[Outcome]:
        await asyncio.sleep(0)
        return []

    supervisor = Supervisor(_config(), inbox, handler, Metrics())
    with structlog.testing.capture_logs(
        processors=[structlog.contextvars.merge_contextvars]
    ) as logs:
        await supervisor.serve()
    duplicates = [e for e in logs if e["event"] == "message.duplicate_delivery"]
    assert [(e.get("trace_id"), e["message_id"]) for e in duplicates] == [(SENDER_TRACE, "m0")]


def test_a_module_logger_obeys_every_configuration_after_its_first_line() -> None:
    """`triage.logs.get_logger` keeps the logger it made only while the configuration it was
    made under is in force: a later `configure_logging` (its stream, its level) and a test's
    `capture_logs` see the lines logged after them."""
    first, second = io.StringIO(), io.StringIO()
    log = get_logger("triage.test_497")
    try:
        configure_logging("json", "info", first)
        log.info("one.line")
        configure_logging("json", "warning", second)
        log.info("dropped.line")
        log.warning("two.line")
        with structlog.testing.capture_logs() as captured:
            log.warning("captured.line")
        log.warning("three.line")
    finally:
        structlog.reset_defaults()
    assert [json.loads(line)["event"] for line in first.getvalue().splitlines()] == ["one.line"]
    written = [json.loads(line) for line in second.getvalue().splitlines()]
    assert [(e["event"], e["logger"]) for e in written] == [
        ("two.line", "triage.test_497"),
        ("three.line", "triage.test_497"),
    ]
    assert [e["event"] for e in captured] == ["captured.line"]


def test_a_line_below_the_level_formats_none_of_its_arguments() -> None:
    """A debug line while the level is info costs no formatting: its printf arguments are
    never turned into text (a storm logs several debug lines per message); at debug, the
    same line is formatted and written."""
    formatted = 0

    class Counted:
        def __str__(self) -> str:
            nonlocal formatted
            formatted += 1
            return "counted"

    stream = io.StringIO()
    log = get_logger("triage.test_497")
    try:
        configure_logging("json", "info", stream)
        log.debug("value %s", Counted())
        assert (formatted, stream.getvalue()) == (0, "")
        configure_logging("json", "debug", stream)
        log.debug("value %s", Counted())
    finally:
        structlog.reset_defaults()
    assert formatted == 1
    assert json.loads(stream.getvalue())["event"] == "value counted"


def test_a_timings_buckets_are_cumulative_whatever_the_order_of_its_observations() -> None:
    """Each bucket of a timing counts the observations at or below its bound (the exporters'
    histogram), for values on a bound, between bounds and past every bound, read as often as
    asked and kept through a drain of the raw values."""
    metrics = Metrics()
    values_ms = [3000.0, 5.0, 0.0, 250.0, 10.0, 999_000.0, 7.5, 250.0]
    for value in values_ms:
        metrics.observe("ProcessingLatency", value)
    expected = [sum(1 for v in values_ms if v / 1000 <= bound) for bound in DEFAULT_BUCKETS_S]
    read = metrics.timings(drain=True)[("ProcessingLatency", ())]
    assert read.buckets == expected
    assert (read.count, read.maximum, sorted(read.pending)) == (8, 999_000.0, sorted(values_ms))
    metrics.observe("ProcessingLatency", 1.0)
    again = metrics.timings()[("ProcessingLatency", ())]
    assert again.buckets == [n + 1 for n in expected]
    assert (again.count, again.pending, again.low, again.high) == (9, [1.0], 1.0, 1.0)


async def _acked_lines(outcome: Outcome, level: str) -> list[dict[str, object]]:
    """The `message.acked` lines written for one message whose work gave `outcome`, logging
    as the daemon does at `level`."""
    inbox = MemoryInbox()
    inbox.put("one")

    async def handler(message: Message, _progress: Progress) -> list[Outcome]:
        return [outcome]

    stream = io.StringIO()
    try:
        configure_logging("json", level, stream)
        await Supervisor(_config(), inbox, handler, Metrics()).serve()
    finally:
        structlog.reset_defaults()
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    return [line for line in lines if line["event"] == "message.acked"]


async def test_a_repeats_ack_line_is_written_whole_at_debug_and_not_at_all_above() -> None:
    """A message of repeats only is acked at debug, its line naming the actions and the alert
    as at info, with its message id; at info no line is written for it, while a message that
    opened a ticket still says so."""
    repeat = Outcome("fp-1", Action.COUNT, "bench")
    opened = Outcome("fp-2", Action.OPEN, "bench")
    [at_debug] = await _acked_lines(repeat, "debug")
    assert {
        k: at_debug[k] for k in ("level", "actions", "fingerprint", "source", "message_id")
    } == {
        "level": "debug",
        "actions": ["count"],
        "fingerprint": "fp-1",
        "source": "bench",
        "message_id": "m0",
    }
    assert await _acked_lines(repeat, "info") == []
    [at_info] = await _acked_lines(opened, "info")
    assert (at_info["level"], at_info["actions"], at_info["fingerprint"]) == (
        "info",
        ["open"],
        "fp-2",
    )


def test_an_untraced_message_inside_anothers_trace_has_no_trace_id() -> None:
    """A message that came with no trace, worked on where another's trace id is bound, has no
    trace id while it is worked on (what it hands the sinks does not join the other's
    trace), and the other's is current again after it; outside any trace it has none."""
    tracing = Tracing()
    with tracing.message("m-1", TRACEPARENT):
        with tracing.message("m-2", None) as untraced:
            assert (untraced, current_trace_id()) == (None, None)
        assert current_trace_id() == SENDER_TRACE
    with tracing.message("m-3", None, "") as alone:
        assert (alone, current_trace_id()) == (None, None)
    assert current_trace_id() is None
