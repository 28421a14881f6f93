"""Round 8 faults (helper 553): the gateway's clock minutes off SQS's. The daemon sets aside a
`received_at` stamp that far from SentTimestamp (pipeline.py's `_believable_stamp`); the gateway
says once, from the Date of SQS's answers to its sends, that its clock is off and by how much."""

from __future__ import annotations

import asyncio
import email.utils
import time
from datetime import datetime
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest
import structlog

from daemon_harness import Queues
from ingest_harness import (
    SqsProxy,
    ingest_settings,
    loopback_client,
    payload,
    running,
    sentry_headers,
)
from moto_speed import loopback_aws_client
from triage.ingest import messages
from triage.ingest.outbox import Outgoing, SqsOutbox
from triage.sqs.inbox import RECEIVED_AT_ATTRIBUTE

SENTRY_BODY = payload("sentry/issue-created.json")


class _SqsDated:
    """SQS whose answers are dated `ahead_s` from this host's clock."""

    def __init__(self, ahead_s: float) -> None:
        self.ahead_s = ahead_s
        self.sent = 0

    def _metadata(self) -> dict[str, Any]:
        date = email.utils.formatdate(time.time() + self.ahead_s, usegmt=True)
        return {"ResponseMetadata": {"HTTPHeaders": {"date": date}}}

    async def send_message(self, **_: object) -> dict[str, Any]:
        self.sent += 1
        return {"MessageId": f"m-{self.sent}"} | self._metadata()

    async def send_message_batch(self, Entries: list[dict[str, Any]], **_: object) -> Any:
        self.sent += len(Entries)
        done = [{"Id": e["Id"], "MessageId": f"m-{self.sent}-{e['Id']}"} for e in Entries]
        return {"Successful": done} | self._metadata()


async def _send_some(sqs: Any, queue_url: str) -> list[Any]:
    """Twelve webhooks' messages sent at once (a batch and singles), then one more; the
    `ingest.clock_skew` lines said meanwhile."""
    outbox = SqsOutbox(sqs, queue_url)
    with structlog.testing.capture_logs() as logs:
        await asyncio.gather(*(outbox.send(Outgoing.of("{}", {})) for _ in range(12)))
        await outbox.send(Outgoing.of("{}", {}))
        await outbox.aclose()
    return [e for e in logs if e["event"] == "ingest.clock_skew"]


async def test_a_gateway_ten_minutes_fast_says_so_once_with_its_skew() -> None:
    """SQS's answers dated 10 minutes before this host's clock: one `ingest.clock_skew`
    warning, `gateway_ahead_s` about 600, however many sends follow."""
    said = await _send_some(_SqsDated(-600.0), "https://sqs.example/q")
    assert len(said) == 1
    assert said[0]["log_level"] == "warning"
    assert 598 <= said[0]["gateway_ahead_s"] <= 602


async def test_a_gateway_ten_minutes_slow_says_so_too() -> None:
    """SQS's answers dated 10 minutes after this host's clock: `gateway_ahead_s` about -600."""
    [said] = await _send_some(_SqsDated(600.0), "https://sqs.example/q")
    assert -602 <= said["gateway_ahead_s"] <= -598


async def test_a_second_of_difference_is_the_dates_precision_not_a_skew() -> None:
    """Answers dated within a second or two of this host's clock say nothing: SQS's Date names
    a whole second."""
    assert await _send_some(_SqsDated(-1.5), "https://sqs.example/q") == []
    assert await _send_some(_SqsDated(1.5), "https://sqs.example/q") == []


async def test_a_gateway_in_step_with_sqs_says_nothing(queues: Queues) -> None:
    """Against moto's SQS, which answers by this host's clock: the messages are queued, and no
    skew is said."""
    async with loopback_aws_client("sqs", endpoint_url=queues.endpoint) as sqs:
        assert await _send_some(sqs, queues.url) == []
    assert queues.depth() == 13


class _SkewedSqs(SqsProxy):
    """The test's SQS proxy, whose answers are dated `skew_s` off this host's clock, as SQS's
    are on a gateway whose clock is wrong."""

    def __init__(self, upstream: str, skew_s: float) -> None:
        self.skew_s = skew_s
        super().__init__(upstream)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        relay, skew_s = super()._handler_class(), self.skew_s

        class Handler(relay):  # type: ignore[valid-type,misc]
            def date_time_string(self, timestamp: float | None = None) -> str:
                return str(super().date_time_string(time.time() + skew_s))

        return Handler


async def test_a_gateway_ten_minutes_fast_judges_sentrys_time_by_sqs_clock(
    queues: Queues, moto_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A gateway 10 minutes fast (SQS's answers dated 10 minutes behind it) takes a Sentry
    delivery stamped by Sentry's right clock: its Sentry-Hook-Timestamp, 10 minutes behind
    the gateway's clock and past the 5-minute window by it, is judged by SQS's clock (by the
    gateway's own, every Sentry webhook was refused 401 `stale_timestamp`), and the message's
    `received_at` is stamped by SQS's clock too."""
    # A new gateway process's stamps: none reserved yet (an earlier test's, by this host's
    # clock, would hold the next ones at or after them).
    monkeypatch.setattr(messages.STAMPS, "_last", None)
    with _SkewedSqs(moto_url, -600.0) as proxy:
        settings = ingest_settings(proxy.queue_url(queues.url), proxy.url, ingest_linger_ms=0)
        async with running(settings) as service, loopback_client(service.port) as client:
            sentry_now = str(int(time.time() - 600))
            headers = {**sentry_headers(SENTRY_BODY), "Sentry-Hook-Timestamp": sentry_now}
            response = await client.post("/v1/alerts/sentry", content=SENTRY_BODY, headers=headers)
            assert response.status_code == 202, response.text
            # A capture sent again with a time as far off SQS's clock is still refused.
            stale = str(int(time.time() - 600 - 3600))
            headers = {**sentry_headers(SENTRY_BODY), "Sentry-Hook-Timestamp": stale}
            response = await client.post("/v1/alerts/sentry", content=SENTRY_BODY, headers=headers)
            assert response.status_code == 401
    assert queues.depth() == 1
    # Its `received_at` is SQS's time, which the daemon believes (not 10 minutes ahead of it).
    [message] = queues.client().receive_message(QueueUrl=queues.url, MessageAttributeNames=["All"])[
        "Messages"
    ]
    stamp = message["MessageAttributes"][RECEIVED_AT_ATTRIBUTE]["StringValue"]
    assert abs(datetime.fromisoformat(stamp).timestamp() - (time.time() - 600)) < 10
