"""`named_value_secret` remembers its answer for a short name and string value, and the
remembered answer is always the one judging the pair afresh gives: per name and per value (a
value secret under one name is none under another), never for a number or boolean (`True ==
1`), and over every (name, value) pair of every sample payload, asked in either order."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from triage.redact import named_values
from triage.redact.named_values import _named_value_secret, named_value_secret

PAYLOADS = Path(__file__).parent / "payloads"
SAMPLES = sorted(str(path.relative_to(PAYLOADS)) for path in PAYLOADS.rglob("*.json"))


def _pairs(value: object) -> Iterator[tuple[str, object]]:
    """Every (key, value) pair of a JSON value, at any depth, with each item of a list value."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield str(key), item
            if isinstance(item, list):
                yield from ((str(key), i) for i in item if not isinstance(i, list | dict))
            yield from _pairs(item)
    elif isinstance(value, list):
        for item in value:
            yield from _pairs(item)


@pytest.fixture(autouse=True)
def _forgotten() -> Iterator[None]:
    named_values._remembered_named_value_secret.cache_clear()
    yield
    named_values._remembered_named_value_secret.cache_clear()


def test_a_value_is_judged_under_each_name_it_stands_under() -> None:
    """The same value is a secret under a secret's name and none under another, whichever
    was asked first, and a name judges each of its values by its own shape."""
    value = "Xk9vQ2mLp7Rt"
    assert named_value_secret("host", value) is False
    assert named_value_secret("password", value) is True
    assert named_value_secret("host", value) is False
    assert named_value_secret("session", value) == _named_value_secret("session", value)
    assert named_value_secret("pass", "142") is False
    assert named_value_secret("pass", value) is True
    assert named_value_secret("pass", "142") is False


def test_numbers_and_booleans_are_not_taken_for_each_other_or_for_strings() -> None:
    """A boolean, a number and the string of it under one name each get their own answer
    (`True == 1` and `hash(True) == hash(1)`: none of them is remembered by value)."""
    for name in ("password", "pin", "tokens", "secret_count", "community"):
        for value in (True, 1, "1", 1.0, 0, False, "true", 123456, "123456"):
            assert named_value_secret(name, value) == _named_value_secret(name, value), (
                name,
                value,
            )


def test_a_long_value_is_judged_as_a_short_one_is() -> None:
    """A pair past the remembered length is judged afresh, with the same answer."""
    long_value = "Xk9vQ2mLp7Rt" * 40
    for name in ("password", "host", "api_key", "x" * 300 + "_token"):
        assert named_value_secret(name, long_value) == _named_value_secret(name, long_value)


@pytest.mark.parametrize("name", SAMPLES)
def test_a_samples_pairs_are_remembered_as_judged(name: str) -> None:
    """Every (key, value) pair of a sample payload gets the answer judging it afresh gives,
    asked first and asked again (remembered), and in reverse order after the memo is cleared."""
    try:
        payload = json.loads((PAYLOADS / name).read_text(encoding="utf-8"))
    except ValueError:
        pytest.skip("not JSON")
    pairs = list(_pairs(payload))
    expected = [_named_value_secret(k, v) for k, v in pairs]
    assert [named_value_secret(k, v) for k, v in pairs] == expected
    assert [named_value_secret(k, v) for k, v in pairs] == expected
    named_values._remembered_named_value_secret.cache_clear()
    assert [named_value_secret(k, v) for k, v in reversed(pairs)] == expected[::-1]
