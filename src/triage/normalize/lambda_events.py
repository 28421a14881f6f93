"""A Lambda event of several records, queued whole (`triage.decode.EventRecords`): an SQS
batch that a function (or its dead-letter queue) passed on. Each record's notification is read
as if it came alone, with the fingerprint it has then; together they are one message's alerts,
as a Grafana group's are. A record that cannot be read fails the message, with the error its
body has alone and the record's index.

An event of one record never comes here: `triage.decode` reads it as its notification.
"""

from __future__ import annotations

from typing import Any

from triage.decode import EventRecords
from triage.errors import TriageError
from triage.normalize.common import Normalized

FORMAT = "lambda-records"


def matches(payload: dict[str, Any]) -> bool:
    """Only `triage.decode` makes an `EventRecords`: no sender's object passes for one."""
    return isinstance(payload, EventRecords)


def normalize(payload: dict[str, Any]) -> Normalized:
    """Every record's alerts, skips and notes, in the records' order."""
    # Imported here: this module is one of the formats `normalize_body` reads.
    from triage.normalize import normalize_body

    texts: list[str] = payload["records"]
    read = [_record(normalize_body, text, i, len(texts)) for i, text in enumerate(texts)]
    return Normalized(
        tuple(alert for one in read for alert in one.alerts),
        tuple(skipped for one in read for skipped in one.skipped),
        tuple(note for one in read for note in one.notes),
    )


def _record(read: Any, text: str, index: int, count: int) -> Normalized:
    """Record `index`'s alerts; its error, of the same kind, prefixed with the record."""
    try:
        normalized: Normalized = read(text)
    except TriageError as exc:
        raise type(exc)(f"record [{index}] of {count}: {exc}", reason=exc.reason) from None
    return normalized
