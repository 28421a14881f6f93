"""Redaction's gaps left from round 4 (helper 277), each as a class with its siblings: a value an
ORM or a driver logs as bound by its place to a secret's column (Hibernate 3 to 6, EclipseLink,
MyBatis, Postgres, datasource-proxy, lower-case SQL); a secret a command printed below its
line (after blank lines, a warning or a prompt; a JSON object or a PEM block whole); Grafana's
`secureJsonData` (and `secureSettings`) in plain text; a secret's name a wrapper broke at a
`-` or `.`, in pieces of different case, before a `:`. Each is blanked, the words around it
stay, and a second pass changes nothing.
"""

from __future__ import annotations

import json

from case_chunks import assert_each
from triage.redact import Redactor

PW = "Qz8vN3kW5yHb2Lp"
#: A short password with no secret's shape: only its place says it is one.
SHORT = "hunter2"

#: A text, the secret it holds, and words of it that must stay.
Case = tuple[str, str, tuple[str, ...]]


def _redacted(text: str) -> str:
    """One pass of a fresh redactor (no memo of short texts shared between cases)."""
    return Redactor().text(text)


def _blanked(case: Case) -> tuple[object, object]:
    """For `assert_each`: whether the secret is left, which kept words are gone, and whether a
    second pass changes the text."""
    text, secret, kept = case
    out = _redacted(text)
    again = _redacted(out)
    gone = [word for word in kept if word not in out]
    return (secret in out, gone, again == out, out), (False, [], True, out)


def _unchanged(text: str) -> tuple[str, str]:
    return _redacted(text), text


# --- 1. parameters an ORM or a driver logs bound by place ---------------------------------------

_INSERT = "insert into users (name, password) values (?, ?)"
BINDS: list[Case] = [
    # Hibernate 4 and 5 (and 6.0), the type in capitals or in lower case.
    (
        f"Hibernate: {_INSERT}\nbinding parameter [1] as [VARCHAR] - [alice]\n"
        f"binding parameter [2] as [VARCHAR] - [{SHORT}]",
        SHORT,
        ("[alice]", "binding parameter [2] as [VARCHAR]"),
    ),
    (
        f"Hibernate: {_INSERT}\nbinding parameter [1] as [varchar] - [alice]\n"
        f"binding parameter [2] as [varchar] - [{SHORT}]",
        SHORT,
        ("[alice]",),
    ),
    # … with a logger's prefix, format_sql's layout, and a value without brackets (4.x).
    (
        "DEBUG SQL:92 -\n    insert\n    into\n        users\n        (name, password)\n"
        "    values\n        (?, ?)\n"
        "TRACE BasicBinder:65 - binding parameter [1] as [VARCHAR] - [alice]\n"
        f"TRACE BasicBinder:65 - binding parameter [2] as [VARCHAR] - [{SHORT}]\n",
        SHORT,
        ("[alice]",),
    ),
    (
        f"{_INSERT}\nTRACE o.h.type.descriptor.sql.BasicBinder - binding parameter [2] as "
        f"[VARCHAR] - {SHORT}",
        SHORT,
        ("BasicBinder",),
    ),
    # Hibernate 6: `(position:TYPE) <- [value]`; the statement's SQL upper or lower case.
    (
        "o.h.SQL : update users set api_token=? where id=?\n"
        f"o.h.orm.jdbc.bind : binding parameter (1:VARCHAR) <- [{SHORT}]\n"
        "o.h.orm.jdbc.bind : binding parameter (2:BIGINT) <- [42]",
        SHORT,
        ("(2:BIGINT) <- [42]",),
    ),
    (
        "UPDATE users SET secret=? WHERE id=?\n"
        f"binding parameter (1:VARCHAR) <- [{PW}]\nbinding parameter (2:BIGINT) <- [7]",
        PW,
        ("<- [7]",),
    ),
    # Hibernate 3: `binding 'value' to parameter: N`.
    (
        f"Hibernate: {_INSERT}\nbinding 'alice' to parameter: 1\nbinding '{SHORT}' to parameter: 2",
        SHORT,
        ("'alice'",),
    ),
    # EclipseLink: `bind => [v1, v2]` below the statement.
    (
        "INSERT INTO USERS (NAME, PASSWORD) VALUES (?, ?)\n\tbind => [alice, " + SHORT + "]",
        SHORT,
        ("[alice, ",),
    ),
    # MyBatis: `Preparing:` then `Parameters: value(Type), …`.
    (
        f"==>  Preparing: {_INSERT}\n==> Parameters: alice(String), {SHORT}(String)",
        SHORT,
        ("alice(String)",),
    ),
    # Postgres' log_statement: `DETAIL:  parameters: $1 = '…', $2 = '…'`.
    (
        "LOG:  execute <unnamed>: update users set password = $1 where id = $2\n"
        f"DETAIL:  parameters: $1 = '{SHORT}', $2 = '42'",
        SHORT,
        ("$2 = '42'",),
    ),
    # datasource-proxy: `Query:["…"], Params:[(v1,v2)]`.
    (
        f'Name:ds, Query:["{_INSERT}"], Params:[(alice,{SHORT})]',
        SHORT,
        ("(alice,",),
    ),
    # SQLAlchemy's and Django's tuples after a statement written in lower case.
    (f"{_INSERT.replace('?', '%s')}\n[parameters: ('alice', '{SHORT}')]", SHORT, ("'alice'",)),
    (f"{_INSERT.replace('?', '%s')} params=('alice', '{SHORT}')", SHORT, ("'alice'",)),
    # Inside a JSON log event's string.
    (
        json.dumps(
            {"message": f"{_INSERT}\nbinding parameter [2] as [VARCHAR] - [{SHORT}]", "n": 1}
        ),
        SHORT,
        ("binding parameter [2]",),
    ),
]


def test_a_parameter_bound_to_a_secret_column_is_blanked_in_every_orm_log() -> None:
    """Each ORM's and driver's log of a parameter bound by place to a password/secret/token
    column loses the value; the other parameters and the log's words stay."""
    assert_each(BINDS, _blanked)


def test_parameters_bound_to_other_columns_stay() -> None:
    """Over-redaction guard: binds to columns that name no secret, a bind with no statement
    before it, and a statement's binds after a later statement's stay as they are."""
    assert_each(
        [
            "insert into users (name, email) values (?, ?)\n"
            "binding parameter [1] as [VARCHAR] - [alice]\n"
            "binding parameter [2] as [VARCHAR] - [a-at-example]",
            "binding parameter [1] as [VARCHAR] - [alice]",
            "select u.id from users u where u.name=?\nbinding parameter (1:VARCHAR) <- [alice]",
            "insert into users (name, password) values (?, ?)\nselect id from users where name=?\n"
            "binding parameter [1] as [VARCHAR] - [alice]",
            "==>  Preparing: select * from users where name = ?\n==> Parameters: alice(String)",
            "INSERT INTO USERS (NAME, PASSWORD) VALUES (?, ?)\n\tbind => [2 parameters bound]",
            "binding 'alice' to parameter: 1",
        ],
        _unchanged,
    )


# --- 2. a secret a command printed below its line -----------------------------------------------

PRINTED: list[Case] = [
    (f"$ op read op://vault/db/password\n\n{PW}", PW, ("op://vault/db/password",)),
    (f"$ op read op://vault/db/password\n\n\n{PW}\n$ ls", PW, ("$ ls",)),
    (
        "$ kubectl get secret db -o jsonpath='{.data.password}' | base64 -d\n"
        "Warning: short name db could also match\n" + PW,
        PW,
        ("Warning: short name db could also match",),
    ),
    (
        "$ op read op://vault/db/password\n"
        "Enter the password for bob@example.com at my.1password.com:\n" + PW,
        PW,
        ("Enter the password for",),
    ),
    (f"$ vault kv get -field=password secret/db\n\n{PW}\n", PW, ("secret/db",)),
    # A JSON object printed over lines: every line of it until its closing brace.
    (
        "$ aws secretsmanager get-secret-value --secret-id prod/db --query SecretString "
        '--output text\n{\n  "username": "app",\n  "pass": "' + PW + '"\n}\n$ ls',
        PW,
        ("$ ls", "--secret-id prod/db"),
    ),
    (
        "$ kubectl get secret db -o jsonpath='{.data.config}' | base64 -d\n"
        '{\n  "user": "app",\n  "db_pw": "' + PW + '",\n  "port": 5432\n}\n$ ls',
        PW,
        ("$ ls",),
    ),
    # A PEM block's body lines to its END line (the key rules take a whole block; here one
    # whose base64 body is no valid key).
    (
        "$ vault kv get -field=tls_key secret/web\n-----BEGIN NOT A REAL BLOCK-----\n"
        f"{PW}{PW}\n-----END NOT A REAL BLOCK-----",
        PW,
        ("secret/web",),
    ),
    # Inside a JSON string, a blank line between.
    (json.dumps({"log": f"$ op read op://v/db/password\n\n{PW}\n"}), PW, ("op://v/db/password",)),
]


def test_a_secret_printed_lines_below_its_command_is_blanked() -> None:
    """The secret a command prints is blanked also after blank lines, a warning or a prompt,
    and a JSON object or a block it prints is blanked to its end; the next prompt stays."""
    assert_each(PRINTED, _blanked)


def test_lines_after_a_printed_secret_or_a_failed_command_stay() -> None:
    """Over-redaction guard: the line after a one-line secret, a command's error and the
    lines after it, a sentence, and the next command's output stay."""
    assert_each(
        [
            "$ op read op://vault/db/password\n[ERROR] 2026/12/06 item not found\nretrying later",
            "$ gh auth token\nno oauth token found for github.com\n\nweb-1   Running",
            "$ op read op://vault/db/password\n\n$ kubectl get pods\nweb-1   Running",
            "$ kubectl get secret db -o jsonpath='{.data.pw}' | base64 -d\n"
            'Error from server (NotFound): secrets "db" not found\nweb-1   Running',
        ],
        _unchanged,
    )
    out = _redacted(f"$ op read op://vault/db/password\n{PW}\nweb-1   Running")
    assert out.endswith("\n[REDACTED:password]\nweb-1   Running"), out


#: Other commands whose output is a secret: a password manager's entry, a secret store's value
#: as text, a generated key; a variable, an output or a file named like a secret, printed.
PRINTING_COMMANDS = [
    "pass show db/prod",
    "gopass show -o db/prod",
    "bw get password github.com",
    "doppler secrets get DB_PASSWORD --plain",
    "infisical secrets get DB_PASSWORD --plain",
    "chamber read prod db_password -q",
    "az keyvault secret show --vault-name kv --name dbpw --query value -o tsv",
    "aws ssm get-parameter --name /prod/db --with-decryption --query Parameter.Value --output text",
    "openssl rand -base64 24",
    "terraform output -raw db_password",
    "heroku config:get DATABASE_PASSWORD -a app",
    "printenv DB_PASSWORD",
    "echo $DB_PASSWORD",
    'echo "${API_TOKEN}"',
    "cat /run/secrets/db_password",
]


def test_a_secret_printed_by_other_commands_is_blanked() -> None:
    """The line after each command that prints a secret (password managers, secret stores,
    openssl rand, a secret-named output, variable or file) is blanked; the command stays."""
    assert_each(
        [(f"$ {command}\n{PW}\n", PW, (command,)) for command in PRINTING_COMMANDS], _blanked
    )


def test_output_of_the_same_commands_naming_no_secret_stays() -> None:
    """Over-redaction guard: the same commands asking for a value named like no secret (an
    output's URL, a variable's host, a file of logs) print it, and it stays."""
    assert_each(
        [
            "$ terraform output -raw lb_dns_name\nweb-123.elb.example.com",
            "$ heroku config:get WEB_CONCURRENCY -a app\n4",
            "$ printenv DB_HOST\ndb.internal",
            "$ echo $HOME\n/home/bob",
            "$ cat /var/log/app/boot.log\nstarted in 3s",
            "$ aws ssm get-parameter --name /prod/region --query Parameter.Value --output text\n"
            "eu-west-1",
            # A script's lines (no prompt): the line after `echo $X` is the script's next.
            "echo $DB_PASSWORD\npsql -h db.internal -U app",
            "cat /run/secrets/db_password\nexec app --serve",
        ],
        _unchanged,
    )


# --- 3. Grafana's secureJsonData in plain text --------------------------------------------------

SECURE: list[Case] = [
    (
        "apiVersion: 1\ndatasources:\n  - name: loki\n    jsonData:\n"
        "      httpHeaderName1: X-Scope-OrgID\n    secureJsonData:\n"
        f"      httpHeaderValue1: {SHORT}\n    editable: false",
        SHORT,
        ("httpHeaderName1: X-Scope-OrgID", "httpHeaderValue1:", "editable: false"),
    ),
    (f"secureJsonData:\n  httpHeaderValue1: {SHORT}\n", SHORT, ("httpHeaderValue1:",)),
    (f"[secureJsonData]\nhttpHeaderValue1 = {SHORT}\n", SHORT, ("httpHeaderValue1 =",)),
    (
        f'secureJsonData = {{ httpHeaderValue1 = "{SHORT}" }}',
        SHORT,
        ("httpHeaderValue1",),
    ),
    (
        json.dumps({"message": f"secureJsonData:\n  httpHeaderValue1: {SHORT}\n"}),
        SHORT,
        ("httpHeaderValue1",),
    ),
    # A flat path to a child (Helm's --set, a dotted key), Terraform's snake case.
    (
        f"helm upgrade g grafana --set datasources.secureJsonData.httpHeaderValue1={SHORT}",
        SHORT,
        ("--set datasources.secureJsonData.httpHeaderValue1=",),
    ),
    (f'secure_json_data = {{ "httpHeaderValue1" = "{SHORT}" }}', SHORT, ("httpHeaderValue1",)),
    # Grafana's alerting contact points keep their secrets in secureSettings.
    (
        "contactPoints:\n  - name: ops\n    receivers:\n      - type: webhook\n"
        f"        secureSettings:\n          authorization_credentials: {SHORT}\n"
        "          url: https-hook\n        settings:\n          httpMethod: POST",
        SHORT,
        ("httpMethod: POST",),
    ),
]


def test_grafana_secure_json_data_in_plain_text_is_blanked() -> None:
    """Every value under `secureJsonData:` (YAML, INI, HCL, inside a JSON string) and Grafana
    alerting's `secureSettings:` goes, whatever its key; `jsonData` and the rest stay."""
    assert_each(SECURE, _blanked)


def test_json_data_and_secure_json_fields_stay() -> None:
    """Over-redaction guard: `jsonData`'s values and `secureJsonFields`' booleans stay."""
    assert_each(
        [
            "jsonData:\n  httpHeaderName1: X-Scope-OrgID\n  tlsSkipVerify: true",
            "secureJsonFields:\n  httpHeaderValue1: true\n  basicAuthPassword: false",
        ],
        _unchanged,
    )


# --- 4. a secret's name broken by a wrapper, pieces of different case ---------------------------

BROKEN: list[Case] = [
    (f"sent header x-Api-\nKEY: {SHORT} ok", SHORT, ("x-Api-", "ok")),
    (f"sent header X-API-\nKEY: {SHORT} ok", SHORT, ("ok",)),
    (f"sent header x-api-\nkey: {SHORT} ok", SHORT, ("ok",)),
    (f"sent header x-Api-\nKEY={SHORT} ok", SHORT, ("ok",)),
    (f"cfg Api.\nKEY={SHORT} ok", SHORT, ("ok",)),
    (f"cfg DB_PASS\nWORD: {SHORT} ok", SHORT, ("ok",)),
    (f"cfg DB_Pas\nSWORD={SHORT} ok", SHORT, ("ok",)),
    (f"login failed: Pass\nWORD={SHORT} rejected", SHORT, ("rejected",)),
    (json.dumps({"m": f"sent header x-Api-\nKEY: {SHORT} ok"}), SHORT, ("ok",)),
]


def test_a_secret_name_broken_in_pieces_of_different_case_is_the_name() -> None:
    """A name a wrapper broke after a `-` or `.`, or inside a word, its pieces in different
    cases, before `=` or `:`, is read joined and its value goes."""
    assert_each(BROKEN, _blanked)


def test_pieces_that_join_into_no_secret_name_stay() -> None:
    """Over-redaction guard: a line's last word and a next line's `Name: value` that join into
    no secret's name, a time, and a lower-case word of prose before an upper-case name."""
    assert_each(
        [
            "the build ended with Status-\nCode: 500 and retried",
            "restart at 09\n30: done",
            "x-Request-\nID: 1234abcd",
            "we saw the api\nVERSION: 2 rollout",
        ],
        _unchanged,
    )


def test_a_positional_parameter_under_a_secret_name_stays() -> None:
    """Over-redaction guard: SQL's positional parameters (`?`, `$1`, `:1`) and the shell's
    `$1` under a secret's name are references, not values, and stay; a literal still goes."""
    assert_each(
        [
            "update users set password = $1 where id = $2",
            "update users set api_token=? where id=?",
            "update users set secret = :1 where id = :2",
            'sshpass -p "$1" ssh deploy@db',
        ],
        _unchanged,
    )
    assert "hunter2" not in _redacted("update users set password = 'hunter2' where id = 1")


def test_parameters_logged_as_a_json_field_beside_their_statement_are_blanked() -> None:
    """A structured log's statement and its parameters as fields (`"sql": …, "params": […]`,
    knex's `"bindings"`): the parameter bound to a secret column goes, the others stay."""
    insert = "INSERT INTO users (name, password) VALUES (%s, %s)"
    assert_each(
        [
            (json.dumps({"sql": insert, "params": ["bob", SHORT]}), SHORT, ('"bob"',)),
            (
                json.dumps({"sql": insert.replace("%s", "?"), "bindings": ["bob", SHORT]}),
                SHORT,
                ('"bob"',),
            ),
            (
                json.dumps({"sql": insert.lower(), "args": ["bob", SHORT], "ms": 3}),
                SHORT,
                ('"ms": 3',),
            ),
        ],
        _blanked,
    )
