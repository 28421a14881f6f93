"""A single incident's effect carried out without its alert (the sweep's redo of an owed
effect, the sweep's close for want of alerts, a close by hand) goes by the route its ticket
took, kept with the ticket (`Routing.route`), not by the route the stored view would match:
that view shows 64 labels, values cut at 256 characters and redacted, so a route matching a
label past the cap (or a value past the cut) would lose it to another route, other sinks and
other targets. A route no longer in the routes file is routed as before, by what is stored."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from factories import T0
from memory_store import MemoryStore
from test_pipeline import LEASE, POLICY, Clock, CountingSummariser, FakeSink
from triage.errors import SinkUnavailableError, SummariserError
from triage.incidents import Ledger, State
from triage.incidents.silences import Matcher, Silence, SilenceCache
from triage.metrics import Metrics
from triage.models import Alert, Priority, Status, Ticket
from triage.normalize import common
from triage.ops.sweep import Sweep
from triage.pipeline import Pipeline
from triage.redact import Redactor
from triage.routes import Router, load_router
from triage.settings import Settings
from triage.view import RedactedAlert

#: A value longer than the 256 characters a label shows; routes read it whole.
LONG = "payments-" + "x" * 300

#: The incident's own route names a label the stored view never shows (its 70th), and sends
#: to GitHub in its own repository; everything else goes to the backend (TRIAGE_SINKS).
ROUTES = """
[[route]]
name = "payments"
sinks = ["github"]
[route.match]
labels = { owner = "payments" }
[route.github]
repository = "acme/payments"
"""

#: The same route, closing its incidents after an hour without an alert.
QUIET = 'sinks = ["github"]\nresolve_after_s = 3600'

#: A value longer than a label shows, as it shows it: its first 255 characters and "…".
SHOWN = LONG[:255] + "…"

#: A route matching the `service` label as the stored view shows it, which the whole value is
#: not: the alert goes to the default route (the backend and GitHub, GITHUB_REPOSITORY's).
CUT_ROUTES = f"""
[[route]]
name = "shown-value"
sinks = ["github"]
[route.match]
labels = {{ service = "{SHOWN}" }}
[route.github]
repository = "acme/other"
"""


def router(tmp_path: Path, text: str, sinks: tuple[str, ...] = ("backend",)) -> Router:
    """The router a routes file with `text` gives, TRIAGE_SINKS being `sinks`."""
    path = tmp_path / "routes.toml"
    path.write_text(text, encoding="utf-8")
    return load_router(Settings(routes_file=path, sinks=sinks))


def crowded(minutes: float = 0, status: Status = Status.FIRING, *, last: str = "owner") -> Alert:
    """An alert with 70 labels, the last one (`owner=payments`, or `last`) past the 64 shown,
    and a `service` label whose value is longer than the 256 characters shown."""
    labels = common.Labels()
    common.add_label(labels, "service", LONG)
    for n in range(68):
        common.add_label(labels, f"k{n:02}", f"v{n}")
    common.add_label(labels, last, "payments")
    return Alert(
        source="generic",
        status=status,
        title="api-5xx is failing",
        team="payments",
        priority=Priority.HIGH,
        labels=labels,
        occurred_at=T0 + timedelta(minutes=minutes),
        identity={"dedup_key": "api-5xx"},
    )


class Rig:
    """A pipeline and a sweep on one in-memory store, a clock the test moves, and two sinks."""

    def __init__(self, routes: Router) -> None:
        self.store = MemoryStore(POLICY, LEASE)
        self.clock = Clock()
        self.backend, self.github = FakeSink("backend"), FakeSink("github")
        self.silences = SilenceCache(self.store, max_age_s=0.0)
        self.pipeline = self.replica(routes)

    def replica(self, routes: Router) -> Pipeline:
        """A pipeline on this rig's store, clock and sinks, with `routes`."""
        return Pipeline(
            Ledger(self.store, clock=self.clock), CountingSummariser(),
            [self.backend, self.github], Metrics(), redactor=Redactor(), router=routes,
            policy=POLICY, silences=self.silences,
        )  # fmt: skip

    async def sweep_at(self, minutes: float, pipeline: Pipeline | None = None) -> None:
        """One pass of the sweep at `minutes` past T0."""
        self.clock.at(minutes)
        sweep = Sweep(
            self.store, pipeline or self.pipeline, self.silences, None, 1.0,
            owner="sweep-a", clock=self.clock,
        )  # fmt: skip
        await sweep.once()

    async def opened(self, fired: Alert) -> str:
        """`fired` opened and sent; its fingerprint."""
        self.clock.at(0)
        await self.pipeline.handle(fired, "m-open")
        return fired.fingerprint


def sent(sink: FakeSink) -> list[tuple[str, str | None]]:
    """Each effect `sink` was sent: its kind and the GitHub repository it was aimed at."""
    return [(str(e.kind), e.target.repository) for e in sink.effects]


def test_the_stored_view_would_pick_another_route(tmp_path: Path) -> None:
    """The premise: the alert's route is the payments one, and the labels an incident keeps
    (64 shown) match the default route instead."""
    routes = router(tmp_path, ROUTES)
    fired = crowded()
    assert routes.route(fired, Priority.HIGH).name == "payments"
    assert "owner" not in fired.labels
    assert routes.route(fired.model_copy(update={"labels_past_cap": {}}), Priority.HIGH).name == (
        "default"
    )


async def test_the_sweeps_redo_of_an_open_goes_to_the_route_the_first_try_took(
    tmp_path: Path,
) -> None:
    """An OPEN whose GitHub call failed (after its summary and route were kept) is redone by
    the sweep to GitHub in the route's repository, not to the backend the default route has."""
    r = Rig(router(tmp_path, ROUTES))
    r.github.failures = 1
    r.clock.at(0)
    with pytest.raises(SinkUnavailableError):
        await r.pipeline.handle(crowded(), "m-open")
    [incident] = await r.store.incidents()
    assert incident.route == "payments" and incident.ticket is not None
    await r.sweep_at(60)
    assert sent(r.github) == [("open", "acme/payments")]
    assert r.backend.effects == []
    [done] = await r.store.incidents()
    assert done.pending is None and done.refs == {"github": "T-1"}


async def test_a_close_by_hand_goes_to_the_repository_the_ticket_is_in(tmp_path: Path) -> None:
    """The operator's close of an incident routed by a label past the 64 shown is sent to
    GitHub with the route's repository, where its issue is (not GITHUB_REPOSITORY's)."""
    r = Rig(router(tmp_path, ROUTES))
    fingerprint = await r.opened(crowded())
    r.clock.at(10)
    await r.pipeline.close(fingerprint, "op", "fixed", "alice")
    assert sent(r.github) == [("open", "acme/payments"), ("close", "acme/payments")]
    assert r.backend.effects == []


async def test_a_close_is_not_routed_by_a_value_cut_as_it_is_stored(tmp_path: Path) -> None:
    """A route matching a label's value as the incident keeps it (cut at 256 characters), not
    as the alert had it whole: the alert's ticket went to the default route's GitHub, and the
    close by hand goes there too, not to the route the cut value would match."""
    r = Rig(router(tmp_path, CUT_ROUTES, ("backend", "github")))
    fingerprint = await r.opened(crowded())
    r.clock.at(10)
    await r.pipeline.close(fingerprint, "op", "fixed", "alice")
    assert sent(r.github) == [("open", None), ("close", None)]
    assert [str(e.kind) for e in r.backend.effects] == ["open", "close"]


async def test_the_sweeps_quiet_close_goes_to_the_repository_the_ticket_is_in(
    tmp_path: Path,
) -> None:
    """A route with `resolve_after_s` closes its quiet incident through the sweep: the close
    is aimed at the route's repository, as the open was."""
    r = Rig(router(tmp_path, ROUTES.replace('sinks = ["github"]', QUIET)))
    await r.opened(crowded())
    await r.sweep_at(61)
    assert sent(r.github) == [("open", "acme/payments"), ("close", "acme/payments")]
    [incident] = await r.store.incidents()
    assert incident.state is State.CLOSED


async def test_a_route_gone_since_is_routed_by_what_the_incident_keeps(tmp_path: Path) -> None:
    """The route the ticket took is no longer in the routes file (renamed): the close by hand
    is routed as before, by the labels the incident keeps, to the renamed route that matches
    them."""
    shown = ROUTES.replace("owner = ", "k00 = ").replace('{ k00 = "payments" }', '{ k00 = "v0" }')
    first = tmp_path / "first"
    first.mkdir()
    r = Rig(router(first, shown.replace('name = "payments"', 'name = "old"')))
    fingerprint = await r.opened(crowded())
    renamed = r.replica(router(tmp_path, shown))
    r.clock.at(10)
    await renamed.close(fingerprint, "op", "fixed", "alice")
    assert sent(r.github) == [("open", "acme/payments"), ("close", "acme/payments")]
    [incident] = await r.store.incidents()
    assert incident.route == "old"


def test_a_recorded_name_finds_its_route_or_none(tmp_path: Path) -> None:
    """`Router.recorded` gives the route called `name` (the default by its name too), and
    None for a name no route has now, or none recorded."""
    routes = router(tmp_path, ROUTES)
    assert routes.recorded("payments") is routes.rules[0].route
    assert routes.recorded("default") is routes.default
    assert routes.recorded("renamed") is None
    assert routes.recorded(None) is None


async def test_a_message_redo_still_reads_the_whole_alert(tmp_path: Path) -> None:
    """The incident's next message redoes the failed OPEN with its own alert: to the route's
    sink as before, once."""
    r = Rig(router(tmp_path, ROUTES))
    r.github.failures = 1
    r.clock.at(0)
    with pytest.raises(SinkUnavailableError):
        await r.pipeline.handle(crowded(), "m-open")
    r.clock.at(5)
    await r.pipeline.handle(crowded(5), "m-next")
    assert sent(r.github) == [("open", "acme/payments")]
    assert r.backend.effects == []


# --- An effect carried out before its ticket: the route the whole alert chose when decided ---


async def test_a_held_open_goes_where_its_alert_would_have_gone(tmp_path: Path) -> None:
    """An alert under a silence opens its ticket when the silence ends (the sweep, with the
    held view): on the route its whole labels match, GitHub in the route's repository."""
    r = Rig(router(tmp_path, ROUTES))
    silence = Silence.new(
        [Matcher.parse("team=payments")], T0, T0 + timedelta(minutes=30), "maintenance", "alice"
    )
    await r.store.add_silence(silence, T0)
    await r.opened(crowded())
    assert r.github.effects == [] and r.backend.effects == []
    await r.sweep_at(31)
    assert sent(r.github) == [("open", "acme/payments")]
    assert r.backend.effects == []


class FailingOnce(CountingSummariser):
    """A summariser whose first call fails (its service down), as the effect's worker dying
    before the summary is kept would."""

    async def summarise(self, alert: RedactedAlert) -> Ticket:
        if self.calls == 0:
            self.calls += 1
            raise SummariserError("503")
        return await super().summarise(alert)


async def test_a_redo_before_the_summary_was_kept_goes_where_its_alert_would_have(
    tmp_path: Path,
) -> None:
    """An OPEN whose summary failed (nothing sent, no route kept) and whose message never
    comes back is opened by the sweep on the route the alert's labels match."""
    r = Rig(
        router(tmp_path, ROUTES.replace("owner = ", "k00 = ").replace('"payments" }', '"v0" }'))
    )
    r.pipeline.summariser = FailingOnce()
    r.clock.at(0)
    with pytest.raises(SummariserError):
        await r.pipeline.handle(crowded(), "m-open")
    await r.sweep_at(60)
    assert sent(r.github) == [("open", "acme/payments")]
    assert r.backend.effects == []
