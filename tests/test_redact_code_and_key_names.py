"""Code that reads a secret through a ternary or by a config key's name loses its literals only,
and a key-shaped value after a camel-case name ending in `Key` (`hmacKey`) goes, in text and in
a JSON payload, while a cache's, a sort's or a queue's key with an ordinary value stays.

Every secret-like value here is made up for the test; nothing is a credential.
"""

from __future__ import annotations

import json

import pytest

from triage.redact import Redactor

REDACTOR = Redactor()
X = "[REDACTED:password]"
#: A password a person chose: nothing a shape rule knows.
PW = "opal-kettle-42"
#: A key as a generator writes one: upper and lower case and digits.
KEY = "Zk3q9WmX2pLr8TvB4nYc7Hd1"


def _redacted(text: str) -> str:
    """The redactor's pass over `text`, without the memo of short texts."""
    return REDACTOR._redacted(text, ())


# --- A ternary: only its literals go ------------------------------------------------------------

TERNARIES = [
    # Python's `A if C else B`, at a line's start, indented, mid-line, with a compared condition.
    (
        f'password = os.environ.get("X") if c else "{PW}"',
        f'password = os.environ.get("X") if c else "{X}"',
    ),
    (
        f'    pw = os.environ["DB_PASSWORD"] if debug else "{PW}"',
        f'    pw = os.environ["DB_PASSWORD"] if debug else "{X}"',
    ),
    (
        f'x = 1; password = os.environ.get("X") if c else "{PW}"',
        f'x = 1; password = os.environ.get("X") if c else "{X}"',
    ),
    (
        f'token = os.getenv("T") if env == "prod" else "{PW}"',
        f'token = os.getenv("T") if env == "prod" else "{X}"',
    ),
    (f'pw = "{PW}" if debug else "{PW}x"', f'pw = "{X}" if debug else "{X}"'),
    # JavaScript's `C ? A : B`.
    (f'token = a ? process.env.X : "{PW}"', f'token = a ? process.env.X : "{X}"'),
    (
        f'const token = isProd ? process.env.TOKEN : "{PW}";',
        f'const token = isProd ? process.env.TOKEN : "{X}";',
    ),
    (f'pw = debug ? "{PW}" : "{PW}x"', f'pw = debug ? "{X}" : "{X}"'),
]


@pytest.mark.parametrize(("text", "expected"), TERNARIES)
def test_a_ternary_under_a_secrets_name_loses_its_literals_only(text: str, expected: str) -> None:
    """A secret read through a ternary (`if … else`, `? :`) keeps its code; its literals go."""
    assert _redacted(text) == expected


ELSE_AFTER_A_SECRETS_READ = [
    (
        f'x = os.environ.get("DB_PASSWORD") if c else "{PW}"',
        f'x = os.environ.get("DB_PASSWORD") if c else "{X}"',
    ),
    (
        f'conn(os.getenv("API_TOKEN") if env == "prod" else "{PW}")',
        f'conn(os.getenv("API_TOKEN") if env == "prod" else "{X}")',
    ),
    # A setting that is no secret keeps its fallback.
    ('x = os.environ.get("HOST") if c else "db.internal"',) * 2,
]


@pytest.mark.parametrize(("text", "expected"), ELSE_AFTER_A_SECRETS_READ)
def test_a_ternarys_else_after_reading_a_secret_loses_its_literal(text: str, expected: str) -> None:
    """`os.getenv("API_TOKEN") if c else "…"` under any name loses the literal, as `or "…"` does."""
    assert _redacted(text) == expected


@pytest.mark.parametrize(
    "text", ["password = my_secret_word : other.thing", 'password = os.getenv("X") : my_word']
)
def test_a_colon_without_a_ternarys_question_mark_is_no_code(text: str) -> None:
    """` : ` is a ternary's only after its `C ? `: elsewhere the value is no code and goes whole."""
    assert _redacted(text) == f"password = {X}"


def test_a_ternary_inside_a_json_string_loses_its_literal() -> None:
    """The same code quoted inside a JSON string loses the literal and keeps the code."""
    text = json.dumps({"code": f'x = 1; password = os.environ.get("X") if c else "{PW}"'})
    out = _redacted(text)
    assert PW not in out, out
    assert "os.environ.get" in out and " if c else " in out, out


# --- A config key read by its name ---------------------------------------------------------------

CONFIG_READS = [
    (f'pw = cfg.get("k") ?? "{PW}"', f'pw = cfg.get("k") ?? "{X}"'),
    (f'password = config.get("db_host") or "{PW}"', f'password = config.get("db_host") or "{X}"'),
    (
        f"token = settings.fetch('upstream.auth') || '{PW}'",
        f"token = settings.fetch('upstream.auth') || '{X}'",
    ),
    (f'pw = cfg.get("k", "{PW}")', f'pw = cfg.get("k", "{X}")'),
    ('pw = cfg.get("db")', 'pw = cfg.get("db")'),
]


@pytest.mark.parametrize(("text", "expected"), CONFIG_READS)
def test_a_config_keys_name_stays_and_its_fallback_goes(text: str, expected: str) -> None:
    """A reader's first argument naming a config key (not secret-shaped) stays; literals after go."""
    assert _redacted(text) == expected


SECRET_FIRST_ARGUMENTS = [
    f'pw = decrypt("{PW}")',
    f'pw = SecretStr("{PW}")',
    f'pw = cfg.get("{KEY}")',
]


@pytest.mark.parametrize("text", SECRET_FIRST_ARGUMENTS)
def test_a_first_argument_that_may_be_the_secret_still_goes(text: str) -> None:
    """A literal given to a call that reads no config key, or one shaped like a key, goes."""
    out = _redacted(text)
    assert PW not in out and KEY not in out and X in out, out


# --- A camel-case name ending in Key ------------------------------------------------------------

CAMEL_KEY_NAMES = ["hmacKey", "signingKey", "encryptionKey", "clientKey", "masterKey", "HmacKey"]


@pytest.mark.parametrize("name", CAMEL_KEY_NAMES)
def test_a_key_shaped_value_after_a_camel_case_key_name_goes(name: str) -> None:
    """`hmacKey=<key>` loses its value in `k=v` text, YAML, a JSON text and a JSON payload."""
    for text in (f"{name}={KEY}", f"  {name}: {KEY}", json.dumps({name: KEY}), f"{name} = '{KEY}'"):
        out = _redacted(text)
        assert KEY not in out and name in out, out
    assert REDACTOR.value({name: KEY, "n": 1}) == {name: X, "n": 1}


def test_a_key_shaped_value_after_a_key_name_goes_in_a_json_payload() -> None:
    """A JSON payload's `ALGOLIA_ADMIN_KEY` or `api.key` loses a key-shaped value as text does."""
    payload = {"ALGOLIA_ADMIN_KEY": KEY, "jwt.key": "a" * 8 + "0" * 24 + "f" * 8, "x": "y"}
    assert REDACTOR.value(payload) == {"ALGOLIA_ADMIN_KEY": X, "jwt.key": X, "x": "y"}


ORDINARY_KEYS = {
    "cacheKey": "user:42:profile",
    "sortKey": "createdAt",
    "partitionKey": "tenant-42",
    "primaryKey": "id",
    "routingKey": "orders.created",
    "objectKey": "logs/2026/12/05/app.log",
    "idempotencyKey": "9b2c6f1e-8d4a-4c1b-9e7f-2a3b4c5d6e7f",
    "s3ObjectKey": "uploads/2026/report-final.pdf",
    "dedupKey": "checkout-latency-p99",
    "groupKey": '{}:{alertname="HighLatency"}',
}


@pytest.mark.parametrize("name", sorted(ORDINARY_KEYS))
def test_an_ordinary_value_after_a_camel_case_key_name_stays(name: str) -> None:
    """A cache's, sort's, partition's, queue's or object's key with an ordinary value stays."""
    value = ORDINARY_KEYS[name]
    for text in (f"{name}={value}", f"{name}: {value}", json.dumps({name: value})):
        assert _redacted(text) == text
    assert REDACTOR.value({name: value}) == {name: value}


ORDINARY_TEXT = [
    'Tags: [{"Key": "team", "Value": "payments"}, {"Key": "env", "Value": "prod"}]',
    "S3 event: bucket=acme-logs Key=logs/2026/12/05/app.log size=1200",
    "KeyError: 'user_id' in handler process_order",
    "AWS KMS KeyId 1234abcd-12ab-34cd-56ef-1234567890ab disabled",
    "monkeyKey=banana",
    "result = x if y else z",
    'label = "high" if p99 > 2 else "low"',
    'status = ok ? "up" : "down"',
]


@pytest.mark.parametrize("text", ORDINARY_TEXT)
def test_ordinary_alert_text_near_these_rules_stays(text: str) -> None:
    """AWS tags, an S3 key, a KeyError, a KMS key id and ternaries without a secret stay."""
    assert _redacted(text) == text


def test_a_brokers_routing_key_stays_and_a_pagerduty_routing_key_goes() -> None:
    """A routing key of dotted words (RabbitMQ's topic) stays; PagerDuty's 32 hex still goes."""
    pagerduty = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
    for name in ("routing_key", "routingKey", "PAGERDUTY_ROUTING_KEY"):
        topic = f"{name}=orders.created"
        assert _redacted(topic) == topic
        assert REDACTOR.value({name: "logs.*.error"}) == {name: "logs.*.error"}
        assert pagerduty not in _redacted(f"{name}={pagerduty}")
        assert REDACTOR.value({name: pagerduty}) == {name: X}


# --- Tokens whose prefix is a digit ---------------------------------------------------------------

#: Facebook's app access token (`<app id>|<app secret>`) and ClickHouse Cloud's API key secret
#: (`4b1d` + 38 letters and digits), in their documented shapes.
FACEBOOK = "1234567890123456|9f86d081884c7d659a2feaa0c55ad015"
FACEBOOK_15 = "123456789012345|Xk3q9WmX2pLr8TvB4nYc7Hd1ab_-c"
CLICKHOUSE = "4b1dXkQ9mZ2pLr8TvB4nYc7Hd1Wq3e5R7t9Y1u3I5o"

DIGIT_PREFIXED_PLACES = [
    "GET https://graph.facebook.com/v18.0/me?access_token={t}&fields=id -> 400",
    "GET https://graph.facebook.com/v18.0/me?fields=id&access_token={t} -> 400",
    "2026-12-05T02:14:07Z ERROR ads-sync upstream refused {t} (401)",
    "fb app token {t} rejected",
    '{{"detail": "sent {t}"}}',
    "curl -H 'X-Upstream: {t}' https://example.com",
    "https://graph.facebook.com/oauth/access_token_info?client_id=1&access_token={t}",
]


@pytest.mark.parametrize("token", [FACEBOOK, FACEBOOK_15, CLICKHOUSE])
@pytest.mark.parametrize("place", DIGIT_PREFIXED_PLACES)
def test_a_token_whose_prefix_is_a_digit_goes_wherever_it_stands(token: str, place: str) -> None:
    """A Facebook app token's secret and a ClickHouse key go, named or not, in a URL or a log."""
    out = _redacted(place.format(t=token))
    secret = token.split("|")[-1]
    assert secret[-12:] not in out and secret[4:16] not in out, out


ORDINARY_DIGITS = [
    "| 1733366047123456|checkout_service_latency_p99_ms | 420 |",
    "ts=1733366047123456|level=error|msg=upstream_timeout_after_retries",
    "order 1234567890123456|status=shipped",
    "deploy 4b1d0c2e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c of checkout",
    "image sha256:4b1d0c2e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c",
    "tenant 4b1d-payments-eu-west-1 over quota",
]


@pytest.mark.parametrize("text", ORDINARY_DIGITS)
def test_ordinary_digits_beside_pipes_and_hex_stay(text: str) -> None:
    """Timestamps before a pipe, pipe-separated log fields and hex ids starting 4b1d stay."""
    assert _redacted(text) == text
