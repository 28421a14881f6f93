"""Round 15 (helper 454): what round 14 left (an `-e "a=x b=y"` string of several pairs blanked
to its closing quote, a call by position with a run of whitespace before its bracket) and new
classes real alerts carry, with the neighbours that must stay."""

from __future__ import annotations

import pytest

from triage.redact import Redactor

SHORT = "q7Wz2Lk9Xa"
PW = "Xk9vQ2mZp7"
P = "[REDACTED:password]"


def _text(text: str) -> str:
    """`text` as the redactor writes it."""
    return Redactor().text(text)


# --- a quoted string of several `name=value` pairs -------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            'ansible-playbook -e "ansible_become_password=x db_pass=y"',
            f'ansible-playbook -e "ansible_become_password={P} db_pass={P}"',
        ),
        (
            f'ansible-playbook site.yml -e "ansible_become_password={PW} db_pass={SHORT} env=prod"',
            f'ansible-playbook site.yml -e "ansible_become_password={P} db_pass={P} env=prod"',
        ),
        (
            "ansible-playbook -e 'ansible_become_password=x db_pass=y'",
            f"ansible-playbook -e 'ansible_become_password={P} db_pass={P}'",
        ),
        (
            f'--extra-vars "vault_password={PW} region=eu-west-1"',
            f'--extra-vars "vault_password={P} region=eu-west-1"',
        ),
        (
            f'{{"cmd": "ansible-playbook -e \\"db_password={PW} db_user=app\\" site.yml"}}',
            f'{{"cmd": "ansible-playbook -e \\"db_password={P} db_user=app\\" site.yml"}}',
        ),
    ],
)
def test_each_pair_of_a_quoted_string_of_pairs_loses_only_its_value(
    text: str, expected: str
) -> None:
    """A quoted string of pairs (Ansible's `-e`) loses each secret's value; the names after the
    first, and the values of names that say no secret, stay."""
    assert _text(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('Environment="DB_PASSWORD=a b c"', f'Environment="DB_PASSWORD={P}"'),
        (f'["DB_PASSWORD={PW} with spaces", "LANG=C"]', f'["DB_PASSWORD={P}", "LANG=C"]'),
    ],
)
def test_a_string_that_is_one_pair_still_loses_its_value_to_the_quote(
    text: str, expected: str
) -> None:
    """A string that is one `NAME=value`, spaces and all, still loses the whole value."""
    assert _text(text) == expected


# --- a call by position, whitespace before its bracket ---------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        f'login  ("admin", "{PW}")',
        f'login\t("admin", "{PW}")',
        f'login      ("admin", "{PW}")',
        f'smtp.login    ("u", "{PW}")',
        f'HTTPBasicAuth      ("u", "{PW}")',
        f'SetAuth  ("u", "{PW}")',
        f'new Sequelize  ("db", "admin", "{PW}", {{}})',
        f'redis.Redis  ("h", 6379, 0, "{PW}")',
        f'JedisPool (cfg, "h", 6379, 2000, "{PW}")',
        f"PDO->__construct    ('mysql:host=x', 'root', '{PW}')",
        f'conn.bind_s    ("cn=admin,dc=x", "{PW}")',
        f'auth    =    ("u", "{PW}")',
        f'setPassword       ("{PW}")',
    ],
)
def test_call_by_position_reads_past_any_whitespace_before_its_bracket(call: str) -> None:
    """A call that takes a password by its place loses it however much space or tab stands
    between its name and its bracket (code aligned by hand, a formatter's style)."""
    out = _text(call)
    assert PW not in out
    assert P in out


# --- a JWT cut across indented lines -----------------------------------------------------------

HEADER = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
CLAIMS = "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ"
SIGNATURE = "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            f"Authorization: Bearer {HEADER}.\n    {CLAIMS}.\n    {SIGNATURE}",
            "Authorization: Bearer [REDACTED:jwt]",
        ),
        (f"token: {HEADER}.\n  {CLAIMS}.\n  {SIGNATURE}", "token: [REDACTED:jwt]"),
        (f"{HEADER}\n    .{CLAIMS}\n    .{SIGNATURE}", "[REDACTED:jwt]"),
        (f"token: {HEADER}.{CLAIMS[:20]}\n  {CLAIMS[20:]}.{SIGNATURE}", "token: [REDACTED:jwt]"),
        (f"token: {HEADER}.{CLAIMS}.{SIGNATURE[:25]}\n  {SIGNATURE[25:]}", "token: [REDACTED:jwt]"),
        (
            f'{{"msg": "jwt {HEADER}.\\n    {CLAIMS}.\\n    {SIGNATURE}"}}',
            '{"msg": "jwt [REDACTED:jwt]"}',
        ),
    ],
)
def test_jwt_cut_across_indented_lines_goes_whole(text: str, expected: str) -> None:
    """A JWT whose lines after a break are indented (a folded header, a YAML value, parts
    aligned under each other) goes whole: no claims or signature are left on the next lines."""
    assert _text(text) == expected


def test_jwt_then_an_indented_line_of_words_keeps_the_line() -> None:
    """The indented line after a whole JWT is the text's own, not the signature's rest."""
    text = f"jwt: {HEADER}.{CLAIMS}.{SIGNATURE}\n  expires: soon"
    assert _text(text) == "jwt: [REDACTED:jwt]\n  expires: soon"
