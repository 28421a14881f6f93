"""A credential written as a URL's user (`https://<token>@host`, `https://oauth2:<token>@host`)
is redacted; an ordinary user name (`deploy@`, `git@`, an e-mail's) is not taken for one."""

from __future__ import annotations

import pytest

from triage.redact import Redactor

GITHUB = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
GITLAB = "glpat-" + "xY3zA9bC7dE5fG1hJ2kL"
HEX40 = "a94a8fe5ccb19ba61c4c0873d391e987982fbbd3"
HEX32 = "0f8e7d6c5b4a39281706f5e4d3c2b1a0"
RANDOM = "Zq7Xk2Lm9Pw4Rt8Yv3Nb6Hc1"

REDACTED = [
    (f"https://{GITHUB}@github.com/x", "https://[REDACTED:github-token]@github.com/x"),
    (
        f"https://{HEX40}@github.com/org/repo.git",
        "https://[REDACTED:token]@github.com/org/repo.git",
    ),
    (
        f"https://{HEX40.upper()}@github.com/org/repo.git",
        "https://[REDACTED:token]@github.com/org/repo.git",
    ),
    (
        f"https://oauth2:{GITLAB}@gitlab.example.com/g/p.git",
        "https://oauth2:[REDACTED:password]@gitlab.example.com/g/p.git",
    ),
    (
        f"git clone https://x-access-token:{GITHUB}@github.com/o/r",
        "git clone https://x-access-token:[REDACTED:password]@github.com/o/r",
    ),
    (f"amqp://{RANDOM}@host", "amqp://[REDACTED:token]@host"),
    (f"amqp://{HEX32}@mq:5672/vhost", "amqp://[REDACTED:token]@mq:5672/vhost"),
    # GitHub's older form: the token as the user, x-oauth-basic as the password.
    (
        f"https://{HEX40}:x-oauth-basic@github.com/o/r",
        "https://[REDACTED:token]:[REDACTED:password]@github.com/o/r",
    ),
    (f"https://{RANDOM}:@github.com/o/r", "https://[REDACTED:token]:@github.com/o/r"),
    # A token user with a password: both go, and the host stays.
    (
        f"https://{GITHUB}:hunter2xyz@host/x",
        "https://[REDACTED:github-token]:[REDACTED:password]@host/x",
    ),
    (
        f"push to https://{HEX40}@github.com/o/r.git failed",
        "push to https://[REDACTED:token]@github.com/o/r.git failed",
    ),
]

KEPT = [
    "https://deploy@host/x",
    "ssh://git@github.com/org/repo.git",
    "https://john.smith@host.example.com/",
    "https://build-bot-2024@ci.example.com/x",
    "https://svc_deploy_production@host/x",
    "https://jenkins-automation@ci.example.com/",
    "https://12345678901234567890@host/x",
    "https://deadbeefcafebabedeadbeef@host/x",
    "git@github.com:org/repo.git",
    "ftp://anonymous@ftp.example.com/pub",
]


@pytest.mark.parametrize(("text", "expected"), REDACTED)
def test_a_credential_as_a_urls_user_is_redacted(text: str, expected: str) -> None:
    """A token, a key in hex or a known prefix as a URL's user (with or without a password)
    becomes a placeholder, and the scheme, host and path stay."""
    assert Redactor().text(text) == expected


@pytest.mark.parametrize("text", KEPT)
def test_an_ordinary_user_name_in_a_url_stays(text: str) -> None:
    """A user name (words, a service account, a number, a hex word with no digit) is no
    credential: the URL comes out as it went in."""
    assert Redactor().text(text) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mailto:ops@example.com", "mailto:[REDACTED:email]"),
        ("page ops.oncall@example.com now", "page [REDACTED:email] now"),
    ],
)
def test_an_email_address_is_personal_data_not_a_token(text: str, expected: str) -> None:
    """An e-mail address (also after mailto:) is redacted as an e-mail, never as a token."""
    assert Redactor().text(text) == expected


def test_a_credential_as_a_urls_user_is_redacted_in_a_json_value() -> None:
    """`Redactor.value` redacts a token user inside a payload's strings too."""
    payload = {"remote": f"https://{HEX40}@github.com/o/r.git", "user": "https://deploy@host/x"}
    assert Redactor().value(payload) == {
        "remote": "https://[REDACTED:token]@github.com/o/r.git",
        "user": "https://deploy@host/x",
    }


@pytest.mark.parametrize(
    "text",
    [
        "x [REDACTED:token]: abc def",
        "see [REDACTED:github-token]: retry later",
        "[REDACTED:password]=next field",
    ],
)
def test_a_placeholders_type_word_names_no_secret(text: str) -> None:
    """A placeholder's type (`token`, `github-token`, `password`) is no secret's name: the
    text after it (a URL's host, the next words) stays."""
    assert Redactor().text(text) == text
