"""Datadog's `Null` transition ($ALERT_TRANSITION of a recovery from No Data: the monitor
reports again and is OK) resolves the monitor's incident when the title names no state, as a
Recovered does; a title that names one still decides. Any other transition Datadog never
sends, with a title that names no state, stays an InvalidAlertError (the DLQ) naming it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from recording_pipeline import trigger_repeat_recovery
from source_samples import one, run
from triage.errors import InvalidAlertError
from triage.incidents import Action
from triage.models import EffectKind, Status

VENDORS = Path(__file__).parent / "payloads" / "vendors"
TRIGGERED = VENDORS / "datadog-custom-triggered.json"


def custom(transition: Any, title: str = "Checkout p99 latency above 2s") -> dict[str, Any]:
    """The custom-payload sample with `transition` and `title` in place of its own."""
    body: dict[str, Any] = json.loads(TRIGGERED.read_text(encoding="utf-8"))
    return {**body, "alert_transition": transition, "title": title}


@pytest.mark.parametrize("word", ["Null", "null", "NULL", " Null "])
def test_a_null_transition_under_a_title_with_no_state_resolves_the_monitor(word: str) -> None:
    """`Null` (a No Data recovery) with a bare title is the monitor's recovery: resolved, and
    keyed as its trigger is, so it closes that incident."""
    recovered = one(custom(word))
    triggered = one(custom("Triggered"))
    assert recovered.status is Status.RESOLVED
    assert recovered.fingerprint == triggered.fingerprint


def test_a_title_naming_a_state_decides_over_a_null_transition() -> None:
    """`Null` under "[Triggered] …" is the state the title names (the monitor went from No
    Data to Alert): firing."""
    assert one(custom("Null", "[Triggered] Checkout p99 latency above 2s")).status is Status.FIRING


async def test_a_trigger_then_its_null_recovery_is_one_ticket_opened_and_closed(
    tmp_path: Path,
) -> None:
    """Through the pipeline, a trigger, its repeat and a `Null` recovery open one ticket and
    close it (the `Null` went to the DLQ before, leaving the ticket open)."""
    recovery = tmp_path / "datadog-null.json"
    recovery.write_text(json.dumps(custom("Null")), encoding="utf-8")
    actions, effects = await trigger_repeat_recovery(TRIGGERED, recovery)
    assert actions == [Action.OPEN, Action.COUNT, Action.CLOSE]
    assert effects == [EffectKind.OPEN, EffectKind.CLOSE]


@pytest.mark.parametrize("word", ["Acknowledged", "Nul", "none", "Null Data"])
def test_a_transition_datadog_never_sends_is_still_refused_naming_it(word: str) -> None:
    """Any other word, under a title that names no state, is an InvalidAlertError that names
    the field and the word (for the DLQ), never a guessed state."""
    with pytest.raises(InvalidAlertError, match=f"alert_transition '{word}'"):
        run(custom(word))
