"""Fault injection against the daemon (as a process where a kill or a signal is the fault): moto's SQS with a real DLQ (redrive after 5
receives, as in production), loopback services that fail on cue. Each test asserts that no
message is lost, no ticket is duplicated, and the daemon stays alive.

The LLM-down scenario lives with the other LLM tests: `test_daemon_llm.py::
test_llm_down_loses_nothing_and_counts_the_fallbacks`. GitHub's secondary rate limit is added
separately. Faults the AWS side cannot produce on its own (a failed entry in a
batch delete) are injected by `fault_proxy.FaultProxy` in front of moto."""

from __future__ import annotations

import json
import logging
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterator, MutableMapping
from pathlib import Path
from typing import Any

import boto3
import pytest
import structlog

from daemon_harness import (
    TOKEN,
    Daemon,
    DaemonThread,
    Queues,
    daemon_env,
    make_queues,
    run_in_process,
    settings_for,
)
from fault_proxy import FaultProxy
from triage.demo.ticketd import TicketServer
from triage.settings import Settings


def generic(key: str, status: str = "firing") -> dict[str, Any]:
    return {"title": f"{key} failed", "source": "cron", "status": status, "dedup_key": key}


@pytest.fixture
def prod_queues(moto_url: str) -> Queues:
    """The queue with production's redrive policy: the DLQ after 5 receives."""
    return make_queues(moto_url, max_receive_count=5)


Events = list[MutableMapping[str, Any]]


@pytest.fixture
def events(monkeypatch: pytest.MonkeyPatch) -> Iterator[Events]:
    """The events of the test's in-process daemon (`DaemonThread`) at debug and up, with what
    it binds per message (`message_id`), as its log lines carry them."""
    monkeypatch.setenv("BACKEND_TOKEN", TOKEN)
    saved = structlog.get_config()
    capture = structlog.testing.LogCapture()
    structlog.configure(
        processors=[structlog.contextvars.merge_contextvars, capture],
        wrapper_class=structlog.make_filtering_bound_logger(logging.DEBUG),
        cache_logger_on_first_use=False,
    )
    yield capture.entries
    structlog.configure(**saved)


def wait_until(predicate: Any, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def test_a_long_backend_outage_dead_letters_nothing(
    prod_queues: Queues, backend: TicketServer, tmp_path: Path, events: Events
) -> None:
    """The backend answers 503 to everything through five failed probes, far longer than five
    receives' backoff: the sink's breaker pauses intake, the messages in hand are held, the
    backend is probed without spending messages, and after recovery every incident gets exactly
    one ticket, with nothing in the DLQ and the daemon still running."""
    backend.down = True
    keys = [f"outage-{i}" for i in range(20)]
    prod_queues.send(*(generic(k) for k in keys))
    settings = settings_for(
        prod_queues,
        backend.url,
        tmp_path / "triage.db",
        concurrency=4,
        sink_breaker_failures=3,
        # Half the held messages' 1 s recheck, which probes the half-open breaker: at 1 s a
        # recheck that came just before the breaker went half-open waited a second more.
        sink_breaker_reset_s=0.5,
        retry_base_s=0.2,
        retry_max_s=1,
    )
    daemon = DaemonThread(settings)
    try:
        wait_until(
            lambda: sum(e["event"] == "sink.probe_failed" for e in events) >= 5,
            60,
            "five failed probes of the backend",
        )
        during = backend.request_count
        backend.down = False
        wait_until(lambda: len(backend.tickets) >= len(keys), 90, "every ticket after recovery")
        wait_until(lambda: prod_queues.depth() == 0, 30, "the queue to empty")
        assert daemon.alive(), "the daemon died during the outage"
    finally:
        daemon.stop()
    posts = Counter(t["body"]["fingerprint"] for t in backend.tickets)
    assert len(posts) == len(keys) and set(posts.values()) == {1}
    assert prod_queues.dead_letters() == []
    names = [e["event"] for e in events]
    assert "intake.resumed" in names
    assert "sink.probe_ok" in names
    # Paused, not spinning: the failed POSTs before the breaker opened and the probes, no flood.
    probes = names.count("sink.probe_failed")
    assert during <= 8 + probes


# --- Helpers for the scenarios below -------------------------------------------------------


def send(queues: Queues, *bodies: str | dict[str, Any]) -> list[str]:
    """Queue `bodies` one by one; their SQS message ids, in order."""
    sqs = queues.client()
    ids = []
    for body in bodies:
        text = body if isinstance(body, str) else json.dumps(body)
        ids.append(sqs.send_message(QueueUrl=queues.url, MessageBody=text)["MessageId"])
    return ids


def visible(queues: Queues) -> int:
    attrs = queues.client().get_queue_attributes(
        QueueUrl=queues.url, AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"])


def held(backend: TicketServer) -> int:
    """Requests the slow backend holds right now (arrived, not yet answered)."""
    return backend.arrivals - backend.request_count


def settle(backend: TicketServer) -> None:
    """Wait until every request the backend ever received was answered: a request a killed or
    cancelled client left behind still creates its ticket when its delay ends."""
    wait_until(lambda: held(backend) == 0, 30, "the backend to answer every held request")


def assert_one_ticket_each(backend: TicketServer, incidents: int) -> None:
    posts = Counter(t["body"]["fingerprint"] for t in backend.tickets)
    assert len(posts) == incidents, posts
    assert set(posts.values()) == {1}, posts


def stopped(daemon: Daemon) -> dict[str, Any]:
    """The daemon's closing counters line."""
    (line,) = [e for e in daemon.events() if e["event"] == "daemon.stopped"]
    return line


#: A second daemon, `triage run --drain` with these settings, that takes over whatever the
#: first one left and must exit 0: its output.
Finisher = Callable[[Settings], subprocess.CompletedProcess[str]]


@pytest.fixture
def finish_with_drain(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Finisher:
    """The finisher runs in this process: what it proves (each effect redone once, nothing
    lost) is the same as a process's, without a new interpreter's start; only the first
    daemon, which is killed or signalled, has to be a process."""

    def finish(settings: Settings) -> subprocess.CompletedProcess[str]:
        # Short polls: the drain's empty receives answer at once (a long poll held the drain a
        # second per empty receive while the killed messages were still hidden, and at its end).
        drainer = settings.model_copy(update={"sqs_wait_time": 0})
        result = run_in_process(monkeypatch, capsys, "run", "--drain", env=daemon_env(drainer))
        assert result.returncode == 0, result.stderr[-3000:]
        return result

    return finish


def stop(daemon: Daemon, timeout_s: float = 30) -> None:
    """The daemon is still alive, and SIGTERM stops it cleanly."""
    assert daemon.process.poll() is None, f"the daemon died:\n{daemon.log[-3000:]}"
    daemon.signal(signal.SIGTERM)
    assert daemon.wait(timeout=timeout_s) == 0, daemon.log[-3000:]


# --- Scenarios -------------------------------------------------------------------------------


def test_sigkill_mid_flight_then_a_second_daemon_redoes_each_effect_once(
    prod_queues: Queues, backend: TicketServer, tmp_path: Path, finish_with_drain: Finisher
) -> None:
    """kill -9 while the backend holds requests: a second daemon redoes the unconfirmed effects
    under the same Idempotency-Key, so every incident has exactly one ticket and nothing is lost."""
    # Held until after the kill, and answered (the ticket made) before the killed messages
    # reappear and their effects are redone, a second later.
    backend.delay_s = 2.0
    keys = [f"kill-{i}" for i in range(6)]
    prod_queues.send(*(generic(k) for k in keys))
    # A short lease: a killed delivery's claims are taken over once it ends, not before. It
    # ends when the killed messages reappear (the shortest visibility SQS allows, 3 s), so the
    # finisher does not sit out a longer one.
    settings = settings_for(
        prod_queues,
        backend.url,
        tmp_path / "triage.db",
        concurrency=3,
        visibility_timeout_s=3,
        message_timeout_s=2.5,
        effect_lease_s=3,
    )
    daemon = Daemon(settings, log_dir=tmp_path)
    try:
        wait_until(lambda: held(backend) == 3, 30, "three requests held by the backend")
        daemon.signal(signal.SIGKILL)
        assert daemon.wait(timeout=10) == -signal.SIGKILL
    finally:
        daemon.kill()
    killed_mid_flight = backend.arrivals
    assert "message.acked" not in [e["event"] for e in daemon.events()]

    backend.delay_s = 0
    finish_with_drain(settings)
    settle(backend)
    assert_one_ticket_each(backend, len(keys))
    # The held requests were sent again after the kill and answered as replays, not new tickets.
    assert backend.request_count == len(keys) + killed_mid_flight
    assert prod_queues.depth() == 0
    assert prod_queues.dead_letters() == []


def test_sigterm_with_20_in_flight_finishes_them_and_loses_none(
    prod_queues: Queues, backend: TicketServer, tmp_path: Path, finish_with_drain: Finisher
) -> None:
    """SIGTERM with 20 requests in flight: the daemon finishes and acks all 20 within the grace
    and exits 0; a finisher takes the rest; every incident exactly one POST, one ticket."""
    # Held until the daemon is draining them (released below), so the first requests are
    # still held when the 20th arrives, however loaded the machine; at most 15 s.
    backend.delay_s = 15.0
    keys = [f"term-{i}" for i in range(30)]
    prod_queues.send(*(generic(k) for k in keys))
    grace_s = 20.0
    settings = settings_for(
        prod_queues, backend.url, tmp_path / "triage.db", concurrency=20, shutdown_grace_s=grace_s
    )
    daemon = Daemon(settings, log_dir=tmp_path)
    try:
        wait_until(lambda: held(backend) == 20, 30, "20 requests held by the backend")
        daemon.signal(signal.SIGTERM)
        wait_until(
            lambda: (
                [e["in_flight"] for e in daemon.events() if e["event"] == "daemon.draining"] == [20]
            ),
            30,
            "the daemon to drain its 20 messages in flight",
        )
        backend.release_held()
        # Within the grace: the held requests end now, so waiting it out would be a bug.
        assert daemon.wait(timeout=grace_s) == 0, daemon.log[-3000:]
    finally:
        daemon.kill()
    counters = stopped(daemon)
    assert counters["received"] == 20
    assert counters["acked"] == 20
    assert counters["released_on_shutdown"] == 0
    assert_one_ticket_each(backend, 20)

    backend.delay_s = 0
    finish_with_drain(settings)
    assert_one_ticket_each(backend, len(keys))
    assert backend.request_count == len(keys)
    assert prod_queues.depth() == 0
    assert prod_queues.dead_letters() == []


def test_grace_exceeded_releases_unfinished_messages_for_a_finisher(
    prod_queues: Queues, backend: TicketServer, tmp_path: Path, finish_with_drain: Finisher
) -> None:
    """A backend slower than the shutdown grace: the daemon exits 0 once the grace is over,
    makes the unfinished messages visible again at once, and a finisher tickets each once."""
    backend.delay_s = 6.0
    keys = [f"grace-{i}" for i in range(4)]
    prod_queues.send(*(generic(k) for k in keys))
    grace_s = 1.5
    settings = settings_for(
        prod_queues,
        backend.url,
        tmp_path / "triage.db",
        concurrency=4,
        shutdown_grace_s=grace_s,
        # Long, so only the release at shutdown can make them visible again in time.
        visibility_timeout_s=60,
        backend_timeout_s=30,
    )
    daemon = Daemon(settings, log_dir=tmp_path)
    try:
        wait_until(lambda: held(backend) == 4, 30, "four requests held by the backend")
        signalled = time.monotonic()
        daemon.signal(signal.SIGTERM)
        assert daemon.wait(timeout=grace_s + 15) == 0, daemon.log[-3000:]
        assert time.monotonic() - signalled >= grace_s  # it did give them the grace
    finally:
        daemon.kill()
    counters = stopped(daemon)
    assert counters["acked"] == 0
    assert counters["released_on_shutdown"] == 4
    released = [e for e in daemon.events() if e["event"] == "daemon.released"]
    assert [e["count"] for e in released] == [4]
    wait_until(lambda: visible(prod_queues) == 4, 10, "the released messages to be visible")

    backend.delay_s = 0
    finish_with_drain(settings)
    # The stopped daemon's requests, still held while the finisher redid them, end now.
    backend.release_held()
    settle(backend)
    assert_one_ticket_each(backend, len(keys))
    assert prod_queues.depth() == 0
    assert prod_queues.dead_letters() == []


def test_heartbeat_hides_a_slow_message_from_a_second_consumer(
    prod_queues: Queues, backend: TicketServer, tmp_path: Path, events: Events
) -> None:
    """A message worked on for several visibility timeouts stays hidden by the heartbeat while a
    second daemon polls: only one daemon ever receives it, and it becomes one ticket. (The
    second, which only polls, runs in this process: `events` are its own.)"""
    backend.delay_s = 10.0  # two and a half visibility timeouts
    settings = settings_for(
        prod_queues,
        backend.url,
        tmp_path / "triage.db",
        visibility_timeout_s=4,
        backend_timeout_s=30,
        log_level="debug",
    )
    first = Daemon(settings, log_dir=tmp_path)
    second: DaemonThread | None = None
    try:
        (message_id,) = send(prod_queues, generic("slow-one"))
        wait_until(lambda: backend.arrivals == 1, 30, "the first daemon to reach the backend")
        second = DaemonThread(settings)
        wait_until(
            lambda: any(e["event"] == "daemon.started" for e in events),
            30,
            "the second daemon to poll",
        )
        wait_until(lambda: backend.request_count == 1, 30, "the slow request to be answered")
        wait_until(lambda: prod_queues.depth() == 0, 30, "the message to be acked")
        stop(first)
        assert second.alive(), "the second daemon died"
    finally:
        first.kill()
        if second is not None:
            second.stop()
    assert stopped(first)["received"] == 1
    (second_stopped,) = [e for e in events if e["event"] == "daemon.stopped"]
    assert second_stopped["received"] == 0
    assert backend.arrivals == 1
    assert len(backend.tickets) == 1
    extended = [e for e in first.events() if e["event"] == "heartbeat.extended"]
    assert len(extended) >= 3  # 10 s of work at a 4 s timeout, extended every 1-2 s
    assert [e["message_id"] for e in first.events() if e["event"] == "message.acked"] == [
        message_id
    ]
    assert prod_queues.dead_letters() == []


def test_failed_entry_in_a_batch_delete_is_not_acked_and_ends_once(
    prod_queues: Queues, backend: TicketServer, tmp_path: Path, events: Events
) -> None:
    """DeleteMessageBatch fails one entry twice running (its try and its one retry; injected
    by a proxy in front of moto): the daemon logs it once, does not count it acked, and the
    redelivered message is deduplicated by the store, so it still ends as exactly one ticket.
    (The first message is sent alone, so its delete is the one failed.)"""
    keys = [f"delete-{i}" for i in range(3)]
    with FaultProxy(prod_queues.endpoint) as proxy:
        proxy.fail_deletes(2)
        settings = settings_for(
            prod_queues,
            backend.url,
            tmp_path / "triage.db",
            queue_url=proxy.queue_url(prod_queues.url),
            aws_endpoint_url=proxy.url,
            concurrency=1,
            visibility_timeout_s=3,
        )
        daemon = DaemonThread(settings)
        try:
            ids = send(prod_queues, generic(keys[0]))
            wait_until(lambda: len(proxy.failed_deletes) == 2, 30, "a delete failed twice")
            ids += send(prod_queues, *(generic(k) for k in keys[1:]))
            failed_id, again = proxy.failed_deletes
            assert again == failed_id  # the retry sent the failed entry again
            wait_until(lambda: prod_queues.depth() == 0, 30, "every message to be deleted")
            assert daemon.alive(), "the daemon died"
        finally:
            daemon.stop()
    assert failed_id in ids
    failures = [e for e in events if e["event"] == "message.delete_failed"]
    assert [(e["message_id"], e["code"]) for e in failures] == [(failed_id, "InternalError")]
    acked = Counter(e["message_id"] for e in events if e["event"] == "message.acked")
    assert acked == Counter(ids)  # the failed delete was not logged as an ack: its redelivery is
    [redelivered] = [
        e for e in events if e["event"] == "message.acked" and e["message_id"] == failed_id
    ]
    assert redelivered["actions"] == ["ignore"]  # its alert was applied already: not counted again
    (counters,) = [e for e in events if e["event"] == "daemon.stopped"]
    assert counters["received"] == len(keys) + 1  # the failed one came back once
    assert counters["acked"] == len(keys)
    assert_one_ticket_each(backend, len(keys))
    assert backend.request_count == len(keys)  # the repeat was deduplicated before the backend
    assert prod_queues.dead_letters() == []


#: Waves of repeats at most before the racing daemons' writes must have collided.
RACE_WAVES = 4


def test_two_daemons_racing_on_dynamodb_open_one_ticket_per_incident(
    prod_queues: Queues, backend: TicketServer, tmp_path: Path, events: Events
) -> None:
    """Two daemons on one DynamoDB table race on the same incidents: conditional writes fail
    (counted at the protocol), yet each incident is claimed and ticketed once, with no DLQ.
    (One is a process, the other a thread of this process: `events` are its own.)"""
    ddb = boto3.client("dynamodb", endpoint_url=prod_queues.endpoint, region_name="us-east-1")
    ddb.create_table(
        TableName="incidents",
        KeySchema=[{"AttributeName": "fingerprint", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "fingerprint", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    backend.delay_s = 0.5  # an open takes a while, so repeats arrive while it is pending
    keys = [f"race-{i}" for i in range(3)]
    bodies = [generic(keys[i % len(keys)]) for i in range(30)]
    with FaultProxy(prod_queues.endpoint) as proxy:
        settings = settings_for(
            prod_queues,
            backend.url,
            tmp_path / "unused.db",
            queue_url=proxy.queue_url(prod_queues.url),
            aws_endpoint_url=proxy.url,
            store_url="dynamodb://incidents",
            concurrency=4,
            retry_base_s=1,
        )
        process = Daemon(settings, log_dir=tmp_path)
        thread: DaemonThread | None = None
        try:
            thread = DaemonThread(settings)
            wait_until(
                lambda: (
                    any(e["event"] == "daemon.started" for e in process.events())
                    and any(e["event"] == "daemon.started" for e in events)
                ),
                30,
                "both daemons to poll",
            )
            sqs = prod_queues.client()
            # Waves of the same repeats until the two daemons' writes have collided (the race
            # this test proves safe); on a loaded machine one wave may pass without a collision.
            for _wave in range(RACE_WAVES):
                for first in range(0, len(bodies), 10):
                    entries = [
                        {"Id": str(n), "MessageBody": json.dumps(b)}
                        for n, b in enumerate(bodies[first : first + 10])
                    ]
                    sqs.send_message_batch(QueueUrl=prod_queues.url, Entries=entries)
                wait_until(lambda: prod_queues.depth() == 0, 60, "every message to be acked")
                if proxy.errors("ConditionalCheckFailedException"):
                    break
            stop(process)
            assert thread.alive(), "the daemon in this process died"
        finally:
            process.kill()
            if thread is not None:
                thread.stop()
        conflicts = proxy.errors("ConditionalCheckFailedException")
    both = [*process.events(), *events]
    opened = [e for e in both if e["event"] == "alert.decided" and e["action"] == "open"]
    assert len(opened) == len(keys)
    assert_one_ticket_each(backend, len(keys))
    assert backend.request_count == len(keys)
    assert prod_queues.dead_letters() == []
    # And it was a race: both took messages, and conditional writes lost to each other.
    (in_thread,) = [e for e in events if e["event"] == "daemon.stopped"]
    assert stopped(process)["received"] > 0 and in_thread["received"] > 0, (
        "one daemon took everything"
    )
    assert conflicts > 0, "no conditional write ever failed"


def test_poison_messages_reach_the_dlq_after_5_receives_while_good_ones_land(
    prod_queues: Queues, backend: TicketServer, tmp_path: Path, events: Events
) -> None:
    """Bodies that are not JSON, of no known shape, over 1 MiB and nested too deep each go to
    the DLQ after 5 receives, rejected with a logged reason every time; the good ones around
    them are ticketed once and the daemon stays alive."""
    poison = {
        "not-json": ("decode", "not valid JSON", '{"title": "half an alert'),
        "unknown-shape": ("unknown_format", "", json.dumps({"hello": "world", "n": 1})),
        # 600 Ki two-byte characters: under moto's limit in characters, over 1 MiB in UTF-8.
        "too-large": (
            "decode",
            "over the 1,048,576-byte limit",
            '{"title": "' + "é" * 600_000 + '"}',
        ),
        "too-deep": ("decode", "nested", '{"a":' * 100 + "1" + "}" * 100),
    }
    keys = [f"good-{i}" for i in range(3)]
    settings = settings_for(
        prod_queues, backend.url, tmp_path / "triage.db", concurrency=4, retry_base_s=0.1
    )
    daemon = DaemonThread(settings)
    try:
        good_ids = send(prod_queues, generic(keys[0]))
        poison_ids = dict(
            zip(poison, send(prod_queues, *(body for _, _, body in poison.values())), strict=True)
        )
        good_ids += send(prod_queues, *(generic(k) for k in keys[1:]))
        wait_until(
            lambda: len(prod_queues.dead_letters()) == len(poison), 60, "the poison in the DLQ"
        )
        wait_until(lambda: prod_queues.depth() == 0, 30, "the queue to empty")
        assert daemon.alive(), "the daemon died"
    finally:
        daemon.stop()
    assert sorted(prod_queues.dead_letters()) == sorted(body for _, _, body in poison.values())
    assert_one_ticket_each(backend, len(keys))
    for name, message_id in poison_ids.items():
        reason, words, _ = poison[name]
        rejected = [
            e for e in events if e["event"] == "message.rejected" and e["message_id"] == message_id
        ]
        assert [e["receive_count"] for e in rejected] == [1, 2, 3, 4, 5], name
        assert {e["reason"] for e in rejected} == {reason}, name
        assert all(words in e["error"] for e in rejected), (name, rejected[0]["error"])
    acked = Counter(e["message_id"] for e in events if e["event"] == "message.acked")
    assert acked == Counter(good_ids)


def test_resolve_behind_a_killed_daemons_open_waits_instead_of_dead_lettering(
    prod_queues: Queues, backend: TicketServer, tmp_path: Path, finish_with_drain: Finisher
) -> None:
    """After kill -9 mid-open, the incidents' resolves wait out the dead worker's effect lease
    instead of burning their receives into the DLQ: each incident is opened once and closed once."""
    backend.delay_s = 3.0
    keys = [f"orphan-{i}" for i in range(2)]
    prod_queues.send(*(generic(k) | {"timestamp": "2026-11-23T09:00:00Z"} for k in keys))
    settings = settings_for(
        prod_queues,
        backend.url,
        tmp_path / "triage.db",
        concurrency=2,
        # The dead worker's messages come back after 8 s; its effects may be taken over after 6.
        visibility_timeout_s=8,
        effect_lease_s=6,
        message_timeout_s=5,
        retry_base_s=0.2,
        retry_max_s=5,
        backend_resolve_route="/api/service/tickets/{ref}/resolve",
    )
    daemon = Daemon(settings, log_dir=tmp_path)
    try:
        wait_until(lambda: held(backend) == 2, 30, "both opens held by the backend")
        daemon.signal(signal.SIGKILL)
        daemon.wait(timeout=10)
    finally:
        daemon.kill()
    resolved = {"status": "resolved", "timestamp": "2026-11-23T09:05:00Z"}
    prod_queues.send(*(generic(k) | resolved for k in keys))

    backend.delay_s = 0
    finish_with_drain(settings)
    settle(backend)
    assert prod_queues.dead_letters() == []
    assert_one_ticket_each(backend, len(keys))
    assert sorted(e["kind"] for e in backend.events) == ["resolve"] * len(keys)
    assert prod_queues.depth() == 0
