"""`replace_incident`, the lifecycle's own `dataclasses.replace` for incidents, makes exactly
the incident `dataclasses.replace` makes, whatever fields change, and leaves the original as
it was."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from triage.incidents.lifecycle import Event, Incident, Pending, Refusal, State, replace_incident
from triage.models import EffectKind, Priority

NOW = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)


def _incident() -> Incident:
    return Incident(
        fingerprint="fp",
        state=State.OPEN,
        source="generic",
        title="disk full",
        opened_at=NOW,
        last_event_at=NOW,
        occurrences=3,
        refs={"backend": "T-1"},
        labels={"host": "h1"},
        history=(Event(NOW, "open"),),
        unknown={"later": 1},
    )


#: A new value for every field of an incident.
NEW_VALUES: dict[str, object] = {
    "fingerprint": "fp2",
    "state": State.CLOSED,
    "source": "cloudwatch",
    "title": "other",
    "opened_at": NOW + timedelta(1),
    "last_event_at": NOW + timedelta(2),
    "closed_at": NOW + timedelta(3),
    "occurrences": 9,
    "occurrences_at_update": 4,
    "last_update_at": NOW,
    "reopens": 2,
    "flapping": True,
    "quiet_until": NOW,
    "refs": {"github": "u"},
    "gone": {"github": "u"},
    "refused": {"backend": Refusal(EffectKind.OPEN, "m1#0")},
    "pending": Pending(EffectKind.UPDATE, "m1#0@d1", NOW, 2),
    "seq": 5,
    "version": 7,
    "applied_at": NOW,
    "team": "ops",
    "labels": {},
    "labels_past_cap": {"namespace": "shop"},
    "route": "default",
    "escalate_after_s": 60.0,
    "reopened_at": NOW,
    "resolve_after_s": 30.0,
    "history": (),
    "effects_by": ("m1#0",),
    "counted_by": ("abc",),
    "last_queued_at": NOW,
    "update_owed_at_s": 1.5e9,
    "priority_was": Priority.LOW,
    "priority_stated": Priority.HIGH,
    "priority_changed_at": NOW + timedelta(4),
    "closed_by_hand_at": NOW + timedelta(5),
    "counted_from": NOW + timedelta(6),
    "unknown": {},
}


def test_every_field_changed_alone_or_together_is_what_dataclasses_replace_makes() -> None:
    """Each field changed alone, all of them at once and none: equal to `dataclasses.replace`,
    field for field the same objects, and the original unchanged."""
    original = _incident()
    before = dataclasses.replace(original)
    names = {f.name for f in dataclasses.fields(Incident)}
    assert set(NEW_VALUES) | {"ticket", "group", "escalation", "held"} == names
    for changes in [{}, NEW_VALUES, *({k: v} for k, v in NEW_VALUES.items())]:
        made = replace_incident(original, **changes)
        expected = dataclasses.replace(original, **changes)  # type: ignore[arg-type]
        assert made == expected
        assert type(made) is Incident
        for name in names:
            assert getattr(made, name) is getattr(expected, name)
    assert original == before


def test_an_unknown_field_is_refused_as_dataclasses_replace_refuses_it() -> None:
    """A name that is not a field raises TypeError, as `dataclasses.replace` does."""
    with pytest.raises(TypeError):
        replace_incident(_incident(), colour="red")


def test_the_copy_is_frozen() -> None:
    """The incident made cannot be changed afterwards, as any incident cannot."""
    made = replace_incident(_incident(), version=2)
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.version = 3  # type: ignore[misc]


def test_a_subclass_stays_itself() -> None:
    """An incident of a subclass is copied as its own class, as `dataclasses.replace` does."""

    @dataclasses.dataclass(frozen=True, slots=True)
    class Tagged(Incident):
        tag: str = "x"

    tagged = Tagged(**{f.name: getattr(_incident(), f.name) for f in dataclasses.fields(Incident)})
    made = replace_incident(tagged, version=4)
    assert type(made) is Tagged
    assert made == dataclasses.replace(tagged, version=4)
