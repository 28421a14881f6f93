"""A credential joined to a name by a dot (`tag.<secret>`, a label key a normaliser built from
a Sentry tag, `env.<secret>`) is still redacted: the dot is no part of the secret's shape."""

from __future__ import annotations

import pytest

from triage.redact import Redactor

AZURE = "4Yg3Q~B4e8Qy7ClYsJRoURe~OsXm54nya3ckZGKa"


@pytest.mark.parametrize("name", ["tag.", "a.b.", "env.", "sentry.tag."])
def test_an_azure_client_secret_after_a_dotted_name_is_redacted(name: str) -> None:
    """An Entra ID client secret (…Q~…, 40 characters) right after `name` goes, the name
    stays."""
    assert Redactor().text(f"{name}{AZURE} https://x") == f"{name}[REDACTED:token] https://x"
