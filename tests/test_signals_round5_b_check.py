"""`triage check` says what the daemon would: every start-up warning as a `warn` line, a FIFO
queue (which triage cannot send to) as a failure, and DLQ retention advice SQS can carry out."""

from __future__ import annotations

import asyncio
import io
import json
import os
import uuid
from pathlib import Path

import boto3
import pytest
from pydantic import SecretStr

from daemon_harness import Queues, made_store, settings_for
from test_check_round4_dlq import DAY_S, queue_line, queue_with_dlq
from triage.app import deployment_warnings
from triage.ops.check import run_checks
from triage.settings import Settings

#: The backend's later-effect routes, set: check's own `warn` for them unset is not a start-up
#: warning of the daemon's.
ROUTES = {
    "backend_update_route": "/api/service/tickets/{ref}",
    "backend_resolve_route": "/api/service/tickets/{ref}/resolve",
}


def report(settings: Settings) -> list[str]:
    """Every line of `triage check`'s report for `settings`, the summary left out."""
    out = io.StringIO()
    asyncio.run(run_checks(settings, out))
    return out.getvalue().splitlines()[:-1]


# --- DLQ retention advice --------------------------------------------------------------------


@pytest.mark.parametrize(
    "dlq_keeps_s",
    [pytest.param(14 * DAY_S, id="dlq-fourteen-days"), pytest.param(DAY_S, id="dlq-one-day")],
)
def test_a_queue_keeping_fourteen_days_is_told_to_keep_less(
    dlq_keeps_s: int, moto_url: str, tmp_path: Path
) -> None:
    """Behind a queue keeping messages 14 days (SQS's most), no DLQ can keep letters longer:
    the warning advises a shorter queue retention, not a DLQ retention past 14 days."""
    line = queue_line(queue_with_dlq(moto_url, 14 * DAY_S, dlq_keeps_s), tmp_path)
    assert line.startswith("warn  queue    "), line
    assert "the queue's MessageRetentionPeriod shorter" in line, line
    assert "DLQ's MessageRetentionPeriod longer" not in line, line


def test_a_queue_keeping_less_than_fourteen_days_is_told_to_keep_letters_longer(
    moto_url: str, tmp_path: Path
) -> None:
    """Behind a queue keeping messages 4 days, a DLQ keeping letters 2 days can keep them
    longer: the warning says so (up to SQS's 14 days)."""
    line = queue_line(queue_with_dlq(moto_url, 4 * DAY_S, 2 * DAY_S), tmp_path)
    assert "set the DLQ's MessageRetentionPeriod longer than the queue's" in line, line
    assert "at most 14 d" in line, line


# --- FIFO queues -----------------------------------------------------------------------------


def fifo_queue(moto_url: str, *, dlq: bool) -> Queues:
    """A FIFO queue (and, when `dlq`, a FIFO DLQ keeping letters longer behind it)."""
    sqs = boto3.client("sqs", endpoint_url=moto_url, region_name="us-east-1")
    name = f"alerts-{uuid.uuid4().hex[:12]}"
    fifo = {"FifoQueue": "true", "MessageRetentionPeriod": str(4 * DAY_S)}
    attributes = dict(fifo)
    dlq_url = ""
    if dlq:
        keeps = {**fifo, "MessageRetentionPeriod": str(14 * DAY_S)}
        dlq_url = sqs.create_queue(QueueName=f"{name}-dlq.fifo", Attributes=keeps)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])
        policy = {"deadLetterTargetArn": arn["Attributes"]["QueueArn"], "maxReceiveCount": "5"}
        attributes["RedrivePolicy"] = json.dumps(policy)
    url = sqs.create_queue(QueueName=f"{name}.fifo", Attributes=attributes)["QueueUrl"]
    return Queues(moto_url, url, dlq_url)


@pytest.mark.parametrize("dlq", [True, False], ids=["with-dlq", "without-dlq"])
def test_a_fifo_queue_fails_the_check_saying_why(dlq: bool, moto_url: str, tmp_path: Path) -> None:
    """A FIFO queue, with a DLQ or without (where the missing redrive policy would otherwise
    be the only word), is a `FAIL` line naming FIFO and the MessageGroupId triage never
    sends, and check exits 1."""
    settings = settings_for(fifo_queue(moto_url, dlq=dlq), "http://127.0.0.1:9", tmp_path / "t.db")
    out = io.StringIO()
    assert asyncio.run(run_checks(settings, out)) == 1
    (line,) = [line for line in out.getvalue().splitlines() if line.split()[1:2] == ["queue"]]
    assert line.startswith("FAIL  queue    "), line
    assert "FIFO" in line and "MessageGroupId" in line, line


# --- the daemon's start-up warnings ----------------------------------------------------------


def test_each_start_up_warning_is_one_warn_line(
    queues: Queues, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With an API token and the endpoints off, SQLite in an ECS task, BACKEND_BASE_URL unset
    and two polling intervals under a second, check has one `warn` line for each warning the
    daemon logs at start (its detail whole), and none twice."""
    monkeypatch.setenv("ECS_CONTAINER_METADATA_URI_V4", "http://169.254.170.2/v4/task")
    db = made_store(tmp_path / "t.db")  # the daemon's: check warns of a store not there yet
    values = settings_for(queues, "http://127.0.0.1:9", db, **ROUTES).model_dump()
    del values["backend_base_url"]  # unset: the default, as the daemon warns
    values.update(
        api_token=SecretStr("op-token-" + "d" * 24),
        metrics="emf",
        metrics_interval_s=0.5,
        queue_depth_poll_s=0.5,
    )
    settings = Settings(**values)
    expected = deployment_warnings(settings, settings.sinks, dict(os.environ))
    assert {event for event, _ in expected} == {
        "config.default_backend_url",
        "config.sqlite_in_a_task",
        "config.api_without_port",
        "config.short_interval",
    }
    warned = [line for line in report(settings) if line.startswith("warn")]
    for _, detail in expected:
        assert len([line for line in warned if detail in line]) == 1, (detail, warned)
    assert len(warned) == len(expected), warned


def test_a_deployment_with_nothing_to_warn_of_has_no_warn_line(
    queues: Queues, tmp_path: Path
) -> None:
    """The harness's settings (backend URL set, endpoints off without a token, SQLite outside
    a task) give the daemon nothing to warn of, and check no `warn` line."""
    db = made_store(tmp_path / "t.db")  # the daemon's: check warns of a store not there yet
    settings = settings_for(queues, "http://127.0.0.1:9", db, **ROUTES)
    assert deployment_warnings(settings, settings.sinks, {}) == []
    assert [line for line in report(settings) if line.startswith("warn")] == []


def test_settings_past_sqs_visibility_cap_are_warn_lines(queues: Queues, tmp_path: Path) -> None:
    """A visibility timeout past what the heartbeat can keep and a retry wait past SQS's 12 h
    cap, which the supervisor warns of as it starts (`config.past_visibility_max`): one `warn`
    line each, naming the variable."""
    settings = settings_for(
        queues,
        "http://127.0.0.1:9",
        tmp_path / "t.db",
        visibility_timeout_s=30_000,
        retry_max_s=50_000,
        **ROUTES,
    )
    warned = [line for line in report(settings) if line.startswith("warn  config ")]
    assert len(warned) == 2, warned
    assert "TRIAGE_VISIBILITY_TIMEOUT_S is 30000 s" in warned[0], warned
    assert "TRIAGE_RETRY_MAX_S is 50000 s" in warned[1], warned
