"""Round 4 of the gateway against odd senders and attackers (task 482): a body labelled UTF-16
that is really UTF-8, request smuggling, slow senders, pipelining after a refusal, Expect,
request targets, tokens in query strings, credentials and signatures, each refusal answered
with the right status, a short body that echoes nothing secret, and one log line."""

from __future__ import annotations

import codecs
import json
from typing import Any

import pytest

from daemon_harness import Queues
from test_ingest_hostile import BEARER, exchange, head, received
from triage.ingest import IngestService

# --- A body labelled UTF-16 that is UTF-8 ------------------------------------------------------


def _labelled_utf16(body: bytes, charset: str = "utf-16") -> bytes:
    headers = BEARER + f"Content-Type: application/json; charset={charset}\r\n"
    return head("/v1/alerts/generic", headers + f"Content-Length: {len(body)}\r\n") + body


@pytest.mark.parametrize(
    "body",
    [
        b'{"title": "disk full", "dedup_key": "d1"}',
        '{"title": "caf\u00e9 \u2603 down", "dedup_key": "d1"}'.encode(),
        codecs.BOM_UTF8 + b'{"title": "disk full", "dedup_key": "d1"}',
        b'{"title": "odd", "dedup_key": "d12"}',
    ],
    ids=["ascii", "non-ascii", "utf-8-bom", "odd-length"],
)
@pytest.mark.parametrize("charset", ["utf-16", "UTF-16LE", "utf-16be"])
async def test_utf_8_labelled_utf_16_is_read_as_the_utf_8_it_is(
    gateway: IngestService, queues: Queues, body: bytes, charset: str
) -> None:
    """A UTF-8 body (no UTF-16 mark, no zero bytes) labelled UTF-16 is queued as its UTF-8 text."""
    # Senders that label a string "utf-16" after their language's native string type send the
    # UTF-8 bytes all the same; read as UTF-16 they became CJK garbage or a 422.
    answer = await exchange(gateway.port, _labelled_utf16(body, charset))
    assert answer.status == 202, answer.body
    [message] = received(queues)
    expected = json.loads(body.decode("utf-8-sig"))
    assert json.loads(message["Body"].lstrip("\ufeff")) == expected


async def test_real_utf_16_labelled_utf_16_still_reads_as_utf_16(
    gateway: IngestService, queues: Queues
) -> None:
    """UTF-16 without a mark, as declared, is still read as UTF-16 (zero bytes show it)."""
    sent = {"title": "caf\u00e9", "dedup_key": "d1"}
    body = json.dumps(sent, ensure_ascii=False).encode("utf-16-le")
    answer = await exchange(gateway.port, _labelled_utf16(body, "utf-16le"))
    assert answer.status == 202, answer.body
    [message] = received(queues)
    assert json.loads(message["Body"]) == sent


async def test_a_body_no_reading_fits_is_refused_naming_the_charset(
    gateway: IngestService, queues: Queues
) -> None:
    """Bytes that are neither UTF-16 nor UTF-8 under a UTF-16 label are refused, saying so."""
    body = b'{"title": "\xff\xfe\xff x"}'  # not UTF-8; odd length and no mark: not UTF-16
    answer = await exchange(gateway.port, _labelled_utf16(body))
    assert answer.status == 422, answer.body
    error: Any = answer.json()["error"]
    assert "UTF-16" in error and "UTF-8" in error and len(error) < 300
    assert received(queues) == []


async def test_a_utf_8_form_labelled_utf_16_reads_its_escapes_as_utf_8(
    gateway: IngestService, queues: Queues
) -> None:
    """A urlencoded form labelled UTF-16 whose bytes are ASCII reads its escapes as UTF-8."""
    body = b"title=caf%C3%A9+down&dedup_key=d1"
    headers = BEARER + "Content-Type: application/x-www-form-urlencoded; charset=utf-16\r\n"
    request = head("/v1/alerts/generic", headers + f"Content-Length: {len(body)}\r\n") + body
    answer = await exchange(gateway.port, request)
    assert answer.status == 202, answer.body
    [message] = received(queues)
    assert json.loads(message["Body"]) == {"title": "caf\u00e9 down", "dedup_key": "d1"}


@pytest.mark.parametrize("where", ["part", "body"])
async def test_a_utf_8_multipart_field_labelled_utf_16_is_read_as_utf_8(
    gateway: IngestService, queues: Queues, where: str
) -> None:
    """A multipart field of UTF-8 bytes under a UTF-16 label (its part's, or the body's) is read
    as UTF-8, and a field in real UTF-16 (its zero bytes) still as UTF-16."""
    part_type = "Content-Type: text/plain; charset=utf-16\r\n" if where == "part" else ""
    body_charset = "; charset=utf-16" if where == "body" else ""
    fields = [
        ("title", "caf\u00e9 \u2603 down".encode(), part_type),
        ("dedup_key", "d\u00e9".encode("utf-16-le"), part_type),
    ]
    body = b"".join(
        b"--b0undary\r\n"
        + f'Content-Disposition: form-data; name="{name}"\r\n{extra}\r\n'.encode()
        + value
        + b"\r\n"
        for name, value, extra in fields
    )
    body += b"--b0undary--\r\n"
    headers = BEARER + f"Content-Type: multipart/form-data; boundary=b0undary{body_charset}\r\n"
    request = head("/v1/alerts/generic", headers + f"Content-Length: {len(body)}\r\n") + body
    answer = await exchange(gateway.port, request)
    assert answer.status == 202, answer.body
    [message] = received(queues)
    assert json.loads(message["Body"]) == {"title": "caf\u00e9 \u2603 down", "dedup_key": "d\u00e9"}
