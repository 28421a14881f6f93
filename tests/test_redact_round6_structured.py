"""Redaction of secrets in structured text (round 6): a cloud CLI's aligned output and table
rows, a JSON Web Key's private members, .NET's XML RSA key, minisign's and signify's secret key
files and bash's ANSI-C quotes; with the near shapes that must stay beside each, and each
redaction a fixed point (redacted again, it is unchanged).
"""

from __future__ import annotations

import json

import pytest

from triage.redact import redact

UUID = "8c1d2e3f-1a2b-4c3d-a4e5-0123456789ab"
SECRET = "Zq7xK9pLm3Nw2Rt5Yv8Bc1Df4Gh6Jk0Lo3Pq5St7Uv9"
FERNET = "gAAAAABnXyZ1aB2cD3eF4gH5iJ6kL7mN8oP9qR0sT1uV2wX3yZ4aB5cD6eF7gH8iJ9kL0mN1oP2qR3sT4uV5w" * 2


def _blanked(text: str, secret: str) -> str:
    """`text` redacted, after checking no 8-character run of `secret` is left in it and that
    redacting it again changes nothing."""
    out = redact(text)
    assert not any(secret[i : i + 8] in out for i in range(len(secret) - 7)), out
    assert redact(out) == out
    return out


# --- a cloud CLI's output -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        f"Accessor ID  = 3f1c2b4a-0000-4000-8000-000000000001\nSecret ID    = {UUID}\n",
        f"Secret Access Key = {SECRET}",
        f'{{"log": "Name = ci\\nSecret ID    = {UUID}\\nType = client"}}',
    ],
    ids=["nomad", "title-case-label", "inside-a-json-string"],
)
def test_a_title_case_label_naming_a_secret_loses_its_value(text: str) -> None:
    """A label of title-case words at a line's start that names a secret (Nomad's `Secret ID
    = …`) loses the value after its `=` or `:`, raw or inside a JSON string."""
    secret = UUID if UUID in text else SECRET
    out = _blanked(text, secret)
    assert "[REDACTED:password]" in out


def test_title_case_labels_that_name_no_secret_stay() -> None:
    """Nomad's `Accessor ID`, `Name` and a `Token Type`, and prose in lower case after a
    label's first word, keep their values."""
    text = (
        "Accessor ID  = 3f1c2b4a-0000-4000-8000-000000000001\nName         = Bootstrap Token\n"
        "Token Type   = management\nPassword Last Set = 2026-12-01\n"
    )
    assert redact(text) == text


@pytest.mark.parametrize(
    "text",
    [
        f"| id         | {FERNET} |",
        f'{{"expires": "2026-12-06T12:00:00+0000", "id": "{FERNET}"}}',
        f"id: {FERNET}",
        f'id="{FERNET}"',
    ],
    ids=["table", "json", "yaml", "shell"],
)
def test_an_openstack_token_under_its_id_is_blanked(text: str) -> None:
    """`openstack token issue`'s `id` in each output format (table, json, yaml, shell) loses
    its Fernet token."""
    _blanked(text, FERNET)


def test_an_id_that_is_no_fernet_token_stays() -> None:
    """A project's id and a base64 id not of a Fernet token's shape stay under `id`."""
    text = "| id         | 36888a9a441c934e309436ac51fa9013 |\nid: gAAAAB-short\nid: gAIuserdata"
    assert redact(text) == text


# --- JSON Web Keys ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "jwk",
    [
        {"kty": "EC", "crv": "P-256", "x": "x" * 43, "y": "y" * 43, "d": SECRET},
        {"crv": "Ed25519", "d": SECRET, "kty": "OKP", "x": "x" * 43},
        {"kty": "oct", "k": SECRET, "alg": "HS256"},
        {"kty": "RSA", "n": "n" * 342, "e": "AQAB", "d": SECRET, "p": SECRET[::-1]},
    ],
    ids=["ec", "okp-sorted-keys", "oct", "rsa"],
)
def test_a_jwks_private_members_are_blanked(jwk: dict[str, str]) -> None:
    """A JWK's private members (`d`, RSA's primes, oct's `k`) go, whatever the members' order;
    its public ones (`x`, `n`, `e`, `kty`) stay."""
    out = _blanked(f"failed to load key {json.dumps(jwk)}", SECRET)
    _blanked(out, SECRET[::-1])
    assert '"kty": ' in out and "AQAB" in out if "e" in jwk else '"kty": ' in out
    for public in ("x", "n"):
        if public in jwk:
            assert jwk[public] in out


def test_a_jwk_inside_a_json_string_and_as_a_python_dict_is_blanked() -> None:
    """A JWK quoted in a JSON string (`\\"d\\": \\"…\\"`) and as a Python dict's repr
    (`'d': '…'`) loses its private member."""
    escaped = json.dumps({"msg": json.dumps({"kty": "EC", "d": SECRET})})
    _blanked(escaped, SECRET)
    _blanked(f"key={ {'kty': 'OKP', 'd': SECRET}!r}", SECRET)


def test_a_d_or_k_member_outside_a_jwk_stays() -> None:
    """An object without `kty` keeps its `d` and `k` (a diff's `d`, a sort's `k`); a JWKS's
    public keys keep every member."""
    text = (
        '{"d": "2026-12-06", "k": "created_at"} {"keys": [{"kty": "RSA", "n": "abc", "e": "AQAB"}]}'
    )
    assert redact(text) == text


# --- .NET's XML RSA key -------------------------------------------------------------------------


def test_an_xml_rsa_keys_private_elements_are_blanked() -> None:
    """`RSA.ToXmlString(true)`'s D, P, Q, DP, DQ and InverseQ go, pretty-printed or not; its
    Modulus and Exponent stay."""
    private = {tag: f"{SECRET}{tag}" for tag in ("P", "Q", "DP", "DQ", "InverseQ", "D")}
    body = "".join(f"<{tag}>{value}</{tag}>\n  " for tag, value in private.items())
    key = f"<RSAKeyValue>\n  <Modulus>MODULUS</Modulus><Exponent>AQAB</Exponent>\n  {body}</RSAKeyValue>"
    out = redact(f"signing key rejected: {key}")
    assert redact(out) == out
    assert SECRET[:8] not in out
    assert "<Modulus>MODULUS</Modulus><Exponent>AQAB</Exponent>" in out
    assert "<InverseQ>[REDACTED:private-key]</InverseQ>" in out


def test_a_d_element_outside_an_rsa_key_stays() -> None:
    """A `<D>` or `<P>` element outside `<RSAKeyValue>` (a paragraph, a drive letter) stays;
    so does an RSA public key's XML."""
    text = "<P>rotation done</P><D>C:</D> <RSAKeyValue><Modulus>abc</Modulus><Exponent>AQAB</Exponent></RSAKeyValue>"
    assert redact(text) == text


# --- minisign and signify -----------------------------------------------------------------------

MINISIGN = "RWRTY0Iy" + SECRET * 3 + "+/" + SECRET
SIGNIFY = "RWRCSwAAAAA" + SECRET * 2 + "/+="


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        (f"untrusted comment: minisign encrypted secret key\n{MINISIGN}\n", MINISIGN),
        (f"untrusted comment: signify secret key\r\n{SIGNIFY}", SIGNIFY),
        (json.dumps({"out": f"untrusted comment: rsign secret key\n{MINISIGN}"}), MINISIGN),
        (f"MINISIGN_KEY file holds {MINISIGN} (pasted alone)", MINISIGN),
    ],
    ids=["minisign", "signify", "in-a-json-string", "no-comment-line"],
)
def test_a_minisign_or_signify_secret_key_is_blanked(text: str, secret: str) -> None:
    """A minisign or signify secret key file's key line goes, after its comment line (raw or
    inside a JSON string) or known alone by its first bytes."""
    out = _blanked(text, secret)
    assert "[REDACTED:private-key]" in out


def test_a_minisign_public_key_stays() -> None:
    """A public key file (its comment says public key, its key starts otherwise) stays: it is
    what verifiers are given."""
    text = "untrusted comment: minisign public key 3C5EB1F2A9E4D1B7\nRWS3XrHyqeTRt1X5kYfQ8rqN0h2p1hXq8oYbZ2VxQ1b2xw3Tc4Ny5fjU"
    assert redact(text) == text


# --- bash's ANSI-C quotes -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("export DB_PASSWORD=$'Xk7pL2mR9tQwE4rT'", "export DB_PASSWORD=$'[REDACTED:password]'"),
        (
            "declare -x API_TOKEN=$'a\\'b\\nXk7pL2mR9tQwE4rT'",
            "declare -x API_TOKEN=$'[REDACTED:password]'",
        ),
        ("password=$'Xk7pL2mR9tQwE4rT' host=db", "password=$'[REDACTED:password]' host=db"),
    ],
    ids=["export", "escapes-inside", "more-after"],
)
def test_a_secret_in_ansi_c_quotes_is_blanked_whole(line: str, expected: str) -> None:
    """`X=$'…'` (what `set -x` and `export -p` print) loses the value inside the quotes, its
    escaped quotes and all, and keeps `$'` and `'`, so the line still reads as bash's."""
    assert redact(line) == expected
    assert redact(expected) == expected


def test_an_ansi_c_quoted_value_of_no_secret_stays() -> None:
    """A variable that names no secret keeps its ANSI-C quoted value."""
    text = "export IFS=$'\\n\\t' PS1=$'\\u@\\h '"
    assert redact(text) == text


def test_a_remark_where_a_labels_value_would_be_stays() -> None:
    """A tool's remark in parentheses after a label naming a secret (Vault's `Unseal Key 1:
    (redacted by policy)`) stays: it says why no value is shown."""
    text = "Unseal Key 1: (redacted by policy)\nSecret ID    = (sensitive value)"
    assert redact(text) == text
