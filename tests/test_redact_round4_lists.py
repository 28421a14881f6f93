"""A secret's value that is a YAML flow sequence on its own line (`api_key: ['…']`, round 4):
the items go as one, the brackets and quotes that say it was a list stay, wherever the pair
stands and whatever the items hold (a placeholder of another rule too).
"""

from __future__ import annotations

import pytest

from triage.redact import Redactor


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("api_key: ['x [REDACTED:email] y']", "api_key: ['[REDACTED:password]']"),
        ("api_key: ['x bob@example.com y']", "api_key: ['[REDACTED:password]']"),
        ("api_key: ['abc def']", "api_key: ['[REDACTED:password]']"),
        ('api_key: ["k1", "k2"]', 'api_key: ["[REDACTED:password]"]'),
        ("  tokens: [abc, def]", "  tokens: [[REDACTED:password]]"),
        ("password: [x [REDACTED:email] y]", "password: [[REDACTED:password]]"),
        ("- api_key: ['abc'] # rotated", "- api_key: ['[REDACTED:password]'] # rotated"),
        ("x api_key: ['x [REDACTED:email] y']", "x api_key: ['[REDACTED:password]']"),
    ],
)
def test_a_list_value_keeps_its_brackets(text: str, expected: str) -> None:
    """The items are replaced as one; the list's brackets, quotes and a comment after stay."""
    assert Redactor().text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "api_key: ['x [REDACTED:email] y']",
        "  tokens: [abc, def]",
        'api_key: ["k1", "k2"]',
    ],
)
def test_a_list_value_is_a_fixed_point(text: str) -> None:
    """Redacting the redacted line again changes nothing."""
    once = Redactor().text(text)
    assert Redactor().text(once) == once


def test_a_list_that_is_not_all_of_the_value_goes_whole() -> None:
    """`[a] b` is no flow sequence: the line's value goes to its end, as before."""
    assert Redactor().text("api_key: [a] b") == "api_key: [REDACTED:password]"
