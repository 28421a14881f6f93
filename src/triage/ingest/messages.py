"""The queue messages a checked body becomes, each within the queue's message size: one, the body
as sent; one per alert for a batch of script alerts (ingest/several.py); for Alertmanager's API,
an array of alerts too big for one message is split into arrays that each fit (ingest/batches.py),
and an Alertmanager or Grafana webhook group into copies of the group each holding some of its
alerts (ingest/groups.py). Anything else too big is refused (413), naming what did not fit. Splitting is CPU work that grows
with the batch: a large batch is split on a worker thread, as validate.py parses a large body,
so the event loop keeps answering.
"""

from __future__ import annotations

import asyncio
import functools

from triage.ingest.batches import AlertTooLarge, split_batch
from triage.ingest.groups import GROUP_FORMATS, EnvelopeTooLarge, split_group
from triage.ingest.outbox import Outgoing
from triage.ingest.refused import Refused
from triage.ingest.validate import API_FORMATS, OFFLOAD_BODY_BYTES, Checked, sqs_safe


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
    webhook group by `split_group`; on a worker thread past OFFLOAD_BODY_BYTES, the bound
    validate.py parses within on the loop (splitting that much takes under a millisecond, the
    loop's share of a request); a smaller body stays on the loop, where a thread hop would
    cost more than splitting it."""
    text = checked.text
    if checked.format in GROUP_FORMATS:
        split = functools.partial(split_group, text, checked.format, max_bytes, sqs_safe)
    else:
        split = functools.partial(split_batch, text, max_bytes, sqs_safe)
    if len(text) > OFFLOAD_BODY_BYTES:
        return await asyncio.to_thread(split)
    return split()


def _one_per_alert(
    parts: tuple[str, ...], attributes: dict[str, str], limit: int
) -> list[Outgoing]:
    """A message for each alert of a batch; 413 naming the first that does not fit one."""
    messages = [Outgoing.of(part, attributes) for part in parts]
    for index, message in enumerate(messages, 1):
        if message.size_bytes > limit:
            raise Refused(
                413,
                "too_large_for_queue",
                f"alert {index} of {len(messages)} and its attributes are "
                f"{message.size_bytes:,} bytes; the queue takes at most {limit:,} per message",
            )
    return messages
