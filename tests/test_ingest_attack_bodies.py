"""`triage ingest` against hostile bodies that are well framed: JSON built to exhaust a parser
(nesting 100,000 deep, a number past a float's range or past Python's 4,300-digit int limit,
NaN) or ambiguous (a key twice), in a plain body, a form's `payload` field or a batch line,
each refused 422 with the normaliser's reason, one line, nothing queued; JSON that is odd but
readable (a lone surrogate's escape) queued byte for byte as the daemon will read it; and a
body dripped a byte at a time under the size limit, cut at the body's timeout."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import MutableMapping
from typing import Any

import pytest
from structlog.testing import capture_logs

from daemon_harness import Queues
from ingest_harness import TOKENS, bearer, loopback_client
from triage.decode import decode_body
from triage.ingest import IngestService

BEARER = f"Authorization: Bearer {TOKENS['generic']}\r\n"
FORM = "application/x-www-form-urlencoded"

#: Bodies meant to exhaust a parser: (the body, its Content-Type, a piece of the 422's reason).
EXHAUSTING: dict[str, tuple[bytes, str, str]] = {
    "arrays 100,000 deep": (b"[" * 100_000 + b"]" * 100_000, "application/json", "nested"),
    "an object 100,000 deep": (b'{"title": "x", "a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "application/json", "nested"),
    "1e999999": (b'{"title": "x", "n": 1e999999}', "application/json", "too large a number"),
    "an int of 10,000 digits": (b'{"title": "x", "n": ' + b"9" * 10_000 + b"}", "application/json", "4,300 digits"),
    "NaN": (b'{"title": "x", "n": NaN}', "application/json", "NaN"),
    "a form's payload 50,000 deep": (b"payload=" + b"%5B" * 50_000, FORM, "nested"),
    "a batch's second line 100,000 deep": (b'{"title": "a"}\n' + b"[" * 100_000 + b"\n", "application/json", "alert 2"),
    # Parsers keep the first or the last of two: the body means what its reader chose.
    "a key twice": (b'{"title": "first", "title": "second"}', "application/json", '"title" twice'),
}  # fmt: skip


def refusals(logs: list[MutableMapping[str, Any]]) -> list[MutableMapping[str, Any]]:
    return [e for e in logs if e["event"] == "ingest.refused"]


@pytest.mark.parametrize("name", list(EXHAUSTING))
async def test_json_built_to_exhaust_a_parser_is_422_with_one_line_and_nothing_queued(
    gateway: IngestService, queues: Queues, name: str
) -> None:
    """Each body of EXHAUSTING is 422 with the normaliser's reason (never a 500 from a
    RecursionError or int's digit limit), one ingest.refused line, nothing queued; a good
    webhook right after is queued."""
    body, content_type, reason = EXHAUSTING[name]
    headers = {**bearer("generic"), "Content-Type": content_type}
    async with loopback_client(gateway.port) as client:
        with capture_logs() as logs:
            answer = await client.post("/v1/alerts/generic", content=body, headers=headers)
        assert answer.status_code == 422, answer.text
        assert reason in answer.json()["error"]
        (line,) = refusals(logs)
        assert (line["status"], line["reason"]) == (422, "invalid")
        assert queues.depth() == 0
        good = json.dumps({"title": "after the bomb"}).encode()
        answer = await client.post("/v1/alerts/generic", content=good, headers=bearer("generic"))
        assert answer.status_code == 202
    assert queues.depth() == 1


#: Readable JSON a sender may bend: the body, and the title the daemon will read from it.
ODD_BUT_READABLE: dict[str, tuple[bytes, str]] = {
    # (No UTF-8 encoder takes a lone surrogate: the daemon reads it as U+FFFD.)
    "a lone surrogate's escape": (b'{"title": "x\\ud800y"}', "x\ufffdy"),
}


@pytest.mark.parametrize("name", list(ODD_BUT_READABLE))
async def test_odd_but_readable_json_is_queued_as_sent_and_read_as_the_gateway_read_it(
    gateway: IngestService, queues: Queues, name: str
) -> None:
    """A lone surrogate's escape is 202 and queued byte for byte, and the daemon's decode
    reads it as the gateway did (U+FFFD)."""
    body, title = ODD_BUT_READABLE[name]
    async with loopback_client(gateway.port) as client:
        answer = await client.post("/v1/alerts/generic", content=body, headers=bearer("generic"))
    assert answer.status_code == 202, answer.text
    response = queues.client().receive_message(QueueUrl=queues.url, VisibilityTimeout=0)
    (message,) = response["Messages"]
    assert message["Body"].encode() == body
    assert decode_body(message["Body"])["title"] == title


async def test_a_body_dripped_a_byte_at_a_time_is_408_at_the_body_timeout(
    gateway: IngestService, queues: Queues
) -> None:
    """A sender that keeps a body under the size limit coming a byte at a time (so no read
    ever stalls) is still answered 408 once the body's time is out, with one line; nothing is
    queued and the gateway goes on serving."""
    assert gateway.gateway is not None
    gateway.gateway.limits = dataclasses.replace(gateway.gateway.limits, body_timeout_s=0.5)
    head = f"POST /v1/alerts/generic HTTP/1.1\r\nHost: x\r\n{BEARER}Content-Length: 100000\r\n\r\n"
    reader, writer = await asyncio.open_connection("127.0.0.1", gateway.port)
    with capture_logs() as logs:
        writer.write(head.encode())
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 10
        answer = b""
        while not answer:
            assert loop.time() < deadline, "the dripped body was never cut"
            writer.write(b" ")
            try:  # (the wait for the answer paces the drip)
                answer = await asyncio.wait_for(reader.readline(), 0.05)
            except TimeoutError:
                continue
        writer.close()
    assert answer.startswith(b"HTTP/1.1 408"), answer
    (line,) = refusals(logs)
    assert (line["status"], line["reason"]) == (408, "body_timeout")
    assert queues.depth() == 0
    async with loopback_client(gateway.port) as client:
        assert (await client.get("/healthz")).status_code == 200
