"""A request head past one of aiohttp's per-line bounds is answered with the status that names
the bound (RFC 9110 15.5.15: 414 for a request target too long; RFC 6585 5: 431 for a header
line too long or too many header lines), a reason saying which bound and its size, and one
`ingest.bad_http` line with the same status; never the request's bytes."""

from __future__ import annotations

import asyncio
import json
from collections.abc import MutableMapping
from typing import Any

import pytest

from triage.ingest.bad_http import MAX_FIELD_BYTES, MAX_HEADERS, MAX_TARGET_BYTES
from triage.ingest.service import IngestService

SECRET = b"Zq81sess"


async def _answer_to(gateway: IngestService, head: bytes) -> tuple[int, dict[str, Any]]:
    """The status and JSON body the gateway answers `head` with (it closes the connection)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", gateway.port)
    try:
        writer.write(head)
        await writer.drain()
        raw = await asyncio.wait_for(reader.read(), 10)
    finally:
        writer.close()
    status_line, _, rest = raw.partition(b"\r\n")
    body = rest.split(b"\r\n\r\n", 1)[1]
    return int(status_line.split()[1]), json.loads(body)


@pytest.mark.parametrize(
    ("head", "status", "reason"),
    [
        pytest.param(
            b"POST /alerts?" + SECRET + b"a" * MAX_TARGET_BYTES + b" HTTP/1.1\r\nHost: x\r\n\r\n",
            414,
            f"bad request: request target over {MAX_TARGET_BYTES} bytes",
            id="target",
        ),
        pytest.param(
            b"POST /alerts HTTP/1.1\r\nHost: x\r\nCookie: "
            + SECRET
            + b"b" * MAX_FIELD_BYTES
            + b"\r\n\r\n",
            431,
            f"bad request: a header line over {MAX_FIELD_BYTES} bytes",
            id="header-value",
        ),
        pytest.param(
            b"POST /alerts HTTP/1.1\r\nHost: x\r\nX-" + b"n" * MAX_FIELD_BYTES + b": 1\r\n\r\n",
            431,
            f"bad request: a header line over {MAX_FIELD_BYTES} bytes",
            id="header-name",
        ),
        pytest.param(
            b"POST /alerts HTTP/1.1\r\nHost: x\r\n"
            + b"".join(b"X-%d: y\r\n" % i for i in range(MAX_HEADERS + 1))
            + b"\r\n",
            431,
            f"bad request: more than {MAX_HEADERS} header lines",
            id="too-many",
        ),
    ],
)
async def test_a_head_past_a_line_bound_is_answered_with_the_status_naming_it(
    gateway: IngestService,
    logs: list[MutableMapping[str, Any]],
    head: bytes,
    status: int,
    reason: str,
) -> None:
    """An over-long request target is 414, an over-long header line or too many of them 431,
    each with a reason naming the bound, and one ingest.bad_http line with that status; the
    request's bytes are quoted nowhere."""
    answered, body = await _answer_to(gateway, head)
    assert (answered, body) == (status, {"error": reason})
    [line] = [e for e in logs if e["event"] == "ingest.bad_http"]
    assert line["status"] == status
    assert SECRET.decode() not in json.dumps(line, default=str)


async def test_a_target_just_inside_the_bound_is_read(gateway: IngestService) -> None:
    """A request target of 8,000 bytes is no head refused: the request reaches the gateway's
    own checks (here: no such route, 404)."""
    target = b"/" + b"a" * 8000
    answered, _body = await _answer_to(
        gateway, b"GET " + target + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    assert answered == 404
