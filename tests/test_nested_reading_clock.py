"""A body read inside another body's reading (a Lambda on-failure record's event on an
EventBridge bus) lets the outer reading see its use of the clock: the record, whose alert is
dated by its message's queueing, is not remembered with its first sending's time (found by
helper 571)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

import triage.normalize as normalize
from triage.normalize import common, recognise_body

FIRST = datetime(2026, 12, 7, 8, 0, 0, 123_000, tzinfo=UTC)
LATER = FIRST + timedelta(days=400, seconds=7)


@pytest.fixture(autouse=True)
def nothing_remembered() -> None:
    normalize._remembered.clear()


def _record_on_a_bus() -> str:
    event = {"title": "Disk full on db-1", "status": "firing", "dedup_key": "disk-db-1"}
    record = {
        "version": "1.0",
        "timestamp": "2026-11-23T10:00:15.568Z",
        "requestContext": {
            "requestId": "e4b46cbf-b738-4f5a-8880-a18cdf61200e",
            "functionArn": "arn:aws:lambda:us-east-2:123456789012:function:f:$LATEST",
            "condition": "RetriesExhausted",
            "approximateInvokeCount": 3,
        },
        "requestPayload": event,
        "responseContext": {"statusCode": 200, "functionError": "Unhandled"},
        "responsePayload": {"errorMessage": "boom", "errorType": "Error"},
    }
    return json.dumps(
        {
            "version": "0",
            "id": "e-1",
            "detail-type": "Lambda Function Invocation Result - Failure",
            "source": "lambda",
            "account": "123456789012",
            "time": "2026-11-23T10:00:15Z",
            "region": "us-east-2",
            "resources": [],
            "detail": record,
        }
    )


def _read_at(body: str, queued: datetime) -> list[datetime]:
    with common.queued_at(queued):
        return [alert.occurred_at for alert in recognise_body(body).normalized.alerts]


def test_an_alert_read_inside_another_body_is_dated_by_each_sending() -> None:
    """Each sending of a Lambda failure record holding a generic alert that states no time is
    dated by its own queue time, not the first sending's kept by the body memo."""
    body = _record_on_a_bus()
    assert _read_at(body, FIRST) == [FIRST]
    assert _read_at(body, LATER) == [LATER]
