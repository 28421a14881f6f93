"""E-mail addresses as people write them beyond ASCII (round 3b): a domain in its own letters
(`exämple.de`, `пример.рф`), an apostrophe in the user part (`O'Brien`); each goes whole, and
the text around it (quotes, a sentence's stop, a git remote) stays.
"""

from __future__ import annotations

import pytest

from triage.redact import Redactor


@pytest.mark.parametrize(
    "address",
    [
        "john@exämple.de",
        "ivan@пример.рф",
        "françois@société.fr",
        "Zoë.O'Brien@example.ie",
        "o'neil+alerts@example.com",
        "太郎@例え.jp",
        "ops@bücher.example.com",
        "anna@xn--bcher-kva.example",
    ],
)
def test_an_address_beyond_ascii_goes_whole(address: str) -> None:
    """Every part of the address goes, user and domain, whatever letters write them."""
    assert Redactor().text(f"reported by {address} at 09:00") == (
        "reported by [REDACTED:email] at 09:00"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mail 'zoë.o'brien@example.ie' now", "mail '[REDACTED:email]' now"),
        ('"ivan@пример.рф",', '"[REDACTED:email]",'),
        ("ask ivan@пример.рф.", "ask [REDACTED:email]."),
        ("(françois@société.fr)", "([REDACTED:email])"),
        ("to: <john@exämple.de>", "to: <[REDACTED:email]>"),
    ],
)
def test_the_text_around_an_address_stays(text: str, expected: str) -> None:
    """Quotes, brackets and a sentence's stop around an address are not the address's."""
    assert Redactor().text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "O'Brien's deploy at 09:00 failed",
        "git@gitlab.пример.рф:team/app.git",
        "ping @zoë about it",
        "price 5€ @ 3/day",
        "rsync backup@nas.société.fr::module",
    ],
)
def test_what_is_no_address_stays(text: str) -> None:
    """A name with an apostrophe, a git remote, a mention, prose with `@`, a login at a host
    in a remote path: no person's address."""
    assert Redactor().text(text) == text
