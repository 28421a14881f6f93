"""A note for a stated priority triage cannot read names the scale the source is read on:
Datadog, Opsgenie and PagerDuty read P1 to P5 (their five steps), every other source P0 to P3.
An unread Sentry `priority` tag is shown once, as its `tag.priority` label, and the note says so."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from triage.models import Priority
from triage.normalize import Normalized, common, normalize_body, vendors

PAYLOADS = Path(__file__).parent / "payloads"
UNREAD = "P9"
FIVE_STEPS = "P1 to P5"
GENERIC_SCALE = "P0 to P3"


def _load(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((PAYLOADS / name).read_text())
    return loaded


def _edited(name: str, edit: Callable[[dict[str, Any]], None]) -> str:
    payload = _load(name)
    edit(payload)
    return json.dumps(payload)


def _priority_note(normalized: Normalized) -> str:
    [note] = [note for note in normalized.notes if "priority" in note.lower()]
    return note


#: Each source's body stating `P9`, and the scale its note must name.
BODIES: dict[str, tuple[Callable[[], str], str]] = {
    "datadog": (
        lambda: _edited(
            "vendors/datadog-custom-triggered.json", lambda p: p.update(alert_priority=UNREAD)
        ),
        FIVE_STEPS,
    ),
    "opsgenie": (
        lambda: _edited(
            "vendors/opsgenie-create.json", lambda p: p["alert"].update(priority=UNREAD)
        ),
        FIVE_STEPS,
    ),
    "pagerduty": (
        lambda: _edited(
            "vendors/pagerduty-triggered.json",
            lambda p: p["event"]["data"]["priority"].update(summary=UNREAD),
        ),
        FIVE_STEPS,
    ),
    "generic": (lambda: json.dumps({"title": "Disk full", "priority": UNREAD}), GENERIC_SCALE),
    "newrelic": (
        lambda: _edited("vendors/newrelic-activated.json", lambda p: p.update(priority=UNREAD)),
        GENERIC_SCALE,
    ),
    "pingdom": (
        lambda: _edited(
            "tools/pingdom-http-down.json", lambda p: p.update(importance_level=UNREAD)
        ),
        GENERIC_SCALE,
    ),
    "sentry": (
        lambda: _edited(
            "sentry/issue-created.json", lambda p: p["data"]["issue"].update(priority=UNREAD)
        ),
        GENERIC_SCALE,
    ),
    "cloudwatch": (
        lambda: _edited(
            "cloudwatch/raw-alarm.json",
            lambda p: p.update(AlarmDescription=f"Disk full | PRIORITY={UNREAD}"),
        ),
        GENERIC_SCALE,
    ),
}


@pytest.mark.parametrize(("body", "scale"), BODIES.values(), ids=BODIES.keys())
def test_the_note_names_the_scale_the_source_reads(body: Callable[[], str], scale: str) -> None:
    """The note for an unread `P9` names the source's own scale, and not the other one."""
    note = _priority_note(normalize_body(body()))
    other = GENERIC_SCALE if scale == FIVE_STEPS else FIVE_STEPS
    assert scale in note and other not in note


@pytest.mark.parametrize(
    "scale", [vendors.FIVE_STEPS, common.PRIORITY_SCALE], ids=["five-steps", "generic"]
)
def test_every_form_a_scale_names_is_read_by_it(scale: common.PriorityScale) -> None:
    """What a note tells a sender to use is what the scale's reader takes: every level it
    names (P0, 3, SEV4 …) and every example word after "such as" reads as a priority."""
    levels = re.findall(r"\b(?:P|SEV)?\d\b", scale.named)
    words = re.findall(r"[a-z]+", scale.named.partition("such as")[2])
    assert levels and words
    for value in levels + words:
        assert isinstance(scale.read(value), Priority), value


#: Sentry bodies carrying an event's tags, and the path to the tag list.
TAGGED = {
    "event-alert": ("sentry/event-alert.json", ("data", "event", "tags")),
    "legacy": ("sentry/legacy-plugin.json", ("event", "tags")),
    "service-hook": ("sentry/service-hook-event-alert.json", ("event", "tags")),
}


def _with_tags(name: str, path: tuple[str, ...], extra: list[tuple[str, str]]) -> str:
    payload = _load(name)
    payload.get("group", {}).pop("priority", None)  # the issue's own is read first
    target: Any = payload
    for key in path:
        target = target[key]
    pair_shaped = isinstance(target[0], list)
    for key, value in extra:
        target.append([key, value] if pair_shaped else {"key": key, "value": value})
    return json.dumps(payload)


@pytest.mark.parametrize(("name", "path"), TAGGED.values(), ids=TAGGED.keys())
def test_an_unread_sentry_priority_tag_is_shown_once(name: str, path: tuple[str, ...]) -> None:
    """The tag `priority: P9` is shown as `tag.priority` only (not copied to `priority`), and
    the note says that is where it is kept."""
    normalized = normalize_body(_with_tags(name, path, [("priority", UNREAD)]))
    [alert] = normalized.alerts
    shown = [key for key, value in alert.labels.items() if value == UNREAD]
    assert (alert.priority, shown) == (None, ["tag.priority"])
    assert "kept as the label tag.priority" in _priority_note(normalized)


def test_an_unread_sentry_priority_tag_not_shown_as_a_tag_is_kept_as_priority() -> None:
    """A `priority` tag past the tags shown as labels is still kept visible, as `priority`."""
    crowd = [(f"k{i}", "v") for i in range(20)]
    normalized = normalize_body(
        _with_tags(
            "sentry/event-alert.json", ("data", "event", "tags"), [*crowd, ("priority", UNREAD)]
        )
    )
    [alert] = normalized.alerts
    assert "tag.priority" not in alert.labels and alert.labels["priority"] == UNREAD
    assert "kept as the label priority" in _priority_note(normalized)


def test_the_note_does_not_claim_a_label_that_shows_another_value() -> None:
    """A script's `priority: P9` beside its own label `priority: P1`: the label keeps P1, and
    the note says the value is not in the labels rather than claiming it is."""
    normalized = normalize_body(
        json.dumps({"title": "Disk full", "priority": UNREAD, "labels": {"priority": "P1"}})
    )
    [alert] = normalized.alerts
    assert alert.labels["priority"] == "P1"
    note = _priority_note(normalized)
    assert "kept as the label" not in note and "not in the labels" in note


def test_the_note_does_not_claim_a_label_when_the_labels_are_full() -> None:
    """An alert already holding the most labels kept: the unread value cannot be added, and
    the note says so."""
    crowd = {f"k{i:02}": "v" for i in range(common.LABELS_MAX)}
    normalized = normalize_body(
        json.dumps({"title": "Disk full", "priority": UNREAD, "labels": crowd})
    )
    [alert] = normalized.alerts
    assert UNREAD not in alert.labels.values()
    note = _priority_note(normalized)
    assert "kept as the label" not in note and "not in the labels" in note
