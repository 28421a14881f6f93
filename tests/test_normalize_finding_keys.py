"""A GuardDuty, Inspector or Macie finding reaches EventBridge twice: as its own service's event and as
the finding Security Hub imported (ASFF, and OCSF in "Findings Imported V2"). Both are keyed on
the service's own finding id, so one finding is one incident, and Security Hub closing it
resolves that incident.

Samples (tests/payloads/eventbridge/), shaped as AWS documents them:
- securityhub-guardduty-finding.json: the "Security Hub Findings - Imported" event
  (docs.aws.amazon.com/securityhub/latest/userguide/securityhub-cwe-event-formats.html) holding
  the ASFF finding GuardDuty sends (docs.aws.amazon.com/guardduty/latest/ug/
  securityhub-integration.html): `Id` the finding's ARN, `ProductArn` …/product/aws/guardduty,
  `ProductFields` aws/guardduty/service/…, as `aws securityhub get-findings` shows a GuardDuty
  sample finding; the finding of eventbridge/guardduty-finding.json.
- securityhub-v2-guardduty-finding.json: the "Findings Imported V2" event
  (docs.aws.amazon.com/securityhub/latest/userguide/securityhub-v2-cwe-event-formats.html)
  holding the OCSF Detection Finding Security Hub makes of it (attributes:
  …/userguide/security-hub-adv-ocsf-findings.html), as public captures of a GuardDuty one show
  it: `finding_info.uid` the finding's ARN, `uid_alt` its id, `metadata.product.uid`
  …/productv2/aws/guardduty.
- securityhub-inspector-finding.json: the ASFF finding Amazon Inspector sends, `Id` the
  finding's ARN (its `findingArn`), `ProductArn` …/product/aws/inspector, as the ASFF
  `RiskAssessment` example of the Security Hub User Guide names Inspector findings; the finding
  of aws/inspector2-finding-sns.json.
- securityhub-macie-finding.json and securityhub-v2-macie-finding.json: the finding of
  aws/macie-finding-sns.json as Security Hub imports it from Macie (docs.aws.amazon.com/macie/
  latest/user/securityhub-integration.html): `ProductArn` …/product/aws/macie (OCSF
  `metadata.product.uid` …/productv2/aws/macie), `Id` (OCSF `finding_info.uid`) Macie's own
  finding id, no ARN, as public Security Hub integrations that handle Macie findings key them;
  `Region` (OCSF `cloud.region`) the finding's Region.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from source_samples import Samples, one, run
from triage.models import Status

EVENTS = Samples("eventbridge")


def _inspector_event() -> dict[str, Any]:
    """The Inspector finding's own EventBridge event, out of its SNS envelope."""
    value: dict[str, Any] = json.loads(
        Samples("aws").body("inspector2-finding-sns.json")["Message"]
    )
    return value


@pytest.mark.parametrize(
    "imported", ["securityhub-guardduty-finding.json", "securityhub-v2-guardduty-finding.json"]
)
def test_a_guardduty_finding_imported_by_security_hub_is_the_findings_incident(
    imported: str,
) -> None:
    """GuardDuty's own event and Security Hub's copy of its finding share one fingerprint."""
    native = one(EVENTS.body("guardduty-finding.json"))
    assert one(EVENTS.body(imported)).fingerprint == native.fingerprint


def test_an_inspector_finding_imported_by_security_hub_is_the_findings_incident() -> None:
    """Inspector's own event and Security Hub's copy of its finding share one fingerprint."""
    native = one(_inspector_event())
    assert one(EVENTS.body("securityhub-inspector-finding.json")).fingerprint == native.fingerprint


def test_security_hub_archiving_a_guardduty_finding_resolves_its_incident() -> None:
    """The imported finding archived is the GuardDuty incident resolved."""
    body = EVENTS.body("securityhub-guardduty-finding.json")
    body["detail"]["findings"][0]["RecordState"] = "ARCHIVED"
    closed = one(body)
    assert closed.status is Status.RESOLVED
    assert closed.fingerprint == one(EVENTS.body("guardduty-finding.json")).fingerprint


def test_another_guardduty_finding_is_another_incident() -> None:
    """Keyed on the finding id: a second GuardDuty finding imported is not the first's incident."""
    body = EVENTS.body("securityhub-guardduty-finding.json")
    finding = body["detail"]["findings"][0]
    finding["Id"] = finding["Id"].replace("16afba5c", "26afba5c")
    assert one(body).fingerprint != one(EVENTS.body("guardduty-finding.json")).fingerprint


def test_a_guardduty_shaped_id_from_another_product_keeps_security_hubs_key() -> None:
    """A partner product's finding whose Id looks like a GuardDuty finding ARN keeps Security
    Hub's identity (account + Id): it cannot join, or close, GuardDuty's incident."""
    body = EVENTS.body("securityhub-guardduty-finding.json")
    finding = body["detail"]["findings"][0]
    finding["ProductArn"] = (
        "arn:aws:securityhub:us-east-1:123456789012:product/123456789012/default"
    )
    assert one(body).identity == {"account": "123456789012", "finding": finding["Id"]}


def test_a_security_hub_control_finding_keeps_its_own_key() -> None:
    """A finding of no service triage reads natively keeps account + Id, as before."""
    body = EVENTS.body("securityhub-findings.json")
    finding = body["detail"]["findings"][0]
    assert run(body).alerts[0].identity == {
        "account": finding["AwsAccountId"],
        "finding": finding["Id"],
    }


def test_a_guardduty_ocsf_finding_with_an_id_that_is_no_arn_keeps_security_hubs_key() -> None:
    """An OCSF GuardDuty finding whose uid is not a GuardDuty finding ARN keeps its uid as key."""
    body = EVENTS.body("securityhub-v2-guardduty-finding.json")
    body["detail"]["findings"][0]["finding_info"]["uid"] = "not-an-arn"
    assert run(body).alerts[0].identity == {"account": "123456789012", "finding": "not-an-arn"}


@pytest.mark.parametrize(
    "imported", ["securityhub-guardduty-finding.json", "securityhub-v2-guardduty-finding.json"]
)
def test_an_administrator_accounts_copies_of_a_member_finding_are_one_incident(
    imported: str,
) -> None:
    """In an administrator account, which receives its members' findings, GuardDuty's event and
    Security Hub's copy are keyed on the account that received them, as GuardDuty's own event
    is, so they are one incident there too."""
    admin = "999999999999"
    native = EVENTS.body("guardduty-finding.json") | {"account": admin}
    copy = EVENTS.body(imported) | {"account": admin}
    assert one(copy).fingerprint == one(native).fingerprint


def _macie_event() -> dict[str, Any]:
    """The Macie finding's own EventBridge event, out of its SNS envelope."""
    value: dict[str, Any] = json.loads(Samples("aws").body("macie-finding-sns.json")["Message"])
    return value


MACIE_COPIES = ["securityhub-macie-finding.json", "securityhub-v2-macie-finding.json"]


def _macie_copy(imported: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """A Security Hub copy of the Macie finding, and its one finding (ASFF or OCSF)."""
    body = EVENTS.body(imported)
    return body, body["detail"]["findings"][0]


@pytest.mark.parametrize("imported", MACIE_COPIES)
def test_a_macie_finding_imported_by_security_hub_is_the_findings_incident(
    imported: str,
) -> None:
    """Macie's own event and Security Hub's copy of its finding (ASFF or OCSF) share one
    fingerprint: one finding, one ticket."""
    assert one(EVENTS.body(imported)).fingerprint == one(_macie_event()).fingerprint


@pytest.mark.parametrize("imported", MACIE_COPIES)
def test_security_hub_closing_a_macie_finding_resolves_its_incident(imported: str) -> None:
    """The imported Macie finding archived (ASFF) or resolved (OCSF) resolves Macie's incident."""
    body, finding = _macie_copy(imported)
    if "RecordState" in finding:
        finding["RecordState"] = "ARCHIVED"
    else:
        finding["status"], finding["status_id"] = "Resolved", 4
    closed = one(body)
    assert closed.status is Status.RESOLVED
    assert closed.fingerprint == one(_macie_event()).fingerprint


@pytest.mark.parametrize("imported", MACIE_COPIES)
def test_a_macie_finding_aggregated_into_another_region_is_still_its_incident(
    imported: str,
) -> None:
    """Cross-Region aggregation sends the copy from the aggregation Region; the finding's own
    Region (ASFF `Region`, OCSF `cloud.region`) keys it, as Macie's event is."""
    body = EVENTS.body(imported) | {"region": "eu-west-1"}
    assert one(body).fingerprint == one(_macie_event()).fingerprint


@pytest.mark.parametrize("imported", MACIE_COPIES)
def test_another_macie_finding_is_another_incident(imported: str) -> None:
    """Keyed on Macie's finding id: another finding imported is not the first's incident."""
    body, finding = _macie_copy(imported)
    if "Id" in finding:
        finding["Id"] = "7c0e0d41-1a2b-4c3d-8e9f-0a1b2c3d4e5f"
    else:
        finding["finding_info"]["uid"] = "7c0e0d41-1a2b-4c3d-8e9f-0a1b2c3d4e5f"
    assert one(body).fingerprint != one(_macie_event()).fingerprint


@pytest.mark.parametrize(
    ("imported", "product"),
    [
        (
            MACIE_COPIES[0],
            "arn:aws:securityhub:us-east-1:123456789012:product/123456789012/default",
        ),
        (MACIE_COPIES[1], "arn:aws:securityhub:us-east-1::productv2/aws/guardduty"),
        (MACIE_COPIES[0], None),
    ],
)
def test_a_macie_shaped_id_of_another_or_no_product_keeps_security_hubs_key(
    imported: str, product: str | None
) -> None:
    """A Macie finding id is no ARN, so only the product ARN naming Macie makes it Macie's:
    another product's finding, or one naming none, keeps Security Hub's key (account + id)."""
    body, finding = _macie_copy(imported)
    if "ProductArn" in finding:
        finding["ProductArn"] = product
    else:
        finding["metadata"]["product"]["uid"] = product
    assert one(body).identity == {
        "account": "123456789012",
        "finding": "64b917aa-3843-014c-91d8-937ff2c9a001",
    }
