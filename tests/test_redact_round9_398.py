"""Round 9 leaks (helper 398): credentials that still left `Redactor().text` as real alerts carry
them, one class per section, each with the ordinary neighbours that must stay as they are."""

from __future__ import annotations

import pytest

from triage.redact import Redactor

PASSWORD = "Zq8vTn3Rk7Wp2Ys"
P = "[REDACTED:password]"


def _text(text: str) -> str:
    """`text` as the redactor writes it."""
    return Redactor().text(text)


# --- a command that prints a secret, run through sudo, a container or ssh ----------------------


@pytest.mark.parametrize(
    "command",
    [
        "sudo cat /var/lib/jenkins/secrets/initialAdminPassword",
        "sudo -u postgres cat /etc/app/db_password",
        "docker exec jenkins cat /var/jenkins_home/secrets/initialAdminPassword",
        "docker exec -it -u root app printenv DB_PASSWORD",
        "podman exec app cat /run/secrets/db_password",
        "kubectl exec -it api-7d9 -n prod -- printenv DB_PASSWORD",
        "kubectl exec deploy/api -c app -- cat /var/run/secrets/app/api_token",
        "sudo printenv DB_PASSWORD",
        "sudo vault kv get -field=password secret/db",
        "sudo -E terraform output -raw db_password",
        "ssh bastion cat /etc/app/db_password",
        "ssh -i ~/.ssh/ops -p 2222 ops@db1 sudo cat /etc/app/db_password",
        "sudo docker exec app printenv DB_PASSWORD",
    ],
)
def test_a_secret_printed_through_a_runner_is_blanked(command: str) -> None:
    """A command that prints a secret after a prompt prints it as well under sudo, docker or
    kubectl exec, or ssh: the output line after it is blanked."""
    assert _text(f"$ {command}\n{PASSWORD}\n$ ls") == f"$ {command}\n{P}\n$ ls"


@pytest.mark.parametrize(
    "text",
    [
        # A file or variable not named like a secret prints nothing secret.
        "$ sudo cat /etc/hostname\nweb01",
        "$ docker exec app printenv HOSTNAME\napp-7d9f",
        "$ kubectl exec -it api -- cat /etc/os-release\nNAME=Debian",
        # Without a prompt `cat f` is a script's line, and the next line is not its output.
        "sudo cat /etc/app/db_password\nrestarting orders-api",
        # A runner's name in prose is not a runner.
        "$ echo ran sudo cat /etc/app/db_password\nrestarting orders-api",
    ],
)
def test_a_runner_of_an_ordinary_command_keeps_its_output(text: str) -> None:
    """What a runner runs prints a secret only when the command would without it."""
    assert _text(text) == text


# --- Twilio: an account's or an API key's secret right after its sid --------------------------

ACCOUNT_SID = "AC0123456789abcdef0123456789abcdef"
KEY_SID = "SK0123456789abcdef0123456789abcdef"
AUTH_TOKEN = "9f8e7d6c5b4a39281706f5e4d3c2b1a0"
KEY_SECRET = "Zq8vTn3Rk7Wp2YsAq9bLm4Xc8Dr2Fh6J"
T = "[REDACTED:twilio-key]"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"{ACCOUNT_SID}:{AUTH_TOKEN}", f"{ACCOUNT_SID}:{T}"),
        (
            f'client = Client("{ACCOUNT_SID}", "{AUTH_TOKEN}")',
            f'client = Client("{ACCOUNT_SID}", "{T}")',
        ),
        (
            f"twilio.rest.Client('{ACCOUNT_SID}', '{AUTH_TOKEN}')",
            f"twilio.rest.Client('{ACCOUNT_SID}', '{T}')",
        ),
        (f"new Twilio('{ACCOUNT_SID}','{AUTH_TOKEN}');", f"new Twilio('{ACCOUNT_SID}','{T}');"),
        (f'{{"sid": "{ACCOUNT_SID}", "token": "x"}} {ACCOUNT_SID}, {AUTH_TOKEN}', None),
        (f"{KEY_SID}:{KEY_SECRET}", f"[REDACTED:token]:{T}"),
        (f'Client("{KEY_SID}", "{KEY_SECRET}", "{ACCOUNT_SID}")', None),
    ],
    ids=["sid-colon", "python-client", "python-module", "node-client", "list", "key", "key-call"],
)
def test_a_twilio_secret_after_its_sid_is_blanked(text: str, expected: str | None) -> None:
    """Twilio's credential is a pair, the sid (public) then the auth token or API key secret:
    the secret beside the sid is blanked whatever names it."""
    shown = _text(text)
    assert AUTH_TOKEN not in shown
    assert KEY_SECRET not in shown
    assert ACCOUNT_SID in shown or ACCOUNT_SID not in text
    if expected is not None:
        assert shown == expected


@pytest.mark.parametrize(
    "text",
    [
        f"TWILIO_ACCOUNT_SID={ACCOUNT_SID}",
        f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/SM{AUTH_TOKEN}.json",
        f"{ACCOUNT_SID}, MG{AUTH_TOKEN}",
        f"{ACCOUNT_SID}: message {AUTH_TOKEN[:8]} queued",
    ],
)
def test_twilio_sids_and_ids_stay(text: str) -> None:
    """A sid, a resource path and another resource's sid after an account's are public."""
    assert _text(text) == text


# --- Mailgun: a key- key in base 36, and the newer keys' 32 hex and two groups of 8 -----------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "mailgun key-3ax6xnjp29jd6fds4gc373sgvjxteol0 rejected",
            "mailgun [REDACTED:token] rejected",
        ),
        ("curl --user 'api:key-3ax6xnjp29jd6fds4gc373sgvjxteol0'", None),
        (
            "Mailgun 401 for 9f8e7d6c5b4a39281706f5e4d3c2b1a0-5d4c3b2a-1f2e3d4c",
            "Mailgun 401 for [REDACTED:token]",
        ),
        ('MailgunClient("9f8e7d6c5b4a39281706f5e4d3c2b1a0-5d4c3b2a-1f2e3d4c")', None),
    ],
    ids=["key-base36", "curl-user", "new-key", "new-key-call"],
)
def test_a_mailgun_key_is_blanked(text: str, expected: str | None) -> None:
    """Mailgun's private API keys are blanked: a `key-` key wherever it stands, a newer one
    in text that names Mailgun."""
    shown = _text(text)
    assert "3ax6xnjp" not in shown
    assert "9f8e7d6c" not in shown
    if expected is not None:
        assert shown == expected


@pytest.mark.parametrize(
    "text",
    [
        "key-rotation-schedule-for-orders-api done",
        "key-value store key-abcdefghijklmnopqrstuvwxyzabcdef",
        "mailgun trace 9f8e7d6c5b4a39281706f5e4d3c2b1a0-5d4c3b2a span",
        "mailgun id 9f8e7d6c-5b4a-3928-1706-f5e4d3c2b1a0 ok",
        "mailgun 00-9f8e7d6c5b4a39281706f5e4d3c2b1a0-5d4c3b2a1f2e3d4c-01",
    ],
)
def test_mailgun_like_words_and_ids_stay(text: str) -> None:
    """A `key-` word, a digest with one group after it, a UUID and a traceparent are no keys."""
    assert _text(text) == text


# --- Elasticsearch and Kibana: what a first start prints --------------------------------------

#: An Elasticsearch enrollment token: base64 of {"ver":…,"adr":[…],"fgr":…,"key":"id:secret"}.
ENROLLMENT = (
    "eyJ2ZXIiOiI4LjE0LjAiLCJhZHIiOlsiMTcyLjE4LjAuMjo5MjAwIl0sImZnciI6IjBhMWIyYzNkIiwia2V5Ijoi"
    "WnE4dlRuM1JrN1dwMllzOkFxOWJMbTRYYzhEcjJGaDZKayJ9"
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Copy the following enrollment token and paste it into Kibana in your browser"
            f" (valid for the next 30 minutes):\n  {ENROLLMENT}\n",
            "Copy the following enrollment token and paste it into Kibana in your browser"
            " (valid for the next 30 minutes):\n  [REDACTED:token]\n",
        ),
        (
            f"bin/kibana-setup --enrollment-token {ENROLLMENT}",
            "bin/kibana-setup --enrollment-token [REDACTED:token]",
        ),
        (f'{{"msg": "{ENROLLMENT}"}}', '{"msg": "[REDACTED:token]"}'),
    ],
    ids=["first-start", "kibana-setup", "json"],
)
def test_an_enrollment_token_is_blanked(text: str, expected: str) -> None:
    """An enrollment token carries an API key's id and secret in base64 JSON: it is blanked."""
    assert _text(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            f"The generated password for the elastic built-in superuser is : {PASSWORD}",
            f"The generated password for the elastic built-in superuser is : {P}",
        ),
        (
            f'{{"message":"The generated password for the elastic built-in superuser is:'
            f' {PASSWORD}"}}',
            f'{{"message":"The generated password for the elastic built-in superuser is: {P}"}}',
        ),
    ],
)
def test_the_generated_elastic_password_is_blanked(text: str, expected: str) -> None:
    """Elasticsearch 8's first start logs the elastic superuser's password in a sentence."""
    assert _text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Auto-configuration will not generate a password for the elastic built-in superuser,"
        " as we cannot determine if there is a terminal attached",
        "Failed to generate the password for the elastic built-in superuser: no keystore",
    ],
)
def test_elastic_notes_without_a_password_stay(text: str) -> None:
    """A note that no password was generated, or one hidden already, keeps its words."""
    assert _text(text) == text


# --- a secret-named key whose list opens at its line's end (pretty-printed JSON, code) --------

OTHER = "Aq9bLm4Xc8Dr2Fh6"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            f'{{\n  "api_keys": [\n    "{PASSWORD}",\n    "{OTHER}"\n  ],\n  "region": "eu"\n}}',
            f'{{\n  "api_keys": [{P}\n  ],\n  "region": "eu"\n}}',
        ),
        (f'"password": [\n  "{PASSWORD}"\n]', f'"password": [{P}\n]'),
        (f'api_keys = [\n  "{PASSWORD}",\n]', f"api_keys = [{P}\n]"),
        (f"password: [\n {PASSWORD} ]", f"password: [{P} ]"),
        (f"API_TOKENS = [\r\n    '{PASSWORD}',\r\n]", f"API_TOKENS = [{P}\r\n]"),
        (
            f'"tokens": [\n  {{"id": "{PASSWORD}", "scope": "read"}}\n]',
            f'"tokens": [{P}\n]',
        ),
    ],
    ids=["json", "json-one", "python", "yaml-flow", "crlf", "objects"],
)
def test_a_list_over_lines_under_a_secret_name_is_blanked(text: str, expected: str) -> None:
    """The list a secret's name opens at its line's end is its value: each item is blanked,
    not only the bracket, as the same list on one line is."""
    assert _text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        '{\n  "hosts": [\n    "db1",\n    "db2"\n  ]\n}',
        '{\n  "token_count": [\n    12,\n    40\n  ]\n}',
    ],
)
def test_lists_under_ordinary_names_stay(text: str) -> None:
    """A list under a name that is no secret's, and an empty one, keeps its items."""
    assert _text(text) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            'SECRET_KEY = (\n    "django-insecure-q8vTn3Rk7Wp2YsAq9bLm4Xc8Dr2Fh6Jk1Pn5"\n)',
            f"SECRET_KEY = ({P}\n)",
        ),
        (f'"password": (\n  "{PASSWORD}"\n)', f'"password": ({P}\n)'),
        (f'api_token = (\n    "{PASSWORD}"\n    "{OTHER}"\n)', f"api_token = ({P}\n)"),
    ],
    ids=["black-wrapped", "dict-entry", "implicit-concatenation"],
)
def test_a_string_wrapped_in_parentheses_over_lines_is_blanked(text: str, expected: str) -> None:
    """A formatter wraps a long string in parentheses on lines of their own: the strings
    inside are the value, not the `(`."""
    assert _text(text) == expected


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("timeout = (\n    5\n)", "timeout = (\n    5\n)"),
        ('token = (\n    os.environ["API_TOKEN"]\n)', '\n    os.environ["API_TOKEN"]\n)'),
    ],
)
def test_parentheses_over_lines_that_hold_no_literal_secret_stay(text: str, kept: str) -> None:
    """A wrapped value under an ordinary name, or a wrapped reference, keeps its lines."""
    assert kept in _text(text)


# --- Oracle: userid quoted twice, and SQL*Plus' CONNECT as SYSDBA or at its prompt -----------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            f'expdp userid=\\"sys/{PASSWORD} as sysdba\\" directory=d dumpfile=x.dmp',
            f'expdp userid=\\"sys/{P} as sysdba\\" directory=d dumpfile=x.dmp',
        ),
        (
            f"impdp userid=\"'sys/{PASSWORD} as sysdba'\" directory=d",
            f"impdp userid=\"'sys/{P} as sysdba'\" directory=d",
        ),
        (f"CONNECT sys/{PASSWORD} AS SYSDBA", f"CONNECT sys/{P} AS SYSDBA"),
        (f"SQL> conn scott/{PASSWORD}\nConnected.", f"SQL> conn scott/{P}\nConnected."),
        (f"SQL> connect system/{PASSWORD} as sysoper", f"SQL> connect system/{P} as sysoper"),
    ],
    ids=["escaped-quotes", "quotes-in-quotes", "connect-as-sysdba", "prompt-conn", "sysoper"],
)
def test_an_oracle_password_is_blanked(text: str, expected: str) -> None:
    """Oracle's docs quote `userid` twice for `as sysdba`, and SQL*Plus' CONNECT takes
    user/password with no `@` at its prompt or as SYSDBA: the password is blanked."""
    assert _text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "could not connect orders/api within 5s",
        "failed to connect redis/cache: timeout",
        "SQL> connect / as sysdba",
        "SQL> conn /\nConnected.",
    ],
)
def test_connect_in_prose_and_os_login_stay(text: str) -> None:
    """`connect` before a path in prose, and the OS login (`/`), hold no password."""
    assert _text(text) == text


@pytest.mark.parametrize(
    "command",
    [
        f"valkey-cli -a {PASSWORD} ping",
        f"keydb-cli -h cache -a {PASSWORD} info",
    ],
)
def test_a_redis_forks_cli_password_is_blanked(command: str) -> None:
    """Valkey's and KeyDB's clients take redis-cli's `-a` password."""
    assert PASSWORD not in _text(command)


def test_a_redis_forks_cli_port_stays() -> None:
    """Their `-p` is a port, as redis-cli's is."""
    assert _text("valkey-cli -h cache -p 6379 ping") == "valkey-cli -h cache -p 6379 ping"


# --- package publishers' tokens on their command lines -----------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        f"vsce publish -p {PASSWORD}",
        f"npx @vscode/vsce publish --pre-release -p {PASSWORD}",
        f"ovsx publish extension.vsix -p {PASSWORD}",
        f"choco apikey -k {PASSWORD} -s https://push.chocolatey.org/",
        f"choco push pkg.nupkg -k {PASSWORD}",
    ],
)
def test_a_publishers_token_option_is_blanked(command: str) -> None:
    """The VS Code Marketplace's, Open VSX's and Chocolatey's publish tokens go in `-p`/`-k`."""
    assert PASSWORD not in _text(command)


@pytest.mark.parametrize(
    "text",
    [
        "vsce package -o out.vsix",
        "choco install -y nodejs -k",
        "choco list -k",
    ],
)
def test_a_publishers_other_options_stay(text: str) -> None:
    """Their other options, and a flag with no value, keep their words."""
    assert _text(text) == text
