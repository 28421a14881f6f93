"""ElastiCache's event notices, in either form it publishes: JSON whose every key is
`ElastiCache:<Event>` ({"ElastiCache:SnapshotFailed": "sessions-0001-001"}; some events write
the prefix "Elasticache:"), and the message its event table documents, one line of text
("ElastiCache:SnapshotFailed : sessions-0001-001"). Both are one incident per account, Region,
node or cluster and condition, so the same event in either form is one incident; the event
that ends a condition (`_PAIRS`) resolves it, any other event fires as a condition of its own.

A notice names no account or Region: they are the topic's (ElastiCache publishes only to a
topic of the cluster's account and Region)."""

from __future__ import annotations

import re
from typing import Any

from triage.models import Alert
from triage.normalize import common
from triage.normalize.aws_shared import (
    FIRE,
    RESOLVE,
    SOURCE,
    Topic,
    occurred,
    service_labels,
    topic_of,
)
from triage.normalize.common import Normalized

_PREFIX = "elasticache:"
#: (condition, event that starts it, event that ends it), from ElastiCache's event table.
_PAIRS = (
    ("node-replacement", "CacheNodeReplaceStarted", "CacheNodeReplaceComplete"),
    ("add-node", "AddCacheNodeFailed", "AddCacheNodeComplete"),
    ("provisioning", "CacheClusterProvisioningFailed", "CacheClusterProvisioningComplete"),
    ("scaling", "CacheClusterScalingFailed", "CacheClusterScalingComplete"),
    ("snapshot", "SnapshotFailed", "SnapshotComplete"),
)
_EVENTS = {
    event.lower(): (condition, status)
    for condition, start, end in _PAIRS
    for event, status in ((start, FIRE), (end, RESOLVE))
}
#: A notice holds one event; a body with more is read up to this many, the rest noted.
_EVENTS_MAX = 20
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
#: An event name of capitalised words ("SnapshotFailed"), which a title spells out in words;
#: anything else is shown as given (split or in lower case, a secret no longer looks like one).
_WORDS = re.compile(r"(?:[A-Z][a-z]{1,30}){1,12}")
#: The message form: the prefix, the event (a word), " : " and the node or cluster (no space).
_MESSAGE = re.compile(r"elasticache:(\w{1,100}) {0,8}: {0,8}([\w.:/-]{1,255})", re.IGNORECASE)
#: The envelope's fields kept as `raw` for the message form (never SNS's signature or its
#: unsubscribe link, which anyone holding it can use).
_KEPT = ("Type", "MessageId", "TopicArn", "Subject", "Message", "Timestamp")


def matches(payload: dict[str, Any]) -> bool:
    """JSON of `ElastiCache:<Event>` keys only (the prefix in any case)."""
    return bool(payload) and all(str(key).lower().startswith(_PREFIX) for key in payload)


def normalize(payload: dict[str, Any], topic: Topic) -> Normalized:
    """Every event of a JSON notice, up to `_EVENTS_MAX`."""
    entries = list(payload.items())
    alerts = tuple(
        _event(key[len(_PREFIX) :], value, topic, {key: value})
        for key, value in entries[:_EVENTS_MAX]
    )
    left = len(entries) - _EVENTS_MAX
    notes = (f"{SOURCE} ElastiCache notice: {left} more event(s) left out",) if left > 0 else ()
    return Normalized(alerts, (), notes)


def message(envelope: dict[str, Any]) -> Normalized | None:
    """The message form ("ElastiCache:SnapshotFailed : node", alone on its line) as the JSON
    notice's alert; None for any other text, which `sns` reads as prose."""
    text = envelope.get("Message")
    if not isinstance(text, str) or len(text) > _MESSAGE_CHARS:
        return None
    found = _MESSAGE.fullmatch(text.strip())
    if found is None:
        return None
    raw = {key: envelope[key] for key in _KEPT if key in envelope}
    return Normalized((_event(found[1], found[2], topic_of(envelope), raw),))


#: The longest message form read: the prefix, a 100-character event, a 255-character name.
_MESSAGE_CHARS = 400


def _event(key: str, value: Any, topic: Topic, raw: dict[str, Any]) -> Alert:
    """One event (`key` after the prefix: "SnapshotFailed", a reason may follow) on the node or
    cluster `value`."""
    words = key.split(maxsplit=1)
    event = common.ident(words[0] if words else None, "ElastiCache event")
    resource = common.ident(value, f"ElastiCache:{key}")
    condition, status = _EVENTS.get(event.lower(), (event, FIRE))
    labels = service_labels("elasticache", topic.account, topic.region)
    common.add_label(labels, "resource", resource)
    common.add_label(labels, "event", event)
    what = " ".join(_CAMEL.split(event)).lower() if _WORDS.fullmatch(event) else event
    return Alert(
        source=SOURCE,
        status=status,
        title=common.title(f"ElastiCache {what}: {resource}", f"ElastiCache:{key}"),
        description=f"ElastiCache:{event} : {resource}",
        labels=labels,
        occurred_at=occurred(topic.sent),
        identity={
            "service": "elasticache",
            "account": topic.account,
            "region": topic.region,
            "resource": resource,
            "condition": condition,
        },
        raw=raw,
    )
