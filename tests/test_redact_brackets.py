"""Redaction: a secret's value ends before a closing bracket it did not open, so the text that
wraps it (a parenthesis, a Markdown link, a tag) reads as it did."""

from __future__ import annotations

import pytest

from triage.redact import redact

#: Values wrapped in brackets, by every rule that reads an unquoted value to a space or a line's
#: end: the bracket and what follows it stay.
WRAPPED = [
    ("(token=abc123def456)", "(token=[REDACTED:password])"),
    ("[token=abc123def456]", "[token=[REDACTED:password]]"),
    ("<token=abc123def456>", "<token=[REDACTED:password]>"),
    ("see (password=hunter2) now", "see (password=[REDACTED:password]) now"),
    ("failed (api_key=abc123XYZdef456).", "failed (api_key=[REDACTED:password])."),
    ('"(token=abc123def456)"', '"(token=[REDACTED:password])"'),
    ("(secret: abc123def456) x", "(secret: [REDACTED:password]) x"),
    ("x=(password=hunter2)", "x=(password=[REDACTED:password])"),
    ("(DB_PASSWORD=hunter2), then", "(DB_PASSWORD=[REDACTED:password]), then"),
    ("(--password=hunter2)", "(--password=[REDACTED:password])"),
    ("(--token abc123)", "(--token [REDACTED:password])"),
    ("(pass=Xk9fQ2mPz7)", "(pass=[REDACTED:password])"),
    ("(sessionid=abcdef0123456789abcd)", "(sessionid=[REDACTED:cookie])"),
    ("(X-Amz-Signature=abcdef0123456789)", "(X-Amz-Signature=[REDACTED:aws-signature])"),
    ("(curl -u bob:hunter2)", "(curl -u bob:[REDACTED:password])"),
    ("(mysql -uroot -phunter2)", "(mysql -uroot -p[REDACTED:password])"),
    ("[https://x/?Signature=abcdefgh12345678]", "[https://x/?Signature=[REDACTED:url-signature]]"),
    ("[https://x/?pass=hunter2]", "[https://x/?pass=[REDACTED:password]]"),
    ("{https://x/?token=abc123def456}", "{https://x/?token=[REDACTED:password]}"),
    ("[the password is hunter2x]", "[the password is [REDACTED:password]]"),
    ("[Cookie: a=b]", "[Cookie: [REDACTED:cookie]]"),
    ("(Authorization: Token abc)", "(Authorization: Token [REDACTED:authorization])"),
    ("(Server=db;Password=abc)", "(Server=db;Password=[REDACTED:password])"),
    ("(SharedAccessSignature=sv=2021&sig=abc)", "(SharedAccessSignature=[REDACTED:azure-sas])"),
    # Nested: each unmatched closer and the punctuation after the last stay.
    ("f(g(token=abc123def456)).", "f(g(token=[REDACTED:password]))."),
]


@pytest.mark.parametrize(("text", "expected"), WRAPPED)
def test_a_closing_bracket_after_a_value_stays(text: str, expected: str) -> None:
    """A closing bracket that the value did not open, and the punctuation after it, stay."""
    assert redact(text) == expected


#: Brackets that belong to the value: opened inside it, or followed by more of it.
WHOLE = [
    ("token=fn(x)", "token=[REDACTED:password]"),
    ("(token=a(b)c) x", "(token=[REDACTED:password]) x"),
    ("token=ab)cd", "token=[REDACTED:password]"),
    ("password=a]b x", "password=[REDACTED:password] x"),
    ("--password=p<a>ss", "--password=[REDACTED:password]"),
]


@pytest.mark.parametrize(("text", "expected"), WHOLE)
def test_a_bracket_inside_a_value_goes_with_it(text: str, expected: str) -> None:
    """A bracket opened inside the value, or one with more of the value after it, is the
    secret's: no part of it is left behind."""
    assert redact(text) == expected


@pytest.mark.parametrize("expected", [e for _, e in WRAPPED + WHOLE])
def test_a_kept_bracket_redacts_to_itself(expected: str) -> None:
    """Redacting again changes nothing: the kept bracket is not read as a new value."""
    assert redact(expected) == expected
