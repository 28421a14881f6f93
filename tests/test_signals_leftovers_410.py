"""Leftovers of the signals and redaction rounds (task 410): a failed or unconfirmed delete's
line names the alert whose message may come again (bounded to its batch), and a new alert
matched against the active silences is redacted once, by the pipeline's view."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, MutableMapping, Sequence
from pathlib import Path
from typing import Any

import structlog

from memory_inbox import MemoryInbox
from memory_store import MemoryStore
from test_pipeline import CountingSummariser, FakeSink
from triage.errors import InboxError
from triage.incidents import Ledger, Policy
from triage.metrics import Metrics
from triage.normalize import normalize_body
from triage.pipeline import Pipeline
from triage.redact import Redactor
from triage.sqs.acker import Acker
from triage.sqs.inbox import MAX_IDS_LOGGED, Message, SqsInbox
from triage.sqs.supervisor import Supervisor, SupervisorConfig

PAYLOADS = Path(__file__).parent / "payloads"
GENERIC = (PAYLOADS / "generic" / "firing.json").read_text()
GROUP = (PAYLOADS / "alertmanager" / "group-firing.json").read_text()
POLICY = Policy()

Logs = list[MutableMapping[str, Any]]


def _alert_of(body: str) -> tuple[str, str]:
    """The (fingerprint, source) of a one-alert body, as the pipeline reads it."""
    [alert] = normalize_body(body).alerts
    return alert.fingerprint, alert.source


def _pipeline(redactor: Redactor | None = None) -> Pipeline:
    """A pipeline on an in-memory store with one sink and a counting summariser."""
    return Pipeline(
        Ledger(MemoryStore(POLICY)),
        CountingSummariser(),
        [FakeSink()],
        Metrics(),
        redactor=redactor or Redactor(),
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


def _message(n: int, alert: dict[str, object] | None = None) -> Message:
    """Delivery `n` of a message whose work reached `alert` (its `fingerprint` and `source`)."""
    message = Message(f"m{n}", "{}", f"rh-{n}", 1, None)
    message.alert.update(alert or {})
    return message


class _Sqs:
    """An SQS client's DeleteMessageBatch that answers as `answer(entries)` says."""

    def __init__(self, answer: Callable[[list[dict[str, Any]]], dict[str, Any]]) -> None:
        self.answer = answer

    async def delete_message_batch(self, **call: Any) -> dict[str, Any]:
        return self.answer(call["Entries"])


def _refused(entries: list[dict[str, Any]]) -> dict[str, Any]:
    """Every entry failed as the sender's fault (a stale receipt handle)."""
    return {
        "Failed": [
            {"Id": e["Id"], "SenderFault": True, "Code": "ReceiptHandleIsInvalid", "Message": "x"}
            for e in entries
        ]
    }


class _DeleteFails(MemoryInbox):
    """A queue whose every delete call fails, as SQS in an outage does."""

    async def delete(self, messages: Sequence[Message]) -> list[str]:
        raise InboxError("delete failed: connection reset")


# --- 1. a delete's failure names its alert ------------------------------------------------------


async def test_an_entry_sqs_failed_to_delete_names_its_alert() -> None:
    """`message.delete_failed` for an entry SQS refused names the alert its message carried
    (`fingerprint`, `source`), as `message.acked` would have."""
    inbox = SqsInbox(_Sqs(_refused), "https://sqs.example/q")
    message = _message(1, {"fingerprint": "f" * 32, "source": "generic"})
    with structlog.testing.capture_logs() as logs:
        assert await inbox.delete([message]) == ["rh-1"]
    [failed] = _lines(logs, "message.delete_failed")
    assert (failed["message_id"], failed["fingerprint"], failed["source"]) == (
        "m1",
        "f" * 32,
        "generic",
    )


async def test_an_entry_sqs_did_not_confirm_names_its_alert() -> None:
    """`message.delete_unconfirmed` (an answer that names the entry neither deleted nor
    failed) names the alert its message carried."""
    inbox = SqsInbox(_Sqs(lambda entries: {}), "https://sqs.example/q")
    message = _message(1, {"fingerprint": "a" * 32, "source": "cloudwatch"})
    with structlog.testing.capture_logs() as logs:
        await inbox.delete([message])
    [unconfirmed] = _lines(logs, "message.delete_unconfirmed")
    assert (unconfirmed["fingerprint"], unconfirmed["source"]) == ("a" * 32, "cloudwatch")


async def test_a_group_message_names_a_bounded_share_of_its_fingerprints() -> None:
    """A message of many alerts names at most MAX_IDS_LOGGED of its fingerprints, and how
    many it had: one line never grows with a group's size."""
    inbox = SqsInbox(_Sqs(_refused), "https://sqs.example/q")
    many = [f"{i:032x}" for i in range(500)]
    with structlog.testing.capture_logs() as logs:
        await inbox.delete([_message(1, {"fingerprints": many})])
    [failed] = _lines(logs, "message.delete_failed")
    assert failed["fingerprints"] == many[:MAX_IDS_LOGGED]
    assert failed["alerts"] == 500


async def test_a_failed_delete_call_names_the_alerts_of_its_batch() -> None:
    """The acker's one `message.delete_failed` line for a failed call names, beside the
    message ids, the alert of each (at most MAX_IDS_LOGGED, a batch's size)."""
    acker = Acker(_DeleteFails(), linger_s=0)
    run = asyncio.create_task(acker.run())
    alerts = [{"fingerprint": f"{i:032x}", "source": "generic"} for i in range(3)]
    messages = [_message(i, alert) for i, alert in enumerate(alerts)]
    messages.append(_message(3))  # a message without alerts (an SNS confirmation)
    with structlog.testing.capture_logs() as logs:
        answers = await asyncio.gather(*(acker.delete(m) for m in messages))
        await acker.stop()
        await asyncio.wait_for(run, 10)
    assert answers == [False] * 4
    named = [a for line in _lines(logs, "message.delete_failed") for a in line["alerts"]]
    assert named == [{"message_id": f"m{i}", **alert} for i, alert in enumerate(alerts)], named


async def test_a_batch_line_names_at_most_its_batch() -> None:
    """A call's failed delete of a full batch names at most MAX_IDS_LOGGED alerts."""
    acker = Acker(_DeleteFails(), linger_s=1)
    run = asyncio.create_task(acker.run())
    messages = [_message(i, {"fingerprint": f"{i:032x}", "source": "generic"}) for i in range(25)]
    with structlog.testing.capture_logs() as logs:
        await asyncio.gather(*(acker.delete(m) for m in messages))
        await acker.stop()
        await asyncio.wait_for(run, 10)
    lines = _lines(logs, "message.delete_failed")
    assert lines
    for line in lines:
        assert len(line["alerts"]) <= MAX_IDS_LOGGED
        assert len(line["message_ids"]) <= MAX_IDS_LOGGED


async def test_the_daemon_names_the_alert_of_a_message_whose_delete_failed() -> None:
    """Through the supervisor: the handled message's alert is on the acker's
    `message.delete_failed` line, so that one line says which alert may come again."""
    fingerprint, source = _alert_of(GENERIC)
    inbox = _DeleteFails()
    inbox.put(GENERIC)
    config = SupervisorConfig(wait_s=0, retry_base_s=0, shutdown_grace_s=1)
    supervisor = Supervisor(config, inbox, _pipeline().process, Metrics())
    with structlog.testing.capture_logs() as logs:
        await _serve_until(supervisor, lambda: bool(_lines(logs, "message.not_deleted")))
    failed = _lines(logs, "message.delete_failed")[0]
    assert failed["alerts"] == [
        {"message_id": failed["message_ids"][0], "fingerprint": fingerprint, "source": source}
    ]


async def test_the_daemon_names_a_groups_fingerprints_on_a_failed_delete() -> None:
    """A group's message whose delete failed names its alerts' fingerprints on the line."""
    expected = [a.fingerprint for a in normalize_body(GROUP).alerts]
    inbox = _DeleteFails()
    inbox.put(GROUP)
    config = SupervisorConfig(wait_s=0, retry_base_s=0, shutdown_grace_s=1)
    supervisor = Supervisor(config, inbox, _pipeline().process, Metrics())
    with structlog.testing.capture_logs() as logs:
        await _serve_until(supervisor, lambda: bool(_lines(logs, "message.not_deleted")))
    [alert] = _lines(logs, "message.delete_failed")[0]["alerts"]
    assert 1 < len(expected) <= MAX_IDS_LOGGED
    assert alert == {"message_id": alert["message_id"], "fingerprints": expected}
