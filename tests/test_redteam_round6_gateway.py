"""Red team, round 6: the webhook gateway's authentication and abuse. Each xfail is a bug a
sender or an attacker meets today (the reason says which), and passes once it is fixed."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator

import boto3
import httpx2
import pytest

from daemon_harness import Queues
from ingest_harness import (
    TOKENS,
    basic,
    bearer,
    ingest_settings,
    loopback_client,
    payload,
    running,
    sentry_headers,
)
from triage.ingest import IngestService
from triage.ingest.replay import REPLAY_WINDOW_S, ReplayGuard

GRAFANA_BODY = payload("grafana/group-firing.json")
GENERIC = json.dumps({"title": "disk full on db-1", "dedup_key": "disk-db-1"}).encode()


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def grafana_signed(body: bytes, sent_at: str) -> dict[str, str]:
    """Grafana's HMAC headers for `body` sent at `sent_at` (its timestamp header set)."""
    message = sent_at.encode() + b":" + body
    digest = hmac.new(TOKENS["grafana"].encode(), message, hashlib.sha256).hexdigest()
    return {
        "X-Grafana-Alerting-Signature": digest,
        "X-Grafana-Alerting-Timestamp": sent_at,
        "Content-Type": "application/json",
    }


def queued(queues: Queues) -> list[str]:
    """The bodies now on the queue (left in place: visibility 0)."""
    response = queues.client().receive_message(
        QueueUrl=queues.url, MaxNumberOfMessages=10, VisibilityTimeout=0
    )
    return [m["Body"] for m in response.get("Messages", [])]


@pytest.fixture
async def gateway(queues: Queues) -> AsyncIterator[IngestService]:
    async with running(ingest_settings(queues.url, queues.endpoint)) as service:
        yield service


@pytest.fixture
async def client(gateway: IngestService) -> AsyncIterator[httpx2.AsyncClient]:
    async with loopback_client(gateway.port) as c:
        yield c


# --- Replays of a signed Grafana delivery ----------------------------------------------------


async def test_a_grafana_capture_signed_by_a_fast_clock_is_not_queued_again_later(
    gateway: IngestService, client: httpx2.AsyncClient, queues: Queues
) -> None:
    """A Grafana delivery whose signed time is 200 s ahead of the gateway's clock (within the
    window: accepted), replayed 301 s later (its signed time now 101 s behind, still within
    the window), is not queued a second time: the README says a signed time stops replays."""
    assert gateway.gateway is not None
    clock = Clock()
    gateway.gateway.replays = ReplayGuard(clock=clock)
    headers = grafana_signed(GRAFANA_BODY, str(int(time.time()) + 200))
    first = await client.post("/v1/alerts/grafana", content=GRAFANA_BODY, headers=headers)
    assert first.status_code == 202, first.text
    clock.now += REPLAY_WINDOW_S + 1  # the guard's memory of it has lapsed
    # (wall clock barely moved: in real time the signed time would be 101 s old)
    again = await client.post("/v1/alerts/grafana", content=GRAFANA_BODY, headers=headers)
    assert again.status_code != 202, "a captured signed delivery was queued a second time"
    assert len(queued(queues)) == 1


async def test_an_issue_resolved_again_within_the_window_is_queued(
    client: httpx2.AsyncClient, queues: Queues
) -> None:
    """Sentry sends the same body for the same issue resolved twice with nothing seen between
    (resolved, unresolved by a mis-click, resolved again): each is a new delivery, with its
    own Sentry-Hook-Timestamp, and each is queued, so the daemon's last word on the issue is
    resolved rather than the reopen before it."""
    resolved = payload("sentry/issue-resolved.json")
    issue = json.loads(resolved)
    issue["action"] = "unresolved"
    issue["data"]["issue"].update(status="unresolved", statusDetails={}, substatus="ongoing")
    unresolved = json.dumps(issue).encode()
    sent = int(time.time())
    for body, at in ((resolved, sent - 2), (unresolved, sent - 1), (resolved, sent)):
        headers = {**sentry_headers(body), "Sentry-Hook-Timestamp": str(at)}
        answer = await client.post("/v1/alerts/sentry", content=body, headers=headers)
        assert answer.status_code == 202, f"delivery sent at {at}: {answer.text}"
    assert len(queued(queues)) == 3


# --- Tokens from Secrets Manager ------------------------------------------------------------


async def test_a_source_turned_on_in_the_secret_takes_its_sender_without_a_restart(
    queues: Queues,
) -> None:
    """A source whose token is added to the secret (`put-secret-value`) takes its sender's
    first requests once the refresh interval allows a re-read, as a rotated token does, rather
    than answering 404 (which Grafana's Test button and Sentry read as a wrong URL) for up to
    TRIAGE_INGEST_TOKENS_TTL_S."""
    secrets = boto3.client("secretsmanager", endpoint_url=queues.endpoint, region_name="us-east-1")
    arn = secrets.create_secret(
        Name="triage/ingest-round6", SecretString=json.dumps({"generic": TOKENS["generic"]})
    )["ARN"]
    settings = ingest_settings(
        queues.url,
        queues.endpoint,
        ingest_tokens=None,
        ingest_tokens_secret_id=arn,
        ingest_tokens_refresh_s=0.05,
    )
    async with running(settings) as service, loopback_client(service.port) as client:
        secrets.put_secret_value(
            SecretId=arn,
            SecretString=json.dumps(
                {"generic": TOKENS["generic"], "alertmanager": TOKENS["alertmanager"]}
            ),
        )
        body = payload("alertmanager/group-firing.json")
        statuses = []
        deadline = time.monotonic() + 5  # many refresh intervals; the TTL is 300 s
        while time.monotonic() < deadline:
            answer = await client.post(
                "/v1/alerts/alertmanager", content=body, headers=bearer("alertmanager")
            )
            statuses.append(answer.status_code)
            if answer.status_code == 202:
                break
            await asyncio.sleep(0.06)  # poll: past the refresh interval before the next try
    assert statuses[-1] == 202, f"answered {sorted(set(statuses))} until the deadline"


# --- The gateway's own tokens in what it queues ---------------------------------------------


async def test_the_sources_own_token_in_a_key_field_is_never_queued(
    client: httpx2.AsyncClient, queues: Queues
) -> None:
    """A sender that can set only a URL and writes its token twice, as the URL's user info
    (the credential) and as `?key=` (Google's API-key convention; the name alone says no
    secret, so the daemon's redactor, which never held the gateway's tokens, keeps it), gets
    its alert queued without the token: the gateway knows its tokens' values."""
    token = TOKENS["generic"]
    answer = await client.get(
        f"/v1/alerts/generic?title=disk+full+on+db-1&key={token}",
        headers=basic("uptime-checker", token),
    )
    assert answer.status_code == 202, answer.text
    (body,) = queued(queues)
    assert "disk full on db-1" in body
    assert token not in body, "the gateway's own token is on the queue"


# --- Browsers ---------------------------------------------------------------------------------


async def test_a_cross_site_form_post_from_a_browser_is_not_queued(
    client: httpx2.AsyncClient, queues: Queues
) -> None:
    """An operator who once opened the webhook URL with its user info in a browser has the
    Basic credentials cached for the session; a page elsewhere then submits a hidden form to
    the gateway and the browser adds them. What Fetch Metadata says of that request
    (`Sec-Fetch-Site: cross-site`, an `Origin`) no webhook sender sends, so it is refused and
    nothing is queued, rather than a forged alert opening an incident."""
    answer = await client.post(
        "/v1/alerts/generic",
        content=b"title=forged+outage&dedup_key=csrf-1",
        headers={
            **basic("triage", TOKENS["generic"]),
            "Content-Type": "application/x-www-form-urlencoded",
            "Origin": "https://attacker.example",
            "Sec-Fetch-Site": "cross-site",
            "Sec-Fetch-Mode": "navigate",
            "Sec-Fetch-Dest": "document",
        },
    )
    assert 400 <= answer.status_code < 500, answer.text  # refused as the sender's fault
    assert queued(queues) == []
