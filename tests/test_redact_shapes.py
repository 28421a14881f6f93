"""Secrets in the shapes real alerts carry them beyond `name=value`: a command's positional or
short-option password (Oracle's `user/pw@db`, `ldapsearch -w`, `plink -pw`, Windows' `/p:`,
`net use`, an `echo` piped into `--password-stdin` or `chpasswd`, `vault login <token>`, a
secret store's CLI setting a value), a call's argument in a stack trace (`PDO->__construct(…,
'pw')`, `setPassword("pw")`), a name/value object in YAML's flow style. What only looks
close stays.
"""

from __future__ import annotations

import json

import pytest

from triage.redact import DEFAULT, redact

SECRET = "opal-kettle-sunrise-42"

LEAKS = [
    # Oracle's tools and SQL*Plus' CONNECT take user/password@database.
    pytest.param(f"sqlplus scott/{SECRET}@orcl", id="sqlplus"),
    pytest.param(f"sqlplus -S system/{SECRET}@//db:1521/ORCL", id="sqlplus-silent"),
    pytest.param(f"expdp system/{SECRET}@db schemas=app", id="expdp"),
    pytest.param(f"rman target sys/{SECRET}@prod", id="rman"),
    pytest.param(f"SQL> connect app/{SECRET}@orcl", id="sqlplus-connect"),
    pytest.param(f"imp userid=system/{SECRET} file=x.dmp", id="imp-userid"),
    # A short option's value.
    pytest.param(f"ldapsearch -x -D cn=admin -w {SECRET} -b dc=x", id="ldapsearch"),
    pytest.param(f"ldapadd -D cn=admin -w '{SECRET}' -f x.ldif", id="ldapadd-quoted"),
    pytest.param(f"plink -ssh -pw {SECRET} ops@host", id="plink"),
    pytest.param(f"pscp -pw {SECRET} f host:", id="pscp"),
    pytest.param(f"psexec \\\\host -u admin -p {SECRET} cmd", id="psexec"),
    pytest.param(f"openssl enc -aes256 -k {SECRET} -in f", id="openssl-enc-k"),
    pytest.param(f"unrar x -p{SECRET} a.rar", id="unrar-glued"),
    # Windows' slash options and net.
    pytest.param(f"cmdkey /add:srv /user:u /pass:{SECRET}", id="cmdkey"),
    pytest.param(f"xfreerdp /v:h /u:u /p:{SECRET}", id="xfreerdp"),
    pytest.param(f"wmic /node:h /user:u /password:{SECRET} os get", id="wmic"),
    pytest.param(f"schtasks /create /tn x /ru admin /rp {SECRET}", id="schtasks"),
    pytest.param(f"net use Z: \\\\srv\\share {SECRET} /user:dom\\u", id="net-use"),
    pytest.param(f"net user admin {SECRET} /add", id="net-user"),
    # A password piped into a command that reads it.
    pytest.param(f"echo {SECRET} | docker login -u x --password-stdin", id="password-stdin"),
    pytest.param(f"echo 'app:{SECRET}' | sudo chpasswd", id="chpasswd"),
    pytest.param(f"echo -n '{SECRET}' | passwd --stdin app", id="passwd-stdin"),
    pytest.param(f"printf '%s' '{SECRET}' | podman login --password-stdin r", id="printf"),
    # Logging in with a token, setting a secret in a store.
    pytest.param(f"vault login {SECRET}", id="vault-login"),
    pytest.param(f"gh secret set API_KEY --body {SECRET}", id="gh-secret-body"),
    pytest.param(f"gh secret set API_KEY -b {SECRET}", id="gh-secret-b"),
    pytest.param(
        f"az keyvault secret set --vault-name v --name Db --value {SECRET}", id="az-keyvault"
    ),
    pytest.param(
        f"aws ssm put-parameter --name /prod/db/pw --value {SECRET} --type SecureString",
        id="aws-ssm",
    ),
    pytest.param(
        f"aws secretsmanager put-secret-value --secret-id db --secret-string {SECRET}",
        id="aws-secret-string",
    ),
    # A call's arguments in a stack trace; a setter.
    pytest.param(
        f"#0 /var/www/Db.php(12): PDO->__construct('mysql:host=db', 'root', '{SECRET}')",
        id="php-pdo",
    ),
    pytest.param(f"mysqli_connect('db', 'app', '{SECRET}')", id="php-mysqli"),
    pytest.param(f"ldap_bind(Object(LDAP\\Connection), 'cn=a', '{SECRET}')", id="php-ldap-bind"),
    pytest.param(f"oci_connect('app', '{SECRET}', 'orcl')", id="php-oci"),
    pytest.param(f'ds.setPassword("{SECRET}");', id="java-setter"),
    pytest.param(f"client.set_api_key('{SECRET}')", id="python-setter"),
    pytest.param(f'builder.withClientSecret("{SECRET}").build()', id="with-builder"),
    pytest.param(f'DataSourceBuilder.create().password("{SECRET}")', id="builder-method"),
    # A name/value object in YAML's flow style.
    pytest.param(f"env: [{{name: DB_PASSWORD, value: {SECRET}}}]", id="yaml-flow-env"),
    # XML elements with attributes (WS-Security's SOAP header).
    pytest.param(f'<wsse:Password Type="PasswordText">{SECRET}</wsse:Password>', id="soap"),
    pytest.param(f'<password encrypted="false">{SECRET}</password>', id="xml-attributes"),
    # LDAP: LDIF's base64 value, a hashed password's scheme before its value.
    pytest.param(f"userPassword: {{SSHA}}{SECRET}", id="ldap-scheme"),
    pytest.param(f"password={{CLEARTEXT}}{SECRET}", id="scheme-pair"),
    # A multipart form's field.
    pytest.param(
        f'--b\r\nContent-Disposition: form-data; name="password"\r\n\r\n{SECRET}\r\n--b--',
        id="multipart",
    ),
    # A cell naming a secret and the cell beside it.
    pytest.param(f"| Password | {SECRET} |", id="markdown-key-value"),
    pytest.param(f"<tr><td>password</td><td>{SECRET}</td></tr>", id="html-td"),
    pytest.param(f"<th>API Key</th><td>{SECRET}</td>", id="html-th"),
    # Two fields aligned with spaces.
    pytest.param(f"password     {SECRET}\n", id="aligned-spaces"),
]


@pytest.mark.parametrize("text", LEAKS)
def test_secret_is_redacted(text: str) -> None:
    """The secret is gone from the redacted text."""
    out = redact(text)
    assert SECRET not in out, out


KEPT = [
    "sqlplus / as sysdba",
    "connect to db01/orders failed",
    "ldapsearch -x -b dc=example,dc=com -W",
    "psexec \\\\host -s cmd",
    "net use Z: \\\\srv\\share /persistent:yes",
    "net user admin /active:yes",
    "echo $DB_PASSWORD | docker login -u x --password-stdin",
    "echo done | tee log",
    "vault login -method=oidc role=ops",
    "gh secret set API_KEY < key.txt",
    'ds.getPassword("db")',
    "secrets.get_secret('prod/db')",
    'client.setTimeout("30s")',
    "env: [{name: LOG_LEVEL, value: debug}]",
    '<Password Type="PasswordText"/>',
    "| Password | ******** |",
    "<td>password</td><td>expired</td>",
    "NAME          TYPE     DATA   AGE\ndb-password   Opaque   1      3d\n",
    "password  reset  requested by ops",
    "std::token::Token",
]


@pytest.mark.parametrize("text", KEPT)
def test_text_is_kept(text: str) -> None:
    """A command without a password, a lookup by a secret's name, a flag: unchanged."""
    assert redact(text) == text


def test_ldif_base64_value_is_redacted() -> None:
    """LDIF's `name:: <base64>` loses its base64 value whole (its `::` is no path's)."""
    encoded = "b3BhbC1rZXR0bGUtc3VucmlzZS00Mg=="  # the secret, base64-encoded
    assert redact(f"userPassword:: {encoded}") == "userPassword:: [REDACTED:password]"


@pytest.mark.parametrize(
    "inner",
    [
        {"password": SECRET},
        {"secrets": {"db": SECRET}},
        {"log": f"user\tpassword\napp\t{SECRET}\n"},
        {"cmd": f"sqlplus app/{SECRET}@orcl"},
    ],
)
def test_json_escaped_twice_is_redacted(inner: dict[str, str]) -> None:
    """JSON text inside a JSON string inside a JSON string (an SNS envelope's message quoting
    a log line's JSON) is read a level down: its secret goes, and the text stays JSON."""
    text = json.dumps({"Message": json.dumps({"detail": json.dumps(inner)})})
    out = redact(text)
    assert SECRET not in out, out
    json.loads(json.loads(json.loads(out)["Message"])["detail"])


@pytest.mark.parametrize(
    "argv",
    [
        ["sqlplus", f"app/{SECRET}@orcl"],
        ["/usr/bin/net", "user", "admin", SECRET, "/add"],
        ["vault", "login", SECRET],
    ],
)
def test_an_argument_list_without_options_is_read_as_a_command(argv: list[str]) -> None:
    """A process's argv (a container's Cmd) that names a command taking a password by its
    place is read as its command line, whether or not an option comes first."""
    assert SECRET not in json.dumps(DEFAULT.value({"Cmd": argv}))
