"""The webhook gateway's tokens as `triage check` reads them from Secrets Manager (moto server)
while the secret is rotated: the version staged `AWSPENDING` is not the tokens until it is
`AWSCURRENT`, and once the rotation finishes the check reads the new version, as the backend
token is read (`test_secrets_rotation.py`); a secret saved with a byte-order mark reads too."""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from daemon_harness import Queues, settings_for
from ingest_harness import TOKENS
from triage.ops.check import run_checks

SECRET = "triage/ingest-rotated"
BEFORE = {"generic": TOKENS["generic"]}
AFTER = {"grafana": TOKENS["grafana"]}


def check_line(queues: Queues, tmp_path: Path) -> str:
    """`triage check`'s one line about the ingest tokens."""
    settings = settings_for(
        queues, "http://127.0.0.1:9", tmp_path / "t.db", ingest_tokens_secret_id=SECRET
    )
    out = io.StringIO()
    asyncio.run(run_checks(settings, out))
    (line,) = [line for line in out.getvalue().splitlines() if line.split()[1:2] == ["ingest"]]
    return line


@pytest.fixture
def secrets(queues: Queues) -> Any:
    client = boto3.client("secretsmanager", endpoint_url=queues.endpoint, region_name="us-east-1")
    client.create_secret(Name=SECRET, SecretString=json.dumps(BEFORE))
    return client


def stage_pending(secrets: Any) -> str:
    """Stage AFTER as AWSPENDING (a rotation's createSecret step); its version id."""
    put = secrets.put_secret_value(
        SecretId=SECRET, SecretString=json.dumps(AFTER), VersionStages=["AWSPENDING"]
    )
    version: str = put["VersionId"]
    return version


def finish(secrets: Any, version: str) -> None:
    """Move AWSCURRENT to `version` (a rotation's finishSecret step)."""
    described = secrets.describe_secret(SecretId=SECRET)
    current = next(
        v for v, stages in described["VersionIdsToStages"].items() if "AWSCURRENT" in stages
    )
    secrets.update_secret_version_stage(
        SecretId=SECRET,
        VersionStage="AWSCURRENT",
        MoveToVersionId=version,
        RemoveFromVersionId=current,
    )


def test_check_reads_the_current_tokens_while_the_next_are_pending(
    queues: Queues, secrets: Any, tmp_path: Path
) -> None:
    """While a rotation has staged new tokens as AWSPENDING, the check reads the AWSCURRENT
    ones, which the senders use today."""
    stage_pending(secrets)
    assert check_line(queues, tmp_path).startswith("ok    ingest   tokens for generic from")


def test_check_reads_the_new_tokens_once_the_rotation_finishes(
    queues: Queues, secrets: Any, tmp_path: Path
) -> None:
    """After finishSecret moves AWSCURRENT to the new version, the check reads that version
    (an emulator's unnamed default stayed on the first version, so the check passed tokens the
    gateway no longer had, or failed tokens it did)."""
    finish(secrets, stage_pending(secrets))
    assert check_line(queues, tmp_path).startswith("ok    ingest   tokens for grafana from")


def test_check_reads_tokens_saved_with_a_byte_order_mark(
    queues: Queues, secrets: Any, tmp_path: Path
) -> None:
    """A secret uploaded from a file an editor saved with a UTF-8 byte-order mark is the
    tokens' JSON all the same, as the gateway reads it."""
    secrets.put_secret_value(SecretId=SECRET, SecretString="\ufeff" + json.dumps(AFTER))
    assert check_line(queues, tmp_path).startswith("ok    ingest   tokens for grafana from")
