"""Helper 427: a call whose secret argument is known by its place (Python's
`keyring.set_password(service, username, password)`) loses that argument only: the setter
rule, which reads a setter's first literal as its secret (`setPassword("…")`), leaves the
service's and the user's names alone; the neighbours that must stay or go beside it."""

from __future__ import annotations

import pytest

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
            f'keyring.set_password("svc", "bob", "{PASSWORD}")',
            f'keyring.set_password("svc", "bob", "{P}")',
        ),
        (
            f"keyring.set_password('svc', 'bob', '{PASSWORD}')",
            f"keyring.set_password('svc', 'bob', '{P}')",
        ),
        # Imported bare (`from keyring import set_password`), or a backend's own method.
        (
            f'set_password("svc", "bob", "{PASSWORD}")',
            f'set_password("svc", "bob", "{P}")',
        ),
        (
            f'keyring.get_keyring().set_password("svc", "bob", "{PASSWORD}")',
            f'keyring.get_keyring().set_password("svc", "bob", "{P}")',
        ),
        # Inside a JSON string, its quotes escaped.
        (
            f'{{"cmd": "keyring.set_password(\\"svc\\", \\"bob\\", \\"{PASSWORD}\\")"}}',
            f'{{"cmd": "keyring.set_password(\\"svc\\", \\"bob\\", \\"{P}\\")"}}',
        ),
    ],
)
def test_keyring_set_password_loses_only_the_password(text: str, expected: str) -> None:
    """keyring's set_password(service, username, password) loses its third argument; the
    service's and the user's names stay."""
    assert _text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        'keyring.get_password("svc", "bob")',
        'keyring.delete_password("svc", "bob")',
        'keyring.set_password("svc", "bob", password)',
    ],
)
def test_keyring_calls_without_a_literal_password_stay(text: str) -> None:
    """keyring's reads and deletes (a service and a user, no password), and a set_password
    given a variable, stay whole."""
    assert _text(text) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f'set_password("{PASSWORD}")', f'set_password("{P}")'),
        (f'user.set_password("{PASSWORD}")', f'user.set_password("{P}")'),
        (f'x.setPassword("{PASSWORD}")', f'x.setPassword("{P}")'),
        (f'setApiKey("{PASSWORD}", region)', f'setApiKey("{P}", region)'),
    ],
)
def test_a_setters_only_or_first_literal_still_goes(text: str, expected: str) -> None:
    """A setter named like a secret still loses its literal when that is its one argument
    (Django's `user.set_password("…")`) or the first before others that are no literal."""
    assert _text(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            f'client.set_secret("db-password", "{PASSWORD}")',
            f'client.set_secret("db-password", "{P}")',
        ),
        (f'core.setSecret("{PASSWORD}")', f'core.setSecret("{P}")'),
        (f'client.set_secret("{PASSWORD}")', f'client.set_secret("{P}")'),
    ],
)
def test_a_secret_stores_set_secret_loses_its_value_not_its_name(text: str, expected: str) -> None:
    """Azure Key Vault's `SecretClient.set_secret(name, value)` loses its value, its name
    stays; a set_secret given one literal (GitHub Actions' `core.setSecret`) still loses it."""
    assert _text(text) == expected
