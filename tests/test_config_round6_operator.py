"""Operator-input mistakes that used to pass in silence (round 6): a SQLite store that is not
there (or an empty file) for `check` and the operator commands, a local queue URL with no
AWS_ENDPOINT_URL, a silence or filter on a source no alert has, and a routes file's webhook
variable written in quotes. Each is a clear line naming what to change, and nothing is made
or changed where it was not asked for."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from daemon_harness import Queues
from test_operator_api import BEARER, serving
from test_store import LEASE, POLICY
from triage.cli import main, queue_endpoint_problem
from triage.incidents.sqlite import SQLiteStore
from triage.ops.operator import new_silence, parse_filter
from triage.routes import load_router
from triage.settings import load_settings

NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
WEBHOOK = "https://hooks.slack.com/services/T000/B000/oncall"
#: A queue URL on a local SQS (moto, ElasticMQ) where nothing listens: no call may be made.
LOCAL_QUEUE = "http://127.0.0.1:9/000000000000/alerts"


def _check_lines(capsys: pytest.CaptureFixture[str], name: str) -> list[str]:
    """Run `triage check` in process; its output lines for the check `name`."""
    main(["check"])
    out = capsys.readouterr().out
    return [line for line in out.splitlines() if line.split()[1:2] == [name]]


# --- A SQLite store that is not there ------------------------------------------------------


def test_check_warns_of_a_store_not_there_yet_without_failing_or_making_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`triage check` before the daemon's first run (or with a typo in TRIAGE_STORE_URL) says
    `warn store` naming the full path and both readings, and makes no file there."""
    db = tmp_path / "triage.db"
    monkeypatch.setenv("TRIAGE_STORE_URL", f"sqlite:///{db}")
    (line,) = _check_lines(capsys, "store")
    assert line.startswith("warn"), line
    assert str(db) in line and "first run" in line and "TRIAGE_STORE_URL" in line
    assert list(tmp_path.iterdir()) == []


def test_check_warns_of_an_empty_sqlite_file_and_leaves_it_empty(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A 0-byte file at TRIAGE_STORE_URL (`touch`ed, or made by a mount) is no store: `check`
    says so as a warning and writes no table into it."""
    db = tmp_path / "triage.db"
    db.touch()
    monkeypatch.setenv("TRIAGE_STORE_URL", f"sqlite:///{db}")
    (line,) = _check_lines(capsys, "store")
    assert line.startswith("warn") and "empty" in line, line
    assert db.stat().st_size == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["triage.db"]


def test_incidents_list_writes_no_table_into_an_empty_sqlite_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`triage incidents list` on a 0-byte file exits 2 saying there is no store there (the
    file is empty), as for a file that does not exist, and leaves the file empty."""
    db = tmp_path / "triage.db"
    db.touch()
    monkeypatch.setenv("TRIAGE_STORE_URL", f"sqlite:///{db}")
    code = main(["incidents", "list"])
    err = capsys.readouterr().err
    assert code == 2
    assert f"no SQLite store at {db}" in err and "empty" in err
    assert db.stat().st_size == 0


async def test_incidents_list_reads_a_store_the_daemon_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A store the daemon opened (and holds no incident yet) is no empty file: the operator
    commands read it (exit 0), however small it is."""
    db = tmp_path / "triage.db"
    store = SQLiteStore(str(db), POLICY, LEASE, timedelta(days=30))
    await store.open()
    await store.aclose()
    monkeypatch.setenv("TRIAGE_STORE_URL", f"sqlite:///{db}")
    code = await asyncio.to_thread(main, ["incidents", "list"])
    assert code == 0, capsys.readouterr().err


# --- A local queue URL without AWS_ENDPOINT_URL --------------------------------------------


def test_dlq_peek_of_a_local_queue_without_an_endpoint_names_the_setting(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`triage dlq peek` with ALERT_TRIAGE_QUEUE_URL on a local host and AWS_ENDPOINT_URL unset
    exits 2 naming the setting and the value to give it, before any call is made."""
    monkeypatch.setenv("ALERT_TRIAGE_QUEUE_URL", LOCAL_QUEUE)
    code = main(["dlq", "peek"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "AWS_ENDPOINT_URL=http://127.0.0.1:9" in err
    assert "ALERT_TRIAGE_QUEUE_URL" in err


def test_check_fails_the_queue_line_of_a_local_queue_without_an_endpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`triage check`'s queue line is a FAIL naming AWS_ENDPOINT_URL, not AWS's endpoint's
    connection error, for a queue URL on a local host with no endpoint set."""
    monkeypatch.setenv("ALERT_TRIAGE_QUEUE_URL", LOCAL_QUEUE)
    monkeypatch.setenv("TRIAGE_STORE_URL", f"sqlite:///{tmp_path / 'triage.db'}")
    (line,) = _check_lines(capsys, "queue")
    assert line.startswith("FAIL"), line
    assert "AWS_ENDPOINT_URL=http://127.0.0.1:9" in line
    assert "amazonaws.com" in line  # where the calls would have gone


def test_send_reaches_a_local_queue_that_aws_endpoint_url_sqs_names(
    queues: Queues,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """AWS_ENDPOINT_URL_SQS alone (botocore's own setting for SQS) is an endpoint too: the
    check is of where the client sends its calls, so `triage send` reaches the local queue."""
    monkeypatch.setenv("ALERT_TRIAGE_QUEUE_URL", queues.url)
    monkeypatch.setenv("AWS_ENDPOINT_URL_SQS", queues.endpoint)
    body = tmp_path / "alert.json"
    body.write_text(json.dumps({"title": "disk full", "source": "generic"}))
    code = main(["send", str(body)])
    assert code == 0, capsys.readouterr().err
    assert queues.depth() == 1


@pytest.mark.parametrize(
    "queue_url",
    [
        "https://sqs.eu-west-1.amazonaws.com/123456789012/alerts",
        "https://sqs-fips.us-east-1.amazonaws.com/123456789012/alerts",
        "https://sqs.cn-north-1.amazonaws.com.cn/123456789012/alerts",
        "https://sqs.us-east-1.api.aws/123456789012/alerts",
    ],
)
def test_an_aws_queue_url_sent_to_aws_is_no_endpoint_problem(queue_url: str) -> None:
    """A queue on AWS (any region or partition, FIPS, dual-stack) with AWS's endpoint is not
    called local: a region that differs is `queue_region_problem`'s to say."""
    assert queue_endpoint_problem(queue_url, "https://sqs.us-east-1.amazonaws.com", "Q") is None


def test_the_endpoint_to_set_is_the_local_queue_s_origin_alone() -> None:
    """The value advised for AWS_ENDPOINT_URL is the queue URL's scheme, host and port: an
    IPv6 host in brackets, and never a user and password written into the URL."""
    url = "http://user:hunter2@[::1]:4566/000000000000/alerts"
    problem = queue_endpoint_problem(url, "https://sqs.us-east-1.amazonaws.com", "Q")
    assert problem is not None
    assert "AWS_ENDPOINT_URL=http://[::1]:4566 " in problem
    assert "hunter2" not in problem


def test_a_local_queue_sent_to_a_local_endpoint_is_no_endpoint_problem() -> None:
    """LocalStack's own queue host behind AWS_ENDPOINT_URL=http://127.0.0.1:4566 is reached
    (the endpoint answers for every queue it holds, whatever host its URL names)."""
    url = "http://sqs.us-east-1.localhost.localstack.cloud:4566/000000000000/alerts"
    assert queue_endpoint_problem(url, "http://127.0.0.1:4566", "Q") is None


# --- A silence or filter on a source no alert has ------------------------------------------


@pytest.mark.parametrize("matcher", ["source!=cloudwatchh", "source=CloudWatch"])
def test_a_silence_on_a_source_no_alert_has_names_the_source_meant(matcher: str) -> None:
    """`=` or `!=` on a source no alert has is refused naming the one meant: `=` would quiet
    nothing, `!=` every alert of its other matchers, the one meant too."""
    with pytest.raises(ValueError, match="did you mean 'cloudwatch'"):
        new_silence([matcher, "team=payments"], "1h", "c", "al", NOW)


@pytest.mark.parametrize("matcher", ["source=~cloudwatchh|sentryy", "source!~cloud_watch.*"])
def test_a_silence_pattern_no_source_matches_is_refused(matcher: str) -> None:
    """A pattern on `source` that matches no source an alert can have is refused: `=~` would
    quiet nothing, `!~` exclude nothing."""
    with pytest.raises(ValueError, match="matches no source an alert has"):
        new_silence([matcher, "team=payments"], "1h", "c", "al", NOW)


@pytest.mark.parametrize(
    "matcher", ["source=cloudwatch", "source!=sentry", "source=~cloud.*", "source!~sentry|grafana"]
)
def test_a_silence_on_sources_alerts_have_is_made(matcher: str) -> None:
    """A source alerts have, or a pattern matching one, is taken as typed."""
    made = new_silence([matcher, "team=payments"], "1h", "c", "al", NOW)
    assert str(made.matchers[0]) == matcher


def test_an_incident_filter_on_a_source_no_alert_has_is_refused() -> None:
    """`incidents list --match source=…` (and the API's and the status page's filter) refuses
    a source no alert has, as `--source` does, rather than listing nothing."""
    with pytest.raises(ValueError, match="did you mean 'cloudwatch'"):
        parse_filter(now=NOW, match=["source=cloudwatchh"])


@pytest.fixture
async def sqlite_store(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    """An empty SQLite store on disk."""
    store = SQLiteStore(str(tmp_path / "t.db"), POLICY, LEASE, timedelta(days=30))
    await store.open()
    yield store
    await store.aclose()


async def test_the_api_refuses_a_silence_on_a_mistyped_source(sqlite_store: SQLiteStore) -> None:
    """POST /api/v1/silences with `source=cloudwatchh` is a 400 naming the source meant, and no
    silence is kept."""
    body = {"matchers": ["source=cloudwatchh"], "duration": "1h", "comment": "c", "author": "al"}
    async with serving(sqlite_store) as client:
        answer = await client.post("/api/v1/silences", json=body, headers=BEARER)
    assert answer.status_code == 400, answer.text
    assert "'cloudwatch'" in answer.json()["error"]
    assert await sqlite_store.silences() == []


# --- A routes file's webhook variable, read as written -------------------------------------


def test_an_escalation_webhook_variable_is_read_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`slack_webhook_url_env` under `[route.escalate]` drops whitespace and one pair of quotes
    an env file kept, as SLACK_WEBHOOK_URL does."""
    monkeypatch.setenv("SLACK_ONCALL_WEBHOOK", f" '{WEBHOOK}'\n")
    routes = tmp_path / "routes.toml"
    routes.write_text(
        '[[route]]\nname = "payments"\nsinks = ["backend"]\nescalate_after_s = 600\n'
        '[route.escalate]\nslack_webhook_url_env = "SLACK_ONCALL_WEBHOOK"\n'
    )
    (rule,) = load_router(load_settings(routes_file=routes)).rules
    assert rule.route.escalation is not None
    assert rule.route.escalation.slack_webhook_url == WEBHOOK
