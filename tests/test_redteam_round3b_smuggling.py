"""Red team round 3b: request-smuggling shapes against `triage ingest` on raw sockets.

Each request below is framed so that a proxy in front and the gateway could disagree on where
its body ends (Content-Length beside a Transfer-Encoding spelt oddly, two lengths, a folded
header, a coding list that ends or does not end in `chunked`). Whatever the gateway decides, a
second request hidden in the first one's body must never be queued as an alert of its own, and a
refusal must be a clear 4xx/5xx with the connection closed and nothing queued."""

from __future__ import annotations

import asyncio

import pytest

from daemon_harness import Queues
from ingest_harness import TOKENS, payload
from test_ingest_hostile import read_answer
from triage.ingest import IngestService

GENERIC = payload("generic/firing.json")
BEARER = f"Authorization: Bearer {TOKENS['generic']}\r\n"
SMUGGLED_BODY = b'{"title": "smuggled alert", "dedup_key": "smuggled"}'
SMUGGLED = (
    b"POST /v1/alerts/generic HTTP/1.1\r\nHost: x\r\n"
    + BEARER.encode()
    + f"Content-Length: {len(SMUGGLED_BODY)}\r\n\r\n".encode()
    + SMUGGLED_BODY
)


def one_chunk(body: bytes) -> bytes:
    """`body` as one chunk and the last chunk."""
    return f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n"


async def answers_and_close(port: int, request: bytes) -> tuple[list[int], bool]:
    """Send `request`, read answers until the gateway closes or 3 s pass with nothing more;
    the statuses read, and whether the connection was closed."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    got: list[int] = []
    try:
        writer.write(request)
        await writer.drain()
        while True:
            try:
                answer = await asyncio.wait_for(read_answer(reader), 3)
            except (asyncio.IncompleteReadError, ConnectionResetError):
                return got, True
            except TimeoutError:
                return got, False
            got.append(answer.status)
    finally:
        writer.close()


def queued_bodies(queues: Queues) -> list[str]:
    """Every body on the queue now (left in place: visibility 0)."""
    response = queues.client().receive_message(
        QueueUrl=queues.url, MaxNumberOfMessages=10, VisibilityTimeout=0
    )
    return [m["Body"] for m in response.get("Messages", [])]


def cl_te(te_lines: str) -> bytes:
    """A POST whose body is GENERIC chunked then a smuggled request, with a Content-Length
    covering all of it and the Transfer-Encoding header line(s) `te_lines`."""
    body = one_chunk(GENERIC) + SMUGGLED
    head = f"POST /v1/alerts/generic HTTP/1.1\r\nHost: x\r\n{BEARER}"
    head += f"Content-Length: {len(body)}\r\n{te_lines}\r\n"
    return head.encode() + body


CL_TE_SHAPES = {
    "plain": "Transfer-Encoding: chunked\r\n",
    "capitalised": "Transfer-Encoding: Chunked\r\n",
    "upper name": "TRANSFER-ENCODING: CHUNKED\r\n",
    "tab before": "Transfer-Encoding:\tchunked\r\n",
    "trailing space": "Transfer-Encoding: chunked \r\n",
    "space before colon": "Transfer-Encoding : chunked\r\n",
    "chunked twice": "Transfer-Encoding: chunked, chunked\r\n",
    "identity then chunked": "Transfer-Encoding: identity, chunked\r\n",
    "two headers": "Transfer-Encoding: identity\r\nTransfer-Encoding: chunked\r\n",
    "xchunked": "Transfer-Encoding: xchunked\r\n",
    "quoted": 'Transfer-Encoding: "chunked"\r\n',
    "obs-fold": "Transfer-Encoding:\r\n chunked\r\n",
    "vertical tab": "Transfer-Encoding:\x0bchunked\r\n",
    "underscore name": "Transfer_Encoding: chunked\r\n",
    "after comma": "Transfer-Encoding: ,chunked\r\n",
}


@pytest.mark.parametrize("shape", sorted(CL_TE_SHAPES))
async def test_a_request_hidden_in_a_cl_te_body_is_never_queued(
    shape: str, gateway: IngestService, queues: Queues
) -> None:
    """Content-Length beside any spelling of Transfer-Encoding: the request hidden behind the
    chunked body is never queued (a proxy reading the length would have forwarded it as body),
    and the alert before it is queued at most once."""
    statuses, _closed = await answers_and_close(gateway.port, cl_te(CL_TE_SHAPES[shape]))
    bodies = queued_bodies(queues)
    assert not any("smuggled" in b for b in bodies), (statuses, bodies)
    assert len(bodies) <= 1
    assert statuses, "no answer at all"
    assert statuses.count(202) == len(bodies)


INVALID_LENGTHS = {
    "two different, short first": ("Content-Length: 5\r\nContent-Length: {n}\r\n"),
    "two different, long first": ("Content-Length: {n}\r\nContent-Length: 5\r\n"),
    "a list of two values": "Content-Length: {n},5\r\n",
    "a plus sign": "Content-Length: +{n}\r\n",
    "hex": "Content-Length: 0x{x}\r\n",
    "an underscore": "Content-Length: {u}\r\n",
    "negative": "Content-Length: -1\r\n",
    "twenty digits": "Content-Length: 99999999999999999999\r\n",
    "obs-fold": "Content-Length:\r\n {n}\r\n",
    "underscore name": "Content_Length: {n}\r\n",
}


@pytest.mark.parametrize("shape", sorted(INVALID_LENGTHS))
async def test_a_content_length_two_readers_could_disagree_on_is_refused(
    shape: str, gateway: IngestService, queues: Queues
) -> None:
    """Two different Content-Lengths, or one that is not a plain decimal (a sign, hex, an
    underscore, a list of two values, a folded line), or a `Content_Length` a proxy may map
    to `Content-Length`: a 4xx and nothing queued, neither the alert nor the request after
    it (RFC 9112 6.3: an invalid length is unrecoverable)."""
    n = len(GENERIC)
    text = str(n)
    headers = INVALID_LENGTHS[shape].format(n=n, x=f"{n:x}", u=f"{text[0]}_{text[1:]}")
    request = f"POST /v1/alerts/generic HTTP/1.1\r\nHost: x\r\n{BEARER}{headers}\r\n".encode()
    statuses, closed = await answers_and_close(gateway.port, request + GENERIC + SMUGGLED)
    bodies = queued_bodies(queues)
    assert bodies == [], (statuses, bodies)
    assert statuses and 400 <= statuses[0] < 500, statuses
    assert closed, statuses


@pytest.mark.parametrize(
    "headers",
    ["Content-Length: {n}\r\nContent-Length: {n}\r\n", "Content-Length: {n}, {n}\r\n"],
)
async def test_one_length_said_twice_frames_the_same_for_everyone(
    headers: str, gateway: IngestService, queues: Queues
) -> None:
    """The same Content-Length twice (RFC 9110 8.6 lets a recipient take it as one) frames one
    body either way: the alert is queued once or refused, and the request after it is read as
    the next request, never as part of the first body."""
    request = "POST /v1/alerts/generic HTTP/1.1\r\nHost: x\r\n" + BEARER
    request += headers.format(n=len(GENERIC)) + "\r\n"
    statuses, _ = await answers_and_close(gateway.port, request.encode() + GENERIC + SMUGGLED)
    bodies = queued_bodies(queues)
    assert statuses.count(202) == len(bodies)
    assert all(b == GENERIC.decode() or "smuggled" in b for b in bodies), bodies
