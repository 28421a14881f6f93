"""Every line of one alert names its source, as it names its fingerprint (README, Operations,
Logs): the supervisor's `message.acked`, `message.not_deleted` and the `message.dead_lettered`
of a failed delete, from what the pipeline's outcome carries, and the pipeline's own
`alert.future_time`. A message of several alerts keeps its `fingerprints` alone."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Iterator, MutableMapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import structlog

from memory_inbox import MemoryInbox
from memory_store import MemoryStore
from test_pipeline import CountingSummariser, FakeSink
from triage.errors import InboxError
from triage.incidents import Action, Ledger, Policy
from triage.incidents.records import Transition
from triage.metrics import Metrics
from triage.normalize import normalize_body
from triage.pipeline import Pipeline
from triage.redact import Redactor
from triage.sqs.inbox import Message
from triage.sqs.supervisor import Supervisor, SupervisorConfig

PAYLOADS = Path(__file__).parent / "payloads"
GENERIC = (PAYLOADS / "generic" / "firing.json").read_text()
GROUP = (PAYLOADS / "alertmanager" / "group-firing.json").read_text()
POLICY = Policy()

Logs = list[MutableMapping[str, Any]]


@pytest.fixture
def logs() -> Iterator[Logs]:
    """Every structlog event of the test, debug included, with the context bound per task."""
    saved = structlog.get_config()
    capture = structlog.testing.LogCapture()
    structlog.configure(
        processors=[structlog.contextvars.merge_contextvars, capture],
        wrapper_class=structlog.make_filtering_bound_logger(logging.DEBUG),
        cache_logger_on_first_use=False,
    )
    yield capture.entries
    structlog.configure(**saved)


def _alert_of(body: str) -> tuple[str, str]:
    """The (fingerprint, source) of a one-alert body, as the pipeline reads it."""
    [alert] = normalize_body(body).alerts
    return alert.fingerprint, alert.source


def _pipeline() -> Pipeline:
    """A pipeline on an in-memory store with one sink and a counting summariser."""
    return Pipeline(
        Ledger(MemoryStore(POLICY)),
        CountingSummariser(),
        [FakeSink()],
        Metrics(),
        redactor=Redactor(),
        policy=POLICY,
    )


async def _until(condition: Callable[[], bool], timeout_s: float = 10.0) -> None:
    """Wait for `condition()` to hold, at most `timeout_s`."""
    async with asyncio.timeout(timeout_s):
        while not condition():
            await asyncio.sleep(0.01)


def _lines(logs: Logs, event: str) -> list[MutableMapping[str, Any]]:
    """The captured lines of `event`, in order."""
    return [e for e in logs if e["event"] == event]


async def _serve_until(supervisor: Supervisor, done: Callable[[], bool]) -> None:
    """Run `supervisor` until `done()` holds, then stop it and wait for its end."""
    serving = asyncio.create_task(supervisor.serve())
    try:
        await _until(done)
    finally:
        supervisor.should_exit.set()
        await asyncio.wait_for(serving, 10)


class _DeleteFails(MemoryInbox):
    """A queue whose every delete fails, as SQS in an outage does."""

    async def delete(self, messages: Sequence[Message]) -> list[str]:
        raise InboxError("delete failed: connection reset")


async def test_the_ack_of_a_one_alert_message_names_its_source(logs: Logs) -> None:
    """`message.acked` of a one-alert message carries the alert's `source` beside its
    `fingerprint`, the first delivery's (an open) and a repeat's (a count, at debug) alike."""
    fingerprint, source = _alert_of(GENERIC)
    pipeline = _pipeline()
    config = SupervisorConfig(wait_s=0, retry_base_s=0, shutdown_grace_s=1)
    # The same alert firing again a minute later, once the first is done: a repeat.
    again = json.dumps({**json.loads(GENERIC), "timestamp": "2026-11-23T03:01:00Z"})
    inbox = MemoryInbox()
    for acks, body in ((1, GENERIC), (2, again)):
        inbox.put(body)
        supervisor = Supervisor(config, inbox, pipeline.process, Metrics())
        await _serve_until(supervisor, lambda n=acks: len(_lines(logs, "message.acked")) == n)
    opened, repeated = _lines(logs, "message.acked")
    assert (opened["actions"], repeated["actions"]) == (["open"], ["count"])
    for acked in (opened, repeated):
        assert acked["fingerprint"] == fingerprint
        assert acked["source"] == source


async def test_a_one_alert_message_not_deleted_names_its_source(logs: Logs) -> None:
    """A one-alert message handled but not deleted: `message.not_deleted`, and on its last
    receive `message.dead_lettered` (reason `delete`), carry the alert's `source`."""
    fingerprint, source = _alert_of(GENERIC)
    inbox = _DeleteFails()
    inbox.put(GENERIC)
    config = SupervisorConfig(wait_s=0, retry_base_s=0, shutdown_grace_s=1)
    supervisor = Supervisor(config, inbox, _pipeline().process, Metrics())
    supervisor.max_receive_count = 1
    await _serve_until(supervisor, lambda: bool(_lines(logs, "message.dead_lettered")))
    [not_deleted] = _lines(logs, "message.not_deleted")
    [dead] = _lines(logs, "message.dead_lettered")
    assert dead["reason"] == "delete"
    for line in (not_deleted, dead):
        assert (line["fingerprint"], line["source"]) == (fingerprint, source)


async def test_a_message_of_several_alerts_logs_its_fingerprints_alone(logs: Logs) -> None:
    """A group's message (Alertmanager) is acked with its `fingerprints` and no `source` or
    `fingerprint`: neither names one alert of several."""
    inbox = MemoryInbox()
    inbox.put(GROUP)
    config = SupervisorConfig(wait_s=0, retry_base_s=0, shutdown_grace_s=1)
    supervisor = Supervisor(config, inbox, _pipeline().process, Metrics())
    await _serve_until(supervisor, lambda: bool(_lines(logs, "message.acked")))
    [acked] = _lines(logs, "message.acked")
    expected = [a.fingerprint for a in normalize_body(GROUP).alerts]
    assert len(expected) > 1
    assert acked["fingerprints"] == expected
    assert "source" not in acked and "fingerprint" not in acked


async def test_a_time_from_the_future_names_the_alerts_source(logs: Logs) -> None:
    """`alert.future_time`, said before the alert's own work binds its fields, carries the
    alert's `source` beside its `fingerprint`."""
    now = datetime.now(UTC)
    ahead = (now + timedelta(days=1)).isoformat()
    body = json.dumps({"title": "Backup failed", "dedup_key": "backup", "timestamp": ahead})
    fingerprint, source = _alert_of(body)
    await _pipeline().process(Message("m-1", body, "rh-1", 1, now, received_at=now))
    [future] = _lines(logs, "alert.future_time")
    assert (future["fingerprint"], future["source"]) == (fingerprint, source)


class _ClaimLeftOver(MemoryStore):
    """A store holding one claim a failed delivery of message `m-1`'s alert gave back, which
    its retry's decision did not reach again (its alert routed elsewhere since): the retry
    finishes it (`Pipeline._finish_released`)."""

    async def released_claims(self, message: str) -> list[tuple[str, str]]:
        return [("group-incident", f"{message}#0")] if message == "m-1" else []

    async def reclaim(self, key: str, owner: str, now: datetime, **_: Any) -> Transition | None:
        return Transition(Action.COUNT, None, None)


async def test_a_claim_finished_on_retry_names_the_alert_that_left_it(logs: Logs) -> None:
    """`claim.finished_on_retry`, said for a redelivered message's alert outside that alert's
    own work, names it by `fingerprint` and `source`."""
    fingerprint, source = _alert_of(GENERIC)
    pipeline = Pipeline(
        Ledger(_ClaimLeftOver(POLICY)),
        CountingSummariser(),
        [FakeSink()],
        Metrics(),
        redactor=Redactor(),
        policy=POLICY,
    )
    now = datetime.now(UTC)
    await pipeline.process(Message("m-1", GENERIC, "rh-2", 2, now, received_at=now))
    [finished] = _lines(logs, "claim.finished_on_retry")
    assert finished["incident"] == "group-incident"
    assert (finished["fingerprint"], finished["source"]) == (fingerprint, source)
