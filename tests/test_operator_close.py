"""`triage incidents close` run in process against a SQLite store on disk: what it prints
when the close told no sink, or a sink failed it, so an operator at 3 a.m. neither takes a
done close for a refusal nor a close the sweep will finish for one that failed."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, datetime

import pytest

from daemon_harness import TOKEN
from factories import alert
from test_operator_api import NOW
from test_operator_silence_warnings import store_url as store_url  # the seeded SQLite store
from test_store import LEASE, POLICY
from triage.cli import main
from triage.demo.ticketd import TicketServer
from triage.incidents.sqlite import SQLiteStore


def test_closing_a_closed_incident_says_nothing_was_sent(
    store_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A second `incidents close` exits 0 (a script may close twice) with `ignore` on stdout
    and one stderr line saying it was closed already, not that the close was refused."""
    monkeypatch.setenv("BACKEND_BASE_URL", "http://127.0.0.1:9")  # built, never called
    monkeypatch.setenv("BACKEND_TOKEN", "t")

    async def close_in_store() -> str:
        store = SQLiteStore(
            store_url.removeprefix("sqlite:///"), POLICY, LEASE, POLICY.reopen_window
        )
        await store.open()
        try:
            [incident] = await store.incidents()
            await store.close(incident.fingerprint, "op", NOW, "{}")
            await store.finish(incident.fingerprint, "op")
            return incident.fingerprint
        finally:
            await store.aclose()

    fingerprint = asyncio.run(close_in_store())
    code = main(["incidents", "close", fingerprint[:8], "--comment", "again"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert json.loads(out) == {"fingerprint": fingerprint, "action": "ignore"}
    assert err.splitlines() == [
        f"triage: incidents: {fingerprint} was closed already: nothing was sent"
    ]


def test_a_close_a_sink_fails_says_the_sweep_sends_it_and_a_second_close_says_so_too(
    store_url: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    backend: TicketServer,
) -> None:
    """A close the ticket backend fails (503) is closed in the store and left to the sweep:
    exit 1 with one line saying so, not a bare failure; closing again exits 0 saying the
    close is still on its way, never that nothing was sent; `show` has it pending."""
    monkeypatch.setenv("BACKEND_BASE_URL", backend.url)
    monkeypatch.setenv("BACKEND_TOKEN", TOKEN)
    monkeypatch.setenv("TRIAGE_BACKEND_RESOLVE_ROUTE", "/api/service/tickets/{ref}/resolve")
    main(["incidents", "list"])
    [listed] = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    fingerprint = listed["fingerprint"]
    backend.fail_next(1000, 503)

    code = main(["incidents", "close", fingerprint, "--comment", "rolled back"])
    _, err = capsys.readouterr()
    assert code == 1 and err.count("\n") == 1
    assert f"{fingerprint} is closed, but a sink was not told yet" in err
    assert "sweep sends the close" in err

    code = main(["incidents", "close", fingerprint, "--comment", "again"])
    out, err = capsys.readouterr()
    assert code == 0 and json.loads(out)["action"] == "ignore"
    assert "still on its way" in err and "nothing was sent" not in err

    assert main(["incidents", "show", fingerprint]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["state"] == "closed" and shown["pending"]["effect"] == "close"


def test_a_close_while_a_worker_holds_the_incident_says_how_long_to_wait(
    store_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A close while another worker's effect holds the incident is exit 1 with one line naming
    the effect and when its claim lapses at the latest; nothing is closed."""
    monkeypatch.setenv("BACKEND_BASE_URL", "http://127.0.0.1:9")  # never reached
    monkeypatch.setenv("BACKEND_TOKEN", TOKEN)

    async def claim_an_effect() -> str:
        store = SQLiteStore(
            store_url.removeprefix("sqlite:///"), POLICY, LEASE, POLICY.reopen_window
        )
        await store.open()
        try:
            # Claimed now, never finished: NOW is the module's import time, which a long
            # suite leaves more than a lease behind.
            t = await store.begin(alert("busy"), "m9", datetime.now(UTC))
            assert t.after is not None
            return t.after.fingerprint
        finally:
            await store.aclose()

    fingerprint = asyncio.run(claim_an_effect())
    code = main(["incidents", "close", fingerprint, "--comment", "now"])
    out, err = capsys.readouterr()
    assert (code, out) == (1, "") and err.count("\n") == 1
    assert "effect in progress (open)" in err
    lapses = re.search(r"its claim lapses within (\d+) s", err)
    assert lapses is not None and 0 < int(lapses.group(1)) <= LEASE.total_seconds()
