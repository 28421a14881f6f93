"""decode_body: size, JSON, nesting and encoding limits, and the SNS envelope."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scaling import assert_linear
from triage.decode import MAX_BODY_BYTES, MAX_DEPTH, decode_body, nesting_depth
from triage.errors import DecodeError

PAYLOADS = Path(__file__).parent / "payloads"


def read(name: str) -> str:
    return (PAYLOADS / name).read_text(encoding="utf-8")


def sns(message: str, kind: str = "Notification") -> str:
    return json.dumps(
        {
            "Type": kind,
            "MessageId": "m-1",
            "TopicArn": "arn:aws:sns:us-east-1:123456789012:t",
            "Message": message,
        }
    )


def test_sns_notification_is_unwrapped() -> None:
    """An SNS envelope yields the JSON object inside its Message string."""
    inner = decode_body(read("cloudwatch/sns-alarm.json"))
    assert inner["AlarmName"] == "orders-api-p99-latency"
    assert "TopicArn" not in inner


def test_raw_delivery_is_the_object_itself() -> None:
    """Raw delivery (no envelope) returns the body's own object unchanged."""
    assert decode_body(read("cloudwatch/raw-alarm.json")) == json.loads(
        read("cloudwatch/raw-alarm.json")
    )


def test_bytes_and_str_decode_alike() -> None:
    """A body given as UTF-8 bytes decodes exactly like the same body as text."""
    body = read("grafana/group-firing.json")
    assert decode_body(body.encode("utf-8")) == decode_body(body)


@pytest.mark.parametrize(
    "name", ["sns/subscription-confirmation.json", "sns/unsubscribe-confirmation.json"]
)
def test_confirmations_are_returned_as_the_envelope(name: str) -> None:
    """SNS confirmations are not unwrapped (their Message is prose), so normalise can skip them."""
    assert decode_body(read(name))["Type"] in (
        "SubscriptionConfirmation",
        "UnsubscribeConfirmation",
    )


def test_body_over_one_mib_is_rejected() -> None:
    """A body one byte over 1 MiB is refused before parsing, as text or as bytes."""
    body = '{"title": "' + "a" * (MAX_BODY_BYTES - 12) + '"}'
    assert len(body.encode()) == MAX_BODY_BYTES + 1
    with pytest.raises(DecodeError, match="limit"):
        decode_body(body)
    with pytest.raises(DecodeError, match="limit"):
        decode_body(body.encode())


def test_body_of_exactly_one_mib_is_accepted() -> None:
    """The limit is inclusive: exactly 1 MiB still decodes."""
    body = '{"title": "' + "a" * (MAX_BODY_BYTES - 13) + '"}'
    assert len(body.encode()) == MAX_BODY_BYTES
    assert decode_body(body)["title"].startswith("aaa")


def test_size_counts_utf8_bytes_not_characters() -> None:
    """400,000 euro signs are under 1 Mi characters but 1.2 MB of UTF-8, so they are refused."""
    with pytest.raises(DecodeError, match="limit"):
        decode_body('{"title": "' + "€" * 400_000 + '"}')


@pytest.mark.parametrize(
    "body",
    ["[" * 100_000, '{"a":' * 100_000, "[" * 100_000 + "]" * 100_000, '{"a": ' + "[" * 5000],
)
def test_deep_nesting_is_a_decode_error_not_a_recursion_error(body: str) -> None:
    """Pathologically nested JSON is refused by the pre-parse scan, never by a RecursionError."""
    with pytest.raises(DecodeError, match="nested"):
        decode_body(body)


def test_nesting_limit_is_exact() -> None:
    """64 levels decode; 65 are refused."""
    ok = "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1)
    assert decode_body('{"a": ' + ok + "}")["a"] is not None
    too_deep = "[" * MAX_DEPTH + "]" * MAX_DEPTH
    with pytest.raises(DecodeError, match="65 levels"):
        decode_body('{"a": ' + too_deep + "}")


def test_deep_nesting_inside_sns_message_is_refused() -> None:
    """The SNS Message string is scanned too: depth hidden in an escaped string is still caught."""
    with pytest.raises(DecodeError, match="SNS Message is nested"):
        decode_body(sns('{"a": ' + "[" * 10_000 + "]" * 10_000 + "}"))


def test_brackets_inside_strings_do_not_count() -> None:
    """Brackets and escaped quotes inside string literals are text, not nesting."""
    title = '\\"[[[[' + "[{" * 5000 + "\\\\"  # ends in an escaped backslash
    payload = decode_body('{"title": "' + title + '"}')
    assert payload["title"].startswith('"[[[[')
    assert payload["title"].endswith("\\")
    assert nesting_depth('{"a": "]]]]\\"[[[[", "b": [[1]]}') == 3


def test_depth_scan_is_linear_on_hostile_quotes() -> None:
    """Escaped quotes among brackets (worst case for a naive string regex) cost time in
    proportion to their length, up to a 1 MiB body."""

    def decode(n: int) -> None:
        with pytest.raises(DecodeError):
            decode_body('{"a": "' + '\\"[' * n)

    assert_linear(decode, 43_000)


def test_a_shallow_body_with_many_brackets_is_scanned_and_decoded() -> None:
    """More than 64 brackets side by side (not nested) pass the depth check."""
    body = json.dumps({"a": [[1]] * 100, "b": [{"c": 1}] * 100})
    assert len(decode_body(body)["a"]) == 100


@pytest.mark.parametrize(
    ("body", "match"),
    [
        ("", "body is empty"),
        ("not json at all", "not valid JSON"),
        ('{"AlarmName": "orders-queue-depth", "NewStateValue": "ALA', "not valid JSON"),
        ("[1, 2, 3]", "array"),
        ('"just a string"', "JSON a string, not an object"),
        ("42", "JSON a number"),
        ("null", "JSON null"),
        ('{"value": NaN}', "NaN"),
        ('{"value": -Infinity}', "Infinity"),
        ('{"value": 1e999}', "too large a number"),  # would be parsed as infinity
        ('{"nested": {"v": [-2.5E+400]}}', "too large a number"),
        ('{"big": ' + "9" * 5000 + "}", "not valid JSON: a number over 4,300 digits$"),
    ],
)
def test_malformed_bodies_are_decode_errors(body: str, match: str) -> None:
    """Non-JSON, truncated JSON, non-object tops, NaN/Infinity (also as an overflowing number
    such as 1e999) and 5,000-digit ints are refused."""
    with pytest.raises(DecodeError, match=match):
        decode_body(body)


def test_invalid_utf8_bytes_are_refused() -> None:
    """Bytes that are not UTF-8 (here an encoded lone surrogate) are a DecodeError."""
    with pytest.raises(DecodeError, match="UTF-8"):
        decode_body(b'{"title": "\xed\xa0\x80"}')


def test_byte_order_mark_is_tolerated() -> None:
    """A leading UTF-8 byte-order mark, as some editors write, does not make a body invalid."""
    assert decode_body('\ufeff{"title": "x"}') == {"title": "x"}


def test_lone_surrogates_become_replacement_characters() -> None:
    """A lone \\ud800 escape becomes U+FFFD (storable as UTF-8); a valid pair stays an emoji."""
    payload = decode_body('{"t\\udc00": "a\\ud800b", "e": "\\ud83d\\udd25", "n": ["\\udfff"]}')
    assert payload == {"t\ufffd": "a\ufffdb", "e": "🔥", "n": ["\ufffd"]}
    json.dumps(payload, ensure_ascii=False).encode("utf-8")


def test_sns_notification_without_message_string_is_refused() -> None:
    """An SNS Notification whose Message is not a string cannot hold an alert."""
    body = json.dumps({"Type": "Notification", "TopicArn": "arn:aws:sns:x", "Message": {"a": 1}})
    with pytest.raises(DecodeError, match="Message string"):
        decode_body(body)


def test_sns_message_that_is_text_is_left_in_its_envelope() -> None:
    """Plain text published to the topic comes back as the envelope, for the SNS text format."""
    body = sns("disk full on db-7")
    assert decode_body(body) == json.loads(body)


@pytest.mark.parametrize("message", ['{"AlarmName": "db-7", ', "  [1, 2", "\ufeff{broken"])
def test_sns_message_that_starts_like_json_is_read_as_json(message: str) -> None:
    """A Message starting with { or [ is JSON or nothing: a broken one is a DecodeError, never
    taken for prose."""
    with pytest.raises(DecodeError, match="SNS Message is not valid JSON"):
        decode_body(sns(message))


def test_a_body_of_the_wrong_type_is_refused() -> None:
    """Anything but str or bytes is refused with a DecodeError, not a TypeError."""
    with pytest.raises(DecodeError, match="not text"):
        decode_body(123)  # type: ignore[arg-type]
