"""Round 3d leaks: an option named `--private_key`/`--hmac_key` with a space before its
value, ansible-vault's string after a `--vault-password-file f` option, and an ftp password
with a `;` inside; each in plain text and inside a JSON string, and the prose beside them
kept."""

from __future__ import annotations

import json

import pytest

from triage.redact import Redactor

_SECRET = "Zk3q9WmX2pLr8TvB"

_LEAKS = [
    pytest.param(f"signer --private_key {_SECRET} --out sig.bin", id="private-underscore-key"),
    pytest.param(f"signer --hmac_key {_SECRET}", id="hmac-underscore-key"),
    pytest.param(f"signer --hmac-key {_SECRET}", id="hmac-dash-key"),
    pytest.param(f"tool --signing_key={_SECRET}", id="signing-underscore-key-equals"),
    pytest.param(f"tool --db_password {_SECRET}", id="underscored-words-before-password"),
    pytest.param(f"tool --client_access_token {_SECRET}", id="underscored-words-before-token"),
    pytest.param(
        f"ansible-vault encrypt_string --vault-password-file f '{_SECRET}'",
        id="vault-password-file-then-string",
    ),
    pytest.param(
        f"ansible-vault encrypt_string --vault-id dev@prompt --name db_pw -J {_SECRET}",
        id="vault-id-name-and-flag-then-string",
    ),
    pytest.param(
        f"ansible-vault encrypt_string --output out.yml --ask-vault-pass '{_SECRET}' -n x",
        id="vault-output-and-ask-then-string",
    ),
    pytest.param(f"ftp -n host <<EOF\nuser bob pa;{_SECRET}\nget f\nEOF", id="ftp-user-semicolon"),
    pytest.param(f"ftp> user bob {_SECRET};x;y\n", id="ftp-prompt-semicolons"),
    pytest.param(f"USER bob\nPASS {_SECRET};x\n", id="ftp-pass-semicolon"),
]


@pytest.mark.parametrize("text", _LEAKS)
def test_secret_gone_in_plain_text(text: str) -> None:
    """The secret, and any part of it after a `;`, is gone from the plain text."""
    redacted = Redactor().text(text)
    assert _SECRET not in redacted
    assert ";x" not in redacted and "pa;" not in redacted


@pytest.mark.parametrize("text", _LEAKS)
def test_secret_gone_inside_a_json_string(text: str) -> None:
    """The secret is gone when the command is a JSON string's value, and the JSON stays valid."""
    redacted = Redactor().text(json.dumps({"message": text}))
    assert _SECRET not in redacted
    assert ";x" not in redacted
    json.loads(redacted)


@pytest.mark.parametrize(
    "text",
    [
        "the --private_key option",
        "use --hmac_key to sign",
        "pass the --hmac_key flag when signing",
        "ansible-vault encrypt_string --vault-password-file f is the usual way",
        "encrypt_string is the way to keep a value in a playbook",
    ],
)
def test_prose_about_the_options_stays(text: str) -> None:
    """Prose that names the options, not a value, is left as it was."""
    assert Redactor().text(text) == text


def test_lftp_semicolon_still_ends_a_command() -> None:
    """In an lftp command string a `; ` still ends the password, so the next command stays."""
    text = f'lftp -e "user bob {_SECRET}; get f" host'
    assert Redactor().text(text) == 'lftp -e "user bob [REDACTED:password]; get f" host'


@pytest.mark.parametrize("name", ["HmacKey", "SigningKey", "EncryptionKey"])
def test_powershell_key_parameter_value_goes(name: str) -> None:
    """A PowerShell parameter naming an HMAC, signing or encryption key loses its value."""
    text = f"New-Signature -{name} {_SECRET} -Path a.txt"
    assert Redactor().text(text) == f"New-Signature -{name} [REDACTED:password] -Path a.txt"
