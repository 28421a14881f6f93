"""The notices Amazon DevOps Guru publishes to the SNS topic of its notification channel (DevOps
Guru User Guide, "Viewing notifications"): an insight opened (`NEW_INSIGHT`), grew
(`NEW_ASSOCIATION`, `NEW_RECOMMENDATION`, `SEVERITY_UPGRADED`) or closed (`CLOSED_INSIGHT`),
and `SELECTED_RESOURCE_FILTER_VALIDATION_FAILURE`: the stacks or tags DevOps Guru was told to
analyse name no resources, so it analyses nothing.

An insight's notice is the object DevOps Guru's EventBridge events carry as their `detail`, and
is read as those are (`aws_findings.guru_insight`): one incident per account, Region and
insight, resolved by its CLOSED_INSIGHT, titled by its `insightName`. Its source is
`eventbridge`, as the events': an insight is one incident whichever way it is delivered, and
a route for DevOps Guru matches both. A notice names its account and Region (the topic's when
it does not); older notices spell their keys in PascalCase (`InsightId`), read alike.

A resource-filter failure fires, keyed by account, Region and the filter's type (Tags,
CloudFormation stacks), never the names it lists, so a filter that keeps failing is one
incident counting repeats; DevOps Guru sends no notice once the filter is fixed.
"""

from __future__ import annotations

from typing import Any

from triage.models import Alert
from triage.normalize import common
from triage.normalize.aws_findings import SOURCE, guru_insight
from triage.normalize.aws_shared import FIRE, Topic, occurred, one, service_labels
from triage.normalize.common import Normalized

#: Each insight notice's `messageType`; CLOSED_INSIGHT resolves.
_CLOSED = "CLOSED_INSIGHT"
_INSIGHT_MESSAGES = frozenset(
    {"NEW_INSIGHT", "NEW_ASSOCIATION", "NEW_RECOMMENDATION", "SEVERITY_UPGRADED", _CLOSED}
)
#: The notice that the channel's resource filter names no resources.
_FILTER_FAILURE = "SELECTED_RESOURCE_FILTER_VALIDATION_FAILURE"
#: The keys whose values are read (their PascalCase spelling, older notices', read alike).
_SOURCE_KEY = "awsInsightSource"
#: At most this many of a failing filter's names are shown.
_NAMES_SHOWN = 20


def matches(payload: dict[str, Any]) -> bool:
    """A DevOps Guru notice: an insight's messageType and insightId, or the resource-filter
    failure (which names DevOps Guru as its `awsInsightSource`)."""
    notice = _camel(payload)
    kind = notice.get("messageType")
    if not isinstance(kind, str):
        return False
    if kind in _INSIGHT_MESSAGES:
        return "insightId" in notice and "accountId" in notice
    return kind == _FILTER_FAILURE and _SOURCE_KEY in notice


def normalize(payload: dict[str, Any], topic: Topic) -> Normalized:
    """One insight's alert, or the resource-filter failure's."""
    notice = _camel(payload)
    account = common.ident_or_none(notice.get("accountId"), "accountId") or topic.account
    region = common.ident_or_none(notice.get("region"), "region") or topic.region
    account = common.ident(account, "accountId")
    if notice.get("messageType") == _FILTER_FAILURE:
        return one(_filter_failure(notice, account, region, topic, payload))
    notice["anomalies"] = [_camel(a) for a in common.items_or_empty(notice.get("anomalies"))]
    labels = service_labels("devops-guru", account, region)
    closed = notice.get("messageType") == _CLOSED
    alert = guru_insight(
        notice, account, region, labels, closed=closed, raw=payload, sent=topic.sent
    )
    return one(alert)


def _filter_failure(
    notice: dict[str, Any], account: str, region: str, topic: Topic, raw: dict[str, Any]
) -> Alert:
    """The channel's resource filter names no resources: DevOps Guru analyses nothing."""
    kind = common.ident_or_none(
        common.unnested(notice.get("resourceFilterType")), "ResourceFilterType"
    )
    names = [
        shown
        for name in common.items_or_empty(notice.get("invalidResourceNames"))[:_NAMES_SHOWN]
        if (shown := common.word(name, "InvalidResourceNames[]"))
    ]
    labels = service_labels("devops-guru", account, region)
    common.add_label(labels, "message_type", _FILTER_FAILURE)
    common.add_label(labels, "resource_filter_type", kind)
    shown_kind = common.word(kind, "ResourceFilterType") or "resource"
    listed = f": {', '.join(names)}" if names else ""
    description = (
        f"DevOps Guru's {shown_kind} filter names no resources{listed}. DevOps Guru analyses "
        "only the resources its filter selects, so it analyses none of these: choose stacks "
        "or tags that have resources, in DevOps Guru's settings (Analyzed resources)."
    )
    return Alert(
        source=SOURCE,
        status=FIRE,
        title=f"DevOps Guru: its {shown_kind} filter selects no resources to analyse",
        severity="warning",
        description=common.text(description, "description", common.DESCRIPTION_MAX) or "",
        labels=labels,
        occurred_at=occurred(topic.sent),
        identity={
            "service": "devops-guru",
            "account": account,
            "region": region,
            "resource_filter": kind or "",
        },
        raw=raw,
    )


def _camel(value: Any) -> dict[str, Any]:
    """An object with each key's first letter lower-case (`InsightId` → `insightId`), the
    spelling kept where both are given; {} for anything but an object."""
    named = common.obj_or_empty(value)
    read = {key[:1].lower() + key[1:]: v for key, v in named.items() if isinstance(key, str)}
    return read | {key: v for key, v in named.items() if isinstance(key, str) and key in read}
