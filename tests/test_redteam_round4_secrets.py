"""Red team, round 4: credential shapes no earlier redaction test tries, and where they leave.

Every surface triage writes alert text to renders from one redacted view, and the dead-letter
peek uses the same `Redactor`: a shape the redactor misses leaves by every path at once. So the
shapes are probed on the redactor (fast, one case per line of the tables below), and some are
then followed through the surfaces: the GitHub issue's title, body and labels, Slack's message,
the LLM prompt (its payload excerpt too), the ticket backend's body, the dead-letter peek and
the pipeline's log lines. Where a path changes the text before redacting it (lines joined into
one for a title, a label or a peek), it is probed with the shapes the redactor reads by their
lines; the gateway's queued message is probed through its real HTTP server in front of moto.

Shapes that hold are guards, so a fix for a leak cannot break them; so are the identifiers and
words that must stay (over-redaction is a bug too). Each leak was a strict xfail naming its
class, and each has since been fixed; a failure lists every case of the class that leaked, with
what the redactor gave.
"""

from __future__ import annotations

import base64
import json
import random
import string
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

import httpx2
import structlog

from case_chunks import assert_each
from daemon_harness import Queues
from ingest_harness import bearer
from memory_store import MemoryStore
from recording_pipeline import Sink, pipeline_into
from triage.incidents.store import Routing
from triage.logs import redact_event
from triage.models import EffectKind, Ticket
from triage.normalize import normalize_body, recognise_body
from triage.ops.dlq import DeadLetter
from triage.ops.operator import incident_json
from triage.ops.prometheus import prometheus_text
from triage.pipeline import _log_normalized
from triage.redact import Redactor
from triage.redact.named_values import named_value_secret
from triage.sinks import slack
from triage.sinks.backend import _open_body
from triage.sinks.base import Effect
from triage.sinks.github import text as github
from triage.sqs.inbox import Message
from triage.summarise import prompt
from triage.summarise.deterministic import DeterministicSummariser
from triage.view import RedactedAlert, redact_alert, redact_ticket

_RNG = random.Random(20261206)
ALNUM = string.ascii_letters + string.digits
B64 = ALNUM + "+/"
HEX = "0123456789abcdef"


def _random(count: int, alphabet: str = ALNUM) -> str:
    """`count` characters of `alphabet`, the same on every run (the module's seeded draw)."""
    return "".join(_RNG.choice(alphabet) for _ in range(count))


#: A password that only where it stands says is one (no vendor's shape).
PASSWORD = "Xk7pL2mR9tQwE4rT"
#: Keys and tokens of known vendors' shapes.
GITHUB = "ghp_" + _random(36)
OKTA = "00" + _random(40, ALNUM + "-_")
VAULT_UNSEAL = _random(44, B64)
KEY_LINES = [_random(64, B64) for _ in range(4)]
OPENVPN_LINES = [_random(32, HEX) for _ in range(16)]
HEX_TOKEN = GITHUB.encode().hex()
GCP_KEY = "AIza" + _random(35, ALNUM + "-_")
CLOUDFLARE_KEY = _random(37, HEX)

#: A case: its name, the alert text holding a secret, and the secret (no 8-character run of it
#: may survive redaction).
Case = tuple[str, str, str]


def _jwt_parts() -> tuple[str, str, str]:
    header = base64.urlsafe_b64encode(b'{"alg":"HS256","typ":"JWT"}').decode().rstrip("=")
    claims = {"sub": "1234567890", "sid": _random(24), "exp": 1893456000}
    payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    signature = base64.urlsafe_b64encode(_RNG.randbytes(32)).decode().rstrip("=")
    return header, payload, signature


JWT_HEADER, JWT_PAYLOAD, JWT_SIGNATURE = _jwt_parts()


def _runs(secret: str) -> list[str]:
    return [secret[i : i + 8] for i in range(len(secret) - 7)]


def _left(shown: str, secret: str) -> list[str]:
    """The 8-character runs of `secret` still in `shown`."""
    return sorted({run for run in _runs(secret) if run in shown})


def _redacted(case: Case) -> tuple[str, str]:
    """For `assert_each`: the redacted text when a run of the secret is left in it, else ''
    (expected: '')."""
    _, text, secret = case
    out = Redactor().text(text)
    return (out if _left(out, secret) else ""), ""


def _each(cases: list[Case]) -> None:
    assert_each(cases, _redacted)


def base64_text(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def url_escaped(text: str) -> str:
    return "".join(f"%{b:02X}" for b in text.encode())


def json_escaped(text: str) -> str:
    return "".join(f"\\u{ord(c):04x}" for c in text)


def html_entities(text: str) -> str:
    return "".join(f"&#{ord(c)};" for c in text)


def _encoded(encode: Callable[[str], str]) -> str:
    """The GitHub token written in an encoding (its random part's encoding is the secret)."""
    return encode(GITHUB)


DOCKER_AUTH = base64_text(f"deploy:{PASSWORD}")


# --- shapes that hold (guards) ----------------------------------------------------------------


HOLD: list[Case] = [
    ("gcp-key-in-url", f"GET https://maps.googleapis.com/maps/api/geocode/json?key={GCP_KEY} 403", GCP_KEY[4:]),
    ("azure-redis", f"myredis.redis.cache.windows.net:6380,password={PASSWORD},ssl=True", PASSWORD),
    ("alibaba-cli", f"aliyun configure set --access-key-id LTAI{_random(20)} --access-key-secret {PASSWORD}", PASSWORD),
    ("cloudflare-auth-key", f"X-Auth-Key: {CLOUDFLARE_KEY}", CLOUDFLARE_KEY),
    ("twilio-basic-url", f"https://AC{_random(32, HEX)}:{PASSWORD}@api.twilio.com/2010-04-01", PASSWORD),
    ("mailgun-curl-user", f"curl -s --user 'api:{PASSWORD}' https://api.mailgun.net/v3/", PASSWORD),
    ("okta-authorization", f"Authorization: SSWS {OKTA}", OKTA),
    ("vault-header", f"X-Vault-Token: {PASSWORD}", PASSWORD),
    ("mongodb-srv", f"mongodb+srv://app:{PASSWORD}@cluster0.ab1cd.mongodb.net/db", PASSWORD),
    ("redis-sentinel", f"redis-sentinel://:{PASSWORD}@sentinel:26379/mymaster", PASSWORD),
    ("amqp-vhost", f"amqp://orders:{PASSWORD}@rabbit:5672/%2F", PASSWORD),
    ("jdbc-sqlserver", f"jdbc:sqlserver://db:1433;databaseName=o;user=sa;password={PASSWORD};encrypt=true", PASSWORD),
    ("jdbc-db2", f"jdbc:db2://db:50000/ORDERS:user=db2inst1;password={PASSWORD};", PASSWORD),
    ("odbc-braces", f"Driver={{ODBC Driver 18}};Server=db;Uid=sa;Pwd={{{PASSWORD};x}};", PASSWORD),
    ("libpq-keywords", f"host=db dbname=orders user=app password='{PASSWORD} x' sslmode=require", PASSWORD),
    ("pgpass-line", f"db.example.com:5432:orders:app:{PASSWORD}", PASSWORD),
    ("netrc-lines", f"machine github.com\n    login deploy\n    password {PASSWORD}", PASSWORD),
    ("docker-config", json.dumps({"auths": {"r.example.com": {"auth": DOCKER_AUTH}}}), DOCKER_AUTH),
    ("kubeconfig-token", f"users:\n- name: admin\n  user:\n    token: {PASSWORD}", PASSWORD),
    ("url-git+https", f"git+https://deploy:{PASSWORD}@git.example.com/repo.git", PASSWORD),
    ("url-wss", f"wss://deploy:{PASSWORD}@stream.example.com/feed", PASSWORD),
    ("url-socks5h", f"socks5h://deploy:{PASSWORD}@proxy:1080", PASSWORD),
    ("url-ipv6-host", f"postgres://app:{PASSWORD}@[2001:db8::1]:5432/db", PASSWORD),
    ("token-base64", f"blob {_encoded(base64_text)}", _encoded(base64_text)[8:]),
    ("token-url-escaped", f"q={_encoded(url_escaped)}", url_escaped(GITHUB[4:])),
    ("token-json-unicode", _encoded(json_escaped), json_escaped(GITHUB[4:])),
    ("token-html-entities", _encoded(html_entities), html_entities(GITHUB[4:])),
    ("kv-html-quot", f"{{&quot;password&quot;: &quot;{PASSWORD}&quot;}}", PASSWORD),
    ("sql-alter-role", f"ALTER ROLE app ENCRYPTED PASSWORD '{PASSWORD}'", PASSWORD),
    ("sql-change-master", f"CHANGE MASTER TO MASTER_USER='repl', MASTER_PASSWORD='{PASSWORD}'", PASSWORD),
    ("sql-named-parameters", f"[parameters: {{'name': 'bob', 'password': '{PASSWORD}'}}]", PASSWORD),
    ("trace-go-struct", f"panic: bad config: &{{Host:db User:app Password:{PASSWORD} Port:5432}}", PASSWORD),
    ("trace-java-tostring", f"DataSourceConfig{{url='jdbc:x', username='app', password='{PASSWORD}'}}", PASSWORD),
    ("header-x-api-key", f"> X-Api-Key: {PASSWORD}\n> Accept: */*", PASSWORD),
    ("jaas-config", f'sasl.jaas.config=PlainLoginModule required username="app" password="{PASSWORD}";', PASSWORD),
    ("smtp-login", f"    smtp.login('svc', '{PASSWORD}')", PASSWORD),
]  # fmt: skip


def test_shapes_round4_tried_that_hold_leave_nothing() -> None:
    """Credentials in cloud, connection-string, config-file, encoded, SQL and stack-trace forms
    that the redactor already finds leave no run of their secret (a fix must keep them)."""
    _each(HOLD)


#: Identifiers and prose beside the words the leaks below stand by: none is a secret.
KEPT = [
    "request id 3f2b8c1e-9a4d-4e7b-8c2a-1d5e6f7a8b9c failed",
    "trace_id=4bf92f3577b34da6a3ce929d0e0e4736 span_id=00f067aa0ba902b7",
    "commit 9fceb02d0ae598e95dc970b74767f19372d61af8 deployed",
    "image sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae pulled",
    "Okta user id 00ub0oNGTSWTBKOLGLNR suspended",
    "SSWS header rejected by the proxy",
    "Unseal progress 2/3, Recovery Key threshold: 3",
    "psk mismatch on AP corp-5g",
    "GOOG1E prefix rotated",
    "DigitalOcean droplet 123456789 in nyc3",
    "Vault lease database/creds/readonly/2f6a614c-4aa2-7b19-24b9-ad944a8d4de6 revoked",
    "netrc file ~/.netrc has mode 0644",
    "account 123456789012 over budget",
    "[parameters: ('shipped', 42)]",
    "UPDATE orders SET status = 'shipped' WHERE id = 42",
    "Duplicate entry '42' for key 'orders.PRIMARY'",
    "DETAIL:  Key (order_id)=(42) already exists.",
    "Stripe charge ch_3OqX2a2eZvKYlo2C1a2b3c4d declined",
    "Twilio account AC1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d throttled",
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl deploy@ci",
    "md5 d41d8cd98f00b204e9800998ecf8427e of empty file",
    "client.connect('db.internal', 5432) refused",
    "ldap bind failed for cn=admin,dc=example,dc=com",
    "$ op read op://vault/db/password\n[ERROR] item not found",
    # Under the names of `SECRET_NAMES` below: a path, a variable, a count, a state word.
    "tls_key: /etc/ssl/private/tls.key",
    "id_rsa: ~/.ssh/id_rsa",
    "deploy_key=${DEPLOY_KEY}",
    "credential: expired",
    "recovery_key: none",
    "storepass=changeit",
]


def test_identifiers_and_words_beside_the_leaks_stay() -> None:
    """Ids, hashes and sentences that use the words the leaks below stand by are not
    redacted: a fix for a leak must keep them whole."""
    assert_each(KEPT, lambda text: (Redactor().text(text), text))


# --- over-redaction: public keys -----------------------------------------------------------------


def _pem_block(label: str, der: bytes) -> str:
    body = base64.b64encode(der).decode()
    return "\n".join([f"-----BEGIN {label}-----", *_wrapped(body), f"-----END {label}-----"])


def _wrapped(body: str) -> list[str]:
    return [body[i : i + 64] for i in range(0, len(body), 64)]


#: The DER prefix of an RSA-2048 SubjectPublicKeyInfo (then the key's own bytes).
RSA_SPKI = bytes.fromhex("30820122300d06092a864886f70d01010105000382010f003082010a0282010100")
WIREGUARD_PUBLIC = base64.b64encode(_RNG.randbytes(32)).decode()

#: Public keys: no secret, and what tells a peer, a signer or a subscriber apart.
PUBLIC_KEPT = [
    _pem_block("PUBLIC KEY", RSA_SPKI + _RNG.randbytes(256) + bytes.fromhex("0203010001")),
    _pem_block("CERTIFICATE", bytes.fromhex("308203") + _RNG.randbytes(600)),
    f"pubkey={WIREGUARD_PUBLIC}",
]
PUBLIC_MANGLED = [
    f"[Peer]\nPublicKey = {WIREGUARD_PUBLIC}\nAllowedIPs = 10.0.0.2/32",
    f"public_key: {WIREGUARD_PUBLIC}",
    json.dumps({"publicKey": WIREGUARD_PUBLIC}),
    f"VAPID_PUBLIC_KEY={WIREGUARD_PUBLIC}",
]


def test_an_rsa_public_key_a_certificate_and_a_pubkey_stay() -> None:
    """Guard: an RSA public key block, a certificate and a `pubkey=` value are kept whole."""
    assert_each(PUBLIC_KEPT, lambda text: (Redactor().text(text), text))


def test_public_keys_under_their_names_stay() -> None:
    """A WireGuard peer's PublicKey, a public_key/publicKey value and a VAPID public key are
    kept whole: none is a secret."""
    assert_each(PUBLIC_MANGLED, lambda text: (Redactor().text(text), text))


def _jwk(seed: int) -> str:
    modulus = base64.urlsafe_b64encode(random.Random(seed).randbytes(256)).decode().rstrip("=")
    return json.dumps({"kty": "RSA", "n": modulus, "e": "AQAB"})


def test_a_public_jwks_moduli_stay() -> None:
    """The base64url modulus of 100 RSA public keys (a JWKS document's `n`), drawn from fixed
    seeds, is kept whole in every one."""
    assert_each([_jwk(seed) for seed in range(100)], lambda text: (Redactor().text(text), text))


# --- leaks: key armour with headers the redactor does not know --------------------------------


def _armour(begin: str, end: str, lines: list[str], *, inner: tuple[str, ...] = ()) -> str:
    return "\n".join([begin, *inner, *lines, end])


X942 = _armour("-----BEGIN X9.42 DH PRIVATE KEY-----", "-----END X9.42 DH PRIVATE KEY-----", ["MIICJQIBAAKCAQEA" + KEY_LINES[0][16:], *KEY_LINES[1:]])  # fmt: skip

ARMOUR: list[Case] = [
    ("ssh2-rfc4716", _armour("---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----", "---- END SSH2 ENCRYPTED PRIVATE KEY ----", KEY_LINES, inner=('Comment: "rsa-key-20240101"',)), KEY_LINES[2]),
    ("openvpn-static-key", _armour("-----BEGIN OpenVPN Static key V1-----", "-----END OpenVPN Static key V1-----", OPENVPN_LINES), OPENVPN_LINES[3]),
    ("pkcs12", _armour("-----BEGIN PKCS12-----", "-----END PKCS12-----", ["MIIKOQIBAzCC" + KEY_LINES[0][12:], *KEY_LINES[1:]]), KEY_LINES[2]),
    ("x942-rows-joined-by-echo", f"$ echo $DH_KEY\n{' '.join(X942.split())}", KEY_LINES[2]),
    ("four-dash-armour", _armour("----BEGIN PRIVATE KEY----", "----END PRIVATE KEY----", KEY_LINES), KEY_LINES[2]),
]  # fmt: skip


def test_key_blocks_under_other_armour_are_blanked() -> None:
    """An SSH2 (RFC 4716) private key, an OpenVPN static key, a PEM PKCS12 bundle, an X9.42
    DH key whose rows an unquoted `echo` joined with spaces, and a key whose armour lost a dash
    leave no line of their bodies."""
    _each(ARMOUR)


def test_the_x942_key_on_its_own_lines_is_blanked() -> None:
    """Guard for the joined case above: the same X9.42 DH key one row a line leaves nothing."""
    _each([("x942-rows", X942, KEY_LINES[2])])


# --- leaks: a JWT a wrapper broke at its dots ---------------------------------------------------


JWT: list[Case] = [
    ("spaces-around-dots", f"token {JWT_HEADER} . {JWT_PAYLOAD} . {JWT_SIGNATURE}", JWT_SIGNATURE),
    ("space-after-dots", f"token {JWT_HEADER}. {JWT_PAYLOAD}. {JWT_SIGNATURE}", JWT_SIGNATURE),
    ("space-before-last-dot", f"token {JWT_HEADER}.{JWT_PAYLOAD} .{JWT_SIGNATURE}", JWT_SIGNATURE),
    ("quoted-parts", f'"{JWT_HEADER}" "." "{JWT_PAYLOAD}" "." "{JWT_SIGNATURE}"', JWT_SIGNATURE),
]


def test_a_jwt_broken_over_lines_at_its_dots_is_blanked() -> None:
    """Guard: a JWT whose parts a wrapper put on lines of their own (`header.\\npayload.\\n
    signature`) leaves no run of its signature."""
    text = f"token {JWT_HEADER}.\n{JWT_PAYLOAD}.\n{JWT_SIGNATURE}"
    _each([("newlines", text, JWT_SIGNATURE)])


def test_a_jwt_split_by_spaces_is_blanked() -> None:
    """A JWT whose dots a log or a wrapper spaced out leaves no run of its signature."""
    _each(JWT)


# --- leaks: vendors' key ids and tokens by shapes and words not yet read ------------------------


VENDOR: list[Case] = [
    ("gcp-hmac-access-id", f"HMAC access id GOOG1E{_random(55, string.ascii_uppercase + '234567')}", ""),
    ("digitalocean-spaces-key-id", f"spaces_access_id: DO00{_random(16, string.ascii_uppercase + string.digits)}", ""),
    ("okta-ssws-bare", f"okta: 401 for SSWS {OKTA}", OKTA),
    ("okta-ssws-after-auth", f"okta: request failed, auth=SSWS {OKTA}", OKTA),
]  # fmt: skip


def _id_after_prefix(case: Case) -> Case:
    """A case whose secret is the id after its vendor's prefix (GOOG1E…, DO00…)."""
    name, text, secret = case
    if secret:
        return case
    word = text.split()[-1]
    return name, text, word[6:] if word.startswith("GOOG1E") else word[4:]


def test_vendor_key_ids_and_okta_tokens_are_blanked() -> None:
    """Google Cloud Storage HMAC access ids, DigitalOcean Spaces key ids, and an Okta API token
    after its `SSWS` scheme word outside an Authorization header are blanked."""
    _each([_id_after_prefix(case) for case in VENDOR])


VAULT_ID = "6a6f1f3c-5e4b-4c3d-9a8b-7c6d5e4f3a2b"
VAULT: list[Case] = [
    ("unseal-key-line", f"Unseal Key 1: {VAULT_UNSEAL}", VAULT_UNSEAL),
    ("recovery-key-line", f"Recovery Key 1: {VAULT_UNSEAL}", VAULT_UNSEAL),
    ("init-json", json.dumps({"unseal_keys_b64": [VAULT_UNSEAL], "unseal_threshold": 3}), VAULT_UNSEAL),
    ("unseal-command", f"$ vault operator unseal {VAULT_UNSEAL}", VAULT_UNSEAL),
    ("approle-secret-id-table", f"Key                   Value\n---                   -----\nsecret_id             {VAULT_ID}\nsecret_id_ttl         0s", VAULT_ID),
]  # fmt: skip


def test_vault_unseal_keys_and_secret_ids_are_blanked() -> None:
    """Vault's unseal and recovery keys (init's text and JSON output, the unseal command) and
    an AppRole secret_id in vault's table output are blanked."""
    _each(VAULT)


# --- leaks: names of secrets the redactor does not know ---------------------------------------


#: Names under which any value is a secret: keys and passphrases of keytool, Vault, Wi-Fi and
#: IPsec, SSH and TLS files, disk encryption, wallets, Oracle Cloud's config (`pass_phrase`).
SECRET_NAMES = [
    "credential",
    "privkey",
    "priv_key",
    "unseal_key",
    "enc_key",
    "aes_key",
    "pre_shared_key",
    "preshared_key",
    "ipsec_psk",
    "shared_key",
    "storepass",
    "keypass",
    "secret_id",
    "deploy_key",
    "id_rsa",
    "tls_key",
    "client_key",
    "recovery_key",
    "bitlocker_recovery_key",
    "mnemonic",
    "pass_phrase",
]


def _named_forms(name: str) -> list[Case]:
    """`name` with the password in the forms alert text writes it (`=`, YAML, JSON text), and
    as a JSON payload's key (`value`)."""
    return [
        (f"{name} kv", f"{name}={PASSWORD}", PASSWORD),
        (f"{name} yaml", f"{name}: {PASSWORD}", PASSWORD),
        (f"{name} json", json.dumps({name: PASSWORD}), PASSWORD),
        (f"{name} value", "", PASSWORD),
    ]


def _name_leaks(case: Case) -> tuple[str, str]:
    """For `assert_each`: `_redacted` of a text form; for a `value` form, the payload
    `Redactor.value` gives for the name as a JSON key, when the password is left in it."""
    name, _, secret = case
    if not name.endswith(" value"):
        return _redacted(case)
    shown = json.dumps(Redactor().value({name.removesuffix(" value"): secret}))
    return (shown if _left(shown, secret) else ""), ""


def test_values_under_more_secret_names_are_blanked() -> None:
    """A one-word value under each of these names is blanked in text (`=`, YAML, JSON) and as
    a JSON payload's key."""
    assert_each([case for name in SECRET_NAMES for case in _named_forms(name)], _name_leaks)


# --- leaks: config files ------------------------------------------------------------------------


CONFIG: list[Case] = [
    ("pgpass-after-its-path", f"~/.pgpass: db:5432:*:app:{PASSWORD}", PASSWORD),
    (
        "pgpass-in-a-log-line",
        f"reading /root/.pgpass line: db:5432:orders:app:{PASSWORD}",
        PASSWORD,
    ),
    ("netrc-account", f"machine ftp.example.com login u password p account {PASSWORD}", PASSWORD),
    ("wpa-supplicant-psk", f'network={{\n ssid="corp"\n psk="{PASSWORD}"\n}}', PASSWORD),
    ("psk-unquoted", f"psk={PASSWORD}", PASSWORD),
    ("psk-yaml", f"wifi:\n  psk: {PASSWORD}", PASSWORD),
]


def test_config_file_secrets_are_blanked() -> None:
    """A .pgpass line quoted after a prefix, a .netrc `account`, and a Wi-Fi pre-shared key
    (`psk`) are blanked."""
    _each(CONFIG)


SERVER_CONFIG: list[Case] = [
    ("html-password-input", f'<input type="password" id="login" value="{PASSWORD}">', PASSWORD),
    ("xml-cdata", f"<password><![CDATA[{PASSWORD}]]></password>", PASSWORD),
    ("apache-ldap-bind", f"AuthLDAPBindPassword {PASSWORD}", PASSWORD),
    ("postfix-sasl-passwd", f"[smtp.example.com]:587 alerts@example.com:{PASSWORD}", PASSWORD),
    ("ipsec-secrets-psk", f': PSK "{PASSWORD}"', PASSWORD),
    ("openvpn-inline-auth", f"<auth-user-pass>\nalerts\n{PASSWORD}\n</auth-user-pass>", PASSWORD),
]


def test_server_config_secrets_are_blanked() -> None:
    """A password in an HTML password input, an XML CDATA section, Apache's LDAP bind, Postfix's
    sasl_passwd line, ipsec.secrets' PSK line and OpenVPN's inline credentials is blanked."""
    _each(SERVER_CONFIG)


PIPED: list[Case] = [
    ("echo-into-kinit", f"echo {PASSWORD} | kinit bob@CORP.EXAMPLE.COM", PASSWORD),
    ("echo-into-sshfs", f"echo {PASSWORD} | sshfs u@h:/ /mnt -o password_stdin", PASSWORD),
    ("useradd-p", f"useradd -p '{PASSWORD}' bob", PASSWORD),
]


def test_a_password_piped_into_a_command_is_blanked() -> None:
    """A password echoed into kinit or sshfs (`-o password_stdin`), and useradd's `-p`, are
    blanked, as one piped into `--password-stdin` is."""
    _each(PIPED)


#: A token as CI tools' command lines take it: no `password`/`token` option name, or one
#: that the option rules do not read.
TOKEN = _random(32)
CLI: list[Case] = [
    ("httpie-query-token", f"http POST api.example.com/login token=={TOKEN}", TOKEN),
    ("httpie-query-api-key", f"http GET api.example.com api_key=={TOKEN}", TOKEN),
    ("httpie-bearer-a", f"https -A bearer -a {TOKEN} api.example.com", TOKEN),
    ("doctl-t", f"doctl auth init -t {TOKEN}", TOKEN),
    ("flyctl-t", f"flyctl deploy -t {TOKEN}", TOKEN),
    ("influx-t", f"influx write -t {TOKEN} -b metrics", TOKEN),
    ("netlify-auth", f"netlify deploy --auth {TOKEN}", TOKEN),
    ("poetry-pypi-token", f"poetry config pypi-token.pypi {TOKEN}", TOKEN),
    ("cargo-login", f"cargo login {TOKEN}", TOKEN),
    ("rclone-obscure", f"rclone obscure {TOKEN}", TOKEN),
    ("vault-pass-file", f"echo {TOKEN} > .vault_pass", TOKEN),
    ("databricks-here-string", f"databricks configure --token <<< {TOKEN}", TOKEN),
]


def test_a_token_on_a_ci_tools_command_line_is_blanked() -> None:
    """The token given to httpie, doctl, flyctl, influx, netlify, poetry, cargo, rclone,
    databricks and to an Ansible vault password file on a command line is blanked."""
    _each(CLI)


def test_a_token_after_an_option_named_like_one_is_blanked() -> None:
    """Guard beside the test above: the option forms the redactor read before it."""
    _each(
        [
            ("kubectl-token", f"kubectl --token={TOKEN} get pods", TOKEN),
            ("vercel-token", f"vercel deploy --token {TOKEN}", TOKEN),
            ("poetry-http-basic", f"poetry config http-basic.r u {TOKEN}", TOKEN),
        ]
    )


def test_a_password_piped_into_password_stdin_is_blanked() -> None:
    """Guard beside the test above: the forms the redactor read before it."""
    _each(
        [
            ("docker-login", f"echo {PASSWORD} | docker login -u u --password-stdin", PASSWORD),
            ("chpasswd", f"echo 'bob:{PASSWORD}' | chpasswd", PASSWORD),
        ]
    )


# --- leaks: hex ---------------------------------------------------------------------------------


def _dump(data: bytes, offset: str) -> str:
    words = " ".join(data[:16].hex()[i : i + 4] for i in range(0, 32, 4))
    return f"{offset}  {words}  {data[:16].decode()}"


HEXED: list[Case] = [
    ("token-as-hex", f"blob {HEX_TOKEN}", HEX_TOKEN[8:]),
    ("token-as-hex-named", f"token bytes: {HEX_TOKEN}", HEX_TOKEN[8:]),
    ("kv-as-hex", "body (hex): " + f"password={PASSWORD}".encode().hex(), PASSWORD.encode().hex()),
    ("xxd-row", _dump(GITHUB.encode(), "00000000:"), GITHUB[4:16]),
    ("tcpdump-X-row", _dump(GITHUB.encode(), "\t0x0000:"), GITHUB[4:16]),
]


def test_secrets_written_as_hex_are_blanked() -> None:
    """A token or a `password=` pair written as hex, and a hexdump row (xxd, tcpdump -X)
    holding a token, leave no run of the secret (in hex or in the dump's text column)."""
    _each(HEXED)


# --- leaks: SQL -----------------------------------------------------------------------------------


SQL: list[Case] = [
    ("sqlalchemy-positional", f"[SQL: INSERT INTO users (name, password) VALUES (%s, %s)]\n[parameters: ('bob', '{PASSWORD}')]", PASSWORD),
    ("qmark-positional", f"[SQL: INSERT INTO api_keys (name, secret) VALUES (?, ?)]\n[parameters: ('ci', '{PASSWORD}')]", PASSWORD),
    ("bind-params", f"SQL: INSERT INTO creds (user, secret) VALUES (?, ?) params=('bob', '{PASSWORD}')", PASSWORD),
    ("postgres-unique-detail", f"DETAIL:  Key (api_token)=({PASSWORD}) already exists.", PASSWORD),
    ("mysql-duplicate-entry", f"Duplicate entry '{PASSWORD}' for key 'users.password_reset_token'", PASSWORD),
]  # fmt: skip


def test_sql_values_under_a_secret_column_are_blanked() -> None:
    """A value bound by position to a `password`/`secret` column, and a value a unique-key
    error quotes for a `api_token`/`password_reset_token` key, are blanked."""
    _each(SQL)


# --- leaks: a call that takes a password by its place ---------------------------------------------


CALLS: list[Case] = [
    ("python-ldap-bind_s", f"conn.bind_s('cn=admin,dc=x', '{PASSWORD}')", PASSWORD),
    ("python-ldap-bind", f"l.bind('cn=admin,dc=x', '{PASSWORD}')", PASSWORD),
    ("ldap3-connection", f"Connection(server, 'cn=admin,dc=x', '{PASSWORD}', auto_bind=True)", PASSWORD),
    ("pika-plain-credentials", f"pika.PlainCredentials('guest', '{PASSWORD}')", PASSWORD),
    ("cx-oracle-connect", f"cx_Oracle.connect('app', '{PASSWORD}', 'db:1521/orcl')", PASSWORD),
    ("oracledb-connect", f"oracledb.connect('app', '{PASSWORD}', 'db:1521/orcl')", PASSWORD),
    ("mongo-create-credential", f'MongoCredential.createCredential("app", "admin", "{PASSWORD}".toCharArray())', PASSWORD),
    ("aws-basic-credentials", f'new BasicAWSCredentials("AKIAIOSFODNN7EXAMPLE", "{PASSWORD}")', PASSWORD),
    ("authenticate-call", f'client.authenticate("svc", "{PASSWORD}")', PASSWORD),
    ("go-mysql-dsn-tcp", f"dial: app:{PASSWORD}@tcp(db:3306)/orders?parseTime=true", PASSWORD),
    ("go-mysql-dsn-unix", f"app:{PASSWORD}@unix(/var/run/mysqld.sock)/orders", PASSWORD),
]  # fmt: skip


def test_a_password_passed_by_its_place_is_blanked() -> None:
    """The password argument of LDAP binds, RabbitMQ's, Oracle's, MongoDB's, AWS's credential
    constructors and an authenticate() call, and the password of Go's MySQL DSN, are blanked."""
    _each(CALLS)


# --- leaks: what a command that prints a secret printed ------------------------------------------


PRINTED: list[Case] = [
    ("op-read", f"$ op read op://vault/db/password\n{PASSWORD}", PASSWORD),
    ("kubectl-secret-decoded", f"$ kubectl get secret db -o jsonpath='{{.data.password}}' | base64 -d\n{PASSWORD}", PASSWORD),
    ("heroku-auth-token", "$ heroku auth:token\n 12345678-abcd-4ef0-9abc-1234567890ab", "12345678-abcd-4ef0-9abc-1234567890ab"),
]  # fmt: skip


def test_a_secret_a_command_printed_is_blanked() -> None:
    """A shell transcript's output line after a command that prints a secret is blanked."""
    _each(PRINTED)


# --- where the leaks leave the process ----------------------------------------------------------


#: One leak of each class, placed in a Grafana/Alertmanager alert's description.
LEAVING = {
    "ssh2-key": ARMOUR[0],
    "jwt": JWT[0],
    "vault-unseal": VAULT[0],
    "pgpass": CONFIG[0],
    "hex": HEXED[0],
    "sql": SQL[0],
    "ldap-bind": CALLS[0],
    "go-dsn": CALLS[9],
}
#: A shape the redactor finds, through the same surfaces (the guard).
HELD = ("libpq-keywords", f"host=db user=app password={PASSWORD} sslmode=require", PASSWORD)


async def _surfaces(
    description: str, title: str, *, summary: str = "", label: str = ""
) -> dict[str, str]:
    """The GitHub issue's title, body and labels, Slack's message, the LLM prompt, the ticket
    backend's body and the operator API's incident made from one Alertmanager alert (with
    `summary` and a `detail` label when given), by the functions the sinks, the summariser and
    the API call, from the pipeline's redacted view."""
    redactor = Redactor()
    labels = {"alertname": title, "team": "payments", "severity": "critical"}
    annotations = {"description": description}
    if summary:
        annotations["summary"] = summary
    if label:
        labels["detail"] = label
    body = json.dumps([{"labels": labels, "annotations": annotations}])
    [alert] = normalize_body(body).alerts
    view = redact_alert(alert, redactor, excerpt_chars=6000)
    ticket = redact_ticket(await DeterministicSummariser().summarise(view), redactor)
    effect = Effect(EffectKind.OPEN, view.fingerprint, view, ticket, None, 1, 1, False, "k:1")
    return {
        "github-title": github.issue_title(effect),
        "github-body": github.issue_body(effect),
        "github-labels": json.dumps(github.issue_labels(effect)),
        "slack": json.dumps(slack.open_message(effect)),
        "prompt": prompt.build(view, redactor, 4000).user,
        "backend": json.dumps(_open_body(effect)),
        "operator-api": await _operator_json(view, ticket, redactor),
    }


async def _operator_json(view: RedactedAlert, ticket: Ticket, redactor: Redactor) -> str:
    """The operator API's JSON of the incident the view opens, as the store keeps it."""
    store = MemoryStore()
    opened = await store.begin(view, "m-1", store.now())
    assert opened.after is not None
    fingerprint = opened.after.fingerprint
    await store.save_ticket(fingerprint, "m-1", ticket, Routing("default", view.team, {}))
    incident = await store.get(fingerprint)
    assert incident is not None
    return json.dumps(incident_json(incident, redactor))


def _places_leaking(case: Case, surfaces: dict[str, str]) -> list[str]:
    return [place for place, text in surfaces.items() if _left(text, case[2])]


async def test_a_found_shape_reaches_no_surface() -> None:
    """Guard: a libpq password in an alert's description shows on none of the surfaces, so
    the leak test below fails only by what the redactor misses."""
    surfaces = await _surfaces(f"db down\n{HELD[1]}", "DbDown")
    assert set(surfaces) == {
        "github-title",
        "github-body",
        "github-labels",
        "slack",
        "prompt",
        "backend",
        "operator-api",
    }
    assert _places_leaking(HELD, surfaces) == []
    assert "db down" in surfaces["github-body"]  # the description is shown at all


async def _leaving(cases: dict[str, Case]) -> dict[str, list[str]]:
    leaking = {}
    for label, case in cases.items():
        surfaces = await _surfaces(f"job failed\n{case[1]}", "JobFailed")
        leaking[label] = _places_leaking(case, surfaces)
    return leaking


async def test_missed_shapes_reach_no_surface() -> None:
    """One leak of each class above, in an alert's description, shows on none of the GitHub
    issue, Slack's message, the LLM prompt and the ticket backend's body."""
    leaking = await _leaving(LEAVING)
    assert {label: places for label, places in leaking.items() if places} == {}


async def test_the_surfaces_show_the_description_the_leaks_are_in() -> None:
    """The leak test's alerts do reach the body surfaces: each shows its description's first
    line, so a leak there is a miss of the redactor, not an empty render."""
    for case in LEAVING.values():
        surfaces = await _surfaces(f"job failed\n{case[1]}", "JobFailed")
        for place in ("github-body", "slack", "prompt", "backend"):
            assert "job failed" in surfaces[place], (case[0], place)


def _peeked(body: str) -> str:
    """The body `triage dlq` peek shows of a dead letter holding `body`."""
    letter = DeadLetter(Message("m-1", body, "rh", 5, datetime.now(UTC)), {})
    return str(letter.describe(datetime.now(UTC))["body"])


def _peek_leaks(case: Case) -> tuple[str, str]:
    """For `assert_each`: the peeked body when a run of the case's secret is left in it."""
    shown = _peeked(case[1])
    return (shown if _left(shown, case[2]) else ""), ""


#: Short bodies a queue refuses (text, no alert format): dead-letter peek shows their start.
DEAD: list[Case] = [CONFIG[0], VAULT[0], CALLS[0]]


def test_dead_letter_peek_shows_no_missed_shape() -> None:
    """`triage dlq` peek of a refused text body holding a .pgpass line, a Vault unseal key or
    an LDAP bind's password shows none of them."""
    assert_each(DEAD, _peek_leaks)


def test_dead_letter_peek_blanks_a_found_shape() -> None:
    """Guard: peek of a refused text body holding a libpq password shows the body's start
    without the password."""
    body = _peeked(HELD[1])
    assert body.startswith("host=db user=app")
    assert _left(body, PASSWORD) == []


# --- the gateway's queued message ---------------------------------------------------------------


#: Form fields whose value the redactor blanks by the field's name and the value's shape
#: (`named_value_secret`), but whose name alone is no secret's: `pass`, `jwt`, `bearer`,
#: `ssh_key`, `kubeconfig`, `community`, `accessKeySecret`.
FIELDS = {
    "pass": PASSWORD,
    "jwt": f"{JWT_HEADER}.{JWT_PAYLOAD}.{JWT_SIGNATURE}",
    "bearer": _random(40),
    "ssh_key": PASSWORD,
    "kubeconfig": PASSWORD,
    "community": PASSWORD,
    "accessKeySecret": PASSWORD,
}


def _queued(queues: Queues) -> list[str]:
    """Every body on the queue, each once (received until none is left; they stay hidden)."""
    bodies: dict[str, str] = {}
    while True:
        answer = queues.client().receive_message(
            QueueUrl=queues.url, MaxNumberOfMessages=10, VisibilityTimeout=300
        )
        if not answer.get("Messages"):
            return list(bodies.values())
        bodies |= {m["MessageId"]: m["Body"] for m in answer["Messages"]}


async def _post_form(client: httpx2.AsyncClient, fields: dict[str, str]) -> None:
    headers = {"Content-Type": "application/x-www-form-urlencoded", **bearer("generic")}
    answer = await client.post("/v1/alerts/generic", data=fields, headers=headers)
    assert answer.status_code == 202, answer.text


async def _post_query(client: httpx2.AsyncClient, fields: dict[str, str]) -> None:
    """`fields` as the query string of a blank POST (an alert only a URL can carry)."""
    answer = await client.post(f"/v1/alerts/generic?{urlencode(fields)}", headers=bearer("generic"))
    assert answer.status_code == 202, answer.text


def test_the_redactor_blanks_each_field_the_gateway_is_tried_with() -> None:
    """Guard: every field of `FIELDS` is a secret to the redactor (its name and value), so a
    gateway that queues it queues what every sink would blank."""
    assert_each(list(FIELDS.items()), lambda item: (named_value_secret(*item), True), "field")


async def test_the_gateway_drops_a_token_field(client: httpx2.AsyncClient, queues: Queues) -> None:
    """Guard: a form's `api_key` field is not queued (what the test below asks of the others),
    and the rest of the form is."""
    await _post_form(client, {"title": "disk full on db-1", "api_key": PASSWORD})
    [body] = _queued(queues)
    assert "disk full on db-1" in body
    assert PASSWORD not in body


async def test_the_gateway_queues_no_field_the_redactor_blanks(
    client: httpx2.AsyncClient, queues: Queues
) -> None:
    """A form, or a blank POST's query string, with a title and a field the redactor blanks
    (`pass`, `jwt`, `bearer`, `ssh_key`, `kubeconfig`, `community`, `accessKeySecret`) is
    queued without the field's value."""
    for name, value in FIELDS.items():
        await _post_form(client, {"title": f"disk full (form, {name})", name: value})
        await _post_query(client, {"title": f"disk full (query, {name})", name: value})
    bodies = _queued(queues)
    assert len(bodies) == 2 * len(FIELDS)
    values = set(FIELDS.values())
    leaked = sorted(json.loads(body)["title"] for body in bodies if any(v in body for v in values))
    assert leaked == []


# --- label names -------------------------------------------------------------------------------


def _label_names_leak(case: Case) -> tuple[str, str]:
    """For `assert_each`: the redacted view's labels when the case's text, used as a label's
    name, leaves a run of its secret in them."""
    body = json.dumps([{"labels": {"alertname": "X", case[1]: "1"}, "annotations": {}}])
    [alert] = normalize_body(body).alerts
    shown = json.dumps(dict(redact_alert(alert, Redactor()).labels))
    return (shown if _left(shown, case[2]) else ""), ""


def test_a_label_name_holding_a_found_shape_is_blanked() -> None:
    """Guard: a token, a `password=` pair, an Authorization header, a .pgpass line and a URL's
    password, each used as a label's name, are blanked in the view's labels."""
    cases = [
        ("token", GITHUB, GITHUB[4:]),
        ("kv", f"password={PASSWORD}", PASSWORD),
        ("authorization", f"Authorization: Bearer {TOKEN}", TOKEN),
        ("pgpass", f"db:5432:*:app:{PASSWORD}", PASSWORD),
        ("url", f"https://u:{PASSWORD}@h.example.com", PASSWORD),
    ]
    assert_each(cases, _label_names_leak)


def test_a_label_name_holding_a_missed_shape_is_blanked() -> None:
    """A `psk=` pair, a Vault unseal key line and a hex-written token used as a label's name
    are blanked in the view's labels."""
    assert_each([CONFIG[4], VAULT[0], HEXED[0]], _label_names_leak)


# --- sections whose every value is a secret ----------------------------------------------------

#: The password base64-encoded, as a Kubernetes Secret's `data` holds it.
PASSWORD_B64 = base64.b64encode(PASSWORD.encode()).decode()
K8S_SECRET = {
    "apiVersion": "v1",
    "kind": "Secret",
    "metadata": {"name": "orders-db"},
    "data": {"config": PASSWORD_B64},
    "stringData": {"app.conf": PASSWORD},
}
#: Objects where every value of a section is a secret whatever its key says: a Kubernetes
#: Secret's data and stringData, Grafana's secureJsonData, a Vault KV v2 read's data.data.
SECTIONS: list[tuple[str, object]] = [
    ("kubernetes-secret", K8S_SECRET),
    ("grafana-secure-json-data", {"type": "prometheus", "secureJsonData": {"httpHeaderValue1": PASSWORD}}),
    ("vault-kv2-read", {"request_id": "r-1", "lease_id": "", "data": {"data": {"orders": PASSWORD}}}),
]  # fmt: skip


def _section_left(case: tuple[str, object]) -> tuple[str, str]:
    """For `assert_each`: `Redactor.value` of the object, when the password (or its base64)
    is left in it."""
    shown = json.dumps(Redactor().value(case[1]))
    return (shown if PASSWORD in shown or PASSWORD_B64 in shown else ""), ""


def test_a_kubernetes_secret_as_json_text_is_blanked() -> None:
    """Guard: the text rules blank every value of a Secret's data and stringData."""
    shown = Redactor().text(json.dumps(K8S_SECRET))
    assert PASSWORD not in shown and PASSWORD_B64 not in shown, shown
    assert '"name": "orders-db"' in shown


def test_every_value_of_a_secret_section_is_blanked_as_a_json_value() -> None:
    """As a JSON payload's value, a Kubernetes Secret's data and stringData, Grafana's
    secureJsonData and a Vault KV v2 read's data.data have every value blanked."""
    assert_each(SECTIONS, _section_left)


async def test_a_kubernetes_secret_in_a_payload_reaches_no_prompt() -> None:
    """A generic alert (a Kubernetes audit event) carrying the Secret it saw created shows
    none of the Secret's values in the LLM prompt's payload excerpt."""
    body = json.dumps(
        {"title": "secret created in prod", "description": "audit", "requestObject": K8S_SECRET}
    )
    redactor = Redactor()
    [alert] = normalize_body(body).alerts
    view = redact_alert(alert, redactor, excerpt_chars=6000)
    user = prompt.build(view, redactor, 4000).user
    assert "orders-db" in user  # the excerpt holds the Secret
    assert PASSWORD not in user and PASSWORD_B64 not in user


# --- one-line fields and dead letters: lines joined before they are redacted ------------------


#: Secrets the redactor finds by their lines: a table's column, PHP's print_r, Spring's bind
#: failure, a YAML block scalar, a Kubernetes env entry, an expect script, a multipart field.
BY_LINES: list[Case] = [
    ("pipe-table", f"| user | password |\n|------|----------|\n| app  | {PASSWORD} |", PASSWORD),
    ("tab-table", f"user\tpassword\napp\t{PASSWORD}", PASSWORD),
    ("psql-table", f" usename | passwd\n---------+--------\n app     | {PASSWORD}", PASSWORD),
    ("php-print-r", f"Array\n(\n    [user] => app\n    [password] => {PASSWORD}\n)", PASSWORD),
    ("spring-bind", f'Property: spring.datasource.password\n    Value: "{PASSWORD}"', PASSWORD),
    ("yaml-block", f"password: |\n  {PASSWORD}", PASSWORD),
    ("k8s-env", f"- name: DB_PASSWORD\n  value: {PASSWORD}", PASSWORD),
    ("expect", f'expect "assword:"\nsend "{PASSWORD}\\r"', PASSWORD),
    ("form-data", f'Content-Disposition: form-data; name="password"\n\n{PASSWORD}', PASSWORD),
]


def test_secrets_known_by_their_lines_are_blanked_on_their_lines() -> None:
    """Guard for the two tests below: each of these, as written on its lines, is blanked."""
    _each(BY_LINES)


async def test_secrets_known_by_their_lines_reach_no_surface_from_a_description() -> None:
    """Guard: in a description (kept on its lines), none of them reaches any surface."""
    for case in BY_LINES:
        surfaces = await _surfaces(f"login failed\n{case[1]}", "LoginErrors")
        assert _places_leaking(case, surfaces) == [], case[0]


async def test_secrets_known_by_their_lines_reach_no_surface_from_a_title_or_label() -> None:
    """The same secrets in an Alertmanager `summary` (the ticket's title) or in a label's value
    reach none of the GitHub issue, Slack, the LLM prompt, the ticket backend and the operator
    API."""
    leaking = {}
    for case in BY_LINES:
        for field in ("summary", "label"):
            text = f"login failed\n{case[1]}"
            surfaces = await _surfaces("see runbook", "LoginErrors", **{field: text})
            if places := _places_leaking(case, surfaces):
                leaking[f"{case[0]} in {field}"] = places
    assert leaking == {}


def test_dead_letter_peek_blanks_secrets_known_by_their_lines() -> None:
    """`triage dlq` peek of a refused text body holding one of them shows none of it."""
    assert_each(BY_LINES, _peek_leaks)


# --- /metrics labels ----------------------------------------------------------------------------


async def _metrics_after(team: str) -> str:
    """The /metrics text of a pipeline (in-memory store, a recording sink) after it opened a
    ticket for one generic alert of `team`: the ticket counter's `team` label is the
    redacted view's team."""
    pipeline = pipeline_into(Sink())
    body = json.dumps({"title": "disk full on db-1", "team": team})
    await pipeline.process(Message("m-1", body, "r-1", 1, datetime.now(UTC)))
    return prometheus_text(pipeline.metrics)


async def test_a_team_holding_a_found_shape_shows_no_secret_in_metrics() -> None:
    """Guard: a team written `password=<pw>` is counted under a label without the password."""
    text = await _metrics_after(f"password={PASSWORD}")
    assert 'team="password_REDACTED:password"' in text
    assert _left(text, PASSWORD) == []


#: Teams holding a shape the redactor misses (config lines above), short enough for a label.
TEAMS: list[Case] = [CONFIG[0], CONFIG[4], VAULT[0]]


async def test_a_team_holding_a_missed_shape_shows_no_secret_in_metrics() -> None:
    """A team holding a .pgpass line, a `psk=` or a Vault unseal key puts none of it in the
    ticket counter's labels on /metrics."""
    leaking = {}
    for case in TEAMS:
        text = await _metrics_after(case[1])
        shown = [line for line in text.splitlines() if "team=" in line]
        if any(_left(line, case[2]) for line in shown):
            leaking[case[0]] = shown
    assert leaking == {}


# --- log lines ----------------------------------------------------------------------------------


def test_a_skipped_alarms_log_line_carries_no_reason_text() -> None:
    """Guard: an INSUFFICIENT_DATA alarm whose reason holds a Vault unseal key (a shape the
    redactor misses) is logged by the pipeline by its identifiers only, so the key is in no
    log line: logs stay clean of the leaks above because they carry no alert text."""
    payload = json.loads((Path(__file__).parent / "payloads/cloudwatch/raw-alarm.json").read_text())
    payload |= {"NewStateValue": "INSUFFICIENT_DATA", "NewStateReason": VAULT[0][1]}
    normalized = recognise_body(json.dumps(payload)).normalized
    assert normalized.skipped  # the alarm is logged as skipped, not ticketed
    with structlog.testing.capture_logs() as logs:
        _log_normalized(normalized)
    lines = json.dumps([redact_event(None, "info", dict(event)) for event in logs])
    assert "alert.skipped" in lines
    assert _left(lines, VAULT_UNSEAL) == []
