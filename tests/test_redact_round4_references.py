"""References to a secret inside a template or a command stay (round 4): a lookup's arguments
(`{{ lookup('env','DB_PASSWORD') }}`, `{{ secret "kv/db" }}`, Helm's `required` message),
Terraform's `${aws_secretsmanager_secret_version.db.secret_string}`, a command's output
after a password option (`-p "$(aws ssm get-parameter …)"`). They say where the secret comes
from. A literal beside them (a default, a pair after them) still goes.
"""

from __future__ import annotations

import pytest

from triage.redact import Redactor

LITERAL = "Zq7xK9pL2v"


@pytest.mark.parametrize(
    "text",
    [
        "password: {{ lookup('env','DB_PASSWORD') }}",
        "db_password: \"{{ lookup('env', 'DB_PASSWORD') }}\"",
        "password: \"{{ lookup('aws_ssm', '/prod/db/password', region='eu-west-1') }}\"",
        "db_password: \"{{ q('env', 'X') }}\"",
        "db_password: \"{{ lookup('file', '/etc/secrets/db') | trim }}\"",
        "{\"password\": \"{{ lookup('env','DB_PASSWORD') }}\"}",
        'password = {{ secret "kv/db" }}',
        'password: {{ with secret "kv/data/db" }}{{ .Data.data.password }}{{ end }}',
        'PASSWORD={{ key "service/db/password" }}',
        'password: {{ env "DB_PASSWORD" }}',
        'password: {{ required "set .Values.db.password" .Values.db.password }}',
        'password: {{ .Values.db.password | required "db password is required" }}',
        'password: {{ (lookup "v1" "Secret" "default" "db").data.password }}',
        'password: {{ index .Values.secrets "db-password" }}',
        "password = ${aws_secretsmanager_secret_version.db.secret_string}",
        'password = "${aws_secretsmanager_secret_version.db.secret_string}"',
        'password = ${data.vault_generic_secret.db.data["password"]}',
        'password = "${jsondecode(aws_secretsmanager_secret_version.db.secret_string)["pw"]}"',
        'password = "${lookup(var.passwords, "db")}"',
        "<password>{{ lookup('env','DB_PASSWORD') }}</password>",
        "deploy --password \"{{ lookup('env','DB_PASSWORD') }}\"",
        "db_password: \"{{ query('aws_secret', 'prod/db') }}\"",
        "db_password: \"{{ lookup('password', '/dev/null length=15') }}\"",
        "password: '{{ with secret \"kv/data/db\" }}{{ .Data.data.password }}{{ end }}'",
        "DB_PASSWORD=$(aws ssm get-parameter --name /prod/db/password --with-decryption)",
        "psql --password $(aws ssm get-parameter --name /db/pw --query Parameter.Value)",
    ],
)
def test_a_reference_to_a_secret_stays(text: str) -> None:
    """A lookup's arguments and a reference to a store's value are left as they are."""
    assert Redactor().text(text) == text


@pytest.mark.parametrize(
    "text",
    [
        f"password: \"{{{{ lookup('env','DB_PASSWORD') | default('{LITERAL}') }}}}\"",
        f"password: \"{{{{ lookup('env', 'DB_PASSWORD', default='{LITERAL}') }}}}\"",
        f'password: {{{{ .Values.pw | default "{LITERAL}" }}}}',
        f'password: {{{{ "{LITERAL}" | b64enc }}}}',
        f'password: {{{{ secret "kv/db" }}}} token={LITERAL}',
        f'password = "${{lookup(var.passwords, "db", "{LITERAL}")}}"',
        f"<password>{{{{ lookup('env','X') | default('{LITERAL}') }}}}</password>",
        f"deploy --password \"{{{{ pw | default('{LITERAL}') }}}}\"",
        f"password: '{{{{ with secret \"kv/db\" }}}}{LITERAL}{{{{ end }}}}'",
        "password: \"{{ lookup('env', 'Zq7xK9pL2vWx8mN3bV5c') }}\"",
    ],
)
def test_a_literal_beside_a_reference_goes(text: str) -> None:
    """A default, a value piped into a filter, a pair after the reference and a key's shape
    given as a lookup's argument go."""
    out = Redactor().text(text)
    assert LITERAL not in out


def test_a_reference_keeps_its_arguments_and_loses_its_default() -> None:
    """Exactly the default is replaced; the lookup's arguments stay."""
    text = "DB_PASSWORD: \"{{ lookup('env', 'PW') | default('s3cr3t') }}\""
    assert Redactor().text(text) == (
        "DB_PASSWORD: \"{{ lookup('env', 'PW') | default('[REDACTED:password]') }}\""
    )


@pytest.mark.parametrize(
    "text",
    [
        "password: {{ lookup('env','DB_PASSWORD') }}",
        f"password: \"{{{{ lookup('env','DB_PASSWORD') | default('{LITERAL}') }}}}\"",
    ],
)
def test_a_reference_is_a_fixed_point(text: str) -> None:
    """Redacting the redacted text again changes nothing."""
    once = Redactor().text(text)
    assert Redactor().text(once) == once


@pytest.mark.parametrize(
    "text",
    [
        "password = ${X:-$(echo hunter2)}",
        "x password: ${PW:-$(printf hunter2)}",
    ],
)
def test_a_shell_default_that_echoes_a_literal_goes(text: str) -> None:
    """A default that only repeats a literal (`$(echo …)`, spaces in it) goes whole, the
    variable's name and brace kept; a default that reads a file stays (a reference)."""
    out = Redactor().text(text)
    assert "hunter2" not in out
    assert out.endswith(":-[REDACTED:password]}")


@pytest.mark.parametrize(
    "text",
    [
        'mysql -u app -p"$(aws ssm get-parameter --name /db/pw --with-decryption)" db',
        "mysql -u app -p$MYSQL_PWD db",
        "docker login -u AWS -p $(aws ecr get-login-password --region eu-west-1) host",
        'docker login -u AWS -p "$(aws ecr get-login-password)" host',
    ],
)
def test_a_command_output_after_a_password_option_stays(text: str) -> None:
    """A command's output or a variable given as a password option's value is a reference."""
    assert Redactor().text(text) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mysql -phunter2 db", "mysql -p[REDACTED:password] db"),
        ("mysqldump -pS3cret -h db app", "mysqldump -p[REDACTED:password] -h db app"),
        ('mysql -u root -p"$(echo hunter2)" db', 'mysql -u root -p"[REDACTED:password]" db'),
        (
            "docker login -u AWS -p $(echo hunter2) host",
            "docker login -u AWS -p [REDACTED:password] host",
        ),
    ],
)
def test_a_literal_after_a_password_option_goes(text: str, expected: str) -> None:
    """The value glued to a first `-p`, and a command's output that only echoes a literal,
    go whole."""
    assert Redactor().text(text) == expected
