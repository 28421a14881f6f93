"""Helper 433: a call whose secret is known by its place loses it when its arguments span lines
(`keyring.set_password("svc",\n    "bob", "pw")`, `pika.PlainCredentials(\n 'u',\n 'pw')`), and
a setter named like a secret called with two literals loses the one that is the secret
(`set_password("bob", "pw")`, `setCredentials("bob", "pw")`), or every literal when its shape
says not which is which (`setPassword("a", "b")`)."""

from __future__ import annotations

import pytest

from scaling import assert_linear
from triage.redact import Redactor

PASSWORD = "S3cr3tPassw0rd!"
P = "[REDACTED:password]"


def _text(text: str) -> str:
    """`text` as the redactor writes it."""
    return Redactor().text(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            f'keyring.set_password("svc",\n    "bob", "{PASSWORD}")',
            f'keyring.set_password("svc",\n    "bob", "{P}")',
        ),
        (
            f"pika.PlainCredentials(\n 'u',\n '{PASSWORD}')",
            f"pika.PlainCredentials(\n 'u',\n '{P}')",
        ),
        (
            f'oracledb.connect(\n "u", "{PASSWORD}", dsn)',
            f'oracledb.connect(\n "u", "{P}", dsn)',
        ),
        # Windows' line breaks, a trailing comma, a deep indentation.
        (
            f'conn = oracledb.connect(\r\n    "u",\r\n    "{PASSWORD}",\r\n    dsn,\r\n)',
            f'conn = oracledb.connect(\r\n    "u",\r\n    "{P}",\r\n    dsn,\r\n)',
        ),
        (
            f'basic = HTTPBasicAuth(\n{" " * 24}"bob",\n{" " * 24}"{PASSWORD}",\n)',
            f'basic = HTTPBasicAuth(\n{" " * 24}"bob",\n{" " * 24}"{P}",\n)',
        ),
        (
            f'smtp.login(\n    user,\n    "{PASSWORD}"\n)',
            f'smtp.login(\n    user,\n    "{P}"\n)',
        ),
        # A PHP trace's call, a Redis client's, an LDAP bind's.
        (
            f"new PDO(\n  'mysql:host=db',\n  'root',\n  '{PASSWORD}'\n)",
            f"new PDO(\n  'mysql:host=db',\n  'root',\n  '{P}'\n)",
        ),
        (
            f'redis.Redis(\n    "db", 6379, 0,\n    "{PASSWORD}")',
            f'redis.Redis(\n    "db", 6379, 0,\n    "{P}")',
        ),
        (
            f'conn.bind_s(\n    "cn=admin,dc=corp",\n    "{PASSWORD}")',
            f'conn.bind_s(\n    "cn=admin,dc=corp",\n    "{P}")',
        ),
        # Inside a JSON string, its line breaks escaped.
        (
            f'{{"m": "keyring.set_password(\\"svc\\",\\n    \\"bob\\", \\"{PASSWORD}\\")"}}',
            f'{{"m": "keyring.set_password(\\"svc\\",\\n    \\"bob\\", \\"{P}\\")"}}',
        ),
        # A setter whose one literal is on the next line.
        (
            f'ds.setPassword(\n    "{PASSWORD}"\n);',
            f'ds.setPassword(\n    "{P}"\n);',
        ),
    ],
)
def test_a_call_over_lines_loses_its_secret_argument(text: str, expected: str) -> None:
    """A call whose secret is known by its place loses that argument when its arguments span
    lines (raw or escaped breaks); its other arguments stay."""
    assert _text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        'keyring.get_password(\n    "svc",\n    "bob")',
        'keyring.set_password(\n    "svc",\n    "bob",\n    password)',
        "pika.PlainCredentials(\n    user,\n    password)",
        # Prose that opens a call and never closes it on its lines.
        'the smtp.login(\n step failed for "bob", "mailer"\n',
    ],
)
def test_a_call_over_lines_without_a_literal_secret_stays(text: str) -> None:
    """A call over lines with no literal at the secret's place (a read, a variable, a call
    never closed) stays whole."""
    assert _text(text) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # passlib's HtpasswdFile.set_password(user, password): the user stays.
        (f'set_password("bob", "{PASSWORD}")', f'set_password("bob", "{P}")'),
        (f'ht.set_password("bob", "{PASSWORD}")', f'ht.set_password("bob", "{P}")'),
        # A credentials setter takes (user, password).
        (
            f'builder.setCredentials("bob", "{PASSWORD}")',
            f'builder.setCredentials("bob", "{P}")',
        ),
        (
            f'builder.setCredentials(user, "{PASSWORD}")',
            f'builder.setCredentials(user, "{P}")',
        ),
        (
            f"client.withCredentials('bob', '{PASSWORD}')",
            f"client.withCredentials('bob', '{P}')",
        ),
        (
            f'builder.setCredentials(\\"bob\\", \\"{PASSWORD}\\")',
            f'builder.setCredentials(\\"bob\\", \\"{P}\\")',
        ),
        # Any other secret setter given two literals: which is the secret is unknown (a
        # password and its confirmation, a key and its secret), and both go.
        (
            f'x.setPassword("{PASSWORD}", "{PASSWORD}")',
            f'x.setPassword("{P}", "{P}")',
        ),
        (f'x.setApiKey("prod", "{PASSWORD}")', f'x.setApiKey("{P}", "{P}")'),
        (
            f'x.setCredentials("realm", "bob", "{PASSWORD}")',
            f'x.setCredentials("{P}", "{P}", "{P}")',
        ),
    ],
)
def test_a_setter_given_two_literals_loses_the_secret(text: str, expected: str) -> None:
    """A secret-named setter called with two literals loses the secret, not the first literal
    alone: a credentials setter's second (its user stays), any other's every literal."""
    assert _text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        'set_password("svc", "bob", password)',
        "builder.setCredentials(user, password)",
        'getPassword("db", "primary")',
        'x.setCredentials("bob", "********")',
    ],
)
def test_a_setter_with_no_literal_secret_stays(text: str) -> None:
    """A setter whose secret is a variable, a getter's names, and a masked value stay whole."""
    assert _text(text) == text


#: Calls opened over lines and never closed, and setters given many literals: each call's
#: arguments are read once, to the next bracket.
HOSTILE = [
    'keyring.set_password("svc",\n    "bob",\n' * 4_000,
    "pika.PlainCredentials(\n" + "'u',\n" * 40_000,
    'x.setCredentials("a", "b", \n' * 5_000,
    "smtp.login(\n" + " " * 200_000,
    '{"m": "' + 'HTTPBasicAuth(\\"a\\",\\n' * 8_000 + '"}',
]


@pytest.mark.parametrize("hostile", HOSTILE, ids=[repr(h[:20]) for h in HOSTILE])
def test_calls_over_lines_are_read_in_linear_time(hostile: str) -> None:
    """Calls left open over many lines cost time in proportion to the text."""
    assert_linear(lambda n: _text(hostile[:n]), 8_192, repeats=2)
