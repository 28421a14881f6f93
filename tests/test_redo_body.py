"""A redone effect sends what its first attempt sent: the store keeps it with the effect
(`Store.freeze_effect`, one `sent` record per incident) on every store, and the pipeline sends
it again, whatever changed since (members, counts, flapping, the redoing message's trace),
to every sink."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest

from factories import T0, alert, view
from memory_store import MemoryStore
from moto_speed import loopback_aws_client
from recording_pipeline import POLICY, Summariser
from triage.errors import SinkUnavailableError, StoreBusyError
from triage.incidents import groups
from triage.incidents import store as store_module
from triage.incidents.codec import sent_from_json, sent_to_json
from triage.incidents.dynamodb import DynamoDBStore, create_table
from triage.incidents.ledger import Ledger
from triage.incidents.records import SENT, Record, Sent
from triage.incidents.sqlite import SQLiteStore
from triage.incidents.store import Store
from triage.metrics import Metrics
from triage.models import EffectKind, Priority, Status, Ticket
from triage.pipeline import Pipeline
from triage.redact import Redactor
from triage.sinks.base import Applied, Effect
from triage.sqs.inbox import Message
from triage.tracing import Tracing
from triage.view import GroupView, MemberView

LEASE = timedelta(minutes=2)
TICKET = Ticket(
    title="Checkout 5xx — ünïcode «quoted»", priority=Priority.HIGH, description="d\n\tx",
    steps=("look", "restart"),
)  # fmt: skip
GROUP = GroupView(
    MappingProxyType({"alertname": "KubePodCrashLooping", "namespace": "shop"}),
    (
        MemberView("fp-1", "pod api-1 is crash looping", Status.FIRING, T0),
        MemberView("fp-2", "pod api-2 — 再起動", Status.RESOLVED, T0 + timedelta(minutes=1)),
    ),
    untracked=3,
)


def sent(seq: int = 1, *, title: str = "api-5xx is failing", trace: str | None = "a" * 32) -> Sent:
    """What an effect `seq` of the incident `api-5xx` sends, with a group and a trace."""
    shown = replace(view(alert()), title=title, group=GROUP)
    return Sent(seq, shown, TICKET, 7, 5, True, trace)


@pytest.fixture(params=["memory", "sqlite", "dynamodb"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    """Each test runs once per store: in memory, SQLite on disk, DynamoDB on moto's server."""
    if request.param == "memory":
        yield MemoryStore(POLICY, LEASE)
    elif request.param == "sqlite":
        s = SQLiteStore(str(tmp_path / "t.db"), POLICY, LEASE, timedelta(days=30))
        await s.open()
        yield s
        await s.aclose()
    else:
        moto_url = request.getfixturevalue("moto_url")
        async with loopback_aws_client("dynamodb", moto_url) as client:
            await create_table(client, "incidents")
            yield DynamoDBStore(client, "incidents", POLICY, LEASE, timedelta(days=30))


def test_what_was_sent_reads_back_as_it_was_written() -> None:
    """The codec gives back every field of what was sent (the view uncut, its group, the
    ticket, the counts, the trace), and writes it again in the same bytes."""
    first = replace(sent(), alert=replace(sent().alert, description="x" * 9000))
    text = sent_to_json(first)
    again = sent_from_json(text)
    assert again == first
    assert again.alert.group == GROUP
    assert again.alert.description == "x" * 9000  # not cut as a held alert's is
    assert sent_to_json(again) == text


async def test_a_redo_gets_what_the_first_attempt_froze(store: Store) -> None:
    """The first attempt's freeze keeps its body; a redo of the same effect (same sequence
    number) is handed that body, byte for byte, not the one it built itself."""
    first = await store.freeze_effect("api-5xx", sent(1))
    redone = await store.freeze_effect("api-5xx", sent(1, title="changed", trace="c" * 32))
    assert first == sent(1)
    assert sent_to_json(redone) == sent_to_json(sent(1))


async def test_the_next_effect_freezes_its_own_and_a_stale_one_changes_nothing(
    store: Store,
) -> None:
    """A later effect of the incident (a higher sequence number) keeps its own body; a worker
    still on an earlier one (its lease lapsed) is refused (StoreBusyError: it must call no
    sink) and keeps the later one's from being overwritten."""
    await store.freeze_effect("api-5xx", sent(1))
    second = await store.freeze_effect("api-5xx", sent(2, title="second"))
    with pytest.raises(StoreBusyError):
        await store.freeze_effect("api-5xx", sent(1, title="stale"))
    redone = await store.freeze_effect("api-5xx", sent(2, title="redo"))
    assert second.alert.title == "second"
    assert redone.alert.title == "second"


async def test_what_was_sent_expires_with_a_closed_incident(store: Store) -> None:
    """The record is dated to be purged (SQLite) or expired (DynamoDB's TTL) no sooner than a
    closed incident is: it is not kept for ever, nor lost while a redo may need it."""
    before = store.now().timestamp()
    await store.freeze_effect("api-5xx", sent(1))
    record = await store._get(SENT, "api-5xx")
    assert record is not None and record.expires_at is not None
    # DynamoDB keeps whole seconds.
    assert record.expires_at >= before + store.closed_ttl.total_seconds() - 1


async def test_a_body_too_large_to_keep_is_cut_to_fit_and_kept(
    store: Store, monkeypatch: pytest.MonkeyPatch, logs: list[dict[str, Any]]
) -> None:
    """A body over the record bound is cut to fit (its description) and kept: the attempt
    sends the cut body, one warning says so, and a redo sends that same body."""
    monkeypatch.setattr(store_module, "MAX_RECORD_BYTES", 3000)
    large = replace(sent(1), alert=replace(sent(1).alert, description="y" * 5000))
    first = await store.freeze_effect("api-5xx", large)
    assert first.alert.description.endswith(groups.CUT_NOTE)
    assert [e["event"] for e in logs if e["log_level"] == "warning"] == ["store.sent_cut"]
    assert await store._get(SENT, "api-5xx") is not None
    assert await store.freeze_effect("api-5xx", large) == first


async def test_a_body_whose_summary_alone_is_too_large_is_sent_and_said(
    store: Store, monkeypatch: pytest.MonkeyPatch, logs: list[dict[str, Any]]
) -> None:
    """A body over the bound by its summary alone (nothing of the alert left to cut) is not
    kept: the attempt sends what it built, and one warning says a redo may send another."""
    monkeypatch.setattr(store_module, "MAX_RECORD_BYTES", 3000)
    large = sent(1, title="t" * 5000)
    assert await store.freeze_effect("api-5xx", large) == large
    assert [e["event"] for e in logs if e["log_level"] == "warning"] == ["store.sent_not_kept"]
    assert await store._get(SENT, "api-5xx") is None


# --- The pipeline: a redo sends every sink what the first attempt sent ---------------------------


@dataclass
class Recording:
    """A sink that keeps every effect; with `lose_first`, its first answer is lost (after it
    acted on the effect)."""

    name: str
    lose_first: bool = False
    effects: list[Effect] = field(default_factory=list)

    async def apply(self, effect: Effect) -> Applied:
        self.effects.append(effect)
        if self.lose_first and len(self.effects) == 1:
            raise SinkUnavailableError(f"{self.name}: answer lost")
        return Applied("T-1") if effect.kind is EffectKind.OPEN else Applied()

    async def aclose(self) -> None:
        return None


def firing(message_id: str, *, at_minutes: int = 0) -> Message:
    """A firing of the incident `lag`, `at_minutes` past T0."""
    at = T0 + timedelta(minutes=at_minutes)
    body = '{"title": "orders-db lag", "dedup_key": "lag"}'
    return Message(message_id, body, f"r-{message_id}", 1, at, received_at=at)


def body(effect: Effect) -> tuple[object, ...]:
    """What an effect tells a sink, but the references and target that are the sink's own."""
    return (
        effect.kind, effect.fingerprint, effect.alert, effect.ticket, effect.occurrences,
        effect.new_occurrences, effect.flapping, effect.idempotency_key, effect.trace_id,
    )  # fmt: skip


async def test_a_redo_by_another_message_sends_every_sink_the_first_effect() -> None:
    """An OPEN whose first answer was lost is taken over by the incident's next message, under
    another trace: every sink, the one the first attempt never reached too, is sent the effect
    the first attempt built (its trace id, alert and counts), not one built from the redoing
    message."""
    backend, github = Recording("backend", lose_first=True), Recording("github")
    tracing = Tracing()
    pipeline = Pipeline(
        Ledger(MemoryStore(POLICY, LEASE)), Summariser(), [backend, github], Metrics(),
        redactor=Redactor(), policy=POLICY,
    )  # fmt: skip
    with (
        tracing.message("m-1", f"00-{'a' * 32}-{'b' * 16}-01"),
        pytest.raises(SinkUnavailableError),
    ):
        await pipeline.process(firing("m-1"))
    with tracing.message("m-2", f"00-{'c' * 32}-{'b' * 16}-01"):
        await pipeline.process(firing("m-2", at_minutes=5))
    first, redone = backend.effects
    assert first.kind is EffectKind.OPEN
    assert first.trace_id == "a" * 32
    assert body(redone) == body(first)
    assert [body(e) for e in github.effects] == [body(first)]


async def test_an_unreadable_body_is_written_over_and_said(
    store: Store, logs: list[dict[str, Any]]
) -> None:
    """A kept body that does not read (a corrupt record) is no reason to fail the effect: one
    warning says so, and this attempt's body is kept in its place for the redos."""
    await store._update(SENT, "api-5xx", lambda _: (Record("api-5xx", SENT, 1, "{not json"), None))
    assert await store.freeze_effect("api-5xx", sent(1)) == sent(1)
    assert "store.sent_unreadable" in [e["event"] for e in logs if e["log_level"] == "warning"]
    assert await store.freeze_effect("api-5xx", sent(1, title="redo")) == sent(1)


async def test_the_payload_excerpt_is_neither_kept_nor_sent() -> None:
    """The raw payload's excerpt a new incident's summary is written from stays with the
    summariser: the kept body (and so every attempt's) leaves it out, keeping the record small."""
    sink = Recording("backend")
    store = MemoryStore(POLICY, LEASE)
    pipeline = Pipeline(
        Ledger(store), Summariser(), [sink], Metrics(), redactor=Redactor(), policy=POLICY,
        payload_excerpt_chars=500,
    )  # fmt: skip
    await pipeline.process(firing("m-1"))
    [(key, record)] = [(k, r) for (kind, k), r in store.records.items() if kind == SENT]
    assert '"payload_excerpt":""' in record.body
    assert [e.alert.payload_excerpt for e in sink.effects] == [""]
    assert key == sink.effects[0].fingerprint
