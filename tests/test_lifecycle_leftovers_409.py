"""Incident lifecycle leftovers (task 409).

A ticketed incident keeps the labels past the 64 it shows (redacted, bounded), so a silence
on one of them holds the sweep's owed update and escalation as it held the alert, and lets
them go once it ends."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from test_held_view_394 import SHOP_LABELS, _shop
from test_silences import Rig
from test_storms_round6_keys import alert as pod_alert
from triage.incidents import Action, Incident
from triage.incidents.codec import (
    INCIDENT_PAST_CAP_BYTES,
    incident_from_json,
    incident_to_json,
)
from triage.incidents.silences import first_match
from triage.models import Alert
from triage.ops.operator import parse_filter
from triage.routes import Router, load_router
from triage.settings import Settings

#: The sweep and the listing match a stored incident by `ops.sweep.subject_of` and
#: `ops.operator._subject`, which return the incident itself (its 64 labels) until they return
#: `incident.matched`: the change helper 409's report asks of ops/ (another helper's files).
NEEDS_OPS_SUBJECT = pytest.mark.xfail(
    strict=True,
    reason="ops/sweep.py subject_of and ops/operator.py _subject still match an unheld "
    "incident by its 64 shown labels, not incident.matched (diff in helper 409's report)",
)

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


@NEEDS_OPS_SUBJECT
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


@NEEDS_OPS_SUBJECT
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


@NEEDS_OPS_SUBJECT
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
