"""Alert sources, round 12 (helper 414): alerts real senders send that triage read wrongly,
built from the tools' documented payloads, each with the behaviour its fix must keep."""

from __future__ import annotations

import json
from typing import Any

import pytest

from triage.models import Alert, Status
from triage.normalize import normalize_body
from triage.normalize.common import Normalized


def _read(body: dict[str, Any]) -> Normalized:
    """What `body` becomes."""
    return normalize_body(json.dumps(body))


def _only(body: dict[str, Any]) -> Alert:
    """The one alert `body` becomes."""
    [alert] = _read(body).alerts
    return alert


def _skip_reasons(body: dict[str, Any]) -> list[str]:
    """Why `body` changes no ticket: its skips' reasons, and no alert."""
    normalized = _read(body)
    assert normalized.alerts == ()
    return [skip.reason for skip in normalized.skipped]


# --- inspector2: a resource's scan coverage coming back resolves, not fires -------------------

#: Amazon Inspector's "Inspector2 Coverage" event (EventBridge, source aws.inspector2): the
#: resource in `resources`, its coverage in `detail.scanStatus` (statusCodeValue ACTIVE or
#: INACTIVE, and a reason from the API's ScanStatusReason: SUCCESSFUL, UNMANAGED_EC2_INSTANCE …).

_INSTANCE = "i-0c2a343f1948d5205"
_FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:orders-api"


def _coverage(
    code: str, reason: str, resource: str = _INSTANCE, scan_type: str = "PACKAGE"
) -> dict[str, Any]:
    """An Inspector2 Coverage event for `resource`, as Amazon Inspector sends it."""
    return {
        "version": "0",
        "id": "000adda5-0fbf-913e-bc0b-1234EXAMPLE",
        "detail-type": "Inspector2 Coverage",
        "source": "aws.inspector2",
        "account": "123456789012",
        "time": "2026-12-06T09:46:15Z",
        "region": "us-east-1",
        "resources": [resource],
        "detail": {
            "scanStatus": {"reason": reason, "statusCodeValue": code},
            "scanType": scan_type,
            "eventTimestamp": "2026-12-06T09:46:15.385Z",
            "versionId": "1.0",
        },
    }


def test_an_instance_no_longer_scanned_fires_and_its_return_resolves() -> None:
    """Inspector losing an instance (not managed by SSM) fires; the same instance scanned
    again (ACTIVE, SUCCESSFUL) resolves that incident rather than opening one of its own."""
    lost = _only(_coverage("INACTIVE", "UNMANAGED_EC2_INSTANCE"))
    back = _only(_coverage("ACTIVE", "SUCCESSFUL"))
    assert (lost.status, back.status) == (Status.FIRING, Status.RESOLVED)
    assert lost.identity == back.identity
    assert lost.title.endswith("UNMANAGED_EC2_INSTANCE")


@pytest.mark.parametrize("reason", ["RESOURCE_TERMINATED", "EXCLUDED_BY_TAG"])
def test_coverage_ended_on_purpose_resolves(reason: str) -> None:
    """A resource no longer scanned because it is gone, or because someone excluded it by
    tag, is no problem to fix: it resolves (nothing later would close an open incident)."""
    assert _only(_coverage("INACTIVE", reason)).status is Status.RESOLVED


def test_a_stopped_instance_changes_no_ticket() -> None:
    """An instance that was stopped is not scanned until it runs again: no ticket change."""
    assert _skip_reasons(_coverage("INACTIVE", "EC2_INSTANCE_STOPPED")) == ["no_state_change"]


def test_a_functions_code_scan_and_package_scan_are_two_incidents() -> None:
    """A Lambda function's code scanning (CODE) that stopped is not closed by its package
    scanning (PACKAGE) being active: each scan type is its own coverage."""
    code = _only(_coverage("INACTIVE", "UNSUPPORTED_RUNTIME", _FUNCTION, "CODE"))
    package = _only(_coverage("ACTIVE", "SUCCESSFUL", _FUNCTION, "PACKAGE"))
    assert code.status is Status.FIRING
    assert code.identity != package.identity
