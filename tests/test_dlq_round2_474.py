"""Round 2 of the DLQ redrive (helper 474): a letter SQS refuses for what its body holds."""

from __future__ import annotations

import contextlib
import json
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from daemon_harness import Daemon, Queues, daemon_env, run_in_process, settings_for
from fault_proxy import FaultProxy
from test_dlq import bodies
from triage.demo.ticketd import TicketServer

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


# --- a redrive beside a live daemon -------------------------------------------------------------


def wait_until(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    """Poll `condition` until it holds; fail naming `what` at the deadline."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _alert(key: str) -> str:
    return json.dumps({"title": f"{key} failed", "dedup_key": key, "source": "cron"})


def _incidents(
    monkeypatch: pytest.MonkeyPatch, capsys: Any, env: dict[str, str]
) -> list[dict[str, Any]]:
    done = run_in_process(
        monkeypatch, capsys, "incidents", "list", "--state", "all", "--output", "json", env=env
    )
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]


def test_a_redrive_beside_a_live_daemon_tickets_each_letter_once_and_loses_nothing(
    queues: Queues,
    backend: TicketServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: Any,
) -> None:
    """Two redrives while a daemon receives from the main queue: the first's letter whose DLQ
    delete failed is sent again by the second and counted once (its `redriven_from`), every
    alert is ticketed once, and a letter the daemon rejects again is back in the DLQ."""
    keys = ("backup", "disk", "cert")
    for body in (*(_alert(k) for k in keys), "not json at all"):
        queues.client().send_message(QueueUrl=queues.dlq_url, MessageBody=body)
    settings = settings_for(queues, backend.url, tmp_path / "triage.db")
    daemon = Daemon(settings, log_dir=tmp_path)
    try:
        with _through_proxy(queues, tmp_path) as (proxy, env):
            proxy.fail_deletes(1)
            first = run_in_process(monkeypatch, capsys, "dlq", "redrive", env=env)
            assert first.returncode == 0, first.stderr
            assert "not deleted from the DLQ" in first.stderr, first.stderr
            wait_until(lambda: len(backend.tickets) == 3, 60, "three tickets")
            second = run_in_process(monkeypatch, capsys, "dlq", "redrive", env=env)
            assert second.returncode == 0, second.stderr
        wait_until(
            lambda: queues.depth() == 0 and queues.dead_letters() == ["not json at all"],
            60,
            "the main queue drained and the rejected letter back in the DLQ",
        )
        listed = _incidents(monkeypatch, capsys, daemon_env(settings))
    finally:
        daemon.signal(signal.SIGTERM)
        daemon.wait(30)
        daemon.kill()
    assert len(backend.tickets) == 3, backend.tickets
    assert {i["title"]: i["occurrences"] for i in listed} == {f"{k} failed": 1 for k in keys}


@pytest.mark.parametrize(
    "closed_by",
    ["resolve", "hand"],
)
def test_a_redriven_firing_older_than_the_close_does_not_reopen_the_ticket(
    closed_by: str,
    queues: Queues,
    backend: TicketServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: Any,
) -> None:
    """A repeat of a ticketed alert that died in the DLQ before its incident was closed (by a
    resolve, or by hand) and is redriven after the close is counted as older than the close:
    the ticket is not reopened as a new firing."""
    settings = settings_for(
        queues,
        backend.url,
        tmp_path / "triage.db",
        backend_update_route="/api/service/tickets/{ref}/updates",
        backend_resolve_route="/api/service/tickets/{ref}/resolve",
    )
    env = daemon_env(settings)
    daemon = Daemon(settings, log_dir=tmp_path)
    try:
        queues.send(_alert("backup"))
        wait_until(lambda: len(backend.tickets) == 1, 60, "the ticket")
        # A repeat queued after the firing, which died before the close (its SentTimestamp).
        queues.client().send_message(QueueUrl=queues.dlq_url, MessageBody=_alert("backup"))
        if closed_by == "resolve":
            resolve = json.loads(_alert("backup")) | {"status": "resolved"}
            queues.send(resolve)
        else:
            (open_incident,) = _incidents(monkeypatch, capsys, env)
            done = run_in_process(
                monkeypatch,
                capsys,
                "incidents",
                "close",
                open_incident["fingerprint"],
                "--comment",
                "fixed the cron job",
                env=env,
            )
            assert done.returncode == 0, done.stderr
        wait_until(
            lambda: [e["kind"] for e in backend.events][-1:] == ["resolve"],
            60,
            "the ticket's close",
        )
        kinds_at_close = [e["kind"] for e in backend.events]
        redriven = run_in_process(monkeypatch, capsys, "dlq", "redrive", env=env)
        assert redriven.returncode == 0, redriven.stderr
        wait_until(lambda: queues.depth() == 0, 60, "the redriven letter handled")
        (incident,) = _incidents(monkeypatch, capsys, env)
        assert incident["state"] == "closed", incident
        assert [e["kind"] for e in backend.events] == kinds_at_close
        assert len(backend.tickets) == 1
        # A firing queued after the close still reopens it: only older messages are held.
        queues.send(_alert("backup"))
        wait_until(
            lambda: _incidents(monkeypatch, capsys, env)[0]["state"] == "open",
            60,
            "the reopen by a firing queued after the close",
        )
    finally:
        daemon.signal(signal.SIGTERM)
        daemon.wait(30)
        daemon.kill()
