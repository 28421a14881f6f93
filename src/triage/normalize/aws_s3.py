"""S3 event notifications that reach triage's queue: a bucket's event notification pointed at
the queue (or at a topic the queue subscribes to), by mistake, since S3 events are no alerts.

S3 sends an `s3:TestEvent` when such a notification is set up (`Service: Amazon S3`): it is
the set-up step, as an SNS subscription confirmation is, so it is Skipped (`s3_test_event`),
its log line naming the bucket, rather than refused into the DLQ. An object's notification
(`Records` of `eventSource: aws:s3`) is refused, as every unknown body is, but with an error
that says what it is (S3, its event, its bucket) and how to stop it, so nothing is lost and the
DLQ's reader knows where to look.

Both are tried only once no alert format read the body: an alert that mentions S3 stays the
alert it is. S3's events through an EventBridge rule are a rule someone wrote on purpose, and
are read as any other EventBridge event (`eventbridge`).
"""

from __future__ import annotations

from typing import Any

from triage.normalize import common
from triage.normalize.common import Normalized, Skipped

SOURCE = "s3"
_TEST_EVENT = "s3:TestEvent"
#: How many of an event's records the refusal names: enough to find the bucket.
_NAMED_RECORDS = 3


def is_test_event(payload: dict[str, Any]) -> bool:
    """S3's `s3:TestEvent`, sent when a bucket's event notification to the queue is set up."""
    return payload.get("Service") == "Amazon S3" and payload.get("Event") == _TEST_EVENT


def skip_test_event(payload: dict[str, Any]) -> Normalized:
    """The test event as a Skipped naming the bucket, so its owner can be found."""
    detail = (
        f"S3 test event from bucket {common.short(payload.get('Bucket'))}: the bucket's event "
        "notification sends to this queue; S3 events are no alerts"
    )
    return Normalized((), (Skipped(SOURCE, "s3_test_event", detail),))


def notification_records(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """The records of an S3 event notification (every record `eventSource: aws:s3`), else
    none."""
    records = payload.get("Records")
    if not isinstance(records, list) or not records:
        return []
    if not all(isinstance(r, dict) and r.get("eventSource") == "aws:s3" for r in records):
        return []
    return records


def refusal(records: list[dict[str, Any]]) -> str:
    """Why the S3 event notification is refused: what it is, whose bucket, and what to do."""
    named = "; ".join(_record_summary(record) for record in records[:_NAMED_RECORDS])
    more = len(records) - _NAMED_RECORDS
    rest = f" and {more} more" if more > 0 else ""
    return (
        f"an S3 event notification ({named}{rest}), not an alert: the bucket's event "
        "notification sends to this queue; remove it (S3 console: the bucket's Properties, "
        "Event notifications) or point it elsewhere"
    )


def _record_summary(record: dict[str, Any]) -> str:
    """One record as "ObjectCreated:Put on bucket 'orders-uploads'"."""
    bucket = common.obj_or_empty(common.obj_or_empty(record.get("s3")).get("bucket"))
    return f"{common.short(record.get('eventName'))} on bucket {common.short(bucket.get('name'))}"
