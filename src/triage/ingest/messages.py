"""The queue messages a checked body becomes, each within the queue's message size: one, the body
as sent; one per alert for a batch of script alerts (ingest/several.py); for Alertmanager's API,
an array of alerts too big for one message is split into arrays that each fit (ingest/batches.py).
Anything else too big is refused (413), naming what did not fit.
"""

from __future__ import annotations

from triage.ingest.batches import AlertTooLarge, split_batch
from triage.ingest.outbox import Outgoing
from triage.ingest.refused import Refused
from triage.ingest.validate import API_FORMATS, Checked, sqs_safe


def messages_for(checked: Checked, attributes: dict[str, str], limit: int) -> list[Outgoing]:
    """The messages `checked` becomes, each with `attributes`, each at most `limit` bytes."""
    if checked.parts:
        return _one_per_alert(checked.parts, attributes, limit)
    message = Outgoing.of(checked.text, attributes, checked.size_bytes)
    if message.size_bytes <= limit:
        return [message]
    too_large = f"body and attributes are {message.size_bytes:,} bytes; the queue takes at "
    too_large += f"most {limit:,} per message"
    if checked.format not in API_FORMATS:
        raise Refused(413, "too_large_for_queue", too_large)
    room = limit - (message.size_bytes - checked.size_bytes)  # what attributes leave
    try:
        parts = split_batch(checked.text, room, sqs_safe)
    except AlertTooLarge as exc:
        raise Refused(413, "too_large_for_queue", f"{too_large}, and {exc}") from None
    return [Outgoing.of(part, attributes) for part in parts]


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
