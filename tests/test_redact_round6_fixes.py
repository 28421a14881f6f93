"""Round 6 redaction fixes: Redis's AUTH whose first word may be the password (not Redis 6's
user), and values bound by place after a statement whose placeholders hide in a CTE, a
comment, a quoted name, a dollar-quoted string or a jsonb operator. Each case also checks
that redaction is a fixed point (redacting twice gives what redacting once gives)."""

from __future__ import annotations

import json

import pytest

from triage.redact import redact

PW = "s3cr3tPw9"

#: Redis's AUTH as typed, and what redaction makes of it.
REDIS_CASES = [
    # Two words after AUTH at a prompt: the first may be the password (`AUTH pw next`).
    ("127.0.0.1:6379> AUTH s3cr3tPw9 next", "127.0.0.1:6379> AUTH [REDACTED:password] [REDACTED:password]"),
    ("redis:6379[2]> auth s3cr3tPw9 next", "redis:6379[2]> auth [REDACTED:password] [REDACTED:password]"),
    ("not connected> AUTH s3cr3tPw9 next", "not connected> AUTH [REDACTED:password] [REDACTED:password]"),
    ('127.0.0.1:6379> AUTH s3cr3tPw9 "next"', '127.0.0.1:6379> AUTH [REDACTED:password] "[REDACTED:password]"'),
    ("redis-cli -h db AUTH s3cr3tPw9 next", "redis-cli -h db AUTH [REDACTED:password] [REDACTED:password]"),
    # Two plain words: either may be the password, so both go.
    ("127.0.0.1:6379> AUTH alice hunter", "127.0.0.1:6379> AUTH [REDACTED:password] [REDACTED:password]"),
    # A quoted first word is read as a word too, not as the only argument.
    ("127.0.0.1:6379> AUTH 'alice' s3cr3tPw9", "127.0.0.1:6379> AUTH 'alice' [REDACTED:password]"),
    ("127.0.0.1:6379> AUTH \"s3cr3tPw9\" next", '127.0.0.1:6379> AUTH "[REDACTED:password]" [REDACTED:password]'),
    # A log line that ends with such an AUTH.
    ("2024-01-01 12:00:00 AUTH s3cr3tPw9 next", "2024-01-01 12:00:00 AUTH [REDACTED:password] [REDACTED:password]"),
    # A user and a password by their shape: the user stays.
    ("127.0.0.1:6379> AUTH alice s3cr3tPw9", "127.0.0.1:6379> AUTH alice [REDACTED:password]"),
    ("127.0.0.1:6379> AUTH default hunter", "127.0.0.1:6379> AUTH default [REDACTED:password]"),
    ("127.0.0.1:6379> AUTH default s3cr3tPw9 next", "127.0.0.1:6379> AUTH default [REDACTED:password] next"),
    ("AUTH app s3cr3tPw9", "AUTH app [REDACTED:password]"),
    # A user an earlier rule took as a token keeps its own placeholder.
    (
        "127.0.0.1:6379> AUTH ghp_aB3dE5fG7hJ9kL2mN4pQ6aB3dE5fG7hJ9kL2 next",
        "127.0.0.1:6379> AUTH [REDACTED:github-token] [REDACTED:password]",
    ),
    # HELLO's AUTH takes a user first: a password put there goes too.
    ("127.0.0.1:6379> HELLO 3 AUTH s3cr3tPw9 SETNAME c", "127.0.0.1:6379> HELLO 3 AUTH [REDACTED:password] [REDACTED:password] c"),
    ("HELLO 3 AUTH alice s3cr3tPw9 SETNAME c", "HELLO 3 AUTH alice [REDACTED:password] SETNAME c"),
    ("MIGRATE h 6379 \"\" 0 5000 AUTH2 s3cr3tPw9 next KEYS a", "MIGRATE h 6379 \"\" 0 5000 AUTH2 [REDACTED:password] [REDACTED:password] KEYS a"),
    # The other ways redis-cli and its server take a password.
    ("redis-cli -a s3cr3tPw9 --no-auth-warning ping", "redis-cli -a [REDACTED:password] --no-auth-warning ping"),
    ("redis-cli --user app --pass s3cr3tPw9 ping", "redis-cli --user app --pass [REDACTED:password] ping"),
    ("REDISCLI_AUTH=s3cr3tPw9 redis-cli -h db ping", "REDISCLI_AUTH=[REDACTED:password] redis-cli -h db ping"),
    ("127.0.0.1:6379> CONFIG SET masterauth s3cr3tPw9", "127.0.0.1:6379> CONFIG SET masterauth [REDACTED:password]"),
    ("requirepass s3cr3tPw9", "requirepass [REDACTED:password]"),
    ("MIGRATE h 6379 \"\" 0 5000 COPY AUTH s3cr3tPw9 KEYS a", "MIGRATE h 6379 \"\" 0 5000 COPY AUTH [REDACTED:password] KEYS a"),
]  # fmt: skip

#: Text that names AUTH and holds no password: it stays as it is.
REDIS_KEPT = [
    "redis-cli --askpass ping",
    "auth failed",
    "auth service down",
    "auth failed for user bob",
    "AUTH FAILED",
]


@pytest.mark.parametrize(("text", "expected"), REDIS_CASES)
def test_a_redis_auth_never_leaves_its_password(text: str, expected: str) -> None:
    """Redis's AUTH loses every word that may be its password, raw and in a JSON string, and
    redacting the result again changes nothing."""
    assert redact(text) == expected
    assert redact(expected) == expected
    as_json = redact(json.dumps({"msg": text}))
    assert PW not in as_json and json.loads(as_json)["msg"] == expected
    assert redact(as_json) == as_json


@pytest.mark.parametrize("text", REDIS_KEPT)
def test_auth_without_a_password_stays(text: str) -> None:
    """AUTH in prose or redis-cli's --askpass, which hold no password, stays as written."""
    assert redact(text) == text


#: A statement, then the values bound to its places; `PW` is bound to a secret's column.
BOUND_CASES = {
    "cte before hibernate": (
        "WITH x AS (SELECT id FROM t WHERE org = ?) UPDATE users SET password = ? WHERE id IN "
        "(SELECT id FROM x)\nbinding parameter [1] as [VARCHAR] - [acme]\n"
        f"binding parameter [2] as [VARCHAR] - [{PW}]"
    ),
    "recursive cte before mybatis": (
        "with recursive x (id) as (select id from t where org = ?), y as (select 1) "
        "update users set api_token = ? where id = ?\n"
        f"==> Parameters: acme(String), {PW}(String), 7(Integer)"
    ),
    "block comment": (
        "UPDATE users /* who? */ SET password = ? WHERE id = ?\n"
        f"binding parameter [1] as [VARCHAR] - [{PW}]"
    ),
    "line comment": (
        "UPDATE users -- who?\nSET password = ? WHERE id = ?\n"
        f"binding parameter (1:VARCHAR) <- [{PW}]"
    ),
    "quoted name": (
        f'UPDATE "who?" SET password = ? WHERE id = ?\nbinding parameter [1] as [VARCHAR] - [{PW}]'
    ),
    "backquoted name": (
        f"UPDATE `who?` SET password = ? WHERE id = ?\nbinding parameter [1] as [VARCHAR] - [{PW}]"
    ),
    "dollar quoted": (
        "UPDATE users SET note = $$a?b$$, password = ? WHERE id = ?\n"
        f"binding parameter [1] as [VARCHAR] - [{PW}]"
    ),
    "backslash escaped quote": (
        "UPDATE users SET note = 'it\\'s?', password = ? WHERE id = ?\n"
        f"binding parameter [1] as [VARCHAR] - [{PW}]"
    ),
    "jsonb any key": (
        "UPDATE users SET tags = 1 WHERE tags ?| array['a'] AND password = ?\n"
        f"binding parameter [1] as [VARCHAR] - [{PW}]"
    ),
    "jsonb all keys": (
        "UPDATE users SET tags = 1 WHERE tags ?& array['a'] AND password = ?\n"
        f"binding parameter [1] as [VARCHAR] - [{PW}]"
    ),
    "jsonb key before a literal": (
        "SELECT id FROM users WHERE meta ? 'k' AND password = ?\n"
        f"binding parameter [1] as [VARCHAR] - [{PW}]"
    ),
    "jdbc escaped question mark": (
        "SELECT id FROM users WHERE meta ??| array['k'] AND password = ?\n"
        f"binding parameter [1] as [VARCHAR] - [{PW}]"
    ),
}


@pytest.mark.parametrize("name", sorted(BOUND_CASES))
def test_a_bound_secret_goes_whatever_precedes_its_placeholder(name: str) -> None:
    """A value bound to a secret's column goes, and the value bound before it stays, when a
    CTE, comment, quoted name or jsonb operator comes before the secret's placeholder."""
    text = BOUND_CASES[name]
    once = redact(text)
    assert PW not in once, once
    assert "[REDACTED" in once.rsplit("\n", 1)[-1], once
    assert redact(once) == once


def test_the_value_before_a_cte_secret_stays() -> None:
    """With a CTE's placeholder first, the CTE's value stays and only the secret goes."""
    once = redact(BOUND_CASES["recursive cte before mybatis"])
    assert once.endswith("==> Parameters: acme(String), [REDACTED:password], 7(Integer)"), once


def test_a_with_in_prose_starts_no_statement() -> None:
    """`with` in prose before a statement does not join them: the statement's own places count."""
    text = (
        "retrying with backoff (attempt 2) UPDATE users SET password = ? WHERE id = ?\n"
        f"==> Parameters: {PW}(String), 7(Integer)"
    )
    assert redact(text).endswith("==> Parameters: [REDACTED:password], 7(Integer)")


def test_a_placeholder_cast_is_still_a_placeholder() -> None:
    """Postgres' `?::text` and `$1::text` casts keep their placeholder's place."""
    text = (
        "UPDATE users SET created = now()::date, password = $1::text WHERE id = $2\n"
        f"DETAIL:  parameters: $1 = '{PW}', $2 = '7'"
    )
    assert redact(text).endswith("parameters: $1 = '[REDACTED:password]', $2 = '7'")


def test_an_insert_from_select_binds_its_columns_by_place() -> None:
    """`INSERT … (name, password) SELECT ?, ? …` binds its columns as VALUES would: the
    password's value goes, the name's stays, after a CTE too."""
    for head in ("", "WITH x AS (SELECT id FROM t WHERE org = ?) "):
        text = (
            f"{head}INSERT INTO users (name, password) SELECT ?, ? FROM x WHERE NOT EXISTS "
            "(SELECT 1 FROM users WHERE name = ?)\n"
            f"==> Parameters: {'acme(String), ' if head else ''}bob(String), {PW}(String), "
            "bob(String)"
        )
        once = redact(text)
        assert once.endswith("bob(String), [REDACTED:password], bob(String)"), once
        assert redact(once) == once
