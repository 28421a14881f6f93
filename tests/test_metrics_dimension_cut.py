"""A CloudWatch dimension value cut at its 250 characters is cut between whole escapes."""

from __future__ import annotations

import pytest

from triage.ops.metrics_export import _dimension_value


@pytest.mark.parametrize(
    ("value", "ends"),
    [
        ("ü" * 250, "\\xfc"),  # 4 characters each: 62 whole escapes, 248 characters
        ("a" + "é" * 249, "\\xe9"),
        ("x" * 3 + "\u4e2d" * 247, "\\u4e2d"),  # 6 characters each
        ("\U0001f600" * 30, "\\U0001f600"),  # 10 characters each
    ],
)
def test_a_long_escaped_value_is_cut_between_whole_escapes(value: str, ends: str) -> None:
    """`_dimension_value` of a value whose escapes pass 250 characters keeps whole escapes only
    (half of `\\xfc`, `\\xf`, would read as another character), within the 250."""
    shown = _dimension_value(value)
    assert len(shown) <= 250
    assert shown.endswith(ends), shown[-12:]
    assert (
        shown.encode().decode("unicode_escape")
        == value[: len(shown.encode().decode("unicode_escape"))]
    )
