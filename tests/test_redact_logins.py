"""Credentials the earlier rounds left: a session's value under a bare `session` name, a quoted
Bearer token holding an escaped quote, a user:password pair with no URL scheme, an `expect`
script's answer to a password prompt, SNMP's community strings. Each leak is checked as
written and inside a JSON string; each neighbour that is no secret stays.

Every secret-like value here is made up for the test; nothing is a credential.
"""

from __future__ import annotations

import json

import pytest

from triage.redact import Redactor, redact

REDACTOR = Redactor()


def _both(text: str) -> tuple[str, str]:
    """`text` redacted as written, and redacted inside a JSON string (decoded back)."""
    inside = json.loads(redact(json.dumps({"m": text})))["m"]
    return redact(text), inside


LEAKS: list[tuple[str, str]] = [
    ('"session": "s3cr3t-s3ss10n-v4lu3"', "s3ss10n"),
    ("session: s3cr3t-s3ss10n-v4lu3", "s3ss10n"),
    ("user_session: 9f8e7d6c5b4a39281706f5e4", "9f8e7d6c5b4a"),
    ("SESSION = 'a1b2c3d4e5f6a7b8c9d0'", "a1b2c3d4"),
    ('Authorization: Bearer "p\\"wS3cr3tT0k3n"', "S3cr3tT0k3n"),
    ("Authorization: Token 'it\\'sS3cr3tT0k3n'", "S3cr3tT0k3n"),
    ('Authorization: Bearer p"wS3cr3tT0k3n', "S3cr3tT0k3n"),
    ("Authorization: Token it'sS3cr3tT0k3n ok", "S3cr3tT0k3n"),
    ("postgres app:Sup3rS3cret@db:5432/app", "Sup3rS3cret"),
    ("DATABASE=app:Sup3rS3cret@db.internal/app", "Sup3rS3cret"),
    ("creds: admin:pw", ":pw"),
    ("--creds admin:hunter2", "hunter2"),
    ('credentials="deploy:T0pS3cret!"', "T0pS3cret"),
    ('expect "assword:"\nsend "hunter2\\r"', "hunter2"),
    ('expect -re "(P|p)assword: $" { send -- "hunter2\\r" }', "hunter2"),
    ("child.expect('Password:')\nchild.sendline('hunter2')", "hunter2"),
    ("snmpwalk -v2c -c s3cr3tc0mm host", "s3cr3tc0mm"),
    ("snmpget -v 1 -c 'N0tP\\'ublic' 10.0.0.1 sysDescr.0", "N0tP"),
    ("community: s3cr3tc0mm", "s3cr3tc0mm"),
    ("snmp_community=s3cr3tc0mm", "s3cr3tc0mm"),
    ("rocommunity s3cr3tc0mm 10.0.0.0/8", "s3cr3tc0mm"),
    ("snmp-server community s3cr3tc0mm RO", "s3cr3tc0mm"),
]


@pytest.mark.parametrize(("text", "secret"), LEAKS)
def test_leak_goes_raw_and_in_json(text: str, secret: str) -> None:
    """The secret is gone from the text as written and from it inside a JSON string."""
    raw, inside = _both(text)
    assert secret not in raw, raw
    assert secret not in inside, inside
    assert "[REDACTED:" in raw and "[REDACTED:" in inside


KEPT: list[str] = [
    '"session": "morning"',
    '"session": 3',
    '"sessionName": "my-role-session-2024-12"',
    "session: 2026-12-05-morning-batch-01",
    '"Sid": "Stmt1234567890123"',
    "connect 10:30@site",
    "scp user@host:path/file",
    "host:8080@x and web:443@lb/path",
    "image nginx:latest@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    "fe80::1%eth0 and [2001:db8::1]:443",
    "creds: none",
    'expect "login:"\nsend "admin\\r"',
    'expect "assword:"\nsend "$password\\r"',
    "snmpwalk -v2c -c public host",
    "community: open source maintainers",
]


@pytest.mark.parametrize("text", KEPT)
def test_neighbour_stays(text: str) -> None:
    """Ordinary text beside the leaks' shapes is left as written, raw and inside JSON."""
    raw, inside = _both(text)
    assert raw == text
    assert inside == text


def test_session_value_under_json_key() -> None:
    """A JSON object's `session` key holding a session-shaped value loses it; a word, a
    number and AWS's `sessionName` stay."""
    got = REDACTOR.value(
        {
            "session": "s3cr3t-s3ss10n-v4lu3",
            "sessionName": "my-role-session",
            "shift": {"session": "morning"},
            "n": {"session": 3},
        }
    )
    assert got == {
        "session": "[REDACTED:password]",
        "sessionName": "my-role-session",
        "shift": {"session": "morning"},
        "n": {"session": 3},
    }


def test_snmp_default_public_stays() -> None:
    """`public` (and `private`) are SNMP's published defaults: knowing one is no secret, and a
    triager should see a device still answers to it; any other community goes."""
    assert redact("snmpwalk -v2c -c private host") == "snmpwalk -v2c -c private host"
    assert "c0mm" not in redact("snmpbulkwalk -v2c -Cr10 -c Wr1teC0mm host")


def test_bearer_quoted_keeps_quotes() -> None:
    """A quoted Bearer token goes to its closing quote, its quotes kept."""
    assert (
        redact('Authorization: Bearer "p\\"wS3cr3tT0k3n"')
        == 'Authorization: Bearer "[REDACTED:authorization]"'
    )


def test_expect_keeps_carriage_return() -> None:
    """The `send` answer after a password prompt goes; its `\\r` and quotes stay."""
    assert (
        redact('expect "assword:"\nsend "hunter2\\r"')
        == 'expect "assword:"\nsend "[REDACTED:password]\\r"'
    )


def test_schemeless_pair_keeps_user_and_host() -> None:
    """A user:password@host pair without a scheme keeps its user and its host."""
    assert (
        redact("postgres app:Sup3rS3cret@db:5432/app")
        == "postgres app:[REDACTED:password]@db:5432/app"
    )


def test_community_and_creds_under_json_keys() -> None:
    """A JSON object's SNMP community and `creds` pair go as their text forms do; a default
    community, a bare `community` holding words and `creds` holding no pair stay."""
    got = REDACTOR.value(
        {
            "snmp_community": "s3cr3tc0mm",
            "rocommunity": "Wr1teC0mm",
            "community": "public",
            "other": {"community": "open source"},
            "creds": "admin:hunter2",
            "also": {"creds": "none"},
        }
    )
    assert got == {
        "snmp_community": "[REDACTED:password]",
        "rocommunity": "[REDACTED:password]",
        "community": "public",
        "other": {"community": "open source"},
        "creds": "[REDACTED:password]",
        "also": {"creds": "none"},
    }
