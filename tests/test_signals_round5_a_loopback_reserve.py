"""The loopback reserve of the daemon's endpoint port holds against loopback clients too: the
per-address cap does not spend it first, so connections held from 127.0.0.1 (a tunnel, a
sidecar: with the default TRIAGE_HTTP_HOST every client is loopback) leave the container's own
health check answered, and the reserve is still a bound."""

from __future__ import annotations

import contextlib

from test_http_endpoints import BUSY, HEALTHZ, ask, connection, running, wait_until
from triage.ops.http_server import Limits


async def test_a_loopback_address_at_its_share_still_gets_the_reserve() -> None:
    """`max_per_peer` connections held from 127.0.0.1, slots free overall: a loopback health
    check is answered 200, not 503 busy."""
    limits = Limits(max_connections=10, max_per_peer=3, loopback_reserve=2)
    async with running(limits) as server, contextlib.AsyncExitStack() as holders:
        for _ in range(3):
            await holders.enter_async_context(connection(server.port))
        await wait_until(lambda: server.connections == 3)
        status, _, _ = await ask(server.port, HEALTHZ)
        assert status == 200


async def test_every_slot_taken_from_loopback_leaves_the_reserve_for_the_health_check() -> None:
    """`max_connections` held, all from loopback and at the per-address cap: the reserve is
    still there for the health check."""
    limits = Limits(max_connections=2, max_per_peer=2, loopback_reserve=1)
    async with running(limits) as server, contextlib.AsyncExitStack() as holders:
        for _ in range(2):
            await holders.enter_async_context(connection(server.port))
        await wait_until(lambda: server.connections == 2)
        status, _, _ = await ask(server.port, HEALTHZ)
        assert status == 200


async def test_one_loopback_address_takes_its_share_and_the_reserve_then_is_refused() -> None:
    """The reserve lifts the loopback address's cap by the reserve only: past `max_per_peer`
    plus `loopback_reserve` held connections, the next from it is refused 503 busy."""
    limits = Limits(max_connections=10, max_per_peer=3, loopback_reserve=2)
    async with running(limits) as server, contextlib.AsyncExitStack() as holders:
        for _ in range(5):
            await holders.enter_async_context(connection(server.port))
        await wait_until(lambda: server.connections == 5)
        status, _, body = await ask(server.port, b"")
        assert (status, body) == (503, BUSY)
