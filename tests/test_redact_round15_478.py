"""Secrets round 15 (helper 478): the over-redactions left from the last round (a status word
such as `set` or `(hidden)` in a secret's place, a Kubernetes secret's name after `Secret:`),
and the leak classes a real alert carries (current vendors' token formats, and the shapes
that carry them: curl -v's headers, Basic credentials, URL userinfo, env dumps, .netrc,
.pgpass, docker's config, a Kubernetes Secret's data)."""

from __future__ import annotations

import pytest

from triage.redact import Redactor

P = "[REDACTED:password]"


def _text(text: str) -> str:
    """`text` as the redactor writes it."""
    return Redactor().text(text)


# --- a status word or a secret's name in a secret's place ----------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "| api_key | set |",
        "| name | state |\n|---|---|\n| api_key | set |\n| db_password | unset |",
        "api_key: set",
        "API_KEY=set",
        "  db_password: SET",
        "| password | (hidden) |",
        "password: (hidden)",
        "| api_token | (masked) |",
        "| client_secret | (redacted) |",
    ],
)
def test_a_status_word_in_a_secrets_place_stays(text: str) -> None:
    """`set` and a bracketed `(hidden)` say whether a secret is there, not what it is: an
    operator reading a config report needs them."""
    assert _text(text) == text


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("api_key: sEt9xQ2mK7pLw4", "sEt9xQ2mK7pLw4"),
        ("| api_key | 8f3kQ9zLm2Xw7Rt |", "8f3kQ9zLm2Xw7Rt"),
        ("| password | (hidden)Zq8x2 |", "(hidden)Zq8x2"),
        ("API_KEY=settle9Kq", "settle9Kq"),
        ("password: setX7", "setX7"),
        (
            "| name | state |\n|---|---|\n| api_key | 8f3kQ9zLm2Xw7Rt |\n| db | up |",
            "8f3kQ9zLm2Xw7Rt",
        ),
        ("| password | note |\n|---|---|\n| correcthorse | prod |", "correcthorse"),
    ],
)
def test_a_value_where_a_status_word_would_stand_still_goes(text: str, secret: str) -> None:
    """A real value in the same place, even one starting like a status word, goes."""
    assert secret not in _text(text)


@pytest.mark.parametrize(
    "text",
    [
        "Secret: db-password",
        "  Secret: db-password",
        "Secret: orders-api-token",
        "Warning  FailedMount  kubelet  Secret: db-password not found",
        "secret: payments-db-credentials",
    ],
)
def test_a_kubernetes_secrets_name_after_secret_stays(text: str) -> None:
    """`Secret: db-password` names the Kubernetes Secret (lower-case words joined by `-`,
    the last naming a secret): the operator needs the name to find it."""
    assert _text(text) == text


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("Secret: hunter2-password", "hunter2-password"),
        ("secret: Zq8xK2mW9pLr4TfY", "Zq8xK2mW9pLr4TfY"),
        ("Secret: correct-horse-battery-staple", "correct-horse-battery-staple"),
        ("Secret: db-password-Xk9vQ2", "Xk9vQ2"),
    ],
)
def test_a_value_after_secret_that_names_nothing_still_goes(text: str, secret: str) -> None:
    """A value after `Secret:` that is no secret's name (a digit, capitals, words whose last
    names no secret) is the secret and goes."""
    assert secret not in _text(text)
