"""Applying the rules (`scrub`): a rule whose needle an earlier rule's replacement wrote still
runs, wherever in a long text that replacement was made."""

from __future__ import annotations

import pytest

from triage.redact import Redactor
from triage.redact.scrub import _changed_span

FILLER = "disk usage on node-7 above 91 percent for 5 minutes; "
CHANGE = '~ password = "old2xQ9" -> "new7yR4"'
CHANGED = '~ password = "[REDACTED:password]" -> "[REDACTED:password]"'


@pytest.mark.parametrize(
    ("before", "after"),
    [(0, 0), (1, 0), (0, 1), (80, 80), (200, 3)],
    ids=["alone", "at-the-end", "at-the-start", "in-the-middle", "far-in"],
)
def test_a_needle_written_by_a_replacement_lets_a_later_rule_run(before: int, after: int) -> None:
    """Terraform's new value goes because the old one's placeholder, written by an earlier rule,
    is found again around the change, however much text surrounds it."""
    text = FILLER * before + CHANGE + "\n" + FILLER * after
    assert Redactor().text(text) == FILLER * before + CHANGED + "\n" + FILLER * after


def test_needles_written_in_several_places_are_all_found() -> None:
    """One rule replacing in two far-apart places: the needle written at each is found."""
    text = CHANGE + "\n" + FILLER * 100 + CHANGE
    assert Redactor().text(text) == CHANGED + "\n" + FILLER * 100 + CHANGED


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("127.0.0.1:6379> auth\tfoobared", "127.0.0.1:6379> auth\t[REDACTED:password]"),
        ("127.0.0.1:6379> AUTH foobared", "127.0.0.1:6379> AUTH [REDACTED:password]"),
        ("CONFIG SET requirepass s3cret", "CONFIG SET requirepass [REDACTED:password]"),
        (
            "insert into u (name, password) values ('a', 'opal-42')",
            "insert into u (name, password) values ('a', '[REDACTED:password]')",
        ),
        ("oauth2 callback failed for tenant acme", "oauth2 callback failed for tenant acme"),
    ],
)
def test_rules_found_by_their_narrow_needles(text: str, expected: str) -> None:
    """Redis's AUTH (before a tab too) and SQL's INSERT (any case) are found by the literals
    every match of theirs holds, `auth ` and `insert`."""
    assert Redactor().text(text) == expected


def test_short_texts_seen_before_are_answered_from_the_memo() -> None:
    """A second pass over the same payload finds its short texts in the memo, kept across calls
    while the credentials stay the same (`known_secrets` returns a new, equal list each call)."""
    redactor = Redactor(known_secrets=lambda: ["rotating-secret-0001"])
    payload = {"labels": {"alertname": "HighCPU", "password": "x1"}, "summary": "CPU above 90%"}
    first = redactor.value(payload)
    memo = redactor._memo[1]
    seen = dict(memo)
    assert {"HighCPU", "CPU above 90%", "alertname"} <= seen.keys()
    assert redactor.value(payload) == first
    assert redactor._memo[1] is memo
    assert memo == seen


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("aaaa", "aaa"),
        ("aaa", "aaaa"),
        ("abc", "abc"),
        ("", "x"),
        ("x", ""),
        ("key=abc def", "key=[REDACTED:password] def"),
        ("abcabc", "abXYZcabc"),
        ("start middle end", "START middle END"),
    ],
)
def test_the_changed_span_covers_every_difference(old: str, new: str) -> None:
    """`_changed_span` gives a span of `new` outside which `new` is `old`'s prefix and suffix,
    the two never overlapping in `old`."""
    start, end = _changed_span(old, new)
    assert 0 <= start <= end <= len(new)
    tail = len(new) - end
    assert new[:start] == old[:start]
    assert new[end:] == old[len(old) - tail :]
    assert start + tail <= len(old)
