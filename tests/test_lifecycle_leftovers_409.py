"""Incident lifecycle leftovers (task 409).

A ticketed incident keeps the labels past the 64 it shows (redacted, bounded), so a silence
on one of them holds the sweep's owed update and escalation as it held the alert, and lets
them go once it ends."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import structlog
from pydantic import SecretStr

from factories import T0
from memory_store import MemoryStore
from recording_pipeline import POLICY as RECORDING_POLICY
from recording_pipeline import Summariser
from test_held_view_394 import SHOP_LABELS, _shop
from test_pipeline import LEASE, Clock
from test_silences import Rig
from test_storms_round6_keys import alert as pod_alert
from triage.errors import BackpressureError, SinkUnavailableError, StoreThrottledError
from triage.incidents import Action, Incident, Ledger
from triage.incidents.codec import (
    INCIDENT_PAST_CAP_BYTES,
    incident_from_json,
    incident_to_json,
)
from triage.incidents.silences import SilenceCache, first_match
from triage.metrics import Metrics
from triage.models import Alert
from triage.ops.operator import parse_filter
from triage.ops.sweep import Sweep
from triage.pipeline import Pipeline
from triage.redact import Redactor
from triage.routes import Router, load_router
from triage.settings import Settings
from triage.sinks.slack import SlackSink
from triage.sqs.inbox import Message

ROUTES = """
[[route]]
name = "shop"
sinks = ["backend"]
escalate_after_s = 1800
[route.escalate]
slack_webhook_url = "https://hooks.slack.invalid/services/T0/B0/x"
"""


def _router(tmp_path: Path) -> Router:
    routes = tmp_path / "routes.toml"
    routes.write_text(ROUTES)
    return load_router(Settings(routes_file=routes))


class _Escalations:
    """An escalator that notes each incident it is asked to escalate."""

    def __init__(self) -> None:
        self.escalated: list[str] = []

    async def escalate(self, incident: Incident, now: datetime, sent: object) -> None:
        self.escalated.append(incident.fingerprint)


def _shop_at(minutes: float) -> Alert:
    """The shop pod alert (`namespace` past the 64 labels it shows), fired at `minutes`."""
    fired = _shop()
    return fired.model_copy(update={"occurred_at": fired.occurred_at + timedelta(minutes=minutes)})


async def _ticketed(r: Rig) -> Incident:
    """The shop incident opened (no silence), then fired twice more inside its update
    interval: its ticket owes an update."""
    for minute in range(3):
        r.clock.at(minute)
        action = await r.pipeline.handle(_shop_at(minute), f"m{minute}")
        assert action is (Action.OPEN if minute == 0 else Action.COUNT)
    [incident] = await r.store.incidents()
    assert incident.update_owed_at is not None
    return incident


async def test_a_ticketed_incident_keeps_its_labels_past_the_cap_for_silences() -> None:
    """The stored incident of an alert with more than 64 labels keeps those past the cap
    (`namespace`), which its silence subject reads, and shows only the 64."""
    r = Rig()
    incident = await _ticketed(r)
    assert "namespace" not in incident.labels
    assert incident.labels_past_cap["namespace"] == "shop"
    assert incident.matched.labels["namespace"] == "shop"
    assert [len(e.alert.labels) for e in r.sink.effects] == [64]


async def test_an_owed_update_waits_for_a_silence_on_a_label_past_the_cap() -> None:
    """An owed update of a ticketed incident is not sent while a silence on `namespace` (past
    the cap) lasts, and goes out on the first pass after it ends."""
    r = Rig()
    await _ticketed(r)
    r.clock.at(3)
    await r.silence("namespace=shop", hours=2)
    sweep = r.sweep()
    for minutes in (16, 40, 122):
        r.clock.at(minutes)
        await sweep.once()
    assert [e.kind.value for e in r.sink.effects] == ["open"]
    r.clock.at(124)
    await sweep.once()
    assert [e.kind.value for e in r.sink.effects] == ["open", "update"]


async def test_an_escalation_waits_for_a_silence_on_a_label_past_the_cap(tmp_path: Path) -> None:
    """A ticketed incident past its route's escalation delay is not escalated while a
    silence on `namespace` (past the cap) lasts, and is once it ends."""
    escalations = _Escalations()
    r = Rig(_router(tmp_path), escalations)  # type: ignore[arg-type]
    r.clock.at(0)
    assert await r.pipeline.handle(_shop_at(0), "m0") is Action.OPEN
    await r.silence("namespace=shop", hours=1)
    sweep = r.sweep()
    r.clock.at(31)
    await sweep.once()
    assert escalations.escalated == []
    r.clock.at(61)
    await sweep.once()
    assert escalations.escalated == [_shop().fingerprint]


async def test_the_store_claims_no_escalation_while_a_silence_matches_past_the_cap(
    tmp_path: Path,
) -> None:
    """`claim_escalation`, given the incident's silence subject (`Incident.matched`), claims
    nothing while a silence on `namespace` (past the cap) lasts, and claims it once it ends."""
    r = Rig(_router(tmp_path))
    assert await r.pipeline.handle(_shop_at(0), "m0") is Action.OPEN
    quiet = await r.silence("namespace=shop", hours=1)
    fingerprint = _shop().fingerprint
    for minutes, claimed in ((31, False), (61, True)):
        r.clock.at(minutes)
        now = r.clock.now
        got = await r.store.claim_escalation(
            fingerprint,
            "sweep",
            now,
            lambda stored, at=now: first_match([quiet], stored.matched, at),
        )
        assert (got is not None) is claimed


async def test_a_listing_matches_a_ticketed_incident_by_a_label_past_the_cap() -> None:
    """`incidents list --match namespace=shop` lists the ticketed shop incident (no alert
    held: it is matched by the labels past the cap it keeps)."""
    r = Rig()
    incident = await _ticketed(r)
    keep = parse_filter(now=r.clock.now, state="all", match=["namespace=shop"])
    assert keep.keeps(incident)


async def test_an_other_namespace_is_escalated_under_that_silence(tmp_path: Path) -> None:
    """The silence on `namespace=shop` does not hold an incident whose label past the cap
    says another namespace: only the labels it keeps are matched, not any past the cap."""
    escalations = _Escalations()
    r = Rig(_router(tmp_path), escalations)  # type: ignore[arg-type]
    cart = pod_alert({**SHOP_LABELS, "namespace": "cart"})
    assert await r.pipeline.handle(cart, "m0") is Action.OPEN
    await r.silence("namespace=shop", hours=1)
    r.clock.at(31)
    await r.sweep().once()
    assert escalations.escalated == [cart.fingerprint]


async def test_the_labels_past_the_cap_an_incident_keeps_are_bounded_and_read_back() -> None:
    """An alert with 1,000 long labels past the cap keeps some of them within
    INCIDENT_PAST_CAP_BYTES in its record, read back as written; an incident with none
    writes no field for them (a record as before)."""
    r = Rig()
    long = {f"zz_{n:04d}": "x" * 250 for n in range(1000)}
    huge = pod_alert({**SHOP_LABELS, **long})
    assert await r.pipeline.handle(huge, "m0") is Action.OPEN
    [incident] = await r.store.incidents()
    past = incident.labels_past_cap
    assert 0 < len(past) < len(huge.labels_past_cap)
    assert sum(len(k.encode()) + len(v.encode()) for k, v in past.items()) <= (
        INCIDENT_PAST_CAP_BYTES
    )
    assert incident_from_json(incident_to_json(incident)) == incident
    plain = Rig()
    assert await plain.pipeline.handle(pod_alert({"alertname": "Few"}), "m0") is Action.OPEN
    [few] = await plain.store.incidents()
    assert "labels_past_cap" not in json.loads(incident_to_json(few))


async def test_labels_past_the_cap_are_kept_redacted() -> None:
    """A secret-named label past the cap is kept blanked, never as the alert carried it."""
    r = Rig()
    secret = "hunter2-" + "q" * 20
    fired = pod_alert({**SHOP_LABELS, "zz_db_password": secret})
    assert "zz_db_password" in fired.labels_past_cap
    assert await r.pipeline.handle(fired, "m0") is Action.OPEN
    [incident] = await r.store.incidents()
    assert secret not in incident_to_json(incident)
    assert incident.labels_past_cap["zz_db_password"] != secret


# --- Slack at least once across replicas ---------------------------------------------------------


class _Webhook:
    """A loopback Slack incoming webhook: answers each POST with the next of `statuses`
    (then 200 `ok`) and records the JSON of those it answered 200."""

    def __init__(self, *statuses: int) -> None:
        self.posts: list[dict[str, Any]] = []
        self.calls = 0
        answers = list(statuses)
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                hook.calls += 1
                status = answers.pop(0) if answers else 200
                if status == 200:
                    hook.posts.append(json.loads(raw))
                body = b"ok" if status == 200 else b"service_unavailable"
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/services/T1/B1/x"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def webhook() -> Iterator[_Webhook]:
    hook = _Webhook()
    yield hook
    hook.stop()


class _Store(MemoryStore):
    """The in-memory store whose next `confirms` confirmations of Slack's part are refused as
    DynamoDB refuses a write over the table's throughput: nothing written."""

    def __init__(self, *, confirms: int = 0) -> None:
        super().__init__(RECORDING_POLICY, LEASE)
        self.confirms = confirms

    async def confirm(  # type: ignore[override]
        self, fingerprint: str, owner: str, sink: str, ref: str | None, **fields: Any
    ) -> bool:
        if sink == "slack" and self.confirms:
            self.confirms -= 1
            raise StoreThrottledError("ProvisionedThroughputExceededException")
        return await super().confirm(fingerprint, owner, sink, ref, **fields)


def _replica(store: MemoryStore, hook: _Webhook) -> Pipeline:
    """One replica: its own ledger (no memory of another's answers) and its own Slack sink."""
    settings = Settings(slack_webhook_url=SecretStr(hook.url), slack_min_interval_s=0)
    slack = SlackSink(settings, require_default=True)
    return Pipeline(
        Ledger(store), Summariser(), [slack], Metrics(), redactor=Redactor(), policy=RECORDING_POLICY
    )  # fmt: skip


def _delivery(receive: int, message_id: str = "m-disk") -> Message:
    """The `receive`-th delivery of one message (its id kept, a new receipt handle)."""
    body = json.dumps({"title": "disk full on db-1", "dedup_key": "disk-db-1"})
    return Message(message_id, body, f"rh-{receive}", receive, T0, received_at=T0)


async def _close(*replicas: Pipeline) -> None:
    for replica in replicas:
        for sink in replica.sinks.values():
            await sink.aclose()


async def test_a_retry_on_another_replica_posts_to_slack_again_after_a_lost_confirmation(
    webhook: _Webhook,
) -> None:
    """Slack takes the open; the store refuses the write confirming it. The message's retry
    on another replica (no memory of that answer) cannot ask Slack, so it posts again: Slack
    is at least once, never lost, and the incident ends confirmed."""
    store = _Store(confirms=1)
    a, b = _replica(store, webhook), _replica(store, webhook)
    with pytest.raises(BackpressureError):
        await a.process(_delivery(1))
    await b.process(_delivery(2))
    await _close(a, b)
    assert webhook.calls == 2 and len(webhook.posts) == 2
    [incident] = await store.incidents()
    assert incident.pending is None and incident.refs == {"slack": "posted"}


async def test_a_post_slack_refused_is_posted_by_the_retry_elsewhere() -> None:
    """Slack answers the first post 503 (nothing in the channel): the retry on another
    replica posts it, and the channel hears of the incident once."""
    hook = _Webhook(503)
    try:
        store = _Store()
        a, b = _replica(store, hook), _replica(store, hook)
        with pytest.raises(SinkUnavailableError):
            await a.process(_delivery(1))
        await b.process(_delivery(2))
        await _close(a, b)
    finally:
        hook.stop()
    assert hook.calls == 2 and len(hook.posts) == 1
    [incident] = await store.incidents()
    assert incident.refs == {"slack": "posted"} and incident.pending is None


class _StuckWebhook(_Webhook):
    """A webhook that takes the first post and answers it only once `release` is set."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.arrived = threading.Event()
        super().__init__()
        plain = self.server.RequestHandlerClass.do_POST  # type: ignore[attr-defined]
        hook = self

        def do_post(handler: BaseHTTPRequestHandler) -> None:
            if not hook.arrived.is_set():
                hook.arrived.set()
                hook.release.wait(30)
            plain(handler)

        self.server.RequestHandlerClass.do_POST = do_post  # type: ignore[attr-defined]


async def test_the_sweep_posts_for_a_replica_that_died_during_the_post() -> None:
    """A replica dies (its task cancelled) while Slack holds its post: no post is lost. The
    sweep of another replica takes the effect over after the lease, posts it and confirms it."""
    hook = _StuckWebhook()
    store = _Store()
    a, b = _replica(store, hook), _replica(store, hook)
    try:
        dying = asyncio.create_task(a.process(_delivery(1)))
        assert await asyncio.to_thread(hook.arrived.wait, 30)
        dying.cancel()
        with pytest.raises(asyncio.CancelledError):
            await dying
        [held] = await store.incidents()
        assert held.pending is not None
        clock = Clock()
        clock.now = held.pending.until + timedelta(minutes=1)
        b.ledger.clock = clock
        sweep = Sweep(store, b, SilenceCache(store, 1), None, 5, owner="sweep-b", clock=clock)
        await sweep.once()
    finally:
        hook.release.set()
        await _close(a, b)
        hook.stop()
    assert hook.calls == 2
    [incident] = await store.incidents()
    assert incident.pending is None and incident.refs == {"slack": "posted"}


# --- A dry run shows a held effect let go ---------------------------------------------------------


async def test_a_dry_run_shows_the_held_open_let_go_once_its_silence_ended() -> None:
    """The shop alert's open is held by a silence that has since ended: a dry run of its next
    alert says what the real run does, the held open goes out (`open`, its title and sinks),
    naming the silence that held it (`released`), not a count."""
    r = Rig()
    quiet = await r.silence("namespace=shop", hours=1)
    assert await r.pipeline.handle(_shop_at(0), "m0") is Action.SILENCED
    r.clock.at(61)
    dry = Pipeline(
        Ledger(r.store, clock=r.clock), r.summariser, [r.sink], Metrics(), redactor=Redactor(),
        policy=RECORDING_POLICY, dry_run=True, silences=r.silences,
    )  # fmt: skip
    with structlog.testing.capture_logs() as logs:
        assert await dry.handle(_shop_at(61), "m61") is Action.OPEN
    [line] = [e for e in logs if e["event"] == "alert.dry_run"]
    assert line["action"] == "open" and line["released"] == quiet.id
    assert line["sinks"] == ["backend"]
    [incident] = await r.store.incidents()
    assert incident.held is not None and r.sink.effects == []  # a dry run writes nothing
