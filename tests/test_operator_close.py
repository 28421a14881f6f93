"""`triage incidents close` run in process against a SQLite store on disk: what it prints
when the close told no sink, so an operator at 3 a.m. does not take it for a refusal."""

from __future__ import annotations

import asyncio
import json

import pytest

from test_operator_api import NOW
from test_operator_silence_warnings import store_url as store_url  # the seeded SQLite store
from test_store import LEASE, POLICY
from triage.cli import main
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
