"""Redaction's round-3 siblings: forms beside the round's known leaks and over-redactions that
share their cause. A literal goes and a reference stays; a login at a host after a remote
shell is no e-mail address; a value ends where the next escaped line's pair starts.

Every secret-like value here is made up for the test; nothing is a credential.
"""

from __future__ import annotations

import json

import pytest

from triage.redact import Redactor

REDACTOR = Redactor()
SECRET = "S3cretPw9x"


def _redacted(text: str) -> str:
    """The redactor's pass over `text`, without the memo of short texts."""
    return REDACTOR._redacted(text, ())


def _forms(text: str) -> list[str]:
    """`text` as written and inside a JSON object's string."""
    return [text, json.dumps({"message": text})]


@pytest.mark.parametrize(
    "text",
    [
        f"isql -U sa -P {SECRET} -S db",
        f"osql -U sa -P {SECRET}",
        f"tsql -S db -U sa -P {SECRET}",
        f"security add-generic-password -a me -s svc -w {SECRET}",
        f"echo -n {SECRET} | gcloud secrets versions add db --data-file=-",
        f"echo {SECRET} | docker secret create db_pw -",
        f"lftp -e 'user alice {SECRET}; ls' ftp.example.com",
        f"jq --arg db_password {SECRET} '.db.pw = $db_password' f.json",
        f"x: ${{DB_PASSWORD:-$(echo {SECRET})}}",
        f"password: `echo {SECRET}`",
        f'{{"config": "password: {SECRET}\\\\\\\\nhost: db"}}',
        f'{{"c": "a:\\\\\\\\n  b:\\\\\\\\n    password: {SECRET}\\\\\\\\n    host: db"}}',
        f"netdom join pc /domain:corp /userd:admin /passwordd:{SECRET}",
        f"ksetup /setcomputerpassword {SECRET}",
        f"smbclient //server/share {SECRET} -U alice",
        f"smbclient -m SMB3 //server/share {SECRET}",
        f"ansible-vault encrypt_string '{SECRET}' --name 'db_password'",
        f"vncpasswd -f <<< {SECRET}",
        f"echo {SECRET} | gpg --batch --passphrase-fd 0 -d f.gpg",
        f"echo -n {SECRET} | cryptsetup open /dev/sdb1 data --key-file=-",
    ],
)
def test_sibling_secret_goes(text: str) -> None:
    """A password given to a sibling tool (Sybase's and FreeTDS's -P, macOS keychain's -w, a
    secret store or a tool reading its input, lftp's user command, jq's --arg, echo's output,
    netdom's and ksetup's options, smbclient's and ansible-vault's arguments) or escaped three
    times goes."""
    for form in _forms(text):
        assert SECRET not in _redacted(form), form


@pytest.mark.parametrize(
    "text",
    [
        "password: %DB_PASSWORD%",
        "password: ${env:DB_PASSWORD}",
        "password: $env:DB_PASSWORD",
        "password: !Ref DbPassword",
        "password: ${ssm:/prod/db/password}",
        "password: ${file(../secrets.json):password}",
        "DB_PASSWORD=${DB_PASSWORD:-$(cat /run/secrets/pw)}",
        "DB_PASSWORD=${DB_PASSWORD:-$FALLBACK_PW}",
        "TOKEN=$(gcloud auth print-access-token)",
        "ssh deploy@web01.example.com uptime",
        "ssh -i key.pem -p 2222 deploy@web01.example.com",
        "scp -P 2222 deploy@web01.example.com:/var/log/x .",
        "the --password flag is deprecated",
        "set --db-password to your password",
        "keytool -storepass is required",
        "the --token option reads it from the file",
        "tool -u:admin -p:* prompts",
        "smbclient //server/share -U alice",
        "smbclient -L //server -N",
    ],
)
def test_sibling_reference_or_prose_stays(text: str) -> None:
    """A reference to a secret (Windows', PowerShell's, Serverless' and CloudFormation's, a
    shell default that reads one), a login after ssh and prose about an option stay whole."""
    for form in _forms(text):
        assert _redacted(form) == form


def test_an_email_after_an_ssh_login_still_goes() -> None:
    """A person's address later on a line that starts with ssh still goes."""
    redacted = _redacted("ssh me@x.example.com then mail alice@example.com")
    assert "alice@example.com" not in redacted
    assert "me@x.example.com" in redacted


@pytest.mark.parametrize(
    "text",
    [
        "user alice deleted\nuser bob S3cretPw9x",
        "ftp upload failed\nuser alice not found",
        "ftp upload failed\nuser alice denied",
        "sftp session closed; user bob logged out",
        "open file failed: user alice has no access",
        "open file failed\nuser alice denied",
    ],
)
def test_prose_that_says_user_stays_without_an_ftp_session(text: str) -> None:
    """`user NAME WORD` outside an ftp session (no script given to ftp, no lftp, no `open
    host` line of its own), or with more words after it, is prose."""
    for form in _forms(text):
        assert _redacted(form) == form


@pytest.mark.parametrize("tag", ["!vault", "!!binary"])
def test_a_tagged_block_scalar_loses_its_lines_and_keeps_its_tag(tag: str) -> None:
    """`password: !vault |` is a block scalar with a tag: its lines go, the tag and the next
    key stay (the tag is no password)."""
    text = (
        f"db:\n  password: {tag} |\n    $ANSIBLE_VAULT;1.1;AES256\n    6638643965323633\n  host: x"
    )
    for form in _forms(text):
        redacted = _redacted(form)
        assert "6638643965323633" not in redacted, form
        assert f"password: {tag} |" in redacted and "host: x" in redacted, redacted
