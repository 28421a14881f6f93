"""A real client end to end: Debian's prometheus-alertmanager, configured with the README's own
blocks, fires and resolves alerts through `triage ingest` (webhook) or SNS (its JSON template)
to the daemon (in a thread of this process), which opens and then closes exactly one ticket per
alert.

Skipped when the binary is missing, except under CI=true, where it fails (tests/programs.py).
Every process listens on 127.0.0.1; every wait has a deadline.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import httpx2
import pytest
import yaml

from daemon_harness import TOKEN, DaemonThread, Queues, settings_for
from ingest_harness import (
    TOKENS,
    Alertmanager,
    IngestProcess,
    alertmanager_or_skip,
    ingest_settings,
    queue_arn,
    wait_for,
)
from triage.demo.ticketd import TicketServer

README = Path(__file__).resolve().parents[1] / "README.md"
#: Long enough for Alertmanager's group_wait, our gateway and the daemon's 1 s long poll, with
#: room for a loaded CI machine.
DEADLINE_S = 60


def readme_block(name: str) -> str:
    """The fenced block right after `<!-- tested: NAME` in the README."""
    text = README.read_text(encoding="utf-8")
    marker = text.index(f"<!-- tested: {name}")
    start = text.index("\n", text.index("```", marker)) + 1
    return text[start : text.index("```", start)]


@pytest.fixture
def binary() -> str:
    return alertmanager_or_skip()


def alerts(ended: bool = False) -> list[dict[str, Any]]:
    """Two alerts of one rule on two instances; `ended` posts them again as resolved."""
    description = 'p99 latency is "1.7 s"\nabove the 1 s objective \\ see the runbook'
    out = []
    for instance in ("checkout-1:8080", "checkout-2:8080"):
        alert: dict[str, Any] = {
            "labels": {
                "alertname": "HighRequestLatency",
                "instance": instance,
                "team": "payments",
                "priority": "P1",
            },
            "annotations": {"summary": f"High latency on {instance}", "description": description},
            "generatorURL": "http://prometheus.example.com/graph?g0.expr=latency",
        }
        if ended:
            # Ended now: past by the time Alertmanager reads it, and after the firing's start
            # (Alertmanager's clock when it was posted), which a second ago may not be.
            alert["endsAt"] = datetime.now(UTC).isoformat()
        out.append(alert)
    return out


def fire_and_resolve(
    alertmanager_url: str, backend: TicketServer, daemon: DaemonThread, processes: list[Any]
) -> None:
    """Post the alerts, wait for their two tickets, post them resolved, wait for two closes;
    then exactly one ticket per alert was opened and closed."""

    def alive() -> bool:
        return daemon.alive() and all(p.process.poll() is None for p in processes)

    def post(ended: bool) -> None:
        response = httpx2.post(f"{alertmanager_url}/api/v2/alerts", json=alerts(ended), timeout=10)
        assert response.status_code == 200, response.text

    post(ended=False)
    assert wait_for(lambda: len(backend.tickets) >= 2 or not alive(), DEADLINE_S), "no tickets"
    post(ended=True)

    def closed() -> list[dict[str, Any]]:
        return [e for e in backend.events if e["kind"] == "resolve"]

    assert wait_for(lambda: len(closed()) >= 2 or not alive(), DEADLINE_S), backend.events
    tickets = backend.tickets
    assert len(tickets) == 2
    assert sorted(t["body"]["title"] for t in tickets) == [
        "HighRequestLatency: High latency on checkout-1:8080",
        "HighRequestLatency: High latency on checkout-2:8080",
    ]
    assert {t["body"]["source"] for t in tickets} == {"alertmanager"}
    assert {t["body"]["team"] for t in tickets} == {"payments"}
    assert sorted(e["id"] for e in closed()) == sorted(t["id"] for t in tickets)


@pytest.fixture
def daemon(
    queues: Queues, backend: TicketServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[DaemonThread]:
    """The daemon in a thread of this process (what is proven here is Alertmanager's side)."""
    monkeypatch.setenv("BACKEND_TOKEN", TOKEN)
    settings = settings_for(
        queues,
        backend.url,
        tmp_path / "triage.db",
        backend_update_route="/api/service/tickets/{ref}/updates",
        backend_resolve_route="/api/service/tickets/{ref}/resolve",
    )
    running = DaemonThread(settings)
    try:
        yield running
    finally:
        running.stop()


def test_alertmanager_webhook_through_the_gateway_opens_and_closes_one_ticket_per_alert(
    binary: str, queues: Queues, backend: TicketServer, daemon: DaemonThread, tmp_path: Path
) -> None:
    """Alertmanager's webhook_configs (the README's block, bearer token in http_config) →
    triage ingest → SQS → the daemon: two alerts fire, then resolve; two tickets open, both close."""
    gateway = IngestProcess(ingest_settings(queues.url, queues.endpoint), tmp_path / "ingest")
    alertmanager = None
    try:
        url = gateway.wait_listening()
        config = yaml.safe_load(readme_block("alertmanager-webhook"))
        # Notified at once: Alertmanager's grouping waits are not under test.
        config["route"].update(group_wait="100ms", group_interval="100ms")
        (receiver,) = config["receivers"]
        (webhook,) = receiver["webhook_configs"]
        webhook["url"] = f"{url}/v1/alerts/alertmanager"
        webhook["http_config"]["authorization"]["credentials"] = TOKENS["alertmanager"]
        alertmanager = Alertmanager(yaml.safe_dump(config), tmp_path / "alertmanager")
        fire_and_resolve(alertmanager.wait_listening(), backend, daemon, [gateway, alertmanager])
    finally:
        if alertmanager is not None:
            alertmanager.stop()
        gateway.stop()
    outcomes = [(e["event"], e["status"]) for e in gateway.events() if e["event"].startswith("ingest.")
                and e["event"] != "ingest.listening" and "status" in e]  # fmt: skip
    assert outcomes and set(outcomes) == {("ingest.accepted", 202)}
    assert TOKENS["alertmanager"] not in gateway.log_path.read_text()


@pytest.mark.parametrize("raw_delivery", [False, True], ids=["sns-envelope", "raw-delivery"])
def test_alertmanager_sns_template_opens_and_closes_one_ticket_per_alert(
    binary: str,
    queues: Queues,
    backend: TicketServer,
    daemon: DaemonThread,
    tmp_path: Path,
    raw_delivery: bool,
) -> None:
    """Alertmanager's sns_configs with the README's JSON template → SNS (moto) → the queue →
    the daemon, with quotes, a backslash and a line break in an annotation: same tickets."""
    sns = boto3.client("sns", endpoint_url=queues.endpoint, region_name="us-east-1")
    topic = sns.create_topic(Name="triage-alerts")["TopicArn"]
    sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=queue_arn(queues),
        Attributes={"RawMessageDelivery": str(raw_delivery).lower()},
    )
    config = yaml.safe_load(readme_block("alertmanager-sns"))
    # Notified at once: Alertmanager's grouping waits are not under test.
    config["route"].update(group_wait="100ms", group_interval="100ms")
    (receiver,) = config["receivers"]
    (target,) = receiver["sns_configs"]
    target.update(
        topic_arn=topic,
        api_url=queues.endpoint,
        sigv4={"region": "us-east-1", "access_key": "testing", "secret_key": "testing"},
    )
    alertmanager = Alertmanager(
        yaml.safe_dump(config),
        tmp_path / "alertmanager",
        templates={"triage.tmpl": readme_block("sns-template")},
    )
    try:
        fire_and_resolve(alertmanager.wait_listening(), backend, daemon, [alertmanager])
    finally:
        alertmanager.stop()
    description = backend.tickets[0]["body"]["description"]
    assert 'p99 latency is "1.7 s"' in description
    assert "above the 1 s objective \\ see the runbook" in description


def test_amp_definition_uses_the_tested_template_and_every_config_checks(
    binary: str, tmp_path: Path
) -> None:
    """The AMP block carries exactly the tested template, and `amtool check-config` accepts the
    README's Alertmanager configurations with it."""
    definition = yaml.safe_load(readme_block("amp-definition"))
    assert definition["template_files"]["triage.tmpl"] == readme_block("sns-template")
    amtool = shutil.which("amtool")
    if amtool is None:
        pytest.skip("amtool is not installed beside prometheus-alertmanager")
    (tmp_path / "triage.tmpl").write_text(readme_block("sns-template"))
    configs = {
        "webhook.yml": readme_block("alertmanager-webhook"),
        "sns.yml": readme_block("alertmanager-sns"),
        "amp.yml": "templates: [triage.tmpl]\n" + definition["alertmanager_config"],
    }
    for name, text in configs.items():
        (tmp_path / name).write_text(text)
        result = subprocess.run(
            [amtool, "check-config", name],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert result.returncode == 0, f"{name}: {result.stdout}{result.stderr}"
        if name != "webhook.yml":
            assert " - 1 templates" in result.stdout, result.stdout


def test_ci_installs_alertmanager_and_requires_this_test() -> None:
    """.ci/run installs Debian's package when it is missing and sets CI=true, which turns a skip
    here into a failure."""
    ci = (Path(__file__).resolve().parents[1] / ".ci" / "run").read_text(encoding="utf-8")
    assert "export CI=true" in ci
    assert "[prometheus-alertmanager]=prometheus-alertmanager" in ci
    assert "apt-get install -y --no-install-recommends" in ci
    assert ci.index("apt-get update") < ci.index("apt-get install")
