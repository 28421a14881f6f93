"""Round 7b's command-line secrets, by class: a secret fed to a command on its input (a pipe,
a heredoc), a value given to a secret store's `set`, load testers' basic auth, `set NAME =
"…"`, a database client's positional password and a CI runner's debug evaluation of a secret;
each beside the near text that must stay."""

from __future__ import annotations

import json

import pytest

from triage.redact import Redactor

SECRET = "s3cretV4lueQ9"


def _shown(text: str) -> str:
    """What the redactor leaves of `text`."""
    return Redactor().text(text)


def _in_json(text: str) -> str:
    """What the redactor leaves of `text` as a JSON string's value (its line breaks escaped)."""
    return Redactor().text(json.dumps({"log": text}))


@pytest.mark.parametrize(
    "text",
    [
        f"echo {SECRET} | gh secret set DB_PASSWORD",
        f"echo -n '{SECRET}' | fly secrets import",
        f"echo {SECRET} | glab variable set API_TOKEN",
        f"printf '%s' {SECRET} | npx wrangler pages secret put TOKEN",
        f"echo -n {SECRET} | ansible-vault encrypt_string --stdin-name db_password",
        f"echo {SECRET} | pass insert -e db/password",
        f'echo "{SECRET}" | bin/kibana-keystore add elasticsearch.password --stdin',
    ],
)
def test_a_value_piped_into_a_command_that_stores_a_secret_is_blanked(text: str) -> None:
    """A value piped into a secret store's or a keystore's command, or into a command storing
    it under a secret's name, is blanked."""
    assert SECRET not in _shown(text)
    assert SECRET not in _in_json(text)


@pytest.mark.parametrize(
    "text",
    [
        "echo hello | grep password",
        "echo '{\"a\": 1}' | jq -r .token",
        'echo "$DB_PASSWORD" | wrangler secret put DB_PASSWORD',
        "echo production | vercel env add NODE_ENV preview",
        "echo done | tee -a deploy.log",
    ],
)
def test_a_value_piped_into_a_filter_or_a_plain_setting_stays(text: str) -> None:
    """A value piped into a filter, into a setting of no secret's name, or a reference piped
    into a secret store, stays as written."""
    assert _shown(text) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            f"mysql -u root -p <<'SQL'\n{SECRET}\nselect 1;\nSQL",
            "mysql -u root -p <<'SQL'\n[REDACTED:password]\nselect 1;\nSQL",
        ),
        (
            f"psql -h db -U app -W <<EOF\n{SECRET}\nEOF",
            "psql -h db -U app -W <<EOF\n[REDACTED:password]\nEOF",
        ),
        (
            f"docker login -u ci --password-stdin registry <<-EOF\n  {SECRET}\n  EOF",
            "docker login -u ci --password-stdin registry <<-EOF\n  [REDACTED:password]\n  EOF",
        ),
        (
            f'echo start; mysql -u "root" -p <<EOF\n{SECRET}\nEOF',
            'echo start; mysql -u "root" -p <<EOF\n[REDACTED:password]\nEOF',
        ),
        (
            f"chpasswd <<EOF\nalice:{SECRET}\nbob:{SECRET[::-1]}\nEOF",
            "chpasswd <<EOF\nalice:[REDACTED:password]\nbob:[REDACTED:password]\nEOF",
        ),
    ],
)
def test_a_heredoc_fed_to_a_password_prompt_is_blanked(text: str, expected: str) -> None:
    """A heredoc fed to a command that reads a password from its input loses its first line
    (the password; the SQL after it stays), or each login's password for chpasswd, raw and
    inside a JSON string."""
    assert _shown(text) == expected
    assert _in_json(text) == json.dumps({"log": expected})


@pytest.mark.parametrize(
    "text",
    [
        "mysql -u root <<EOF\nselect 1;\nEOF",
        "mysql -u root -p <<EOF\n$MYSQL_PWD\nEOF",
        "cat <<EOF > notes.txt\nhello world\nEOF",
        "sudo -S true <<< $SUDO_PW",
        "mysql -p | cat <<EOF\nhello world\nEOF",
        json.dumps({"args": "login --token", "script": "cat <<EOF\nhello world\nEOF"}),
    ],
)
def test_a_heredoc_to_another_command_or_of_a_reference_stays(text: str) -> None:
    """A heredoc to a command that asks for no password (another pipeline step's or JSON
    member's does not count), or whose first line is a reference, stays."""
    assert _shown(text) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            f'dotnet user-secrets set "Stripe:Publishable" "{SECRET}"',
            'dotnet user-secrets set "Stripe:Publishable" "[REDACTED:password]"',
        ),
        (
            f"dotnet user-secrets set Movies:ServiceApiKey {SECRET} --project ./src/App",
            "dotnet user-secrets set Movies:ServiceApiKey [REDACTED:password] --project ./src/App",
        ),
        (
            f"gh secret set DB_PASSWORD -b{SECRET} --repo corp/app",
            "gh secret set DB_PASSWORD -b[REDACTED:password] --repo corp/app",
        ),
        (
            f'gh secret set DEPLOY_KEY -b"{SECRET}"',
            'gh secret set DEPLOY_KEY -b"[REDACTED:password]"',
        ),
    ],
)
def test_a_value_given_to_a_secret_stores_set_is_blanked(text: str, expected: str) -> None:
    """`dotnet user-secrets set NAME VALUE` loses its value whatever the name, gh's `-bVALUE`
    its glued value; the name, the options and the quotes stay."""
    assert _shown(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        'dotnet user-secrets set "Movies:Name" "$MOVIES"',
        "dotnet user-secrets list --project ./src/App",
        'gh secret set DB_PASSWORD -b"$PW"',
        "git config --global user.email -h",
        "gh secret set DB_PASSWORD -b -R corp/app",
    ],
)
def test_a_reference_or_an_option_given_to_a_set_stays(text: str) -> None:
    """A reference given to a secret store's `set`, and an option standing where a value
    would, stay (the `set NAME VALUE` rule took `-b` for the value before)."""
    assert _shown(text) == text


@pytest.mark.parametrize(
    "text",
    [
        f"ab -n 1000 -c 10 -A loadtest:{SECRET} https://api.corp/v1/orders",
        f"ab -P proxy:{SECRET} -n 10 http://api.corp/",
        f"/usr/local/bin/hey -z 30s -a loadtest:{SECRET} https://api.corp/",
        f"oha -n 100 -a bench:'{SECRET}' http://api.corp/",
    ],
)
def test_a_load_testers_basic_auth_password_is_blanked(text: str) -> None:
    """Apache Bench's `-A`/`-P user:pw`, hey's and oha's `-a user:pw` lose the password and
    keep the user."""
    shown = _shown(text)
    assert SECRET not in shown
    assert ":[REDACTED:password]" in shown or ":'[REDACTED:password]'" in shown


@pytest.mark.parametrize(
    "text",
    ["tab -A 10:20 file", "grep -A 5:3 pattern", "hey -n 10 -c 2 -m POST http://api.corp/"],
)
def test_another_commands_dash_a_stays(text: str) -> None:
    """`-A`/`-a` of a command that is no load tester, and a load test given no login, stay."""
    assert _shown(text) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f'set smtp_pass = "{SECRET}"', 'set smtp_pass = "[REDACTED:password]"'),
        (f"set imap_pass = {SECRET}", "set imap_pass = [REDACTED:password]"),
        (f'SET PASSWORD = "{SECRET}"', 'SET PASSWORD = "[REDACTED:password]"'),
    ],
)
def test_a_set_with_a_spaced_equals_loses_its_value(text: str, expected: str) -> None:
    """`set NAME = VALUE` (muttrc) loses the value after the `=`, its quotes kept, in any
    case."""
    assert _shown(text) == expected


@pytest.mark.parametrize(
    "text",
    ['set folder = "imaps://mail.corp/"', "set password = yes", "set token = $TOKEN"],
)
def test_a_set_with_a_spaced_equals_of_no_secret_stays(text: str) -> None:
    """`set NAME = VALUE` of no secret's name, of a state word or a reference stays."""
    assert _shown(text) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            f"$ isql -v MSSQL_PROD sa {SECRET}\n[08001][unixODBC] Login timeout expired",
            "$ isql -v MSSQL_PROD sa [REDACTED:password]\n[08001][unixODBC] Login timeout expired",
        ),
        (f"iusql -v DSN user {SECRET} -b", "iusql -v DSN user [REDACTED:password] -b"),
        (
            f"[zk: zk-1:2181(CONNECTED) 0] addauth digest super:{SECRET}",
            "[zk: zk-1:2181(CONNECTED) 0] addauth digest super:[REDACTED:password]",
        ),
        (
            f'zk.addAuthInfo("digest", "super:{SECRET}".getBytes());',
            'zk.addAuthInfo("digest", "super:[REDACTED:password]".getBytes());',
        ),
    ],
)
def test_a_database_clients_positional_password_is_blanked(text: str, expected: str) -> None:
    """unixODBC's `isql DSN USER PASSWORD` and ZooKeeper's digest login `user:password`
    (zkCli's `addauth`, the Java client's `addAuthInfo`) lose the password only."""
    assert _shown(text) == expected


@pytest.mark.parametrize(
    "text",
    ["isql MSSQL_PROD sa", "isql is the unixODBC tool to test a DSN", "isql DSN user $PW"],
)
def test_an_isql_line_with_no_password_stays(text: str) -> None:
    """isql given a DSN and a user only, prose about it, or a reference, stays."""
    assert _shown(text) == text


_EVALUATION = (
    "##[debug]Evaluating: format('{{0}}-{{1}}', github.sha, secrets.API_TOKEN)\n"
    "##[debug]..Evaluating secrets:\n##[debug]..=> Object\n"
    "##[debug]..Evaluating String:\n##[debug]..=> 'API_TOKEN'\n"
    "##[debug]=> '{value}'\n##[debug]Result: '{value}'\n"
    "##[debug]Evaluating: github.ref\n##[debug]=> 'refs/heads/main'\n"
    "##[debug]Result: 'refs/heads/main'"
)


def test_a_ci_debug_evaluation_of_a_secret_loses_its_values_only() -> None:
    """A runner's debug evaluation of an expression reading `secrets` loses the strings it
    evaluated to; the index it spells (`'API_TOKEN'`) and the next expression's value stay,
    raw and inside a JSON string."""
    text = _EVALUATION.format(value=f"abc-{SECRET}")
    expected = _EVALUATION.format(value="[REDACTED:password]")
    assert _shown(text) == expected
    in_json = _in_json(text)
    assert SECRET not in in_json
    assert "=> 'API_TOKEN'" in in_json
    assert "Result: 'refs/heads/main'" in in_json


def test_a_ci_debug_evaluation_of_a_secret_named_variable_is_blanked() -> None:
    """An evaluation of a variable named like a secret (`env.DB_PASSWORD`), its lines after
    a timestamp, loses its value."""
    text = (
        "2026-05-01T10:00:00.1Z ##[debug]Evaluating: env.DB_PASSWORD\n"
        f"2026-05-01T10:00:00.1Z ##[debug]=> '{SECRET}'\n"
        f"2026-05-01T10:00:00.1Z ##[debug]Result: '{SECRET}'"
    )
    assert SECRET not in _shown(text)


def test_a_ci_debug_evaluation_of_no_secret_stays() -> None:
    """An evaluation of an expression that reads no secret (`github.ref`, `success()`)
    stays."""
    text = (
        "##[debug]Evaluating: success()\n##[debug]=> true\n##[debug]Result: true\n"
        "##[debug]Evaluating: github.ref\n##[debug]=> 'refs/heads/main'\n"
        "##[debug]Result: 'refs/heads/main'"
    )
    assert _shown(text) == text
