"""A redo of an effect (a message's retry, another replica, the sweep) goes to the sinks and
targets its first attempt went to (helper 467): the route's name, its sinks and GitHub's
target are kept with the effect's body (`Sent.to`), so a route that kept its name but moved
its repository, or a replica whose routes lack a group's route, files no second ticket
elsewhere. A Slack webhook is a secret: never kept, it is named by the route. The real
Pipeline on the in-memory store, replicas sharing one store, one clock and the sinks."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx2
import pytest
import structlog
import structlog.testing

from daemon_harness import TOKEN
from factories import T0, alert
from memory_store import MemoryStore
from recording_pipeline import POLICY, Summariser
from test_pipeline import LEASE, Clock
from triage.demo.ticketd import TicketServer
from triage.errors import StoreUnavailableError
from triage.incidents import Incident
from triage.incidents.codec import sent_from_json, sent_to_json
from triage.incidents.ledger import Ledger
from triage.incidents.records import SENT, Sent, SentTo
from triage.incidents.silences import SilenceCache
from triage.metrics import Metrics
from triage.models import EffectKind, Priority, Ticket
from triage.ops.sweep import Sweep
from triage.pipeline import Pipeline
from triage.redact import Redactor
from triage.routes import Router, load_router
from triage.secrets import BackendToken
from triage.settings import Settings
from triage.sinks.backend import BackendSink
from triage.sinks.base import Applied, Effect
from triage.sqs.inbox import Message
from triage.view import redact_alert


class Stopped(Exception):
    """The process stopped right after a sink answered: its confirmation never written."""


@dataclass
class Recording:
    """A sink that keeps every effect and answers an OPEN `<repository or webhook>#<n>`;
    with `stop_after_first`, the process stops once its first call answered."""

    name: str
    stop_after_first: bool = False
    effects: list[Effect] = field(default_factory=list)

    async def apply(self, effect: Effect) -> Applied:
        self.effects.append(effect)
        where = effect.target.repository or effect.target.webhook_url
        ref = f"{where}#{len(self.effects)}"
        if self.stop_after_first and len(self.effects) == 1:
            raise Stopped(ref)
        return Applied(ref) if effect.kind is EffectKind.OPEN else Applied()

    async def aclose(self) -> None:
        return None

    def opened_in(self) -> list[str | None]:
        """Where each OPEN went (GitHub's repository, Slack's webhook), in order."""
        return [
            e.target.repository or e.target.webhook_url
            for e in self.effects
            if e.kind is EffectKind.OPEN
        ]


PAYMENTS = """
[[route]]
name = "payments"
sinks = ["github"]
match = {{ source = ["generic"] }}
[route.github]
repository = "{repository}"
"""

#: Generic alerts grouped by host, their group's tickets in GitHub's acme/hosts.
BY_HOST = """
[[route]]
name = "hosts"
sinks = ["github"]
group_by = ["host"]
match = { source = ["generic"] }
[route.github]
repository = "acme/hosts"
"""

#: Routes that take none of these alerts: they go by the default route.
ELSEWHERE = """
[[route]]
name = "elsewhere"
sinks = ["github"]
match = { team = ["nobody"] }
"""

#: A route posting to GitHub and to a Slack webhook of its own.
WITH_SLACK = """
[[route]]
name = "payments"
sinks = ["github", "slack"]
match = {{ source = ["generic"] }}
[route.github]
repository = "acme/payments"
[route.slack]
webhook_url = "{webhook}"
"""


def router(tmp_path: Path, name: str, text: str, sinks: str = "github") -> Router:
    """The router a replica loads from the routes file `text`."""
    path = tmp_path / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return load_router(
        Settings(
            routes_file=path,
            sinks=sinks,
            github_repository="acme/default",
            slack_webhook_url="https://hooks.example.com/default",
        )
    )


def generic(n: int, minutes: float, receive: int = 1, **fields: object) -> Message:
    """Message `m-<n>` (its `receive`th delivery): alert disk-a stamped `minutes` after T0."""
    at = T0 + timedelta(minutes=minutes)
    body = {"title": "disk-a full", "dedup_key": "disk-a", "timestamp": at.isoformat(), **fields}
    return Message(f"m-{n}", json.dumps(body), f"rh-{n}-{receive}", receive, at, received_at=at)


@dataclass
class Replicas:
    """One store, one clock and the sinks shared by replicas, each on its own routes."""

    sinks: list[Recording]
    store: MemoryStore = field(default_factory=lambda: MemoryStore(POLICY, LEASE))
    clock: Clock = field(default_factory=Clock)

    def replica(self, routes: Router) -> Pipeline:
        """A replica on `routes`: its own ledger, on the shared store, clock and sinks."""
        return Pipeline(
            Ledger(self.store, clock=self.clock), Summariser(), list(self.sinks), Metrics(),
            redactor=Redactor(), policy=POLICY, router=routes,
        )  # fmt: skip

    async def sweep(self, replica: Pipeline, after: timedelta) -> None:
        """One pass of `replica`'s sweep `after` T0."""
        self.clock.now = T0 + after
        silences = SilenceCache(self.store, max_age_s=0.0)
        sweep = Sweep(self.store, replica, silences, None, 1.0, owner="sweep", clock=self.clock)
        await sweep.once()


async def test_an_open_redone_after_its_route_moved_repository_goes_to_the_first(
    tmp_path: Path,
) -> None:
    """Replica A files the issue in acme/payments and stops before confirming it; replica B's
    route of the same name now names acme/payments-new. The message's retry on B redoes the
    OPEN in acme/payments, where GitHub's marker finds the first issue, instead of filing a
    second one in the new repository that nothing ever closes."""
    github = Recording("github", stop_after_first=True)
    rig = Replicas([github])
    a = rig.replica(router(tmp_path, "old", PAYMENTS.format(repository="acme/payments")))
    b = rig.replica(router(tmp_path, "new", PAYMENTS.format(repository="acme/payments-new")))
    with pytest.raises(Stopped):
        await a.process(generic(1, 0))
    rig.clock.now = T0 + LEASE + timedelta(minutes=1)
    await b.process(generic(1, 0, receive=2))
    assert github.opened_in() == ["acme/payments", "acme/payments"]
    stored = await rig.store.get(github.effects[0].fingerprint)
    assert stored is not None and stored.pending is None
    assert dict(stored.refs) == {"github": "acme/payments#2"}


async def test_a_groups_open_redone_by_a_replica_without_its_route_goes_where_it_first_went(
    tmp_path: Path,
) -> None:
    """Replica A's route groups disk-a by host and files the group's issue in acme/hosts, then
    stops before confirming it. The sweep of replica B, whose routes lack the group's route
    (a rollout), finishes the open in acme/hosts, not on the default route's repository."""
    github = Recording("github", stop_after_first=True)
    rig = Replicas([github])
    a = rig.replica(router(tmp_path, "grouping", BY_HOST))
    b = rig.replica(router(tmp_path, "plain", ELSEWHERE))
    with pytest.raises(Stopped):
        await a.process(generic(1, 0, host="a"))
    await rig.sweep(b, LEASE + timedelta(minutes=2))
    assert github.opened_in() == ["acme/hosts", "acme/hosts"]
    stored = await rig.store.get(github.effects[0].fingerprint)
    assert stored is not None and stored.group is not None and stored.pending is None
    assert dict(stored.refs) == {"github": "acme/hosts#2"}


async def test_a_redo_goes_to_the_sinks_its_first_attempt_went_to(tmp_path: Path) -> None:
    """Replica A's route sends to GitHub alone; B's route of that name adds Slack. The redo
    of A's open on B still goes to GitHub alone: the first attempt's sinks, not the route's
    now (Slack would post a ticket opened before its route sent there)."""
    github, slack = Recording("github", stop_after_first=True), Recording("slack")
    rig = Replicas([github, slack])
    a = rig.replica(router(tmp_path, "old", PAYMENTS.format(repository="acme/payments")))
    b_routes = WITH_SLACK.format(webhook="https://hooks.example.com/b")
    b = rig.replica(router(tmp_path, "new", b_routes, sinks="github,slack"))
    with pytest.raises(Stopped):
        await a.process(generic(1, 0))
    rig.clock.now = T0 + LEASE + timedelta(minutes=1)
    await b.process(generic(1, 0, receive=2))
    assert github.opened_in() == ["acme/payments", "acme/payments"]
    assert slack.effects == []


async def test_a_slack_webhook_is_never_kept_and_is_named_by_the_route(tmp_path: Path) -> None:
    """A's route posts to GitHub and Slack; A files the issue and stops. The kept body names
    the route and GitHub's repository but holds no webhook URL (a secret); B's redo posts to
    the webhook B's route of that name has now."""
    github, slack = Recording("github", stop_after_first=True), Recording("slack")
    rig = Replicas([github, slack])
    a_routes = WITH_SLACK.format(webhook="https://hooks.example.com/secret-a")
    b_routes = WITH_SLACK.format(webhook="https://hooks.example.com/secret-b")
    a = rig.replica(router(tmp_path, "a", a_routes, sinks="github,slack"))
    b = rig.replica(router(tmp_path, "b", b_routes, sinks="github,slack"))
    with pytest.raises(Stopped):
        await a.process(generic(1, 0))
    fingerprint = github.effects[0].fingerprint
    kept = rig.store.records[(SENT, fingerprint)].body
    assert "secret-a" not in kept and "hooks.example.com" not in kept
    assert json.loads(kept)["to"] == {
        "route": "payments",
        "sinks": ["github", "slack"],
        "github": {"repository": "acme/payments", "labels": [], "assignees": []},
    }
    rig.clock.now = T0 + LEASE + timedelta(minutes=1)
    await b.process(generic(1, 0, receive=2))
    assert slack.opened_in() == ["https://hooks.example.com/secret-b"]


async def test_a_redo_whose_slack_route_is_gone_posts_where_the_redo_is_routed_now(
    tmp_path: Path,
) -> None:
    """B's routes have no route of the name A's open went by: GitHub's part goes to the
    repository kept, and Slack's (its webhook never kept) to the webhook of the route the
    redo takes now (here the default's, TRIAGE_SLACK_WEBHOOK_URL): posted, not lost."""
    github, slack = Recording("github", stop_after_first=True), Recording("slack")
    rig = Replicas([github, slack])
    a_routes = WITH_SLACK.format(webhook="https://hooks.example.com/a")
    a = rig.replica(router(tmp_path, "a", a_routes, sinks="github,slack"))
    b = rig.replica(router(tmp_path, "b", ELSEWHERE, sinks="github,slack"))
    with pytest.raises(Stopped):
        await a.process(generic(1, 0))
    rig.clock.now = T0 + LEASE + timedelta(minutes=1)
    await b.process(generic(1, 0, receive=2))
    assert github.opened_in() == ["acme/payments", "acme/payments"]
    assert [e.kind for e in slack.effects] == [EffectKind.OPEN]
    assert slack.effects[0].target.webhook_url in (None, "")


def _sent(to: SentTo | None = None) -> Sent:
    """A kept body of effect 1, saying where it went when `to` is given."""
    view = redact_alert(alert("disk full"), Redactor())
    ticket = Ticket(title="t", priority=Priority.HIGH, description="d")
    return Sent(1, view, ticket, 2, 1, False, to=to)


def test_a_body_without_where_it_went_is_written_and_read_as_before() -> None:
    """A body that says nothing of where it went (an older release's) has no `to` field, so
    its record is byte for byte what that release wrote, and reads back with none."""
    text = sent_to_json(_sent())
    assert "to" not in json.loads(text)
    assert sent_from_json(text).to is None


def test_where_a_body_went_reads_back_as_written() -> None:
    """The route, its sinks and GitHub's target read back as kept."""
    to = SentTo("payments", ("github", "slack"), "acme/payments", ("p1",), ("octocat",))
    assert sent_from_json(sent_to_json(_sent(to))).to == to
    slack_only = SentTo("chat", ("slack",))
    assert "github" not in json.loads(sent_to_json(_sent(slack_only)))["to"]
    assert sent_from_json(sent_to_json(_sent(slack_only))).to == slack_only


@pytest.mark.parametrize(
    ("path", "wrong"),
    [((), []), (("route",), 5), (("sinks",), "github"), (("github", "repository"), 5)],
)
def test_where_a_body_went_of_the_wrong_type_does_not_read(
    path: tuple[str, ...], wrong: object
) -> None:
    """A `to` field of another type makes the body unreadable (the next freeze writes over
    it), not a redo sent letter by letter to sinks named "g", "i", … or to repository 5."""
    data = json.loads(sent_to_json(_sent(SentTo("payments", ("github",), "acme/payments"))))
    if path:
        holder = data["to"]
        for key in path[:-1]:
            holder = holder[key]
        holder[path[-1]] = wrong
    else:
        data["to"] = wrong
    with pytest.raises(TypeError):
        sent_from_json(json.dumps(data))


# --- A create the backend answers as a replay of its Idempotency-Key is counted once --------


def backend_effect(key: str = "fp:1") -> Effect:
    """An OPEN of one alert under the idempotency key `key`."""
    ticket = Ticket(title="t", priority=Priority.HIGH, description="d", steps=("s",))
    view = redact_alert(alert("disk full"), Redactor())
    return Effect(EffectKind.OPEN, view.fingerprint, view, ticket, None, 1, 1, False, key)


@asynccontextmanager
async def backend_sink(
    url: str, transport: httpx2.AsyncBaseTransport | None = None
) -> AsyncIterator[BackendSink]:
    """The backend sink on `url` (through `transport`, when given), closed after."""
    settings = Settings(backend_base_url=url)
    sink = BackendSink(settings, BackendToken(settings), metrics=Metrics(), transport=transport)
    try:
        yield sink
    finally:
        await sink.aclose()


@pytest.fixture(autouse=True)
def token_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BACKEND_TOKEN", TOKEN)


async def test_the_demo_backends_replayed_create_is_said_replayed(backend: TicketServer) -> None:
    """The demo backend answers a create sent again under its key 200 `"replayed": true` with
    the same ticket: the sink says the answer is a replay; the first answer (201) is not."""
    async with backend_sink(backend.url) as sink:
        first = await sink.apply(backend_effect())
        again = await sink.apply(backend_effect())
    assert (first.ref, first.replayed) == ("T-1", False)
    assert (again.ref, again.replayed) == ("T-1", True)


@pytest.mark.parametrize(
    ("answer", "replayed"),
    [
        (httpx2.Response(201, json={"id": "T-1"}, headers={"Idempotent-Replayed": "true"}), True),
        (httpx2.Response(200, json={"id": "T-1"}, headers={"Idempotent-Replayed": "false"}), False),
        (httpx2.Response(409, json={"id": "T-1"}), True),
        (httpx2.Response(303, headers={"Location": "/api/service/tickets/T-1"}), True),
        (httpx2.Response(200, json={"id": "T-1"}), False),
        (httpx2.Response(201, json={"id": "T-1", "replayed": "true"}), False),
        (httpx2.Response(200, json={"data": {"id": "T-1"}, "replayed": True}), True),
    ],
    ids=["stripe-header", "header-false", "409-naming", "303-naming", "bare-200", "text", "body"],
)
async def test_a_create_is_a_replay_only_when_the_backend_says_so(
    answer: httpx2.Response, replayed: bool
) -> None:
    """Stripe's `Idempotent-Replayed: true`, a `"replayed": true` body, a 409 or 303 naming
    the key's ticket are replays; a bare 200 is not (many backends answer every create so,
    and their every ticket would be counted nowhere), nor a `"replayed"` that is not true."""
    transport = httpx2.MockTransport(lambda request: answer)
    async with backend_sink("http://backend.test", transport) as sink:
        applied = await sink.apply(backend_effect())
    assert applied.ref == "T-1"
    assert applied.replayed is replayed


class LosingStore(MemoryStore):
    """The in-memory store, down for one confirmation (not written) and its read-back."""

    def __init__(self) -> None:
        super().__init__(POLICY, LEASE)
        self.down_for = 0

    async def confirm(self, *args: Any, **kwargs: Any) -> bool:
        if self.down_for:
            self.down_for -= 1
            raise StoreUnavailableError("store unreachable")
        return await super().confirm(*args, **kwargs)

    async def get(self, fingerprint: str) -> Incident | None:
        if self.down_for == 0 and self.read_back_down:
            self.read_back_down = False
            raise StoreUnavailableError("store unreachable")
        return await super().get(fingerprint)

    read_back_down = False


async def test_an_open_the_backend_replays_to_another_replica_is_said_replayed_and_counted(
    backend: TicketServer,
) -> None:
    """Replica A's backend creates T-1, but A's confirmation is not written and its read-back
    fails (the store down a moment), so its message fails. Replica B, knowing nothing of A's
    answer, redoes the open under the same key: the backend answers with T-1 as a replay, and
    B records T-1, says it was a replay, and counts it (whether A heard the answer cannot be
    told from a timeout that never did: `Effects._routed`)."""
    store, clock = LosingStore(), Clock()
    metrics = {"a": Metrics(), "b": Metrics()}
    async with backend_sink(backend.url) as sink_a, backend_sink(backend.url) as sink_b:

        def replica(name: str, sink: BackendSink) -> Pipeline:
            return Pipeline(
                Ledger(store, clock=clock), Summariser(), [sink], metrics[name],
                redactor=Redactor(), policy=POLICY,
            )  # fmt: skip

        a, b = replica("a", sink_a), replica("b", sink_b)
        store.down_for, store.read_back_down = 1, True
        with pytest.raises(StoreUnavailableError):
            await a.process(generic(1, 0))
        clock.now = T0 + LEASE + timedelta(minutes=1)
        with structlog.testing.capture_logs() as lines:
            await b.process(generic(1, 0, receive=2))
    assert len(backend.tickets) == 1 and backend.replayed_creates == 1
    stored = await store.get(generic_fingerprint(store))
    assert stored is not None and dict(stored.refs) == {"backend": "T-1"}
    routed = [line for line in lines if line["event"] == "alert.routed"]
    assert [line.get("replayed") for line in routed] == [True]
    assert metrics["b"].total("TicketsCreated") == 1


def generic_fingerprint(store: MemoryStore) -> str:
    """The fingerprint of the one incident `store` holds."""
    (fingerprint,) = {key for kind, key in store.records if kind == "incident"}
    return fingerprint
