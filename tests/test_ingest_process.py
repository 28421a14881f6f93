"""`python -m triage ingest` as a process: configuration errors, the shared health endpoints,
the SIGTERM drain with a request in flight; and the gateway in front of the real daemon."""

from __future__ import annotations

import json
import os
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest

from daemon_harness import TOKEN, Queues, run_in_process, settings_for
from ingest_harness import (
    TOKENS,
    IngestProcess,
    SqsProxy,
    bearer,
    env_for,
    ingest_settings,
    payload,
    post_once,
    sentry_headers,
    wait_for,
)
from triage.app import run_daemon
from triage.cli import main
from triage.demo.ticketd import TicketServer


@pytest.fixture
def proxy(moto_url: str) -> Iterator[SqsProxy]:
    with SqsProxy(moto_url) as running_proxy:
        yield running_proxy


@pytest.mark.parametrize(
    ("tokens", "says"),
    [
        (None, "no ingest tokens: set TRIAGE_INGEST_TOKENS_SECRET_ID or TRIAGE_INGEST_TOKENS"),
        ('{"grafana": "short"}', "the grafana token is shorter than 16 characters"),
        ('{"grafna": "0123456789abcdef0123"}', "unknown source(s) grafna"),
        ("not json", "TRIAGE_INGEST_TOKENS is not JSON"),
    ],
)
def test_configuration_errors_stop_with_one_line_and_exit_2(
    queues: Queues,
    tokens: str | None,
    says: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Missing, weak or misspelt tokens stop `triage ingest` at once, naming the problem but
    never a token's value (the CLI's own code in this process; the exit of a real process is
    test_missing_queue_url_exits_2's)."""
    settings = ingest_settings(queues.url, queues.endpoint, ingest_tokens=tokens)
    for name in [k for k in os.environ if k.startswith(("TRIAGE_", "BACKEND_", "OPENAI_"))]:
        monkeypatch.delenv(name)
    for name, value in env_for(settings).items():
        monkeypatch.setenv(name, value)
    assert main(["ingest"]) == 2
    stderr = capsys.readouterr().err
    (line,) = [x for x in stderr.splitlines() if x.startswith("triage: config:")]
    assert says in line
    assert "short" not in line.split(":", 2)[-1].replace("shorter", "")


def test_missing_queue_url_exits_2(
    queues: Queues, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without ALERT_TRIAGE_QUEUE_URL the gateway has nowhere to put a body: exit 2."""
    env = env_for(ingest_settings(queues.url, queues.endpoint))
    del env["ALERT_TRIAGE_QUEUE_URL"]
    result = run_in_process(monkeypatch, capsys, "ingest", env=env)
    assert result.returncode == 2
    assert "ALERT_TRIAGE_QUEUE_URL" in result.stderr


def test_image_health_check_and_metrics_work_for_the_gateway(
    queues: Queues,
    tmp_path: Path,
    unused_tcp_port: int,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`triage health` (the image's HEALTHCHECK) passes against the gateway's TRIAGE_HTTP_PORT,
    whose /metrics counts the gateway's requests."""
    settings = ingest_settings(queues.url, queues.endpoint, http_port=unused_tcp_port)
    gateway = IngestProcess(settings, tmp_path)
    try:
        url = gateway.wait_listening()
        response = httpx2.post(
            f"{url}/v1/alerts/generic",
            content=payload("generic/firing.json"),
            headers=bearer("generic"),
        )
        assert response.status_code == 202
        # The check's own code in this process: a new interpreter's start is not under test.
        env = env_for(settings)
        assert run_in_process(monkeypatch, capsys, "health", env=env).returncode == 0
        assert run_in_process(monkeypatch, capsys, "health", "--ready", env=env).returncode == 0
        metrics = httpx2.get(f"http://127.0.0.1:{unused_tcp_port}/metrics").text
        assert 'triage_ingest_requests_total{source="generic",status="202"} 1' in metrics
    finally:
        gateway.stop()


def test_sigterm_finishes_the_request_in_flight_then_exits_0(
    queues: Queues, proxy: SqsProxy, tmp_path: Path
) -> None:
    """SIGTERM while SQS holds a request's send: the listener closes, that request still gets
    its 202 once SQS answers, the body is on the queue, and the process exits 0."""
    settings = ingest_settings(queues.url, proxy.url, ingest_linger_ms=0)
    gateway = IngestProcess(settings, tmp_path)
    try:
        url = gateway.wait_listening()
        proxy.released.clear()
        answers: list[httpx2.Response] = []
        body = payload("generic/firing.json")

        def post() -> None:
            answers.append(
                httpx2.post(
                    f"{url}/v1/alerts/generic", content=body, headers=bearer("generic"), timeout=60
                )
            )

        sender = threading.Thread(target=post)
        sender.start()
        assert wait_for(lambda: proxy.sends_waiting >= 1, 30), "the send never reached SQS"
        gateway.process.send_signal(signal.SIGTERM)
        assert wait_for(
            lambda: any(e.get("event") == "ingest.draining" for e in gateway.events()), 30
        )
        with pytest.raises(httpx2.ConnectError):
            httpx2.post(f"{url}/v1/alerts/generic", content=body, headers=bearer("generic"))
        proxy.released.set()
        sender.join(timeout=30)
        assert gateway.process.wait(timeout=30) == 0
    finally:
        proxy.released.set()
        gateway.stop()
    (answer,) = answers
    assert answer.status_code == 202
    assert queues.depth() == 1
    events = [e["event"] for e in gateway.events()]
    assert (
        events.index("ingest.draining")
        < events.index("ingest.accepted")
        < events.index("ingest.stopped")
    )


# --- The gateway in front of the daemon ----------------------------------------------------------


async def drain_daemon(queues: Queues, backend: TicketServer, tmp_path: Path, **extra: Any) -> None:
    # Short polls: a long poll held the drain's end a second per empty receive.
    settings = settings_for(queues, backend.url, tmp_path / "triage.db", sqs_wait_time=0, **extra)
    await run_daemon(settings, drain=True)


@pytest.fixture(autouse=True)
def backend_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BACKEND_TOKEN", TOKEN)


async def test_sentry_resource_header_reaches_the_daemon(
    queues: Queues, backend: TicketServer, tmp_path: Path
) -> None:
    """A Sentry body that reads as a metric alert without its header opens the issue's ticket:
    the gateway's Sentry-Hook-Resource attribute travels through SQS to the normaliser."""
    ambiguous = json.loads(payload("sentry/issue-created.json"))
    ambiguous["data"]["metric_alert"] = json.loads(payload("sentry/metric-alert-critical.json"))[
        "data"
    ]["metric_alert"]
    body = json.dumps(ambiguous).encode()
    settings = ingest_settings(queues.url, queues.endpoint)
    headers = sentry_headers(body, resource="issue")
    response = await post_once(settings, "/v1/alerts/sentry", body, headers)
    assert response.status_code == 202, response.text
    await drain_daemon(queues, backend, tmp_path)
    (ticket,) = backend.tickets
    assert ticket["body"]["source"] == "sentry"
    assert ticket["body"]["title"] == "ZeroDivisionError: division by zero in checkout-api"


@pytest.mark.parametrize(
    ("source", "name", "tickets"),
    [
        ("grafana", "grafana/group-firing.json", 2),
        ("alertmanager", "alertmanager/group-firing.json", 3),
        ("generic", "generic/firing.json", 1),
    ],
)
async def test_each_source_through_the_gateway_becomes_tickets(
    queues: Queues, backend: TicketServer, tmp_path: Path, source: str, name: str, tickets: int
) -> None:
    """What the gateway accepts, the daemon turns into one ticket per alert: 202's "alerts"
    is the number of tickets that open."""
    settings = ingest_settings(queues.url, queues.endpoint)
    response = await post_once(settings, f"/v1/alerts/{source}", payload(name), bearer(source))
    assert response.json()["alerts"] == tickets
    await drain_daemon(queues, backend, tmp_path)
    assert len(backend.tickets) == tickets
    assert {t["body"]["source"] for t in backend.tickets} == {source}
    assert TOKENS[source] not in json.dumps(backend.tickets)
