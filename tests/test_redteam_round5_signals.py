"""Red team round 5: can operators trust what triage says about itself? Each test here shows
one way a signal (a metric, a log line, an answer of the operator's API) says something that
is not so, and is marked xfail (strict) until the cause it names is fixed."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
import re
import uuid
from collections.abc import AsyncIterator, MutableMapping
from datetime import timedelta
from pathlib import Path
from typing import Any

import boto3
import httpx2
import pytest
import structlog
from botocore.exceptions import ClientError
from pydantic import SecretStr

from daemon_harness import Queues, settings_for
from test_check_round4_dlq import DAY_S, queue_line, queue_with_dlq
from test_dlq import Dlq, fill_dlq
from test_dlq import dlq as dlq  # `triage dlq ARGS` in process, on moto's SQS
from test_pipeline import CountingSummariser
from test_store import LEASE, POLICY
from triage.aws import Aws
from triage.health import Health
from triage.incidents import Store
from triage.incidents.silences import SilenceCache
from triage.incidents.sqlite import SQLiteStore
from triage.logs import configure_logging
from triage.metrics import MAX_SERIES_PER_METRIC, Metrics
from triage.ops.api import OperatorView, operator_routes
from triage.ops.check import run_checks
from triage.ops.endpoints import EndpointServer
from triage.ops.http_server import DEFAULT_LIMITS
from triage.settings import Settings
from triage.sqs.depth import DepthPoller

Logs = list[MutableMapping[str, Any]]

# --- metrics.py ---------------------------------------------------------------------------------


def test_a_gauge_set_and_cleared_again_and_again_keeps_showing_its_value() -> None:
    """A dimensioned gauge that is unknown now and then (cleared, then set again) is still
    shown after more cycles than MAX_SERIES_PER_METRIC: it is one series, not a new one per
    cycle."""
    metrics = Metrics()
    for _ in range(MAX_SERIES_PER_METRIC + 1):
        metrics.set("BudgetTokens", 5, budget="github")
        metrics.clear("BudgetTokens", budget="github")
    metrics.set("BudgetTokens", 7, budget="github")
    shown = {key: gauge.value for key, gauge in metrics.gauges().items()}
    assert shown == {("BudgetTokens", (("budget", "github"),)): 7.0}


class _FlakySqs:
    """An in-memory stand-in for SQS's GetQueueAttributes that fails every `every`th call (a
    flaky network for a day of polls; 1: an outage); the queue has no redrive policy."""

    def __init__(self, every: int = 2) -> None:
        self.calls = 0
        self.every = every

    async def get_queue_attributes(self, **_: Any) -> dict[str, Any]:
        self.calls += 1
        if self.calls % self.every == 0:
            error = {"Error": {"Code": "ServiceUnavailable", "Message": "try again"}}
            raise ClientError(error, "GetQueueAttributes")  # type: ignore[arg-type]
        return {
            "Attributes": {
                "ApproximateNumberOfMessages": "3",
                "ApproximateNumberOfMessagesNotVisible": "1",
                "ApproximateNumberOfMessagesDelayed": "0",
            }
        }


async def test_a_thousand_poll_outages_do_not_make_the_depth_gauges_too_many_series(
    logs: Logs,
) -> None:
    """Polls that fail and recover over and over (a flaky network for a day) leave the depth
    gauges one series each: no `metrics.too_many_series` warning, and the last good poll's
    depth is shown."""
    metrics = Metrics()
    poller = DepthPoller(_FlakySqs(), "https://sqs.eu-west-1.amazonaws.com/1/q", metrics, 30)
    for _ in range(MAX_SERIES_PER_METRIC + 2):
        await poller.poll()  # works
        await poller.poll()  # fails, clears the gauges
    assert await poller.poll() is not None
    assert [e for e in logs if e["event"] == "metrics.too_many_series"] == []
    assert metrics.gauges()[("QueueMessagesVisible", ())].value == 3


# --- ops/api.py ---------------------------------------------------------------------------------

TOKEN = "op-token-" + "r5" * 12
BEARER = {"Authorization": f"Bearer {TOKEN}"}


@contextlib.asynccontextmanager
async def _operator_api(
    store: Store, metrics: Metrics | None = None, depth: DepthPoller | None = None
) -> AsyncIterator[httpx2.AsyncClient]:
    """The operator's API and status page on the daemon's endpoint server, on 127.0.0.1, over
    `store` (with the daemon's `metrics` and queue-depth poller, when given)."""
    settings = Settings(api_token=SecretStr(TOKEN))
    aws = Aws(settings)
    metrics = metrics or Metrics()
    summariser = CountingSummariser()
    view = OperatorView(
        settings, store, SilenceCache(store), [], summariser, Health(), aws, metrics, depth
    )
    server = EndpointServer(Health(), metrics, "127.0.0.1", 0, extra_routes=operator_routes(view))
    await server.start()
    try:
        async with httpx2.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as client:
            yield client
    finally:
        await server.aclose()
        await aws.aclose()


@contextlib.asynccontextmanager
async def _sqlite(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    store = SQLiteStore(str(tmp_path / "t.db"), POLICY, LEASE, timedelta(days=30))
    await store.open()
    try:
        yield store
    finally:
        await store.aclose()


async def test_expiring_a_silence_twice_logs_one_expiry(tmp_path: Path, logs: Logs) -> None:
    """The audit trail names each silence expiry once: a DELETE of a silence expired already
    (a retry, a second operator) answers without a second `api.silence_expired` line."""
    body = {"matchers": ["team=payments"], "duration": "2h", "comment": "deploy", "author": "al"}
    async with _sqlite(tmp_path) as store, _operator_api(store) as client:
        made = await client.post("/api/v1/silences", json=body, headers=BEARER)
        assert made.status_code == 201, made.text
        path = f"/api/v1/silences/{made.json()['id']}"
        assert (await client.delete(path, headers=BEARER)).status_code == 200
        await client.delete(path, headers=BEARER)
    expired = [e for e in logs if e["event"] == "api.silence_expired"]
    assert len(expired) == 1, expired


# --- logs.py ------------------------------------------------------------------------------------


def test_log_level_error_writes_no_warning_line_of_a_library() -> None:
    """TRIAGE_LOG_LEVEL=error: neither triage's own warnings nor a library's reach the log;
    an error of either does."""
    stream = io.StringIO()
    configure_logging("json", "error", stream)
    structlog.get_logger("triage.test").warning("ours.warning")
    logging.getLogger("botocore.credentials").warning("library warning")
    logging.getLogger("botocore.credentials").error("library error")
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1 and "library error" in lines[0], lines


# --- ops/dlq.py ---------------------------------------------------------------------------------


def test_peek_does_not_say_the_dlq_holds_only_what_it_showed(queues: Queues, dlq: Dlq) -> None:
    """A DLQ of 12 letters peeked at with the default --max 10: the summary line does not say
    the DLQ holds 10 (it names 12, or says there are more than it showed)."""
    fill_dlq(queues, *(json.dumps({"title": f"t{n}", "dedup_key": f"k{n}"}) for n in range(12)))
    result = dlq("peek")
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == 10
    summary = result.stderr.strip().splitlines()[-1]
    assert re.search(r"\b12\b|at least|more|first", summary), summary


async def test_status_page_views_in_a_queue_outage_are_not_counted_as_failed_polls(
    tmp_path: Path,
) -> None:
    """While SQS is down, the daemon's poller failed once; three views of the status page
    neither call SQS nor count three more failed polls: QueueDepthPollFailures stays what
    the poller did."""
    metrics = Metrics()
    sqs = _FlakySqs(every=1)  # every call fails
    poller = DepthPoller(sqs, "https://sqs.eu-west-1.amazonaws.com/1/q", metrics, 60)
    assert await poller.poll() is None
    async with _sqlite(tmp_path) as store, _operator_api(store, metrics, poller) as client:
        for _ in range(3):
            page = await client.get("/", headers=BEARER)
            assert page.status_code == 200 and "could not be read" in page.text
    assert (sqs.calls, metrics.counter("QueueDepthPollFailures")) == (1, 1)


# --- cli.py (`triage health`) ------------------------------------------------------------------


async def test_health_probe_reaches_the_daemon_with_an_egress_proxy_set(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """With HTTP_PROXY set (for the task's calls out) and no NO_PROXY, `triage health` still
    asks the daemon's own endpoint on 127.0.0.1 and exits 0 while it is alive."""
    from triage.cli import main

    server = EndpointServer(Health(), Metrics(), "127.0.0.1", 0)
    await server.start()
    try:
        monkeypatch.setenv("TRIAGE_HTTP_PORT", str(server.port))
        monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # nothing listens there
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        code = await asyncio.to_thread(main, ["health"])
    finally:
        await server.aclose()
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert '"alive": true' in captured.out


# --- ops/check.py -------------------------------------------------------------------------------


def test_check_never_advises_a_dlq_retention_past_what_sqs_takes(
    moto_url: str, tmp_path: Path
) -> None:
    """A queue and its DLQ both keeping messages 14 days (SQS's most): the queue line does not
    advise setting the DLQ's retention longer, which no SQS queue can be; any advice names
    what can change (the queue's own retention)."""
    line = queue_line(queue_with_dlq(moto_url, 14 * DAY_S, 14 * DAY_S), tmp_path)
    assert "DLQ's MessageRetentionPeriod longer" not in line, line


def test_peeking_twice_shows_the_same_receive_count(queues: Queues, dlq: Dlq) -> None:
    """Two peeks in a row at one dead letter nothing else receives show it with the same
    receive count: looking is not a receive the operator should read as the daemon's."""
    fill_dlq(queues, json.dumps({"title": "backup failed", "dedup_key": "backup"}))
    counts = []
    for _ in range(2):
        result = dlq("peek")
        assert result.returncode == 0, result.stderr
        (row,) = map(json.loads, result.stdout.splitlines())
        counts.append(row["receive_count"])
    assert counts[0] == counts[1], counts


def test_check_warns_of_what_the_daemon_warns_of_at_start(queues: Queues, tmp_path: Path) -> None:
    """TRIAGE_API_TOKEN set with TRIAGE_HTTP_PORT=0 (the operator API can never be served),
    which the daemon warns of as it starts (`config.api_without_port`): `triage check` says
    so in a `warn` line too, not only `ok` lines."""
    settings = settings_for(
        queues,
        "http://127.0.0.1:9",
        tmp_path / "t.db",
        http_port=0,
        api_token=SecretStr("op-token-" + "c" * 24),
    )
    out = io.StringIO()
    asyncio.run(run_checks(settings, out))
    lines = out.getvalue().splitlines()
    assert any(line.startswith("warn") and "TRIAGE_HTTP_PORT" in line for line in lines), lines


# --- ops/http_server.py -------------------------------------------------------------------------


async def test_loopback_connections_held_open_do_not_starve_the_health_check() -> None:
    """Eight connections from 127.0.0.1 that send nothing (a slow client through a tunnel)
    hold their slots; the container's health check, from 127.0.0.1 too, is still answered
    200 (the loopback reserve the README promises while the port is flooded)."""
    server = EndpointServer(Health(), Metrics(), "127.0.0.1", 0)
    await server.start()
    held: list[asyncio.StreamWriter] = []
    try:
        for _ in range(DEFAULT_LIMITS.max_per_peer):
            _, writer = await asyncio.open_connection("127.0.0.1", server.port)
            held.append(writer)
        async with asyncio.timeout(5):
            while server.connections < len(held):  # each accepted and being read
                await asyncio.sleep(0.01)
        async with httpx2.AsyncClient() as client:
            answer = await client.get(f"http://127.0.0.1:{server.port}/healthz")
        assert answer.status_code == 200, answer.text
    finally:
        for writer in held:
            writer.close()
        await server.aclose()


def test_check_does_not_pass_a_fifo_queue_triage_cannot_send_to(
    moto_url: str, tmp_path: Path
) -> None:
    """ALERT_TRIAGE_QUEUE_URL naming a FIFO queue (with a FIFO DLQ keeping letters longer):
    SQS refuses a send without a MessageGroupId, which triage never gives, so the `queue`
    line is not `ok` and says the queue is FIFO."""
    sqs = boto3.client("sqs", endpoint_url=moto_url, region_name="us-east-1")
    name = f"alerts-{uuid.uuid4().hex[:12]}"
    fifo = {"FifoQueue": "true", "MessageRetentionPeriod": str(4 * DAY_S)}
    dlq_keeps = {**fifo, "MessageRetentionPeriod": str(14 * DAY_S)}  # as check advises
    dlq_url = sqs.create_queue(QueueName=f"{name}-dlq.fifo", Attributes=dlq_keeps)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])
    policy = {"deadLetterTargetArn": arn["Attributes"]["QueueArn"], "maxReceiveCount": "5"}
    url = sqs.create_queue(
        QueueName=f"{name}.fifo", Attributes={**fifo, "RedrivePolicy": json.dumps(policy)}
    )["QueueUrl"]
    with pytest.raises(ClientError):  # what the gateway's and `triage send`'s sends meet
        sqs.send_message(QueueUrl=url, MessageBody="{}")
    line = queue_line(Queues(moto_url, url, dlq_url), tmp_path)
    assert not line.startswith("ok") and "FIFO" in line, line
