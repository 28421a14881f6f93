"""The queue messages a checked body becomes, each within the queue's message size: one, the body
as sent; one per alert for a batch of script alerts (ingest/several.py); for Alertmanager's API,
an array of alerts too big for one message is split into arrays that each fit (ingest/batches.py),
and an Alertmanager or Grafana webhook group into copies of the group each holding some of its
alerts (ingest/groups.py). Anything else too big is refused (413), naming what did not fit.

A batch's alerts keep its order to the lifecycle: each alert's `received_at` is a microsecond
after the one before, the last the request's own, so a firing and its resolve sent in one batch
at one time (or none) are not dated alike (the lifecycle takes the later queued as the newer).
None is later than the request's stamp, which the daemon believes only up to SentTimestamp.
The gateway's stamps come from `STAMPS`, one strictly rising stamp per process: each request
reserves a microsecond for each message it may become, after the previous request's last, so
no request's stamps reach back to (or tie with) an earlier request's, even in one millisecond.
Splitting is CPU work that grows with the batch: a large batch is split on a worker thread, as
validate.py parses a large body, so the event loop keeps answering.
"""

from __future__ import annotations

import functools
import threading
from datetime import UTC, datetime, timedelta

from triage.ingest.batches import AlertTooLarge, split_batch
from triage.ingest.groups import GROUP_FORMATS, EnvelopeTooLarge, split_group
from triage.ingest.outbox import Outgoing
from triage.ingest.refused import Refused
from triage.ingest.validate import (
    API_FORMATS,
    OFFLOAD_BODY_BYTES,
    Checked,
    off_loop,
    sqs_safe,
)
from triage.sqs.inbox import RECEIVED_AT_ATTRIBUTE


async def messages_for(checked: Checked, attributes: dict[str, str], limit: int) -> list[Outgoing]:
    """The messages `checked` becomes, each with `attributes`, each at most `limit` bytes."""
    if checked.parts:
        return _one_per_alert(checked.parts, attributes, limit)
    message = Outgoing.of(checked.text, attributes, checked.size_bytes)
    if message.size_bytes <= limit:
        return [message]
    too_large = f"body and attributes are {message.size_bytes:,} bytes; the queue takes at "
    too_large += f"most {limit:,} per message"
    if checked.format not in API_FORMATS | GROUP_FORMATS:
        raise Refused(413, "too_large_for_queue", too_large)
    room = limit - (message.size_bytes - checked.size_bytes)  # what attributes leave
    try:
        parts = await _split(checked, room)
    except (AlertTooLarge, EnvelopeTooLarge) as exc:
        raise Refused(413, "too_large_for_queue", f"{too_large}, and {exc}") from None
    return [Outgoing.of(part, attributes) for part in parts]


async def _split(checked: Checked, max_bytes: int) -> list[str]:
    """`checked` split into bodies of at most `max_bytes`: an API array by `split_batch`, a
    webhook group by `split_group`; on a check thread (`off_loop`) past OFFLOAD_BODY_BYTES, the bound
    validate.py parses within on the loop (splitting that much takes under a millisecond, the
    loop's share of a request); a smaller body stays on the loop, where a thread hop would
    cost more than splitting it. A byte-order mark before the JSON (a UTF-8 file written by
    PowerShell or Notepad), which the normaliser reads past, is no part of any split body:
    `json.loads` refuses one."""
    text = checked.text.removeprefix("\ufeff")
    if checked.format in GROUP_FORMATS:
        split = functools.partial(split_group, text, checked.format, max_bytes, sqs_safe)
    else:
        split = functools.partial(split_batch, text, max_bytes, sqs_safe)
    if len(text) > OFFLOAD_BODY_BYTES:
        return await off_loop(split)
    return split()


def _one_per_alert(
    parts: tuple[str, ...], attributes: dict[str, str], limit: int
) -> list[Outgoing]:
    """A message for each alert of a batch, stamped in its order (`_in_order`); 413 naming
    the first that does not fit one."""
    stamps = _in_order(attributes.get(RECEIVED_AT_ATTRIBUTE), len(parts))
    messages = [
        Outgoing.of(
            part, attributes if stamp is None else attributes | {RECEIVED_AT_ATTRIBUTE: stamp}
        )
        for part, stamp in zip(parts, stamps, strict=True)
    ]
    for index, message in enumerate(messages, 1):
        if message.size_bytes > limit:
            raise Refused(
                413,
                "too_large_for_queue",
                f"alert {index} of {len(messages)} and its attributes are "
                f"{message.size_bytes:,} bytes; the queue takes at most {limit:,} per message",
            )
    return messages


def _in_order(received_at: str | None, count: int) -> list[str | None]:
    """`count` stamps a microsecond apart, rising, the last `received_at`'s instant; Nones
    when there is no stamp that reads (no request stamps its messages, as in a replay)."""
    try:
        last = datetime.fromisoformat(received_at) if received_at is not None else None
    except ValueError:
        last = None
    if last is None or last.tzinfo is None:
        return [None] * count
    step = timedelta(microseconds=1)
    return [_written(last - (count - 1 - index) * step) for index in range(count)]


class Stamps:
    """One strictly rising stamp, to the microsecond: each request reserves as many
    microseconds as it has alerts, after the last one reserved before it, so its alerts'
    stamps (stepped back from its own, `_in_order`) come after every earlier request's.

    The stamp runs ahead of the wall clock only while requests reserve microseconds faster
    than they pass: at most a request's count (100 alerts, `several.MAX_ALERTS`) ahead of
    its arrival, plus what a burst before it left, which a microsecond of wall time takes
    back each microsecond."""

    def __init__(self) -> None:
        self._last: datetime | None = None
        self._lock = threading.Lock()

    def reserve(self, arrived: datetime, count: int) -> datetime:
        """The stamp of a request that `arrived` and becomes `count` messages: `arrived`,
        unless that leaves fewer than `count` microseconds after the last one reserved."""
        step = timedelta(microseconds=1)
        with self._lock:
            stamp = arrived
            if self._last is not None:
                stamp = max(stamp, self._last + max(count, 1) * step)
            self._last = stamp
        return stamp


#: The gateway process's stamps.
STAMPS = Stamps()


def request_stamp(arrived: datetime, checked: Checked, stamps: Stamps = STAMPS) -> str:
    """The `received_at` of a request that `arrived` and was read as `checked`, as written:
    reserved from `stamps` for each alert of a batch (one for a body queued whole)."""
    return _written(stamps.reserve(arrived, len(checked.parts) or 1))


def _written(when: datetime) -> str:
    """`when` as the gateway writes `received_at` (UTC, a `Z`), to the microsecond."""
    utc = when.astimezone(UTC)
    return utc.isoformat(timespec="microseconds").replace("+00:00", "Z")
