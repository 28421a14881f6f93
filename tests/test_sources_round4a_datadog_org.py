"""Datadog's org read from a flat template ($ORG_ID as `org_id`, $ORG_NAME as `org_name`) as
from the default payload's nested `org` object: it keys the incident and is shown as the labels
`org_id` and `org`, so two orgs' monitors with one id are two incidents."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from triage.errors import InvalidAlertError
from triage.models import Alert
from triage.normalize import normalize_body

PAYLOADS = Path(__file__).parent / "payloads"


def _datadog(**fields: Any) -> Alert:
    """The golden custom Datadog payload, its nested `org` removed, with `fields` set."""
    payload: dict[str, Any] = json.loads(
        (PAYLOADS / "vendors/datadog-custom-triggered.json").read_text()
    )
    del payload["org"]
    payload.update(fields)
    [alert] = normalize_body(json.dumps(payload)).alerts
    return alert


def test_a_flat_org_keys_the_incident_as_the_nested_one_does() -> None:
    """`org_id` and `org_name` give the identity and labels the nested `org` gives."""
    flat = _datadog(org_id="415600", org_name="Example Shop")
    nested = _datadog(org={"id": "415600", "name": "Example Shop"})
    assert flat.identity == nested.identity
    assert flat.identity["org"] == "415600"
    assert flat.fingerprint == nested.fingerprint
    assert flat.labels["org_id"] == "415600"
    assert flat.labels["org"] == "Example Shop"


def test_two_orgs_with_one_monitor_id_are_two_incidents() -> None:
    """The flat org is part of the identity: another org's monitor 18692904 is another incident."""
    assert _datadog(org_id="415600").fingerprint != _datadog(org_id="999999").fingerprint


@pytest.mark.parametrize("given", [415600, 415600.0, " 415600 "], ids=repr)
def test_a_flat_org_id_written_as_a_number_is_the_same_org(given: Any) -> None:
    """An unquoted $ORG_ID (a JSON number) is the same org as the quoted one."""
    assert _datadog(org_id=given).fingerprint == _datadog(org_id="415600").fingerprint


def test_the_nested_org_wins_over_a_flat_one() -> None:
    """When both are sent, the nested `org` keys the incident, so the golden payloads keep theirs."""
    both = _datadog(org={"id": "415600", "name": "Example Shop"}, org_id="1", org_name="Other")
    assert both.identity["org"] == "415600"
    assert both.labels["org"] == "Example Shop"


def test_no_org_at_all_keys_as_before() -> None:
    """A template that sends no org keeps the empty org it always had."""
    assert _datadog().identity["org"] == ""


@pytest.mark.parametrize("given", [{"id": "1"}, ["1"], "", None], ids=repr)
def test_a_flat_org_id_that_is_no_id_is_none(given: Any) -> None:
    """An object, array or blank `org_id` is passed over rather than refusing the alert."""
    assert _datadog(org_id=given).identity["org"] == ""


def test_a_nested_org_id_that_is_no_text_is_still_refused() -> None:
    """The nested `org.id` is identity: an object there is refused naming it, as before."""
    with pytest.raises(InvalidAlertError, match=r"org\.id"):
        _datadog(org={"id": {"a": 1}, "name": "Example Shop"}, org_id="415600")
