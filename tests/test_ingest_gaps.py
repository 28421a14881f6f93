"""Two gaps in `triage ingest` found by an attack sweep, each shown through real requests on
127.0.0.1 in front of moto: a chunk size spelt with more hex digits than any body needs (leading
zeros) is a framing fault, and a large Alertmanager API batch is split into queue messages off
the event loop (a small one on it), into the same messages either way."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator, Callable

import httpx2
import pytest
from structlog.testing import capture_logs

from daemon_harness import Queues
from ingest_harness import TOKENS, bearer, ingest_settings, loopback_client, payload, running
from test_ingest_hostile import read_answer
from triage.ingest import IngestService, messages
from triage.ingest.chunks import MAX_SIZE_DIGITS, ChunkSizes, ChunkSizeTooLong
from triage.ingest.framing import MAX_CUTS
from triage.ingest.validate import OFFLOAD_BODY_BYTES, sqs_safe

GENERIC = payload("generic/firing.json")


@pytest.fixture
async def gateway(queues: Queues) -> AsyncIterator[IngestService]:
    """The gateway on a free port, with the harness's tokens, in front of moto's `alerts` queue."""
    async with running(ingest_settings(queues.url, queues.endpoint)) as service:
        yield service


# --- A chunk size with more digits than any body needs -------------------------------------


def chunked_head(expect_continue: bool = False) -> bytes:
    """The head of a generic alert's POST whose body is chunked."""
    head = f"POST /v1/alerts/generic HTTP/1.1\r\nHost: x\r\n{bearer_line()}"
    head += "Expect: 100-continue\r\n" if expect_continue else ""
    return (head + "Transfer-Encoding: chunked\r\n\r\n").encode()


def bearer_line() -> str:
    return f"Authorization: Bearer {TOKENS['generic']}\r\n"


def chunked_body(size: bytes, last: bytes = b"0") -> bytes:
    """The generic alert as one chunk whose size is spelt `size`, then the last chunk `last`."""
    return size + b"\r\n" + GENERIC + b"\r\n" + last + b"\r\n\r\n"


SIZE = b"%x" % len(GENERIC)
#: Chunk sizes a proxy reading a fixed number of digits would read as 0, the last chunk.
TOO_MANY_DIGITS = {
    "22 leading zeros": (chunked_body(b"0" * 22 + SIZE)),
    "one digit too many": (chunked_body(SIZE.rjust(MAX_SIZE_DIGITS + 1, b"0"))),
    "a last chunk of zeros": (chunked_body(SIZE, last=b"0" * (MAX_SIZE_DIGITS + 1))),
    "40 digits, too large": (chunked_body(b"f" * 40)),
}


async def answer_and_close(port: int, head: bytes, body: bytes, *, apart: bool) -> tuple[int, str]:
    """Send a request (`apart`: its body only once the gateway asked for it with `100
    Continue`, so head and body are surely two reads); its status and error, after checking
    the gateway then closed the connection."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        if apart:
            writer.write(head)
            assert (await read_answer(reader)).status == 100
            writer.write(body)
        else:
            writer.write(head + body)
        answer = await read_answer(reader)
        assert await asyncio.wait_for(reader.read(), 10) == b""  # closed
        error: str = json.loads(answer.body)["error"]
        return answer.status, error
    finally:
        writer.close()


def queued_count(gateway: IngestService) -> float:
    return gateway.metrics.counter("IngestRequests", source="generic", status="202")


@pytest.mark.parametrize("body", TOO_MANY_DIGITS.values(), ids=TOO_MANY_DIGITS.keys())
async def test_a_chunk_size_of_too_many_digits_in_the_heads_read_is_a_framing_fault(
    gateway: IngestService, body: bytes
) -> None:
    """A chunk size of more than MAX_SIZE_DIGITS hex digits (leading zeros counted) sent with
    its head is answered 400 `bad request: …`, the connection closed, with one ingest.bad_http
    line, and nothing is queued."""
    with capture_logs() as logs:
        status, error = await answer_and_close(gateway.port, chunked_head(), body, apart=False)
    assert status == 400
    assert error.startswith("bad request: chunk size")
    assert [e["event"] for e in logs if e["event"].startswith("ingest.")] == ["ingest.bad_http"]
    assert queued_count(gateway) == 0


@pytest.mark.parametrize("body", TOO_MANY_DIGITS.values(), ids=TOO_MANY_DIGITS.keys())
async def test_a_chunk_size_of_too_many_digits_after_the_head_is_refused_at_once(
    gateway: IngestService, body: bytes
) -> None:
    """The same chunk size arriving after its head (the handler already waiting for the body)
    is answered 400 `bad request: chunk size …` at once, not 408 once the body's time is out,
    the connection closed, with one line, and nothing is queued."""
    with capture_logs() as logs:
        status, error = await answer_and_close(
            gateway.port, chunked_head(expect_continue=True), body, apart=True
        )
    assert (status, error.startswith("bad request: chunk size")) == (400, True), error
    lines = [e for e in logs if e["event"].startswith("ingest.")]
    assert [(e["event"], e["status"]) for e in lines] == [("ingest.refused", 400)]
    assert queued_count(gateway) == 0


async def test_any_fault_the_parser_finds_in_a_body_after_its_head_is_answered_at_once(
    gateway: IngestService,
) -> None:
    """A chunk size that is not hex (the parser's own refusal), arriving after its head, is
    answered 400 `bad request: …` at once, not 408 once the body's time is out, and the
    connection is closed."""
    body = b"zz\r\n" + GENERIC + b"\r\n0\r\n\r\n"
    with capture_logs() as logs:
        status, error = await answer_and_close(
            gateway.port, chunked_head(expect_continue=True), body, apart=True
        )
    assert status == 400 and error.startswith("bad request: "), error
    assert [e["reason"] for e in logs if e["event"] == "ingest.refused"] == ["bad_chunk"]
    assert queued_count(gateway) == 0


async def test_a_chunked_body_behind_more_requests_than_one_read_is_cut_into_is_refused(
    gateway: IngestService,
) -> None:
    """A chunked request pipelined behind MAX_CUTS others in one packet, where its body's start
    cannot be told from its head's end, is answered 400 after the requests before it are
    answered, so its chunk sizes cannot go unchecked; nothing of it is queued."""
    pipelined = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n" * MAX_CUTS
    body = chunked_body(b"0" * 22 + SIZE)
    reader, writer = await asyncio.open_connection("127.0.0.1", gateway.port)
    try:
        writer.write(pipelined + chunked_head() + body)
        statuses = [(await read_answer(reader)).status for _ in range(MAX_CUTS + 1)]
    finally:
        writer.close()
    assert statuses == [200] * MAX_CUTS + [400]
    assert queued_count(gateway) == 0


@pytest.mark.parametrize("apart", [False, True])
async def test_a_chunk_size_padded_to_max_size_digits_is_read(
    gateway: IngestService, apart: bool
) -> None:
    """A chunk size zero-padded to exactly MAX_SIZE_DIGITS digits, and a last chunk of as many
    zeros, are read as any chunk: the alert is queued (202)."""
    body = chunked_body(SIZE.rjust(MAX_SIZE_DIGITS, b"0"), last=b"0" * MAX_SIZE_DIGITS)
    reader, writer = await asyncio.open_connection("127.0.0.1", gateway.port)
    try:
        writer.write(chunked_head(expect_continue=apart) + (b"" if apart else body))
        if apart:
            assert (await read_answer(reader)).status == 100
            writer.write(body)
        assert (await read_answer(reader)).status == 202
    finally:
        writer.close()
    assert queued_count(gateway) == 1


def test_chunk_sizes_are_followed_across_reads_of_any_cut() -> None:
    """Fed one byte at a time, a body of several chunks with extensions and trailers passes, and
    a size of one digit too many is refused where its digits pass the bound, whichever read
    they straddle."""
    good = b"3;a=b\r\nabc\r\n" + b"0" * (MAX_SIZE_DIGITS - 1) + b"a\r\n" + b"0123456789\r\n"
    good += b"0\r\nX-Trailer: 1\r\n\r\n"
    sizes = ChunkSizes()
    for byte in range(len(good)):
        sizes.check(good[byte : byte + 1])
    assert sizes.done
    bad = b"3\r\nabc\r\n" + b"0" * MAX_SIZE_DIGITS + b"a\r\n"
    assert refused_at(bad) == bad.index(b"a\r\n")  # the digit past the bound


def refused_at(body: bytes) -> int | None:
    """Where following `body` fed one byte at a time raises ChunkSizeTooLong, if it does."""
    sizes = ChunkSizes()
    for at in range(len(body)):
        try:
            sizes.check(body[at : at + 1])
        except ChunkSizeTooLong:
            return at
    return None


def test_what_follows_the_last_chunk_is_not_read_as_a_size() -> None:
    """Once the last chunk and its trailers have passed, what follows (the next request, a body
    of hex digits) is not checked: it is not a chunk size."""
    sizes = ChunkSizes()
    sizes.check(b"0\r\n\r\n" + b"f" * 100)
    assert sizes.done


# --- A large batch is split off the event loop ---------------------------------------------


@pytest.fixture
async def client(gateway: IngestService) -> AsyncIterator[httpx2.AsyncClient]:
    async with loopback_client(gateway.port) as c:
        yield c


@pytest.fixture
def splitting_threads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The thread of each call that makes an alert's text fit SQS while a batch is split (the
    real function, watched)."""
    threads: list[int] = []
    real: Callable[[str], str] = sqs_safe

    def watched(text: str) -> str:
        threads.append(threading.get_ident())
        return real(text)

    monkeypatch.setattr(messages, "sqs_safe", watched)
    return threads


async def queue_takes_at_most(queues: Queues, gateway: IngestService, size: int) -> None:
    """The queue's MaximumMessageSize becomes `size`, and the gateway knows it."""
    queues.client().set_queue_attributes(
        QueueUrl=queues.url, Attributes={"MaximumMessageSize": str(size)}
    )
    assert gateway.gateway is not None
    await gateway.gateway.probe.refresh()


def batch_of(size_bytes: int) -> str:
    """A Prometheus API batch of alerts of about 500 bytes each, at least `size_bytes` long."""
    count = size_bytes // 500 + 1
    return json.dumps(
        [
            {"labels": {"alertname": "DiskFull", "instance": f"db-{i}"},
             "annotations": {"description": f"disk on db-{i} is full " + "x" * 400}}
            for i in range(count)
        ]
    )  # fmt: skip


def take_queued(queues: Queues) -> list[str]:
    """The bodies on the queue, in the order sent (moto keeps it), removed from it."""
    sqs, bodies = queues.client(), []
    while batch := sqs.receive_message(QueueUrl=queues.url, MaxNumberOfMessages=10).get(
        "Messages", []
    ):
        bodies += [m["Body"] for m in batch]
        entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)]
        sqs.delete_message_batch(QueueUrl=queues.url, Entries=entries)
    return bodies


async def post_batch(client: httpx2.AsyncClient, batch: str) -> int:
    """Post `batch` to Alertmanager's API path; how many messages it became."""
    response = await client.post("/api/v2/alerts", content=batch, headers=bearer("alertmanager"))
    assert response.status_code == 200, response.text
    count: int = response.json()["messages"]
    return count


async def test_a_large_batch_is_split_on_a_worker_thread_and_a_small_one_on_the_loop(
    client: httpx2.AsyncClient,
    queues: Queues,
    gateway: IngestService,
    splitting_threads: list[int],
) -> None:
    """A batch past OFFLOAD_BODY_BYTES is split into messages on another thread than the event
    loop's, so the loop keeps answering; a batch under it is split on the loop's thread."""
    await queue_takes_at_most(queues, gateway, 16 * 1024)
    loop_thread = threading.get_ident()  # the gateway runs in this test's loop
    assert await post_batch(client, batch_of(OFFLOAD_BODY_BYTES // 2)) > 1
    assert splitting_threads and set(splitting_threads) == {loop_thread}
    splitting_threads.clear()
    assert await post_batch(client, batch_of(OFFLOAD_BODY_BYTES * 3)) > 1
    assert splitting_threads and loop_thread not in splitting_threads


async def test_a_batch_split_off_the_loop_queues_the_same_messages_as_on_it(
    client: httpx2.AsyncClient,
    queues: Queues,
    gateway: IngestService,
    splitting_threads: list[int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The same large batch split on a worker thread and (with the bound raised) on the loop
    is queued as the same messages, in the same order."""
    await queue_takes_at_most(queues, gateway, 64 * 1024)
    batch = batch_of(OFFLOAD_BODY_BYTES * 3)
    off_loop = await post_batch(client, batch)
    assert threading.get_ident() not in splitting_threads
    split_off_loop = take_queued(queues)
    monkeypatch.setattr(messages, "OFFLOAD_BODY_BYTES", len(batch))
    splitting_threads.clear()
    assert await post_batch(client, batch) == off_loop > 1
    assert set(splitting_threads) == {threading.get_ident()}
    assert take_queued(queues) == split_off_loop
