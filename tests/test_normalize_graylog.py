"""Graylog's HTTP Notification (`graylog`): an event of an event definition is one incident
per definition and group-by key, which a later event counts (Graylog sends no resolution),
"Execute Test Notification" changes no ticket, and hostile text is redacted.

Shape: the JSON of EventNotificationModelData and EventDto in Graylog2/graylog2-server
(org/graylog/events/notifications/EventNotificationModelData.java, events/event/EventDto.java;
the field list on go2docs.graylog.org's Notifications page); the test body is what
NotificationTestData.getDummyContext builds (definition id "NotificationTestId").
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from factories import T0
from recording_pipeline import Sink, pipeline_into
from source_samples import Samples, mutant_failures, one, run, skipped_reasons
from triage.errors import InvalidAlertError
from triage.incidents import Action
from triage.models import EffectKind, Status
from triage.normalize import recognise_body
from triage.redact import Redactor
from triage.routes import KNOWN_SOURCES
from triage.sqs.inbox import Message
from triage.view import redact_alert

SAMPLES = Samples("graylog")
EVENT, TEST = "event.json", "test-notification.json"


sample = SAMPLES.body


def with_event(**changes: Any) -> dict[str, Any]:
    body = sample(EVENT)
    body["event"] |= changes
    return body


def test_an_event_is_read_as_graylog() -> None:
    """Format and source `graylog`, keyed by the definition and the event's key, titled by the
    definition, its message, description and remediation steps in the description."""
    recognised = recognise_body(SAMPLES.path(EVENT).read_bytes())
    assert recognised.format == "graylog"
    [alert] = recognised.normalized.alerts
    assert (alert.source, alert.status) == ("graylog", Status.FIRING)
    assert alert.identity == {"definition": "6571c0f4a1b2c3d4e5f60718", "key": "web-1"}
    assert alert.title == "Failed SSH logins"
    assert alert.description.startswith("Failed SSH logins: count()=14.0")
    assert "block the source address" in alert.description
    assert alert.severity == "high"
    assert alert.labels["source"] == "web-1"
    assert alert.occurred_at.isoformat() == "2026-12-05T10:41:00+00:00"
    assert "graylog" in KNOWN_SOURCES


async def test_a_later_event_of_the_definition_and_key_is_counted_not_a_new_ticket() -> None:
    """Through the pipeline: the first event opens a ticket and the next one (another event
    id, message and time) is counted on it; another key opens its own."""
    sink = Sink()
    pipeline = pipeline_into(sink)
    later = with_event(id="01HGZ9", message="Failed SSH logins: count()=30.0",
                       timestamp="2026-12-05T10:42:00.000Z")  # fmt: skip
    other = with_event(key="web-2", key_tuple=["web-2"], group_by_fields={"source": "web-2"})
    actions = []
    for minute, body in enumerate((sample(EVENT), later, other)):
        at = T0 + timedelta(minutes=minute)
        message = Message(f"m-{minute}", json.dumps(body), f"r-{minute}", 1, at, received_at=at)
        actions += [outcome.action for outcome in await pipeline.process(message)]
    assert actions == [Action.OPEN, Action.COUNT, Action.OPEN]
    assert [effect.kind for effect in sink.effects] == [EffectKind.OPEN, EffectKind.OPEN]


def test_volatile_fields_keep_the_fingerprint() -> None:
    """Titles, messages, times, priority, fields and the job's ids never key an incident; an
    event with no key (no group-by) is the definition's one incident."""
    first = one(sample(EVENT))
    body = with_event(id="x", message="m", timestamp="2027-01-01T00:00:00Z", priority=1)
    body |= {"event_definition_title": "renamed", "job_trigger_id": "t", "backlog": [{}]}
    assert one(body).fingerprint == first.fingerprint
    unkeyed = one(with_event(key=None, key_tuple=[]))
    assert unkeyed.identity == {"definition": "6571c0f4a1b2c3d4e5f60718", "key": ""}
    assert one(with_event(key="")).fingerprint == unkeyed.fingerprint != first.fingerprint


async def test_the_test_notification_changes_no_ticket_and_logs_one_line() -> None:
    """ "Execute Test Notification" (definition id NotificationTestId) is Skipped as
    `test_notification` with one log line, no ticket and no dead letter."""
    assert [(s.source, s.reason) for s in run(sample(TEST)).skipped] == [
        ("graylog", "test_notification")
    ]
    assert await skipped_reasons(SAMPLES.text(TEST)) == ["test_notification"]


@pytest.mark.parametrize(
    ("priority", "severity"), [(1, "low"), (2, "normal"), (3, "high"), (7, None), ("x", None)]
)
def test_the_events_priority_is_its_severity(priority: Any, severity: str | None) -> None:
    """Graylog's priorities 1, 2 and 3 read as low, normal and high; any other is no severity,
    and the alert is kept."""
    assert one(with_event(priority=priority)).severity == severity


@pytest.mark.parametrize("definition", [None, "", ["x"]])
def test_an_event_without_its_definitions_id_is_refused(definition: Any) -> None:
    """The definition's id keys every incident: without it the body is refused, naming it."""
    body = sample(EVENT) | {"event_definition_id": definition}
    with pytest.raises(InvalidAlertError, match=r"event_definition_id (is missing|must be text)"):
        run(body)


def test_hostile_text_is_redacted_downstream() -> None:
    """A secret and markup in the definition's title and the event's message: the redacted
    view carries no secret (each sink escapes the text for where it shows)."""
    secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    body = with_event(message=f"see postgres://u:hunter2-pw@db/x key={secret}")
    body["event_definition_title"] = f"<script>x</script> aws_secret_access_key={secret}"
    view = redact_alert(one(body), Redactor())
    assert secret not in view.text
    assert "hunter2-pw" not in view.text


@pytest.mark.parametrize("name", [EVENT, TEST])
def test_every_mutant_gives_bounded_alerts_or_a_clear_permanent_error(name: str) -> None:
    """The fuzzer's check (`test_normalize_fuzz.problem`) on 200 seeded mutants of each sample."""
    failures = mutant_failures(SAMPLES.text(name), f"graylog:{name}")
    assert not failures, "\n".join(failures[:10])
