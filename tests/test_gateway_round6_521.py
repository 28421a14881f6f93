"""Round 6 of the gateway and the operators' API against attackers (task 521), each over a real
connection to the real server on 127.0.0.1: the 10,000-alert bound of one request holds for
alerts the daemon reads out of an envelope (an SNS notification's `Message`, JSON encoded
twice, a Lambda event's records), not only for a group or array sent bare, and for alerts
under a name of their own (PagerDuty's `messages`) or spread over a batch; and a multipart
closing boundary with text after it on its line is refused, not read as the end of the form
(which dropped the fields after it unsaid)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from structlog.testing import capture_logs

from daemon_harness import Queues
from ingest_harness import TOKENS, loopback_client
from test_ingest_hostile import received
from triage.ingest import IngestService

AM_BEARER = {"Authorization": f"Bearer {TOKENS['alertmanager']}"}

# --- The alert bound through an envelope ------------------------------------------------------


def _group(alerts: int) -> str:
    """An Alertmanager webhook group of `alerts` alerts, each about as small as the daemon reads
    (one label): 10,001 of them fit the 1 MiB limit even escaped in a string."""
    group = {
        "version": "4",
        "groupKey": "{}:{}",
        "status": "firing",
        "receiver": "triage",
        "groupLabels": {},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://am",
        "alerts": [{"labels": {"a": "x"}}] * alerts,
    }
    return json.dumps(group, separators=(",", ":"))


def _sns(message: str) -> str:
    return json.dumps(
        {
            "Type": "Notification",
            "MessageId": "0b5e1f2c-0000-4000-8000-000000000001",
            "TopicArn": "arn:aws:sns:eu-west-1:123456789012:alerts",
            "Message": message,
            "Timestamp": "2026-12-07T07:00:00.000Z",
        },
        separators=(",", ":"),
    )


def _lambda_sqs(*bodies: str) -> str:
    records = [
        {"eventSource": "aws:sqs", "messageId": str(i), "body": b} for i, b in enumerate(bodies)
    ]
    return json.dumps({"Records": records}, separators=(",", ":"))


#: Bodies the daemon reads as more than 10,000 alerts, none of them a bare group or array.
WRAPPED: dict[str, str] = {
    "sns-message": _sns(_group(10_001)),
    "encoded-twice": json.dumps(_group(10_001)),
    "lambda-records": _lambda_sqs(_group(5_001), _group(5_000)),
    "sns-braces-escaped": _sns(_group(10_001)).replace("{", "\\u007b").replace("\\u007b", "{", 1),
}


@pytest.mark.parametrize("name", list(WRAPPED))
async def test_more_than_10000_alerts_in_an_envelope_are_413_before_they_are_read(
    gateway: IngestService, queues: Queues, name: str
) -> None:
    """A group of 10,001 alerts inside an SNS Message, encoded twice, or split over a Lambda
    event's records (the daemon reads each) is 413 too_many_alerts, one line, nothing queued."""
    body = WRAPPED[name].encode()
    with capture_logs() as logs:
        async with loopback_client(gateway.port) as client:
            answer = await client.post(
                "/v1/alerts/alertmanager",
                content=body,
                headers={**AM_BEARER, "Content-Type": "application/json"},
            )
    assert answer.status_code == 413, answer.text
    assert "too_many_alerts" in answer.json()["error"]
    refused: list[dict[str, Any]] = [e for e in logs if e["event"] == "ingest.refused"]
    assert len(refused) == 1 and refused[0]["status"] == 413
    assert received(queues) == []


async def test_10000_alerts_in_an_envelope_are_still_taken(
    gateway: IngestService, queues: Queues
) -> None:
    """The bound is the same as a bare group's: 10,000 alerts in an SNS Message are queued."""
    async with loopback_client(gateway.port) as client:
        answer = await client.post(
            "/v1/alerts/alertmanager",
            content=_sns(_group(10_000)).encode(),
            headers={**AM_BEARER, "Content-Type": "application/json"},
        )
    assert answer.status_code == 202, answer.text
    assert answer.json()["alerts"] == 10_000


# --- A multipart closing boundary with more on its line ---------------------------------------

GENERIC_BEARER = {"Authorization": f"Bearer {TOKENS['generic']}"}
#: A form whose first value holds a line that begins like its closing boundary: a sender that
#: let the boundary into a value. Read as closing, the `dedup_key` after it would be lost unsaid.
CLOSE_IN_A_VALUE = (
    b"--XyZ\r\n"
    b'Content-Disposition: form-data; name="title"\r\n\r\n'
    b"disk full\r\n--XyZ-- on db-1\r\n"
    b"--XyZ\r\n"
    b'Content-Disposition: form-data; name="dedup_key"\r\n\r\n'
    b"db-1-disk\r\n"
    b"--XyZ--\r\n"
)


async def test_a_closing_boundary_with_text_after_it_is_400_not_fields_dropped(
    gateway: IngestService, queues: Queues
) -> None:
    """`--B-- more text` is no closing delimiter (RFC 2046 allows only whitespace after one):
    400 malformed naming it, one line, nothing queued, rather than the fields after it dropped."""
    with capture_logs() as logs:
        async with loopback_client(gateway.port) as client:
            answer = await client.post(
                "/v1/alerts/generic",
                content=CLOSE_IN_A_VALUE,
                headers={**GENERIC_BEARER, "Content-Type": "multipart/form-data; boundary=XyZ"},
            )
    assert answer.status_code == 400, answer.text
    assert "closing boundary" in answer.json()["error"]
    assert len([e for e in logs if e["event"] == "ingest.refused"]) == 1
    assert received(queues) == []


async def test_a_closing_boundary_with_padding_then_an_epilogue_is_read(
    gateway: IngestService, queues: Queues
) -> None:
    """Whitespace after the closing delimiter, then an epilogue, is as RFC 2046 has it: read."""
    body = (
        b'--XyZ\r\nContent-Disposition: form-data; name="title"\r\n\r\ndisk full\r\n'
        b"--XyZ-- \t\r\nan epilogue --XyZ--"
    )
    async with loopback_client(gateway.port) as client:
        answer = await client.post(
            "/v1/alerts/generic",
            content=body,
            headers={**GENERIC_BEARER, "Content-Type": "multipart/form-data; boundary=XyZ"},
        )
    assert answer.status_code == 202, answer.text
    assert [json.loads(m["Body"]) for m in received(queues)] == [{"title": "disk full"}]


# --- The alert bound for alerts under another name --------------------------------------------


def _pagerduty(messages: int) -> str:
    """A PagerDuty v2 webhook of `messages` incident events (each one alert), the smallest the
    daemon reads: a format whose alerts are under `messages`, not `alerts`."""
    message = {"event": "incident.trigger", "incident": {"id": "PABC123"}}
    return json.dumps({"messages": [message] * messages}, separators=(",", ":"))


#: Bodies on the generic path the daemon reads as more than 10,000 alerts, none under `alerts`.
UNDER_OTHER_NAMES: dict[str, str] = {
    "pagerduty-messages": _pagerduty(10_001),
    "a-batch-of-two-webhooks": _pagerduty(5_001) + "\n" + _pagerduty(5_000) + "\n",
}


@pytest.mark.parametrize("name", list(UNDER_OTHER_NAMES))
async def test_more_than_10000_alerts_under_another_name_are_413(
    gateway: IngestService, queues: Queues, name: str
) -> None:
    """A webhook whose alerts are under a name of its own (PagerDuty's `messages`), alone or
    in a batch whose webhooks together hold more, is 413 too_many_alerts, nothing queued."""
    with capture_logs() as logs:
        async with loopback_client(gateway.port) as client:
            answer = await client.post(
                "/v1/alerts/generic",
                content=UNDER_OTHER_NAMES[name].encode(),
                headers={**GENERIC_BEARER, "Content-Type": "application/json"},
            )
    assert answer.status_code == 413, answer.text[:300]
    assert "too_many_alerts" in answer.json()["error"]
    assert len([e for e in logs if e["event"] == "ingest.refused"]) == 1
    assert received(queues) == []
