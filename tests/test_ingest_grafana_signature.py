"""Grafana's webhook contact point signing its body (its *HMAC Signature* settings) as the
grafana source's credential: the lowercase hex HMAC-SHA256, keyed with the source's token, of the
body, or of `<unix seconds>:<body>` when Grafana sends the time in a timestamp header (Grafana's
`receivers/webhook` and `http/hmac.go`). Checked in constant time, the time within the replay
window, a delivery accepted before answered `duplicate`; every refusal is one line that quotes
no credential."""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator, Callable

import httpx2
import pytest
from structlog.testing import capture_logs

from daemon_harness import Queues
from ingest_harness import TOKENS, ingest_settings, loopback_client, payload, running
from triage.ingest import IngestService

PATH = "/v1/alerts/grafana"
BODY = payload("grafana/group-firing.json")
SECRET = TOKENS["grafana"]
NEXT = "grafana-next-token-9876543210"


def sign(body: bytes, secret: str = SECRET, timestamp: str | None = None) -> str:
    """What Grafana's HMACRoundTripper puts in the signature header."""
    message = body if timestamp is None else timestamp.encode() + b":" + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signed(
    body: bytes,
    *,
    secret: str = SECRET,
    timestamp: str | None = None,
    header: str = "X-Grafana-Alerting-Signature",
) -> dict[str, str]:
    headers = {header: sign(body, secret, timestamp), "Content-Type": "application/json"}
    if timestamp is not None:
        headers["X-Grafana-Alerting-Timestamp"] = timestamp
    return headers


def now() -> str:
    return str(int(time.time()))


def bodies(queues: Queues) -> list[str]:
    """The bodies now on the queue (left in place: visibility 0)."""
    response = queues.client().receive_message(
        QueueUrl=queues.url, MaxNumberOfMessages=10, VisibilityTimeout=0
    )
    return [m["Body"] for m in response.get("Messages", [])]


@pytest.fixture
async def gateway(queues: Queues) -> AsyncIterator[IngestService]:
    """The gateway whose grafana source lists two tokens (mid-rotation)."""
    tokens = {**TOKENS, "grafana": [SECRET, NEXT]}
    settings = ingest_settings(queues.url, queues.endpoint, ingest_tokens=json.dumps(tokens))
    async with running(settings) as service:
        yield service


@pytest.fixture
async def client(gateway: IngestService) -> AsyncIterator[httpx2.AsyncClient]:
    async with loopback_client(gateway.port) as c:
        yield c


@pytest.mark.parametrize(
    "headers",
    [
        lambda: signed(BODY),
        lambda: signed(BODY, timestamp=now()),
        lambda: signed(BODY, secret=NEXT, timestamp=now()),
        lambda: signed(BODY, header="X-Grafana-Alert-Signature"),
    ],
    ids=["body", "timestamp", "next-token", "first-header-name"],
)
async def test_a_body_signed_as_grafana_signs_it_is_queued_byte_for_byte(
    client: httpx2.AsyncClient, queues: Queues, headers: Callable[[], dict[str, str]]
) -> None:
    """Grafana's signature, over the body or over its timestamp and the body, keyed with either
    token listed for grafana, in either header name Grafana has used, is a credential: 202 and
    the body queued as sent."""
    # Signed when the test runs: a time taken at collection is stale in a long run.
    response = await client.post(PATH, content=BODY, headers=headers())
    assert response.status_code == 202, response.text
    assert bodies(queues) == [BODY.decode()]


@pytest.mark.parametrize(
    "headers",
    [
        lambda: signed(BODY, secret=TOKENS["generic"]),
        lambda: signed(b'{"other": "body"}'),
        lambda: {
            **signed(BODY, timestamp=now()),
            "X-Grafana-Alerting-Timestamp": str(int(time.time()) - 1),
        },
        lambda: {"X-Grafana-Alerting-Signature": sign(BODY, timestamp=now())},
        lambda: {"X-Grafana-Alerting-Signature": "sha256=" + sign(BODY)},
    ],
    ids=["another-sources-token", "another-body", "time-changed", "time-dropped", "prefixed"],
)
async def test_a_signature_that_does_not_match_is_401_with_one_line_quoting_nothing(
    client: httpx2.AsyncClient, queues: Queues, headers: Callable[[], dict[str, str]]
) -> None:
    """A signature keyed with another token, over another body, or over a time that was
    changed or dropped since (a captured delivery sent again with a fresh time) is 401, one
    `ingest.refused` line that quotes neither the signature nor a token, nothing queued."""
    sent = headers()
    with capture_logs() as logs:
        response = await client.post(PATH, content=BODY, headers=sent)
    assert response.status_code == 401
    lines = [e for e in logs if e["event"].startswith("ingest.")]
    assert [(e["event"], e["status"], e["reason"]) for e in lines] == [
        ("ingest.refused", 401, "unauthorized")
    ]
    signature = sent["X-Grafana-Alerting-Signature"]
    for secret in (signature, signature[-64:], SECRET, NEXT):
        assert secret not in repr(logs) and secret not in response.text
    assert bodies(queues) == []


@pytest.mark.parametrize(
    ("sent_at", "status", "reason"),
    [(str(int(time.time()) - 3600), 401, "stale_timestamp"), ("yesterday", 400, "bad_timestamp")],
    ids=["an-hour-old", "not-a-time"],
)
async def test_a_signed_time_out_of_the_window_or_not_a_time_is_refused(
    client: httpx2.AsyncClient, queues: Queues, sent_at: str, status: int, reason: str
) -> None:
    """A correctly signed delivery whose signed time is more than the replay window from the
    gateway's clock is 401 (a capture replayed later), one that is not a Unix time is 400;
    each with one line naming the header, nothing queued."""
    with capture_logs() as logs:
        response = await client.post(PATH, content=BODY, headers=signed(BODY, timestamp=sent_at))
    assert response.status_code == status
    assert "X-Grafana-Alerting-Timestamp" in response.json()["error"]
    (line,) = [e for e in logs if e["event"].startswith("ingest.")]
    assert (line["status"], line["reason"]) == (status, reason)
    assert bodies(queues) == []


async def test_a_delivery_accepted_before_is_a_200_duplicate_and_queued_once(
    client: httpx2.AsyncClient, queues: Queues
) -> None:
    """The same signed delivery sent again within the window (Grafana's retry after a lost
    answer, or a capture) is 200 `duplicate`, queued once."""
    headers = signed(BODY, timestamp=now())
    first = await client.post(PATH, content=BODY, headers=headers)
    assert first.status_code == 202, first.text
    with capture_logs() as logs:
        again = await client.post(PATH, content=BODY, headers=headers)
    assert again.status_code == 200 and again.json()["duplicate"] is True
    (line,) = [e for e in logs if e["event"].startswith("ingest.")]
    assert line["event"] == "ingest.duplicate"
    assert bodies(queues) == [BODY.decode()]


async def test_a_signed_body_is_read_as_sent_never_decompressed(
    client: httpx2.AsyncClient, queues: Queues
) -> None:
    """A body read before its signature can be checked takes no Content-Encoding (an unknown
    sender's few compressed bytes would be a megabyte to hold): 415, nothing queued."""
    packed = gzip.compress(BODY)
    headers = {**signed(packed), "Content-Encoding": "gzip"}
    response = await client.post(PATH, content=packed, headers=headers)
    assert response.status_code == 415
    assert bodies(queues) == []


async def test_a_signed_request_never_takes_its_alert_from_the_query_string(
    client: httpx2.AsyncClient, queues: Queues
) -> None:
    """A signature covers the body alone: a blank signed body's query string is not read as
    the alert (its fields would pass unsigned), so nothing is queued."""
    response = await client.post(
        PATH + "?title=forged&status=firing", content=b"", headers=signed(b"")
    )
    assert response.status_code == 422
    assert bodies(queues) == []


async def test_a_signature_that_cannot_be_one_is_401_from_the_head(
    gateway: IngestService, queues: Queues
) -> None:
    """A signature that is not 64 hex digits is refused from the head, before the body is
    asked for (`Expect: 100-continue` gets the 401, never `100 Continue`)."""
    head = (
        f"POST {PATH} HTTP/1.1\r\nHost: x\r\nX-Grafana-Alerting-Signature: nothex\r\n"
        f"Expect: 100-continue\r\nContent-Length: {len(BODY)}\r\n\r\n"
    )
    reader, writer = await asyncio.open_connection("127.0.0.1", gateway.port)
    writer.write(head.encode())
    answer = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    assert answer.startswith(b"HTTP/1.1 401 "), answer[:60]
    assert bodies(queues) == []


async def test_a_signature_header_sent_twice_is_400(
    client: httpx2.AsyncClient, queues: Queues
) -> None:
    """Which of two signatures counts is a guess: 400, as for any credential header twice."""
    headers = [("X-Grafana-Alerting-Signature", sign(BODY))] * 2
    response = await client.post(PATH, content=BODY, headers=headers)
    assert response.status_code == 400
    assert bodies(queues) == []
