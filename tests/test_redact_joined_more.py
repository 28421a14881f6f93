"""A secret split into literals joined by `+`: in single quotes with no name before it, with a
variable or a call between its pieces, and under a secret's name; and a JSON Web Key's private
member, which gets the same label in a JSON value as in text.

Every secret-like value here is made up for the test; nothing is a credential.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from triage.redact import Redactor

REDACTOR = Redactor()
GH = "[REDACTED:github-token]"
X = "[REDACTED:password]"
AWS = "[REDACTED:aws-key]"
#: A GitHub token's 36 characters after `ghp_`, cut where the tests cut it.
BODY = "0123456789abcdefABCDEFGHIJ0123456789"


def _redacted(text: str) -> str:
    """The redactor's pass over `text`, without the memo of short texts."""
    return REDACTOR._redacted(text, ())


#: Where alert text carries a snippet of code: each wraps it as that place writes it, and
#: reads the result back (a JSON string is decoded, so its escaped quotes compare as written).
CONTEXTS: dict[str, tuple[Callable[[str], str], Callable[[str], str]]] = {
    "raw": (lambda t: t, lambda t: t),
    "log line": (
        lambda t: f"2026-12-06T02:14:07Z ERROR worker-3 failed at: {t} (retrying)",
        lambda t: t.removeprefix("2026-12-06T02:14:07Z ERROR worker-3 failed at: ").removesuffix(
            " (retrying)"
        ),
    ),
    "json string": (
        lambda t: json.dumps({"message": t, "level": "error"}),
        lambda t: str(json.loads(t)["message"]),
    ),
    "traceback": (
        lambda t: f'  File "app.py", line 12, in <module>\n    {t}\nValueError: bad\n',
        lambda t: t.split("\n")[1].strip(),
    ),
}

#: Code whose literals join into a secret, and the same code with each piece replaced.
LEAKED = [
    # Two single-quoted pieces, no name before them.
    (f"f('ghp_{BODY[:20]}' + '{BODY[20:]}')", f"f('{GH}' + '{GH}')"),
    (f"f('ghp_{BODY[:20]}'+'{BODY[20:]}')", f"f('{GH}'+'{GH}')"),
    # The vendor's prefix cut inside it.
    (f"check('gh' + 'p_{BODY}')", f"check('{GH}' + '{GH}')"),
    # Three pieces.
    (f"f('ghp_{BODY[:10]}' + '{BODY[10:20]}' + '{BODY[20:]}')", f"f('{GH}' + '{GH}' + '{GH}')"),
    # An AWS key id cut after its prefix (a cloud rule's shape, not a token rule's).
    ("k = boto('AKIA' + 'Q3EGRTLX7N2PLM4Z', x)", f"k = boto('{AWS}' + '{AWS}', x)"),
    ('k = boto("AKIA" + sep + "Q3EGRTLX7N2PLM4Z", x)', f'k = boto("{AWS}" + sep + "{AWS}", x)'),
    # A variable, a dotted name or a call between the pieces.
    (f"f('ghp_{BODY[:16]}' + sep + '{BODY[16:]}')", f"f('{GH}' + sep + '{GH}')"),
    (f'f("ghp_{BODY[:16]}" + cfg.sep + "{BODY[16:]}")', f'f("{GH}" + cfg.sep + "{GH}")'),
    (f"f('ghp_{BODY[:16]}' + sep() + '{BODY[16:]}')", f"f('{GH}' + sep() + '{GH}')"),
    # Under a secret's name, a variable between: every literal piece goes.
    (
        "token = 'ghp_0123456789' + x + 'abcdefABCDEFGHIJ0123'",
        f"token = '{GH}' + x + '{GH}'",
    ),
    ("token = 'Xk7pL2mR9' + x + 'tQwE4rT'", f"token = '{X}' + x + '{X}'"),
    ('token = "Xk7pL2mR9" + x + "tQwE4rT"', f'token = "{X}" + x + "{X}"'),
    # … whatever assigns the name: Ruby's `=>`, PHP's `$`, Go's `:=`.
    (
        "{ 'token' => 'Xk7pL2mR9tQwE4rT' + suffix + 'aB3dE5fG7hJ9' }",
        f"{{ 'token' => '{X}' + suffix + '{X}' }}",
    ),
    ("$token = 'Xk7pL2mR9tQwE4rT' + 'aB3dE5fG7hJ9'", f"$token = '{X}' + '{X}'"),
    ("token := 'Xk7pL2mR9tQwE4rT' + 'aB3dE5fG7hJ9'", f"token := '{X}' + '{X}'"),
    ("password = 'hunter2' + suffix + 'Xk7pL2mR'", f"password = '{X}' + suffix + '{X}'"),
    # A single-quoted token split in two under a name reads as a token, as double quotes do.
    (f"token = 'ghp_{BODY[:20]}' + '{BODY[20:]}'", f"token = '{GH}' + '{GH}'"),
]


@pytest.mark.parametrize("context", CONTEXTS)
@pytest.mark.parametrize(("code", "expected"), LEAKED)
def test_each_literal_piece_of_a_joined_secret_goes(code: str, expected: str, context: str) -> None:
    """Every literal piece of a secret joined by `+` is replaced, quotes and joins kept."""
    wrap, unwrap = CONTEXTS[context]
    assert unwrap(_redacted(wrap(code))) == expected


def test_a_secret_taken_by_its_first_literal_loses_its_tail_past_a_variable() -> None:
    """A value the pair rule takes by its first literal's shape (`pass`), whose pieces joined
    look like no secret, loses its literals after a variable too, as after a bare `+`."""
    code = "pass = 'Xk7pL2mR9tQwE4rT' + sep + ' rest'"
    assert _redacted(code) == f"pass = '{X}' + sep + '{X}'"


#: Code that joins literals and holds no secret: it stays as written.
KEPT = [
    "print('a' + 'b')",
    "msg = name + ' is down'",
    "x = 'a' + b + 'c'",
    "log('user ' + user + ' logged in from ' + host)",
    "label = 'Disk ' + mount + ' is ' + pct + '% full'",
    'path = "/api/v1/" + org + "/incidents/" + incident_id',
    "it's 5 + 'x' and don't + won't",
    "greeting = 'Hello, ' + user.first_name + '!'",
    "sql = 'SELECT * FROM t' || ' WHERE id = ' || id",
]


@pytest.mark.parametrize("context", CONTEXTS)
@pytest.mark.parametrize("code", KEPT)
def test_ordinary_joined_literals_stay(code: str, context: str) -> None:
    """Literals joined by `+` or `||` that form no secret and follow no secret's name stay."""
    wrap, unwrap = CONTEXTS[context]
    assert unwrap(_redacted(wrap(code))) == code


#: An RSA JWK's members (made up), the private ones and a public one.
JWK = {
    "kty": "RSA",
    "e": "AQAB",
    "d": "X9vA0kPqL2mN7rT4sW1yZ3bC5eG8hJ6k",
    "p": "Qm8nR2tY7uI4oP1aS6dF3gH9jK0lZ5xC",
    "q": "Vb7nM2qW8eR4tY1uI6oP3aS9dF0gH5jK",
    "dp": "LmN0pQ2rS4tU6vW8xY0zA2bC4dE6fG8h",
    "dq": "Hj2kL4mN6pQ8rS0tU2vW4xY6zA8bC0dE",
    "qi": "Tz9yX7wV5uT3sR1qP9oN7mL5kJ3hG1fD",
}


def test_a_jwk_private_member_has_one_label_in_json_and_in_text() -> None:
    """A JWK's private members read as a JSON value get the label the text rule gives them
    (`[REDACTED:private-key]`), an oct key's `k` in a JWKS too; its public members stay."""
    as_text = json.loads(_redacted(json.dumps(JWK)))
    as_value = REDACTOR.value(JWK)
    assert as_value == as_text
    assert {k: as_value[k] for k in ("d", "p", "q", "dp", "dq", "qi")} == dict.fromkeys(
        ("d", "p", "q", "dp", "dq", "qi"), "[REDACTED:private-key]"
    )
    assert (as_value["kty"], as_value["e"]) == ("RSA", "AQAB")
    jwks = {"keys": [{"kty": "oct", "kid": "hmac-1", "k": "GawgguFyGrWKav7AX4VKUg"}]}
    assert REDACTOR.value(jwks) == json.loads(_redacted(json.dumps(jwks)))
    assert REDACTOR.value(jwks)["keys"][0]["k"] == "[REDACTED:private-key]"
