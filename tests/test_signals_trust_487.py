"""Triage's own signals under faults, round 2 (helper 487): what /healthz answers right after
the event loop stalled, and that every line of one message carries its ids."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import Callable

from triage.health import Health
from triage.metrics import Metrics
from triage.ops.endpoints import EndpointServer


async def until(condition: Callable[[], bool], deadline_s: float = 10.0) -> None:
    """Wait for `condition`, failing past `deadline_s`."""
    give_up = time.monotonic() + deadline_s
    while not condition():
        assert time.monotonic() < give_up, "condition not met in time"
        await asyncio.sleep(0.01)


def _answer_of(sock: socket.socket) -> dict[str, object]:
    """The JSON body of the one answer on `sock` (the server closes after it)."""
    data = b""
    while chunk := sock.recv(4096):
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    answer: dict[str, object] = json.loads(body)
    answer["status"] = int(head.split()[1])
    return answer


async def test_a_probe_waiting_through_a_stall_is_not_told_alive() -> None:
    """A /healthz request that arrives while the event loop is blocked past MAX_LAG_S is
    answered 503, not alive: its answer must not be computed before the watchdog's late tick
    has noted the stall (the connection was accepted before the stall, as a probe's is)."""
    health = Health()
    health.MAX_LAG_S = 0.3  # the stall below is 1 s: well past it, without blocking for 5 s
    watchdog = asyncio.create_task(health.watch_loop(0.05))
    server = EndpointServer(health, Metrics(), "127.0.0.1", 0)
    await server.start()
    probe = socket.create_connection(("127.0.0.1", server.port))
    try:
        await until(lambda: server.connections == 1)  # accepted, waiting for the request
        probe.sendall(b"GET /healthz HTTP/1.1\r\nHost: triage\r\n\r\n")
        time.sleep(1.0)  # noqa: ASYNC251 - the fault: a blocking call holds the loop for 1 s
        answer = await asyncio.to_thread(_answer_of, probe)
    finally:
        probe.close()
        watchdog.cancel()
        await asyncio.gather(watchdog, return_exceptions=True)
        await server.aclose()
    assert answer["status"] == 503, answer
    assert answer["alive"] is False
    assert isinstance(answer["loop_lag_ms"], float) and answer["loop_lag_ms"] >= 300
