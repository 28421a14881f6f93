"""How deep the alerts queue and its DLQ are, polled on an interval (`TRIAGE_QUEUE_DEPTH_POLL_S`).

Each poll is two GetQueueAttributes calls: the queue (its counts, and the RedrivePolicy that
names the DLQ) and the DLQ (its count). The DLQ's URL is the queue's with the DLQ's name, since
SQS keeps a queue and its DLQ in one account and region. The counts become the gauges
`QueueMessagesVisible`, `QueueMessagesInFlight`, `QueueMessagesDelayed` and
`DlqMessagesVisible`, and `latest` (for the status page, which `read`s it: a page view polls
only before the poller's first poll has ended, and views that come then share one). A count is read as strictly as
`inbox.depth` reads it: one that is no count ("-3", " 3", an Arabic-Indic "3") fails the poll.
A failed poll counts `QueueDepthPollFailures` and clears the gauges: a stale or wrong depth
reads as a true one. The DLQ's call fails on its own: when it is refused (the DLQ deleted, or
our role may not read it) or not answered in time, the queue's depth, which SQS answered,
stands, and only `DlqMessagesVisible` is cleared (unknown, not 0), with one
`queue_depth.dlq_unreadable` warning naming the DLQ and one `queue_depth.dlq_recovered` line
when it answers again. An answer that does not read (a count that is none, a RedrivePolicy no
SQS writes) still fails the poll: whatever wrote it may have written the rest. A poll SQS
leaves unanswered past its bound has failed too (botocore's tries would keep the last depth
shown for minutes). An outage logs one warning at its first failed poll and one
`queue_depth.recovered` line when a poll works again, not a warning every poll.

The queue's answer carries its RedrivePolicy, so the daemon's maxReceiveCount follows it from
here (`redrive`), at no cost of its own: a poll whose queue call failed is the limit's failed
read too, and keeps its last good count.

The queue's oldest message has no SQS attribute (CloudWatch computes
`ApproximateAgeOfOldestMessage`, which the module's alarm watches); the supervisor's
`OldestMessageAge` gauge says what this process can see: the oldest message it holds.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import structlog
from botocore.exceptions import ClientError

from triage.aws import AWS_CALL_ERRORS, told_client_error
from triage.metrics import Metrics
from triage.sqs.inbox import Depth, sqs_count
from triage.sqs.redrive import RedriveLimit

log = structlog.get_logger(__name__)

#: The longest a poll may take before it counts as failed (and shorter when polls are closer).
POLL_TIMEOUT_S = 10.0

#: What a poll may raise that fails that poll only: the calls' errors, and an answer nested past
#: the JSON parser (a RedrivePolicy no SQS writes).
_POLL_ERRORS: tuple[type[Exception], ...] = (*AWS_CALL_ERRORS, RecursionError)

_QUEUE_GAUGES = ("QueueMessagesVisible", "QueueMessagesInFlight", "QueueMessagesDelayed")
_DLQ_GAUGE = "DlqMessagesVisible"


@dataclass(frozen=True, slots=True)
class QueueDepths:
    queue: Depth
    #: Dead letters waiting; None when the queue has no redrive policy, or its DLQ did not
    #: answer (`dlq_error` then says why).
    dlq_visible: int | None
    polled_at: datetime
    dlq_error: str | None = None


class DepthPoller:
    """Polls every `interval_s` until cancelled; `latest` is what the last poll read (None
    when it failed), `last_read_at` when a poll last worked."""

    def __init__(
        self,
        client: Any,
        queue_url: str,
        metrics: Metrics,
        interval_s: float,
        *,
        timeout_s: float | None = None,
        redrive: RedriveLimit | None = None,
    ) -> None:
        self._sqs = client
        self.queue_url = queue_url
        self.metrics = metrics
        self.interval_s = interval_s
        self.timeout_s = timeout_s or max(1.0, min(interval_s, POLL_TIMEOUT_S))
        self.latest: QueueDepths | None = None
        #: When the last poll ended (None before the first), and when one last worked.
        self.last_poll_at: datetime | None = None
        self.last_read_at: datetime | None = None
        #: One poll at a time: a reader waits for the one under way instead of asking too.
        self._polling = asyncio.Lock()
        #: The maxReceiveCount the queue's answers update, if anyone follows it.
        self.redrive = redrive
        #: Whether this poll's queue call answered (its DLQ call may still fail the poll).
        self._queue_answered = False
        #: Polls failed in a row: the first says so, the one that works again ends it.
        self._failed_polls = 0
        #: Polls in a row whose DLQ call failed (the queue's answered): said as those are.
        self._dlq_failed_polls = 0

    async def run(self) -> None:
        while True:
            await self.poll()
            await asyncio.sleep(self.interval_s)

    @property
    def failed_polls(self) -> int:
        """Polls failed in a row up to now (0 when the last one worked)."""
        return self._failed_polls

    async def read(self) -> QueueDepths | None:
        """The depths as the last poll left them (None: it failed), for a reader such as the
        status page: polls only while no poll has ended yet (waiting for one under way), so
        readers never add polls, nor failed ones in an outage, to the poller's own."""
        async with self._polling:
            if self.last_poll_at is None:
                await self._poll()
        return self.latest

    async def poll(self) -> QueueDepths | None:
        """One poll: the depths, or None when SQS did not answer (logged, counted)."""
        async with self._polling:
            return await self._poll()

    async def _poll(self) -> QueueDepths | None:
        self._queue_answered = False
        # One bound for the poll, the two calls each within it: the DLQ's timing out must
        # not take the queue's answer with it.
        deadline = asyncio.get_running_loop().time() + self.timeout_s
        try:
            async with asyncio.timeout_at(deadline):
                attrs = await self._queue_attributes()
            queue = _queue_depth(attrs)
            depths = await self._with_dlq(queue, attrs, deadline)
        except TimeoutError:
            self._failed(f"no answer within {self.timeout_s:g} s")
            return None
        except _POLL_ERRORS as exc:
            self._failed(str(exc) or type(exc).__name__)
            return None
        self.last_poll_at = self.last_read_at = depths.polled_at
        if self._failed_polls:
            log.info("queue_depth.recovered", failed_polls=self._failed_polls)
            self._failed_polls = 0
        self.latest = depths
        queue = depths.queue
        for name, value in zip(
            _QUEUE_GAUGES, (queue.visible, queue.in_flight, queue.delayed), strict=True
        ):
            self.metrics.set(name, value)
        if depths.dlq_visible is None:
            self.metrics.clear(_DLQ_GAUGE)
        else:
            self.metrics.set(_DLQ_GAUGE, depths.dlq_visible)
        return depths

    def _failed(self, error: str) -> None:
        """Forget the depths (unknown now), count the poll; warn at an outage's first."""
        self.latest = None
        self.last_poll_at = datetime.now(UTC)
        for name in (*_QUEUE_GAUGES, _DLQ_GAUGE):
            self.metrics.clear(name)
        self.metrics.incr("QueueDepthPollFailures")
        self._failed_polls += 1
        emit = log.warning if self._failed_polls == 1 else log.debug
        emit("queue_depth.poll_failed", error=error, failed_polls=self._failed_polls)
        if self.redrive is not None and not self._queue_answered:
            self.redrive.unread(error)

    async def _queue_attributes(self) -> dict[str, str]:
        """The queue's counts and RedrivePolicy (which the maxReceiveCount follows)."""
        attrs = await self._attributes(
            self.queue_url,
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed",
            "RedrivePolicy",
        )
        self._queue_answered = True
        if self.redrive is not None:
            self.redrive.observe(attrs)
        return attrs

    async def _with_dlq(self, queue: Depth, attrs: dict[str, str], deadline: float) -> QueueDepths:
        """The depths, with the DLQ's count when the queue has one. A DLQ call that fails
        (deleted, not ours to read, silent past `deadline`) leaves its count unknown, said
        once per outage: the queue's depth, which SQS answered, stands. A RedrivePolicy or a
        count that does not read raises (the poll fails)."""
        if "RedrivePolicy" not in attrs:
            return QueueDepths(queue, None, datetime.now(UTC))
        url = dlq_url(self.queue_url, json.loads(attrs["RedrivePolicy"])["deadLetterTargetArn"])
        name = url.rsplit("/", 1)[-1]
        try:
            async with asyncio.timeout_at(deadline):
                dlq = await self._attributes(url, "ApproximateNumberOfMessages")
        except TimeoutError:
            error = f"no answer within {self.timeout_s:g} s"
        except AWS_CALL_ERRORS as exc:
            error = _told(exc)
        else:
            visible = _count(dlq, "ApproximateNumberOfMessages")
            if self._dlq_failed_polls:
                log.info("queue_depth.dlq_recovered", dlq=name, failed_polls=self._dlq_failed_polls)
                self._dlq_failed_polls = 0
            return QueueDepths(queue, visible, datetime.now(UTC))
        self._dlq_failed_polls += 1
        emit = log.warning if self._dlq_failed_polls == 1 else log.debug
        emit(
            "queue_depth.dlq_unreadable",
            dlq=name,
            error=error,
            failed_polls=self._dlq_failed_polls,
        )
        return QueueDepths(queue, None, datetime.now(UTC), dlq_error=error)

    async def _attributes(self, url: str, *names: str) -> dict[str, str]:
        response = await self._sqs.get_queue_attributes(QueueUrl=url, AttributeNames=list(names))
        attributes: dict[str, str] = response.get("Attributes", {})
        return attributes


def _queue_depth(attrs: dict[str, str]) -> Depth:
    """The queue's counts from its answer (ValueError for one that is no count)."""
    return Depth(
        visible=_count(attrs, "ApproximateNumberOfMessages"),
        in_flight=_count(attrs, "ApproximateNumberOfMessagesNotVisible"),
        delayed=_count(attrs, "ApproximateNumberOfMessagesDelayed"),
    )


def _told(exc: Exception) -> str:
    """A failed call for a line: an AWS refusal redacted and cut (`told_client_error`)."""
    if isinstance(exc, ClientError):
        return told_client_error(exc)
    return str(exc) or type(exc).__name__


def _count(attributes: dict[str, str], name: str) -> int:
    """The count `name` as SQS writes it ("3"; 0 when not answered); ValueError naming the
    attribute for anything else (a sign, spaces, another script's digits), which fails the
    poll: a wrong depth must not read as a true one."""
    try:
        return sqs_count(attributes.get(name, 0))
    except ValueError as exc:
        raise ValueError(f"get_queue_attributes answered {name}: {exc}") from None


def dlq_url(queue_url: str, dlq_arn: str) -> str:
    """The DLQ's URL: the queue's URL with the DLQ's name (same account and region, as SQS
    requires of a redrive target), so no GetQueueUrl call or permission is needed."""
    name = dlq_arn.rsplit(":", 1)[-1]
    if not name or "/" in name:
        raise ValueError(f"not a queue ARN: {dlq_arn!r}")
    return queue_url.rstrip("/").rsplit("/", 1)[0] + "/" + name
