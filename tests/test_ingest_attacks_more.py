"""`triage ingest` red-teamed further on raw sockets, for what the other gateway suites leave out:
a `Transfer-Encoding` header that names no coding beside a `Content-Length` (a framing a proxy in
front may read otherwise than the gateway). Each is answered with a clear status and one line,
nothing of it is queued, and a good request after it on a connection of its own still passes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from structlog.testing import capture_logs

from daemon_harness import Queues
from ingest_harness import TOKENS, ingest_settings, payload, running
from test_ingest_connections import closed_by_gateway
from test_ingest_hostile import exchange, read_answer, received, wait_logged
from triage.ingest import IngestService

GENERIC = payload("generic/firing.json")
BEARER = f"Authorization: Bearer {TOKENS['generic']}\r\n"
HEALTHZ = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"


@pytest.fixture
async def gateway(queues: Queues) -> AsyncIterator[IngestService]:
    """The gateway on a free port, with the harness's tokens, in front of moto's `alerts` queue."""
    async with running(ingest_settings(queues.url, queues.endpoint)) as service:
        yield service


def post(extra_headers: str) -> bytes:
    """A generic alert's keep-alive POST framed by its Content-Length, with `extra_headers`."""
    head = f"POST /v1/alerts/generic HTTP/1.1\r\nHost: x\r\n{BEARER}{extra_headers}"
    head += f"Content-Length: {len(GENERIC)}\r\n\r\n"
    return head.encode() + GENERIC


# --- Framing ------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["", " ", "\t", ",", " , "], ids=repr)
async def test_a_transfer_encoding_naming_no_coding_is_400_and_closes(
    gateway: IngestService, queues: Queues, value: str
) -> None:
    """A `Transfer-Encoding` header naming no coding beside a `Content-Length` is a request
    whose length RFC 9112 6.3 says cannot be determined (a proxy in front may frame it by the
    header's presence, not its length): 400 with one line and the connection closed, not framed
    by its Content-Length and queued, and what was pipelined behind it is not answered."""
    request = post(f"Transfer-Encoding: {value}\r\n") + HEALTHZ
    reader, writer = await asyncio.open_connection("127.0.0.1", gateway.port)
    with capture_logs() as logs:
        writer.write(request)
        answer = await read_answer(reader)
        assert answer.status == 400, answer.body
        assert await closed_by_gateway(reader)
        (line,) = await wait_logged(logs, "ingest.bad_http")
    writer.close()
    error = answer.json()["error"]
    assert error.startswith("bad request: ") and "Transfer-Encoding" in error, error
    assert line["status"] == 400
    assert received(queues) == []
    good = await exchange(gateway.port, post("Connection: close\r\n"))
    assert good.status == 202
