"""What a 401 from the gateway challenges for: `Bearer realm="triage"` and Basic, so a client
that sends Basic only once challenged (Python's urllib) sends it; to a browser opening the URL
as a page, Bearer alone (no login prompt) unless it tried Basic. A sender using Basic
pre-emptively (Alertmanager's `basic_auth`, Grafana's basic auth, curl `-u`, a URL's user
info) is accepted at once. Real HTTP against the gateway on 127.0.0.1, and a real Alertmanager when installed."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import httpx2
import pytest
import yaml

from daemon_harness import Queues
from ingest_harness import TOKENS, Alertmanager, alertmanager_or_skip, payload
from triage.ingest import IngestService

TOKEN = TOKENS["generic"]
GENERIC = json.dumps({"title": "disk full", "dedup_key": "disk-full"}).encode()
BEARER_ONLY = 'Bearer realm="triage"'
BEARER_AND_BASIC = 'Bearer realm="triage", Basic realm="triage", charset="UTF-8"'
#: What a browser sends when its user opens a URL (Chromium and Firefox).
BROWSER = {
    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "Sec-Fetch-Mode": "navigate",
    "Sec-Fetch-Dest": "document",
    "User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
}


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _queued(queues: Queues) -> list[dict[str, Any]]:
    """Messages now on the queue (left in place: visibility 0)."""
    response = queues.client().receive_message(
        QueueUrl=queues.url, MaxNumberOfMessages=10, VisibilityTimeout=0
    )
    messages: list[dict[str, Any]] = response.get("Messages", [])
    return messages


async def test_a_browser_opening_the_gateway_is_challenged_for_bearer_only(
    client: httpx2.AsyncClient, queues: Queues
) -> None:
    """A browser's GET of a source's URL, without credentials, is 401 challenging Bearer alone:
    no Basic challenge, so no login prompt to type a token into."""
    response = await client.get("/v1/alerts/generic", headers=BROWSER)
    assert response.status_code == 401
    assert response.headers.get_list("www-authenticate") == [BEARER_ONLY]
    assert _queued(queues) == []


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/v1/alerts/generic", {}),
        ("/v1/alerts/generic", {"Authorization": "Bearer not-the-token-0123456789"}),
        ("/v1/alerts/generic", {"Authorization": f"Bearer Bearer {TOKEN}"}),
        ("/v1/alerts/generic", {"Authorization": f"Bearer Basic {_b64('u:' + TOKEN)}"}),
        ("/v1/alerts/generic", {"Authorization": TOKEN}),
        ("/v1/alerts/generic", {"Authorization": 'Digest username="triage", nonce="x"'}),
        ("/v1/alerts/generic", {"X-Grafana-Token": "not-the-token-0123456789"}),
        ("/v1/alerts/generic?token=not-the-token-0123456789", {}),
        ("/v1/alerts/sentry", {"Sentry-Hook-Signature": "0" * 64}),
    ],
    ids=["none", "wrong-bearer", "bearer-twice", "bearer-then-basic", "no-scheme", "digest",
         "wrong-x-grafana-token", "query-token", "sentry-wrong-signature"],
)  # fmt: skip
async def test_a_401_challenges_both_schemes_and_a_browser_page_bearer_alone(
    client: httpx2.AsyncClient, queues: Queues, path: str, headers: dict[str, str]
) -> None:
    """Every 401 challenges Bearer and Basic (a client that sends Basic only when asked then
    sends it), whatever the request got wrong; the same request from a browser page challenges
    `Bearer realm="triage"` alone (no login prompt)."""
    response = await client.post(path, content=GENERIC, headers=headers)
    assert response.status_code == 401, response.text
    assert response.headers.get_list("www-authenticate") == [BEARER_AND_BASIC]
    response = await client.post(path, content=GENERIC, headers={**headers, **BROWSER})
    assert response.status_code == 401, response.text
    assert response.headers.get_list("www-authenticate") == [BEARER_ONLY]
    assert _queued(queues) == []


async def test_a_stale_sentry_timestamp_challenges_as_every_401_does(
    client: httpx2.AsyncClient,
) -> None:
    """The 401 for a rightly signed Sentry delivery an hour old challenges both schemes too,
    and Bearer alone to a browser page: every 401 goes through the one answer."""
    body = payload("sentry/event-alert.json")
    signature = hmac.new(TOKENS["sentry"].encode(), body, hashlib.sha256).hexdigest()
    headers = {
        "Sentry-Hook-Signature": signature,
        "Sentry-Hook-Resource": "event_alert",
        "Sentry-Hook-Timestamp": str(int(time.time()) - 3600),
    }
    response = await client.post("/v1/alerts/sentry", content=body, headers=headers)
    assert response.status_code == 401, response.text
    assert response.headers.get_list("www-authenticate") == [BEARER_AND_BASIC]
    browser = {**headers, "Accept": "text/html"}
    response = await client.post("/v1/alerts/sentry", content=body, headers=browser)
    assert response.status_code == 401, response.text
    assert response.headers.get_list("www-authenticate") == [BEARER_ONLY]


@pytest.mark.parametrize(
    "authorization",
    [
        f"Basic {_b64('triage:not-the-token-0123456789')}",
        f"basic {_b64('triage:not-the-token-0123456789')}",
        f"Basic {_b64(TOKEN + ':')}",
        f"Basic {_b64('triage:' + TOKEN + chr(10))}",
        "Basic not-base64!",
        "Basic",
    ],
    ids=["wrong-password", "lower-case", "token-as-user", "echo-newline", "not-base64", "bare"],
)
async def test_a_401_to_a_basic_attempt_challenges_basic_as_well(
    client: httpx2.AsyncClient, queues: Queues, authorization: str
) -> None:
    """A request that tried Basic and failed is challenged for Bearer and for Basic, so a
    Basic-only sender learns the scheme it used is taken: from a browser page too."""
    response = await client.post(
        "/v1/alerts/generic",
        content=GENERIC,
        headers={"Authorization": authorization, **BROWSER},
    )
    assert response.status_code == 401, response.text
    assert response.headers.get_list("www-authenticate") == [BEARER_AND_BASIC]
    assert _queued(queues) == []


@pytest.mark.parametrize(
    "auth",
    [httpx2.BasicAuth("grafana", TOKEN), httpx2.BasicAuth("", TOKEN)],
    ids=["user-and-token", "empty-user"],
)
async def test_pre_emptive_basic_is_accepted_without_a_challenge(
    client: httpx2.AsyncClient, queues: Queues, auth: httpx2.BasicAuth
) -> None:
    """Basic sent with the first request (as Grafana's and Alertmanager's Go clients, curl -u
    and a URL's user info do) is accepted at once: one request, no 401."""
    seen: list[int] = []

    async def record(response: httpx2.Response) -> None:
        seen.append(response.status_code)

    client.event_hooks["response"] = [record]
    response = await client.post("/v1/alerts/generic", content=GENERIC, auth=auth)
    assert response.status_code == 202, response.text
    assert seen == [202]
    assert len(_queued(queues)) == 1


def _urllib_post(port: int, passwords: urllib.request.HTTPPasswordMgr) -> int:
    """POST GENERIC with urllib's `HTTPBasicAuthHandler` over `passwords`; the final status."""
    opener = urllib.request.build_opener(urllib.request.HTTPBasicAuthHandler(passwords))
    url = f"http://127.0.0.1:{port}/v1/alerts/generic"
    request = urllib.request.Request(url, data=GENERIC, method="POST")
    try:
        with opener.open(request, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


async def test_urllib_sends_basic_pre_emptively_or_once_challenged(
    gateway: IngestService, queues: Queues
) -> None:
    """Python's urllib with `HTTPPasswordMgrWithPriorAuth` (`is_authenticated=True`) sends
    Basic with the first request and is accepted; without it, urllib waits for a Basic
    challenge, finds it beside the Bearer one, and is accepted on its second request."""
    url = f"http://127.0.0.1:{gateway.port}/v1/alerts/generic"
    prior = urllib.request.HTTPPasswordMgrWithPriorAuth()
    prior.add_password(None, url, "triage", TOKEN, is_authenticated=True)
    assert await asyncio.to_thread(_urllib_post, gateway.port, prior) == 202
    waiting = urllib.request.HTTPPasswordMgrWithDefaultRealm()
    waiting.add_password(None, url, "triage", TOKEN)
    assert await asyncio.to_thread(_urllib_post, gateway.port, waiting) == 202
    assert len(_queued(queues)) == 2


async def _wait_queued(queues: Queues, count: int, timeout_s: float) -> list[dict[str, Any]]:
    """The queue's messages once it holds `count`, or what it holds after `timeout_s`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while True:
        messages = await asyncio.to_thread(_queued, queues)
        if len(messages) >= count or loop.time() > deadline:
            return messages
        await asyncio.sleep(0.1)  # a poll's pace, not a wait for the outcome


async def test_real_alertmanager_with_basic_auth_is_accepted(
    gateway: IngestService, queues: Queues, tmp_path: Path
) -> None:
    """Alertmanager's webhook with `http_config.basic_auth` (the token as password) sends it
    pre-emptively: its notification is queued without the gateway ever offering Basic."""
    alertmanager_or_skip()
    config = {
        "route": {"receiver": "triage", "group_wait": "0s", "group_interval": "1s"},
        "receivers": [
            {
                "name": "triage",
                "webhook_configs": [
                    {
                        "url": f"http://127.0.0.1:{gateway.port}/v1/alerts/alertmanager",
                        "http_config": {
                            "basic_auth": {
                                "username": "alertmanager",
                                "password": TOKENS["alertmanager"],
                            }
                        },
                    }
                ],
            }
        ],
    }
    alertmanager = Alertmanager(yaml.safe_dump(config), tmp_path / "alertmanager")
    try:
        url = await asyncio.to_thread(alertmanager.wait_listening)
        alert = {"labels": {"alertname": "DiskFull", "instance": "db-1", "team": "storage"}}
        async with httpx2.AsyncClient(timeout=10) as am:
            posted = await am.post(f"{url}/api/v2/alerts", json=[alert])
        assert posted.status_code == 200, posted.text
        messages = await _wait_queued(queues, 1, timeout_s=30)
    finally:
        await asyncio.to_thread(alertmanager.stop)
    assert len(messages) == 1, alertmanager.log_path.read_text()
    body = json.loads(messages[0]["Body"])
    assert [a["labels"]["alertname"] for a in body["alerts"]] == ["DiskFull"]
    assert TOKENS["alertmanager"] not in alertmanager.log_path.read_text()
