"""A FIFO queue, which triage cannot send to (it gives no MessageGroupId): the gateway, the
daemon and `triage send` stop at start with one config line, and a send SQS refuses for what
FIFO requires is the gateway's 503 (the sender retries), never a 422 that loses the alert."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import boto3
import pytest
from structlog.testing import capture_logs

from daemon_harness import Queues, daemon_env, settings_for
from ingest_harness import SqsProxy, bearer, env_for, ingest_settings, loopback_client, running
from test_ingest_gateway import post_batched
from triage.cli import main
from triage.errors import ConfigError

#: What the one config line says, whoever stops on a FIFO queue.
SAYS = "is a FIFO queue: SQS refuses a send to it without a MessageGroupId"
#: SQS's answers to a send to a FIFO queue without what FIFO requires.
NO_GROUP = ("MissingParameter", "The request must contain the parameter MessageGroupId.")
NO_DEDUPLICATION = (
    "InvalidParameterValue",
    "The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId "
    "provided explicitly",
)
#: … and the rest of it.
REST = (
    ", which triage never gives (the gateway, `triage send`, a redrive by batches): "
    "use a standard queue"
)


def fifo_queue(moto_url: str) -> Queues:
    """A FIFO queue on moto (its name ends `.fifo`, as SQS requires)."""
    sqs = boto3.client("sqs", endpoint_url=moto_url, region_name="us-east-1")
    name = f"alerts-{uuid.uuid4().hex[:12]}.fifo"
    url = sqs.create_queue(QueueName=name, Attributes={"FifoQueue": "true"})["QueueUrl"]
    return Queues(moto_url, url, "")


def says_fifo(answer: dict[str, Any]) -> dict[str, Any]:
    """GetQueueAttributes' answer as SQS gives it for a FIFO queue."""
    return {"Attributes": {**answer.get("Attributes", {}), "FifoQueue": "true"}}


@pytest.fixture
def proxy(moto_url: str) -> Any:
    with SqsProxy(moto_url) as running_proxy:
        yield running_proxy


def config_line(capsys: pytest.CaptureFixture[str]) -> str:
    """The one `triage:` line on stderr."""
    (line,) = [x for x in capsys.readouterr().err.splitlines() if x.startswith("triage:")]
    return line


# --- The gateway ------------------------------------------------------------------------------


def test_the_gateway_stops_at_start_on_a_fifo_queue_with_exit_2(
    moto_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`triage ingest` in front of a FIFO queue exits 2 with one config line naming the queue
    and FIFO, instead of answering every webhook 422 (lost alerts)."""
    queue = fifo_queue(moto_url)
    for name, value in env_for(ingest_settings(queue.url, moto_url)).items():
        if name not in {"PATH", "PYTHONPATH", "HOME"}:
            monkeypatch.setenv(name, value)
    assert main(["ingest"]) == 2
    assert config_line(capsys) == f"triage: config: ALERT_TRIAGE_QUEUE_URL {queue.url} {SAYS}{REST}"


async def test_the_gateway_stops_when_sqs_says_fifo_of_a_queue_not_named_so(
    queues: Queues, proxy: SqsProxy
) -> None:
    """A queue whose GetQueueAttributes says FifoQueue true (a stand-in's name aside) stops the
    gateway's start with the same ConfigError: SQS's word decides, not only the name."""
    proxy.rewrite("AmazonSQS.GetQueueAttributes", says_fifo)
    with pytest.raises(ConfigError, match="is a FIFO queue"):
        async with running(ingest_settings(proxy.queue_url(queues.url), proxy.url)):
            pass


async def test_a_send_refused_for_no_group_id_is_503_not_422(
    queues: Queues, proxy: SqsProxy
) -> None:
    """Batch entries SQS fails as MissingParameter (SenderFault: the request lacks a
    MessageGroupId) are 503 with Retry-After, so senders retry; not 422, which they drop.
    One warning says why."""
    settings = ingest_settings(queues.url, proxy.url, ingest_linger_ms=100)

    def refuse_all(answer: dict[str, Any]) -> dict[str, Any]:
        ids = [entry["Id"] for entry in answer.get("Successful", [])]
        code, message = NO_GROUP
        failed = [{"Id": i, "SenderFault": True, "Code": code, "Message": message} for i in ids]
        return {"Successful": [], "Failed": failed}

    bodies = [json.dumps({"title": f"alert {i}"}).encode() for i in range(2)]
    async with running(settings) as service, loopback_client(service.port) as client:
        proxy.rewrite("AmazonSQS.SendMessageBatch", refuse_all)
        with capture_logs() as logs:
            answers = await post_batched(client, proxy, bodies)
    assert [a.status_code for a in answers] == [503, 503]
    assert all("retry-after" in a.headers for a in answers)
    fifo_lines = [e for e in logs if e["event"] == "ingest.queue_refuses_fifo_send"]
    assert len(fifo_lines) == 1 and fifo_lines[0]["error"] == "MissingParameter", logs


async def test_a_queue_found_fifo_after_start_is_not_ready_and_its_refusals_are_503(
    queues: Queues, proxy: SqsProxy
) -> None:
    """A queue SQS says is FIFO only after the gateway started (it did not answer at first):
    /readyz turns 503 naming it (`queue: fifo`, not `unreachable`), and a send refused for its missing MessageDeduplicationId
    (InvalidParameterValue, a SenderFault) is 503, not 422."""
    settings = ingest_settings(proxy.queue_url(queues.url), proxy.url)
    async with running(settings) as service, loopback_client(service.port) as client:
        proxy.rewrite("AmazonSQS.GetQueueAttributes", says_fifo)
        proxy.refuse("AmazonSQS.SendMessage", 400, *NO_DEDUPLICATION)
        assert service.gateway is not None
        await service.gateway.probe.refresh()  # the next probe, without its 10 s wait
        ready = await client.get("/readyz")
        answer = await client.post(
            "/v1/alerts/generic", content=b'{"title": "disk full"}', headers=bearer("generic")
        )
    assert ready.status_code == 503 and ready.json()["failing"]["queue"] == "fifo", ready.text
    assert answer.status_code == 503, answer.text
    assert "retry-after" in answer.headers


# --- The daemon -------------------------------------------------------------------------------


@pytest.mark.parametrize("said_by", ["name", "sqs"])
def test_the_daemon_stops_at_start_on_a_fifo_queue_with_exit_2(
    said_by: str,
    moto_url: str,
    queues: Queues,
    proxy: SqsProxy,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`triage run` on a FIFO queue (named `.fifo`, or said FIFO by GetQueueAttributes) exits
    2 with one config line: the gateway and a redrive could never write to it."""
    if said_by == "name":
        queue = fifo_queue(moto_url)
    else:
        proxy.rewrite("AmazonSQS.GetQueueAttributes", says_fifo)
        queue = Queues(proxy.url, proxy.queue_url(queues.url), "")
    for name, value in daemon_env(
        settings_for(queue, "http://127.0.0.1:9", tmp_path / "t.db")
    ).items():
        monkeypatch.setenv(name, value)
    assert main(["run", "--drain"]) == 2
    line = config_line(capsys)
    assert line.startswith(f"triage: config: ALERT_TRIAGE_QUEUE_URL {queue.url} {SAYS}"), line


# --- triage send ------------------------------------------------------------------------------


def test_send_refuses_a_fifo_queue_with_one_line(
    moto_url: str,
    queues: Queues,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`triage send --queue-url` naming a FIFO queue exits 2 with one config line naming it,
    instead of a refusal per file."""
    queue = fifo_queue(moto_url)
    for name, value in daemon_env(
        settings_for(queues, "http://127.0.0.1:9", tmp_path / "t.db")
    ).items():
        monkeypatch.setenv(name, value)
    body = tmp_path / "alert.json"
    body.write_text('{"title": "disk full"}')
    assert main(["send", "--queue-url", queue.url, str(body)]) == 2
    line = config_line(capsys)
    assert line.startswith(f"triage: config: --queue-url {queue.url} {SAYS}"), line


def test_a_standard_queue_is_still_sent_to(
    queues: Queues, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The FIFO refusal does not touch a standard queue: `triage send` queues the body."""
    for name, value in daemon_env(
        settings_for(queues, "http://127.0.0.1:9", tmp_path / "t.db")
    ).items():
        monkeypatch.setenv(name, value)
    body = tmp_path / "alert.json"
    body.write_text('{"title": "disk full"}')
    assert main(["send", str(body)]) == 0
    assert queues.depth() == 1


# --- triage dlq redrive -----------------------------------------------------------------------


def test_a_redrive_by_batches_refuses_a_fifo_queue_with_one_line(
    moto_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`triage dlq redrive` (by batches, which send without a MessageGroupId) on a FIFO queue
    exits 2 with one config line before it takes a letter off the DLQ."""
    queue = fifo_queue(moto_url)
    for name, value in daemon_env(
        settings_for(queue, "http://127.0.0.1:9", tmp_path / "t.db")
    ).items():
        monkeypatch.setenv(name, value)
    assert main(["dlq", "redrive"]) == 2
    line = config_line(capsys)
    assert line.startswith(f"triage: config: ALERT_TRIAGE_QUEUE_URL {queue.url} {SAYS}"), line


async def test_a_send_refused_whole_for_no_group_id_marks_the_gateway_not_ready(
    queues: Queues, proxy: SqsProxy
) -> None:
    """SendMessage answered 400 MissingParameter (the call refused whole, no entry to blame):
    503 with Retry-After, one error line saying the queue is FIFO, and /readyz 503, so a load
    balancer stops sending to a gateway that can queue nothing."""
    settings = ingest_settings(queues.url, proxy.url)
    async with running(settings) as service, loopback_client(service.port) as client:
        proxy.refuse("AmazonSQS.SendMessage", 400, *NO_GROUP)
        with capture_logs() as logs:
            answers = [
                await client.post(
                    "/v1/alerts/generic",
                    content=b'{"title": "disk full"}',
                    headers=bearer("generic"),
                )
                for _ in range(2)
            ]
        ready = await client.get("/readyz")
    assert [a.status_code for a in answers] == [503, 503]
    fifo_lines = [e for e in logs if e["event"] == "ingest.queue_refuses_fifo_send"]
    assert len(fifo_lines) == 1, logs
    assert ready.status_code == 503 and "queue" in ready.json()["failing"], ready.text
