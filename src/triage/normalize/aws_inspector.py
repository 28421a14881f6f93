"""Amazon Inspector classic's notices to an assessment template's SNS topic: `{"template":
"arn:aws:inspector:…:target/0-…/template/0-…", "run": …, "target": …, "time": …, "event":
"FINDING_REPORTED", "finding": "arn:…/finding/0-…"}`.

A finding is one per rule and host *per run*, so its ARN would make each weekly run's fifty
findings fifty new tickets: the incident is the assessment template's, one per account, Region
and template, each finding an occurrence of it (the finding's ARN in its description). A
completed run reports its findings per rules package (`findingsCount`, "{arn=2, arn=0}"): none
at all resolves the incident (the service saying the template's findings are gone), some fire
it. A run starting or changing state, and the notice that turns notifications on, change no
ticket. (Amazon Inspector, v2, publishes findings only to EventBridge, which `eventbridge`
reads.)"""

from __future__ import annotations

import re
from typing import Any

from triage.models import Alert, Status
from triage.normalize import common
from triage.normalize.aws_shared import (
    FIRE,
    RESOLVE,
    SOURCE,
    Topic,
    arn_region_account,
    occurred,
    one,
    service_labels,
)
from triage.normalize.common import Normalized, Skipped

_FINDING = "FINDING_REPORTED"
_COMPLETED = "ASSESSMENT_RUN_COMPLETED"
#: The events Inspector classic notifies (SubscribeToEvent's values, and the notice it sends
#: when notifications are turned on).
_EVENTS = frozenset(
    {_FINDING, _COMPLETED, "ASSESSMENT_RUN_STARTED", "ASSESSMENT_RUN_STATE_CHANGED", "OTHER"}
    | {"ENABLE_ASSESSMENT_NOTIFICATIONS"}
)
#: One rules package's count in `findingsCount`: "arn:aws:inspector:…:rulespackage/0-x=2".
_COUNT = re.compile(r"\s*arn:[^=,{}\s]{1,300}=(\d{1,9})\s*")
#: At most this many rules packages are read from `findingsCount` (Inspector has four).
_PACKAGES_MAX = 64


def matches(payload: dict[str, Any]) -> bool:
    """An Inspector classic event and one of the ARNs that come with it."""
    event = payload.get("event")
    return (
        isinstance(event, str)
        and event in _EVENTS
        and any(key in payload for key in ("template", "run", "target"))
    )


def normalize(payload: dict[str, Any], topic: Topic) -> Normalized:
    event = payload["event"]
    if event == _FINDING:
        return _alert(payload, topic, FIRE, "reported a finding")
    found = _findings(payload.get("findingsCount")) if event == _COMPLETED else None
    if found is None:
        template = common.short(payload.get("template"), 200)
        detail = f"Amazon Inspector {event} for assessment template {template}: no ticket change"
        return Normalized((), (Skipped(SOURCE, "no_state_change", detail),))
    if found == 0:
        return _alert(payload, topic, RESOLVE, "found no findings")
    return _alert(payload, topic, FIRE, f"found {found} finding{'s' if found > 1 else ''}")


def _alert(payload: dict[str, Any], topic: Topic, status: Status, happened: str) -> Normalized:
    template = common.ident(_template(payload), "template")
    region, account = arn_region_account(template)
    account, region = account or topic.account, region or topic.region
    template_id = template.rsplit("/", 1)[-1] or template
    labels = service_labels("inspector", account, region)
    # The deterministic ticket's step names the template by these, as an RDS event's source.
    common.add_label(labels, "source_type", "assessment template")
    common.add_label(labels, "source_id", template_id)
    common.add_label(labels, "target", _arn_id(payload.get("target")))
    common.add_label(labels, "event", payload["event"])
    return one(
        Alert(
            source=SOURCE,
            status=status,
            title=common.title(f"Amazon Inspector {happened}: assessment template {template_id}"),
            description=_description(payload),
            labels=labels,
            occurred_at=occurred(payload.get("time"), topic.sent),
            identity={
                "service": "inspector",
                "account": account,
                "region": region,
                "template": template,
            },
            raw=payload,
        )
    )


def _template(payload: dict[str, Any]) -> Any:
    """The assessment template's ARN; a notice without it names the template in its run's or
    finding's ARN ("…/template/0-x/run/0-y/finding/0-z"), the part before "/run/"."""
    template = payload.get("template")
    if template not in (None, ""):
        return template
    for key in ("run", "finding"):
        value = payload.get(key)
        if isinstance(value, str) and _RUN in value:
            return value[: value.index(_RUN)]
    return template


_RUN = "/run/"


def _findings(value: Any) -> int | None:
    """The findings of a completed run: the sum of "{arn=2, arn=0}"'s counts; None when it is
    anything else (nothing is then known of the template's findings)."""
    if not isinstance(value, str):
        return None
    inner = value.strip()
    if not (inner.startswith("{") and inner.endswith("}")):
        return None
    parts = inner[1:-1].split(",", _PACKAGES_MAX)
    if len(parts) > _PACKAGES_MAX:
        return None
    counts = [_COUNT.fullmatch(part) for part in parts]
    if not all(counts):
        return None
    return sum(int(count[1]) for count in counts if count)


def _arn_id(value: Any) -> str | None:
    """ "arn:…:target/0-a12b3c4d" → "0-a12b3c4d"; text that is no ARN as it is. Read whole
    (`common.whole_word`): a label (`add_label`) shows it cut and keeps it whole, and a long
    ARN cut first would lose the id at its end."""
    text = common.whole_word(value, "target")
    return text.rsplit("/", 1)[-1] if text and text.startswith("arn:") else text


def _description(payload: dict[str, Any]) -> str:
    """The notice's ARNs and counts, one `key: value` line each."""
    lines = [
        f"{key}: {common.shown(payload[key])}"
        for key in ("finding", "findingsCount", "newstate", "run", "target", "template")
        if payload.get(key) not in (None, "")
    ]
    return common.text("\n".join(lines), "notice", common.DESCRIPTION_MAX) or ""
