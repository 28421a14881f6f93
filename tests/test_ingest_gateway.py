"""`triage ingest`, every answer: the gateway runs in the test's event loop against moto (some
through a proxy that holds or fails SQS calls) and is called over HTTP on 127.0.0.1."""

from __future__ import annotations

import asyncio
import dataclasses
import gzip
import json
import logging
import math
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import httpx2
import pytest
from structlog.testing import capture_logs

from daemon_harness import Queues
from ingest_harness import (
    TOKENS,
    SqsProxy,
    basic,
    bearer,
    ingest_settings,
    loopback_client,
    payload,
    running,
    sentry_headers,
)
from triage.ingest import IngestService

AM_GROUP = payload("alertmanager/group-firing.json")
GENERIC = payload("generic/firing.json")


def received(queues: Queues, count: int = 10) -> list[dict[str, Any]]:
    """Messages now on the queue (left in place: visibility 0), with their attributes."""
    response = queues.client().receive_message(
        QueueUrl=queues.url,
        MaxNumberOfMessages=count,
        VisibilityTimeout=0,
        MessageAttributeNames=["All"],
    )
    messages: list[dict[str, Any]] = response.get("Messages", [])
    return messages


def attributes(message: dict[str, Any]) -> dict[str, str]:
    return {k: v["StringValue"] for k, v in message.get("MessageAttributes", {}).items()}


# --- 202 --------------------------------------------------------------------------------------


async def test_accepted_body_is_queued_byte_for_byte_with_its_attributes(
    client: httpx2.AsyncClient, queues: Queues
) -> None:
    """202 names the message, its alerts and the request id; the queue holds the exact bytes
    with source, receive time, request id and the sender's traceparent as attributes."""
    body = b"\xef\xbb\xbf" + AM_GROUP.replace(b"checkout-1", "caf\u00e9-\u65e5\u672c".encode())
    traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    before = datetime.now(UTC)
    response = await client.post(
        "/v1/alerts/alertmanager",
        content=body,
        headers={**bearer("alertmanager"), "traceparent": traceparent},
    )
    assert response.status_code == 202, response.text
    answer = response.json()
    assert answer["alerts"] == 3
    assert response.headers["x-request-id"] == answer["request_id"]
    (message,) = received(queues)
    assert message["MessageId"] == answer["message_id"]
    assert message["Body"].encode("utf-8") == body
    attrs = attributes(message)
    assert attrs["source"] == "alertmanager"
    assert attrs["request_id"] == answer["request_id"]
    assert attrs["traceparent"] == traceparent
    at = datetime.fromisoformat(attrs["received_at"])
    assert at.utcoffset() == timedelta(0)
    assert before - timedelta(seconds=1) <= at <= datetime.now(UTC)


@pytest.mark.parametrize(
    "traceparent",
    [
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",  # no flags
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01",  # upper case
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-" + "x" * 300,  # too long
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-\u00e9",  # not ASCII
    ],
)
async def test_a_malformed_traceparent_is_dropped_not_forwarded(
    client: httpx2.AsyncClient, queues: Queues, traceparent: str
) -> None:
    """A traceparent that is not W3C's, bounded printable ASCII, is left off; the body is queued."""
    headers = {
        b"Authorization": f"Bearer {TOKENS['generic']}".encode(),
        b"traceparent": traceparent.encode(),
    }
    response = await client.post("/v1/alerts/generic", content=GENERIC, headers=headers)
    assert response.status_code == 202
    (message,) = received(queues)
    assert "traceparent" not in attributes(message)


@pytest.mark.parametrize(
    "headers",
    [
        bearer("grafana"),
        basic("grafana", TOKENS["grafana"]),
        basic("", TOKENS["grafana"]),
        {"X-Grafana-Token": TOKENS["grafana"]},
        {"Authorization": "Bearer wrong-but-ignored", "X-Grafana-Token": TOKENS["grafana"]},
    ],
    ids=["bearer", "basic", "basic-no-user", "x-grafana-token", "one-of-two"],
)
async def test_every_accepted_credential_form_passes(
    client: httpx2.AsyncClient, headers: dict[str, str]
) -> None:
    """Bearer, Basic (password = token, any user) and X-Grafana-Token each authenticate."""
    body = payload("grafana/group-firing.json")
    response = await client.post("/v1/alerts/grafana", content=body, headers=headers)
    assert response.status_code == 202, response.text
    assert response.json()["alerts"] == 2


async def test_valid_body_without_alerts_is_accepted_with_zero(
    client: httpx2.AsyncClient, queues: Queues
) -> None:
    """Grafana's Test button gets 202 with "alerts": 0 and why; it is queued, so the daemon's
    log proves the whole path."""
    body = payload("grafana/test-notification.json")
    response = await client.post("/v1/alerts/grafana", content=body, headers=bearer("grafana"))
    assert response.status_code == 202
    assert response.json()["alerts"] == 0
    assert response.json()["skipped"] == ["test_notification"]
    assert len(received(queues)) == 1


async def test_a_large_body_is_read_off_the_loop_and_accepted(
    client: httpx2.AsyncClient, queues: Queues
) -> None:
    """A 900 KB body (parsed on a worker thread) is accepted and queued whole."""
    body = json.dumps({"title": "big", "dedup_key": "big", "description": "x" * 900_000}).encode()
    response = await client.post("/v1/alerts/generic", content=body, headers=bearer("generic"))
    assert response.status_code == 202, response.text
    (message,) = received(queues)
    assert message["Body"].encode() == body


# --- 401 / 404 ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer not-the-token-0123456789"},
        {"Authorization": f"Bearer {TOKENS['alertmanager']}x"},
        {"Authorization": f"Bearer {TOKENS['grafana']}"},  # another source's token
        basic("admin", "not-the-token-0123456789"),
        {"Authorization": "Basic !!!not-base64"},
        {"X-Grafana-Token": "not-the-token-0123456789"},
        {"Authorization": f"Token {TOKENS['alertmanager']}"},  # unknown scheme
    ],
    ids=["missing", "wrong-bearer", "longer", "other-source", "wrong-basic", "bad-basic",
         "wrong-x-grafana-token", "unknown-scheme"],
)  # fmt: skip
async def test_missing_or_wrong_credentials_are_401_without_detail(
    client: httpx2.AsyncClient, queues: Queues, headers: dict[str, str]
) -> None:
    """Each failing form is 401 with no detail and one log line without the presented value;
    nothing is queued."""
    with capture_logs() as logs:
        response = await client.post("/v1/alerts/alertmanager", content=AM_GROUP, headers=headers)
    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"
    assert response.headers["www-authenticate"].startswith("Bearer")
    lines = [e for e in logs if e["event"].startswith("ingest.")]
    assert [(e["event"], e["status"], e["reason"]) for e in lines] == [
        ("ingest.refused", 401, "unauthorized")
    ]
    for value in [*TOKENS.values(), "not-the-token-0123456789", *headers.values()]:
        assert value not in repr(lines)
    assert received(queues) == []


async def test_unknown_and_disabled_sources_are_the_same_404(client: httpx2.AsyncClient) -> None:
    """A path that is no source and a source without a token answer alike: 404, not found."""
    unknown = await client.post("/v1/alerts/pagerduty", content=GENERIC, headers=bearer("generic"))
    disabled = await client.post("/v1/alerts/threshold", content=GENERIC, headers=bearer("generic"))
    assert unknown.status_code == disabled.status_code == 404
    assert unknown.json()["error"] == disabled.json()["error"] == "not found"


# --- 413 / 422 ------------------------------------------------------------------------------


async def test_body_over_one_mib_is_413_by_content_length(client: httpx2.AsyncClient) -> None:
    """A Content-Length over 1 MiB is refused before the body is read."""
    body = b"{" + b" " * (1024 * 1024) + b"}"
    response = await client.post("/v1/alerts/generic", content=body, headers=bearer("generic"))
    assert response.status_code == 413
    assert "1,048,576" in response.json()["error"]


async def test_streamed_body_over_one_mib_is_413(client: httpx2.AsyncClient) -> None:
    """A chunked body (no Content-Length) is cut off at 1 MiB and refused."""

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(20):
            yield b" " * 65536

    response = await client.post("/v1/alerts/generic", content=chunks(), headers=bearer("generic"))
    assert response.status_code == 413


async def test_a_gzip_encoded_body_is_queued_decoded(
    client: httpx2.AsyncClient, queues: Queues
) -> None:
    """A sender that compresses its body (Content-Encoding: gzip) is answered 202, and the
    queue holds the JSON the daemon can read, not the compressed bytes."""
    response = await client.post(
        "/v1/alerts/generic",
        content=gzip.compress(GENERIC),
        headers={**bearer("generic"), "Content-Encoding": "gzip"},
    )
    assert response.status_code == 202, response.text
    [message] = received(queues)
    assert message["Body"].encode() == GENERIC


async def test_a_compressed_body_over_one_mib_once_decoded_is_413(
    client: httpx2.AsyncClient,
) -> None:
    """A gzip bomb (16 KiB that decode to 16 MiB) is cut off at 1 MiB of decoded body and
    refused, never decoded whole."""
    bomb = gzip.compress(b"{" + b" " * (16 * 1024 * 1024) + b"}")
    assert len(bomb) < 64 * 1024
    response = await client.post(
        "/v1/alerts/generic",
        content=bomb,
        headers={**bearer("generic"), "Content-Encoding": "gzip"},
    )
    assert response.status_code == 413


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
async def test_a_body_that_is_not_what_its_encoding_says_is_400(
    client: httpx2.AsyncClient, queues: Queues, encoding: str
) -> None:
    """Content-Encoding: gzip (or deflate) over bytes that are not is the sender's error: 400
    with a reason, not a 500 it would retry for ever; nothing is queued."""
    with capture_logs() as logs:
        response = await client.post(
            "/v1/alerts/generic",
            content=b"\x00\x01 not compressed",
            headers={**bearer("generic"), "Content-Encoding": encoding},
        )
    assert response.status_code == 400
    assert response.json()["error"] == "body is not what its Content-Encoding says"
    assert [e["reason"] for e in logs if e["event"] == "ingest.refused"] == ["bad_encoding"]
    assert not [e for e in logs if e["log_level"] == "error"]
    assert received(queues) == []


async def test_a_gzip_body_cut_short_is_400_not_queued_in_part(
    client: httpx2.AsyncClient, queues: Queues
) -> None:
    """A gzip body without its CRC and length (the sender stopped early) is refused, as is one
    with a wrong CRC, with no error logged: only a whole, checked body is queued."""
    body = gzip.compress(json.dumps({"title": "disk full", "dedup_key": "d"}).encode())
    with capture_logs() as logs:
        for broken in (body[:-8], body[:-8] + b"\xde\xad\xbe\xef" + body[-4:]):
            response = await client.post(
                "/v1/alerts/generic",
                content=broken,
                headers={**bearer("generic"), "Content-Encoding": "gzip"},
            )
            assert response.status_code == 400
    assert [e["reason"] for e in logs if e["event"] == "ingest.refused"] == ["bad_encoding"] * 2
    assert not [e for e in logs if e["log_level"] == "error"]
    assert received(queues) == []


async def test_x_gzip_is_gzip_and_an_unknown_coding_is_415(
    client: httpx2.AsyncClient, queues: Queues
) -> None:
    """`x-gzip` (RFC 9110's alias) is decoded like gzip; a coding the gateway cannot decode
    (br, zstd, an unknown word, two at once) is 415 naming what it accepts, nothing queued."""
    body = json.dumps({"title": "disk full", "dedup_key": "d"}).encode()
    ok = await client.post(
        "/v1/alerts/generic",
        content=gzip.compress(body),
        headers={**bearer("generic"), "Content-Encoding": "x-gzip"},
    )
    assert ok.status_code == 202
    assert received(queues)[0]["Body"] == body.decode()
    for coding in ("br", "zstd", "foo", "gzip, gzip"):
        refused = await client.post(
            "/v1/alerts/generic",
            content=body,
            headers={**bearer("generic"), "Content-Encoding": coding},
        )
        assert refused.status_code == 415, coding
        assert refused.headers["Accept-Encoding"] == "gzip, deflate"
    assert len(received(queues)) == 1


async def test_body_over_the_queues_message_size_is_413(
    client: httpx2.AsyncClient, queues: Queues, gateway: IngestService
) -> None:
    """A body the queue cannot hold (its MaximumMessageSize, here 1,024 bytes) is 413 naming
    the limit, not a 503 the sender would retry for ever."""
    queues.client().set_queue_attributes(
        QueueUrl=queues.url, Attributes={"MaximumMessageSize": "1024"}
    )
    assert gateway.gateway is not None
    await gateway.gateway.probe.refresh()
    body = json.dumps({"title": "t", "description": "x" * 2000}).encode()
    response = await client.post("/v1/alerts/generic", content=body, headers=bearer("generic"))
    assert response.status_code == 413
    assert "1,024" in response.json()["error"]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"title": "unterminated', "decode: body is not valid JSON"),
        (b'{"title": "\xff"}', "decode: body is not UTF-8"),
        (b"[1, 2]", "decode: body is a JSON array whose item [0] is a number"),
        (b'{"hello": "world"}', "unknown_format: no known alert format matches"),
        (b'{"title": ""}', "invalid: title is missing or empty"),
    ],
    ids=["not-json", "not-utf8", "array", "unknown", "invalid"],
)
async def test_unreadable_body_is_422_with_the_normalisers_reason(
    client: httpx2.AsyncClient, queues: Queues, body: bytes, reason: str
) -> None:
    """A body the daemon could not read is 422 with the normaliser's one-line reason."""
    response = await client.post("/v1/alerts/generic", content=body, headers=bearer("generic"))
    assert response.status_code == 422
    assert response.json()["error"].startswith(reason), response.json()
    assert received(queues) == []


async def test_body_of_another_source_is_422_naming_both(client: httpx2.AsyncClient) -> None:
    """An Alertmanager payload posted to /v1/alerts/grafana is refused, naming both sources;
    a CloudWatch alarm belongs on the SNS path."""
    wrong = await client.post("/v1/alerts/grafana", content=AM_GROUP, headers=bearer("grafana"))
    assert wrong.status_code == 422
    assert wrong.json()["error"] == (
        "wrong_source: this is alertmanager JSON, not grafana; post it to /v1/alerts/alertmanager"
    )
    alarm = payload("cloudwatch/raw-alarm.json")
    sns = await client.post("/v1/alerts/generic", content=alarm, headers=bearer("generic"))
    assert sns.status_code == 422
    assert "through SNS" in sns.json()["error"]


async def test_the_legacy_sentry_plugin_posts_to_the_generic_path_with_basic_auth(
    client: httpx2.AsyncClient, queues: Queues
) -> None:
    """The legacy Sentry Webhooks plugin cannot sign its requests: with the generic token in
    its URL (HTTP Basic) it is accepted on /v1/alerts/generic and queued for the daemon."""
    plugin = payload("sentry/legacy-plugin.json")
    basic = httpx2.BasicAuth("sentry", TOKENS["generic"])
    response = await client.post("/v1/alerts/generic", content=plugin, auth=basic)
    assert response.status_code == 202, response.text
    assert [json.loads(m["Body"])["id"] for m in received(queues)] == ["27379932"]


async def test_422_reason_is_redacted_and_one_short_line(client: httpx2.AsyncClient) -> None:
    """A reason quoting hostile text shows no secret (by pattern or by value) and no newline."""
    keys = {
        "AKIAIOSFODNN7EXAMPLE": 1,
        TOKENS["generic"]: 2,
        "line\nbreak" + "y" * 500: 3,
    }
    response = await client.post(
        "/v1/alerts/generic", content=json.dumps(keys).encode(), headers=bearer("generic")
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert "AKIA" not in error and TOKENS["generic"] not in error
    assert "[REDACTED:aws-key]" in error and "[REDACTED:credential]" in error
    assert "\n" not in error and len(error) <= 300


# --- The source's rate ------------------------------------------------------------------------


async def test_rate_above_the_limit_is_503_with_retry_after(queues: Queues) -> None:
    """Past a source's burst the gateway answers 503 with Retry-After (which Alertmanager and
    SNS retry; a 429 they drop: helper 566); other sources still pass."""
    settings = ingest_settings(queues.url, queues.endpoint, ingest_rate_per_s=0.2)  # burst of 1
    async with (
        running(settings) as service,
        loopback_client(service.port) as client,
    ):
        first = await client.post("/v1/alerts/generic", content=GENERIC, headers=bearer("generic"))
        second = await client.post("/v1/alerts/generic", content=GENERIC, headers=bearer("generic"))
        other = await client.post(
            "/v1/alerts/alertmanager", content=AM_GROUP, headers=bearer("alertmanager")
        )
    assert first.status_code == 202
    assert second.status_code == 503
    assert 1 <= int(second.headers["retry-after"]) <= 5
    assert other.status_code == 202


async def test_rejected_credentials_do_not_spend_the_rate(queues: Queues) -> None:
    """Unauthenticated requests cannot use up a source's budget: the real sender still passes."""
    settings = ingest_settings(queues.url, queues.endpoint, ingest_rate_per_s=0.2)
    async with (
        running(settings) as service,
        loopback_client(service.port) as client,
    ):
        for _ in range(5):
            bad = await client.post("/v1/alerts/generic", content=GENERIC)
            assert bad.status_code == 401
        good = await client.post("/v1/alerts/generic", content=GENERIC, headers=bearer("generic"))
    assert good.status_code == 202


# --- Sentry ---------------------------------------------------------------------------------


async def test_sentry_signature_right_is_accepted_with_its_resource(
    client: httpx2.AsyncClient, queues: Queues
) -> None:
    """A body signed with the client secret is accepted; Sentry-Hook-Resource rides along."""
    body = payload("sentry/issue-created.json")
    response = await client.post("/v1/alerts/sentry", content=body, headers=sentry_headers(body))
    assert response.status_code == 202, response.text
    (message,) = received(queues)
    assert attributes(message)["sentry_hook_resource"] == "issue"
    assert message["Body"].encode() == body


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Sentry-Hook-Signature": "0" * 64},
        sentry_headers(b"another body"),
        sentry_headers(payload("sentry/issue-created.json"), secret="not-the-client-secret"),
        bearer("sentry"),  # the client secret as a bearer token is not a signature
    ],
    ids=["missing", "zeros", "other-body", "other-secret", "bearer"],
)
async def test_sentry_signature_wrong_or_missing_is_401(
    client: httpx2.AsyncClient, queues: Queues, headers: dict[str, str]
) -> None:
    """Only the HMAC-SHA256 of the exact body with the client secret is accepted."""
    body = payload("sentry/issue-created.json")
    response = await client.post("/v1/alerts/sentry", content=body, headers=headers)
    assert response.status_code == 401
    assert received(queues) == []


async def test_sentry_installation_webhook_is_accepted_without_alerts(
    client: httpx2.AsyncClient,
) -> None:
    """The webhook Sentry sends when the integration is installed is 202 with no alerts."""
    body = payload("sentry/installation-created.json")
    headers = sentry_headers(body, resource="installation")
    response = await client.post("/v1/alerts/sentry", content=body, headers=headers)
    assert response.status_code == 202
    assert response.json()["alerts"] == 0


# --- Health ---------------------------------------------------------------------------------


async def test_healthz_and_readyz_answer(client: httpx2.AsyncClient) -> None:
    """/healthz is alive; /readyz is ready once the queue answered and the tokens were read."""
    assert (await client.get("/healthz")).json() == {"alive": True}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"ready": True, "failing": {}}


# --- 503 ------------------------------------------------------------------------------------


async def test_sqs_down_is_503_with_retry_after_and_readyz_tells_no_secrets(
    queues: Queues, unused_tcp_port: int
) -> None:
    """With SQS unreachable a valid request gets 503 + Retry-After, and /readyz says "queue"
    without AWS's text or any URL."""
    dead = f"http://127.0.0.1:{unused_tcp_port}"
    settings = ingest_settings(queues.url.replace(queues.endpoint, dead), dead)
    async with (
        running(settings) as service,
        loopback_client(service.port) as client,
    ):
        response = await client.post(
            "/v1/alerts/generic", content=GENERIC, headers=bearer("generic")
        )
        ready = await client.get("/readyz")
    assert response.status_code == 503
    assert int(response.headers["retry-after"]) >= 1
    assert response.json()["error"] == "queue unavailable"
    assert ready.status_code == 503
    assert ready.json() == {"ready": False, "failing": {"queue": "unreachable"}}
    assert "127.0.0.1" not in ready.text and "http" not in ready.text


@pytest.fixture
def proxy(moto_url: str) -> Any:
    with SqsProxy(moto_url) as running_proxy:
        yield running_proxy


async def post_batched(
    client: httpx2.AsyncClient, proxy: SqsProxy, bodies: list[bytes]
) -> list[httpx2.Response]:
    """POST `bodies` at once while a first send is held at the proxy, so they gather into one
    SendMessageBatch (group commit: a body leaves alone only when no call is in flight)."""
    proxy.released.clear()
    pilot = asyncio.create_task(
        client.post("/v1/alerts/generic", content=json.dumps({"title": "pilot"}).encode(),
                    headers=bearer("generic"))
    )  # fmt: skip
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while proxy.sends_waiting < 1:
        assert loop.time() < deadline, "the pilot send never reached SQS"
        await asyncio.sleep(0.01)
    answers = asyncio.gather(
        *(client.post("/v1/alerts/generic", content=b, headers=bearer("generic")) for b in bodies)
    )
    while proxy.sends_waiting < 2:  # the batch left after the linger and reached SQS
        assert loop.time() < deadline, "the batch never reached SQS"
        await asyncio.sleep(0.01)
    proxy.released.set()
    assert (await pilot).status_code == 202
    return list(await answers)


async def test_only_the_failed_batch_entry_gets_503(queues: Queues, proxy: SqsProxy) -> None:
    """Three requests share one SendMessageBatch; the entry SQS fails answers 503 with
    Retry-After, the other two 202 and are on the queue."""
    settings = ingest_settings(queues.url, proxy.url, ingest_linger_ms=100)
    proxy.fail_marker = "doomed"
    bodies = [json.dumps({"title": f"{name} alert", "dedup_key": name}).encode()
              for name in ("kept-1", "doomed", "kept-2")]  # fmt: skip
    async with (
        running(settings) as service,
        loopback_client(service.port) as client,
    ):
        answers = await post_batched(client, proxy, bodies)
    assert [a.status_code for a in answers] == [202, 503, 202]
    assert "retry-after" in answers[1].headers
    assert proxy.count("SendMessageBatch") == 1
    kept = sorted(m["Body"] for m in received(queues) if "pilot" not in m["Body"])
    assert kept == sorted([bodies[0].decode(), bodies[2].decode()])


async def test_an_entry_sqs_refuses_for_its_content_is_422(queues: Queues, proxy: SqsProxy) -> None:
    """A SenderFault entry (SQS refuses the message itself) is 422: retrying cannot help."""
    settings = ingest_settings(queues.url, proxy.url, ingest_linger_ms=100)
    proxy.fail_marker, proxy.fail_as_sender_fault = "doomed", True
    bodies = [json.dumps({"title": t}).encode() for t in ("doomed", "fine")]
    async with (
        running(settings) as service,
        loopback_client(service.port) as client,
    ):
        answers = await post_batched(client, proxy, bodies)
    assert [a.status_code for a in answers] == [422, 202]
    assert "InvalidMessageContents" in answers[0].json()["error"]


@pytest.mark.parametrize(
    "answer",
    [
        {"Successful": [{"Id": "0"}], "Failed": [{"Id": "99"}, {"Id": "x"}]},
        {"Successful": "no list"},
        {"Successful": ["junk"]},
        {},
    ],
)
async def test_a_batch_answer_that_does_not_read_is_503_for_each_sender(
    queues: Queues, proxy: SqsProxy, answer: dict[str, Any]
) -> None:
    """SendMessageBatch answered 200 with entries that name no sender, without ids, or in a
    shape botocore cannot read: every request of the batch is answered 503 with Retry-After
    (the sender retries), none waits forever and the gateway goes on."""
    settings = ingest_settings(queues.url, proxy.url, ingest_linger_ms=100)
    proxy.rewrite("AmazonSQS.SendMessageBatch", lambda _: answer)
    bodies = [json.dumps({"title": f"alert {i}"}).encode() for i in range(2)]
    async with (
        running(settings) as service,
        loopback_client(service.port) as client,
    ):
        answers = await post_batched(client, proxy, bodies)
        proxy.rewrite("AmazonSQS.SendMessageBatch", lambda answer: answer)
        again = await post_batched(client, proxy, bodies)
    assert [a.status_code for a in answers] == [503, 503]
    assert all("retry-after" in a.headers for a in answers)
    assert [a.status_code for a in again] == [202, 202]


@pytest.mark.parametrize("answer", [{}, {"MessageId": 7}, {"MessageId": ["x"]}])
async def test_a_send_answer_without_a_message_id_is_503(
    queues: Queues, proxy: SqsProxy, answer: dict[str, Any]
) -> None:
    """SendMessage answered 200 without a usable MessageId is a 503 with Retry-After, not a
    500 or a hung request."""
    settings = ingest_settings(queues.url, proxy.url)
    proxy.rewrite("AmazonSQS.SendMessage", lambda _: answer)
    async with (
        running(settings) as service,
        loopback_client(service.port) as client,
    ):
        response = await client.post(
            "/v1/alerts/generic", content=GENERIC, headers=bearer("generic")
        )
    assert response.status_code == 503
    assert "retry-after" in response.headers


async def test_a_quiet_gateway_sends_at_once(queues: Queues, proxy: SqsProxy) -> None:
    """With no call in flight a body leaves at once: under a linger that never ends, a lone
    webhook is still answered (it would wait forever if it lingered)."""
    settings = ingest_settings(queues.url, proxy.url, ingest_linger_ms=1000)
    async with (
        running(settings) as service,
        loopback_client(service.port) as client,
    ):
        assert service._outbox is not None
        service._outbox.linger_s = math.inf
        response = await client.post(
            "/v1/alerts/generic", content=GENERIC, headers=bearer("generic")
        )
    assert response.status_code == 202
    assert proxy.count("SendMessage") == 1


async def test_concurrent_requests_are_coalesced_into_batches(
    queues: Queues, proxy: SqsProxy
) -> None:
    """Twenty requests at once take at most a few SendMessageBatch calls, never one per request,
    and each gets its own message id."""
    settings = ingest_settings(queues.url, proxy.url, ingest_linger_ms=50)
    async with (
        running(settings) as service,
        loopback_client(service.port) as client,
    ):
        answers = await asyncio.gather(
            *(
                client.post(
                    "/v1/alerts/generic",
                    content=json.dumps({"title": f"alert {i}", "dedup_key": str(i)}).encode(),
                    headers=bearer("generic"),
                )
                for i in range(20)
            )
        )
    assert {a.status_code for a in answers} == {202}
    assert len({a.json()["message_id"] for a in answers}) == 20
    assert proxy.count("SendMessageBatch") <= 4
    assert proxy.count("SendMessage") <= 2


# --- Tokens from Secrets Manager --------------------------------------------------------------


async def test_rotated_secret_is_picked_up_without_a_restart(
    queues: Queues, proxy: SqsProxy
) -> None:
    """After put-secret-value, the new token works at once and the old one stops; a flood of
    bad tokens re-reads the secret at most once per refresh interval."""
    secrets = boto3.client("secretsmanager", endpoint_url=queues.endpoint, region_name="us-east-1")
    old, new = "generic-token-before-rotation", "generic-token-after-rotation"
    arn = secrets.create_secret(Name="triage/ingest", SecretString=json.dumps({"generic": old}))[
        "ARN"
    ]
    settings = ingest_settings(
        queues.url,
        proxy.url,
        ingest_tokens=None,
        ingest_tokens_secret_id=arn,
        ingest_tokens_refresh_s=0.3,
    )
    async with (
        running(settings) as service,
        loopback_client(service.port) as client,
    ):

        async def post(token: str) -> int:
            headers = {"Authorization": f"Bearer {token}"}
            return (
                await client.post("/v1/alerts/generic", content=GENERIC, headers=headers)
            ).status_code

        assert await post(old) == 202
        reads = proxy.count("GetSecretValue")
        began = asyncio.get_running_loop().time()
        flood = await asyncio.gather(*(post(f"bad-token-number-{i:04d}") for i in range(50)))
        took_s = asyncio.get_running_loop().time() - began
        assert set(flood) == {401}
        # 50 refusals, but re-reads only once per started refresh interval (a loaded machine
        # may stretch the flood over several).
        assert proxy.count("GetSecretValue") - reads <= 1 + int(took_s / 0.3)
        secrets.put_secret_value(SecretId=arn, SecretString=json.dumps({"generic": new}))
        # The flood's re-read may be under 0.3 s old: the new token passes once it is not.
        deadline = asyncio.get_running_loop().time() + 5
        while await post(new) != 202:
            assert asyncio.get_running_loop().time() < deadline, "the rotated token never passed"
        assert await post(old) == 401


# --- Broken requests and bugs ---------------------------------------------------------------


async def _refusal(logs: list[dict[str, Any]]) -> dict[str, Any]:
    """The first ingest.refused line, once it is logged (10 s at most)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while not any(e["event"] == "ingest.refused" for e in logs):
        assert loop.time() < deadline, logs
        await asyncio.sleep(0.01)
    return next(e for e in logs if e["event"] == "ingest.refused")


async def _head(port: int, source: str, headers: str, start: bytes) -> tuple[Any, Any]:
    """A connection that has sent a POST's head and the start of its body, then stalls."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"POST /v1/alerts/{source} HTTP/1.1\r\nHost: x\r\n{headers}\r\n".encode() + start)
    await writer.drain()
    return reader, writer


async def test_a_stalled_body_is_answered_408_within_the_body_timeout(
    gateway: IngestService, queues: Queues
) -> None:
    """A sender that promises a body and stalls (slowloris) gets 408 once the body timeout is
    over, instead of holding its connection and buffer for ever; nothing is queued."""
    gateway.gateway.limits = dataclasses.replace(gateway.gateway.limits, body_timeout_s=0.3)
    with capture_logs() as logs:
        reader, writer = await _head(
            gateway.port,
            "generic",
            f"Content-Length: 1000\r\nAuthorization: Bearer {TOKENS['generic']}\r\n",
            b'{"title": ',
        )
        status_line = await asyncio.wait_for(reader.readline(), timeout=10)
        writer.close()
        line = await _refusal(logs)
    assert status_line.startswith(b"HTTP/1.1 408")
    assert (line["status"], line["reason"]) == (408, "body_timeout")
    assert received(queues) == []


async def _stalled_sentry_body(gateway: IngestService) -> Any:
    """A signed-looking Sentry request that has sent 80,000 of its 200,000 bytes and stalls,
    once the gateway holds them; its writer, to close."""
    _, holder = await _head(
        gateway.port,
        "sentry",
        "Content-Length: 200000\r\nSentry-Hook-Signature: " + "0" * 64 + "\r\n",
        b" " * 80_000,
    )
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while gateway.gateway.bodies.unauthenticated_bytes < 80_000:
        assert loop.time() < deadline, gateway.gateway.bodies.unauthenticated_bytes
        await asyncio.sleep(0.01)
    return holder


async def test_unauthenticated_bodies_have_their_own_budget_and_cannot_starve_others(
    gateway: IngestService, queues: Queues
) -> None:
    """Sentry's webhooks are read before their signature can be checked: the bytes of such
    bodies being read at once have their own bound, so senders without a credential cannot pin
    the memory, nor take the budget every other source needs. Past it a body is answered 503
    with Retry-After, while an authenticated webhook still passes; once free, bodies pass."""
    limits = gateway.gateway.limits
    gateway.gateway.limits = dataclasses.replace(limits, unauthenticated_budget_bytes=100_000)
    signed = {"Sentry-Hook-Signature": "0" * 64}
    with capture_logs() as logs:
        holder = await _stalled_sentry_body(gateway)
        loop = asyncio.get_running_loop()
        async with loopback_client(gateway.port) as client:
            busy = await client.post("/v1/alerts/sentry", content=b" " * 60_000, headers=signed)
            during = await client.post(
                "/v1/alerts/generic",
                json={"title": "during the stall", "dedup_key": "k", "pad": "x" * 60_000},
                headers={"Authorization": f"Bearer {TOKENS['generic']}"},
            )
        holder.close()
        line = await _refusal(logs)
    assert busy.status_code == 503 and busy.headers["Retry-After"] == "1"
    assert (line["status"], line["reason"]) == (503, "busy")
    assert during.status_code == 202
    deadline = loop.time() + 10
    while gateway.gateway.bodies.reading_bytes or gateway.gateway.bodies.unauthenticated_bytes:
        assert loop.time() < deadline, gateway.gateway.bodies.reading_bytes
        await asyncio.sleep(0.01)
    async with loopback_client(gateway.port) as client:
        ok = await client.post(
            "/v1/alerts/generic",
            json={"title": "after the stall", "dedup_key": "k"},
            headers={"Authorization": f"Bearer {TOKENS['generic']}"},
        )
    assert ok.status_code == 202


async def test_one_address_gets_a_share_of_the_unauthenticated_budget(
    gateway: IngestService,
) -> None:
    """One sender's unauthenticated bodies being read at once are bounded on their own, so it
    cannot take the whole unauthenticated budget from Sentry's real senders."""
    limits = gateway.gateway.limits
    gateway.gateway.limits = dataclasses.replace(limits, unauthenticated_per_peer_bytes=100_000)
    signed = {"Sentry-Hook-Signature": "0" * 64}
    holder = await _stalled_sentry_body(gateway)
    async with loopback_client(gateway.port) as client:
        busy = await client.post("/v1/alerts/sentry", content=b" " * 60_000, headers=signed)
    holder.close()
    assert busy.status_code == 503
    assert (
        gateway.gateway.bodies.unauthenticated_bytes < 8 * 1024 * 1024
    )  # far from the whole budget


@pytest.mark.parametrize("signature", [None, "00", "z" * 64, "0" * 65])
async def test_a_sentry_request_without_a_signature_is_refused_unread(
    gateway: IngestService, signature: str | None
) -> None:
    """A Sentry request whose Sentry-Hook-Signature cannot be one (absent, not 64 hex digits)
    is answered 401 at once, from its head alone: it promises 200,000 bytes and sends none,
    and no body is waited for (that would be a 408 after the body timeout)."""
    header = "" if signature is None else f"Sentry-Hook-Signature: {signature}\r\n"
    reader, writer = await _head(gateway.port, "sentry", f"Content-Length: 200000\r\n{header}", b"")
    try:
        status_line = await asyncio.wait_for(reader.readline(), timeout=5)
    finally:
        writer.close()
    assert status_line.split()[1] == b"401"


async def test_a_compressed_sentry_body_is_refused_before_it_is_inflated(
    client: httpx2.AsyncClient,
) -> None:
    """A gzip body to the Sentry path is 415: a few compressed bytes of an unknown sender's
    would be a megabyte of ours before its signature could be checked (Sentry sends plain)."""
    bomb = gzip.compress(b" " * 1_000_000)
    answer = await client.post(
        "/v1/alerts/sentry",
        content=bomb,
        headers={"Sentry-Hook-Signature": "0" * 64, "Content-Encoding": "gzip"},
    )
    assert answer.status_code == 415
    assert "without Content-Encoding" in answer.json()["error"]


async def test_a_request_aiohttp_cannot_parse_is_one_warning_without_its_bytes(
    gateway: IngestService, queues: Queues, caplog: pytest.LogCaptureFixture
) -> None:
    """aiohttp answers a malformed request 400 and would log an ERROR traceback quoting the raw
    request (headers, body): instead there is one `ingest.bad_http` warning naming what was
    wrong, without the bytes, and nothing is queued."""
    secret = "hunter2-in-a-header"
    with capture_logs() as logs:
        reader, writer = await asyncio.open_connection("127.0.0.1", gateway.port)
        writer.write(
            b"POST /v1/alerts/generic HTTP/1.1\r\nHost: x\r\n"
            + f"X-Note: {secret}\x01\r\nContent-Length: 0\r\n\r\n".encode()
        )
        status_line = await asyncio.wait_for(reader.readline(), timeout=10)
        writer.close()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 10
        while not any(e["event"] == "ingest.bad_http" for e in logs):
            assert loop.time() < deadline, logs
            await asyncio.sleep(0.01)
    assert b" 400 " in status_line
    (line,) = [e for e in logs if e["event"] == "ingest.bad_http"]
    assert line["status"] == 400 and "header" in line["reason"].lower()
    assert secret not in json.dumps(line)
    assert not [r for r in caplog.records if r.name == "aiohttp.server"]
    assert received(queues) == []


def test_bad_http_lines_are_bounded_per_second() -> None:
    """Anyone can send malformed requests: at most `per_second` warnings a second are logged."""
    from aiohttp.http_exceptions import BadHttpMessage

    from triage.ingest.bad_http import BadHttpLines

    now = [100.0]
    lines = BadHttpLines(per_second=3, clock=lambda: now[0])
    error = BadHttpMessage("Invalid header value char:\n\n  b'secret'")
    record = logging.LogRecord("aiohttp.server", logging.ERROR, "", 0, "x", (), (None, error, None))
    with capture_logs() as logs:
        assert [lines.filter(record) for _ in range(5)] == [False] * 5
        now[0] += 1.0
        lines.filter(record)
    bad_http = [e["reason"] for e in logs if e["event"] == "ingest.bad_http"]
    assert bad_http == ["Invalid header value char"] * 4
    other = logging.LogRecord("aiohttp.server", logging.ERROR, "", 0, "x", (), None)
    assert lines.filter(other) is True  # anything else passes as it is


@pytest.mark.parametrize(
    "message",
    [
        "Got more than 8190 bytes (9000) when reading: b'sess-Zq81secret'",
        "Bad status line 'sess-Zq81secret'",
        'Invalid method "sess-Zq81secret"',
    ],
)
def test_a_bad_http_line_never_quotes_the_requests_bytes(message: str) -> None:
    """aiohttp quotes what it could not parse (an over-long header line, a bad status line):
    the warning keeps what was wrong and drops the quote, which may be a credential."""
    from aiohttp.http_exceptions import BadHttpMessage

    from triage.ingest.bad_http import BadHttpLines

    error = BadHttpMessage(message)
    record = logging.LogRecord("aiohttp.server", logging.ERROR, "", 0, "x", (), (None, error, None))
    with capture_logs() as logs:
        BadHttpLines().filter(record)
    [line] = logs
    assert "Zq81" not in json.dumps(line) and line["reason"]


class BrokenOutbox:
    """An Outbox with a bug for one body: it raises what no outbox should."""

    def __init__(self, real: Any) -> None:
        self.real = real

    async def send(self, message: Any) -> str:
        if "bug" in message.body:
            raise RuntimeError("a bug in the outbox")
        result: str = await self.real.send(message)
        return result


async def test_a_bug_fails_only_its_own_request_with_500(
    gateway: IngestService, client: httpx2.AsyncClient
) -> None:
    """An unexpected exception answers that request 500 (the sender retries) with one
    ingest.error line, and the next request is served as usual."""
    assert gateway.gateway is not None
    gateway.gateway.outbox = BrokenOutbox(gateway.gateway.outbox)
    with capture_logs() as logs:
        bad = await client.post(
            "/v1/alerts/generic", content=b'{"title": "bug"}', headers=bearer("generic")
        )
        good = await client.post("/v1/alerts/generic", content=GENERIC, headers=bearer("generic"))
    assert bad.status_code == 500 and bad.json()["error"] == "internal error"
    assert good.status_code == 202
    assert [e["event"] for e in logs if e["event"].startswith("ingest.")] == [
        "ingest.error",
        "ingest.refused",
        "ingest.accepted",
    ]


async def test_every_token_read_is_held_by_the_redactor(gateway: IngestService) -> None:
    """The tokens the gateway reads are registered with `triage.redact.hold`, so any redactor
    of the process (log lines included) blanks them by value."""
    from triage.redact import Redactor, held

    for token in TOKENS.values():
        assert token in held()
        assert token not in Redactor().text(f"a line that quotes {token} by mistake")


async def _until_closed(reader: asyncio.StreamReader) -> bytes:
    """What the server sent before it closed the connection. A close while the client's bytes
    are still unread arrives as a reset instead of an end of stream: closed either way."""
    try:
        return await reader.read()
    except ConnectionResetError:
        return b""


async def test_a_client_trickling_its_head_is_cut_at_the_idle_timeout(queues: Queues) -> None:
    """A client sending its request head a byte at a time (slowloris) is disconnected once the
    idle timeout has passed since it connected, however often it sends (answered 408 first,
    unless its next byte made the close a reset); nothing is queued."""
    timeout_s = 0.5
    settings = ingest_settings(queues.url, queues.endpoint, ingest_idle_timeout_s=timeout_s)
    async with running(settings) as service:
        loop = asyncio.get_running_loop()
        started = loop.time()  # before the connection: the server's timer starts at accept
        reader, writer = await asyncio.open_connection("127.0.0.1", service.port)
        head = f"POST /v1/alerts/generic HTTP/1.1\r\nHost: x\r\nX-Pad: {'a' * 400}\r\n".encode()
        sent, last_sent, longest_pause = 0, loop.time(), 0.0
        closed = asyncio.ensure_future(_until_closed(reader))
        while not closed.done() and sent < len(head):
            writer.write(head[sent : sent + 1])
            now = loop.time()
            sent, longest_pause, last_sent = sent + 1, max(longest_pause, now - last_sent), now
            await asyncio.wait([closed], timeout=0.02)
        assert closed.done(), "the whole head was sent a byte at a time and never cut"
        answered = await closed
        elapsed = loop.time() - started
        writer.close()
    assert answered == b"" or answered.startswith(b"HTTP/1.1 408 Request Timeout\r\n"), answered
    # It kept sending, never pausing as long as the timeout: a timer that bytes restart would
    # never have run out.
    assert sent >= 2 and longest_pause < timeout_s, (sent, longest_pause)
    assert elapsed >= timeout_s  # the timeout, not an earlier refusal
    assert received(queues) == []
