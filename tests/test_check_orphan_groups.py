"""`triage check` warns of open groups whose grouping route the routes file no longer has: their
updates and closes go elsewhere than the route that opened them, and new alerts open new groups."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from triage.app import open_configured_store
from triage.aws import ONE_SHOT, Aws
from triage.incidents.lifecycle import Group, Incident, State
from triage.ops import check
from triage.ops.check import run_checks
from triage.ops.orphan_groups import MAX_ORPHAN_ROUTES
from triage.settings import Settings

T0 = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)

CRASH_LOOPS = """
[[route]]
name = "{name}"
sinks = ["slack"]
group_by = ["alertname"]
{extra}
[route.match]
source = ["alertmanager"]
"""


def _settings(tmp_path: Path, routes: str) -> Settings:
    routes_file = tmp_path / "routes.toml"
    routes_file.write_text(routes)
    return Settings(
        store_url=f"sqlite:///{tmp_path}/t.db",
        sinks=("slack",),
        routes_file=routes_file,
        llm_provider="none",
    )


def _group(fingerprint: str, route: str, state: State = State.OPEN) -> Incident:
    return Incident(
        fingerprint=fingerprint,
        state=state,
        source="alertmanager",
        title="CrashLoop",
        opened_at=T0,
        last_event_at=T0,
        closed_at=T0 if state is State.CLOSED else None,
        refs={"slack": "1"},
        group=Group(route, {"alertname": fingerprint}),
    )


def _writing(incident: Incident) -> Callable[[Incident | None], tuple[Incident, None]]:
    """The store's change that writes `incident` whatever it held."""
    return lambda _stored: (incident, None)


async def _seed(settings: Settings, *incidents: Incident) -> None:
    """Each incident written as the store writes every incident."""
    aws = Aws(settings, ONE_SHOT)
    store = await open_configured_store(settings, aws)
    try:
        for incident in incidents:
            await store._transact(incident.fingerprint, _writing(incident))
    finally:
        await store.aclose()
        await aws.aclose()


async def _check(settings: Settings) -> list[str]:
    out = io.StringIO()
    await run_checks(settings, out)
    return out.getvalue().splitlines()


async def _routes_lines(settings: Settings) -> list[str]:
    return [line for line in await _check(settings) if line.split()[1:2] == ["routes"]]


async def test_open_groups_of_a_route_gone_from_the_file_are_one_warn_line(
    tmp_path: Path,
) -> None:
    """Three open groups of 'crash-loops', renamed 'pod-crashes' without group_key: one warn
    line naming the route, the count, where their effects go and the group_key to set."""
    settings = _settings(tmp_path, CRASH_LOOPS.format(name="pod-crashes", extra=""))
    await _seed(settings, *(_group(f"g{n}", "crash-loops") for n in range(3)))
    lines = await _routes_lines(settings)
    warns = [line for line in lines if line.startswith("warn")]
    assert warns == [
        "warn  routes   3 open groups of route 'crash-loops', which the routes file no longer "
        "has: their updates and closes go to the default route's sinks and new alerts open "
        'new groups; if the route was renamed, set group_key = "crash-loops" on it'
    ]
    assert not any(line.startswith("FAIL") for line in lines)


async def test_a_renamed_route_keeping_its_group_key_warns_of_nothing(tmp_path: Path) -> None:
    """The route renamed with group_key = its old name keeps its groups: no warn line."""
    routes = CRASH_LOOPS.format(name="pod-crashes", extra='group_key = "crash-loops"')
    settings = _settings(tmp_path, routes)
    await _seed(settings, _group("g1", "crash-loops"))
    lines = await _routes_lines(settings)
    assert [line.split()[0] for line in lines] == ["ok"]


async def test_a_closed_group_of_a_gone_route_warns_of_nothing(tmp_path: Path) -> None:
    """A closed group of a route the file no longer has is no one's concern: no warn line."""
    settings = _settings(tmp_path, CRASH_LOOPS.format(name="pod-crashes", extra=""))
    await _seed(settings, _group("g1", "crash-loops", State.CLOSED))
    lines = await _routes_lines(settings)
    assert [line.split()[0] for line in lines] == ["ok"]


async def test_a_route_that_no_longer_groups_is_named_as_such(tmp_path: Path) -> None:
    """Open groups of a route still in the file but without group_by: their effects go to its
    sinks, yet new alerts open incidents of their own; the warn line says so."""
    routes = '[[route]]\nname = "crash-loops"\nsinks = ["slack"]\n[route.match]\nteam = ["k8s"]\n'
    settings = _settings(tmp_path, routes)
    await _seed(settings, _group("g1", "crash-loops"))
    (warn,) = [line for line in await _routes_lines(settings) if line.startswith("warn")]
    assert "1 open group of route 'crash-loops', which no longer groups (no group_by)" in warn
    assert "updates and closes go to its sinks" in warn


async def test_a_route_keyed_by_another_group_key_is_named_as_such(tmp_path: Path) -> None:
    """Open groups keyed 'crash-loops' while the route of that name now has group_key 'pods':
    their effects still reach its sinks, but its new alerts open new groups under 'pods'."""
    routes = CRASH_LOOPS.format(name="crash-loops", extra='group_key = "pods"')
    settings = _settings(tmp_path, routes)
    await _seed(settings, _group("g1", "crash-loops"))
    (warn,) = [line for line in await _routes_lines(settings) if line.startswith("warn")]
    assert "keys its groups by group_key 'pods' now" in warn
    assert 'set group_key = "crash-loops" on it' in warn


async def test_route_names_from_the_store_are_escaped_for_the_terminal(tmp_path: Path) -> None:
    """A stored route name holding a terminal escape is written as text, never raw."""
    settings = _settings(tmp_path, CRASH_LOOPS.format(name="pod-crashes", extra=""))
    await _seed(settings, _group("g1", "evil\x1b[2J"))
    (warn,) = [line for line in await _routes_lines(settings) if line.startswith("warn")]
    assert "\x1b" not in warn and "evil" in warn


async def test_many_gone_routes_are_capped_and_say_so(tmp_path: Path) -> None:
    """More gone route keys than check names: the first ones each a line, one line for the rest."""
    settings = _settings(tmp_path, CRASH_LOOPS.format(name="pod-crashes", extra=""))
    extra = 3
    gone = [_group(f"g{n}", f"route-{n:03}") for n in range(MAX_ORPHAN_ROUTES + extra)]
    await _seed(settings, *gone)
    warns = [line for line in await _routes_lines(settings) if line.startswith("warn")]
    assert len(warns) == MAX_ORPHAN_ROUTES + 1
    assert f"and {extra} more routes" in warns[-1]


async def test_each_warn_line_counts_as_a_check_with_a_warning(tmp_path: Path) -> None:
    """The summary line counts each orphan warn line as a check passed with a warning."""
    settings = _settings(tmp_path, CRASH_LOOPS.format(name="pod-crashes", extra=""))
    without = await _check(settings)
    await _seed(settings, _group("g1", "a"), _group("g2", "b"))
    lines = await _check(settings)
    assert sum(line.startswith("warn  routes") for line in lines) == 2
    assert lines[-1].endswith("with a warning")
    before = int(without[-1].split(" of ")[1].split()[0])
    assert f" of {before + 2} checks passed" in lines[-1]


async def test_a_slow_listing_is_not_waited_for_and_the_store_line_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past GROUPS_READ_S the open groups are not checked: the store line still passes and
    says so, and no routes warning is made up."""
    settings = _settings(tmp_path, CRASH_LOOPS.format(name="pod-crashes", extra=""))
    await _seed(settings, _group("g1", "crash-loops"))
    monkeypatch.setattr(check, "GROUPS_READ_S", 0.0)
    lines = await _check(settings)
    (store,) = [line for line in lines if line.split()[1:2] == ["store"]]
    assert store.startswith("ok") and "open groups not checked" in store
    assert not any(line.startswith("warn  routes") for line in lines)
