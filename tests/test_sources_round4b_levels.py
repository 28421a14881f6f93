"""Round 4b's levels and batches: every rank a tool names is read (Zabbix's Warning as a
priority, Graylog's event priorities 0 to 4 as a severity), and a Lambda batch's readable
records become alerts beside an unreadable one, which is left out with a note."""

from __future__ import annotations

import json
from typing import Any

import pytest

from source_samples import Samples, one
from triage.errors import InvalidAlertError
from triage.models import Priority
from triage.normalize import common, normalize_body

GRAYLOG = Samples("graylog")


@pytest.mark.parametrize(
    ("word", "expected"),
    [("Information", Priority.LOW), ("Warning", Priority.MEDIUM), ("WARN", Priority.MEDIUM),
     ("warning - disk filling", Priority.MEDIUM), ("Average", Priority.MEDIUM)],
)  # fmt: skip
def test_a_warning_is_read_as_a_medium_priority(word: str, expected: Priority) -> None:
    """Zabbix's Warning (between Information and Average) and Checkmk's WARN read as medium,
    as the summariser reads a warning severity, alone or leading a remark."""
    assert common.priority(word) is expected
    alert = one({"title": "Free disk space is low", "dedup_key": "z-1", "priority": word})
    assert alert.priority is expected


def _graylog(priority: Any) -> dict[str, Any]:
    body = GRAYLOG.body("event.json")
    if priority is None:
        del body["event"]["priority"]
    else:
        body["event"]["priority"] = priority
    return body


@pytest.mark.parametrize(
    ("priority", "severity"),
    [(0, "info"), (1, "low"), (2, "normal"), (3, "high"), (4, "critical"), ("4", "critical"),
     (5, None), (-1, None), (None, None), (True, None)],
)  # fmt: skip
def test_every_graylog_event_priority_is_a_severity(priority: Any, severity: str | None) -> None:
    """Graylog's priorities Info (0) to Critical (4) are each a severity; a number it does
    not define, or none sent, is no severity (never Info)."""
    assert one(_graylog(priority)).severity == severity


# --- a Lambda batch ------------------------------------------------------------------------------


def _record(body: Any, n: int) -> dict[str, Any]:
    """An SQS record of a function's batch."""
    return {
        "messageId": f"m-{n}", "receiptHandle": f"r-{n}", "body": json.dumps(body),
        "attributes": {"ApproximateReceiveCount": "1"}, "messageAttributes": {},
        "md5OfBody": "x", "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:alerts", "awsRegion": "eu-west-1",
    }  # fmt: skip


def _batch(*bodies: Any) -> str:
    return json.dumps({"Records": [_record(body, n) for n, body in enumerate(bodies)]})


GOOD = {"title": "Disk full on db-1", "dedup_key": "disk-db-1"}
BAD_STATUS = {"title": "Disk full on db-2", "status": "weird-state"}
NO_FORMAT = {"hello": "world"}


def test_a_batchs_readable_records_are_read_beside_unreadable_ones() -> None:
    """A batch of a readable alert and two unreadable records gives the readable alert and
    one note naming each record left out and why."""
    result = normalize_body(_batch(BAD_STATUS, GOOD, NO_FORMAT))
    assert [alert.title for alert in result.alerts] == [GOOD["title"]]
    [note] = result.notes
    assert "record [0] of 3" in note and "weird-state" in note
    assert "record [2] of 3" in note and "no known alert format" in note


def test_a_batch_of_only_unreadable_records_fails_with_the_first_ones_error() -> None:
    """When no record can be read the message fails, with the first record's error and kind,
    naming the record."""
    with pytest.raises(InvalidAlertError, match=r"record \[0\] of 2: .*weird-state"):
        normalize_body(_batch(BAD_STATUS, NO_FORMAT))


def test_a_batch_of_a_skipped_record_and_an_unreadable_one_does_not_fail() -> None:
    """A record understood to change no ticket (a test notification) is read: the batch
    beside it is not failed, and the unreadable record is noted."""
    test = GRAYLOG.body("test-notification.json")
    result = normalize_body(_batch(test, BAD_STATUS))
    assert (result.alerts, [s.reason for s in result.skipped]) == ((), ["test_notification"])
    assert any("record [1] of 2" in note for note in result.notes)
