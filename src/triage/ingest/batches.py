"""A posted batch of alerts split into bodies that each fit one queue message.

Prometheus posts up to 64 alerts a request (256 from 3.x), and a queue takes 256 KiB a message
unless its MaximumMessageSize says more. A batch bigger than that was refused whole (413), and
Prometheus drops a refused batch and builds the next from the same alerts, so a storm's alerts
never arrived. Each part is an array of whole alerts, in order; the daemon reads it as it reads
the batch (every alert is read on its own), so splitting changes no alert.
"""

from __future__ import annotations

import json
from collections.abc import Callable

#: The array's own brackets.
_BRACKETS = 2


class AlertTooLarge(Exception):
    """Raised when one alert alone does not fit a message: its index and size in bytes."""

    def __init__(self, index: int, size_bytes: int) -> None:
        super().__init__(f"alert [{index}] alone is {size_bytes:,} bytes")
        self.index = index
        self.size_bytes = size_bytes


def split_batch(text: str, max_bytes: int, safe: Callable[[str], str]) -> list[str]:
    """The JSON array `text` (already checked) as arrays of its items, in order, each at most
    `max_bytes` UTF-8 bytes; `safe` makes an item's JSON text fit for SQS. AlertTooLarge when
    one item alone is over the bound."""
    parts: list[list[str]] = []
    size = 0
    for i, item in enumerate(json.loads(text)):
        encoded = safe(json.dumps(item, ensure_ascii=False, separators=(",", ":")))
        item_bytes = len(encoded.encode("utf-8"))
        if item_bytes + _BRACKETS > max_bytes:
            raise AlertTooLarge(i, item_bytes)
        if not parts or size + 1 + item_bytes > max_bytes:
            parts.append([])
            size = _BRACKETS - 1  # the comma counted before the first item is not written
        parts[-1].append(encoded)
        size += 1 + item_bytes
    return ["[" + ",".join(part) + "]" for part in parts]
