"""Redaction's known leftovers, by class, each in four places alert text carries it (a log line,
a JSON string's value, a Kubernetes event's message, a stack trace's source line): a literal
beside code that reads a secret under a name that is not a secret's, a CSV or TSV column named
in camel case (`hmacKey`), a key's name and its key after a space, a flag whose value is on
the next line, XML split over lines; and a routing key, which is PagerDuty's secret only when
it is shaped like a key (RabbitMQ's `orders` stays). Ordinary values in the same forms stay.

Every secret-like value here is made up for the test; nothing is a credential.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from case_chunks import assert_each, dealt
from triage.redact import Redactor

REDACTOR = Redactor()
X = "[REDACTED:password]"
#: A password a person chose: nothing a shape rule knows.
PW = "s3cr3t-literal-42"
#: A key as a generator writes one: upper and lower case and digits.
KEY = "Zk3q9WmX2pLr8TvB4nYc7Hd1"
#: PagerDuty's integration (routing) keys: 32 hex characters, or 32 letters and digits.
HEX32 = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
KEY32 = "Zk3q9WmX2pLr8TvB4nYc7Hd1Qa5Ew6Rt"


def _redacted(text: str) -> str:
    """The redactor's pass over `text`, without the memo of short texts."""
    return REDACTOR._redacted(text, ())


#: Where alert text carries a snippet: each wraps it as that place writes it.
CONTEXTS: dict[str, Callable[[str], str]] = {
    "log line": lambda t: f"2026-12-05T02:14:07Z ERROR worker-3 deploy failed: {t}",
    "json string": lambda t: json.dumps({"message": t, "level": "error"}),
    "k8s event": lambda t: f"default   12s   Warning   Failed   pod/api-7d9f   Error: {t}",
    "stack trace": lambda t: (
        "Traceback (most recent call last):\n"
        f"  File \"/app/settings.py\", line 12, in <module>\n    {t}\nKeyError: 'DB_HOST'"
    ),
}


def _leaked(secret: str, out: str) -> bool:
    """Whether any 8-character run of `secret` is in `out`."""
    return any(secret[i : i + 8] in out for i in range(len(secret) - 7))


LEFTOVERS = [
    # --- A literal beside code that reads a secret, under a name that is not a secret's.
    (f'x = "{PW}" if c else os.environ["DB_PASSWORD"]', PW),
    (f'x = "{PW}" if debug else os.getenv("API_TOKEN")', PW),
    (f'x = "{KEY}" if c else ENV["SECRET_KEY"]', KEY),
    (f'x = "{PW}" or os.environ["DB_PASSWORD"]', PW),
    (f'x = "{PW}" || process.env.API_TOKEN', PW),
    (f'x = "{PW}" ?? process.env.API_TOKEN', PW),
    (f"const x = isProd ? '{PW}' : process.env.API_TOKEN;", PW),
    (f'x = c ? process.env["API_TOKEN"] : "{PW}"', PW),
    (f'x = os.getenv("DB_PASSWORD", "{PW}")', PW),
    (f'conn(os.environ.get("API_TOKEN", "{PW}"))', PW),
    (f"x = ENV['API_KEY'] || '{PW}'", PW),
    (f'    return "{PW}" if c else os.environ["DB_PASSWORD"]', PW),
    (f'const cfg = {{ x: "{PW}" || process.env.API_TOKEN }}', PW),
    (f"let x = c ? `{PW}` : process.env.API_TOKEN", PW),
    # --- A CSV, TSV or semicolon table whose header names a key's column in camel case.
    (f"\nname,hmacKey\nacme,{KEY}\n", KEY),
    (f"\nid\tsigningKey\n1\t{KEY}\n", KEY),
    (f"\nid\thmacKey\n1\t{KEY}\n", KEY),
    (f"\nid;clientKey;team\n7;{KEY};pay\n", KEY),
    (f"\nname,HMACKey\nacme,{KEY}\n", KEY),
    (f"\n| name | hmacKey |\n|---|---|\n| acme | {KEY} |\n", KEY),
    (f'\n"name","hmacKey"\n"acme","{KEY}"\n', KEY),
    (f"\n name | hmac_key \n------+----------\n acme | {KEY}\n", KEY),
    # --- A key's name and its key after a space (no `=`, no flag, no ENV).
    (f"HMAC_KEY {KEY}", KEY),
    (f"hmacKey {KEY}", KEY),
    (f"consumer.key {KEY}", KEY),
    (f"ALGOLIA_ADMIN_KEY  {KEY}", KEY),
    (f"HMAC_KEY\t{KEY}", KEY),
    (f'consumer_key "{KEY}"', KEY),
    (f"set $hmac_key {KEY};", KEY),
    (f"fastcgi_param HMAC_KEY {KEY};", KEY),
    # --- A flag whose value is on the next line, after a line continuation.
    (f"deploy --api-key \\\n  {KEY}", KEY),
    (f"deploy --api-key \\\n  {PW}", PW),
    (f"deploy --hmac-key \\\n    {KEY} \\\n  --region eu", KEY),
    (f"deploy --password \\\n  {PW}", PW),
    (f"deploy --db-password=\\\n  {PW}", PW),
    (f"Connect-Thing -SigningKey `\n  {KEY}", KEY),
    (f"Connect-Thing -Password `\n  {PW}", PW),
    (f"deploy --api-key ^\n  {KEY}", KEY),
    (f"deploy --password ^\r\n  {PW}", PW),
    (f"deploy --hmac-key=\\\n  {KEY}", KEY),
    # --- XML over lines: an element's text, an attribute.
    (f"<apiKey>\n  {KEY}\n</apiKey>", KEY),
    (f"<apiKey>\n  {PW}\n</apiKey>", PW),
    (f'<user name="app"\n      password="{PW}"/>', PW),
    (f'<user password=\n  "{PW}"/>', PW),
    (f'<add key="hmacKey"\n     value="{KEY}"/>', KEY),
    (f'<add key="apiKey"\n     value="{PW}"/>', PW),
    (f'<add\n  key="ApiKey"\n  value="{PW}" />', PW),
    (f'<Credential\n  Password="{PW}"\n  User="app"/>', PW),
    (f"<user\n  password=\n  '{PW}'/>", PW),
    (f'<add key="ApiKey"\n     value=\n     "{PW}"/>', PW),
    # --- PagerDuty's routing key, shaped like a key.
    (f"routing_key={HEX32}", HEX32),
    (f"routingKey: {KEY32}", KEY32),
    (f"--routing-key {HEX32}", HEX32),
    (f"X-Routing-Key: {KEY32}", KEY32),
    (json.dumps({"routing_key": HEX32, "event_action": "trigger"}), HEX32),
    (f"PAGERDUTY_ROUTING_KEY={KEY32}", KEY32),
]


#: Each case is a regex pass over a few lines, well under the ~1.5 ms of CPU a pytest item costs
#: of its own, so they run as a few items (tests/case_chunks.py), each failing one named.
CHUNKS = 2
LEFTOVERS_IN_CONTEXTS = [(t, s, c) for c in sorted(CONTEXTS) for t, s in LEFTOVERS]


def _leftover_left(case: tuple[str, str, str]) -> tuple[str | None, None]:
    """The output if a run of the secret survives in it, else None."""
    text, secret, context = case
    out = _redacted(CONTEXTS[context](text))
    return (out if _leaked(secret, out) else None), None


@pytest.mark.parametrize("cases", dealt(LEFTOVERS_IN_CONTEXTS, CHUNKS))
def test_a_leftover_secret_goes_in_every_context(cases: list[tuple[str, str, str]]) -> None:
    """Each known leftover loses its secret in a log line, JSON, a k8s event and a traceback."""
    assert_each(cases, _leftover_left, name="text/secret/context")


ORDINARY = [
    # Code: a literal beside a read of no secret, an empty literal.
    'x = "db.internal" if c else os.environ["DB_HOST"]',
    'label = "high" if p99 > 2 else os.environ["LEVEL"]',
    "x = c ? 'up' : process.env.STATUS",
    'x = "" if c else os.environ["DB_PASSWORD"]',
    'host = "localhost" || process.env.DB_HOST',
    'print("done") if ok else token',
    'msg = "a" or "b"',
    # Tables: a cache's, sort's or object's key in camel case.
    "\nname,cacheKey,sortKey\nacme,user:42:profile,createdAt\n",
    "\nid\tobjectKey\n1\tuploads/2026/report-final.pdf\n",
    # A key's name and an ordinary value after a space.
    "CACHE_KEY user:42:profile",
    "sort_key createdAt",
    "partitionKey tenant-42",
    "idempotency_key 9b2c6f1e-8d4a-4c1b-9e7f-2a3b4c5d6e7f",
    "primary_key id missing in table orders",
    # A flag on the next line: an ordinary value, a placeholder, another flag.
    "deploy --cache-key \\\n  user:42 \\\n  --region eu",
    "deploy --api-key \\\n  $API_KEY",
    "deploy --password \\\n  --dry-run",
    "deploy --cache-key ^\n  user:42",
    "echo $cache_key user:42",
    # XML over lines: a sort key, a cache key.
    "<sortKey>\n  createdAt\n</sortKey>",
    '<add key="cacheKey"\n     value="user:42:profile"/>',
    # A routing key of words (RabbitMQ's), in every form.
    "routing_key=orders",
    "routing_key: critical",
    "routingKey=payments",
    "--routing-key orders",
    "<routingKey>orders</routingKey>",
    "X-Routing-Key: payments",
    "--routing-key=orders",
    "routing_key orders",
    json.dumps({"routing_key": "payments", "exchange": "events"}),
]


ORDINARY_IN_CONTEXTS = [CONTEXTS[c](t) for c in sorted(CONTEXTS) for t in ORDINARY]


@pytest.mark.parametrize("texts", dealt(ORDINARY_IN_CONTEXTS, CHUNKS))
def test_ordinary_text_in_these_forms_stays_in_every_context(texts: list[str]) -> None:
    """Ordinary values in the leftovers' forms stay whole, in every context."""
    assert_each(texts, lambda text: (_redacted(text), text), name="text")


def test_a_routing_keys_json_value_goes_only_when_shaped_like_a_key() -> None:
    """A JSON payload's routing key loses PagerDuty's key and keeps a broker's word."""
    assert_each(
        ["routing_key", "routingKey", "PAGERDUTY_ROUTING_KEY"],
        lambda name: (
            [REDACTOR.value({name: value}) for value in ("orders", HEX32, KEY32)],
            [{name: "orders"}, {name: X}, {name: X}],
        ),
        name="name",
    )
