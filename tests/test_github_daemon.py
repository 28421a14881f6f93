"""The daemon with the GitHub sink, against the loopback GitHub stub: a whole incident lifecycle,
and a secondary rate limit that pauses intake instead of dead-lettering."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator, MutableMapping
from pathlib import Path
from typing import Any

import pytest

from daemon_harness import (
    DaemonThread,
    Queues,
    daemon_env,
    make_queues,
    run_in_process,
    settings_for,
)
from github_stub import GitHubServer
from triage.app import run_daemon
from triage.sinks.http import MIN_WAIT_S

GH_TOKEN = "ghp_" + "T0k3n" * 8
#: The secondary limit's Retry-After: longer than the shortest wait any throttling answer gets
#: (MIN_WAIT_S), so the wait seen can only be the one GitHub asked for.
RETRY_AFTER_S = 2


@pytest.fixture
def github() -> Iterator[GitHubServer]:
    server = GitHubServer(tokens={GH_TOKEN: "triage-bot"}, repositories=("acme/ops",))
    server.start()
    yield server
    server.stop()


def generic(key: str, status: str = "firing") -> dict[str, Any]:
    return {
        "title": f"{key} failed",
        "source": "cron",
        "status": status,
        "dedup_key": key,
        "priority": "P1",
        "team": "ops",
    }


def github_settings(queues: Queues, github: GitHubServer, tmp_path: Path, **extra: Any) -> Any:
    return settings_for(
        queues,
        "http://127.0.0.1:9",
        tmp_path / "triage.db",
        sinks="github",
        github_token=GH_TOKEN,
        github_repository="acme/ops",
        github_api_url=github.url,
        **extra,
    )


async def test_lifecycle_through_the_daemon_opens_updates_closes_and_reopens(
    queues: Queues, github: GitHubServer, tmp_path: Path
) -> None:
    """firing → repeat → resolved → re-fire, each drained in turn: one issue, an update comment,
    a close and a reopen."""
    # Short polls: each drain ends as soon as its queue is empty, not after a 1 s long poll.
    settings = github_settings(queues, github, tmp_path, update_interval_s=0, sqs_wait_time=0)
    for status in ("firing", "firing", "resolved", "firing"):
        queues.send(generic("nightly-export", status))
        await run_daemon(settings, drain=True)
    (issue,) = github.issues()
    assert issue["title"].startswith("[P1] ")
    assert issue["state"] == "open"  # reopened by the last firing
    assert "<!-- triage:fingerprint=" in issue["body"]
    assert {label["name"] for label in issue["labels"]} >= {"triage", "team:ops"}
    # The update, the resolve note and the reopen note, once each.
    assert len(issue["comment_bodies"]) == 3
    patches = [c for c in github.calls if c["method"] == "PATCH"]
    assert [c["body"].get("state") for c in patches] == ["closed", "open"]


@pytest.fixture
def prod_queues(moto_url: str) -> Queues:
    return make_queues(moto_url, max_receive_count=5)


def test_secondary_rate_limit_holds_githubs_messages_and_dead_letters_nothing(
    prod_queues: Queues,
    github: GitHubServer,
    tmp_path: Path,
    logs: list[MutableMapping[str, Any]],
) -> None:
    """A secondary-rate-limit 403 with Retry-After holds GitHub's messages until then (the
    message that met it is held, not released: no receive spent), without pausing the
    daemon's intake (other routes' messages have no reason to wait for GitHub); every incident
    still gets exactly one issue and nothing reaches the DLQ."""
    github.fail_next(
        1,
        403,
        message="You have exceeded a secondary rate limit. Please wait a few minutes.",
        retry_after=str(RETRY_AFTER_S),
        method="POST",
        path="/issues",
    )
    keys = [f"job-{i}" for i in range(6)]
    prod_queues.send(*(generic(k) for k in keys))
    settings = github_settings(prod_queues, github, tmp_path, concurrency=2)
    # The daemon in a thread of this process (nothing here needs a process of its own): its
    # log lines are `logs`.
    daemon = DaemonThread(settings)
    try:
        deadline = time.monotonic() + 60
        while len(github.issues()) < len(keys) and time.monotonic() < deadline:
            time.sleep(0.1)
        while prod_queues.depth() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert daemon.alive()
    finally:
        daemon.stop()  # as SIGTERM; raises what made the daemon fail, if anything did
    titles = Counter(issue["title"] for issue in github.issues())
    assert len(titles) == len(keys) and set(titles.values()) == {1}
    assert prod_queues.dead_letters() == []
    names = [e["event"] for e in logs]
    assert "intake.paused" not in names
    held = [e for e in logs if e["event"] == "message.held"]
    # Past the 1 s floor of any throttled wait: the Retry-After is what was honoured.
    assert held and all(e["retry_in_s"] >= RETRY_AFTER_S - 0.5 > MIN_WAIT_S for e in held)
    assert [e for e in logs if e["event"] == "message.retry"] == []


def test_check_reaches_github_and_names_a_refused_token(
    queues: Queues,
    github: GitHubServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`triage check` reads the repository with the token; a refused token is a FAIL line."""
    env = daemon_env(github_settings(queues, github, tmp_path))
    ok = run_in_process(monkeypatch, capsys, "check", env=env)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    (line,) = [line for line in ok.stdout.splitlines() if line.split()[1] == "github"]
    assert "acme/ops readable as triage-bot" in line
    env["GITHUB_TOKEN"] = "ghp_" + "wrong" * 8
    bad = run_in_process(monkeypatch, capsys, "check", env=env)
    assert bad.returncode == 1
    (line,) = [line for line in bad.stdout.splitlines() if line.split()[1] == "github"]
    assert line.startswith("FAIL") and "ghp_" not in line
