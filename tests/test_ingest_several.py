"""Which bodies are a batch of alerts (ingest/several.py), in-process: NDJSON and arrays of alert
objects give each alert's text exactly as sent; one value, a Prometheus batch, or anything
unclear is not a batch (None: read whole); a batch with a value that is no object, broken JSON,
or over MAX_ALERTS is refused naming which."""

from __future__ import annotations

import json

import pytest

from triage.ingest.several import MAX_ALERTS, BadBatch, TooManyAlerts, alert_texts

A = '{"title": "a", "n": 1.50}'
B = '{"title": "b", "nested": {"x": [1, 2]}}'


@pytest.mark.parametrize(
    ("text", "alerts"),
    [
        (f"{A}\n{B}\n", [A, B]),
        (f"\ufeff  {A}\r\n\r\n  {B}  \r\n", [A, B]),
        (f"{json.dumps(json.loads(A), indent=2)}\n{B}", [json.dumps(json.loads(A), indent=2), B]),
        (f"[{A},{B}]", [A, B]),
        (f"[\n  {A} ,\n  {B}\n]\n", [A, B]),
        (f"[{A}]", [A]),
    ],
    ids=["ndjson", "bom-crlf-blank-lines", "pretty-then-compact", "array", "array-pretty", "one"],
)
def test_a_batch_gives_each_alert_as_sent(text: str, alerts: list[str]) -> None:
    """Each alert is the body's own slice (its number written as sent, `1.50`), whatever the
    whitespace, a leading byte-order mark or blank lines around it."""
    assert alert_texts(text) == alerts


@pytest.mark.parametrize(
    "text",
    [
        A,
        f"  {A}\n\n",
        f"{A} {B}",  # two on one line: the normaliser's "Extra data" says what is wrong
        "[]",
        '[{"labels": {"alertname": "x"}}, {"title": "b"}]',  # Prometheus' alerts
        f"[{A}, 1]",
        "[1, 2]",
        '"text"',
        "plain text",
        "",
        "[" * 100_000,
    ],
)
def test_anything_else_is_read_whole(text: str) -> None:
    """One value, an empty or Prometheus or mixed array, text, or a nesting too deep for the
    scanner is no batch: the normaliser reads it whole and says what is wrong."""
    assert alert_texts(text) is None


@pytest.mark.parametrize(
    ("text", "says"),
    [
        (f"{A}\nnot json\n", "alert 2 is not valid JSON"),
        (f"{A}\n{B} {A}\n", "alert 3 is not valid JSON: two on one line"),
        (f"{A}\n[1]\n", "alert 2 is not a JSON object"),
        (f'{A}\n"text"\n', "alert 2 is not a JSON object"),
        (f"{A}\n{'[' * 100_000}\n", "alert 2 is not valid JSON"),
    ],
)
def test_a_batch_with_a_bad_value_is_refused_naming_it(text: str, says: str) -> None:
    """Once the second value starts on its own line it is a batch, and a value in it that is
    broken, shares a line, nests too deep or is not an object is BadBatch naming which."""
    with pytest.raises(BadBatch, match=says):
        alert_texts(text)


def test_a_batch_holds_at_most_max_alerts() -> None:
    """MAX_ALERTS alerts pass, as NDJSON or an array; one more is TooManyAlerts."""
    assert len(alert_texts(f"{A}\n" * MAX_ALERTS) or []) == MAX_ALERTS
    assert len(alert_texts("[" + ",".join([A] * MAX_ALERTS) + "]") or []) == MAX_ALERTS
    for text in (f"{A}\n" * (MAX_ALERTS + 1), "[" + ",".join([A] * (MAX_ALERTS + 1)) + "]"):
        with pytest.raises(TooManyAlerts, match=f"more than {MAX_ALERTS}"):
            alert_texts(text)
