"""SNS notifications whose `Message` is text, not a JSON object: `aws sns publish --subject
"DB failover" --message "…"` from a script or the console, and the AWS services that publish
prose to a topic. Each becomes one alert (firing, unless its Subject says the group resolved:
below), so a topic that carries alarms can carry these too instead of sending them to the DLQ.

Title: the `Subject`, else the message's first line that is not blank. Description: the message.
Identity: the topic + the title (as the generic format's source + title), so the same notice
published again is a repeat, and the same subject on another topic is another incident. The
envelope's `UnsubscribeURL` (anyone holding it can end the subscription) and signature are not
kept, not even in `raw`.

A Subject in Alertmanager's default form, "[FIRING:2] HighLatency (checkout page)" or
"[RESOLVED] HighLatency (checkout page)" (its `sns_configs` and Grafana's SNS contact point
without a JSON template; Grafana writes "[FIRING:1, RESOLVED:1] …" while part of a group has
resolved, which still fires), carries the group's state: RESOLVED resolves. The title is what
follows the bracket; the identity's title is the group's label values alone, without the
trailing parentheses of the labels its alerts share beyond them (which change as alerts join and
leave the group, and which SNS may have cut), cut to `_GROUP_CHARS` (SNS cuts a Subject to 100
characters, and "[RESOLVED] " and "[FIRING:12] " leave different lengths of it), so the count
of alerts, the state and the shared labels do not make a new incident of one group.

AWS Backup's notifications ("Notification from AWS Backup": "An AWS Backup job failed.
Resource ARN : …") are one incident per job type and resource, resolved by a completed job
(`aws_text_notices.backup`); an Elastic Beanstalk environment's health transitions are one
incident per environment, resolved by its return to Ok (`aws_text_notices.beanstalk`); a
CloudFormation stack's events are one incident per stack (`aws_cloudformation`); an AWS Budgets
alert is one incident per budget and alert type (`aws_text_notices.budgets`); ElastiCache's
and MemoryDB's message form ("ElastiCache:SnapshotFailed : node") is their JSON notice's
incident (`aws_elasticache`).

The text an RDS-style event subscription sends first ("This is a message to notify that RDS
will attempt to send you event notifications …") is Skipped: its events follow as JSON
(`aws_notices`, `aws_rds`).

A message that starts like JSON (`{` or `[`) is still read as JSON by `triage.decode`; text never
looks like a JSON object, so one that does is a broken alert, not prose.
"""

from __future__ import annotations

import re
from typing import Any

from triage.decode import SNS_NOTIFICATION, is_sns_envelope, is_text_message
from triage.errors import InvalidAlertError
from triage.models import Alert, Status
from triage.normalize import aws_cloudformation, aws_elasticache, aws_text_notices, common
from triage.normalize.common import Normalized, Skipped

SOURCE = "sns"

#: AWS services that publish text of a shape of their own, tried before a message is prose.
_SERVICE_NOTICES = (
    aws_text_notices.backup,
    aws_text_notices.beanstalk,
    aws_text_notices.budgets,
    aws_cloudformation.cloudformation,
    aws_elasticache.message,
)

#: The envelope's fields kept as the alert's `raw` (the rest is SNS's signature and links).
_KEPT = ("Type", "MessageId", "TopicArn", "Subject", "Message", "Timestamp")


def matches(payload: dict[str, Any]) -> bool:
    """An SNS notification envelope whose Message is text (`triage.decode` left it wrapped)."""
    return (
        is_sns_envelope(payload)
        and payload["Type"] == SNS_NOTIFICATION
        and isinstance(payload.get("Message"), str)
        and is_text_message(payload["Message"])
    )


def normalize(payload: dict[str, Any]) -> Normalized:
    topic = common.ident(payload.get("TopicArn"), "TopicArn")
    message = payload["Message"]
    if _SUBSCRIPTION_NOTICE.match(message.lstrip()):
        detail = (
            f"first notification of an event subscription to topic {common.short(topic, 200)}: "
            "it says events will follow, it is not an alert"
        )
        return Normalized((), (Skipped(SOURCE, "test_notification", detail),))
    for service_notice in _SERVICE_NOTICES:
        read = service_notice(payload)
        if read is not None:
            return read
    subject = common.ident_line(common.unnested(payload.get("Subject")), "Subject")
    named = common.showing(subject) or _first_line(message)
    if not named:
        raise InvalidAlertError("SNS notification has neither a Subject nor any Message text")
    labels = common.Labels()
    common.add_label(labels, "topic", topic.rpartition(":")[2] or topic)
    status, named, keyed = _group_state(named)
    alert = Alert(
        source=SOURCE,
        status=status,
        title=common.title(named, "Subject"),
        description=common.text(message, "Message", common.DESCRIPTION_MAX) or "",
        labels=labels,
        occurred_at=common.timestamp(payload.get("Timestamp")) or common.now(),
        identity={"topic": topic, "title": keyed},
        raw={key: payload[key] for key in _KEPT if key in payload},
    )
    return Normalized((alert,))


def _first_line(message: str) -> str | None:
    """The message's first line that shows something, as a one-line title."""
    for text in message.splitlines():
        shown = common.showing(common.ident_line(text, "Message"))
        if shown:
            return shown
    return None


#: The text an RDS event subscription (RDS, DocumentDB, Neptune, DMS: one mechanism) sends
#: first, before the JSON events: "This is a message to notify that RDS will attempt to send you
#: event notifications of type db-instance to the topic arn:…".
_SUBSCRIPTION_NOTICE = re.compile(
    r"This is a message to notify that \w{1,40} will attempt to send you event notifications"
)
#: Alertmanager's default subject, "[FIRING:2] group …" or "[RESOLVED] group …", and Grafana's,
#: which counts the resolved alerts of a group still firing: "[FIRING:1, RESOLVED:1] group …".
_GROUP_SUBJECT = re.compile(
    r"\[(FIRING:\d{1,6}(?:,\s?RESOLVED:\d{1,6})?|RESOLVED)\]\s*(\S.*)", re.IGNORECASE
)
#: The values of the labels every alert of the notification shares beyond the group's, which
#: both write last in parentheses ("(checkout-1:8080 page)"), and which change as alerts join
#: and leave the group; SNS may have cut the closing one off.
_COMMON_LABELS = re.compile(r"\s\([^()]*\)?\Z")
#: The group's part of a Subject that is the same however SNS or Alertmanager cut it: 100
#: characters less the longest bracket ("[FIRING:999999] ") and the "…" of a cut.
_GROUP_CHARS = 80


def _group_state(named: str) -> tuple[Status, str, str]:
    """The state, the title and the key that an Alertmanager- or Grafana-style subject names:
    the title is what follows the bracket; the key is the group's labels alone (without the
    common labels' parentheses), cut to `_GROUP_CHARS`. Any other title fires as it is, keyed
    whole."""
    group = _GROUP_SUBJECT.fullmatch(named)
    if group is None:
        return Status.FIRING, named, named
    status = Status.RESOLVED if group[1].upper() == "RESOLVED" else Status.FIRING
    shown = group[2].rstrip("…").rstrip()
    common_labels = _COMMON_LABELS.search(shown)
    group_labels = shown[: common_labels.start()] if common_labels else shown
    keyed = (group_labels.rstrip() or shown)[:_GROUP_CHARS].rstrip()
    return status, shown or named, keyed or named
