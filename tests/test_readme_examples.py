"""The README's examples work as written: its curl lines, run by the real curl against
`triage ingest`, get the answer the README promises, and the daemon reads what they queued.

Each example is copied out of README.md when the test runs, so a README that drifts from the
code breaks a test. Only the gateway's address is changed (the README's host becomes the
test's loopback gateway), and a token the README leaves to the reader comes from the
environment, as the README's shell would have it.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from daemon_harness import Queues
from ingest_harness import TOKENS, ingest_settings, running
from triage.ingest import IngestService
from triage.normalize import normalize_body

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
ENV_EXAMPLE = (ROOT / ".env.example").read_text(encoding="utf-8")

#: The hosts the README's examples name for the gateway.
README_GATEWAYS = ("https://triage-ingest.example.com", "http://127.0.0.1:8081")


def section(heading: str) -> str:
    """The README's text under `heading` (a whole heading line), up to the next heading of the
    same or a higher level."""
    level = heading.split(" ", 1)[0]
    start = README.index(f"\n{heading}\n") + 1
    ends = [README.find(f"\n{'#' * n} ", start + len(heading)) for n in range(1, len(level) + 1)]
    found = [end for end in ends if end != -1]
    return README[start : min(found) if found else len(README)]


def fenced(text: str, info: str) -> list[str]:
    """The bodies of the ``` blocks of `text` whose info string is `info`."""
    return re.findall(rf"^```{re.escape(info)}\n(.*?)^```$", text, flags=re.S | re.M)


def curl_lines(text: str) -> list[str]:
    """The ```sh blocks of `text` that are one `curl …` command (a quoted body may span
    lines, as the shell reads it)."""
    return [block.strip() for block in fenced(text, "sh") if block.startswith("curl ")]


def env_example_tokens() -> dict[str, str]:
    """The gateway tokens .env.example gives the compose stack."""
    line = next(x for x in ENV_EXAMPLE.splitlines() if x.startswith("TRIAGE_INGEST_TOKENS="))
    tokens: dict[str, str] = json.loads(line.split("=", 1)[1])
    return tokens


@pytest.fixture
def curl() -> str:
    path = shutil.which("curl")
    if path is None:
        pytest.skip("curl is not installed")
    return path


@pytest.fixture
async def gateway(queues: Queues) -> AsyncIterator[IngestService]:
    """The gateway on a free loopback port with the harness's tokens and .env.example's."""
    tokens = {**TOKENS, **env_example_tokens()}
    settings = ingest_settings(queues.url, queues.endpoint, ingest_tokens=json.dumps(tokens))
    async with running(settings) as service:
        yield service


async def run_curl(command: str, gateway: IngestService, env: dict[str, str]) -> dict[str, Any]:
    """Run the README's curl line in a shell, pointed at `gateway`; its JSON answer.

    `-w` adds the status on a line of its own; `-fsS` stays, so a refusal fails the command."""
    url = f"http://127.0.0.1:{gateway.port}"
    for host in README_GATEWAYS:
        command = command.replace(host, url)
    assert url in command, command
    process = await asyncio.create_subprocess_exec(
        "sh",
        "-c",
        command + " -w '\\n%{http_code}'",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode == 0, (command, out, err)
    body, status = out.decode().rsplit("\n", 1)
    answer: dict[str, Any] = json.loads(body)
    answer["status"] = int(status)
    return answer


def queued(queues: Queues) -> list[str]:
    """The bodies now on the queue (left in place)."""
    response = queues.client().receive_message(
        QueueUrl=queues.url, MaxNumberOfMessages=10, VisibilityTimeout=0
    )
    return [m["Body"] for m in response.get("Messages", [])]


def alerts_of(body: str) -> list[Any]:
    """What the daemon makes of one queued body: its canonical alerts."""
    return list(normalize_body(body).alerts)


async def test_the_compose_stacks_curl_line_is_accepted_with_env_example_token(
    curl: str, gateway: IngestService, queues: Queues
) -> None:
    """The README's compose curl (no Content-Type, .env.example's generic token) gets a 202
    for one alert, and the daemon reads the queued body as that alert."""
    (command,) = curl_lines(section("### The webhook gateway: `triage ingest`"))
    answer = await run_curl(command, gateway, env={"PATH": str(Path(curl).parent)})
    assert (answer["status"], answer["alerts"]) == (202, 1)
    (alert,) = alerts_of(queued(queues)[0])
    assert alert.title == "Hello from the gateway"


async def test_the_scripts_curl_line_is_accepted(
    curl: str, gateway: IngestService, queues: Queues
) -> None:
    """The README's script example, with $TRIAGE_GENERIC_TOKEN holding the generic token,
    gets a 202 and its body becomes the P2 alert of team data it describes."""
    (command,) = curl_lines(section("### Scripts"))
    env = {"PATH": str(Path(curl).parent), "TRIAGE_GENERIC_TOKEN": env_example_tokens()["generic"]}
    answer = await run_curl(command, gateway, env=env)
    assert (answer["status"], answer["alerts"]) == (202, 1)
    (alert,) = alerts_of(queued(queues)[0])
    assert (alert.title, alert.team, alert.priority.value) == (
        "Nightly backup of orders-db failed",
        "data",
        "medium",
    )
    assert alert.runbook_url == "https://runbooks.example.com/backup"
