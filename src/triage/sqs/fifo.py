"""Whether a queue is FIFO, which triage cannot send to: SQS refuses a send to a FIFO queue
without a MessageGroupId (and without a MessageDeduplicationId unless the queue deduplicates by
content), and triage gives neither (the gateway, `triage send`, a redrive by batches). Every
command that starts on the queue asks here, so each says it in the same words."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

from triage.errors import ConfigError
from triage.view import url_origin

#: The GetQueueAttributes name that says whether a queue is FIFO ("true"; a standard queue's
#: answer may leave it out).
FIFO_ATTRIBUTE = "FifoQueue"

#: SQS's codes for a send to a FIFO queue without what FIFO requires: no MessageGroupId
#: (MissingParameter), no MessageDeduplicationId on a queue that does not deduplicate by
#: content (InvalidParameterValue). Neither is the sender's fault.
FIFO_SEND_REFUSALS = frozenset({"MissingParameter", "InvalidParameterValue"})


def is_fifo(queue_url: str, attributes: Mapping[str, object] | None = None) -> bool:
    """Whether the queue is FIFO: as SQS says (`FifoQueue`), or, where the answer does not say
    (none yet, a stand-in), as its name says (SQS requires `.fifo` at the end of a FIFO
    queue's name, and allows no dot in a standard queue's)."""
    said = (attributes or {}).get(FIFO_ATTRIBUTE)
    if isinstance(said, str):
        return said.lower() == "true"
    try:
        path = urlsplit(queue_url).path
    except ValueError:
        return False
    return path.rstrip("/").endswith(".fifo")


def fifo_refusal(queue_url: str, setting: str = "ALERT_TRIAGE_QUEUE_URL") -> ConfigError:
    """The one line a command stops with on a FIFO queue, the URL shown without a user, a
    password or a query (`view.url_origin`), as every URL check shows it."""
    return ConfigError(
        f"{setting} {url_origin(queue_url)} is a FIFO queue: SQS refuses a send to it without a "
        "MessageGroupId, which triage never gives (the gateway, `triage send`, a redrive by "
        "batches): use a standard queue"
    )
