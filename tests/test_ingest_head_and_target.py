"""Two answers a sender reads instead of a bare close or a silent guess: a request head trickled
past the idle timeout is answered `408` before the connection closes, and a request target
with a `#fragment` (which HTTP never sends: RFC 9112 3.2) is a `400` saying so."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from structlog.testing import capture_logs

from daemon_harness import Queues
from ingest_harness import TOKENS, ingest_settings, running

BODY = json.dumps({"title": "disk full", "dedup_key": "disk-full"}).encode()
BEARER = f"Authorization: Bearer {TOKENS['generic']}\r\n"


def received(queues: Queues) -> list[dict[str, Any]]:
    """Messages now on the queue (left in place: visibility 0)."""
    response = queues.client().receive_message(
        QueueUrl=queues.url, MaxNumberOfMessages=10, VisibilityTimeout=0
    )
    messages: list[dict[str, Any]] = response.get("Messages", [])
    return messages


async def _answer_and_close(reader: asyncio.StreamReader) -> bytes:
    """Everything the gateway sent before it closed (a reset after the answer counts as the
    close)."""
    data = b""
    try:
        while chunk := await asyncio.wait_for(reader.read(65536), 10):
            data += chunk
    except ConnectionResetError:
        pass
    return data


async def test_a_head_trickled_past_the_idle_timeout_is_answered_408_then_closed(
    queues: Queues,
) -> None:
    """A head still arriving a byte at a time when the idle timeout runs out gets a `408` with
    `Connection: close` before the close, and one `ingest.head_timeout` line; nothing queued."""
    settings = ingest_settings(queues.url, queues.endpoint, ingest_idle_timeout_s=0.3)
    head = f"POST /v1/alerts/generic HTTP/1.1\r\nHost: x\r\n{BEARER}X-Pad: {'a' * 400}\r\n"
    async with running(settings) as service:
        with capture_logs() as logs:
            reader, writer = await asyncio.open_connection("127.0.0.1", service.port)
            # One read of the answer, which comes in one segment: stop sending once it is in.
            first = asyncio.ensure_future(reader.read(65536))
            sent = 0
            while not first.done() and sent < len(head):
                writer.write(head[sent : sent + 1].encode())
                sent += 1
                await asyncio.wait([first], timeout=0.02)
            assert first.done(), "the whole head was trickled and never answered"
            answer = await first + await _answer_and_close(reader)
            writer.close()
    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line == b"HTTP/1.1 408 Request Timeout", answer
    assert b"Connection: close" in rest
    assert json.loads(rest.partition(b"\r\n\r\n")[2]) == {
        "error": "request head not received in time"
    }
    lines = [e for e in logs if e["event"].startswith("ingest.")]
    assert [e["event"] for e in lines] == ["ingest.head_timeout"]
    assert service.metrics.counter("IngestRequests", source="unknown", status="408") == 1
    assert received(queues) == []


@pytest.mark.parametrize(
    ("method", "target"),
    [
        ("POST", "/v1/alerts/generic#fragment"),
        ("POST", "/v1/alerts/generic?team=db#fragment"),
        ("POST", "/v1/alerts/generic#"),
        ("GET", "/healthz#top"),
    ],
    ids=["path", "after-query", "empty", "healthz"],
)
async def test_a_request_target_with_a_fragment_is_a_clear_400(
    queues: Queues, method: str, target: str
) -> None:
    """A `#fragment` in the request target (no HTTP client sends one: a sender's own URL
    parsing went wrong) is `400` naming it, with one `ingest.refused` line that does not quote
    the target, and nothing queued."""
    body = BODY if method == "POST" else b""
    request = (
        f"{method} {target} HTTP/1.1\r\nHost: x\r\n{BEARER}Content-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    ).encode() + body
    async with running(ingest_settings(queues.url, queues.endpoint)) as service:
        with capture_logs() as logs:
            reader, writer = await asyncio.open_connection("127.0.0.1", service.port)
            writer.write(request)
            answer = await _answer_and_close(reader)
            writer.close()
    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line == b"HTTP/1.1 400 Bad Request", answer
    error = json.loads(rest.partition(b"\r\n\r\n")[2])["error"]
    assert error == "bad request: a request target holds no #fragment"
    lines = [e for e in logs if e["event"].startswith("ingest.")]
    assert [(e["event"], e["status"], e["reason"]) for e in lines] == [
        ("ingest.refused", 400, "fragment")
    ]
    assert "fragment" not in repr(lines[0].get("detail", "")) and "#top" not in repr(lines)
    assert received(queues) == []
