"""The backend token from Secrets Manager (moto server) or the environment."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aioboto3
import pytest

from triage.errors import ConfigError
from triage.secrets import BackendToken
from triage.settings import Settings


@pytest.fixture
async def secrets(moto_url: str) -> AsyncIterator[Any]:
    session = aioboto3.Session(region_name="us-east-1")
    async with session.client("secretsmanager", endpoint_url=moto_url) as client:
        yield client


async def test_json_secret_with_backend_token_key(secrets: Any) -> None:
    """A JSON secret's BACKEND_TOKEN value is the token."""
    await secrets.create_secret(
        Name="t", SecretString=json.dumps({"BACKEND_TOKEN": "abc", "other": 1})
    )
    assert await BackendToken(Settings(backend_token_secret_id="t"), secrets).get() == "abc"


async def test_plain_string_secret(secrets: Any) -> None:
    """A plain-string secret is the token itself."""
    await secrets.create_secret(Name="t", SecretString="  plain-token \n")
    assert await BackendToken(Settings(backend_token_secret_id="t"), secrets).get() == "plain-token"


async def test_token_is_cached_until_invalidated(secrets: Any) -> None:
    """Within the TTL the cached token is reused; invalidate() reads the rotated secret."""
    await secrets.create_secret(Name="t", SecretString="v1")
    token = BackendToken(Settings(backend_token_secret_id="t", backend_token_ttl_s=3600), secrets)
    assert await token.get() == "v1"
    await secrets.put_secret_value(SecretId="t", SecretString="v2")
    assert await token.get() == "v1"
    token.invalidate()
    assert await token.get() == "v2"


async def test_json_secret_without_the_key_is_a_config_error(secrets: Any) -> None:
    """A JSON secret lacking BACKEND_TOKEN is a ConfigError naming the secret, not the value."""
    await secrets.create_secret(Name="t", SecretString=json.dumps({"password": "hunter2"}))
    with pytest.raises(ConfigError, match="without a BACKEND_TOKEN") as caught:
        await BackendToken(Settings(backend_token_secret_id="t"), secrets).get()
    assert "hunter2" not in str(caught.value)


async def test_missing_secret_is_a_config_error(secrets: Any) -> None:
    """A secret id that does not exist is a ConfigError naming it."""
    with pytest.raises(ConfigError, match="nope"):
        await BackendToken(Settings(backend_token_secret_id="nope"), secrets).get()


async def test_env_fallback_uses_the_named_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without a secret id, the token comes from the variable BACKEND_TOKEN_ENV_KEY names."""
    monkeypatch.setenv("MY_TOKEN", "from-env")
    assert await BackendToken(Settings(backend_token_env_key="MY_TOKEN")).get() == "from-env"
