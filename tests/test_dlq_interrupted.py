"""`triage dlq redrive` stopped by Ctrl-C (SIGINT) mid-batch, as a process of its own (a
signal is what is tested): it says how many letters it sent back and how many of those may
also still be in the DLQ, exits 130, and leaves every letter in one of the queues, visible."""

from __future__ import annotations

import contextlib
import io
import json
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from daemon_harness import Queues, daemon_env, settings_for
from fault_proxy import FaultProxy

#: How long the proxy holds each DeleteMessageBatch: the redrive is mid-batch meanwhile.
DELETE_HELD_S = 1.0


def _until(condition: object, what: str, deadline_s: float = 30.0) -> None:
    deadline = time.monotonic() + deadline_s
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def _bodies(queues: Queues, url: str) -> list[str]:
    """Every visible message on `url` (hidden for a minute once read: read once each)."""
    sqs, out = queues.client(), []
    while batch := sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=60
    ).get("Messages", []):
        out += [m["Body"] for m in batch]
    return out


def _hidden(queues: Queues, url: str) -> int:
    attributes = queues.client().get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessagesNotVisible"])


@pytest.mark.usefixtures("sigint_not_ignored")
def test_ctrl_c_mid_batch_says_what_moved_and_loses_nothing(queues: Queues, tmp_path: Path) -> None:
    """SIGINT while a batch sent to the main queue is being deleted from the DLQ: exit 130,
    one `interrupted` line naming the letters sent back (as many as the main queue holds)
    and those whose delete did not finish; every letter ends in exactly one queue once the
    delete in flight lands, and the DLQ's are visible at once (not hidden for the run's
    hiding time)."""
    sent = [json.dumps({"title": f"alert {i}", "dedup_key": f"k{i}"}) for i in range(30)]
    sqs = queues.client()
    for first in range(0, len(sent), 10):
        entries = [{"Id": str(i), "MessageBody": b} for i, b in enumerate(sent[first : first + 10])]
        sqs.send_message_batch(QueueUrl=queues.dlq_url, Entries=entries)
    with FaultProxy(queues.endpoint) as proxy:
        proxy.delay("AmazonSQS.DeleteMessageBatch", DELETE_HELD_S)
        settings = settings_for(
            queues,
            "http://127.0.0.1:9",
            tmp_path / "t.db",
            queue_url=proxy.queue_url(queues.url),
            aws_endpoint_url=proxy.url,
        )
        process = subprocess.Popen(
            [sys.executable, "-m", "triage", "dlq", "redrive"],
            env=daemon_env(settings),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            _until(lambda: proxy.requests("AmazonSQS.DeleteMessageBatch") >= 1, "a delete")
            process.send_signal(signal.SIGINT)
            _, stderr = process.communicate(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
        assert process.returncode == 130, stderr
        _until(lambda: queues.depth(queues.dlq_url) == 20, "the held delete to land")
    main, dead = _bodies(queues, queues.url), _bodies(queues, queues.dlq_url)
    assert Counter(main + dead) == Counter(sent)
    (line,) = [line for line in stderr.splitlines() if "interrupted" in line]
    said = re.search(r"sent (\d+) dead letter\(s\) back.*?(\d+) of them", line)
    assert said is not None, line
    assert int(said.group(1)) == len(main) == 10
    assert int(said.group(2)) == 10
    assert "Traceback" not in stderr


async def test_a_peek_cancelled_midway_lets_its_letters_go_at_once(
    queues: Queues, tmp_path: Path
) -> None:
    """A peek cancelled (Ctrl-C) during its second receive makes the letters its first one
    took visible again at once, not 30 s later: a daemon or a second peek sees them."""
    import asyncio

    from triage.aws import ONE_SHOT, Aws
    from triage.ops import dlq

    sent = [json.dumps({"title": f"alert {i}"}) for i in range(15)]
    sqs = queues.client()
    for first in range(0, len(sent), 10):
        entries = [{"Id": str(i), "MessageBody": b} for i, b in enumerate(sent[first : first + 10])]
        sqs.send_message_batch(QueueUrl=queues.dlq_url, Entries=entries)
    with FaultProxy(queues.endpoint) as proxy:
        settings = settings_for(
            queues, "http://127.0.0.1:9", tmp_path / "t.db", aws_endpoint_url=proxy.url
        )
        aws = Aws(settings, ONE_SHOT)
        try:
            client = await aws.client("sqs")
            proxy.delay("AmazonSQS.ReceiveMessage", DELETE_HELD_S)
            peek = asyncio.create_task(
                dlq.peek(client, proxy.queue_url(queues.dlq_url), 15, out=io.StringIO())
            )
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 30
            while proxy.requests("AmazonSQS.ReceiveMessage") < 2:
                assert loop.time() < deadline and not peek.done(), "no second receive"
                await asyncio.sleep(0.01)
            peek.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await peek
            # The receive in flight still lands (the proxy relays it): its 5 letters hide for
            # the peek's 30 s, as SQS hides what any lost answer took. The first 10 must not.
            _until(lambda: _hidden(queues, queues.dlq_url) == 5, "the first 10 let go", 10)
        finally:
            await aws.aclose()
    assert len(_bodies(queues, queues.dlq_url)) == 10
