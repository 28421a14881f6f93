"""Secrets known by their place on a command line, in a call or in SQL (round 4, helper 264):
a password piped into kinit or sshfs, useradd's `-p`; a CI tool's token (httpie, doctl,
flyctl, influx, netlify, poetry, cargo, rclone, a here-string, a vault password file); a value
bound by position to a secret column, or quoted by a unique-key error; a call's password
argument (LDAP binds, pika, Oracle, MongoDB, AWS) and Go's MySQL DSN; the output line of a
command that prints a secret. Each is blanked, and the words, ids and paths beside it stay.
"""

from __future__ import annotations

from case_chunks import assert_each
from triage.redact import Redactor

PW = "Qz8vN3kW5yHb2Lp"
TOKEN = "t0KxR4mZ8wQe2Ys6Uv1Ni3Ob5Pc7Ad9"

#: A text, the secret it holds, and words of it that must stay.
Case = tuple[str, str, tuple[str, ...]]


def _blanked(case: Case) -> tuple[object, object]:
    """For `assert_each`: what of the secret is left and which kept words are gone."""
    text, secret, kept = case
    out = Redactor().text(text)
    left = secret in out or secret[4:12] in out
    return (left, [word for word in kept if word not in out], out), (False, [], out)


def _each(cases: list[Case]) -> None:
    assert_each(cases, _blanked)


def _unchanged(text: str) -> tuple[str, str]:
    return Redactor().text(text), text


PIPED: list[Case] = [
    (f"echo {PW} | kinit bob", PW, ("kinit", "bob")),
    (f"echo '{PW}' | kinit -V admin/admin", PW, ("kinit", "admin/admin")),
    (f"printf '%s\\n' {PW} | kinit svc", PW, ("kinit", "svc")),
    (f"kinit svc <<< {PW}", PW, ("kinit", "svc")),
    (f"echo {PW} | sshfs u@h:/ /mnt -o password_stdin", PW, ("sshfs", "password_stdin")),
    (f"echo {PW} | sshfs -o reconnect,password_stdin u@h:/ /mnt", PW, ("reconnect",)),
    (f"useradd -p '{PW}' bob", PW, ("useradd", "bob")),
    (f"useradd -m -s /bin/bash -p {PW} bob", PW, ("/bin/bash", "bob")),
    (f'usermod -p "{PW}" alice', PW, ("usermod", "alice")),
]


def test_a_password_piped_into_kinit_or_sshfs_or_given_to_useradd_is_blanked() -> None:
    """A password echoed or here-stringed into kinit or sshfs's password_stdin, and the `-p`
    of useradd and usermod, are blanked; the command, user and paths stay."""
    _each(PIPED)


CLI: list[Case] = [
    (f"http POST api.example.com/login token=={TOKEN}", TOKEN, ("api.example.com/login",)),
    (f"http GET api.example.com api_key=={TOKEN} page==2", TOKEN, ("page==2",)),
    (f"xh get example.com access_token=={TOKEN}", TOKEN, ("example.com",)),
    (f"https -A bearer -a {TOKEN} api.example.com", TOKEN, ("api.example.com", "bearer")),
    (f"http --auth-type=bearer --auth {TOKEN} example.com", TOKEN, ("example.com",)),
    (f"doctl auth init -t {TOKEN}", TOKEN, ("doctl", "init")),
    (f"flyctl deploy -t {TOKEN}", TOKEN, ("flyctl", "deploy")),
    (f"fly deploy -t {TOKEN} --app web", TOKEN, ("--app", "web")),
    (f"influx write -t {TOKEN} -b metrics", TOKEN, ("-b", "metrics")),
    (f"netlify deploy --auth {TOKEN}", TOKEN, ("netlify",)),
    (f"netlify deploy --auth={TOKEN} --prod", TOKEN, ("--prod",)),
    (f"poetry config pypi-token.pypi {TOKEN}", TOKEN, ("pypi-token.pypi",)),
    (f"poetry config pypi-token.internal '{TOKEN}'", TOKEN, ("pypi-token.internal",)),
    (f"cargo login {TOKEN}", TOKEN, ("cargo", "login")),
    (f"cargo login --registry internal {TOKEN}", TOKEN, ("internal",)),
    (f"rclone obscure {TOKEN}", TOKEN, ("rclone", "obscure")),
    (f"echo {TOKEN} > .vault_pass", TOKEN, (".vault_pass",)),
    (f"echo '{TOKEN}' >> ~/.ansible/vault_password.txt", TOKEN, ("vault_password.txt",)),
    (f"printf '%s' {TOKEN} > /run/secrets/api_token", TOKEN, ("/run/secrets/api_token",)),
    (f"databricks configure --token <<< {TOKEN}", TOKEN, ("databricks", "--token")),
    (f"tool login --password --user bob <<< '{TOKEN}'", TOKEN, ("--user", "bob")),
]


def test_a_token_on_a_ci_tools_command_line_is_blanked() -> None:
    """The token given to httpie (`name==value`, `-A bearer -a`), doctl, flyctl, influx,
    netlify, poetry, cargo, rclone, a secret file by echo, and a here-string after a secret's
    option, is blanked; the tools' other words stay."""
    _each(CLI)


def test_command_lines_without_a_secret_stay() -> None:
    """Over-redaction guard: query items, options and echoes that hold no secret stay."""
    assert_each(
        [
            "http GET example.com q==search page==2 sort==name",
            "useradd -m -s /bin/bash bob",
            "echo hello > greeting.txt",
            "echo $TOKEN > token.txt",
            "netlify deploy --auth $NETLIFY_AUTH_TOKEN",
            "http -A basic example.com",
            "influx write -b metrics -o acme",
            "cargo build --release",
            "rclone config show",
            "fly deploy --app web",
            "fly -t ci set-pipeline -p main -c pipeline.yml",
            "fly -t production-concourse login -c https://ci.example.com",
            "poetry config virtualenvs.in-project true",
            "cargo login --help",
        ],
        _unchanged,
    )


SQL: list[Case] = [
    (
        f"[SQL: INSERT INTO users (name, password) VALUES (%s, %s)]\n[parameters: ('bob', '{PW}')]",
        PW,
        ("'bob'", "INSERT INTO users"),
    ),
    (
        f"[SQL: INSERT INTO api_keys (name, secret) VALUES (?, ?)]\n[parameters: ('ci', '{PW}')]",
        PW,
        ("'ci'",),
    ),
    (
        f"INSERT INTO creds (user, secret) VALUES (?, ?) params=('bob', '{PW}')",
        PW,
        ("'bob'",),
    ),
    (
        f"[SQL: UPDATE users SET password=%s, updated_at=%s WHERE id = %s]\n"
        f"[parameters: ('{PW}', '2026-12-01', 42)]",
        PW,
        ("'2026-12-01'", "42"),
    ),
    (
        f"INSERT INTO t (id, api_token) VALUES ($1, $2) parameters: [7, '{PW}']",
        PW,
        ("7",),
    ),
    (
        f"[SQL: INSERT INTO users (name, password) VALUES (?, ?)]\n"
        f"[parameters: [('bob', '{PW}'), ('amy', 'x{PW}')]]",
        PW,
        ("'bob'", "'amy'"),
    ),
    (f"DETAIL:  Key (api_token)=({PW}) already exists.", PW, ("already exists",)),
    (f"DETAIL:  Key (tenant_id, api_key)=(42, {PW}) already exists.", PW, ("42,",)),
    (
        f"Duplicate entry '{PW}' for key 'users.password_reset_token'",
        PW,
        ("users.password_reset_token",),
    ),
]


def test_sql_values_under_a_secret_column_are_blanked() -> None:
    """A parameter bound by position to a secret column (INSERT's VALUES, UPDATE's SET), and a
    value a unique-key error quotes for a secret's key, are blanked; the others stay."""
    _each(SQL)


def test_sql_values_under_other_columns_stay() -> None:
    """Over-redaction guard: parameters of columns that are no secret, and a key error for one,
    stay."""
    assert_each(
        [
            "[SQL: INSERT INTO users (name, email_count) VALUES (%s, %s)]\n[parameters: ('bob', 3)]",
            "DETAIL:  Key (tenant_id, slug)=(42, orders) already exists.",
            "Duplicate entry 'orders-42' for key 'PRIMARY'",
        ],
        _unchanged,
    )


CALLS: list[Case] = [
    (f"conn.bind_s('cn=admin,dc=x', '{PW}')", PW, ("cn=admin,dc=x",)),
    (f"l.bind('cn=admin,dc=x', '{PW}')", PW, ("cn=admin,dc=x",)),
    (f"l.simple_bind_s('cn=admin,dc=x', '{PW}')", PW, ("cn=admin,dc=x",)),
    (f"Connection(server, 'cn=admin,dc=x', '{PW}', auto_bind=True)", PW, ("auto_bind=True",)),
    (f"pika.PlainCredentials('guest', '{PW}')", PW, ("'guest'",)),
    (f"cx_Oracle.connect('app', '{PW}', 'db:1521/orcl')", PW, ("'db:1521/orcl'",)),
    (f"oracledb.connect('app', '{PW}', 'db:1521/orcl')", PW, ("'app'",)),
    (
        f'MongoCredential.createCredential("app", "admin", "{PW}".toCharArray())',
        PW,
        ('"admin"', ".toCharArray()"),
    ),
    (f'MongoCredential.createScramSha256Credential("app", "admin", "{PW}".toCharArray())', PW, ()),
    (f'new BasicAWSCredentials("AKIAIOSFODNN7EXAMPLE", "{PW}")', PW, ()),
    (f'AwsBasicCredentials.create("AKIAIOSFODNN7EXAMPLE", "{PW}")', PW, ()),
    (f'client.authenticate("svc", "{PW}")', PW, ('"svc"',)),
    (f"dial: app:{PW}@tcp(db:3306)/orders?parseTime=true", PW, ("@tcp(db:3306)/orders",)),
    (f"app:{PW}@unix(/var/run/mysqld.sock)/orders", PW, ("@unix(/var/run/mysqld.sock)",)),
    (f'dsn := "root:{PW}@tcp(127.0.0.1:3306)/test"', PW, ("root:",)),
]


def test_a_password_passed_by_its_place_is_blanked() -> None:
    """The password argument of LDAP binds, ldap3's Connection, pika's, Oracle's, MongoDB's and
    AWS's credentials and an authenticate() call, and Go's MySQL DSN password, are blanked."""
    _each(CALLS)


def test_calls_without_a_password_stay() -> None:
    """Over-redaction guard: a bind of no DN, a call's other arguments and a DSN without a
    password stay."""
    assert_each(
        [
            "handler.bind(this, 'click')",
            "sock.bind(('0.0.0.0', 8080))",
            "app@tcp(db:3306)/orders",
            "Connection(server)",
        ],
        _unchanged,
    )


PRINTED: list[Case] = [
    (f"$ op read op://vault/db/password\n{PW}", PW, ("op://vault/db/password",)),
    (
        f"$ kubectl get secret db -o jsonpath='{{.data.password}}' | base64 -d\n{PW}\n$ ls",
        PW,
        ("kubectl get secret db", "$ ls"),
    ),
    (
        "$ heroku auth:token\n 12345678-abcd-4ef0-9abc-1234567890ab",
        "12345678-abcd-4ef0-9abc-1234567890ab",
        ("heroku auth:token",),
    ),
    (f"$ vault kv get -field=password secret/db\n{PW}", PW, ("secret/db",)),
    (f"deploy@ci:~$ gh auth token\n{TOKEN}", TOKEN, ("gh auth token",)),
    (f"$ gcloud auth print-access-token\n{TOKEN}", TOKEN, ("print-access-token",)),
    ("$ op read op://p/wifi/passphrase\ncorrect horse battery staple", "horse battery", ()),
    (f"$ op item get db --fields label=username,label=password\napp,{PW}", PW, ("--fields",)),
    (f'{{"log": "$ op read op://v/db/password\\n{PW}\\n"}}', PW, ("op://v/db/password",)),
]


def test_a_secret_a_command_printed_is_blanked() -> None:
    """The output line after a command that prints a secret (op read, kubectl's secret decoded,
    heroku/gh/gcloud tokens, vault's field) is blanked; the prompt lines stay."""
    _each(PRINTED)


def test_output_of_other_commands_stays() -> None:
    """Over-redaction guard: the line after a command that prints no secret stays."""
    assert_each(
        [
            "$ kubectl get pods\nweb-1   Running",
            "$ op read op://vault/db/username\nappuser",
            "$ heroku ps\nweb.1: up 2026/12/01",
            "$ kubectl get secret db -o yaml\napiVersion: v1",
            "$ op read op://vault/db/password\n[ERROR] 2026/12/06 item not found",
            "$ kubectl get secret db -o jsonpath='{.data.pw}' | base64 -d\n"
            'Error from server (NotFound): secrets "db" not found',
            "$ gh auth token\nno oauth token found for github.com",
        ],
        _unchanged,
    )
