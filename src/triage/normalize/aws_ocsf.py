"""Security Hub's findings in OCSF, what its "Findings Imported V2" events carry (one finding an
event, under `detail.findings`, as the CSPM events' ASFF findings are). Read by `eventbridge`
beside the ASFF reader, one incident per finding:

| field | read from |
|---|---|
| identity | the account (`cloud.account.uid`, else the event's) + `finding_info.uid`; a GuardDuty or Inspector finding: its service's own key (`aws_finding_keys`) |
| resolved when | `status` (or `status_id`) Suppressed, Resolved, Archived or Deleted, or the control's `compliance.status` Pass |
| title, description | `finding_info.title`, `finding_info.desc` (and `remediation.desc`) |
| severity | `severity`, else the name of its `severity_id` |
| runbook | the first link of `remediation.references` |
| team | a `team` tag of a resource (`resources[].tags`, name/value pairs) |

Only `finding_info.uid` can refuse a finding; every other field of an odd type is passed over.
"""

from __future__ import annotations

from itertools import islice
from typing import Any

from triage.models import Alert, Status
from triage.normalize import aws_finding_keys, common
from triage.normalize.aws_shared import occurred, team_tag

#: Where an event's findings say they are OCSF (ASFF's hold `Id`, not this object).
MARKER = "finding_info"
#: OCSF's finding statuses that end it, by name and by id.
_CLOSED_STATUSES = frozenset({"suppressed", "resolved", "archived", "deleted"})
_CLOSED_STATUS_IDS = frozenset({3, 4, 5, 6})
#: OCSF's severity ids, named as its `severity` field names them.
_SEVERITY_NAMES = {
    0: "Unknown",
    1: "Informational",
    2: "Low",
    3: "Medium",
    4: "High",
    5: "Critical",
    6: "Fatal",
}
#: At most this many of a finding's resources are shown.
_SHOWN_RESOURCES = 20


def is_ocsf(finding: dict[str, Any]) -> bool:
    """Whether a Security Hub finding is in OCSF rather than ASFF."""
    return MARKER in finding


def finding(
    payload: dict[str, Any],
    item: dict[str, Any],
    account: str,
    labels: dict[str, str],
    where: str,
) -> Alert:
    """One OCSF finding of a Security Hub event; `labels` are its event's envelope labels."""
    info = common.obj_or_empty(item.get(MARKER))
    uid = common.ident(info.get("uid"), f"{where}.{MARKER}.uid")
    cloud = common.obj_or_empty(item.get("cloud"))
    owner = (
        common.ident_or_none(
            common.unnested(common.obj_or_empty(cloud.get("account")).get("uid")),
            f"{where}.cloud.account.uid",
        )
        or account
    )
    compliance = common.obj_or_empty(item.get("compliance"))
    remediation = common.obj_or_empty(item.get("remediation"))
    resources = [common.obj_or_empty(r) for r in common.items_or_empty(item.get("resources"))]
    shown = [rid for r in resources if (rid := common.word(r.get("uid"), "resources[].uid"))]
    shown = shown[:_SHOWN_RESOURCES]
    product = common.obj_or_empty(common.obj_or_empty(item.get("metadata")).get("product"))
    common.add_label(labels, "account", owner)
    common.add_label(labels, "product", common.unnested(product.get("name")))
    common.add_label(labels, "compliance", common.unnested(compliance.get("status")))
    common.add_label(labels, "control", common.unnested(compliance.get("control")))
    common.add_label(labels, "finding_status", common.unnested(item.get("status")))
    # Each whole, not `shown`'s (`word`'s): the label keeps what routes and groups read.
    whole = (common.whole_word(r.get("uid"), "resources[].uid") for r in resources)
    common.add_label(labels, "resources", ", ".join(islice(filter(None, whole), _SHOWN_RESOURCES)))
    body = [
        common.text(info.get("desc"), f"{where}.{MARKER}.desc"),
        common.text(remediation.get("desc"), f"{where}.remediation.desc"),
        "Affected: " + ", ".join(shown) if shown else None,
    ]
    return Alert(
        source="eventbridge",
        status=Status.RESOLVED if _closed(item, compliance) else Status.FIRING,
        title=common.first_title(
            info.get("title"), f"Security Hub finding {uid}", field=f"{where}.{MARKER}.title"
        ),
        team=team_tag(*(_named_tags(r.get("tags")) for r in resources)),
        severity=_severity(item),
        description=common.text(
            "\n\n".join(part for part in body if part), where, common.DESCRIPTION_MAX
        )
        or "",
        runbook_url=_first_link(remediation.get("references")),
        labels=labels,
        occurred_at=occurred(
            info.get("modified_time_dt"), item.get("time_dt"), payload.get("time")
        ),
        identity=aws_finding_keys.native_identity(
            uid,
            product.get("uid"),
            account,
            common.word(cloud.get("region"), f"{where}.cloud.region")
            or common.word(payload.get("region"), "region"),
        )
        or {"account": owner, "finding": uid},
        raw={**{key: value for key, value in payload.items() if key != "detail"}, "finding": item},
    )


def _closed(item: dict[str, Any], compliance: dict[str, Any]) -> bool:
    status = item.get("status")
    status_id = common.whole(item.get("status_id"))
    passed = compliance.get("status")
    return (
        (isinstance(status, str) and status.strip().lower() in _CLOSED_STATUSES)
        or (isinstance(status_id, int) and status_id in _CLOSED_STATUS_IDS)
        or (isinstance(passed, str) and passed.strip().lower() == "pass")
    )


def _severity(item: dict[str, Any]) -> str | None:
    named = common.word(common.unnested(item.get("severity")), "severity")
    if named:
        return named
    severity_id = common.whole(item.get("severity_id"))
    return _SEVERITY_NAMES.get(severity_id) if isinstance(severity_id, int) else None


def _named_tags(value: Any) -> dict[str, Any]:
    """OCSF's resource tags, [{"name": …, "value": …}], as one object."""
    pairs = [common.obj_or_empty(tag) for tag in common.items_or_empty(value)]
    return {p["name"]: p.get("value") for p in pairs if isinstance(p.get("name"), str)}


def _first_link(value: Any) -> str | None:
    links = (common.url(ref, "remediation.references[]") for ref in common.items_or_empty(value))
    return next((link for link in links if link), None)
