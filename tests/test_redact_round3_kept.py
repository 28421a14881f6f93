"""Redaction's round-3 over-redactions: text that names a secret without holding one stays as it
is. A reference to a secret (a command substitution, a variable, a template's placeholder, a
placeholder someone already wrote) is kept and a literal goes; an rsync daemon's
`user@host::module` and a git remote are no e-mail addresses; prose about a password option
is no password. Each is checked in four carriers: plain text, a JSON string, a YAML block and a
syslog line.
"""

from __future__ import annotations

import json

import pytest

from triage.redact import Redactor

REDACTOR = Redactor()


def _redacted(text: str) -> str:
    """The redactor's pass over `text`, without the memo of short texts."""
    return REDACTOR._redacted(text, ())


def _carriers(text: str) -> dict[str, str]:
    """`text` as written, inside a JSON object's string, as a YAML block scalar's line and as
    a syslog line."""
    return {
        "plain": text,
        "json": json.dumps({"message": text}),
        "yaml": f"alert:\n  description: |\n    {text}\n",
        "syslog": f"<13>Dec  6 03:00:00 host app[42]: {text}",
    }


def _assert_kept(text: str) -> None:
    """In every carrier, the redactor leaves the text as it is."""
    for carrier, form in _carriers(text).items():
        assert _redacted(form) == form, (carrier, form)


# 6. References to a secret, not secrets.
@pytest.mark.parametrize(
    "text",
    [
        "PGPASSWORD=$(cat /run/secrets/pg) psql -h db",
        "PGPASSWORD=`cat /run/secrets/pg` psql -h db",
        'export DB_PASSWORD="$(vault kv get -field=password secret/db)"',
        "TOKEN=$(gcloud auth print-access-token)",
        'PASSWORD="${DB_PASSWORD}"',
        "password: ${{ secrets.X }}",
        "password={{ vault_pw }}",
        "password=<redacted>",
        "password: <secret>",
        "api_token=<your-api-token>",
        "password: <PASSWORD>",
        "password=[REDACTED]",
    ],
)
def test_reference_to_a_secret_stays(text: str) -> None:
    """A value that says where the secret comes from or that it was removed stays whole."""
    _assert_kept(text)


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("PGPASSWORD=$(echo Zq7xK9pL2v) psql", "Zq7xK9pL2v"),
        ("PGPASSWORD=$(printf 'Zq7xK9pL2v') psql", "Zq7xK9pL2v"),
        ("PGPASSWORD=`echo Zq7xK9pL2v` psql", "Zq7xK9pL2v"),
        ("password=<Zq7xK9pL2v>", "Zq7xK9pL2v"),
        ("password=Zq7xK9pL2v", "Zq7xK9pL2v"),
        ('password: {{ .Values.x | default "Zq7xK9pL2v" }}', "Zq7xK9pL2v"),
        ("password: \"{{ lookup('env','X') | default('Zq7xK9pL2v') }}\"", "Zq7xK9pL2v"),
    ],
)
def test_literal_dressed_as_a_reference_goes(text: str, secret: str) -> None:
    """A literal inside what looks like a reference (echo's argument in a command
    substitution, random letters and digits in angle brackets) still goes."""
    for carrier, form in _carriers(text).items():
        assert secret not in _redacted(form), (carrier, form)


# 7. rsync's daemon paths and git remotes are no e-mail addresses.
@pytest.mark.parametrize(
    "text",
    [
        "rsync -av backup@nas.example.com::module/path /dst",
        "rsync -av /src backup@nas.example.com::module",
        "rsync rsync://backup@nas.example.com/module/ /dst",
        "git clone git@github.com:org/repo.git",
        "git remote add origin git@gitlab.example.com:group/sub/repo.git",
    ],
)
def test_rsync_module_and_git_remote_stay(text: str) -> None:
    """`user@host::module` and `git@host:path` name a login and a host, not a mailbox."""
    _assert_kept(text)


def test_an_email_beside_an_rsync_path_still_goes() -> None:
    """A real e-mail address on the same line as an rsync module still goes."""
    text = "rsync -av backup@nas.example.com::module /dst # ask alice@example.com"
    redacted = _redacted(text)
    assert "alice@example.com" not in redacted
    assert "backup@nas.example.com::module" in redacted


# 8. Prose about a password option.
@pytest.mark.parametrize(
    "text",
    [
        "the zip -P option is insecure",
        "use mysql -p to be prompted",
        "docker login --password-stdin reads it from standard input",
        "sshpass -p is unsafe; use -f",
        "the sqlcmd -P flag shows the password in ps",
        "psexec -p option sends it in clear",
        "pass redis-cli -a only in tests",
    ],
)
def test_prose_about_a_password_option_stays(text: str) -> None:
    """A sentence about a command's password option (no value given) stays whole."""
    _assert_kept(text)


def test_json_value_under_a_secret_name_keeps_a_reference_and_loses_a_literal() -> None:
    """Under a secret's JSON key, a reference (a command's output, a placeholder in angle
    brackets, Windows' variable) stays and a literal goes."""
    kept = {
        "password": "$(cat /run/secrets/pw)",
        "api_token": "<your-api-token>",
        "db_password": "%DB_PASSWORD%",
    }
    assert REDACTOR.value(kept) == kept
    assert REDACTOR.value({"password": "$(echo Zq7xK9pL2v)"}) == {"password": "[REDACTED:password]"}
