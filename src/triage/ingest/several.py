"""A webhook body that is several alerts at once, as log shippers' HTTP outputs batch events:
NDJSON (Vector's `newline_delimited` framing, Fluent Bit's `json_lines`), JSON objects one after
another on their own lines, or a JSON array of alert objects (Vector's default `json`, Logstash's
`json_batch`). The daemon reads one alert object per message (an array only as Prometheus'
alerts), so the gateway queues each alert as its own message; `alert_texts` finds them.

The gateway asks only of a body the normaliser could not read whole, so a body it reads whole
is never read as a batch. A body is a batch only when it is unmistakably one: its second value starts on
a new line, or it is an array of objects none of which has a `labels` object (Prometheus'
alerts, read as one batch). Each alert's text is the slice of the body it was sent as, never
JSON written again; finding them is the JSON scanner's pass over the body, and one more over an
array's items.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

#: Alerts one request may carry: a shipper's batch size is set in events (Vector's
#: `batch.max_events`), and each alert is one message, sent in turn.
MAX_ALERTS = 100

_DECODER = json.JSONDecoder()
#: JSON's whitespace, and what may lead a body (a UTF-8 byte-order mark, as some editors write).
_SPACE = re.compile(r"[ \t\r\n]*")
_LEADING = "\ufeff \t\r\n"


class BadBatch(Exception):
    """A body that is a batch with an alert that is no JSON object; the text says which."""


class TooManyAlerts(Exception):
    """A batch of more than `MAX_ALERTS` alerts."""


@dataclass(frozen=True, slots=True)
class _Value:
    """A JSON value found in the body: where its text starts and ends, and what it parses to."""

    start: int
    end: int
    value: object


def alert_texts(text: str) -> list[str] | None:
    """Each alert's text when `text` is a batch of them (two or more NDJSON lines, or an
    array of objects without `labels`); None for any other body, which is read whole.
    BadBatch names the alert that is no JSON object, TooManyAlerts a batch over MAX_ALERTS."""
    start = len(text) - len(text.lstrip(_LEADING))
    if text.startswith("[", start):
        return _array_items(text, start)
    if text.startswith("{", start):
        return _lines(text, start)
    return None


def _lines(text: str, start: int) -> list[str] | None:
    """The objects of an NDJSON body (or objects one after another, each on a new line)."""
    first = _value_at(text, start)
    if first is None:
        return None
    after = _skip_space(text, first.end)
    if after == len(text) or "\n" not in text[first.end : after]:
        return None  # one value (the normaliser reads it, or says what follows it)
    found = [first]
    position = after
    while position < len(text):
        if len(found) == MAX_ALERTS:
            raise TooManyAlerts(f"more than {MAX_ALERTS} alerts in one request")
        value = _value_at(text, position)
        if value is None:
            raise BadBatch(f"alert {len(found) + 1} is not valid JSON")
        found.append(value)
        position = _skip_space(text, value.end)
        if position < len(text) and "\n" not in text[value.end : position]:
            raise BadBatch(f"alert {len(found) + 1} is not valid JSON: two on one line")
    return _objects(text, found)


def _array_items(text: str, start: int) -> list[str] | None:
    """The items of a JSON array of alert objects none of which has a `labels` object."""
    array = _value_at(text, start)
    if array is None or not isinstance(array.value, list) or not array.value:
        return None  # not an array, or an empty one: the normaliser says what it is
    items = array.value
    if not all(isinstance(item, dict) for item in items):
        return None
    if any(isinstance(item.get("labels"), dict) and "title" not in item for item in items):
        return None  # Prometheus' alerts, read as one batch (a script's alert has a title)
    if len(items) > MAX_ALERTS:
        raise TooManyAlerts(f"more than {MAX_ALERTS} alerts in one request")
    found: list[_Value] = []
    position = _skip_space(text, start + 1)
    for _ in items:
        value = _value_at(text, position)
        assert value is not None  # the array parsed whole
        found.append(value)
        position = _skip_space(text, _skip_space(text, value.end) + 1)  # past the comma
    return [text[v.start : v.end] for v in found]


def _objects(text: str, values: list[_Value]) -> list[str]:
    """The text of each value, each an alert object; BadBatch naming the first that is not."""
    for index, value in enumerate(values, 1):
        if not isinstance(value.value, dict):
            raise BadBatch(f"alert {index} is not a JSON object")
    return [text[v.start : v.end] for v in values]


def _value_at(text: str, position: int) -> _Value | None:
    """The JSON value starting at `position`, or None where none does (or it nests too deep,
    or holds a number Python will not read: the normaliser says so when it reads it)."""
    try:
        value, end = _DECODER.raw_decode(text, position)
    except (ValueError, RecursionError):
        return None
    return _Value(position, end, value)


def _skip_space(text: str, position: int) -> int:
    match = _SPACE.match(text, position)
    assert match is not None  # (`*` matches the empty string)
    return match.end()
