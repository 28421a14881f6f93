"""What the public secret scanners know and the redactor missed, by class: tokens of vendors'
prefix families (read from gitleaks' `config/gitleaks.toml`, trufflehog's detectors, Yelp's
detect-secrets plugins and GitHub's list of supported secret scanning patterns), a secret's
value in a Kubernetes env entry under any secret's name, a framework's session cookie by its
name, a key-shaped value after a name ending in `key`, and code that reads a secret with a
literal fallback or suffix (only the literal goes).

Every token here is generated from a seeded `random.Random` in the vendor's documented shape,
so nothing in this file is a credential. Each class is checked in the places alerts carry it
(a log line, a URL's query, a JSON field, an env dump, a stack trace, kubectl's and helm's
output), and ordinary alert text beside it (hosts, UUIDs, ARNs, commit SHAs, trace ids, metric
names, Stripe's object ids) must come out as it went in.
"""

from __future__ import annotations

import base64
import json
import random
import string
from collections.abc import Callable

import pytest

from case_chunks import assert_each, dealt
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
    # A literal joined to the secret read (`+ "…"`), mid-line and at a line's start.
    (f'x = 1; pw = os.environ["X"] + "{PW}"', f'x = 1; pw = os.environ["X"] + "{X}"'),
    (f'token = getenv("T") + "{PW}"', f'token = getenv("T") + "{X}"'),
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


#: Each case is a regex pass over a line or a few, well under the ~1.5 ms of CPU a pytest item
#: costs of its own: a test's cases run as one item, or a few for the hundreds
#: (tests/case_chunks.py), each failing case named with what it gave.
VENDOR_CHUNKS = 4


def test_a_fallback_literal_goes_and_the_code_reading_the_secret_stays() -> None:
    """Code reading a secret with a literal fallback loses the literal only, anywhere on a line."""
    assert_each(CODE_FALLBACKS, lambda case: (_redacted(case[0]), case[1]), name="text/expected")


def test_code_that_only_reads_a_secret_by_subscript_or_fallback_keeps_its_text() -> None:
    """A subscript read (`os.environ["X"]`) and a fallback to another read hold no secret."""
    assert_each(CODE_READS, lambda text: (_redacted(text), text), name="text")


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


def _k8s_env_wrong(name: str) -> tuple[list[str], list[str]]:
    """The outputs, raw and JSON-escaped, that keep the secret or lose a name (none expected)."""
    secret = "q2gWvpjumdw8i86gy9j64luz6mrkdzus"
    raw = f"    env:\n    - name: {name}\n      value: {secret}\n    - name: LOG_LEVEL\n"
    outs = [_redacted(text) for text in (raw, json.dumps({"spec": raw}))]
    return [o for o in outs if secret in o or "LOG_LEVEL" not in o or name not in o], []


def test_a_kubernetes_env_value_goes_under_every_secret_name() -> None:
    """`- name: X` then `value: …` loses the value whenever the redactor calls X a secret's name."""
    assert_each(K8S_NAMES, _k8s_env_wrong, name="name")


def test_a_kubernetes_env_value_of_another_name_stays() -> None:
    """An env entry whose name the redactor calls no secret's keeps its value."""
    texts = [
        f"    - name: {name}\n      value: '3600'\n"
        for name in ["LOG_LEVEL", "TOKEN_TTL_SECONDS", "PASSWORD_MIN_LENGTH"]
    ]
    assert_each(texts, lambda text: (_redacted(text), text), name="text")


# --- Vendors' tokens by their prefix -----------------------------------------------------------


def _draw(rng: random.Random, alphabet: str, count: int) -> str:
    """`count` characters of `alphabet`, a digit among them and, where the alphabet has capitals,
    one of those: what a real token of that alphabet holds."""
    while True:
        value = "".join(rng.choice(alphabet) for _ in range(count))
        capitals = any(c.isupper() for c in alphabet)
        if any(c.isdigit() for c in value) and (not capitals or any(c.isupper() for c in value)):
            return value


def _uuid(rng: random.Random) -> str:
    h = _draw(rng, HEX, 32)
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"


def _grafana_legacy(rng: random.Random) -> str:
    """Grafana's API keys before service accounts: base64 of compact JSON, `{"k":"…",…}`."""
    claims = {"k": _draw(rng, ALNUM, 32), "n": "ci-deploy", "id": 1}
    return base64.b64encode(json.dumps(claims, separators=(",", ":")).encode()).decode()


#: Each token format the scanners know and the redactor missed: vendor, and how to make one.
#: Sources: gitleaks (`config/gitleaks.toml`), trufflehog (`pkg/detectors`), detect-secrets
#: (`plugins/twilio.py`), GitHub's supported secret scanning patterns.
VENDOR_TOKENS: dict[str, Callable[[random.Random], str]] = {
    "adobe-client-secret": lambda r: "p8e-" + _draw(r, ALNUM, 32),
    "defined-networking": lambda r: f"dnkey-{_draw(r, LOWER_ALNUM, 26)}-{_draw(r, B64URL, 52)}",
    "intra42-secret": lambda r: "s-s4t2ud-" + _draw(r, HEX, 64),
    "intra42-secret-next": lambda r: "u-s4t2af-" + _draw(r, HEX, 64),
    "settlemint-pat": lambda r: "sm_pat_" + _draw(r, ALNUM, 16),
    "octopus-deploy": lambda r: "API-" + _draw(r, UPPER_ALNUM, 26),
    "plaid-access-token": lambda r: "access-production-" + _uuid(r),
    "fly-io-macaroon": lambda r: "fm1r_" + _draw(r, B64, 120),
    "dropbox-short-lived": lambda r: "sl." + _draw(r, B64URL, 138),
    "dropbox-short-lived-new": lambda r: "sl.u." + _draw(r, B64URL, 300),
    "twilio-api-key-sid": lambda r: "SK" + _draw(r, HEX, 32),
    "grafana-api-key": _grafana_legacy,
    "azure-ad-secret-tilde": lambda r: "a~b8Q~" + _draw(r, ALNUM + "_~.-", 34),
    "adafruit-io": lambda r: "aio_" + _draw(r, ALNUM, 28),
    "apify": lambda r: "apify_api_" + _draw(r, ALNUM, 36),
    "bitbucket-data-center": lambda r: "BBDC-" + _draw(r, B64 + "@_-", 44),
    "bannerbear": lambda r: "bb_pr_" + _draw(r, HEX, 30),
    "cloudflare-global-key-v2": lambda r: "cfk_" + _draw(r, ALNUM, 40) + _draw(r, HEX, 8),
    "endor-labs": lambda r: "endr+" + _draw(r, ALNUM, 16),
    "figma-pat-v3": lambda r: "figp_" + _draw(r, B64URL, 44),
    "fleetbase": lambda r: "flb_live_" + _draw(r, ALNUM, 20),
    "flexport": lambda r: "shltm_" + _draw(r, B64URL, 40),
    "fullstory": lambda r: "na1." + _draw(r, B64, 100),
    "nvidia-nim": lambda r: "nvapi-" + _draw(r, B64URL, 64),
    "new-relic-browser-key": lambda r: "NRBR-" + _draw(r, HEX, 19),
    "new-relic-query-key": lambda r: "NRIQ-" + _draw(r, B64URL, 25),
    "nightfall": lambda r: "NF-" + _draw(r, ALNUM, 32),
    "pagarme": lambda r: "ak_live_" + _draw(r, ALNUM, 30),
    "posthog-personal": lambda r: "phx_" + _draw(r, ALNUM, 45),
    "pubnub-publish-key": lambda r: "pub-c-" + _uuid(r),
    "ramp-secret": lambda r: "ramp_sec_" + _draw(r, ALNUM, 48),
    "razorpay-key": lambda r: "rzp_live_" + _draw(r, ALNUM, 14),
    "robinhood-crypto": lambda r: "rh-api-" + _uuid(r),
    "rootly": lambda r: "rootly_" + _draw(r, HEX, 64),
    "salad-cloud": lambda r: f"salad_cloud_{_draw(r, ALNUM, 6)}_{_draw(r, ALNUM, 30)}",
    "sonarcloud": lambda r: "sqco_" + _draw(r, ALNUM, 59),
    "sourcegraph": lambda r: f"sgp_{_draw(r, HEX, 16)}_{_draw(r, HEX, 40)}",
    "sourcegraph-legacy": lambda r: "sgp_" + _draw(r, HEX, 40),
    "sourcegraph-cody": lambda r: "slk_" + _draw(r, HEX, 64),
    "stripe-client-secret": lambda r: f"pi_{_draw(r, ALNUM, 24)}_secret_{_draw(r, ALNUM, 25)}",
    "trufflehog-enterprise": lambda r: "thog-secret-" + _draw(r, HEX, 32),
    "ubidots": lambda r: "BBFF-" + _draw(r, ALNUM, 30),
    "voiceflow": lambda r: f"VF.DM.{_draw(r, HEX, 24)}.{_draw(r, ALNUM, 16)}",
    "doppler-scim": lambda r: "dp.scim." + _draw(r, ALNUM, 44),
    "doppler-audit": lambda r: "dp.audit." + _draw(r, ALNUM, 44),
    "zapier-webhook": lambda r: (
        f"https://hooks.zapier.com/hooks/catch/{_draw(r, string.digits, 7)}/"
        f"{_draw(r, LOWER_ALNUM, 7)}/"
    ),
    "tines-webhook": lambda r: (
        f"https://acme-prod.tines.com/webhook/{_draw(r, LOWER_ALNUM, 32)}/"
        f"{_draw(r, LOWER_ALNUM, 32)}"
    ),
}

#: The places alerts carry a token in, with nothing around it that names it a secret.
PLACES: dict[str, Callable[[str], str]] = {
    "log-line": lambda t: f"2026-12-05T02:14:07Z ERROR sync-worker-3 upstream refused {t} (401)",
    "url-query": lambda t: f"GET https://api.example.com/v2/sync?ref={t}&page=2 -> 401",
    "json-field": lambda t: json.dumps({"alert": "sync failed", "detail": f"sent {t}"}),
    "env-dump": lambda t: f"HOSTNAME=web-7f9c\nUPSTREAM={t}\nLOG_LEVEL=info",
    "stack-trace": lambda t: (
        "Traceback (most recent call last):\n"
        '  File "/srv/app/jobs/sync.py", line 88, in run\n'
        f"    client = Client({t!r}, timeout=5)\nAuthError: 401"
    ),
    "kubectl-describe": lambda t: f"    Args:\n      --upstream={t}\n    State:  Running",
    "helm-output": lambda t: f"helm upgrade sync ./chart --set upstream.ref={t} --wait",
    "sentence-end": lambda t: f"Rotated the credential {t}.",
}


#: What a webhook URL's generator writes literally: its host and path stay, by design.
_LITERAL_PARTS = ("https://hooks.zapier.com/hooks/catch/", "https://acme-prod.tines.com/webhook/")


def _survivors(token: str, output: str) -> list[str]:
    """The 8-character runs of the token's second half (a webhook URL's literal host and path
    aside) found in `output`."""
    for literal in _LITERAL_PARTS:
        token = token.replace(literal, "")
    tail = token[len(token) // 2 :]
    return sorted({tail[i : i + 8] for i in range(len(tail) - 7) if tail[i : i + 8] in output})


def _vendor_leaks(case: tuple[str, str]) -> tuple[list[tuple[str, str]], list[str]]:
    """(token, output) for each of three seeded tokens whose runs survive (none expected)."""
    vendor, place = case
    tokens = [VENDOR_TOKENS[vendor](random.Random(f"{vendor}/{seed}")) for seed in range(3)]
    outs = [(token, _redacted(PLACES[place](token))) for token in tokens]
    return [(token, out) for token, out in outs if _survivors(token, out)], []


VENDORS_IN_PLACES = [(v, p) for p in sorted(PLACES) for v in sorted(VENDOR_TOKENS)]


@pytest.mark.parametrize("cases", dealt(VENDORS_IN_PLACES, VENDOR_CHUNKS))
def test_a_vendor_token_known_by_its_prefix_is_redacted_wherever_it_stands(
    cases: list[tuple[str, str]],
) -> None:
    """A token of each prefix family the scanners know goes, with nothing naming it a secret."""
    assert_each(cases, _vendor_leaks, name="vendor/place")


#: Ordinary alert text beside the prefixes above: none of it is a secret, all of it stays.
ORDINARY = [
    "host ip-10-0-3-17.eu-west-1.compute.internal is down; see ssl.example.com",
    "instance i-0abcd1234ef567890 in vpc-0f1e2d3c4b5a69788 failed its status check",
    "arn:aws:sns:eu-west-1:123456789012:alerts-prod",
    "deploy 3f9a1c2b4d5e6f708192a3b4c5d6e7f8091a2b3c of checkout by build-bot",
    "trace_id=4bf92f3577b34da6a3ce929d0e0e4736 span_id=00f067aa0ba902b7",
    "request 9b2c6f1e-8d4a-4c1b-9e7f-2a3b4c5d6e7f for tenant 1f2e3d4c-5b6a-4978-8a9b-0c1d2e3f4a5b",
    "metric http_server_requests_seconds_count{uri=/api/v2/orders} above 500",
    "charge ch_3MmlLrLkdIwHu7ix0snN0B15 for pi_3MtwBwLkdIwHu7ix28a3tqPa declined",
    "customer cus_NffrFeUfNV2Hib subscription sub_1MowQVLkdIwHu7ixeRlqHVzs past due",
    "API-Gateway 5XX rate above 2% on API-PROD-EU",
    "NF-kB pathway job nightly-NF-2024 finished",
    "access-production-logs bucket policy changed",
    "aio_pika connection pool exhausted in aio_http_client_worker_pool",
    "SKU SKIPPED-ORDERS-QUEUE depth 1200; TASK DISK RISK",
    "pod checkout-7d9f8b6c5d-x2x7k OOMKilled (exit 137)",
    "user_session_count=1203 active_sessions=88",
    "https://github.com/acme/shop/commit/3f9a1c2b4d5e6f708192a3b4c5d6e7f8091a2b3c",
    "https://acme.tines.com/stories/1234 story failed",
    "phx_request_duration_seconds p99 above 2s",
]


def test_ordinary_alert_text_beside_the_prefixes_stays() -> None:
    """Hosts, resource ids, ARNs, commit SHAs, trace ids, metrics and Stripe's object ids stay."""
    assert_each(ORDINARY, lambda text: (_redacted(text), text), name="text")


# --- A framework's session cookie by its name --------------------------------------------------

#: Session and login cookies as a logged request or a curl command shows them bare.
SESSION_COOKIES: dict[str, Callable[[random.Random], str]] = {
    "gitlab": lambda r: "_gitlab_session=" + _draw(r, LOWER_ALNUM, 32),
    "rails": lambda r: f"_shop_session={_draw(r, B64, 120)}--{_draw(r, HEX, 40)}",
    "github": lambda r: "_gh_sess=" + _draw(r, B64, 80),
    "asp-net-forms": lambda r: ".ASPXAUTH=" + _draw(r, "0123456789ABCDEF", 160),
    "play": lambda r: "PLAY_SESSION=" + _draw(r, B64URL, 80),
    "coldfusion": lambda r: "CFTOKEN=" + _draw(r, string.digits, 8),
    "named-session": lambda r: "user_session=" + _draw(r, B64URL, 48),
    "rack": lambda r: "rack.session=" + _draw(r, B64, 80),
}


def _cookie_wrong(cookie: str) -> tuple[list[str], list[str]]:
    """The outputs that keep the cookie's value or lose its name (none expected)."""
    pair = SESSION_COOKIES[cookie](random.Random(cookie))
    name, value = pair.split("=", 1)
    texts = (
        f"GET /users/sign_in {pair} 302",
        f"curl -b '{pair}; path=/' https://shop.example.com/",
        json.dumps({"request": f"set {pair}"}),
    )
    outs = [_redacted(text) for text in texts]
    return [out for out in outs if value[-12:] in out or name not in out], []


def test_a_session_cookie_goes_by_its_name() -> None:
    """A framework's session or login cookie loses its value in a request line and in curl."""
    assert_each(sorted(SESSION_COOKIES), _cookie_wrong, name="cookie")


def test_a_session_cookie_that_holds_no_session_stays() -> None:
    """A count, a short name or a deletion under a session cookie's name stays."""
    texts = ["user_session=42", "tmux_session=main", "_shop_session=deleted", "session=on"]
    assert_each(texts, lambda text: (_redacted(text), text), name="text")


# --- A key-shaped value after a name that ends in `key` ----------------------------------------

#: gitleaks' generic-api-key: a name ending in `key`, a value that looks like a key.
KEY_NAMED = [
    ("ALGOLIA_ADMIN_KEY={}", HEX, 32),
    ("OPENAI_KEY={}", ALNUM, 48),
    ("MAPBOX_KEY: {}", HEX, 32),
    ('{{"consumer_key": "{}"}}', ALNUM, 32),
    ("HMAC_KEY={}", B64, 40),
    ("    jwt.key = {}", B64URL, 43),
    ("--set mailgun.signing-key={}", HEX, 40),
]


def _key_value_wrong(case: tuple[str, str, int]) -> tuple[str | None, None]:
    """The output if it keeps the value's end or loses the name's start, else None."""
    template, alphabet, count = case
    value = _draw(random.Random(template), alphabet, count)
    out = _redacted(template.format(value))
    ok = value[-10:] not in out and template.split("{")[0][:6] in out
    return (None if ok else out), None


def test_a_key_shaped_value_after_a_name_ending_in_key_goes() -> None:
    """A random token or a long hex run after `<anything>_key` goes, the name stays."""
    assert_each(KEY_NAMED, _key_value_wrong, name="template/alphabet/count")


NO_KEYS = [
    "CACHE_KEY=user:42:profile",
    "PRIMARY_KEY=id",
    "partition_key=tenant_id",
    "sort_key=2026-12-05T02:14:07Z",
    "object_key=uploads/2026/12/Report_Final2.pdf",
    "idempotency_key=order-2026-12-05-000417",
    "routing_key_count=12",
    "monkey=ThisIsNotAKey2024Value",
    '{"key": "Environment", "value": "prod"}',
    "deploy_key=github-actions-deploy",
]


def test_a_value_that_is_no_key_after_a_name_ending_in_key_stays() -> None:
    """An id, a path, a slug, a timestamp or a word after a `*_key` name stays."""
    assert_each(NO_KEYS, lambda text: (_redacted(text), text), name="text")
