"""Webhook variants of the monitoring tools read beside Freshping and Datadog that a template
writes its own way: a boolean sent as text (Honeycomb's `is_test` as "true" from a custom
payload template), a number sent as text (Uptime Kuma's heartbeat status as "0" from a custom
body). Each is read as the JSON value would be; a word that is none of them is still refused or
passed over as before."""

from __future__ import annotations

from typing import Any

import pytest

from source_samples import Samples, one, run
from triage.errors import InvalidAlertError
from triage.models import Status

TOOLS = Samples("tools")
VENDORS = Samples("vendors")


@pytest.mark.parametrize("flag", [True, "true", "True", " TRUE "])
def test_a_honeycomb_test_flagged_in_text_is_a_test(flag: Any) -> None:
    """`is_test` as JSON true or as the text "true" (any case) is Honeycomb's test
    notification: Skipped, no ticket (the text made a ticket before)."""
    body = TOOLS.body("honeycomb-test.json") | {"is_test": flag}
    normalized = run(body)
    assert normalized.alerts == ()
    assert [s.reason for s in normalized.skipped] == ["test_notification"]


@pytest.mark.parametrize("flag", [False, "false", "", None, "yes please", 1])
def test_a_honeycomb_trigger_not_flagged_a_test_makes_its_alert(flag: Any) -> None:
    """`is_test` false, "false", blank, absent or any other value is no test: the trigger is
    read as it always was."""
    body = TOOLS.body("honeycomb-triggered.json") | {"is_test": flag}
    assert one(body).status is Status.FIRING


@pytest.mark.parametrize(
    ("code", "status"),
    [("0", Status.FIRING), (" 1 ", Status.RESOLVED), (0.0, Status.FIRING)],
)
def test_an_uptime_kuma_status_sent_as_digits_is_that_status(code: Any, status: Status) -> None:
    """A heartbeat status of "0" or "1" (a custom body's `{{ heartbeatJSON.status }}` in
    quotes) is down or up as 0 or 1 is, and keys the same incident."""
    body = VENDORS.body("uptimekuma-down.json")
    expected = one(body)
    body["heartbeat"] = dict(body["heartbeat"], status=code)
    got = one(body)
    assert got.status is status
    assert got.fingerprint == expected.fingerprint


@pytest.mark.parametrize("code", ["2", "3"])
def test_an_uptime_kuma_pending_or_maintenance_in_digits_changes_no_ticket(code: str) -> None:
    """ "2" (pending) and "3" (maintenance) change no ticket, as 2 and 3 do."""
    body = VENDORS.body("uptimekuma-down.json")
    body["heartbeat"] = dict(body["heartbeat"], status=code)
    assert [s.reason for s in run(body).skipped] == ["no_state_change"]


@pytest.mark.parametrize("code", ["", "4", "-1", "0x0", "²", "1.5"])
def test_an_uptime_kuma_status_of_other_text_is_still_refused(code: str) -> None:
    """Text that is no status digit (blank, 4, a sign, hex, another script's digit, a
    fraction) is refused naming `heartbeat.status`, for the DLQ."""
    body = VENDORS.body("uptimekuma-down.json")
    body["heartbeat"] = dict(body["heartbeat"], status=code)
    with pytest.raises(InvalidAlertError, match=r"heartbeat\.status"):
        run(body)
