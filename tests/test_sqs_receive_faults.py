"""The daemon's intake when ReceiveMessage fails, over moto through a fault proxy: throttled,
refused, the queue deleted under it, a 5xx, a page that is no JSON, a reset connection. Each
time the daemon keeps running, says so in one warning (`receive.failed`, the outage's reason)
and /readyz says `queue: unreachable`; once SQS answers again one line says so and the next
message is handled and deleted."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator

import pytest
import structlog
from botocore.config import Config

from daemon_harness import Queues
from fault_proxy import FaultProxy
from moto_speed import loopback_aws_client
from triage.health import Health
from triage.incidents.lifecycle import Outcome
from triage.metrics import Metrics
from triage.sqs.inbox import Message, SqsInbox
from triage.sqs.supervisor import Progress, Supervisor, SupervisorConfig

RECEIVE = "AmazonSQS.ReceiveMessage"
#: One try per call: botocore's own retries only make the outage slower to see here.
ONE_TRY = Config(retries={"total_max_attempts": 1, "mode": "standard"}, read_timeout=10)

#: How the receive fails: an AWS error (status, code) or a broken answer.
FAULTS: dict[str, Callable[[FaultProxy], None]] = {
    "throttled": lambda p: p.refuse(RECEIVE, 400, "ThrottlingException"),
    "over_limit": lambda p: p.refuse(RECEIVE, 403, "OverLimit"),
    "access_denied": lambda p: p.refuse(RECEIVE, 400, "AccessDenied"),
    "queue_gone": lambda p: p.refuse(RECEIVE, 400, "AWS.SimpleQueueService.NonExistentQueue"),
    "internal_error": lambda p: p.refuse(RECEIVE, 500, "InternalError"),
    "html_503": lambda p: p.break_answers(RECEIVE, "html"),
    "reset": lambda p: p.break_answers(RECEIVE, "reset"),
    "cut_short": lambda p: p.break_answers(RECEIVE, "cut"),
}


async def until(condition: Callable[[], bool], what: str, timeout_s: float = 10.0) -> None:
    """Wait for `condition`, at most `timeout_s`."""
    async with asyncio.timeout(timeout_s):
        while not condition():
            await asyncio.sleep(0.01)
    assert condition(), what


@pytest.fixture
def proxy(queues: Queues) -> Iterator[FaultProxy]:
    with FaultProxy(queues.endpoint) as p:
        yield p


@pytest.fixture
async def inbox(queues: Queues, proxy: FaultProxy) -> AsyncIterator[SqsInbox]:
    async with loopback_aws_client("sqs", endpoint_url=proxy.url, config=ONE_TRY) as client:
        yield SqsInbox(client, proxy.queue_url(queues.url), answer_slack_s=5)


class Served:
    """The real supervisor over `inbox`, recording the bodies it handles."""

    def __init__(self, inbox: SqsInbox) -> None:
        self.handled: list[str] = []
        self.health = Health()
        # Receives sent again after 0.1 s, doubling (1 s in the daemon): the same rules, sooner.
        config = SupervisorConfig(
            wait_s=0, retry_base_s=0, shutdown_grace_s=1, receive_retry_base_s=0.1
        )
        self.supervisor = Supervisor(config, inbox, self._handle, Metrics(), health=self.health)

    async def _handle(self, message: Message, _progress: Progress) -> list[Outcome]:
        self.handled.append(message.body)
        return []

    @property
    def queue_failing(self) -> bool:
        return "queue" in self.health.readiness()["failing"]


@pytest.mark.parametrize("fault", sorted(FAULTS))
async def test_a_failing_receive_keeps_the_daemon_running_and_says_so_once(
    fault: str, inbox: SqsInbox, queues: Queues, proxy: FaultProxy
) -> None:
    """Receives failing for `fault` over several tries: one warning, the queue not ready,
    the daemon still serving; healed, one `receive.recovered` and the message is handled and
    deleted."""
    served = Served(inbox)
    FAULTS[fault](proxy)
    with structlog.testing.capture_logs() as logs:
        serving = asyncio.create_task(served.supervisor.serve())
        await until(lambda: served.queue_failing, "the queue marked unreachable")
        await until(lambda: proxy.requests(RECEIVE) >= 2, "a second failing receive")
        assert not serving.done()
        proxy.heal(RECEIVE)
        # Sent only once a receive has answered whole: a receive the proxy took before the
        # heal may reach moto after it (a loaded CI worker descheduled the proxy's thread), and
        # `cut` relays it, so moto would hide the message for the daemon's visibility timeout
        # (60 s) behind an answer the daemon never read, as SQS does. (The message went unseen
        # for 40 s that way under load.)
        await until(lambda: not served.queue_failing, "the queue ready again", 20)
        queues.send("after")
        await until(lambda: served.handled == ["after"], "the message handled", 40)
        await until(lambda: queues.depth() == 0, "the message deleted")
        assert not served.queue_failing
        served.supervisor.should_exit.set()
        await asyncio.wait_for(serving, 10)
    failed = [e for e in logs if e["event"] == "receive.failed"]
    assert [e["log_level"] for e in failed][:1] == ["warning"]
    assert all(e["log_level"] == "debug" for e in failed[1:])
    assert [e["event"] for e in logs if e["event"] == "receive.recovered"] == ["receive.recovered"]


async def test_a_queue_deleted_under_the_daemon_and_made_again_is_served_again(
    inbox: SqsInbox, queues: Queues
) -> None:
    """The queue deleted while the daemon runs: receives fail with one warning naming SQS's
    code, the daemon keeps running; once a queue of that name is made again, its message is
    handled and deleted."""
    sqs = queues.client()
    served = Served(inbox)
    with structlog.testing.capture_logs() as logs:
        serving = asyncio.create_task(served.supervisor.serve())
        await until(lambda: served.health.readiness()["ready"], "the first receive answered")
        sqs.delete_queue(QueueUrl=queues.url)
        await until(lambda: served.queue_failing, "the queue marked unreachable")
        assert not serving.done()
        url = sqs.create_queue(QueueName=queues.url.rsplit("/", 1)[-1])["QueueUrl"]
        assert url == queues.url
        queues.send("after")
        await until(lambda: served.handled == ["after"], "the message handled", 40)
        await until(lambda: queues.depth() == 0, "the message deleted")
        served.supervisor.should_exit.set()
        await asyncio.wait_for(serving, 10)
    warned = [e for e in logs if e["event"] == "receive.failed" and e["log_level"] == "warning"]
    assert len(warned) == 1
    assert "NonExistentQueue" in warned[0]["error"] or "QueueDoesNotExist" in warned[0]["error"]


async def test_the_daemons_receive_backoff_starts_at_a_second(
    inbox: SqsInbox, proxy: FaultProxy
) -> None:
    """With the daemon's own settings, the first failed receive waits between half a second and
    a second before the next, the second up to two (1 s doubling: the tests above shorten it)."""
    health = Health()
    config = SupervisorConfig(wait_s=0, shutdown_grace_s=1)
    supervisor = Supervisor(config, inbox, Served(inbox)._handle, Metrics(), health=health)
    proxy.refuse(RECEIVE, 500, "InternalError")
    with structlog.testing.capture_logs() as logs:
        serving = asyncio.create_task(supervisor.serve())

        def waits() -> list[float]:
            return [e["retry_in_s"] for e in logs if e["event"] == "receive.failed"]

        await until(lambda: len(waits()) >= 2, "a second failing receive", 10)
        supervisor.should_exit.set()
        await asyncio.wait_for(serving, 10)
    first, second = waits()[:2]
    assert 0.5 <= first <= 1.0 and 1.0 <= second <= 2.0, waits()
