"""Texts the redactor once redacted differently on a second pass: each first pass is the
expected text, and redacting that again changes nothing (a placeholder is inert)."""

from __future__ import annotations

import pytest

from triage.redact import Redactor

_CASES = [
    pytest.param(
        "[SECRETS]\nDB = OPAL-42\n<A@B.IO>",
        "[SECRETS]\nDB = [REDACTED:password]\n<[REDACTED:email]>",
        id="section-password-then-bracketed-email",
    ),
    pytest.param(
        'PASSWORD=["DB_PASSWORD=a b c"]',
        'PASSWORD=["[REDACTED:password]"]',
        id="bracketed-quoted-pair-as-value",
    ),
    pytest.param(
        'PwD=["password"]=>\n  string(3) "a b"',
        'PwD=["[REDACTED:password]"]=>\n  string(19) "[REDACTED:password]"',
        id="php-dump-key-in-brackets",
    ),
    pytest.param(
        "HTTPS://HC.EXAMPLE.COM/PING/5D2F7A3E-9B1C-4E8F-A6D0-3C7B9E1F2A4D--api-key \\\n"
        '  Zk3q9WmX2pLr8TvB4nYc7Hd1register GR1348941aB3dE5fG7hJ9kL2mN4pQpassword="with \\" quote"'
        " zdd_api_key=",
        "HTTPS://HC.EXAMPLE.COM/PING/[REDACTED:token]--api-key \\\n"
        '  [REDACTED:password] [REDACTED:gitlab-token]="with \\" quote" zdd_api_key=',
        id="flag-value-continued-after-backslash-newline",
    ),
    pytest.param(
        "GET /ping/5d2f7a3e--signing-key Zk3q9WmX2pLr8TvB4nYc",
        "GET /ping/5d2f7a3e--signing-key [REDACTED:password]",
        id="flag-glued-to-the-word-before-it",
    ),
]


@pytest.mark.parametrize(("text", "expected"), _CASES)
def test_first_pass_is_expected_and_second_pass_changes_nothing(text: str, expected: str) -> None:
    """The first pass gives the expected text and redacting it again gives it unchanged."""
    redactor = Redactor()
    once = redactor.text(text)
    assert once == expected
    assert redactor.text(once) == once
