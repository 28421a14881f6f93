"""Sources, round 21 (helper 550): shapes AWS teams send that earlier rounds read wrong. Each
body must be ticketed right (title, state, a resolve closing its firing), skipped with a
reason, or refused clearly: never a wrong incident."""

from __future__ import annotations

import copy
import json
from typing import Any

from triage.models import Alert, Status
from triage.normalize import normalize_body


def _one(body: dict[str, Any]) -> Alert:
    """The one alert `body` gives."""
    [alert] = normalize_body(json.dumps(body)).alerts
    return alert


# --- Trusted Advisor check items with no resource_id ------------------------------------------


def _check_item(check: str, status: str, details: dict[str, Any], resource: str = "") -> Any:
    """A Trusted Advisor check item refreshed, as EventBridge delivers it (the shape of the
    EventBridge events reference's example: `resource_id` empty for an item that is no AWS
    resource, its facts in `check-item-detail`)."""
    return {
        "version": "0",
        "id": "1234abcd-ab12-123a-123a-1234567890ab",
        "detail-type": "Trusted Advisor Check Item Refresh Notification",
        "source": "aws.trustedadvisor",
        "account": "123456789012",
        "time": "2026-12-01T20:07:49Z",
        "region": "us-east-1",
        "resources": [],
        "detail": {
            "check-name": check,
            "check-item-detail": details,
            "status": status,
            "resource_id": resource,
            "uuid": "aa12345f-55c7-498e-b7ac-123456781234",
        },
    }


def _limit(service: str, limit: str, usage: str, status: str = "WARN") -> Any:
    """A Service Limits check item: one quota of one service in one Region."""
    details = {
        "Status": "Yellow" if status == "WARN" else "Green",
        "Current Usage": usage,
        "Limit Name": limit,
        "Region": "us-west-2",
        "Service": service,
        "Limit Amount": "20",
    }
    return _check_item("Service Limits", status, details)


def _exposed_key(key_id: str, user: str, status: str = "ERROR") -> Any:
    """An Exposed Access Keys check item: one access key found in public."""
    details = {
        "Case ID": "02648f3b-e0f8-4d9c-8d2c-b5e5b9d2d9e9",
        "Usage (USD per Hour)": "0",
        "User Name (IAM or Root)": user,
        "Deadline": "1440453299248",
        "Access Key ID": key_id,
        "Time Updated": "1440021299248",
        "Fraud Type": "Exposed",
        "Location": "www.example.com",
    }
    return _check_item("Exposed Access Keys", status, details)


def test_two_service_limits_of_one_check_are_two_incidents() -> None:
    """Two quotas the Service Limits check flags (no `resource_id`) are two incidents, each
    titled by its quota, not one incident whose second quota is only counted."""
    vpcs = _one(_limit("VPC", "VPCs", "4"))
    eips = _one(_limit("EC2", "EC2-VPC Elastic IP Address", "5"))
    assert vpcs.fingerprint != eips.fingerprint
    assert "VPCs" in vpcs.title and "Elastic IP" in eips.title


def test_a_service_limit_s_refresh_and_its_ok_are_its_own_incident() -> None:
    """A quota's later refresh (its usage moved) and its OK share its fingerprint: the usage
    and colour it measures are no part of what the item is."""
    first = _one(_limit("VPC", "VPCs", "4"))
    later = _one(_limit("VPC", "VPCs", "5"))
    ok = _one(_limit("VPC", "VPCs", "1", status="OK"))
    assert first.fingerprint == later.fingerprint == ok.fingerprint
    assert ok.status is Status.RESOLVED


def test_two_exposed_keys_are_two_incidents_and_each_closes_its_own() -> None:
    """Two exposed access keys are two incidents; the first key's OK resolves the first's,
    whatever its support case and times."""
    one = _one(_exposed_key("AKIAIOSFODNN7EXAMPLE", "deploy"))
    two = _one(_exposed_key("AKIAI44QH8DHBEXAMPLE", "ci"))
    assert one.fingerprint != two.fingerprint
    closing = _exposed_key("AKIAIOSFODNN7EXAMPLE", "deploy", status="OK")
    closing["detail"]["check-item-detail"]["Case ID"] = "another-case"
    closing["detail"]["check-item-detail"]["Time Updated"] = "1440021399999"
    assert _one(closing).fingerprint == one.fingerprint


def test_the_order_of_an_item_s_details_does_not_key_it() -> None:
    """The same item with its details written in another order is the same incident."""
    body = _limit("VPC", "VPCs", "4")
    shuffled = copy.deepcopy(body)
    details = shuffled["detail"]["check-item-detail"]
    shuffled["detail"]["check-item-detail"] = dict(reversed(list(details.items())))
    assert _one(body).fingerprint == _one(shuffled).fingerprint


def test_an_item_with_a_resource_id_keeps_its_incident() -> None:
    """An item with a `resource_id` is keyed as before (its details add nothing), so its open
    ticket is not orphaned by an upgrade."""
    arn = "arn:aws:ec2:us-west-2:123456789012:instance/i-b6218518"
    alert = _one(_check_item("Low Utilization Amazon EC2 Instances", "WARN", {"Region": "x"}, arn))
    assert alert.identity == {
        "service": "trustedadvisor",
        "account": "123456789012",
        "check": "Low Utilization Amazon EC2 Instances",
        "resource": arn,
    }
