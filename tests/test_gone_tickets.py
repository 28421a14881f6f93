"""A ticket its sink says is gone for good (deleted, archived, moved out of reach): the incident
records it in the store with the effect's confirmation, its later updates and closes call that
sink no more, a re-fire still does (and its new ticket replaces the gone one), and every
operator surface shows the gone reference as gone. Pipeline and store are real (SQLite); the
sinks are in-memory fakes, the operator surfaces are served on a loopback port."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import structlog

from factories import T0, alert
from test_operator_hostile import BEARER, client, serving
from test_pipeline import CountingSummariser
from triage.errors import StoreCorruptError
from triage.incidents import Ledger, Policy
from triage.incidents.sqlite import SQLiteStore
from triage.incidents.store import INCIDENT, Record
from triage.metrics import Metrics
from triage.models import EffectKind, Status
from triage.ops.operator import incident_json
from triage.pipeline import Pipeline
from triage.redact import Redactor
from triage.sinks.base import Applied, Effect

POLICY = Policy(update_interval=timedelta(minutes=15), reopen_window=timedelta(hours=1))
FP = alert().fingerprint


@dataclass
class TicketSink:
    """A sink whose tickets can be deleted: an update or close of a deleted one is skipped as
    gone; a reopen of one creates a new ticket (as the backend does on a 410)."""

    name: str = "backend"
    effects: list[Effect] = field(default_factory=list)
    deleted: set[str] = field(default_factory=set)
    #: Tickets out of reach even for a reopen (an archived repository): every effect is gone.
    archived: set[str] = field(default_factory=set)
    #: What the next OPEN answers, when set (else `<name>-<n>`).
    next_ref: str | None = None
    opened: int = 0

    async def apply(self, effect: Effect) -> Applied:
        self.effects.append(effect)
        if effect.ref in self.archived:
            return Applied.refuse("issue read only (403)", gone=True)
        if effect.kind is EffectKind.OPEN and self.next_ref is not None:
            return Applied(self.next_ref)
        if effect.kind is EffectKind.OPEN or (
            effect.kind is EffectKind.REOPEN and effect.ref in self.deleted
        ):
            self.opened += 1
            return Applied(f"{self.name}-{self.opened}")
        if effect.ref in self.deleted:
            return Applied.refuse("ticket gone (404)", gone=True)
        return Applied()

    async def aclose(self) -> None:
        return None

    def kinds(self) -> list[str]:
        return [str(e.kind) for e in self.effects]


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    opened = SQLiteStore(str(tmp_path / "t.db"), POLICY, timedelta(minutes=2), timedelta(days=1))
    await opened.open()
    yield opened
    await opened.aclose()


class Rig:
    """A pipeline over `store` with a backend and a github fake, on a clock the test moves."""

    def __init__(self, store: SQLiteStore) -> None:
        self.store = store
        self.backend = TicketSink("backend")
        self.github = TicketSink("github")
        self.slack = TicketSink("slack")
        self.now = T0
        self.pipeline = Pipeline(
            Ledger(store, clock=lambda: self.now),
            CountingSummariser(),
            [self.backend, self.github, self.slack],
            Metrics(),
            redactor=Redactor(),
            policy=POLICY,
        )

    async def send(self, minutes: float, status: Status = Status.FIRING) -> str:
        self.now = T0 + timedelta(minutes=minutes)
        action = await self.pipeline.handle(alert(status=status, minutes=minutes), f"m-{minutes}")
        return str(action)

    async def rewrite(self, edit: Callable[[dict[str, Any]], None]) -> None:
        """Change the stored record's JSON as another release would write it."""

        def change(record: Record | None) -> tuple[Record | None, None]:
            assert record is not None
            data = json.loads(record.body)
            edit(data)
            data["version"] = record.version + 1
            body = json.dumps(data)
            return dataclasses.replace(record, version=record.version + 1, body=body), None

        await self.store._update(INCIDENT, FP, change)

    async def record(self) -> dict[str, Any]:
        stored = await self.store._get(INCIDENT, FP)
        assert stored is not None
        data: dict[str, Any] = json.loads(stored.body)
        return data


async def test_a_gone_ticket_gets_no_more_updates_until_a_refire(
    store: SQLiteStore,
) -> None:
    """After the backend said its ticket is gone, later updates do not call it (github, still
    live, gets them); the close still does, once (a wrong update route must not keep closes
    from being sent); the re-fire does, and its new ticket replaces the mark."""
    rig = Rig(store)
    assert await rig.send(0) == "open"
    rig.backend.deleted.add("backend-1")
    assert await rig.send(20) == "update"  # the backend says gone: marked
    assert (await rig.record())["gone"] == {"backend": "backend-1"}
    assert [await rig.send(40), await rig.send(45, Status.RESOLVED)] == ["update", "close"]
    assert rig.backend.kinds() == ["open", "update", "close"]
    assert rig.github.kinds() == ["open", "update", "update", "close"]
    assert (await rig.record())["gone"] == {"backend": "backend-1"}  # the close found it gone
    assert await rig.send(50) == "reopen"
    assert rig.backend.kinds() == ["open", "update", "close", "reopen"]
    record = await rig.record()
    assert record["refs"] == {"backend": "backend-2", "github": "github-1", "slack": "slack-1"}
    assert "gone" not in record
    incident = await rig.store.get(FP)
    assert incident is not None
    assert "tickets_gone" not in incident_json(incident, Redactor())
    assert await rig.send(70) == "update"  # the new ticket is live: updated again
    assert rig.backend.kinds() == ["open", "update", "close", "reopen", "update"]


async def test_a_refire_the_sink_still_finds_gone_keeps_the_mark(store: SQLiteStore) -> None:
    """A re-fire goes to a gone ticket's sink; when it answers gone again (an archived
    repository: no new ticket), the mark stays and the next update still does not call it."""
    rig = Rig(store)
    await rig.send(0)
    rig.github.archived.add("github-1")
    await rig.send(20)
    await rig.send(25, Status.RESOLVED)
    assert await rig.send(30) == "reopen"
    assert await rig.send(50) == "update"
    assert rig.github.kinds() == ["open", "update", "close", "reopen"]
    assert (await rig.record())["gone"] == {"github": "github-1"}


async def test_a_mark_whose_reference_changed_since_is_void(store: SQLiteStore) -> None:
    """A gone mark counts only for the reference it names: a record whose reference was
    replaced by a release that does not know the mark (it carries `gone` unchanged) updates
    the new ticket; and a record with no mark holds no `gone` field at all."""
    rig = Rig(store)
    await rig.send(0)
    assert "gone" not in await rig.record()

    def older_release_wrote(data: dict[str, Any]) -> None:
        data["refs"]["backend"] = "backend-9"
        data["gone"] = {"backend": "backend-1"}

    await rig.rewrite(older_release_wrote)
    await rig.send(20)
    assert rig.backend.kinds() == ["open", "update"]
    assert rig.backend.effects[-1].ref == "backend-9"
    assert "gone" not in await rig.record()


async def test_every_operator_surface_shows_the_gone_ticket_as_gone(
    store: SQLiteStore,
) -> None:
    """`incidents list`/`show` and the API list a gone ticket under `tickets_gone`, not
    `tickets`; the status page marks it `(gone)`, escaped like every other text there."""
    rig = Rig(store)
    hostile = "T-<b>1</b>"
    rig.backend.next_ref = hostile
    rig.backend.deleted.add(hostile)
    await rig.send(0)
    await rig.send(20)
    incident = await store.get(FP)
    assert incident is not None
    shown = incident_json(incident, Redactor())
    assert shown["tickets"] == {"github": "github-1", "slack": "slack-1"}
    assert shown["tickets_gone"] == {"backend": hostile}
    async with serving(store) as server, client(server) as http:
        listed = (await http.get("/api/v1/incidents", headers=BEARER)).json()
        one = (await http.get(f"/api/v1/incidents/{FP}", headers=BEARER)).json()
        page = (await http.get("/", headers=BEARER)).text
    assert listed["incidents"][0]["tickets_gone"] == {"backend": hostile}
    assert one["tickets_gone"] == {"backend": hostile}
    assert "backend: <span dir=auto>T-&lt;b&gt;1&lt;/b&gt;</span> (gone)" in page
    assert "<b>1</b>" not in page


async def test_a_later_sink_does_not_link_to_a_gone_ticket(store: SQLiteStore) -> None:
    """The close Slack posts after GitHub said its issue is gone names no link to that issue
    (the backend's live ticket still is), and the re-fire's post links the new issue."""
    rig = Rig(store)
    await rig.send(0)
    rig.github.deleted.add("github-1")
    await rig.send(20)
    await rig.send(25, Status.RESOLVED)
    assert set(rig.slack.effects[-1].refs) == {"backend", "slack"}
    await rig.send(30)
    assert rig.slack.effects[-1].refs["github"] == "github-2"


@pytest.mark.parametrize("mark", [["backend"], {"backend": 7}, "backend-1"])
async def test_a_mark_of_the_wrong_shape_is_a_corrupt_record(
    store: SQLiteStore, mark: object
) -> None:
    """A stored `gone` that is no object of references (a damaged record) is the store's
    one-line store_corrupt error, as any unreadable field is, not a crash in the pipeline."""
    rig = Rig(store)
    await rig.send(0)
    await rig.rewrite(lambda data: data.update(gone=mark))
    with pytest.raises(StoreCorruptError) as caught:
        await rig.send(20)
    assert "gone is not an object of references" in str(caught.value)


async def test_a_dry_run_names_only_the_sinks_an_update_would_call(store: SQLiteStore) -> None:
    """`triage run --dry-run` says an update of an incident whose backend ticket is gone goes
    to github alone, as the real run does."""
    rig = Rig(store)
    await rig.send(0)
    rig.backend.deleted.add("backend-1")
    await rig.send(20)
    rig.pipeline.dry_run = True
    rig.now = T0 + timedelta(minutes=40)
    with structlog.testing.capture_logs() as logs:
        await rig.pipeline.handle(alert(minutes=40), "m-dry")
    [line] = [e for e in logs if e["event"] == "alert.dry_run"]
    assert (line["action"], line["sinks"]) == ("update", ["github", "slack"])
