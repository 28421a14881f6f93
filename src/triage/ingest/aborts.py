"""What the gateway says about a sender that went away in the middle of its request: its
connection reset (RST) or ended (its end of stream) while the request's head was arriving, or
while its body was, or reset before its answer was written (an end of stream after a whole
request is a half-close, which HTTP/1.1 allows: answered, ingest/server.py). Nobody reads an
answer then, so without this an
operator would see nothing of it (a flaky load balancer, a sender's timeout shorter than SQS's
answer), or only a 400 that looks like a bad request.

Each is one `ingest.aborted` line (`Aborts`): the peer's address, what was cut (`CUTS`), how the
sender went (`reset` or `closed`), the bytes of the head or body that came, and, once the head was
whole, the source, the request's id, the status of the answer it did not read and, behind a
trusted proxy (whose address is the peer's), the sender that proxy saw. A lost 202
means the message is queued and the sender, seeing no answer, may send it again (the daemon
counts it as another delivery of the same incident). Anyone can cut requests short: the lines
are bounded, the rest summed up, and `IngestAborted{cut}` counts every one.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass

import structlog
from aiohttp import web

from triage.linebudget import LineBudget
from triage.metrics import Metrics

log = structlog.get_logger(__name__)

#: What a sender that went away left unfinished: its request's head, its body (the head was
#: whole), or the answer (the request was whole, the answer not written).
CUTS = ("head", "body", "answer")
#: The source a request was routed to, kept on it for the line of an answer nobody read …
SOURCE = web.RequestKey("triage_ingest_source", str)
#: … and, behind a trusted proxy, the sender it saw (`reader.sender`).
SENDER = web.RequestKey("triage_ingest_sender", str)


@dataclass(frozen=True, slots=True)
class Abort:
    """One request cut short by its sender: `cut` (one of CUTS), `how` (`reset` or `closed`),
    the `peer`'s address, and the `received_bytes` of the part cut (the head's, or the body's
    as it came, chunked framing aside). Once its head was whole: the `source`, the
    `request_id`, the `status` of the answer not read, the body's `expected_bytes` (its
    Content-Length), and behind a trusted proxy the `sender` it saw."""

    cut: str
    how: str
    peer: str
    received_bytes: int
    source: str | None = None
    request_id: str | None = None
    status: int | None = None
    expected_bytes: int | None = None
    sender: str | None = None


class Aborts:
    """Counts each `Abort` in `IngestAborted{cut}` and logs it as one `ingest.aborted` line, at
    most `per_second` a second; the rest of each second are summed up by cut in one
    `ingest.aborted_suppressed` line."""

    def __init__(
        self,
        metrics: Metrics,
        per_second: int = 10,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._metrics = metrics
        self._lines = LineBudget(per_second, 1.0, self._sum_up, clock)
        for cut in CUTS:
            metrics.declare("IngestAborted", cut=cut)

    def record(self, abort: Abort) -> None:
        self._metrics.incr("IngestAborted", cut=abort.cut)
        if self._lines.admit(abort.cut):
            fields = {name: value for name, value in asdict(abort).items() if value is not None}
            log.info("ingest.aborted", **fields)

    def flush(self) -> None:
        """Write the summary of the lines not written, if any (also when the gateway stops)."""
        self._lines.flush()

    @staticmethod
    def _sum_up(suppressed: Counter[str]) -> None:
        log.warning("ingest.aborted_suppressed", count=suppressed.total(), aborted=dict(suppressed))
