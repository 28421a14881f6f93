"""Replicas on several hosts share one DynamoDB table, and their clocks may disagree: a host
whose clock runs minutes ahead decides by DynamoDB's time (the `Date` of its answers), so it
neither takes over another replica's effect in progress nor ends its own lease early."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx2
import pytest
import structlog

from daemon_harness import TOKEN, Queues, settings_for
from factories import alert, view
from moto_speed import loopback_aws_client
from test_pipeline import CountingSummariser, FakeSink
from test_store_faults import _SkewedClock
from triage.app import run_daemon
from triage.cli import main
from triage.demo.ticketd import TicketServer
from triage.errors import StoreBusyError
from triage.incidents import Ledger, Policy
from triage.incidents import dynamodb as dynamodb_module
from triage.incidents.codec import view_to_json
from triage.incidents.dynamodb import DynamoDBStore, create_table
from triage.incidents.lifecycle import Action
from triage.incidents.silences import SilenceCache
from triage.incidents.store import delivery_owner
from triage.metrics import Metrics
from triage.models import Status
from triage.ops.sweep import Sweep
from triage.pipeline import Pipeline
from triage.ratelimit import Budget
from triage.redact import Redactor
from triage.sqs.inbox import Message

POLICY = Policy(update_interval=timedelta(minutes=15), reopen_window=timedelta(hours=1))
#: Shorter than the fast host's lead: with each host's own clock, its effect would be taken.
LEASE = timedelta(seconds=150)
AHEAD_S = 180.0

Maker = Callable[[Callable[[], float]], DynamoDBStore]


@pytest.fixture
async def replica(moto_url: str) -> AsyncIterator[Maker]:
    """Makes a replica's store on one moto table, with the host clock given."""
    async with loopback_aws_client("dynamodb", endpoint_url=moto_url) as client:
        await create_table(client, "incidents")

        def make(wall: Callable[[], float]) -> DynamoDBStore:
            return DynamoDBStore(
                client, "incidents", POLICY, LEASE, timedelta(days=30), wall_clock=wall
            )

        yield make


def _ahead(seconds: float) -> Callable[[], float]:
    """A host clock running `seconds` ahead of the real one."""
    return lambda: datetime.now(UTC).timestamp() + seconds


async def test_a_replica_minutes_ahead_waits_for_an_effect_in_progress(replica: Maker) -> None:
    """A replica whose clock is 3 minutes ahead (more than the lease) sees the open another
    replica is carrying out as in progress, and the resolve it receives waits for it, rather
    than taking the open over and carrying it out a second time."""
    slow, fast = replica(_ahead(0)), replica(_ahead(AHEAD_S))
    with structlog.testing.capture_logs() as logs:
        await slow.open()
        await fast.open()
    assert [e["ahead"] for e in logs if e["event"] == "store.clock_skew"] == [True]
    opening = await Ledger(slow).store.begin(alert(), delivery_owner("m1#0", "a"), slow.now())
    assert opening.action is Action.OPEN
    fast_ledger = Ledger(fast)
    assert abs((fast_ledger.clock() - slow.now()).total_seconds()) < 3
    resolved = alert(status=Status.RESOLVED, minutes=1)
    with pytest.raises(StoreBusyError):
        await fast.begin(resolved, delivery_owner("m2#0", "b"), fast_ledger.clock())


async def test_the_sweep_of_a_replica_minutes_ahead_leaves_a_close_in_progress_alone(
    replica: Maker,
) -> None:
    """An operator's close is being carried out by one replica; the sweep of a replica whose
    clock is 3 minutes ahead sees it in progress and leaves it (by its own clock the lease had
    ended, and it closed the ticket a second time)."""
    slow, fast = replica(_ahead(0)), replica(_ahead(AHEAD_S))
    await slow.open()
    await fast.open()
    opened = await slow.begin(alert(), "m1#0@a", slow.now())
    await slow.confirm(opened.fingerprint, "m1#0@a", "backend", "T-1", finish=True)
    note = view_to_json(view(alert(status=Status.RESOLVED)))
    closing = await slow.close(opened.fingerprint, "cli", slow.now(), note)
    assert closing.action is Action.CLOSE
    sink = FakeSink()
    pipeline = Pipeline(Ledger(fast), CountingSummariser(), [sink], Metrics(), redactor=Redactor())
    await Sweep(fast, pipeline, SilenceCache(fast, 1), None, 5).once()
    assert sink.effects == []
    stored = await slow.get(opened.fingerprint)
    assert stored is not None and stored.pending is not None and stored.pending.owner == "cli"


async def test_a_replica_minutes_behind_believes_an_alert_stamped_now(replica: Maker) -> None:
    """A replica whose clock is 10 minutes behind receives an alert stamped now: it is not
    taken for one from the future (by its own clock it was, and was dated back to the
    receive, 10 minutes before a resolve another replica had applied, and ignored)."""
    behind = replica(_ahead(-600.0))
    await behind.open()
    real_now = datetime.now(UTC)
    sink = FakeSink()
    pipeline = Pipeline(
        Ledger(behind), CountingSummariser(), [sink], Metrics(), redactor=Redactor()
    )
    body = {"title": "disk full", "dedup_key": "disk-a", "timestamp": real_now.isoformat()}
    host_now = real_now - timedelta(seconds=600)
    message = Message("m1", json.dumps(body), "rh-1", 1, real_now, received_at=host_now)
    with structlog.testing.capture_logs() as logs:
        [outcome] = await pipeline.process(message)
    assert outcome.action is Action.OPEN
    assert [e for e in logs if e["event"] == "alert.future_time"] == []
    stored = await behind.get(outcome.fingerprint)
    assert stored is not None and stored.last_event_at == real_now


async def test_a_host_clock_stepped_while_running_is_followed(
    replica: Maker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A host clock that NTP steps 3 minutes ahead after start-up is caught at the next
    comparison with DynamoDB's answers, and corrected again when it is stepped back."""
    monkeypatch.setattr(dynamodb_module, "CLOCK_CHECK_S", 0.0)  # compare on every read
    lead = [0.0]
    store = replica(lambda: datetime.now(UTC).timestamp() + lead[0])
    await store.open()
    lead[0] = AHEAD_S
    await store.get("f" * 32)
    assert abs((store.now() - datetime.now(UTC)).total_seconds()) < 3
    lead[0] = 0.0
    with structlog.testing.capture_logs() as logs:
        await store.get("f" * 32)
    assert abs((store.now() - datetime.now(UTC)).total_seconds()) < 3
    assert [e["event"] for e in logs if e["event"].startswith("store.clock")] == [
        "store.clock_agrees"
    ]


async def test_a_replica_minutes_ahead_draws_on_the_shared_budget_as_the_others_do(
    replica: Maker,
) -> None:
    """GitHub's issue budget is shared in the store and refills with time: a replica whose
    clock is 3 minutes ahead finds the budget another replica just spent still spent (with
    its own clock it found it refilled, and created issues past GitHub's limit)."""
    slow, fast = replica(_ahead(0)), replica(_ahead(AHEAD_S))
    await slow.open()
    await fast.open()
    budget = Budget("github-create-minute", capacity=2, period_s=60)
    now_s = datetime.now(UTC).timestamp()
    assert [await slow.take_token(budget, now_s) for _ in range(2)] == [0.0, 0.0]
    assert await fast.take_token(budget, now_s + AHEAD_S) > 0  # what its own clock says


def test_a_silence_added_from_a_laptop_minutes_behind_starts_now(
    moto_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`triage silence add` run where the clock is 10 minutes behind DynamoDB's (the replicas'
    time) dates the silence by DynamoDB's time: it lasts the hour asked for (by the laptop's
    clock it began 10 minutes ago and ended 10 minutes early for every replica)."""
    asyncio.run(_table(moto_url))
    with _SkewedClock(moto_url, 600.0) as proxy:
        monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.url)
        monkeypatch.setenv("TRIAGE_STORE_URL", "dynamodb://incidents")
        monkeypatch.setenv("BACKEND_BASE_URL", "https://tickets.example")
        monkeypatch.setenv("TRIAGE_LOG_LEVEL", "error")
        args = ["silence", "add", "--match", "team=payments", "--for", "1h", "--comment", "drill"]
        assert main(args) == 0
    added = json.loads(capsys.readouterr().out.splitlines()[-1])
    replicas_now = datetime.now(UTC) + timedelta(seconds=600)
    assert abs((datetime.fromisoformat(added["starts_at"]) - replicas_now).total_seconds()) < 5


async def _table(moto_url: str) -> None:
    async with loopback_aws_client("dynamodb", endpoint_url=moto_url) as client:
        await create_table(client, "incidents")


async def test_a_silence_added_through_a_replicas_api_is_dated_by_the_stores_time(
    moto_url: str,
    queues: Queues,
    backend: TicketServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A daemon whose host clock is 10 minutes behind DynamoDB's dates a silence added through
    its API as the other replicas do: it starts now by DynamoDB's time (it began 10 minutes
    early, and ended so, for every replica in step). The daemon runs as a task of this loop,
    its API asked from a thread."""
    await _table(moto_url)
    monkeypatch.setenv("BACKEND_TOKEN", TOKEN)
    port, token = _free_port(), "t" * 24
    with _SkewedClock(moto_url, 600.0) as proxy:
        settings = settings_for(
            queues,
            backend.url,
            tmp_path / "unused.db",
            aws_endpoint_url=proxy.url,
            store_url="dynamodb://incidents",
            http_port=port,
            api_token=token,
        )
        stop = asyncio.Event()
        daemon = asyncio.create_task(run_daemon(settings, stop=stop))
        try:
            body = {"matchers": ["team=payments"], "duration": "1h", "comment": "drill"}
            url = f"http://127.0.0.1:{port}/api/v1/silences"
            added = await asyncio.to_thread(_post_when_up, url, token, body)
        finally:
            stop.set()
            await asyncio.wait_for(daemon, 30)
    replicas_now = datetime.now(UTC) + timedelta(seconds=600)
    assert abs((datetime.fromisoformat(added["starts_at"]) - replicas_now).total_seconds()) < 5


def _post_when_up(url: str, token: str, body: dict[str, object]) -> dict[str, Any]:
    """POST `body` once the daemon answers (within a generous deadline: a hang, not speed)."""
    deadline = time.monotonic() + 20
    with httpx2.Client() as client:
        while True:
            try:
                answer = client.post(url, json=body, headers={"Authorization": f"Bearer {token}"})
            except httpx2.TransportError:
                assert time.monotonic() < deadline, "the daemon's API never answered"
                time.sleep(0.05)
                continue
            assert answer.status_code in (200, 201), answer.text
            found: dict[str, Any] = answer.json()
            return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port
