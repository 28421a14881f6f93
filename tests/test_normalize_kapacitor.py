"""Kapacitor's HTTP POST alert handler (`kapacitor`): an alert (the alert node's `id`, one per
rule and group) fires at INFO, WARNING or CRITICAL and resolves at OK as one incident, the
handler's test body (an empty alert) changes no ticket, and hostile text is redacted.

Shape: docs.influxdata.com/kapacitor/v1/reference/event_handlers/post/ and the JSON tags of
`alert.Data` in influxdata/kapacitor (alert/types.go: id, message, details, time, duration,
level, data, previousLevel, recoverable); the test body is `alert.Event{}.AlertData()` as
services/httppost/service.go's Test encodes it.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from recording_pipeline import trigger_repeat_recovery
from source_samples import Samples, mutant_failures, one, run, skipped_reasons
from triage.errors import InvalidAlertError
from triage.incidents import Action
from triage.models import EffectKind, Status
from triage.normalize import recognise_body
from triage.redact import Redactor
from triage.routes import KNOWN_SOURCES
from triage.view import redact_alert

SAMPLES = Samples("kapacitor")
CRITICAL, OK = "critical.json", "ok.json"

#: What the handler's Test posts: the JSON of an empty alert event.
TEST_BODY: dict[str, Any] = {
    "id": "", "message": "", "details": "", "time": "0001-01-01T00:00:00Z", "duration": 0,
    "level": "OK", "data": {"series": None}, "previousLevel": "OK", "recoverable": False,
}  # fmt: skip


sample = SAMPLES.body


def test_a_critical_alert_is_read_as_kapacitor() -> None:
    """Format and source `kapacitor`, keyed by the alert's id, titled by its message, its
    details as the description, its level as the severity and its series' tags as labels."""
    recognised = recognise_body(SAMPLES.path(CRITICAL).read_bytes())
    assert recognised.format == "kapacitor"
    [alert] = recognised.normalized.alerts
    assert (alert.source, alert.status) == ("kapacitor", Status.FIRING)
    assert alert.identity == {"id": "cpu_idle:host=web-1,"}
    assert alert.title == "cpu_idle:host=web-1, is CRITICAL"
    assert alert.description.startswith("CPU idle on web-1 is 3.2%")
    assert alert.severity == "critical"
    assert alert.labels["metric"] == "cpu"
    assert alert.labels["host"] == "web-1"
    assert alert.occurred_at.isoformat() == "2026-12-05T10:41:00+00:00"
    assert "kapacitor" in KNOWN_SOURCES


async def test_fire_repeat_and_resolve_are_one_ticket() -> None:
    """Through the pipeline: CRITICAL opens a ticket, the same alert again is counted, OK
    closes it."""
    actions, effects = await trigger_repeat_recovery(SAMPLES.path(CRITICAL), SAMPLES.path(OK))
    assert actions == [Action.OPEN, Action.COUNT, Action.CLOSE]
    assert effects == [EffectKind.OPEN, EffectKind.CLOSE]


@pytest.mark.parametrize(
    ("level", "expected"),
    [("INFO", Status.FIRING), ("WARNING", Status.FIRING), ("CRITICAL", Status.FIRING),
     ("OK", Status.RESOLVED), ("critical", Status.FIRING), ("ok", Status.RESOLVED)],
)  # fmt: skip
def test_each_level_fires_or_resolves_one_incident(level: str, expected: Status) -> None:
    """Every level of Kapacitor's keeps the alert's fingerprint; only OK resolves."""
    body = sample(CRITICAL) | {"level": level}
    alert = one(body)
    assert (alert.status, alert.fingerprint) == (expected, one(sample(CRITICAL)).fingerprint)


def test_volatile_fields_keep_the_fingerprint_and_another_id_is_another_incident() -> None:
    """Message, details, time, duration, data and the previous level never key an incident;
    another alert id (another rule or group) is another incident."""
    first = one(sample(CRITICAL))
    body = sample(CRITICAL) | {
        "message": "renamed", "details": "", "time": "2026-12-06T00:00:00Z", "duration": 1,
        "data": {"series": []}, "previousLevel": "OK", "recoverable": False,
    }  # fmt: skip
    assert one(body).fingerprint == first.fingerprint
    other = sample(CRITICAL) | {"id": "cpu_idle:host=web-2,"}
    assert one(other).fingerprint != first.fingerprint


async def test_the_handlers_test_body_changes_no_ticket_and_logs_one_line() -> None:
    """The handler's test (an empty alert: no id, zero time, level OK) is Skipped as
    `test_notification` with one log line, no ticket and no dead letter."""
    assert recognise_body(json.dumps(TEST_BODY)).format == "kapacitor"
    assert [(s.source, s.reason) for s in run(TEST_BODY).skipped] == [
        ("kapacitor", "test_notification")
    ]
    assert await skipped_reasons(json.dumps(TEST_BODY)) == ["test_notification"]


@pytest.mark.parametrize(
    ("change", "message"),
    [({"level": "PANIC"}, "kapacitor level 'PANIC' is not OK, INFO, WARNING or CRITICAL"),
     ({"level": None}, "kapacitor level null is not"),
     ({"id": "", "level": "CRITICAL"}, r"id is missing or empty"),
     ({"id": None}, r"id is missing or empty")],
)  # fmt: skip
def test_a_malformed_alert_is_refused_naming_the_field(
    change: dict[str, Any], message: str
) -> None:
    """An alert with no id (other than the test body) or a level Kapacitor does not send is
    refused with an InvalidAlertError naming the field, so it reaches the dead-letter queue."""
    with pytest.raises(InvalidAlertError, match=message):
        run(sample(CRITICAL) | change)


def test_a_body_missing_the_handlers_keys_is_not_kapacitor() -> None:
    """Only a body with every key of `alert.Data` is Kapacitor's: a script's alert that has an
    `id`, a `message` and a `level` but a title stays a generic alert."""
    body = {"title": "disk full", "id": "x", "message": "m", "level": "CRITICAL"}
    assert recognise_body(json.dumps(body)).format == "generic"
    partial = {k: v for k, v in sample(CRITICAL).items() if k != "details"}
    assert recognise_body(json.dumps(partial | {"title": "t"})).format == "generic"


def test_hostile_text_is_redacted_downstream() -> None:
    """A secret and markup in the message and details: the redacted view carries no secret
    (title and description are text; each sink escapes them for where they show)."""
    secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    body = sample(CRITICAL) | {
        "message": f"<script>x</script> aws_secret_access_key={secret}",
        "details": f"see postgres://u:hunter2-pw@db/x key={secret}",
    }
    view = redact_alert(one(body), Redactor())
    assert secret not in view.text
    assert "hunter2-pw" not in view.text


@pytest.mark.parametrize("name", [CRITICAL, OK])
def test_every_mutant_gives_bounded_alerts_or_a_clear_permanent_error(name: str) -> None:
    """The fuzzer's check (`test_normalize_fuzz.problem`) on 200 seeded mutants of each sample."""
    failures = mutant_failures(SAMPLES.text(name), f"kapacitor:{name}")
    assert not failures, "\n".join(failures[:10])
