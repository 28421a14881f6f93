"""Redaction by a value's name, round 4 (b): more names of secrets (keytool's, Vault's, Wi-Fi's
and IPsec's, SSH's and TLS's key files, disk encryption's, wallets'), and the words, paths,
references and public keys under such names that stay.
"""

from __future__ import annotations

import json

import pytest

from triage.redact import Redactor
from triage.redact.named_values import named_value_secret
from triage.redact.names import public_named, secret_named

PASSWORD = "Xk7pL2mR9tQwE4rT"
#: A WireGuard public key: 32 bytes in base64.
PUBLIC = "9PyK69mz6fa1LlcP/21+jd8ny45vtYqiN2Ppr4jSpYs="

#: Names under which a value is a secret, whatever it looks like.
NAMES = [
    *("credential", "privkey", "priv_key", "unseal_key", "enc_key", "aes_key"),
    *("pre_shared_key", "preshared_key", "ipsec_psk", "shared_key", "storepass", "keypass"),
    *("secret_id", "deploy_key", "id_rsa", "tls_key", "client_key", "recovery_key"),
    *("bitlocker_recovery_key", "mnemonic", "pass_phrase", "psk", "wifi_psk"),
    *("DeployKey", "TLS_KEY", "id_ed25519", "ssl_key", "passPhrase", "SECRET_ID", "tls.key"),
]


def _forms(name: str) -> list[str]:
    """`name` with the password as alert text writes it: `=`, YAML, JSON text."""
    return [f"{name}={PASSWORD}", f"{name}: {PASSWORD}", json.dumps({name: PASSWORD})]


@pytest.mark.parametrize("name", NAMES)
def test_a_value_under_a_new_secret_name_is_blanked_in_text(name: str) -> None:
    """A one-word value under each of these names leaves no trace in text."""
    for text in _forms(name):
        shown = Redactor().text(text)
        assert PASSWORD not in shown, shown
        assert name in shown, shown


@pytest.mark.parametrize("name", NAMES)
def test_a_value_under_a_new_secret_name_is_blanked_as_a_json_value(name: str) -> None:
    """A JSON key of each of these names has its value blanked by `Redactor.value`."""
    assert Redactor().value({name: PASSWORD}) == {name: "[REDACTED:password]"}


#: Under those names: a key file's path, a reference, a state word, a count, keytool's
#: documented default password, AWS's SecretId (a secret's name or ARN, not the secret), and
#: sentences that only use the words.
KEPT = [
    "tls_key: /etc/ssl/private/tls.key",
    "id_rsa: ~/.ssh/id_rsa",
    "deploy_key=${DEPLOY_KEY}",
    "credential: expired",
    "recovery_key: none",
    "storepass=changeit",
    "Unseal progress 2/3, Recovery Key threshold: 3",
    "psk mismatch on AP corp-5g",
    "aws secretsmanager get-secret-value --secret-id prod/orders/db",
    "secret_id=arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-AbCdEf",
    '{"SecretId": "prod/orders/db", "VersionStage": "AWSCURRENT"}',
    "credentials: could not be loaded",
    "mnemonic lookup failed for opcode 0x0f",
    "keepass database locked",
    "client_key_id=ck-0042 rotated",
]


@pytest.mark.parametrize("text", KEPT)
def test_words_paths_and_references_under_the_new_names_stay(text: str) -> None:
    """What is no secret under the new names stays whole."""
    assert Redactor().text(text) == text


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SecretId", "prod/orders/db"),
        ("secret_id", "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-AbCdEf"),
        ("SecretId", "OrdersDatabase"),
        ("id_rsa", "~/.ssh/id_rsa"),
        ("storepass", "changeit"),
        ("recovery_key", "none"),
    ],
)
def test_a_reference_under_a_new_name_stays_as_a_json_value(name: str, value: str) -> None:
    """`Redactor.value` keeps what the text keeps under these names: a path, an ARN, a name."""
    assert Redactor().value({name: value}) == {name: value}


@pytest.mark.parametrize(
    "name",
    [
        *("PublicKey", "public_key", "publicKey", "VAPID_PUBLIC_KEY", "pub_key"),
        *("public_signing_key", "publicEncryptionKey", "server_pubkey"),
    ],
)
def test_a_public_keys_name_names_no_secret(name: str) -> None:
    """A name saying `public` names no secret: its key-shaped value stays as a JSON value."""
    assert public_named(name)
    assert not secret_named(name)
    assert not named_value_secret(name, PUBLIC)
    assert Redactor().value({name: PUBLIC}) == {name: PUBLIC}


@pytest.mark.parametrize("name", ["private_key", "publisher_key", "api_key", "client_key"])
def test_a_name_without_public_is_no_public_keys(name: str) -> None:
    """`public_named` is no catch-all: a private key's, a publisher's key's name is none."""
    assert not public_named(name)


@pytest.mark.parametrize(
    "text",
    [
        f"public_signing_key={PUBLIC}",
        f"publicSigningKey: {PUBLIC}",
        f'{{"public_encryption_key": "{PUBLIC}"}}',
        f"[Peer]\nPublicKey = {PUBLIC}",
    ],
)
def test_a_public_key_under_a_secret_keys_words_stays_in_text(text: str) -> None:
    """`public` before a secret key's words (`signing_key`, `encryption_key`) says the key is
    public in text too, as `Redactor.value` reads the name."""
    assert Redactor().text(text) == text


@pytest.mark.parametrize(
    "text",
    ["is a credential: 202 and the body queued", "credential: 3", '{"credential": 1}'],
)
def test_a_count_under_a_singular_credential_stays(text: str) -> None:
    """A number of 6 digits at most after a bare `credential` is a count or a status, as
    after `credentials`: it stays, in prose, YAML and JSON."""
    assert Redactor().text(text) == text
