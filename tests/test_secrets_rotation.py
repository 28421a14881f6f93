"""The backend token while Secrets Manager rotates it (moto server): the version staged
`AWSPENDING` is never sent before it is `AWSCURRENT`, a backend that already takes only the
new token costs each call one re-read of the secret (never a loop), and once the rotation
finishes the sink's probe reads the new token and tickets flow again."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest

from factories import view
from moto_speed import aws_session
from triage.demo.ticketd import TicketServer
from triage.errors import SinkUnavailableError
from triage.models import Alert, EffectKind, Priority, Status, Ticket
from triage.secrets import BackendToken
from triage.settings import Settings
from triage.sinks.backend import BackendSink
from triage.sinks.base import Effect

ALERT = Alert(
    source="generic",
    status=Status.FIRING,
    title="orders-db disk full",
    team="data",
    priority=Priority.HIGH,
    occurred_at=datetime(2026, 11, 23, 3, tzinfo=UTC),
    identity={"dedup_key": "disk"},
)
TICKET = Ticket(title="Disk full", priority=Priority.HIGH, description="df says 100%")
OLD, NEW = "token-before-rotation-1", "token-after-rotation-2"


def effect(key: str) -> Effect:
    return Effect(EffectKind.OPEN, ALERT.fingerprint, view(ALERT), TICKET, None, 1, 1, False, key)


class CountingClient:
    """A Secrets Manager client that counts GetSecretValue calls and passes them on."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.calls = 0

    async def get_secret_value(self, **kwargs: Any) -> Any:
        self.calls += 1
        return await self.inner.get_secret_value(**kwargs)


@pytest.fixture
async def secrets(moto_url: str) -> AsyncIterator[Any]:
    async with aws_session().client("secretsmanager", endpoint_url=moto_url) as client:
        await client.create_secret(Name="backend", SecretString=OLD)
        yield client


async def pending(secrets: Any) -> str:
    """Stage NEW as AWSPENDING (rotation's createSecret step); its version id."""
    put = await secrets.put_secret_value(
        SecretId="backend", SecretString=NEW, VersionStages=["AWSPENDING"]
    )
    version: str = put["VersionId"]
    return version


async def finish(secrets: Any, version: str) -> None:
    """Move AWSCURRENT to `version` (rotation's finishSecret step)."""
    described = await secrets.describe_secret(SecretId="backend")
    current = next(
        v for v, stages in described["VersionIdsToStages"].items() if "AWSCURRENT" in stages
    )
    await secrets.update_secret_version_stage(
        SecretId="backend",
        VersionStage="AWSCURRENT",
        MoveToVersionId=version,
        RemoveFromVersionId=current,
    )


async def test_a_pending_version_is_not_the_token_until_it_is_current(secrets: Any) -> None:
    """While a rotation has staged a new value as AWSPENDING, the token read is still the
    AWSCURRENT one; after finishSecret, a re-read gives the new one."""
    token = BackendToken(Settings(backend_token_secret_id="backend"), secrets)
    version = await pending(secrets)
    assert await token.get() == OLD
    await finish(secrets, version)
    token.invalidate(OLD)
    assert await token.get() == NEW


async def test_a_backend_rotated_ahead_of_the_secret_waits_and_then_takes_the_new_token(
    secrets: Any,
) -> None:
    """A backend that takes only the pending token (rotation's setSecret done, finishSecret
    not yet) refuses each create twice, with one re-read of the secret between, and the call
    waits (`unauthorized`) instead of looping; once the rotation finishes, the probe reads
    the new token and the create goes through under its own key."""
    server = TicketServer(token=NEW)
    server.start()
    counting: Any = CountingClient(secrets)
    settings = Settings(backend_base_url=server.url, backend_token_secret_id="backend")
    sink = BackendSink(settings, BackendToken(settings, counting))
    try:
        version = await pending(secrets)
        with pytest.raises(SinkUnavailableError) as caught:
            await sink.apply(effect("fp:1"))
        assert caught.value.reason == "unauthorized"
        assert (server.request_count, counting.calls) == (2, 2)
        with pytest.raises(SinkUnavailableError):
            await sink.probe()  # the secret still holds the refused token
        await finish(secrets, version)
        await sink.probe()
        assert (await sink.apply(effect("fp:1"))).ref == "T-1"
        assert server.tickets[0]["headers"]["authorization"] == f"Bearer {NEW}"
    finally:
        await sink.aclose()
        server.stop()
