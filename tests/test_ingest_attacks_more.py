"""`triage ingest` red-teamed further on raw sockets, for what the other gateway suites leave out:
a `Transfer-Encoding` header that names no coding beside a `Content-Length` (a framing a proxy in
front may read otherwise than the gateway), and one source's token (the generic one, which
scripts and third-party tools carry in their URLs) used to hold the bytes of bodies every source
shares. Each is answered with a clear status and one line, nothing of it is queued, and a good
request of another sender still passes."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Callable

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


# --- Resources ----------------------------------------------------------------------------------


async def _stalled(
    port: int, source: str, credential: str, sent: int
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A POST to `source` promising 150,000 bytes that sends `sent` of them and stalls."""
    head = f"POST /v1/alerts/{source} HTTP/1.1\r\nHost: x\r\n{credential}"
    head += "Content-Length: 150000\r\n\r\n"
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(head.encode() + b" " * sent)
    await writer.drain()
    return reader, writer


async def _until(condition: Callable[[], bool], what: str) -> None:
    """Wait (10 s at most) until `condition()` holds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while not condition():
        assert loop.time() < deadline, what
        await asyncio.sleep(0.01)


def _grafana(padding: int) -> bytes:
    """A Grafana webhook, padded with `padding` spaces, as one closing request."""
    body = payload("grafana/group-firing.json") + b" " * padding
    head = "POST /v1/alerts/grafana HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
    head += f"Authorization: Bearer {TOKENS['grafana']}\r\nContent-Length: {len(body)}\r\n\r\n"
    return head.encode() + body


async def test_one_source_cannot_hold_the_bytes_every_source_shares(
    gateway: IngestService, queues: Queues
) -> None:
    """Bodies held at once share one budget; one source's senders (a leaked generic token)
    may hold at most their share of it (half), so stalled bodies of theirs cannot make every other source's
    webhooks 503: past its half a body of that source is 503 `busy` with one line saying so,
    while another source's webhook still passes."""
    handlers = gateway.gateway
    assert handlers is not None
    bodies = handlers.bodies
    handlers.limits = dataclasses.replace(
        handlers.limits, reading_budget_bytes=200_000, source_share_bytes=100_000
    )
    first = await _stalled(gateway.port, "generic", BEARER, 90_000)
    second = first
    try:
        await _until(lambda: bodies.reading_bytes >= 90_000, "the first body was not held")
        with capture_logs() as logs:
            second = await _stalled(gateway.port, "generic", BEARER, 90_000)
            refused = asyncio.create_task(read_answer(second[0]))
            await _until(
                lambda: refused.done() or bodies.reading_bytes >= 180_000,
                "the second body was neither held nor refused",
            )
            other = await exchange(gateway.port, _grafana(60_000))
            assert other.status == 202, other.body
            busy = await refused
            (line,) = [e for e in await wait_logged(logs, "ingest.refused") if e["status"] == 503]
    finally:
        for _, writer in (first, second):
            writer.close()
    assert busy.status == 503 and busy.headers["retry-after"] == "1"
    assert busy.json()["error"] == "too many bodies arriving at once"
    assert (line["source"], line["reason"], line["detail"]) == ("generic", "busy", "source_share")
    await _until(lambda: bodies.reading_bytes == 0, "the stalled bodies were not let go")
    assert len(received(queues)) == 1


# --- Authentication through path tricks ---------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "source"),
    [("/v1/alerts/gr%61fana", "grafana"), ("/v1/alerts/%67%72%61%66%61%6e%61", "grafana")],
)
async def test_a_percent_encoded_source_takes_only_its_own_token(
    gateway: IngestService, queues: Queues, path: str, source: str
) -> None:
    """A source's path spelt with percent-escapes is that source's path, for its token as for
    its route: another source's token there is 401, nothing queued; its own token is 202."""
    body = payload("grafana/group-firing.json")
    framing = f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    for token, status in ((TOKENS["generic"], 401), (TOKENS[source], 202)):
        head = f"POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n{framing}"
        answer = await exchange(gateway.port, head.encode() + body)
        assert answer.status == status, (token, answer.body)
    (message,) = queues.client().receive_message(
        QueueUrl=queues.url, MessageAttributeNames=["All"], VisibilityTimeout=0
    )["Messages"]
    assert message["MessageAttributes"]["source"]["StringValue"] == source


@pytest.mark.parametrize(
    "path",
    [
        "/v1/alerts/generic;x=1",
        "/v1/alerts%2Fgeneric",
        "/v1/alerts/%c0%afgeneric",
        "/v1/alerts/GENERIC",
        "/v1/alerts/generic%00",
        "/v1/alerts/./generic",
    ],
)
async def test_a_bent_spelling_of_a_source_path_is_no_path(
    gateway: IngestService, queues: Queues, path: str
) -> None:
    """A matrix parameter, an encoded slash, an overlong UTF-8 slash, another case, a NUL or a
    dot segment is not a source's path: 404 with the generic token, never read as `generic`."""
    head = f"POST {path} HTTP/1.1\r\nHost: x\r\n{BEARER}Connection: close\r\n"
    head += f"Content-Length: {len(GENERIC)}\r\n\r\n"
    answer = await exchange(gateway.port, head.encode() + GENERIC)
    assert answer.status == 404, answer.body
    assert received(queues) == []
