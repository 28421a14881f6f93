"""What the readers of AWS services' own notices share (`aws_notices`, `aws_rds`,
`aws_text_notices`, `aws_findings`, `eventbridge`): their source, the topic a notice came
through, ARNs, labels (a member's finding's own account too), team tags and times."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from triage.models import Alert, Status
from triage.normalize import common
from triage.normalize.common import Normalized

#: These are the services' own notices: the service is named in each identity and label set.
SOURCE = "aws"

FIRE, RESOLVE = Status.FIRING, Status.RESOLVED


@dataclass(frozen=True, slots=True)
class Topic:
    """What the SNS envelope adds: the topic's account and Region, and when SNS sent it."""

    account: str = ""
    region: str = ""
    sent: Any = None


def topic_of(envelope: dict[str, Any] | None) -> Topic:
    """The topic of an SNS envelope; an empty Topic for a body that came without one."""
    if envelope is None:
        return Topic()
    region, account = arn_region_account(envelope.get("TopicArn"))
    return Topic(account, region, envelope.get("Timestamp"))


def arn_region_account(value: Any) -> tuple[str, str]:
    """(Region, account) of an ARN ("arn:aws:rds:eu-west-1:123456789012:db:x"); empty parts for
    anything else."""
    if not isinstance(value, str):
        return "", ""
    parts = value.split(":", 5)
    if len(parts) < 6 or parts[0] != "arn":
        return "", ""
    region = common.line(parts[3], "ARN region", 64) or ""
    account = common.line(parts[4], "ARN account", 64) or ""
    return region, account


#: An AWS account ID: twelve digits.
_ACCOUNT_ID = re.compile(r"\d{12}")


def add_finding_account(labels: dict[str, str], received_by: str, value: Any) -> None:
    """Label `finding_account`: the account a finding was generated in (GuardDuty's and
    Macie's `accountId`, Inspector's `awsAccountId`), when it is not the account whose
    EventBridge received the event. A delegated administrator receives its members' findings
    under its own `account`; the member's is the account whose resource it is, which the
    responder must open. A label only, so the finding stays keyed as before."""
    if isinstance(value, str) and _ACCOUNT_ID.fullmatch(value) and value != received_by:
        common.add_label(labels, "finding_account", value)


def service_labels(service: str, account: str | None, region: str | None) -> common.Labels:
    """The labels every notice's alert carries: its AWS service (`aws_service`: a `service`
    label names the team's own service where triage shows where an alert is), account and
    Region."""
    labels = common.Labels()
    common.add_label(labels, "aws_service", service)
    common.add_label(labels, "account", account)
    common.add_label(labels, "region", region)
    return labels


def canonical(value: str, known: Collection[str]) -> str:
    """`value` in capitals when that is one of the `known` words (a state AWS writes so), else
    as it came: a reader decides on the capitals but shows hostile text as given, since a
    secret in another case no longer has the shape the redactor knows."""
    upper = value.upper()
    return upper if upper in known else value


def one(alert: Alert) -> Normalized:
    """A notice's one alert, as a reader returns it."""
    return Normalized((alert,))


def first_line(value: Any) -> str | None:
    """The first line of text with something on it (of a link's first 2,048 characters)."""
    if not isinstance(value, str):
        return None
    return next(
        (line.strip() for line in value[: common.URL_MAX].splitlines() if line.strip()), None
    )


def occurred(*candidates: Any) -> datetime:
    """The first candidate that is a time, else when the message was queued."""
    for value in candidates:
        when = common.timestamp(value)
        if when is not None:
            return when
    return common.now()


def team_tag(*tags: Any) -> str | None:
    """The first `team` tag (any case) among resource tags, given as an object ({"team": "x"})
    or as a list of {"key": …, "value": …} (GuardDuty's, Macie's)."""
    for tagged in tags:
        if isinstance(tagged, list):
            pairs = [common.obj_or_empty(tag) for tag in tagged]
            tagged = {p.get("key"): p.get("value") for p in pairs if isinstance(p.get("key"), str)}
        for key, value in common.obj_or_empty(tagged).items():
            if isinstance(key, str) and key.strip().lower() == "team":
                team = common.word(value, "tags.team")
                if team:
                    return team
    return None
