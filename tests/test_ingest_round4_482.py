"""Round 4 of the gateway against odd senders and attackers (task 482): a body labelled UTF-16
that is really UTF-8, request smuggling, slow senders, pipelining after a refusal, Expect,
request targets, tokens in query strings, credentials and signatures, each refusal answered
with the right status, a short body that echoes nothing secret, and one log line."""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import hashlib
import hmac
import json
import time
from typing import Any

import pytest
from structlog.testing import capture_logs

from daemon_harness import Queues
from ingest_harness import TOKENS, loopback_client, payload
from test_ingest_hostile import BEARER, Answer, exchange, head, read_answer, received
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


# --- Signatures over the raw body, whatever charset the gateway re-encodes it from -------------

SENTRY_BODY = json.loads(payload("sentry/issue-created.json"))
SENTRY_BODY["data"]["issue"]["title"] = "caf\u00e9 d\u00e9j\u00e0 down"
GRAFANA_BODY = json.loads(payload("grafana/group-firing.json"))
GRAFANA_BODY["commonLabels"]["note"] = "caf\u00e9 d\u00e9j\u00e0 down"


def _hmac(secret: str, signed: bytes) -> str:
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def _signed_request(source: str, body: bytes, charset: str, digest: str, sent_at: str) -> bytes:
    headers = f"Content-Type: application/json; charset={charset}\r\n"
    if source == "sentry":
        headers += "Sentry-Hook-Resource: issue\r\n"
        headers += f"Sentry-Hook-Signature: {digest}\r\nSentry-Hook-Timestamp: {sent_at}\r\n"
    else:
        headers += f"X-Grafana-Alerting-Signature: {digest}\r\n"
        headers += f"X-Grafana-Alerting-Timestamp: {sent_at}\r\n"
    return head(f"/v1/alerts/{source}", headers + f"Content-Length: {len(body)}\r\n") + body


def _signature(source: str, signed_bytes: bytes, sent_at: str) -> str:
    if source == "sentry":
        return _hmac(TOKENS["sentry"], signed_bytes)
    return _hmac(TOKENS["grafana"], sent_at.encode() + b":" + signed_bytes)


SIGNED_ENCODINGS = [
    ("sentry", "latin-1", "latin-1"),
    ("sentry", "utf-16", "utf-16"),
    ("sentry", "utf-16", "utf-8"),  # UTF-8 labelled UTF-16 (task 482, item 1)
    ("grafana", "latin-1", "latin-1"),
    ("grafana", "utf-16le", "utf-16-le"),
]


@pytest.mark.parametrize(("source", "charset", "codec"), SIGNED_ENCODINGS)
async def test_a_signature_is_checked_over_the_bytes_sent_not_the_text_queued(
    gateway: IngestService, queues: Queues, source: str, charset: str, codec: str
) -> None:
    """A signed body in a charset the gateway re-encodes passes by its signature over the raw
    bytes sent, and is queued as the same text in UTF-8."""
    sent = SENTRY_BODY if source == "sentry" else GRAFANA_BODY
    body = json.dumps(sent, ensure_ascii=False).encode(codec)
    now = str(int(time.time()))
    request = _signed_request(source, body, charset, _signature(source, body, now), now)
    answer = await exchange(gateway.port, request)
    assert answer.status == 202, answer.body
    assert json.loads(received(queues)[0]["Body"].lstrip("\ufeff")) == sent


@pytest.mark.parametrize(
    ("source", "charset", "codec"), [e for e in SIGNED_ENCODINGS if e[2] != "utf-8"]
)
async def test_a_signature_over_the_re_encoded_text_is_refused(
    gateway: IngestService, queues: Queues, source: str, charset: str, codec: str
) -> None:
    """A signature over the body's UTF-8 re-encoding (what the gateway queues) rather than the
    bytes sent is 401, one line, nothing queued: a capture cannot be re-sent in another
    charset under the signature of the text it becomes."""
    sent = SENTRY_BODY if source == "sentry" else GRAFANA_BODY
    body = json.dumps(sent, ensure_ascii=False).encode(codec)
    now = str(int(time.time()))
    utf8 = json.dumps(sent, ensure_ascii=False).encode()
    request = _signed_request(source, body, charset, _signature(source, utf8, now), now)
    with capture_logs() as logs:
        answer = await exchange(gateway.port, request)
    assert answer.status == 401, answer.body
    assert set(answer.json()) == {"error", "request_id"}
    [line] = [e for e in logs if e["event"].startswith("ingest.")]
    assert (line["event"], line["status"]) == ("ingest.refused", 401)
    assert received(queues) == []


@pytest.mark.parametrize("source", ["sentry", "grafana"])
@pytest.mark.parametrize("offset_s", [-400, 400])
async def test_a_signed_capture_replayed_outside_the_window_is_refused(
    gateway: IngestService, queues: Queues, source: str, offset_s: int
) -> None:
    """A rightly signed body whose sent time is more than 5 minutes off (a capture replayed
    later, or stamped ahead) is 401 naming the header, and nothing is queued."""
    sent = SENTRY_BODY if source == "sentry" else GRAFANA_BODY
    body = json.dumps(sent).encode()
    then = str(int(time.time()) + offset_s)
    request = _signed_request(source, body, "utf-8", _signature(source, body, then), then)
    with capture_logs() as logs:
        answer = await exchange(gateway.port, request)
    assert answer.status == 401, answer.body
    assert "Timestamp" in answer.json()["error"]
    [line] = [e for e in logs if e["event"].startswith("ingest.")]
    assert line["reason"] == "stale_timestamp"
    assert received(queues) == []


async def test_a_hub_signature_on_the_generic_path_is_no_credential(
    gateway: IngestService, queues: Queues
) -> None:
    """`X-Hub-Signature-256` (GitHub-style) keyed with the generic token is not read as a
    credential: 401 from the head, before any body is asked for, naming no secret."""
    body = json.dumps({"title": "disk full", "dedup_key": "d1"}).encode()
    signature = "sha256=" + _hmac(TOKENS["generic"], body)
    headers = f"X-Hub-Signature-256: {signature}\r\nExpect: 100-continue\r\n"
    request = head("/v1/alerts/generic", headers + f"Content-Length: {len(body)}\r\n")
    with capture_logs() as logs:
        answer = await exchange(gateway.port, request)
    assert answer.status == 401
    assert answer.headers.get("connection") == "close"
    assert TOKENS["generic"] not in answer.body.decode() and signature not in json.dumps(logs)
    assert len([e for e in logs if e["event"].startswith("ingest.")]) == 1
    assert received(queues) == []


# --- A request the parser refuses while its sender is still sending ---------------------------

PARSER_REFUSED_HEADS = {
    "nul in a header": "X-Note: a\x00b\r\nContent-Length: 3000000\r\n",
    "content-length beside chunked": "Transfer-Encoding: chunked\r\nContent-Length: 3000000\r\n",
    "obs-fold": "X-Note: a\r\n folded\r\nContent-Length: 3000000\r\n",
    "bare lf": "X-Note: a\nContent-Length: 3000000\r\n",
}


async def _send_while_reading(port: int, head_bytes: bytes, body_bytes: int) -> tuple[Any, bool]:
    """Send `head_bytes`, then `body_bytes` more as fast as the gateway takes them, while
    reading the first answer; the answer (or the error reading it) and whether the gateway
    then ended the connection (its end of stream read within 10 s)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(head_bytes)

    async def pump() -> None:
        with contextlib.suppress(ConnectionError):
            for _ in range(body_bytes // 65536):
                writer.write(b"a" * 65536)
                await writer.drain()

    sending = asyncio.create_task(pump())
    try:
        try:
            answer: Any = await read_answer(reader)
        except ConnectionError as exc:
            answer = exc
        try:
            ended = await asyncio.wait_for(reader.read(), 10) == b""
        except ConnectionError:
            ended = True
    finally:
        await sending
        writer.close()
    return answer, ended


@pytest.mark.parametrize("shape", sorted(PARSER_REFUSED_HEADS))
async def test_a_sender_still_sending_reads_the_parsers_400_not_a_reset(
    gateway: IngestService, queues: Queues, shape: str
) -> None:
    """A request the HTTP parser refuses from its head, whose sender goes on sending a large
    body, is answered 400 that the sender reads (the connection lingers, dropping what still
    comes, as an early refusal does), then closed; one line, nothing queued, and the gateway
    serves the next connection."""
    request = head("/v1/alerts/generic", BEARER + PARSER_REFUSED_HEADS[shape])
    with capture_logs() as logs:
        answer, ended = await _send_while_reading(gateway.port, request, 3_000_000)
    assert isinstance(answer, Answer), f"the sender read {answer!r}, not the 400"
    assert answer.status == 400
    assert answer.json()["error"].startswith("bad request: ")
    assert TOKENS["generic"] not in answer.body.decode()
    assert ended
    lines = [e for e in logs if e["event"].startswith("ingest.")]
    assert [(e["event"], e["status"]) for e in lines] == [("ingest.bad_http", 400)]
    assert received(queues) == []
    async with loopback_client(gateway.port) as client:
        assert (await client.get("/healthz")).status_code == 200


# --- A token where a request target carries it -------------------------------------------------

TOKEN = TOKENS["generic"]
TARGETS_CARRYING_THE_TOKEN = {
    "absolute-form user info": (  # RFC 9110 4.2.4: an error, as on the operators' port
        f"POST http://triage:{TOKEN}@x/v1/alerts/generic HTTP/1.1",
        "",
        400,
    ),
    "path": (f"POST /v1/alerts/{TOKEN} HTTP/1.1", "", 404),
    "query of an unknown path": (f"POST /v1/nope?token={TOKEN} HTTP/1.1", "", 404),
    "query of a request the parser refuses": (
        f"POST /v1/alerts/generic?access_token={TOKEN} HTTP/1.1",
        "X-Note: a\x01b\r\n",
        400,
    ),
    "query over the line limit": (
        f"POST /v1/alerts/generic?k={TOKEN}{'a' * 9000} HTTP/1.1",
        "",
        414,
    ),
}


@pytest.mark.parametrize("where", sorted(TARGETS_CARRYING_THE_TOKEN))
async def test_a_token_in_the_request_target_is_refused_and_never_logged(
    gateway: IngestService, queues: Queues, where: str
) -> None:
    """A token in the request target (absolute-form user info, the path, a query string) is no
    credential: refused, one line, and neither the answer nor the line holds the token."""
    line, extra, status = TARGETS_CARRYING_THE_TOKEN[where]
    body = b'{"title": "disk full", "dedup_key": "d1"}'
    request = f"{line}\r\nHost: x\r\n{extra}Content-Length: {len(body)}\r\n\r\n".encode() + body
    with capture_logs() as logs:
        answer = await exchange(gateway.port, request)
    assert answer.status == status, answer.body
    assert TOKEN not in answer.body.decode()
    lines = [e for e in logs if e["event"].startswith("ingest.")]
    assert len(lines) == 1, lines
    assert TOKEN not in json.dumps(logs, default=str)
    assert received(queues) == []
