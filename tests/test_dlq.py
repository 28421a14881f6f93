"""`triage dlq peek|redrive` against moto's SQS with a real redrive policy: the command in this
process, and as a process of its own where a kill is what is tested."""

from __future__ import annotations

import contextlib
import io
import json
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from daemon_harness import Queues, daemon_env, run_in_process, settings_for
from fault_proxy import FaultProxy
from triage.ops import dlq as dlq_ops  # imported before any test replaces sys.stdout

GOOD = json.dumps({"title": "backup failed", "dedup_key": "backup", "source": "cron"})
BAD = '{"title": "broken'

#: `triage dlq ARGS` run to completion: its exit code, stdout and stderr.
Dlq = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def dlq(
    queues: Queues,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Dlq:
    """`triage dlq ARGS` in this process, configured for `queues` (the kill test alone needs
    a process of its own)."""
    env = daemon_env(settings_for(queues, "http://127.0.0.1:9", tmp_path / "t.db"))

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return run_in_process(monkeypatch, capsys, "dlq", *args, env=env)

    return run


def fill_dlq(queues: Queues, *bodies: str) -> None:
    sqs = queues.client()
    for body in bodies:
        sqs.send_message(QueueUrl=queues.dlq_url, MessageBody=body)


def bodies(queues: Queues, url: str) -> list[str]:
    sqs = queues.client()
    out: list[str] = []
    while True:
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=60).get(
            "Messages", []
        )
        if not batch:
            return out
        out += [m["Body"] for m in batch]


def test_peek_describes_dead_letters_and_leaves_them(queues: Queues, dlq: Dlq) -> None:
    """peek shows source, title, fingerprint, receive count and age, the error when reproducible, and moves nothing."""
    fill_dlq(queues, GOOD, BAD)
    result = dlq("peek")
    assert result.returncode == 0, result.stderr
    rows = {r.get("title", "bad"): r for r in map(json.loads, result.stdout.splitlines())}
    assert rows["backup failed"]["source"] == "generic"
    assert len(rows["backup failed"]["fingerprint"]) == 32
    assert rows["backup failed"]["receive_count"] == 0
    assert rows["backup failed"]["age_s"] >= 0
    assert rows["bad"]["error"].startswith("decode:")
    assert sorted(bodies(queues, queues.dlq_url)) == sorted([GOOD, BAD])


def test_peek_prints_to_the_stdout_of_its_call(queues: Queues, dlq: Dlq) -> None:
    """peek writes where sys.stdout points when it runs, not where it pointed when its module
    was imported (a default argument kept that stream: closed by then in a test, elsewhere a
    caller's redirection ignored)."""
    assert dlq_ops.peek  # loaded already, with whatever stdout there was then
    fill_dlq(queues, GOOD)
    shown = io.StringIO()
    with contextlib.redirect_stdout(shown):
        result = dlq("peek")
    assert result.returncode == 0, result.stderr
    assert json.loads(shown.getvalue())["title"] == "backup failed"


def test_redrive_dry_run_moves_nothing(queues: Queues, dlq: Dlq) -> None:
    """redrive --dry-run says how many would move and leaves the DLQ as it was."""
    fill_dlq(queues, GOOD, GOOD)
    result = dlq("redrive", "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "would move 2" in result.stderr
    assert bodies(queues, queues.url) == []
    assert len(bodies(queues, queues.dlq_url)) == 2


def test_redrive_moves_every_dead_letter_back(queues: Queues, dlq: Dlq) -> None:
    """redrive moves all dead letters to the main queue, bodies intact (batch fallback on moto)."""
    sent = [json.dumps({"title": f"alert {i}"}) for i in range(23)]
    fill_dlq(queues, *sent)
    result = dlq("redrive")
    assert result.returncode == 0, result.stderr
    assert sorted(bodies(queues, queues.url)) == sorted(sent)
    assert bodies(queues, queues.dlq_url) == []


def test_redrive_asked_of_sqs_moves_by_batches_where_sqs_has_no_move_task(
    queues: Queues, dlq: Dlq
) -> None:
    """`--sqs-move` on an endpoint without StartMessageMoveTask (moto) says so and still
    moves every letter, by batches."""
    sent = [json.dumps({"title": f"alert {i}"}) for i in range(3)]
    fill_dlq(queues, *sent)
    result = dlq("redrive", "--sqs-move")
    assert result.returncode == 0, result.stderr
    assert "no SQS message move task: moving dead letters by batches" in result.stderr
    assert sorted(bodies(queues, queues.url)) == sorted(sent)


@pytest.mark.parametrize("args", [["redrive", "--max", "5"], ["peek"]], ids=["max", "peek"])
def test_sqs_move_is_refused_where_a_move_task_cannot_do_it(
    args: list[str], queues: Queues, dlq: Dlq
) -> None:
    """`--sqs-move` with `--max` (a move task cannot stop after N) or with peek is a usage
    error (exit 2) that moves nothing."""
    fill_dlq(queues, GOOD)
    result = dlq(*args, "--sqs-move")
    assert result.returncode == 2
    assert "--sqs-move is for a whole redrive" in result.stderr
    assert bodies(queues, queues.url) == []


def test_redrive_stopped_half_way_loses_nothing(queues: Queues, dlq: Dlq) -> None:
    """A redrive that stops after 7 of 15 leaves every message in exactly one of the two queues."""
    sent = [json.dumps({"title": f"alert {i}"}) for i in range(15)]
    fill_dlq(queues, *sent)
    result = dlq("redrive", "--max", "7")
    assert result.returncode == 0, result.stderr
    main, dead = bodies(queues, queues.url), bodies(queues, queues.dlq_url)
    assert len(main) == 7
    assert Counter(main + dead) == Counter(sent)


def test_redrive_killed_mid_way_loses_nothing(queues: Queues, tmp_path: Path) -> None:
    """SIGKILL during a redrive: every message is still in one of the queues (at worst twice)."""
    sent = [json.dumps({"title": f"alert {i}"}) for i in range(100)]
    sqs = queues.client()
    for first in range(0, len(sent), 10):
        entries = [{"Id": str(i), "MessageBody": b} for i, b in enumerate(sent[first : first + 10])]
        sqs.send_message_batch(QueueUrl=queues.dlq_url, Entries=entries)
    env = daemon_env(settings_for(queues, "http://127.0.0.1:9", tmp_path / "t.db"))
    process = subprocess.Popen(
        [sys.executable, "-m", "triage", "dlq", "redrive"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while queues.depth() < 20 and time.monotonic() < deadline:
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
    moved, left = queues.depth(), queues.depth(queues.dlq_url)  # visible + hidden in each
    assert 0 < moved < len(sent), "the kill should land half-way"
    assert moved + left >= len(sent)


def test_redrive_fails_when_the_queue_refuses_letters(queues: Queues, dlq: Dlq) -> None:
    """A redrive that leaves letters the main queue refused exits 1, its last line saying how
    many stayed (it exited 0, and a script took the DLQ for empty)."""
    queues.client().set_queue_attributes(
        QueueUrl=queues.url, Attributes={"MaximumMessageSize": "1024"}
    )
    large = json.dumps({"title": "large", "description": "x" * 2000})
    fill_dlq(queues, GOOD, large, large)
    result = dlq("redrive", "--max", "10")
    assert result.returncode == 1, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert "left 2 dead letter(s)" in last and "refused" in last
    assert bodies(queues, queues.url) == [GOOD]


def test_a_letter_moved_but_not_deleted_from_the_dlq_is_said_and_stays_visible(
    queues: Queues,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A letter sent to the main queue whose delete from the DLQ SQS failed is named on one
    line with SQS's code (a later redrive sends it again, counted once by its identity) and is
    visible in the DLQ when the run ends, not hidden for the run's hiding time; the others
    move as usual."""
    fill_dlq(queues, GOOD, BAD)
    with FaultProxy(queues.endpoint) as proxy:
        settings = settings_for(
            queues,
            "http://127.0.0.1:9",
            tmp_path / "t.db",
            queue_url=proxy.queue_url(queues.url),
            aws_endpoint_url=proxy.url,
        )
        proxy.fail_deletes(1)
        result = run_in_process(monkeypatch, capsys, "dlq", "redrive", env=daemon_env(settings))
        (kept,) = proxy.failed_deletes
    assert result.returncode == 0, result.stderr
    assert sorted(bodies(queues, queues.url)) == sorted([GOOD, BAD])
    said = [line for line in result.stderr.splitlines() if kept in line]
    assert len(said) == 1 and "not deleted from the DLQ" in said[0], result.stderr
    assert "InternalError" in said[0] or "Failed" in said[0]
    assert len(bodies(queues, queues.dlq_url)) == 1  # visible again at the run's end
