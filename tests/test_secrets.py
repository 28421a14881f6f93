"""The backend token from Secrets Manager (on the moto server) or from the environment."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiobotocore.config import AioConfig

from fault_proxy import FaultProxy
from moto_speed import aws_session
from triage.errors import ConfigError, SinkUnavailableError
from triage.ingest.auth import TokenStore, TokensUnavailable
from triage.secrets import BackendToken
from triage.settings import Settings


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
    session = aws_session()
    async with session.client("secretsmanager", endpoint_url=moto_url) as client:
        yield client


def from_secret(client: Any, secret_id: str = "t", **settings: Any) -> BackendToken:
    return BackendToken(Settings(backend_token_secret_id=secret_id, **settings), client)


async def test_json_secret_with_backend_token_key(secrets: Any) -> None:
    """A JSON secret's BACKEND_TOKEN value is the token."""
    await secrets.create_secret(
        Name="t", SecretString=json.dumps({"BACKEND_TOKEN": "abc", "other": 1})
    )
    assert await from_secret(secrets).get() == "abc"


async def test_plain_string_secret(secrets: Any) -> None:
    """A plain-string secret is the token itself, without surrounding whitespace."""
    await secrets.create_secret(Name="t", SecretString="  plain-token \n")
    assert await from_secret(secrets).get() == "plain-token"


async def test_json_quoted_string_secret(secrets: Any) -> None:
    """A secret stored as a JSON string is the text inside the quotes."""
    await secrets.create_secret(Name="t", SecretString='"quoted-token"')
    assert await from_secret(secrets).get() == "quoted-token"


async def test_token_is_cached_until_invalidated(secrets: Any) -> None:
    """Within the TTL the cached token is reused; invalidate() reads the rotated secret."""
    await secrets.create_secret(Name="t", SecretString="v1")
    token = from_secret(secrets, backend_token_ttl_s=3600)
    assert await token.get() == "v1"
    await secrets.put_secret_value(SecretId="t", SecretString="v2")
    assert await token.get() == "v1"
    token.invalidate()
    assert await token.get() == "v2"


async def test_invalidate_of_an_older_token_keeps_the_fresh_one(secrets: Any) -> None:
    """invalidate(stale) forgets nothing when the cache already holds a newer token."""
    await secrets.create_secret(Name="t", SecretString="v2")
    counting = CountingClient(secrets)
    token = from_secret(counting)
    assert await token.get() == "v2"
    token.invalidate("v1")  # a worker's late 401 for the token before the rotation
    assert await token.get() == "v2"
    assert counting.calls == 1
    token.invalidate("v2")
    await token.get()
    assert counting.calls == 2


async def test_token_is_read_again_after_the_ttl(secrets: Any) -> None:
    """Once backend_token_ttl_s has passed, get() reads the secret again."""
    await secrets.create_secret(Name="t", SecretString="v1")
    token = from_secret(secrets, backend_token_ttl_s=0.05)
    assert await token.get() == "v1"
    await secrets.put_secret_value(SecretId="t", SecretString="v2")
    await asyncio.sleep(0.1)
    assert await token.get() == "v2"


async def test_concurrent_callers_share_one_read(secrets: Any) -> None:
    """Twenty concurrent get() calls on a cold cache make one GetSecretValue call."""
    await secrets.create_secret(Name="t", SecretString="shared")
    counting = CountingClient(secrets)
    token = from_secret(counting)
    assert set(await asyncio.gather(*(token.get() for _ in range(20)))) == {"shared"}
    assert counting.calls == 1


async def test_json_secret_without_the_key_is_a_config_error(secrets: Any) -> None:
    """A JSON secret lacking BACKEND_TOKEN is a ConfigError naming the secret, not its values."""
    await secrets.create_secret(Name="t", SecretString=json.dumps({"password": "hunter2"}))
    with pytest.raises(ConfigError, match="without a BACKEND_TOKEN") as caught:
        await from_secret(secrets).get()
    assert "hunter2" not in str(caught.value)


async def test_json_nested_past_the_parsers_stack_is_a_config_error(secrets: Any) -> None:
    """A secret of JSON nested 100,000 deep is one ConfigError line, not a RecursionError out
    of the sink (nor sent whole as a token)."""
    await secrets.create_secret(Name="t", SecretString="[" * 100_000 + "]" * 100_000)
    with pytest.raises(ConfigError, match="nested too deeply"):
        await from_secret(secrets).get()


@pytest.mark.parametrize("text", ["null", "true", '["tok-123"]', '[{"BACKEND_TOKEN": "t"}]'])
async def test_json_that_is_no_token_is_a_config_error(secrets: Any, text: str) -> None:
    """A secret of JSON null, a boolean or a list is refused, not sent as "Bearer null"; a
    token of digits is still a token."""
    await secrets.create_secret(Name="t", SecretString=text)
    with pytest.raises(ConfigError, match="not a BACKEND_TOKEN object") as caught:
        await from_secret(secrets).get()
    assert "tok-123" not in str(caught.value)
    await secrets.put_secret_value(SecretId="t", SecretString="0123456789")
    assert await from_secret(secrets).get() == "0123456789"


async def test_unusable_token_is_a_config_error_that_hides_it(secrets: Any) -> None:
    """A token with inner whitespace is refused with a message that does not quote it."""
    await secrets.create_secret(Name="t", SecretString=json.dumps({"BACKEND_TOKEN": "se cret"}))
    with pytest.raises(ConfigError, match="not a usable bearer token") as caught:
        await from_secret(secrets).get()
    assert "se cret" not in str(caught.value)


async def test_empty_secret_is_a_config_error(secrets: Any) -> None:
    """A secret holding only whitespace is a ConfigError."""
    await secrets.create_secret(Name="t", SecretString="   ")
    with pytest.raises(ConfigError, match="empty token"):
        await from_secret(secrets).get()


async def test_missing_secret_is_a_config_error(secrets: Any) -> None:
    """A secret id that names no secret is a ConfigError naming the id and the AWS error."""
    with pytest.raises(ConfigError, match="'nope' cannot be read: ResourceNotFoundException"):
        await from_secret(secrets, "nope").get()


async def test_unreachable_secrets_manager_is_transient() -> None:
    """When Secrets Manager cannot be reached, get() raises SinkUnavailableError."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    session = aws_session()
    # One attempt: botocore's `max_attempts` here counts retries, each after a backoff.
    config = AioConfig(retries={"total_max_attempts": 1, "mode": "standard"}, connect_timeout=1)
    async with session.client(
        "secretsmanager", endpoint_url=f"http://127.0.0.1:{port}", config=config
    ) as client:
        with pytest.raises(SinkUnavailableError, match="EndpointConnectionError"):
            await from_secret(client).get()


@pytest.mark.parametrize(
    "answer", [{}, {"SecretString": None}, {"SecretString": ["x"]}, {"Name": "t"}]
)
async def test_an_answer_without_the_secret_is_transient_not_a_config_error(
    secrets: Any, moto_url: str, answer: dict[str, Any]
) -> None:
    """GetSecretValue answered 200 without a string secret (a proxy, a broken endpoint) is a
    retryable failure: a config error would stop the daemon at start-up for a passing fault."""
    await secrets.create_secret(Name="t", SecretString="real")
    with FaultProxy(moto_url) as proxy:
        proxy.rewrite("secretsmanager.GetSecretValue", lambda _: answer)
        session = aws_session()
        async with session.client("secretsmanager", endpoint_url=proxy.url) as client:
            with pytest.raises(SinkUnavailableError, match="will retry"):
                await from_secret(client).get()


@pytest.mark.parametrize("answer", [{}, {"SecretString": 7}, {"Name": "t"}])
async def test_ingest_tokens_answered_without_the_secret_are_unavailable_not_config(
    secrets: Any, moto_url: str, answer: dict[str, Any]
) -> None:
    """The gateway's tokens: a 200 without a string secret is TokensUnavailable (retried),
    not a ConfigError that stops the gateway at start-up."""
    await secrets.create_secret(Name="ingest", SecretString=json.dumps({"generic": "x" * 20}))
    with FaultProxy(moto_url) as proxy:
        proxy.rewrite("secretsmanager.GetSecretValue", lambda _: answer)
        session = aws_session()
        async with session.client("secretsmanager", endpoint_url=proxy.url) as client:
            store = TokenStore(secret_id="ingest", inline=None, secrets_client=client)
            with pytest.raises(TokensUnavailable, match="no secret"):
                await store.load()


async def test_a_binary_secret_is_a_config_error(secrets: Any) -> None:
    """A secret holding only SecretBinary can never give a token: that is a config error."""
    await secrets.create_secret(Name="t", SecretBinary=b"\x00token")
    with pytest.raises(ConfigError, match="binary"):
        await from_secret(secrets).get()


def test_secret_id_without_a_client_is_a_config_error() -> None:
    """Asking for a secret without a Secrets Manager client fails when the token is built."""
    with pytest.raises(ConfigError, match="BACKEND_TOKEN_SECRET_ID"):
        BackendToken(Settings(backend_token_secret_id="t"))


async def test_env_fallback_uses_the_named_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without a secret id, the token comes from the variable BACKEND_TOKEN_ENV_KEY names."""
    monkeypatch.setenv("MY_TOKEN", " from-env\n")
    assert await BackendToken(Settings(backend_token_env_key="MY_TOKEN")).get() == "from-env"


async def test_env_default_is_backend_token(monkeypatch: pytest.MonkeyPatch) -> None:
    """By default the token is read from BACKEND_TOKEN."""
    monkeypatch.setenv("BACKEND_TOKEN", "default-env")
    assert await BackendToken(Settings()).get() == "default-env"


async def test_missing_token_is_a_config_error_when_first_needed() -> None:
    """With neither variable nor secret, building succeeds and get() names both ways to set it."""
    token = BackendToken(Settings())
    with pytest.raises(ConfigError, match="set BACKEND_TOKEN or BACKEND_TOKEN_SECRET_ID"):
        await token.get()


@pytest.mark.parametrize(
    "text",
    ["\ufeffplain-token\r\n", '\ufeff{"BACKEND_TOKEN": "plain-token"}', '\ufeff"plain-token"'],
)
async def test_a_secret_written_from_a_file_with_a_byte_order_mark_is_read(
    secrets: Any, text: str
) -> None:
    """A secret uploaded from a file saved with a UTF-8 byte-order mark (`--secret-string
    file://token.txt` from a Windows editor), plain or JSON, gives the token without it."""
    await secrets.create_secret(Name="t", SecretString=text)
    assert await from_secret(secrets).get() == "plain-token"


async def test_the_gateway_serves_the_current_tokens_through_a_rotation(secrets: Any) -> None:
    """The gateway's tokens are the secret's AWSCURRENT version: a rotation's AWSPENDING one
    is not served while pending, and once finishSecret moves AWSCURRENT to it, the next read
    serves it (an unnamed read stayed on the first version under an emulator)."""
    before, after = "g" * 24 + "-before", "g" * 24 + "-after"
    await secrets.create_secret(Name="gw", SecretString=json.dumps({"generic": before}))
    put = await secrets.put_secret_value(
        SecretId="gw", SecretString=json.dumps({"generic": after}), VersionStages=["AWSPENDING"]
    )
    store = TokenStore(secret_id="gw", inline=None, secrets_client=secrets)
    await store.load()
    assert store.values() == [before]
    described = await secrets.describe_secret(SecretId="gw")
    [current] = [v for v, s in described["VersionIdsToStages"].items() if "AWSCURRENT" in s]
    await secrets.update_secret_version_stage(
        SecretId="gw",
        VersionStage="AWSCURRENT",
        MoveToVersionId=put["VersionId"],
        RemoveFromVersionId=current,
    )
    await store.load()
    # Served: the new version alone; the old one is still blanked in what is queued (retired).
    assert await store.current() == {"generic": (after.encode(),)}
    assert store.values() == [after, before]
