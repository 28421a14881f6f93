"""Red team, round 6: configuration and operator input. A user's mistake in a setting, a
routes file, a hand-edited store or an operator command must get a clear error naming what is
wrong, exit non-zero, and lose nothing. Each strict xfail is a bug found today; it passes once
the bug is fixed."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import boto3
import httpx2
import pytest

from daemon_harness import Queues
from factories import alert
from test_operator_api import BEARER, serving
from triage.app import open_configured_store
from triage.aws import Aws
from triage.cli import main
from triage.routes import load_router
from triage.settings import load_settings


async def _open_two_incidents(monkeypatch: pytest.MonkeyPatch, db: Path) -> list[str]:
    """A SQLite store at `db` (as TRIAGE_STORE_URL) holding two open incidents; their
    fingerprints."""
    monkeypatch.setenv("TRIAGE_STORE_URL", f"sqlite:///{db}")
    monkeypatch.setenv("TRIAGE_LOG_LEVEL", "warning")
    settings = load_settings()
    aws = Aws(settings)
    store = await open_configured_store(settings, aws)
    try:
        opened = [await store.begin(alert(n), "m", datetime.now(UTC)) for n in ("edited", "kept")]
    finally:
        await store.aclose()
        await aws.aclose()
    return [o.after.fingerprint for o in opened if o.after is not None]


def _edit_body(db: Path, fingerprint: str, **fields: object) -> None:
    """Set `fields` in the stored JSON of one incident, as a person editing the file would."""
    with sqlite3.connect(db) as conn:
        ((body,),) = conn.execute(
            "SELECT body FROM incidents WHERE fingerprint = ?", (fingerprint,)
        )
        data = json.loads(body)
        data.update(fields)
        conn.execute(
            "UPDATE incidents SET body = ? WHERE fingerprint = ?", (json.dumps(data), fingerprint)
        )


async def _one_record_cut_in_half(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A SQLite store (TRIAGE_STORE_URL) of two open incidents, one of whose stored records
    is cut in half, as a disk's damage or a hand edit leaves it; that one's fingerprint."""
    db = tmp_path / "triage.db"
    edited, _kept = await _open_two_incidents(monkeypatch, db)
    with sqlite3.connect(db) as conn:
        ((body,),) = conn.execute("SELECT body FROM incidents WHERE fingerprint = ?", (edited,))
        conn.execute(
            "UPDATE incidents SET body = ? WHERE fingerprint = ?", (body[: len(body) // 2], edited)
        )
    return edited


async def _api_get(path: str) -> httpx2.Response:
    """GET `path` of the operator API (with its token) over TRIAGE_STORE_URL's store."""
    settings = load_settings()
    aws = Aws(settings)
    store = await open_configured_store(settings, aws)
    try:
        async with serving(store) as client:
            return await client.get(path, headers=BEARER)
    finally:
        await store.aclose()
        await aws.aclose()


async def test_a_hand_edited_field_of_the_wrong_type_hides_no_other_incident(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A record whose title was edited to a number is reported as unreadable (as a record of
    bad JSON is), and `incidents list` still lists the other incident and exits 0."""
    db = tmp_path / "triage.db"
    edited, kept = await _open_two_incidents(monkeypatch, db)
    _edit_body(db, edited, title=5)

    def listing() -> tuple[int, str, str]:
        code = main(["incidents", "list"])
        out, err = capsys.readouterr()
        return code, out, err

    code, out, err = await asyncio.to_thread(listing)
    assert code == 0, err
    assert kept in {json.loads(line)["fingerprint"] for line in out.splitlines()}
    assert edited in err  # named as unreadable, as a record of bad JSON is


def test_check_creates_no_store_at_a_path_where_there_is_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`triage check` against a TRIAGE_STORE_URL whose file does not exist (a typo, a volume
    not mounted) writes nothing there and does not call the store ok, as `triage incidents`
    says "no SQLite store at …" for the same path."""
    typo = tmp_path / "mistyped" / "triage.db"
    monkeypatch.setenv("TRIAGE_STORE_URL", f"sqlite:///{typo}")
    monkeypatch.setenv("TRIAGE_LOG_LEVEL", "warning")
    main(["check"])
    out = capsys.readouterr().out
    store_lines = [line for line in out.splitlines() if line.split()[1:2] == ["store"]]
    assert not typo.parent.exists()
    assert store_lines
    assert not any(line.startswith("ok") for line in store_lines), store_lines


def test_a_local_queue_url_without_an_endpoint_says_to_set_aws_endpoint_url(
    queues: Queues,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`triage send` to a queue URL on a local SQS (LocalStack, moto, ElasticMQ) with
    AWS_ENDPOINT_URL unset either reaches that queue or fails naming AWS_ENDPOINT_URL: botocore
    sends SQS's calls to AWS_REGION's endpoint, not to the queue URL's host, and an error that
    names only sqs.<region>.amazonaws.com does not say which setting is missing."""
    monkeypatch.setenv("ALERT_TRIAGE_QUEUE_URL", queues.url)
    monkeypatch.setenv("TRIAGE_LOG_LEVEL", "warning")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    body = tmp_path / "alert.json"
    body.write_text(json.dumps({"title": "disk full", "source": "generic"}))
    code = main(["send", str(body)])
    err = capsys.readouterr().err
    if code == 0:
        assert queues.depth() == 1
    else:
        assert "AWS_ENDPOINT_URL" in err, err


async def test_a_silence_on_a_mistyped_source_names_the_source_meant(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`silence add --match source=cloudwatchh` names the source it was a typo of, as
    `incidents list --source cloudwatchh` and the routes file do: no alert has that source,
    so the silence would quiet nothing while the operator believes the noise is handled."""
    await _open_two_incidents(monkeypatch, tmp_path / "triage.db")

    def silence() -> str:
        main(["silence", "add", "--match", "source=cloudwatchh", "--for", "1h", "--comment", "c"])
        return capsys.readouterr().err

    err = await asyncio.to_thread(silence)
    assert "'cloudwatch'" in err, err


def test_a_routes_webhook_variable_is_read_as_written_like_slack_webhook_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An env file (`docker run --env-file`, systemd, ECS) keeps the quotes around a value:
    SLACK_WEBHOOK_URL drops one pair, and so does the variable a route's `webhook_url_env`
    names, rather than stopping start-up saying a webhook URL is no URL."""
    webhook = "https://hooks.slack.com/services/T000/B000/payments"
    monkeypatch.setenv("SLACK_WEBHOOK_URL", f'"{webhook}"')
    monkeypatch.setenv("SLACK_PAYMENTS_WEBHOOK", f'"{webhook}"')
    routes = tmp_path / "routes.toml"
    routes.write_text(
        '[[route]]\nname = "payments"\nsinks = ["slack"]\n'
        '[route.slack]\nwebhook_url_env = "SLACK_PAYMENTS_WEBHOOK"\n'
    )
    settings = load_settings(routes_file=routes)
    assert settings.slack_webhook_url is not None
    assert settings.slack_webhook_url.get_secret_value() == webhook
    (rule,) = load_router(settings).rules
    assert rule.route.target("slack").webhook_url == webhook


async def test_an_unreadable_incident_over_the_api_is_not_a_retry_forever(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GET /api/v1/incidents/<fp> of a record that no longer parses (a hand edit, a disk's
    damage) says the record is unreadable, without a 503 and Retry-After: the store is up,
    and a client told to retry in 1 s would do so for good (`triage incidents show` says
    store_corrupt for the same record)."""
    edited = await _one_record_cut_in_half(tmp_path, monkeypatch)
    answer = await _api_get(f"/api/v1/incidents/{edited}")
    assert answer.status_code != 503
    assert "retry-after" not in answer.headers
    assert "unreadable" in answer.json()["error"]


def test_a_dynamodb_table_keyed_otherwise_is_refused_at_start(
    moto_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """TRIAGE_STORE_URL naming another application's table (keyed by `id`, not triage's
    `fingerprint`) stops the command at once with one line naming the setting and the key it
    needs, as a table that does not exist does: `incidents list` does not say "no incidents",
    and the daemon does not start only to fail each message's write."""
    ddb = boto3.client("dynamodb", endpoint_url=moto_url, region_name="us-east-1")
    ddb.create_table(
        TableName="other-app",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
    monkeypatch.setenv("TRIAGE_STORE_URL", "dynamodb://other-app")
    monkeypatch.setenv("TRIAGE_LOG_LEVEL", "warning")
    code = main(["incidents", "list"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "TRIAGE_STORE_URL" in err
    assert "fingerprint" in err


async def test_the_api_listing_says_when_an_incident_could_not_be_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An open incident whose record no longer parses is not left out of the API's listing in
    silence: the answer says a record could not be read, so a dashboard showing "0 open"
    does not hide an open incident (and its ticket) from everyone."""
    await _one_record_cut_in_half(tmp_path, monkeypatch)
    answer = await _api_get("/api/v1/incidents")
    assert answer.status_code == 200
    assert "unreadable" in answer.text, answer.text
