"""Round 13 of the webhook gateway (helper 441): bugs a sender, an attacker or an operator meets
with a real HTTP client against the gateway on 127.0.0.1, each fixed, each test failing before
its fix.

- A body declared `charset=iso-8859-1` (or windows-1252) but sent as UTF-8, as many tools do
  (HTTP/1.1's old default for text, Java's and PHP's clients labelling what they never
  re-encode), was read as declared and queued garbled: `café` became `cafÃ©`. Bytes that read
  as UTF-8 holding any non-ASCII are UTF-8: real Latin-1 text almost never forms UTF-8's
  sequences (`Ã©` is itself UTF-8 read as Latin-1).
- A group split to fit the queue, whose later part SQS refused for a queue size lowered while
  the earlier parts were queued, was made again from the whole group and sent from its start:
  the parts already queued were queued twice (their alerts counted twice, a second page).
- A body labelled ISO-8859-1 holding windows-1252's `€`, `…` or curly quotes (bytes 0x80-0x9F,
  as Windows tools write them; browsers read every Latin-1 label as windows-1252) was queued
  with C1 control characters in their place; one labelled windows-1252 holding one of its five
  undefined bytes was refused 422, and the alert lost.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from daemon_harness import Queues
from ingest_harness import bearer, loopback_client
from test_gateway_round11_412 import alertmanager_group
from test_ingest_gaps import batch_of, queue_takes_at_most, take_queued
from triage.ingest import IngestService
from triage.ingest.outbox import MessageRejected, Outgoing, QueueUnavailable

# --- A body labelled Latin-1 but sent as UTF-8 -----------------------------------------------


@pytest.mark.parametrize(
    ("charset", "body", "title"),
    [
        ("iso-8859-1", '{"title": "café down ✓"}'.encode(), "café down ✓"),
        ("windows-1252", '{"title": "Grüße — €5 budget"}'.encode(), "Grüße — €5 budget"),
        ("latin1", '{"title": "naïve ünïcode"}'.encode(), "naïve ünïcode"),
        ("iso-8859-1", '{"title": "café down"}'.encode("latin-1"), "café down"),
        (
            "windows-1252",
            '{"title": "€ budget — “quoted”"}'.encode("cp1252"),
            "€ budget — “quoted”",
        ),
        ("iso-8859-1", b'{"title": "plain ascii"}', "plain ascii"),
    ],
    ids=[
        "utf-8-labelled-latin-1",
        "utf-8-labelled-windows-1252",
        "utf-8-labelled-latin1",
        "real-latin-1",
        "real-windows-1252",
        "ascii",
    ],
)
async def test_a_body_labelled_latin_1_is_queued_as_the_text_its_sender_meant(
    gateway: IngestService, queues: Queues, charset: str, body: bytes, title: str
) -> None:
    """A body labelled Latin-1 (or windows-1252) is queued as the text meant: UTF-8 bytes read
    as UTF-8, real Latin-1 bytes as Latin-1."""
    headers = bearer("generic") | {"Content-Type": f"application/json; charset={charset}"}
    async with loopback_client(gateway.port) as client:
        answer = await client.post("/v1/alerts/generic", content=body, headers=headers)
    assert answer.status_code == 202, answer.text
    [queued] = take_queued(queues)
    assert json.loads(queued)["title"] == title


@pytest.mark.parametrize(
    ("charset", "body", "title"),
    [
        ("iso-8859-1", b'{"title": "\x93disk full\x94 \x85 \x80 5"}', "“disk full” … € 5"),
        ("windows-1252", b'{"title": "odd \x81 byte"}', "odd \x81 byte"),
        ("us-ascii", b'{"title": "caf\xe9 \x93down\x94"}', "café “down”"),
        ("us-ascii", '{"title": "café"}'.encode(), "café"),
    ],
    ids=[
        "windows-1252-labelled-latin-1",
        "undefined-windows-1252-byte",
        "windows-1252-labelled-us-ascii",
        "utf-8-labelled-us-ascii",
    ],
)
async def test_a_latin_1_label_reads_as_windows_1252_as_browsers_do(
    gateway: IngestService, queues: Queues, charset: str, body: bytes, title: str
) -> None:
    """A body labelled ISO-8859-1 or US-ASCII is read as windows-1252 (WHATWG: curly quotes, `…`,
    `€`, not C1 controls, nor a 422), UTF-8 under either label as UTF-8, and a byte
    windows-1252 leaves undefined is its C1 control, not a 422."""
    headers = bearer("generic") | {"Content-Type": f"application/json; charset={charset}"}
    async with loopback_client(gateway.port) as client:
        answer = await client.post("/v1/alerts/generic", content=body, headers=headers)
    assert answer.status_code == 202, answer.text
    [queued] = take_queued(queues)
    assert json.loads(queued)["title"] == title


async def test_a_form_labelled_latin_1_with_utf8_escapes_is_queued_as_meant(
    gateway: IngestService, queues: Queues
) -> None:
    """A form labelled Latin-1 whose percent-escapes spell UTF-8 (`%C3%A9`) is read as UTF-8,
    and one whose escapes are real Latin-1 (`%E9`) as Latin-1."""
    async with loopback_client(gateway.port) as client:
        for escaped in ("caf%C3%A9+down", "caf%E9+down"):
            headers = bearer("generic") | {
                "Content-Type": "application/x-www-form-urlencoded; charset=iso-8859-1"
            }
            answer = await client.post(
                "/v1/alerts/generic", content=f"title={escaped}".encode(), headers=headers
            )
            assert answer.status_code == 202, answer.text
    assert [json.loads(text)["title"] for text in take_queued(queues)] == ["café down"] * 2


async def test_a_multipart_field_labelled_latin_1_but_utf8_is_queued_as_meant(
    gateway: IngestService, queues: Queues
) -> None:
    """A multipart text field labelled Latin-1 whose bytes are UTF-8 is read as UTF-8."""
    boundary = "b0undary"
    body = (
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="title"\r\n'
        "Content-Type: text/plain; charset=iso-8859-1\r\n\r\n"
        "café down\r\n"
        f"--{boundary}--\r\n"
    ).encode()
    headers = bearer("generic") | {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    async with loopback_client(gateway.port) as client:
        answer = await client.post("/v1/alerts/generic", content=body, headers=headers)
    assert answer.status_code == 202, answer.text
    [queued] = take_queued(queues)
    assert json.loads(queued)["title"] == "café down"


# --- Parts of a split group queued once ------------------------------------------------------


class LoweredAfterFirst:
    """A queue whose MaximumMessageSize drops to `lowered` just after it takes its first
    message (an operator's apply landing mid-request): it then refuses larger ones as SQS
    does. It records every body it holds."""

    def __init__(self, lowered: int) -> None:
        self.lowered = lowered
        self.held: list[str] = []

    async def send(self, message: Outgoing) -> str:
        if self.held and message.size_bytes > self.lowered:
            raise MessageRejected("SQS refused the message", code="InvalidParameterValue")
        self.held.append(message.body)
        return f"id-{len(self.held)}"


async def _lowered_mid_request(
    gateway: IngestService, queues: Queues, path: str, body: bytes, lowered: int
) -> tuple[Any, LoweredAfterFirst]:
    """`body` posted to `path` of a gateway that knows a 256 KiB queue whose size SQS says is
    `lowered` once its first message is queued; the answer and the fake queue."""
    await queue_takes_at_most(queues, gateway, 256 * 1024)
    queues.client().set_queue_attributes(
        QueueUrl=queues.url, Attributes={"MaximumMessageSize": str(lowered)}
    )  # what a recheck reads; the gateway still holds 256 KiB
    assert gateway.gateway is not None
    fake = LoweredAfterFirst(lowered)
    gateway.gateway.outbox = fake
    source = "alertmanager"
    async with loopback_client(gateway.port) as client:
        answer = await client.post(path, content=body, headers=bearer(source))
    return answer, fake


def _instances(bodies: list[str]) -> list[str]:
    """Every alert's instance label across queued groups or arrays, in order."""
    found: list[str] = []
    for text in bodies:
        value = json.loads(text)
        alerts = value["alerts"] if isinstance(value, dict) else value
        found += [alert["labels"]["instance"] for alert in alerts]
    return found


async def test_a_split_groups_parts_queued_before_a_size_recheck_are_not_queued_again(
    gateway: IngestService, queues: Queues
) -> None:
    """A webhook group split for the queue's size, whose second part SQS refuses for a size
    lowered meanwhile, has its unsent parts split again for the new size and each alert queued
    exactly once, answered 202 only with every alert queued."""
    lowered = 64 * 1024
    body = alertmanager_group(alerts=200, description_bytes=2500)
    assert len(body) > 2 * 256 * 1024
    answer, fake = await _lowered_mid_request(
        gateway, queues, "/v1/alerts/alertmanager", body, lowered
    )
    assert answer.status_code == 202, answer.text
    assert _instances(fake.held) == [f"db-{i}:9100" for i in range(200)]
    assert answer.json()["messages"] == len(fake.held)
    assert all(len(text.encode()) <= lowered for text in fake.held[1:])


async def test_an_api_batch_split_before_a_size_recheck_queues_each_alert_once(
    gateway: IngestService, queues: Queues
) -> None:
    """A Prometheus API batch split for the queue's size, whose second part SQS refuses for a
    size lowered meanwhile, queues each alert exactly once (200)."""
    batch = batch_of(600 * 1024)
    answer, fake = await _lowered_mid_request(
        gateway, queues, "/api/v2/alerts", batch.encode(), 64 * 1024
    )
    assert answer.status_code == 200, answer.text
    expected = [alert["labels"]["instance"] for alert in json.loads(batch)]
    assert _instances(fake.held) == expected


class FailsSecond:
    """A queue that takes its first message and fails every later one as `error` says."""

    def __init__(self, error: Exception) -> None:
        self.error = error
        self.held: list[str] = []

    async def send(self, message: Outgoing) -> str:
        if self.held:
            raise self.error
        self.held.append(message.body)
        return "id-1"


@pytest.mark.parametrize(
    "error",
    [
        QueueUnavailable("throttled", code="ThrottlingException"),
        MessageRejected("refused", code="InvalidMessageContents"),
    ],
    ids=["throttled", "refused"],
)
async def test_a_group_partly_queued_is_never_answered_2xx(
    gateway: IngestService, queues: Queues, error: Exception
) -> None:
    """A split group whose later part the queue does not take is never answered 2xx: 503 for
    a throttle (the sender retries), 422 for a refusal."""
    await queue_takes_at_most(queues, gateway, 64 * 1024)
    assert gateway.gateway is not None
    fake = FailsSecond(error)
    gateway.gateway.outbox = fake
    body = alertmanager_group(alerts=60, description_bytes=2000)
    async with loopback_client(gateway.port) as client:
        answer = await client.post(
            "/v1/alerts/alertmanager", content=body, headers=bearer("alertmanager")
        )
    assert answer.status_code in (422, 503), answer.text
    assert len(fake.held) == 1
