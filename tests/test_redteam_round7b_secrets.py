"""Red team, round 7b: credentials that still leave the process, in error messages, traces,
config formats and CLIs the earlier rounds did not try.

Each leak case is put into an alert's description and the alert is handed to the pipeline
(in-memory store, a sink that records its effects). What leaves is rendered as the sinks and the
summariser render it: the GitHub issue's title, body and labels, Slack's message, the ticket
backend's body, the LLM prompt and the pipeline's log lines after the log redactor. A leak is
any 8-character run of the case's secret on any of them. A guard shows that the near shapes the
redactor knows are blanked, so each leak is a miss of the one shape it names.

Each leak is a strict xfail naming the redactor part where its fix belongs.
"""

from __future__ import annotations

import base64
import json

import pytest

from secret_surfaces import leaks as leaks_of
from triage.redact import Redactor

#: A password no vendor's shape tells apart: only where it stands says it is one.
PASSWORD = "Xk7pL2mR9tQwE4rT"
PASSWORD_HEX = PASSWORD.encode().hex()
PASSWORD_B64 = base64.b64encode(PASSWORD.encode()).decode()
PASSWORD_B32 = base64.b32encode(PASSWORD.encode()).decode()
#: mysql_native_password's stored hash (`*` and 40 upper-case hex): it logs in as the user.
MYSQL_HASH = "*7D30366A02402F6D2C62451184813C751B2B3BE6"


# --- guard --------------------------------------------------------------------------------------


async def test_near_shapes_the_redactor_knows_leave_nothing() -> None:
    """The siblings of this round's leaks that the redactor knows are blanked everywhere, so
    each leak below is a miss of its own shape: SSM's parameter JSON, a JSON `value` beside
    a Secrets Manager name, a Python dict's, PHP's `var_export`'s and `var_dump`'s and an
    Elixir keyword list's password, an XML
    `<password>` element, a `password=` of hex, `echo PW | docker login --password-stdin`,
    `mysql -p'PW'` before a heredoc, curl's `-u user:pw`, `gh secret set --body PW`,
    PyMySQL's positional password, muttrc's single-quoted `set imap_pass = '…'`, sqlplus'
    `user/pw@db`, `db2 connect … using pw`, a sasl_passwd line whose user is an e-mail,
    Rails' `authenticity_token`, a GraphQL variable named `pw` and a mysqldump's native
    hash; an `ldap_default_authtok_type` line (a name only) stays."""
    cases = [
        (json.dumps({"Parameter": {"Name": "/app/db/password", "Value": PASSWORD}}), PASSWORD),
        (json.dumps({"Name": "db", "SecretString": PASSWORD}), PASSWORD),
        (f"{{'password': '{PASSWORD}'}}", PASSWORD),
        (f"array (\n  'password' => '{PASSWORD}',\n)", PASSWORD),
        (f'array(1) {{\n  ["password"]=>\n  string(16) "{PASSWORD}"\n}}', PASSWORD),
        (f'[hostname: "db", password: "{PASSWORD}"]', PASSWORD),
        (f"<server><id>corp</id><password>{PASSWORD}</password></server>", PASSWORD),
        (f"password={PASSWORD_HEX}", PASSWORD_HEX),
        (f"echo {PASSWORD} | docker login -u ci --password-stdin registry.corp", PASSWORD),
        (f"mysql -u root -p'{PASSWORD}' <<EOF\nselect 1;\nEOF", PASSWORD),
        (f"curl -u ci:{PASSWORD} https://api.corp/", PASSWORD),
        (f"gh secret set DB_PASSWORD --body {PASSWORD}", PASSWORD),
        (f"pymysql.connect('db', 'app', '{PASSWORD}', 'appdb')", PASSWORD),
        (f"set imap_pass = '{PASSWORD}'", PASSWORD),
        (f"sqlplus app/{PASSWORD}@db:1521/orcl", PASSWORD),
        (f"db2 connect to SAMPLE user db2inst1 using {PASSWORD}", PASSWORD),
        (f"[smtp.gmail.com]:587 alerts@corp.example:{PASSWORD}", PASSWORD),
        (f'Parameters: {{"authenticity_token"=>"{PASSWORD}", "next"=>"/"}}', PASSWORD),
        (
            json.dumps(
                {
                    "query": "mutation($pw: String!) { login(password: $pw) }",
                    "variables": {"pw": PASSWORD},
                }
            ),
            PASSWORD,
        ),
        (
            f"CREATE USER 'app'@'%' IDENTIFIED WITH 'mysql_native_password' AS '{MYSQL_HASH}';",
            MYSQL_HASH[1:],
        ),
    ]
    leaks = {text: await leaks_of(text, secret) for text, secret in cases}
    assert {text: places for text, places in leaks.items() if places} == {}
    assert "ldap_default_authtok_type = password" in Redactor().text(
        "ldap_default_authtok_type = password"
    )


# --- leaks: redact/cloud.py (AWS errors that quote the rejected value) ---------------------------


@pytest.mark.parametrize(
    "text",
    [
        "botocore.exceptions.ClientError: An error occurred (ValidationException) when calling "
        f"the PutParameter operation: 1 validation error detected: Value '{PASSWORD}' at "
        "'value' failed to satisfy constraint: Member must have length less than or equal to 4096",
        "An error occurred (ValidationException) when calling the PutParameter operation: "
        f"Parameter value '{PASSWORD}' for /app/db/password failed to match the allowed pattern",
    ],
    ids=["validation-error-value", "parameter-value-for-path"],
)
async def test_an_aws_error_quoting_a_rejected_value_is_blanked(text: str) -> None:
    """A deploy step whose `aws ssm put-parameter` (or boto3's ClientError) is refused shows
    the SecureString it tried to store nowhere: the error quotes the value it refused, and
    the parameter's JSON form (`"Value": …`) is already blanked."""
    assert await leaks_of(f"deploy step output:\n{text}", PASSWORD) == []


# --- leaks: redact/cloud.py (Azure Key Vault's secret bundle) ------------------------------------


@pytest.mark.parametrize("name", ["db-password", "payments-api"], ids=["named", "neutral-name"])
async def test_an_azure_key_vault_secret_bundle_is_blanked(name: str) -> None:
    """`az keyvault secret show` in a deploy log prints the secret's bundle: its `value` is
    the secret whatever the secret is called (the id's host is a Key Vault's), as Secrets
    Manager's `SecretString` and SSM's `Value` already are."""
    bundle = {
        "attributes": {"enabled": True},
        "id": f"https://kv-prod.vault.azure.net/secrets/{name}/6f1c2b4a9d8e4c7fb0a1e2d3c4b5a697",
        "name": name,
        "value": PASSWORD,
    }
    text = f"$ az keyvault secret show --vault-name kv-prod --name {name}\n{json.dumps(bundle)}"
    assert await leaks_of(f"deploy step output:\n{text}", PASSWORD) == []


# --- leaks: redact/pairs.py (Erlang terms holding a password) ---------------------------------


@pytest.mark.parametrize(
    "text",
    [
        f'** exit: {{badauth,[{{host,"db"}},{{password,"{PASSWORD}"}}]}}',
        f'[{{username,<<"app">>}},{{password,<<"{PASSWORD}">>}},{{port,5432}}]',
    ],
    ids=["erlang-proplist-string", "erlang-proplist-binary"],
)
async def test_an_erlang_term_holding_a_password_is_blanked(text: str) -> None:
    """An Erlang/Elixir crash report printing a connection's options (a proplist of
    `{password, "…"}` tuples, binaries `<<"…">>` too) shows the password nowhere, as a
    Python dict's and Elixir's keyword list's (`password: "…"`) already are."""
    assert await leaks_of(f"worker crashed:\n{text}", PASSWORD) == []


# --- leaks: redact/markup.py (an Apple property list) --------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        f"<dict>\n  <key>Password</key>\n  <string>{PASSWORD}</string>\n</dict>",
        f"<key>APIToken</key><string>{PASSWORD}</string>",
    ],
    ids=["password-indented", "api-token-one-line"],
)
async def test_a_property_lists_secret_is_blanked(text: str) -> None:
    """A macOS endpoint check or an MDM profile (a `.mobileconfig` Wi-Fi or VPN payload)
    dumped as a plist shows the `<string>` after `<key>Password</key>` nowhere: in a plist
    the key element names its sibling, as `<password>…</password>` names its own text."""
    assert await leaks_of(f"profile install failed:\n{text}", PASSWORD) == []


# --- leaks: redact/names.py (SSSD's LDAP bind password) ------------------------------------------


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("[domain/corp]\nldap_default_bind_dn = cn=sssd,dc=corp\nldap_default_authtok_type = "
         f"password\nldap_default_authtok = {PASSWORD}", PASSWORD),
        (f"ldap_default_authtok_type = obfuscated_password\nldap_default_authtok = {PASSWORD_B64}",
         PASSWORD_B64),
    ],
    ids=["plain", "obfuscated"],
)  # fmt: skip
async def test_sssds_bind_password_is_blanked(text: str, secret: str) -> None:
    """A Linux host's login check that dumps `sssd.conf` shows the LDAP bind password
    (`ldap_default_authtok`, an "authentication token") nowhere; SSSD's obfuscated form is
    reversible by anyone, so it goes too."""
    assert await leaks_of(f"sssd failed to start, config:\n{text}", secret) == []


# --- leaks: redact/names.py, redact/hex_runs.py (a secret spelled in hex under its name) ---------


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        (f"secret_hex={PASSWORD_HEX}", PASSWORD_HEX),
        (f"password_hex: '{PASSWORD_HEX}'", PASSWORD_HEX),
        (f"password_b32={PASSWORD_B32}", PASSWORD_B32),
    ],
    ids=["secret-hex", "password-hex", "password-base32"],
)
async def test_a_secret_spelled_in_hex_under_its_name_is_blanked(text: str, secret: str) -> None:
    """A config dump that stores a key in hex under its name plus the encoding
    (`secret_hex=…`, as HMAC and WireGuard-style tools do) shows the hex nowhere, as
    `password=<hex>` already does: hex or base32 is the same secret in another spelling."""
    assert await leaks_of(f"config dump:\n{text}", secret) == []


# --- leaks: redact/commands.py (a secret fed to a command on stdin) ------------------------------


@pytest.mark.parametrize(
    "text",
    [
        f"+ echo '{PASSWORD}' | npx wrangler secret put API_KEY",
        f"+ printf '{PASSWORD}' | vercel env add DB_PASSWORD production",
        f"+ mysql -u root -p <<EOF\n{PASSWORD}\nEOF",
        f"+ echo {PASSWORD} | bin/elasticsearch-keystore add -x bootstrap.password",
    ],
    ids=[
        "wrangler-secret-put",
        "vercel-env-add",
        "mysql-password-heredoc",
        "elasticsearch-keystore-add",
    ],
)
async def test_a_secret_fed_on_stdin_is_blanked(text: str) -> None:
    """A CI script traced by `set -x` that pipes a secret into Cloudflare's or Vercel's
    secret-setting command, or feeds mysql's `-p` prompt from a heredoc, shows the secret
    nowhere, as `echo PW | docker login --password-stdin` and `gcloud secrets … --data-file=-`
    already do."""
    assert await leaks_of(f"deploy step output:\n{text}", PASSWORD) == []


# --- leaks: redact/commands.py (a secret given to a secret-setting CLI as an argument) ------------


@pytest.mark.parametrize(
    "text",
    [
        f'dotnet user-secrets set "ConnectionStrings:Db:Password" "{PASSWORD}"',
        f"gh secret set DB_PASSWORD -b'{PASSWORD}' --repo corp/app",
    ],
    ids=["dotnet-user-secrets", "gh-secret-set-glued"],
)
async def test_a_value_given_to_a_secret_setting_cli_is_blanked(text: str) -> None:
    """A setup script's `dotnet user-secrets set NAME VALUE` and `gh secret set NAME
    -b'VALUE'` show the value nowhere, as `gh secret set NAME --body VALUE` already does:
    the command's whole purpose is to store a secret."""
    assert await leaks_of(f"setup script trace:\n{text}", PASSWORD) == []


# --- leaks: redact/commands.py (load testers' basic auth) ----------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        f"ab -n 1000 -c 10 -A loadtest:{PASSWORD} https://api.corp/v1/orders",
        f"hey -z 30s -a loadtest:{PASSWORD} https://api.corp/v1/orders",
    ],
    ids=["apache-bench", "hey"],
)
async def test_a_load_testers_basic_auth_is_blanked(text: str) -> None:
    """A load test's command line quoted in a latency alert shows the basic-auth password
    (`ab -A user:pw`, `hey -a user:pw`) nowhere, as curl's `-u user:pw` already does."""
    assert await leaks_of(f"load test started: {text}", PASSWORD) == []


# --- leaks: redact/positional.py (redis-py's positional password) --------------------------------


@pytest.mark.parametrize(
    "text",
    [
        f'    client = redis.Redis("cache.corp", 6379, 0, "{PASSWORD}")',
        f"    client = StrictRedis('cache.corp', 6379, 0, '{PASSWORD}')",
    ],
    ids=["redis", "strict-redis"],
)
async def test_redis_pys_positional_password_is_blanked(text: str) -> None:
    """A traceback's source line that builds a redis-py client with positional arguments
    (host, port, db, password) shows the password nowhere, as PyMySQL's and cx_Oracle's
    positional passwords already do."""
    trace = f'  File "app/cache.py", line 8, in <module>\n{text}\nConnectionError: refused'
    assert await leaks_of(f"worker crashed:\n{trace}", PASSWORD) == []


# --- leaks: a new rule beside redact/calls.py (loguru's `diagnose` annotations) ------------------


async def test_a_value_loguru_annotates_under_a_secrets_name_is_blanked() -> None:
    """A loguru traceback (`logger.exception` with `diagnose=True`, its default) prints each
    variable's value under a `└` in the column where the variable stands on the source
    line: the value under `db_password` shows nowhere, as `password='…'` in a call does."""
    trace = (
        "Traceback (most recent call last):\n"
        '  File "/app/db.py", line 12, in connect\n'
        "    return pool.connect(user, db_password)\n"
        f"           │    │       │     └ '{PASSWORD}'\n"
        "           │    │       └ 'app'\n"
        "           │    └ <function Pool.connect at 0x7f3a2c1d0e50>\n"
        "           └ <Pool object at 0x7f3a2c1d0f10>\n"
        "psycopg2.OperationalError: password authentication failed"
    )
    assert await leaks_of(f"worker crashed:\n{trace}", PASSWORD) == []


# --- leaks: redact/web.py (a SAML assertion in a form post) --------------------------------------


#: A signed assertion whose subject is an employee number: nothing in it is an e-mail or a known
#: token, yet posted to the service provider within its validity it signs that employee in.
SAML_RESPONSE = base64.b64encode(
    b'<samlp:Response ID="_8e8dc5f69a98cc4c1f" IssueInstant="2026-12-06T10:00:00Z">'
    b"<saml:Assertion><ds:Signature><ds:SignatureValue>kX2v9QpL3mRtY8wZ1aB4cD6eF7gH0iJ"
    b"</ds:SignatureValue></ds:Signature><saml:Subject><saml:NameID>E104233</saml:NameID>"
    b"</saml:Subject></saml:Assertion></samlp:Response>"
).decode()


async def test_a_saml_response_in_a_form_post_is_blanked() -> None:
    """An SSO error that logs the ACS form post shows the `SAMLResponse` nowhere: replayed
    within its validity it signs the user in (its base64 is blanked today only when an
    e-mail inside it is found)."""
    text = f"POST /saml/acs 500\nbody: SAMLResponse={SAML_RESPONSE}&RelayState=%2Fdashboard"
    assert await leaks_of(f"sso error:\n{text}", SAML_RESPONSE[40:120]) == []


# --- leaks: redact/commands.py (`set NAME = "VALUE"`: the `=` taken for the value) ---------------


@pytest.mark.parametrize(
    "text",
    [
        f'set smtp_pass = "{PASSWORD}"',
        f'set imap_pass = "{PASSWORD}"\nset folder = "imaps://mail.corp/"',
        f'SET PASSWORD = "{PASSWORD}"',
    ],
    ids=["muttrc-smtp-pass", "muttrc-imap-pass", "upper-case-set"],
)
async def test_a_set_command_with_a_spaced_equals_is_blanked(text: str) -> None:
    """A mail relay check that dumps a muttrc (`set smtp_pass = "…"`) shows the password
    nowhere: today the rule for `set NAME VALUE` blanks the `=` as if it were the value
    and the quoted password stands after the placeholder (single quotes, or no `=`, are
    already blanked)."""
    assert await leaks_of(f"mail relay check, config:\n{text}", PASSWORD) == []


# --- leaks: redact/names.py (JAAS `user_<name>` options: a broker's user list) -------------------


@pytest.mark.parametrize(
    "text",
    [
        "Server {\n  org.apache.zookeeper.server.auth.DigestLoginModule required\n"
        f'  user_super="{PASSWORD}";\n}};',
        "listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain."
        f'PlainLoginModule required user_alice="{PASSWORD}" user_bob="{PASSWORD[::-1]}";',
    ],
    ids=["zookeeper-digest-login-module", "kafka-plain-one-line"],
)
async def test_a_jaas_user_option_is_blanked(text: str) -> None:
    """A broker that fails to start and logs its JAAS config shows the passwords of its
    users (`user_alice="…"`, ZooKeeper's digest module's and Kafka PLAIN's user list)
    nowhere, as a module's own `password="…"` already is."""
    assert await leaks_of(f"broker failed to start, jaas:\n{text}", PASSWORD) == []


# --- leaks: redact/commands.py (a password given positionally to a database client) --------------


@pytest.mark.parametrize(
    "text",
    [
        f"$ isql -v MSSQL_PROD sa {PASSWORD}\n[08001][unixODBC][Microsoft] Login timeout expired",
        f"[zk: zk-1:2181(CONNECTED) 0] addauth digest super:{PASSWORD}\nInsufficient permission",
    ],
    ids=["unixodbc-isql", "zkcli-addauth-digest"],
)
async def test_a_password_given_positionally_to_a_database_client_is_blanked(text: str) -> None:
    """A connectivity check's transcript that runs unixODBC's `isql DSN user password` or
    ZooKeeper's `addauth digest user:password` shows the password nowhere, as `sqlplus
    user/password@db` and `db2 connect … using password` already do."""
    assert await leaks_of(f"connectivity check:\n{text}", PASSWORD) == []


# --- leaks: redact/commands.py (a CI runner's debug evaluation of a secret) ----------------------


@pytest.mark.parametrize(
    "text",
    [
        "##[debug]Evaluating condition for step: 'Deploy'\n"
        f"##[debug]Evaluating: secrets.API_TOKEN\n##[debug]=> '{PASSWORD}'\n"
        f"##[debug]Result: '{PASSWORD}'",
        f"##[debug]Evaluating: variables['dbPassword']\n##[debug]Result: '{PASSWORD}'",
    ],
    ids=["github-actions-secrets", "azure-pipelines-variables"],
)
async def test_a_ci_runners_debug_evaluation_of_a_secret_is_blanked(text: str) -> None:
    """A CI log with step debugging on (ACTIONS_STEP_DEBUG, system.debug), attached to a
    failed-deploy alert, shows the value an expression over `secrets.…` or a password
    variable evaluated to nowhere: the line before names what it is."""
    assert await leaks_of(f"deploy job log:\n{text}", PASSWORD) == []


# --- leaks: redact/tokens.py (a MySQL native hash in Puppet's change notice) ---------------------


async def test_a_mysql_hash_in_a_config_managers_change_notice_is_blanked() -> None:
    """A Puppet run's report quoted in a drift alert shows the MySQL native hash it set
    nowhere: the hash logs in as the user, as it does in a mysqldump's `CREATE USER`."""
    text = (
        "Notice: /Stage[main]/Db/Mysql_user[app@%]/password_hash: changed "
        f"'' to '{MYSQL_HASH}'\nNotice: Applied catalog in 4.21 seconds"
    )
    assert await leaks_of(f"puppet run report:\n{text}", MYSQL_HASH[1:]) == []


# --- leaks and over-redaction: redact/pairs.py (GraphQL variables) -------------------------------


async def test_a_graphql_variable_bound_to_a_password_is_blanked() -> None:
    """A GraphQL gateway's error log of a login request shows the password nowhere when the
    query passes it through a variable with a short name (`login(password: $p)`, value in
    `"variables": {"p": …}`), as it does when the variable is named `pw`."""
    request = {
        "query": "mutation Login($p: String!) { login(email: $e, password: $p) { token } }",
        "variables": {"e": "ops@corp.example", "p": PASSWORD},
    }
    assert await leaks_of(f"graphql error: {json.dumps(request)}", PASSWORD) == []


def test_a_graphql_variables_reference_and_type_stay() -> None:
    """A GraphQL query's text keeps its variable references and types (`$pw: String!`,
    `password: $pw`): they are the query's shape, not a secret; the value lives in
    `variables`."""
    query = "mutation Login($pw: String!) { login(user: $u, password: $pw) { token } }"
    assert Redactor().text(f"graphql error in query: {query}") == f"graphql error in query: {query}"


# --- leaks: redact/web.py (Django's CSRF form token) ---------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        f"<QueryDict: {{'csrfmiddlewaretoken': ['{PASSWORD}'], 'next': ['/admin/']}}>",
        f"POST /admin/login/ body=csrfmiddlewaretoken={PASSWORD}&username=ops",
    ],
    ids=["querydict", "form-body"],
)
async def test_djangos_csrf_form_token_is_blanked(text: str) -> None:
    """A Django error report of a failed form post shows the CSRF form token nowhere: with
    the victim's cookie it forges their requests, and Rails' `authenticity_token` in the
    same report is already blanked."""
    assert await leaks_of(f"request failed: {text}", PASSWORD) == []


# --- leaks: redact/web.py (an authority that failed to parse, quoted by the parser's error) -----


@pytest.mark.parametrize(
    "text",
    [
        f"urllib3.exceptions.LocationParseError: Failed to parse: 'app:{PASSWORD}@db:${{PORT}}'",
        f"LocationParseError: Failed to parse: app:{PASSWORD}@db:port/app",
    ],
    ids=["unexpanded-port-variable", "placeholder-port"],
)
async def test_a_url_a_parser_refused_shows_no_password(text: str) -> None:
    """A client whose DSN's port was never filled in (`${PORT}` left unexpanded, `port`)
    fails in the URL parser, whose error quotes the authority: it shows the password
    nowhere, as `app:pw@db:5432/app` already does."""
    assert await leaks_of(f"worker crashed: {text}", PASSWORD) == []


# --- leaks: redact/pairs.py (a name padded to its value by leader dots) --------------------------


@pytest.mark.parametrize(
    "text",
    [
        f"HikariPool-1 - password........................{PASSWORD}",
        f'HikariConfig - password........................"{PASSWORD}"',
    ],
    ids=["bare", "quoted"],
)
async def test_a_value_after_leader_dots_is_blanked(text: str) -> None:
    """A startup config dump that lines its values up with leader dots (HikariCP's DEBUG
    dump, `name.........value`) shows a password's value nowhere, as `name: value` and
    `name = value` already do."""
    assert await leaks_of(f"pool failed to start:\n{text}", PASSWORD) == []
