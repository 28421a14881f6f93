"""Datadog, Opsgenie and PagerDuty read a priority on their own five steps (1 to 5) however it
is written: an integer, digit text, a float or "P-1". A generic alert whose top-level priority
cannot be read takes a readable one from its `labels`, and the unread one is noted."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from triage.models import Alert, Priority
from triage.normalize import Normalized, common, normalize_body, vendors

PAYLOADS = Path(__file__).parent / "payloads"
_C, _H, _M, _L = Priority.CRITICAL, Priority.HIGH, Priority.MEDIUM, Priority.LOW


def _edited(name: str, edit: Callable[[dict[str, Any]], None]) -> str:
    payload: dict[str, Any] = json.loads((PAYLOADS / name).read_text())
    edit(payload)
    return json.dumps(payload)


def _datadog(value: Any) -> str:
    return _edited(
        "vendors/datadog-custom-triggered.json", lambda p: p.update(alert_priority=value)
    )


def _opsgenie(value: Any) -> str:
    return _edited("vendors/opsgenie-create.json", lambda p: p["alert"].update(priority=value))


def _pagerduty(value: Any) -> str:
    return _edited(
        "vendors/pagerduty-triggered.json",
        lambda p: p["event"]["data"]["priority"].update(summary=value),
    )


def _only(normalized: Normalized) -> Alert:
    [alert] = normalized.alerts
    return alert


FIVE_STEP_FORMS = [
    (1, _C), ("1", _C), (" 1 ", _C), (1.0, _C), ("P-1", _C), ("p 1", _C), ("P1 (page)", _C),
    (2, _H), ("2", _H), ("3", _M), ("4", _L), ("5", _L), ("P5", _L), ("6", None),
]  # fmt: skip


@pytest.mark.parametrize("body", [_datadog, _opsgenie, _pagerduty], ids=["dd", "og", "pd"])
@pytest.mark.parametrize(("value", "expected"), FIVE_STEP_FORMS, ids=repr)
def test_five_step_sources_read_every_spelling_on_their_own_scale(
    body: Callable[[Any], str], value: Any, expected: Priority | None
) -> None:
    """1 is critical and 4 and 5 low on these tools' scale, as text, number or "P-1" alike."""
    assert _only(normalize_body(body(value))).priority is expected


def test_the_five_step_note_names_one_to_five() -> None:
    """The scale's note tells a sender that 1 to 5 is read, and each of them is."""
    assert "1 to 5" in vendors.FIVE_STEPS.named
    for digit in "12345":
        assert vendors.FIVE_STEPS.read(digit) is not None, digit


def test_the_common_scale_is_unchanged() -> None:
    """Every other source keeps reading 1 as high and a bare 4 as nothing (P0..P3); P4 is low."""
    assert common.priority("1") is _H and common.priority(1) is _H
    assert common.priority("4") is None and common.priority("P4") is Priority.LOW


def _generic(**fields: Any) -> Normalized:
    return normalize_body(json.dumps({"title": "Disk full", **fields}))


def test_an_unread_top_level_priority_does_not_hide_a_readable_label() -> None:
    """`priority: P9` with `labels.priority: P1` states high, and a note names the P9."""
    normalized = _generic(priority="P9", labels={"priority": "P1"})
    assert _only(normalized).priority is _H
    [note] = [note for note in normalized.notes if "P9" in note]
    assert "generic priority" in note and "labels.priority" in note
    assert _only(normalized).labels["priority"] == "P1"


def test_a_readable_top_level_priority_wins_over_the_labels() -> None:
    """The top-level priority is read first; a label's is not read and nothing is noted."""
    normalized = _generic(priority="P0", labels={"priority": "P3"})
    assert _only(normalized).priority is _C
    assert not [note for note in normalized.notes if "priority" in note]


def test_both_unread_are_each_noted() -> None:
    """Neither P9 nor P8 is read: none is stated, and each value is named in a note."""
    normalized = _generic(priority="P9", labels={"priority": "P8"})
    assert _only(normalized).priority is None
    notes = " ".join(normalized.notes)
    assert "P9" in notes and "P8" in notes


@pytest.mark.parametrize("top", [{}, [], "", "\u200b"], ids=["object", "array", "blank", "zws"])
@pytest.mark.parametrize("key", ["team", "severity"])
def test_an_unshown_top_level_team_or_severity_does_not_hide_the_labels(top: Any, key: str) -> None:
    """A top-level team or severity that shows nothing reads the `labels` one instead."""
    alert = _only(_generic(**{key: top, "labels": {key: "payments"}}))
    assert getattr(alert, key) == "payments"


def test_the_fingerprint_does_not_move() -> None:
    """Priority is no part of identity: the alert keys the same whichever priority it reads."""
    one = _only(_generic(priority="P9", labels={"priority": "P1"}))
    two = _only(_generic(priority="P0"))
    assert one.fingerprint == two.fingerprint
