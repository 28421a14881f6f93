"""`triage ingest` starting in front of an SQS, or a Secrets Manager holding its tokens, that
accepts connections and does not answer yet: it listens at once, is not ready until they answer,
still stops (exit 2) when the eventual answer is a refusal, and no request waits on them long."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from structlog.testing import capture_logs

from daemon_harness import Queues
from ingest_harness import (
    TOKENS,
    SqsProxy,
    bearer,
    env_for,
    ingest_settings,
    loopback_client,
    payload,
    running,
    wait_for,
)
from triage.cli import main
from triage.errors import ConfigError
from triage.ingest import IngestService
from triage.settings import Settings

NO_SUCH_QUEUE = "AWS.SimpleQueueService.NonExistentQueue"
GENERIC = payload("generic/firing.json")


@pytest.fixture(autouse=True)
def answer_sooner(monkeypatch: pytest.MonkeyPatch) -> None:
    """Start-up and /readyz wait a tenth of their second for SQS, so the tests stay quick."""
    monkeypatch.setattr(IngestService, "answer_within_s", 0.1)


async def calls_reach(proxy: SqsProxy, action: str, expected: int, timeout_s: float = 10) -> int:
    """The proxy's count of `action` calls once it reaches `expected` or `timeout_s` passes: a
    call the gateway has started (in a thread, through botocore) may not have reached the proxy
    yet when the test looks, more so on a loaded machine."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while proxy.count(action) < expected and loop.time() < deadline:
        await asyncio.sleep(0.01)
    return proxy.count(action)


@pytest.fixture
def silent(moto_url: str) -> Iterator[SqsProxy]:
    """A proxy in front of moto that holds every call until `answering` is set."""
    with SqsProxy(moto_url) as proxy:
        proxy.answering.clear()
        try:
            yield proxy
        finally:
            proxy.answering.set()


async def test_a_silent_queue_does_not_hold_back_the_listener(
    queues: Queues, silent: SqsProxy
) -> None:
    """While SQS has not answered its first call, the gateway listens, /healthz is 200, /readyz
    is 503 naming the queue, one line says why; once SQS answers, /readyz is 200."""
    settings = ingest_settings(silent.queue_url(queues.url), silent.url)
    with capture_logs() as logs:
        async with running(settings) as service, loopback_client(service.port) as client:
            # Listening while the first GetQueueAttributes is still unanswered (botocore would
            # have tried three times, 10 s each, before the old start-up went on).
            assert await calls_reach(silent, "GetQueueAttributes", 1) == 1
            assert (await client.get("/healthz")).status_code == 200
            waiting = await client.get("/readyz")
            assert waiting.status_code == 503
            assert waiting.json() == {"ready": False, "failing": {"queue": "unreachable"}}
            silent.answering.set()
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 10
            while (ready := await client.get("/readyz")).status_code != 200:
                assert loop.time() < deadline, ready.text
                await asyncio.sleep(0.02)
            assert ready.json() == {"ready": True, "failing": {}}
    (line,) = [e for e in logs if e["event"] == "ingest.queue_waiting"]
    assert "not ready until it does" in line["reason"]
    assert [e["event"] for e in logs if e["event"].startswith("ingest.queue_")] == [
        "ingest.queue_waiting",
        "ingest.queue_reachable",
    ]


async def test_a_refusal_that_comes_after_listening_still_stops_the_gateway(
    queues: Queues, silent: SqsProxy
) -> None:
    """A queue that answers "no such queue" only after the gateway started listening stops it
    with the same ConfigError it would have raised before listening."""
    settings = ingest_settings(silent.queue_url(queues.url + "-missing"), silent.url)
    service = IngestService(settings, stop=asyncio.Event())
    await service.startup()
    try:
        silent.answering.set()
        with pytest.raises(ConfigError, match="NonExistentQueue"):
            await asyncio.wait_for(service.serve(), 10)
    finally:
        await service.shutdown()


def test_a_refusal_after_listening_exits_2_with_one_line(
    queues: Queues,
    silent: SqsProxy,
    unused_tcp_port: int,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`triage ingest` whose queue is silent until it listens, then says "no such queue",
    exits 2 with one config line, as it does when the refusal comes at once."""
    url = silent.queue_url(queues.url + "-missing")
    settings = ingest_settings(url, silent.url, ingest_port=unused_tcp_port)
    for name, value in env_for(settings).items():
        if name not in {"PATH", "PYTHONPATH", "HOME"}:
            monkeypatch.setenv(name, value)

    seen_listening: list[bool] = []

    def answer_once_listening() -> None:
        def listening() -> bool:
            with socket.socket() as probe:
                return probe.connect_ex(("127.0.0.1", unused_tcp_port)) == 0

        seen_listening.append(wait_for(listening, 20))
        silent.answering.set()

    helper = threading.Thread(target=answer_once_listening, daemon=True)
    helper.start()
    assert main(["ingest"]) == 2
    helper.join(timeout=10)
    assert seen_listening == [True]
    (line,) = [x for x in capsys.readouterr().err.splitlines() if x.startswith("triage:")]
    assert line == f"triage: config: ALERT_TRIAGE_QUEUE_URL {url}: {NO_SUCH_QUEUE}"


# --- The tokens' secret ----------------------------------------------------------------------

SECRET = "ingest-tokens"


def secret_settings(queues: Queues, proxy: SqsProxy, **overrides: Any) -> Settings:
    """Settings reading the tokens from Secrets Manager (moto, through the proxy)."""
    return ingest_settings(
        proxy.queue_url(queues.url),
        proxy.url,
        ingest_tokens=None,
        ingest_tokens_secret_id=SECRET,
        **overrides,
    )


@pytest.fixture
def secret(queues: Queues) -> None:
    """The harness's tokens as the JSON secret SECRET in moto."""
    client = boto3.client("secretsmanager", endpoint_url=queues.endpoint, region_name="us-east-1")
    client.create_secret(Name=SECRET, SecretString=json.dumps(TOKENS))


async def test_a_silent_secrets_manager_does_not_hold_back_the_listener(
    queues: Queues, silent: SqsProxy, secret: None
) -> None:
    """While Secrets Manager has not answered, the gateway listens, a webhook is 503 with
    Retry-After at once and /readyz names the tokens; once it answers, webhooks pass."""
    silent.silent_actions = frozenset({"GetSecretValue"})
    settings = secret_settings(queues, silent)
    async with running(settings) as service, loopback_client(service.port) as client:
        # botocore has not even tried again
        assert await calls_reach(silent, "GetSecretValue", 1) == 1
        refused = await client.post(
            "/v1/alerts/generic", content=GENERIC, headers=bearer("generic")
        )
        assert refused.status_code == 503
        assert refused.headers["retry-after"] == "5"
        ready = await client.get("/readyz")
        assert ready.json() == {"ready": False, "failing": {"tokens": "failing"}}
        silent.answering.set()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 10
        while (
            answer := await client.post(
                "/v1/alerts/generic", content=GENERIC, headers=bearer("generic")
            )
        ).status_code != 202:
            assert loop.time() < deadline, answer.text
            await asyncio.sleep(0.02)


async def test_bad_credentials_against_a_silent_secrets_manager_share_one_read(
    queues: Queues, silent: SqsProxy, secret: None
) -> None:
    """Once tokens are held, a burst of wrong credentials while Secrets Manager is silent is
    answered at once (each re-read waits only briefly) and costs it one call, not one each."""
    settings = secret_settings(queues, silent, ingest_tokens_refresh_s=0.01)
    silent.silent_actions = frozenset({"GetSecretValue"})
    silent.answering.set()  # the start-up read is answered
    async with running(settings) as service, loopback_client(service.port) as client:
        gateway = service.gateway
        assert gateway is not None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 10
        while not gateway.tokens.loaded:  # moto may answer after start-up's short wait
            assert loop.time() < deadline, "the tokens were never read"
            await asyncio.sleep(0.01)
        silent.answering.clear()
        wrong = {"Authorization": "Bearer not-the-generic-token-0123456789"}
        answers = await asyncio.wait_for(
            asyncio.gather(
                *(
                    client.post("/v1/alerts/generic", content=GENERIC, headers=wrong)
                    for _ in range(5)
                )
            ),
            10,
        )
        assert {a.status_code for a in answers} <= {401, 503}
        # The start-up read and one re-read
        assert await calls_reach(silent, "GetSecretValue", 2) == 2
        silent.answering.set()


async def test_a_secret_refused_after_listening_still_stops_the_gateway(
    queues: Queues, silent: SqsProxy
) -> None:
    """A tokens' secret that turns out not to exist, answered only after the gateway listened,
    stops it with the ConfigError it would have raised before listening."""
    silent.silent_actions = frozenset({"GetSecretValue"})
    service = IngestService(secret_settings(queues, silent), stop=asyncio.Event())
    await service.startup()
    try:
        silent.answering.set()
        with pytest.raises(ConfigError, match="ResourceNotFoundException"):
            await asyncio.wait_for(service.serve(), 10)
    finally:
        await service.shutdown()


# --- Webhooks while the queue does not answer --------------------------------------------------


def sends(proxy: SqsProxy) -> int:
    return proxy.count("SendMessage") + proxy.count("SendMessageBatch")


async def test_a_webhook_while_the_queue_has_never_answered_is_503_at_once(
    queues: Queues, silent: SqsProxy
) -> None:
    """A webhook arriving while SQS has not answered its first call is 503 with Retry-After
    as soon as the probe's short wait is over (botocore's tries would take ~30 s), no send is
    started, and one line says why."""
    settings = ingest_settings(silent.queue_url(queues.url), silent.url)
    async with running(settings) as service, loopback_client(service.port) as client:
        with capture_logs() as logs:
            refused = await asyncio.wait_for(
                client.post("/v1/alerts/generic", content=GENERIC, headers=bearer("generic")), 10
            )
        assert sends(silent) == 0
    assert refused.status_code == 503
    assert refused.headers["retry-after"] == "5"
    assert refused.json()["error"] == "queue unavailable"
    (line,) = [e for e in logs if e["event"] == "ingest.refused"]
    assert (line["reason"], line["detail"]) == ("queue_unavailable", "queue_not_answering")


async def test_a_webhook_is_sent_once_a_slow_first_answer_comes(
    queues: Queues, silent: SqsProxy
) -> None:
    """A queue that is slow but works still gets the webhook: one arriving before the first
    answer waits for the probe (here as long as it takes) and is 202 once SQS answers."""
    settings = ingest_settings(silent.queue_url(queues.url), silent.url)
    async with running(settings) as service, loopback_client(service.port) as client:
        gateway = service.gateway
        assert gateway is not None
        gateway.probe.answer_within_s = 30
        post = asyncio.create_task(
            client.post("/v1/alerts/generic", content=GENERIC, headers=bearer("generic"))
        )
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 10
        while gateway.in_flight == 0:
            assert loop.time() < deadline, "the webhook never reached the gateway"
            await asyncio.sleep(0.01)
        silent.answering.set()
        accepted = await asyncio.wait_for(post, 20)
    assert accepted.status_code == 202, accepted.text


async def test_after_a_send_without_answer_webhooks_are_503_at_once_until_sqs_answers(
    queues: Queues, silent: SqsProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Once a send got no answer (SQS went silent after answering), the next webhooks are 503
    at once without another send; when SQS answers again, webhooks are 202."""
    monkeypatch.setattr(
        "triage.ingest.service._CLIENT_CONFIG",
        # One attempt: botocore's `max_attempts` here counts retries, each after a backoff.
        Config(connect_timeout=1, read_timeout=0.3, retries={"total_max_attempts": 1}),
    )
    # A webhook asks the down queue again a tenth of a second after its last call, not a
    # second: what is under test is that it is refused meanwhile and sent once SQS answers.
    monkeypatch.setattr("triage.ingest.probe.RECHECK_S", 0.1)
    silent.answering.set()  # the start-up probe is answered
    settings = ingest_settings(silent.queue_url(queues.url), silent.url)
    async with running(settings) as service, loopback_client(service.port) as client:
        gateway = service.gateway
        assert gateway is not None
        gateway.probe.answer_within_s = 5  # moto's answer, under a loaded machine
        assert await gateway.probe.answering()
        silent.answering.clear()
        first = await client.post("/v1/alerts/generic", content=GENERIC, headers=bearer("generic"))
        assert first.status_code == 503  # its send timed out
        gateway.probe.answer_within_s = 0.1  # the probe the next webhook makes is silent too
        started_sends = sends(silent)
        with capture_logs() as logs:
            second = await asyncio.wait_for(
                client.post("/v1/alerts/generic", content=GENERIC, headers=bearer("generic")), 10
            )
        assert second.status_code == 503
        assert sends(silent) == started_sends
        (line,) = [e for e in logs if e["event"] == "ingest.refused"]
        assert line["detail"] == "queue_not_answering"
        silent.answering.set()
        gateway.probe.answer_within_s = 5
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 10
        while (
            answer := await client.post(
                "/v1/alerts/generic", content=GENERIC, headers=bearer("generic")
            )
        ).status_code != 202:
            assert loop.time() < deadline, answer.text
            await asyncio.sleep(0.05)


# --- Settings only the gateway's start-up can judge ------------------------------------------


async def test_one_port_for_webhooks_and_the_endpoints_is_named_and_freed(
    queues: Queues, unused_tcp_port: int
) -> None:
    """TRIAGE_HTTP_PORT equal to TRIAGE_INGEST_PORT stops start-up with one line saying both are
    that port and that `triage ingest` listens on both (not "address already in use", when the
    gateway itself holds it); the gateway's listener is closed again (the port binds)."""
    port = unused_tcp_port
    settings = ingest_settings(queues.url, queues.endpoint, ingest_port=port, http_port=port)
    service = IngestService(settings, stop=asyncio.Event())
    with pytest.raises(ConfigError) as caught:
        await service.startup()
    message = str(caught.value)
    assert f"TRIAGE_HTTP_PORT and TRIAGE_INGEST_PORT are both {port}" in message
    assert "triage ingest" in message and "already in use" not in message
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", port))


@pytest.mark.parametrize(
    "variable", ["OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"]
)
async def test_a_tracing_endpoint_that_is_no_url_turns_tracing_off_with_one_line(
    variable: str, queues: Queues, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An OTLP endpoint written without a scheme (`user:password@collector:4318`): the gateway
    starts without spans and one `tracing.off` warning names the variable, not its value."""
    value = "otel:s3cr3tPassw0rd@collector:4318"
    monkeypatch.setenv(variable, value)
    with capture_logs() as logs:
        async with running(ingest_settings(queues.url, queues.endpoint)) as service:
            assert not service.tracing.enabled
    (line,) = [e for e in logs if e["event"] == "tracing.off"]
    assert line["log_level"] == "warning" and variable in line["reason"]
    assert "s3cr3t" not in json.dumps(logs, default=str)


async def test_a_metrics_interval_under_a_second_is_warned_about(queues: Queues) -> None:
    """TRIAGE_METRICS_INTERVAL_S=0.01 with metrics on: the gateway starts and one
    `config.short_interval` warning says how often it flushes; at 1 s, no such line."""
    short = ingest_settings(queues.url, queues.endpoint, metrics="emf", metrics_interval_s=0.01)
    with capture_logs() as logs:
        async with running(short):
            pass
    (line,) = [e for e in logs if e["event"] == "config.short_interval"]
    assert line["log_level"] == "warning"
    assert line["detail"].startswith("TRIAGE_METRICS_INTERVAL_S is 0.01 s")
    plain = ingest_settings(queues.url, queues.endpoint, metrics="emf", metrics_interval_s=1)
    with capture_logs() as logs:
        async with running(plain):
            pass
    assert [e for e in logs if e["event"] == "config.short_interval"] == []
