"""What the daemon's start-up does and does not do: the openai SDK loads at the first model
request, prometheus_client at the first scrape, PyJWT at a GitHub App's first token (none of
them at start-up), and every HTTP client of the process
(the sinks', the model's, each AWS client's connector) verifies TLS with one shared context."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading

import pytest

from localstack_harness import ROOT
from triage.aws import Aws
from triage.demo.model import ChatServer
from triage.errors import SinkUnavailableError
from triage.settings import Settings
from triage.sinks.backend import BackendSink
from triage.summarise.chat import Answer, DeferredChat
from triage.summarise.llm import chat_model
from triage.tls import client_context

PROBE = """
import json, sys
import triage.cli
from triage.app import build_sinks, open_configured_store
from triage.aws import Aws
from triage.errors import SinkUnavailableError
from triage.metrics import Metrics
from triage.settings import load_settings
from triage.summarise import build_summariser
import asyncio

async def main():
    settings = load_settings()
    aws = Aws(settings)
    store = await open_configured_store(settings, aws)
    sinks = await build_sinks(settings, aws, Metrics())
    build_summariser(settings, Metrics(), aws=aws)
    await aws.client("sqs")
    print(json.dumps({name: name in sys.modules for name in LAZY}))
    for sink in sinks:
        await sink.aclose()
    await store.aclose()
    await aws.aclose()

LAZY = ("openai", "prometheus_client", "jwt", "cryptography")
asyncio.run(main())
"""


def test_startup_does_not_load_what_the_first_receive_does_not_need(
    tmp_path: pytest.TempPathFactory,
) -> None:
    """Opening the daemon's store, sinks (backend, GitHub with a token), summariser (OpenAI)
    and SQS client, as `triage run` does before its first receive, imports neither the openai
    SDK, nor prometheus_client (first scrape), nor PyJWT and cryptography (GitHub App only)."""
    env = {
        **{k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
        "PYTHONPATH": str(ROOT / "src"),
        "ALERT_TRIAGE_QUEUE_URL": "http://127.0.0.1:9/000000000000/q",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_REGION": "us-east-1",
        "BACKEND_BASE_URL": "http://127.0.0.1:9",
        "BACKEND_TOKEN": "token",
        "OPENAI_API_KEY": "sk-test",
        "TRIAGE_STORE_URL": f"sqlite:///{tmp_path}/s.db",
        "TRIAGE_SINKS": "backend,github",
        "GITHUB_TOKEN": "ghp_" + "x" * 36,
        "GITHUB_REPOSITORY": "acme/ops",
        "GITHUB_API_URL": "http://127.0.0.1:9",
    }
    result = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert loaded == dict.fromkeys(("openai", "prometheus_client", "jwt", "cryptography"), False)


class _Token:
    async def get(self) -> str:
        return "token"

    def invalidate(self, stale: str | None = None) -> None:
        pass


class _Model:
    provider = "fake"
    model = "fake-1"

    def __init__(self) -> None:
        self.closed = False

    async def complete(self, system: str, user: str, timeout_s: float) -> Answer:
        return Answer(text=f"{system}|{user}")

    async def aclose(self) -> None:
        self.closed = True


async def test_deferred_chat_builds_once_for_concurrent_first_requests() -> None:
    """Ten requests at once before the model exists build it once, on a worker thread, and
    all get its answers; closing closes the model built."""
    builds: list[str] = []
    built = _Model()

    def build() -> _Model:
        builds.append(threading.current_thread().name)
        return built

    chat = DeferredChat("fake", "fake-1", build)
    answers = await asyncio.gather(*(chat.complete("s", str(i), 1.0) for i in range(10)))
    assert [a.text for a in answers] == [f"s|{i}" for i in range(10)]
    assert len(builds) == 1 and builds[0] != threading.main_thread().name
    await chat.aclose()
    assert built.closed


async def test_deferred_chat_retries_a_failed_build() -> None:
    """A build that raised is tried again by the next request, which then succeeds."""
    attempts = 0

    def build() -> _Model:
        nonlocal attempts
        attempts += 1
        if attempts == 1:
            raise RuntimeError("SDK not importable yet")
        return _Model()

    chat = DeferredChat("fake", "fake-1", build)
    with pytest.raises(RuntimeError, match="not importable"):
        await chat.complete("s", "u", 1.0)
    assert (await chat.complete("s", "u", 1.0)).text == "s|u"
    assert attempts == 2


async def test_openai_model_is_built_at_its_first_request() -> None:
    """The OpenAI provider's model answers through the real SDK, built at the first request."""
    server = ChatServer()
    server.start()
    try:
        settings = Settings(openai_api_key="sk-test", openai_base_url=server.url)
        model = chat_model(settings)
        assert isinstance(model, DeferredChat)
        answer = await model.complete("system", "user text", 10.0)
        assert answer.text and answer.stop == "end"
        await model.aclose()
    finally:
        server.stop()


async def test_sinks_and_aws_clients_share_one_tls_context(moto_url: str) -> None:
    """The backend sink's HTTP client and an AWS client's connector (each after a real
    request) verify with the same SSLContext object, built once for the process."""
    settings = Settings(
        aws_endpoint_url=moto_url,
        aws_region="us-east-1",
        backend_base_url="http://127.0.0.1:9",
    )
    sink = BackendSink(settings, _Token())
    aws = Aws(settings)
    try:
        sqs = await aws.client("sqs")
        await sqs.list_queues()
        session = sqs._endpoint.http_session
        connector = next(iter(session._sessions.values())).connector
        with pytest.raises(SinkUnavailableError):  # nothing listens: the session is made
            await sink.probe()
        sink_connector = sink._client._transport._session.connector
        verify = os.environ.get("AWS_CA_BUNDLE") or os.environ.get("REQUESTS_CA_BUNDLE")
        assert connector._ssl is client_context(verify)
        assert sink_connector._ssl is client_context()
    finally:
        await aws.aclose()
        await sink.aclose()
