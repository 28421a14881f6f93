"""An open carried out without its alert before any ticket was kept (a silence's held open let
go by the sweep, the sweep's redo of an open whose summary never came) goes by the route its
whole alert chose when the incident was decided (`Incident.route`), where the summary cannot
change that choice: the stored view shows 64 labels, cut, and before its ticket none at all.
A route that the summary's priority or categories still decide is left to the summary, as
before; so is a route renamed since. The primary cases are tests/test_redo_route.py's."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from factories import T0
from test_pipeline import CountingSummariser
from test_redo_route import CUT_ROUTES, ROUTES, Rig, crowded, router, sent
from triage.errors import SummariserError
from triage.incidents.silences import Matcher, Silence
from triage.models import Alert, Priority, Ticket
from triage.routes import Router
from triage.view import RedactedAlert

#: Routes on a label the stored view shows (`k00`, the second of 70): the first only for the
#: summary's high priority, the second for any other.
BY_PRIORITY = """
[[route]]
name = "urgent"
sinks = ["github"]
[route.match]
priority = ["high"]
labels = { k00 = "v0" }
[route.github]
repository = "acme/urgent"

[[route]]
name = "payments"
sinks = ["github"]
[route.match]
labels = { k00 = "v0" }
[route.github]
repository = "acme/payments"
"""

#: The payments route for high priority only, on the label past the 64 shown.
HIGH_ONLY = ROUTES.replace("[route.match]\n", '[route.match]\npriority = ["high"]\n')


class FailingOnce(CountingSummariser):
    """A summariser whose first call fails (its service down): the open's message fails
    before any route is kept with a ticket."""

    async def summarise(self, alert: RedactedAlert) -> Ticket:
        if self.calls == 0:
            self.calls += 1
            raise SummariserError("503")
        return await super().summarise(alert)


class LowForTheStored(CountingSummariser):
    """A summariser that reads the stored incident (no priority, no severity) as low: what
    the redo's summary may say of an alert that stated its priority."""

    async def summarise(self, alert: RedactedAlert) -> Ticket:
        ticket = await super().summarise(alert)
        if alert.priority is None:
            return ticket.model_copy(update={"priority": Priority.LOW})
        return ticket


async def failed_open(r: Rig, fired: Alert) -> None:
    """`fired`'s open failed at its summary, before anything was sent or kept."""
    r.clock.at(0)
    with pytest.raises(SummariserError):
        await r.pipeline.handle(fired, "m-open")


async def held(r: Rig) -> None:
    """A silence on the payments team for the first 30 minutes."""
    silence = Silence.new(
        [Matcher.parse("team=payments")], T0, T0 + timedelta(minutes=30), "maintenance", "alice"
    )
    await r.store.add_silence(silence, T0)


def unstated(fired: Alert) -> Alert:
    """`fired` without a priority of its own: its ticket's is the summary's."""
    return fired.model_copy(update={"priority": None})


async def test_the_route_is_kept_when_the_incident_is_decided(tmp_path: Path) -> None:
    """A held open's incident names the route its whole alert chose before any ticket is
    kept (what an operator lists), and nothing of the alert's labels past those shown."""
    r = Rig(router(tmp_path, ROUTES))
    await held(r)
    await r.opened(crowded())
    [incident] = await r.store.incidents()
    assert incident.held is not None and incident.ticket is None
    assert incident.route == "payments"
    assert "owner" not in incident.labels


async def test_a_stated_priority_keeps_a_priority_route_for_the_redo(tmp_path: Path) -> None:
    """The alert states high, so its ticket is high whatever the summary reads: the redo,
    whose summary of the stored incident says low, still opens on the high-only route."""
    r = Rig(router(tmp_path, HIGH_ONLY))
    r.pipeline.summariser = FailingOnce()
    await failed_open(r, crowded())
    r.pipeline.summariser = LowForTheStored()
    await r.sweep_at(60)
    assert sent(r.github) == [("open", "acme/payments")]
    assert r.backend.effects == []


async def test_a_route_the_summarys_priority_decides_is_left_to_it(tmp_path: Path) -> None:
    """The alert states no priority and a route needs the summary's (high): no route is
    chosen before the summary, and the held open goes where the summary's high sends it
    (its view shows the label), not where the severity's medium would have."""
    r = Rig(router(tmp_path, BY_PRIORITY))
    await held(r)
    await r.opened(unstated(crowded()))
    [incident] = await r.store.incidents()
    assert incident.route is None
    await r.sweep_at(31)
    assert sent(r.github) == [("open", "acme/urgent")]


async def test_a_held_open_no_route_takes_is_not_routed_by_a_cut_value(tmp_path: Path) -> None:
    """An alert no route takes is kept on the default route by name: its held open goes to
    the default's sinks, not to the route its label's value matches as the held view cuts it."""
    r = Rig(router(tmp_path, CUT_ROUTES, ("backend", "github")))
    await held(r)
    await r.opened(crowded())
    [incident] = await r.store.incidents()
    assert incident.route == "default"
    await r.sweep_at(31)
    assert sent(r.github) == [("open", None)]
    assert [str(e.kind) for e in r.backend.effects] == ["open"]


async def test_a_route_renamed_before_the_redo_is_routed_as_before(tmp_path: Path) -> None:
    """The route chosen is gone from the routes file by the redo (renamed): the redo is
    routed by what the incident keeps, as it was before a route was kept."""
    shown = ROUTES.replace("owner = ", "k00 = ").replace('"payments" }', '"v0" }')
    first = tmp_path / "first"
    first.mkdir()
    r = Rig(router(first, shown.replace('name = "payments"', 'name = "old"')))
    r.pipeline.summariser = FailingOnce()
    await failed_open(r, crowded())
    [incident] = await r.store.incidents()
    assert incident.route == "old"
    await r.sweep_at(60, r.replica(router(tmp_path, shown)))
    assert [str(e.kind) for e in r.backend.effects] == ["open"]
    assert r.github.effects == []


async def test_only_an_opening_alert_chooses_its_route_early(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The route is worked out for the alert that opens the incident, not for its repeats (a
    storm's): counted twice after the open, it is chosen once."""
    chosen: list[str] = []
    choose = Router.before_summary

    def counting(routes: Router, alert: Alert) -> str | None:
        chosen.append(alert.fingerprint)
        return choose(routes, alert)

    monkeypatch.setattr(Router, "before_summary", counting)
    r = Rig(router(tmp_path, ROUTES))
    await r.opened(crowded())
    for n in (1, 2):
        r.clock.at(n)
        await r.pipeline.handle(crowded(n), f"m-repeat-{n}")
    [incident] = await r.store.incidents()
    assert incident.occurrences == 3
    assert len(chosen) == 1
