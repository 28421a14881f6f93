"""Round 6's names and web text: key material by its role (`kek`, `dek`, `jwt_key`, `mac_key`,
`pepper`, a wallet's seed and recovery phrase), a framework's session cookie as a JSON member
or a cookie object, one-time credentials in a query (`access_code=`, CAS `ticket=ST-…`,
`oauth_verifier=`, `magic_link=`), a token in `Sec-WebSocket-Protocol`; and what stays: a
.NET `PublicKeyToken`, an authorization decision told in words, a random seed, an issue's key.
Each output is a fixed point: redacting it again changes nothing.
"""

from __future__ import annotations

import pytest

from triage.redact import Redactor, redact

PASSWORD = "Xk7pL2mR9tQwE4rT"
TOKEN = "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY"
P = "[REDACTED:password]"
C = "[REDACTED:cookie]"
T = "[REDACTED:token]"


def _redacted_once(text: str) -> str:
    """`text` redacted, checked to be a fixed point (a second pass changes nothing)."""
    once = redact(text)
    assert redact(once) == once
    return once


KEY_MATERIAL = [
    (f"kek={PASSWORD}", f"kek={P}"),
    (f"KMS_KEK={PASSWORD}", f"KMS_KEK={P}"),
    (f'{{"dek": "{PASSWORD}"}}', f'{{"dek": "{P}"}}'),
    (f"jwt_key: {PASSWORD}", f"jwt_key: {P}"),
    (f"jwtKey={PASSWORD}", f"jwtKey={P}"),
    (f"mac_key={PASSWORD}", f"mac_key={P}"),
    (f"PASSWORD_PEPPER={PASSWORD}", f"PASSWORD_PEPPER={P}"),
    (f"wallet_seed={PASSWORD}", f"wallet_seed={P}"),
    (f"walletSeed={PASSWORD}", f"walletSeed={P}"),
    (f"hd_seed={PASSWORD}", f"hd_seed={P}"),
    ("recovery_phrase: abandon ability able about", f"recovery_phrase: {P}"),
]


@pytest.mark.parametrize(("text", "expected"), KEY_MATERIAL)
def test_key_material_by_its_role_is_blanked(text: str, expected: str) -> None:
    """A key-encryption or data key, a JWT's or MAC's key, a pepper, a wallet's seed or recovery
    phrase goes under its usual names."""
    assert _redacted_once(text) == expected


KEY_MATERIAL_NEAR_MISSES = [
    "random_seed=42",
    "seed=1234",
    "shuffle_seed=abc",
    f"mackey={PASSWORD}",
    f"kekw={PASSWORD}",
    f"codek={PASSWORD}",
    f"mac_address={PASSWORD}",
    "jwt_key_id=kid-2024",
    "jwt_key: /etc/keys/jwt.pem",
    "pepper_version=3",
    "dek_id=abc-123",
    "kek: rotated",
    "access_code_count=3",
]


@pytest.mark.parametrize("text", KEY_MATERIAL_NEAR_MISSES)
def test_names_near_key_material_keep_their_values(text: str) -> None:
    """A random seed, a glued or longer word holding one of the names, a key's id, path or
    version and a state word stay."""
    assert redact(text) == text


def test_key_material_under_a_json_key_is_blanked() -> None:
    """A JSON key `dek`, `wallet_seed` or `access_code` blanks its value; `random_seed` keeps its."""
    value = Redactor().value(
        {"dek": PASSWORD, "wallet_seed": "abandon ability able", "access_code": "Xk7pL2mR9"}
        | {"random_seed": "12345"}
    )
    assert value == {"dek": P, "wallet_seed": P, "access_code": P, "random_seed": "12345"}


SESSION_COOKIES = [
    (f'{{"PHPSESSID": "{PASSWORD}"}}', f'{{"PHPSESSID": "{C}"}}'),
    (f'{{"connect.sid": "s%3A{PASSWORD}.sig"}}', f'{{"connect.sid": "{C}"}}'),
    ("{'JSESSIONID': '0123456789ABCDEF'}", f"{{'JSESSIONID': '{C}'}}"),
    ('{"m": "{\\"laravel_session\\": \\"a1b2c3d4e5\\"}"}', f'{{"m": "{{\\"laravel_session\\": \\"{C}\\"}}"}}'),
    (
        '{"cookies": [{"name": "JSESSIONID", "value": "A1B2C3D4E5F6", "domain": "x"}]}',
        f'{{"cookies": [{{"name": "JSESSIONID", "value": "{C}", "domain": "x"}}]}}',
    ),
    (
        "{'domain': 'x', 'name': 'PHPSESSID', 'path': '/', 'secure': False, 'value': 'a1b2c3d4e5f6'}",
        f"{{'domain': 'x', 'name': 'PHPSESSID', 'path': '/', 'secure': False, 'value': '{C}'}}",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("text", "expected"), SESSION_COOKIES)
def test_a_session_cookie_in_a_json_cookie_jar_is_blanked(text: str, expected: str) -> None:
    """A framework's session cookie as a JSON member, a dict's item (also inside a JSON string)
    or a cookie object (Playwright's, Selenium's) loses its value."""
    assert _redacted_once(text) == expected


SESSION_COOKIE_NEAR_MISSES = [
    '{"PHPSESSID": "deleted"}',
    '{"JSESSIONID": "abc1"}',
    '{"name": "PHPSESSID", "value": "deleted"}',
    '[{"name": "PHPSESSID", "value": "x"}, {"name": "theme", "value": "A1B2C3D4E5F6G7"}]',
]


@pytest.mark.parametrize("text", SESSION_COOKIE_NEAR_MISSES)
def test_a_deleted_or_short_cookie_and_a_neighbours_value_stay(text: str) -> None:
    """A cookie being deleted, an id too short to be one, and another cookie object's value
    stay."""
    assert redact(text) == text


def test_a_session_cookie_as_a_json_key_is_blanked() -> None:
    """A JSON key `PHPSESSID` or `connect.sid` blanks a session's id, not the word `deleted`."""
    value = Redactor().value({"PHPSESSID": PASSWORD, "connect.sid": "s%3Aab12cd34.x"})
    assert value == {"PHPSESSID": P, "connect.sid": P}
    assert Redactor().value({"PHPSESSID": "deleted"}) == {"PHPSESSID": "deleted"}


ONE_TIME = [
    (f"GET /oauth/exchange?access_code={TOKEN}", f"GET /oauth/exchange?access_code={P}"),
    (
        f"GET /cas/serviceValidate?service=https%3A%2F%2Fapp&ticket=ST-1-{TOKEN}-cas01",
        f"GET /cas/serviceValidate?service=https%3A%2F%2Fapp&ticket=ST-{T}",
    ),
    ("GET /proxy?pgtIou=PGTIOU-1-abcdef123456", f"GET /proxy?pgtIou=PGTIOU-{T}"),
    (f"GET /cb?oauth_token=x&oauth_verifier={TOKEN}", f"GET /cb?oauth_token={P}&oauth_verifier={P}"),
    (f"GET /login?magic_link={TOKEN} 302", f"GET /login?magic_link={P} 302"),
    (f"magic_link={TOKEN}&next=/home", f"magic_link={P}&next=/home"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "expected"), ONE_TIME)
def test_a_one_time_credential_in_a_query_is_blanked(text: str, expected: str) -> None:
    """An OAuth access code, a CAS ticket (its kind's prefix kept), an OAuth 1 verifier and a
    magic link's token go from a URL's query and a form body."""
    assert _redacted_once(text) == expected


ONE_TIME_NEAR_MISSES = [
    "GET /tickets?ticket=ST-1234 HTTP/1.1",
    "GET /tickets?ticket=OPS-42-fix",
    "GET /tickets?ticket=st-louis-office-2",
    "GET /settings?magic_link=true",
    "GET /cb?oauth_verifier=1234567",
]


@pytest.mark.parametrize("text", ONE_TIME_NEAR_MISSES)
def test_an_issue_key_or_a_setting_in_a_query_stays(text: str) -> None:
    """An issue's key under `ticket=`, a setting and a short value stay."""
    assert redact(text) == text


K8S_TOKEN = "YWJjZGVmLjAxMjM0NTY3ODlhYmNkZWY"
WEBSOCKET = [
    (
        f"Sec-WebSocket-Protocol: base64url.bearer.authorization.k8s.io.{K8S_TOKEN}, v5.channel.k8s.io",
        f"Sec-WebSocket-Protocol: base64url.bearer.authorization.k8s.io.{T}, v5.channel.k8s.io",
    ),
    (f"Sec-WebSocket-Protocol: access_token, {TOKEN}", f"Sec-WebSocket-Protocol: access_token, {T}"),
    (
        f'{{"Sec-WebSocket-Protocol": "graphql-ws, {TOKEN}"}}',
        f'{{"Sec-WebSocket-Protocol": "graphql-ws, {T}"}}',
    ),
    (
        '"Sec-WebSocket-Protocol: bearer, abcdefghij\\nHost: x"',
        f'"Sec-WebSocket-Protocol: bearer, {T}\\nHost: x"',
    ),
]  # fmt: skip


@pytest.mark.parametrize(("text", "expected"), WEBSOCKET)
def test_a_token_in_a_websocket_subprotocol_is_blanked(text: str, expected: str) -> None:
    """Kubernetes' bearer subprotocol, a token after `access_token` or `bearer`, and a
    token-shaped item lose the token; the protocols' names stay."""
    assert _redacted_once(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Sec-WebSocket-Protocol: v5.channel.k8s.io, v4.channel.k8s.io",
        "sec-websocket-protocol: wamp.2.json, mqtt, graphql-transport-ws",
    ],
)
def test_websocket_protocol_names_stay(text: str) -> None:
    """A subprotocol list of protocols' names is kept whole."""
    assert redact(text) == text


@pytest.mark.parametrize(
    "text",
    [
        "Could not load assembly 'Newtonsoft.Json, Culture=neutral, PublicKeyToken=30ad4fe6b2a6aeed'",
        "publicKeyToken: b77a5c561934e089",
        "PublicKeyToken=null",
    ],
)
def test_a_public_key_token_stays(text: str) -> None:
    """A .NET assembly's public key token is public: it names which build failed to load."""
    assert redact(text) == text
    assert Redactor().value({"PublicKeyToken": "b77a5c561934e089"}) == {
        "PublicKeyToken": "b77a5c561934e089"
    }


@pytest.mark.parametrize(
    "text",
    [
        "authorization: denied for user alice on resource orders",
        "Authorization: Denied for user Alice on resource orders.",
        "authz check: authorization: required for this endpoint",
    ],
)
def test_an_authorization_decision_in_words_stays(text: str) -> None:
    """What follows `authorization:` as a sentence, its first word no scheme, is a decision."""
    assert redact(text) == text


AUTHORIZATION_HEADERS = [
    ("Authorization: Token abc def ghi", "Authorization: Token [REDACTED:authorization]"),
    ("authorization: Bearer for the win now", "authorization: Bearer [REDACTED:authorization]"),
    ("authorization: hunter2 for the win", "authorization: [REDACTED:authorization]"),
    (
        'Authorization: Digest username="bob", realm="x", response="abc"',
        "Authorization: Digest [REDACTED:authorization]",
    ),
]


@pytest.mark.parametrize(("text", "expected"), AUTHORIZATION_HEADERS)
def test_a_header_after_a_scheme_or_with_a_credential_still_goes(text: str, expected: str) -> None:
    """After a known scheme even words are the credential, and a value holding a digit or a
    parameter is no sentence."""
    assert _redacted_once(text) == expected
