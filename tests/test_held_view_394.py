"""A held alert's labels past the 64 it shows, and a dry run under a silence.

A silence may match a label past the 64 an alert shows (routes and groups read up to 1,024):
the view the store keeps of the alert it holds keeps those labels too (redacted, bounded, and
never shown by a sink), so the sweep and the listing's matchers read what the pipeline read.
A dry run takes the decision the real run takes, a silence's included."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import structlog

from memory_store import MemoryStore
from test_pipeline import POLICY, CountingSummariser, FakeSink
from test_silences import Rig
from test_storms_round6_keys import POD_LABELS
from test_storms_round6_keys import alert as pod_alert
from triage.incidents import Action, Ledger
from triage.incidents.codec import HELD_PAST_CAP_BYTES, view_from_json, view_to_json
from triage.incidents.silences import Matcher, Silence, SilenceCache
from triage.metrics import Metrics
from triage.models import Alert
from triage.normalize.common import LABELS_MAX
from triage.ops.operator import parse_filter
from triage.ops.sweep import subject_of
from triage.pipeline import Pipeline
from triage.redact import Redactor
from triage.view import redact_alert

#: A pod alert whose `namespace` (and a secret-named label) sort past the 64 labels it shows.
SHOP_LABELS = {**POD_LABELS, "alertname": "KubePodCrashLooping", "namespace": "shop"}


def _shop(**more: str) -> Alert:
    return pod_alert({**SHOP_LABELS, **more})


def test_a_held_view_keeps_the_labels_past_the_cap_and_shows_only_64() -> None:
    """The held view as stored and read back keeps `namespace` (past the cap) apart from the
    64 labels a sink shows: the shown labels are unchanged."""
    shop = _shop()
    assert "namespace" not in shop.labels
    view = redact_alert(shop, Redactor(), past_cap=True)
    read = view_from_json(view_to_json(view))
    assert len(read.labels) == LABELS_MAX and "namespace" not in read.labels
    assert read.labels == redact_alert(shop, Redactor()).labels
    assert read.labels_past_cap["namespace"] == "shop"
    assert read.routed_labels["namespace"] == "shop"
    assert "namespace" not in read.text  # nothing a sink or a model reads changed


def test_a_view_for_the_sinks_carries_no_labels_past_the_cap() -> None:
    """Only the held view pays for the labels past the cap: the sinks' view has none."""
    assert redact_alert(_shop(), Redactor()).labels_past_cap == {}


def test_labels_past_the_cap_are_kept_redacted() -> None:
    """A secret-named label past the cap is kept as `[REDACTED:password]`, and a value the
    alert holds under a secret's name (a shown label's) is blanked in a label past the cap."""
    secret = "hunter2xyz-Kq9"
    shop = _shop(
        zz_db_password=secret,
        zz_note=f"login with {secret} failed",
    )
    shop = shop.model_copy(update={"labels": {**shop.labels, "db_password": secret}})
    stored = view_to_json(redact_alert(shop, Redactor(), past_cap=True))
    assert secret not in stored
    past = view_from_json(stored).labels_past_cap
    assert past["zz_db_password"] == "[REDACTED:password]"
    assert "zz_note" in past and secret not in past["zz_note"]


def test_a_record_without_labels_past_the_cap_reads_as_before() -> None:
    """A held view an earlier release stored (no `labels_past_cap`) reads with none, and one
    holding none is stored without the field, as an earlier release wrote it."""
    plain = view_to_json(redact_alert(_shop(), Redactor()))
    assert "labels_past_cap" not in json.loads(plain)
    assert view_from_json(plain).labels_past_cap == {}


def test_a_corrupt_labels_past_the_cap_is_refused_as_corrupt() -> None:
    """A hand-edited `labels_past_cap` that is no object of strings is a TypeError (the
    store's `store_corrupt`), not an error deep in the sweep."""
    data = json.loads(view_to_json(redact_alert(_shop(), Redactor(), past_cap=True)))
    data["labels_past_cap"] = {"namespace": 5}
    with pytest.raises(TypeError, match="labels_past_cap"):
        view_from_json(json.dumps(data))


def test_labels_past_the_cap_are_held_to_their_bound_in_bytes() -> None:
    """An alert with 1,024 labels of long values keeps at most HELD_PAST_CAP_BYTES of them
    past the cap in its held view: the record stays within what a store takes."""
    many = {f"label_{n:04d}": "é" * 100 for n in range(1_030)}  # 200 bytes a value
    huge = pod_alert({**many, "alertname": "Huge"})
    assert len(huge.labels_past_cap) > 900
    stored = view_to_json(redact_alert(huge, Redactor(), past_cap=True))
    past = json.loads(stored)["labels_past_cap"]
    assert 0 < len(past) < len(huge.labels_past_cap)
    assert sum(len(k.encode()) + len(v.encode()) for k, v in past.items()) <= HELD_PAST_CAP_BYTES


async def test_the_sweep_keeps_the_hold_then_opens_when_the_silence_ends() -> None:
    """Held by a silence on `namespace` (past the cap), the alert stays held through the
    sweep while the silence lasts, and its ticket opens, with the 64 shown labels, once the
    silence ends."""
    r = Rig()
    await r.silence("namespace=shop", hours=1)
    assert await r.pipeline.handle(_shop(), "m0") is Action.SILENCED
    r.clock.at(30)
    await r.sweep().once()
    assert r.sink.effects == []
    r.clock.at(61)
    await r.sweep().once()
    [opened] = r.sink.effects
    assert len(opened.alert.labels) == LABELS_MAX and "namespace" not in opened.alert.labels


async def test_the_held_subject_matches_a_label_past_the_cap() -> None:
    """What the sweep matches a held incident by reads its labels past the cap."""
    r = Rig()
    quiet = await r.silence("namespace=shop")
    assert await r.pipeline.handle(_shop(), "m0") is Action.SILENCED
    [held] = await r.store.incidents()
    assert quiet.matches(subject_of(held))


async def test_a_listing_matches_a_held_incident_by_a_label_past_the_cap() -> None:
    """`triage incidents list --match namespace=shop` lists the incident a silence on that
    label holds (no ticket yet: it is matched by its held alert)."""
    r = Rig()
    await r.silence("namespace=shop")
    assert await r.pipeline.handle(_shop(), "m0") is Action.SILENCED
    [held] = await r.store.incidents()
    keep = parse_filter(now=r.clock.now, state="all", match=["namespace=shop"])
    assert keep.keeps(held)


def _pipeline(store: MemoryStore, *, dry_run: bool, silences: SilenceCache) -> Pipeline:
    return Pipeline(
        Ledger(store),
        CountingSummariser(),
        [FakeSink()],
        Metrics(),
        redactor=Redactor(),
        policy=POLICY,
        dry_run=dry_run,
        silences=silences,
    )


async def test_a_dry_run_under_a_silence_summarises_nothing_and_names_it() -> None:
    """A dry run of an alert a silence holds asks no summary (no ticket would be written),
    and its `alert.dry_run` line names the silence; an alert no silence matches still opens."""
    store = MemoryStore(POLICY)
    now = datetime.now(UTC)
    quiet = Silence.new([Matcher.parse("namespace=shop")], now - timedelta(minutes=1),
                        now + timedelta(hours=1), "maintenance", "alice")  # fmt: skip
    await store.add_silence(quiet, now)
    dry = _pipeline(store, dry_run=True, silences=SilenceCache(store, max_age_s=0.0))
    with structlog.testing.capture_logs() as logs:
        assert await dry.handle(_shop(), "m0") is Action.SILENCED
        assert await dry.handle(pod_alert({**SHOP_LABELS, "namespace": "cart"}), "m1") is (
            Action.OPEN
        )
    assert isinstance(dry.summariser, CountingSummariser) and dry.summariser.calls == 1
    lines = [e for e in logs if e["event"] == "alert.dry_run"]
    assert [(e["action"], e.get("silence")) for e in lines] == [
        ("silenced", quiet.id),
        ("open", None),
    ]
    assert await store.incidents() == []  # a dry run writes nothing
