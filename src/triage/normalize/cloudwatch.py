"""CloudWatch alarm state changes in every delivery form: the classic alarm message (in an SNS
envelope or raw), the EventBridge "CloudWatch Alarm State Change" event (raw or in SNS), and
the payload of an alarm's Lambda action (`alarmArn`, `alarmData`: the event's facts), which a
function may forward to the queue as it came.

Identity: account + Region code + alarm name, so all forms of one alarm share a fingerprint. The
Region comes from the alarm ARN, else the event's `region`, else the classic message's display
name mapped to its code ("US East (N. Virginia)" → us-east-1). The SNS Subject is never read:
SNS cuts it to 100 characters. ALARM → firing, OK → resolved, INSUFFICIENT_DATA → Skipped.
An alarm's deletion (EventBridge "CloudWatch Alarm Configuration Change", `operation: delete`)
→ resolved, whatever its last state: CloudWatch sends no OK for a deleted alarm, and its ticket
would stay open for good. The event names no contributor of a grouped (Metrics Insights
GROUP BY) alarm, so every deletion asks for its alarm's children (`Alert.closes_children`):
the pipeline closes the incidents of the contributors the store knows as firing under it
(`triage.children`). Its other configuration changes are Skipped.

Only the identity (account, Region, alarm name) and the new state can refuse an alarm: a
description, reason, old state, trigger, configuration or metrics list of an odd JSON type is
read as JSON text (descriptions, reasons) or passed over.

`AlarmDescription` may carry `TEAM=… | PRIORITY=… | RUNBOOK=… | SEVERITY=…` segments, read
by `cloudwatch_segments` (split on newlines when there are any, else on "|"; keys in any case,
"=" or ":"); the rest is free text. A segment named again with another value is noted for the
log and left in the free text, marked as not used (`read_description`).
Propagated alarm tags (`alarmTags` in events, `AlarmTags` in SNS messages) with those names fill
what the description leaves out. A tag that says otherwise than the description, or than an
earlier tag for the same fact (`Team` and `team`, `runbook` and `runbook_url`), is not used and
a note for the log names both values. A PRIORITY triage cannot read (`S1`) is kept as the label
`priority` and named in a note for the log (`common.first_priority`).

A Metrics Insights alarm that watches many time series (GROUP BY) notifies per time series, its
"contributor": the SNS message carries `AlarmContributorId` and `AlarmContributorAttributes`,
EventBridge sends a "CloudWatch Alarm Contributor State Change" with `detail.alarmContributor`.
Each contributor is an incident of its own (its attributes, sorted, else its id, join the
identity), so one table back to OK never resolves another table's; its alert names the alarm's
own fingerprint as its `parent`, by which the alarm's deletion closes it. AWS also sends the
alarm's own notification to the same actions ("2 out of 150 time series evaluated to
ALARM"): through SNS or a Lambda action, its ALARM is Skipped ("per_contributor"), as the
contributors' notifications are the incidents, so N contributors make N tickets, not N+1 (a
route grouping by `alarm_name` makes them one). Through EventBridge it still fires: a rule may
match the alarm's own "CloudWatch Alarm State Change" alone, and skipped, the alarm would open
no ticket at all.
Its OK still resolves the alarm's own fingerprint, closing a ticket opened for it before.
A PromQL alarm (`EvaluationCriteria.PromQLCriteria`, or a trigger's own `Query`) tracks every
series its query returns as a contributor: its own notifications are read the same way, and
its query is shown (`alarm_type` promql, `query`).

An alarm inside the window of an alarm mute rule (`detail.muteDetail` of an event) has its
actions, SNS included, muted: its firing is Skipped ("actions_muted"); its OK still resolves.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from triage.decode import load_object
from triage.errors import DecodeError, InvalidAlertError
from triage.models import Alert, Status, fingerprint_of, identity_within_limit
from triage.normalize import common
from triage.normalize.aws_regions import console_host, region_code
from triage.normalize.cloudwatch_segments import SEGMENT_KEYS, read_description
from triage.normalize.cloudwatch_segments import (  # named here too: tests import it here
    parse_description as parse_description,
)
from triage.normalize.common import Normalized, Skipped

SOURCE = "cloudwatch"
STATE_CHANGE = "CloudWatch Alarm State Change"
CONTRIBUTOR_CHANGE = "CloudWatch Alarm Contributor State Change"
CONFIG_CHANGE = "CloudWatch Alarm Configuration Change"
#: Why a deleted alarm's incident is resolved: CloudWatch sends no OK for it.
_DELETED = (
    "The alarm was deleted in CloudWatch, which sends no OK for it: its incident is resolved."
)

_STATUS = {"ALARM": Status.FIRING, "OK": Status.RESOLVED}
_REASON_DATA_MAX = 65_536


def matches_alarm(payload: dict[str, Any]) -> bool:
    return "AlarmName" in payload and "NewStateValue" in payload


def matches_event(payload: dict[str, Any]) -> bool:
    return ("detail" in payload or _is_lambda_payload(payload)) and (
        payload.get("detail-type") in (STATE_CHANGE, CONTRIBUTOR_CHANGE)
        or payload.get("source") == "aws.cloudwatch"
    )


def _is_lambda_payload(payload: dict[str, Any]) -> bool:
    """What an alarm's Lambda action receives (`alarmArn`, `accountId`, `alarmData`: the
    event's `detail`), forwarded to the queue by that function as it came."""
    return "detail" not in payload and isinstance(payload.get("alarmData"), dict)


def _lambda_as_event(payload: dict[str, Any]) -> dict[str, Any]:
    """The Lambda action's payload as the EventBridge event of the same change."""
    data: dict[str, Any] = payload["alarmData"]
    return {
        "detail-type": CONTRIBUTOR_CHANGE if "alarmContributor" in data else STATE_CHANGE,
        "source": payload.get("source"),
        "account": payload.get("accountId"),
        "region": payload.get("region"),
        "time": payload.get("time"),
        "resources": [payload.get("alarmArn")],
        "detail": data,
    }


@dataclass(frozen=True, slots=True)
class AlarmArn:
    region: str
    account: str
    name: str


def parse_arn(value: Any) -> AlarmArn | None:
    """arn:aws:cloudwatch:REGION:ACCOUNT:alarm:NAME (names may hold ':'); None if not one."""
    if not isinstance(value, str):
        return None
    parts = value.strip().split(":", 6)
    if len(parts) != 7 or parts[0] != "arn" or not parts[1].startswith("aws"):
        return None
    if parts[2] != "cloudwatch" or parts[5] != "alarm" or not all(parts[3:5]) or not parts[6]:
        return None
    return AlarmArn(region=parts[3], account=parts[4], name=parts[6])


@dataclass(frozen=True, slots=True)
class _Change:
    """One alarm state change, whichever form delivered it."""

    name: str
    account: str
    region: str
    state: str
    old_state: str | None
    description: str | None
    reason: str | None
    occurred_at: datetime | None
    facts: common.Labels
    tags: _Tags
    raw: dict[str, Any]
    #: The one time series of a multi-time-series alarm this change is about, if any.
    contributor: _Contributor | None = None
    #: Whether the alarm's query returns a time series per group (GROUP BY), each of which
    #: notifies on its own as a contributor.
    per_time_series: bool = False
    #: Whether this is the alarm's deletion (a configuration change), which resolves it.
    deleted: bool = False


@dataclass(frozen=True, slots=True)
class _Contributor:
    """A time series of a Metrics Insights alarm: its id and the attributes that name it."""

    id: str | None
    attributes: dict[str, str]

    @property
    def identity(self) -> str:
        """Its attributes ("TableName=orders"), sorted, which the SNS message and the event
        both carry; else its id."""
        if self.attributes:
            return ", ".join(f"{k}={v}" for k, v in sorted(self.attributes.items()))
        return f"id={self.id}"


def normalize_alarm(payload: dict[str, Any]) -> Normalized:
    """The classic alarm message (the SNS `Message`, or the body under raw delivery)."""
    arn = parse_arn(payload.get("AlarmArn"))
    notes: tuple[str, ...] = ()
    if arn:
        region = arn.region
    else:
        display = common.ident(payload.get("Region"), "Region")
        region = region_code(display) or display
        if region == display:
            notes = (f"unknown AWS Region name {common.short(display)}: fingerprint uses it as is",)
    facts = common.Labels()
    if payload.get("AlarmRule") is not None:  # a composite alarm (null: a metric alarm)
        facts["alarm_type"] = "composite"
        common.add_label(facts, "alarm_rule", payload.get("AlarmRule"))
        children = common.items_or_empty(payload.get("TriggeringChildren"))
        names = [c.name for c in map(parse_arn, (_get(x, "Arn") for x in children)) if c]
        common.add_label(facts, "triggering_alarms", ", ".join(names))
    trigger = common.obj_or_empty(payload.get("Trigger"))
    common.add_labels(facts, _trigger_facts(trigger))
    promql = _promql_query(payload) or _promql_query(trigger, bare=True)
    common.add_labels(facts, _promql_facts(promql))
    change = _Change(
        name=_alarm_name(payload.get("AlarmName"), "AlarmName", arn),
        account=_account(payload.get("AWSAccountId"), "AWSAccountId", arn),
        region=region,
        state=_state(payload.get("NewStateValue"), "NewStateValue"),
        old_state=common.whole_word(payload.get("OldStateValue"), "OldStateValue"),
        description=common.text(payload.get("AlarmDescription"), "AlarmDescription"),
        reason=common.text(payload.get("NewStateReason"), "NewStateReason"),
        occurred_at=common.timestamp(payload.get("StateChangeTime")),
        facts=facts,
        tags=_segment_tags(payload.get("AlarmTags"), "AlarmTags"),
        raw=payload,
        contributor=_message_contributor(payload),
        per_time_series=_per_time_series(common.items_or_empty(trigger.get("Metrics")))
        or promql is not None,
    )
    result = _normalize(change)
    return Normalized(result.alerts, result.skipped, notes + result.notes)


def normalize_event(payload: dict[str, Any]) -> Normalized:
    """An EventBridge CloudWatch alarm event (raw, or as the SNS `Message`), or the payload of
    an alarm's Lambda action, which holds the same facts."""
    if _is_lambda_payload(payload):
        return _normalize_event(_lambda_as_event(payload), payload, _LAMBDA_FIELDS)
    return _normalize_event(payload, payload, _EVENT_FIELDS)


@dataclass(frozen=True, slots=True)
class _EventFields:
    """Where an event's facts are, as its sender names them (errors name the sender's field)."""

    detail: str
    account: str
    resources: str


_EVENT_FIELDS = _EventFields(detail="detail", account="account", resources="resources")
_LAMBDA_FIELDS = _EventFields(detail="alarmData", account="accountId", resources="alarmArn")


def _normalize_event(
    payload: dict[str, Any], raw: dict[str, Any], names: _EventFields
) -> Normalized:
    """The event's alarm change; `names` are its fields as the sender wrote them, for errors."""
    kind = payload.get("detail-type")
    deleted = kind == CONFIG_CHANGE and _is_deletion(payload.get("detail"))
    if kind not in (STATE_CHANGE, CONTRIBUTOR_CHANGE) and not deleted:
        detail = f"CloudWatch event {common.short(kind)} is not an alarm state change"
        return Normalized((), (Skipped(SOURCE, "not_a_state_change", detail),))
    detail_obj = common.obj(payload.get("detail"), names.detail, required=True)
    contributor = None
    if kind == CONTRIBUTOR_CHANGE:
        contributor = _event_contributor(detail_obj.get("alarmContributor"), names.detail)
    resources = common.items(payload.get("resources"), names.resources)
    arn = next((a for a in map(parse_arn, resources) if a), None)
    state = (  # a deletion's last state is only shown: of any shape, it never refuses it
        common.obj_or_empty(detail_obj.get("state"))
        if deleted
        else common.obj(detail_obj.get("state"), f"{names.detail}.state", required=True)
    )
    previous = common.obj_or_empty(detail_obj.get("previousState"))
    config = common.obj_or_empty(detail_obj.get("configuration"))
    facts = common.Labels()
    if config.get("alarmRule") is not None:
        facts["alarm_type"] = "composite"
        common.add_label(facts, "alarm_rule", config.get("alarmRule"))
    metrics = common.items_or_empty(config.get("metrics"))
    common.add_labels(facts, _metrics_facts(metrics))
    promql = _promql_query(config)
    common.add_labels(facts, _promql_facts(promql))
    common.add_labels(facts, _band_facts(config, metrics))
    common.add_labels(facts, _reason_data_facts(state.get("reasonData")))
    suppressed = common.word(
        state.get("actionsSuppressedBy"), f"{names.detail}.state.actionsSuppressedBy"
    )
    region = arn.region if arn else common.ident(payload.get("region"), "region")
    if deleted:  # its last state, only shown: a deletion resolves whatever the state was
        state_value = common.whole_word(state.get("value"), f"{names.detail}.state.value") or ""
    else:
        state_value = _state(state.get("value"), f"{names.detail}.state.value")
    if not deleted and suppressed and suppressed.lower() == "alarm" and state_value != "OK":
        # A composite alarm whose suppressor alarm is in ALARM (a maintenance window): its
        # actions, SNS included, do nothing, and neither does triage. Its return to OK still
        # resolves: a ticket opened before the window must not stay open for good.
        name = common.short(
            common.line(detail_obj.get("alarmName"), f"{names.detail}.alarmName") or "?"
        )
        detail = f"alarm {name}: actions suppressed by alarm {common.short(config.get('actionsSuppressor'))}"
        return Normalized((), (Skipped(SOURCE, "actions_suppressed", detail),))
    # Whole, not `suppressed` (`word`'s): the label keeps what routes and groups read.
    common.add_label(
        facts, "actions_suppressed_by", common.unnested(state.get("actionsSuppressedBy"))
    )
    changed_at = common.timestamp(state.get("timestamp")) or common.timestamp(payload.get("time"))
    if deleted:  # when it was deleted, not when its last state began
        changed_at = common.timestamp(payload.get("time")) or changed_at
        facts["operation"] = "delete"
    mute = common.obj_or_empty(detail_obj.get("muteDetail"))
    mute_rule = common.line(
        common.unnested(mute.get("mutedByArn")), f"{names.detail}.muteDetail.mutedByArn"
    )
    if not deleted and mute_rule and state_value != "OK" and _muted_at(mute, changed_at):
        # A mute rule silences the alarm's actions, SNS included; its EventBridge events still
        # flow, and must not page either. A return to OK resolves, as for a suppressor.
        name = common.short(
            common.line(detail_obj.get("alarmName"), f"{names.detail}.alarmName") or "?"
        )
        detail = f"alarm {name}: actions muted by mute rule {common.short(mute_rule, 200)}"
        return Normalized((), (Skipped(SOURCE, "actions_muted", detail),))
    # Whole, not `mute_rule` (`line`'s): the label keeps what routes and groups read.
    common.add_label(facts, "muted_by", common.unnested(mute.get("mutedByArn")))
    change = _Change(
        name=_alarm_name(detail_obj.get("alarmName"), f"{names.detail}.alarmName", arn),
        account=_account(payload.get("account"), names.account, arn),
        region=region,
        state=state_value,
        old_state=common.whole_word(previous.get("value"), f"{names.detail}.previousState.value"),
        description=common.text(
            config.get("description"), f"{names.detail}.configuration.description"
        ),
        reason=_DELETED
        if deleted
        else common.text(state.get("reason"), f"{names.detail}.state.reason"),
        occurred_at=changed_at,
        facts=facts,
        tags=_segment_tags(detail_obj.get("alarmTags"), f"{names.detail}.alarmTags"),
        raw=raw,
        contributor=contributor,
        # Through EventBridge, a rule may match the alarm's own change alone (the usual
        # pattern names "CloudWatch Alarm State Change" only): skipped there, the alarm would
        # open no ticket at all. A Lambda action hears of both, as SNS does.
        per_time_series=names is _LAMBDA_FIELDS
        and (_per_time_series(metrics) or promql is not None),
        deleted=deleted,
    )
    return _normalize(change)


def _is_deletion(detail: Any) -> bool:
    """Whether a configuration-change event's detail says the alarm was deleted."""
    operation = detail.get("operation") if isinstance(detail, dict) else None
    return isinstance(operation, str) and operation.strip().lower() == "delete"


def _state(value: Any, field: str) -> str:
    """The alarm's new state; an alarm that does not say it cannot change a ticket."""
    state = common.line(value, field)
    if not state:
        raise InvalidAlertError(f"{field} is missing or empty: the alarm's new state is unknown")
    return state


def _muted_at(mute: dict[str, Any], when: datetime | None) -> bool:
    """Whether `muteDetail`'s window holds the state change. AWS's own examples carry a window
    that does not, so a mute is only believed when both ends and the change's time are read."""
    # AWS writes the window as text; a number (read as epoch seconds) proves no mute.
    start, end = (
        common.timestamp(value) if isinstance(value, str) else None
        for value in (mute.get("muteWindowStart"), mute.get("muteWindowEnd"))
    )
    return start is not None and end is not None and when is not None and start <= when < end


def _message_contributor(payload: dict[str, Any]) -> _Contributor | None:
    """The contributor an SNS alarm message names (`AlarmContributorId`,
    `AlarmContributorAttributes`), or None for the alarm's own notification."""
    given_id, given_attributes = (
        payload.get("AlarmContributorId"),
        payload.get("AlarmContributorAttributes"),
    )
    if given_id in _BLANK and given_attributes in _BLANK:
        return None  # the alarm's own notification may carry the fields, empty
    return _contributor(given_id, given_attributes, "AlarmContributorAttributes")


#: What an absent contributor may be written as.
_BLANK: tuple[Any, ...] = (None, "", {}, [])


def _event_contributor(value: Any, detail: str) -> _Contributor:
    """The contributor of a "CloudWatch Alarm Contributor State Change" (`alarmContributor`:
    {id, attributes}); it must name one, or the change would be read as the whole alarm's."""
    given = value if isinstance(value, dict) else {}
    return _contributor(given.get("id"), given.get("attributes"), f"{detail}.alarmContributor")


def _contributor(given_id: Any, given_attributes: Any, field: str) -> _Contributor:
    attributes = {
        key: text
        for key, raw in (given_attributes.items() if isinstance(given_attributes, dict) else ())
        # Identity, held whole: the model keeps a long one's start, "…" and a digest of the
        # whole, so contributors that differ past 1,024 characters stay apart.
        if (text := common.ident_line(_scalar(raw), f"{field} {common.short(key)}")) and key.strip()
    }
    contributor_id = common.ident_line(_scalar(given_id), f"{field} id")
    if not attributes and not contributor_id:
        raise InvalidAlertError(
            f"{field} names no time series (neither attributes nor an id): "
            "the contributor cannot be identified"
        )
    return _Contributor(contributor_id, attributes)


def _normalize(change: _Change) -> Normalized:
    # Redacted as every quoted value is: without an ARN the account is the message's own
    # AWSAccountId, which may hold anything.
    where = common.short(f"{change.account}/{change.region}", 100)
    if change.state == "INSUFFICIENT_DATA" and not change.deleted:
        detail = f"alarm {common.short(change.name)} in {where} has insufficient data"
        if change.old_state == "ALARM":
            # Said, as a ticket for a resource that is gone (a terminated instance) does not
            # close by itself: only the alarm's OK, or its deletion, closes it.
            detail += (
                ": the incident its ALARM opened stays open until the alarm's OK (or its deletion, "
                "heard through EventBridge)"
            )
        return Normalized((), (Skipped(SOURCE, "insufficient_data", detail),))
    status = Status.RESOLVED if change.deleted else _STATUS.get(change.state)
    if status is None:
        raise InvalidAlertError(
            f"alarm state {common.short(change.state)} is not ALARM, OK or INSUFFICIENT_DATA"
        )
    if status is Status.FIRING and change.per_time_series and change.contributor is None:
        detail = (
            f"alarm {common.short(change.name)} in {where} notifies per time series: "
            "its contributors' notifications are the incidents"
        )
        return Normalized((), (Skipped(SOURCE, "per_contributor", detail),))
    described = read_description(change.description or "")
    free_text = described.free_text
    given, overridden = _over_tags(change.tags, described.facts)
    runbook = common.url(given.get("runbook"), "RUNBOOK")
    body = [free_text]
    if given.get("runbook") and not runbook:
        body.append(f"Runbook: {given['runbook']}")
    if change.reason:
        body.append(f"State reason: {change.reason}")
    labels = common.Labels()
    common.add_label(labels, "alarm_name", change.name)
    common.add_label(labels, "account", change.account)
    common.add_label(labels, "region", change.region)
    common.add_label(labels, "state", change.state)
    common.add_label(labels, "old_state", change.old_state)
    common.add_labels(labels, _without_own_account(change.facts, change.account))
    # An unread one is kept as a label: the segment has left the description.
    priority, unread = common.first_priority(labels, (f"{SOURCE} PRIORITY", given.get("priority")))
    identity = {"account": change.account, "region": change.region, "alarm": change.name}
    title = change.name
    parent = None
    if change.contributor is not None:
        parent = fingerprint_of(SOURCE, identity_within_limit(identity))
        identity["contributor"] = change.contributor.identity
        title = f"{change.name} ({change.contributor.identity})"
        common.add_label(labels, "contributor", change.contributor.identity)
        common.add_label(labels, "contributor_id", change.contributor.id)
    alert = Alert(
        source=SOURCE,
        status=status,
        title=common.title(title, "alarm name"),
        team=common.line(given.get("team"), "TEAM", common.LABEL_VALUE_MAX, shown=True),
        priority=priority,
        severity=common.line(given.get("severity"), "SEVERITY", common.LABEL_VALUE_MAX, shown=True),
        description=common.text(
            "\n\n".join(p for p in body if p), "description", common.DESCRIPTION_MAX
        )
        or "",
        runbook_url=runbook,
        links=common.links(alarm=console_link(change.region, change.name)),
        labels=labels,
        occurred_at=change.occurred_at or common.now(),
        identity=identity,
        raw=change.raw,
        parent=parent,
        closes_children=change.deleted,
    )
    notes = described.notes + change.tags.notes + overridden + unread
    return Normalized((alert,), (), notes)


@dataclass(frozen=True, slots=True)
class _Tag:
    """One propagated alarm tag that gives a fact: the tag's own key, as sent, and its value."""

    key: str
    value: str


@dataclass(frozen=True, slots=True)
class _Tags:
    """The alarm tags that give facts (team, priority, runbook, severity), the first tag for
    each fact; where they came from (`AlarmTags`, `detail.alarmTags`); and a note for each
    later tag that gave one of those facts another value."""

    facts: dict[str, _Tag]
    field: str
    notes: tuple[str, ...] = ()


def _segment_tags(value: Any, field: str) -> _Tags:
    """Propagated alarm tags (the event's `alarmTags`, the SNS message's `AlarmTags`; an
    object, or a list of Key/Value pairs as the tagging API writes them) that name a team,
    priority, runbook or severity (any case). Tags only add to what the description says, so a
    tag that is not text is passed over rather than costing the alarm its ticket. Two tags for
    one fact (`Team` and `team`, `runbook` and `runbook_url`): the first is used and, when the
    second says otherwise, a note names both."""
    if isinstance(value, list):
        pairs = [(_get(t, "Key"), _get(t, "Value")) for t in value if isinstance(t, dict)]
    else:
        pairs = list(value.items()) if isinstance(value, dict) else []
    out: dict[str, _Tag] = {}
    notes: list[str] = []
    for key, raw in pairs:
        known = SEGMENT_KEYS.get("".join(str(key).lower().split()))
        text = _scalar(raw)
        if not (known and text and text.strip()):
            continue
        tag = _Tag(str(key), text.strip())
        first = out.setdefault(known, tag)
        if first.value.casefold() != tag.value.casefold():
            notes.append(
                f"{field} name {known} twice: tag {common.short(first.key, 20)} "
                f"{common.short(first.value)} is used, tag {common.short(tag.key, 20)} "
                f"{common.short(tag.value)} is not"
            )
    return _Tags(out, field, tuple(notes))


def _over_tags(tags: _Tags, described: dict[str, str]) -> tuple[dict[str, str], tuple[str, ...]]:
    """The facts the description's segments give, the alarm tags filling what they leave
    out; a note for each fact where a tag says otherwise (the description wins, as a tag is
    set once for every alarm it is copied to, the description for this one)."""
    given = {fact: tag.value for fact, tag in tags.facts.items()} | described
    notes = tuple(
        f"AlarmDescription gives {fact} {common.short(described[fact])}, used over "
        f"{tags.field} tag {common.short(tag.key, 20)} {common.short(tag.value)}"
        for fact, tag in tags.facts.items()
        if fact in described and described[fact].casefold() != tag.value.casefold()
    )
    return given, notes


def console_link(region: str, name: str) -> str | None:
    """The alarm's page in the AWS console, in its partition's console domain; None for a
    display name no code was found for, or a partition whose console is not known
    (`console_host`)."""
    host = console_host(region)
    if host is None:
        return None
    return f"{host}/cloudwatch/home?region={region}#alarmsV2:alarm/{quote(name, safe='')}"


def _alarm_name(value: Any, field: str, arn: AlarmArn | None) -> str:
    if arn:
        return common.ident_or_none(value, field) or common.ident(arn.name, "alarm ARN")
    return common.ident(value, field)


def _account(value: Any, field: str, arn: AlarmArn | None) -> str:
    return arn.account if arn else common.ident(value, field)


def _get(mapping: Any, key: str) -> Any:
    """`key` or its camelCase twin: classic messages say MetricName, events say metricName."""
    if not isinstance(mapping, dict):
        return None
    value = mapping.get(key)
    return mapping.get(key[:1].lower() + key[1:]) if value is None else value


def _trigger_facts(trigger: dict[str, Any]) -> common.Labels:
    facts = common.Labels()
    for key, label in (
        ("MetricName", "metric"),
        ("Namespace", "namespace"),
        ("Statistic", "statistic"),
        ("ExtendedStatistic", "statistic"),
        ("Threshold", "threshold"),
        ("ComparisonOperator", "comparison"),
        ("Period", "period_s"),
        ("EvaluationPeriods", "evaluation_periods"),
        ("Unit", "unit"),
    ):
        common.add_label(facts, label, _scalar(trigger.get(key)))
    common.add_label(facts, "dimensions", _dimensions(trigger.get("Dimensions")))
    metrics = common.items_or_empty(trigger.get("Metrics"))
    common.add_labels(facts, _metrics_facts(metrics))
    common.add_labels(facts, _band_facts(trigger, metrics))
    return facts


def _band_facts(config: dict[str, Any], metrics: list[Any]) -> common.Labels:
    """An anomaly detection alarm: its threshold is a query's result, named by
    ThresholdMetricId (thresholdMetricId in events), else the ANOMALY_DETECTION_BAND query."""
    band = _scalar(_get(config, "ThresholdMetricId"))
    if not band:
        bands = (
            _scalar(_get(m, "Id"))
            for m in metrics
            if str(_scalar(_get(m, "Expression")) or "").upper().startswith(_BAND)
        )
        band = next(bands, None)
    facts = common.Labels()
    if band:
        facts["alarm_type"] = "anomaly_detection"
        common.add_label(facts, "threshold_metric", band)
    return facts


_BAND = "ANOMALY_DETECTION_BAND("


def _metrics_facts(metrics: list[Any]) -> common.Labels:
    """A single metric's facts, or for metric math a one-line summary of every query — and,
    when the math reads one metric only (an anomaly detection alarm: the metric and its band),
    that metric's facts too, so the alarm keeps the resource it watches (its dimensions) as a
    single-metric alarm does. Math over several metrics of one resource (5XX count over request
    count of one load balancer) keeps that resource as its `dimensions`; over several resources
    it claims none, and each query in the summary names its own. A cross-account alarm's
    queries name the accounts whose metrics they read (`metric_account`)."""
    entries = [m for m in metrics if isinstance(m, dict)]
    stats = [(m, _get(m, "MetricStat")) for m in entries]
    facts = common.Labels()
    if len(entries) == 1 and isinstance(stats[0][1], dict):  # an event's single-metric alarm
        return _metric_stat_facts(stats[0][1])
    queried = [stat for _, stat in stats if isinstance(stat, dict)]
    if len(queried) == 1:
        facts = _metric_stat_facts(queried[0], with_period=False)
    shared = _shared_dimensions(queried)
    common.add_label(facts, "dimensions", shared)
    common.add_label(facts, "metric_account", _query_accounts(entries))
    queries = []
    for m, stat in stats:
        what = _scalar(_get(m, "Expression"))
        if isinstance(stat, dict):
            metric = _get(stat, "Metric")
            name = _scalar(_get(metric, "MetricName") or _get(metric, "Name"))
            own = None if shared else _dimensions(_get(metric, "Dimensions"))
            what = " ".join(
                filter(
                    None,
                    [
                        _scalar(_get(metric, "Namespace")),
                        name,
                        _scalar(_get(stat, "Stat")),
                        own and f"[{own}]",
                    ],
                )
            )
        label = _scalar(_get(m, "Label"))
        queries.append(
            f"{_scalar(_get(m, 'Id')) or '?'} = {what or '?'}" + (f" ({label})" if label else "")
        )
    if queries:
        insights = any(
            str(_scalar(_get(m, "Expression")) or "").lstrip().upper().startswith("SELECT ")
            for m in entries
        )
        facts["alarm_type"] = "metrics_insights" if insights else "metric_math"
        common.add_label(facts, "metrics", "; ".join(queries))
    return facts


def _query_accounts(entries: list[dict[str, Any]]) -> str | None:
    """The accounts whose metrics the queries read (a cross-account alarm's `AccountId`, in
    events `accountId`), sorted; None when no query names one (`_without_own_account` drops
    the alarm's own)."""
    accounts = {_scalar(_get(m, "AccountId")) for m in entries} - {None, ""}
    return ", ".join(sorted(a for a in accounts if a)) or None


def _without_own_account(facts: common.Labels, account: str) -> common.Labels:
    """The alarm's facts, less a `metric_account` that is only the alarm's own account (a
    query may name it): the label is for metrics another account holds."""
    if facts.get("metric_account") != account:
        return facts
    kept = common.Labels()
    common.add_labels(
        kept, {k: facts.uncut.get(k, v) for k, v in facts.items() if k != "metric_account"}
    )
    return kept


def _shared_dimensions(stats: list[dict[str, Any]]) -> str | None:
    """The dimensions every queried metric has alike (the one resource the math reads), or
    None when the queries read different resources or none names any."""
    found = {_dimensions(_get(_get(stat, "Metric"), "Dimensions")) for stat in stats}
    return found.pop() if len(found) == 1 else None


def _metric_stat_facts(stat: dict[str, Any], *, with_period: bool = True) -> common.Labels:
    """One queried metric's name, namespace, statistic, dimensions and (unless the alarm's
    own period is read already) period."""
    facts = common.Labels()
    metric = _get(stat, "Metric")
    common.add_label(facts, "metric", _scalar(_get(metric, "MetricName") or _get(metric, "Name")))
    common.add_label(facts, "namespace", _scalar(_get(metric, "Namespace")))
    common.add_label(facts, "statistic", _scalar(_get(stat, "Stat")))
    if with_period:
        common.add_label(facts, "period_s", _scalar(_get(stat, "Period")))
    common.add_label(facts, "dimensions", _dimensions(_get(metric, "Dimensions")))
    return facts


#: Quoted names and values ("AWS/EC2", 'GROUP BY') are no clause of a query.
_QUOTED = re.compile(r'"[^"]*"|\'[^\']*\'')
_GROUP_BY = re.compile(r"\bGROUP\s+BY\b", re.IGNORECASE)
#: Longer than any query CloudWatch accepts in an alarm; a longer text is not read as one.
_QUERY_MAX = 8_192


def _per_time_series(metrics: list[Any]) -> bool:
    """Whether the alarm's returned query is a Metrics Insights query with GROUP BY: each
    time series it returns is a contributor that notifies on its own."""
    for m in metrics:
        expression = _get(m, "Expression")
        if _get(m, "ReturnData") is False or not isinstance(expression, str):
            continue
        query = _QUOTED.sub(" ", expression[:_QUERY_MAX])
        if query.lstrip().upper().startswith("SELECT ") and _GROUP_BY.search(query):
            return True
    return False


def _promql_query(holder: dict[str, Any], *, bare: bool = False) -> str | None:
    """The PromQL query of a PromQL alarm that `holder` (the message or its trigger; an
    event's configuration) names: `EvaluationCriteria.PromQLCriteria.Query` as PutMetricAlarm
    takes it (camelCase in events), or, with `bare`, a trigger's own `Query`. Such an alarm
    tracks every series its query returns as a contributor (CloudWatch's "PromQL alarms"), as
    a Metrics Insights GROUP BY alarm does, and its actions hear of each. None for any other."""
    criteria = _get(_get(holder, "EvaluationCriteria"), "PromQLCriteria")
    query = _get(criteria, "Query") if isinstance(criteria, dict) else None
    if query is None and bare:
        query = _get(holder, "Query")
    return query if isinstance(query, str) and query.strip() else None


def _promql_facts(query: str | None) -> common.Labels:
    """A PromQL alarm's type and query, shown as a Metrics Insights alarm's are."""
    facts = common.Labels()
    if query is not None:
        facts["alarm_type"] = "promql"
        common.add_label(facts, "query", query)
    return facts


def _reason_data_facts(value: Any) -> dict[str, str]:
    """Threshold and latest datapoint from an event's `reasonData` (itself a JSON string)."""
    if not isinstance(value, str) or len(value) > _REASON_DATA_MAX:
        return {}
    try:
        data = load_object(value, "reasonData")
    except DecodeError:
        return {}  # a reason we cannot read is no reason to drop the alarm
    facts = common.Labels()
    common.add_label(facts, "threshold", _scalar(data.get("threshold")))
    triggering = data.get("triggeringAlarms")  # a composite alarm's children that fired
    if isinstance(triggering, list):
        arns = (t.get("arn") for t in triggering if isinstance(t, dict))
        names = [a.name for a in map(parse_arn, arns) if a]
        common.add_label(facts, "triggering_alarms", ", ".join(names))
    recent = data.get("recentDatapoints")
    if isinstance(recent, list) and recent:
        common.add_label(facts, "value", _scalar(recent[-1]))
    return facts


def _dimensions(value: Any) -> str | None:
    """ "name=value, …" from the classic list of {name, value} or the event's {name: value}."""
    if isinstance(value, dict):
        pairs = [(k, v) for k, v in value.items()]
    elif isinstance(value, list):
        pairs = [(_get(d, "Name"), _get(d, "Value")) for d in value if isinstance(d, dict)]
    else:
        return None
    return ", ".join(f"{common.shown(k)}={common.shown(v)}" for k, v in pairs) or None


def _scalar(value: Any) -> str | None:
    """A fact for a human: scalars as text, anything nested dropped."""
    return None if isinstance(value, dict | list) else common.scalar(value, "fact")
