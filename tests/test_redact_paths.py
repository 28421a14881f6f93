"""Redaction of tokens in URL paths: a one-time secret after a segment that says so (`/reset/`,
`/hooks/`, `/s/`) or as a URL's last segment goes; the ids, words and hashes of ordinary URLs
stay."""

from __future__ import annotations

import json
import pathlib
import random
import re
import string

import pytest

from scaling import assert_linear
from triage.redact import redact

PAYLOADS = pathlib.Path(__file__).parent / "payloads"
BASE62 = string.ascii_letters + string.digits
#: Tokens built from a seed, so that no real-looking secret sits in the file.
_RNG = random.Random(52)


def _token(length: int, alphabet: str = BASE62) -> str:
    return "".join(_RNG.choice(alphabet) for _ in range(length))


TOKEN = "Xk9fQ2mPz7Lr4tYvB3nWq8"
NO_DIGIT = "XkfQmPzLrtYvBnWqHgJd"  # random letters: no digit at all
FEW_CHANGES = "qwzXKPT5mvbrLQZH8tyr"  # random, but long runs of one case

SECRET_PATHS = [
    f"https://api.example.com/api/v2/hooks/{TOKEN}",
    f"https://example.com/webhooks/{TOKEN}/run",
    f"https://sho.rt/t/{TOKEN}",
    f"https://sho.rt/s/{TOKEN}?utm=mail",
    f"https://files.example.com/share/{TOKEN}",
    f"https://app.example.com/callback/{TOKEN}#done",
    f"https://files.example.com/download/{TOKEN}/report.pdf",
    f"https://app.example.com/reset/{NO_DIGIT}",
    f"https://app.example.com/invite/{FEW_CHANGES}",
    # An unknown segment: the token is the URL's last segment.
    f"https://hooks.example.com/x/y/{TOKEN}",
    f"<https://hooks.example.com/notify/{TOKEN}|the hook>",
    f"[link](https://hooks.example.com/notify/{TOKEN})",
]


@pytest.mark.parametrize("url", SECRET_PATHS)
def test_a_token_in_a_url_path_is_redacted(url: str) -> None:
    """A token after a segment that says it holds one, or ending the path, becomes a
    placeholder, and the rest of the URL (host, other segments, query, wrapper) stays."""
    token = next(t for t in (TOKEN, NO_DIGIT, FEW_CHANGES) if t in url)
    assert redact(f"see {url} now") == f"see {url.replace(token, '[REDACTED:token]')} now"


def test_the_aws_secret_shape_does_not_take_a_url_host_and_path() -> None:
    """40 characters running from a host's end over path segments (`com/x/y/<32>`) are no AWS
    secret: the host stays, and only the token segment goes."""
    url = "https://app.example.com/x/y/" + _token(32)
    assert len("com/x/y/" + url.rsplit("/", 1)[1]) == 40
    assert redact(url) == "https://app.example.com/x/y/[REDACTED:token]"


#: URLs of the kind alerts link to: ids, words, hashes, names, none of them a credential.
ORDINARY_URLS = [
    "https://github.com/acme/checkout/commit/3f786850e387550fdab836ed7e6dc881de23001b",
    "https://github.com/acme/checkout/blob/9fceb02d0ae598e95dc970b74767f19372d61af8/src/App.tsx",
    "https://github.com/acme/checkout/pull/1234/files",
    "https://github.com/acme/checkout/actions/runs/7482937465/job/20392837465",
    "https://grafana.example.com/d/hZ7BuVbWz/webfronts?orgId=1&viewPanel=2",
    "https://grafana.example.com/d/fe2k1x8q0v9c0a",
    "https://grafana.example.com/d/a1B2c3D4e5F6g7H8/checkout-overview",
    "https://grafana.example.com/alerting/grafana/fe2k1x8q0v9c0a/view",
    "https://console.aws.amazon.com/cloudwatch/home?region=us-east-1"
    "#alarmsV2:alarm/awseb-e-3kxmr8fpzm-stack-AWSEBCloudwatchAlarmHigh-1X2Y3Z4W5V6U",
    "https://console.aws.amazon.com/cloudwatch/home#alarmsV2:alarm/CheckoutApiHighLatencyP99",
    "https://console.aws.amazon.com/lambda/home#/functions/checkout-api-prod-HandlerFunction-A1B2C3D4E5F6",
    "https://console.aws.amazon.com/ecs/home#/clusters/prod/tasks/8f3e5a1b2c3d4e5f6a7b8c9d0e1f2a3b",
    "https://eu-west-1.console.aws.amazon.com/cloudwatch/home/alarm/HighCPUUtilizationWebServer2024",
    "https://acme.sentry.io/issues/4504689410/events/6bd14ba1c4e04f8c8ab8e2f6e0cbb2a1/",
    "https://acme.atlassian.net/wiki/spaces/OPS/pages/123456789/Checkout+Latency+Runbook",
    "https://www.notion.so/acme/Checkout-Runbook-3f9a8c7d6e5f4a3b2c1d0e9f8a7b6c5d",
    "https://acme.slack.com/archives/C01ABCDEF23/p1700000000123456",
    "https://acme.pagerduty.com/incidents/Q0RIJJZL24RC6W",
    "https://app.datadoghq.com/monitors/12345678",
    "https://kibana.example.com/s/operations/app/discover#/view/3b5c9a80-1f2e-4d3c-9b8a-7f6e5d4c3b2a",
    "https://forum.example.com/t/checkout-latency-after-deploy/4321",
    "https://app.example.com/share/weekly-incident-review-2026",
    "https://app.example.com/callback/github",
    "https://gitlab.example.com/api/v4/projects/12/hooks/34",
    "https://runbooks.example.com/ResetYourPassword2024Guide",
    "https://runbooks.example.com/reset/ResetYourPassword2024Guide",
    "https://k8s.example.com/api/v1/namespaces/default/pods/checkout-7d9f8b6c5-x2x9z",
    "https://dashboard.stripe.com/payments/pi_3MtwBwLkdIwHu7ix28a3tqPa",
    "https://registry.example.com/v2/acme/checkout/manifests/sha256:"
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "https://docs.example.com/guides/ConfiguringAlertRoutingForTeams",
    "https://status.example.com/incidents/2026-12-04-checkout-degraded",
    "https://s3.console.aws.amazon.com/s3/object/acme-logs?prefix=2026/12/04/app.log",
    "https://xray.console.aws.amazon.com/traces/1-5759e988-bd862e3fe1be46a994272793",
    "https://app.example.com/orders/123e4567-e89b-12d3-a456-426614174000",
    "https://one.newrelic.com/redirect/entity/MTIzNDU2fEFQTXxBUFBMSUNBVElPTnwxMjM0NTY3",
    # Title-case slugs after a segment that can hold a token: words, not random text.
    "https://app.example.com/unsubscribe/Weekly-Ops-Digest-2024",
    "https://app.example.com/invite/Join-Our-Team-On-Slack-v2",
    "https://docs.example.com/token/Rotate-API-Key-2026",
    "https://docs.example.com/reset/How-To-Reset-Your-2FA-v2",
    "https://docs.example.com/confirm/Order-Id-42-Of-2026",
    # A runbook in Google Docs or Drive, linked with or without `/edit`: a document id.
    "https://docs.google.com/document/d/1aBcD3fGhIjKlMnOpQrStUvWxYz0123456789AbCdEf",
    "https://docs.google.com/document/d/1aBcD3fGhIjKlMnOpQrStUvWxYz0123456789AbCdEf/edit",
    "https://drive.google.com/drive/folders/1aBcD3fGhIjKlMnOpQrStUvWxYz01234",
]


@pytest.mark.parametrize("url", ORDINARY_URLS)
def test_ordinary_urls_stay(url: str) -> None:
    """Commit shas, UUIDs, Grafana uids, CloudWatch alarm names, slugs, camel-case titles and
    typed ids in ordinary URLs are not tokens."""
    assert redact(f"see {url} now") == f"see {url} now"


def test_no_url_of_the_sample_payloads_loses_a_path_segment() -> None:
    """Every URL in the sample payloads keeps its path: the path rules find no token there."""
    urls = set()
    for path in PAYLOADS.rglob("*.json"):
        text = json.dumps(json.loads(path.read_text()))
        urls.update(re.findall(r"https?://[^\s\"'<>\\]+", text.replace("\\/", "/")))
    assert len(urls) > 30
    assert [u for u in urls if "[REDACTED:token]" in redact(u)] == []


@pytest.mark.parametrize(
    ("prefix", "length"),
    [("/reset/", 20), ("/api/v2/hooks/", 20), ("/t/", 22), ("/x/y/", 24)],
)
def test_few_random_tokens_pass_as_names(prefix: str, length: int) -> None:
    """Of 1,000 random base62 tokens in a URL's path, fewer than 3 in 100 are taken for a
    name and kept (random text splits into about one word every 1.3 characters; a name into
    one every 5)."""
    rng = random.Random(f"{prefix}{length}")
    kept = 0
    for _ in range(1_000):
        token = "".join(rng.choice(BASE62) for _ in range(length))
        kept += token in redact(f"see https://app.example.com{prefix}{token} now")
    assert kept < 30


HOSTILE_PATHS = [
    "https://a.example.com/" + "AbCdEfGhIj" * 30_000,  # one long segment, never a token
    "https://a.example.com" + "/ResetYourPasswordGuide" * 10_000,  # many name segments
    "://" * 100_000,  # URL starts with nothing after them
    "https://x/reset/" * 20_000,  # known segments, each followed by the next
    "https://a.example.com/" + ("Ab1-" * 5 + " ") * 10_000,  # near-tokens between spaces
]


@pytest.mark.parametrize("hostile", HOSTILE_PATHS, ids=[repr(h[:24]) for h in HOSTILE_PATHS])
def test_url_paths_are_redacted_in_linear_time(hostile: str) -> None:
    """Near-miss URL paths cost time in proportion to their length."""
    assert_linear(lambda n: redact(hostile[:n]), 16_384)


@pytest.mark.parametrize(
    "host",
    [
        "us-east-1.console.aws.amazon.com",
        "console.aws.amazon.com",
        "cn-north-1.console.amazonaws.cn",
        "console.amazonaws-us-gov.com",
    ],
)
def test_an_aws_console_links_resource_id_stays(host: str) -> None:
    """A console link's last segment names the resource shown (a DevOps Guru insight's id is
    40 random base64 characters): the ticket's link must still open it."""
    url = f"https://{host}/devops-guru/insight/reactive/ADkkSnzB4ZGDpm6Bq1T5nHcAAAAAAAAAAMxOTaGt"
    assert redact(url) == url


def test_a_host_that_only_starts_like_the_aws_console_keeps_no_token() -> None:
    """The console's hosts are read whole: one under another domain is any other host."""
    token = "ADkkSnzB4ZGDpm6Bq1T5nHcAAAAAAAAAAMxOTaGt"
    for url in (
        f"https://console.aws.amazon.com.evil.example/{token}",
        f"https://evil.example/console.aws.amazon.com/{token}",
    ):
        assert token not in redact(url)
