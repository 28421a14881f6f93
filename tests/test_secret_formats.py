"""Every credential format of `secret_formats` is redacted in every context alerts carry it in,
and ordinary identifiers alerts are full of are left as they were."""

from __future__ import annotations

import json
from collections.abc import Callable
from urllib.parse import quote, unquote

import pytest

from case_chunks import assert_each, dealt
from secret_formats import FORMATS, Secret, SecretFormat, sample
from triage.redact import Redactor

REDACTOR = Redactor()


def _yaml(fmt: SecretFormat, secret: Secret) -> str:
    """A YAML mapping's line; a secret of several lines as a block scalar."""
    key = fmt.name.lower()
    if "\n" in secret.text:
        block = "\n".join("    " + line for line in secret.text.splitlines())
        return f"env:\n  {key}: |\n{block}\n  region: eu-west-1\n"
    return f"env:\n  {key}: {secret.text}\n  region: eu-west-1\n"


def _url(fmt: SecretFormat, secret: Secret) -> str:
    """The secret percent-encoded in a URL's query: by its name, or a neutral one for a secret
    known by its shape."""
    param = "ref" if fmt.bare else fmt.name.lower()
    return (
        f"GET https://api.example.com/v2/sync?{param}={quote(secret.text, safe='')}&page=2 -> 401"
    )


def _log(fmt: SecretFormat, secret: Secret) -> str:
    """A log line with prose around the secret (after its name, for a secret known only by it)."""
    told = secret.text if fmt.bare else f"{fmt.name}={secret.text}"
    return (
        "2026-12-05T02:14:07.123Z ERROR sync-worker-3 upstream refused the request "
        f"(credential {told}); retrying in 30s"
    )


def _trace(fmt: SecretFormat, secret: Secret) -> str:
    """A Python traceback whose source line holds the secret."""
    arg = repr(secret.text) if fmt.bare else f"{fmt.name.lower()}={secret.text!r}"
    return (
        "Traceback (most recent call last):\n"
        '  File "/srv/app/jobs/sync.py", line 88, in run\n'
        f"    client = Client({arg}, timeout=5)\n"
        "AuthError: 401 Unauthorized"
    )


#: Each context: how it writes the secret. The `bare` ones hold no name that says "secret",
#: so only formats known by their shape are checked in them.
CONTEXTS: dict[str, Callable[[SecretFormat, Secret], str]] = {
    "alone": lambda fmt, s: s.text,
    "env": lambda fmt, s: f"{fmt.name}={s.text}",
    "json": lambda fmt, s: json.dumps({"alert": "sync failed", fmt.name: s.text}),
    "yaml": _yaml,
    "url-query": _url,
    "log-line": _log,
    "stack-trace": _trace,
    "json-escaped": lambda fmt, s: json.dumps({"message": _trace(fmt, s) + "\n" + _log(fmt, s)}),
    "sentence-end": lambda fmt, s: f"Rotated the credential {s.text}.",
    "url-in-url": lambda fmt, s: (
        "https://sso.example.com/login?next="
        + quote(f"https://api.example.com/cb?ref={quote(s.text, safe='')}", safe="")
    ),
}
BARE_ONLY = {"alone", "sentence-end", "url-in-url"}


def _survivors(secret: Secret, output: str) -> list[str]:
    """The 8-character runs of the secret's random parts found in `output` (or in it
    percent-decoded once or twice, for a secret that was percent-encoded)."""
    seen = (output, unquote(output), unquote(unquote(output)))
    return sorted(
        {
            part[i : i + 8]
            for part in secret.random
            for i in range(len(part) - 7)
            if any(part[i : i + 8] in text for text in seen)
        }
    )


#: Every format this file checks: the shared table.
CHECKED = FORMATS
#: The formats by their ids: a case names its format by id, so a failure reads short.
BY_ID = {fmt.id: fmt for fmt in CHECKED}
#: Every (format id, context) checked: the `bare` contexts only for formats known by shape.
CASES = [
    (fmt.id, context)
    for fmt in CHECKED
    for context in CONTEXTS
    if fmt.bare or context not in BARE_ONLY
]


def _leak(secret: Secret, output: str) -> str | None:
    """None when no run of the secret survives in `output`; else which runs, and the output."""
    survivors = _survivors(secret, output)
    return f"{survivors} survive in {output!r}" if survivors else None


def _text_leak(case: tuple[str, str]) -> tuple[str | None, None]:
    fmt, context = BY_ID[case[0]], case[1]
    secret = sample(fmt, context)
    return _leak(secret, REDACTOR.text(CONTEXTS[context](fmt, secret))), None


def _payload_leak(fmt_id: str) -> tuple[str | None, None]:
    fmt = BY_ID[fmt_id]
    secret = sample(fmt, "payload")
    payload = {
        "labels": {fmt.name: secret.text, "alertname": "SyncFailing"},
        "annotations": {"description": _log(fmt, secret)},
        "values": [{"detail": secret.text}] if fmt.bare else [],
    }
    return _leak(secret, json.dumps(REDACTOR.value(payload), ensure_ascii=False)), None


#: Each case takes well under the ~1.5 ms of CPU a pytest item costs of its own, so they run
#: as a few items each (tests/case_chunks.py), every case still checked and named on failure.
TEXT_CHUNKS = 8
SMALL_CHUNKS = 2


@pytest.mark.parametrize("cases", dealt(CASES, TEXT_CHUNKS))
def test_secret_is_redacted_in_text(cases: list[tuple[str, str]]) -> None:
    """No run of 8 characters of the secret's random part survives `Redactor.text`."""
    assert_each(cases, _text_leak, name="format/context")


@pytest.mark.parametrize("fmt_ids", dealt([fmt.id for fmt in CHECKED], SMALL_CHUNKS))
def test_secret_is_redacted_in_a_payload(fmt_ids: list[str]) -> None:
    """No run of 8 characters of the secret survives `Redactor.value`, the pass the pipeline
    makes over an alert's raw payload: under its name as a label, under a neutral key, and in
    a log line of an annotation."""
    assert_each(fmt_ids, _payload_leak, name="format")


CONTROLS = [
    "Deployed checkout@3f9c2e1b7a4d8e6f0c5b9a2d1e7f3c8b4a6d0e2f to prod-eu (build 4411)",
    "request_id=4bd1c7a2-9e3f-4b8a-a1d2-7c6e5f4a3b2c upstream timed out",
    "trace_id=4bf92f3577b34da6a3ce929d0e0e4736 span_id=00f067aa0ba902b7",
    "first seen 2026-12-05T02:14:07.123456+00:00, last 2026-12-05T02:19:07Z",
    "metric aws.ec2.cpuutilization above 90 for 5m; http_server_requests_seconds_bucket p99 2.4s",
    "rotation failed: arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/orders-db-AbCdEf",
    "role arn:aws:iam::123456789012:role/checkout and arn:aws:sqs:eu-west-1:123456789012:alerts",
    "host ip-10-0-12-34.eu-west-1.compute.internal (i-0a1b2c3d4e5f67890) unreachable",
    "pod checkout-7d9f8b6c5d-x2x9q image registry.example.com/checkout@sha256:"
    "9b2f4c1d8e7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c",
    "GET /api/v1/orders/12345/items?page=2&per_page=50 returned 503 in 1204ms",
]


@pytest.mark.parametrize("texts", dealt(CONTROLS, 1))
def test_ordinary_identifiers_are_kept(texts: list[str]) -> None:
    """A git SHA, a UUID, a trace id, a timestamp, a metric, an ARN, a host, an image digest and
    a plain URL are not secrets: they stay as they were."""
    assert_each(texts, lambda text: (REDACTOR.text(text), text), name="text")
