"""A session cookie named by its framework (`PHPSESSID`, `JSESSIONID`, `connect.sid`,
`laravel_session`) is a login: its value goes from 8 characters
with a digit (a custom or cut-short id), in a query, a curl command or a log line. A bare
`session=` still needs 16, and a cookie being deleted (`PHPSESSID=deleted`) keeps its word.
"""

from __future__ import annotations

import pytest

from triage.redact import redact

C = "[REDACTED:cookie]"

LEAKS = [
    ("GET /index.php?PHPSESSID=abcdef123456 HTTP/1.1", f"GET /index.php?PHPSESSID={C} HTTP/1.1"),
    ("curl -b PHPSESSID=9f3k2m1q http://x", f"curl -b PHPSESSID={C} http://x"),
    ("JSESSIONID=ABC123DEF456 x", f"JSESSIONID={C} x"),
    ("req connect.sid=s%3Aab12cd34 done", f"req connect.sid={C} done"),
    ("laravel_session=eyJpdiI6 end", f"laravel_session={C} end"),
]


@pytest.mark.parametrize(("text", "expected"), LEAKS)
def test_a_named_session_cookie_goes_from_eight_characters(text: str, expected: str) -> None:
    """A framework's session cookie of 8 to 15 characters with a digit is redacted."""
    assert redact(text) == expected


KEEP = [
    "PHPSESSID=deleted x",
    "Set PHPSESSID=expired; path=/",
    "JSESSIONID=abc1 x",
    "session=abc123def456 x",
    "session=active x",
]


@pytest.mark.parametrize("text", KEEP)
def test_a_short_or_wordy_session_value_stays(text: str) -> None:
    """A deleted cookie's word, an id too short to be one, and a bare `session=` under 16 stay."""
    assert redact(text) == text
