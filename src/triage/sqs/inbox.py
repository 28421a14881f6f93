"""The `Inbox` seam and its SQS implementation: receive, delete in batches, release with a delay.

The supervisor knows only `Inbox`; tests and benchmarks may give it another implementation.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, TypeVar, runtime_checkable

import structlog
from botocore.exceptions import ClientError

from triage.aws import (
    AWS_CALL_ERRORS,
    KMS_DENIED,
    batch_entries,
    kms_refusal,
    told_error_code,
)
from triage.errors import InboxError
from triage.sqs.identity import REDRIVEN_FROM_ATTRIBUTE, Say, is_identity, message_identity
from triage.tracing import carried_trace_id

log = structlog.get_logger(__name__)

#: SQS's limits, here and nowhere else: the most messages per receive and per batch call,
#: and the longest a message may stay hidden (12 hours).
MAX_BATCH = 10
#: Most message ids one `message.delete_failed` line lists (a batch holds at most MAX_BATCH).
MAX_IDS_LOGGED = 10
MAX_VISIBILITY_S = 43_200

#: No offset: a message whose `sqs_ahead` is unknown is aged by this host's clock.
_NO_TIME = timedelta(0)
#: How far SQS's clock may be off this host's before the inbox says so (`inbox.clock_skew`):
#: an offset read from a first receive is off by the receive's round trip, far below this.
CLOCK_SAID_S = 5.0

#: A receive count SQS did not say: ApproximateReceiveCount absent (a proxy, an SQS-compatible
#: server) or not a positive count. See `Message.known_receive_count`.
UNKNOWN_RECEIVE_COUNT = 0

#: The message attribute `triage ingest` copies a Sentry webhook's `Sentry-Hook-Resource` into.
SENTRY_RESOURCE_ATTRIBUTE = "sentry_hook_resource"
#: The message attribute `triage ingest` stores its span's W3C trace context in.
TRACEPARENT_ATTRIBUTE = "traceparent"
#: The message attribute `triage ingest` stores when it received the webhook in (ISO 8601, UTC):
#: a DLQ redrive keeps it, where SentTimestamp is new.
RECEIVED_AT_ATTRIBUTE = "received_at"


@dataclass(frozen=True, slots=True)
class Message:
    #: SQS's MessageId: new on a DLQ redrive (see `identity`).
    id: str
    body: str
    receipt_handle: str
    #: ApproximateReceiveCount: 1 on the first delivery; UNKNOWN_RECEIVE_COUNT (0) when the
    #: receive did not say it. Read it through `known_receive_count` and `first_delivery`.
    receive_count: int
    sent_at: datetime | None
    #: When this process received it: event times far ahead of it are not believed.
    received_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    #: How far SQS's clock ran ahead of this host's (behind: negative) when it was received,
    #: as SQS's ApproximateFirstReceiveTimestamp of a first delivery tells (`SqsInbox` keeps
    #: the latest for a redelivery); None when unknown. SentTimestamp is SQS's clock: an age
    #: read from it on a host minutes off (no NTP) is off as much (`age_s`).
    sqs_ahead: timedelta | None = None
    #: The message's string attributes (what `triage ingest` adds: source, request id …).
    attributes: Mapping[str, str] = field(default_factory=dict)
    #: SQS's AWSTraceHeader system attribute (X-Ray), when the sender was traced.
    trace_header: str | None = None
    #: Which message this is across deliveries and DLQ redrives, the key of "already counted"
    #: (`triage.sqs.identity`); made from the fields above when not given.
    identity: str = ""
    #: Called once SQS has confirmed this delivery's delete: the message cannot come back, so
    #: what the store kept in case it did may go (`Store.settle`). New on every delivery.
    on_deleted: list[Callable[[], None]] = field(
        default_factory=list, init=False, compare=False, repr=False
    )
    #: Called once SQS has said it no longer holds this delivery (a visibility change answered
    #: `ReceiptHandleIsInvalid` or `MessageNotInflight`): another replica deleted it or holds
    #: it now, or it is visible again for anyone to receive. New on every delivery.
    on_lost: list[Callable[[], None]] = field(
        default_factory=list, init=False, compare=False, repr=False
    )
    #: The alert(s) this delivery's work reached, set by its worker (`fingerprint` and
    #: `source` for one alert, `fingerprints` for a group; a failed attempt's alert until it
    #: is handled): the lines of its delete and its visibility changes name them
    #: (`alert_named`), so an operator reading one knows which alert may come again.
    alert: dict[str, object] = field(default_factory=dict, init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        if not self.identity:
            named = message_identity(self.id, self.body, self.attributes)
            object.__setattr__(self, "identity", named)  # frozen: set once, as it is made

    def age_s(self, now: datetime) -> float | None:
        """Seconds since SQS sent it at `now` (this host's clock), read on SQS's clock when
        `sqs_ahead` is known; None without SentTimestamp."""
        if self.sent_at is None:
            return None
        return (now + (self.sqs_ahead or _NO_TIME) - self.sent_at).total_seconds()

    @property
    def known_receive_count(self) -> int | None:
        """The receive count as SQS said it; None when it did not. Such a delivery may be
        any, its first or its last: it is taken for neither (no QueueLag, never counted as
        dead-lettered), while SQS, which knows the count, still redrives it."""
        return self.receive_count if self.receive_count > UNKNOWN_RECEIVE_COUNT else None

    @property
    def first_delivery(self) -> bool:
        """Known to be the message's first delivery (a count SQS did not say may be any)."""
        return self.receive_count == 1

    @property
    def sentry_resource(self) -> str | None:
        return self.attributes.get(SENTRY_RESOURCE_ATTRIBUTE)

    @property
    def redriven(self) -> bool:
        """`triage dlq redrive` sent it back from the DLQ: its alerts may have been seen under
        its identity before, whatever its receive count says. (SQS's own move task leaves no
        such mark.)"""
        return is_identity(self.attributes.get(REDRIVEN_FROM_ATTRIBUTE, ""))


#: The reason an entry of a receive's answer that cannot be read counts under
#: (`MessagesFailed`, `MessagesDeadLettered`) and its `message.unreadable_entry` line names.
UNREADABLE_REASON = "unreadable"


@dataclass(frozen=True, slots=True)
class UnreadableEntry:
    """An entry of a receive's answer that `message_from` could not read: never handed out,
    made visible again when it has a receipt handle (at once, or after the retry backoff the
    supervisor asks for on a queue whose redrive policy it does not know). Said to the inbox's
    `on_unreadable` listeners so that it is counted as any failed message is (received,
    failed, dead-lettered on its last receive), though no worker ever holds it."""

    #: SQS's MessageId; None when the entry has none (each such entry is a message apart).
    message_id: str | None
    #: Its ApproximateReceiveCount, UNKNOWN_RECEIVE_COUNT when not said (`Message`'s).
    receive_count: int
    #: Why it cannot be read (never any of its body).
    error: str


@runtime_checkable
class SaysUnreadable(Protocol):
    """An inbox that says each entry of an answer it cannot read (and so never hands out):
    the supervisor listens while it serves, to count them."""

    on_unreadable: list[Callable[[UnreadableEntry], int | None]]


@dataclass(frozen=True, slots=True)
class Depth:
    visible: int
    in_flight: int
    delayed: int

    @property
    def empty(self) -> bool:
        return self.visible == 0 and self.in_flight == 0 and self.delayed == 0


class Inbox(Protocol):
    async def receive(self, max_messages: int, wait_s: int, visibility_s: int) -> list[Message]:
        """Long-poll for up to `max_messages`, hidden from other consumers for `visibility_s`."""
        ...

    async def delete(self, messages: Sequence[Message]) -> list[str]:
        """Delete the messages (in as many calls as the queue's batch limit needs); return the
        receipt handles of the deliveries the queue failed to delete. By delivery, not by
        message id: two deliveries of one message may share a batch (a redelivery while the
        first waited for its delete), and the stale one's failure says nothing of the other.
        (The acker still reads a message id there, as inboxes answered before, as every
        delivery of that message failed: never a delete confirmed that was not.)"""
        ...

    async def change_visibility(self, messages: Sequence[Message], timeout_s: int) -> None:
        """Hide the messages for `timeout_s` more seconds (batched as the queue needs): 0
        releases them at once, a delay spaces out a retry, and a heartbeat extends messages
        still being worked on."""
        ...

    async def depth(self) -> Depth: ...


T = TypeVar("T")

#: What SQS answers a visibility change of a delivery it no longer holds: its receipt handle
#: expired or was replaced by a later receive, or the message is visible again. No later
#: change can revive it.
_LOST_DELIVERY = frozenset(
    {"ReceiptHandleIsInvalid", "MessageNotInflight", "AWS.SimpleQueueService.MessageNotInflight"}
)
#: What SQS's message says when it answers a lost delivery as `InvalidParameterValue` (as it
#: does, rather than `ReceiptHandleIsInvalid`, once the message was received again after its
#: visibility ran out): "Value … for parameter ReceiptHandle is invalid. Reason: Message does
#: not exist or is not available for visibility timeout change." The same code for a timeout
#: past 12 hours names VisibilityTimeout, and that delivery is still ours.
_STALE_HANDLE_SAID = "not available for visibility timeout change"
#: How many such deliveries an inbox remembers (the oldest forgotten first).
_LOST_KEPT = 10_000

#: A visibility change's failures, each one log line: it is never worth stopping for.
_VISIBILITY_ERRORS: tuple[type[Exception], ...] = (*AWS_CALL_ERRORS, InboxError)

#: How long past its long poll a receive may go unanswered before it has failed. botocore
#: would wait out its read timeout on every try (minutes against a queue endpoint that takes
#: the connection and never answers), while /readyz, which follows the last receive to answer,
#: still said ready. Failed, the supervisor backs off and says so once. The other calls (none
#: long-polls) get this much in all: a delete or a depth then fails, a visibility change is
#: one log line, and the heartbeat and the acker go on.
RECEIVE_SLACK_S = 15.0


class SqsInbox:
    """An SQS queue through one aiobotocore client (opened and closed by the caller)."""

    def __init__(
        self, client: Any, queue_url: str, *, answer_slack_s: float = RECEIVE_SLACK_S
    ) -> None:
        self._sqs = client
        self.queue_url = queue_url
        self.answer_slack_s = answer_slack_s
        #: Receipt handles SQS said it no longer holds (`_LOST_DELIVERY`): the heartbeat's
        #: next extensions of them are not sent, so each is one warning, not one per beat.
        self._lost: dict[str, None] = {}
        #: Why the last visibility call failed, while they fail (an outage: each heartbeat
        #: would say it again); said once at warning.
        self._visibility_error: str | None = None
        #: What was said once already, so a redelivery or the next beat does not say it
        #: again: (message id, attribute) unreadable, (receipt handle, code) of a refused
        #: visibility change, and that an answer held more messages than asked.
        self._said = _Said()
        #: How far SQS's clock ran ahead of this host's at the latest first delivery received
        #: (`Message.sqs_ahead`); None until one came.
        self.sqs_ahead: timedelta | None = None
        #: Called with each entry of an answer that cannot be read, as it is met (before its
        #: release, which a stop may cut short): the supervisor counts it there.
        #: Each answers how long the entry stays hidden (None: no opinion, released at once).
        self.on_unreadable: list[Callable[[UnreadableEntry], int | None]] = []

    async def receive(self, max_messages: int, wait_s: int, visibility_s: int) -> list[Message]:
        bound_s = wait_s + self.answer_slack_s
        try:
            async with asyncio.timeout(bound_s):
                response = await self._sqs.receive_message(
                    QueueUrl=self.queue_url,
                    MaxNumberOfMessages=max_messages,
                    WaitTimeSeconds=wait_s,
                    VisibilityTimeout=visibility_s,
                    MessageSystemAttributeNames=[
                        "ApproximateReceiveCount",
                        "SentTimestamp",
                        "ApproximateFirstReceiveTimestamp",
                        "AWSTraceHeader",
                    ],
                    MessageAttributeNames=["All"],
                )
        except TimeoutError as exc:
            raise InboxError(f"receive failed: no answer within {bound_s:g} s") from exc
        except AWS_CALL_ERRORS as exc:
            if kms_refusal(exc) is not None:
                # `kms_denied` first: /readyz names it (`queue: kms_denied`), and the line says
                # what to grant, since the queue itself answers (GetQueueAttributes needs no KMS).
                raise InboxError(
                    f"{KMS_DENIED}: receive failed: the queue's KMS key refuses the daemon's "
                    f"role ({_describe(exc)}); it needs kms:Decrypt on that key, enabled"
                ) from exc
            raise InboxError(f"receive failed: {_describe(exc)}") from exc
        raws = response.get("Messages", [])
        if not isinstance(raws, list):
            raise InboxError(f"receive answered Messages as {type(raws).__name__}, not a list")
        messages: list[Message] = []
        unreadable: dict[int, list[Message]] = {}
        for raw in raws:
            try:
                messages.append(message_from(raw, self._said.first))
            except ValueError as exc:
                hidden_s = self._unreadable(raw, str(exc))
                unreadable.setdefault(hidden_s, []).extend(_releasable(raw))
        messages = self._dated(messages)
        if len(messages) > max_messages:
            # An endpoint that ignored MaxNumberOfMessages: each message handed out takes a
            # worker slot, so the ones not asked for go back at once, untouched.
            emit = log.warning if self._said.first("receive.over_asked") else log.debug
            emit("receive.over_asked", asked=max_messages, count=len(messages))
            messages, unasked = messages[:max_messages], messages[max_messages:]
            await self.change_visibility(unasked, 0)
        for hidden_s, releasable in unreadable.items():
            # Visible again after what the listeners ask (`_unreadable`), at once by default:
            # SQS moves it to the dead-letter queue once it has been received
            # maxReceiveCount times. (One without a receipt handle comes back when its
            # visibility ends.)
            if releasable:
                await self.change_visibility(releasable, hidden_s)
        return messages

    def _dated(self, messages: list[Message]) -> list[Message]:
        """`messages`, a redelivery given the offset of SQS's clock the latest first
        delivery told (`Message.sqs_ahead`). An offset past CLOCK_SAID_S is said once."""
        for message in messages:
            if message.sqs_ahead is not None:
                self.sqs_ahead = message.sqs_ahead
        ahead = self.sqs_ahead
        if ahead is None:
            return messages
        if abs(ahead.total_seconds()) > CLOCK_SAID_S and self._said.first("clock_skew"):
            log.warning(
                "inbox.clock_skew",
                sqs_ahead_s=round(ahead.total_seconds(), 1),
                why="queue lag and message ages are read on SQS's clock (SentTimestamp)",
            )
        return [m if m.sqs_ahead is not None else replace(m, sqs_ahead=ahead) for m in messages]

    def _unreadable(self, raw: object, error: str) -> int:
        """Say an entry that cannot be read in its one line (why, and its id and receive
        count when it has them), and tell the listeners, which count it; how long it stays
        hidden: the longest any listener asks (the supervisor's retry backoff on a queue
        whose redrive policy is unknown, where nothing would move it to a DLQ and, released
        at once, it would be received again at once, in a loop), else 0."""
        entry = unreadable_entry(raw, error)
        log.warning(
            "message.unreadable_entry",
            reason=UNREADABLE_REASON,
            error=error,
            message_id=entry.message_id,
            receive_count=entry.receive_count or None,
        )
        asked = [listener(entry) for listener in list(self.on_unreadable)]
        return max((s for s in asked if s is not None), default=0)

    async def delete(self, messages: Sequence[Message]) -> list[str]:
        failed: list[str] = []
        for batch in _batches(messages):
            failed += await self._delete(batch)
        return failed

    async def _delete(self, messages: Sequence[Message], *, again: bool = True) -> list[str]:
        """Delete one batch; the receipt handles not deleted, each said in one line (by its
        message id: a receipt handle lets whoever reads it delete the message). An entry SQS failed
        on its own side (SenderFault false: InternalError, ServiceUnavailable) is sent once
        more at once (`again`): left to come back, it would be worked again as a repeat and
        spend a receive, on its last one landing in the DLQ though handled. One failed as the
        sender's fault (a stale receipt handle, a bad value) would fail the same way again:
        it is left to come back (a repeat), or to whoever holds it now."""
        entries = [
            {"Id": str(i), "ReceiptHandle": m.receipt_handle} for i, m in enumerate(messages)
        ]
        try:
            response = await self._answered(
                "delete", self._sqs.delete_message_batch(QueueUrl=self.queue_url, Entries=entries)
            )
        except AWS_CALL_ERRORS as exc:
            raise InboxError(f"delete failed: {_describe(exc)}") from exc
        failed: list[str] = []
        retry: list[Message] = []
        #: The entries SQS answered as failed, by index: two may be deliveries of one message.
        answered: set[int] = set()
        for entry, i in batch_entries(response, "Failed", len(messages)):
            message = messages[i]
            answered.add(i)
            if again and entry.get("SenderFault") is False:
                log.debug(
                    "message.delete_retried",
                    message_id=message.id,
                    code=entry.get("Code"),
                    **alert_named(message),
                )
                retry.append(message)
                continue
            # A delivery SQS said is lost (`_LOST_DELIVERY`) was said so at warning then.
            lost = message.receipt_handle in self._lost
            (log.debug if lost else log.warning)(
                "message.delete_failed",
                message_id=message.id,
                code=entry.get("Code"),
                reason=entry.get("Message"),
                **alert_named(message),
            )
            failed.append(message.receipt_handle)
        # SQS answers for every entry; one neither deleted nor failed (an answer cut short, a
        # stand-in that answers {}) is taken as not deleted: it comes back and is a repeat.
        deleted = {i for _, i in batch_entries(response, "Successful", len(messages))}
        for i, message in enumerate(messages):
            if i not in deleted and i not in answered:
                log.warning(
                    "message.delete_unconfirmed", message_id=message.id, **alert_named(message)
                )
                failed.append(message.receipt_handle)
        if retry:
            failed += await self._delete_again(retry)
        return failed

    async def _delete_again(self, messages: Sequence[Message]) -> list[str]:
        """The second and last try of entries SQS failed on its own side: the receipt handles
        not deleted.
        A call that fails fails only these (the rest of their batch was deleted), in one line."""
        try:
            return await self._delete(messages, again=False)
        except InboxError as exc:
            log.warning(
                "message.delete_failed",
                error=str(exc),
                count=len(messages),
                message_ids=[m.id for m in messages[:MAX_IDS_LOGGED]],
                alerts=batch_alerts(messages),
            )
            return [m.receipt_handle for m in messages]

    async def change_visibility(self, messages: Sequence[Message], timeout_s: int) -> None:
        timeout_s = max(0, min(int(timeout_s), MAX_VISIBILITY_S))
        messages = [m for m in messages if m.receipt_handle not in self._lost]
        for batch in _batches(messages):
            await self._change_visibility(batch, timeout_s)

    async def _change_visibility(self, messages: Sequence[Message], timeout_s: int) -> None:
        entries = [
            {"Id": str(i), "ReceiptHandle": m.receipt_handle, "VisibilityTimeout": timeout_s}
            for i, m in enumerate(messages)
        ]
        try:
            response = await self._answered(
                "change_message_visibility",
                self._sqs.change_message_visibility_batch(QueueUrl=self.queue_url, Entries=entries),
            )
        except _VISIBILITY_ERRORS as exc:
            # Not fatal: the message reappears when its visibility timeout ends anyway.
            error = _describe(exc)
            emit = log.debug if error == self._visibility_error else log.warning
            self._visibility_error = error
            emit(
                "message.visibility_failed",
                error=error,
                count=len(messages),
                alerts=batch_alerts(messages),
            )
            return
        self._visibility_error = None
        for entry, i in batch_entries(response, "Failed", len(messages)):
            code = entry.get("Code")
            handle = messages[i].receipt_handle
            # A refusal that does not lose the delivery (a limit, a bad value) is met again
            # at every beat: one warning per delivery and code, then debug.
            first = self._said.first((handle, str(code)))
            (log.warning if first else log.debug)(
                "message.visibility_failed",
                message_id=messages[i].id,
                code=code,
                reason=entry.get("Message"),
                **alert_named(messages[i]),
            )
            if _delivery_lost(code, entry.get("Message")):
                self._remember_lost(handle)
                for lost in messages[i].on_lost:
                    lost()

    def _remember_lost(self, receipt_handle: str) -> None:
        if len(self._lost) >= _LOST_KEPT:
            del self._lost[next(iter(self._lost))]
        self._lost[receipt_handle] = None

    async def _answered(self, what: str, call: Awaitable[T]) -> T:
        """`call`'s answer, or InboxError once `answer_slack_s` has passed without one: none
        of these calls long-polls, and a heartbeat, the acker or --drain waiting out botocore's
        read timeouts and retries (minutes) would let the messages in hand expire."""
        try:
            async with asyncio.timeout(self.answer_slack_s):
                return await call
        except TimeoutError as exc:
            raise InboxError(f"{what} failed: no answer within {self.answer_slack_s:g} s") from exc

    async def depth(self) -> Depth:
        try:
            response = await self._answered(
                "get_queue_attributes",
                self._sqs.get_queue_attributes(
                    QueueUrl=self.queue_url,
                    AttributeNames=[
                        "ApproximateNumberOfMessages",
                        "ApproximateNumberOfMessagesNotVisible",
                        "ApproximateNumberOfMessagesDelayed",
                    ],
                ),
            )
        except AWS_CALL_ERRORS as exc:
            raise InboxError(f"get_queue_attributes failed: {_describe(exc)}") from exc
        attrs = _mapping(response.get("Attributes"))
        try:
            return Depth(
                visible=sqs_count(attrs.get("ApproximateNumberOfMessages", 0)),
                in_flight=sqs_count(attrs.get("ApproximateNumberOfMessagesNotVisible", 0)),
                delayed=sqs_count(attrs.get("ApproximateNumberOfMessagesDelayed", 0)),
            )
        except ValueError as exc:
            raise InboxError(f"get_queue_attributes answered {exc}") from exc


def _delivery_lost(code: object, said: object) -> bool:
    """Whether a visibility change's refusal (its entry's `Code` and `Message`) says SQS no
    longer holds the delivery: a lost-delivery code, or the invalid parameter SQS says of a
    receipt handle a later receive replaced (`_STALE_HANDLE_SAID`)."""
    if not isinstance(code, str):
        return False
    if code in _LOST_DELIVERY:
        return True
    return (
        code == "InvalidParameterValue"
        and isinstance(said, str)
        and _STALE_HANDLE_SAID in said.lower()
    )


def alert_named(message: Message) -> dict[str, object]:
    """The fields that name `message`'s alert on a line of its own: its `fingerprint` and
    `source`, or for a group its first MAX_IDS_LOGGED `fingerprints` and how many `alerts` it
    had (a group of hundreds would make one line of them). Empty before its work named one.
    The source is alert text: the log's processor redacts it on the way out. With its
    `trace_id` when it came traced: these lines are said outside its task (a batch's delete,
    the heartbeat), where the log context holds no trace of it."""
    alert = message.alert
    trace_id = carried_trace_id(message.attributes.get(TRACEPARENT_ATTRIBUTE), message.trace_header)
    traced: dict[str, object] = {"trace_id": trace_id} if trace_id else {}
    fingerprints = alert.get("fingerprints")
    if not isinstance(fingerprints, list):
        return {**alert, **traced}
    named: dict[str, object] = {"fingerprints": fingerprints[:MAX_IDS_LOGGED], **traced}
    if len(fingerprints) > MAX_IDS_LOGGED:
        named["alerts"] = len(fingerprints)
    return named


def batch_alerts(messages: Sequence[Message]) -> list[dict[str, object]]:
    """What a line about a batch names of its alerts: for each of its first MAX_IDS_LOGGED
    messages (the ids it lists) whose work reached an alert, its `message_id` and
    `alert_named`; none for a message without alerts."""
    return [{"message_id": m.id, **alert_named(m)} for m in messages[:MAX_IDS_LOGGED] if m.alert]


def _always(_message_id: str, _attribute: str) -> bool:
    return True


class _Said:
    """Keys already said, the oldest forgotten past `_LOST_KEPT`: memory stays bounded."""

    def __init__(self) -> None:
        self._keys: dict[Hashable, None] = {}

    def first(self, *key: Hashable) -> bool:
        """True the first time `key` comes (while it is remembered), then False."""
        if key in self._keys:
            return False
        if len(self._keys) >= _LOST_KEPT:
            del self._keys[next(iter(self._keys))]
        self._keys[key] = None
        return True


def message_from(raw: object, say: Say = _always) -> Message:
    """A Message from one entry of ReceiveMessage's answer. Raises ValueError for an entry
    without an id or a receipt handle; an attribute that does not read is left out, logged
    when `say(message_id, attribute)` (the inbox says it once per message, not per delivery),
    and so is a value that would name the message but has no id's shape (`identity`)."""
    entry = _mapping(raw)
    mid, handle, body = entry.get("MessageId"), entry.get("ReceiptHandle"), entry.get("Body", "")
    if not (isinstance(mid, str) and mid and isinstance(handle, str) and handle):
        raise ValueError("a received entry has no MessageId or ReceiptHandle")
    if not isinstance(body, str):
        raise ValueError(f"message {mid} has a {type(body).__name__} body, not a string")  # noqa: TRY004
    if not is_text(body):
        # SQS takes only Unicode characters, so only a stand-in or a proxy sends one: handed
        # out, every step after it (a hash, a log line, the store, a sink's request) would
        # fail on it in its own way.
        raise ValueError(f"message {mid} has a body that is no UTF-8 text (a lone surrogate)")
    attrs = _mapping(entry.get("Attributes"))
    # Asked for on every receive: absent or unreadable alike, the count is unknown.
    receives = _attribute(mid, "ApproximateReceiveCount", attrs, _receive_count, say, missing=True)
    trace = attrs.get("AWSTraceHeader")
    attributes = _string_attributes(mid, entry.get("MessageAttributes"), say)
    received_at = datetime.now(UTC)
    # SQS's clock at this receive, on a first delivery only (a later one names the first's).
    first = _attribute(mid, "ApproximateFirstReceiveTimestamp", attrs, _epoch_ms, say)
    return Message(
        id=mid,
        body=body,
        receipt_handle=handle,
        receive_count=UNKNOWN_RECEIVE_COUNT if receives is None else receives,
        sent_at=_attribute(mid, "SentTimestamp", attrs, _epoch_ms, say),
        received_at=received_at,
        sqs_ahead=first - received_at if first is not None and receives == 1 else None,
        attributes=attributes,
        trace_header=trace if isinstance(trace, str) else None,
        identity=message_identity(mid, body, attributes, say),
    )


def is_text(value: str) -> bool:
    """Whether `value` is text UTF-8 can carry: no lone surrogate (which JSON's escapes can
    send, and which no encoder takes)."""
    if value.isascii():
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _string_attributes(mid: str, raw: object, say: Say) -> dict[str, str]:
    """The message's string attributes; one whose name or value is no UTF-8 text is left
    out, said once per message (`say`) by count, never by its name."""
    attributes, dropped = {}, 0
    for name, value in _mapping(raw).items():
        if not (isinstance(value, Mapping) and isinstance(value.get("StringValue"), str)):
            continue
        if is_text(name) and is_text(value["StringValue"]):
            attributes[name] = value["StringValue"]
        else:
            dropped += 1
    if dropped and say(mid, "MessageAttributes"):
        log.warning(
            "message.unreadable_attribute",
            message_id=mid,
            attribute="MessageAttributes",
            reason=f"{dropped} no UTF-8 text",
        )
    return attributes


def unreadable_entry(raw: object, error: str) -> UnreadableEntry:
    """What can be read of an entry `message_from` refused (`error`): its id and receive
    count, each only when it has the shape SQS gives it."""
    entry = _mapping(raw)
    mid = entry.get("MessageId")
    try:
        count = _receive_count(_mapping(entry.get("Attributes")).get("ApproximateReceiveCount"))
    except ValueError:
        count = UNKNOWN_RECEIVE_COUNT
    named = mid if isinstance(mid, str) and mid and is_text(mid) else None
    return UnreadableEntry(message_id=named, receive_count=count, error=error)


def _releasable(raw: object) -> list[Message]:
    """An unreadable entry as a Message that can only be released: its id and receipt handle
    (none without them)."""
    entry = _mapping(raw)
    mid, handle = entry.get("MessageId"), entry.get("ReceiptHandle")
    if not (isinstance(handle, str) and handle):
        return []
    name = mid if isinstance(mid, str) and mid else "?"
    return [Message(id=name, body="", receipt_handle=handle, receive_count=0, sent_at=None)]


def _attribute(
    mid: str,
    name: str,
    attrs: Mapping[str, object],
    read: Callable[[object], T],
    say: Say,
    *,
    missing: bool = False,
) -> T | None:
    """`read(attrs[name])`; None when it is absent (logged if it was asked for and `missing`
    says it must be there), or unreadable (logged), each when `say` agrees."""
    reason = "missing" if attrs.get(name) is None else None
    if reason is None:
        try:
            return read(attrs[name])
        except ValueError:
            reason = "not a count"
    if (reason != "missing" or missing) and say(mid, name):
        log.warning("message.unreadable_attribute", message_id=mid, attribute=name, reason=reason)
    return None


def _receive_count(value: object) -> int:
    """A receive count: 1 on a first delivery, never 0."""
    count = sqs_count(value)
    if count < 1:
        raise ValueError(f"{count} is not a receive count")
    return count


def sqs_count(value: object) -> int:
    """A non-negative decimal count as SQS writes it ("3"), nothing else (no sign, no spaces, no
    non-ASCII digits); ValueError otherwise."""
    text = str(value) if isinstance(value, int | str) else ""
    if not (text.isascii() and text.isdigit() and len(text) <= 18):
        raise ValueError(f"{type(value).__name__} {str(value)[:40]!r} is not a count")
    return int(text)


def _epoch_ms(value: object) -> datetime:
    """Epoch milliseconds as SQS writes SentTimestamp, within datetime's years."""
    ms = sqs_count(value)
    try:
        return datetime.fromtimestamp(ms / 1000, UTC)
    except (OverflowError, OSError) as exc:
        raise ValueError(f"{ms} ms is no time") from exc


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _batches(messages: Sequence[Message]) -> list[Sequence[Message]]:
    return [messages[i : i + MAX_BATCH] for i in range(0, len(messages), MAX_BATCH)]


def told_code(exc: BaseException) -> str:
    """The queue's error code behind an InboxError, told as every AWS refusal is
    (`told_error_code`: whatever answers for SQS writes it); the kind of failure when no AWS
    answer said one (a connection refused or reset, no answer in time)."""
    cause = exc.__cause__
    if isinstance(cause, ClientError):
        return told_error_code(cause.response.get("Error", {}).get("Code"))
    return type(cause or exc).__name__


def _describe(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return f"{error.get('Code', '?')}: {error.get('Message', '')}".strip()
    return str(exc)
