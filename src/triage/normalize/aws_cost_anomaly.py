"""An anomaly AWS Cost Anomaly Detection found: its SNS notice (JSON, read by `aws_notices`) or
its EventBridge event (`aws.ce` / `Anomaly Detected`, read by `eventbridge`; its `detail` is
the notice's JSON, the monitor also in `resources`). Source `aws`, one incident per anomaly
either way: account + monitor + `anomalyId`. It only fires (`triage incidents close` closes
it); the monitor's later notices of the same anomaly are repeats of it.
"""

from __future__ import annotations

from typing import Any

from triage.models import Alert
from triage.normalize import common
from triage.normalize.aws_shared import (
    FIRE,
    SOURCE,
    Topic,
    arn_region_account,
    occurred,
    one,
    service_labels,
)
from triage.normalize.common import Normalized

#: The event Cost Anomaly Detection sends EventBridge for an immediate subscription.
EVENTBRIDGE = ("aws.ce", "Anomaly Detected")
_IMPACT_KEYS = ("totalImpact", "totalImpactPercentage", "totalActualSpend", "totalExpectedSpend")
_ROOT_CAUSES_MAX = 10


def matches(payload: dict[str, Any]) -> bool:
    return "anomalyId" in payload and "monitorArn" in payload


def normalize(
    payload: dict[str, Any], topic: Topic, raw: dict[str, Any] | None = None
) -> Normalized:
    """The anomaly's alert; `raw` the message it came in when that is not `payload` itself
    (an EventBridge event, whose detail `payload` is)."""
    anomaly = common.ident(payload.get("anomalyId"), "anomalyId")
    monitor = common.ident(payload.get("monitorArn"), "monitorArn")
    account = common.ident_or_none(common.unnested(payload.get("accountId")), "accountId")
    account = account or arn_region_account(monitor)[1] or topic.account
    dimension = common.word(payload.get("dimensionalValue"), "dimensionalValue")
    monitor_name = common.word(payload.get("monitorName"), "monitorName")
    labels = service_labels("ce", account, None)
    common.add_label(labels, "monitor", common.unnested(payload.get("monitorName")))
    common.add_label(labels, "dimension", common.unnested(payload.get("dimensionalValue")))
    return one(
        Alert(
            source=SOURCE,
            status=FIRE,
            title=common.first_title(
                f"AWS cost anomaly: {dimension}" if dimension else None,
                f"AWS cost anomaly: {monitor_name}" if monitor_name else None,
                f"AWS cost anomaly {anomaly}",
                field="dimensionalValue",
            ),
            description=_anomaly_description(payload),
            labels=labels,
            links=common.links(anomaly=common.url(payload.get("anomalyDetailsLink"), "link")),
            occurred_at=occurred(topic.sent, payload.get("anomalyEndDate")),
            identity={"service": "ce", "account": account, "monitor": monitor, "anomaly": anomaly},
            raw=payload if raw is None else raw,
        )
    )


def from_eventbridge(payload: dict[str, Any], detail: dict[str, Any], account: str) -> Normalized:
    """The `Anomaly Detected` event: its detail read as the SNS notice is (the monitor from
    `resources` when the detail leaves it out), so both are one incident."""
    if "monitorArn" not in detail:
        resources = common.items_or_empty(payload.get("resources"))
        detail = detail | {"monitorArn": resources[0] if resources else None}
    region = common.line(payload.get("region"), "region", 64) or ""
    return normalize(detail, Topic(account, region, payload.get("time")), raw=payload)


def _anomaly_description(payload: dict[str, Any]) -> str:
    """The impact, the dates and each root cause, one `key: value` line each."""
    impact = common.obj_or_empty(payload.get("impact"))
    lines = [f"{key}: {common.shown(impact[key])}" for key in _IMPACT_KEYS if key in impact]
    dates = ("anomalyStartDate", "anomalyEndDate")
    lines += [f"{key}: {payload[key]}" for key in dates if isinstance(payload.get(key), str)]
    for cause in common.items_or_empty(payload.get("rootCauses"))[:_ROOT_CAUSES_MAX]:
        facts = common.obj_or_empty(cause)
        lines.append("root cause: " + ", ".join(f"{k}={common.shown(v)}" for k, v in facts.items()))
    return common.text("\n".join(lines), "impact", common.DESCRIPTION_MAX) or ""
