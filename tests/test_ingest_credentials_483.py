"""The gateway's SQS client gets its credentials as the daemon's does (`aws.session_credentials`,
`aws.watch_signing`): a task role's token SQS says has expired is fetched again and the webhook
is still queued, answered 202."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from daemon_harness import Queues
from ingest_harness import bearer, ingest_settings, loopback_client, payload, running
from test_faults_round4_483 import CredentialsEndpoint, ExpiringProxy


@pytest.fixture
def endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[CredentialsEndpoint]:
    """The container credentials endpoint as the only source of credentials."""
    with CredentialsEndpoint() as server:
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials")
        monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/config")
        monkeypatch.setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", f"{server.base_url}/v2/creds")
        yield server


async def test_a_webhook_sent_with_a_token_sqs_says_expired_is_queued_with_new_ones(
    queues: Queues, endpoint: CredentialsEndpoint
) -> None:
    """A send SQS refuses with ExpiredTokenException (the role's session revoked before the
    expiry its endpoint gave) makes the gateway fetch the credentials again and send once
    more: the webhook is answered 202 and is on the queue, signed by the new key."""
    with ExpiringProxy(queues.endpoint) as proxy:
        settings = ingest_settings(proxy.queue_url(queues.url), proxy.url)
        async with running(settings) as service, loopback_client(service.port) as client:
            first_key = endpoint.access_key
            proxy.expired.add(first_key)
            endpoint.rotate()
            response = await client.post(
                "/v1/alerts/generic",
                content=payload("generic/firing.json"),
                headers=bearer("generic"),
            )
        assert response.status_code == 202, response.text
        assert proxy.signed_by[-1] == endpoint.access_key != first_key
    assert queues.depth() == 1
