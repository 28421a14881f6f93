"""Round 7's secrets, part A: the neighbours of the red team's leaks (mail transcripts' logins,
netsh's Wi-Fi key, a gossip encryption key, Azure's key listings, look-alike names, redis-cli's
replies) and of its over-redactions (a Kubernetes Secret's name, a numeric session id), each
read by the redactor as a user would write it, and the near text that must stay.
"""

from __future__ import annotations

import base64
import json

import pytest

from triage.redact import Redactor

PASSWORD = "Xk7pL2mR9tQwE4rT"
B64_PASSWORD = base64.b64encode(PASSWORD.encode()).decode()
SASL_PLAIN = base64.b64encode(f"\0alice\0{PASSWORD}".encode()).decode()
GOSSIP_KEY = "M/voHvobDr986na+/XwSKxjR0CMpYBFcKyEPtfDzDSY="
SERVICE_BUS_KEY = "Hq3nS8vLk2Wd9mZ4pR7tY1xC6bN0fJ5gT8aE2uK4oQw="


def _shown(text: str) -> str:
    """What the redactor lets out of `text`."""
    return Redactor().text(text)


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        (f"* OK ready\nA1 LOGIN alice {PASSWORD}\nA1 NO failed", PASSWORD),
        (f"  03:21.45 > b'CLLN1 LOGIN alice \"{PASSWORD}\"'", PASSWORD),
        (json.dumps({"log": f'a001 LOGIN "alice" "{PASSWORD}"'}), PASSWORD),
        (f"AUTH PLAIN {SASL_PLAIN}\n535 5.7.8 failed", SASL_PLAIN),
        (f"C: a1 AUTHENTICATE PLAIN\nS: +\nC: {SASL_PLAIN}", SASL_PLAIN),
        (
            "send: 'AUTH LOGIN YWxpY2U=\\r\\n'\nreply: b'334 UGFzc3dvcmQ6\\r\\n'\n"
            f"reply: retcode (334); Msg: b'UGFzc3dvcmQ6'\nsend: '{B64_PASSWORD}\\r\\n'",
            B64_PASSWORD,
        ),
        (json.dumps({"log": f"AUTH LOGIN\n334 cGFzc3dvcmQ6\n{B64_PASSWORD}\n535"}), B64_PASSWORD),
        (f'<auth mechanism="PLAIN" xmlns="urn:ietf:params:xml:ns:xmpp-sasl">{SASL_PLAIN}</auth>',
         SASL_PLAIN),
    ],
    ids=["imap-uppercase-tag", "imaplib-debug-quoted", "imap-in-json", "smtp-auth-plain",
         "imap-authenticate-continuation", "smtplib-debug", "auth-login-in-json", "xmpp-auth"],
)  # fmt: skip
def test_a_mail_transcripts_login_is_blanked(text: str, secret: str) -> None:
    """A mail client's transcript shows no password: IMAP's LOGIN (bare, quoted, in a JSON
    log), SASL PLAIN's base64 given with the command or after its `+`/`334` continuation,
    the answer to AUTH LOGIN's `Password:` prompt (smtplib's debug lines between), XMPP's
    auth element."""
    assert secret not in _shown(text)


@pytest.mark.parametrize(
    "text",
    [
        "250-AUTH PLAIN LOGIN CRAM-MD5\n250-AUTH=PLAIN LOGIN\n250 8BITMIME",
        "250-AUTH PLAIN\n250 SIZE 35882577",
        "2 LOGIN attempts failed for alice",
        "A1 LOGIN alice OK",
        "334 UGFzc3dvcmQ6\n535 5.7.8 Authentication failed",
        "user login alice failed",
    ],
    ids=["ehlo-mechanisms", "ehlo-plain-then-size", "login-count", "login-status-word",
         "prompt-then-failure", "prose"],
)  # fmt: skip
def test_mail_protocol_text_without_a_credential_stays(text: str) -> None:
    """An EHLO's list of mechanisms, a count of logins, a status word after a user and a
    server's failure after the prompt hold no credential and stay whole."""
    assert _shown(text) == text


@pytest.mark.parametrize(
    "text",
    [
        f"    Key Content            : {PASSWORD}",
        f"wifi.key_content={PASSWORD}",
        f"recovery phrase: legal winner thank year wave {PASSWORD}",
        f"seed phrase: legal winner thank year wave {PASSWORD}",
        f'encrypt = "{GOSSIP_KEY}"',
        json.dumps({"server": True, "encrypt": GOSSIP_KEY}),
        f"nomad agent -encrypt={GOSSIP_KEY}",
    ],
    ids=["netsh", "key-content-name", "recovery-phrase", "seed-phrase", "gossip-hcl",
         "gossip-json", "gossip-flag"],
)  # fmt: skip
def test_a_secret_under_its_new_name_is_blanked(text: str) -> None:
    """A Wi-Fi key printed by netsh (`Key Content`), a wallet's phrase after `recovery
    phrase:`/`seed phrase:` and Consul's or Nomad's gossip key after `encrypt` show
    nowhere."""
    shown = _shown(text)
    assert PASSWORD not in shown
    assert GOSSIP_KEY[:12] not in shown


@pytest.mark.parametrize(
    "text",
    [
        "encrypt: true",
        'encrypt = "aes256"',
        json.dumps({"encrypt": False, "verify_incoming": True}),
        "consul agent -encrypt=true",
        "    Security key           : Present",
        "encrypt:\n  key-store:\n    location: classpath:/server.jks\n    alias: mytestkey",
    ],
    ids=["encrypt-true", "encrypt-cipher", "encrypt-json-bool", "encrypt-flag-bool",
         "security-key-present",
         "spring-encrypt-section"],
)  # fmt: skip
def test_a_setting_under_a_new_name_stays(text: str) -> None:
    """`encrypt` switching encryption on or naming a cipher or heading a section of settings
    (Spring Cloud Config's key store), and netsh's `Security key : Present` row, stay: only
    a key's shape goes."""
    assert _shown(text) == text


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        (json.dumps({"keyName": "RootManageSharedAccessKey", "primaryKey": SERVICE_BUS_KEY}),
         SERVICE_BUS_KEY),
        (f"key2: {SERVICE_BUS_KEY}", SERVICE_BUS_KEY),
        (f"key1\tFULL\t{SERVICE_BUS_KEY}", SERVICE_BUS_KEY),
        (json.dumps({"log": f"KeyName  Permissions  Value\n-------  -----  -----\n"
                            f"kerb1    READ   {SERVICE_BUS_KEY}"}), SERVICE_BUS_KEY),
        ("Key1                              Key2\n"
         "--------------------------------  --------------------------------\n"
         "4a3baf69dad8199bfca8b6f3a6a9421c  9d3baf69dad8199bfca8b6f3a6a94ab1",
         "9d3baf69dad8199bfca8b6f3a6a94ab1"),
    ],
    ids=["service-bus-primary-key", "yaml-key2", "storage-tsv", "storage-table-in-json",
         "cognitive-table-second-key"],
)  # fmt: skip
def test_an_azure_key_listing_is_blanked(text: str, secret: str) -> None:
    """Azure's listings of keys show none: Service Bus' `primaryKey`, `-o yaml`'s `key2`, a
    storage account's `-o tsv` row and its table inside a JSON log (a `kerb1` key too), and
    the second key of Cognitive Services' table."""
    assert secret not in _shown(text)


@pytest.mark.parametrize(
    "text",
    [
        "primaryKey: id",
        'schema: {"primaryKey": "order_id", "key1": "region"}',
        "key1       READ           short",
    ],
    ids=["database-primary-key", "json-key-names", "short-value"],
)
def test_a_key_name_without_a_keys_shape_stays(text: str) -> None:
    """A database's `primaryKey` naming a column and a `key1` holding a word stay: only a
    value of an Azure key's shape goes."""
    assert _shown(text) == text


@pytest.mark.parametrize(
    "text",
    [
        f"password\u02f8{PASSWORD}",
        f"password\u0589 {PASSWORD}",
        f"password\ua78a{PASSWORD}",
        f"pass\u03c9ord={PASSWORD}",
        f"\u1d18\u1d00\ua731\ua731\u1d21\u1d0f\u0280\u1d05={PASSWORD}",
        f"\u1d1b\u1d0f\u1d0b\u1d07\u0274: {PASSWORD}",
    ],
    ids=["raised-colon", "armenian-full-stop", "short-equals", "greek-omega",
         "all-small-capitals", "small-capital-token"],
)  # fmt: skip
def test_a_name_drawn_with_more_look_alikes_is_read(text: str) -> None:
    """A name or separator drawn with look-alikes the first maps missed (a raised colon,
    Armenian's full stop, the short equals sign, Greek omega for w, a name all in small
    capitals) hides no password."""
    assert PASSWORD not in _shown(text)


def test_prose_in_one_script_with_look_alike_colons_stays() -> None:
    """A ratio written with the ratio sign and Greek prose keep their characters: nothing in
    them names a secret, so the undisguised text is not the one shown."""
    text = "ratio 3\u22361 ok; \u03c9\u03c1\u03b1 \u03b5\u03af\u03bd\u03b1\u03b9"
    assert _shown(text) == text


@pytest.mark.parametrize(
    "text",
    [
        "imagePullSecrets: [regcred]",
        "imagePullSecrets: [regcred, ghcr-pull]",
        json.dumps({"spec": {"imagePullSecrets": [{"name": "regcred"}, {"name": "ghcr"}]}}),
        "existing_secret: pg-auth",
        json.dumps({"auth": {"existingSecret": "redis-auth", "existingSecretPasswordKey": "pw"}}),
        "admin:\n  existingSecret: grafana-admin\n  userKey: admin-user\n  passwordKey: admin-password",
        "secretKeys:\n  adminPasswordKey: postgres-password\n  userPasswordKey: password",
        "helm install pg bitnami/postgresql --existing-secret=pg-auth",
        "imagePullSecrets:\n  - regcred\n  - ghcr-pull",
    ],
    ids=[
        "image-pull-list",
        "image-pull-list-of-two",
        "pod-spec-json",
        "snake-case",
        "json-values",
        "grafana-admin",
        "bitnami-secret-keys",
        "helm-flag",
        "image-pull-block-list",
    ],
)
def test_a_kubernetes_secrets_name_stays(text: str) -> None:
    """A chart's or a pod spec's names of a Secret (a list of them too, JSON's `{"name": …}`
    items) and of the keys in it (Grafana's `passwordKey`, Bitnami's `adminPasswordKey`), in
    YAML or JSON, stay: they say where the secret is."""
    assert _shown(text) == text


@pytest.mark.parametrize(
    "text",
    [
        f"existingSecret: {PASSWORD}",
        f"passwordKey: {PASSWORD}",
        "passwordKey: hunter2x",
        f"imagePullSecrets: [{PASSWORD}]",
    ],
    ids=["random-under-existing-secret", "random-password-key", "word-password-key",
         "random-in-list"],
)  # fmt: skip
def test_a_value_under_a_secrets_reference_name_that_is_no_name_goes(text: str) -> None:
    """Under those names a random-looking value, or under `passwordKey` a value that does
    not name a password's key, is read as a secret still."""
    shown = _shown(text)
    assert PASSWORD not in shown
    assert "hunter2x" not in shown


def test_a_small_session_number_stays_and_a_long_one_goes() -> None:
    """`sessid: 42` and JSON's numeric `session_id` stay (a counter's handle); a session id
    of more than ten digits, guess-proof, goes."""
    kept = 'sessid: 42; {"session_id": 42, "sessionId": "17"}'
    assert _shown(kept) == kept
    assert "12345678901234567890" not in _shown("session_id=12345678901234567890")


@pytest.mark.parametrize(
    "text",
    [
        f'127.0.0.1:6379> HMGET app:config env db_password\n1) "prod"\n2) "{PASSWORD}"',
        f'127.0.0.1:6379> MGET app:db:password app:env\n1) "{PASSWORD}"\n2) "prod"',
        f'127.0.0.1:6379> HGETALL app:config\n1# "db_password" => "{PASSWORD}"\n2# "env" => "x"',
        f"127.0.0.1:6379> GET app:api_token\n{PASSWORD}\n127.0.0.1:6379> GET other",
        json.dumps({"log": f'127.0.0.1:6379> HGETALL app\n1) "api_key"\n2) "{PASSWORD}"'}),
    ],
    ids=["hmget", "mget", "resp3-map", "raw-output", "hgetall-in-json"],
)
def test_a_redis_read_of_a_secret_is_blanked(text: str) -> None:
    """redis-cli's replies to HMGET and MGET (by each field's or key's place), to HGETALL in
    RESP3's map form, in `--raw` output and inside a JSON log show no secret's value."""
    assert PASSWORD not in _shown(text)


def test_a_redis_reply_that_is_no_secret_stays() -> None:
    """Replies under names of no secret, a plural's count and `(nil)` stay, as does the next
    command's reply."""
    text = (
        '127.0.0.1:6379> HGETALL stats\n1) "tokens"\n2) "1234"\n3) "hits"\n4) "99"\n'
        '127.0.0.1:6379> GET app:password\n(nil)\n127.0.0.1:6379> GET user:42:name\n"alice"'
    )
    assert _shown(text) == text


def test_a_gossip_key_in_an_alerts_json_is_blanked_and_a_switch_stays() -> None:
    """In an alert's JSON (`Redactor.value`), `encrypt` holding a key loses it, bare or as a
    longer name's last part, while `encrypt: true` and `encrypt: "aes256"` stay."""
    shown = Redactor().value(
        {"encrypt": GOSSIP_KEY, "gossip_encrypt": GOSSIP_KEY, "a": {"encrypt": True},
         "b": {"encrypt": "aes256"}}
    )  # fmt: skip
    assert shown == {
        "encrypt": "[REDACTED:password]",
        "gossip_encrypt": "[REDACTED:password]",
        "a": {"encrypt": True},
        "b": {"encrypt": "aes256"},
    }


def test_an_azure_key_in_an_alerts_json_is_blanked_and_a_word_stays() -> None:
    """In an alert's JSON (`Redactor.value`), `key1`/`key2` holding an Azure key's shape lose
    it, while a `key2` holding a word stays."""
    cognitive = "4a3baf69dad8199bfca8b6f3a6a9421c"
    shown = Redactor().value({"key1": cognitive, "key2": "region", "k": {"Key1": SERVICE_BUS_KEY}})
    assert shown == {
        "key1": "[REDACTED:password]",
        "key2": "region",
        "k": {"Key1": "[REDACTED:password]"},
    }
