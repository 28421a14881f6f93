"""Round 2 of the DLQ redrive (helper 474): a letter SQS refuses for what its body holds."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from daemon_harness import Queues, daemon_env, run_in_process, settings_for
from fault_proxy import FaultProxy
from test_dlq import bodies

LETTER = json.dumps({"title": "backup failed", "dedup_key": "backup", "source": "cron"})
OTHER = json.dumps({"title": "disk full", "dedup_key": "disk", "source": "cron"})
SEND = "AmazonSQS.SendMessageBatch"


@contextlib.contextmanager
def _through_proxy(queues: Queues, tmp_path: Path) -> Iterator[tuple[FaultProxy, dict[str, str]]]:
    """A fault proxy in front of moto, and the environment of a `triage dlq` that goes by it."""
    with FaultProxy(queues.endpoint) as proxy:
        settings = settings_for(
            queues,
            "http://127.0.0.1:9",
            tmp_path / "t.db",
            queue_url=proxy.queue_url(queues.url),
            aws_endpoint_url=proxy.url,
        )
        yield proxy, daemon_env(settings)


def test_a_batch_refused_for_its_contents_leaves_each_letter_without_a_send_minus_identity(
    queues: Queues, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    """A send SQS refuses with InvalidMessageContents (a body's characters) leaves each letter
    in the DLQ after one try of its own, exit 1: it was sent again without `redriven_from`,
    which cannot help, and the line said its alerts may be counted again."""
    for body in (LETTER, OTHER):
        queues.client().send_message(QueueUrl=queues.dlq_url, MessageBody=body)
    with _through_proxy(queues, tmp_path) as (proxy, env):
        proxy.refuse(SEND, 400, "InvalidMessageContents", "Invalid characters found")
        done = run_in_process(monkeypatch, capsys, "dlq", "redrive", env=env)
        calls = proxy.requests(SEND)
    assert done.returncode == 1, done.stderr
    assert "without" not in done.stderr, done.stderr
    assert done.stderr.count("InvalidMessageContents") == 2, done.stderr
    assert calls == 3, calls  # the batch, then each letter alone once
    assert sorted(bodies(queues, queues.dlq_url)) == sorted([LETTER, OTHER])
    assert bodies(queues, queues.url) == []


def test_an_entry_refused_for_its_contents_is_not_sent_again_without_its_identity(
    queues: Queues, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    """A batch entry SQS answers as failed with InvalidMessageContents (`SenderFault: true`)
    is left in the DLQ, named with that code, and not sent again without `redriven_from`."""
    queues.client().send_message(QueueUrl=queues.dlq_url, MessageBody=LETTER)

    def refused_for_contents(answer: dict[str, Any]) -> dict[str, Any]:
        failed = [
            {
                "Id": entry["Id"],
                "SenderFault": True,
                "Code": "InvalidMessageContents",
                "Message": "Invalid characters found",
            }
            for entry in answer.pop("Successful", [])
        ]
        return {**answer, "Successful": [], "Failed": failed}

    with _through_proxy(queues, tmp_path) as (proxy, env):
        proxy.rewrite(SEND, refused_for_contents)
        done = run_in_process(monkeypatch, capsys, "dlq", "redrive", env=env)
        calls = proxy.requests(SEND)
    assert done.returncode == 1, done.stderr
    assert "without" not in done.stderr, done.stderr
    assert "InvalidMessageContents" in done.stderr, done.stderr
    assert calls == 1, calls
    assert bodies(queues, queues.dlq_url) == [LETTER]
