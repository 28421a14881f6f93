"""Redaction's round-3 leaks: a secret in YAML or JSON escaped twice inside a JSON string,
systemd's quoted Environment= values, Windows tools' `-p:` and `/password:` options, ftp and
ncftp scripts, and the secret stores' and deployers' command lines (sops, vault, kubectl, helm,
terraform, ansible). Each is checked in four carriers: plain text, a JSON string, a YAML block
and a syslog line; what stands around the secret stays.

Every secret-like value here is made up for the test; nothing is a credential.
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
    """`text` as written, inside a JSON object's string, as a YAML block scalar's lines and as
    syslog lines (each line behind a syslog prefix)."""
    lines = text.split("\n")
    return {
        "plain": text,
        "json": json.dumps({"message": text}),
        "yaml": "alert:\n  description: |\n" + "".join(f"    {line}\n" for line in lines),
        "syslog": "\n".join(f"<13>Dec  6 03:00:00 host app[42]: {line}" for line in lines),
    }


def _assert_gone(text: str, secrets: tuple[str, ...], kept: tuple[str, ...]) -> None:
    """In every carrier, none of `secrets` is left and each of `kept` still is."""
    for carrier, form in _carriers(text).items():
        redacted = _redacted(form)
        for secret in secrets:
            assert secret not in redacted, (carrier, form, redacted)
        assert "[REDACTED" in redacted, (carrier, form, redacted)
        for word in kept:
            assert word in redacted, (carrier, word, form, redacted)


# 1. YAML or JSON escaped twice: the JSON text holds `\\n`, `\\t`, `\\"`, `\\r\\n`.
@pytest.mark.parametrize(
    ("text", "kept"),
    [
        (r'"config": "db:\\n  password: s3cretPw\\n  host: dbhost"', ("host: dbhost",)),
        (r'{"config": "db:\\n  password: s3cretPw\\n  host: dbhost"}', ("host: dbhost",)),
        (r'{"config": "db:\\r\\n  password: s3cretPw\\r\\n  host: dbhost"}', ("host: dbhost",)),
        (r'{"config": "db:\\n\\tpassword: s3cretPw\\n\\thost: dbhost"}', ("host: dbhost",)),
        (r'{"config": "db:\\t password: s3cretPw\\t host: dbhost"}', ("host: dbhost",)),
        (r'{"config": "db:\\n  password: \\\"s3cretPw\\\"\\n  host: dbhost"}', ("dbhost",)),
        (r'{"config": "password=\\\"s3cretPw and more\\\" host=dbhost"}', ("host=dbhost",)),
        (r'{"config": "db:\\n  password: |\\n    s3cretPw\\n  host: dbhost"}', ("dbhost",)),
        (r'{"config": "[db]\\npassword = s3cretPw\\nhost = dbhost"}', ("host = dbhost",)),
        (r'{"config": "DB_PASSWORD=s3cretPw\\nHOST=dbhost"}', ("HOST=dbhost",)),
        (r"config: db:\\n  password: s3cretPw\\n  host: dbhost", ("host: dbhost",)),
        (r'config="db:\\n  password: \"s3cretPw\"\\n  host: dbhost"', ("dbhost",)),
        (r'{"config": "{\\"password\\": \\"s3cretPw\\", \\"host\\": \\"dbhost\\"}"}', ("dbhost",)),
        (r'"{\\\"db\\\": {\\\"password\\\": \\\"s3cretPw\\\"}, \\\"host\\\": 1}"', ("host",)),
    ],
)
def test_secret_escaped_twice_goes_and_the_rest_stays(text: str, kept: tuple[str, ...]) -> None:
    """A secret in YAML, INI, .env or JSON whose escapes are escaped again goes, in every
    carrier, and the lines after it stay."""
    _assert_gone(text, ("s3cretPw", "more"), kept)


# 2. systemd's quoting: the whole quoted value goes.
@pytest.mark.parametrize(
    "text",
    [
        'Environment="DB_PASSWORD=alpha bravo charlie"',
        'Environment="DB_PASSWORD=alpha bravo\\"charlie delta"',
        'Environment="LANG=C" "DB_PASSWORD=alpha bravo charlie"',
        'Environment="DB_PASSWORD=alpha bravo" "API_TOKEN=charlie delta"',
        'docker run -e "DB_PASSWORD=alpha bravo" -e "API_TOKEN=charlie delta" img',
        "Environment='DB_PASSWORD=alpha bravo charlie'",
        'ExecStart=/usr/bin/env "DB_PASSWORD=alpha bravo charlie" /usr/bin/app',
    ],
)
def test_systemd_quoted_assignment_goes_whole(text: str) -> None:
    """systemd's quoted NAME=value (spaces and escaped quotes inside) loses its whole value."""
    _assert_gone(text, ("alpha", "bravo", "charlie", "delta"), ("DB_PASSWORD=",))


# 3. Windows tools: `-p:`, `/p:`, `/password:`.
@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("winrs -r:host -u:admin -p:S3cretPw cmd", ("-u:admin", "cmd")),
        ('winrs -r:host -u:admin -p:"S3cretPw more" cmd', ("-u:admin", "cmd")),
        ("winrs -r:host /u:admin /p:S3cretPw ipconfig", ("/u:admin", "ipconfig")),
        ("tool.exe -password:S3cretPw -user:admin", ("-user:admin",)),
        ("tool.exe /password:S3cretPw /user:admin", ("/user:admin",)),
        ("msdeploy -verb:sync -dest:auto,computerName=h,userName=u,password=S3cretPw", ("u,",)),
        ("sqlcmd -S db -U sa -P S3cretPw -Q x", ("-U sa",)),
        ("psexec \\\\host -u admin -p S3cretPw cmd", ("-u admin",)),
        ("net use Z: \\\\srv\\share S3cretPw /user:admin", ("/user:admin",)),
    ],
)
def test_windows_tool_password_option_goes(text: str, kept: tuple[str, ...]) -> None:
    """A Windows tool's `-p:`, `/p:` or `/password:` value goes; its user stays."""
    _assert_gone(text, ("S3cretPw", "more"), kept)


# 4. ftp, lftp and ncftp.
@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("open ftp.example.com\nuser alice S3cretPw\nget x", ("user alice", "get x")),
        ("ftp -n host <<EOF\nuser alice S3cretPw\nbin\nEOF", ("user alice", "bin")),
        ("USER alice\nPASS S3cretPw\nRETR x", ("USER alice", "RETR x")),
        ("open ftp.example.com\nuser alice S3cretPw|x&y>z\nbye", ("user alice", "bye")),
        ("USER alice\nPASS S3cretPw&x<y\nRETR x", ("USER alice", "RETR x")),
        ("ftp> quote PASS S3cretPw", ("quote PASS",)),
        ("lftp -u alice,S3cretPw host", ("alice,",)),
        ("lftp -e 'open -u alice,S3cretPw host'", ("alice,",)),
        ("ncftp -u alice -p S3cretPw host", ("-u alice", "host")),
        ("ncftpput -u alice -p S3cretPw host /dir f", ("-u alice", "/dir f")),
        ("ncftpget -u alice -p S3cretPw host . /f", ("-u alice",)),
    ],
)
def test_ftp_script_password_goes(text: str, kept: tuple[str, ...]) -> None:
    """An ftp script's `user NAME PASSWORD` (or `PASS …`) and ncftp's `-p` lose the password;
    the user and the rest of the script stay."""
    _assert_gone(text, ("S3cretPw",), kept)


# 5. Secret stores and deployers.
@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ('sops --set \'["db"]["password"] "x9SecretV"\' s.yaml', ("s.yaml",)),
        ('sops set s.yaml \'["db"]["password"] "x9SecretV"\'', ("s.yaml",)),
        ('sops --set \'["api_token"] "x9SecretV"\' s.yaml', ("s.yaml",)),
        ("vault kv put secret/x password=x9SecretV user=bob", ("user=bob",)),
        ("kubectl create secret generic x --from-literal=password=x9SecretV", ("generic x",)),
        ("helm install app ./c --set db.password=x9SecretV,db.user=app", ("db.user=app",)),
        ("terraform apply -var 'db_password=x9SecretV'", ("-var",)),
        ("ansible-playbook site.yml -e 'ansible_password=x9SecretV'", ("site.yml",)),
    ],
)
def test_secret_store_command_value_goes(text: str, kept: tuple[str, ...]) -> None:
    """The value a secret store's or a deployer's command sets under a secret's name goes."""
    _assert_gone(text, ("x9SecretV",), kept)
