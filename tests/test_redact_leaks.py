"""Secrets by their place in a known file format (.pgpass, .netrc, htpasswd, docker's config,
PHP's define), by a name glued to what it is for (`dbpass`, `smtpPass`), by words that name
one-time codes and sessions (`otp`, `pin`, `recovery_code`, `session_id`); and code that only
names a secret (`if token:`, `token: str`, `password == ''`) keeps its text.

Each row leaked (or, in `KEEP_CODE`, was redacted) before its rule was written.
"""

from __future__ import annotations

import json

import pytest

from triage.redact import DEFAULT, redact, secret_named

#: A password a person chose: nothing a shape rule knows.
PW = "opal-kettle-42"

LEAKS = [
    # .pgpass: host:port:database:user:password, the password to the line's end (`\:` inside).
    (f"db01.internal:5432:orders:app:{PW}", "db01.internal:5432:orders:app:[REDACTED:password]"),
    (f"*:*:*:postgres:{PW} x", "*:*:*:postgres:[REDACTED:password]"),
    ("localhost:5432:*:admin:pa\\:ss-42", "localhost:5432:*:admin:[REDACTED:password]"),
    (
        f"  [::1]:5432:app:app:{PW}\nnext line",
        "  [::1]:5432:app:app:[REDACTED:password]\nnext line",
    ),
    (
        f'{{"msg": "cat .pgpass\\ndb:5432:app:u:{PW}\\ndone"}}',
        '{"msg": "cat .pgpass\\ndb:5432:app:u:[REDACTED:password]\\ndone"}',
    ),
    # htpasswd and LDAP's salted SHA; Django's PBKDF2 hash.
    ("admin:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=", "admin:[REDACTED:password-hash]"),
    (
        "userPassword: {SSHA}DkMTwBl+a/3DQTxCYEApdUtNXGgdUac3",
        "userPassword: [REDACTED:password-hash]",
    ),
    (
        "pbkdf2_sha256$600000$k3vV2dQm9ZpR$Xw0b1c2d3e4f5g6h7i8j9k0lMnOpQrStUvWxYz012345=",
        "[REDACTED:password-hash]",
    ),
    # .netrc's password in quotes, spaces and all.
    (
        'machine h.example.com login deploy password "opal kettle 42"',
        'machine h.example.com login deploy password "[REDACTED:password]"',
    ),
    # docker's config.json: a registry's identity token.
    ('{"identitytoken": "opal-kettle-42"}', '{"identitytoken": "[REDACTED:password]"}'),
    ('"registrytoken": "opal-kettle-42"', '"registrytoken": "[REDACTED:password]"'),
    # PHP's define() with spaces inside its brackets (WordPress's style), and its salts.
    (f"define( 'DB_PASSWORD', '{PW}' );", "define( 'DB_PASSWORD', '[REDACTED:password]' );"),
    (f'define( "AUTH_KEY", "{PW}" );', 'define( "AUTH_KEY", "[REDACTED:password]" );'),
    (f"define('NONCE_SALT', '{PW}');", "define('NONCE_SALT', '[REDACTED:password]');"),
    (f"define( 'LOGGED_IN_KEY', '{PW}' );", "define( 'LOGGED_IN_KEY', '[REDACTED:password]' );"),
    # A name glued to what it is for, any case; camel case.
    (f"dbpass={PW}", "dbpass=[REDACTED:password]"),
    (f"rootpass={PW}", "rootpass=[REDACTED:password]"),
    (f"adminpwd={PW}", "adminpwd=[REDACTED:password]"),
    (f"DBPASS={PW}", "DBPASS=[REDACTED:password]"),
    (f"ROOTPWD={PW}", "ROOTPWD=[REDACTED:password]"),
    (f"dbpwd: {PW}", "dbpwd: [REDACTED:password]"),
    (f"userpw={PW}", "userpw=[REDACTED:password]"),
    (f"mysqlrootpass={PW}", "mysqlrootpass=[REDACTED:password]"),
    (f"smtpPass={PW}", "smtpPass=[REDACTED:password]"),
    (f'"smtpPass": "{PW}"', '"smtpPass": "[REDACTED:password]"'),
    (f"adminPwd={PW}", "adminPwd=[REDACTED:password]"),
    (f"apitoken={PW}", "apitoken=[REDACTED:password]"),
    (f"clientsecret={PW}", "clientsecret=[REDACTED:password]"),
    # One-time codes, PINs, MFA seeds, recovery codes, session ids.
    ("otp=482913", "otp=[REDACTED:password]"),
    ("OTP: 482913", "OTP: [REDACTED:password]"),
    ("sms_otp=482913", "sms_otp=[REDACTED:password]"),
    ('{"otp": "482913"}', '{"otp": "[REDACTED:password]"}'),
    ("otp_code=482913", "otp_code=[REDACTED:password]"),
    ("pin=4829", "pin=[REDACTED:password]"),
    ("PIN: 4829", "PIN: [REDACTED:password]"),
    ("user_pin=4829", "user_pin=[REDACTED:password]"),
    ('card_pin: "4829"', 'card_pin: "[REDACTED:password]"'),
    ("pin_code=4829", "pin_code=[REDACTED:password]"),
    ("totp_seed=JBSWY3DPEHPK3PXP", "totp_seed=[REDACTED:password]"),
    ("mfa_seed: JBSWY3DPEHPK3PXP", "mfa_seed: [REDACTED:password]"),
    ("recovery_code=abcd-efgh-1234", "recovery_code=[REDACTED:password]"),
    ("recovery_codes: abcd-efgh", "recovery_codes: [REDACTED:password]"),
    ("backup_codes=12345678", "backup_codes=[REDACTED:password]"),
    ("mfa_code=482913", "mfa_code=[REDACTED:password]"),
    ("verification_code=482913", "verification_code=[REDACTED:password]"),
    ("session_id=8f3a9c2e11", "session_id=[REDACTED:password]"),
    ("sessionid=8f3a9c2e11", "sessionid=[REDACTED:password]"),
    ("SESSION_ID: 8f3a9c2e11", "SESSION_ID: [REDACTED:password]"),
    ("sessionId=8f3a9c2e11", "sessionId=[REDACTED:password]"),
    # A typed declaration's literal (Python, Kotlin, TypeScript): the type stays, the value goes.
    (f'password: str = "{PW}"', 'password: str = "[REDACTED:password]"'),
    (f'    api_key: str | None = "{PW}"', '    api_key: str | None = "[REDACTED:password]"'),
    (f'val password: String = "{PW}"', 'val password: String = "[REDACTED:password]"'),
    (f"const token: string = '{PW}';", "const token: string = '[REDACTED:password]';"),
    # A value on the next line after a name that heads its line (YAML) still goes.
    (f"password:\n  {PW}\n", "password:\n  [REDACTED:password]\n"),
]


@pytest.mark.parametrize(("text", "expected"), LEAKS, ids=[c[0][:40] for c in LEAKS])
def test_secret_in_its_place_is_redacted(text: str, expected: str) -> None:
    """The secret goes, and everything around it (names, types, quotes) stays."""
    assert redact(text) == expected


@pytest.mark.parametrize(("text", "expected"), LEAKS, ids=[c[0][:40] for c in LEAKS])
def test_redacted_leak_redacts_to_itself(text: str, expected: str) -> None:
    """A placeholder these rules wrote is not read as a secret again."""
    assert redact(expected) == expected


#: Code and prose that name a secret without holding one: a condition, a type, a comparison,
#: a variable passed on, a call; and words that hold `pin` or `otp` without being one.
KEEP_CODE = [
    "if token:\n    return x",
    "if not password:\n    raise ValueError(x)",
    "for token in tokens:\n    yield token",
    "token: str",
    "password: Optional[str] = None",
    "api_key: str | None = None",
    "def f(password: str, token: Optional[str] = None):",
    "password: bool = False",
    "token: Final[str]",
    "password: typing.Optional[str]",
    "    password: SecretStr",
    "token: string;",
    "password == ''",
    'if password == "":',
    "token === undefined",
    "self.password = password",
    "password=password, token=self.token",
    "password = get_password()",
    "client = Client(password=args.password, token=settings.api_token)",
    "spinning pinned pin_count=3 otpauth shopping",
    "pin: 3 cores",
    "cpu_pin: 0-3 pin=unpinned",
    "pinned=true otp_enabled=true pin_code_length=6",
    "the otp was wrong; the pin is locked",
    "session_count=4 session_timeout=30",
]


@pytest.mark.parametrize("text", KEEP_CODE)
def test_code_that_names_a_secret_is_kept(text: str) -> None:
    """A keyword, a type, a comparison or a reference after a secret's name is no secret."""
    assert redact(text) == text


@pytest.mark.parametrize(
    "key",
    ["dbpass", "ROOTPWD", "smtpPass", "otp", "user_pin", "totp_seed", "recovery_codes"],
)
def test_new_names_blank_a_json_value(key: str) -> None:
    """`Redactor.value` blanks the value of a key the text rules now know, as text does."""
    assert secret_named(key)
    assert DEFAULT.value({key: "4829-0042"}) == {key: "[REDACTED:password]"}


def test_a_pin_that_is_no_code_keeps_its_json_value() -> None:
    """Under `pin`, a value that is no code (a CPU list, a word) stays in a JSON payload too."""
    payload = {"pin": "3 cores", "cpu_pin": "0-3", "otp": "disabled"}
    assert DEFAULT.value(payload) == payload
    assert json.loads(redact(json.dumps(payload))) == payload
