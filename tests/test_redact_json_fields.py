"""Redaction of compact JSON keeps each field to itself: a header rule or a URL's userinfo rule
read across field boundaries ate the facts after a secret-sounding key with a JSON literal
(`"authorization":null,"channels":1,…` became `"authorization":[REDACTED…]"…`) or between a URL
and a later `:…,"@` (`"https://example.com","x_time":1000,"@type"` read as user:password@host),
which broke the JSON the model is shown and the sinks render. Found by redacting the sample
payloads' redacted JSON once more, as the prompt does."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from triage.redact import Redactor, redact

PAYLOADS = Path(__file__).parent / "payloads"

KEPT = [
    '{"authorization":null,"channels":1,"claims":null,"eventSource":"x"}',
    '{"authorization": null, "channels": 1}',
    '{"authorization":true,"c":1}',
    '{"authorization":false,"c":1}',
    '{"authorization":12,"c":1}',
    '{"authorization":{},"c":1}',
    '{"authorization":[],"c":1}',
    '{"proxy-authorization":null,"c":3}',
    '{"cookie":null,"c":3}',
    '{"set-cookie":[],"c":3}',
    '{"request_url":"https://example.com","check_target_response_time":1000,"@type":"Card"}',
    '{"url":"https://example.com/a","count":2,"@id":"x"}',
    '["https://example.com", "port:8080,", "@here"]',
]


@pytest.mark.parametrize("text", KEPT)
def test_a_json_literal_or_a_later_field_is_no_secrets_value(text: str) -> None:
    """A secret-sounding key whose value is a JSON literal, number, object or list, and a URL
    followed by fields holding `:` and `@`, are left whole: the JSON still parses, the same."""
    assert redact(text) == text
    assert json.loads(redact(text)) == json.loads(text)


GONE = [
    ('{"authorization":"Bearer abcdefghijklmnop1234","c":1}', "abcdefghijklmnop1234"),
    ('{"authorization":"Token 9f86d081884c7d65","c":1}', "9f86d081884c7d65"),
    ("Authorization: Token 9f86d081884c7d65", "9f86d081884c7d65"),
    ('{"cookie":"sid=abc123def456ghi789jkl","c":1}', "abc123def456ghi789jkl"),
    ('{"dsn":"postgres://app:Sup3rS3cret@db:5432/app","c":1}', "Sup3rS3cret"),
    ("redis://:p4ssw0rd-x@cache:6379/0", "p4ssw0rd-x"),
    ('{"url":"https://user:hunter2hunter@example.com/x"}', "hunter2hunter"),
]


@pytest.mark.parametrize(("text", "secret"), GONE)
def test_the_secrets_beside_them_still_go(text: str, secret: str) -> None:
    """The same keys and URLs holding a credential still lose it."""
    assert secret not in redact(text)


def test_every_sample_payloads_redacted_json_redacts_to_itself() -> None:
    """Each sample payload, redacted as a value and dumped as compact JSON (the prompt's
    excerpt), is unchanged by a second pass: nothing read across its fields."""
    redactor = Redactor()
    changed = []
    for path in sorted(PAYLOADS.rglob("*.json")):
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            continue
        once = json.dumps(redactor.value(raw), separators=(",", ":"))
        if redactor.text(once) != once:
            changed.append(str(path.relative_to(PAYLOADS)))
    assert changed == []


@pytest.mark.parametrize(
    ("text", "tail"),
    [
        ("Cookie: sid=it'sS3cr3tS3ss10nV4lu3abc; path=/", "sS3cr3tS3ss10nV4lu3abc"),
        ('Cookie: sid=p"wS3cr3tS3ss10nV4lu3abc', "wS3cr3tS3ss10nV4lu3abc"),
        ('{"msg": "Cookie: sid=p\\"wS3cr3tS3ss10nV4lu3abc"}', "wS3cr3tS3ss10nV4lu3abc"),
        ("Set-Cookie: token=ab'cd123def456ghi789; HttpOnly", "cd123def456ghi789"),
    ],
)
def test_a_quote_inside_a_cookies_word_is_the_values(text: str, tail: str) -> None:
    """An unquoted Cookie value with a quote inside a word (`it's…`, `p"w…`, escaped inside a
    JSON string) goes whole, as an Authorization value does: its tail after the quote went."""
    assert tail not in redact(text)
