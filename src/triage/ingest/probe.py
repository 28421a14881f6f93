"""Whether the queue answers, and the largest message it takes: a cheap, cached
`GetQueueAttributes` behind `/readyz` (both listeners) and the gateway's 413 for bodies the queue
cannot hold. AWS's error text and the queue URL go to the log, never into an answer.

One call is in flight at a time, and nobody waits on it longer than `ANSWER_WITHIN_S`: an SQS
endpoint that accepts the connection and never answers takes botocore ~20 s to give up on (10 s
read timeout, two tries), longer than a load balancer waits for `/readyz` or for a new task
to listen. Meanwhile the last answer stands (before the first: not ready).

GetQueueAttributes needs no KMS, so a queue encrypted with a key the gateway's role may not use
answers it while refusing every send (`KMS.AccessDeniedException`, `KmsDisabled` …). The outbox
tells the probe (`kms_refused`, `sent`): from the first such refusal `/readyz` says
`queue: kms_denied`, with one warning for the outage, until a send succeeds. The mark lapses
`KMS_HOLD_S` after the last refusal, so a gateway a load balancer stopped sending to is tried
again (a send then succeeds, or marks it again without a second warning).

GetQueueAttributes and SendMessage are two permissions: a role (or a queue policy) may allow
the first and deny the second, and the queue answers the probe while it refuses every send
(`AccessDenied`: `triage.aws.QUEUE_REFUSALS`). The outbox tells the probe (`send_refused`) and
the same rule holds: `/readyz` says `queue: refused`, with one warning naming the permission,
until a send succeeds (one info line) or `REFUSED_HOLD_S` passes without another refusal.

A webhook is sent only to a queue known to answer (`answering`): while the queue has never
answered, or its last call (a probe's, or a send's: `unreachable`) got no answer, the webhook
waits for a probe at most `answer_within_s` and is otherwise refused at once (503), instead of
waiting out botocore's tries (~20 s) for a send that cannot succeed. A queue that answered its
last call, however slowly, takes every send.

A FIFO queue (`FifoQueue`, or a `.fifo` name: `triage.sqs.fifo`) refuses every send of ours,
which carries no MessageGroupId: at start it stops the gateway (ConfigError); found later (the
queue did not answer at start, or a send is refused for it) it is one error line and the
`queue` condition fails for good (not ready), and the gateway answers a send SQS refuses for
it 503, not 422 (`fifo_refused`)."""

from __future__ import annotations

import asyncio
import math
import time
from typing import Any

import structlog
from botocore.exceptions import ClientError

from triage.aws import AWS_CALL_ERRORS, KMS_DENIED, queue_refusal
from triage.decode import MAX_BODY_BYTES
from triage.health import Health
from triage.ingest.outbox import ClockWatch
from triage.logs import start_background
from triage.sqs.fifo import FIFO_ATTRIBUTE, fifo_refusal, is_fifo

log = structlog.get_logger(__name__)

#: How old the last GetQueueAttributes answer may be before it is asked again.
PROBE_TTL_S = 10.0
#: How long `/readyz`, and start-up, wait for a call in flight before answering from what is
#: known (a health check's timeout is commonly 5 s).
ANSWER_WITHIN_S = 1.0
#: How long a KMS refusal of a send keeps the gateway not ready without another one.
KMS_HOLD_S = 60.0
#: How long a send refused as not allowed keeps the gateway not ready without another one.
REFUSED_HOLD_S = KMS_HOLD_S
#: The `queue` condition's detail for a send refused as not allowed starts with this: the
#: fixed reason `/readyz` names it by (`triage.health`).
REFUSED = "refused"
#: While the queue does not answer, a webhook asks it again only if its last call came back
#: at least this long ago: a flood of webhooks costs a down SQS one call a second, not one each.
RECHECK_S = 1.0


class QueueProbe:
    """A cheap, cached `GetQueueAttributes` of the queue: whether SQS answers, and the largest
    message it takes (`MaximumMessageSize`: 256 KiB on older queues, up to 1 MiB)."""

    def __init__(
        self,
        client: Any,
        queue_url: str,
        *,
        ttl_s: float = PROBE_TTL_S,
        answer_within_s: float = ANSWER_WITHIN_S,
        health: Health | None = None,
    ) -> None:
        self._sqs = client
        self.queue_url = queue_url
        self.ttl_s = ttl_s
        self.answer_within_s = answer_within_s
        self.health = health
        self.ok = False
        self.max_message_bytes = MAX_BODY_BYTES
        #: Whether the queue is FIFO, which takes none of our sends: as its name says until
        #: SQS answers, then as SQS says.
        self.fifo = is_fifo(queue_url)
        self._fifo_told = False
        self._checked_at = -math.inf
        self._asking: asyncio.Task[None] | None = None
        #: The last send's KMS refusal (its error code) and when it came, until a send succeeds.
        self._kms_code: str | None = None
        self._kms_at = -math.inf
        #: The same for the last send refused as not allowed (`send_refused`).
        self._refused_code: str | None = None
        #: This host's clock against SQS's, from the Date of every answer (the outbox's too).
        self.clock = ClockWatch()
        self._refused_at = -math.inf
        #: When a refused send last had the queue's message size asked again (`size_now`).
        self._resized_at = -math.inf
        if health is not None:
            health.set("queue", False, "no answer yet")

    @property
    def answered(self) -> bool:
        """Whether any call has come back (with an answer or an error)."""
        return self._checked_at != -math.inf

    async def ready(self) -> bool:
        """The last answer if it is fresh; else the answer of a call (the one in flight, or a
        new one) if it comes within `answer_within_s`, else the last answer meanwhile."""
        if time.monotonic() - self._checked_at >= self.ttl_s:
            await asyncio.wait({self.ask()}, timeout=self.answer_within_s)
        self._report()  # a KMS or refusal mark may have lapsed
        return self.ok and not self.kms_denied and not self.sends_refused and not self.fifo

    async def answering(self) -> bool:
        """Whether a webhook may be sent now: at once when the queue answered its last call;
        else after a probe (the call in flight, or a new one when the last came back
        `RECHECK_S` ago) that answers within `answer_within_s`."""
        if self.ok:
            return True
        if self._asking is not None and not self._asking.done():
            recheck: asyncio.Task[None] | None = self._asking
        elif time.monotonic() - self._checked_at >= RECHECK_S:
            recheck = self.ask()
        else:
            recheck = None
        if recheck is not None:
            await asyncio.wait({recheck}, timeout=self.answer_within_s)
        return self.ok

    async def size_now(self) -> int:
        """The queue's MaximumMessageSize as SQS says it now, for a send it refused for what
        the message holds: the size read before may be stale (an operator lowered it since, and
        nothing else asks again while /readyz is not polled). Asked again at most once a
        `RECHECK_S` (a flood of refused sends costs SQS one call a second), waiting at most
        `answer_within_s`; the size known meanwhile otherwise. A question already out (another
        refused send's, a probe's) is waited for too: sends SQS refuses at once (a shared
        batch sent again entry by entry, concurrent webhooks) must each be measured by its
        answer, not by the size it is about to replace (a 422 the sender drops for good)."""
        if self._asking is not None and not self._asking.done():
            recheck: asyncio.Task[None] | None = self._asking
        elif time.monotonic() - self._resized_at >= RECHECK_S:
            self._resized_at = time.monotonic()
            recheck = self.ask()
        else:
            recheck = None
        if recheck is not None:
            await asyncio.wait({recheck}, timeout=self.answer_within_s)
        return self.max_message_bytes

    def unreachable(self, code: str) -> None:
        """A send got no answer from SQS (`code`: a timeout, a refused connection): the queue
        is known down, so webhooks are refused at once until a probe answers again."""
        if self.ok:
            log.warning("ingest.queue_unreachable", error=code)
        self.ok = False
        self._checked_at = time.monotonic()
        self._report()

    @property
    def kms_denied(self) -> bool:
        """Whether a send was refused by the queue's KMS key within `KMS_HOLD_S`, and none has
        succeeded since."""
        return self._kms_code is not None and time.monotonic() - self._kms_at < KMS_HOLD_S

    def kms_refused(self, code: str) -> None:
        """A send failed because the queue's KMS key refused it (`code`): not ready. The first
        refusal of an outage is its one warning; the webhooks' 503s say nothing more."""
        if self._kms_code is None:
            log.warning(
                "ingest.queue_kms_denied",
                error=code,
                hint="the queue's KMS key refuses the gateway's role: it needs "
                "kms:GenerateDataKey and kms:Decrypt on that key, and the key must be enabled",
            )
        self._kms_code = code
        self._kms_at = time.monotonic()
        self._report()

    @property
    def sends_refused(self) -> bool:
        """Whether a send was refused as not allowed within `REFUSED_HOLD_S`, and none has
        succeeded since."""
        return (
            self._refused_code is not None and time.monotonic() - self._refused_at < REFUSED_HOLD_S
        )

    def send_refused(self, code: str) -> None:
        """A send was refused as not allowed (`code`: AccessDenied, the queue gone …) while
        the queue may still answer GetQueueAttributes: not ready. The first refusal of an
        outage is its one warning; the webhooks' 503s say nothing more."""
        if self._refused_code is None:
            log.warning(
                "ingest.queue_send_refused",
                error=code,
                hint="SQS refuses the gateway's sends: its role needs sqs:SendMessage on the "
                "queue, no queue policy may deny it, and the queue must exist",
            )
        self._refused_code = code
        self._refused_at = time.monotonic()
        self._report()

    def sent(self) -> None:
        """A send succeeded: the queue takes our messages again (its KMS key, if any, and
        our permission to send)."""
        if self._kms_code is None and self._refused_code is None:
            return  # the common case, once per message: nothing to change
        if self._kms_code is not None:
            log.info("ingest.queue_kms_ok")
            self._kms_code = None
        if self._refused_code is not None:
            log.info("ingest.queue_send_ok")
            self._refused_code = None
        self._report()

    def fifo_refused(self, code: str) -> None:
        """A send was refused for what a FIFO queue requires (`code`: no MessageGroupId, no
        MessageDeduplicationId): the queue is FIFO and takes no send of ours. The first is
        the one warning; the webhooks' 503s say nothing more."""
        self._tell_fifo("ingest.queue_refuses_fifo_send", code)
        self.fifo = True
        self._report()

    def _tell_fifo(self, event: str, code: str | None = None) -> None:
        if not self._fifo_told:
            log.error(
                event,
                error=code,
                hint="the queue is FIFO: SQS refuses a send without a MessageGroupId, which "
                "the gateway never gives; point ALERT_TRIAGE_QUEUE_URL at a standard queue",
            )
        self._fifo_told = True

    def ask(self, *, at_start: bool = False) -> asyncio.Task[None]:
        """The GetQueueAttributes call in flight, or a new one: concurrent callers share it,
        and one that stops waiting does not cancel it."""
        if self._asking is None or self._asking.done():
            self._asking = start_background(
                self.refresh(at_start=at_start), name="ingest-queue-probe"
            )
        return self._asking

    async def aclose(self) -> None:
        """Cancel the call in flight, if any (at shutdown)."""
        if self._asking is not None:
            self._asking.cancel()
            await asyncio.gather(self._asking, return_exceptions=True)

    async def refresh(self, *, at_start: bool = False) -> None:
        """Ask the queue again. `at_start`: a configuration mistake (no credentials, no such
        queue, credentials refused) raises ConfigError, so the gateway stops with one line
        instead of answering 503 forever, and so does a FIFO queue, which refuses every send;
        an outage is logged once and waited out."""
        if at_start and self.fifo:
            raise fifo_refusal(self.queue_url)  # as its name says: no need to ask
        try:
            asked_s = self.clock.now()
            response = await self._sqs.get_queue_attributes(
                QueueUrl=self.queue_url, AttributeNames=["MaximumMessageSize", FIFO_ATTRIBUTE]
            )
        except AWS_CALL_ERRORS as exc:
            refusal = queue_refusal(exc, self.queue_url) if at_start else None
            if refusal is not None:
                raise refusal from None
            code = (
                exc.response.get("Error", {}).get("Code", "Unknown")
                if isinstance(exc, ClientError)
                else type(exc).__name__
            )
            if self.ok or not self.answered:
                log.warning("ingest.queue_unreachable", error=code)
            self.ok = False
        else:
            self.clock.heard(response, asked_s)
            attributes = response.get("Attributes", {})
            self._found_fifo(is_fifo(self.queue_url, attributes), at_start=at_start)
            self._found_size(attributes.get("MaximumMessageSize"))
            if not self.ok:
                log.info("ingest.queue_reachable", max_message_bytes=self.max_message_bytes)
            self.ok = True
        self._checked_at = time.monotonic()
        self._report()

    def _found_size(self, size: str | None) -> None:
        """The queue's MaximumMessageSize as SQS answered it; a change once the queue answered
        is one line (what was read before sized the messages sent until now)."""
        if size is None:
            return
        found = min(int(size), MAX_BODY_BYTES)
        if self.ok and found != self.max_message_bytes:
            log.info(
                "ingest.queue_size_changed", was=self.max_message_bytes, max_message_bytes=found
            )
        self.max_message_bytes = found

    def _found_fifo(self, fifo: bool, *, at_start: bool) -> None:
        """SQS says the queue is FIFO (or not): at start a ConfigError, later one error line.
        A queue once refused a send for being FIFO stays so (the attribute cannot change)."""
        if fifo and at_start:
            raise fifo_refusal(self.queue_url)
        if fifo:
            self._tell_fifo("ingest.queue_fifo")
        self.fifo = self.fifo or fifo

    def _report(self) -> None:
        """The `queue` condition: SQS answers, the queue is not FIFO, and no KMS refusal of a
        send, nor a refusal as not allowed, stands."""
        if self.health is None:
            return
        if not self.ok:
            self.health.set("queue", False, "SQS does not answer")
        elif self.fifo:
            self.health.set("queue", False, "fifo: the queue is FIFO and refuses every send")
        elif self.kms_denied:
            self.health.set("queue", False, f"{KMS_DENIED}: {self._kms_code}")
        elif self.sends_refused:
            self.health.set("queue", False, f"{REFUSED}: {self._refused_code}")
        else:
            self.health.set("queue", True)
