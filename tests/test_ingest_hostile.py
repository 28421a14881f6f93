"""`triage ingest` against a hostile client: requests written byte by byte on a raw socket (so
nothing in an HTTP client tidies them up), each answered with a clear status and a short reason,
one log line, and no credential or body echoed back or logged."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from structlog.testing import capture_logs

from daemon_harness import Queues
from ingest_harness import TOKENS, ingest_settings, payload, running
from triage.ingest import IngestService

GENERIC = payload("generic/firing.json")
BEARER = f"Authorization: Bearer {TOKENS['generic']}\r\n"


@pytest.fixture
async def gateway(queues: Queues) -> AsyncIterator[IngestService]:
    """The gateway on a free port, with the harness's tokens, in front of moto's `alerts` queue."""
    async with running(ingest_settings(queues.url, queues.endpoint)) as service:
        yield service


def received(queues: Queues) -> list[dict[str, Any]]:
    """Messages now on the queue (left in place: visibility 0)."""
    response = queues.client().receive_message(
        QueueUrl=queues.url, MaxNumberOfMessages=10, VisibilityTimeout=0
    )
    messages: list[dict[str, Any]] = response.get("Messages", [])
    return messages


class Answer:
    """One HTTP answer as read off the socket: status, headers (lower-case names), body."""

    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body

    def json(self) -> Any:
        return json.loads(self.body)


async def read_answer(reader: asyncio.StreamReader) -> Answer:
    """The next answer on the connection (an interim 100 included), within 10 s."""
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=10)
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    body = await asyncio.wait_for(reader.readexactly(length), timeout=10) if length else b""
    return Answer(int(status_line.split()[1]), headers, body)


async def exchange(port: int, request: bytes) -> Answer:
    """Send `request` whole and read one answer."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        await writer.drain()
        return await read_answer(reader)
    finally:
        writer.close()


def head(path: str, headers: str, method: str = "POST") -> bytes:
    return f"{method} {path} HTTP/1.1\r\nHost: x\r\n{headers}\r\n".encode()


async def wait_logged(logs: list[dict[str, Any]], event: str) -> list[dict[str, Any]]:
    """The `event` lines once at least one is logged (10 s at most)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while not any(e["event"] == event for e in logs):
        assert loop.time() < deadline, logs
        await asyncio.sleep(0.01)
    return [e for e in logs if e["event"] == event]


# --- Expect: 100-continue ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "headers", "status"),
    [
        ("/v1/alerts/generic", BEARER + "Content-Length: 50000000\r\n", 413),
        ("/v1/alerts/generic", "Content-Length: 489\r\n", 401),
        ("/v1/alerts/pagerduty", BEARER + "Content-Length: 489\r\n", 404),
        ("/v1/alerts/generic", BEARER + "Content-Length: 489\r\nContent-Encoding: br\r\n", 415),
        ("/v1/alerts/sentry", "Content-Length: 489\r\nSentry-Hook-Signature: 00\r\n", 401),
    ],
    ids=["oversized", "no-credential", "unknown-source", "unsupported-coding", "no-signature"],
)
async def test_expect_100_continue_is_refused_from_the_head_before_any_body(
    gateway: IngestService, queues: Queues, path: str, headers: str, status: int
) -> None:
    """A request that asks `Expect: 100-continue` and would be refused from its head alone gets
    that refusal as its first answer (no `100 Continue` invites the body), marked as the
    connection's last, since the sender may now send the body or not."""
    request = head(path, headers + "Expect: 100-continue\r\n")
    with capture_logs() as logs:
        answer = await exchange(gateway.port, request)
    assert answer.status == status, (answer.status, answer.body)
    assert answer.json()["error"]
    assert answer.headers.get("connection", "").lower() == "close"
    [line] = [e for e in logs if e["event"] == "ingest.refused"]
    assert line["status"] == status
    assert received(queues) == []


async def test_expect_100_continue_is_answered_once_the_head_passes(
    gateway: IngestService, queues: Queues
) -> None:
    """An authenticated request within the limits gets `100 Continue`, sends its body, and is
    queued: 202."""
    reader, writer = await asyncio.open_connection("127.0.0.1", gateway.port)
    try:
        writer.write(
            head(
                "/v1/alerts/generic",
                BEARER + f"Content-Length: {len(GENERIC)}\r\nExpect: 100-continue\r\n",
            )
        )
        await writer.drain()
        interim = await read_answer(reader)
        writer.write(GENERIC)
        await writer.drain()
        final = await read_answer(reader)
    finally:
        writer.close()
    assert (interim.status, final.status) == (100, 202)
    assert [m["Body"].encode() for m in received(queues)] == [GENERIC]


async def test_an_unknown_expectation_is_417_with_a_reason_and_a_log_line(
    gateway: IngestService, queues: Queues
) -> None:
    """`Expect` other than 100-continue is 417 with a JSON reason and one ingest.refused line,
    like every other refusal (aiohttp's own answer was plain text and unlogged)."""
    request = head(
        "/v1/alerts/generic", BEARER + "Content-Length: 489\r\nExpect: something-else\r\n"
    )
    with capture_logs() as logs:
        answer = await exchange(gateway.port, request + GENERIC)
    assert answer.status == 417
    assert "100-continue" in answer.json()["error"]
    assert [(e["status"], e["reason"]) for e in logs if e["event"] == "ingest.refused"] == [
        (417, "expectation_failed")
    ]
    assert received(queues) == []


# --- Requests aiohttp cannot parse ----------------------------------------------------------


@pytest.mark.parametrize(
    "request_bytes",
    [
        # A token with a stray control character (read from a file with a trailing \r, …).
        head("/v1/alerts/generic", BEARER.replace("\r\n", "\x01\r\n") + "Content-Length: 2\r\n")
        + b"{}",
        # An HTTP/1.0 body without Content-Length: aiohttp quotes the body it did not expect.
        b"POST /v1/alerts/generic HTTP/1.0\r\n"
        + BEARER.encode()
        + b"\r\n"
        + GENERIC.replace(b"backup", TOKENS["generic"].encode()),
        head("/v1/alerts/generic", BEARER + "Transfer-Encoding: chunked\r\n")
        + f"z{TOKENS['generic']}\r\n".encode(),
        head(f"/v1/alerts/generic?token={TOKENS['generic']}\x7f", "Content-Length: 0\r\n"),
    ],
    ids=["control-in-token", "body-after-http10-head", "bad-chunk-size", "control-in-query"],
)
async def test_an_unparsable_request_is_answered_without_quoting_it(
    gateway: IngestService, queues: Queues, request_bytes: bytes
) -> None:
    """aiohttp's own 400 for a request it cannot parse quoted the request's bytes (a header
    with its token, the body) back in plain text, which senders such as Alertmanager write to
    their logs: the answer is now a short JSON reason naming what was wrong, never the bytes."""
    with capture_logs() as logs:
        answer = await exchange(gateway.port, request_bytes)
        await wait_logged(logs, "ingest.bad_http")
    assert answer.status == 400
    assert answer.headers["content-type"].startswith("application/json")
    error = answer.json()["error"]
    assert error.startswith("bad request: ") and len(error) < 160
    assert TOKENS["generic"].encode() not in answer.body
    assert b"Nightly" not in answer.body and b"\\x" not in answer.body
    assert TOKENS["generic"] not in json.dumps(logs)
    assert received(queues) == []


# --- Paths and methods ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "status", "reason"),
    [
        ("POST", "/nope", 404, "unknown_path"),
        ("POST", "/v1/alerts/generic/", 404, "unknown_path"),
        ("POST", "/v1/alerts/%2e%2e/alerts/generic", 404, "unknown_path"),
        ("POST", "//v1/alerts/generic", 404, "unknown_path"),
        ("GET", "/v1/alerts/generic", 405, "method_not_allowed"),
        ("PUT", "/v1/alerts/generic", 405, "method_not_allowed"),
        ("OPTIONS", "/v1/alerts/generic", 405, "method_not_allowed"),
        ("TRACE", "/v1/alerts/generic", 405, "method_not_allowed"),
        ("DELETE", "/healthz", 405, "method_not_allowed"),
    ],
)
async def test_unknown_paths_and_methods_are_answered_like_every_refusal(
    gateway: IngestService, queues: Queues, method: str, path: str, status: int, reason: str
) -> None:
    """A path that is not the gateway's or a method it does not take gets a JSON error with a
    request id and one ingest.refused line (aiohttp's own answer was plain text, unlogged); a
    secret in the query string is in neither; 405 names the allowed methods."""
    secret = "s3cr3t-in-the-query-0123"
    request = head(f"{path}?token={secret}", BEARER + "Content-Length: 2\r\n", method) + b"{}"
    with capture_logs() as logs:
        answer = await exchange(gateway.port, request)
    assert answer.status == status
    body = answer.json()
    assert body["error"] == ("not found" if status == 404 else "method not allowed")
    assert answer.headers["x-request-id"] == body["request_id"]
    if status == 405:
        assert answer.headers["allow"]
    [line] = [e for e in logs if e["event"].startswith("ingest.")]
    assert (line["event"], line["status"], line["reason"]) == ("ingest.refused", status, reason)
    assert line["source"] == "unknown"
    assert secret not in json.dumps(logs) and TOKENS["generic"] not in json.dumps(logs)
    assert gateway.metrics.counters()[
        ("IngestRequests", (("source", "unknown"), ("status", str(status))))
    ]
    assert received(queues) == []
