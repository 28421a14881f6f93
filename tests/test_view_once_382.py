"""A new incident's alert is redacted once: the title the store keeps and the view its effects
are written from (with the payload's excerpt) share one redaction of the alert's fields
(`view.AlertView`), and both come out byte for byte as when each was redacted on its own.

`_old_redact_alert` is `view.redact_alert` as it stood before the fields were shared (commit
e1ac2141), kept here as the reference the shared path must match: over every sample payload
of tests/payloads, and over each with secrets added under a secret's name (in a label, in the
payload only, in the text as `password=…`) and of the corpus' formats in its free text."""

from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest

from factories import T0
from memory_store import MemoryStore
from recording_pipeline import POLICY, Sink
from remembering import RememberingRedactor
from secret_formats import FORMATS, sample
from triage.incidents import Action
from triage.incidents.ledger import Ledger
from triage.metrics import Metrics
from triage.models import Alert, Priority, Status, Ticket
from triage.normalize import normalize_body
from triage.pipeline import Pipeline
from triage.redact import Redactor, held, hold
from triage.redact.redactor import Blanked
from triage.view import (
    AlertView,
    GroupView,
    MemberView,
    RedactedAlert,
    _again,
    _excerpt,
    _Fields,
    _held_by_name,
    _named_in_payload,
    redact_alert,
    shown_title,
)

PAYLOADS = Path(__file__).parent / "payloads"
#: The daemon's default excerpt, and one that cuts most payloads.
EXCERPTS = (6000, 300)
#: A password given under a secret's name in a label, repeated in the title and text.
LABEL_PASSWORD = "swordfishcanary382"
#: A password given under a secret's name in the payload only, repeated in the title.
PAYLOAD_PASSWORD = "tunafishsentinel382"
GROUP = GroupView(
    by=MappingProxyType({"service": "checkout"}),
    members=(MemberView("fp-1", "checkout down", Status.FIRING, T0),),
)


def _old_redact_alert(
    alert: Alert, redactor: Redactor, *, excerpt_chars: int = 0, group: GroupView | None = None
) -> RedactedAlert:
    """`redact_alert` as it was at e1ac2141: the payload, then every field, redacted anew."""
    found = Blanked()
    fields = _Fields(redactor, found)
    raw = ""
    if excerpt_chars > 0 and alert.raw:
        raw = json.dumps(
            redactor.value(alert.raw, found=found), ensure_ascii=False, separators=(",", ":")
        )
    view = RedactedAlert(
        fingerprint=alert.fingerprint,
        source=fields.text(alert.source),
        status=alert.status,
        title=fields.text(alert.title),
        team=fields.text(alert.team) if alert.team else None,
        priority=alert.priority,
        severity=fields.text(alert.severity) if alert.severity else None,
        description=fields.text(alert.description),
        runbook_url=fields.text(alert.runbook_url) if alert.runbook_url else None,
        occurred_at=alert.occurred_at,
        links=MappingProxyType(fields.pairs(alert.links)),
        labels=MappingProxyType(fields.pairs(alert.labels, alert.uncut_labels)),
        group=group,
        redaction=(redactor, held()),
    )
    _named_in_payload(alert.raw, found)
    secrets = _held_by_name(found)
    if secrets:
        view = _again(view, redactor, secrets)
    return dataclasses.replace(
        view, payload_excerpt=_excerpt(raw, excerpt_chars, redactor, secrets)
    )


def _every_field(view: RedactedAlert) -> dict[str, Any]:
    """Each field of `view` by name, those its equality leaves out too (`named_secrets`, and
    `redaction` as the redactor's identity and the credentials tuple's)."""
    fields = {f.name: getattr(view, f.name) for f in dataclasses.fields(view)}
    fields["labels"] = list(view.labels.items())  # in order: the order is shown
    fields["links"] = list(view.links.items())
    redaction = view.redaction
    fields["redaction"] = None if redaction is None else (id(redaction[0]), id(redaction[1]))
    return fields


def _sample_alerts() -> Iterator[tuple[str, Alert]]:
    """Every alert the sample payloads hold, named by file and place."""
    for path in sorted(PAYLOADS.rglob("*.json")):
        for n, alert in enumerate(normalize_body(path.read_bytes()).alerts):
            yield f"{path.relative_to(PAYLOADS)}#{n}", alert


def _with_secrets(alert: Alert, n: int) -> dict[str, Alert]:
    """`alert` as it is, and with secrets it holds under a secret's name, repeated elsewhere."""
    fmt = FORMATS[n % len(FORMATS)]
    secret = sample(fmt, f"view-once-{n}").text
    labelled = {**alert.labels, "db_password": LABEL_PASSWORD}
    return {
        "as sent": alert,
        "label password": alert.model_copy(
            update={
                "title": f"{alert.title} as app/{LABEL_PASSWORD}",
                "description": f"{alert.description} tried {LABEL_PASSWORD}",
                "labels": labelled,
                "raw": {**alert.raw, "note": f"auth {LABEL_PASSWORD} rejected"},
            }
        ),
        "payload password": alert.model_copy(
            update={
                "title": f"{PAYLOAD_PASSWORD} rejected: {alert.title}",
                "raw": {**alert.raw, "config": {"db": {"password": PAYLOAD_PASSWORD}}},
            }
        ),
        "both, and a pair in the text": alert.model_copy(
            update={
                "title": f"{alert.title} {PAYLOAD_PASSWORD} {LABEL_PASSWORD}",
                "description": f"connect failed: password={LABEL_PASSWORD}x user=app",
                "labels": labelled,
                "raw": {**alert.raw, "password": PAYLOAD_PASSWORD},
            }
        ),
        f"{fmt.id} in the text": alert.model_copy(
            update={
                "title": f"{alert.title} {secret}"[:300],
                "description": f"{fmt.name}={secret}\n{alert.description}",
                "raw": {**alert.raw, "env": {fmt.name: secret}, "log": secret},
            }
        ),
    }


@functools.cache
def _cases() -> tuple[tuple[str, Alert], ...]:
    """Every sample alert, as sent and with each kind of secret added, named by file, place
    and variant: built on first use (normalising every sample costs each xdist worker that
    collects this file, not only the one that runs it)."""
    return tuple(
        (f"{name} ({variant})", variant_alert)
        for n, (name, alert) in enumerate(_sample_alerts())
        for variant, variant_alert in _with_secrets(alert, n).items()
    )


#: The sample payloads' folders (one per source), each a test of its cases.
SOURCES = sorted(path.name for path in PAYLOADS.iterdir() if path.is_dir())


def test_the_corpus_holds_alerts_with_payloads_and_named_secrets() -> None:
    """The comparison below covers what it claims: hundreds of alerts, most with a payload,
    and a named secret that only the payload gives (the path that redacts the fields again),
    in cases of every source folder that gives alerts."""
    cases = _cases()
    assert len(cases) > 1000
    assert sum(bool(alert.raw) for _, alert in cases) > len(cases) // 2
    redactor = Redactor()
    payload_only = [
        alert
        for name, alert in cases[:40]
        if name.endswith("(payload password)")
        and PAYLOAD_PASSWORD not in redact_alert(alert, redactor, excerpt_chars=6000).title
    ]
    assert payload_only
    assert {name.split("/")[0] for name, _ in cases} <= set(SOURCES)


def _differences(alert: Alert, redactor: Redactor) -> Iterator[str]:
    """Where the title read first, and each view built after it from the same `AlertView`
    (with and without an excerpt, as a group's member or not), differ from the old path's:
    each place, with the fields that differ."""
    shared = AlertView(alert, redactor)
    # The old path once per excerpt size: it redacts the same fields and payload whatever the
    # group, which it only sets on the view (as `dataclasses.replace` does here).
    olds = {chars: _old_redact_alert(alert, redactor, excerpt_chars=chars) for chars in EXCERPTS}
    olds[0] = _old_redact_alert(alert, redactor)
    if shared.title != olds[0].title:
        yield "the shared title"
    if shown_title(alert, redactor) != olds[0].title:
        yield "shown_title"
    for chars in (*EXCERPTS, 0):
        for group in (None, GROUP):
            old = _every_field(dataclasses.replace(olds[chars], group=group))
            views = {
                "shared view": shared.view(excerpt_chars=chars, group=group),
                "redact_alert": redact_alert(alert, redactor, excerpt_chars=chars, group=group),
            }
            for made_by, view in views.items():
                new = _every_field(view)
                if new != old:
                    differ = sorted(k for k in old if new[k] != old[k])
                    yield f"{made_by}, excerpt {chars}, group {group is not None}: {differ}"


@pytest.mark.parametrize("source", SOURCES)
def test_one_shared_redaction_gives_the_old_title_and_views(source: str) -> None:
    """For every case of the source's samples (each alert as sent and with each kind of
    secret added), the title read first and each view built after it from the same
    `AlertView` (with and without an excerpt, as a group's member or not) equal the old
    path's, field by field. One redactor for the source's cases, remembering its answers
    (`RememberingRedactor`): what the paths are compared on is which texts they redact and
    take held values out of, and how they put the view together; an answer is the same
    remembered or not, and each view of a case, and each alert's five cases, redact the same
    texts again."""
    redactor = RememberingRedactor()
    found = [
        f"{name}: {difference}"
        for name, alert in _cases()
        if name.split("/")[0] == source
        for difference in _differences(alert, redactor)
    ]
    assert found == []


def test_a_credential_held_after_the_title_is_redacted_in_the_view() -> None:
    """A credential the process holds only after the title was read (a token minted while
    the incident opened) is redacted in the view built after it, as a fresh redaction is."""
    token = "ghs_viewonce382heldlater0123456789abcd"
    alert = Alert(
        source="generic",
        status=Status.FIRING,
        title="deploy failed",
        description=f"deploy failed with {token}",
        occurred_at=T0,
        identity={"dedup_key": "deploy"},
    )
    redactor = Redactor()
    shared = AlertView(alert, redactor)
    assert shared.title == "deploy failed"
    hold(token)
    view = shared.view(excerpt_chars=6000)
    assert token not in view.description
    assert _every_field(view) == _every_field(
        _old_redact_alert(alert, redactor, excerpt_chars=6000)
    )


class _Counting(Redactor):
    """A redactor that counts the texts it is asked to redact, and the payloads."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []
        self.payloads = 0

    def text(self, text: str) -> str:
        self.texts.append(text)
        return super().text(text)

    def value(self, value: Any, *, depth: int = 0, found: Blanked | None = None) -> Any:
        if depth == 0:
            self.payloads += 1
        return super().value(value, depth=depth, found=found)


class _Summariser:
    """A ticket of its own words (not the alert's title, which would be counted again)."""

    async def summarise(self, alert: RedactedAlert) -> Ticket:
        return Ticket(title="the ticket", priority=Priority.HIGH, description="d", steps=("s",))

    async def aclose(self) -> None:
        return None


def _pipeline(redactor: Redactor, sink: Sink) -> Pipeline:
    return Pipeline(
        Ledger(MemoryStore(POLICY)), _Summariser(), [sink], Metrics(), redactor=redactor,
        policy=POLICY, payload_excerpt_chars=6000,
    )  # fmt: skip


def _alert(status: Status, at: datetime = T0) -> Alert:
    return Alert(
        source="generic",
        status=status,
        title="view-once-382 checkout is failing",
        description="error rate 12% on web-1",
        occurred_at=at,
        identity={"dedup_key": "view-once-382"},
        raw={"message": "checkout failing", "host": "web-1"},
    )


async def test_a_new_incident_redacts_its_title_once() -> None:
    """A firing that opens an incident redacts its title once, for the stored title and the
    ticket's view alike, and its payload once, for the summary's excerpt."""
    redactor, sink = _Counting(), Sink()
    action = await _pipeline(redactor, sink).handle(_alert(Status.FIRING), "owner-1")
    assert action is Action.OPEN
    assert len(sink.effects) == 1
    assert redactor.texts.count("view-once-382 checkout is failing") == 1
    assert redactor.payloads == 1


async def test_a_first_event_that_is_a_resolve_redacts_no_payload() -> None:
    """A resolve of an alert no incident holds opens nothing: its payload is not redacted
    (no excerpt is built for a summary that is not written)."""
    redactor, sink = _Counting(), Sink()
    await _pipeline(redactor, sink).handle(_alert(Status.RESOLVED), "owner-1")
    assert sink.effects == []
    assert redactor.payloads == 0
