"""The suite's own AWS client helper (`moto_speed.loopback_aws_client`): a client of moto's
plain-HTTP loopback server loads no CA bundle, and any other endpoint keeps verification."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import EndpointConnectionError

from moto_speed import loopback_aws_client, plain_loopback


@pytest.fixture
def ca_loads(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Each CA bundle loaded into an SSL context from here on, by the arguments it was given."""
    loads: list[Any] = []
    load = ssl.SSLContext.load_verify_locations

    def spy(self: ssl.SSLContext, *args: Any, **kwargs: Any) -> None:
        loads.append((args, kwargs))
        load(self, *args, **kwargs)

    monkeypatch.setattr(ssl.SSLContext, "load_verify_locations", spy)
    return loads


@pytest.fixture
def refused_port() -> Iterator[int]:
    """A loopback port bound but not listening: a connection to it is refused at once."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        yield held.getsockname()[1]


async def _call_once(endpoint: str) -> None:
    """One SQS call through a client of `endpoint`, whose connection pool (and SSL context,
    if any) is made on the first request; the refused connection is expected."""
    once = Config(retries={"total_max_attempts": 1, "mode": "standard"})
    async with loopback_aws_client("sqs", endpoint, config=once) as client:
        with pytest.raises(EndpointConnectionError):
            await client.list_queues()


async def test_a_client_of_a_loopback_http_endpoint_loads_no_ca_bundle(
    ca_loads: list[Any], refused_port: int
) -> None:
    """A client of http://127.0.0.1 (moto, a fault proxy) reads no CA bundle to call."""
    await _call_once(f"http://127.0.0.1:{refused_port}")
    assert ca_loads == []


@pytest.mark.parametrize("endpoint", ["https://127.0.0.1:{port}", "http://localhost:{port}"])
async def test_a_client_of_any_other_endpoint_still_verifies(
    ca_loads: list[Any], refused_port: int, endpoint: str
) -> None:
    """TLS, or a host not named 127.0.0.1, keeps botocore's verification (its CA bundle)."""
    await _call_once(endpoint.format(port=refused_port))
    assert ca_loads


@pytest.mark.parametrize(
    ("endpoint", "plain"),
    [
        ("http://127.0.0.1:5000", True),
        ("http://127.0.0.1", True),
        ("https://127.0.0.1:5000", False),
        ("http://127.0.0.1.example.com", False),
        ("http://localhost:5000", False),
        ("http://user@example.com:80", False),
    ],
)
def test_only_plain_http_on_127_0_0_1_counts_as_plain_loopback(endpoint: str, plain: bool) -> None:
    """The rule that turns verification off matches only http://127.0.0.1 endpoints."""
    assert plain_loopback(endpoint) is plain
