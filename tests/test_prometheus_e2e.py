"""The real Prometheus as a sender: its notifier, pointed at `triage ingest` as at an
Alertmanager (`path_prefix`, the alertmanager token as `authorization`), delivers a firing alert
to the queue, then its resolve.

The rule fires until Prometheus has delivered a notification (it scrapes its own
`prometheus_notifications_sent_total` every second), so it resolves by itself as soon as the
firing alert is through, whatever the machine's speed. Prometheus looks its Alertmanagers up
only on a 5 s tick, after it starts and again after each reload: changing the rule file and
sending SIGHUP would add those 5 s, and the resolve path is the same.

Skipped when the binary is missing, except under CI=true, where it fails (tests/programs.py).
Every process listens on 127.0.0.1; every wait has a deadline.
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from daemon_harness import Queues
from ingest_harness import TOKENS, ingest_settings, running
from programs import program_or_skip
from test_ingest_alertmanager import readme_block
from triage.models import Alert, Status, fingerprint_of
from triage.normalize import normalize_body
from triage.normalize.common import queued_at

#: Prometheus' first notification waits for its Alertmanager discovery (~5 s); room for a
#: loaded CI machine.
DEADLINE_S = 30
LABELS = {"alertname": "TriageAlwaysFiring", "team": "payments", "priority": "P2"}


#: True until a scrape of Prometheus itself shows a notification delivered.
UNTIL_DELIVERED = "absent(prometheus_notifications_sent_total > 0)"


def rules() -> str:
    """One rule group evaluated every second, its rule firing until a notification is through."""
    rule = {
        "alert": LABELS["alertname"],
        "expr": UNTIL_DELIVERED,
        "labels": {"team": LABELS["team"], "priority": LABELS["priority"]},
        "annotations": {"summary": "always firing", "runbook_url": "https://runbooks.example/x"},
    }
    return yaml.safe_dump({"groups": [{"name": "triage", "interval": "1s", "rules": [rule]}]})


def prometheus_config(gateway_port: int, own_port: int) -> str:
    """The README's `alerting:` block, pointed at the gateway on 127.0.0.1 (plain HTTP, a path
    prefix, the test's token); Prometheus scrapes itself every second."""
    alerting = yaml.safe_load(readme_block("prometheus-alerting"))["alerting"]
    [manager] = alerting["alertmanagers"]
    manager.update(
        scheme="http",
        path_prefix="/triage",
        static_configs=[{"targets": [f"127.0.0.1:{gateway_port}"]}],
        timeout="5s",
    )
    manager["authorization"]["credentials"] = TOKENS["alertmanager"]
    return yaml.safe_dump(
        {
            "global": {"evaluation_interval": "1s", "scrape_interval": "1s"},
            "scrape_configs": [
                {"job_name": "self", "static_configs": [{"targets": [f"127.0.0.1:{own_port}"]}]}
            ],
            "rule_files": ["rules.yml"],
            "alerting": alerting,
        }
    )


class Prometheus:
    """The real Prometheus on 127.0.0.1 (a free port), re-sending alerts every second; its
    log goes to a file."""

    def __init__(self, binary: str, workdir: Path, gateway_port: int) -> None:
        own_port = free_port()  # its scrape of itself must name the port before it starts
        (workdir / "rules.yml").write_text(rules())
        (workdir / "prometheus.yml").write_text(prometheus_config(gateway_port, own_port))
        self.log_path = workdir / "prometheus.log"
        with self.log_path.open("w") as log:
            self.process = subprocess.Popen(
                [
                    binary,
                    f"--config.file={workdir / 'prometheus.yml'}",
                    f"--storage.tsdb.path={workdir / 'data'}",
                    f"--web.listen-address=127.0.0.1:{own_port}",
                    "--rules.alert.resend-delay=1s",
                ],
                cwd=workdir,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def binary() -> str:
    return program_or_skip("prometheus", install="Debian: apt-get install -y prometheus")


def take(queues: Queues) -> list[Alert]:
    """The alerts of the messages now on the queue, each read as of its SentTimestamp (as the
    daemon reads them); the messages are deleted so the queue stays shallow."""
    sqs = queues.client()
    response = sqs.receive_message(
        QueueUrl=queues.url, MaxNumberOfMessages=10, AttributeNames=["SentTimestamp"]
    )
    out: list[Alert] = []
    for message in response.get("Messages", []):
        sent = datetime.fromtimestamp(int(message["Attributes"]["SentTimestamp"]) / 1000, UTC)
        with queued_at(sent):
            out.extend(normalize_body(message["Body"]).alerts)
        sqs.delete_message(QueueUrl=queues.url, ReceiptHandle=message["ReceiptHandle"])
    return out


async def until(
    queues: Queues, wanted: Callable[[Alert], bool], prometheus: Prometheus
) -> list[Alert]:
    """Alerts taken from the queue until one is `wanted`; fails at the deadline, or if
    Prometheus exits, with its log."""
    seen: list[Alert] = []
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline and prometheus.process.poll() is None:
        seen.extend(await asyncio.to_thread(take, queues))
        if any(wanted(alert) for alert in seen):
            return seen
        await asyncio.sleep(0.1)
    log = prometheus.log_path.read_text(errors="replace")[-3000:]
    pytest.fail(f"no wanted alert among {[a.status for a in seen]}; Prometheus said:\n{log}")


async def test_real_prometheus_fires_and_resolves_through_the_gateway(
    binary: str, queues: Queues, tmp_path: Path
) -> None:
    """Prometheus' own notifier posts its firing alert to /triage/api/v2/alerts with the
    alertmanager token, and the queue holds it firing with the fingerprint an Alertmanager
    webhook gives those labels; once the rule stops matching, it holds the same alert
    resolved."""
    settings = ingest_settings(queues.url, queues.endpoint)
    async with running(settings) as gateway:
        prometheus = Prometheus(binary, tmp_path, gateway.port)
        try:
            fired = await until(queues, lambda a: a.status is Status.FIRING, prometheus)
            resolved = await until(queues, lambda a: a.status is Status.RESOLVED, prometheus)
        finally:
            prometheus.stop()
    expected = fingerprint_of("alertmanager", LABELS)
    first = fired[0]
    assert (first.source, first.fingerprint, first.team) == ("alertmanager", expected, "payments")
    assert first.runbook_url == "https://runbooks.example/x"
    assert resolved[-1].fingerprint == expected
