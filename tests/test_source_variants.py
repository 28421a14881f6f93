"""Real-world variants of every source, through the entry point the pipeline uses
(`normalize_body`): each becomes the right canonical alerts, or a Skipped or permanent error that
names why; never a crash, a wrong fingerprint or a silently dropped alert."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from triage.errors import DecodeError, PermanentError, UnknownFormatError
from triage.models import Alert, Priority, Status
from triage.normalize import Normalized, normalize_body, recognise_body
from triage.normalize.cloudwatch import parse_description

PAYLOADS = Path(__file__).parent / "payloads"


def load(name: str) -> Normalized:
    return normalize_body((PAYLOADS / name).read_text(encoding="utf-8"))


def only(name: str) -> Alert:
    result = load(name)
    assert len(result.alerts) == 1, result
    return result.alerts[0]


def sample(name: str) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads((PAYLOADS / name).read_text(encoding="utf-8"))
    return payload


def run(payload: dict[str, Any]) -> Normalized:
    return normalize_body(json.dumps(payload))


def inner(name: str) -> dict[str, Any]:
    """The alarm message inside a sample SNS envelope."""
    message: dict[str, Any] = json.loads(sample(name)["Message"])
    return message


# --- CloudWatch ------------------------------------------------------------------------------


def test_composite_alarm_sns_and_eventbridge_share_one_incident() -> None:
    """A composite alarm (AlarmRule, no Trigger) read from its SNS message and its EventBridge
    event is one alert: same fingerprint, status, team, priority and runbook."""
    sns = only("cloudwatch/sns-composite.json")
    event = only("cloudwatch/eventbridge-composite.json")
    assert sns.fingerprint == event.fingerprint
    for alert in (sns, event):
        assert (alert.status, alert.title, alert.team) == (
            Status.FIRING,
            "checkout-degraded",
            "payments",
        )
        assert alert.priority is Priority.CRITICAL
        assert alert.runbook_url == "https://runbooks.example.com/checkout/degraded"
        assert alert.labels["alarm_type"] == "composite"
        assert alert.labels["triggering_alarms"] == "orders-api-5xx-ratio"
    assert "metric" not in sns.labels  # no Trigger: nothing invented


def test_composite_alarm_ok_alarm_ok_sequence_keeps_its_fingerprint() -> None:
    """OK→ALARM→OK of one alarm: firing then resolved, one fingerprint, times in order."""
    fired = inner("cloudwatch/sns-composite.json")
    back = dict(fired, NewStateValue="OK", OldStateValue="ALARM")
    back["StateChangeTime"] = "2026-11-23T10:20:00.000+0000"
    first, second = run(fired).alerts[0], run(back).alerts[0]
    assert (first.status, second.status) == (Status.FIRING, Status.RESOLVED)
    assert first.fingerprint == second.fingerprint
    assert second.occurred_at > first.occurred_at


@pytest.mark.parametrize(
    ("new", "old"), [("INSUFFICIENT_DATA", "ALARM"), ("ALARM", "INSUFFICIENT_DATA")]
)
def test_insufficient_data_both_ways(new: str, old: str) -> None:
    """Into INSUFFICIENT_DATA changes no ticket (Skipped, named); out of it into ALARM fires."""
    result = run(dict(inner("cloudwatch/sns-composite.json"), NewStateValue=new, OldStateValue=old))
    if new == "INSUFFICIENT_DATA":
        assert result.alerts == ()
        assert [s.reason for s in result.skipped] == ["insufficient_data"]
    else:
        assert [a.status for a in result.alerts] == [Status.FIRING]
        assert result.alerts[0].labels["old_state"] == "INSUFFICIENT_DATA"


def test_metric_math_alarm_through_a_fifo_topic() -> None:
    """A metric-math alarm (Trigger.Metrics, no MetricName) in a FIFO topic's envelope
    (SequenceNumber) is read like any other: every query summarised, identity from the ARN."""
    alert = only("cloudwatch/sns-fifo-metric-math.json")
    assert alert.identity == {
        "account": "123456789012",
        "region": "eu-west-1",
        "alarm": "orders-5xx-rate",
    }
    assert alert.labels["alarm_type"] == "metric_math"
    assert alert.labels["metrics"].startswith("e1 = 100 * m1 / m2 (5xx rate (%))")
    assert "m2 = AWS/ApplicationELB RequestCount Sum" in alert.labels["metrics"]


def test_one_line_description_segments_separated_by_spaces() -> None:
    """TEAM=… PRIORITY=… RUNBOOK=… on one line, separated by spaces, each reach their field;
    the runbook link keeps its own ?team=…&priority=… query intact."""
    alert = only("cloudwatch/sns-fifo-metric-math.json")
    assert alert.team == "orders"
    assert alert.priority is Priority.HIGH
    assert alert.runbook_url == "https://runbooks.example.com/orders/5xx?team=orders&priority=p1"


@pytest.mark.parametrize(
    ("description", "facts", "free"),
    [
        ("TEAM=ops PRIORITY=P1", {"team": "ops", "priority": "P1"}, ""),
        ("team=ops, priority=p2", {"team": "ops", "priority": "p2"}, ""),
        ("TEAM =ops ;PRIORITY= p2", {"team": "ops", "priority": "p2"}, ""),
        ("Team: ops  Severity: high", {"team": "ops", "severity": "high"}, ""),
        ("[TEAM=ops] [PRIORITY=P1]", {"team": "ops", "priority": "P1"}, ""),
        ("(team=ops)", {"team": "ops"}, ""),
        ("team=ops, ;", {"team": "ops"}, ""),
        ("TEAM=ops / PRIORITY=P1", {"team": "ops", "priority": "P1"}, ""),
        ("TEAM=ops-team - PRIORITY=P1", {"team": "ops-team", "priority": "P1"}, ""),
        ("CPU high\nTEAM=ops PRIORITY=P0", {"team": "ops", "priority": "P0"}, "CPU high"),
        ("Ask the team: they know", {}, "Ask the team: they know"),
        (
            "RUNBOOK=https://r.example/x?team=a&priority=b",
            {"runbook": "https://r.example/x?team=a&priority=b"},
            "",
        ),
    ],
)
def test_description_segments_in_odd_spacing(
    description: str, facts: dict[str, str], free: str
) -> None:
    """Segments on one line split at each known key, whatever separates them (spaces, commas,
    semicolons, brackets); prose that only mentions a key stays prose."""
    assert parse_description(description) == (facts, free)


def test_alarm_without_dimensions_bracketed_segments_and_sev_priority() -> None:
    """An account-level alarm (Dimensions: []) raw-delivered: no dimensions label, its
    "[Team=finops] [Priority=sev2]" segments read, the rest kept as text."""
    alert = only("cloudwatch/raw-no-dimensions.json")
    assert "dimensions" not in alert.labels
    assert (alert.team, alert.priority) == ("finops", Priority.HIGH)
    assert alert.description.startswith("Estimated charges above budget")
    assert alert.labels["old_state"] == "INSUFFICIENT_DATA"


def test_cross_account_alarm_is_identified_by_its_arn() -> None:
    """When AWSAccountId and the ARN's account disagree (a message rewritten by a forwarder),
    the ARN wins, as it does for the EventBridge form: one alarm, one fingerprint."""
    message = inner("cloudwatch/sns-composite.json")
    moved = run(dict(message, AWSAccountId="999999999999")).alerts[0]
    assert moved.identity["account"] == "123456789012"
    assert moved.fingerprint == only("cloudwatch/eventbridge-composite.json").fingerprint


def test_sns_confirmations_make_no_ticket() -> None:
    """SubscriptionConfirmation and UnsubscribeConfirmation are Skipped with a reason that tells
    the operator what to do, never an alert."""
    for name, reason in (
        ("sns/subscription-confirmation.json", "subscription_confirmation"),
        ("sns/unsubscribe-confirmation.json", "unsubscribe_confirmation"),
    ):
        result = load(name)
        assert result.alerts == ()
        assert [s.reason for s in result.skipped] == [reason]


@pytest.mark.parametrize("state", ["ALARM", "OK"])
def test_alarm_encoded_twice_in_sns_keeps_its_state_and_fingerprint(state: str) -> None:
    """A forwarder that JSON-encodes the alarm's JSON again (Message = "\"{…}\"") still
    delivers the alarm: its state and fingerprint, not an SNS text alert per Subject (whose OK
    opened a second, firing incident)."""
    envelope = sample("cloudwatch/sns-composite.json")
    message = dict(inner("cloudwatch/sns-composite.json"), NewStateValue=state)
    twice = dict(envelope, Message=json.dumps(json.dumps(message)))
    [alert] = run(twice).alerts
    assert alert.source == "cloudwatch"
    assert alert.status is (Status.FIRING if state == "ALARM" else Status.RESOLVED)
    assert alert.fingerprint == only("cloudwatch/sns-composite.json").fingerprint


def test_body_encoded_twice_is_read_once() -> None:
    """A raw body that is an alert's JSON inside a JSON string is that alert; encoded three
    times it is still refused, saying how often it was encoded, not unwrapped without end."""
    once = (PAYLOADS / "generic/labels-team-sev1.json").read_text(encoding="utf-8")
    [alert] = normalize_body(json.dumps(once)).alerts
    assert alert.fingerprint == only("generic/labels-team-sev1.json").fingerprint
    with pytest.raises(DecodeError, match="an object's JSON encoded 3 times"):
        normalize_body(json.dumps(json.dumps(once)))


def test_a_json_string_of_prose_in_sns_is_still_text() -> None:
    """A Message that is a JSON string of prose ("\"disk full\"") stays an SNS text alert."""
    envelope = dict(sample("sns/text-message.json"), Message=json.dumps("disk full on db-7"))
    [alert] = run(envelope).alerts
    assert alert.source == "sns"


def test_alertmanager_default_sns_text_resolves_its_group() -> None:
    """Alertmanager's default SNS template (text; Subject "[FIRING:1] group" / "[RESOLVED]
    group") fires and resolves one incident, titled by the group, not a firing ticket per
    Subject."""
    fired = only("sns/alertmanager-default-firing.json")
    resolved = only("sns/alertmanager-default-resolved.json")
    assert (fired.status, resolved.status) == (Status.FIRING, Status.RESOLVED)
    assert fired.title == resolved.title == "HighRequestLatency (checkout page payments)"
    assert fired.fingerprint == resolved.fingerprint


def test_group_subject_count_and_cut_keep_the_incident() -> None:
    """The count of firing alerts ([FIRING:1] → [FIRING:12]) and where SNS's 100-character cut
    falls for each bracket leave the group's fingerprint as it was."""
    envelope = sample("sns/alertmanager-default-firing.json")
    group = "HighRequestLatency (" + " ".join(f"checkout-{i}:8080" for i in range(9)) + ")"
    fingerprints = {
        run(dict(envelope, Subject=f"{bracket} {group}"[:99] + "…")).alerts[0].fingerprint
        for bracket in ("[FIRING:1]", "[FIRING:12]", "[RESOLVED]")
    }
    assert len(fingerprints) == 1


@pytest.mark.parametrize("subject", ["[FIRING:1]", "[Firing] backups", "DB failover [RESOLVED]"])
def test_other_subjects_fire_as_they_are(subject: str) -> None:
    """A subject that only looks like the bracket (empty group, another word, the bracket at
    the end) fires, titled by the whole subject."""
    envelope = dict(sample("sns/alertmanager-default-firing.json"), Subject=subject)
    alert = run(envelope).alerts[0]
    assert (alert.status, alert.title) == (Status.FIRING, subject)


def test_raw_delivered_plain_text_is_a_clear_permanent_error() -> None:
    """A script's plain-text publish under raw delivery has no envelope to name its topic: a
    DecodeError (DLQ) that says the body is not JSON, not a crash."""
    with pytest.raises(DecodeError, match="not valid JSON"):
        normalize_body("backup failed on db-7")


# --- EventBridge -----------------------------------------------------------------------------


def test_other_service_event_from_a_broad_rule_is_a_generic_alert() -> None:
    """An EC2 state change that a too-broad rule sent is an `eventbridge` alert named by its
    event type and instance (the design's choice: nothing on the queue is lost)."""
    alert = only("eventbridge/ec2-instance-stopped.json")
    assert alert.source == "eventbridge"
    assert alert.title == (
        "EC2 Instance State-change Notification: instance/i-0abcd1234ef567890 stopped"
    )
    assert "state: stopped" in alert.description


@pytest.mark.parametrize("state", ["running", "Pending"])
def test_ec2_instance_running_again_resolves_its_stopped_incident(state: str) -> None:
    """The same rule's later event for the instance (pending, running) resolves the stopped
    instance's incident (same fingerprint) instead of firing it again."""
    stopped = only("eventbridge/ec2-instance-stopped.json")
    event = sample("eventbridge/ec2-instance-stopped.json")
    back = run(dict(event, detail=dict(event["detail"], state=state))).alerts[0]
    assert (stopped.status, back.status) == (Status.FIRING, Status.RESOLVED)
    assert back.fingerprint == stopped.fingerprint


def test_pipeline_execution_that_succeeds_resolves_the_failed_one() -> None:
    """A CodePipeline execution that succeeds resolves the pipeline's failed-execution
    incident; a failed one fires it, a started one changes no ticket."""
    event = {
        "version": "0",
        "id": "01234567-0123-0123-0123-012345678901",
        "detail-type": "CodePipeline Pipeline Execution State Change",
        "source": "aws.codepipeline",
        "account": "123456789012",
        "time": "2026-11-23T12:00:00Z",
        "region": "us-east-1",
        "resources": ["arn:aws:codepipeline:us-east-1:123456789012:orders-deploy"],
        "detail": {"pipeline": "orders-deploy", "execution-id": "e-1", "state": "FAILED"},
    }
    failed, started, succeeded = (
        run(dict(event, detail=dict(event["detail"], state=state)))
        for state in ("FAILED", "STARTED", "SUCCEEDED")
    )
    assert [a.status for a in (*failed.alerts, *succeeded.alerts)] == [
        Status.FIRING,
        Status.RESOLVED,
    ]
    assert failed.alerts[0].fingerprint == succeeded.alerts[0].fingerprint
    assert (started.alerts, started.skipped[0].reason) == ((), "no_state_change")


# --- Grafana ---------------------------------------------------------------------------------


def test_grafana_11_group_reads_values_links_and_truncation() -> None:
    """Grafana 11's fields (values, imageURL, panelURL, dashboardURL, silenceURL, orgId,
    truncatedAlerts) fill the alert; a SEV2 priority label is high; truncation is noted."""
    result = load("grafana/v11-firing-values.json")
    first = result.alerts[0]
    assert first.title == "Disk almost full: Disk on db-7 is 93% full"
    assert (first.team, first.priority) == ("storage", Priority.HIGH)
    assert set(first.links) == {"source", "silence", "dashboard", "panel", "image"}
    assert "Values: B=93.1, C=1" in first.description
    assert any("left 2 alert(s)" in note for note in result.notes)


def test_grafana_alert_with_only_a_rule_uid_is_titled_by_its_rule() -> None:
    """An alert labelled only `__alert_rule_uid__` is identified by it and titled by the rule,
    not by the bare word "alert"."""
    second = load("grafana/v11-firing-values.json").alerts[1]
    assert second.identity == {"__alert_rule_uid__": "fe2kd9"}
    assert second.title == "alert rule fe2kd9"


def test_grafana_test_notifications_are_skipped() -> None:
    """Unified (TestAlert) and legacy (rule 0) contact-point tests are Skipped, never tickets."""
    for name in ("grafana/test-notification.json", "grafana/legacy-test-notification.json"):
        result = load(name)
        assert (result.alerts, [s.reason for s in result.skipped]) == ((), ["test_notification"])


# --- Alertmanager ----------------------------------------------------------------------------


def test_alertmanager_truncated_unicode_group() -> None:
    """Unicode labels are identity as sent; a firing alert whose endsAt is already past stays
    firing (Alertmanager's status decides); the alerts left out (truncatedAlerts) are noted."""
    result = load("alertmanager/truncated-unicode.json")
    [alert] = result.alerts
    assert alert.status is Status.FIRING
    assert alert.identity["cluster"] == "東京-1"
    assert alert.identity["replica"] == "réplique-2 🚀"
    assert (alert.team, alert.priority) == ("données", Priority.MEDIUM)
    assert any("left 5 alert(s)" in note for note in result.notes)


def test_alertmanager_alert_without_generator_url_keeps_its_fingerprint() -> None:
    """An alert with no generatorURL (pushed by a script, not Prometheus) has no source link
    and the same fingerprint: links are never identity."""
    group = sample("alertmanager/truncated-unicode.json")
    entry = {k: v for k, v in group["alerts"][0].items() if k != "generatorURL"}
    [alert] = run(dict(group, alerts=[entry])).alerts
    assert "source" not in alert.links
    assert alert.fingerprint == only("alertmanager/truncated-unicode.json").fingerprint


def test_alerts_without_a_group_envelope_are_read() -> None:
    """`{"alerts": [...]}` alone, as a receiver test posts with curl, is read as Alertmanager
    alerts instead of refused as an unknown format."""
    found = recognise_body((PAYLOADS / "alertmanager/curl-alerts-only.json").read_text())
    assert found.format == "alertmanager"
    [alert] = found.normalized.alerts
    assert (alert.status, alert.title) == (Status.FIRING, "TestAlert: manual test")


def test_alerts_null_is_an_empty_group() -> None:
    """`"alerts": null` (how Go writes an empty list) is an empty group, Skipped, not an
    unknown format; an empty list is the same."""
    group = sample("alertmanager/truncated-unicode.json")
    for empty in (None, []):
        result = run(dict(group, alerts=empty))
        assert result.alerts == ()
        assert [s.reason for s in result.skipped] == ["empty_group"]


def test_generic_alert_listing_labelled_objects_stays_generic() -> None:
    """A generic alert (it has a `title`) whose `alerts` field lists labelled objects is still
    the one generic alert it was, not an Alertmanager group."""
    found = recognise_body(json.dumps({"title": "batch", "alerts": [{"labels": {"a": "b"}}]}))
    assert found.format == "generic"
    assert [a.title for a in found.normalized.alerts] == ["batch"]


def test_generic_alert_with_alerts_null_stays_generic() -> None:
    """A generic alert that happens to carry `"alerts": null` (and a receiver and status)
    is still its one firing alert, not an empty Alertmanager group skipped."""
    body = {"title": "disk full", "status": "firing", "receiver": "ops", "alerts": None}
    found = recognise_body(json.dumps(body))
    assert (found.format, [a.title for a in found.normalized.alerts]) == ("generic", ["disk full"])


def test_objects_without_labels_under_alerts_stay_unknown() -> None:
    """`{"alerts": [{"title": …}]}` is not mistaken for Alertmanager: still an unknown format
    whose error names the keys it saw."""
    with pytest.raises(UnknownFormatError, match="top-level keys: 'alerts'"):
        run({"alerts": [{"title": "a"}, {"title": "b"}]})


# --- Sentry ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "resource"),
    [
        ("sentry/comment-created.json", "comment"),
        ("sentry/error-created.json", "error"),
        ("sentry/installation-deleted.json", "installation"),
        ("sentry/seer-root-cause-completed.json", "seer"),
    ],
)
def test_sentry_resources_that_are_not_alerts_are_skipped(name: str, resource: str) -> None:
    """comment.*, error.created, installation.deleted (uninstall) and Seer webhooks are
    Skipped (unsupported_resource), with or without their Sentry-Hook-Resource header."""
    body = (PAYLOADS / name).read_text(encoding="utf-8")
    for hint in (None, resource):
        result = normalize_body(body, sentry_resource=hint)
        assert result.alerts == ()
        assert [s.reason for s in result.skipped] == ["unsupported_resource"]


def test_sentry_issue_and_event_alert_and_plugin_share_the_issue() -> None:
    """An issue's webhook, an event alert about it and its resolve share one fingerprint."""
    created = only("sentry/issue-created.json")
    resolved = only("sentry/issue-resolved.json")
    assert created.fingerprint == resolved.fingerprint
    assert (created.status, resolved.status) == (Status.FIRING, Status.RESOLVED)


def test_first_legacy_plugin_shape_is_the_plugin_issue() -> None:
    """The first Webhooks plugin's body (id, project, message, culprit, logger, level; no url,
    no event) is the plugin's issue alert, fingerprinted like its later shape, not an unknown
    format."""
    found = recognise_body((PAYLOADS / "sentry/legacy-plugin-minimal.json").read_text())
    assert found.format == "sentry-plugin"
    [alert] = found.normalized.alerts
    assert (alert.status, alert.title, alert.severity) == (
        Status.FIRING,
        "This is an example Python exception",
        "error",
    )
    assert alert.fingerprint == only("sentry/legacy-plugin.json").fingerprint


def test_a_plugin_like_body_with_an_odd_event_stays_unknown() -> None:
    """id, project and culprit with an `event` that is not an object is not guessed at."""
    body = dict(sample("sentry/legacy-plugin-minimal.json"), event="x", url="https://s.example/1")
    with pytest.raises(UnknownFormatError):
        run(body)


# --- generic ---------------------------------------------------------------------------------


def test_generic_team_from_labels_and_sev_priority() -> None:
    """A script's alert whose team is only in `labels` is routed by it; "SEV-1" is critical;
    an epoch-milliseconds timestamp is read; a nested label value is kept as JSON text."""
    alert = only("generic/labels-team-sev1.json")
    assert (alert.team, alert.priority) == ("platform", Priority.CRITICAL)
    assert alert.occurred_at.isoformat() == "2025-11-23T09:00:00.123000+00:00"
    assert alert.labels["host"] == '{"az":"us-east-1a","name":"db-7"}'


def test_generic_state_resolves_like_status() -> None:
    """`"state": "Recovered"` with no `status` resolves the alert `status` would have: the
    same fingerprint, resolved, not a new firing ticket."""
    fired = only("generic/labels-team-sev1.json")
    resolved = only("generic/state-resolved.json")
    assert resolved.status is Status.RESOLVED
    assert resolved.fingerprint == fired.fingerprint


@pytest.mark.parametrize("state", ["CA", "closed", "up", "draft"])
def test_generic_state_that_is_no_alerting_word_is_ignored(state: str) -> None:
    """A `state` that is not an alerting word (a US state, a pull request's "closed", a
    door's "up", a workflow step) leaves the default, firing, rather than resolving,
    skipping or refusing the alert. (One that says nothing changed, `pending`, skips it:
    test_sources_round3f_generic_state.py.)"""
    assert run({"title": "t", "state": state}).alerts[0].status is Status.FIRING


@pytest.mark.parametrize(
    ("word", "status"),
    [
        ("trigger", Status.FIRING),
        ("Re-Triggered", Status.FIRING),
        ("ACTIVE", Status.FIRING),
        ("open", Status.FIRING),
        ("down", Status.FIRING),
        ("resolve", Status.RESOLVED),
        ("RECOVERY", Status.RESOLVED),
        ("clear", Status.RESOLVED),
        ("Cleared", Status.RESOLVED),
        ("closed", Status.RESOLVED),
        ("normal", Status.RESOLVED),
        ("up", Status.RESOLVED),
    ],
)
def test_generic_status_words_of_other_tools(word: str, status: Status) -> None:
    """The status words of Nagios, PagerDuty, Datadog and uptime checks map to firing/resolved."""
    assert run({"title": "t", "status": word}).alerts[0].status is status


def test_generic_unknown_status_is_a_permanent_error_naming_it() -> None:
    """A status no tool uses for firing, resolved or a quiet state is a permanent error
    quoting it."""
    with pytest.raises(PermanentError, match="status 'escalated' is not firing or resolved"):
        run({"title": "t", "status": "escalated"})


@pytest.mark.parametrize("word", ["acknowledged", "ACK", "pending", "Unknown", "no_data"])
def test_generic_quiet_states_change_no_ticket(word: str) -> None:
    """Acknowledged, pending, unknown and no-data states are Skipped (no_state_change, the
    word named), as CloudWatch's INSUFFICIENT_DATA is, instead of going to the DLQ."""
    result = run({"title": "disk full", "status": word})
    assert result.alerts == ()
    [skipped] = result.skipped
    assert skipped.reason == "no_state_change" and repr(word) in skipped.detail


@pytest.mark.parametrize(
    ("word", "priority"),
    [
        ("SEV0", Priority.CRITICAL),
        ("sev1", Priority.CRITICAL),
        ("SEV-1", Priority.CRITICAL),
        ("Sev 2", Priority.HIGH),
        ("sev_3", Priority.MEDIUM),
        ("SEV4", Priority.LOW),
        ("disaster", Priority.CRITICAL),
        ("Average", Priority.MEDIUM),
        ("information", Priority.LOW),
    ],
)
def test_priority_words_of_other_tools(word: str, priority: Priority) -> None:
    """SEV0..SEV4 (SEV1 the worst, as severities read it) and Zabbix's words are priorities."""
    assert run({"title": "t", "priority": word}).alerts[0].priority is priority


@pytest.mark.parametrize(
    ("given", "priority"),
    [
        ("P1 (page the on-call)", Priority.HIGH),
        ("high - customer facing", Priority.HIGH),
        ("Sev 1 - major outage", Priority.CRITICAL),
        ("p 2, business hours", Priority.MEDIUM),
        ("urgent: wake someone", Priority.CRITICAL),
        ("1.5", None),
        ("non-critical", None),
        ("critical!", None),
    ],
)
def test_priority_leading_a_remark(given: str, priority: Priority | None) -> None:
    """A priority followed by a remark is read from its start, in a CloudWatch description as
    in a generic field; a number or word that only starts like one ("1.5", "non-critical")
    is not."""
    message = inner("cloudwatch/sns-composite.json")
    alarm = dict(message, AlarmDescription=f"Checkout is degraded\nTEAM=payments\nPRIORITY={given}")
    assert run(alarm).alerts[0].priority is priority
    assert run({"title": "t", "priority": given}).alerts[0].priority is priority


@pytest.mark.parametrize(
    ("stamp", "iso"),
    [
        (1763888400, "2025-11-23T09:00:00+00:00"),
        ("1763888400", "2025-11-23T09:00:00+00:00"),
        (1763888400123, "2025-11-23T09:00:00.123000+00:00"),
        ("2026-11-23T10:00:00", "2026-11-23T10:00:00+00:00"),
        ("2026-11-23T10:00:00+02:00", "2026-11-23T08:00:00+00:00"),
        ("2026-11-23T10:00:00.5-0130", "2026-11-23T11:30:00.500000+00:00"),
        (
            "Mon Nov 23 2026 10:00:00 GMT+0100 (Central European Standard Time)",
            "2026-11-23T09:00:00+00:00",
        ),
        ("Mon Nov 23 2026 10:00:00 GMT-0500 (EST)", "2026-11-23T15:00:00+00:00"),
        ("Mon, 23 Nov 2026 10:00:00 GMT+0100", "2026-11-23T09:00:00+00:00"),
    ],
)
def test_generic_timestamps(stamp: Any, iso: str) -> None:
    """Epoch seconds and milliseconds (number or text), ISO with and without a zone, and
    JavaScript's Date.toString() with its offset (the date parser dropped "GMT+0100"'s offset,
    and a long zone name made the time unreadable)."""
    assert run({"title": "t", "timestamp": stamp}).alerts[0].occurred_at.isoformat() == iso


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": "t", "timestamp": "23/11/2026 10:00"}, "generic timestamp '23/11/2026 10:00'"),
        ({"title": "t", "timestamp": "soon"}, "generic timestamp 'soon'"),
        (
            {"event_type": "threshold_alert", "state": "triggered", "rule_id": "r", "host": "h",
             "evaluated_at": {"at": 1}},
            "threshold evaluated_at <JSON object>",
        ),
    ],
)  # fmt: skip
def test_a_time_that_cannot_be_read_is_noted(body: dict[str, Any], field: str) -> None:
    """A script's time triage cannot read (day-first, prose, an object) still delivers the
    alert, dated when queued, with one note for the log that names the field and value."""
    result = run(body)
    assert len(result.alerts) == 1
    [note] = result.notes
    assert note.startswith(field) and "dated when it was queued" in note


@pytest.mark.parametrize("stamp", [None, "", "  ", "0001-01-01T00:00:00Z"])
def test_a_time_that_says_none_is_not_noted(stamp: Any) -> None:
    """An absent, blank or Go zero time means "no time given": no note."""
    assert run({"title": "t", "timestamp": stamp}).notes == ()


def test_year_first_slashed_date_is_read() -> None:
    """ "2026/11/23 10:00:00" (strftime's %Y/%m/%d) is read as ISO with slashes."""
    alert = run({"title": "t", "timestamp": "2026/11/23 10:00:00+02:00"}).alerts[0]
    assert alert.occurred_at.isoformat() == "2026-11-23T08:00:00+00:00"


def test_an_array_of_alerts_is_a_clear_permanent_error() -> None:
    """A JSON array of generic alerts at the top level is refused as a DecodeError that says
    which arrays are read (the alerts Prometheus posts), not a crash and not a partial read."""
    with pytest.raises(DecodeError, match="none with a labels object: the only array read"):
        normalize_body('[{"title": "a"}, {"title": "b"}]')
