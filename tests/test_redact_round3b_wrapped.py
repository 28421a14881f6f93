"""Credentials a text wrapper broke over lines (round 3b): a vendor's token cut inside its body
or after a `-` (Python's textwrap, mail and terminals wrap at a width), and a named secret's
value whose rest stands on the next line. Nothing of the secret is left; prose that merely
ends a line stays.
"""

from __future__ import annotations

import json
import textwrap

import pytest

from triage.redact import Redactor

GITHUB_TOKEN = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
SLACK_TOKEN = "xoxb-" + "1234567890-1234567890123-" + "AbCdEfGhIjKlMnOpQrStUvWx"
GITLAB_TOKEN = "glpat-" + "Zq8vN3xK7pL2mR9t1QwE"
AWS_SECRET = "Jq3vN8xK2pL7mR4tZw9yB6cD1eF5gH0iAbCdEfGh"


def _runs(secret: str) -> list[str]:
    """Every 8-character run of `secret`: what a reader could still piece together."""
    return [secret[i : i + 8] for i in range(len(secret) - 7)]


def _left(out: str, secret: str) -> list[str]:
    return [run for run in _runs(secret) if run in out]


def _wrapped(credential: str, width: int) -> str:
    return textwrap.fill(f"deploy failed for svc-api with {credential} while pushing", width)


@pytest.mark.parametrize(
    ("credential", "secret"),
    [
        (GITHUB_TOKEN, GITHUB_TOKEN[4:]),
        (SLACK_TOKEN, SLACK_TOKEN.rsplit("-", 1)[1]),
        (GITLAB_TOKEN, GITLAB_TOKEN[6:]),
    ],
)
@pytest.mark.parametrize("width", [24, 30, 35, 40, 45, 50, 60])
def test_a_wrapped_token_leaves_nothing_of_its_secret(
    credential: str, secret: str, width: int
) -> None:
    """Wrapped at any width from 24 to 60 columns, no 8-character run of the token is left,
    and the words after it stay."""
    out = Redactor().text(_wrapped(credential, width))
    assert _left(out, secret) == []
    assert "pushing" in out and "while" in out


@pytest.mark.parametrize(
    ("name", "width"),
    [
        *(("aws_secret_access_key", width) for width in (24, 30, 35, 40, 45, 50, 60)),
        *(("DB_PASSWORD", width) for width in (24, 30, 40, 45, 50, 60)),
    ],
)
def test_a_wrapped_named_value_leaves_nothing_of_its_secret(name: str, width: int) -> None:
    """A secret's name and its value broken over lines, after the name or inside it (the
    wrapper breaks a long word anywhere): no 8-character run of the value is left."""
    assert _left(Redactor().text(_wrapped(f"{name}={AWS_SECRET}", width)), AWS_SECRET) == []


def test_a_value_whose_name_is_broken_inside_its_word_goes() -> None:
    """`DB_PASSWORD=…` wrapped at 35 columns (`DB_P` / `ASSWORD=…`): the value goes."""
    text = _wrapped(f"DB_PASSWORD={AWS_SECRET}", 35)
    assert "DB_P\nASSWORD=" in text
    assert _left(Redactor().text(text), AWS_SECRET) == []


@pytest.mark.parametrize("width", [30, 40])
def test_a_wrapped_token_inside_a_json_string_goes(width: int) -> None:
    """The same break escaped inside a JSON string (`\\n`) is read as a raw one."""
    wrapped = textwrap.fill(f"push failed with {GITHUB_TOKEN} at 09:00", width)
    out = Redactor().text(json.dumps({"message": wrapped}))
    assert _left(out, GITHUB_TOKEN[4:]) == []


def test_a_wrapped_token_is_named_by_its_kind() -> None:
    """The placeholder says what was there, as for an unwrapped token."""
    text = "push failed with\nghp_A1b2C3d4E5f6G7h8I9j0K1l2M3\nn4O5p6Q7r8 at 09:00"
    assert Redactor().text(text) == "push failed with\n[REDACTED:github-token] at 09:00"


@pytest.mark.parametrize(
    "text",
    [
        "the token ghp_ prefix is for classic tokens\nBuild2024Release is next",
        "see xoxb-\nstyle tokens in the docs",
        "password=[REDACTED:password]\nretry in 5 minutes",
        "token=[REDACTED:password]\nDeployV2 started",
        "AKIA keys rotate\nweekly",
        "the build\nstatus=green",
    ],
)
def test_prose_after_a_line_end_stays(text: str) -> None:
    """A prefix talked about, a word after a redacted value's line, a short mixed word: the
    next line is no piece of a credential."""
    before = Redactor().text(text)
    assert before.splitlines()[1:] == text.splitlines()[1:]
