"""Round 20 (helper 534): what round 19 left (Go's `%v` of a struct with unnamed fields after a
secret's name, Azure's storage keys in `-o tsv`/table output, `key1=` with a shorter value) and
the leak classes a config or a log line carries, each proved to go while ordinary text around
it stays."""

from __future__ import annotations

import pytest

from triage.redact import Redactor

P = "[REDACTED:password]"


def _text(text: str) -> str:
    """`text` as the redactor writes it."""
    return Redactor().text(text)


# --- Go's %v of a struct, no field names -------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "shown"),
    [
        ("creds: {admin s3cr3t}", f"creds: {{{P}}}"),
        ("password={admin Xk7pQ2vR9 db}", f"password={{{P}}}"),
        (
            "login failed secret={bob Hunter2Secret 5432} retrying",
            f"login failed secret={{{P}}} retrying",
        ),
    ],
)
def test_a_go_struct_without_field_names_under_a_secrets_name_goes_whole(
    given: str, shown: str
) -> None:
    """Go's `%v` of a struct (no `&`, no field names) after a secret's name loses every field,
    its braces kept: which field is the password cannot be told, so none is left."""
    assert _text(given) == shown


@pytest.mark.parametrize(
    "given",
    [
        "retrying with config={timeout:30s retries:3}",
        "password policy={minLength 12}",
        "state={running healthy}",
        "token={{ .Values.token }}",
        "password={}",
    ],
)
def test_braces_that_are_no_secrets_struct_stay(given: str) -> None:
    """Braces after a name that is no secret's, a template and an empty object stay as written."""
    assert _text(given) == given


def test_an_ldap_scheme_before_a_hash_is_still_read_as_one_value() -> None:
    """`{SSHA}…` after a password's name is a scheme then its hash, not a struct: all of it
    goes, as a hash, and `{CRYPT}…` with it."""
    assert (
        _text("password={SSHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=") == "password=[REDACTED:password-hash]"
    )
    assert _text("password={CRYPT}Xk7pQ2vR9mT4") == f"password={P}"
