"""Leftover leaks (helper 377): PostgreSQL's stored password hashes, a secret a CLI prints in any
output form or under a shell's `set -x` trace, a JAAS user option cut before its closing quote,
and loguru's annotations laid out with tabs; each with the neighbours that must stay."""

from __future__ import annotations

import json

import pytest

from triage.redact import Redactor

PASSWORD = "Xk7pL2mR9tQwE4rT"
P = "[REDACTED:password]"
H = "[REDACTED:password-hash]"
#: PostgreSQL's md5 hash: `md5` and md5(password || user) in hex.
PG_MD5 = "md5c3c4f5d2e1a0b9c8d7e6f5a4b3c2d1e0"
#: A SCRAM-SHA-256 verifier: iterations, salt, StoredKey and ServerKey (each logs in offline).
SCRAM = (
    "SCRAM-SHA-256$4096:c2FsdHNhbHRzYWx0c2FsdA==$Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmE="
    ":YmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm8="
)
VAULT_ID = "https://kv-prod.vault.azure.net/secrets/db/0123456789abcdef0123456789abcdef"


def _text(text: str) -> str:
    """`text` as the redactor writes it."""
    return Redactor().text(text)


# --- PostgreSQL's stored password hashes ----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            f"postgresql::server::role {{ 'app': password_hash => '{PG_MD5}' }}",
            f"postgresql::server::role {{ 'app': password_hash => '{H}' }}",
        ),
        (
            "Notice: /Stage[main]/Postgresql::Server::Role[app]/password_hash: changed"
            f" 'md5aaaa' to '{PG_MD5}'",
            "Notice: /Stage[main]/Postgresql::Server::Role[app]/password_hash: changed"
            f" 'md5aaaa' to '{H}'",
        ),
        (f" rolname | rolpassword\n---------+----\n app     | {PG_MD5}", None),
        (f'"app" "{PG_MD5}"', f'"app" "{H}"'),
        (f"pg_shadow: usename=app passwd={PG_MD5.upper()[:3]}{PG_MD5[3:]}", None),
        (f"{{'rolname': 'app', 'rolpassword': '{PG_MD5}'}}", None),
        (f" app     | {SCRAM}", f" app     | {H}"),
        (f'"app" "{SCRAM}"', f'"app" "{H}"'),
        (f"role app: {SCRAM.replace('SHA-256', 'SHA-1')}", f"role app: {H}"),
    ],
    ids=[
        "puppet-password-hash",
        "puppet-change-notice",
        "pg-authid-row",
        "pgbouncer-userlist",
        "pg-shadow-upper-prefix",
        "python-row",
        "scram-row",
        "scram-userlist",
        "scram-sha-1",
    ],
)
def test_a_postgres_password_hash_is_blanked(text: str, expected: str | None) -> None:
    """PostgreSQL's stored password (`md5` and 32 hex digits, or a SCRAM verifier) logs in
    as the role without the password (md5's protocol needs only the hash; a verifier's keys
    are cracked offline): it goes wherever it stands, as MySQL's native hash does."""
    redacted = _text(text)
    assert PG_MD5[3:11] not in redacted
    assert "c2FsdHNh" not in redacted
    assert "Zm9vYmFy" not in redacted
    if expected is not None:
        assert redacted == expected


@pytest.mark.parametrize(
    "text",
    [
        "d41d8cd98f00b204e9800998ecf8427e  backup.tar.gz",
        "md5: d41d8cd98f00b204e9800998ecf8427e",
        "checksum md5=d41d8cd98f00b204e9800998ecf8427e",
        "Content-MD5 d41d8cd98f00b204e9800998ecf8427e",
        "/var/cache/md5d41d8cd98f00b204e9800998ecf8427e/blob",
        "password_encryption = scram-sha-256",
        "sasl.mechanism=SCRAM-SHA-256 failed: authentication failed",
        "auth_method: md5",
    ],
)
def test_a_files_md5_digest_and_a_mechanisms_name_stay(text: str) -> None:
    """A checksum named md5 (spaced, after `:` or `=`, or in a path) and the names of the
    mechanisms stay: only the glued `md5<32 hex>` is PostgreSQL's stored password."""
    assert _text(text) == text


# --- a secret a CLI prints --------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        f'$ az keyvault secret show --vault-name kv-prod --name db --query value\n"{PASSWORD}"',
        f'$ az keyvault secret show --vault-name kv-prod -n db --query value -o json\n"{PASSWORD}"',
        f'az keyvault secret show --id {VAULT_ID} --query "value" --output jsonc\n"{PASSWORD}"',
        f"$ az keyvault secret show --vault-name kv-prod -n db --query value -o yaml\n{PASSWORD}",
        f"$ az keyvault secret show --vault-name kv-prod -n db --query value -o table\n"
        f"Result\n----------------\n{PASSWORD}",
        f"+ az keyvault secret show --vault-name kv-prod --name db --query value -o tsv\n"
        f"{PASSWORD}\n+ echo done",
        f"++ az keyvault secret show --vault-name kv-prod --name db --query value -o tsv\n"
        f"{PASSWORD}",
        f"+ vault kv get -field=password secret/db\n{PASSWORD}",
        f'$ aws secretsmanager get-secret-value --secret-id db --query SecretString\n"{PASSWORD}"',
        "$ aws ssm get-parameter --name /app/db --with-decryption --query Parameter.Value\n"
        f'"{PASSWORD}"',
    ],
    ids=[
        "az-query-value-json",
        "az-query-value-o-json",
        "az-query-value-jsonc",
        "az-query-value-yaml",
        "az-query-value-table",
        "az-xtrace",
        "az-nested-xtrace",
        "vault-xtrace",
        "aws-secretsmanager-query-json",
        "aws-ssm-query-json",
    ],
)
def test_a_secret_a_cli_prints_in_any_output_form_is_blanked(text: str) -> None:
    """A secret store's CLI prints the secret as a JSON string, a YAML scalar or a table's
    cell when asked for its value (`--query value`), as it prints it bare as TSV or text; and
    a `set -x` trace (`+ cmd`) is a transcript as a prompt's is: the value shows nowhere."""
    assert PASSWORD[:8] not in _text(text)


def test_a_key_vault_table_keeps_the_secrets_name() -> None:
    """`az keyvault secret show -o table` loses only its Value column: the header, the rule
    and the secret's name stay."""
    text = (
        "$ az keyvault secret show --vault-name kv-prod --name db -o table\n"
        "ContentType    Name    Value\n"
        "-------------  ------  ----------------\n"
        f"               db      {PASSWORD}\n"
        "$ echo done"
    )
    expected = (
        "$ az keyvault secret show --vault-name kv-prod --name db -o table\n"
        "ContentType    Name    Value\n"
        "-------------  ------  ----------------\n"
        f"               db      {P}\n"
        "$ echo done"
    )
    assert _text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        f"$ az keyvault secret show --vault-name kv-prod --name db --query id -o tsv\n{VAULT_ID}",
        "$ az keyvault secret show --vault-name kv-prod --name db --query attributes.enabled\ntrue",
        "+ az keyvault secret show --vault-name kv-prod --name db --query value -o none"
        "\n+ echo deployed",
        "+ make build\n+ echo ok\nok",
    ],
    ids=["query-id", "query-enabled", "output-none", "xtrace-of-other-commands"],
)
def test_what_a_cli_prints_besides_the_value_stays(text: str) -> None:
    """A query for the secret's id or attributes prints no secret, `-o none` prints nothing
    (the next trace line stays), and a trace of other commands keeps its output."""
    assert _text(text) == text


# --- JAAS: a user option cut short ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required"
            f' user_alice="{PASSWORD}',
            "sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required"
            f' user_alice="{P}',
        ),
        (
            "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required"
            f' user_admin="adminpw9x" user_alice="{PASSWORD}',
            "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required"
            f' user_admin="{P}" user_alice="{P}',
        ),
        (
            "KafkaServer {\n  org.apache.kafka.common.security.plain.PlainLoginModule required\n"
            f"  user_alice='{PASSWORD}\nbroker exited",
            "KafkaServer {\n  org.apache.kafka.common.security.plain.PlainLoginModule required\n"
            f"  user_alice='{P}\nbroker exited",
        ),
        (
            '{"msg": "error: \\"org.apache.zookeeper.server.auth.DigestLoginModule required'
            f' user_super=\\"{PASSWORD}"}}',
            '{"msg": "error: \\"org.apache.zookeeper.server.auth.DigestLoginModule required'
            f' user_super=\\"{P}"}}',
        ),
    ],
    ids=["kafka-plain", "kafka-scram-second", "kafka-server-block", "inside-a-json-string"],
)
def test_a_jaas_user_option_cut_before_its_quote_is_blanked(text: str, expected: str) -> None:
    """An alert that cuts a JAAS entry before its closing quote or `;` still loses a
    `user_<name>` option's password, to the line's end (or its JSON string's), as a cut
    `password="…` does; a closed one before it goes as it did."""
    assert _text(text) == expected


# --- loguru's annotations with tabs -----------------------------------------------------------------


def _trace(source: str, *annotations: str) -> str:
    """A loguru traceback whose frame shows `source` and `annotations` below it."""
    lines = (f'  File "/app/db.py", line 12, in connect\n{source}', *annotations)
    return "Traceback (most recent call last):\n" + "\n".join(lines) + "\nOperationalError"


@pytest.mark.parametrize(
    "text",
    [
        _trace("    get(db_password)", f"    │\t└ '{PASSWORD}'", "    └ <function get>"),
        _trace(
            "    return pool.connect(user, db_password)",
            f"\t   │    │       │     └ '{PASSWORD}'",
            "\t   │    │       └ 'app'",
            "\t   │    └ <function Pool.connect>",
            "\t   └ <Pool object>",
        ),
        _trace(
            "    return pool.connect(user, db_password)",
            f"\t   │\t│\t│     └ '{PASSWORD}'",
            "\t   │\t│\t└ 'app'",
        ),
        _trace(
            "\treturn connect(user, db_password)",
            f"\t       │       │     └ '{PASSWORD}'",
            "\t       │       └ 'app'",
        ),
        _trace(
            "\treturn connect(user, db_password)",
            f"\t\t\t             └ '{PASSWORD}'",
        ),
        _trace(
            "    return pool.connect(user, db_password)",
            f"\t│\t│\t│\t└ '{PASSWORD}'",
            "\t│\t│\t└ 'app'",
        ),
    ],
    ids=[
        "pipe-tab-cap",
        "tab-lead",
        "tabs-between-pipes",
        "tab-source",
        "tabs-four-wide",
        "spaces-collapsed-to-tabs",
    ],
)
def test_a_value_loguru_annotates_with_tabs_is_blanked(text: str) -> None:
    """A loguru trace whose annotations carry tabs (a log shipper's or an editor's, in the
    lead or between the `│`s, eight or four columns wide, or runs of spaces collapsed into
    one tab each) still loses the value under a secret's name, as its spaced form does."""
    assert PASSWORD[:8] not in _text(text)


def test_a_value_loguru_annotates_with_tabs_under_another_name_stays() -> None:
    """Where the tabs line up (eight columns), the value under `user` stays: only the one under
    `db_password` goes."""
    text = _trace(
        "    return pool.connect(user, db_password)",
        f"\t   │    │       │     └ '{PASSWORD}'",
        "\t   │    │       └ 'app-user'",
        "\t   │    └ <function Pool.connect>",
    )
    assert _text(text) == text.replace(PASSWORD, P)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "++ az keyvault secret show --vault-name kv-prod --name db --query value -o tsv\n"
            f"+ CONN={PASSWORD}\n+ echo ok",
            "++ az keyvault secret show --vault-name kv-prod --name db --query value -o tsv\n"
            f"+ CONN={P}\n+ echo ok",
        ),
        (
            f"++ vault kv get -field=password secret/db\n+ export DBP='{PASSWORD} x'",
            f"++ vault kv get -field=password secret/db\n+ export DBP='{P}'",
        ),
        (
            "+++ aws ssm get-parameter --name /app/db --with-decryption --query Parameter.Value"
            f" --output text\n++ local value={PASSWORD}",
            "+++ aws ssm get-parameter --name /app/db --with-decryption --query Parameter.Value"
            f" --output text\n++ local value={P}",
        ),
        (
            f"+ az keyvault secret show --vault-name kv-prod --name db -o tsv\n+ CONN={PASSWORD}",
            None,
        ),
        ("++ vault kv get -field=username secret/db\n+ DB_USER=app",) * 2,
        ("++ date +%s\n+ STARTED=1765000000",) * 2,
    ],
    ids=["az", "vault-export-quoted", "aws-local", "not-nested", "not-a-secret", "not-a-store"],
)
def test_what_a_traced_command_substitution_assigns_is_blanked(
    text: str, expected: str | None
) -> None:
    """Under `set -x`, `CONN=$(az keyvault secret show … -o tsv)` traces the command (`++ …`)
    and then the assignment with what it printed (`+ CONN=…`): that value goes whatever the
    variable is called; an assignment after a command that was not substituted (one `+`), one
    from a field not named like a secret, or from another command, stays."""
    redacted = _text(text)
    if expected is None:
        assert redacted == text
    else:
        assert redacted == expected


@pytest.mark.parametrize(
    "text",
    [
        '$ az storage account keys list -g rg -n acct --query "[0].value" -o tsv\n' + PASSWORD,
        f'$ az acr credential show -n reg --query "passwords[0].value" -o tsv\n{PASSWORD}',
        f"$ az cosmosdb keys list -g rg -n db --query primaryMasterKey -o tsv\n{PASSWORD}",
        f'$ az ad sp create-for-rbac --name ci --query password\n"{PASSWORD}"',
        f"$ az acr login -n reg --expose-token --query accessToken -o tsv\n{PASSWORD}",
        f"$ az redis list-keys -g rg -n cache --query primaryKey -o tsv\n{PASSWORD}",
        "$ az servicebus namespace authorization-rule keys list -g rg --namespace-name ns"
        f" -n RootManageSharedAccessKey --query primaryKey -o tsv\n{PASSWORD}",
        f"$ az storage account keys list -g rg -n acct -o tsv\nkey1\tFULL\tx{PASSWORD}\n"
        f"key2\tFULL\t{PASSWORD}",
        "$ az storage account keys list -g rg -n acct -o table\n"
        "KeyName    Permissions    Value\n---------  -------------  ----------------\n"
        f"key1       FULL           x{PASSWORD}\nkey2       FULL           {PASSWORD}",
        f"$ az acr credential show -n reg -o table\nUSERNAME    PASSWORD           PASSWORD2\n"
        f"----------  -----------------  ----------------\nreg         x{PASSWORD}  {PASSWORD}",
        f"$ kubectl get secret db -o jsonpath='{{.data.password}}'\n{PASSWORD}",
        f'$ kubectl get secrets db -o "jsonpath={{.data.api-key}}"\n{PASSWORD}',
    ],
    ids=[
        "storage-keys-query",
        "acr-credential-query",
        "cosmosdb-master-key",
        "sp-create-for-rbac-json",
        "acr-expose-token",
        "redis-list-keys",
        "servicebus-rule-keys",
        "storage-keys-tsv-each-row",
        "storage-keys-table",
        "acr-credential-table",
        "kubectl-jsonpath",
        "kubectl-jsonpath-quoted",
    ],
)
def test_a_credential_an_azure_or_kubectl_command_prints_is_blanked(text: str) -> None:
    """The Azure CLI's commands that print a credential (`keys list`, `list-keys`,
    `credential show`, `create-for-rbac`, `--expose-token`) print it as `az keyvault secret
    show` does: each row of TSV, a table's secret columns, what a query for a key picks;
    `kubectl get secret -o jsonpath` prints a secret's data (still base64, as good as clear)."""
    assert PASSWORD[:8] not in _text(text)


@pytest.mark.parametrize(
    "text",
    [
        "$ az storage account keys list -g rg -n acct --query [0].keyName -o tsv\nkey1",
        "$ az account get-access-token --query expiresOn -o tsv\n2026-12-06 16:00:00.000000",
        "$ az acr credential show -n reg -o table\nUSERNAME    PASSWORD           PASSWORD2\n"
        "----------  -----------------  ----------------\nreg         [REDACTED:password]"
        "  [REDACTED:password]",
        "$ kubectl get secret db -o jsonpath='{.metadata.name}'\ndb",
    ],
    ids=["key-name", "token-expiry", "table-user-column", "kubectl-metadata"],
)
def test_what_such_a_command_prints_besides_a_credential_stays(text: str) -> None:
    """A query for a key's name or a token's expiry, a table's user column and a secret's
    metadata stay."""
    assert _text(text) == text


def test_a_value_loguru_annotates_with_tabs_inside_a_json_string_is_blanked() -> None:
    """Inside a JSON string (a log shipper's record), the annotations' tabs are escaped
    (`\\t`): the value under `db_password` still goes, and the one under `user` stays."""
    trace = _trace(
        "    return pool.connect(user, db_password)",
        f"\t   │    │       │     └ '{PASSWORD}'",
        "\t   │    │       └ 'app-user'",
    )
    record = json.dumps({"log": trace}, ensure_ascii=False)
    assert _text(record) == record.replace(PASSWORD, P)


# --- round 8's neighbours -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        f"ipa-client-install -U -p admin -w {PASSWORD} --domain corp.example",
        f"security create-keychain -p {PASSWORD} build.keychain",
        f"dotnet nuget delete pkg 1.0.0 -k {PASSWORD} -s corp",
        f"radtest -t mschap alice '{PASSWORD}' radius.corp:1812 0 s3cr3tXyz",
        f"password_hash: {PASSWORD}{PASSWORD}",
        "$krb5pa$18$alice$CORP.EXAMPLE$" + PASSWORD * 4,
        f"bob::CORP:{'ab' * 24}:{PASSWORD.encode().hex()[:32]}{'cd' * 8}:1122334455667788",
        f"Private Key = {PASSWORD}",
        f"dig -y hmac-sha256:xfer:{PASSWORD}== @ns1 corp.example AXFR",
        f"NPM_AUTH_IDENT=ci:{PASSWORD}",
        f"$ wg genpsk\n{PASSWORD}",
        f"age --decrypt --passphrase-file=<(printf %s {PASSWORD}) x.age",
        f"socat - PROXY:proxy.corp:db-1:22,proxyport=3128 --proxy-auth=ops:{PASSWORD}",
        f"[ProxyList]\nsocks5  10.0.0.2  1080  ops  {PASSWORD}",
    ],
    ids=[
        "ipa-client-w",
        "create-keychain",
        "nuget-delete-k",
        "radtest-option-quoted",
        "yaml-password-hash",
        "krb5pa",
        "netntlmv1",
        "private-key-spaced-equals",
        "dig-y",
        "npm-auth-ident",
        "wg-genpsk",
        "passphrase-file-printf",
        "proxy-auth-equals",
        "proxychains-socks5",
    ],
)
def test_round_eights_neighbours_are_blanked(text: str) -> None:
    """The neighbours of round 8's fixes go too: FreeIPA's client's `-w`, a keychain made
    with `-p`, NuGet's delete `-k`, radtest after an option with a quoted password, a
    `password_hash` in YAML, a Kerberos pre-authentication hash, a NetNTLMv1 response, a
    `Private Key =` line, dig's TSIG key, npm's auth ident, WireGuard's pre-shared key, a
    passphrase file from `printf`, a proxy's credentials after `=`, a SOCKS proxy's row."""
    assert PASSWORD[:8] not in _text(text)
    assert PASSWORD.encode().hex()[:16] not in _text(text)


@pytest.mark.parametrize(
    "text",
    [
        "signtool sign /ph /fd SHA256 /f cert.pfx app.exe",
        "ipa-client-install -U -p admin --domain corp.example",
        "bw unlock --check",
        "samba-tool user create alice --random-password",
        "net rpc password alice -U admin -S dc1",
        "radtest alice",
        "std::vector<int>::iterator it = v.begin();",
        "server::PORT:1234",
        "Private key: /etc/ssl/private/web.key",
        "the private key is missing",
        "https://git.corp/api/v1/repos/team/app/hooks/12",
        "password_hash: null",
        "Authorization: denied for user alice",
        "kubectl apply -f <(echo apiVersion)",
        "nsupdate -k /etc/bind/ddns.key /tmp/upd",
        "$ wg show wg0\ninterface: wg0\n  listening port: 51820",
        "[ProxyList]\nsocks5 10.0.0.2 1080",
    ],
)
def test_round_eights_near_misses_stay(text: str) -> None:
    """What only looks like round 8's shapes stays: signtool's `/ph` (page hashes), FreeIPA's
    client principal `-p`, Bitwarden's `--check`, samba-tool's generated password, net's
    prompt, a cut radtest line, C++'s and a config's `::`, a key's path, prose about a key,
    a forge's numbered hook, a null hash, a manifest echoed into `-f`, a TSIG key file, an
    interface's status and a proxy row without credentials."""
    assert _text(text) == text


@pytest.mark.parametrize(
    "text",
    [
        f"*3\r\n$4\r\nAUTH\r\n$7\r\ndefault\r\n$16\r\n{PASSWORD}\r\n*1\r\n$4\r\nPING\r\n",
        f'sendto(3, "auth {PASSWORD}\\r\\n", 23, 0, NULL, 0) = 23',
        f"https://privatebin.corp/?a1b2c3d4e5f6a7b8#{PASSWORD}xYz9",
        f'{{"payload": {{"dataCrc32c": "1", "data": "{PASSWORD}"}}}}',
        f'resource "random_password" "db" {{\n  + bcrypt_hash = "{PASSWORD}"\n}}',
        f"# /etc/chrony.keys\n1 SHA256 ASCII:{PASSWORD}",
    ],
    ids=[
        "resp-user-then-password",
        "strace-lower-auth",
        "paste-link",
        "gcp-crc-first",
        "tf-bcrypt-hash",
        "chrony-ascii",
    ],
)
def test_round_eights_later_neighbours_are_blanked(text: str) -> None:
    """More of round 8's neighbours go: RESP's AUTH with a user and a command after it, a
    lower-case AUTH in an strace, a paste link's key, Google's payload with its checksum
    first, a random password's bcrypt hash in a plan, chrony's ASCII key."""
    assert PASSWORD[:8] not in _text(text)


@pytest.mark.parametrize(
    "text",
    [
        "*1\r\n$4\r\nPING\r\n*2\r\n$4\r\nECHO\r\n$5\r\nhello\r\n",
        "PASS test_login_flow (0.2s)",
        "passwd: password expiry information changed.",
        "passwd: Authentication token manipulation error",
        "Authorization: ok",
        "db password: (not set)",
        "https://grafana.corp/d/abc/orders?orgId=1#panel-section-overview",
        '{"data": "aGVsbG8gd29ybGQ=", "id": 3}',
        '"type": "random_id", "result": "b64-abc"',
        "1 M users signed in",
    ],
)
def test_round_eights_later_near_misses_stay(text: str) -> None:
    """Near misses stay: RESP without an AUTH, a test runner's PASS, passwd's other
    reports, a state word after Authorization, a no-value marker, an anchor, a `data`
    without Google's checksum, another resource's result, prose shaped like an NTP row."""
    assert _text(text) == text


def test_a_jwt_continued_inside_a_json_string_keeps_only_the_next_words() -> None:
    """A JWT whose signature a shell continued, logged inside a JSON string (`.\\\\\\n`), loses
    its signature; the words on the line after a whole token stay."""
    header_claims = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJzdmMtZGVwbG95In0"
    signature = "Q2x7Vb9KpL3mN8rT5wY1zA4cE6gH0jU2iO9pS7dF3kM"
    continued = json.dumps({"log": f"export T={header_claims}.\\\n{signature}"})
    assert signature[:12] not in _text(continued)
    whole = f"T={header_claims}.{signature}\n  retrying in 5s"
    assert _text(whole).endswith("\n  retrying in 5s")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f".LOGON tdprod/etl,{PASSWORD};", ".LOGON tdprod/etl,[REDACTED:password];"),
        (f".logon etl,'{PASSWORD}'", ".logon etl,'[REDACTED:password]'"),
        (".logon tdprod/etl", ".logon tdprod/etl"),
    ],
    ids=["upper-case", "quoted-no-tdpid", "prompted"],
)
def test_a_teradata_logons_password_goes(text: str, expected: str) -> None:
    """BTEQ's `.logon [tdpid/]user,password` loses the password after the comma, in either
    case and in quotes; a `.logon` without one (BTEQ prompts) stays."""
    assert _text(text) == expected
