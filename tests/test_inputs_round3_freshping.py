"""Freshping's webhook in its flat shape (the check's fields at the top level, as a webhook whose
content is written with Freshping's placeholders sends them) is read as the nested one
(`webhook_event_data`): the same check, state and fingerprint; its values as text or numbers,
an empty text for a field with no value; and a flat body that names no check is refused naming
`check_id`."""

from __future__ import annotations

import json
from typing import Any

import pytest

from source_samples import Samples, one
from triage.errors import InvalidAlertError
from triage.models import Alert, Status
from triage.normalize import freshping, recognise_body
from triage.normalize.common import Normalized

SAMPLES = Samples("freshping")
DOWN, UP, TEST = "unreachable.json", "reachable.json", "test.json"

#: The envelope's own fields, around the check's in the nested shape.
ENVELOPE = ("webhook_id", "webhook_event_id", "webhook_type", "webhook_event_created_on",
            "organization_id", "organization_name")  # fmt: skip


def read(body: dict[str, Any]) -> Normalized:
    """What Freshping's reader makes of `body` (the recogniser offers it only nested bodies
    today: `test_a_flat_body_is_recognised_whole`)."""
    assert freshping.matches(body)
    return freshping.normalize(body)


def alert_of(body: dict[str, Any]) -> Alert:
    """The one alert Freshping's reader makes of `body`."""
    [alert] = read(body).alerts
    return alert


def flat(name: str, *, envelope: bool = True, **changes: Any) -> dict[str, Any]:
    """Sample `name` with the check's fields at the top level (the envelope's beside them when
    `envelope`), `changes` applied."""
    nested = SAMPLES.body(name)
    body = dict(nested.pop("webhook_event_data"))
    if envelope:
        body |= {key: value for key, value in nested.items() if key in ENVELOPE}
    return body | changes


@pytest.mark.parametrize("envelope", [True, False], ids=["with-envelope", "fields-alone"])
def test_a_flat_body_is_the_same_alert_as_the_nested_one(envelope: bool) -> None:
    """Flat, with or without the webhook's ids: recognised as Freshping, and the alert's
    status, title, identity, fingerprint, link and labels are the nested body's."""
    body = flat(DOWN, envelope=envelope)
    got, expected = alert_of(body), one(SAMPLES.body(DOWN))
    assert (got.source, got.status, got.title) == ("freshping", Status.FIRING, expected.title)
    assert got.fingerprint == expected.fingerprint
    assert (got.links, got.labels) == (expected.links, expected.labels)
    assert got.occurred_at == expected.occurred_at


def test_a_flat_recovery_resolves_the_same_incident() -> None:
    """Available, flat, resolves the incident its flat (or nested) trigger opened."""
    recovered = alert_of(flat(UP))
    assert recovered.status is Status.RESOLVED
    assert recovered.fingerprint == one(SAMPLES.body(DOWN)).fingerprint


def test_placeholders_filled_as_text_read_as_numbers_and_blanks_as_absent() -> None:
    """Ids and codes as text ("585767", "521") key and read as the numbers do; an empty text
    for the status code (a check with no answer) is no code, not a crash or "HTTP status ''"."""
    as_text = alert_of(flat(DOWN, check_id="585767", http_status_code="521"))
    assert as_text.fingerprint == one(SAMPLES.body(DOWN)).fingerprint
    assert as_text.labels["http_status_code"] == "521"
    blank = alert_of(flat(DOWN, check_state_name="Not Responding", http_status_code=""))
    assert "http_status_code" not in blank.labels
    assert "HTTP status" not in blank.description


def test_the_flat_webhook_test_changes_no_ticket() -> None:
    """Freshping's test message, flat, is Skipped as `test_notification`."""
    assert [s.reason for s in read(flat(TEST)).skipped] == ["test_notification"]


@pytest.mark.parametrize("check_id", [None, ""])
def test_a_flat_body_naming_no_check_is_refused_naming_check_id(check_id: Any) -> None:
    """A flat state with no check id is an InvalidAlertError naming `check_id` (the field as
    the body has it), for the DLQ."""
    with pytest.raises(InvalidAlertError, match=r"^check_id is missing or empty"):
        read(flat(DOWN, check_id=check_id))


def test_a_script_alert_with_a_title_is_not_taken_for_freshping() -> None:
    """A generic alert (it has a title) that happens to carry a `check_state_name` stays a
    generic alert."""
    assert not freshping.matches({"title": "disk", "check_state_name": "Reporting Error"})


def test_a_flat_body_is_recognised_whole() -> None:
    """The whole recogniser reads a flat body as format `freshping`."""
    assert recognise_body(json.dumps(flat(DOWN))).format == "freshping"
