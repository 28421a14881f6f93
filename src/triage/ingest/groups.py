"""A webhook group of alerts (Alertmanager's, Grafana's) split into copies of the group that
each fit one queue message, each holding some of its alerts.

Alertmanager and Grafana retry a notification only on a 5xx, so a group refused as too large
(413) was lost whole. Each part is the group's envelope as sent (`groupKey`, `status`, common
labels, …) with some of its alerts, in order, so the daemon reads every part as the group: an
alert that states no status reads the group's, and a grouping route puts the parts' alerts in
one incident. The group's `truncatedAlerts` goes with the first part only (the others say 0),
so its note is logged once. Grafana's `message` renders every alert of the group, as big as
the alerts themselves: the parts carry it cut to `MESSAGE_KEPT_CHARS` (the daemon keeps it
only with the alert's raw fields; each alert it renders is whole in its part).

The parts together queue at most `MAX_SPLIT_GROWTH` times the group's bytes: an envelope near
a message's size, copied into a part per alert or two, would let one request queue many times
what it sent, so such a group is refused (413). A real group's envelope (its key, common
labels and annotations) is small beside its alerts, and splits as before.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from triage.ingest.batches import AlertTooLarge
from triage.normalize.common import cut

#: Formats (`triage.normalize.FORMATS`) read as a group of alerts under `alerts`.
GROUP_FORMATS = frozenset({"alertmanager", "grafana"})
#: How much of Grafana's `message` each part keeps.
MESSAGE_KEPT_CHARS = 4096
#: How many times a group's own bytes its parts may queue together.
MAX_SPLIT_GROWTH = 2

_ALERTS = "alerts"
_TRUNCATED = "truncatedAlerts"
_MESSAGE = "message"


class EnvelopeTooLarge(Exception):
    """Raised when a group has no alerts to split, or its fields besides them do not fit a
    message with its smallest alert; the text says which."""


def split_group(text: str, fmt: str, max_bytes: int, safe: Callable[[str], str]) -> list[str]:
    """The group `text` (already checked, of format `fmt`) as groups of its alerts, in order,
    each at most `max_bytes` UTF-8 bytes; `safe` makes JSON text fit for SQS. AlertTooLarge
    names the first alert too big alone beside the envelope; EnvelopeTooLarge says the group
    has nothing to split."""
    group: dict[str, Any] = json.loads(text)
    alerts = group.pop(_ALERTS, None)
    if not isinstance(alerts, list) or not alerts:
        raise EnvelopeTooLarge("the group has no alerts to send in parts")
    if fmt == "grafana" and isinstance(group.get(_MESSAGE), str):
        group[_MESSAGE] = cut(group[_MESSAGE], MESSAGE_KEPT_CHARS, ellipsis=True)
    first = _Envelope(group, safe)
    rest = _Envelope(_without_truncation(group), safe)
    items = [safe(_compact(alert)) for alert in alerts]
    parts = _packed(items, first.size_bytes, rest.size_bytes, max_bytes)
    _within_growth(parts, first, rest, len(text.encode("utf-8")))
    return [(first if i == 0 else rest).holding(part) for i, part in enumerate(parts)]


def _within_growth(parts: list[list[str]], first: _Envelope, rest: _Envelope, sent: int) -> None:
    """Refuse (EnvelopeTooLarge) parts that together would queue more than MAX_SPLIT_GROWTH
    times the `sent` bytes of the group: each part copies the envelope, so an envelope that
    nearly fills a message would otherwise make one request queue a near-full message per
    alert or two. Counted before any part is written."""
    alerts_bytes = sum(len(item.encode("utf-8")) + 1 for part in parts for item in part)
    queued = first.size_bytes + (len(parts) - 1) * rest.size_bytes + alerts_bytes - len(parts)
    if queued > MAX_SPLIT_GROWTH * sent:
        raise EnvelopeTooLarge(
            f"the group's fields besides its alerts ({rest.size_bytes:,} bytes) would be "
            f"copied into each of {len(parts)} parts, {queued:,} bytes queued, over "
            f"{MAX_SPLIT_GROWTH} times the group's {sent:,} bytes: send smaller groups, or "
            "fewer common labels and annotations"
        )


class _Envelope:
    """A group's fields without its alerts, written so that its alerts go last: the text
    before them and after them, and their bytes."""

    def __init__(self, group: dict[str, Any], safe: Callable[[str], str]) -> None:
        fields = safe(_compact(group))[:-1]  # without its closing brace
        self.head = fields + ("," if len(fields) > 1 else "") + f'"{_ALERTS}":['
        self.tail = "]}"
        self.size_bytes = len(self.head.encode("utf-8")) + len(self.tail)

    def holding(self, alerts: list[str]) -> str:
        return self.head + ",".join(alerts) + self.tail


def _without_truncation(group: dict[str, Any]) -> dict[str, Any]:
    """`group` saying no alerts were left out, if it said so: the first part says it."""
    if _TRUNCATED not in group:
        return group
    return group | {_TRUNCATED: 0}


def _packed(items: list[str], first_bytes: int, rest_bytes: int, max_bytes: int) -> list[list[str]]:
    """`items` in order, in parts each within `max_bytes` with its envelope's bytes (the first
    part's `first_bytes`, the others' `rest_bytes`) and a comma between items."""
    parts: list[list[str]] = []
    size = 0
    for index, item in enumerate(items):
        item_bytes = len(item.encode("utf-8"))
        if parts and size + 1 + item_bytes <= max_bytes:
            parts[-1].append(item)
            size += 1 + item_bytes
            continue
        envelope_bytes = rest_bytes if parts else first_bytes
        if envelope_bytes + item_bytes > max_bytes:
            raise AlertTooLarge(index, item_bytes)
        parts.append([item])
        size = envelope_bytes + item_bytes
    return parts


def _compact(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
