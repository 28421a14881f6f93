"""The stand-in ticket backend from plain sync code: the contract it serves and its faults."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest

from triage.demo.ticketd import TicketServer

ROUTE = "/api/service/tickets"
SRC = Path(__file__).resolve().parents[1] / "src"
TICKET = {"title": "t", "priority": "low", "description": "d", "steps": []}


@pytest.fixture
def server() -> Iterator[TicketServer]:
    with TicketServer(token="T") as s:
        yield s


@pytest.fixture
def client(server: TicketServer) -> Iterator[httpx2.Client]:
    with httpx2.Client(base_url=server.url, headers={"Authorization": "Bearer T"}) as c:
        yield c


def test_binds_loopback_on_an_ephemeral_port(server: TicketServer) -> None:
    """By default the server listens on 127.0.0.1 on a port the OS picked."""
    assert server.url.startswith("http://127.0.0.1:")
    assert not server.url.endswith(":0")


def test_create_and_replay(client: httpx2.Client, server: TicketServer) -> None:
    """A create answers 201 with an id; the same Idempotency-Key answers 200 with that id."""
    first = client.post(ROUTE, json=TICKET, headers={"Idempotency-Key": "k1"})
    again = client.post(ROUTE, json=TICKET, headers={"Idempotency-Key": "k1"})
    other = client.post(ROUTE, json=TICKET, headers={"Idempotency-Key": "k2"})
    assert (first.status_code, first.json()["id"]) == (201, "T-1")
    assert (again.status_code, again.json()["id"]) == (200, "T-1")
    assert other.json()["id"] == "T-2"
    assert [t["headers"]["idempotency-key"] for t in server.tickets] == ["k1", "k2"]


def test_wrong_token_is_401(client: httpx2.Client, server: TicketServer) -> None:
    """A POST without the right bearer token is refused and records nothing."""
    response = client.post(ROUTE, json=TICKET, headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401
    assert server.tickets == []


def test_missing_fields_are_422(client: httpx2.Client) -> None:
    """A create without title, priority, description and steps is refused with 422."""
    assert client.post(ROUTE, json={"title": "t"}).status_code == 422


def test_updates_and_resolve_are_recorded(client: httpx2.Client, server: TicketServer) -> None:
    """Updates and resolves of a known ticket are recorded once per key; unknown ids are 404."""
    client.post(ROUTE, json=TICKET)
    for _ in range(2):
        client.post(f"{ROUTE}/T-1/updates", json={"n": 1}, headers={"Idempotency-Key": "u1"})
    assert client.post(f"{ROUTE}/T-1/resolve", json={"status": "resolved"}).status_code == 200
    assert client.post(f"{ROUTE}/T-9/resolve", json={}).status_code == 404
    assert [(e["id"], e["kind"], e["body"]) for e in server.events] == [
        ("T-1", "updates", {"n": 1}),
        ("T-1", "resolve", {"status": "resolved"}),
    ]


def test_get_lists_tickets(client: httpx2.Client) -> None:
    """GET on the route lists every ticket with its id and body."""
    client.post(ROUTE, json=TICKET)
    assert client.get(ROUTE).json() == [{"id": "T-1", **TICKET}]


def test_fail_next_injects_failures(client: httpx2.Client, server: TicketServer) -> None:
    """fail_next(n) answers the next n POSTs with the status and Retry-After, then recovers."""
    server.fail_next(2, status=503, retry_after="5")
    answers = [client.post(ROUTE, json=TICKET) for _ in range(3)]
    assert [a.status_code for a in answers] == [503, 503, 201]
    assert answers[0].headers["Retry-After"] == "5"
    assert server.request_count == 3
    assert len(server.tickets) == 1


def test_delay_makes_it_slow(client: httpx2.Client, server: TicketServer) -> None:
    """delay_s holds every answer back by that long."""
    server.delay_s = 0.3
    started = time.monotonic()
    client.post(ROUTE, json=TICKET)
    assert time.monotonic() - started >= 0.3


def test_tickets_is_a_copy(client: httpx2.Client, server: TicketServer) -> None:
    """Changing what `tickets` returned does not change what the server recorded."""
    client.post(ROUTE, json=TICKET)
    server.tickets[0]["body"]["title"] = "changed"
    assert server.tickets[0]["body"]["title"] == "t"


def test_stop_without_start_returns() -> None:
    """stop() on a server that never started closes its socket instead of hanging."""
    TicketServer(token="T").stop()


def test_main_serves_and_exits_on_sigterm() -> None:
    """`python -m triage.demo.ticketd` serves the route and exits cleanly on SIGTERM."""
    process = subprocess.Popen(
        [sys.executable, "-m", "triage.demo.ticketd", "--port", "0", "--token", "T"],
        env={**os.environ, "PYTHONPATH": str(SRC)},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("ticketd listening on http://127.0.0.1:")
        url = line.split()[-1]
        assert httpx2.get(url).json() == []
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=5) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()
