"""Messages that carry several records or alerts (a Lambda event's SQS batch, a Pipe's batch of
SQS records, an SNS fan-out's records, alerts posted to Alertmanager's API): one that cannot be
read is left out with a short note naming it and why; the others are read. Only a batch of
which nothing can be read is refused, with an error saying so."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from triage.decode import EventRecords, decode_body
from triage.errors import DecodeError
from triage.models import Status
from triage.normalize import normalize_body

PAYLOADS = Path(__file__).parent / "payloads"
GENERIC = (PAYLOADS / "generic/firing.json").read_text()
SNS_ALARM = (PAYLOADS / "cloudwatch/sns-alarm.json").read_text()
SECRET = "ghp_0123456789abcdefghijklmnopqrstuvwxyzAB"


def _sqs_record(body: Any, index: int = 0) -> dict[str, Any]:
    """A message as Lambda's SQS event (or a Pipe's batch) carries it."""
    return {
        "messageId": f"059f36b4-87a3-44ab-83d2-66197583{index:04d}",
        "body": body,
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:alerts",
        "awsRegion": "us-east-1",
    }


def _sns_record(message: str) -> dict[str, Any]:
    """An SNS notification as Lambda's SNS event carries it."""
    envelope = json.loads(SNS_ALARM) | {"Message": message}
    return {"EventSource": "aws:sns", "EventVersion": "1.0", "Sns": envelope}


def _event(*records: dict[str, Any]) -> str:
    return json.dumps({"Records": list(records)})


def _read(body: str) -> list[tuple[str, Status]]:
    return [(alert.fingerprint, alert.status) for alert in normalize_body(body).alerts]


def _notes(body: str) -> list[str]:
    return list(normalize_body(body).notes)


#: Records whose notification cannot be read, each with what the note says about it.
_UNREADABLE = {
    "body not JSON": (_sqs_record(f"token={SECRET} disk full"), "body is not valid JSON"),
    "body not text": (_sqs_record(7), "has no body string"),
    "body too deep": (_sqs_record("[" * 70 + "]" * 70), "nested 70 levels deep"),
    "records inside": (_sqs_record(_event(_sqs_record(GENERIC))), "inside a Lambda event"),
    "body a number": (_sqs_record("12"), "is JSON a number"),
}


@pytest.mark.parametrize("name", sorted(_UNREADABLE))
def test_an_unreadable_record_of_an_sqs_batch_is_left_out_with_a_note(name: str) -> None:
    """An SQS batch with one record that cannot be read still gives the other records' alerts,
    and one note naming the record left out and why."""
    bad, says = _UNREADABLE[name]
    body = _event(_sqs_record(GENERIC), bad | {"messageId": "m-1"}, _sqs_record(SNS_ALARM, 2))
    assert _read(body) == _read(GENERIC) + _read(SNS_ALARM)
    [note] = [note for note in _notes(body) if "left out" in note]
    assert "record [1] of 3" in note
    assert says in note


def test_the_note_for_a_record_left_out_does_not_repeat_its_text() -> None:
    """The note says where the record broke, never what it holds (the sender's text may hold
    a secret), and stays short."""
    bad, _ = _UNREADABLE["body not JSON"]
    body = _event(_sqs_record(GENERIC), bad)
    [note] = _notes(body)
    assert SECRET not in note
    assert "disk full" not in note
    assert len(note) < 400


def test_a_pipes_batch_with_an_unreadable_record_reads_the_others() -> None:
    """An EventBridge Pipe's batch (a JSON array of SQS records) leaves out the record that
    cannot be read, as a Lambda event does."""
    body = json.dumps([_sqs_record("not json"), _sqs_record(GENERIC, 1)])
    assert _read(body) == _read(GENERIC)
    assert any("record [0] of 2" in note for note in _notes(body))


def test_an_sns_record_whose_message_is_broken_json_is_left_out() -> None:
    """A fan-out of SNS records where one notification's Message is broken JSON: the other
    notification is read, the broken one is noted."""
    alarm = json.loads(SNS_ALARM)
    body = _event(_sns_record('{"AlarmName": '), _sns_record(alarm["Message"]))
    assert _read(body) == _read(SNS_ALARM)
    assert any("record [0] of 2" in note and "not valid JSON" in note for note in _notes(body))


def test_the_readable_records_keep_their_own_indexes_in_the_batch() -> None:
    """Records left out keep the batch's numbering: the reader sees each record where it was,
    a left-out one as the reason it was left out."""
    decoded = decode_body(_event(_sqs_record("nope"), _sqs_record(GENERIC, 1)))
    assert isinstance(decoded, EventRecords)
    first, second = decoded["records"]
    assert isinstance(first, DecodeError)
    assert second == GENERIC


def test_a_batch_of_which_no_record_can_be_read_is_refused_saying_so() -> None:
    """When no record of a batch can be read the message is refused (to the DLQ) with an
    error that says none could be read and why the first could not."""
    body = _event(_sqs_record("nope"), _sqs_record(7, 1), _sqs_record("[", 2))
    with pytest.raises(DecodeError, match=r"none of its 3 records.*record \[0\].*not valid JSON"):
        normalize_body(body)


def test_mixed_record_sources_are_still_refused_whole() -> None:
    """Records of two sources are no event Lambda sends: the whole event is refused, as
    before (what the event is, not one record's body, is in question)."""
    body = _event(_sns_record("{}"), _sqs_record(GENERIC))
    with pytest.raises(DecodeError, match="one Lambda event holds records of one source"):
        decode_body(body)


def _posted(*items: Any) -> str:
    """Alerts as posted to Alertmanager's API: a top-level JSON array."""
    return json.dumps(list(items))


_POSTED = {"labels": {"alertname": "DiskFull", "instance": "db-1"}, "annotations": {}}


@pytest.mark.parametrize("item", [7, "text", None, ["a"], True])
def test_a_posted_batch_with_an_item_that_is_no_object_reads_the_others(item: Any) -> None:
    """Alerts posted to Alertmanager's API with one item that is no object: the alert objects
    are read, the other item is left out with a note naming it, as an item without labels is."""
    body = _posted(_POSTED, item)
    assert [alert.title for alert in normalize_body(body).alerts] == ["DiskFull"]
    assert any("alerts[1]" in note and "left out" in note for note in _notes(body))


@pytest.mark.parametrize(
    ("items", "says"),
    [
        ((1, {"no": "labels"}), r"item \[0\] is a number"),
        (({"no": "labels"}, "x"), r"item \[1\] is a string"),
        (({"no": "labels"},), "none with a labels object"),
    ],
)
def test_a_posted_batch_of_no_alert_object_is_still_refused(items: Any, says: str) -> None:
    """An array holding no object with labels is no batch of alerts: refused, naming the
    first item that is no object, if any."""
    with pytest.raises(DecodeError, match=says):
        normalize_body(_posted(*items))
