"""Round 11 of the webhook gateway (helper 412): bugs a sender, an attacker or an operator meets
with a real HTTP client against the gateway on 127.0.0.1, each fixed, each test failing before
its fix.

- The queue's `MaximumMessageSize` lowered while the gateway runs (a Terraform apply, an
  operator) was read only at start: an Alertmanager group the gateway would split was sent whole,
  SQS refused it as too long, and the sender was answered 422, which Alertmanager drops for good.
  Raised since start, a script's alert the queue now takes was refused 413 (dropped) by the old
  size until the gateway restarted.
- A webhook group or a Prometheus API batch too big for one message, written with a UTF-8
  byte-order mark before it (PowerShell's and Notepad's UTF-8 files), was read by the
  normaliser but not by the splitter: a 500 with a traceback, retried for ever, never queued.
- A SendMessageBatch that SQS refuses whole for what one entry holds (a message over the
  queue's size) failed every request sharing it with a 503, retried into the next shared batch:
  one oversized body kept other senders' alerts off the queue.
- Before a request is authenticated, the query string's names are read for a credential's: each
  name was walked a character at a time in Python, ~1.2 µs a character, so anyone could make
  the gateway spend ~10 ms of CPU on one request line of 8 KiB (a 1 MiB form of long names:
  seconds), where a refusal costs well under one.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

import triage.ingest.credentials as credentials
from daemon_harness import Queues
from ingest_harness import SqsProxy, bearer, ingest_settings, loopback_client, payload, running
from test_ingest_gaps import batch_of, queue_takes_at_most, take_queued
from test_ingest_gateway import post_batched
from triage.ingest import IngestService


def alertmanager_group(alerts: int, description_bytes: int) -> bytes:
    """An Alertmanager webhook group of `alerts` alerts, each with a description of
    `description_bytes` (so the group is about their product long)."""
    group = json.loads(payload("alertmanager/group-firing.json"))
    template = group["alerts"][0]
    group["alerts"] = [
        {
            **template,
            "labels": {**template["labels"], "instance": f"db-{i}:9100"},
            "annotations": {"description": f"disk on db-{i} is full " + "x" * description_bytes},
        }
        for i in range(alerts)
    ]
    return json.dumps(group).encode()


# --- The queue's message size lowered while the gateway runs ----------------------------------


async def test_a_group_too_big_for_a_queue_limit_lowered_since_start_is_split_not_refused(
    gateway: IngestService, queues: Queues
) -> None:
    """A webhook group larger than the queue's MaximumMessageSize, lowered after the gateway read
    it, is queued in parts that fit the new limit (202), never answered 422 (dropped)."""
    await queue_takes_at_most(queues, gateway, 1024 * 1024)
    lowered = 64 * 1024
    queues.client().set_queue_attributes(
        QueueUrl=queues.url, Attributes={"MaximumMessageSize": str(lowered)}
    )  # the gateway is not told: no /readyz is asked in between
    body = alertmanager_group(alerts=60, description_bytes=2000)
    assert len(body) > 2 * lowered
    async with loopback_client(gateway.port) as client:
        answer = await client.post(
            "/v1/alerts/alertmanager", content=body, headers=bearer("alertmanager")
        )
    assert answer.status_code == 202, answer.text
    assert answer.json()["messages"] > 1
    queued = take_queued(queues)
    assert len(queued) == answer.json()["messages"]
    assert all(len(text.encode()) <= lowered for text in queued)


async def test_a_body_too_big_for_a_queue_limit_lowered_since_start_is_413_naming_it(
    gateway: IngestService, queues: Queues
) -> None:
    """A script's alert larger than the queue's MaximumMessageSize, lowered after the gateway
    read it, is answered 413 naming the queue's size now (the sender can act on it), not 422."""
    await queue_takes_at_most(queues, gateway, 1024 * 1024)
    queues.client().set_queue_attributes(
        QueueUrl=queues.url, Attributes={"MaximumMessageSize": str(64 * 1024)}
    )
    body = json.dumps({"title": "Disk full", "description": "x" * 100_000}).encode()
    async with loopback_client(gateway.port) as client:
        answer = await client.post("/v1/alerts/generic", content=body, headers=bearer("generic"))
    assert answer.status_code == 413, answer.text
    assert "65,536" in answer.json()["error"]
    assert take_queued(queues) == []


async def test_a_body_the_queue_takes_since_its_limit_was_raised_is_queued_not_413(
    gateway: IngestService, queues: Queues
) -> None:
    """A script's alert larger than the queue's MaximumMessageSize as the gateway read it, and
    within the size the queue was given since, is queued (202), not refused 413 for good."""
    await queue_takes_at_most(queues, gateway, 64 * 1024)
    queues.client().set_queue_attributes(
        QueueUrl=queues.url, Attributes={"MaximumMessageSize": str(1024 * 1024)}
    )
    body = json.dumps({"title": "Disk full", "description": "x" * 100_000}).encode()
    async with loopback_client(gateway.port) as client:
        answer = await client.post("/v1/alerts/generic", content=body, headers=bearer("generic"))
    assert answer.status_code == 202, answer.text
    assert [json.loads(text)["title"] for text in take_queued(queues)] == ["Disk full"]


# --- A body with a byte-order mark, split to fit the queue -------------------------------------

BOM = "\ufeff".encode()


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/v1/alerts/alertmanager", BOM + alertmanager_group(60, 2000), 202),
        ("/api/v2/alerts", BOM + batch_of(150_000).encode(), 200),
    ],
    ids=["webhook-group", "api-batch"],
)
async def test_a_body_with_a_byte_order_mark_too_big_for_one_message_is_split(
    gateway: IngestService, queues: Queues, path: str, body: bytes, status: int
) -> None:
    """A group or an API batch led by a UTF-8 byte-order mark, too big for one queue message,
    is queued in parts that fit, as the same body without the mark is (not a 500)."""
    limit = 64 * 1024
    await queue_takes_at_most(queues, gateway, limit)
    async with loopback_client(gateway.port) as client:
        answer = await client.post(path, content=body, headers=bearer("alertmanager"))
    assert answer.status_code == status, answer.text
    queued = take_queued(queues)
    assert len(queued) == answer.json()["messages"] > 1
    assert all(len(text.encode()) <= limit for text in queued)


# --- A batch call refused whole for one entry ---------------------------------------------------


@pytest.fixture
def proxy(moto_url: str) -> Any:
    with SqsProxy(moto_url) as running_proxy:
        yield running_proxy


async def test_a_batch_refused_whole_for_one_entry_fails_only_that_entrys_sender(
    queues: Queues, proxy: SqsProxy
) -> None:
    """Requests sharing a SendMessageBatch that SQS refuses whole because one entry is over the
    queue's size (lowered since the gateway read it): the others are queued (202), and the
    oversized one is answered 413 naming the size, not a 503 each retried for ever."""
    settings = ingest_settings(queues.url, proxy.url, ingest_linger_ms=100)
    small = [json.dumps({"title": f"kept {n}", "dedup_key": f"kept-{n}"}).encode() for n in (1, 2)]
    big = json.dumps({"title": "Disk full", "description": "x" * 100_000}).encode()
    async with running(settings) as service, loopback_client(service.port) as client:
        await queue_takes_at_most(queues, service, 1024 * 1024)
        queues.client().set_queue_attributes(
            QueueUrl=queues.url, Attributes={"MaximumMessageSize": str(64 * 1024)}
        )
        answers = await post_batched(client, proxy, [small[0], big, small[1]])
    assert [a.status_code for a in answers] == [202, 413, 202], [a.text for a in answers]
    assert "65,536" in answers[1].json()["error"]
    queued = take_queued(queues)
    assert sorted(json.loads(text)["title"] for text in queued) == ["kept 1", "kept 2", "pilot"]


# --- Names read a character at a time before authentication -----------------------------------


@pytest.mark.parametrize("name", ["p" * 8000, "pass" * 2000 + "[]", "Access_Key_Secret" * 470])
async def test_a_long_ascii_query_name_is_not_read_a_character_at_a_time(
    gateway: IngestService, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    """An unauthenticated request whose query string holds an 8 KB name is refused (401)
    without its name being walked character by character in Python: a plain ASCII name has no
    invisible character to take out, so reading it costs C-speed passes, not one call each."""
    asked: list[str] = []
    unseen = credentials.hidden_in_name

    def counted(ch: str) -> bool:
        asked.append(ch)
        return unseen(ch)

    monkeypatch.setattr(credentials, "hidden_in_name", counted)
    async with loopback_client(gateway.port) as client:
        answer = await client.get(f"/v1/alerts/generic?{name}=1&title=x")
    assert answer.status_code == 401, answer.text
    assert len(asked) < 100


@pytest.mark.parametrize(
    ("name", "dropped"),
    [("api_key", True), ("API_KEY[]", True), ("pass\u200bword", True), ("ApiKeyName", False)],
)
def test_a_names_spellings_are_read_as_before(name: str, dropped: bool) -> None:
    """The fast reading of a plain ASCII name judges it as the character walk does: `[]`
    after it and case, as an invisible character in a name still is."""
    assert credentials.credential_field(name) is dropped
