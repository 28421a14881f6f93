"""A stated priority triage cannot read, passed over for a later one it can, is named in a note
for the log (`common.passed_over`), as a generic alert's is: a Sentry service hook's
`group.priority` under a readable `priority` tag, and Datadog's `alert_priority` under a
priority the title's "[P2]" (or a P1..P5 `severity`) states."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from triage.models import Priority
from triage.normalize import Normalized, normalize_body

PAYLOADS = Path(__file__).parent / "payloads"


def _edited(name: str, edit: Callable[[dict[str, Any]], None]) -> Normalized:
    payload: dict[str, Any] = json.loads((PAYLOADS / name).read_text())
    edit(payload)
    return normalize_body(json.dumps(payload))


def _service_hook(group_priority: Any, tag: Any = "high") -> Normalized:
    """The golden service hook, its group's priority `group_priority`, with a `priority` tag."""

    def edit(payload: dict[str, Any]) -> None:
        payload["group"]["priority"] = group_priority
        payload["event"]["tags"].append({"key": "priority", "value": tag})

    return _edited("sentry/service-hook-event-alert.json", edit)


def _datadog_default(alert_priority: Any) -> Normalized:
    """The golden default Datadog payload ("[P2]" in its title) with an `alert_priority`."""
    return _edited(
        "vendors/datadog-default-triggered.json", lambda p: p.update(alert_priority=alert_priority)
    )


def _datadog_keep(alert_priority: Any) -> Normalized:
    """Keep's template (`severity` "P2" and "[P2]" in its title) with an `alert_priority`."""
    return _edited("datadog/keep-triggered.json", lambda p: p.update(alert_priority=alert_priority))


def _noted(normalized: Normalized, value: str) -> list[str]:
    return [note for note in normalized.notes if value in note]


PASSED_OVER = [
    (_service_hook, "sentry group.priority", Priority.HIGH),
    (_datadog_default, "datadog alert_priority", Priority.HIGH),
    (_datadog_keep, "datadog alert_priority", Priority.HIGH),
]


@pytest.mark.parametrize(("body", "field", "expected"), PASSED_OVER, ids=["sentry", "dd", "keep"])
@pytest.mark.parametrize("unread", ["P9", "whenever", 75], ids=repr)
def test_an_unread_priority_passed_over_is_noted(
    body: Callable[[Any], Normalized], field: str, expected: Priority, unread: Any
) -> None:
    """The readable later priority is taken, and one note names the unread field and value."""
    normalized = body(unread)
    [alert] = normalized.alerts
    assert alert.priority is expected
    [note] = _noted(normalized, repr(str(unread)))
    assert field in note and "passed over" in note


@pytest.mark.parametrize(("body", "field", "expected"), PASSED_OVER, ids=["sentry", "dd", "keep"])
@pytest.mark.parametrize("absent", [None, "", " "], ids=repr)
def test_a_priority_not_stated_is_not_noted(
    body: Callable[[Any], Normalized], field: str, expected: Priority, absent: Any
) -> None:
    """An absent or blank first priority states nothing: nothing is passed over or noted."""
    normalized = body(absent)
    [alert] = normalized.alerts
    assert alert.priority is expected
    assert not [note for note in normalized.notes if "priority" in note]


def test_a_readable_group_priority_wins_and_nothing_is_noted() -> None:
    """The group's own priority is read first; the tag is not read and nothing is noted."""
    normalized = _service_hook("low", tag="high")
    [alert] = normalized.alerts
    assert alert.priority is Priority.LOW
    assert not [note for note in normalized.notes if "priority" in note]


def test_both_unread_in_sentry_are_each_noted_as_unread() -> None:
    """Neither P9 nor P8 is read: none is stated, and each is noted unread, not passed over."""
    normalized = _service_hook("P9", tag="P8")
    [alert] = normalized.alerts
    assert alert.priority is None
    notes = " ".join(normalized.notes)
    assert "'P9'" in notes and "'P8'" in notes and "passed over" not in notes


def test_a_passed_over_priority_is_not_a_label() -> None:
    """The labels show the priority read: the unread group priority is in no label."""
    [alert] = _service_hook("P9").alerts
    assert "P9" not in alert.labels.values()


def test_a_passed_over_secret_is_redacted_in_the_note() -> None:
    """A note quotes the unread value redacted, as every note does."""
    secret = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
    normalized = _datadog_default(secret)
    assert not [note for note in normalized.notes if secret in note]
    assert [note for note in normalized.notes if "passed over" in note]
