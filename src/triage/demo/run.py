"""`triage demo`: the real daemon on the embedded default, with no AWS account and no API key.

It starts moto's server in-process on 127.0.0.1 (SQS, a DLQ with a redrive policy, Secrets
Manager), a loopback ticket backend, and runs the same `run_daemon` as `triage run` while it
queues the bundled sample alerts in three waves (fire, repeat, resolve), then prints a report.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from triage.app import RunResult, run_daemon
from triage.aws import Aws
from triage.demo.ticketd import TicketServer
from triage.logs import configure_logging
from triage.metrics import Metrics
from triage.redact import Redactor
from triage.settings import Settings

QUEUE = "triage-demo"
DLQ = "triage-demo-dlq"
SECRET_ID = "triage/demo/backend-token"
#: Low, so the demo's malformed messages reach the DLQ in seconds (production: 5).
MAX_RECEIVE_COUNT = 2
WAVES = {"1": "alerts fire", "2": "the same incidents repeat", "3": "some incidents resolve"}


@dataclass(frozen=True, slots=True)
class DemoAws:
    endpoint: str
    queue_url: str
    dlq_url: str


def sample_bodies() -> dict[str, list[tuple[str, str]]]:
    """The bundled samples by wave: {"1": [(file name, body), …], …}."""
    waves: dict[str, list[tuple[str, str]]] = {wave: [] for wave in WAVES}
    folder = resources.files("triage.demo") / "alerts"
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".json"):
            waves[entry.name[0]].append((entry.name, entry.read_text(encoding="utf-8")))
    return waves


def run_demo(*, verbose: bool = False) -> int:
    from moto.server import ThreadedMotoServer

    configure_logging("console", "info" if verbose else "warning")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's request log
    started = time.monotonic()
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    host, port = moto.get_host_and_port()
    token = "demo-token-" + os.urandom(6).hex()
    backend = TicketServer(token=token)
    backend.start()
    try:
        with tempfile.TemporaryDirectory(prefix="triage-demo-") as tmp:
            # Scoped to this process: boto needs credentials, moto accepts any.
            os.environ.setdefault("AWS_ACCESS_KEY_ID", "demo")
            os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "demo")
            result, aws = asyncio.run(_demo(f"http://{host}:{port}", backend.url, token, Path(tmp)))
            dead = asyncio.run(_dead_letters(aws))
        _report(result, backend.tickets, dead, time.monotonic() - started)
    finally:
        backend.stop()
        moto.stop()
    return 0


async def _demo(
    endpoint: str, backend_url: str, token: str, tmp: Path
) -> tuple[RunResult, DemoAws]:
    aws = await _provision(endpoint, token)
    settings = Settings(
        queue_url=aws.queue_url,
        aws_endpoint_url=endpoint,
        aws_region="us-east-1",
        backend_base_url=backend_url,
        backend_token_secret_id=SECRET_ID,
        # The loopback backend takes updates and resolves, so the demo shows the whole lifecycle.
        backend_update_route="/api/service/tickets/{ref}/updates",
        backend_resolve_route="/api/service/tickets/{ref}/resolve",
        store_url=f"sqlite:///{tmp / 'triage.db'}",
        sqs_wait_time=1,
        retry_base_s=1.0,
        log_format="console",
        # The demo prints its own report: no endpoints to bind, no metric lines on stdout.
        http_port=0,
        metrics="off",
    )
    stop = asyncio.Event()
    metrics = Metrics()
    daemon = asyncio.create_task(run_daemon(settings, metrics=metrics, stop=stop))
    async with _Sqs(settings) as sqs:
        for wave, bodies in sample_bodies().items():
            print(f"wave {wave}: {WAVES[wave]} ({len(bodies)} messages)", file=sys.stderr)
            await sqs.send_message_batch(
                QueueUrl=aws.queue_url,
                Entries=[{"Id": str(i), "MessageBody": body} for i, (_, body) in enumerate(bodies)],
            )
            await _wait_until_empty(sqs, aws.queue_url, daemon)
    stop.set()
    return await daemon, aws


async def _provision(endpoint: str, token: str) -> DemoAws:
    settings = Settings(aws_endpoint_url=endpoint, aws_region="us-east-1")
    async with _Sqs(settings) as sqs:
        dlq_url = (await sqs.create_queue(QueueName=DLQ))["QueueUrl"]
        dlq_arn = (await sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"]))[
            "Attributes"
        ]["QueueArn"]
        redrive = {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(MAX_RECEIVE_COUNT)}
        queue_url = (
            await sqs.create_queue(
                QueueName=QUEUE,
                Attributes={"VisibilityTimeout": "30", "RedrivePolicy": json.dumps(redrive)},
            )
        )["QueueUrl"]
    aws = Aws(settings)
    try:
        secrets = await aws.client("secretsmanager")
        await secrets.create_secret(
            Name=SECRET_ID, SecretString=json.dumps({"BACKEND_TOKEN": token})
        )
    finally:
        await aws.aclose()
    return DemoAws(endpoint, queue_url, dlq_url)


class _Sqs:
    """`async with _Sqs(settings) as sqs`: one SQS client for the demo's own calls."""

    def __init__(self, settings: Settings) -> None:
        self._aws = Aws(settings)

    async def __aenter__(self) -> Any:
        return await self._aws.client("sqs")

    async def __aexit__(self, *exc: object) -> None:
        await self._aws.aclose()


async def _wait_until_empty(
    sqs: Any, queue_url: str, daemon: asyncio.Task[RunResult], timeout_s: float = 60
) -> None:
    """Poll the queue's depth until nothing is visible, in flight or delayed."""
    deadline = time.monotonic() + timeout_s
    names = [
        "ApproximateNumberOfMessages",
        "ApproximateNumberOfMessagesNotVisible",
        "ApproximateNumberOfMessagesDelayed",
    ]
    while time.monotonic() < deadline:
        if daemon.done():
            await daemon  # the daemon died: surface its exception
            raise RuntimeError("the daemon stopped before the queue was empty")
        attrs = (await sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=names))[
            "Attributes"
        ]
        if all(int(attrs.get(n, 0)) == 0 for n in names):
            return
        await asyncio.sleep(0.2)
    raise RuntimeError(f"the queue was not empty after {timeout_s:.0f} s")


async def _dead_letters(aws: DemoAws) -> list[dict[str, Any]]:
    settings = Settings(aws_endpoint_url=aws.endpoint, aws_region="us-east-1")
    async with _Sqs(settings) as sqs:
        response = await sqs.receive_message(
            QueueUrl=aws.dlq_url, MaxNumberOfMessages=10, WaitTimeSeconds=0
        )
    return list(response.get("Messages", []))


def _report(
    result: RunResult, tickets: list[dict[str, Any]], dead: list[dict[str, Any]], elapsed_s: float
) -> None:
    m = result.metrics
    lines = [
        "",
        f"triage demo: {result.stats.received} deliveries handled in {elapsed_s:.1f} s",
        # What the backend was actually sent, not what was decided.
        f"  tickets created      {int(m.counter('TicketsCreated', sink='backend'))}",
        f"  tickets updated      {int(m.counter('TicketsUpdated', sink='backend'))}",
        f"  tickets closed       {int(m.counter('TicketsClosed', sink='backend'))}",
        f"  duplicates suppressed {int(m.total('DuplicatesSuppressed'))}",
        f"  dead letters         {len(dead)}",
        "",
        "tickets the backend received:",
    ]
    for ticket in tickets:
        body = ticket["body"]
        lines.append(
            f"  [{body['priority']:>8}] {body['title']}  ({body['source']}, team {body.get('team') or '-'})"
        )
    redactor = Redactor()
    if dead:
        lines += ["", "dead letters (SQS redrove them after failed receives):"]
        for message in dead:
            failure = result.stats.failures.get(message["MessageId"])
            why = f"{failure.reason}: {failure.error}" if failure else "reason not recorded"
            # Dead letters are alert text, and their errors may quote it: shown redacted.
            why = redactor.text(why)
            preview = redactor.text(" ".join(message["Body"].split())[:50])
            lines.append(f"  {preview!r}\n      why: {why}")
    print("\n".join(lines))
