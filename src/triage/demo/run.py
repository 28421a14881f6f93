"""`triage demo`: the real daemon on the embedded default, with no AWS account and no API key.

It starts moto's server in-process on 127.0.0.1 (SQS, a DLQ with a redrive policy, Secrets
Manager), a loopback ticket backend, and runs the same `run_daemon` as `triage run` while it
queues the bundled sample alerts in three waves (fire, repeat, resolve), then prints a report
(`report.py`). With `--llm stub` the daemon writes new tickets through the LLM path, against
the loopback OpenAI-compatible model (`model.py`), which answers one alert with invalid JSON
(so the fallback writes that ticket) and invents facts for another (so grounding marks them).
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
from triage.demo.model import ChatServer, Reply, alert_in, completion, default_model
from triage.demo.report import ModelRun, report
from triage.demo.ticketd import TicketServer
from triage.logs import configure_logging
from triage.metrics import Metrics
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


def run_demo(*, verbose: bool = False, llm: str = "none") -> int:
    """Run the demo; `llm` is "none" (the deterministic summariser) or "stub" (the LLM path
    against the loopback model)."""
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
    chat = ChatServer() if llm == "stub" else None
    if chat is not None:
        chat.responder = demo_model
        chat.start()
    try:
        with tempfile.TemporaryDirectory(prefix="triage-demo-") as tmp:
            # Scoped to this process: boto needs credentials, moto accepts any.
            os.environ.setdefault("AWS_ACCESS_KEY_ID", "demo")
            os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "demo")
            result, aws = asyncio.run(
                _demo(f"http://{host}:{port}", backend.url, token, Path(tmp), chat)
            )
            dead = asyncio.run(_dead_letters(aws))
        model = ModelRun(chat.url, chat.requests) if chat is not None else None
        print(report(result, backend.tickets, dead, time.monotonic() - started, model))
    finally:
        if chat is not None:
            chat.stop()
        backend.stop()
        moto.stop()
    return 0


def demo_model(request: dict[str, Any]) -> Reply:
    """The loopback model of `--llm stub`: a faithful ticket for most alerts; for the checkout
    latency alert an answer that is not JSON (the deterministic summariser writes that ticket),
    and for the disk alert a gullible one stating facts no alert holds (grounding marks them)."""
    title = str(alert_in(request).get("title", ""))
    if title.startswith("CheckoutLatencyHigh"):
        return completion("Sure! Here is the ticket you asked for: the checkout is slow.")
    return default_model(request, gullible=title.startswith("DiskAlmostFull"))


async def _demo(
    endpoint: str, backend_url: str, token: str, tmp: Path, chat: ChatServer | None
) -> tuple[RunResult, DemoAws]:
    aws = await _provision(endpoint, token)
    # With the loopback model: the LLM path, with a key that is only a placeholder.
    model = (
        {"openai_api_key": "sk-demo-" + os.urandom(8).hex(), "openai_base_url": chat.url}
        if chat is not None
        else {}
    )
    settings = Settings(
        **model,  # type: ignore[arg-type]
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
        # The DLQ keeps letters longer than the queue keeps messages (`triage check` asks it).
        keeps = {"MessageRetentionPeriod": "1209600"}
        dlq_url = (await sqs.create_queue(QueueName=DLQ, Attributes=keeps))["QueueUrl"]
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
