"""ElastiCache's and MemoryDB's event notices, in either form they publish: JSON whose every
key is `<Service>:<Event>` ({"ElastiCache:SnapshotFailed": "sessions-0001-001"}; some events
write the prefix "Elasticache:"; MemoryDB's {"MemoryDB:ClusterProvisioningFailed": "orders"}),
and the message its event table documents, one line of text ("ElastiCache:SnapshotFailed :
sessions-0001-001"). Both are one incident per service, account, Region, node or cluster and
condition, so the same event in either form is one incident; the event that ends a condition
(`_PAIRS`, from each service's event table) resolves it, any other event fires as a condition of
its own.

A notice names no account or Region: they are the topic's (each service publishes only to a
topic of the cluster's account and Region)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from triage.models import Alert, Status
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

Pairs = tuple[tuple[str, str, str], ...]


@dataclass(frozen=True, slots=True)
class _Service:
    """A service that publishes these notices: its key prefix (lower case), its name in
    labels and identities, how a title names it, and its (condition, event that starts it,
    event that ends it) pairs."""

    prefix: str
    name: str
    shown: str
    pairs: Pairs

    def event(self, event: str) -> tuple[str, Status]:
        """The condition `event` starts or ends, else its own, which fires."""
        for condition, start, end in self.pairs:
            if event.lower() == start.lower():
                return condition, FIRE
            if event.lower() == end.lower():
                return condition, RESOLVE
        return event, FIRE


#: Each service's pairs, from its event table ("Event Notifications and Amazon SNS").
_SERVICES = (
    _Service(
        "elasticache:",
        "elasticache",
        "ElastiCache",
        (
            ("node-replacement", "CacheNodeReplaceStarted", "CacheNodeReplaceComplete"),
            ("add-node", "AddCacheNodeFailed", "AddCacheNodeComplete"),
            ("provisioning", "CacheClusterProvisioningFailed", "CacheClusterProvisioningComplete"),
            ("scaling", "CacheClusterScalingFailed", "CacheClusterScalingComplete"),
            ("snapshot", "SnapshotFailed", "SnapshotComplete"),
        ),
    ),
    _Service(
        "memorydb:",
        "memorydb",
        "MemoryDB",
        (
            ("add-node", "AddNodeFailed", "AddNodeComplete"),
            ("provisioning", "ClusterProvisioningFailed", "ClusterProvisioningComplete"),
            ("scaling", "ClusterScalingFailed", "ClusterScalingComplete"),
        ),
    ),
)
#: A notice holds one event; a body with more is read up to this many, the rest noted.
_EVENTS_MAX = 20
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
#: An event name of capitalised words ("SnapshotFailed"), which a title spells out in words;
#: anything else is shown as given (split or in lower case, a secret no longer looks like one).
_WORDS = re.compile(r"(?:[A-Z][a-z]{1,30}){1,12}")
#: The message form: the prefix, the event (a word), " : " and the node or cluster (no space).
_MESSAGE = re.compile(
    r"(elasticache|memorydb):(\w{1,100}) {0,8}: {0,8}([\w.:/-]{1,255})", re.IGNORECASE
)
#: The envelope's fields kept as `raw` for the message form (never SNS's signature or its
#: unsubscribe link, which anyone holding it can use).
_KEPT = ("Type", "MessageId", "TopicArn", "Subject", "Message", "Timestamp")


def matches(payload: dict[str, Any]) -> bool:
    """JSON of one service's `<Service>:<Event>` keys only (the prefix in any case)."""
    return _service_of(payload) is not None


def _service_of(payload: dict[str, Any]) -> _Service | None:
    """The service every key of `payload` names, if one does."""
    keys = [str(key).lower() for key in payload]
    return next(
        (s for s in _SERVICES if keys and all(key.startswith(s.prefix) for key in keys)), None
    )


def normalize(payload: dict[str, Any], topic: Topic) -> Normalized:
    """Every event of a JSON notice, up to `_EVENTS_MAX`."""
    service = _service_of(payload)
    if service is None:  # only a matched notice reaches here
        return Normalized(())
    entries = list(payload.items())
    alerts = tuple(
        _event(service, key[len(service.prefix) :], value, topic, {key: value})
        for key, value in entries[:_EVENTS_MAX]
    )
    left = len(entries) - _EVENTS_MAX
    notes = (f"{SOURCE} {service.shown} notice: {left} more event(s) left out",) if left > 0 else ()
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
    service = next(s for s in _SERVICES if s.prefix == f"{found[1].lower()}:")
    raw = {key: envelope[key] for key in _KEPT if key in envelope}
    return Normalized((_event(service, found[2], found[3], topic_of(envelope), raw),))


#: The longest message form read: the prefix, a 100-character event, a 255-character name.
_MESSAGE_CHARS = 400


def _event(service: _Service, key: str, value: Any, topic: Topic, raw: dict[str, Any]) -> Alert:
    """One event (`key` after the prefix: "SnapshotFailed", a reason may follow) on the node or
    cluster `value`."""
    words = key.split(maxsplit=1)
    event = common.ident(words[0] if words else None, f"{service.shown} event")
    resource = common.ident(value, f"{service.shown}:{key}")
    condition, status = service.event(event)
    labels = service_labels(service.name, topic.account, topic.region)
    common.add_label(labels, "resource", resource)
    common.add_label(labels, "event", event)
    what = " ".join(_CAMEL.split(event)).lower() if _WORDS.fullmatch(event) else event
    return Alert(
        source=SOURCE,
        status=status,
        title=common.title(f"{service.shown} {what}: {resource}", f"{service.shown}:{key}"),
        description=f"{service.shown}:{event} : {resource}",
        labels=labels,
        occurred_at=occurred(topic.sent),
        identity={
            "service": service.name,
            "account": topic.account,
            "region": topic.region,
            "resource": resource,
            "condition": condition,
        },
        raw=raw,
    )
