"""One pass of redaction reaches its fixed point where a rule reads a placeholder beside a
value: a table's header whose cell was too long to read before an earlier rule shortened it
(its secret column's cells go on the first pass, as on the second), and Redis's one-argument
`AUTH pw` whose placeholder the second pass must not read as Redis 6's user (the word after it
stays on both passes).
"""

from __future__ import annotations

from case_chunks import assert_each
from triage.redact import Redactor

#: A token of no vendor's shape, long enough that a header cell holding it is past a cell's
#: length (64) until a name's rule makes it a placeholder.
LONG = "2aB3dE5fG7hJ9kL2mN4pQ6aB3dE_aB3dE5fG7hJ9kL2mN4pQ6aB3dE5fG7hJ9kL2mN4pQ6"


def _redacted(text: str) -> str:
    """One pass of a fresh redactor (no memo of short texts shared between cases)."""
    return Redactor().text(text)


def _once_and_twice(case: tuple[str, str]) -> tuple[object, object]:
    """For `assert_each`: the first pass is the expected text, and a second pass keeps it."""
    text, expected = case
    once = _redacted(text)
    return (once, _redacted(once)), (expected, expected)


#: A header whose first cell holds a secret past a cell's length, and its rows: the password
#: column goes on the first pass, as the second pass (which reads the placeholder's short
#: cell) would have it.
TABLES = [
    (
        f"NGROK_AUTHTOKEN={LONG}user,password\napp,opal-42\n",
        "NGROK_AUTHTOKEN=[REDACTED:password],password\napp,[REDACTED:password]\n",
    ),
    (
        f"token={LONG},password\napp,opal-42\n",
        "token=[REDACTED:password],password\napp,[REDACTED:password]\n",
    ),
    (
        f"api_key={LONG}\tpassword\napp\topal-42\n",
        "api_key=[REDACTED:password]\tpassword\napp\t[REDACTED:password]\n",
    ),
    (
        f"secret={LONG};db_password\napp;opal-42\nweb;opal-43\n",
        "secret=[REDACTED:password];db_password\napp;[REDACTED:password]\nweb;[REDACTED:password]\n",
    ),
]


def test_a_header_cell_shortened_by_a_rule_reads_as_the_second_pass_reads_it() -> None:
    """A header cell made short by an earlier rule's placeholder still heads its table on the
    first pass: the password column's cells go once, and a second pass changes nothing."""
    assert_each(TABLES, _once_and_twice)


def test_a_short_header_cell_keeps_reading_its_table() -> None:
    """A header with a short value in its first cell was read before any rule and still is."""
    text = "NGROK_AUTHTOKEN=abc,password\napp,opal-42\n"
    assert (
        _redacted(text) == "NGROK_AUTHTOKEN=[REDACTED:password],password\napp,[REDACTED:password]\n"
    )


#: Redis's AUTH after redis-cli's prompt, its one argument too long to be read as a user: it
#: is the password, and the word after it stays on the first pass and the second.
AUTHS = [
    (
        "127.0.0.1:6379> AUTH FOOBARED<https://a.example.com/cb#access_token="
        "aB3dE5fG7hJ9kL2mN4pQ6aB3|login> next",
        "127.0.0.1:6379> AUTH [REDACTED:password] next",
    ),
    (f"127.0.0.1:6379> AUTH {LONG} next", "127.0.0.1:6379> AUTH [REDACTED:password] next"),
    (f"redis-cli -h db AUTH {LONG} then", "redis-cli -h db AUTH [REDACTED:password] then"),
    (
        f'"msg":"127.0.0.1:6379> auth {LONG} ok"',
        '"msg":"127.0.0.1:6379> auth [REDACTED:password] ok"',
    ),
]


def test_a_one_argument_auth_placeholder_is_no_user_on_a_second_pass() -> None:
    """AUTH's own placeholder (its one argument's) is not read as Redis 6's user by a second
    pass, so the word after it stays, as the first pass left it."""
    assert_each(AUTHS, _once_and_twice)


#: Redis 6's `AUTH user pw`, the user a placeholder of another kind an earlier rule wrote:
#: the password after it still goes, and stays gone.
USERS = [
    (
        "127.0.0.1:6379> AUTH ghp_aB3dE5fG7hJ9kL2mN4pQ6aB3dE5fG7hJ9kL2 hunter2",
        "127.0.0.1:6379> AUTH [REDACTED:github-token] [REDACTED:password]",
    ),
    ("127.0.0.1:6379> AUTH alice hunter2", "127.0.0.1:6379> AUTH alice [REDACTED:password]"),
]


def test_a_user_then_a_password_still_loses_the_password() -> None:
    """A user (written, or a placeholder of another kind) and a password after AUTH: only the
    password goes, on one pass, and a second pass changes nothing."""
    assert_each(USERS, _once_and_twice)


#: The same tables inside a JSON string (a log line's "msg"), its line breaks escaped.
JSON_TABLES = [
    (
        f'{{"msg":"token={LONG},password\\napp,opal-42"}}',
        '{"msg":"token=[REDACTED:password],password\\napp,[REDACTED:password]"}',
    ),
    (
        f'{{"msg":"NGROK_AUTHTOKEN={LONG}user;password\\napp;opal-42\\n"}}',
        '{"msg":"NGROK_AUTHTOKEN=[REDACTED:password];password\\napp;[REDACTED:password]\\n"}',
    ),
]


def test_a_header_shortened_inside_a_json_string_reads_as_the_second_pass_reads_it() -> None:
    """Inside a JSON string too, a header cell made short by a placeholder heads its table on
    the first pass, and a second pass changes nothing."""
    assert_each(JSON_TABLES, _once_and_twice)


#: A webhook URL whose last segment is its token, glued after another URL (a bracket a name's
#: rule replaces, a Jira link, a redirect in a query, a Markdown link's parenthesis): each URL
#: is read on its own, so the token goes on the first pass, as a second pass (which sees the
#: glued URL start after the placeholder) would have it.
HOOK = "https://hooks.example.com/notify/Xk9fQ2mPz7Lr4tYvB3nW"
HOOK_GONE = "https://hooks.example.com/notify/[REDACTED:token]"
GLUED_URLS = [
    (
        f"PwD=[LOGIN|HTTPS://A.EXAMPLE.COM/CB?KEY=Ab3De5Fg7Hj9Kl2Mn4Pq6Ab3]{HOOK}",
        f"PwD=[[REDACTED:password]]{HOOK_GONE}",
    ),
    (
        f"x [LOGIN|HTTPS://A.EXAMPLE.COM/CB?KEY=Ab3De5Fg7Hj9Kl2Mn4Pq6Ab3]{HOOK}",
        f"x [LOGIN|HTTPS://A.EXAMPLE.COM/CB?KEY=[REDACTED:password]]{HOOK_GONE}",
    ),
    (f"x [https://a.example.com/a|{HOOK}]", f"x [https://a.example.com/a|{HOOK_GONE}]"),
    (f"x https://a.example.com/cb?next={HOOK}", f"x https://a.example.com/cb?next={HOOK_GONE}"),
    (f"(https://a.example.com/cb?x=1){HOOK}", f"(https://a.example.com/cb?x=1){HOOK_GONE}"),
]


def test_a_url_glued_after_another_url_is_read_on_its_own() -> None:
    """A URL glued after another (after a bracket, a `|`, a `=`, a `)`) has its last segment's
    token judged on the first pass, and a second pass changes nothing."""
    assert_each(GLUED_URLS, _once_and_twice)
