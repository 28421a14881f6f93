"""Fault handling, round 12 (task 420): each test is a fault a replica meets in production,
proved at the fastest level that shows it.

- SQS refuses a heartbeat's extension of a delivery it handed to someone else as
  `InvalidParameterValue` ("... parameter ReceiptHandle is invalid. Reason: Message does not
  exist or is not available for visibility timeout change."), not as `ReceiptHandleIsInvalid`:
  that delivery is lost all the same, so a replica holding it gives it up instead of working
  it beside the one that has it now.
- A replica whose host clock NTP steps between two comparisons with DynamoDB's `Date` (a
  clock found minutes off at start-up and then corrected, a VM resumed) decides by the
  stepped clock until the next comparison, up to a minute later: it takes another replica's
  effect in progress for a dead one's and carries it out a second time.
- A message waiting for another replica's effect on its incident decided "busy" again on the
  copy of the incident its worker read before, without reading it again: every other retry
  waited once more for an effect long finished.
- The sweep index added to a table while replicas run (an upgrade) is read by none of them
  until restarted: a query refused while the index backfills ("Cannot read from backfilling
  global secondary index"), or before it exists, made each replica scan the whole table at
  every sweep pass for the rest of its life.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import structlog
from botocore.exceptions import ClientError

from daemon_harness import Queues
from factories import alert
from fault_proxy import FaultProxy
from test_replica_clocks import AHEAD_S, Maker, replica
from test_sqs_fault_corners import VISIBILITY, _config, _events, inbox, proxy, until
from triage.errors import SinkThrottledError, StoreBusyError
from triage.incidents import Ledger, Policy
from triage.incidents import dynamodb as dynamodb_module
from triage.incidents.dynamodb import DynamoDBStore
from triage.incidents.lifecycle import Action, Outcome
from triage.incidents.store import delivery_owner
from triage.metrics import Metrics
from triage.models import Status
from triage.sqs.inbox import Message, SqsInbox
from triage.sqs.supervisor import Progress, Supervisor

__all__ = ["inbox", "proxy", "replica"]  # the fixtures, used by name

QUEUE = "https://sqs.example/q"

#: What SQS answers an extension of a delivery whose receipt handle went stale (the message
#: was received again, by another replica or this one, after its visibility ran out).
STALE_HANDLE = (
    "Value AQEBstale for parameter ReceiptHandle is invalid. Reason: Message does not exist "
    "or is not available for visibility timeout change."
)
#: What SQS answers an extension past 12 hours from the receive: the delivery is still ours.
PAST_TWELVE_HOURS = (
    "Value 43200 for parameter VisibilityTimeout is invalid. Reason: Total VisibilityTimeout "
    "for the message is beyond the limit [43200 seconds]"
)


class _Refusing:
    """An SQS client whose ChangeMessageVisibilityBatch refuses every entry as the sender's
    fault with `code` and `message`, noting each call's receipt handles."""

    def __init__(self, code: str, message: str) -> None:
        self.code, self.message = code, message
        self.calls: list[list[str]] = []

    async def change_message_visibility_batch(self, **call: Any) -> dict[str, Any]:
        self.calls.append([e["ReceiptHandle"] for e in call["Entries"]])
        failed = [
            {"Id": e["Id"], "SenderFault": True, "Code": self.code, "Message": self.message}
            for e in call["Entries"]
        ]
        return {"Failed": failed}


def _delivery() -> tuple[Message, list[str]]:
    """A delivery, and the list its `on_lost` callbacks note into."""
    message = Message("m1", "{}", "rh-1", 2, None)
    lost: list[str] = []
    message.on_lost.append(lambda: lost.append(message.receipt_handle))
    return message, lost


async def test_a_stale_receipt_handle_refused_as_an_invalid_parameter_is_a_lost_delivery() -> None:
    """SQS's answer to extending a delivery another receive replaced (InvalidParameterValue,
    'Message does not exist or is not available for visibility timeout change') marks it lost:
    its holder is told once and the next beat sends no extension of it."""
    sqs = _Refusing("InvalidParameterValue", STALE_HANDLE)
    inbox = SqsInbox(sqs, QUEUE)
    message, lost = _delivery()
    with structlog.testing.capture_logs() as logs:
        await inbox.change_visibility([message], 30)
        await inbox.change_visibility([message], 30)
    assert lost == ["rh-1"]
    assert sqs.calls == [["rh-1"]]
    [said] = [e for e in logs if e["event"] == "message.visibility_failed"]
    assert said["log_level"] == "warning" and said["code"] == "InvalidParameterValue"


async def test_a_held_message_whose_handle_sqs_calls_stale_is_given_up(
    inbox: SqsInbox, queues: Queues, proxy: FaultProxy
) -> None:
    """A message held through a throttle whose extension SQS refuses as it refuses a receipt
    handle a later receive replaced (InvalidParameterValue): the hold ends with one
    `message.delivery_lost` line and the message is not worked again here, beside the replica
    that has it now."""
    calls: list[str] = []

    async def handler(message: Message, _progress: Progress) -> list[Outcome]:
        calls.append(message.id)
        raise SinkThrottledError("429", retry_after_s=30)

    def stale(answer: dict[str, Any]) -> dict[str, Any]:
        failed = [
            {"Id": e["Id"], "SenderFault": True, "Code": "InvalidParameterValue",
             "Message": STALE_HANDLE}
            for e in answer.get("Successful", [])
        ]  # fmt: skip
        return {"Successful": [], "Failed": failed}

    supervisor = Supervisor(_config(visibility_timeout_s=1), inbox, handler, Metrics())
    queues.send("a")
    proxy.rewrite(VISIBILITY, stale)
    with structlog.testing.capture_logs() as logs:
        serving = asyncio.create_task(supervisor.serve())
        await until(lambda: bool(_events(logs, "message.delivery_lost")), "the delivery given up")
        await until(lambda: not supervisor._in_flight, "the message out of hand")
        supervisor.should_exit.set()
        await asyncio.wait_for(serving, 10)
    assert len(calls) == 1
    assert proxy.requests(VISIBILITY) == 1  # the refused extension; no release after it
    assert supervisor.stats.lost == 1 and supervisor.stats.retried == 0


async def test_an_extension_past_twelve_hours_refused_as_an_invalid_parameter_keeps_it() -> None:
    """InvalidParameterValue for a visibility past SQS's 12 h limit is no lost delivery: the
    message is still this replica's, so no holder is told it lost it."""
    sqs = _Refusing("InvalidParameterValue", PAST_TWELVE_HOURS)
    inbox = SqsInbox(sqs, QUEUE)
    message, lost = _delivery()
    await inbox.change_visibility([message], 30)
    await inbox.change_visibility([message], 30)
    assert lost == []
    assert sqs.calls == [["rh-1"], ["rh-1"]]


# --- a host clock stepped between two comparisons with DynamoDB's ----------------------------


async def test_a_host_clock_corrected_between_comparisons_leaves_a_live_claim_alone(
    replica: Maker,
) -> None:
    """A host 3 minutes behind (corrected by DynamoDB's `Date` at start-up) whose clock NTP
    then steps right keeps DynamoDB's time: a resolve it receives at once waits for the open
    another replica is carrying out, rather than taking it over as a dead worker's."""
    lead = [-AHEAD_S]
    stepped = replica(lambda: time.time() + lead[0])
    steady = replica(lambda: time.time())
    await stepped.open()
    await steady.open()
    opening = await steady.begin(alert(), delivery_owner("m1#0", "a"), steady.now())
    assert opening.action is Action.OPEN
    lead[0] = 0.0  # NTP steps the host's clock right, seconds after the comparison
    ledger = Ledger(stepped)
    with structlog.testing.capture_logs() as logs:
        assert abs((ledger.clock() - datetime.now(UTC)).total_seconds()) < 3
        resolved = alert(status=Status.RESOLVED, minutes=1)
        with pytest.raises(StoreBusyError):
            await stepped.begin(resolved, delivery_owner("m2#0", "b"), ledger.clock())
        # The read after the step compared the clocks again: the host is in step now.
        assert abs((stepped.now() - datetime.now(UTC)).total_seconds()) < 3
    said = [e["event"] for e in logs if e["event"].startswith("store.clock")]
    assert said == ["store.clock_stepped", "store.clock_agrees"]


# --- a busy incident decided on the copy a worker kept -----------------------------------------


async def test_a_resolve_waiting_for_another_replicas_open_reads_the_incident_again(
    replica: Maker,
) -> None:
    """A resolve that found another replica's open in progress is tried again (the same
    worker task) after that open finished: it reads the incident again and closes it, rather
    than deciding "busy" again on the copy its first try read."""
    opener, resolver = replica(lambda: time.time()), replica(lambda: time.time())
    await opener.open()
    await resolver.open()
    opening = await opener.begin(alert(), delivery_owner("m1#0", "a"), opener.now())
    assert opening.action is Action.OPEN
    resolved = alert(status=Status.RESOLVED, minutes=1)
    with pytest.raises(StoreBusyError):
        await resolver.begin(resolved, delivery_owner("m2#0", "b"), resolver.now())
    owner = delivery_owner("m1#0", "a")
    assert await opener.confirm(opening.fingerprint, owner, "backend", "T-1", finish=True)
    closing = await resolver.begin(resolved, delivery_owner("m2#0", "b"), resolver.now())
    assert closing.action is Action.CLOSE


# --- the sweep index backfilling, or added while running --------------------------------------

#: What DynamoDB answers a query of an index it is still building from the table's items.
BACKFILLING = "Cannot read from backfilling global secondary index"
#: What DynamoDB answers a query of an index the table does not have.
NO_INDEX = "The table does not have the specified index: sweep"


class _IndexTable:
    """A DynamoDB client over a table with one incident due: its sweep index refuses queries
    with `refusal` (a ValidationException) until `ready`, and every call is noted."""

    def __init__(self, refusal: str) -> None:
        self.refusal = refusal
        self.ready = False
        self.calls: list[str] = []

    async def query(self, **call: Any) -> dict[str, Any]:
        self.calls.append("query")
        if not self.ready:
            error = {"Error": {"Code": "ValidationException", "Message": self.refusal}}
            raise ClientError(error, "Query")  # type: ignore[arg-type]
        return {"Items": [{"fingerprint": {"S": "f" * 32}, "sweep_at": {"N": "1.000"}}]}

    async def scan(self, **call: Any) -> dict[str, Any]:
        self.calls.append("scan")
        return {"Items": [{"fingerprint": {"S": "f" * 32}, "sweep_at": {"N": "1.000"}}]}


def _store_on(client: _IndexTable) -> DynamoDBStore:
    return DynamoDBStore(client, "incidents", Policy(), timedelta(minutes=5), timedelta(days=30))


async def test_a_sweep_index_still_backfilling_is_queried_again_once_built() -> None:
    """While the sweep index backfills, the sweep finds what is due by a scan (one warning);
    once built, the next pass queries it again rather than scanning the table forever."""
    table = _IndexTable(BACKFILLING)
    store = _store_on(table)
    now = datetime.now(UTC)
    with structlog.testing.capture_logs() as logs:
        assert await store.due(now) == ["f" * 32]
        assert await store.due(now) == ["f" * 32]
        table.ready = True
        table.calls.clear()
        assert await store.due(now) == ["f" * 32]
        assert [key for key, _ in await store.dated_after(now)] == ["f" * 32]
    assert table.calls == ["query", "query"]
    said = [e["event"] for e in logs if e["event"].startswith("store.") and "index" in e["event"]]
    assert said == ["store.no_sweep_index", "store.sweep_index_ready"]


async def test_a_sweep_index_added_while_running_is_queried_after_a_while(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A table without the sweep index is scanned, its query not tried at every pass; once
    INDEX_RECHECK_S has passed the index is tried again, and used once it is there."""
    table = _IndexTable(NO_INDEX)
    store = _store_on(table)
    now = datetime.now(UTC)
    assert await store.due(now) == ["f" * 32]
    assert await store.due(now) == ["f" * 32]
    assert table.calls == ["query", "scan", "scan"]
    table.ready = True
    monkeypatch.setattr(dynamodb_module, "INDEX_RECHECK_S", 0.0)
    table.calls.clear()
    assert await store.due(now) == ["f" * 32]
    assert table.calls == ["query"]
