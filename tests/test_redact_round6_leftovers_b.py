"""Round 6's redaction leftovers (B): a token split into single-quoted literals joined by `+`,
a command run with a variable set before it inside a JSON string, Redis MONITOR's AUTH with two
words, and a bare `pepper` whose value is a recipe's or a label's. Each output is a fixed point:
redacting it again changes nothing.
"""

from __future__ import annotations

import json

import pytest

from triage.redact import redact

PAT = "ghp_aB3dE5fG7hJ9kL2mN4pQ6aB3dE5fG7hJ9kL2"
PASSWORD = "Xk7pL2mR9tQwE4rT"
P = "[REDACTED:password]"
G = "[REDACTED:github-token]"


def _redacted_once(text: str) -> str:
    """`text` redacted, checked to be a fixed point (a second pass changes nothing)."""
    once = redact(text)
    assert redact(once) == once
    return once


# --- 1. single-quoted literals joined by `+` ---------------------------------------------------

JOINED_SINGLE = [
    (f"token = '{PAT[:20]}' + '{PAT[20:]}'", f"token = '{G}' + '{G}'"),
    (f"token='{PAT[:20]}'+'{PAT[20:]}'", f"token='{G}'+'{G}'"),
    (f"GITHUB_TOKEN = '{PAT[:10]}' + '{PAT[10:25]}' + '{PAT[25:]}'", f"GITHUB_TOKEN = '{G}' + '{G}' + '{G}'"),
    (f"password = 'hunter' + '{PASSWORD}'", f"password = '{P}' + '{P}'"),
    # Inside a JSON string (a log's message): the same, the string's quotes aside.
    (
        json.dumps({"msg": f"token = '{PAT[:20]}' + '{PAT[20:]}'"}),
        json.dumps({"msg": f"token = '{G}' + '{G}'"}),
    ),
]  # fmt: skip


@pytest.mark.parametrize(("text", "expected"), JOINED_SINGLE)
def test_a_secret_in_single_quoted_literals_joined_by_plus_goes_whole(
    text: str, expected: str
) -> None:
    """Every single-quoted literal joined by `+` after a secret's name goes, not only the first."""
    assert _redacted_once(text) == expected


JOINED_SINGLE_KEPT = [
    "greeting = 'hello ' + 'world'",
    "msg = 'disk ' + 'full on ' + 'db-1'",
    "password_hint = 'first pet' + ' name'",
    # A literal after a placeholder that no secret's name assigned stays.
    f"url = 'https://api/{P}' + '/v1'",
]


@pytest.mark.parametrize("text", JOINED_SINGLE_KEPT)
def test_single_quoted_literals_joined_by_plus_without_a_secret_stay(text: str) -> None:
    """Joined literals under no secret's name, or a hint's, stay as they are."""
    assert _redacted_once(text) == text


# --- 2. a command after a variable's value, inside a JSON string -------------------------------

COMMAND_AFTER = [
    (
        json.dumps({"log": "REDISCLI_AUTH=pw redis-cli ping"}),
        json.dumps({"log": f"REDISCLI_AUTH={P} redis-cli ping"}),
    ),
    (
        json.dumps({"log": "PGPASSWORD=hunter2 psql"}),
        json.dumps({"log": f"PGPASSWORD={P} psql"}),
    ),
    (
        json.dumps({"log": "API_TOKEN=abc123 curl https://api.example.com/v1"}),
        json.dumps({"log": f"API_TOKEN={P} curl https://api.example.com/v1"}),
    ),
    (
        json.dumps({"log": "MYSQL_PWD=pw /usr/bin/mysqldump db"}),
        json.dumps({"log": f"MYSQL_PWD={P} /usr/bin/mysqldump db"}),
    ),
    # docker inspect's Env: a value with spaces and no command after it goes whole.
    (json.dumps({"Env": ["DB_PASSWORD=my secret pass"]}), json.dumps({"Env": [f"DB_PASSWORD={P}"]})),
]  # fmt: skip


@pytest.mark.parametrize(("text", "expected"), COMMAND_AFTER)
def test_a_command_after_a_variable_in_a_json_string_stays(text: str, expected: str) -> None:
    """Inside a JSON string, a known command run with a secret variable set before it keeps its
    name and arguments; only the variable's value goes."""
    assert _redacted_once(text) == expected


# --- 3. Redis MONITOR's AUTH with two words ----------------------------------------------------

MONITOR = "1700000000.123456 [0 127.0.0.1:6379] "
MONITOR_CASES = [
    (f'{MONITOR}"AUTH" "pw" "next"', f'{MONITOR}"AUTH" "{P}" "{P}"'),
    (f'{MONITOR}"auth" "alice" "hunter"', f'{MONITOR}"auth" "{P}" "{P}"'),
    # A user and a password by their shape, and `default`: the user stays.
    (f'{MONITOR}"AUTH" "alice" "{PASSWORD}"', f'{MONITOR}"AUTH" "alice" "{P}"'),
    (f'{MONITOR}"AUTH" "default" "pw"', f'{MONITOR}"AUTH" "default" "{P}"'),
    (f'{MONITOR}"AUTH" "{PASSWORD}"', f'{MONITOR}"AUTH" "{P}"'),
    # Inside a JSON string, every quote escaped.
    (
        json.dumps({"msg": f'{MONITOR}"AUTH" "pw" "next"'}),
        json.dumps({"msg": f'{MONITOR}"AUTH" "{P}" "{P}"'}),
    ),
    # SLOWLOG's numbered lines.
    ('1) "AUTH"\n    2) "pw"\n    3) "next"', f'1) "AUTH"\n    2) "{P}"\n    3) "{P}"'),
    # HELLO's AUTH always names a user first: it stays.
    ('"HELLO" "3" "AUTH" "app" "pw-x1"', f'"HELLO" "3" "AUTH" "app" "{P}"'),
]  # fmt: skip


@pytest.mark.parametrize(("text", "expected"), MONITOR_CASES)
def test_redis_monitor_auth_with_two_words_treats_the_first_as_the_typed_form_does(
    text: str, expected: str
) -> None:
    """MONITOR's `"AUTH" "a" "b"` loses both words unless the first is `default` or only the
    second can be a password, as the typed `AUTH a b` does."""
    assert _redacted_once(text) == expected


# --- 4. a bare `pepper` --------------------------------------------------------------------------

PEPPER_KEPT = [
    "pepper: 3 jalapeno",
    "pepper = jalapeno",
    "Pepper: red",
    '{"pepper": "3 jalapeno"}',
    "ingredients:\n  salt: 1 tsp\n  pepper: 2 tsp\n",
]

PEPPER_BLANKED = [
    (f"pepper: {PASSWORD}", f"pepper: {P}"),
    (f"PEPPER={PASSWORD}", f"PEPPER={P}"),
    ("pepper = 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", f"pepper = {P}"),
    # An environment variable's name, as written in upper case, whatever its value.
    ("PEPPER=supersecretpepper", f"PEPPER={P}"),
    # A prefix says what the pepper is for: its value goes whatever it is.
    ("password_pepper: jalapeno", f"password_pepper: {P}"),
    (f'{{"pepper": "{PASSWORD}"}}', f'{{"pepper": "{P}"}}'),
]


@pytest.mark.parametrize("text", PEPPER_KEPT)
def test_a_bare_pepper_without_a_secrets_shape_stays(text: str) -> None:
    """A bare lower- or title-case `pepper` (a recipe's, a label's) keeps a value that has no
    secret's shape."""
    assert _redacted_once(text) == text


@pytest.mark.parametrize(("text", "expected"), PEPPER_BLANKED)
def test_a_pepper_with_a_secrets_shape_or_a_prefix_goes(text: str, expected: str) -> None:
    """A pepper's random or hex value, an upper-case variable's and a prefixed name's go."""
    assert _redacted_once(text) == expected
