"""Operators' faults, round 10 (helper 579): what a team adopting triage would hit when it
silences often, pages through a changing listing, or reads the store from the command line."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest

from factories import T0, alert
from memory_store import MemoryStore
from test_operator_api import BEARER, NOW, serving
from test_plain_repeat import _send, _storm
from test_silences import Rig
from test_store import LEASE, POLICY
from test_store import store as store  # the suite's SQLite and DynamoDB stores
from triage.cli import main
from triage.incidents import Action
from triage.incidents import store as store_module
from triage.incidents.silences import Matcher, Silence, SilenceCache
from triage.incidents.sqlite import SQLiteStore
from triage.incidents.store import Store
from triage.models import Priority, Status, Ticket


def _silence(n: int, start: timedelta, lasts: timedelta, comment: str = "deploy") -> Silence:
    return Silence.new(
        [Matcher.parse(f"title=deploy-{n}")], T0 + start, T0 + start + lasts, comment, "ci"
    )


# --- Ended silences never fill the store's room for new ones ---------------------------------


async def test_ended_silences_make_room_for_a_new_one(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pipeline that silences each deploy for 10 minutes can always add the next one: at the
    cap, the silences that ended longest ago are dropped from the history, never a refusal to
    "expire some first" that no expiry can satisfy (every kept one had ended already)."""
    monkeypatch.setattr(store_module, "MAX_SILENCES", 3)
    for n in range(3):
        await store.add_silence(_silence(n, timedelta(hours=n), timedelta(minutes=10)), T0)
    later = T0 + timedelta(hours=5)
    added = await store.add_silence(_silence(9, timedelta(hours=5), timedelta(minutes=10)), later)
    kept = await store.silences()
    assert [s.matchers[0].value for s in kept] == ["deploy-1", "deploy-2", "deploy-9"]
    assert kept[-1].id == added.id


async def test_silences_in_effect_at_the_cap_still_refuse_a_new_one(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only history is dropped: with the cap's worth of silences still muting, a new one is
    refused saying to expire some, and none of them is lost."""
    monkeypatch.setattr(store_module, "MAX_SILENCES", 3)
    for n in range(3):
        await store.add_silence(_silence(n, timedelta(0), timedelta(days=1)), T0)
    with pytest.raises(ValueError, match="expire some first"):
        await store.add_silence(_silence(9, timedelta(hours=1), timedelta(hours=1)), T0)
    assert len(await store.silences()) == 3


async def test_ended_silences_with_long_comments_make_room_in_the_record(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The store record's size bound is met the same way: ended silences with long comments
    are dropped, oldest ended first, so a new one fits."""
    monkeypatch.setattr(store_module, "MAX_RECORD_BYTES", 4_000)
    long = "rolled out build " + "x" * 900
    for n in range(3):
        await store.add_silence(_silence(n, timedelta(hours=n), timedelta(minutes=10), long), T0)
    later = T0 + timedelta(hours=5)
    await store.add_silence(_silence(9, timedelta(hours=5), timedelta(minutes=10), long), later)
    kept = await store.silences()
    assert kept[-1].matchers[0].value == "deploy-9" and len(kept) < 4


# --- A message's cost does not grow with the silences that ended ---------------------------


class _Consulted:
    """Counts how often any silence is asked whether it is in effect (`active`, `ends`)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls = 0
        for name in ("active", "ends"):
            method = getattr(Silence, name)

            def counting(silence: Silence, *args: object, _method: object = method) -> object:
                self.calls += 1
                return _method(silence, *args)  # type: ignore[operator]

            monkeypatch.setattr(Silence, name, counting)


class _Frozen:
    """A monotonic clock that stands still: the silence cache reads the store once."""

    def __call__(self) -> float:
        return 0.0


HISTORY = 200
HOUR = timedelta(hours=1)


async def _ended(store: Store, n: int) -> None:
    for i in range(n):
        await store.add_silence(_silence(i, -timedelta(days=2), timedelta(minutes=10)), T0)


async def test_a_storm_s_repeats_do_not_read_every_silence_that_ended(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The fast path's check for a silence in effect costs each repeat the silences that mute,
    not the week of history kept (up to 1,000, 420 us a message measured at 1,000): 40
    repeats with 200 ended silences kept consult them once per read of the store, not 8,000
    times."""
    store, pipeline, clock = await _storm()
    await _ended(store, HISTORY)
    pipeline.silences = SilenceCache(store, clock=_Frozen())
    consulted = _Consulted(monkeypatch)
    for n in range(1, 41):
        assert await _send(pipeline, clock, n / 10, n) is Action.COUNT
    assert store.counted == 40
    assert consulted.calls <= 2 * HISTORY, consulted.calls


@dataclass(frozen=True)
class _Subject:
    title: str
    source: str = "generic"
    team: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)


async def test_matching_an_alert_reads_only_the_silences_in_effect(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`SilenceCache.matching` (every new incident's and resolve's check) finds the one silence
    in effect among 200 ended ones, and 40 alerts matched consult the ended ones twice in all;
    an alert at a time before the first match's (a worker's clock read earlier) still gets
    what was in effect then."""
    store = MemoryStore(POLICY, LEASE)
    await _ended(store, HISTORY)
    muting = _silence(7, timedelta(0), timedelta(hours=1))
    ended_late = _silence(8, -timedelta(days=2), timedelta(days=2, minutes=1))
    await store.add_silence(muting, T0)
    await store.add_silence(ended_late, T0)
    cache = SilenceCache(store, clock=_Frozen())
    consulted = _Consulted(monkeypatch)
    for n in range(40):
        assert await cache.matching(_Subject("deploy-7"), T0 + timedelta(minutes=n)) == muting
    # Read through twice: at the first match, and once `ended_late` ends (a minute in).
    assert consulted.calls <= 3 * HISTORY, consulted.calls
    assert await cache.matching(_Subject("deploy-8"), T0 + timedelta(minutes=5)) is None
    assert await cache.matching(_Subject("deploy-8"), T0) == ended_late


async def test_a_sweep_pass_over_held_incidents_reads_the_ended_silences_once() -> None:
    """A sweep pass asks, for every incident a silence holds, whether a silence still holds
    it: 10 held incidents with 200 ended silences kept consult the ended ones once for the
    pass, not once per incident (the held stay held, the silence in effect found)."""
    rig = Rig()
    rig.clock.at(0)
    for i in range(HISTORY):
        start = rig.clock.now - timedelta(days=2)
        ended = Silence.new([Matcher.parse(f"title=deploy-{i}")], start, start + HOUR, "d", "ci")
        await rig.store.add_silence(ended, rig.clock.now)
    await rig.silence("team=payments", hours=2)
    for i in range(10):
        assert await rig.send(i / 10, name=f"disk-{i}") is Action.SILENCED
    sweep = rig.sweep()
    with pytest.MonkeyPatch.context() as patch:
        consulted = _Consulted(patch)
        rig.clock.at(30)
        await sweep.once()
    assert rig.sink.effects == []
    assert all(i.held is not None for i in await rig.store.incidents())
    assert consulted.calls <= 2 * HISTORY, consulted.calls


# --- Paging a listing that changes meanwhile -------------------------------------------------


async def _opened(store: Store, name: str, minutes: int) -> str:
    """An open incident with its backend ticket, opened `minutes` after NOW."""
    at = NOW + timedelta(minutes=minutes)
    t = await store.begin(alert(name, at=at), f"m-{name}", at)
    assert t.after is not None
    fp = t.after.fingerprint
    await store.save_ticket(
        fp, f"m-{name}", Ticket(title=name, priority=Priority.HIGH, description="d")
    )
    await store.confirm(fp, f"m-{name}", "backend", f"T-{name}", finish=True)
    return fp


async def _closed(store: Store, name: str, minutes: int) -> None:
    at = NOW + timedelta(minutes=minutes)
    t = await store.begin(alert(name, Status.RESOLVED, at=at), f"r-{name}", at)
    assert t.after is not None and t.action is Action.CLOSE
    await store.confirm(t.after.fingerprint, f"r-{name}", "backend", f"T-{name}", finish=True)


async def test_the_next_page_follows_the_last_one_shown_when_an_incident_closes(
    tmp_path: Path,
) -> None:
    """A client paging the open incidents by the answer's `next` cursor (`?after=`) gets the
    incidents after the last one it was shown, when one shown before closes meanwhile; by
    `offset` every later incident moves up one, and the first of the next page was never
    listed on any page."""
    store = SQLiteStore(str(tmp_path / "t.db"), POLICY, LEASE, POLICY.reopen_window * 24)
    await store.open()
    try:
        names = ["a", "b", "c", "d", "e"]
        for minutes, name in enumerate(names):
            await _opened(store, name, minutes)
        async with serving(store) as client:
            first = (await client.get("/api/v1/incidents?limit=2", headers=BEARER)).json()
            newest = [i["title"].split()[0] for i in first["incidents"]]
            await _closed(store, "e", 10)  # the newest, shown on the first page
            after = first["next"]
            second = await client.get(f"/api/v1/incidents?limit=2&after={after}", headers=BEARER)
            assert second.status_code == 200, second.text
            shown = [i["title"].split()[0] for i in second.json()["incidents"]]
        assert newest == ["e", "d"] and shown == ["c", "b"], (newest, shown)
        assert second.json()["next"] is not None
    finally:
        await store.aclose()


@pytest.mark.parametrize(
    "after",
    ["", "x", "0.0.0", "9.1.2.3", "1.9." + "0" * 40 + ".ab", "0.1.1.ZZ", "0.1.1.5.ab", "0.1.1.a b"],
)
async def test_a_tampered_cursor_is_refused_as_such(tmp_path: Path, after: str) -> None:
    """A `next` cursor edited, cut or made up is a 400 saying it is not one of the answer's
    cursors (never a 500, never read as the first page); one beside `offset` is refused too."""
    store = SQLiteStore(str(tmp_path / "t.db"), POLICY, LEASE, POLICY.reopen_window * 24)
    await store.open()
    try:
        await _opened(store, "a", 0)
        async with serving(store) as client:
            answer = await client.get("/api/v1/incidents", params={"after": after}, headers=BEARER)
            assert answer.status_code == 400, answer.text
            assert "after" in answer.json()["error"]
            good = (await client.get("/api/v1/incidents?limit=1", headers=BEARER)).json()
            assert good["next"] is None  # one incident: no next page
            both = await client.get("/api/v1/incidents?offset=1&after=0.1.1.ab", headers=BEARER)
            assert both.status_code == 400 and "offset" in both.json()["error"]
    finally:
        await store.aclose()


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """`triage ARGS` in process: its exit code (a usage error's too), stdout and stderr."""
    try:
        code = main(list(args))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def five_open(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An operator's shell pointed at a store of five open incidents, a (newest) to e."""
    path = tmp_path / "triage.db"

    async def seed() -> None:
        store = SQLiteStore(str(path), POLICY, LEASE, POLICY.reopen_window * 24)
        await store.open()
        for minutes, name in enumerate("edcba"):
            await _opened(store, name, minutes)
        await store.aclose()

    asyncio.run(seed())
    monkeypatch.setenv("TRIAGE_STORE_URL", f"sqlite:///{path}")
    monkeypatch.setenv("TRIAGE_LOG_LEVEL", "warning")
    return path


def test_the_cli_pages_after_the_last_incident_shown(
    five_open: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`incidents list --limit 2` names on stderr the `--after` cursor of the next page, and
    that page follows the last incident shown when one shown before closed meanwhile
    (`--offset 2` would start at d's old place and never show c)."""
    code, out, err = _cli(capsys, "incidents", "list", "--limit", "2")
    assert code == 0, err
    assert [json.loads(line)["title"][0] for line in out.splitlines()] == ["a", "b"]
    cursor = re.search(r"--after (\S+) shows the next", err)
    assert cursor is not None, err

    async def close_a() -> None:
        store = SQLiteStore(str(five_open), POLICY, LEASE, POLICY.reopen_window * 24)
        await store.open()
        await _closed(store, "a", 10)
        await store.aclose()

    asyncio.run(close_a())
    code, out, err = _cli(capsys, "incidents", "list", "--limit", "2", "--after", cursor[1])
    assert code == 0, err
    assert [json.loads(line)["title"][0] for line in out.splitlines()] == ["c", "d"]


@pytest.mark.parametrize(
    "args",
    [["--after", "0.9.1.ab"], ["--after", "e"], ["--after", "0.1.1.ab", "--offset", "1"]],
)
def test_a_cli_cursor_that_is_none_is_one_line_and_exit_2(
    five_open: Path, capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    """An `--after` that is no cursor of the listing (a fingerprint, an edited cursor), or one
    beside `--offset`, is exit 2 with one line naming `--after`, never a traceback."""
    code, out, err = _cli(capsys, "incidents", "list", *args)
    assert code == 2 and out == "", (code, out, err)
    assert len(err.strip().splitlines()) == 1 and "--after" in err, err


# --- A look back longer than a silence lasts ---------------------------------------------------


@pytest.mark.parametrize("since", ["400d", "2000d", "104w", "1000000h"])
def test_a_listing_looks_back_further_than_a_silence_lasts(
    five_open: Path, capsys: pytest.CaptureFixture[str], since: str
) -> None:
    """`--since 400d` (the last 400 days) lists what opened in them: it was refused as "expected
    a duration back from now (90m, 2h, 1d)", a duration being capped at a silence's year."""
    code, out, err = _cli(capsys, "incidents", "list", "--since", since)
    assert code == 0, err
    assert len(out.splitlines()) == 5


@pytest.mark.parametrize("since", ["9999999w", "9999999d"])
def test_a_look_back_past_the_calendar_says_so(
    five_open: Path, capsys: pytest.CaptureFixture[str], since: str
) -> None:
    """A look back to before year 1 is exit 2 saying it is out of the calendar's range, not
    that it is no duration, and no traceback."""
    code, out, err = _cli(capsys, "incidents", "list", "--since", since)
    assert code == 2 and out == "", err
    assert "calendar" in err and len(err.strip().splitlines()) == 1, err


async def test_the_api_looks_back_further_than_a_silence_lasts(tmp_path: Path) -> None:
    """`?since=400d` is answered as `--since 400d` is, not a 400."""
    store = SQLiteStore(str(tmp_path / "t.db"), POLICY, LEASE, POLICY.reopen_window * 24)
    await store.open()
    try:
        await _opened(store, "a", 0)
        async with serving(store) as client:
            answer = await client.get("/api/v1/incidents?since=400d", headers=BEARER)
            assert answer.status_code == 200, answer.text
            assert answer.json()["total"] == 1
    finally:
        await store.aclose()


# --- A store a newer release wrote to --------------------------------------------------------


def _newer(path: Path, title_starts: str) -> str:
    """Mark the incident whose title starts with `title_starts` as a newer release's record
    (its `min_reader` past this release's); its fingerprint."""
    import sqlite3

    with contextlib.closing(sqlite3.connect(path)) as db, db:
        rows = db.execute("SELECT fingerprint, body FROM incidents").fetchall()
        [(fp, body)] = [(f, b) for f, b in rows if json.loads(b)["title"].startswith(title_starts)]
        db.execute(
            "UPDATE incidents SET body = ? WHERE fingerprint = ?",
            (json.dumps({**json.loads(body), "min_reader": 99}), fp),
        )
    return str(fp)


def test_a_listing_that_leaves_out_a_newer_release_s_incident_says_so(
    five_open: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`incidents list` over a store where a newer release wrote one incident lists the four
    it reads and says on stderr, in one line of its own, that one stored incident could not
    be read and is not listed (the API's `unreadable`, the page's note): it listed four and
    said nothing an operator reads as triage's, as if there were four."""
    _newer(five_open, "c")
    code, out, err = _cli(capsys, "incidents", "list", "--output", "text")
    assert code == 0, err
    assert len(out.splitlines()) == 4
    said = [line for line in err.splitlines() if line.startswith("triage: incidents:")]
    assert len(said) == 1 and "1 stored incident could not be read" in said[0], err


def test_a_prefix_of_an_incident_this_release_cannot_read_is_not_said_to_be_none(
    five_open: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`incidents show PREFIX` of the incident a newer release wrote says that some stored
    incidents could not be read, so the prefix may name one, and to give the whole
    fingerprint; it said `no incident PREFIX`, read as "it is not there"."""
    fp = _newer(five_open, "c")
    code, out, err = _cli(capsys, "incidents", "show", fp[:10])
    assert code == 1 and out == "", err
    said = [line for line in err.splitlines() if line.startswith("triage: incidents:")]
    assert len(said) == 1 and "could not be read" in said[0], err
    code, out, err = _cli(capsys, "incidents", "show", fp)
    assert code == 1 and "newer" in err, err


def _silence_made_newer(path: Path) -> str:
    """Mark the first stored silence as a newer release's (its `min_reader` past this
    release's); its id."""
    import sqlite3

    with contextlib.closing(sqlite3.connect(path)) as db, db:
        [(kind, key, body)] = db.execute(
            "SELECT kind, key, body FROM records WHERE body LIKE '{\"silences\"%'"
        ).fetchall()
        data = json.loads(body)
        data["silences"][0]["min_reader"] = 99
        db.execute(
            "UPDATE records SET body = ? WHERE kind = ? AND key = ?", (json.dumps(data), kind, key)
        )
    return str(data["silences"][0]["id"])


def test_a_silence_a_newer_release_wrote_is_said_not_to_be_none(
    five_open: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """After a rollback, a silence the newer release wrote still mutes on its replicas:
    `silence list` says on stderr one stored silence could not be read and is not listed,
    and `silence expire ID` says this release cannot read it (exit 1), not `no silence ID`,
    which reads as "it is gone"."""
    for team in ("payments", "ops"):
        code, _, err = _cli(capsys, "silence", "add", "--for", "1h", "--match", f"team={team}",
                            "--comment", "db work", "--author", "op")  # fmt: skip
        assert code == 0, err
    newer = _silence_made_newer(five_open)
    code, out, err = _cli(capsys, "silence", "list")
    assert code == 0 and len(out.splitlines()) == 1, (out, err)
    said = [line for line in err.splitlines() if line.startswith("triage: silence:")]
    assert len(said) == 1 and "1 stored silence could not be read" in said[0], err
    for given in (newer, newer[:6]):
        code, out, err = _cli(capsys, "silence", "expire", given)
        said = [line for line in err.splitlines() if line.startswith("triage: silence:")]
        assert code == 1 and len(said) == 1, err
        assert f"silence {newer}" in said[0] and "newer" in said[0], err


async def test_the_api_says_how_many_silences_it_left_out_and_why_one_is_not_ended(
    tmp_path: Path,
) -> None:
    """`GET /api/v1/silences` answers `unreadable`, how many stored silences this release left
    out (as the incidents' listing does), and `DELETE` of one a newer release wrote says this
    release cannot read it, not that there is no such silence."""
    path = tmp_path / "t.db"
    store = SQLiteStore(str(path), POLICY, LEASE, POLICY.reopen_window * 24)
    await store.open()
    try:
        for team in ("payments", "ops"):
            made = Silence.new([Matcher.parse(f"team={team}")], NOW, NOW + HOUR, "work", "op")
            await store.add_silence(made, NOW)
        newer = _silence_made_newer(path)
        async with serving(store) as client:
            listed = (await client.get("/api/v1/silences", headers=BEARER)).json()
            assert len(listed["silences"]) == 1 and listed["unreadable"] == 1, listed
            answer = await client.delete(f"/api/v1/silences/{newer}", headers=BEARER)
            assert answer.status_code == 404 and "cannot be read" in answer.text, answer.text
    finally:
        await store.aclose()


@pytest.mark.parametrize("field", ["opened_at", "last_event_at"])
def test_a_stored_time_without_its_utc_offset_is_an_unreadable_record_not_a_crash(
    five_open: Path, capsys: pytest.CaptureFixture[str], field: str
) -> None:
    """A record whose time lost its UTC offset (a hand edit, another tool's write) is read as
    damage, as a field of the wrong type is: `incidents list --output text` lists the other
    four and says one could not be read; it crashed with a traceback comparing times."""
    import sqlite3

    with contextlib.closing(sqlite3.connect(five_open)) as db, db:
        [(fp, body)] = db.execute("SELECT fingerprint, body FROM incidents LIMIT 1").fetchall()
        data = json.loads(body)
        data[field] = "2026-12-07T10:00:00"
        db.execute("UPDATE incidents SET body = ? WHERE fingerprint = ?", (json.dumps(data), fp))
    code, out, err = _cli(capsys, "incidents", "list", "--output", "text")
    assert code == 0 and "Traceback" not in err, err
    assert len(out.splitlines()) == 4
    assert "1 stored incident could not be read" in err, err


async def test_the_status_page_says_a_silence_was_left_out(tmp_path: Path) -> None:
    """The page's silences section says one stored silence could not be read and is not
    shown (it may still mute on a replica that reads it), as it says of incidents."""
    path = tmp_path / "t.db"
    store = SQLiteStore(str(path), POLICY, LEASE, POLICY.reopen_window * 24)
    await store.open()
    try:
        for team in ("payments", "ops"):
            made = Silence.new([Matcher.parse(f"team={team}")], NOW, NOW + HOUR, "work", "op")
            await store.add_silence(made, NOW)
        _silence_made_newer(path)
        async with serving(store) as client:
            page = await client.get("/", headers=BEARER)
        assert page.status_code == 200
        section = page.text[page.text.index("<h2>Silences</h2>") :]
        assert "1 stored silence could not be read" in section.split("</section>")[0]
    finally:
        await store.aclose()
