"""Round 5 of the gateway and the operators' API against attackers (task 503), each over a real
connection to the real server on 127.0.0.1: a header value the gateway quotes back in a refusal
is redacted before it is cut, so neither the gateway's own token nor a pasted credential comes
back; and a silence that quiets every alert leaves a warning line naming it."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator

import boto3
import pytest
from structlog.testing import capture_logs

from daemon_harness import Queues
from ingest_harness import (
    TOKENS,
    ingest_settings,
    loopback_client,
    payload,
    running,
    sentry_headers,
)
from test_ingest_hostile import exchange, head, read_answer, received
from test_operator_api import BEARER as API_BEARER
from test_operator_api import _seed, serving
from test_operators_round4_488 import sqlite_store  # noqa: F401  (the fixture, by name)
from triage.incidents.sqlite import SQLiteStore
from triage.ingest import IngestService

#: A credential of a shape the redactor knows, longer than the 40 characters a refusal quotes:
#: cut first, the 39 kept would no longer look like one.
GITHUB_TOKEN = "github_pat_11ABCDEFG0aB3dE5fG7hJ9kL_" + "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5" * 2
#: The gateway's generic token with capitals, as real ones have: lower-cased before it is quoted,
#: it would no longer be the value every redactor holds.
MIXED_CASE = "Generic-TOKEN-0123456789-AbCdEf"


@pytest.fixture
async def gateway(queues: Queues) -> AsyncIterator[IngestService]:
    """The gateway with the harness's tokens, the generic one in mixed case."""
    tokens = json.dumps({**TOKENS, "generic": MIXED_CASE})
    async with running(ingest_settings(queues.url, queues.endpoint, ingest_tokens=tokens)) as gw:
        yield gw


# --- A header value quoted back ----------------------------------------------------------------


@pytest.mark.parametrize("secret", [MIXED_CASE, GITHUB_TOKEN], ids=["gateway-token", "long-pat"])
@pytest.mark.parametrize(
    ("header", "said"),
    [
        ("Content-Type: application/json; charset={}", "charset"),
        ("Content-Encoding: {}", "content coding"),
        ("Content-Type: multipart/{}; boundary=b0undary", "multipart"),
    ],
    ids=["charset", "content-coding", "multipart-subtype"],
)
async def test_a_refusal_never_quotes_a_credential_sent_in_a_header(
    gateway: IngestService, queues: Queues, header: str, said: str, secret: str
) -> None:
    """A charset, content coding or multipart type holding a credential is refused (415) saying
    which header was wrong, without quoting the credential or any 20 characters of it (in any
    case: a header's media type is read lower-cased), in one line."""
    body = b'{"title": "disk full", "dedup_key": "d1"}'
    headers = (
        f"Authorization: Bearer {MIXED_CASE}\r\n"
        + header.format(secret)
        + f"\r\nContent-Length: {len(body)}\r\n"
    )
    with capture_logs() as logs:
        answer = await exchange(gateway.port, head("/v1/alerts/generic", headers) + body)
    assert answer.status == 415, answer.body
    error = answer.json()["error"]
    assert said in error, error
    assert secret[:20].lower() not in answer.body.decode().lower(), error
    reasons = {"charset": "unsupported_charset", "content coding": "unsupported_encoding"}
    assert [e["reason"] for e in logs if e["event"] == "ingest.refused"] == [
        reasons.get(said, "unsupported_media_type")
    ]
    assert received(queues) == []


# --- A Sentry capture replayed with fractions of its second ------------------------------------


async def test_a_sentry_capture_with_its_second_split_is_one_delivery(
    gateway: IngestService, queues: Queues
) -> None:
    """Sentry stamps a delivery in whole seconds, and its timestamp is not signed: a capture
    sent again with fractions of that second added (`.25`, `.5`, …) is the same delivery
    (200 `duplicate`), so one capture cannot be queued once per fraction, as often as the
    source's rate allows, but at most once per second of the window."""
    body = payload("sentry/issue-resolved.json")
    sent = int(time.time())
    answers = []
    async with loopback_client(gateway.port) as client:
        for at in (str(sent), f"{sent}.25", f"{sent}.5", f"{sent}.999999"):
            headers = {**sentry_headers(body), "Sentry-Hook-Timestamp": at}
            answers.append(await client.post("/v1/alerts/sentry", content=body, headers=headers))
    assert answers[0].status_code == 202, answers[0].text
    for again in answers[1:]:
        assert again.status_code == 200 and again.json().get("duplicate") is True, again.text
    assert len(received(queues)) == 1


# --- A token rotated while a request is in flight --------------------------------------------


async def test_a_token_rotated_out_mid_request_is_not_queued(queues: Queues) -> None:
    """A webhook authenticated by the old token whose body (repeating that token, as a sender
    that can set only a URL does) is still arriving when the secret is rotated and re-read is
    queued without the old token: it is still a credential, valid on replicas not re-read yet."""
    old, new = "generic-old-token-0123456789", "generic-new-token-9876543210"
    secrets = boto3.client("secretsmanager", endpoint_url=queues.endpoint, region_name="us-east-1")
    arn = secrets.create_secret(Name="triage/round5-503", SecretString=json.dumps({"generic": old}))
    settings = ingest_settings(
        queues.url,
        queues.endpoint,
        ingest_tokens=None,
        ingest_tokens_secret_id=arn["ARN"],
        ingest_tokens_refresh_s=0.001,
    )
    body = json.dumps({"title": "disk full", "dedup_key": "d1", "url": f"https://x/?k={old}"})
    first, rest = body.encode()[:20], body.encode()[20:]
    async with running(settings) as service:
        reader, writer = await asyncio.open_connection("127.0.0.1", service.port)
        headers = f"Authorization: Bearer {old}\r\nContent-Length: {len(body)}\r\n"
        writer.write(head("/v1/alerts/generic", headers) + first)
        await writer.drain()
        secrets.put_secret_value(SecretId=arn["ARN"], SecretString=json.dumps({"generic": new}))
        async with loopback_client(service.port) as client:
            rotated = await client.post(
                "/v1/alerts/generic",
                content=b'{"title": "rotated", "dedup_key": "d2"}',
                headers={"Authorization": f"Bearer {new}"},
            )
        assert rotated.status_code == 202, "the re-read took the new token"
        writer.write(rest)
        await writer.drain()
        answer = await read_answer(reader)
        writer.close()
    assert answer.status == 202, answer.body
    bodies = [message["Body"] for message in received(queues)]
    assert any("disk full" in text for text in bodies), bodies
    assert not any(old in text for text in bodies), "the rotated-out token is on the queue"


# --- A silence of every alert -----------------------------------------------------------------


async def test_a_silence_of_every_alert_is_a_warning_line_naming_it(
    sqlite_store: SQLiteStore,  # noqa: F811  (the fixture imported above)
) -> None:
    """A silence the API makes that matches every alert (`title!=`) is logged as a warning that
    says so, with its id and end; an ordinary silence's line stays at info without it."""
    await _seed(sqlite_store)
    headers = {**API_BEARER, "Content-Type": "application/json"}
    everything = {"matchers": ["title!="], "duration": "2h", "comment": "all", "author": "eve"}
    ordinary = {"matchers": ["team=payments"], "duration": "2h", "comment": "db", "author": "al"}
    async with serving(sqlite_store) as client:
        with capture_logs() as logs:
            quiet_all = await client.post(
                "/api/v1/silences", content=json.dumps(everything), headers=headers
            )
            quiet_one = await client.post(
                "/api/v1/silences", content=json.dumps(ordinary), headers=headers
            )
    assert quiet_all.status_code == quiet_one.status_code == 201, quiet_all.text
    added = {e["silence"]: e for e in logs if e["event"] == "api.silence_added"}
    loud = added[quiet_all.json()["id"]]
    assert loud["log_level"] == "warning" and loud["matches_every_alert"] is True, loud
    assert loud["ends_at"] == quiet_all.json()["ends_at"]
    plain = added[quiet_one.json()["id"]]
    assert plain["log_level"] == "info" and "matches_every_alert" not in plain, plain


# --- Expect: 100-continue on the daemon's port -------------------------------------------------


async def test_the_api_answers_100_continue_before_reading_a_body(
    sqlite_store: SQLiteStore,  # noqa: F811  (the fixture imported above)
) -> None:
    """A client that asks `Expect: 100-continue` and waits for it before sending its body (Java's
    HttpClient, .NET, curl for large bodies) gets `100 Continue`, then the answer to its request,
    rather than silence until the connection's deadline cuts it without one."""
    await _seed(sqlite_store)
    body = json.dumps(
        {"matchers": ["team=payments"], "duration": "2h", "comment": "db", "author": "al"}
    ).encode()
    async with serving(sqlite_store) as client:
        port = client.base_url.port
        assert port is not None
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        headers = (
            f"Authorization: {API_BEARER['Authorization']}\r\n"
            "Content-Type: application/json\r\nExpect: 100-continue\r\n"
            f"Content-Length: {len(body)}\r\n"
        )
        writer.write(head("/api/v1/silences", headers))
        await writer.drain()
        interim = await read_answer(reader)
        writer.write(body)
        await writer.drain()
        final = await read_answer(reader)
        writer.close()
    assert interim.status == 100
    assert final.status == 201, final.body
    assert final.json()["matchers"] == ["team=payments"]


@pytest.mark.parametrize("expect", ["something-else", "100-continue, fancy"])
async def test_the_api_refuses_an_expectation_it_cannot_meet(
    sqlite_store: SQLiteStore,  # noqa: F811  (the fixture imported above)
    expect: str,
) -> None:
    """Any other `Expect` is 417 from the head (no body read, no silence made), one line."""
    body = b'{"matchers": ["team=payments"], "duration": "2h", "comment": "c", "author": "a"}'
    async with serving(sqlite_store) as client:
        port = client.base_url.port
        assert port is not None
        headers = (
            f"Authorization: {API_BEARER['Authorization']}\r\nExpect: {expect}\r\n"
            f"Content-Length: {len(body)}\r\n"
        )
        with capture_logs() as logs:
            answer = await exchange(port, head("/api/v1/silences", headers))
    assert answer.status == 417, answer.body
    assert [e["reason"] for e in logs if e["event"] == "http.refused"] == ["expectation_failed"]
    assert await sqlite_store.silences() == []


async def test_a_blank_expect_asks_nothing(
    sqlite_store: SQLiteStore,  # noqa: F811  (the fixture imported above)
) -> None:
    """`Expect:` sent blank (a client's way of saying it waits for nothing) is no expectation:
    the body is read and answered at once, without a `100 Continue` before it."""
    body = b'{"matchers": ["team=payments"], "duration": "2h", "comment": "c", "author": "a"}'
    async with serving(sqlite_store) as client:
        port = client.base_url.port
        assert port is not None
        headers = (
            f"Authorization: {API_BEARER['Authorization']}\r\nExpect:\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        )
        answer = await exchange(port, head("/api/v1/silences", headers) + body)
    assert answer.status == 201, answer.body
