"""AWS services' own SNS notices written as text, which `sns` would read as prose and key by
their Subject: AWS Backup's ("Notification from AWS Backup": "An AWS Backup job failed.
Resource ARN : …"), one incident per job type and resource that a completed job resolves, and
Elastic Beanstalk's health transitions ("AWS Elastic Beanstalk Notification - Environment
health has transitioned from Ok to Severe …", basic health's "… from YELLOW to RED"), one
incident per environment that Ok (Green) resolves, its health word ranked as a severity
(Severe critical, Degraded and Red high, Warning and Yellow warning); and AWS Budgets' alerts, one incident per
budget and alert type. Each returns None for any other text."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from triage.models import Alert
from triage.normalize import common
from triage.normalize.aws_shared import (
    FIRE,
    RESOLVE,
    SOURCE,
    canonical,
    first_line,
    occurred,
    one,
    service_labels,
    topic_of,
)
from triage.normalize.common import Normalized, Skipped

#: The envelope's fields kept as `raw` (never SNS's signature or its unsubscribe link, which
#: anyone holding it can use).
_KEPT = ("Type", "MessageId", "TopicArn", "Subject", "Message", "Timestamp")

# --- AWS Backup (text) ----------------------------------------------------------------------

_BACKUP_SUBJECT = "Notification from AWS Backup"
#: The job's resource, as Backup writes it: "Resource ARN : arn:…. BackupJob ID : …" (a
#: completed job: "Backed up Resource ARN : …").
_BACKUP_RESOURCE = re.compile(r"Resource ARN ?: ?(arn:\S{1,2048})")
#: Backup's `State` message attribute → status; a state of neither (CREATED, RUNNING: a job
#: started) changes no ticket.
_BACKUP_STATES = {
    "COMPLETED": RESOLVE,
    "FAILED": FIRE,
    "EXPIRED": FIRE,
    "ABORTED": FIRE,
    "PARTIAL": FIRE,
}


def backup(envelope: dict[str, Any]) -> Normalized | None:
    """An AWS Backup job's text notification, one incident per job type and resource (a
    completed job resolves the failed one); None for any other text, which `sns` reads as
    prose. Backup states the job's state in the `State` message attribute; without it (raw
    delivery) the message's first sentence says it."""
    message = envelope.get("Message")
    if envelope.get("Subject") != _BACKUP_SUBJECT or not isinstance(message, str):
        return None
    found = _BACKUP_RESOURCE.search(message[: common.DESCRIPTION_MAX * 4])
    if found is None:
        return None
    resource = common.ident(found[1].rstrip("."), "Resource ARN")
    # Cut as shown (`word`): the job and account key the incident so, as they always have.
    attributes = _message_attributes(envelope.get("MessageAttributes"))
    sentence = first_line(message.split(". ", 1)[0]) or _BACKUP_SUBJECT
    job = attributes.get("EventType") or _backup_job(sentence)
    state = canonical(attributes.get("State") or _backup_state(sentence), _BACKUP_STATES)
    topic = topic_of(envelope)
    account = attributes.get("AccountId") or topic.account
    if state not in _BACKUP_STATES:
        detail = f"AWS Backup {common.short(job)} for {common.short(resource, 200)} is {common.short(state)}"
        return Normalized((), (Skipped(SOURCE, "in_progress", detail),))
    # Whole: a label shows them cut and keeps them whole for routes and groups (`add_label`).
    whole = _message_attributes(envelope.get("MessageAttributes"), common.whole_word)
    labels = service_labels("backup", whole.get("AccountId") or account, topic.region)
    common.add_label(labels, "job", whole.get("EventType") or job)
    common.add_label(labels, "state", state)
    common.add_label(labels, "resource", resource)
    return one(
        Alert(
            source=SOURCE,
            status=_BACKUP_STATES[state],
            title=common.title(f"{sentence.rstrip('.')}: {resource.rsplit(':', 1)[-1]}", "Message"),
            description=common.text(message, "Message", common.DESCRIPTION_MAX) or "",
            labels=labels,
            occurred_at=occurred(topic.sent),
            identity={"service": "backup", "account": account, "job": job, "resource": resource},
            raw={key: envelope[key] for key in _KEPT if key in envelope},
        )
    )


def _message_attributes(
    value: Any, read: Callable[[Any, str], str | None] = common.word
) -> dict[str, str]:
    """SNS message attributes ({"State": {"Type": "String", "Value": "FAILED"}}) as one-line
    text by name, each cut as shown (`common.word`) unless `read` reads it otherwise
    (`common.whole_word`); an attribute of any other shape is passed over."""
    found: dict[str, str] = {}
    for name, attribute in common.obj_or_empty(value).items():
        text = read(common.obj_or_empty(attribute).get("Value"), f"MessageAttributes.{name}")
        if text:
            found[name] = text
    return found


def _backup_job(sentence: str) -> str:
    lowered = sentence.lower()
    return next((job for word, job in _BACKUP_JOBS if word in lowered), "BACKUP_JOB")


_BACKUP_JOBS = (("copy job", "COPY_JOB"), ("restore job", "RESTORE_JOB"))


def _backup_state(sentence: str) -> str:
    """ "An AWS Backup job was completed successfully" → COMPLETED; "… failed" → FAILED."""
    lowered = sentence.lower()
    if "failed" in lowered:
        return "FAILED"
    return "COMPLETED" if "completed" in lowered or "successful" in lowered else "STARTED"


# --- Elastic Beanstalk (text) ---------------------------------------------------------------

_BEANSTALK_SUBJECT = "AWS Elastic Beanstalk Notification - "
_HEALTH = re.compile(
    r"Environment health has (?:transitioned from [A-Za-z ]{1,20} to|been set to) "
    r"(No Data|[A-Za-z]{1,20})\b"
)
#: Enhanced health statuses: Ok ends the incident, Warning, Degraded and Severe are one; the
#: rest (Info: an operation in progress, Pending, Unknown, No Data, Suspended) change nothing.
#: Basic health's colours, written without the full stop: Green ends it, Yellow and Red are
#: one, Grey (not known, an update in progress) changes nothing.
_HEALTH_STATUS = {
    "ok": RESOLVE,
    "warning": FIRE,
    "degraded": FIRE,
    "severe": FIRE,
    "green": RESOLVE,
    "yellow": FIRE,
    "red": FIRE,
}
#: The severity each unhealthy word ranks as, since no priority rule knows Beanstalk's words
#: (Severe read as no known severity defaulted to medium, as Warning does). Enhanced health:
#: Warning is a moderate share of requests failing, Degraded a high one, Severe a very high
#: one (the environment down for most users). Basic health: Yellow is some failing checks, Red
#: the environment failing its health check. A healthy word (a resolve) ranks as nothing.
_HEALTH_SEVERITY = {
    "warning": "warning",
    "degraded": "high",
    "severe": "critical",
    "yellow": "warning",
    "red": "high",
}


def beanstalk(envelope: dict[str, Any]) -> Normalized | None:
    """An Elastic Beanstalk environment's health transition ("Environment health has
    transitioned from Ok to Severe."), one incident per environment that Ok resolves; None for
    any other text. Each transition has its own Subject, so read as prose every transition was
    an incident of its own, the recovery to Ok a new ticket and the Severe one never closed."""
    message = envelope.get("Message")
    subject = envelope.get("Subject")
    if not (isinstance(subject, str) and subject.startswith(_BEANSTALK_SUBJECT)):
        return None
    if not isinstance(message, str):
        return None
    text = message[: common.DESCRIPTION_MAX * 4]
    found = _HEALTH.search(text)
    facts = _colon_lines(text)
    environment = common.ident_or_none(facts.get("Environment"), "Environment")
    if found is None or environment is None:
        return None
    health = found[1]
    topic = topic_of(envelope)
    application = common.ident_or_none(facts.get("Application"), "Application") or ""
    status = _HEALTH_STATUS.get(health.lower())
    if status is None:
        detail = (
            f"Elastic Beanstalk environment {common.short(environment)} is {common.short(health)}"
        )
        return Normalized((), (Skipped(SOURCE, "no_state_change", detail),))
    labels = service_labels("elasticbeanstalk", topic.account, topic.region)
    common.add_label(labels, "application", application)
    common.add_label(labels, "environment", environment)
    common.add_label(labels, "health", health)
    return one(
        Alert(
            source=SOURCE,
            status=status,
            title=common.title(f"Elastic Beanstalk {environment}: health {health}", "Message"),
            severity=_HEALTH_SEVERITY.get(health.lower()),
            description=common.text(message, "Message", common.DESCRIPTION_MAX) or "",
            labels=labels,
            links=common.links(environment=common.url(facts.get("Environment URL"), "URL")),
            occurred_at=occurred(facts.get("Timestamp"), topic.sent),
            identity={
                "service": "elasticbeanstalk",
                "account": topic.account,
                "region": topic.region,
                "application": application,
                "environment": environment,
                "condition": "health",
            },
            raw={key: envelope[key] for key in _KEPT if key in envelope},
        )
    )


def _colon_lines(text: str) -> dict[str, str]:
    """ "Environment: my-env" lines as {name: value}, the first of each name."""
    found: dict[str, str] = {}
    for line in text.splitlines():
        name, colon, value = line.partition(": ")
        if colon and name.strip() and value.strip():
            found.setdefault(name.strip(), value.strip())
    return found


# --- AWS Budgets (text) ---------------------------------------------------------------------

_BUDGETS_FIRST_LINE = "AWS Budget Notification"
_BUDGETS_ACCOUNT = re.compile(r"AWS Account (\d{12})")
_BUDGETS_LINK = re.compile(r"\[1\] (https://\S{1,2000})")
_ALERT_TYPES = frozenset({"ACTUAL", "FORECASTED"})


def budgets(envelope: dict[str, Any]) -> Normalized | None:
    """An AWS Budgets alert ("AWS Budget Notification …", then "Budget Name: …" lines), one
    incident per account, budget and alert type (ACTUAL or FORECASTED), never resolved (Budgets
    does not say when spend is back under a threshold; `triage incidents close` closes it);
    None for any other text. Read as prose it was one incident per Subject, which names the
    budget but not whether the alert is of actual or forecast spend."""
    message = envelope.get("Message")
    if not isinstance(message, str) or not message.lstrip().startswith(_BUDGETS_FIRST_LINE):
        return None
    text = message[: common.DESCRIPTION_MAX * 4]
    facts = _colon_lines(text)
    budget = common.ident_or_none(facts.get("Budget Name"), "Budget Name")
    if budget is None:
        return None
    topic = topic_of(envelope)
    found = _BUDGETS_ACCOUNT.search(text)
    account = found[1] if found else topic.account
    # Cut as shown (`word`): the alert type keys the incident so, as it always has; its label
    # is whole (`add_label` shows it cut and keeps it whole for routes and groups).
    alert_type = canonical(
        common.word(facts.get("Alert Type"), "Alert Type") or "ACTUAL", _ALERT_TYPES
    )
    whole_type = canonical(
        common.whole_word(facts.get("Alert Type"), "Alert Type") or "ACTUAL", _ALERT_TYPES
    )
    threshold = common.word(facts.get("Alert Threshold"), "Alert Threshold")
    labels = service_labels("budgets", account, None)
    # The deterministic ticket's step names the budget by these, as an RDS event's source.
    common.add_label(labels, "source_type", "budget")
    common.add_label(labels, "source_id", budget)
    common.add_label(labels, "budget_type", facts.get("Budget Type"))
    common.add_label(labels, "alert_type", whole_type)
    common.add_label(labels, "threshold", facts.get("Alert Threshold"))
    common.add_label(labels, "amount", facts.get(f"{whole_type} Amount"))
    common.add_label(labels, "budgeted", facts.get("Budgeted Amount"))
    over = f" ({threshold})" if threshold else ""
    link = _BUDGETS_LINK.search(text)
    return one(
        Alert(
            source=SOURCE,
            status=FIRE,
            title=common.title(
                f"AWS Budgets: {budget} is over its {alert_type} alert threshold{over}", "Message"
            ),
            description=common.text(message, "Message", common.DESCRIPTION_MAX) or "",
            labels=labels,
            links=common.links(budgets=common.url(link[1] if link else None, "link")),
            occurred_at=occurred(topic.sent),
            identity={
                "service": "budgets",
                "account": account,
                "budget": budget,
                "alert_type": alert_type,
            },
            raw={key: envelope[key] for key in _KEPT if key in envelope},
        )
    )
