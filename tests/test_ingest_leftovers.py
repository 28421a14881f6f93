"""`triage ingest`'s leftovers, on raw sockets against a real gateway on 127.0.0.1: an answer
given before a body was read (a GET with a body, any early refusal) ends its connection at
once rather than after aiohttp's 10 s lingering read; one source cannot take every slot of the
webhooks waiting for SQS; and the HTTP protocol's odd corners (`Expect`, HTTP/1.0, OPTIONS,
TRACE, CONNECT, request targets, repeated and folded headers, a trickled head, pipelining behind
a refusal) each get a clear status and one line, queue nothing they should not, and lose
nothing answered 202."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import AsyncIterator, Callable, Iterator

import pytest
from structlog.testing import capture_logs

from daemon_harness import Queues
from ingest_harness import (
    TOKENS,
    SqsProxy,
    bearer,
    ingest_settings,
    loopback_client,
    payload,
    running,
)
from test_ingest_hostile import read_answer, received, wait_logged
from triage.ingest import IngestService
from triage.ingest.outbox import SqsOutbox

GENERIC = payload("generic/firing.json")
BEARER = f"Authorization: Bearer {TOKENS['generic']}\r\n"
#: Longer than any answer takes on loopback, well short of aiohttp's 10 s lingering read: a
#: connection still open after it is one the gateway kept open for the body it never read.
CLOSED_WITHIN_S = 5.0


@pytest.fixture
async def gateway(queues: Queues) -> AsyncIterator[IngestService]:
    """The gateway on a free port, with the harness's tokens, in front of moto's `alerts` queue."""
    async with running(ingest_settings(queues.url, queues.endpoint)) as service:
        yield service


async def until(condition: Callable[[], bool], what: str) -> None:
    """Wait (10 s at most) until `condition()` is true."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while not condition():
        assert loop.time() < deadline, what
        await asyncio.sleep(0.01)


async def ended_by_gateway(reader: asyncio.StreamReader) -> bool:
    """Whether the gateway ended the connection (end of stream, or a reset) within
    CLOSED_WITHIN_S, what the answer said being read already."""
    try:
        return await asyncio.wait_for(reader.read(), CLOSED_WITHIN_S) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


async def answered_408_or_ended(reader: asyncio.StreamReader) -> bool:
    """Whether the gateway ended the connection within CLOSED_WITHIN_S, after a 408 or with
    nothing (a reset: the client's next byte arrived after the close)."""
    try:
        answer = await asyncio.wait_for(reader.read(), CLOSED_WITHIN_S)
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False
    return answer == b"" or answer.startswith(b"HTTP/1.1 408 ")


def queued_202(gateway: IngestService, source: str = "generic") -> float:
    return gateway.metrics.counter("IngestRequests", source=source, status="202")


# --- An answer before the body: no lingering read -------------------------------------------------

#: Requests on routes that take no body, each with a body the gateway does not read: its
#: framing says more is coming and the rest never comes.
BODIES_ON_BODILESS_ROUTES = {
    "GET /healthz, Content-Length": b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc",
    "GET /readyz, chunked": b"GET /readyz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
    "HEAD /healthz, Content-Length": b"HEAD /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 9\r\n\r\n",
    "GET /readyz, Expect": b"GET /readyz HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n",
}  # fmt: skip


@pytest.mark.parametrize(
    "request_bytes", BODIES_ON_BODILESS_ROUTES.values(), ids=list(BODIES_ON_BODILESS_ROUTES)
)
async def test_a_get_or_head_with_a_body_on_a_probe_route_is_400_and_closed_at_once(
    gateway: IngestService, request_bytes: bytes
) -> None:
    """`/healthz` or `/readyz` asked by GET or HEAD with a body is refused 400 as the webhook
    path's GET with a body is (no 100 Continue first), with one ingest.refused line, and its
    connection ends at once, not after 10 s of reading a body nobody reads."""
    reader, writer = await asyncio.open_connection("127.0.0.1", gateway.port)
    try:
        with capture_logs() as logs:
            writer.write(request_bytes)
            await writer.drain()
            if request_bytes.startswith(b"HEAD"):  # its answer's head says a length, sends none
                head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
                assert head.startswith(b"HTTP/1.1 400 ") and b"Connection: close" in head
            else:
                answer = await read_answer(reader)
                assert answer.status == 400, answer.status
                assert answer.headers.get("connection") == "close"
                assert "body is not read" in answer.json()["error"]
            assert await ended_by_gateway(reader), "the connection was kept for the unread body"
            (line,) = await wait_logged(logs, "ingest.refused")
    finally:
        writer.close()
    assert (line["status"], line["reason"]) == (400, "get_with_body")


#: Early refusals of a POST whose body the sender holds back (it sent part of it, or waits for
#: `100 Continue`, which a refusal replaces).
EARLY_REFUSALS = {
    "401, part of the body": (b"POST /v1/alerts/generic HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{", 401),
    "404, part of the body": (b"POST /v1/nope HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{", 404),
    "405, part of the body": (b"PUT /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{", 405),
    "413, waits for 100": (f"POST /v1/alerts/generic HTTP/1.1\r\nHost: x\r\n{BEARER}Expect: 100-continue\r\nContent-Length: 5000000\r\n\r\n".encode(), 413),
    "417, part of the body": (f"POST /v1/alerts/generic HTTP/1.1\r\nHost: x\r\n{BEARER}Expect: later\r\nContent-Length: 100\r\n\r\n{{".encode(), 417),
}  # fmt: skip


@pytest.mark.parametrize(
    ("request_bytes", "status"), EARLY_REFUSALS.values(), ids=list(EARLY_REFUSALS)
)
async def test_a_refusal_before_the_body_ends_its_connection_at_once(
    gateway: IngestService, queues: Queues, request_bytes: bytes, status: int
) -> None:
    """A POST refused from its head while its body is still to come is answered at once with
    `Connection: close`, and the gateway ends the connection right after the answer (what the
    sender still sends is dropped), not after reading and discarding it for 10 s; nothing is
    queued."""
    reader, writer = await asyncio.open_connection("127.0.0.1", gateway.port)
    try:
        writer.write(request_bytes)
        await writer.drain()
        answer = await read_answer(reader)
        assert answer.status == status
        assert answer.headers.get("connection") == "close"
        assert await ended_by_gateway(reader), "the connection was kept for the unread body"
    finally:
        writer.close()
    assert received(queues) == []


async def test_a_body_that_never_follows_100_continue_is_408_and_closed_at_once(
    gateway: IngestService, queues: Queues
) -> None:
    """A sender told `100 Continue` that never sends its body is answered 408 once the body's
    time is out, and the connection ends right after that answer, not 10 s later."""
    assert gateway.gateway is not None
    gateway.gateway.limits = dataclasses.replace(gateway.gateway.limits, body_timeout_s=0.3)
    head = f"POST /v1/alerts/generic HTTP/1.1\r\nHost: x\r\n{BEARER}Expect: 100-continue\r\n"
    head += f"Content-Length: {len(GENERIC)}\r\n\r\n"
    reader, writer = await asyncio.open_connection("127.0.0.1", gateway.port)
    try:
        writer.write(head.encode())
        await writer.drain()
        assert (await read_answer(reader)).status == 100
        answer = await read_answer(reader)
        assert answer.status == 408
        assert await ended_by_gateway(reader), "the connection was kept for the unsent body"
    finally:
        writer.close()
    assert received(queues) == []


# --- The webhooks waiting for SQS: a share per source ----------------------------------------------

#: Webhooks that may wait for SQS at once, and one source's share of them, in these tests.
BOUND = 4
SHARE = 2


@pytest.fixture
def proxy(moto_url: str) -> Iterator[SqsProxy]:
    with SqsProxy(moto_url) as running_proxy:
        yield running_proxy


@pytest.fixture
async def slow_gateway(
    queues: Queues, proxy: SqsProxy, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[IngestService]:
    """The gateway through the proxy, letting BOUND webhooks wait for SQS, SHARE per source."""
    monkeypatch.setattr(IngestService, "max_waiting_for_queue", BOUND)
    monkeypatch.setattr(IngestService, "max_waiting_per_source", SHARE)
    settings = ingest_settings(proxy.queue_url(queues.url), proxy.url)
    async with running(settings) as service:
        yield service


def alert(n: int) -> bytes:
    return json.dumps({"title": f"waiting {n}"}).encode()


async def test_one_source_cannot_take_every_slot_waiting_for_sqs(
    slow_gateway: IngestService, proxy: SqsProxy, queues: Queues
) -> None:
    """With SHARE of one source's webhooks waiting for a silent SQS, that source's next is 503
    `busy` (detail `outbox_source_share`) with Retry-After and one line, while another source's
    webhook still takes a slot and, once SQS answers, its 202 like every waiting one: a
    leaked token cannot make every other source's webhooks wait."""
    outbox = slow_gateway._outbox
    assert isinstance(outbox, SqsOutbox)
    grafana = payload("grafana/group-firing.json")
    proxy.released.clear()
    async with loopback_client(slow_gateway.port) as client:

        def generic(n: int) -> asyncio.Task[object]:
            post = client.post("/v1/alerts/generic", content=alert(n), headers=bearer("generic"))
            return asyncio.ensure_future(post)

        waiting = [generic(n) for n in range(SHARE)]
        await until(lambda: outbox.waiting == SHARE, "the webhooks never reached the outbox")
        with capture_logs() as logs:
            beyond = await asyncio.wait_for(generic(99), 10)
        assert beyond.status_code == 503  # type: ignore[attr-defined]
        assert beyond.headers["retry-after"] == "1"  # type: ignore[attr-defined]
        (line,) = [e for e in logs if e["event"] == "ingest.refused"]
        assert (line["source"], line["reason"], line["detail"]) == (
            "generic",
            "busy",
            "outbox_source_share",
        )
        other = asyncio.ensure_future(
            client.post("/v1/alerts/grafana", content=grafana, headers=bearer("grafana"))
        )
        await until(lambda: outbox.waiting == SHARE + 1, "another source's webhook was refused")
        proxy.released.set()
        assert (await other).status_code == 202
        assert [(await w).status_code for w in waiting] == [202] * SHARE  # type: ignore[attr-defined]
    assert outbox.waiting == 0


# --- A head trickled in many segments (slowloris) ------------------------------------------------


async def test_a_head_trickled_past_the_idle_timeout_is_cut_with_one_line(queues: Queues) -> None:
    """A request head sent in many small segments, never pausing as long as the idle timeout,
    is cut once that timeout has passed since the connection opened, with one
    `ingest.head_timeout` line (how many bytes had come); a connection merely idle between
    requests is closed without one; nothing is queued."""
    settings = ingest_settings(queues.url, queues.endpoint, ingest_idle_timeout_s=0.3)
    head = f"POST /v1/alerts/generic HTTP/1.1\r\nHost: x\r\n{BEARER}X-Pad: {'a' * 200}\r\n"
    async with running(settings) as service:
        with capture_logs() as logs:
            reader, writer = await asyncio.open_connection("127.0.0.1", service.port)
            sent = 0
            ended = asyncio.ensure_future(answered_408_or_ended(reader))
            while not ended.done() and sent < len(head):
                writer.write(head[sent : sent + 8].encode())
                sent += 8
                await asyncio.wait([ended], timeout=0.02)
            assert await ended, "the head was trickled whole and never cut"
            writer.close()
            idle_reader, idle_writer = await asyncio.open_connection("127.0.0.1", service.port)
            assert await ended_by_gateway(idle_reader)
            idle_writer.close()
            (line,) = await wait_logged(logs, "ingest.head_timeout")
    assert sent < len(head)
    assert 0 < line["head_bytes"] <= sent
    assert [e for e in logs if e["event"] == "ingest.head_timeout"] == [line]
    assert received(queues) == []


# --- Headers sent more than once ---------------------------------------------------------------


def post(extra_headers: str = "", *, body: bytes = GENERIC) -> bytes:
    """A generic alert's keep-alive POST framed by its Content-Length, with `extra_headers`."""
    head = f"POST /v1/alerts/generic HTTP/1.1\r\nHost: x\r\n{BEARER}{extra_headers}"
    head += f"Content-Length: {len(body)}\r\n\r\n"
    return head.encode() + body


async def one_answer(port: int, request_bytes: bytes) -> tuple[int, list[int]]:
    """Send `request_bytes` on a new connection: the final answer's status, after any
    interim ones (listed second)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request_bytes)
        await writer.drain()
        interim = []
        while (answer := await read_answer(reader)).status < 200:
            interim.append(answer.status)
        return answer.status, interim
    finally:
        writer.close()


@pytest.mark.parametrize(
    "expect",
    [
        "Expect: 100-continue\r\nExpect: 100-checksum\r\n",
        "Expect: 100-checksum\r\nExpect: 100-continue\r\n",
        "Expect: 100-continue, 100-checksum\r\n",
    ],
    ids=["continue first", "continue second", "in one header"],
)
async def test_an_expectation_beside_100_continue_is_417_whichever_comes_first(
    gateway: IngestService, queues: Queues, expect: str
) -> None:
    """An expectation the gateway does not meet is 417 even when `100-continue` is asked for
    too, in another `Expect` header or the same one: the second header was read past, and
    the request queued with its expectation unmet; no `100 Continue`, one line, nothing
    queued."""
    with capture_logs() as logs:
        status, interim = await one_answer(gateway.port, post(expect))
        (line,) = await wait_logged(logs, "ingest.refused")
    assert (status, interim) == (417, [])
    assert line["reason"] == "expectation_failed"
    assert received(queues) == []


async def test_100_continue_asked_twice_is_still_one_100_continue(
    gateway: IngestService, queues: Queues
) -> None:
    """`Expect: 100-continue` sent in two headers is the one expectation: one `100 Continue`,
    then 202, queued once."""
    twice = "Expect: 100-continue\r\nExpect: 100-continue\r\n"
    assert await one_answer(gateway.port, post(twice)) == (202, [100])
    assert len(received(queues)) == 1


TRACEPARENTS = (
    "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    "00-1bf7651916cd43dd8448eb211c80319c-c7ad6b7169203331-01",
)


async def test_a_traceparent_sent_twice_is_not_carried(
    gateway: IngestService, queues: Queues
) -> None:
    """Two `traceparent` headers are no trace context (W3C Trace Context: which one is meant
    is a guess, so neither): the webhook is queued (202) without one; a single one is
    carried."""
    twice = "".join(f"traceparent: {t}\r\n" for t in TRACEPARENTS)
    assert await one_answer(gateway.port, post(twice)) == (202, [])
    once = f"traceparent: {TRACEPARENTS[1]}\r\n"
    assert await one_answer(gateway.port, post(once)) == (202, [])
    messages = queues.client().receive_message(
        QueueUrl=queues.url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
    )["Messages"]
    carried = sorted(
        m["MessageAttributes"].get("traceparent", {}).get("StringValue", "") for m in messages
    )
    assert carried == ["", TRACEPARENTS[1]]


# --- Methods the gateway never takes ------------------------------------------------------------


async def answers_until_closed(port: int, request_bytes: bytes) -> list[int]:
    """Send `request_bytes` whole: the statuses answered until the gateway ends the
    connection (asserted to end within read_answer's 10 s)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request_bytes)
        await writer.drain()
        statuses = []
        while True:
            try:
                statuses.append((await read_answer(reader)).status)
            except (asyncio.IncompleteReadError, ConnectionResetError):
                return statuses
            except TimeoutError:
                raise AssertionError(f"still open after {statuses}") from None
    finally:
        writer.close()


CONNECT = b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n"


@pytest.mark.parametrize(
    "behind",
    [
        b"\r\n\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03",
        b"\r\n" + post(),
        b"Content-Length: %d\r\n\r\n" % len(post()) + post(),
    ],
    ids=["a TLS hello", "a request", "a request as its Content-Length body"],
)
async def test_connect_is_refused_and_nothing_after_it_is_read_as_a_request(
    gateway: IngestService, queues: Queues, behind: bytes
) -> None:
    """CONNECT (never a tunnel here) is answered 501 with `Connection: close` (a method the
    gateway does not implement, as on the operators' port: `request_head.request_line_fault`),
    one line, and
    the connection ends: what the sender sent after it is tunnel bytes, or a body a proxy in
    front counted by its Content-Length (RFC 9110: a CONNECT has none), never a request the
    gateway reads and answers, queues or logs as unparsable."""
    with capture_logs() as logs:
        statuses = await answers_until_closed(gateway.port, CONNECT + behind)
        await wait_logged(logs, "ingest.bad_http")
    assert statuses == [501]
    assert [e["event"] for e in logs if e["event"].startswith("ingest.")] == ["ingest.bad_http"]
    assert received(queues) == []


# --- The Host header ----------------------------------------------------------------------------


def with_host(host: str) -> bytes:
    return post().replace(b"Host: x\r\n", f"Host: {host}\r\n".encode())


@pytest.mark.parametrize("host", ["a b", "triage:secret@x", "x/y", "x:80:80", "[::1"], ids=repr)
async def test_a_host_header_that_names_no_host_is_400(
    gateway: IngestService, queues: Queues, host: str
) -> None:
    """A `Host` whose value is no host (RFC 9112 3.2: a server MUST answer 400): a space, user
    info, a path, two ports, an open bracket; one ingest.refused line that never quotes it,
    nothing queued."""
    with capture_logs() as logs:
        status, _ = await one_answer(gateway.port, with_host(host))
        (line,) = await wait_logged(logs, "ingest.refused")
    assert status == 400
    assert line["reason"] == "bad_host"
    assert host not in str(logs)
    assert received(queues) == []


@pytest.mark.parametrize(
    "host",
    ["", "alerts.example.com", "alerts.example.com:8081", "127.0.0.1:80", "[::1]:8081", "my_host"],
    ids=repr,
)
async def test_a_host_header_that_names_a_host_passes(
    gateway: IngestService, queues: Queues, host: str
) -> None:
    """Every `Host` form RFC 9112 allows, an empty one included (a target without an
    authority), is accepted: 202, queued once."""
    assert await one_answer(gateway.port, with_host(host)) == (202, [])
    assert len(received(queues)) == 1


# --- Pipelined behind a refusal -----------------------------------------------------------------


async def test_requests_pipelined_behind_refusals_are_each_answered_and_the_good_one_queued(
    gateway: IngestService, queues: Queues
) -> None:
    """Refusals whose bodies came whole (401, 404, 405, 422, a GET of /healthz with a body)
    pipelined in one write ahead of a good webhook: each is answered in order with one line,
    the connection stays usable, and the good one is answered 202 and queued once."""
    refusals = [
        post().replace(BEARER.encode(), b""),
        post().replace(b"/v1/alerts/generic", b"/v1/alerts/nope"),
        post().replace(b"POST ", b"PUT "),
        post(body=b"{}"),
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc",
    ]
    reader, writer = await asyncio.open_connection("127.0.0.1", gateway.port)
    try:
        with capture_logs() as logs:
            writer.write(b"".join(refusals) + post())
            await writer.drain()
            statuses = [(await read_answer(reader)).status for _ in range(len(refusals) + 1)]
    finally:
        writer.close()
    assert statuses == [401, 404, 405, 422, 400, 202]
    lines = [e["event"] for e in logs if e["event"].startswith("ingest.")]
    assert lines == ["ingest.refused"] * len(refusals) + ["ingest.accepted"]
    assert len(received(queues)) == 1


async def test_a_request_pipelined_behind_a_refusal_that_closes_is_not_queued(
    gateway: IngestService, queues: Queues
) -> None:
    """A good webhook pipelined behind one refused 413 from its head (its body never read) is
    neither answered nor queued: the 413 says `Connection: close` and the connection ends at
    once, so its sender knows to send it again."""
    too_large = post().replace(b"Content-Length: %d" % len(GENERIC), b"Content-Length: 5000000")
    assert await answers_until_closed(gateway.port, too_large + post()) == [413]
    assert received(queues) == []
