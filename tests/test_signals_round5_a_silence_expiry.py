"""Expiring a silence is idempotent and its audit trail honest: the API's DELETE and `triage
silence expire` say a silence was expired only when this call ended it; one that had ended
already (expired by someone else, or at its end) is answered as it is, and said so apart."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator, MutableMapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx2
import pytest
from pydantic import SecretStr

from test_pipeline import CountingSummariser
from test_store import LEASE, POLICY
from triage.aws import Aws
from triage.health import Health
from triage.incidents.silences import Matcher, Silence, SilenceCache
from triage.incidents.sqlite import SQLiteStore
from triage.metrics import Metrics
from triage.ops.api import OperatorView, operator_routes
from triage.ops.endpoints import EndpointServer
from triage.settings import Settings

Logs = list[MutableMapping[str, Any]]
TOKEN = "op-token-" + "5a" * 12
BEARER = {"Authorization": f"Bearer {TOKEN}"}
T0 = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


@contextlib.asynccontextmanager
async def _api(tmp_path: Path) -> AsyncIterator[tuple[SQLiteStore, httpx2.AsyncClient]]:
    """A SQLite store and the operator's API over it, on 127.0.0.1."""
    store = SQLiteStore(str(tmp_path / "t.db"), POLICY, LEASE, timedelta(days=30))
    await store.open()
    settings = Settings(api_token=SecretStr(TOKEN))
    aws = Aws(settings)
    view = OperatorView(
        settings, store, SilenceCache(store), [], CountingSummariser(), Health(), aws, Metrics()
    )
    server = EndpointServer(Health(), Metrics(), "127.0.0.1", 0, extra_routes=operator_routes(view))
    await server.start()
    try:
        async with httpx2.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as client:
            yield store, client
    finally:
        await server.aclose()
        await aws.aclose()
        await store.aclose()


async def _create_sqlite(path: Path) -> None:
    store = SQLiteStore(str(path), POLICY, LEASE, timedelta(days=30))
    await store.open()
    await store.aclose()


def _silence(starts_at: datetime, ends_at: datetime) -> Silence:
    return Silence.new([Matcher.parse("team=payments")], starts_at, ends_at, "deploy", "al")


async def test_a_second_delete_answers_the_silence_as_it_is_and_logs_no_second_expiry(
    tmp_path: Path, logs: Logs
) -> None:
    """DELETE twice: both 200 with the same ended silence (its end not moved by the second),
    one `api.silence_expired` line and one `api.silence_already_ended` line."""
    body = {"matchers": ["team=payments"], "duration": "2h", "comment": "deploy", "author": "al"}
    async with _api(tmp_path) as (_, client):
        made = await client.post("/api/v1/silences", json=body, headers=BEARER)
        assert made.status_code == 201, made.text
        path = f"/api/v1/silences/{made.json()['id']}"
        first = await client.delete(path, headers=BEARER)
        second = await client.delete(path, headers=BEARER)
    assert (first.status_code, second.status_code) == (200, 200)
    assert second.json()["ends_at"] == first.json()["ends_at"]
    assert second.json()["active"] is False
    events = [e["event"] for e in logs if e["event"].startswith("api.silence_")]
    assert events.count("api.silence_expired") == 1, events
    assert events.count("api.silence_already_ended") == 1, events


async def test_a_delete_of_a_silence_that_ran_out_logs_no_expiry(
    tmp_path: Path, logs: Logs
) -> None:
    """A silence that reached its own end is answered 200 as it is (its end unchanged), and
    nothing says an operator expired it."""
    now = datetime.now(UTC)
    ran_out = _silence(now - timedelta(hours=3), now - timedelta(hours=1))
    async with _api(tmp_path) as (store, client):
        await store.add_silence(ran_out, now - timedelta(hours=3))
        answer = await client.delete(f"/api/v1/silences/{ran_out.id}", headers=BEARER)
    assert answer.status_code == 200, answer.text
    # Shown to the second, as every time the API answers.
    assert answer.json()["ends_at"] == ran_out.ends_at.replace(microsecond=0).isoformat()
    assert [e for e in logs if e["event"] == "api.silence_expired"] == []


async def test_the_store_says_which_call_ended_a_silence(tmp_path: Path) -> None:
    """`Store.end_silence` says this call ended the silence only the first time: a second
    call on a running one, or on one not yet started (ended at its start), and a call on one
    that ran out by itself are answered unchanged and said so."""
    store = SQLiteStore(str(tmp_path / "e.db"), POLICY, LEASE, timedelta(days=30))
    await store.open()
    try:
        spans = {
            "running": (T0 - timedelta(hours=1), T0 + timedelta(hours=1)),
            "future": (T0 + timedelta(hours=1), T0 + timedelta(hours=2)),
            "ran out": (T0 - timedelta(hours=3), T0 - timedelta(hours=2)),
        }
        made = {
            name: dataclasses.replace(_silence(*span), comment=name) for name, span in spans.items()
        }
        running = await store.add_silence(made["running"], T0)
        future = await store.add_silence(made["future"], T0)
        ran_out = await store.add_silence(made["ran out"], T0 - timedelta(hours=3))
        for silence in (running, future):
            first = await store.end_silence(silence.id, T0)
            assert first is not None and first[1], silence
            again = await store.end_silence(silence.id, T0 + timedelta(minutes=1))
            assert again == (first[0], False), silence
        assert await store.end_silence(ran_out.id, T0) == (ran_out, False)
        assert await store.end_silence("nope", T0) is None
    finally:
        await store.aclose()


def test_cli_expire_twice_says_the_second_time_that_nothing_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`triage silence expire ID` twice: both exit 0 printing the ended silence; only the
    second says on stderr that it had ended already."""
    from triage.cli import main

    path = tmp_path / "cli.db"
    asyncio.run(_create_sqlite(path))  # as the daemon's first run does
    monkeypatch.setenv("TRIAGE_STORE_URL", f"sqlite:///{path}")
    args = ["silence", "add", "--match", "team=payments", "--for", "2h", "--comment", "deploy"]
    assert main(args) == 0
    silence_id = capsys.readouterr().out.split('"id": "')[1].split('"')[0]
    assert main(["silence", "expire", silence_id]) == 0
    first = capsys.readouterr()
    assert main(["silence", "expire", silence_id]) == 0
    second = capsys.readouterr()
    assert first.err == ""
    assert f"{silence_id} had ended already" in second.err
    assert second.out == first.out
