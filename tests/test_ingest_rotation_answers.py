"""What the gateway answers once a re-read of its tokens' secret is refused (a rotation gone
wrong, the secret deleted): tokens held keep deciding, so a credential that matches none of them
is a 401, not a 503 that senders would retry for ever; the refusal is one line."""

from __future__ import annotations

import json
from collections.abc import Callable

import boto3
import httpx2
import pytest
from structlog.testing import capture_logs

from daemon_harness import Queues
from ingest_harness import TOKENS, ingest_settings, loopback_client, running

TOKEN = TOKENS["generic"]
JUNK = "junk-token-that-was-never-listed-0123"
NEXT = "generic-next-token-9876543210"
GENERIC = json.dumps({"title": "disk full", "dedup_key": "disk-full"}).encode()
SECRET = "triage/turns-bad"


def _shared_tokens(secrets: object) -> None:
    """A rotation the gateway refuses: one token for two sources."""
    shared = json.dumps({"generic": [TOKEN, NEXT], "grafana": NEXT})
    secrets.put_secret_value(SecretId=SECRET, SecretString=shared)  # type: ignore[attr-defined]


def _deleted(secrets: object) -> None:
    """The secret gone (Secrets Manager answers ResourceNotFoundException, as it does access
    denied: retrying cannot fix it)."""
    secrets.delete_secret(SecretId=SECRET, ForceDeleteWithoutRecovery=True)  # type: ignore[attr-defined]


async def _post(client: httpx2.AsyncClient, token: str) -> httpx2.Response:
    return await client.post(
        "/v1/alerts/generic", content=GENERIC, headers={"Authorization": f"Bearer {token}"}
    )


@pytest.mark.parametrize("turn_bad", [_shared_tokens, _deleted], ids=["bad-rotation", "deleted"])
async def test_junk_after_a_refused_reread_is_401_and_the_held_token_still_passes(
    queues: Queues, turn_bad: Callable[[object], None]
) -> None:
    """Once the secret turns bad, every credential that matches no held token is 401 (never
    503 tokens_unavailable), the held token is still 202, and the refused re-read is said in
    `ingest.tokens_refused` lines that quote no token."""
    secrets = boto3.client("secretsmanager", endpoint_url=queues.endpoint, region_name="us-east-1")
    secrets.create_secret(Name=SECRET, SecretString=json.dumps({"generic": TOKEN}))
    settings = ingest_settings(
        queues.url,
        queues.endpoint,
        ingest_tokens=None,
        ingest_tokens_secret_id=SECRET,
        ingest_tokens_refresh_s=0.001,
    )
    async with running(settings) as service, loopback_client(service.port) as client:
        turn_bad(secrets)
        with capture_logs() as logs:
            statuses = [(await _post(client, token)).status_code for token in (JUNK, NEXT, JUNK)]
        assert statuses == [401, 401, 401]
        assert (await _post(client, TOKEN)).status_code == 202
    refused = [e for e in logs if e["event"] == "ingest.tokens_refused"]
    assert refused, "a credential that failed asked again, and the re-read was refused"
    assert all(e["kept"] == "the tokens read before" for e in refused)
    lines = [e for e in logs if e["event"] == "ingest.refused"]
    assert [(e["status"], e["reason"]) for e in lines] == [(401, "unauthorized")] * 3
    for token in (TOKEN, NEXT, JUNK):
        assert token not in repr(logs)
