"""Round 8 faults (helper 553), as a process: the daemon killed (SIGKILL) while its batch delete
is on the wire. SQS may or may not have deleted the messages: those it did not come back, and
the next daemon must take each for a delivery of an alert already counted, not a new one."""

from __future__ import annotations

import asyncio
import json
import signal
from datetime import timedelta
from pathlib import Path

from daemon_harness import Daemon, Queues, settings_for
from fault_proxy import FaultProxy
from test_faults import (
    Finisher,
    assert_one_ticket_each,
    finish_with_drain,  # noqa: F401 (a fixture)
    generic,
    prod_queues,  # noqa: F401 (a fixture)
    send,
    settle,
    wait_until,
)
from triage.demo.ticketd import TicketServer
from triage.incidents.lifecycle import Policy
from triage.incidents.sqlite import SQLiteStore

DELETE = "AmazonSQS.DeleteMessageBatch"


def _occurrences(db: Path) -> dict[str, int]:
    """Each incident's title and occurrence count, as the SQLite store holds them."""

    async def read() -> dict[str, int]:
        store = SQLiteStore(str(db), Policy(), timedelta(minutes=2), timedelta(days=30))
        await store.open()
        try:
            return {i.title: i.occurrences for i in await store.incidents()}
        finally:
            await store.aclose()

    return asyncio.run(read())


def test_sigkill_while_the_batch_delete_is_on_the_wire_counts_each_alert_once(
    prod_queues: Queues,  # noqa: F811
    backend: TicketServer,
    tmp_path: Path,
    finish_with_drain: Finisher,  # noqa: F811
) -> None:
    """kill -9 once every ticket is open and the deletes are held on their way to SQS: the
    messages come back to a second daemon, which acks them as the deliveries they are (no
    second ticket, no second occurrence), and nothing reaches the DLQ."""
    keys = [f"delete-kill-{i}" for i in range(4)]
    db = tmp_path / "triage.db"
    with FaultProxy(prod_queues.endpoint) as proxy:
        # Held past the kill and past the finisher's run (about 5 s): the messages come back
        # first, and the late delete finds them gone.
        proxy.delay(DELETE, 20.0)
        settings = settings_for(
            prod_queues,
            backend.url,
            db,
            queue_url=proxy.queue_url(prod_queues.url),
            aws_endpoint_url=proxy.url,
            concurrency=4,
            visibility_timeout_s=3,
        )
        daemon = Daemon(settings, log_dir=tmp_path)
        try:
            send(prod_queues, *(generic(k) for k in keys))
            wait_until(lambda: len(backend.tickets) == len(keys), 30, "every ticket opened")
            wait_until(lambda: proxy.requests(DELETE) >= 1, 30, "a batch delete on the wire")
            daemon.signal(signal.SIGKILL)
            assert daemon.wait(timeout=10) == -signal.SIGKILL
        finally:
            daemon.kill()
        assert "message.acked" not in [e["event"] for e in daemon.events()]
        finisher = settings.model_copy(
            update={"queue_url": prod_queues.url, "aws_endpoint_url": prod_queues.endpoint}
        )
        result = finish_with_drain(finisher)
    # Every message came back (its delete was still held), and each was taken for a delivery
    # of an alert already counted.
    lines = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    acked = [e["actions"] for e in lines if e["event"] == "message.acked"]
    assert acked == [["ignore"]] * len(keys)
    settle(backend)
    assert_one_ticket_each(backend, len(keys))
    assert _occurrences(db) == {f"{k} failed": 1 for k in keys}
    assert prod_queues.depth() == 0
    assert prod_queues.dead_letters() == []
