"""Grouping at scale, on daemon processes: a node dies and 100 pods crash-loop; two replicas on
one DynamoDB table make one incident of it, with one ticket, one issue and one LLM call. (The
lifecycle of groups in every order is proven in process: tests/test_lifecycle_model.py and
tests/test_replica_groups.py; this proves the daemons and DynamoDB's conditional writes.)"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3

from daemon_harness import TOKEN, Daemon, make_queues, settings_for
from github_stub import GitHubServer
from triage.demo.model import ChatServer
from triage.demo.ticketd import TicketServer

GH_TOKEN = "ghp_" + "Gr0upT0k3n" * 4
ROUTES = """
[[route]]
name = "crash-loops"
sinks = ["backend", "github"]
group_by = ["alertname", "namespace"]
# The ten messages are all received at once: a second gathers those that come first, and
# the rest join the open incident.
group_window_s = 1
[route.match]
source = ["alertmanager"]
"""


def wait_until(predicate: Callable[[], object], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def notification(pods: range, status: str) -> dict[str, Any]:
    """One Alertmanager webhook: a crash-looping pod per alert, one alertname, one namespace."""
    ends = "2026-12-03T09:10:00Z" if status == "resolved" else "0001-01-01T00:00:00Z"
    return {
        "version": "4",
        "groupKey": '{}:{alertname="KubePodCrashLooping"}',
        "status": status,
        "alerts": [
            {
                "status": status,
                "labels": {
                    "alertname": "KubePodCrashLooping",
                    "namespace": "shop",
                    "pod": f"api-{i}",
                    "team": "shop",
                },
                "annotations": {"summary": f"Pod shop/api-{i} is crash looping"},
                "startsAt": "2026-12-03T09:00:00Z",
                "endsAt": ends,
            }
            for i in pods
        ],
    }


def test_a_hundred_pods_over_two_replicas_are_one_incident(
    moto_url: str, backend: TicketServer, tmp_path: Path, monkeypatch: Any
) -> None:
    """100 alerts of one alertname and namespace, in 10 messages, taken by two replicas sharing
    one DynamoDB table: one backend ticket, one GitHub issue, one LLM call; when all resolve, the
    ticket closes once; nothing reaches the DLQ."""
    monkeypatch.setenv("BACKEND_TOKEN", TOKEN)
    queues = make_queues(moto_url, max_receive_count=5, visibility_s=30)
    boto3.client("dynamodb", endpoint_url=moto_url, region_name="us-east-1").create_table(
        TableName="incidents",
        KeySchema=[{"AttributeName": "fingerprint", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "fingerprint", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    routes = tmp_path / "routes.toml"
    routes.write_text(ROUTES)
    github = GitHubServer(tokens={GH_TOKEN: "triage-bot"}, repositories=("acme/ops",)).start()
    with ChatServer() as chat:
        settings = settings_for(
            queues,
            backend.url,
            tmp_path / "unused.db",
            store_url="dynamodb://incidents",
            routes_file=routes,
            backend_update_route="/api/service/tickets/{ref}/updates",
            backend_resolve_route="/api/service/tickets/{ref}/resolve",
            github_token=GH_TOKEN,
            github_repository="acme/ops",
            github_api_url=github.url,
            openai_api_key="sk-stub-key-0123456789",
            openai_base_url=chat.url + "/v1",
            concurrency=8,
        )
        daemons = [Daemon(settings, log_dir=tmp_path) for _ in range(2)]
        try:
            queues.send(*(notification(range(i, i + 10), "firing") for i in range(0, 100, 10)))
            wait_until(lambda: backend.tickets and queues.depth() == 0, 60, "the group's ticket")
            queues.send(*(notification(range(i, i + 10), "resolved") for i in range(0, 100, 10)))
            wait_until(
                lambda: any(e["kind"] == "resolve" for e in backend.events) and not queues.depth(),
                60,
                "the group to close",
            )
            for daemon in daemons:
                daemon.signal(15)
            for daemon in daemons:
                assert daemon.wait(timeout=30) == 0, daemon.log[-2000:]
        finally:
            for daemon in daemons:
                daemon.kill()
            github.stop()
        llm_calls = chat.request_count
    [ticket] = backend.tickets
    assert ticket["body"]["group"]["by"] == {
        "alertname": "KubePodCrashLooping",
        "namespace": "shop",
    }
    [issue] = github.issues()
    assert issue["state"] == "closed"
    assert llm_calls == 1
    [resolve] = [e for e in backend.events if e["kind"] == "resolve"]
    assert resolve["body"]["group"]["alerts"] == 100
    assert resolve["body"]["group"]["firing"] == 0
    assert queues.dead_letters() == []
    held = [e for d in daemons for e in d.events() if e["event"] == "message.held"]
    assert {e["reason"] for e in held} <= {"gathering", "store_busy"}
