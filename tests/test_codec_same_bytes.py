"""The incident codec writes the same bytes for the same incident, however it gets there: over
varied incidents (every optional part set or not, hostile text, odd numbers), and along chains
of writes in which some fields change and the rest are the very objects of the write before (a
storm's repeats), each body equals the one written afresh and the format of earlier releases."""

from __future__ import annotations

import dataclasses
import hashlib
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from triage.incidents.codec import incident_from_json, incident_to_json
from triage.incidents.lifecycle import (
    Escalation,
    Event,
    Group,
    Held,
    Incident,
    Member,
    Pending,
    State,
)
from triage.models import EffectKind, Priority, Status, Ticket

T0 = datetime(2026, 12, 5, 9, 0, 0, 123456, tzinfo=UTC)
TEXTS = ("disk full", 'a "quoted" \\ back\x00slash', "✓ ünïcode \u2028 </script>", "", "x" * 300)
NUMBERS = (None, 0.0, 1.0, 0.1, 1e16, 3600.0, 7)

#: sha256 of the bodies `_bodies()` yields, as written by the codec before its kept runs
#: (commit 099996d): the stored format of every incident below is unchanged.
EARLIER_FORMAT = "611e3bca35993d8a"


def _time(rng: random.Random) -> datetime:
    return T0 + timedelta(seconds=rng.randrange(0, 10**6), microseconds=rng.randrange(0, 10**6))


def _maybe_time(rng: random.Random) -> datetime | None:
    return _time(rng) if rng.random() < 0.5 else None


def _incident(rng: random.Random, n: int) -> Incident:
    """An incident with a random choice of its optional parts."""
    text = rng.choice(TEXTS)
    return Incident(
        fingerprint=f"fp-{n}",
        state=rng.choice((State.OPEN, State.CLOSED)),
        source=rng.choice(("generic", "cloudwatch", text)),
        title=text or "t",
        opened_at=_time(rng),
        last_event_at=_time(rng),
        closed_at=_maybe_time(rng),
        occurrences=rng.randrange(0, 10**12),
        occurrences_at_update=rng.randrange(0, 5),
        last_update_at=_maybe_time(rng),
        reopens=rng.randrange(0, 4),
        flapping=rng.random() < 0.3,
        quiet_until=_maybe_time(rng),
        refs=rng.choice(({}, {"backend": "T-1"}, {"github": text, "backend": "T-2"})),
        gone=rng.choice(({}, {"github": text})),
        ticket=rng.choice(
            (
                None,
                Ticket(
                    title=text[:200] or "t", priority=Priority.HIGH, description=text, steps=(text,)
                ),
            )
        ),
        pending=rng.choice(
            (
                None,
                Pending(EffectKind.UPDATE, "m1#0@d1", _time(rng), 3, delta=2, done=("backend",)),
                Pending(
                    EffectKind.OPEN,
                    "m2#0",
                    _time(rng),
                    1,
                    not_before=_time(rng),
                    alert=text,
                    attempts=2,
                    retry_at=_time(rng),
                ),
            )
        ),
        seq=rng.randrange(0, 50),
        version=rng.randrange(0, 10**6),
        applied_at=_maybe_time(rng),
        group=rng.choice(
            (
                None,
                Group(
                    route="r",
                    by={"ns": text},
                    members={"m1": Member(Status.FIRING, text, _time(rng), _time(rng))},
                    untracked=2,
                    untracked_ids=frozenset({"b", "a"}),
                    window_s=rng.choice((0.0, 1.5)),
                ),
            )
        ),
        team=rng.choice((None, "payments", text)),
        labels=rng.choice(({}, {"host": "h1", "weird": text})),
        route=rng.choice((None, "default")),
        escalate_after_s=rng.choice(NUMBERS),
        reopened_at=_maybe_time(rng),
        escalation=rng.choice((None, Escalation("w1", _time(rng), _maybe_time(rng), ("slack",)))),
        resolve_after_s=rng.choice(NUMBERS[2:]),  # 0.0 is written as unset
        held=rng.choice((None, Held(EffectKind.OPEN, "silence-1", text, _time(rng), _time(rng)))),
        history=tuple(
            Event(_time(rng), rng.choice(("open", "count")), rng.choice(TEXTS))
            for _ in range(rng.randrange(0, 21))
        ),
        effects_by=tuple(f"m{i}#0" for i in range(rng.randrange(0, 9))),
        counted_by=tuple(f"{i:012x}" for i in range(rng.randrange(0, 4))),
        last_queued_at=_maybe_time(rng),
    )


def _repeat(rng: random.Random, incident: Incident) -> Incident:
    """The next write of `incident`: a repeat's changes, and now and then a change of a field
    a repeat keeps (a new object, sometimes an equal one built afresh)."""
    at = _time(rng)
    changes: dict[str, object] = {
        "last_event_at": at,
        "applied_at": at,
        "occurrences": incident.occurrences + 1,
        "version": incident.version + 1,
        "history": (*incident.history, Event(at, "count", f"{incident.occurrences} alerts"))[-20:],
        "counted_by": (*incident.counted_by, "abcdef012345")[-64:],
        "last_queued_at": rng.choice((None, at)),
    }
    kept_field = rng.choice(
        (
            None,
            "state",
            "title",
            "refs",
            "labels",
            "ticket",
            "pending",
            "seq",
            "team",
            "quiet_until",
        )
    )
    if kept_field == "state":
        changes["state"] = State.CLOSED if incident.state is State.OPEN else State.OPEN
    elif kept_field == "title":
        changes["title"] = incident.title + " again"
    elif kept_field == "refs":
        changes["refs"] = {**incident.refs, "backend": f"T-{rng.randrange(100)}"}
    elif kept_field == "labels":
        changes["labels"] = dict(reversed(list({**incident.labels, "zone": "b"}.items())))
    elif kept_field == "ticket":
        changes["ticket"] = Ticket(title="new", priority=Priority.LOW, description="d")
    elif kept_field == "pending":
        changes["pending"] = Pending(EffectKind.UPDATE, "m9#0@d2", at, incident.seq + 1, delta=5)
    elif kept_field == "seq":
        changes["seq"] = incident.seq + 1
    elif kept_field == "team":
        changes["team"] = rng.choice((None, "ops"))
    elif kept_field == "quiet_until":
        changes["quiet_until"] = rng.choice((None, at))
    return dataclasses.replace(incident, **changes)  # type: ignore[arg-type]


def _chains() -> Iterator[Incident]:
    """60 incidents, each followed by 25 of its writes."""
    rng = random.Random(187)
    for n in range(60):
        incident = _incident(rng, n)
        yield incident
        for _ in range(25):
            incident = _repeat(rng, incident)
            yield incident


def test_every_write_of_a_chain_is_the_body_written_afresh() -> None:
    """Along chains of writes that reuse the objects of the write before, each body equals
    the body of an equal incident built afresh, and reads back as the incident written."""
    for incident in _chains():
        body = incident_to_json(incident)
        assert incident_from_json(body) == incident
        fresh = incident_from_json(body)
        assert incident_to_json(fresh) == body


def test_the_bodies_are_those_of_the_earlier_format() -> None:
    """The chains' bodies are byte for byte what the codec wrote before (one digest of all)."""
    digest = hashlib.sha256()
    for incident in _chains():
        digest.update(incident_to_json(incident).encode())
        digest.update(b"\n")
    assert digest.hexdigest()[:16] == EARLIER_FORMAT


def test_a_field_changed_in_place_of_an_equal_one_is_written_as_it_is() -> None:
    """Labels built afresh in another order (equal as dicts, different as JSON) and a float
    replaced by an equal int are written as they are now, not as the write before had them."""
    rng = random.Random(3)
    first = dataclasses.replace(
        _incident(rng, 1), labels={"a": "1", "b": "2"}, escalate_after_s=60.0
    )
    incident_to_json(first)
    second = dataclasses.replace(first, labels={"b": "2", "a": "1"}, escalate_after_s=60)
    body = incident_to_json(second)
    assert '"labels":{"b":"2","a":"1"}' in body
    assert '"escalate_after_s":60,' in body
