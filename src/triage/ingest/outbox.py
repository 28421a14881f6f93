"""The `Outbox` seam and its SQS implementation: one webhook body in, a message id out once SQS
holds it, with concurrent sends coalesced into `SendMessageBatch` calls.

Group commit: a body leaves at once when no call is in flight (a quiet gateway adds no wait);
while calls are in flight, bodies gather and the batch leaves when one of them returns, when it
has 10 entries, when one more would take it over 256 KiB (SQS's batch limit everywhere; a
message too large for a batch goes alone through `SendMessage`), or when its first body has
waited the linger (a few milliseconds), whichever comes first. So a busy gateway makes few,
full calls (each costs SQS and our client about as much as a single send) and an idle one none
late. Each entry's answer is its own: a `Failed` entry fails only its sender, and a batch call
SQS refuses whole for what one entry holds (a message over the queue's size) is sent again
entry by entry, so that only that entry's sender is refused. Errors:

    QueueUnavailable   SQS could not be reached, throttled us, or failed the entry itself
                       (the sender should retry: 503 with Retry-After)
      OutboxFull       `max_waiting` messages already wait for SQS (a slow SQS under load),
                       or `max_waiting_per_source` of the message's source do: the sender
                       retries later rather than queue here without bound
    MessageRejected    SQS refused this message for what it is (SenderFault): retrying cannot help

A send refused by the queue's KMS key (`triage.aws.kms_refusal`) is a QueueUnavailable like any
outage, and is also told to the `SendWatch` (the queue probe), which marks the gateway not
ready with one warning; a send that succeeds tells it the key takes messages again. So is a
send SQS refuses as not allowed (`triage.aws.QUEUE_REFUSALS`: a role without sqs:SendMessage,
a queue policy that denies it, the queue deleted), while GetQueueAttributes may still answer:
told as `send_refused`, it is a QueueUnavailable even when SQS marks the entry SenderFault (the
body is not at fault: 503, retried, never a 422 the sender drops). A send that
got no answer at all (a timeout, a refused connection) is told to it too (`unreachable`): the
gateway then refuses webhooks at once until the queue answers again.

Each failed send is an `ingest.queue_unavailable` (or `ingest.entry_failed`) line, at most
SEND_FAILURE_LINES_PER_S a second; the rest are summed up by error code in one
`ingest.queue_unavailable_suppressed` line (at the latest when the outbox closes).
"""

from __future__ import annotations

import asyncio
import email.utils
import math
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import structlog
from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as EndpointUnreachable

from triage.aws import (
    AWS_CALL_ERRORS,
    QUEUE_REFUSALS,
    batch_entries,
    is_kms_code,
    kms_refusal,
)
from triage.linebudget import LineBudget
from triage.logs import start_background
from triage.metrics import Metrics
from triage.sqs.identity import GATEWAY_ID_ATTRIBUTE, new_gateway_id

log = structlog.get_logger(__name__)

#: SQS's limits for one SendMessageBatch call.
BATCH_ENTRIES = 10
BATCH_BYTES = 262_144
#: Messages that may wait for SQS at once. Each holds a request, its connection and its task
#: (~18 KB besides the body): bytes alone (the gateway's reading budget) would let 32 MiB of
#: tiny bodies hold a gigabyte. Sixteen calls of ten entries are 160 at full speed.
MAX_WAITING = 1024
#: … of which one source's messages may be at most this many (half, as one source's bodies may
#: take at most half the bytes): one source's senders (a token, and the generic one is in many
#: tools' URLs) cannot take every slot while SQS is slow, and make every other source wait.
MAX_WAITING_PER_SOURCE = MAX_WAITING // 2
#: The message attribute naming the source a message came from, whose share it counts in.
SOURCE_ATTRIBUTE = "source"
#: What botocore raises when SQS did not answer at all (no connection, a timeout, a connection
#: closed mid-answer), as against an answer that was an error.
_NO_ANSWER = (EndpointUnreachable, HTTPClientError)
#: Attribute data type SQS counts towards a message's size, with each name and value.
_STRING = "String"
#: `ingest.queue_unavailable` and `ingest.entry_failed` lines a second, at most: while SQS fails,
#: every webhook's send fails, and a line each would fill the logs; the rest are summed up by
#: error code in one `ingest.queue_unavailable_suppressed` line.
SEND_FAILURE_LINES_PER_S = 10
#: How far this host's clock may be off SQS's before the gateway says so (`ingest.clock_skew`,
#: once): the daemon believes a message's `received_at` stamp only within seconds of its
#: SentTimestamp, and dates its alerts by SentTimestamp otherwise (the order of a batch's alerts
#: is lost). SQS's Date names a whole second: an offset is told apart from a round trip only
#: well past that.
CLOCK_SAID_S = 5.0


class QueueUnavailable(Exception):
    """Raised when SQS did not take a message now; a later attempt may succeed."""

    def __init__(self, message: str, *, code: str = "unavailable") -> None:
        super().__init__(message)
        self.code = code


class OutboxFull(QueueUnavailable):
    """Raised at once when `max_waiting` messages already wait for SQS (code `outbox_full`), or
    `max_waiting_per_source` of the message's source (code `outbox_source_share`)."""

    def __init__(self, waiting: int, *, source: str | None = None) -> None:
        if source is None:
            super().__init__(f"{waiting} messages already wait for SQS", code="outbox_full")
        else:
            super().__init__(
                f"{waiting} messages of {source} already wait for SQS", code="outbox_source_share"
            )


class MessageRejected(Exception):
    """Raised when SQS refuses a message for what it holds (a SenderFault entry)."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One message as it goes on the queue: the body exactly as received, and its attributes,
    among them the gateway's own id for it (`triage.sqs.identity`): SQS's MessageId is new when
    the message is redriven from the DLQ, the stamp is not, so its alerts are not counted
    again. Made once per message, it is the same on every send attempt."""

    body: str
    attributes: Mapping[str, str] = field(default_factory=dict)
    #: What SQS counts against its size limits: the body's UTF-8 bytes plus every attribute's
    #: name, type and value.
    size_bytes: int = 0

    @classmethod
    def of(
        cls, body: str, attributes: Mapping[str, str], body_bytes: int | None = None
    ) -> Outgoing:
        stamped = {**attributes, GATEWAY_ID_ATTRIBUTE: new_gateway_id()}
        size = body_bytes if body_bytes is not None else len(body.encode("utf-8"))
        size += sum(len(k) + len(_STRING) + len(v.encode("utf-8")) for k, v in stamped.items())
        return cls(body, stamped, size)

    def entry(self) -> dict[str, Any]:
        """The SendMessage(Batch) fields for this message."""
        attributes = {
            k: {"DataType": _STRING, "StringValue": v} for k, v in self.attributes.items()
        }
        return {"MessageBody": self.body, "MessageAttributes": attributes}


class Outbox(Protocol):
    async def send(self, message: Outgoing) -> str:
        """The SQS message id once SQS holds the message; QueueUnavailable or MessageRejected."""
        ...


class SendWatch(Protocol):
    """Told how sends go where readiness depends on it (`ingest.probe.QueueProbe`)."""

    def kms_refused(self, code: str) -> None:
        """A send failed because the queue's KMS key refused it (`code`)."""
        ...

    def send_refused(self, code: str) -> None:
        """A send was refused as not allowed (`code` in `triage.aws.QUEUE_REFUSALS`)."""
        ...

    def sent(self) -> None:
        """A send succeeded."""
        ...

    def unreachable(self, code: str) -> None:
        """A send got no answer from SQS (`code`: a timeout, a refused connection)."""
        ...


class _Unwatched:
    def kms_refused(self, code: str) -> None:
        return None

    def send_refused(self, code: str) -> None:
        return None

    def unreachable(self, code: str) -> None:
        return None

    def sent(self) -> None:
        return None


_Waiter = tuple[Outgoing, "asyncio.Future[str]"]


class SqsOutbox:
    """Coalesces concurrent `send` calls into SendMessageBatch calls on one aiobotocore client
    (opened and closed by the caller). `aclose()` sends what is waiting and waits for every
    call in flight, so nothing accepted is dropped at shutdown."""

    def __init__(
        self,
        client: Any,
        queue_url: str,
        *,
        linger_s: float = 0.005,
        max_in_flight: int = 16,
        max_waiting: int = MAX_WAITING,
        max_waiting_per_source: int = MAX_WAITING_PER_SOURCE,
        metrics: Metrics | None = None,
        watch: SendWatch | None = None,
        clock: ClockWatch | None = None,
    ) -> None:
        self._sqs = client
        self._metrics = metrics or Metrics()
        self._watch: SendWatch = watch or _Unwatched()
        self.queue_url = queue_url
        self.linger_s = linger_s
        self.max_waiting = max_waiting
        self.max_waiting_per_source = max_waiting_per_source
        #: Messages handed to `send` and not yet answered, in all and by source.
        self.waiting = 0
        self._waiting_by_source: Counter[str] = Counter()
        self._pending: list[_Waiter] = []
        self._pending_bytes = 0
        self._timer: asyncio.TimerHandle | None = None
        self._calls: set[asyncio.Task[None]] = set()
        # Bounded like the client's connection pool, so calls never queue inside botocore.
        self._slots = asyncio.Semaphore(max_in_flight)
        self._failure_lines = LineBudget(SEND_FAILURE_LINES_PER_S, 1.0, _failures_suppressed)
        self._clock = clock or ClockWatch()

    async def send(self, message: Outgoing) -> str:
        source = message.attributes.get(SOURCE_ATTRIBUTE, "")
        if self.waiting >= self.max_waiting:
            raise OutboxFull(self.waiting)
        if self._waiting_by_source[source] >= self.max_waiting_per_source:
            raise OutboxFull(self._waiting_by_source[source], source=source)
        self.waiting += 1
        self._waiting_by_source[source] += 1
        try:
            return await self._send(message)
        finally:
            self.waiting -= 1
            self._waiting_by_source[source] -= 1
            if not self._waiting_by_source[source]:
                del self._waiting_by_source[source]

    async def _send(self, message: Outgoing) -> str:
        done: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        if message.size_bytes > BATCH_BYTES:
            self._metrics.observe("IngestBatchEntries", 1, unit="Count")
            self._start(self._send_alone((message, done)))
            return await done
        if self._pending_bytes + message.size_bytes > BATCH_BYTES:
            self._flush()
        self._pending.append((message, done))
        self._pending_bytes += message.size_bytes
        if len(self._pending) >= BATCH_ENTRIES or not self._calls:
            self._flush()
        elif self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self.linger_s, self._flush)
        return await done

    async def aclose(self, timeout_s: float | None = None) -> None:
        """Send what is waiting for a batch and wait for the calls in flight; those still out
        after `timeout_s` are cancelled (at shutdown, once every request was answered or
        cancelled, no sender waits for them: a silent SQS would hold the exit ~20 s)."""
        self._flush()
        try:
            await self._wait_for_calls(timeout_s)
        finally:
            self._failure_lines.flush()

    async def _wait_for_calls(self, timeout_s: float | None) -> None:
        loop = asyncio.get_running_loop()
        deadline = math.inf if timeout_s is None else loop.time() + timeout_s
        while self._calls:  # a call's return may start the batch that gathered meanwhile
            remaining = None if deadline == math.inf else max(0.0, deadline - loop.time())
            _, late = await asyncio.wait(set(self._calls), timeout=remaining)
            if late:
                log.warning("ingest.sends_abandoned", calls=len(late))
                for call in late:
                    call.cancel()
                await asyncio.gather(*late, return_exceptions=True)
                return

    def _flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        batch, self._pending, self._pending_bytes = self._pending, [], 0
        if batch:
            self._start(self._send_batch(batch))

    def _start(self, call: Any) -> None:
        task = start_background(call, name="ingest-outbox-send")
        self._calls.add(task)
        task.add_done_callback(self._returned)

    def _returned(self, task: asyncio.Task[None]) -> None:
        """A call came back: if it was the last one, the bodies that gathered meanwhile leave."""
        self._calls.discard(task)
        if not self._calls:
            self._flush()

    async def _send_batch(self, batch: list[_Waiter]) -> None:
        self._metrics.observe("IngestBatchEntries", len(batch), unit="Count")
        if len(batch) == 1:  # one entry: SendMessage is the cheaper call and the same answer
            await self._send_alone(batch[0])
            return
        entries = [{"Id": str(i), **message.entry()} for i, (message, _) in enumerate(batch)]
        refused_whole: ClientError | None = None
        async with self._slots:
            try:
                asked_s = self._clock.now()
                response = await self._sqs.send_message_batch(
                    QueueUrl=self.queue_url, Entries=entries
                )
                self._clock.heard(response, asked_s)
            except ClientError as exc:
                if not _is_sender_fault(exc):
                    _fail_all(batch, self._unavailable(exc, len(batch)))
                    return
                refused_whole = exc
            except AWS_CALL_ERRORS as exc:
                _fail_all(batch, self._unavailable(exc, len(batch)))
                return
        if refused_whole is not None:
            await self._each_alone(batch, refused_whole)
            return
        for entry, i in batch_entries(response, "Successful", len(batch)):
            message_id = entry.get("MessageId")
            if isinstance(message_id, str) and message_id:
                self._watch.sent()
                _settle(batch[i][1], result=message_id)
        for entry, i in batch_entries(response, "Failed", len(batch)):
            code = _text(entry.get("Code", "Unknown"))
            refused = code in QUEUE_REFUSALS  # not the body's fault, SenderFault or not
            if refused:
                self._watch.send_refused(code)
            # The queue's KMS key (refused, or throttling us) is never the body's fault, though
            # SQS may flag its entry as the sender's: a 503 the sender retries, as on one send.
            kms = code.startswith(("KMS.", "Kms"))
            if is_kms_code(code):
                self._watch.kms_refused(code)  # its warning is the outage's one line
            elif self._failure_lines.admit(code):
                log.warning("ingest.entry_failed", code=code, sender_fault=entry.get("SenderFault"))
            error: Exception = (
                MessageRejected(f"SQS refused the message: {code}", code=code)
                if entry.get("SenderFault") is True and not refused and not kms
                else QueueUnavailable(f"SQS failed the message: {code}", code=code)
            )
            _settle(batch[i][1], error=error)
        # An entry SQS answered neither way (or in a way that does not read) must not leave its
        # sender waiting forever.
        _fail_all(batch, QueueUnavailable("SQS did not answer for the message", code="no_answer"))

    async def _each_alone(self, batch: list[_Waiter], refused: ClientError) -> None:
        """SQS refused a whole batch call for what an entry holds (a message over the queue's
        size is refused so, not as a `Failed` entry): which entry is not said, and the others
        are not at fault. Each is sent alone (outside the batch's slot), so only its own
        sender is refused; a batch holds at most BATCH_ENTRIES."""
        if self._failure_lines.admit(_code(refused)):
            log.warning("ingest.batch_refused", error=_code(refused), messages=len(batch))
        await asyncio.gather(*(self._send_alone(waiter) for waiter in batch))

    async def _send_alone(self, waiter: _Waiter) -> None:
        message, done = waiter
        async with self._slots:
            try:
                asked_s = self._clock.now()
                response = await self._sqs.send_message(QueueUrl=self.queue_url, **message.entry())
                self._clock.heard(response, asked_s)
            except ClientError as exc:
                if _is_sender_fault(exc):
                    code = _code(exc)
                    _settle(
                        done, error=MessageRejected(f"SQS refused the message: {code}", code=code)
                    )
                else:
                    _settle(done, error=self._unavailable(exc, 1))
                return
            except AWS_CALL_ERRORS as exc:
                _settle(done, error=self._unavailable(exc, 1))
                return
        message_id = response.get("MessageId") if isinstance(response, Mapping) else None
        if isinstance(message_id, str) and message_id:
            self._watch.sent()
            _settle(done, result=message_id)
        else:
            if self._failure_lines.admit("no_message_id"):
                log.warning("ingest.queue_unavailable", error="no_message_id", messages=1)
            _settle(done, error=QueueUnavailable("SQS did not answer with an id", code="no_answer"))

    def _unavailable(self, exc: Exception, count: int) -> QueueUnavailable:
        code = _code(exc) if isinstance(exc, ClientError) else type(exc).__name__
        if isinstance(exc, _NO_ANSWER):
            self._watch.unreachable(code)  # no answer at all: the next webhooks need not wait
        if isinstance(exc, ClientError) and code in QUEUE_REFUSALS:
            self._watch.send_refused(code)  # not ready until a send succeeds
        if kms_refusal(exc) is not None:
            # The watch's `ingest.queue_kms_denied` is the outage's one line, not each send's.
            self._watch.kms_refused(code)
            log.debug("ingest.queue_unavailable", error=code, messages=count)
        elif self._failure_lines.admit(code):
            # AWS's error text and the queue URL stay in this log line, never in an answer.
            log.warning("ingest.queue_unavailable", error=code, messages=count)
        return QueueUnavailable(f"SQS did not take the message: {code}", code=code)


class ClockWatch:
    """Compares this host's clock with the `Date` of SQS's answers (the probe's and the
    sends'), and says once (`ingest.clock_skew`, with `gateway_ahead_s`) when it is off by more
    than CLOCK_SAID_S: the stamps the gateway puts on its messages are then set aside by the
    daemon, and a signed webhook's time is judged by SQS's clock (`sqs_time`), as the sender's
    is most likely right where this host's is off AWS's."""

    def __init__(self, wall: Callable[[], float] = time.time) -> None:
        self.now = wall
        self.said = False
        #: How far this host's clock runs ahead of SQS's (behind: negative), once it is off
        #: by more than CLOCK_SAID_S; 0 while it is in step.
        self.ahead_s = 0.0

    def sqs_time(self) -> float:
        """The Unix time now by SQS's clock, as far as its answers told (this host's own
        while they agree)."""
        return self.now() - self.ahead_s

    def heard(self, answer: object, asked_s: float) -> None:
        """Compare with `answer`'s Date, to a call asked at `asked_s` (`now()`)."""
        date_s = _answer_date_s(answer)
        if date_s is None:
            return
        # SQS wrote its Date, a whole second, at some moment between the ask and the answer.
        least = asked_s - (date_s + 1.0)
        most = self.now() - date_s
        if least >= -CLOCK_SAID_S and most <= CLOCK_SAID_S:
            self.ahead_s = 0.0
            return
        if least <= CLOCK_SAID_S and most >= -CLOCK_SAID_S:
            return  # a slow answer: it tells nothing either way
        self.ahead_s = (least + most) / 2
        if not self.said:
            self.said = True
            log.warning(
                "ingest.clock_skew",
                gateway_ahead_s=round(self.ahead_s, 1),
                why="its stamps are set aside by the daemon; signed webhooks' times are "
                "judged by SQS's clock",
            )


def _answer_date_s(answer: object) -> float | None:
    """The Unix time of an AWS answer's HTTP Date header; None when it has none that reads."""
    metadata = answer.get("ResponseMetadata") if isinstance(answer, Mapping) else None
    headers = metadata.get("HTTPHeaders") if isinstance(metadata, Mapping) else None
    date = headers.get("date") if isinstance(headers, Mapping) else None
    if not isinstance(date, str):
        return None
    try:
        when = email.utils.parsedate_to_datetime(date)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return when.timestamp() if when.tzinfo is not None else None


def _failures_suppressed(suppressed: Counter[str]) -> None:
    log.warning(
        "ingest.queue_unavailable_suppressed", count=suppressed.total(), errors=dict(suppressed)
    )


def _settle(
    done: asyncio.Future[str], *, result: str | None = None, error: Exception | None = None
) -> None:
    if done.done():
        return  # already settled, or its request was cancelled (shutdown past the grace)
    if error is not None:
        done.set_exception(error)
    else:
        assert result is not None
        done.set_result(result)


def _text(value: object) -> str:
    """A value from SQS's answer, short enough for one log field."""
    return str(value)[:64]


def _fail_all(batch: list[_Waiter], error: Exception) -> None:
    for _, done in batch:
        _settle(done, error=error)


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", "Unknown"))


def _is_sender_fault(exc: ClientError) -> bool:
    """A 4xx about the message itself (its contents or size), not about us or the queue."""
    return _code(exc) in {"InvalidMessageContents", "InvalidParameterValue", "MessageTooLong"}
