"""A secret-named value is found whatever joins it to its name: an arrow (`->`, `=>`, `→`, R's
`<-`), a tab, a run of aligning spaces, a command's `set NAME value`, PowerShell's `-Password
value`; and a table whose header row names a secret column loses that column's cells (TSV,
CSV, Markdown and psql tables, SQL's `INSERT (…) VALUES (…)`). What only looks close stays.

The secret has no shape a vendor rule knows, so only the name can tell.
"""

from __future__ import annotations

import pytest

from triage.redact import redact

#: A password a person chose: words and a number.
SECRET = "opal-kettle-sunrise-42"
SECOND = "birch-lantern-meadow-77"

LEAKS = [
    # Arrows and association operators.
    pytest.param(f"X-Api-Key -> {SECRET}", id="ascii-arrow"),
    pytest.param(f"password → {SECRET}", id="unicode-arrow"),
    pytest.param(f"token ⇒ {SECRET}", id="double-arrow"),
    pytest.param(f"password ⟶ {SECRET}", id="long-arrow"),
    pytest.param(f"api_key ➜ {SECRET}", id="heavy-arrow"),
    pytest.param(f"password <- '{SECRET}'", id="r-assign-quoted"),
    pytest.param(f"password <- {SECRET}", id="r-assign-bare"),
    pytest.param(f'db_password <<- "{SECRET}"', id="r-global-assign"),
    pytest.param(f"api_key => {SECRET}", id="fat-arrow"),
    pytest.param(f"password := {SECRET}", id="walrus"),
    # A tab between name and value: TSV key/value listings, aligned output.
    pytest.param(f"password\t{SECRET}", id="tab"),
    pytest.param(f"api_key\t\t{SECRET}", id="tabs"),
    pytest.param(f"  DB_PASSWORD\t{SECRET}\n", id="indented-tab"),
    pytest.param(f'{{"log": "config dump\\npassword\\t{SECRET}\\nport\\t5432"}}', id="escaped-tab"),
    # Aligning spaces before the separator.
    pytest.param(f"password        = {SECRET}", id="aligned-equals"),
    pytest.param(f"client_secret          : {SECRET}", id="aligned-colon"),
    # Commands that set a named value with a space.
    pytest.param(f"set password {SECRET}", id="set-name-value"),
    pytest.param(f"redis> config set masterauth {SECRET}", id="config-set"),
    pytest.param(f"set -gx API_TOKEN {SECRET}", id="fish-set"),
    pytest.param(f"setx DB_PASSWORD {SECRET}", id="windows-setx"),
    pytest.param(f"launchctl setenv API_KEY {SECRET}", id="launchctl-setenv"),
    pytest.param(f"git config --global user.password {SECRET}", id="git-config"),
    pytest.param(f"npm config set _authToken {SECRET}", id="npm-config-set"),
    # PowerShell's parameters.
    pytest.param(f"Connect-Db -Server db01 -Password {SECRET}", id="powershell-password"),
    pytest.param(f"New-Client -ApiKey {SECRET} -Verbose", id="powershell-api-key"),
    pytest.param(f"Set-Secret -ClientSecret {SECRET}", id="powershell-client-secret"),
    pytest.param(
        f"$pw = ConvertTo-SecureString '{SECRET}' -AsPlainText -Force", id="securestring-quoted"
    ),
    pytest.param(
        f"ConvertTo-SecureString -String {SECRET} -AsPlainText -Force", id="securestring-string"
    ),
    # Tables whose header row names a secret column.
    pytest.param(f"user\tpassword\thost\napp\t{SECRET}\tdb01\n", id="tsv"),
    pytest.param(f"user\tpassword\thost\napp\t{SECRET}\tdb01\nops\t{SECOND}\tdb02", id="tsv-rows"),
    pytest.param(f"name,api_key,region\nbilling,{SECRET},eu-west-1\n", id="csv"),
    pytest.param(f'"name","token"\n"billing","{SECRET}"\n', id="csv-quoted"),
    pytest.param(f"name;password\nbilling;{SECRET}\n", id="semicolon"),
    pytest.param(
        f"| user | password | host |\n|---|---|---|\n| app | {SECRET} | db01 |\n", id="markdown"
    ),
    pytest.param(
        f" usename | passwd \n---------+--------\n app     | {SECRET}\n(1 row)\n", id="psql"
    ),
    pytest.param(
        "+------+------------------------+\n| user | password               |\n"
        f"+------+------------------------+\n| app  | {SECRET} |\n+------+---+\n",
        id="mysql-box",
    ),
    pytest.param(
        f"INSERT INTO users (name, password, role) VALUES ('app', '{SECRET}', 'admin');",
        id="sql-insert",
    ),
    pytest.param(
        f'INSERT INTO "users" ("name", "api_token") VALUES (\'a\', \'{SECRET}\'), '
        f"('b', '{SECOND}')",
        id="sql-insert-rows",
    ),
    pytest.param(f"SET PASSWORD FOR 'app'@'%' = '{SECRET}'", id="mysql-set-password-for"),
    # A table inside a JSON string (a log line holding a query's output).
    pytest.param(
        '{"log": "user\\tpassword\\thost\\napp\\t' + SECRET + '\\tdb01\\n"}', id="escaped-tsv"
    ),
    pytest.param('{"log": "name,token\\nci,' + SECRET + '"}', id="escaped-csv"),
]


@pytest.mark.parametrize("text", LEAKS)
def test_value_is_redacted(text: str) -> None:
    """The secret-named value is gone from the redacted text, whatever joins it to its name."""
    out = redact(text)
    assert SECRET not in out, out
    assert SECOND not in out, out


KEPT = [
    # Member access and pointers, not assignments.
    "#3 /srv/app/Auth.php(42): App\\Auth->token->validate()",
    "in App\\Models\\User->password() at line 7",
    "session->token->expires_at was null",
    # A flow in prose whose arrows follow no secret's name.
    "request flow: login -> session -> logout",
    # State words after an arrow or a tab.
    "password -> rotated",
    "password\texpired",
    "token\t\tnot set",
    # Tables whose secret column holds no secret, or whose header names none.
    "user\tpassword\thost\napp\t********\tdb01\n",
    "user\tpassword\thost\napp\tNULL\tdb01\n",
    "name,count,region\nbilling,3,eu-west-1\n",
    "| user | host |\n|---|---|\n| app | db01 |\n",
    "host\tcpu\tmem\nweb-1\t93%\t71%\n",
    # PowerShell with a variable, a switch, or an expression.
    "Connect-Db -Password $pw",
    "Connect-Db -Password (Get-Secret db)",
    "Get-Credential -Message 'enter the password'",
    # Ordinary prose with set and tabs.
    "set password policy to strict",
    "set token ttl to 3600",
    "id\tname\n1\tcheckout\n",
]


@pytest.mark.parametrize("text", KEPT)
def test_text_is_kept(text: str) -> None:
    """Text that only looks like a pair, a command or a secret table stays as it was."""
    assert redact(text) == text
