"""Round 8 faults (helper 553): Secrets Manager failing when the backend token's TTL runs out.
The token held is still good (only a 401 says it is not): the sink keeps using it while the
secret cannot be read, and reads it again a little later."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import structlog
from aiobotocore.config import AioConfig

from fault_proxy import FaultProxy
from moto_speed import aws_session
from triage.errors import SinkUnavailableError
from triage.secrets import BackendToken
from triage.settings import Settings

GET = "secretsmanager.GetSecretValue"


@pytest.fixture
async def through_proxy(moto_url: str) -> AsyncIterator[tuple[Any, FaultProxy]]:
    """A Secrets Manager client (one attempt per call) through a fault proxy to moto, whose
    secret `t` holds `v1`."""
    session = aws_session()
    async with session.client("secretsmanager", endpoint_url=moto_url) as direct:
        await direct.create_secret(Name="t", SecretString="v1")
    config = AioConfig(retries={"total_max_attempts": 1, "mode": "standard"})
    with FaultProxy(moto_url) as proxy:
        async with session.client(
            "secretsmanager", endpoint_url=proxy.url, config=config
        ) as client:
            yield client, proxy


def _expiring(client: Any, **settings: Any) -> BackendToken:
    """A token whose TTL has run out at every call after its read."""
    return BackendToken(
        Settings(backend_token_secret_id="t", backend_token_ttl_s=1e-6, **settings), client
    )


async def test_a_refresh_that_fails_keeps_the_token_held(
    through_proxy: tuple[Any, FaultProxy],
) -> None:
    """Secrets Manager answering 503 when the TTL is over: get() still gives the token it
    held (no ticket waits on a read that changes nothing), says so once, and reads the secret
    again once it answers."""
    client, proxy = through_proxy
    token = _expiring(client)
    assert await token.get() == "v1"
    proxy.refuse(GET, 503, "ServiceUnavailable")
    with structlog.testing.capture_logs() as logs:
        assert await token.get() == "v1"
        assert await token.get() == "v1"
    held = [e["log_level"] for e in logs if e["event"] == "backend_token.held"]
    assert held == ["warning", "debug"]
    why = [e["error"] for e in logs if e["event"] == "backend_token.unavailable"]
    assert why == ["ServiceUnavailable"] * 2
    proxy.heal(GET)
    session = aws_session()
    async with session.client("secretsmanager", endpoint_url=proxy.url) as direct:
        await direct.put_secret_value(SecretId="t", SecretString="v2")
    assert await token.get() == "v2"


async def test_a_refresh_after_a_401_still_fails_while_secrets_manager_does(
    through_proxy: tuple[Any, FaultProxy],
) -> None:
    """After a 401 (`invalidate`) the token held is known bad: with Secrets Manager answering
    503, get() raises SinkUnavailableError (the message is retried), never the bad token."""
    client, proxy = through_proxy
    token = _expiring(client)
    assert await token.get() == "v1"
    token.invalidate("v1")
    proxy.refuse(GET, 503, "ServiceUnavailable")
    with pytest.raises(SinkUnavailableError, match="will retry"):
        await token.get()


async def test_a_refresh_denied_is_still_a_config_error(
    through_proxy: tuple[Any, FaultProxy],
) -> None:
    """A refresh refused as AccessDenied (the role lost its grant) is no passing fault: it is
    the ConfigError it is at start-up, not hidden behind the token held."""
    from triage.errors import ConfigError

    client, proxy = through_proxy
    token = _expiring(client)
    assert await token.get() == "v1"
    proxy.refuse(GET, 400, "AccessDeniedException")
    with pytest.raises(ConfigError, match="AccessDeniedException"):
        await token.get()
