"""How `triage incidents show` and `close` find the incident an operator names (the real
argument parser, a SQLite store on disk): a whole fingerprint, an unambiguous prefix as git
takes a commit's, and clear one-line refusals for an ambiguous prefix and a group's member."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from daemon_harness import TOKEN
from factories import alert
from triage.cli import main
from triage.demo.ticketd import TicketServer
from triage.incidents.groups import GroupKey
from triage.incidents.lifecycle import Policy
from triage.incidents.sqlite import SQLiteStore
from triage.ops.operator import MIN_PREFIX

NOW = datetime.now(UTC)
GROUP = GroupKey("g" * 32, "payments", (("service", "api"),))


def _twins() -> tuple[str, str]:
    """Two alert names whose fingerprints share their first MIN_PREFIX characters."""
    seen: dict[str, str] = {}
    for i in range(100_000):
        name = f"twin-{i}"
        prefix = alert(name).fingerprint[:MIN_PREFIX]
        if prefix in seen:
            return seen[prefix], name
        seen[prefix] = name
    raise AssertionError("no two fingerprints share a prefix")


@pytest.fixture
def seeded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, backend: TicketServer
) -> dict[str, str]:
    """A SQLite store holding two incidents whose fingerprints share a prefix, one more, and a
    group with one member; the shell's environment points at it and at the loopback ticket
    backend. Returns their fingerprints."""
    path = tmp_path / "triage.db"
    monkeypatch.setenv("BACKEND_BASE_URL", backend.url)
    monkeypatch.setenv("BACKEND_TOKEN", TOKEN)
    monkeypatch.setenv("TRIAGE_STORE_URL", f"sqlite:///{path}")
    monkeypatch.setenv("TRIAGE_LOG_LEVEL", "warning")
    first, second = _twins()

    async def write() -> dict[str, str]:
        store = SQLiteStore(str(path), Policy(), timedelta(minutes=2), timedelta(days=1))
        await store.open()
        try:
            for n, name in enumerate((first, second, "lonely")):
                await store.begin(alert(name), f"m{n}", NOW)
                await store.finish(alert(name).fingerprint, f"m{n}")  # its message handled
            await store.begin(alert("member"), "m9", NOW, group=GROUP)
        finally:
            await store.aclose()
        return {
            "first": alert(first).fingerprint,
            "second": alert(second).fingerprint,
            "lonely": alert("lonely").fingerprint,
            "member": alert("member").fingerprint,
        }

    return asyncio.run(write())


def triage(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[object], str]:
    """`triage ARGS` in process: exit code, stdout's JSON lines, stderr."""
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, [json.loads(line) for line in out.splitlines()], err


def test_show_takes_an_unambiguous_prefix(
    seeded: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    """A prefix only one incident's fingerprint starts with shows that incident, whole."""
    lonely = seeded["lonely"]
    unique = next(
        lonely[:n]
        for n in range(MIN_PREFIX, len(lonely))
        if not any(seeded[k].startswith(lonely[:n]) for k in ("first", "second", "member"))
    )
    code, [shown], err = triage(capsys, "incidents", "show", unique)
    assert code == 0, err
    assert isinstance(shown, dict) and shown["fingerprint"] == lonely


def test_close_takes_an_unambiguous_prefix_and_prints_the_whole_fingerprint(
    seeded: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    """`incidents close PREFIX` closes the one incident it names and prints its fingerprint."""
    first, second = seeded["first"], seeded["second"]
    longer = next(n for n in range(MIN_PREFIX, len(first)) if first[:n] != second[:n])
    code, [closed], err = triage(capsys, "incidents", "close", first[:longer], "--comment", "ok")
    assert code == 0, err
    assert closed == {"fingerprint": first, "action": "record"}  # never ticketed: nothing to tell


def test_an_ambiguous_prefix_is_refused_naming_the_candidates(
    seeded: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    """A prefix two fingerprints share is exit 1 with one line naming both; nothing is closed."""
    prefix = seeded["first"][:MIN_PREFIX]
    code, out, err = triage(capsys, "incidents", "close", prefix, "--comment", "oops")
    assert (code, out) == (1, [])
    assert err.count("\n") == 1 and "ambiguous" in err
    assert seeded["first"] in err and seeded["second"] in err


def test_a_prefix_shorter_than_the_minimum_is_unknown(
    seeded: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    """Fewer than MIN_PREFIX characters name no incident, however few fingerprints match."""
    code, _, err = triage(capsys, "incidents", "show", seeded["lonely"][: MIN_PREFIX - 1])
    assert code == 1 and "no incident" in err


def test_a_group_members_fingerprint_points_at_its_group(
    seeded: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    """A member's own fingerprint (as `triage normalize` prints it) is refused with its group's."""
    code, _, err = triage(capsys, "incidents", "close", seeded["member"], "--comment", "c")
    assert code == 1 and err.count("\n") == 1
    assert "member of the group incident " + GROUP.key in err


async def _answers(path: Path, *names: str) -> list[tuple[int, dict[str, object]]]:
    """GET /api/v1/incidents/{name} for each name, on the API over the store at `path`."""
    from test_operator_api import BEARER, serving

    store = SQLiteStore(str(path), Policy(), timedelta(minutes=2), timedelta(days=1))
    await store.open()
    try:
        async with serving(store) as client:
            answers = [await client.get(f"/api/v1/incidents/{n}", headers=BEARER) for n in names]
    finally:
        await store.aclose()
    return [(a.status_code, a.json()) for a in answers]


async def test_the_api_names_incidents_as_the_command_line_does(
    seeded: dict[str, str], tmp_path: Path
) -> None:
    """GET /api/v1/incidents/{name} takes an unambiguous prefix, and answers a 404 saying why
    for an ambiguous one (naming both) and for a member (naming its group), as `show` does."""
    lonely, first, second = seeded["lonely"], seeded["first"], seeded["second"]
    unique = next(
        lonely[:n]
        for n in range(MIN_PREFIX, len(lonely))
        if not any(seeded[k].startswith(lonely[:n]) for k in ("first", "second", "member"))
    )
    by_prefix, ambiguous, member, unknown = await _answers(
        tmp_path / "triage.db", unique, first[:MIN_PREFIX], seeded["member"], "f" * 32
    )
    assert by_prefix[0] == 200 and by_prefix[1]["fingerprint"] == lonely
    assert ambiguous[0] == 404 and "ambiguous" in str(ambiguous[1]["error"])
    assert first in str(ambiguous[1]["error"]) and second in str(ambiguous[1]["error"])
    assert member == (404, {"error": f"{seeded['member']} is a member of the group incident "
                            f"{GROUP.key}: show or close that one"})  # fmt: skip
    assert unknown == (404, {"error": f"no incident {'f' * 32}"})
