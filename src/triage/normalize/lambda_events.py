"""A Lambda event of several records, queued whole (`triage.decode.EventRecords`): an SQS
batch that a function (or its dead-letter queue) passed on. Each record's notification is read
as if it came alone, with the fingerprint it has then; together they are one message's alerts,
as a Grafana group's are. A record that cannot be read is left out, with one note for the
message naming each such record and why, as an Alertmanager group's unreadable alert is: its
readable records still become tickets. A record whose notification the decoder could not read
(no body, a body that is not JSON) arrives as that DecodeError, and is left out the same way.
Only when no record can be read (none gives an alert or a skip) does the message fail, with the
first record's error, of its kind, naming the record.

An event of one record never comes here: `triage.decode` reads it as its notification.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from triage.decode import EventRecords
from triage.errors import DecodeError, PermanentError
from triage.normalize.common import Normalized

FORMAT = "lambda-records"
#: Reasons one note quotes for the records left out; the rest are counted.
_LEFT_OUT_QUOTED = 3


def matches(payload: dict[str, Any]) -> bool:
    """Only `triage.decode` makes an `EventRecords`: no sender's object passes for one."""
    return isinstance(payload, EventRecords)


def normalize(payload: dict[str, Any]) -> Normalized:
    """Every readable record's alerts, skips and notes, in the records' order, and a note for
    the records left out."""
    # Imported here: this module is one of the formats `normalize_body` reads.
    from triage.normalize import normalize_body

    texts: list[str | DecodeError] = payload["records"]
    read: list[Normalized] = []
    left_out: list[PermanentError] = []
    for index, text in enumerate(texts):
        outcome = _record(normalize_body, text, index, len(texts))
        if isinstance(outcome, PermanentError):
            left_out.append(outcome)
        else:
            read.append(outcome)
    alerts = tuple(alert for one in read for alert in one.alerts)
    skipped = tuple(skip for one in read for skip in one.skipped)
    if left_out and not alerts and not skipped:
        raise left_out[0]
    notes = tuple(note for one in read for note in one.notes)
    return Normalized(alerts, skipped, notes + _left_out_note(left_out))


def _record(
    read: Callable[[str], Normalized], text: str | DecodeError, index: int, count: int
) -> Normalized | PermanentError:
    """Record `index`'s alerts, or why it cannot be read (the decoder's error for a record
    whose notification it could not read, else the reader's): that error, of the same kind,
    prefixed with the record. A transient error is raised: the message is tried again."""
    try:
        if isinstance(text, DecodeError):
            raise text
        return read(text)
    except PermanentError as exc:
        return type(exc)(f"record [{index}] of {count}: {exc}", reason=exc.reason)


def _left_out_note(left_out: list[PermanentError]) -> tuple[str, ...]:
    """One note for every record left out (a batch of a thousand bad records is one log
    line), quoting the first few reasons."""
    if not left_out:
        return ()
    quoted = "; ".join(str(error) for error in left_out[:_LEFT_OUT_QUOTED])
    more = len(left_out) - _LEFT_OUT_QUOTED
    rest = f"; and {more} more" if more > 0 else ""
    return (f"{FORMAT}: {len(left_out)} record(s) left out of the batch: {quoted}{rest}",)
