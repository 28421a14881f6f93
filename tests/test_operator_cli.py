"""`triage incidents` and `triage silence` as an operator runs them (the real argument parser,
settings from the environment, JSON lines on stdout), against both stores: SQLite on disk and
DynamoDB on moto. Closing by hand reaches the loopback ticket backend."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx2
import pytest

from daemon_harness import TOKEN
from factories import alert
from moto_speed import loopback_aws_client
from triage.app import open_configured_store
from triage.aws import Aws
from triage.cli import main
from triage.demo.ticketd import TicketServer
from triage.incidents.dynamodb import create_table
from triage.incidents.store import Routing
from triage.models import Priority, Ticket
from triage.settings import load_settings

NOW = datetime.now(UTC)


@pytest.fixture(params=["sqlite", "dynamodb"])
def operator_env(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    backend: TicketServer,
    monkeypatch: pytest.MonkeyPatch,
) -> str:
    """The environment of an operator's shell: the store (each backend in turn) and the
    ticket backend the daemon uses."""
    monkeypatch.setenv("BACKEND_BASE_URL", backend.url)
    monkeypatch.setenv("BACKEND_TOKEN", TOKEN)
    monkeypatch.setenv("TRIAGE_BACKEND_RESOLVE_ROUTE", "/api/service/tickets/{ref}/resolve")
    monkeypatch.setenv("TRIAGE_LOG_FORMAT", "json")
    monkeypatch.setenv("TRIAGE_LOG_LEVEL", "warning")
    if request.param == "sqlite":
        monkeypatch.setenv("TRIAGE_STORE_URL", f"sqlite:///{tmp_path / 'triage.db'}")
        asyncio.run(_create_store())  # as the daemon's first run does
    else:
        moto_url = request.getfixturevalue("moto_url")
        monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
        monkeypatch.setenv("TRIAGE_STORE_URL", "dynamodb://incidents")
        asyncio.run(_create_table(moto_url))
    return str(request.param)


async def _create_store() -> None:
    aws = Aws(load_settings())
    store = await open_configured_store(load_settings(), aws)
    await store.aclose()
    await aws.aclose()


async def _create_table(moto_url: str) -> None:
    async with loopback_aws_client("dynamodb", endpoint_url=moto_url) as client:
        await create_table(client, "incidents")


def triage(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[Any], str]:
    """`triage ARGS` in process: exit code, stdout's JSON lines, stderr."""
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, [json.loads(line) for line in out.splitlines() if line.startswith("{")], err


def seed(backend: TicketServer) -> str:
    """An open incident whose ticket the backend holds, and a closed one; returns the open one."""
    ticket = httpx2.post(
        backend.url + "/api/service/tickets",
        json={"title": "api-5xx is failing", "priority": "high", "description": "d", "steps": []},
        headers={"Authorization": f"Bearer {TOKEN}"},
    ).json()["id"]

    async def write() -> str:
        settings = load_settings()
        aws = Aws(settings)
        store = await open_configured_store(settings, aws)
        try:
            t = await store.begin(alert(), "m1", NOW)
            assert t.after is not None
            fp = t.after.fingerprint
            summary = Ticket(title="api-5xx", priority=Priority.HIGH, description="d")
            await store.save_ticket(fp, "m1", summary, Routing("default", "payments", {}))
            await store.confirm(fp, "m1", "backend", ticket, finish=True)
            flapping = await store.begin(alert("flappy"), "m2", NOW)
            assert flapping.after is not None
            await store.finish(flapping.after.fingerprint, "m2")
            return fp
        finally:
            await store.aclose()
            await aws.aclose()

    return asyncio.run(write())


def test_incidents_list_show_and_close(
    operator_env: str, backend: TicketServer, capsys: pytest.CaptureFixture[str]
) -> None:
    """list prints one JSON object per incident (filtered by state and team), show prints one
    with its history, close resolves the backend ticket once and is idempotent."""
    fp = seed(backend)
    code, listed, _ = triage(capsys, "incidents", "list")
    assert code == 0 and {i["fingerprint"] for i in listed} >= {fp}
    [shown] = [i for i in listed if i["fingerprint"] == fp]
    assert shown["state"] == "open" and shown["team"] == "payments"
    assert shown["tickets"]["backend"] == backend.tickets[0]["id"]
    assert triage(capsys, "incidents", "list", "--team", "search")[1] == []
    assert triage(capsys, "incidents", "list", "--flapping")[1] == []
    code, [one], _ = triage(capsys, "incidents", "show", fp)
    assert code == 0 and [e["action"] for e in one["history"]] == ["open", "open"]
    assert triage(capsys, "incidents", "show", "0" * 32)[0] == 1

    code, [closed], err = triage(capsys, "incidents", "close", fp, "--comment", "rolled back")
    assert code == 0, err
    assert closed == {"fingerprint": fp, "action": "close"}
    [resolve] = [e for e in backend.events if e["kind"] == "resolve"]
    assert "rolled back" in resolve["body"]["note"]
    code, [again], _ = triage(capsys, "incidents", "close", fp, "--comment", "again")
    assert again["action"] == "ignore"
    assert len([e for e in backend.events if e["kind"] == "resolve"]) == 1
    _, listed_closed, _ = triage(capsys, "incidents", "list", "--state", "closed")
    assert fp in {i["fingerprint"] for i in listed_closed}


def test_silence_add_list_and_expire(operator_env: str, capsys: pytest.CaptureFixture[str]) -> None:
    """add prints the silence, list shows the active ones, expire ends it (list --all keeps
    it); a bad matcher or duration is exit 2 with one line; an unknown id is exit 1."""
    code, [added], err = triage(
        capsys,
        "silence", "add", "--match", "team=payments", "--match", "title=~.*5xx.*",
        "--for", "2h", "--comment", "deploy", "--author", "alice",
    )  # fmt: skip
    assert code == 0, err
    assert added["matchers"] == ["team=payments", "title=~.*5xx.*"] and added["active"]
    ends = datetime.fromisoformat(added["ends_at"])
    assert timedelta(hours=1, minutes=59) < ends - datetime.now(UTC) <= timedelta(hours=2)
    assert [s["id"] for s in triage(capsys, "silence", "list")[1]] == [added["id"]]
    code, [expired], _ = triage(capsys, "silence", "expire", added["id"])
    assert code == 0 and not expired["active"]
    assert triage(capsys, "silence", "list")[1] == []
    assert [s["id"] for s in triage(capsys, "silence", "list", "--all")[1]] == [added["id"]]
    assert triage(capsys, "silence", "expire", "nope")[0] == 1
    bad = triage(capsys, "silence", "add", "--match", "team", "--for", "1h", "--comment", "c")
    assert bad[0] == 2 and "--match 'team'" in bad[2]
    bad = triage(capsys, "silence", "add", "--match", "a=b", "--for", "soon", "--comment", "c")
    assert bad[0] == 2 and "--for 'soon'" in bad[2]


def test_a_close_comment_of_the_most_a_close_takes_reaches_the_backend_whole(
    operator_env: str, backend: TicketServer, capsys: pytest.CaptureFixture[str]
) -> None:
    """`incidents close --comment` of 1,000 characters (the most it takes) is kept by each
    store and reaches the backend's resolve note whole, a secret in it redacted."""
    from test_close_note import SECRET, long_comment
    from triage.redact import Redactor

    fp = seed(backend)
    code, [closed], err = triage(capsys, "incidents", "close", fp, "--comment", long_comment())
    assert code == 0, err
    assert closed["action"] == "close"
    [resolve] = [e for e in backend.events if e["kind"] == "resolve"]
    note = resolve["body"]["note"]
    assert note.endswith(Redactor().text(long_comment()) + ")")
    assert SECRET not in json.dumps(backend.events)
