"""Red team, round 8: credentials that still leave the process, from tools, config formats,
hash formats and encodings the earlier rounds did not try, and ordinary text the redactor eats.

Most cases run through `Redactor().text`, the one pass every surface renders from; two run the
whole pipeline (`secret_surfaces.leaks`: the GitHub issue, Slack, the backend, the prompt and the
log lines). A leak is any 8-character run of the case's secret in what the redactor gives back.
A guard shows that the near shapes the redactor knows are blanked, so each leak is a miss of the
one shape it names.

Each leak is a strict xfail naming the redactor part where its fix belongs; over-redaction
(ordinary operational text blanked, so the alert loses its meaning) is at the end.
"""

from __future__ import annotations

import base64
import gzip
import json
import struct

import pytest

from secret_surfaces import leaks as leaks_of
from secret_surfaces import left
from triage.redact import Redactor

#: A password no vendor's shape tells apart: only where it stands says it is one.
PASSWORD = "Xk7pL2mR9tQwE4rT"
PASSWORD_B64 = base64.b64encode(PASSWORD.encode()).decode()
PASSWORD_HEX = PASSWORD.encode().hex()
#: A WireGuard private key (32 bytes in base64), as `wg genkey` prints one.
WIREGUARD_KEY = "yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk="
#: A TSIG key (HMAC-SHA256's 32 bytes in base64), as `tsig-keygen` prints one.
TSIG_SECRET = "R3HI8P6BKw9ZwXwN3VZKuQ7pL2vT9kW8rB5nC6dA4sE="


def _shown(text: str) -> str:
    """What every surface shows of `text`: the redactor's one pass over it."""
    return Redactor().text(text)


def _keytab() -> str:
    """A Kerberos keytab of one entry (`HTTP/web.corp@CORP.EXAMPLE`, an AES-256 key), in
    base64 as a Kubernetes manifest, a CI variable or `base64 -w0 krb5.keytab` carries it."""

    def counted(word: str) -> bytes:
        return struct.pack(">H", len(word)) + word.encode()

    key = bytes(range(7, 39))
    entry = (
        struct.pack(">H", 2)
        + counted("CORP.EXAMPLE")
        + counted("HTTP")
        + counted("web.corp")
        + struct.pack(">IIBH", 1, 1_700_000_000, 3, 18)
        + struct.pack(">H", len(key))
        + key
    )
    return base64.b64encode(b"\x05\x02" + struct.pack(">i", len(entry)) + entry).decode()


KEYTAB = _keytab()


# --- guard --------------------------------------------------------------------------------------


async def test_near_shapes_the_redactor_knows_leave_nothing() -> None:
    """The siblings of this round's leaks that the redactor knows are blanked, so each leak
    below is a miss of its own shape: the long or other-tool forms of this round's options
    (`--api-key`, `--ssh-password`, nuget's `-ApiKey`, `mysql -pPW`, `cqlsh -p`, `sqlcmd -P`,
    `ldapmodify -w`, `net user NAME PW`, `curl -U`, `restic --password-command 'echo PW'`,
    `aliyun … --access-key-secret`, `vault login TOKEN`, `user/pw@db`), a libreswan `PSK
    0s…`, `secret key:`, `API key:`, `private_key:`, `npmAuthToken`, a TSIG key's config,
    Redis' `AUTH pw` with a real line end, `PASS` after `USER` in strace's escapes, a crypt
    `$6$` hash, a secretsdump NT hash, a Slack webhook, a JWT on one line, a Secrets
    Manager `SecretString`, a URL's password, a docker config and WireGuard's `PrivateKey =`;
    and the state words `password: <none>`, `password: empty`, `password: required` and a
    sentence after `authorization:` stay."""
    docker_auth = base64.b64encode(f"ci:{PASSWORD}".encode()).decode()
    cases = [
        (f"dotnet nuget push pkg.nupkg --api-key {PASSWORD}", PASSWORD),
        (f"knife bootstrap 10.0.0.1 --ssh-password {PASSWORD}", PASSWORD),
        (f"@east @west : PSK 0s{PASSWORD_B64}", PASSWORD_B64),
        (f"secret key: {PASSWORD}", PASSWORD),
        (f"> AUTH {PASSWORD}\r\n+OK", PASSWORD),
        (f'write(3, "USER alice\\r\\nPASS {PASSWORD}\\r\\n", 30)', PASSWORD),
        ("root:$6$saltsalt$" + "aB3dE5fG7hJ9kL2mN4pQ6" * 4 + ":19000:0:99999:7:::",
         "aB3dE5fG7hJ9kL2mN4pQ6"),
        ("token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9P",
         "dozjgNryP4J3jVmNHl0w5N"),
        (json.dumps({"Name": "db", "SecretString": PASSWORD}), PASSWORD),
        (f"https://ci:{PASSWORD}@pypi.corp/simple", PASSWORD),
        (json.dumps({"auths": {"registry.corp": {"auth": docker_auth}}}), docker_auth),
        (f"nuget push pkg.nupkg -ApiKey {PASSWORD} -Source corp", PASSWORD),
        (f"mysql -u root -p{PASSWORD} app", PASSWORD),
        (f"cqlsh -u cassandra -p {PASSWORD} cass1", PASSWORD),
        (f"sqlcmd -S db -U sa -P {PASSWORD}", PASSWORD),
        (f"ldapmodify -x -D cn=admin,dc=corp -w {PASSWORD} -f a.ldif", PASSWORD),
        (f"net user svc {PASSWORD} /add", PASSWORD),
        (f"curl -U ops:{PASSWORD} -x proxy.corp:3128 https://example.com", PASSWORD),
        (f"restic --password-command 'echo {PASSWORD}' backup /srv", PASSWORD),
        (f"aliyun configure set --access-key-id LTAI5tBcD2eFgH3jKlM4nPq --access-key-secret "
         f"{PASSWORD}", PASSWORD),
        (f"vault login {PASSWORD}{PASSWORD}", PASSWORD),
        (f"sqlplus etl/{PASSWORD}@tdprod", PASSWORD),
        (f"API key: {PASSWORD}", PASSWORD),
        (f"private_key: {PASSWORD}", PASSWORD),
        (f'npmAuthToken: "{PASSWORD}"', PASSWORD),
        (f'key "xfer" {{\n  algorithm hmac-sha256;\n  secret "{TSIG_SECRET}";\n}};', TSIG_SECRET),
        ("alice:1001:aad3b435b51404eeaad3b435b51404ee:8846f7eaee8fb117ad06bdd830b7586c:::",
         "8846f7eaee8fb117ad06bdd830b7586c"),
        ("https://hooks.slack.com/services/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",
         "aB3dE5fG7hJ9kL2mN4pQ6aB3"),
    ]  # fmt: skip
    assert {text: out for text, secret in cases if left(out := _shown(text), secret)} == {}
    assert await leaks_of(f"vpn check:\nPrivateKey = {WIREGUARD_KEY}", WIREGUARD_KEY) == []
    kept = [
        "password: <none>",
        "password: empty",
        "password: required",
        "authorization: denied for user alice on resource orders",
    ]
    assert [_shown(text) for text in kept] == kept


# --- leaks: redact/commands.py (commands that take a password by its place) ----------------------


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        (f"radtest alice {PASSWORD} 127.0.0.1 0 testing123", PASSWORD),
        (f"radtest alice pw123 radius.corp 0 {PASSWORD}", PASSWORD),
    ],
    ids=["user-password", "shared-secret"],
)
async def test_radtests_password_and_shared_secret_are_blanked(text: str, secret: str) -> None:
    """A RADIUS health check's command line (`radtest USER PASSWORD SERVER PORT SECRET`),
    quoted by the alert that it failed, shows neither the user's password nor the NAS's
    shared secret anywhere: both are known only by their place."""
    assert await leaks_of(f"radius check failed:\n{text}\n(0) No reply from server", secret) == []


def test_a_tsig_key_given_to_nsupdate_is_blanked() -> None:
    """A DNS update job's command line (`nsupdate -y hmac-sha256:xfer:<key>`) shows the TSIG
    key nowhere: with it anyone rewrites the zone. Its config form (`secret "…";`) already
    goes."""
    assert not left(_shown(f"+ nsupdate -y hmac-sha256:xfer:{TSIG_SECRET} /tmp/upd"), TSIG_SECRET)


def test_dotnet_nuget_pushs_short_api_key_option_is_blanked() -> None:
    """A release job's `dotnet nuget push pkg.nupkg -k KEY -s FEED` shows the feed's API key
    nowhere, as the long `--api-key KEY` and nuget.exe's `-ApiKey KEY` already do."""
    text = f"dotnet nuget push pkg.nupkg -k {PASSWORD} -s https://nuget.corp/v3/index.json"
    assert not left(_shown(text), PASSWORD)


@pytest.mark.parametrize(
    "text",
    [
        f"signtool sign /fd SHA256 /f cert.pfx /p {PASSWORD} /tr http://ts.corp app.exe",
        f"security unlock-keychain -p {PASSWORD} build.keychain",
        f"security import cert.p12 -k build.keychain -P {PASSWORD} -T /usr/bin/codesign",
    ],
    ids=["signtool", "security-unlock-keychain", "security-import"],
)
def test_a_code_signing_steps_password_is_blanked(text: str) -> None:
    """A failed release build's log (Windows' `signtool /p`, macOS' `security
    unlock-keychain -p` and `security import -P`) shows the signing certificate's or the
    keychain's password nowhere: with the .pfx it signs code as the company."""
    assert not left(_shown(f"release build failed:\n+ {text}"), PASSWORD)


def test_knife_bootstraps_ssh_password_is_blanked() -> None:
    """A Chef bootstrap step (`knife bootstrap HOST -U root -P PW`) shows the SSH password
    nowhere, as its long form `--ssh-password PW` already does."""
    assert not left(_shown(f"knife bootstrap 10.0.0.1 -U root -P {PASSWORD} --sudo"), PASSWORD)


@pytest.mark.parametrize(
    "text",
    [
        f"hdbsql -n hana:30015 -u SYSTEM -p {PASSWORD} 'select 1 from dummy'",
        f"beeline -u jdbc:hive2://hs2:10000 -n etl -p {PASSWORD} -f load.hql",
        f"vsql -h vertica -U dbadmin -w {PASSWORD} -c 'select 1'",
        f"mysqlsh --uri app@db:3306 -p{PASSWORD} --sql -e 'select 1'",
    ],
    ids=["sap-hana-hdbsql", "hive-beeline", "vertica-vsql", "mysql-shell"],
)
def test_a_database_clients_password_option_is_blanked(text: str) -> None:
    """An ETL job's failed step (SAP HANA's `hdbsql -p`, Hive's `beeline -p`, Vertica's
    `vsql -w`, MySQL Shell's glued `-pPW`) shows the database password nowhere, as
    `mysql -pPW`, `sqlcmd -P` and `cqlsh -p` already do."""
    assert not left(_shown(f"etl step failed:\n+ {text}"), PASSWORD)


def test_a_teradata_logon_is_blanked() -> None:
    """A BTEQ script echoed into a batch job's log (`.logon tdprod/etl,PW`) shows the
    password after the comma nowhere, as Oracle's `user/pw@db` already does."""
    text = f".logon tdprod/etl,{PASSWORD}\n*** Failure 3706 Syntax error\n.quit"
    assert not left(_shown(f"bteq job failed:\n{text}"), PASSWORD)


@pytest.mark.parametrize(
    "text",
    [
        f"kadmin -p admin/admin -w {PASSWORD} -q 'addprinc -randkey HTTP/web.corp'",
        f"ipa-server-install -U -r CORP.EXAMPLE -p {PASSWORD} -a {PASSWORD}",
        f"samba-tool user create alice {PASSWORD} --given-name=Alice",
        f"net rpc password alice {PASSWORD} -U admin -S dc1",
    ],
    ids=["kadmin-w", "ipa-server-install", "samba-tool-user-create", "net-rpc-password"],
)
def test_an_identity_admin_commands_password_is_blanked(text: str) -> None:
    """A directory provisioning step (MIT Kerberos' `kadmin -w`, FreeIPA's installer's `-p`
    and `-a`, samba-tool's and `net rpc password`'s positional new password) shows the
    password nowhere, as `ldapmodify -w` and `net user NAME PW` already do."""
    assert not left(_shown(f"directory provisioning failed:\n+ {text}"), PASSWORD)


@pytest.mark.parametrize(
    "text",
    [
        f"step ca certificate web.corp w.crt w.key --password-file <(echo {PASSWORD})",
        f"sshpass -f <(echo {PASSWORD}) ssh root@db-1 uptime",
        f"impala-shell -i impala -l -u etl --ldap_password_cmd='echo {PASSWORD}'",
    ],
    ids=["step-password-file", "sshpass-f", "impala-password-cmd"],
)
def test_a_literal_echoed_into_a_password_file_is_blanked(text: str) -> None:
    """A script that hands a password file made by process substitution (`--password-file
    <(echo PW)`, `sshpass -f <(echo PW)`) or a password command that echoes a literal shows
    the literal nowhere, as `restic --password-command 'echo PW'` already does."""
    assert not left(_shown(f"cron job failed:\n+ {text}"), PASSWORD)


@pytest.mark.parametrize(
    "text",
    [
        f"ncat --proxy proxy.corp:3128 --proxy-type http --proxy-auth ops:{PASSWORD} db-1 22",
        f"[ProxyList]\nhttp 10.0.0.1 3128 ops {PASSWORD}",
    ],
    ids=["ncat-proxy-auth", "proxychains-conf"],
)
def test_a_proxys_credentials_are_blanked(text: str) -> None:
    """A connectivity check through a proxy (ncat's `--proxy-auth user:pw`, a proxychains
    `[ProxyList]` row `type host port user pw`) shows the proxy password nowhere, as curl's
    `-U user:pw` already does."""
    assert not left(_shown(f"egress check failed:\n{text}"), PASSWORD)


@pytest.mark.parametrize(
    "text",
    [
        f"bw unlock {PASSWORD} --raw",
        f"hdbuserstore SET BACKUP hana:30015 SYSTEM {PASSWORD}",
        f"mc admin user add local backup-svc {PASSWORD}",
    ],
    ids=["bitwarden-unlock", "hana-userstore-set", "minio-user-add"],
)
def test_a_secret_stores_positional_secret_is_blanked(text: str) -> None:
    """A CI step that unlocks Bitwarden's vault with its master password, stores a HANA
    login in `hdbuserstore SET KEY HOST USER PW`, or adds a MinIO user with its secret key
    shows that secret nowhere: each CLI takes it by its place, as `vault login TOKEN`
    already is."""
    assert not left(_shown(f"setup step output:\n+ {text}"), PASSWORD)


def test_alibaba_ossutils_access_key_secret_is_blanked() -> None:
    """A backup job's `ossutil config -i ID -k SECRET -e ENDPOINT` shows Alibaba Cloud's
    AccessKey secret nowhere, as `aliyun configure set --access-key-secret` and AWS'
    `aws configure set aws_secret_access_key` already do."""
    text = (
        f"ossutil config -i LTAI5tBcD2eFgH3jKlM4nPq -k {PASSWORD} -e oss-eu-central-1.aliyuncs.com"
    )
    assert not left(_shown(f"backup failed:\n+ {text}"), PASSWORD)


# --- leaks: redact/commands.py (what a command printed) ------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        f"$ wg genkey | tee /etc/wireguard/private.key\n{WIREGUARD_KEY}",
        f"$ wg show wg0 private-key\n{WIREGUARD_KEY}",
        f"+ wg set wg0 private-key <(echo {WIREGUARD_KEY})",
    ],
    ids=["wg-genkey", "wg-show-private-key", "wg-set-from-echo"],
)
async def test_a_wireguard_private_key_printed_by_wg_is_blanked(text: str) -> None:
    """A VPN provisioning step's transcript shows the interface's private key nowhere: `wg
    genkey` and `wg show IFACE private-key` print nothing else, and `wg set … private-key`
    reads it; a `PrivateKey =` line of a config already goes."""
    assert await leaks_of(f"vpn provisioning failed:\n{text}", WIREGUARD_KEY) == []


# --- leaks: redact/names.py (names the name rule does not know) ----------------------------------


@pytest.mark.parametrize(
    "text",
    [f"Private key: {WIREGUARD_KEY}", f"  private key: {PASSWORD}"],
    ids=["wireguard-key", "password-shaped"],
)
def test_a_value_after_the_two_words_private_key_is_blanked(text: str) -> None:
    """A tool's output that names the value `Private key:` (a VPN client's status, a key
    generator's summary) shows it nowhere, as `secret key:`, `API key:` and `private_key:`
    already do."""
    assert not left(_shown(f"peer setup:\n{text}"), text.split(": ")[1])


def test_yarns_npm_auth_ident_is_blanked() -> None:
    """A CI install step that dumps `.yarnrc.yml` shows the registry password inside
    `npmAuthIdent: "user:password"` nowhere, as `npmAuthToken` already does."""
    text = f'npmRegistries:\n  "https://npm.corp":\n    npmAuthIdent: "ci:{PASSWORD}"'
    assert not left(_shown(f"yarn install failed, config:\n{text}"), PASSWORD)


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        (f"# /etc/ntp.keys\n1 M {PASSWORD}\n2 SHA1 {PASSWORD_HEX}", PASSWORD),
        (f"# /etc/chrony.keys\n1 SHA1 HEX:{PASSWORD_HEX}", PASSWORD_HEX),
    ],
    ids=["ntp-keys", "chrony-keys"],
)
def test_an_ntp_symmetric_key_file_is_blanked(text: str, secret: str) -> None:
    """A time-sync drift alert that quotes the key file (ntpd's `ID TYPE KEY` rows, chrony's
    `ID TYPE HEX:KEY`) shows the keys nowhere: with one anyone serves the fleet forged time."""
    assert not left(_shown(f"clock drift on db-1, keys:\n{text}"), secret)


# --- leaks: redact/cloud.py (cloud tools' own output) --------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        json.dumps(
            {
                "mode": "managed",
                "type": "random_password",
                "name": "db",
                "instances": [{"attributes": {"length": 16, "result": PASSWORD}}],
            }
        ),
        '  # random_password.db will be created\n  + resource "random_password" "db" {\n'
        f'      + length = 16\n      + result = "{PASSWORD}"\n    }}',
    ],
    ids=["state-json", "plan-text"],
)
def test_terraform_random_passwords_result_is_blanked(text: str) -> None:
    """A drift alert quoting Terraform's state (or a plan shown without `sensitive`) shows a
    `random_password`'s `result` nowhere: the resource exists to make a password, and its
    value sits under the neutral name `result`."""
    assert not left(_shown(f"terraform drift:\n{text}"), PASSWORD)


def test_google_secret_managers_payload_is_blanked() -> None:
    """`gcloud --log-http secrets versions access` (or the API's answer in a client's debug
    log) shows the secret's `payload.data` nowhere: it is the secret in base64 whatever it
    holds, as AWS' `SecretString` already is."""
    body = {
        "name": "projects/123/secrets/payments-api/versions/3",
        "payload": {"data": PASSWORD_B64, "dataCrc32c": "2871913124"},
    }
    text = f"---- response body ----\n{json.dumps(body, indent=2)}\n----"
    assert not left(_shown(f"deploy step output:\n{text}"), PASSWORD_B64)


# --- leaks: redact/base64_runs.py (binary and compressed secrets in base64) ----------------------


@pytest.mark.parametrize(
    "text",
    [
        f"KRB5_KEYTAB_B64={KEYTAB}",
        json.dumps({"keytab": KEYTAB}),
        f"+ echo {KEYTAB} | base64 -d > /etc/krb5.keytab",
    ],
    ids=["env", "json", "echo-to-file"],
)
def test_a_kerberos_keytab_in_base64_is_blanked(text: str) -> None:
    """A service's keytab carried in base64 (a CI variable, a config JSON, a provisioning
    step) shows nowhere: its keys log in as the principal, and a keytab is known by its
    first bytes (0x05 0x02) as a PEM key's body already is."""
    assert not left(_shown(f"kerberos auth failed:\n{text}"), KEYTAB[12:60])


def test_a_gzipped_payload_in_base64_is_looked_into() -> None:
    """A Helm release kept by the ConfigMap driver (`data.release`: base64 of gzip of the
    release's JSON, values included) shows the password its values hold nowhere: base64
    of gzip (`H4sI…`) is opened as plain base64 already is."""
    release = {"name": "payments", "config": {"postgresql": {"auth": {"password": PASSWORD}}}}
    packed = base64.b64encode(gzip.compress(json.dumps(release).encode(), mtime=0)).decode()
    text = f"kind: ConfigMap\nmetadata:\n  name: sh.helm.release.v1.payments.v3\ndata:\n  release: {packed}"
    assert not left(_shown(f"helm upgrade failed:\n{text}"), packed[20:80])


# --- leaks: redact/tokens.py (token and webhook shapes) ------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "export TOKEN=eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJzdmMtZGVwbG95IiwiZXhwIjox"
        "NzY1MDAwMDAwfQ.\\\nQ2x7Vb9KpL3mN8rT5wY1zA4cE6gH0jU2iO9pS7dF3kM",
        "token: eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJzdmMtZGVwbG95IiwiZXhwIjoxNzY1MDA"
        "wMDAwfQ.\n  Q2x7Vb9KpL3mN8rT5wY1zA4cE6gH0jU2iO9pS7dF3kM",
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJzdmMtZGVwbG95IiwiZXhwIjoxNzY1MDAwMDAwfQ"
        "\n  .Q2x7Vb9KpL3mN8rT5wY1zA4cE6gH0jU2iO9pS7dF3kM",
    ],
    ids=["backslash-continued", "indented-next-line", "dot-starts-next-line"],
)
def test_a_jwts_signature_on_the_next_line_is_blanked(text: str) -> None:
    """A JWT a script or a YAML writer broke at a dot (a shell line continued with `\\`, the
    signature on an indented next line, or a line starting with the dot) shows its signature
    nowhere: the header and payload go today and the signature, the part that makes the
    token, stays."""
    assert not left(
        _shown(f"deploy failed:\n{text}"), "Q2x7Vb9KpL3mN8rT5wY1zA4cE6gH0jU2iO9pS7dF3kM"
    )


def test_a_mattermost_incoming_webhook_is_blanked() -> None:
    """A notifier's error quoting a Mattermost incoming webhook (`/hooks/<26-character id>`,
    which anyone may post to) shows the hook's id nowhere, as Slack's and Discord's already
    do."""
    url = "https://mattermost.corp.example/hooks/xqk7p2mr9tqwe4rt8abc1def2g"
    assert not left(_shown(f"notify failed: POST {url} 503"), "xqk7p2mr9tqwe4rt8abc1def2g")


# --- leaks: redact/web.py (a key in a URL's fragment) --------------------------------------------


@pytest.mark.parametrize(
    ("url", "secret"),
    [
        ("https://mega.nz/file/AbCdEfGh#Qx7Kp2mR9tQwE4rTyU3iO8pAsDfGhJkL1zXcVbNm0",
         "Qx7Kp2mR9tQwE4rTyU3iO8pAsDfGhJkL1zXcVbNm0"),
        ("https://paste.corp.example/?4f0c9e2b7a1d4c3e#9qN8vKp3xZ2mLw7TbR4yHc6FjD1sA5gE",
         "9qN8vKp3xZ2mLw7TbR4yHc6FjD1sA5gE"),
        ("https://send.bitwarden.com/#Vt0Z1ZW4C0SUSrSgAJMnBA/x7Kp2mR9tQwE4rTyU3iO8pA",
         "x7Kp2mR9tQwE4rTyU3iO8pA"),
    ],
    ids=["mega", "privatebin", "bitwarden-send"],
)  # fmt: skip
def test_a_decryption_key_in_a_urls_fragment_is_blanked(url: str, secret: str) -> None:
    """A share link pasted into an incident (Mega, PrivateBin, Bitwarden Send) shows the key in
    its fragment nowhere: the fragment is the key that decrypts what the link holds, never
    sent to the server, so the link alone opens it."""
    assert not left(_shown(f"runbook link: {url}"), secret)


# --- leaks: redact/tokens.py (hashes that log in or crack offline) -------------------------------


def test_rabbitmqs_exported_password_hash_is_blanked() -> None:
    """A broker alert quoting `rabbitmqctl export_definitions` shows each user's
    `password_hash` (salted SHA-256 in base64, crackable offline and importable into any
    broker) nowhere."""
    user = {
        "name": "app",
        "password_hash": "aB3dE5fG7hJ9kL2mN4pQ6aB3dE5fG7hJ9kL2mN4pQ6=",
        "hashing_algorithm": "rabbit_password_hashing_sha256",
        "tags": ["administrator"],
    }
    text = json.dumps({"users": [user]})
    assert not left(_shown(f"broker definitions:\n{text}"), "aB3dE5fG7hJ9kL2mN4pQ6aB3dE5fG7h")


def test_a_netntlmv2_response_is_blanked() -> None:
    """A security alert quoting a captured NetNTLMv2 response (Responder's
    `user::DOMAIN:challenge:NTProofStr:blob`) shows the response nowhere: it cracks offline
    to the user's password, as the NT hash of a secretsdump line already goes."""
    text = (
        "[SMB] NTLMv2-SSP Hash     : alice::CORP:1122334455667788:"
        "8A1B2C3D4E5F60718293A4B5C6D7E8F9:0101000000000000C0653150DE09D201A1B2C3D4E5F60718"
    )
    assert not left(_shown(f"edr alert:\n{text}"), "8A1B2C3D4E5F60718293A4B5C6D7E8F9")


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("$krb5tgs$23$*svc_sql$CORP.EXAMPLE$MSSQLSvc/db.corp:1433*$aB3dE5fG7hJ9kL2mN4pQ6aB3dE5fG7h"
         "$0123456789abcdef0123456789abcdef0123456789abcdef", "0123456789abcdef0123456789abcdef"),
        ("$krb5asrep$23$alice:0123456789abcdef0123456789abcdef$aabbccddeeff0011223344556677889",
         "0123456789abcdef0123456789abcdef"),
    ],
    ids=["krb5tgs", "krb5asrep"],
)  # fmt: skip
def test_a_roasted_kerberos_ticket_is_blanked(text: str, secret: str) -> None:
    """A SIEM alert on Kerberoasting that quotes the tool's output shows the ticket's
    encrypted part nowhere: it cracks offline to the service account's password."""
    assert not left(_shown(f"detection: kerberoasting\n{text}"), secret)


def test_grubs_pbkdf2_password_hash_is_blanked() -> None:
    """A config-drift alert quoting `/etc/grub.d/40_custom` shows the boot loader's
    `grub.pbkdf2.sha512.…` hash nowhere: it cracks offline, as a crypt hash already goes."""
    text = (
        "set superusers=root\npassword_pbkdf2 root grub.pbkdf2.sha512.10000."
        "0123456789ABCDEF0123456789ABCDEF.FEDCBA9876543210FEDCBA9876543210FEDCBA9876543210"
    )
    assert not left(_shown(f"drift detected:\n{text}"), "FEDCBA9876543210FEDCBA9876543210")


# --- leaks: redact/redis.py, redact/logins.py (passwords on the wire) ----------------------------


@pytest.mark.parametrize(
    "text",
    [
        f"*2\r\n$4\r\nAUTH\r\n$16\r\n{PASSWORD}\r\n",
        f"T 10.0.0.5:51234 -> 10.0.0.9:6379 [AP]\n*3..$4..AUTH..$7..default..$16..{PASSWORD}..",
    ],
    ids=["resp", "ngrep-dots"],
)
def test_redis_auth_in_resp_framing_is_blanked(text: str) -> None:
    """A packet capture of a Redis client's login (RESP: `*2`, `$4`, `AUTH`, `$16`, the
    password; ngrep and tcpdump -A print the CRLFs as dots) shows the password nowhere,
    as the inline `AUTH password` already does."""
    assert not left(_shown(f"redis capture:\n{text}"), PASSWORD)


@pytest.mark.parametrize(
    "text",
    [
        f'sendto(3, "AUTH {PASSWORD}\\r\\n", 23, MSG_NOSIGNAL, NULL, 0) = 23',
        f'write(4, "PASS {PASSWORD}\\r\\n", 23) = 23',
    ],
    ids=["redis-auth", "ftp-pass"],
)
def test_a_protocol_password_before_straces_escaped_line_end_is_blanked(text: str) -> None:
    """An strace of a client (strace prints a buffer's CRLF as `\\r\\n`) shows the password
    of `AUTH pw` and `PASS pw` nowhere, as the same line with a real CRLF, or `PASS` after a
    `USER`, already does."""
    assert not left(_shown(f"strace of the worker:\n{text}"), PASSWORD)


# --- over-redaction ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "passwd: password updated successfully",
        "passwd: all authentication tokens updated successfully.",
    ],
    ids=["debian", "rhel"],
)
def test_passwds_status_line_stays(text: str) -> None:
    """A user-provisioning alert keeps the `passwd` program's own report (`passwd:` is the
    program's name before its message, not a secret's name before a value): it says the
    step succeeded, and it holds no password."""
    assert _shown(f"provisioning output:\n{text}") == f"provisioning output:\n{text}"


@pytest.mark.parametrize("word", ["required", "denied", "none"])
def test_a_state_word_after_authorization_stays(word: str) -> None:
    """An access log's `Authorization: required` (or `denied`, `none`) keeps its word: it is
    the request's state, as `password: required` keeps it and as a sentence after
    `authorization:` already stays."""
    assert (
        _shown(f"GET /admin 401 Authorization: {word}") == f"GET /admin 401 Authorization: {word}"
    )


@pytest.mark.parametrize("marker", ["(empty)", "N/A"])
def test_a_no_value_marker_after_a_password_name_stays(marker: str) -> None:
    """A config summary's `password: (empty)` or `password: N/A` keeps its marker: it says no
    password is set (the finding the alert is about), as `password: <none>` and `password:
    empty` already keep theirs."""
    assert _shown(f"redis config check: password: {marker}") == (
        f"redis config check: password: {marker}"
    )
