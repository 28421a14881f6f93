"""Red team, round 7: credentials that still leave the process.

Each leak case is put into an alert's description and the alert is handed to the pipeline
(in-memory store, a sink that records its effects). What leaves is rendered as the sinks and the
summariser render it: the GitHub issue's title, body and labels, Slack's message, the ticket
backend's body, the LLM prompt and the pipeline's log lines after the log redactor. A leak is
any 8-character run of the case's secret on any of them. Guards beside the leaks show that the
path shows the alert's text (a leak is the redactor's miss, not an empty render) and that the
near shapes the redactor knows are blanked.

Each leak is a strict xfail naming the redactor part where its fix belongs.
"""

from __future__ import annotations

import base64
import json

import pytest

from secret_surfaces import leaks as leaks_of
from secret_surfaces import surfaces as surfaces_of
from triage.redact import Redactor

#: A password no vendor's shape tells apart: only where it stands says it is one.
PASSWORD = "Xk7pL2mR9tQwE4rT"


def _decimal_bytes(text: str) -> str:
    """`text`'s UTF-8 bytes as Go's `%v` prints a byte slice: decimals spaced apart."""
    return " ".join(str(byte) for byte in text.encode())


# --- guards -------------------------------------------------------------------------------------


async def test_the_surfaces_show_the_description() -> None:
    """The GitHub body, Slack, the backend and the prompt show the description, so a leak below
    is the redactor's miss, not an empty render."""
    surfaces = await surfaces_of("replica lag on orders-db")
    for place in ("github-body", "slack", "backend", "prompt"):
        assert "orders-db" in surfaces[place], place


async def test_near_shapes_the_redactor_knows_leave_nothing() -> None:
    """The siblings of this round's leaks that the redactor knows are blanked everywhere: a
    pair after another name (`auth: password=`), a Ruby hash without a name before it, a
    `.properties` value continued with no space before `=`, `mysql -p` on one line, curl's
    `-u user:password`, a bare `Password:` prompt's answer, a Teams webhook on
    webhook.office.com, MySQL's hash after `IDENTIFIED BY PASSWORD`, the JSON form of `az
    storage account keys list`, Go's `%v` of a password's bytes, a JSON name/value pair,
    redis' CONFIG GET requirepass reply, `vault kv get -field=password`, a `Cookie:`
    header's `sid`, a `mnemonic:` starting its line, a JSON array's `--db-password` and its
    value, a sensitive Terraform output named `db_password`, and a name behind a full-width
    colon or a Cyrillic a (U+0430)."""
    office = (
        "https://corp.webhook.office.com/webhookb2/3f1c2b4a-1111-4000-8000-00000000abcd@"
        "9a8b7c6d-2222-4000-8000-00000000dcba/IncomingWebhook/0123456789abcdef0123456789abcdef/"
        "9a8b7c6d-2222-4000-8000-00000000dcba"
    )
    cases = [
        (f"auth: password={PASSWORD}", PASSWORD),
        (f'{{:password=>"{PASSWORD}"}}', PASSWORD),
        (f"db.password=\\\n  {PASSWORD}", PASSWORD),
        (f"mysql -u root -p{PASSWORD} app", PASSWORD),
        (f"curl -u admin:{PASSWORD} https://ci.corp/hook", PASSWORD),
        (f"Password: {PASSWORD}", PASSWORD),
        (f"teams notify failed: {office}", "0123456789abcdef0123456789abcdef"),
        (f"GRANT ALL ON *.* TO 'app'@'%' IDENTIFIED BY PASSWORD '{MYSQL_HASH}';", MYSQL_HASH[1:]),
        (
            json.dumps([{"keyName": "key1", "permissions": "FULL", "value": STORAGE_KEY}]),
            STORAGE_KEY,
        ),
        (f"&{{Host:db User:app Password:[{_decimal_bytes(PASSWORD)}]}}", _decimal_bytes(PASSWORD)),
        (json.dumps({"name": "DB_PASSWORD", "value": PASSWORD}), PASSWORD),
        (f'127.0.0.1:6379> CONFIG GET requirepass\n1) "requirepass"\n2) "{PASSWORD}"', PASSWORD),
        (f"$ vault kv get -field=password secret/db\n{PASSWORD}", PASSWORD),
        (f"Cookie: sid={PASSWORD}", PASSWORD),
        (f'args: ["--db-password", "{PASSWORD}"]', PASSWORD),
        (json.dumps({"db_password": {"sensitive": True, "value": PASSWORD}}), PASSWORD),
        (f"restored wallet from\nmnemonic: {MNEMONIC}", "wave sausage worth useful"),
        (f"password\uff1a{PASSWORD}", PASSWORD),
        (f"p\u0430ssword={PASSWORD}", PASSWORD),
    ]
    leaks = {text: await leaks_of(text, secret) for text, secret in cases}
    assert {text: places for text, places in leaks.items() if places} == {}


# --- leaks: redact/pairs.py (a name whose value the pair rule declines) ---------------------------


@pytest.mark.parametrize(
    "line",
    [
        f"login failed, credentials: password={PASSWORD}",
        f"creds: password={PASSWORD}",
        f"credentials= password={PASSWORD}",
    ],
    ids=["credentials-colon", "creds-colon", "credentials-equals"],
)
async def test_a_pair_after_a_credentials_name_is_blanked(line: str) -> None:
    """`credentials: password=PW` (a log line that names what it dumps) shows the password
    nowhere, as `auth: password=PW` and `config: password=PW` already do."""
    assert await leaks_of(line, PASSWORD) == []


@pytest.mark.parametrize(
    "line",
    [
        f'Rails.application.credentials: {{:aws=>{{:secret_access_key=>"{PASSWORD}"}}}}',
        f'secret: {{:password=>"{PASSWORD}"}}',
        f'password: {{:value=>"{PASSWORD}"}}',
    ],
    ids=["rails-credentials", "secret-over-hash", "password-over-value-hash"],
)
async def test_a_ruby_hash_under_a_secrets_name_is_blanked(line: str) -> None:
    """A Rails log's `inspect` of a hash (`credentials: {:aws=>{:secret_access_key=>"…"}}`)
    under a secret's name shows the value nowhere: today the name's rule blanks `{:key=` and
    the hash's value stands beside the placeholder, as a Python or JSON dict's does not."""
    assert await leaks_of(f"boot failed: {line}", PASSWORD) == []


# --- leaks: redact/logins.py (mail and FTP protocol transcripts) ---------------------------------


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        (f"* OK IMAP4rev1 ready\na001 LOGIN alice {PASSWORD}\na001 NO [AUTHENTICATIONFAILED]",
         PASSWORD),
        ("AUTH LOGIN\n334 VXNlcm5hbWU6\nYWxpY2U=\n334 UGFzc3dvcmQ6\n"
         f"{base64.b64encode(PASSWORD.encode()).decode()}\n535 5.7.8 Authentication failed",
         base64.b64encode(PASSWORD.encode()).decode()),
    ],
    ids=["imap-login", "smtp-auth-login"],
)  # fmt: skip
async def test_a_login_in_a_protocol_transcript_is_blanked(text: str, secret: str) -> None:
    """A mail client's debug transcript (imaplib/smtplib debug, a monitor's check output)
    shows the password it sent nowhere: IMAP's `LOGIN user password` and SMTP's AUTH LOGIN
    answer to the base64 `Password:` prompt (FTP's and POP3's `USER`/`PASS` already are)."""
    assert await leaks_of(f"mail check failed, transcript:\n{text}", secret) == []


# --- leaks: redact/names.py (a Wi-Fi key printed by netsh) ---------------------------------------


async def test_a_wifi_key_printed_by_netsh_is_blanked() -> None:
    """A Windows endpoint check that runs `netsh wlan show profile name=corp key=clear` shows
    the network's passphrase (its `Key Content` row) nowhere."""
    text = (
        "Security settings\n-----------------\n"
        "    Authentication         : WPA2-Personal\n"
        "    Security key           : Present\n"
        f"    Key Content            : {PASSWORD}\n"
        "    Cost                   : Unrestricted"
    )
    assert await leaks_of(f"wifi profile check output:\n{text}", PASSWORD) == []


# --- leaks: redact/tokens.py (webhook URLs) ------------------------------------------------------


OUTLOOK_HOOK_SECRET = "4f0c9e2b7a1d4c3e8b6a5f9d0e1c2b3a"


async def test_a_legacy_office_365_connector_url_is_blanked() -> None:
    """A Teams incoming-webhook URL of the older form (outlook.office.com/webhook/…), which
    anyone may post to, shows its secret path nowhere, as webhook.office.com's already does."""
    url = (
        "https://outlook.office.com/webhook/3f1c2b4a-1111-4000-8000-00000000abcd@"
        f"9a8b7c6d-2222-4000-8000-00000000dcba/IncomingWebhook/{OUTLOOK_HOOK_SECRET}/"
        "9a8b7c6d-2222-4000-8000-00000000dcba"
    )
    assert await leaks_of(f"teams notify failed: POST {url} 400", OUTLOOK_HOOK_SECRET) == []


# --- leaks: redact/continued.py (a line continued by a backslash) --------------------------------


@pytest.mark.parametrize(
    "line",
    [
        f"db.password = \\\n    {PASSWORD}",
        f"spring.datasource.password : \\\n    {PASSWORD}",
        f"mysql -u root \\\n  -p{PASSWORD} app",
        f"docker login registry.corp \\\n  -u ci \\\n  -p {PASSWORD}",
        f"sshpass \\\n  -p {PASSWORD} ssh root@db-1",
    ],
    ids=["properties-equals", "properties-colon", "mysql", "docker-login", "sshpass"],
)
async def test_a_secret_on_a_continued_line_is_blanked(line: str) -> None:
    """A Java `.properties` value continued on the next line (its name, ` = \\`, then the
    indented value) and a shell command split by `\\` (a Dockerfile RUN, a script echoed by
    `set -v`) show the password nowhere, as the same text on one line already does."""
    assert await leaks_of(f"step output:\n{line}\nexit status 1", PASSWORD) == []


# --- leaks: redact/tokens.py (MySQL's native password hash) --------------------------------------


#: mysql_native_password's stored hash: `*` and SHA1(SHA1(password)) in upper-case hex. A
#: client that holds it logs in without the password (the protocol's scramble needs only it).
MYSQL_HASH = "*7D30366A02402F6D2C62451184813C751B2B3BE6"


@pytest.mark.parametrize(
    "text",
    [
        f"CREATE USER 'app'@'%' IDENTIFIED WITH 'mysql_native_password' AS '{MYSQL_HASH}';",
        "+------+------+-------------------------------------------+\n"
        "| user | host | authentication_string                     |\n"
        "+------+------+-------------------------------------------+\n"
        f"| app  | %    | {MYSQL_HASH} |",
        f"*************************** 1. row ***************************\n"
        f"                 User: app\n authentication_string: {MYSQL_HASH}",
    ],
    ids=["mysqldump-create-user", "mysql-user-table", "mysql-user-vertical"],
)
async def test_a_mysql_native_password_hash_is_blanked(text: str) -> None:
    """A mysqldump's `CREATE USER … AS '*…'` and a `SELECT … FROM mysql.user` in a migration
    log show the native password hash nowhere: it logs in as the user, as an NT hash does."""
    assert await leaks_of(f"user migration output:\n{text}", MYSQL_HASH[1:]) == []


# --- leaks: redact/names.py (Consul's and Nomad's gossip encryption key) -------------------------


GOSSIP_KEY = "M/voHvobDr986na+/XwSKxjR0CMpYBFcKyEPtfDzDSY="


@pytest.mark.parametrize(
    "text",
    [
        f'datacenter = "dc1"\nencrypt = "{GOSSIP_KEY}"\nverify_incoming = true',
        json.dumps({"datacenter": "dc1", "encrypt": GOSSIP_KEY}),
        f"consul agent -server -encrypt={GOSSIP_KEY} -data-dir=/opt/consul",
    ],
    ids=["hcl", "json", "flag"],
)
async def test_a_gossip_encryption_key_is_blanked(text: str) -> None:
    """A Consul or Nomad agent's config dump or command line shows its gossip encryption key
    nowhere: with it anyone on the network reads and joins the cluster's gossip."""
    assert await leaks_of(f"agent failed to start, config:\n{text}", GOSSIP_KEY) == []


# --- leaks: redact/cloud.py (Azure CLI's key listings) -------------------------------------------


COGNITIVE_KEY = "4a3baf69dad8199bfca8b6f3a6a9421c"
STORAGE_KEY = (
    "qiukBO3lTMX0RjaydudCYnE3OBo9Jiq+NQzvZr0peAKDZQfggQs01R2A86FwHoxDmRNftM4DmjAPouB+1aT7sQ=="
)


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        (f'{{\n  "key1": "{COGNITIVE_KEY}",\n  "key2": "9d3baf69dad8199bfca8b6f3a6a94ab1"\n}}',
         COGNITIVE_KEY),
        ("KeyName    Permissions    Value\n---------  -------------  -----\n"
         f"key1       FULL           {STORAGE_KEY}", STORAGE_KEY),
    ],
    ids=["cognitiveservices-keys-list", "storage-keys-list-table"],
)  # fmt: skip
async def test_an_azure_cli_key_listing_is_blanked(text: str, secret: str) -> None:
    """A deploy job that runs `az cognitiveservices account keys list` (an Azure OpenAI
    resource's keys, `key1`/`key2`) or `az storage account keys list -o table` shows the keys
    nowhere, as the storage listing's JSON form already does."""
    assert await leaks_of(f"deploy step output:\n{text}", secret) == []


# --- leaks: redact/pairs.py (Node's rendering of a Buffer) ---------------------------------------


PASSWORD_BYTES = " ".join(f"{byte:02x}" for byte in PASSWORD.encode())


@pytest.mark.parametrize(
    "text",
    [
        f"{{ user: 'app', password: <Buffer {PASSWORD_BYTES}> }}",
        f"signing with secret=<Buffer {PASSWORD_BYTES}>",
    ],
    ids=["util-inspect-object", "template-string"],
)
async def test_a_secret_held_in_a_node_buffer_is_blanked(text: str) -> None:
    """A Node service's log of an object whose password is a Buffer (`util.inspect` prints its
    bytes in hex: `<Buffer 58 6b …>`) shows the bytes nowhere; Go's `[88 107 …]` already is."""
    assert await leaks_of(f"worker crashed: {text}", PASSWORD_BYTES) == []


# --- leaks: redact/disguises.py (look-alikes outside its maps) -----------------------------------


@pytest.mark.parametrize(
    "text",
    [
        f"password\u2236{PASSWORD}",
        f"password\u02d0 {PASSWORD}",
        f"password\ua789{PASSWORD}",
        f"pass\u0461ord={PASSWORD}",
        f"\u1d18\u1d00ss\u1d21\u1d0f\u0280\u1d05={PASSWORD}",
    ],
    ids=["ratio-colon", "modifier-triangular-colon", "modifier-letter-colon", "omega-w",
         "small-capitals"],
)  # fmt: skip
async def test_a_name_disguised_by_look_alikes_is_still_read(text: str) -> None:
    """A password behind a name or colon drawn with look-alike characters shows nowhere, as
    it does behind a full-width colon or a Cyrillic a (U+0430): a reader sees `password: …`."""
    assert await leaks_of(f"config dump: {text}", PASSWORD) == []


# --- leaks: redact/pairs.py (a prompt's note between the name and its colon) ---------------------


@pytest.mark.parametrize(
    "text",
    [
        "AWS Access Key ID [None]: AKIAIOSFODNN7EXAMPLE\n"
        f"AWS Secret Access Key [None]: {PASSWORD}\nDefault region name [None]: us-east-1",
        f"AWS Secret Access Key [****************EKEY]: {PASSWORD}",
        f"New password: ********\nPassword (again): {PASSWORD}",
        f"API token (optional): {PASSWORD}",
    ],
    ids=["aws-configure", "aws-configure-masked-default", "password-again", "token-optional"],
)
async def test_a_secret_typed_at_a_prompt_with_a_note_is_blanked(text: str) -> None:
    """An interactive setup fed from a script (`printf … | aws configure`, a CLI's
    `Password (again):`) logs each prompt with the answer after it: the answer to a secret's
    prompt shows nowhere, as it does after a bare `Password:`."""
    assert await leaks_of(f"bootstrap log:\n{text}", PASSWORD) == []


# --- over-redaction: redact/commands.py (`-u` that is not user:password) -------------------------


@pytest.mark.parametrize(
    "text",
    [
        "beeline -u jdbc:hive2://hive.corp:10000/default -n etl -e 'select 1'",
        "sqlline -u jdbc:phoenix:zk1,zk2:2181 -n etl",
        "docker exec -u postgres:postgres db-1 pg_isready",
    ],
    ids=["beeline-jdbc-url", "sqlline-jdbc-url", "docker-exec-user-group"],
)
def test_a_dash_u_that_is_not_a_login_stays(text: str) -> None:
    """A job's failing command keeps which database (host and port of the JDBC URL after
    `-u`) and which user and group it ran as: none of them is a password."""
    assert Redactor().text(f"job failed: {text}") == f"job failed: {text}"


# --- over-redaction: redact/names.py (names of a secret's reference, not its value) --------------


def test_the_name_of_a_kubernetes_secret_stays() -> None:
    """A failed Helm release's values keep which Secret and which key in it the chart reads
    (the thing to fix when the pod says the Secret is missing), as `secretName:` already
    does: they are names of objects, public in the chart's values."""
    text = (
        "Error: INSTALLATION FAILED: secret not found\nauth:\n  existingSecret: redis-auth\n"
        "  existingSecretPasswordKey: redis-password\nimagePullSecret: regcred"
    )
    assert Redactor().text(text) == text


def test_a_numeric_session_id_stays() -> None:
    """A database's or a game server's numeric session id, the handle to look the session up
    by, stays: a number of a few digits is a counter, not a bearer token."""
    text = "backend session_id=42 terminated after 30s idle; sessionId: 1187 reconnected"
    assert Redactor().text(text) == text


# --- leaks: redact/markup.py (a name and its value as two members) -------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "aws cloudformation create-stack --stack-name db --parameters "
        f"ParameterKey=DBPassword,ParameterValue={PASSWORD} ParameterKey=Env,ParameterValue=prod",
        f"aws ssm add-tags-to-resource --tags Key=db_password,Value={PASSWORD}",
        f'level=info msg="setting changed" key=db_password value="{PASSWORD}"',
        json.dumps({"property": "spring.datasource.password", "value": PASSWORD}),
        json.dumps({"setting": "password", "value": PASSWORD}),
        json.dumps({"variable": "DB_PASSWORD", "value": PASSWORD}),
    ],
    ids=["cfn-parameters-shorthand", "tags-shorthand", "logfmt", "property-json",
         "setting-json", "variable-json"],
)  # fmt: skip
async def test_a_secret_given_as_a_name_value_pair_is_blanked(text: str) -> None:
    """A value whose name stands in a sibling member shows nowhere in the other spellings of
    that pair: the AWS CLI's shorthand (`ParameterKey=DBPassword,ParameterValue=…`), a
    logfmt line and JSON naming it `property`, `setting` or `variable` (`{"name": …,
    "value": …}` and CloudFormation's JSON already are)."""
    assert await leaks_of(f"deploy step output:\n{text}", PASSWORD) == []


# --- leaks: redact/redis.py (replies to reads of a secret's key) ---------------------------------


@pytest.mark.parametrize(
    "text",
    [
        f'127.0.0.1:6379> HGETALL app:config\n1) "db_password"\n2) "{PASSWORD}"\n3) "env"\n'
        '4) "prod"',
        f'127.0.0.1:6379> HGET app:config db_password\n"{PASSWORD}"',
        f'127.0.0.1:6379> GET app:db:password\n"{PASSWORD}"',
    ],
    ids=["hgetall", "hget", "get"],
)
async def test_a_redis_reply_holding_a_secret_is_blanked(text: str) -> None:
    """A debugging session pasted into an alert (`redis-cli` reading an app's config hash or
    a key named `…:password`) shows the value nowhere, as CONFIG GET requirepass's reply."""
    assert await leaks_of(f"cache check:\n{text}", PASSWORD) == []


# --- leaks: redact/commands.py (key-value stores' CLIs printing a secret) ------------------------


@pytest.mark.parametrize(
    "text",
    [
        f"$ consul kv get app/db/password\n{PASSWORD}",
        f"$ etcdctl get /app/db/password\n/app/db/password\n{PASSWORD}",
        f"$ etcdctl get /app/db/password --print-value-only\n{PASSWORD}",
    ],
    ids=["consul-kv-get", "etcdctl-get", "etcdctl-print-value-only"],
)
async def test_a_key_value_stores_cli_printing_a_secret_is_blanked(text: str) -> None:
    """A script's trace that reads a password from Consul's KV or etcd shows the printed value
    nowhere, as `vault kv get -field=password` and `pass show` already do."""
    assert await leaks_of(f"bootstrap log:\n{text}\n$ ./start.sh", PASSWORD) == []


# --- leaks: redact/calls.py (a secret type's constructor) ----------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        f"  File \"app/settings.py\", line 12, in <module>\n    key = SecretStr('{PASSWORD}')",
        f"Secret(value='{PASSWORD}')",
        f'let key = SecretString::new("{PASSWORD}".into());',
        f'let key = Secret::new("{PASSWORD}".to_string());',
    ],
    ids=["pydantic-secretstr", "secret-value", "rust-secretstring", "rust-secret-new"],
)
async def test_a_literal_given_to_a_secret_type_is_blanked(text: str) -> None:
    """A traceback's source line or a debug print that wraps a literal in a type made to hold
    secrets shows the literal nowhere: the type says what it is."""
    assert await leaks_of(f"startup failed:\n{text}", PASSWORD) == []


# --- leaks: redact/web.py (curl's cookie argument) -----------------------------------------------


COOKIE_TOKEN = "q8Wz3NvR6yHb1KcM5tGd0PfJ2sLx7AeU"


@pytest.mark.parametrize(
    "line",
    [
        f"curl -sS -b 'sid={COOKIE_TOKEN}' https://admin.corp/api/jobs",
        f'curl --cookie "lang=en; id={COOKIE_TOKEN}" https://admin.corp/api/jobs',
    ],
    ids=["dash-b", "long-cookie"],
)
async def test_a_cookie_given_to_curl_is_blanked(line: str) -> None:
    """A health check's curl that sends a session cookie shows its value nowhere: every value
    of a `Cookie:` header is blanked, and `-b 'name=value'` is that header."""
    assert await leaks_of(f"probe failed: + {line}", COOKIE_TOKEN) == []


# --- leaks: redact/tokens.py, redact/names.py (crypto wallets' private keys) ---------------------


WIF_KEY = "5KGeb9QfXhe5f1vXHcFDnXbvcXShxAFhAxaRp1jr5Bqe3Lr2uxJ"
SOLANA_KEYPAIR = json.dumps([(37 * i + 11) % 256 for i in range(64)])
MNEMONIC = "legal winner thank year wave sausage worth useful legal winner thank yellow"


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        (f"importprivkey failed for {WIF_KEY}", WIF_KEY),
        (f"$ cat ~/.config/solana/id.json\n{SOLANA_KEYPAIR}", SOLANA_KEYPAIR[1:60]),
        (f"recovery phrase: {MNEMONIC}", "wave sausage worth useful"),
    ],
    ids=["bitcoin-wif", "solana-keypair-file", "recovery-phrase"],
)
async def test_a_crypto_wallets_private_key_is_blanked(text: str, secret: str) -> None:
    """A wallet service's error quoting a Bitcoin private key in WIF, a deploy step that cats
    Solana's keypair file (the key as 64 numbers) and a `recovery phrase:` (the mnemonic, as
    `mnemonic:` and `seed_phrase:` already are) show the key nowhere: each spends the funds."""
    assert await leaks_of(f"wallet job output:\n{text}", secret) == []


# --- leaks: redact/pairs.py (a passphrase of several words after a line's prefix) ----------------


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("2026-12-06T10:00:00Z ERROR passphrase: correct horse battery staple",
         "horse battery staple"),
        ("gpg: passphrase: correct horse battery staple", "horse battery staple"),
        (f"wallet restore: mnemonic: {MNEMONIC}", "wave sausage worth useful"),
    ],
    ids=["timestamped-log-line", "tool-prefix", "mnemonic-after-prefix"],
)  # fmt: skip
async def test_a_passphrase_of_words_after_a_prefix_is_blanked(text: str, secret: str) -> None:
    """A passphrase or mnemonic of several words on a log line with a prefix before its name
    shows no word of it, as it shows none when the name starts the line (`passphrase: …`
    alone is blanked whole)."""
    assert await leaks_of(f"job output:\n{text}", secret) == []


# --- leaks: redact/markup.py (Terraform's own mark of a sensitive value) -------------------------


async def test_a_terraform_output_marked_sensitive_is_blanked() -> None:
    """`terraform output -json` in a deploy log shows no output's value that Terraform itself
    marks `"sensitive": true`, whatever the output is called (`admin`, `bootstrap`)."""
    outputs = {
        "admin": {"sensitive": True, "type": "string", "value": PASSWORD},
        "region": {"sensitive": False, "type": "string", "value": "eu-west-1"},
    }
    text = f"$ terraform output -json\n{json.dumps(outputs, indent=2)}"
    assert await leaks_of(f"deploy step output:\n{text}", PASSWORD) == []


# --- leaks: redact/positional.py (argument vectors printed as lists) -----------------------------


@pytest.mark.parametrize(
    "text",
    [
        f"sys.argv=['worker.py', '--api-key', '{PASSWORD}', '--queue', 'orders']",
        f"process.argv: [ '/usr/bin/node', 'app.js', '--password', '{PASSWORD}' ]",
        f"    Args:\n      --db-password\n      {PASSWORD}\n    State:          Waiting",
    ],
    ids=["python-sys-argv", "node-process-argv", "kubectl-describe-args"],
)
async def test_a_secret_flag_in_a_printed_argument_vector_is_blanked(text: str) -> None:
    """A crash report that prints its argument vector (Python's `sys.argv`, Node's
    `process.argv`) and `kubectl describe pod`'s Args list show the value after
    `--password`/`--api-key` nowhere, as `args: ["--db-password", "…"]` already does."""
    assert await leaks_of(f"crash report:\n{text}", PASSWORD) == []
