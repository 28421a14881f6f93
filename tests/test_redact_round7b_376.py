"""Round 7b secrets fixes (helper 376): SSSD's authtok, a secret's name with an encoding, redis-py's
and Jedis' positional password, JAAS `user_<name>` options, loguru's annotated values; each
with the neighbours that must stay."""

from __future__ import annotations

import pytest

from triage.redact import Redactor

PASSWORD = "Xk7pL2mR9tQwE4rT"
P = "[REDACTED:password]"


def _text(text: str) -> str:
    """`text` as the redactor writes it."""
    return Redactor().text(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"ldap_default_authtok = {PASSWORD}", f"ldap_default_authtok = {P}"),
        (f"AUTHTOK={PASSWORD}", f"AUTHTOK={P}"),
        ("ldap_default_authtok_type = obfuscated_password",) * 2,
        ("authtok_type = password",) * 2,
    ],
)
def test_an_authentication_token_goes_and_its_type_stays(text: str, expected: str) -> None:
    """PAM's and SSSD's `authtok` is a password whatever its prefix; `_authtok_type` says only
    how it is stored, and stays."""
    assert _text(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"secret_hex={PASSWORD.encode().hex()}", f"secret_hex={P}"),
        (f"password.hex={PASSWORD.encode().hex()}", f"password.hex={P}"),
        ("PASSWORD_B32=LBVTO4CMGJWVEOLUKF3UKNCSKQ", f"PASSWORD_B32={P}"),
        ("api_key_base58=3yZe7d8fQ2kLmN9p", f"api_key_base58={P}"),
        ("token_b64url=eyJhYmMiOiIxMjMifQ_x", f"token_b64url={P}"),
        ("secret_hex_length=32",) * 2,
        ("hex_digest=abcdef1234abcdef",) * 2,
    ],
)
def test_a_secrets_name_with_its_encoding_names_the_secret(text: str, expected: str) -> None:
    """A secret's name followed by an encoding (hex, base32, base58, base64url) names the same
    secret in another spelling; a name that goes on past the encoding (`_length`) does not."""
    assert _text(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            f'aioredis.Redis("cache", 6379, 0, "{PASSWORD}", ssl=True)',
            f'aioredis.Redis("cache", 6379, 0, "{P}", ssl=True)',
        ),
        (
            f'new JedisPool(config, "cache", 6379, 2000, "{PASSWORD}")',
            f'new JedisPool(config, "cache", 6379, 2000, "{P}")',
        ),
        ('redis.Redis("cache", 6379, 0)',) * 2,
        ('redis.Redis("cache", 6379, 0, password)',) * 2,
        ('StrictRedis("cache", 6379, 0, None)',) * 2,
    ],
)
def test_a_redis_clients_password_by_its_place_goes(text: str, expected: str) -> None:
    """redis-py's fourth and JedisPool's fifth argument is the password when a literal; fewer
    arguments, a variable or None stay."""
    assert _text(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Server {\n  org.apache.zookeeper.server.auth.DigestLoginModule REQUIRED\n"
            f'  user_super="{PASSWORD}"\n  user_bob={PASSWORD[::-1]};\n}};',
            "Server {\n  org.apache.zookeeper.server.auth.DigestLoginModule REQUIRED\n"
            f'  user_super="{P}"\n  user_bob={P};\n}};',
        ),
        (
            f'PlainLoginModule required username=\\"admin\\" user_admin=\\"{PASSWORD}\\";',
            f'PlainLoginModule required username=\\"admin\\" user_admin=\\"{P}\\";',
        ),
        ('PlainLoginModule required user_admin="${ADMIN_PASSWORD}";',) * 2,
        ('request user_id="12345678" user_agent="Mozilla/5.0 (X11)"',) * 2,
        ('login ok; user_name="alice" PlainLoginModule required username="bob";',) * 2,
    ],
)
def test_a_jaas_modules_user_options_go(text: str, expected: str) -> None:
    """Inside a JAAS login module's options `user_<name>` is that user's password (quoted or
    not, in a JSON string too); outside one `user_id` and `user_agent` stay, as does a
    reference and a module's `username`."""
    assert _text(text) == expected


_SOURCE = "    return pool.connect(self.api_token, db_password, user)"
_MARKS = "           │    │       │               │            └ 'app'"


@pytest.mark.parametrize("brk", ["\n", "\\n"], ids=["raw", "in-a-json-string"])
def test_a_value_annotated_under_a_secrets_name_goes(brk: str) -> None:
    """loguru's and better_exceptions' annotations lose the value under a secret's name (a
    variable's, an attribute's), in a text or a JSON string; the values under other names and
    a None stay."""
    lines = [
        _SOURCE,
        _MARKS,
        f"           │    │       │               └ '{PASSWORD}'",
        f"           │    │       └ '{PASSWORD[::-1]}'",
        "           │    └ <function Pool.connect at 0x7f3a2c1d0e50>",
        "           └ <Pool object at 0x7f3a2c1d0f10>",
        "    check(db_password)",
        "          └ None",
    ]
    expected = [*lines[:2], lines[2].replace(PASSWORD, P), lines[3].replace(PASSWORD[::-1], P)]
    expected += lines[4:]
    assert _text(brk.join(lines)) == brk.join(expected)


def test_a_tree_drawn_with_corners_keeps_its_names() -> None:
    """A tree's corner (`└─`, as systemctl and tree draw it) under a secret's name is no
    annotation: the line stays whole."""
    text = "password-rotation.service\n└─1234 /usr/bin/rotate --dry-run"
    assert _text(text) == text


def test_an_annotation_past_a_placeholder_on_its_source_line_goes() -> None:
    """When an earlier rule blanked part of the source line (a URL's password), the columns
    after it moved: the value under a secret's name after the placeholder still goes, and a
    value left of the placeholder keeps its own reading."""
    source = '    connect("postgres://app:hunter2xyz@db/app", db_password)'
    column = source.index("db_password")
    start = source.index('"postgres')
    marks = " " * start + "│" + " " * (column - start - 1)
    text = f"{source}\n{marks}└ '{PASSWORD}'\n{' ' * start}└ 'plain-url'"
    shown = _text(text)
    assert PASSWORD not in shown
    assert shown.endswith("└ 'plain-url'")
