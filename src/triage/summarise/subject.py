"""What an alert says failed, and where: the names a ticket's title should carry.

    what    the alert's name (alertname, CloudWatch alarm, threshold rule), its metric, or the
            exception it reports (ZeroDivisionError)
    where   the host, instance (without its port), device, service, project, job, namespace,
            cluster, the resource of a CloudWatch dimension, a Sentry culprit or server, the
            region, the environment
    about   the one thing a notice is about, by its kind: an AWS notice's resource (RDS/DMS
            source id, CloudFormation stack, Auto Scaling group, ElastiCache node), an error
            tracker's item, a monitor's or check's id, a status page's component

Both lists come from the alert's own labels and text, most specific first, and are empty when
the alert says nothing of the kind. A title *names* a term when every word of the term is a
word of the title (case, separators and camelCase aside: "HighRequestLatency" is named by
"High request latency"). The deterministic summariser writes titles with them; the quality
bench (`bench/quality.py`) checks any summariser's titles against them.
"""

from __future__ import annotations

import re

from triage.view import RedactedAlert

#: Labels naming what failed, most specific first.
_WHAT = ("alertname", "alarm_name", "rule_name", "metric", "metric_name")
#: Labels naming where, most specific first; `instance` loses its port.
_WHERE = (
    "host",
    "instance",
    "device_id",
    "service",
    "project",
    "projects",
    "job",
    "namespace",
    "cluster",
    "culprit",
    "tag.server_name",
    "server_name",
    "region",
    "environment",
)
#: Labels naming the one thing an alert is about, most specific first, with the word for its
#: kind (`source_type`'s value, e.g. "db-instance", for an AWS notice's source id).
_ABOUT = (("source_id", ""), ("stack", "stack"), ("group", "group"), ("item_id", "item"),
          ("monitor_id", "monitor"), ("check_id", "check"), ("resource", "resource"),
          ("component_id", "component"),
          # Other tools' words for it, tried last: Azure Monitor's configuration items and
          # target (an ARM id, named by its last segment), a Service Health event's tracking
          # id, Opsgenie's entity (else its alias), Splunk's saved search, an uptime check's URL.
          ("configuration_items", "resource"), ("target", "resource"),
          ("tracking_id", "event"), ("entity", "entity"), ("search", "search"),
          ("url", "check"), ("alias", "alert"))  # fmt: skip
#: An exception's class name, as Sentry and most loggers write it.
_EXCEPTION = re.compile(r"\b([A-Z][A-Za-z0-9]*(?:Error|Exception|Fault|Panic))\b")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_WORD = re.compile(r"[a-z0-9]+")
#: What a sender writes for "no value" (JSON's literals, a language's null spelled out): no
#: name of what failed nor of a place ("404 on true" is no title).
_NO_VALUE = frozenset({"true", "false", "null", "none", "nil", "undefined", "nan", "n/a", "-"})
#: A CloudWatch dimension: Name=Value, comma-separated.
_DIMENSION = re.compile(r"(?:^|,\s*)[^=,]+=([^,]+)")


def words(text: str) -> list[str]:
    """The lower-case words of `text`, camelCase split."""
    return _WORD.findall(_CAMEL.sub(" ", text).lower())


def names(text: str, term: str) -> bool:
    """Whether `text` names `term`: every word of the term is a word of the text."""
    wanted = words(term)
    return bool(wanted) and set(wanted) <= set(words(text))


def what(alert: RedactedAlert) -> list[str]:
    """The names of what failed, most specific first (see the module docstring)."""
    labels = alert.labels
    found = [labels[k] for k in _WHAT if _named(labels.get(k, ""))]
    found += _EXCEPTION.findall(f"{alert.title} {alert.description[:500]}")
    return _distinct(found)


def where(alert: RedactedAlert) -> list[str]:
    """The names of where it failed, most specific first (see `placed`)."""
    return [value for _, value in placed(alert)]


def about(alert: RedactedAlert) -> tuple[str, str] | None:
    """(kind, name) of the one thing the alert is about (`_ABOUT`), or None."""
    labels = alert.labels
    for key, kind in _ABOUT:
        name = labels.get(key, "").strip()
        if name.startswith("/subscriptions/"):  # an Azure resource's id: its name ends it
            name = name.rstrip("/").rsplit("/", 1)[-1]
        if name:
            return kind or labels.get("source_type") or "resource", name
    return None


def placed(alert: RedactedAlert) -> list[tuple[str, str]]:
    """(label, name) of where it failed, most specific first; for a group, only the labels its
    alerts share (one member's host is not where the group is)."""
    labels = dict(alert.group.by) if alert.group is not None else dict(alert.labels)
    found: list[tuple[str, str]] = []
    for key in _WHERE:
        value = labels.get(key, "").strip()
        if key == "namespace" and alert.source == "cloudwatch":
            continue  # CloudWatch's metric namespace (AWS/ApplicationELB), not a place
        if key == "instance" and re.search(r":\d+$", value):
            value = value.rsplit(":", 1)[0]
        if key == "region" and "dimensions" in labels:
            found += [("dimension", name) for name in _dimension_names(labels["dimensions"])]
        if _named(value) and not value.replace(".", "").isdigit():  # nor is a numeric id
            found.append((key, value))
    return list({value: (key, value) for key, value in reversed(found)}.values())[::-1]


def _dimension_names(dimensions: str) -> list[str]:
    """The resources CloudWatch dimensions name: an ALB's `app/orders-api/50dc…` is orders-api."""
    out = []
    for value in _DIMENSION.findall(dimensions):
        parts = value.strip().split("/")
        out.append(parts[1] if len(parts) == 3 and parts[0] in ("app", "net") else value.strip())
    return out


def _named(value: str) -> bool:
    """Whether a label's value names something: not empty, not a spelling of "no value"."""
    return bool(value.strip()) and value.strip().lower() not in _NO_VALUE


def _distinct(values: list[str]) -> list[str]:
    return list(dict.fromkeys(v.strip() for v in values if v and v.strip()))
