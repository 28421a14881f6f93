"""Operators, round 4 (task 488): what the API, the status page and `triage silence` answer
an operator who sends a token in the wrong place, names a silence as it is shown (by the
start of its id), or filters by a value no incident can hold. Each answer is one clear line,
and nothing is done to the wrong silence."""

from __future__ import annotations

import asyncio
import contextlib
import html
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, cast

import httpx2
import pytest
from pydantic import SecretStr

from factories import alert
from test_operator_api import BEARER, NOW, TOKEN, _seed, serving
from test_pipeline import CountingSummariser, FakeSink
from test_store import LEASE, POLICY
from triage.aws import Aws
from triage.breaker import CircuitBreaker
from triage.cli import main
from triage.errors import StoreUnavailableError
from triage.health import Health
from triage.incidents import Incident
from triage.incidents.codec import view_to_json
from triage.incidents.lifecycle import closing_note
from triage.incidents.silences import Matcher, Silence, SilenceCache
from triage.incidents.sqlite import SQLiteStore
from triage.incidents.store import Hold
from triage.metrics import Metrics
from triage.ops.api import OperatorView, operator_routes
from triage.ops.endpoints import EndpointServer
from triage.ops.operator import incident_json, parse_duration
from triage.ops.operator_text import incident_line
from triage.redact import Redactor
from triage.settings import Settings
from triage.sinks.guard import GuardedSink
from triage.sqs.depth import Depth, DepthPoller, QueueDepths
from triage.view import redact_alert


@pytest.fixture
async def sqlite_store(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    """A SQLite store on disk, as `triage run` and `triage silence` share it."""
    store = SQLiteStore(str(tmp_path / "triage.db"), POLICY, LEASE, timedelta(days=30))
    await store.open()
    yield store
    await store.aclose()


async def _add_silence(store: SQLiteStore, silence_id: str, team: str = "payments") -> Silence:
    """A silence of `team` with the id `silence_id`, as another replica would have made it."""
    made = Silence.new([Matcher.parse(f"team={team}")], NOW, NOW + timedelta(hours=2), "c", "a")
    made = Silence(
        silence_id, made.matchers, made.starts_at, made.ends_at, made.comment, made.author
    )
    return await store.add_silence(made, NOW)


# --- a token in the query string -------------------------------------------------------------


@pytest.mark.parametrize("name", ["access_token", "token", "api_key"])
async def test_a_token_in_the_api_query_is_refused_saying_where_it_goes(
    sqlite_store: SQLiteStore, name: str
) -> None:
    """`?access_token=…` is a 400 whose one line names the parameter and says the token goes
    in the Authorization header, never in a URL; the redactor does not eat the line's words."""
    await _seed(sqlite_store)
    async with serving(sqlite_store) as client:
        answer = await client.get(f"/api/v1/incidents?{name}={TOKEN}", headers=BEARER)
    error = answer.json()["error"]
    assert answer.status_code == 400
    assert repr(name) in error and "Authorization header" in error and "URL" in error, error
    assert "REDACTED" not in error and TOKEN not in error, error


async def test_an_unknown_parameter_is_refused_in_words_the_redactor_keeps(
    sqlite_store: SQLiteStore,
) -> None:
    """`?sate=closed` is a 400 naming the parameter, the ones the path takes and the one
    meant, without a word of it taken for a secret's value."""
    async with serving(sqlite_store) as client:
        answer = await client.get("/api/v1/incidents?sate=closed", headers=BEARER)
    error = answer.json()["error"]
    assert answer.status_code == 400
    assert "'sate'" in error and "state" in error and "REDACTED" not in error, error


async def test_a_token_in_the_page_query_is_refused_saying_where_it_goes(
    sqlite_store: SQLiteStore,
) -> None:
    """The status page's `/?token=…` is a 400 page saying the token belongs in no URL, with
    the token's value nowhere on it and no word of its line redacted."""
    async with serving(sqlite_store) as client:
        answer = await client.get(f"/?token={TOKEN}", headers=BEARER)
    assert answer.status_code == 400
    assert "never in a URL" in answer.text and "REDACTED" not in answer.text
    assert TOKEN not in answer.text


# --- a silence named by the start of its id --------------------------------------------------


async def test_the_api_expires_a_silence_by_an_unambiguous_prefix(
    sqlite_store: SQLiteStore,
) -> None:
    """DELETE /api/v1/silences/{prefix} of at least 4 characters expires the one silence
    whose id starts with it, as incidents are named by a prefix."""
    await _add_silence(sqlite_store, "9a6619d032ec")
    await _add_silence(sqlite_store, "77aa00000000", team="db")
    async with serving(sqlite_store) as client:
        answer = await client.delete("/api/v1/silences/9a66", headers=BEARER)
    assert answer.status_code == 200, answer.text
    assert answer.json()["id"] == "9a6619d032ec" and answer.json()["active"] is False
    kept = {s.id: s for s in await sqlite_store.silences()}
    assert kept["77aa00000000"].active(NOW + timedelta(minutes=1))


async def test_an_ambiguous_or_short_silence_prefix_expires_nothing_and_says_why(
    sqlite_store: SQLiteStore,
) -> None:
    """A prefix two silences share is a 404 naming both; one shorter than 4 characters is a
    404 saying how many it starts; neither silence is expired."""
    await _add_silence(sqlite_store, "abcd11111111")
    await _add_silence(sqlite_store, "abcd22222222", team="db")
    async with serving(sqlite_store) as client:
        shared = await client.delete("/api/v1/silences/abcd", headers=BEARER)
        short = await client.delete("/api/v1/silences/abc", headers=BEARER)
    assert shared.status_code == 404
    assert "abcd11111111" in shared.json()["error"] and "abcd22222222" in shared.json()["error"]
    assert short.status_code == 404 and "at least 4" in short.json()["error"], short.text
    later = NOW + timedelta(minutes=1)
    assert all(s.active(later) for s in await sqlite_store.silences())


def test_silence_expire_takes_a_prefix_on_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`triage silence expire 9a66` ends the silence 9a6619d032ec and prints it (exit 0);
    an unknown prefix exits 1 saying there is none."""
    db = tmp_path / "triage.db"
    monkeypatch.setenv("TRIAGE_STORE_URL", f"sqlite:///{db}")
    monkeypatch.setenv("TRIAGE_LOG_LEVEL", "warning")

    async def seed() -> None:
        store = SQLiteStore(str(db), POLICY, LEASE, timedelta(days=30))
        await store.open()
        try:
            await _add_silence(store, "9a6619d032ec")
        finally:
            await store.aclose()

    asyncio.run(seed())
    assert main(["silence", "expire", "9a66"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["id"] == "9a6619d032ec" and json.loads(out)["active"] is False, err
    assert main(["silence", "expire", "ffff"]) == 1
    assert "no silence ffff" in capsys.readouterr().err


# --- the status page under faults ------------------------------------------------------------


class _DownStore(SQLiteStore):
    """A store whose listings fail as DynamoDB's do in an outage (throttled, unreachable)."""

    async def incidents(self, *args: Any, **kwargs: Any) -> list[Incident]:
        raise StoreUnavailableError("throttled")

    async def silences(self) -> tuple[Silence, ...]:
        raise StoreUnavailableError("throttled")


@dataclass
class _Depths:
    """Stands where the daemon's DepthPoller does: the page reads its last depths."""

    latest: QueueDepths | None

    async def read(self) -> QueueDepths | None:
        return self.latest


@contextlib.asynccontextmanager
async def _page_of(store: SQLiteStore, depths: QueueDepths) -> AsyncIterator[httpx2.AsyncClient]:
    """The operator's endpoints over `store`, with one backend sink whose breaker is open
    and the queue's depths as the daemon's last poll read them."""
    settings = Settings(api_token=SecretStr(TOKEN))
    backend = GuardedSink(FakeSink("backend"), CircuitBreaker("sink:backend", 1, 60))
    backend.breaker.trip()
    aws = Aws(settings)
    poller = cast(DepthPoller, _Depths(depths))
    view = OperatorView(
        settings, store, SilenceCache(store), [backend], CountingSummariser(), Health(), aws,
        depth=poller,
    )  # fmt: skip
    server = EndpointServer(Health(), Metrics(), "127.0.0.1", 0, extra_routes=operator_routes(view))
    await server.start()
    try:
        async with httpx2.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as client:
            yield client
    finally:
        await server.aclose()
        await aws.aclose()


def _page_text(page: str) -> str:
    """The page's words, one space apart, as a reader sees them."""
    return " ".join(
        html.unescape(re.sub(r"<style>.*?</style>|<[^>]+>", " ", page, flags=re.S)).split()
    )


async def test_a_store_outage_still_shows_the_sinks_and_the_dead_letters(tmp_path: Path) -> None:
    """While the store cannot be listed, the page says so (503) and still shows what the
    daemon knows without it: the backend's open breaker and the DLQ's 7 dead letters, which
    an operator in that outage needs most."""
    store = _DownStore(str(tmp_path / "t.db"), POLICY, LEASE, timedelta(days=30))
    await store.open()
    depths = QueueDepths(Depth(3, 1, 0), 7, NOW)
    try:
        async with _page_of(store, depths) as client:
            page = await client.get("/", headers=BEARER)
    finally:
        await store.aclose()
    text = _page_text(page.text)
    assert page.status_code == 503
    assert "store is unavailable" in text, text
    assert "backend open" in text and "DLQ 7" in text, text


async def test_a_dead_letter_queue_that_cannot_be_read_is_said_on_the_page(
    sqlite_store: SQLiteStore,
) -> None:
    """A DLQ whose count the last poll could not read (deleted, not ours to read) is a row
    saying it could not be read and why, not left out as a queue without a DLQ is."""
    error = "AWS.SimpleQueueService.NonExistentQueue"
    depths = QueueDepths(Depth(3, 1, 0), None, NOW, dlq_error=error)
    async with _page_of(sqlite_store, depths) as client:
        page = await client.get("/", headers=BEARER)
    text = _page_text(page.text)
    assert page.status_code == 200
    assert "DLQ could not be read" in text and error in text, text


async def test_a_close_by_hand_a_sink_keeps_failing_is_on_the_page(
    sqlite_store: SQLiteStore,
) -> None:
    """An incident closed by hand whose close the backend failed twice is in no open list,
    yet its ticket stays open: the page lists it under "Failing effects", with the effect,
    how many attempts failed and a link to its page, until the sweep gets it out."""
    fp = await _seed(sqlite_store)
    incident = await sqlite_store.get(fp)
    assert incident is not None
    note = view_to_json(closing_note(incident, "closed by alice: fixed", NOW))
    await sqlite_store.close(fp, "operator", NOW, note)
    for _ in range(2):
        await sqlite_store.release(fp, "operator", reason="backend unavailable", now=NOW)
    async with serving(sqlite_store) as client:
        page = await client.get("/", headers=BEARER)
    text = _page_text(page.text)
    assert page.status_code == 200
    assert "Failing effects" in text and "close failed 2 times" in text, text
    assert f"/incidents/{fp}" in page.text


async def test_the_api_listing_says_which_incidents_a_sink_keeps_failing(
    sqlite_store: SQLiteStore,
) -> None:
    """`GET /api/v1/incidents?state=all` gives an incident whose close a sink failed twice a
    `failing` object (its effect, failed attempts and next try), so a script finds the
    tickets left open without fetching each incident; others have no such key."""
    fp = await _seed(sqlite_store)
    incident = await sqlite_store.get(fp)
    assert incident is not None
    note = view_to_json(closing_note(incident, "closed by alice: fixed", NOW))
    await sqlite_store.close(fp, "operator", NOW, note)
    for _ in range(2):
        await sqlite_store.release(fp, "operator", reason="backend unavailable", now=NOW)
    async with serving(sqlite_store) as client:
        listed = (await client.get("/api/v1/incidents?state=all", headers=BEARER)).json()
    by_fp = {i["fingerprint"]: i for i in listed["incidents"]}
    failing = by_fp[fp]["failing"]
    assert failing["effect"] == "close" and failing["failed_attempts"] == 2, failing
    assert failing["retry_at"] is not None
    assert all("failing" not in i for f, i in by_fp.items() if f != fp)


@pytest.mark.parametrize("parameter", ["team", "search"])
async def test_a_filter_holding_a_control_character_is_refused_naming_it(
    sqlite_store: SQLiteStore, parameter: str
) -> None:
    """`?team=pay%00ments` (a script's bad byte, a terminal's escape pasted) is a 400 naming
    the parameter and the character, as no stored team or title holds one, not a 200 of no
    incidents that reads as "none of this team is open"."""
    await _seed(sqlite_store)
    async with serving(sqlite_store) as client:
        answer = await client.get(f"/api/v1/incidents?{parameter}=pay%00ments", headers=BEARER)
    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    assert parameter in error and "<U+0000>" in error, error


async def test_incidents_list_text_flags_a_close_a_sink_keeps_failing(
    sqlite_store: SQLiteStore,
) -> None:
    """`incidents list --output text` writes `[close failed 2 times]` among an incident's flags
    (before its title, where no title can write it) when a sink failed its close twice."""
    fp = await _seed(sqlite_store)
    incident = await sqlite_store.get(fp)
    assert incident is not None
    note = view_to_json(closing_note(incident, "closed by alice: fixed", NOW))
    await sqlite_store.close(fp, "operator", NOW, note)
    for _ in range(2):
        await sqlite_store.release(fp, "operator", reason="backend unavailable", now=NOW)
    failing = await sqlite_store.get(fp)
    assert failing is not None
    line = incident_line(incident_json(failing, Redactor()), failing.opened_at, NOW)
    assert "[close failed 2 times]" in line.split("disk full")[0], line


# --- expiring a silence that holds effects ---------------------------------------------------


async def _held_by(store: SQLiteStore, silence: Silence, name: str) -> None:
    """An incident whose opening `silence` holds (its alert is of team payments)."""
    quiet = alert(name)
    held = Hold(silence.id, silence.ends(), view_to_json(redact_alert(quiet, Redactor())))
    await store.begin(quiet, f"m-{name}", NOW, hold=held)


async def test_expiring_a_silence_says_how_many_held_effects_it_lets_go(
    sqlite_store: SQLiteStore,
) -> None:
    """DELETE of a silence holding two incidents' openings answers `released: 2` (the
    sweep now sends them), so the operator knows tickets are about to open; a silence that
    held nothing answers no such key."""
    holding = await _add_silence(sqlite_store, "5e1e00000001")
    idle = await _add_silence(sqlite_store, "1d1e00000001", team="db")
    for name in ("quiet-1", "quiet-2"):
        await _held_by(sqlite_store, holding, name)
    async with serving(sqlite_store) as client:
        expired = (await client.delete(f"/api/v1/silences/{holding.id}", headers=BEARER)).json()
        other = (await client.delete(f"/api/v1/silences/{idle.id}", headers=BEARER)).json()
    assert expired.get("released") == 2, expired
    assert "released" not in other, other


def test_silence_expire_says_the_held_effects_go_out_with_the_sweep(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`triage silence expire` of a silence holding an incident's opening prints the silence
    (exit 0) and one stderr line saying 1 held effect goes out with the daemon's next sweep."""
    db = tmp_path / "triage.db"
    monkeypatch.setenv("TRIAGE_STORE_URL", f"sqlite:///{db}")
    monkeypatch.setenv("TRIAGE_LOG_LEVEL", "warning")

    async def seed() -> None:
        store = SQLiteStore(str(db), POLICY, LEASE, timedelta(days=30))
        await store.open()
        try:
            await _held_by(store, await _add_silence(store, "5e1e00000001"), "quiet")
        finally:
            await store.aclose()

    asyncio.run(seed())
    assert main(["silence", "expire", "5e1e00000001"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["active"] is False
    assert "1 incident it held" in err and "next sweep" in err, err


# --- durations as Alertmanager's users write them --------------------------------------------


def test_a_silence_for_a_week_is_taken_as_amtool_takes_it() -> None:
    """`--for 1w` (amtool's and Prometheus's week) is seven days, and `2w3d` seventeen; a
    duration in years is refused saying the most a silence lasts, not only the examples."""
    assert parse_duration("1w") == timedelta(days=7)
    assert parse_duration("2w3d") == timedelta(days=17)
    with pytest.raises(ValueError, match="at most 365d"):
        parse_duration("10y")


async def test_a_token_only_in_the_query_is_a_401_saying_where_it_goes(
    sqlite_store: SQLiteStore,
) -> None:
    """`curl '…/api/v1/incidents?access_token=…'` without the header is a 401 whose error
    says the token goes in the Authorization header, not a bare "unauthorized" that reads as
    a wrong token; the token's value is not in the answer."""
    async with serving(sqlite_store) as client:
        answer = await client.get(f"/api/v1/incidents?access_token={TOKEN}")
        bare = await client.get("/api/v1/incidents")
    error = answer.json()["error"]
    assert answer.status_code == 401 and answer.headers["www-authenticate"] == "Bearer"
    assert "Authorization header" in error and TOKEN not in answer.text, error
    assert bare.json() == {"error": "unauthorized"}  # no hint where nothing was misplaced


async def test_a_delete_naming_no_silence_says_none_was_named(sqlite_store: SQLiteStore) -> None:
    """DELETE /api/v1/silences/ (a script's unset id) is a 404 saying no id was given and
    where ids are listed, and expires nothing, however many silences there are."""
    await _add_silence(sqlite_store, "9a6619d032ec")
    async with serving(sqlite_store) as client:
        answer = await client.delete("/api/v1/silences/%20", headers=BEARER)
    assert answer.status_code == 404
    assert "no silence id given" in answer.json()["error"], answer.text
    assert all(s.active(NOW + timedelta(minutes=1)) for s in await sqlite_store.silences())
