"""Hostile and malformed input: unicode survives, controls do not, and nothing escapes as a crash."""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import regex

from scaling import assert_linear
from triage.decode import decode_body
from triage.errors import DecodeError, InvalidAlertError, TriageError, UnknownFormatError
from triage.models import Priority, Status
from triage.normalize import (
    FORMATS,
    Normalized,
    common,
    normalize_body,
    normalize_payload,
    recognise_body,
)

PAYLOADS = Path(__file__).parent / "payloads"

#: One payload per format, mutated field by field in the robustness test.
REPRESENTATIVES = [
    "cloudwatch/sns-alarm.json",
    "cloudwatch/eventbridge-metric-math.json",
    "cloudwatch/raw-metric-math.json",
    "grafana/group-firing.json",
    "grafana/legacy-alerting.json",
    "alertmanager/group-firing.json",
    "prometheus/api-v2-firing.json",
    "sentry/issue-created.json",
    "sentry/event-alert.json",
    "sentry/metric-alert-critical.json",
    "generic/firing.json",
    "threshold/triggered.json",
    "vendors/datadog-custom-triggered.json",
    "vendors/datadog-default-triggered.json",
    "vendors/opsgenie-create.json",
    "vendors/pagerduty-triggered.json",
    "vendors/newrelic-activated.json",
    "vendors/azure-fired.json",
    "vendors/gcp-open.json",
    "vendors/uptimekuma-down.json",
    "vendors/splunk-alert.json",
    "tools/rollbar-occurrence.json",
    "tools/rollbar-new-item.json",
    "tools/honeybadger-occurred.json",
    "tools/honeybadger-down.json",
    "tools/honeybadger-check-in-missing.json",
    "tools/honeybadger-alarm-alert.json",
    "tools/pingdom-http-down.json",
    "tools/bugsnag-first-exception.json",
    "tools/bugsnag-fixed.json",
    "tools/dynatrace-open.json",
    "tools/honeycomb-triggered.json",
    "tools/grafana-oncall-created.json",
    "eventbridge/health-issue.json",
    "eventbridge/guardduty-finding.json",
    "eventbridge/securityhub-findings.json",
    "eventbridge/ecs-task-stopped.json",
    "site24x7/down.json",
]
HOSTILE_VALUES: list[Any] = [None, -1.5, True, "", ["x"], {"k": "v"}, "\u202e\x00"]


def read(name: str) -> str:
    return (PAYLOADS / name).read_text(encoding="utf-8")


def test_unicode_survives_and_controls_do_not() -> None:
    """CJK, emoji, RTL and combining marks survive; controls and bidi overrides leave titles."""
    alert = normalize_body(read("hostile/unicode-generic.json")).alerts[0]
    assert alert.title == "磁盘空间不足 💾🔥 on דיסק-מלא café\u0301 second line isolated"
    assert alert.team == "ストレージ"
    assert alert.priority is Priority.HIGH
    assert alert.description == (
        "第一行\n👩\u200d💻 engineer: العربية text with e\u0301 combining[31m and a tab\tkept"
    )
    assert alert.identity == {"dedup_key": "disk-🇯🇵-tokyo"}
    assert not any(ch in alert.title for ch in "\u202e\u2066\u2069\x07\n")


def test_numbers_and_booleans_where_text_belongs() -> None:
    """Numeric titles, teams, keys and a boolean host are coerced to text; a bad time means now."""
    alert = normalize_body(read("hostile/numbers-as-strings.json")).alerts[0]
    assert (alert.title, alert.team, alert.severity, alert.description) == ("404", "42", "3", "1.5")
    assert alert.priority is Priority.CRITICAL  # priority 0
    assert alert.status is Status.RESOLVED
    assert alert.identity == {"dedup_key": "1234567"}
    assert alert.labels["host"] == "true"


@pytest.mark.parametrize("field", ["title", "dedup_key"])
def test_objects_where_text_belongs_are_validation_errors(field: str) -> None:
    """An object or array in a text field is a InvalidAlertError naming the field."""
    body = {"title": "t", field: {"nested": ["x"]}}
    with pytest.raises(InvalidAlertError, match=field):
        normalize_body(json.dumps(body))


@pytest.mark.parametrize(
    ("given", "shown"), [({"nested": ["x", None]}, '{"nested":["x",null]}'), ([True], "[true]")]
)
def test_an_object_as_a_description_reads_as_json_text(given: Any, shown: str) -> None:
    """A description that is an object or array is shown as JSON text; the alert is kept."""
    [alert] = normalize_body(json.dumps({"title": "t", "description": given})).alerts
    assert alert.description == shown


def test_over_long_fields_are_cut_to_documented_limits() -> None:
    """Title 200, description 4,000, labels 64 of 256: cut, marked "…", never an error."""
    body = {
        "title": "é" * 1000,
        "description": "d" * 10_000,
        "labels": {f"l{i}": "v" * 1000 for i in range(200)},
    }
    alert = normalize_body(json.dumps(body)).alerts[0]
    assert len(alert.title) == common.TITLE_MAX and alert.title.endswith("…")
    assert len(alert.description) == common.DESCRIPTION_MAX and alert.description.endswith("…")
    assert len(alert.labels) == common.LABELS_MAX
    assert max(map(len, alert.labels.values())) == common.LABEL_VALUE_MAX


def test_title_cut_does_not_split_base_and_mark() -> None:
    """Cutting a title of "e + combining acute" pairs never leaves a bare accent or a lone "e"."""
    alert = normalize_body(json.dumps({"title": "e\u0301" * 300})).alerts[0]
    body = alert.title.removesuffix("…")
    assert body.startswith("e\u0301") and body.endswith("e\u0301")


#: What a reader sees as one character but is several code points.
CLUSTERS = {
    "flag": "\U0001f1ef\U0001f1f5",
    "devanagari": "\u0928\u093f",
    "conjunct": "\u0915\u094d\u0937\u093f",
    "zwj emoji": "\U0001f469\u200d\U0001f4bb",
    "family": "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466",
    "skin tone": "\U0001f44d\U0001f3fd",
    "keycap": "1\ufe0f\u20e3",
    "subdivision flag": "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f",
    "hangul jamo": "\u1100\u1161\u11a8",
    "thai sara am": "\u0e01\u0e33",
    "crlf": "\r\n",
}


@pytest.mark.parametrize("name", sorted(CLUSTERS))
def test_title_cut_keeps_each_character_whole(name: str) -> None:
    """A title cut at any offset keeps a flag, joined emoji, conjunct or jamo whole or drops it."""
    cluster = CLUSTERS[name]
    for pad in range(len(cluster) + 1):
        title = common.cut(
            "x" * (common.TITLE_MAX - 1 - pad) + cluster * 3, common.TITLE_MAX, ellipsis=True
        )
        kept = title.removesuffix("…").lstrip("x")
        assert kept == cluster * (len(kept) // len(cluster)), (pad, kept)


def test_cuts_fall_on_the_unicode_segmenter_s_boundaries() -> None:
    """Every cut of 2,000 random mixed-script texts ends where the regex package's \\X does."""
    rng = random.Random(20261130)
    pieces = [*CLUSTERS.values(), "a", " ", "\u4e2d", "e\u0301\u0302", "\u0600\u0661", "x\u200c"]
    segment = regex.compile(r"\X")
    for _ in range(2000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 30)))
        boundaries = {0} | {m.end() for m in segment.finditer(text)}
        for limit in range(1, len(text)):
            for ellipsis in (False, True):
                out = common.cut(text, limit, ellipsis=ellipsis).removesuffix("…")
                assert len(out) + ellipsis <= limit
                # A trailing zero-width joiner is dropped on purpose (it would join the "…").
                assert len(out) in boundaries or text[len(out)] == "\u200d", (text, limit)


def test_lone_surrogate_in_a_title_is_replaced() -> None:
    """A lone surrogate escape cannot poison storage: it becomes U+FFFD and the alert encodes."""
    alert = normalize_body('{"title": "disk \\ud800 full"}').alerts[0]
    assert alert.title == "disk \ufffd full"
    alert.model_dump_json().encode("utf-8")


def test_unknown_shape_names_every_format_tried() -> None:
    """An unrecognised object is an UnknownFormatError listing the formats and its keys."""
    with pytest.raises(UnknownFormatError) as caught:
        normalize_body(json.dumps({"hello": "world", "note": "not an alert of any known format"}))
    message = str(caught.value)
    for fmt in FORMATS:
        assert fmt.name in message
    assert "'hello'" in message


def test_hostile_keys_in_the_error_message_are_tamed() -> None:
    """Top-level keys quoted in the error are cut and cleaned of control characters: a
    500-character key adds less than a hundred to the error an ordinary key gives (which names
    every format, a list that grows with them)."""
    with pytest.raises(UnknownFormatError) as caught:
        normalize_body(json.dumps({"\x1b[2J" + "k" * 500: 1}))
    with pytest.raises(UnknownFormatError) as ordinary:
        normalize_body(json.dumps({"k": 1}))
    assert "\x1b" not in str(caught.value)
    assert len(str(caught.value)) < len(str(ordinary.value)) + 100


@pytest.mark.parametrize(
    "body",
    [
        {"alerts": "not a list", "groupKey": "x"},
        {"alerts": [], "orgId": "1", "truncatedAlerts": "many"},
        {"alerts": [None], "version": "4"},
        {"detail-type": "CloudWatch Alarm State Change", "source": "aws.cloudwatch", "detail": []},
        {"detail-type": "CloudWatch Alarm State Change", "detail": {"alarmName": "a", "state": {}}},
        {"AlarmName": "a", "NewStateValue": "ALARM"},
        {
            "AlarmName": ["a"],
            "NewStateValue": "ALARM",
            "AWSAccountId": "1",
            "Region": "EU (Ireland)",
        },
        {"AlarmName": "a", "NewStateValue": "ALARM", "AlarmArn": 7, "Region": None},
        {"data": {"issue": []}, "action": "created", "installation": {}},
        {"data": {"metric_alert": {"alert_rule": None}}, "action": "critical", "actor": {}},
        {"data": {"event": {"tags": "x"}}, "action": "triggered", "actor": {}},
        {"event_type": "threshold_alert", "state": "triggered", "rule_id": {}, "host": "h"},
        {"ruleId": [], "state": "alerting", "ruleName": "r"},
        {"title": "t", "labels": "not an object"},
        {"title": "t", "timestamp": 1e308, "runbook": ["https://x"]},
    ],
)
def test_odd_objects_fail_cleanly(body: dict[str, Any]) -> None:
    """Half-matching shapes parse or raise a deliberate TriageError, never a crash."""
    outcome = _outcome(body)
    if isinstance(outcome, TriageError):
        assert outcome.__cause__ is None, outcome.__cause__


def _outcome(payload: dict[str, Any]) -> Normalized | TriageError:
    try:
        return normalize_payload(payload)
    except TriageError as exc:
        return exc


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(value, dict):
        for key, child in value.items():
            yield (*prefix, key)
            yield from _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for i, child in enumerate(value[:1]):
            yield (*prefix, i)
            yield from _paths(child, (*prefix, i))


def _replace(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    """`value` with the node at `path` swapped for `new`: the objects and lists on the path are
    copied, the rest shared with `value` (a deep copy per mutation was most of these tests'
    own time). The tests check that normalising leaves `value` as it was."""
    if not path:
        return new
    step, rest = path[0], path[1:]
    copied = copy.copy(value)  # keeps a subclass (decode's PostedAlerts) and its attributes
    copied[step] = _replace(value[step], rest, new)
    return copied


@pytest.mark.parametrize("name", REPRESENTATIVES)
def test_every_field_replaced_by_garbage_fails_cleanly(name: str) -> None:
    """Any field of a real payload swapped for garbage gives a result or a deliberate TriageError."""
    payload = decode_body(read(name))
    pristine = copy.deepcopy(payload)
    checked = 0
    for path in _paths(payload):
        for hostile in HOSTILE_VALUES:
            result = _outcome(_replace(payload, path, hostile))
            if isinstance(result, TriageError):
                # Deliberate validation, not the last-resort wrapper around an unforeseen crash.
                assert result.__cause__ is None, (path, hostile, result.__cause__)
                continue
            for alert in result.alerts:
                assert alert.title and alert.occurred_at.tzinfo is not None
                alert.model_dump_json().encode("utf-8")
            checked += 1
    assert checked > 0
    assert payload == pristine  # no mutation changed what the others were made from


#: What a display-only field is swapped for: every JSON type, an empty and a 100 KB string, and
#: text holding a NUL, an ANSI escape, a bidi override and isolate.
DISPLAY_VALUES: list[Any] = [
    None, True, 0, 1.5, -1, "", "x" * 100_000, ["a", {"b": None}], {"a": {"b": [1, None, True]}},
    "a\x00b\u202ec\u2066d\x1b[31m\r\ne",
]  # fmt: skip

#: Per format (`FORMATS`), the dotted paths that identify an alert, give its state or make its
#: format recognisable (a path under "labels" is identity too); every other field is display-only.
NOT_DISPLAY: dict[str, set[str]] = {
    "lambda-destination": {
        "requestContext", "requestContext.functionArn", "requestContext.condition",
        "responseContext", "KinesisBatchInfo", "KinesisBatchInfo.streamArn",
        "DDBStreamBatchInfo", "DDBStreamBatchInfo.streamArn",
        "KafkaBatchInfo", "KafkaBatchInfo.eventSourceArn",
    },
    "pipes-dead-letter": {
        "context", "context.partnerResourceArn", "KinesisBatchInfo", "KinesisBatchInfo.streamArn",
        "DDBStreamBatchInfo", "DDBStreamBatchInfo.streamArn",
    },
    "eventbridge-subscriber-dead-letter": {"subscriberArn", "targetArn", "failedMessages"},
    "sns-confirmation": {"Type", "TopicArn", "Message"},
    "sns-text": {"Type", "TopicArn", "Message", "Subject"},
    "cloudwatch-alarm": {
        "AlarmName", "AWSAccountId", "Region", "AlarmArn", "NewStateValue",
        "AlarmContributorAttributes", "AlarmContributorAttributes.TableName",
    },
    "cloudwatch-eventbridge": {
        "detail-type", "source", "account", "region", "resources", "resources.0", "detail",
        "detail.alarmName", "detail.state", "detail.state.value", "detail.alarmContributor",
        "detail.alarmContributor.attributes", "detail.alarmContributor.attributes.TableName",
        "alarmData", "alarmData.alarmName", "alarmData.state", "alarmData.state.value",
    },
    "eventbridge": {
        "detail-type", "source", "account", "region", "resources", "resources.0", "detail",
        "detail.containers.0.exitCode", "detail.eventArn", "detail.affectedAccount", "detail.statusCode", "detail.id",
        "detail.service", "detail.service.archived", "detail.findings", "detail.findings.0",
        "detail.findings.1", "detail.findings.0.Id", "detail.findings.1.Id",
        "detail.findings.0.AwsAccountId", "detail.findings.1.AwsAccountId",
        "detail.findings.0.Workflow", "detail.findings.0.Workflow.Status",
        "detail.findings.1.Workflow", "detail.findings.1.Workflow.Status",
        "detail.findings.0.RecordState", "detail.findings.1.RecordState",
        "detail.findings.0.Compliance", "detail.findings.0.Compliance.Status",
        "detail.findings.1.Compliance", "detail.findings.1.Compliance.Status",
        "detail.eventName", "detail.eventSource", "detail.clusterArn", "detail.group",
        "detail.eventId",
        "detail.lastStatus", "detail.findingArn", "detail.findings.0.finding_info",
        "detail.findings.0.finding_info.uid", "detail.findings.0.cloud.account.uid",
    },
    "grafana": {"alerts", "alerts.0", "alerts.0.status", "status", "version", "orgId"},
    "alertmanager": {"alerts", "alerts.0", "alerts.0.status", "status", "version", "receiver"},
    "grafana-legacy": {"ruleId", "state", "orgId"},
    # Posted alerts: endsAt gives the state.
    "prometheus": {"alerts", "alerts.0", "alerts.0.endsAt", "alerts.1.endsAt", "alerts.2.endsAt"},
    "sentry": {
        "action", "data", "data.issue", "data.issue.id", "data.event", "data.event.issue_id",
        "data.metric_alert", "data.metric_alert.alert_rule", "data.metric_alert.alert_rule.id",
    },
    "sentry-plugin": {"id", "event"},
    # A service hook is known by its three objects, and its issue by the group's id.
    "sentry-service-hook": {"group", "group.id", "event", "project"},
    "threshold": {"event_type", "state", "rule_id", "device_id", "metric"},
    "generic": {"title", "dedup_key", "status"},
    # $ALERT_ID is `alert_id`, `monitor_id` or `alert.id`, as the template names it.
    # The default payload's message (`body`) ends with the monitor's link, which keys it.
    "datadog": {"title", "alert_transition", "aggreg_key", "alert_id", "monitor_id", "alert.id",
                "org", "org.id", "body"},
    # Opsgenie: the message and entity key an alert whose alias is its own alertId.
    "opsgenie": {"action", "alert", "alert.alertId", "alert.alias", "alert.message",
                 "alert.entity"},
    # PagerDuty, New Relic, Dynatrace, Grafana OnCall: what their outages share keys them.
    "pagerduty": {"event", "event.event_type", "event.resource_type", "event.data", "event.data.id",
                  "event.data.service", "event.data.service.id", "event.data.incident_key",
                  "event.data.title",
                  # A priority change without a priority to read changes no ticket.
                  "event.data.priority", "event.data.priority.summary"},
    "newrelic": {"id", "issueUrl", "title", "state", "trigger", "alertPolicyNames",
                 # The same, under the workflow variables' own names.
                 "issueId", "issuePageUrl", "issueTitle", "triggerEvent",
                 "alertPolicyNames.0", "alertConditionNames", "alertConditionNames.0",
                 "condition_name", "conditionFamilyId", "impactedEntities", "impactedEntities.0"},
    # Splunk Observability: the detector, its rule and the signal (its dimensions) key it.
    "splunk-o11y": {"sf_schema", "incidentId", "status", "statusExtended", "detectorId",
                    "detectorUrl", "detector", "rule", "dimensions", "dimensions.sf_service",
                    "dimensions.sf_environment", "dimensions.team"},
    "newrelic-legacy": {"incident_id", "current_state", "account_id", "condition_id",
                        "condition_name", "policy_name", "targets", "targets.0", "targets.0.id",
                        "targets.0.name"},
    "azure": {"schemaId", "data", "data.essentials", "data.essentials.alertId",
              "data.essentials.monitorCondition", "data.essentials.signalType",
              "data.essentials.alertRule", "data.essentials.alertTargetIDs",
              "data.essentials.alertTargetIDs.0"},
    "gcp": {"incident", "incident.incident_id", "incident.state", "incident.scoping_project_id",
            "version", "incident.policy_name", "incident.condition_name", "incident.condition",
            "incident.condition.name", "incident.resource", "incident.resource.type",
            "incident.metric"},
    "uptimekuma": {"heartbeat", "heartbeat.status", "monitor", "monitor.id", "monitor.name"},
    # A per-result row's host keys it.
    "splunk": {"sid", "results_link", "search_name", "result", "result.host", "app", "owner"},
    "rollbar": {"event_name", "data", "data.item", "data.item.id"},
    "honeybadger": {"event", "message", "fault", "fault.id", "site", "site.id", "check_in",
                    "check_in.id", "alarm", "alarm.id"},
    "pingdom": {"check_id", "check_name", "previous_state", "current_state"},
    "bugsnag": {"account", "project", "trigger", "trigger.type", "trigger.stateChange", "error",
                "error.errorId"},
    "dynatrace": {"PID", "State", "ProblemTitle", "ImpactedEntities", "ImpactedEntities.0",
                  "ImpactedEntities.0.entity", "ImpactedEntity"},
    "honeycomb": {"id", "name", "status", "result_groups_triggered", "is_test"},
    "grafana-oncall": {"event", "event.type", "alert_group", "alert_group.id",
                       "alert_group.integration_id", "alert_group.title", "integration",
                       "integration.id", "alert_payload", "alert_payload.groupKey"},
    "statuscake": {"Name", "URL", "Status", "StatusCode"},
    "betterstack": {"event", "data", "data.id", "data.type", "data.attributes",
                    "data.attributes.event", "data.relationships", "data.relationships.monitor",
                    "data.relationships.monitor.data", "data.relationships.monitor.data.id"},
    "uptimerobot": {"monitorID", "alertType", "alertTypeFriendlyName"},
    "checkly": {"check_id", "alert_type"},
    "raygun": {"event", "error", "error.url", "application"},
    "statuspage": {
        "meta", "page", "page.id", "incident", "incident.id", "incident.status",
        "component_update", "component_update.component_id", "component_update.new_status",
        "component", "component.id", "component.status",
    },
    "kapacitor": {"id", "level"},
    "freshping": {"webhook_event_data", "webhook_event_data.check_id",
                  "webhook_event_data.check_state_name"},
    "graylog": {"event_definition_id", "event", "event.key"},
    # The repository, workflow and branch key a run; its action and conclusion give its state;
    # its run object, action and repository make the format known.
    "github-actions": {"action", "workflow_run", "workflow_run.workflow_id",
                       "workflow_run.head_branch", "workflow_run.conclusion", "repository",
                       "repository.full_name"},
    # The monitor's key and environment key it, its type gives its state; its name, type and
    # links make the format known.
    "cronitor": {"id", "monitor", "type", "environment", "monitor_url", "issue_url"},
    # A Chatbot custom notification's thread keys it; its source and content object (with a
    # description or title) make the format known.
    "chatbot-custom": {"version", "source", "content", "content.description", "content.title",
                       "metadata", "metadata.threadId"},
    # The project's and error group's ids key it; the error object and its page make the
    # format known.
    "airbrake": {"error", "error.id", "error.project", "error.project.id", "airbrake_error_url"},
    # The alert's id keys it, its clear resolves it, a user's test is skipped; the alert object
    # and its trigger time make the format known.
    "librato": {"alert", "alert.id", "trigger_time", "clear", "triggered_by_user_test"},
    # The monitor's id keys it (else the id in its dashboard link); its status gives its state;
    # its name, status and id or link make the format known.
    "site24x7": {"MONITOR_ID", "MONITOR_DASHBOARD_LINK", "STATUS", "MONITORNAME"},
    # An alert is keyed by its space, alert and chart (and node when named), its severity
    # gives its state; a node's reachability by its host and status; the Test body by its
    # three keys and its title.
    "netdata": {"alert", "chart", "space", "host", "node", "severity", "status",
                "status.reachable", "status.text", "title"},
    "aws-notice": {
        "Event Source", "Event ID", "Source ID", "Source ARN", "Service", "Event",
        "AutoScalingGroupARN", "ElastiCache:SnapshotFailed", "MemoryDB:ClusterProvisioningFailed",
        "anomalyId", "monitorArn",
        "accountId", "notificationRuleArn", "detailType", "source", "account", "region",
        "resources", "resources.0", "detail", "detail.state", "messageType", "recordVersion",
        "notificationCreationTime", "awsAccountId", "awsRegion", "configRuleName",
        "resourceType", "resourceId", "newEvaluationResult",
        "newEvaluationResult.complianceType", "SourceId", "Resource", "About this Event",
        "event", "template", "eventTriggerName", "deploymentId", "applicationName",
        "deploymentGroupName", "status", "commandId", "documentName", "instanceId",
        "insightId",
    },
}  # fmt: skip
#: Azure Service Health is keyed by its event's tracking id, and its stage gives its state.
_AZURE_SERVICE_HEALTH = {
    "data.alertContext", "data.alertContext.properties",
    "data.alertContext.properties.trackingId", "data.alertContext.properties.stage",
}  # fmt: skip
#: Azure Resource Health is keyed by its resource, and its health status gives its state.
_AZURE_RESOURCE_HEALTH = {
    "data.essentials.alertTargetIDs", "data.essentials.alertTargetIDs.0",
    "data.alertContext", "data.alertContext.properties.currentHealthStatus",
}  # fmt: skip
#: An Azure log search alert is keyed by its rule, targets and dimensions (its signal type says
#: it is one), not by its alert instance.
_AZURE_LOG_SEARCH = {
    "data.essentials.signalType", "data.essentials.alertRule", "data.essentials.alertTargetIDs",
    "data.essentials.alertTargetIDs.0", "data.alertContext", "data.alertContext.condition",
    "data.alertContext.condition.allOf", "data.alertContext.condition.allOf.0",
    "data.alertContext.condition.allOf.0.dimensions",
    "data.alertContext.condition.allOf.0.dimensions.0",
    "data.alertContext.condition.allOf.0.dimensions.0.name",
    "data.alertContext.condition.allOf.0.dimensions.0.value",
}  # fmt: skip
#: Samples where a field is more than shown: without a dedup_key a script's source is identity,
#: without a device_id the host is; a contact-point test is known by its rule name, an activity
#: alert's resolution by its issue's status and activity.
NOT_DISPLAY_IN: dict[str, set[str]] = {
    "generic/no-dedup-key.json": {"source"},
    "generic/labels-team-sev1.json": {"source"},
    "generic/state-resolved.json": {"source"},
    "threshold/host-only.json": {"host"},
    "grafana/legacy-test-notification.json": {"ruleName"},
    # Honeybadger's Test button is known by its fault's class and message.
    "tools/honeybadger-test.json": {"fault.klass", "fault.message"},
    "sentry/activity-alert-resolved.json": {"data.issue.status", "data.activity", "data.activity.type"},
    # DMS names its task only on its console link's second line ("SourceId: …").
    "aws/dms-task-stopped.json": {"Identifier Link"},
    # Without the topic, a DMS or Redshift event's Region is its console link's.
    "aws/dms-task-failed.json": {"Identifier Link"},
    "aws/redshift-resize-failed.json": {"Identifier Link"},
    # A Raygun status change's type and new status give its state.
    "raygun/status-changed.json": {"eventType", "error.status"},
    "raygun/status-active.json": {"eventType", "error.status"},
    # A DMS event's type names its source type, its id (else its type) its condition.
    "eventbridge/dms-task-failed.json": {"detail.type", "detail.eventId", "detail.eventType"},
    "eventbridge/dms-task-started.json": {"detail.type", "detail.eventId", "detail.eventType"},
    # Security Hub's copy of a Macie finding is Macie's incident only while its product ARN
    # names Macie (its id, no ARN, proves nothing); the finding's Region keys it.
    "eventbridge/securityhub-macie-finding.json": {
        "detail.findings.0.ProductArn", "detail.findings.0.Region",
    },
    "eventbridge/securityhub-v2-macie-finding.json": {
        "detail.findings.0.metadata", "detail.findings.0.metadata.product",
        "detail.findings.0.metadata.product.uid", "detail.findings.0.cloud.region",
    },
    # A service's state change: the keys that identify its resource, and its state.
    "eventbridge/autoscaling-launch-successful.json": {"detail.AutoScalingGroupName"},
    "eventbridge/devops-guru-insight-open.json": {"detail.insightId"},
    "eventbridge/devops-guru-insight-closed.json": {"detail.insightId"},
    "eventbridge/synthetics-canary-failed.json": {"detail.canary-name"},
    "eventbridge/synthetics-canary-passed.json": {"detail.canary-name"},
    # The check, and (its resource_id empty) the details that name the item, key it.
    "eventbridge/trustedadvisor-service-limit.json": {
        "detail.check-name", "detail.resource_id", "detail.check-item-detail",
        "detail.check-item-detail.Limit Name", "detail.check-item-detail.Region",
        "detail.check-item-detail.Service",
    },
    # The function and its error type key it, as its record sent to a queue is keyed.
    "eventbridge/lambda-invocation-failure.json": {
        "detail.requestContext", "detail.requestContext.functionArn",
        "detail.responsePayload", "detail.responsePayload.errorType",
    },
    "eventbridge/autoscaling-launch-unsuccessful.json": {"detail.AutoScalingGroupName"},
    "eventbridge/backup-job-completed.json": {"detail.resourceArn", "detail.state"},
    "eventbridge/backup-job-failed.json": {"detail.resourceArn", "detail.state"},
    "eventbridge/batch-job-failed.json": {"detail.jobQueue", "detail.jobName", "detail.status"},
    "eventbridge/batch-job-succeeded.json": {"detail.jobQueue", "detail.jobName", "detail.status"},
    "eventbridge/codebuild-build-failed.json": {"detail.project-name", "detail.build-status"},
    "eventbridge/codebuild-build-succeeded.json": {"detail.project-name", "detail.build-status"},
    "eventbridge/codepipeline-stage-failed.json": {"detail.pipeline", "detail.stage", "detail.state"},
    "eventbridge/codepipeline-stage-succeeded.json": {"detail.pipeline", "detail.stage", "detail.state"},
    "eventbridge/emr-cluster-failed.json": {"detail.name", "detail.state"},
    "eventbridge/emr-cluster-running.json": {"detail.name", "detail.state"},
    "eventbridge/glue-job-failed.json": {"detail.jobName", "detail.state"},
    "eventbridge/glue-job-succeeded.json": {"detail.jobName", "detail.state"},
    "eventbridge/stepfunctions-execution-failed.json": {"detail.stateMachineArn", "detail.status"},
    "eventbridge/stepfunctions-execution-succeeded.json": {"detail.stateMachineArn", "detail.status"},
    # A test message is known by its monitor's and state's variables left unfilled.
    "uptimerobot/test-notification.json": {"monitorFriendlyName"},
    # Freshping's test message is known by its application's name.
    "freshping/test.json": {"webhook_event_data.application_name"},
    # AWS Backup states the job, its state and account in message attributes.
    "aws/backup-job-failed.json": {
        "MessageAttributes.State.Value", "MessageAttributes.EventType.Value",
        "MessageAttributes.AccountId.Value",
    },
    # Azure Monitor's stateless alerts (Service Health, Resource Health, log search).
    **{f"azure/service-health-{n}.json": _AZURE_SERVICE_HEALTH
       for n in ("active", "update", "resolved")},
    **{f"azure/resource-health-{n}.json": _AZURE_RESOURCE_HEALTH
       for n in ("unavailable", "available")},
    **{f"azure/log-stateless-{n}.json": _AZURE_LOG_SEARCH for n in ("fired", "fired-again")},
    # A Better Stack incident sent without its event is known, and its state read, by its status.
    "betterstack/incident-no-event-started.json": {"data.attributes.status"},
    # Uptime Kuma's form-data body holds its JSON body in one field.
    "uptimekuma/form-data-down.json": {"data"},
    # With no monitor, Kuma's msg decides test or notice, and keys a notice.
    "vendors/uptimekuma-test.json": {"msg"},
    # UptimeRobot's snake_case template sends no monitor id: its name and URL identify it, and
    # its alert type (or that type's name) gives its state, as alertType does.
    **{f"uptimerobot/snake-{n}.json": {"monitor_friendly_name", "monitor_url", "alert_type",
                                        "alert_type_friendly_name"} for n in ("down", "up")},
}  # fmt: skip
SAMPLES = sorted(str(path.relative_to(PAYLOADS)) for path in PAYLOADS.rglob("*.json"))
#: Python's way of writing null, booleans and containers, which must never reach alert text.
PYTHON_REPR = regex.compile(r"\b(?:None|True|False)\b|\{'|\['|'\}|'\]")
ONE_LINE_BANNED = regex.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _display_paths(name: str, payload: dict[str, Any]) -> Iterator[tuple[Any, ...]]:
    kept = NOT_DISPLAY[recognise_body(read(name)).format] | NOT_DISPLAY_IN.get(name, set())
    for path in _paths(payload):
        if ".".join(map(str, path)) not in kept and "labels" not in path:
            yield path


def _seen(result: Normalized) -> tuple[list[str], list[str]]:
    return [a.fingerprint for a in result.alerts], [s.reason for s in result.skipped]


def _shown_texts(alert: Any) -> Iterator[str]:
    yield from (alert.title, alert.team or "", alert.severity or "", alert.description)
    yield from alert.labels.values()


@pytest.mark.parametrize("name", SAMPLES)
def test_a_display_only_field_of_any_type_never_costs_the_alert(name: str) -> None:
    """Every display-only field of every sample payload, swapped for any JSON type, a 100 KB
    string or control text, leaves the same alerts (same fingerprints) or skips, and no Python
    repr or control character in what is shown."""
    payload = decode_body(read(name))
    expected = _seen(normalize_payload(payload))
    source_text = json.dumps(payload)
    pristine = copy.deepcopy(payload)
    # How each hostile value is named in a failure: made once, not per field it replaces.
    named = [common.short(hostile, 20) for hostile in DISPLAY_VALUES]
    failures = []
    for path in _display_paths(name, payload):
        for hostile, hostile_named in zip(DISPLAY_VALUES, named, strict=True):
            where = (".".join(map(str, path)), hostile_named)
            result = _outcome(_replace(payload, path, hostile))
            if isinstance(result, TriageError):
                failures.append((*where, str(result)))
                continue
            if _seen(result) != expected:
                failures.append((*where, f"gave {_seen(result)}, not {expected}"))
            told = [*result.notes, *(skip.detail for skip in result.skipped)]
            failures.extend(
                (*where, f"note or skip detail {line[:60]!r}")
                for line in told
                if PYTHON_REPR.search(line) or ONE_LINE_BANNED.search(line)
            )
            for alert in result.alerts:
                for shown in _shown_texts(alert):
                    leaked = PYTHON_REPR.search(shown)
                    if leaked and leaked[0] not in source_text:
                        failures.append((*where, f"Python repr in {shown[:60]!r}"))
                one_line = [alert.title, alert.team or "", alert.severity or ""]
                if any(ONE_LINE_BANNED.search(x) for x in [*one_line, *alert.labels.values()]):
                    failures.append((*where, "control character in a one-line field"))
    assert not failures, failures[:10]
    assert payload == pristine  # no mutation changed what the others were made from


def _separators(n: int) -> str:
    """A generic alert whose title and description are runs of separators, `n` units long."""
    nasty = ("TEAM=" + "=" * 50 + "|" + ":" * 50 + "\\" * 20) * n
    return json.dumps(
        {"title": "t" + " \t" * (25 * n), "description": nasty, "timestamp": "9" * 60}
    )


def test_separator_runs_do_not_backtrack() -> None:
    """Runs of separators cost time in proportion to their length, across the sizes the
    normaliser's cleaning sees (it keeps at most 4 times a field's limit): no regex blow-up."""
    assert_linear(lambda n: normalize_body(_separators(n)), 15)


def test_a_near_1_mib_body_of_separators_normalises() -> None:
    """The same shape at ~0.8 MiB is read, its fields cut to their limits."""
    alert = normalize_body(_separators(4000)).alerts[0]
    assert alert.title == "t"
    assert len(alert.description or "") <= common.DESCRIPTION_MAX


def test_non_json_body_is_a_decode_error_through_normalize() -> None:
    """normalize_body reports a truncated body as a DecodeError (a PermanentError)."""
    with pytest.raises(DecodeError):
        normalize_body('{"AlarmName": "orders-queue-depth", "NewStateValue": "ALA')


@pytest.mark.parametrize("kind", [["Notification"], {"a": 1}, 7, None])
def test_a_type_field_that_is_not_text_is_not_taken_for_sns(kind: Any) -> None:
    """A generic alert whose `Type` is a list, object or number is still a generic alert."""
    body = json.dumps({"title": "disk full", "dedup_key": "disk", "Type": kind, "TopicArn": "t"})
    [alert] = normalize_body(body).alerts
    assert (alert.source, alert.title) == ("generic", "disk full")
