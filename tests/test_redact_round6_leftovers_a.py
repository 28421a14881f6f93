"""Redaction leftovers of round 6 (A): a JSON Web Key given as a JSON object, a bare OpenStack
Fernet token, a credentials file's location in a store, JFrog's API key header, EC2's
PasswordData and an env dump's bare SALT; with the near shapes that must stay beside each, and
each redaction a fixed point (redacted again, it is unchanged).
"""

from __future__ import annotations

import json
import random
import string
from typing import Any

import pytest

from factories import alert, view
from triage.redact import Redactor, redact
from triage.summarise import prompt

URL_SAFE = string.ascii_letters + string.digits + "-_"
BASE64 = string.ascii_letters + string.digits + "+/"
_RNG = random.Random(333)


def _random(count: int, alphabet: str) -> str:
    """`count` characters drawn from `alphabet` (seeded: the same every run)."""
    return "".join(_RNG.choices(alphabet, k=count))


def _blanked(text: str, secret: str) -> str:
    """`text` redacted, after checking no 8-character run of `secret` is left in it and that
    redacting it again changes nothing."""
    out = redact(text)
    assert not any(secret[i : i + 8] in out for i in range(len(secret) - 7)), out
    assert redact(out) == out
    return out


def _kept(text: str) -> None:
    """`text` is its own redaction."""
    assert redact(text) == text


# --- a JSON Web Key as a JSON object -------------------------------------------------------------

RSA_PRIVATE = {name: _random(86, URL_SAFE) for name in ("d", "p", "q", "dp", "dq", "qi")}
RSA_JWK = {"kty": "RSA", "kid": "signing-2026", "n": _random(342, URL_SAFE), "e": "AQAB"}
EC_JWK = {"kty": "EC", "crv": "P-256", "x": _random(43, URL_SAFE), "y": _random(43, URL_SAFE)}
EC_D = _random(43, URL_SAFE)
OCT_K = _random(43, URL_SAFE)


@pytest.mark.parametrize(
    ("jwk", "private"),
    [
        ({**RSA_JWK, **RSA_PRIVATE}, RSA_PRIVATE),
        ({**EC_JWK, "d": EC_D}, {"d": EC_D}),
        ({"kty": "oct", "alg": "HS256", "k": OCT_K}, {"k": OCT_K}),
    ],
    ids=["rsa", "ec", "oct"],
)
def test_a_jwk_object_in_a_payload_loses_its_private_members(
    jwk: dict[str, str], private: dict[str, str]
) -> None:
    """A JWK given as a JSON object (in a JWKS's `keys`) loses `d`, `p`, `q`, `dp`, `dq`, `qi`
    and an oct key's `k` through `Redactor.value`; its public members and its kid stay."""
    shown = Redactor().value({"jwks": {"keys": [jwk]}})
    key = shown["jwks"]["keys"][0]
    dumped = json.dumps(shown)
    for name, secret in private.items():
        assert secret not in dumped
        assert key[name].startswith("[REDACTED")
    for name, value in jwk.items():
        if name not in private:
            assert key[name] == value
    assert Redactor().value(shown) == shown


def test_a_member_named_like_a_jwk_private_one_outside_a_jwk_stays() -> None:
    """`d`, `k` and `p` of an object without `kty` (a diff's, a sort's) keep their values."""
    value = {"d": "2026-12-06", "k": "latency_ms", "p": "p99", "q": "orders"}
    assert Redactor().value({"stats": value}) == {"stats": value}


def test_a_jwk_object_in_the_raw_payload_reaches_neither_excerpt_nor_prompt() -> None:
    """The raw payload's excerpt the sinks show and the prompt the LLM is sent, both built from
    `Redactor.value` of the raw payload, hold no private member of a JWK object in it."""
    source = alert("jwks-rotation").model_copy(
        update={"raw": {"alert": "jwks-rotation", "key": {**RSA_JWK, **RSA_PRIVATE}}}
    )
    shown = view(source)
    sent = prompt.build(shown, Redactor(), 8000).user
    assert RSA_JWK["n"][:40] in shown.payload_excerpt  # the excerpt holds the key's public half
    for secret in RSA_PRIVATE.values():
        assert secret[:16] not in shown.payload_excerpt
        assert secret[:16] not in sent


# --- a bare OpenStack Fernet token ---------------------------------------------------------------

#: A Fernet token's shape: version 0x80 and a timestamp (`gAAAAAB…`), then its IV, ciphertext
#: and HMAC, as `openstack token issue -f value -c id` prints it (~180 characters).
FERNET = "gAAAAABnXyZ1" + _random(172, URL_SAFE)


@pytest.mark.parametrize(
    "text",
    [
        FERNET,
        f"{FERNET}\n",
        f"export OS_TOKEN={FERNET}",
        f"curl -H 'X-Subject-Token: {FERNET}' https://keystone:5000/v3/auth/tokens",
        f'{{"msg": "validated {FERNET} for project demo"}}',
        f"ciphertext={FERNET}==",
    ],
    ids=["alone", "line", "env", "header", "json-log", "padded"],
)
def test_a_bare_fernet_token_is_blanked(text: str) -> None:
    """A Fernet token (an OpenStack token printed alone, or any Fernet ciphertext) goes by its
    shape, with no `id` before it."""
    out = _blanked(text, FERNET)
    assert "[REDACTED:token]" in out


@pytest.mark.parametrize(
    "text",
    [
        "gAAAAAB-short",
        "gASVIAAAAAAAAACMCGJ1aWx0aW5zlIwFcHJpbnSUk5Qu" + "A" * 60,  # a pickle (0x80 0x05)
        "xgAAAAAB" + _random(100, URL_SAFE),  # inside a longer word
    ],
    ids=["short", "pickle", "inside-a-word"],
)
def test_text_shaped_almost_like_a_fernet_token_stays(text: str) -> None:
    """Too short, another version byte (a pickle's), or no word's start: no Fernet token."""
    _kept(text)


# --- a credentials file's location ---------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "creds: s3://bucket/creds.json",
        "CREDS=s3://ops-bucket/prod/creds.json",
        'credentials: "s3a://data-lake/etc/credentials.json"',
        "db_credentials: gs://ops-config/db/creds.yaml",
        "credentials: r2://backups/creds.json not found",
        "cred=hdfs://namenode:8020/user/etl/creds.jceks",
        "private_key: s3://keys-bucket/deploy/id_ed25519",
        "creds: /etc/creds/app.json",
        "GOOGLE_APPLICATION_CREDENTIALS=/var/secrets/google/key.json",
    ],
)
def test_a_credentials_files_location_under_a_credentials_name_stays(text: str) -> None:
    """Where the credentials are (a store's URL without user info, a path) under `creds`,
    `credentials` or a key's name is no secret: the operator needs it."""
    _kept(text)


@pytest.mark.parametrize(
    "value", ["s3://bucket/creds.json", "gs://b/creds.json", "file:///etc/creds.json"]
)
def test_a_credentials_files_location_as_a_json_value_stays(value: str) -> None:
    """The same location under a JSON key `creds` stays in `Redactor.value`."""
    assert Redactor().value({"creds": value, "credentials": value}) == {
        "creds": value,
        "credentials": value,
    }


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("creds: s3://AKIAIOSFODNN7EXAMPLE:wJalrXUtnFEMIK7MDENGbPx@bucket/x", "wJalrXUtnFEMIK7"),
        ("password: s3://bucket/creds.json", "bucket/creds.json"),
        ("creds: s3://bucket/wJalrXUtnFEMIK7MDENGbPxRfiCY", "wJalrXUtnFEMIK7MDENGbPxRfiCY"),
        ("creds: Xk9://bucket/creds.json", "Xk9://bucket"),
    ],
    ids=["user-info", "password-name", "random-path", "no-store-scheme"],
)
def test_a_secret_shaped_like_a_location_still_goes(text: str, secret: str) -> None:
    """A store URL's user info, a password's name (which never names a location), a
    random-looking object name and a scheme that names no store are no location kept."""
    _blanked(text, secret)


# --- JFrog's header, EC2's PasswordData, a bare SALT ---------------------------------------------

JFROG_KEY = "plainkey" + _random(24, string.ascii_lowercase + string.digits)
PASSWORD_DATA = _random(340, BASE64) + "=="


@pytest.mark.parametrize(
    "text",
    [
        f"X-JFrog-Art-Api: {JFROG_KEY}",
        f"curl -sf -H 'X-JFrog-Art-Api:{JFROG_KEY}' https://acme.jfrog.io/artifactory/api/repos",
        f'{{"headers": {{"X-JFrog-Art-Api": "{JFROG_KEY}"}}}}',
        f'"request": "GET /api/repos\\nX-JFrog-Art-Api: {JFROG_KEY}\\n"',
    ],
    ids=["header", "curl", "json", "escaped-lines"],
)
def test_any_value_of_jfrogs_api_key_header_is_blanked(text: str) -> None:
    """`X-JFrog-Art-Api` carries an Artifactory API key whatever its shape (not only an
    `AKCp…` one)."""
    _blanked(text, JFROG_KEY)


@pytest.mark.parametrize(
    "payload",
    [
        {"headers": {"X-JFrog-Art-Api": JFROG_KEY}},
        {"headers": [["X-JFrog-Art-Api", JFROG_KEY]]},
        {"headers": [{"name": "X-JFrog-Art-Api", "value": JFROG_KEY}]},
    ],
    ids=["key", "pair", "name-value"],
)
def test_jfrogs_api_key_header_as_a_json_value_is_blanked(payload: dict[str, Any]) -> None:
    """The header's value goes as a JSON key's, a [name, value] pair's and a name/value
    object's value too."""
    assert JFROG_KEY not in json.dumps(Redactor().value(payload))


@pytest.mark.parametrize(
    "text",
    [
        json.dumps(
            {
                "InstanceId": "i-0123456789abcdef0",
                "PasswordData": f"\r\n{PASSWORD_DATA}\r\n",
                "Timestamp": "2026-12-06T11:00:00+00:00",
            },
            indent=4,
        ),
        f"PasswordData: {PASSWORD_DATA}",
        f"i-0123456789abcdef0\tPasswordData={PASSWORD_DATA}",
    ],
    ids=["cli-json", "yaml", "text"],
)
def test_ec2s_password_data_is_blanked(text: str) -> None:
    """`aws ec2 get-password-data`'s `PasswordData` (the Windows administrator's password,
    encrypted to the key pair) goes in each output format; the instance id stays."""
    out = _blanked(text, PASSWORD_DATA)
    assert out.count("i-0123456789abcdef0") == text.count("i-0123456789abcdef0")


def test_ec2s_password_data_as_a_json_value_is_blanked() -> None:
    """The same through `Redactor.value`, the payload's path."""
    shown = Redactor().value({"InstanceId": "i-0123456789abcdef0", "PasswordData": PASSWORD_DATA})
    assert shown == {"InstanceId": "i-0123456789abcdef0", "PasswordData": "[REDACTED:password]"}


SALT = _random(32, string.ascii_letters + string.digits)


@pytest.mark.parametrize(
    "text",
    [
        f"HOME=/app\nSALT={SALT}\nPORT=8080",
        f'{{"SALT": "{SALT}", "PORT": "8080"}}',
        f"export SALT='{SALT}'",
        f"PEPPER={SALT}",
    ],
    ids=["env", "json", "export", "pepper"],
)
def test_a_bare_salt_or_pepper_in_an_env_dump_is_blanked(text: str) -> None:
    """An application's `SALT` (hashids', a framework's: it signs or keys, like WordPress's
    `NONCE_SALT`) and `PEPPER`, named alone in an environment, go."""
    _blanked(text, SALT)


def test_a_bare_salt_as_a_json_value_is_blanked() -> None:
    """`SALT` as a JSON key blanks its value in `Redactor.value` too."""
    assert Redactor().value({"SALT": SALT}) == {"SALT": "[REDACTED:password]"}


@pytest.mark.parametrize(
    "text",
    [
        "salt: minion-01",
        "salt '*' test.ping",
        "SALT minion restarted on web-01",
        '{"salt": "ab12cd34", "hash": "[REDACTED:password-hash]"}',
    ],
    ids=["saltstack-yaml", "saltstack-command", "prose", "hash-record"],
)
def test_salt_in_lower_case_or_prose_stays(text: str) -> None:
    """SaltStack's `salt` and a lower-case `salt` beside a hash (public beside it) stay: only an
    upper-case `SALT` assigned is an environment's secret."""
    _kept(text)
