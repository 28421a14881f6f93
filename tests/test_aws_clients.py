"""The AWS clients' connections, against a loopback server that behaves like LocalStack: it
closes every connection after its answer unless the request asks for keep-alive."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler

import aioboto3
import pytest

from triage.aws import Aws
from triage.demo.loopback import KeepAliveHandler, LoopbackServer
from triage.ingest.service import IngestService
from triage.settings import Settings


class ClosingSqs(LoopbackServer):
    """Answers every SQS JSON call with a queue's attributes; counts TCP connections and
    remembers each request's Connection header."""

    def __init__(self) -> None:
        self.connections = 0
        self.connection_headers: list[str | None] = []
        self._lock = threading.Lock()
        super().__init__()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(KeepAliveHandler):
            def setup(self) -> None:
                super().setup()
                with server._lock:
                    server.connections += 1

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                asked = self.headers.get("Connection")
                with server._lock:
                    server.connection_headers.append(asked)
                body = json.dumps({"Attributes": {"QueueArn": "arn:aws:sqs:eu-west-1:1:q"}})
                self.send_response(200)
                self.send_header("Content-Type", "application/x-amz-json-1.0")
                self.send_header("Content-Length", str(len(body)))
                if (asked or "").lower() != "keep-alive":
                    self.send_header("Connection", "close")
                    self.close_connection = True
                self.end_headers()
                self.wfile.write(body.encode())

            def log_message(self, format: str, *args: object) -> None:
                """Quiet."""

        return Handler


@pytest.fixture
def sqs_server() -> Iterator[ClosingSqs]:
    with ClosingSqs() as server:
        yield server


def _settings(server: ClosingSqs) -> Settings:
    return Settings(
        queue_url=f"{server.base_url}/000000000000/q",
        aws_endpoint_url=server.base_url,
        aws_region="eu-west-1",
    )


async def test_the_daemons_aws_clients_keep_one_connection_where_localstack_would_close_it(
    sqs_server: ClosingSqs,
) -> None:
    """Proves the daemon's clients ask for keep-alive: five SQS calls share one connection."""
    aws = Aws(_settings(sqs_server))
    try:
        sqs = await aws.client("sqs")
        for _ in range(5):
            await sqs.get_queue_attributes(QueueUrl=_settings(sqs_server).queue_url)
    finally:
        await aws.aclose()
    assert sqs_server.connection_headers == ["keep-alive"] * 5
    assert sqs_server.connections == 1


async def test_the_gateways_sqs_client_keeps_one_connection_too(sqs_server: ClosingSqs) -> None:
    """Proves the ingest gateway's own SQS client asks for keep-alive as well."""
    service = IngestService(_settings(sqs_server))
    session = aioboto3.Session(region_name="eu-west-1")
    try:
        sqs = await service._client(session, "sqs")
        for _ in range(3):
            await sqs.get_queue_attributes(QueueUrl=_settings(sqs_server).queue_url)
    finally:
        await service._stack.aclose()
    assert sqs_server.connection_headers == ["keep-alive"] * 3
    assert sqs_server.connections == 1


async def test_the_gateways_sqs_client_takes_the_services_own_endpoint_first(
    sqs_server: ClosingSqs, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Proves the gateway ranks AWS_ENDPOINT_URL_SQS over AWS_ENDPOINT_URL, as botocore and
    the daemon do: with the global one down, its SQS calls reach the service's own."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_SQS", sqs_server.base_url)
    settings = Settings(
        queue_url=f"{sqs_server.base_url}/000000000000/q",
        aws_endpoint_url="http://127.0.0.1:9",  # the discard port: nothing listens
        aws_region="eu-west-1",
    )
    service = IngestService(settings)
    try:
        sqs = await service._client(aioboto3.Session(region_name="eu-west-1"), "sqs")
        await sqs.get_queue_attributes(QueueUrl=settings.queue_url)
    finally:
        await service._stack.aclose()
    assert sqs_server.connections == 1


class RedirectingSqs(LoopbackServer):
    """Answers every call with a 307 to `elsewhere`: a proxy or a spoofed endpoint sending the
    request (an alert, a session token) somewhere else."""

    def __init__(self, elsewhere: str) -> None:
        self.elsewhere = elsewhere
        super().__init__()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(KeepAliveHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                self.send_response(307)
                self.send_header("Location", server.elsewhere + self.path)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                """Quiet."""

        return Handler


@pytest.mark.parametrize("client", ["daemon", "gateway"])
async def test_no_aws_client_follows_a_redirect(sqs_server: ClosingSqs, client: str) -> None:
    """Proves neither the daemon's nor the gateway's SQS client follows a redirect: a send
    answered 307 fails, and the place it points to receives nothing (the body is an alert, the
    headers carry the session's credentials)."""
    with RedirectingSqs(sqs_server.base_url) as redirecting:
        settings = Settings(
            queue_url=f"{redirecting.base_url}/000000000000/q",
            aws_endpoint_url=redirecting.base_url,
            aws_region="eu-west-1",
        )
        aws = Aws(settings)
        service = IngestService(settings)
        try:
            if client == "daemon":
                sqs = await aws.client("sqs")
            else:
                sqs = await service._client(aioboto3.Session(region_name="eu-west-1"), "sqs")
            with pytest.raises(Exception, match="redirect"):
                await sqs.send_message(QueueUrl=settings.queue_url, MessageBody='{"title": "x"}')
        finally:
            await aws.aclose()
            await service._stack.aclose()
    assert sqs_server.connection_headers == []
