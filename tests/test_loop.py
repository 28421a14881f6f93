"""The event loop never stalls: heavy bodies are parsed off the loop, so heartbeats stay on time."""

from __future__ import annotations

import asyncio
import json
import threading

import pytest

from memory_inbox import MemoryInbox
from triage import pipeline
from triage.incidents.lifecycle import Action
from triage.metrics import Metrics
from triage.normalize import normalize_body
from triage.sqs.inbox import Message
from triage.sqs.supervisor import Supervisor, SupervisorConfig


def heavy_body() -> str:
    """An Alertmanager webhook just under 1 MiB: hundreds of alerts, each with many labels."""
    alerts = [
        {
            "status": "firing",
            "labels": {
                "alertname": f"HighLatency{i}",
                **{f"label{j}": "x" * 40 for j in range(20)},
            },
            "annotations": {"summary": "p99 above threshold " * 5},
            "startsAt": "2026-11-23T09:00:00Z",
        }
        for i in range(700)
    ]
    body = json.dumps({"version": "4", "status": "firing", "receiver": "triage", "alerts": alerts})
    assert 0.5 * 2**20 < len(body) < 2**20
    return body


async def test_heavy_bodies_leave_the_loop_free_for_heartbeats(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Eight ~1 MiB bodies are normalised on worker threads, never on the event loop's, so a
    slow message beside them is extended by the heartbeat and never received twice.

    (json.loads holds the GIL even on a worker thread, so the 1 MiB body limit is what bounds
    each pause; the normalisers' Python code runs off the loop.)"""
    body = heavy_body()
    inbox = MemoryInbox()
    heavy_ids = set(inbox.put(*(body for _ in range(8))))
    [slow_id] = inbox.put("slow")
    normalised_on: list[int] = []

    def spy(text: str, **kwargs: object) -> object:
        normalised_on.append(threading.get_ident())
        return normalize_body(text, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr("triage.pipeline.normalize_body", spy)

    async def handler(message: Message, _progress: object) -> list[Action]:
        if message.id in heavy_ids:
            await pipeline._normalize(message)
        else:
            await asyncio.sleep(3.5)
        return []

    config = SupervisorConfig(wait_s=0, drain=True, retry_base_s=0, visibility_timeout_s=3)
    supervisor = Supervisor(config, inbox, handler, Metrics())
    await supervisor.serve()

    assert sorted(inbox.deleted) == sorted([*heavy_ids, slow_id])
    assert supervisor.stats.received == 9  # the slow one was never handed out twice
    assert any(mid == slow_id for mid, _ in inbox.visibility_calls)
    assert len(normalised_on) == 8
    assert threading.get_ident() not in normalised_on
