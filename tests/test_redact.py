"""Redaction: each secret shape becomes its typed placeholder; ordinary text stays as it is."""

from __future__ import annotations

import random
import re
import sys
import threading
from collections.abc import Iterator

import pytest

from triage.redact import _RULES, DEFAULT, Redactor, _fold, _forget_held, held, hold, redact


@pytest.fixture(autouse=True)
def _no_held_credentials() -> Iterator[None]:
    _forget_held()
    yield
    _forget_held()


CASES = [
    ("key AKIAIOSFODNN7EXAMPLE used", "key [REDACTED:aws-key] used"),
    ("temp ASIAY34FZKBOKMUTVV7A", "temp [REDACTED:aws-key]"),
    (
        "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "aws_secret_access_key = [REDACTED:aws-secret]",
    ),
    ("secret wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY here", "secret [REDACTED:aws-secret] here"),
    ("push ghp_" + "aB3" * 12 + " done", "push [REDACTED:github-token] done"),
    ("pat github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuv", "pat [REDACTED:github-token]"),
    (
        "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9P",
        "jwt [REDACTED:jwt]",
    ),
    (
        "Authorization: Bearer abcdef0123456789abcdef.xyz",
        "Authorization: Bearer [REDACTED:bearer]",
    ),
    ("Authorization: Basic dXNlcjpwYXNzd29yZDEyMw==", "Authorization: Basic [REDACTED:bearer]"),
    (
        "postgres://admin:s3cr3t@db.internal:5432/app",
        "postgres://admin:[REDACTED:password]@db.internal:5432/app",
    ),
    ("redis://:onlypass@cache:6379", "redis://:[REDACTED:password]@cache:6379"),
    ("https://u:p4ss@example.com/x", "https://u:[REDACTED:password]@example.com/x"),
    ("host=db password=hunter2 user=app", "host=db password=[REDACTED:password] user=app"),
    ("?api_key=abc123&x=1", "?api_key=[REDACTED:password]&x=1"),
    (
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\nabc==\n-----END RSA PRIVATE KEY----- after",
        "[REDACTED:private-key] after",
    ),
    ("cut off -----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkq", "cut off [REDACTED:private-key]"),
    ("mail ops@example.com and a.b+c@mail.co.uk", "mail [REDACTED:email] and [REDACTED:email]"),
    ("sk-proj-" + "x1Y2" * 8, "[REDACTED:api-key]"),
    ("xoxb-123456789012-abcdefABCDEF", "[REDACTED:api-key]"),
    (
        "https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXX",
        "https://hooks.slack.com/[REDACTED:api-key]",
    ),
    # Letters the regex engine's IGNORECASE equates with ASCII ones (dotless i, long s).
    ("ap\u0131_key=abc123", "ap\u0131_key=[REDACTED:password]"),
    ("\u017fecret: hunter2", "\u017fecret: [REDACTED:password]"),
]


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[c[1][:40] for c in CASES])
def test_each_secret_shape_gets_its_placeholder(text: str, expected: str) -> None:
    """Every documented secret shape is replaced by its typed placeholder, and only it."""
    assert redact(text) == expected


KEEP = [
    "sha 3f786850e387550fdab836ed7e6dc881de23001b",  # a git sha: lower-case hex
    "request 123e4567-e89b-12d3-a456-426614174000 failed",
    "token validation failed for the bearer of bad news",
    "https://grafana.example.com/d/abc?orgId=1&from=now-1h",
    "CPUUtilization > 80 for 5 datapoints within 5 minutes",
    "@org/team please look; 东京 region 🔥 مرحبا",
    "arn:aws:sqs:us-east-1:123456789012:alerts",
]


@pytest.mark.parametrize("text", KEEP)
def test_ordinary_text_is_left_alone(text: str) -> None:
    """Hashes, ids, plain URLs, mentions and non-Latin text are not mistaken for secrets."""
    assert redact(text) == text


def test_json_values_under_secret_keys_are_blanked() -> None:
    """Values under keys named like password/token/api-key go, whatever they look like."""
    value = {
        "password": "x",
        "db": {"API-Key": "zzz", "url": "mysql://u:p@h/db", "port": 5432},
        "headers": [{"Authorization": "whatever"}],
        "token": None,
    }
    assert Redactor().value(value) == {
        "password": "[REDACTED:password]",
        "db": {
            "API-Key": "[REDACTED:password]",
            "url": "mysql://u:[REDACTED:password]@h/db",
            "port": 5432,
        },
        "headers": [{"Authorization": "[REDACTED:password]"}],
        "token": None,
    }


def test_known_credentials_are_redacted_by_exact_value() -> None:
    """A credential the process holds is redacted wherever it appears, even in odd shapes."""
    held = ["tok-9f8e7d6c"]
    redactor = Redactor(lambda: held)
    assert redactor.text("header was tok-9f8e7d6c!") == "header was [REDACTED:credential]!"
    held[0] = "rotated-0a1b2c"  # asked on every call: a rotated token is covered at once
    assert redactor.text("now rotated-0a1b2c") == "now [REDACTED:credential]"


def test_held_credentials_are_redacted_by_every_redactor() -> None:
    """After hold(), DEFAULT and any Redactor redact the value by exact value."""
    secret = "tok/9f8e+7d6c="
    hold(secret)
    for redactor in (DEFAULT, Redactor(lambda: ["other-credential"])):
        assert redactor.text(f"h {secret} x") == "h [REDACTED:credential] x"


def test_a_longer_credential_goes_whole_before_one_it_contains() -> None:
    """Held and known values are replaced longest first, so no tail of a longer one is left."""
    hold("abcdef")
    redactor = Redactor(lambda: ["abcdefghij"])
    assert redactor.text("abcdefghij abcdef") == "[REDACTED:credential] [REDACTED:credential]"


def test_hold_ignores_short_values_and_keeps_the_most_recent() -> None:
    """None, "" and values under 6 characters are not held; only the newest 256 are kept."""
    for value in (None, "", "12345"):
        hold(value)
    assert held() == ()
    values = [f"credential-{i:04d}" for i in range(300)]
    for value in values:
        hold(value)
    assert held() == tuple(values[-256:])
    hold(values[100])  # held again: it is recent now
    assert held()[-1] == values[100] and len(held()) == 256


def test_hold_is_safe_from_many_threads() -> None:
    """Threads holding and redacting at once lose nothing and never see a broken registry."""
    values = [f"thread-{t}-credential-{i:03d}" for t in range(8) for i in range(200)]
    errors: list[BaseException] = []

    def work(mine: list[str]) -> None:
        try:
            for value in mine:
                hold(value)
                assert DEFAULT.text(f"x {value} y") == "x [REDACTED:credential] y"
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(values[t::8],)) for t in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(held()) == 256
    assert len(set(held())) == 256
    assert set(held()) <= set(values)


def test_hostile_text_is_redacted_in_linear_time() -> None:
    """Megabytes of near-miss text finish: the patterns cannot backtrack without bound."""
    for hostile in (
        ("a" * 63 + "@") * 20_000,
        "-----BEGIN PRIVATE KEY-----" * 40_000,
        ("Ab1" * 20 + " ") * 20_000,
        ("https://u:" + "p" * 300) * 3_000,
    ):
        assert isinstance(redact(hostile), str)


def _every_pattern(text: str) -> str:
    """The rules applied without their needle test: what redaction must equal."""
    for rule in _RULES:
        text = rule.pattern.sub(rule.replacement, text)
    return text


_FRAGMENTS = [
    *(text for text, _ in CASES),
    *KEEP,
    "PASSWORD=",
    "passwd:",
    "PwD=",
    "Token: ",
    "aPi_KeY=",
    "APIKEY=",
    "AccessKey: ",
    "access_key:",
    "AWS_SECRET = ",
    "BeArEr ",
    "BASIC\t",
    "://",
    "@",
    "user:",
    "ex.com",
    "-----BEGIN EC PRIVATE KEY-----",
    "eyJhbGciOi",
    "ghp_",
    "AKIA",
    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "\u0130",  # capital I with a dot, which lower() turns into i + a combining dot
    "\u0131",  # dotless i
    "\u017f",  # long s
    "\u212a",  # Kelvin sign
    "i\u0307",
    " ",
    "=",
    "x" * 40,
]


def test_needles_skip_only_text_no_pattern_can_match() -> None:
    """Redaction equals running every pattern on 3,000 random mixes of secrets and near-misses."""
    rng = random.Random(7)
    for _ in range(3_000):
        text = "".join(rng.choice(_FRAGMENTS) for _ in range(rng.randint(1, 8)))
        assert Redactor().text(text) == _every_pattern(text), repr(text)


def test_fold_turns_every_letter_ignorecase_equates_into_that_letter() -> None:
    """For every code point IGNORECASE matches to an ASCII letter, _fold gives that letter."""
    letters = re.compile("[a-z]", re.IGNORECASE)
    for code_point in range(sys.maxunicode + 1):
        char = chr(code_point)
        if letters.fullmatch(char):
            letter = next(a for a in "abcdefghijklmnopqrstuvwxyz" if re.fullmatch(a, char, re.I))
            assert _fold(char) == letter, hex(code_point)
