"""What the public secret scanners know and the redactor missed, by class: tokens of vendors'
prefix families (read from gitleaks' `config/gitleaks.toml`, trufflehog's detectors, Yelp's
detect-secrets plugins and GitHub's list of supported secret scanning patterns), a secret's
value in a Kubernetes env entry under any secret's name, a framework's session cookie by its
name, and code that reads a secret with a literal fallback (only the literal goes).

Every token here is generated from a seeded `random.Random` in the vendor's documented shape,
so nothing in this file is a credential. Each class is checked in the places alerts carry it
(a log line, a URL's query, a JSON field, an env dump, a stack trace, kubectl's and helm's
output), and ordinary alert text beside it (hosts, UUIDs, ARNs, commit SHAs, trace ids, metric
names, Stripe's object ids) must come out as it went in.
"""

from __future__ import annotations

import json
import string

import pytest

from triage.redact import Redactor

REDACTOR = Redactor()
X = "[REDACTED:password]"
ALNUM = string.ascii_letters + string.digits
LOWER_ALNUM = string.ascii_lowercase + string.digits
UPPER_ALNUM = string.ascii_uppercase + string.digits
HEX = "0123456789abcdef"
B64 = ALNUM + "+/"
B64URL = ALNUM + "-_"


def _redacted(text: str) -> str:
    """The redactor's pass over `text`, without the memo of short texts."""
    return REDACTOR._redacted(text, ())


# --- Code that reads a secret, then falls back to a literal ------------------------------------

#: A password a person chose: nothing a shape rule knows.
PW = "opal-kettle-42"

CODE_FALLBACKS = [
    # At a line's start (the YAML/.properties line rule read it to the line's end).
    (f'pw = os.environ.get("X") or "{PW}"', f'pw = os.environ.get("X") or "{X}"'),
    (f'    pw = os.environ.get("X") or "{PW}"', f'    pw = os.environ.get("X") or "{X}"'),
    (
        f"password = os.getenv('DB_PASSWORD') or '{PW}'",
        f"password = os.getenv('DB_PASSWORD') or '{X}'",
    ),
    (f'token = ENV["API_TOKEN"] || "{PW}"', f'token = ENV["API_TOKEN"] || "{X}"'),
    (f'secret = getenv("S") ?: "{PW}"', f'secret = getenv("S") ?: "{X}"'),
    (f'api_key = cfg.get("API_KEY") ?? "{PW}"', f'api_key = cfg.get("API_KEY") ?? "{X}"'),
    # Mid-line (the pair rule read the call's name and left the literal in clear).
    (f'x = 1; pw = os.environ.get("X") or "{PW}"', f'x = 1; pw = os.environ.get("X") or "{X}"'),
    (
        f'  File "app.py", line 9, in run\n    db_pass = os.environ.get("Y") or "{PW}"',
        f'  File "app.py", line 9, in run\n    db_pass = os.environ.get("Y") or "{X}"',
    ),
    # A default inside the call goes too, the rest of the code stays.
    (
        f'DB_PASSWORD = os.environ.get("DB_PASSWORD", "{PW}") or "{PW}x"',
        f'DB_PASSWORD = os.environ.get("DB_PASSWORD", "{X}") or "{X}"',
    ),
]

#: Code that only reads a secret: no literal, nothing to take.
CODE_READS = [
    'pw = os.environ["X"]',
    'x = 1; pw = os.environ["X"]',
    "password = config['db']['password']",
    'token = os.environ.get("TOKEN") or os.environ.get("GH_TOKEN")',
    'password = os.environ.get("DB_PASSWORD") or None',
]


@pytest.mark.parametrize(("text", "expected"), CODE_FALLBACKS)
def test_a_fallback_literal_goes_and_the_code_reading_the_secret_stays(
    text: str, expected: str
) -> None:
    """Code reading a secret with a literal fallback loses the literal only, anywhere on a line."""
    assert _redacted(text) == expected


@pytest.mark.parametrize("text", CODE_READS)
def test_code_that_only_reads_a_secret_by_subscript_or_fallback_keeps_its_text(text: str) -> None:
    """A subscript read (`os.environ["X"]`) and a fallback to another read hold no secret."""
    assert _redacted(text) == text


# --- A Kubernetes env entry under any secret's name --------------------------------------------

#: Names the redactor knows as secrets' whose last word is not PASSWORD/SECRET/TOKEN/API_KEY.
K8S_NAMES = [
    "MAILGUN_SIGNING_KEY",
    "FLUTTERWAVE_ENCRYPTION_KEY",
    "GITLAB_SESSION_COOKIE",
    "GITHUB_PAT",
    "REDIS_PASS",
    "SENTRY_DSN",
    "NEW_RELIC_LICENSE_KEY",
    "PAGERDUTY_ROUTING_KEY",
    "AWS_ACCESS_KEY",
    "DB_CONNECTION_STRING",
    "TOTP_SEED",
]


@pytest.mark.parametrize("name", K8S_NAMES)
def test_a_kubernetes_env_value_goes_under_every_secret_name(name: str) -> None:
    """`- name: X` then `value: …` loses the value whenever the redactor calls X a secret's name."""
    secret = "q2gWvpjumdw8i86gy9j64luz6mrkdzus"
    raw = f"    env:\n    - name: {name}\n      value: {secret}\n    - name: LOG_LEVEL\n"
    escaped = json.dumps({"spec": raw})
    for text in (raw, escaped):
        out = _redacted(text)
        assert secret not in out, out
        assert "LOG_LEVEL" in out and name in out


@pytest.mark.parametrize("name", ["LOG_LEVEL", "TOKEN_TTL_SECONDS", "PASSWORD_MIN_LENGTH"])
def test_a_kubernetes_env_value_of_another_name_stays(name: str) -> None:
    """An env entry whose name the redactor calls no secret's keeps its value."""
    text = f"    - name: {name}\n      value: '3600'\n"
    assert _redacted(text) == text
