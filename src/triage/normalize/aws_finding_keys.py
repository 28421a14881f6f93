"""The incident key of a finding Security Hub imported from GuardDuty, Amazon Inspector or
Amazon Macie: the identity that service's own EventBridge event gives the finding (`eventbridge`,
`aws_findings`),
so a finding a rule receives both ways, as its service's event and as Security Hub's (ASFF or
OCSF), is one incident, which Security Hub archiving or resolving it closes.

| the finding's id (ASFF `Id`, OCSF `finding_info.uid`) | identity |
|---|---|
| a GuardDuty finding's ARN, arn:aws:guardduty:REGION:ACCOUNT:detector/D/finding/ID | account + region + finding (ID), as `GuardDuty Finding` |
| an Inspector finding's ARN, arn:aws:inspector2:REGION:ACCOUNT:finding/ID | service inspector2 + account + region + finding (the ARN), as `Inspector2 Finding` |
| Macie's finding id (no ARN), its product ARN naming Macie | service macie + account + region + finding (the id), as `Macie Finding` |

The account is the event's (the account that received it), as the service's own event is keyed,
so an administrator account's copies of a member's finding are one incident too; the Region is
the ARN's (the finding's), which Security Hub's cross-Region aggregation does not change. A Macie
finding's id is no ARN: its Region is the finding's (ASFF `Region`, OCSF `cloud.region`), and
only a product ARN naming Macie makes it Macie's (an id proves nothing of its product).

The ARN's service says which product made the finding, unless the finding's product ARN (ASFF
`ProductArn`, OCSF `metadata.product.uid`) is another product's: a partner's finding whose id
merely looks like GuardDuty's keeps Security Hub's own key (account + id), as every other
finding does. A product ARN that is no product ARN at all (missing, mistyped) is passed over,
as any display field is.
"""

from __future__ import annotations

import re
from typing import Any

#: A GuardDuty finding's ARN (any partition), what Security Hub uses as its id.
_GUARDDUTY_ARN = re.compile(
    r"arn:aws[a-z-]*:guardduty:(?P<region>[a-z0-9-]+):\d{12}"
    r":detector/[^/\s]+/finding/(?P<finding>[^/\s]+)"
)
#: An Amazon Inspector (v2) finding's ARN, its `findingArn`.
_INSPECTOR_ARN = re.compile(
    r"arn:aws[a-z-]*:inspector2:(?P<region>[a-z0-9-]+):\d{12}:finding/[^/\s]+"
)
#: A Macie finding's id as its event's `detail.id` and Security Hub's copy carry it: no ARN, no
#: path, so no other product's ARN-shaped id is read as one.
_MACIE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,1023}")
#: A product's ARN as Security Hub writes it: …::product/COMPANY/NAME (…::productv2/… for
#: OCSF findings), AWS's own services under the company `aws`.
_PRODUCT_ARN = re.compile(
    r"arn:aws[a-z-]*:securityhub:[a-z0-9-]*:\d{0,12}"
    r":product(?:v2)?/(?P<company>[^/\s]+)/(?P<name>[^/\s]+)"
)


def native_identity(
    finding_id: str, product_arn: Any, account: str, region: str | None
) -> dict[str, str] | None:
    """The identity the finding's own service gives the finding `finding_id` (in `region`, as
    the finding says) in an event that `account` received, or None when the id is not a
    GuardDuty or Inspector finding ARN nor a Macie finding's id, or another product reported
    it."""
    if (arn := _GUARDDUTY_ARN.fullmatch(finding_id)) and _may_be(product_arn, "guardduty"):
        return {"account": account, "region": arn["region"], "finding": arn["finding"]}
    if (arn := _INSPECTOR_ARN.fullmatch(finding_id)) and _may_be(product_arn, "inspector"):
        return {
            "service": "inspector2",
            "account": account,
            "region": arn["region"],
            "finding": finding_id,
        }
    if _MACIE_ID.fullmatch(finding_id) and region and _names(product_arn, "macie"):
        return {"service": "macie", "account": account, "region": region, "finding": finding_id}
    return None


def _may_be(product_arn: Any, service: str) -> bool:
    """Whether the finding's product ARN leaves it to be AWS's `service`: it names that
    service, or it is no product ARN at all."""
    named = _product(product_arn)
    return named is None or named == ("aws", service)


def _names(product_arn: Any, service: str) -> bool:
    """Whether the finding's product ARN is AWS's `service`'s."""
    return _product(product_arn) == ("aws", service)


def _product(product_arn: Any) -> tuple[str, str] | None:
    """The company and (lower-case) product a product ARN names, or None if it is none."""
    named = _PRODUCT_ARN.fullmatch(product_arn.strip()) if isinstance(product_arn, str) else None
    return (named["company"], named["name"].lower()) if named else None
