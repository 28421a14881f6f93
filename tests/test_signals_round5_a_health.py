"""`triage health` only ever asks this machine: no proxy variable of the environment (any
spelling httpx2 reads) carries its probe elsewhere, so a task with an egress proxy is not
restarted as unhealthy while its daemon is alive."""

from __future__ import annotations

import asyncio

import pytest

from triage.health import Health
from triage.metrics import Metrics
from triage.ops.endpoints import EndpointServer


@pytest.mark.parametrize("variable", ["http_proxy", "ALL_PROXY", "all_proxy"])
async def test_health_probe_ignores_every_proxy_variable(
    variable: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """With a proxy variable set to an address where nothing listens (and no NO_PROXY),
    `triage health` still reaches the daemon and exits 0."""
    from triage.cli import main

    server = EndpointServer(Health(), Metrics(), "127.0.0.1", 0)
    await server.start()
    try:
        monkeypatch.setenv("TRIAGE_HTTP_PORT", str(server.port))
        monkeypatch.setenv(variable, "http://127.0.0.1:9")  # nothing listens there
        for unset in ("NO_PROXY", "no_proxy"):
            monkeypatch.delenv(unset, raising=False)
        code = await asyncio.to_thread(main, ["health"])
    finally:
        await server.aclose()
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert '"alive": true' in captured.out
