"""Redaction of credentials in connection strings and credential files of many kinds: the
scheme, user, host and options stay, the password goes."""

from __future__ import annotations

import pytest

from scaling import assert_linear
from triage.redact import redact

PW = "hunter2pass"

SHAPES = [
    f"amqps://svc:{PW}@rabbit.example.com:5671/vhost",
    f"mongodb+srv://app:{PW}@cluster0.ab1cd.mongodb.net/db?retryWrites=true",
    f"rediss://default:{PW}@redis.example.com:6380/0",
    f"clickhouse://default:{PW}@ch.example.com:9000/db",
    f"mysql+pymysql://root:{PW}@db/app",
    f"jdbc:postgresql://db:5432/app?user=app&password={PW}",
    f"jdbc:sqlserver://db:1433;databaseName=app;user=sa;password={PW};encrypt=true",
    f"Driver={{ODBC Driver 18}};Server=tcp:db,1433;Uid=sa;PWD={PW};Encrypt=yes",
    f"machine api.example.com login deploy password {PW}",
    # A password holding `#` or `?` (not encoded, as people type them): to the `@` before the
    # host, not cut at the character a URL's fragment or query would start with.
    f"postgres://app:{PW}#x@db:5432/app",
    f"redis://:{PW}?y@cache:6379/0",
]


@pytest.mark.parametrize("text", SHAPES)
def test_a_connection_strings_password_is_redacted(text: str) -> None:
    """No character of the password is left, and the text around it stays."""
    redacted = redact(text)
    assert PW not in redacted and "hunter" not in redacted
    assert redacted.split("[REDACTED:", 1)[0] == text.split(PW, 1)[0]


def test_a_private_key_with_crlf_line_endings_goes_whole() -> None:
    """A PEM block written with CRLF line endings is redacted from BEGIN to END."""
    key = f"-----BEGIN RSA PRIVATE KEY-----\r\nMIIEpAIBAAKCAQEAu1SU{PW}\r\n-----END RSA PRIVATE KEY-----"
    assert redact(f"key:\r\n{key}\r\nnext") == "key:\r\n[REDACTED:private-key]\r\nnext"


KEPT = [
    "https://example.com:8443/path?next=/a#frag@b",
    "see https://host:8080/x?ref=team@2x#a@b and http://localhost:3000#/login@x",
]


@pytest.mark.parametrize("text", KEPT)
def test_urls_with_a_port_a_query_and_an_at_stay(text: str) -> None:
    """A port, a query or a fragment holding `@` is no password."""
    assert redact(text) == text


HOSTILE = [
    "x://u:" + "?#/a" * 50_000,  # a password's characters that never reach an @
    "x://u:p#" * 30_000,  # URL starts, each password cut short
]


@pytest.mark.parametrize("hostile", HOSTILE, ids=[repr(h[:12]) for h in HOSTILE])
def test_url_passwords_are_redacted_in_linear_time(hostile: str) -> None:
    """Near-miss URL passwords cost time in proportion to their length."""
    assert_linear(lambda n: redact(hostile[:n]), 16_384)
