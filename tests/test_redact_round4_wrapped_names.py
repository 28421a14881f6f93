"""A secret's name broken inside its words by a text wrapper (`DB_P` / `ASSWORD=…`, round 4):
neither piece holds a needle of a secret's name, the name joined does, and its value goes.
A line that ends in a word and a next line that starts with a name that is no secret's stay.
"""

from __future__ import annotations

import json
import textwrap

import pytest

from triage.redact import Redactor

#: Random, but no 40-character AWS secret a shape rule would take whole anyway.
SECRET = "Jq3vN8xK2pL7mR4tZw9yB6cD"


def _left(out: str) -> list[str]:
    """The 8-character runs of `SECRET` still in `out`: what a reader could piece together."""
    return [SECRET[i : i + 8] for i in range(len(SECRET) - 7) if SECRET[i : i + 8] in out]


@pytest.mark.parametrize(
    "text",
    [
        "push failed with DB_P\nASSWORD=" + SECRET + " at 09:00",
        "push failed with DB_PASS\nWORD=" + SECRET + " at 09:00",
        "push failed with DB_P\r\nASSWORD=" + SECRET + " at 09:00",
        "push failed with GITHUB_TO\nKEN=" + SECRET + " at 09:00",
        "push failed with STRIPE_SECR\nET_KEY=" + SECRET + " at 09:00",
        "push failed with db_p\nassword=" + SECRET + " at 09:00",
        json.dumps({"message": "push failed with DB_P\nASSWORD=" + SECRET}),
        json.dumps({"message": "push failed with DB_P\r\nASSWORD=" + SECRET}),
    ],
)
def test_a_value_under_a_name_broken_inside_a_word_goes(text: str) -> None:
    """The name is read joined over the line break (raw, CRLF, or escaped in JSON), upper or
    lower case: no 8-character run of the value is left."""
    assert _left(Redactor().text(text)) == []


def test_a_short_password_under_a_broken_name_goes() -> None:
    """`DB_P` / `ASSWORD=hunter2`: a short word of a password, no shape to go by, goes."""
    out = Redactor().text("login failed: DB_P\nASSWORD=hunter2 rejected")
    assert "hunter2" not in out
    assert out.endswith("ASSWORD=[REDACTED:password] rejected")


@pytest.mark.parametrize("width", [24, 30, 35, 40, 45, 50, 60])
def test_a_wrapped_upper_case_name_at_any_width_loses_its_value(width: int) -> None:
    """`DB_PASSWORD=…` wrapped by textwrap at any width from 24 to 60: nothing of the value."""
    text = textwrap.fill(
        f"deploy failed for svc-api with DB_PASSWORD={SECRET} while pushing", width
    )
    out = Redactor().text(text)
    assert _left(out) == []
    assert "pushing" in out


@pytest.mark.parametrize(
    "text",
    [
        "the build ended with STATUS\nCODE=500 and retried",
        "restart the BUILD_SERVER\nPORT=8080 now",
        "deploy OK\nLEVEL=info msg=started",
        "deploy ok\nlevel=info msg=started",
        "see DB_P\nASSWORD=[REDACTED:password] in the log",
        "DB_P\nASSWORD=",
    ],
)
def test_a_name_that_joins_into_no_secret_stays(text: str) -> None:
    """Pieces that join into no secret's name, or a value already redacted, stay as they are."""
    assert Redactor().text(text) == text


def test_a_joined_name_is_a_fixed_point() -> None:
    """Redacting the redacted text again changes nothing."""
    once = Redactor().text("push failed with DB_P\nASSWORD=" + SECRET)
    assert Redactor().text(once) == once
