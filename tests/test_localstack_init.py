"""localstack/init-aws.sh for real: its aws CLI calls against LocalStack in host mode (SQS,
Secrets Manager, CloudWatch) and, for DynamoDB, which LocalStack cannot run without Docker,
against moto's server. Names and values come from docker-compose.yml and .env.example, the way
`cp .env.example .env && docker compose up` would give them to the hook and to the worker.

Needs Python 3.13 (see tests/localstack_harness.py); without it these tests skip, except
under CI=true, where they fail.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import aioboto3
import boto3
import pytest

from localstack_harness import ROOT, LocalStack, aws_cli_env, localstack_session, venv_or_skip
from triage.demo.ticketd import TicketServer
from triage.incidents.dynamodb import create_table
from triage.ops.check import run_checks
from triage.settings import Settings

pytestmark = pytest.mark.localstack

SCRIPT = ROOT / "localstack" / "init-aws.sh"


def _env_example() -> dict[str, str]:
    values: dict[str, str] = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#") and "=" in line:
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def _compose_environment(service: str, dotenv: dict[str, str]) -> dict[str, str]:
    """A compose service's `environment:`, ${VAR:-default} resolved from `dotenv` as compose
    does from .env."""
    import yaml

    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    raw = compose["services"][service].get("environment", {})

    def resolve(match: re.Match[str]) -> str:
        return dotenv.get(match[1]) or (match[2] or "")

    return {k: re.sub(r"\$\{(\w+)(?::-([^}]*))?\}", resolve, str(v)) for k, v in raw.items()}


DOTENV = _env_example()
#: What the LocalStack container, and so its ready hook, gets from the compose file.
HOOK_ENV = _compose_environment("localstack", DOTENV)
#: What the worker reads: .env, then the compose file's `environment:` on top.
WORKER_ENV = {**DOTENV, **_compose_environment("worker", DOTENV)}


def run_init(env: dict[str, str]) -> str:
    """Run the real script with exactly `env`; return its stdout, fail with its stderr."""
    result = subprocess.run(
        ["bash", str(SCRIPT)],
        env=env,
        capture_output=True,
        text=True,
        timeout=100,
        check=False,
    )
    assert result.returncode == 0, f"init-aws.sh exited {result.returncode}:\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def localstack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """LocalStack (SQS, Secrets Manager, CloudWatch) on a free 127.0.0.1 port for this file."""
    yield from localstack_session(tmp_path_factory.mktemp("localstack"))


@pytest.fixture(scope="module")
def aws_cli_bin() -> Path:
    """The bin directory of .localstack/, whose `aws` the script runs with."""
    return venv_or_skip()


@pytest.fixture(scope="module")
def init_output(localstack: LocalStack) -> str:
    """The hook run once against LocalStack, with the compose file's environment for it."""
    return run_init(localstack.client_env(**HOOK_ENV, TRIAGE_INIT_SERVICES="sqs secretsmanager"))


@pytest.fixture(scope="module")
def aws(localstack: LocalStack) -> dict[str, Any]:
    """boto3 keyword arguments for clients of this LocalStack."""
    return {
        "endpoint_url": localstack.endpoint,
        "region_name": "us-east-1",
        "aws_access_key_id": "test",
        "aws_secret_access_key": "test",
    }


def worker_queue_url(localstack: LocalStack) -> str:
    """The worker's ALERT_TRIAGE_QUEUE_URL (http://localstack:4566/...) on this LocalStack."""
    return localstack.endpoint + urlparse(WORKER_ENV["ALERT_TRIAGE_QUEUE_URL"]).path


def test_queue_and_dlq_are_what_the_worker_expects(
    localstack: LocalStack, init_output: str, aws: dict[str, Any]
) -> None:
    """The worker's queue URL exists, with the worker's visibility timeout and a redrive policy
    to the alerts-dlq queue after 5 receives."""
    sqs = boto3.client("sqs", **aws)
    url = worker_queue_url(localstack)
    name = url.rsplit("/", 1)[1]
    assert sqs.get_queue_url(QueueName=name)["QueueUrl"] == url
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attrs["VisibilityTimeout"] == WORKER_ENV["TRIAGE_VISIBILITY_TIMEOUT_S"] == "60"
    dlq_url = sqs.get_queue_url(QueueName=f"{name}-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    redrive = json.loads(attrs["RedrivePolicy"])
    assert redrive["deadLetterTargetArn"] == dlq_arn
    assert int(redrive["maxReceiveCount"]) == 5
    dlq_attrs = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["All"])["Attributes"]
    assert "RedrivePolicy" not in dlq_attrs
    listed = sqs.list_queues(QueueNamePrefix=name).get("QueueUrls", [])
    assert sorted(listed) == sorted([url, dlq_url])
    assert f"queue {url}" in init_output


def test_redrive_policy_moves_a_message_to_the_dlq_after_5_receives(
    localstack: LocalStack, init_output: str, aws: dict[str, Any]
) -> None:
    """LocalStack acts on the policy the script wrote: the 6th receive finds the message in
    the DLQ, not the queue."""
    sqs = boto3.client("sqs", **aws)
    url = worker_queue_url(localstack)
    dlq_url = f"{url}-dlq"
    sqs.send_message(QueueUrl=url, MessageBody="poison")
    counts = []
    for _ in range(5):
        messages = sqs.receive_message(
            QueueUrl=url, VisibilityTimeout=0, WaitTimeSeconds=0, AttributeNames=["All"]
        ).get("Messages", [])
        counts += [m["Attributes"]["ApproximateReceiveCount"] for m in messages]
    assert counts == ["1", "2", "3", "4", "5"]
    assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0).get("Messages", []) == []
    moved = sqs.receive_message(QueueUrl=dlq_url, WaitTimeSeconds=2).get("Messages", [])
    assert [m["Body"] for m in moved] == ["poison"]
    sqs.delete_message(QueueUrl=dlq_url, ReceiptHandle=moved[0]["ReceiptHandle"])


def test_secret_holds_the_token_the_worker_reads(init_output: str, aws: dict[str, Any]) -> None:
    """The secret the worker's BACKEND_TOKEN_SECRET_ID names holds {"BACKEND_TOKEN": token}."""
    secret_id = WORKER_ENV["BACKEND_TOKEN_SECRET_ID"]
    assert HOOK_ENV["BACKEND_TOKEN_SECRET_ID"] == secret_id
    secrets = boto3.client("secretsmanager", **aws)
    value = secrets.get_secret_value(SecretId=secret_id)["SecretString"]
    assert json.loads(value) == {"BACKEND_TOKEN": DOTENV["BACKEND_TOKEN"]}
    assert f"secret {secret_id}" in init_output


async def test_triage_check_passes_against_what_the_script_made(
    localstack: LocalStack, init_output: str, backend: TicketServer, tmp_path: Path
) -> None:
    """`triage check` with the worker's settings finds the queue with its DLQ and reads the
    token from Secrets Manager."""
    settings = Settings(
        queue_url=worker_queue_url(localstack),
        aws_endpoint_url=localstack.endpoint,
        backend_token_secret_id=WORKER_ENV["BACKEND_TOKEN_SECRET_ID"],
        backend_base_url=backend.url,
        store_url=f"sqlite:///{tmp_path / 'incidents.db'}",
        metrics="off",
    )
    out = io.StringIO()
    rc = await run_checks(settings, out)
    lines = out.getvalue().splitlines()
    assert rc == 0, out.getvalue()
    assert any(line.startswith("ok    queue") and "with a DLQ" in line for line in lines), lines
    assert any(
        line.startswith("ok    token") and "read from Secrets Manager" in line for line in lines
    ), lines


def test_cloudwatch_needs_nothing_from_the_script(aws: dict[str, Any]) -> None:
    """CloudWatch takes PutMetricData in the worker's namespace with nothing created first."""
    namespace = WORKER_ENV["CLOUDWATCH_NAMESPACE"]
    cloudwatch = boto3.client("cloudwatch", **aws)
    cloudwatch.put_metric_data(
        Namespace=namespace, MetricData=[{"MetricName": "probe", "Value": 1.0, "Unit": "Count"}]
    )
    metrics = cloudwatch.list_metrics(Namespace=namespace)["Metrics"]
    assert [m["MetricName"] for m in metrics] == ["probe"]


def test_state_is_kept_in_this_localstacks_own_directory(
    localstack: LocalStack, aws: dict[str, Any]
) -> None:
    """LocalStack's state (CloudWatch's metrics database) is under this instance's directory, not
    a temp directory shared with the suite's other LocalStacks, each of which empties it as it
    starts."""
    cloudwatch = boto3.client("cloudwatch", **aws)
    cloudwatch.put_metric_data(
        Namespace="triage-state-probe", MetricData=[{"MetricName": "probe", "Value": 1.0}]
    )
    databases = list((localstack.workdir / "tmp").rglob("metrics.db"))
    assert databases, f"no metrics.db under {localstack.workdir / 'tmp'}"


def test_rerun_changes_nothing(
    localstack: LocalStack, init_output: str, aws: dict[str, Any]
) -> None:
    """A second run succeeds and changes nothing: same queues and attributes, the secret keeps
    its first value even when BACKEND_TOKEN differs."""
    sqs = boto3.client("sqs", **aws)
    secrets = boto3.client("secretsmanager", **aws)
    url = worker_queue_url(localstack)
    secret_id = HOOK_ENV["BACKEND_TOKEN_SECRET_ID"]

    def snapshot() -> tuple[Any, ...]:
        return (
            sorted(sqs.list_queues().get("QueueUrls", [])),
            sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"],
            secrets.get_secret_value(SecretId=secret_id)["SecretString"],
            len(secrets.list_secret_version_ids(SecretId=secret_id)["Versions"]),
            [s["Name"] for s in secrets.list_secrets()["SecretList"]],
        )

    before = snapshot()
    env = localstack.client_env(
        **{**HOOK_ENV, "BACKEND_TOKEN": "another-token"}, TRIAGE_INIT_SERVICES="sqs secretsmanager"
    )
    assert run_init(env) == init_output
    after = snapshot()
    # A message sent meanwhile by another test may be counted; nothing else may differ.
    for attrs in (before[1], after[1]):
        for key in list(attrs):
            if key.startswith("ApproximateNumberOf"):
                del attrs[key]
    assert after == before
    assert json.loads(after[2]) == {"BACKEND_TOKEN": DOTENV["BACKEND_TOKEN"]}


async def test_dynamodb_table_matches_the_store(moto_url: str, aws_cli_bin: Path) -> None:
    """On moto, the script's table has the key schema, billing mode and TTL attribute that
    incidents.dynamodb.create_table gives, under the name TRIAGE_STORE_URL uses; a rerun keeps it."""
    table = HOOK_ENV["TRIAGE_TABLE_NAME"]
    assert WORKER_ENV["TRIAGE_STORE_URL"] == f"dynamodb://{table}"
    env = aws_cli_env(moto_url, aws_cli_bin, **HOOK_ENV, TRIAGE_INIT_SERVICES="dynamodb")
    assert run_init(env) == f"table {table}\n"

    session = aioboto3.Session(
        region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test"
    )
    async with session.client("dynamodb", endpoint_url=moto_url) as ddb:
        await create_table(ddb, "reference")

        async def shape(name: str) -> dict[str, Any]:
            described = (await ddb.describe_table(TableName=name))["Table"]
            ttl = (await ddb.describe_time_to_live(TableName=name))["TimeToLiveDescription"]
            return {
                "KeySchema": described["KeySchema"],
                "AttributeDefinitions": sorted(
                    described["AttributeDefinitions"], key=lambda a: a["AttributeName"]
                ),
                "Indexes": [
                    (i["IndexName"], i["KeySchema"], i["Projection"])
                    for i in described.get("GlobalSecondaryIndexes", [])
                ],
                "BillingMode": described["BillingModeSummary"]["BillingMode"],
                "TTL": (ttl["TimeToLiveStatus"], ttl.get("AttributeName")),
                "Status": described["TableStatus"],
            }

        made = await shape(table)
        assert made == await shape("reference")
        assert made["KeySchema"] == [{"AttributeName": "fingerprint", "KeyType": "HASH"}]
        assert made["TTL"] == ("ENABLED", "expires_at")
        created = (await ddb.describe_table(TableName=table))["Table"]["CreationDateTime"]

        assert run_init(env) == f"table {table}\n"
        assert (await ddb.describe_table(TableName=table))["Table"]["CreationDateTime"] == created
        assert await shape(table) == made
        assert sorted((await ddb.list_tables())["TableNames"]) == ["reference", table]
