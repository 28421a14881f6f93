"""The README's examples work as written: its curl lines, run by the real curl against
`triage ingest`, get the answer the README promises, and the daemon reads what they queued.

Each example is copied out of README.md when the test runs, so a README that drifts from the
code breaks a test. Only the gateway's address is changed (the README's host becomes the
test's loopback gateway), and a token the README leaves to the reader comes from the
environment, as the README's shell would have it.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import re
import shlex
import shutil
import subprocess
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import httpx2
import pytest
import yaml
from pydantic import SecretStr

from daemon_harness import TOKEN, Queues
from factories import alert
from ingest_harness import PAYLOADS, TOKENS, ingest_settings, payload, running
from localstack_harness import VENV, aws_cli_env
from programs import missing, program_or_skip
from recording_proxy import RecordingProxy
from test_backend_sink import effect as backend_effect
from test_backend_sink import open_sink as open_backend_sink
from test_operator_api import BEARER, serving
from triage.app import open_configured_store
from triage.aws import Aws
from triage.cli import main
from triage.demo.ticketd import TicketServer
from triage.incidents.store import Routing
from triage.ingest import IngestService
from triage.models import Priority, Ticket
from triage.normalize import normalize_body, recognise_body
from triage.routes import load_router
from triage.settings import Settings, load_settings

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
    """The bodies of the ``` blocks of `text` whose info string is `info` (not empty: a
    closing fence would read as the opening of an untagged block)."""
    assert info
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


def gateway_tokens() -> dict[str, str]:
    """The test gateway's tokens: .env.example's, so the compose example's token works."""
    return {**TOKENS, **env_example_tokens()}


@pytest.fixture
def curl() -> str:
    path = shutil.which("curl")
    if path is None:
        pytest.skip("curl is not installed")
    return path


@pytest.fixture
async def gateway(queues: Queues) -> AsyncIterator[IngestService]:
    """The gateway on a free loopback port, with `gateway_tokens()`."""
    tokens = json.dumps(gateway_tokens())
    settings = ingest_settings(queues.url, queues.endpoint, ingest_tokens=tokens)
    async with running(settings) as service:
        yield service


async def run_curl(command: str, gateway: IngestService, env: dict[str, str]) -> dict[str, Any]:
    """Run the README's curl line in a shell, pointed at `gateway`; its JSON answer.

    `-w` adds the status on a line of its own; `-fsS` stays, so a refusal fails the command."""
    url = f"http://127.0.0.1:{gateway.port}"
    for host in README_GATEWAYS:
        command = command.replace(host, url)
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


def local_gateway_tokens() -> str:
    """The TRIAGE_INGEST_TOKENS the README exports to run the gateway next to the daemon."""
    (block,) = [b for b in fenced(section("### The webhook gateway: `triage ingest`"), "sh")
                if b.startswith("export TRIAGE_INGEST_TOKENS=")]  # fmt: skip
    (value,) = shlex.split(block.splitlines()[0].removeprefix("export TRIAGE_INGEST_TOKENS="))
    return value


async def test_the_scripts_curl_line_is_accepted(curl: str, queues: Queues) -> None:
    """The README's script example, against the gateway run as the README runs it locally
    (its TRIAGE_INGEST_TOKENS), the shell variable it names holding that generic token, gets a
    202 and its body becomes the P2 alert of team data it describes."""
    tokens = local_gateway_tokens()
    settings = ingest_settings(queues.url, queues.endpoint, ingest_tokens=tokens)
    (command,) = curl_lines(section("### Scripts"))
    (variable,) = re.findall(r"\$\{?(\w+)", command)  # the shell variable holding the token
    env = {"PATH": str(Path(curl).parent), variable: json.loads(tokens)["generic"]}
    async with running(settings) as gateway:
        answer = await run_curl(command, gateway, env=env)
    assert (answer["status"], answer["alerts"]) == (202, 1)
    (alert,) = alerts_of(queued(queues)[0])
    assert (alert.title, alert.team, alert.priority.value) == (
        "Nightly backup of orders-db failed",
        "data",
        "medium",
    )
    assert alert.runbook_url == "https://runbooks.example.com/backup"


def grafana_receiver(signed: bool = False) -> dict[str, Any]:
    """The settings of the README's Grafana contact-point provisioning (with `signed`, the
    one that signs its body instead of sending a token)."""
    token_block, signed_block = fenced(section("### Grafana"), "yaml")
    (point,) = yaml.safe_load(signed_block if signed else token_block)["contactPoints"]
    (receiver,) = point["receivers"]
    assert receiver["type"] == "webhook"
    settings: dict[str, Any] = receiver["settings"]
    return settings


async def test_grafanas_signed_contact_point_as_provisioned_is_accepted(
    gateway: IngestService, queues: Queues
) -> None:
    """A body signed as Grafana signs it for the README's HMAC provisioning (the grafana token
    as the secret, the time in its timestamp header, no Authorization) is queued; the same
    signature over another time is refused."""
    webhook = grafana_receiver(signed=True)
    hmac_config = webhook["hmacConfig"]
    assert (
        hmac_config["secret"].startswith("REPLACE_WITH") and "authorization_scheme" not in webhook
    )
    url = webhook["url"].replace(README_GATEWAYS[0], f"http://127.0.0.1:{gateway.port}")
    key = gateway_tokens()["grafana"].encode()
    body = payload("grafana/group-firing.json")
    stamp = str(int(time.time()))
    signature = hmac.new(key, stamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    headers = {
        "Content-Type": "application/json",
        "X-Grafana-Alerting-Signature": signature,
        hmac_config["timestampHeader"]: stamp,
    }
    async with httpx2.AsyncClient(timeout=30) as client:
        accepted = await client.request(webhook["httpMethod"], url, content=body, headers=headers)
        headers[hmac_config["timestampHeader"]] = str(int(stamp) - 1)
        refused = await client.request(webhook["httpMethod"], url, content=body, headers=headers)
    assert (accepted.status_code, refused.status_code) == (202, 401), accepted.text
    assert len(queued(queues)) == 1


async def test_grafanas_provisioned_contact_point_test_button_gets_202_with_no_alerts(
    gateway: IngestService, queues: Queues
) -> None:
    """A request as Grafana sends it for the README's provisioning (its method, URL and
    `Authorization: <scheme> <credentials>`, the grafana token as credentials) carrying the
    contact point's test notification is answered 202 with `"alerts": 0` and a skip reason."""
    webhook = grafana_receiver()
    url = webhook["url"].replace(README_GATEWAYS[0], f"http://127.0.0.1:{gateway.port}")
    token = gateway_tokens()["grafana"]
    assert webhook["authorization_credentials"].startswith("REPLACE_WITH")
    headers = {
        "Authorization": f"{webhook['authorization_scheme']} {token}",
        "Content-Type": "application/json",
    }
    async with httpx2.AsyncClient(timeout=30) as client:
        response = await client.request(
            webhook["httpMethod"],
            url,
            content=payload("grafana/test-notification.json"),
            headers=headers,
        )
    assert response.status_code == 202, response.text
    assert response.json()["alerts"] == 0
    assert response.json()["skipped"]
    assert len(queued(queues)) == 1


async def test_grafanas_basic_auth_with_the_token_as_password_is_accepted(
    gateway: IngestService,
) -> None:
    """The README's other Grafana option, HTTP Basic with the grafana token as the password
    (any user name), is accepted; the token as the user name is not."""
    url = grafana_receiver()["url"].replace(README_GATEWAYS[0], f"http://127.0.0.1:{gateway.port}")
    token = gateway_tokens()["grafana"]
    body = payload("grafana/group-firing.json")
    headers = {"Content-Type": "application/json"}
    async with httpx2.AsyncClient(timeout=30) as client:
        accepted = await client.post(url, content=body, headers=headers, auth=("grafana", token))
        refused = await client.post(url, content=body, headers=headers, auth=(token, ""))
    assert (accepted.status_code, refused.status_code) == (202, 401)


async def test_sentrys_legacy_plugin_url_posts_with_the_generic_token(
    curl: str, gateway: IngestService, queues: Queues
) -> None:
    """The legacy Webhooks plugin's URL as the README writes it (`https://sentry:TOKEN@…/
    v1/alerts/generic`, the generic token as its password) is accepted, and the body is read
    as the Sentry issue's firing alert."""
    (url,) = set(re.findall(r"`(https://sentry:TOKEN@[^`]+)`", section("### Sentry")))
    url = url.replace("TOKEN", gateway_tokens()["generic"])
    url = url.replace("triage-ingest.example.com", f"127.0.0.1:{gateway.port}")
    url = url.replace("https://", "http://")
    body = PAYLOADS / "sentry" / "legacy-plugin.json"
    command = (
        f"curl -fsS {shlex.quote(url)} -H 'Content-Type: application/json' --data-binary @{body}"
    )
    answer = await run_curl(command, gateway, env={"PATH": str(Path(curl).parent)})
    assert (answer["status"], answer["alerts"]) == (202, 1)
    (alert,) = alerts_of(queued(queues)[0])
    assert (alert.source, alert.status.value) == ("sentry", "firing")


async def test_a_sentry_webhook_signed_as_the_readme_says_is_accepted(
    gateway: IngestService, queues: Queues
) -> None:
    """`Sentry-Hook-Signature` = hex HMAC-SHA256 of the raw body keyed with the client secret
    (the tokens' "sentry"), with `Sentry-Hook-Resource`, is accepted; one byte more is 401."""
    text = section("### Sentry")
    assert "`Sentry-Hook-Signature`" in text and "`Sentry-Hook-Resource`" in text
    assert "hex HMAC-SHA256 of the raw" in README
    body = payload("sentry/issue-created.json")
    secret = gateway_tokens()["sentry"].encode()
    signature = hmac.new(secret, body, hashlib.sha256).hexdigest()
    headers = {
        "Sentry-Hook-Signature": signature,
        "Sentry-Hook-Resource": "issue",
        "Content-Type": "application/json",
    }
    url = f"http://127.0.0.1:{gateway.port}/v1/alerts/sentry"
    async with httpx2.AsyncClient(timeout=30) as client:
        accepted = await client.post(url, content=body, headers=headers)
        refused = await client.post(url, content=body + b" ", headers=headers)
    assert (accepted.status_code, accepted.json()["alerts"]) == (202, 1)
    assert refused.status_code == 401


# --- the operator's console ---------------------------------------------------------------


#: The keys of the console's JSON lines whose values the commands shown decide (the others
#: depend on the incident the README imagines: its title, source, tickets, times).
CONSOLE_VALUES = {
    "state",
    "team",
    "flapping",
    "silenced",
    "matchers",
    "active",
    "comment",
    "author",
}


def console_session() -> list[tuple[str, dict[str, Any] | None]]:
    """The README's operator console: each `$ triage …` command with the JSON line the README
    shows after it (None when it shows none)."""
    text = section("## The operator's view")
    (block,) = fenced(text, "console")
    session: list[tuple[str, dict[str, Any] | None]] = []
    for line in block.splitlines():
        if line.startswith("$ triage "):
            session.append((line.removeprefix("$ triage "), None))
        else:
            session[-1] = (session[-1][0], json.loads(line.replace('"…"', "null")))
    return session


def seed_payments_incident() -> str:
    """An open incident of team payments with a backend ticket, in the store the environment
    names, as the daemon would have left it; its fingerprint."""

    async def write() -> str:
        settings = load_settings()
        aws = Aws(settings)
        store = await open_configured_store(settings, aws)
        try:
            begun = await store.begin(alert("api-5xx"), "m1", datetime.now(UTC))
            assert begun.after is not None
            fingerprint = begun.after.fingerprint
            summary = Ticket(title="api-5xx", priority=Priority.HIGH, description="d")
            await store.save_ticket(fingerprint, "m1", summary, Routing("default", "payments", {}))
            await store.confirm(fingerprint, "m1", "backend", "T-812", finish=True)
            return fingerprint
        finally:
            await store.aclose()
            await aws.aclose()

    return asyncio.run(write())


def test_the_operators_console_session_runs_as_shown(
    tmp_path: Path,
    backend: TicketServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Each command of the README's operator console runs (exit 0) against a store holding an
    open payments incident, and a JSON line the README shows has the same keys as the one
    printed, and the same values for what the commands decide (`CONSOLE_VALUES`)."""
    monkeypatch.setenv("TRIAGE_STORE_URL", f"sqlite:///{tmp_path / 'triage.db'}")
    monkeypatch.setenv("BACKEND_BASE_URL", backend.url)
    monkeypatch.setenv("BACKEND_TOKEN", TOKEN)
    monkeypatch.setenv("TRIAGE_LOG_LEVEL", "warning")
    monkeypatch.setenv("USER", "alice")
    fingerprint = seed_payments_incident()
    ids: dict[str, str] = {}
    for command, shown in console_session():
        argv = shlex.split(command.replace("9f3c2b71a0d4", fingerprint))
        argv = [ids.get(word, word) for word in argv]
        code = main(argv)
        out, err = capsys.readouterr()
        assert code == 0, (command, err)
        printed = [json.loads(line) for line in out.splitlines()]
        if shown is None:
            continue
        (line,) = printed
        assert list(line) == list(shown), command
        if "matchers" in shown:
            ids[shown["id"]] = line["id"]
        for key in CONSOLE_VALUES & set(shown):
            assert line[key] == shown[key], (command, key)


# --- CloudWatch alarms → SNS → SQS, with the real aws CLI --------------------------------


def aws_cli_dir() -> Path:
    """The directory of an `aws` CLI: PATH's, else the one the LocalStack tests' venv pins."""
    found = shutil.which("aws")
    if found is not None:
        return Path(found).parent
    if not (VENV / "bin" / "aws").exists():
        missing("the aws CLI is not installed (pip install awscli, or run the localstack tests)")
    return VENV / "bin"


def cloudwatch_notification(alarm: dict[str, Any], state: str) -> dict[str, Any]:
    """The message CloudWatch publishes to an alarm action for `alarm` entering `state`."""
    return {
        "AlarmName": alarm["AlarmName"],
        "AlarmDescription": alarm["AlarmDescription"],
        "AWSAccountId": alarm["AlarmArn"].split(":")[4],
        "NewStateValue": state,
        "NewStateReason": "Threshold Crossed: 3 datapoints were greater than the threshold (50.0).",
        "StateChangeTime": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000"),
        "Region": "US East (N. Virginia)",
        "AlarmArn": alarm["AlarmArn"],
        "OldStateValue": "OK" if state == "ALARM" else "ALARM",
        "Trigger": {
            "MetricName": alarm["MetricName"],
            "Namespace": alarm["Namespace"],
            "Statistic": alarm["Statistic"].upper(),
            "Dimensions": [{"name": d["Name"], "value": d["Value"]} for d in alarm["Dimensions"]],
            "Period": alarm["Period"],
            "EvaluationPeriods": alarm["EvaluationPeriods"],
            "ComparisonOperator": alarm["ComparisonOperator"],
            "Threshold": alarm["Threshold"],
        },
    }


#: The README's aws commands name no endpoint (they are meant for AWS). The tests point them at
#: moto by `--endpoint-url`: aws CLI v1 sends SQS calls to queue.amazonaws.com whatever
#: AWS_ENDPOINT_URL says (its SSL common-name override), so the variable alone is not enough.
AWS_AT_ENDPOINT = 'aws() { command aws --endpoint-url "$AWS_ENDPOINT_URL" "$@"; }\n'


def run_aws_block(script: str, env: dict[str, str]) -> str:
    """Run a README shell block (with the aws CLI) in sh -e; its stdout."""
    result = subprocess.run(
        ["sh", "-ec", AWS_AT_ENDPOINT + script],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def alarm_the_cli_asks_for(command: str, topic: str, env: dict[str, str]) -> dict[str, Any]:
    """The PutMetricAlarm parameters the aws CLI sends for `command`, with $TOPIC = `topic`.

    Today's CLI speaks CloudWatch's JSON protocol, which moto's server does not (HTTP 500), so
    the CLI's request goes to a recorder and its parameters are given to moto by boto3."""
    recorder = RecordingProxy()
    recorder.start()
    try:
        run_aws_block(command, {**env, "TOPIC": topic, "AWS_ENDPOINT_URL": recorder.url})
        (request,) = recorder.requests
    finally:
        recorder.stop()
    assert dict(request.headers)["X-Amz-Target"].endswith(".PutMetricAlarm")
    parameters: dict[str, Any] = json.loads(request.body)
    return parameters


def test_the_cloudwatch_set_up_delivers_alarms_with_or_without_raw_delivery(
    queues: Queues,
) -> None:
    """The README's CloudWatch commands, run by the aws CLI against moto, make a topic that
    delivers to the queue (as written, and again with RawMessageDelivery=true to a second queue)
    and an alarm; the notifications CloudWatch publishes for it become one incident of team
    payments at P1 with its runbook, ALARM firing it and OK resolving it, either way."""
    (block,) = fenced(section("### CloudWatch alarms"), "sh")
    assert "RawMessageDelivery=false" in block
    sqs = queues.client()
    raw_url = sqs.create_queue(QueueName="alerts-raw")["QueueUrl"]
    env = aws_cli_env(queues.endpoint, aws_cli_dir(), ALERT_TRIAGE_QUEUE_URL=queues.url)
    subscribe, put_alarm = block.split("\naws cloudwatch", 1)
    topic = run_aws_block(subscribe + '\necho "$TOPIC"', env).split()[-1]
    raw = subscribe[subscribe.index("aws sns subscribe") :].replace("=false", "=true")
    raw_arn = sqs.get_queue_attributes(QueueUrl=raw_url, AttributeNames=["QueueArn"])
    run_aws_block(raw, {**env, "TOPIC": topic, "QUEUE_ARN": raw_arn["Attributes"]["QueueArn"]})
    cloudwatch = boto3.client("cloudwatch", endpoint_url=queues.endpoint, region_name="us-east-1")
    cloudwatch.put_metric_alarm(**alarm_the_cli_asks_for("aws cloudwatch" + put_alarm, topic, env))

    (alarm,) = cloudwatch.describe_alarms(AlarmNames=["checkout-api-5xx-rate"])["MetricAlarms"]
    assert alarm["AlarmActions"] == alarm["OKActions"] == [topic]
    sns = boto3.client("sns", endpoint_url=queues.endpoint, region_name="us-east-1")
    for state in ("ALARM", "OK"):
        message = json.dumps(cloudwatch_notification(alarm, state))
        subject = f'{state}: "{alarm["AlarmName"]}" in US East (N. Virginia)'
        sns.publish(TopicArn=topic, Message=message, Subject=subject)

    for url in (queues.url, raw_url):
        bodies = receive_all(sqs, url, 2)
        alerts = [a for body in bodies for a in alerts_of(body)]
        assert sorted(a.status.value for a in alerts) == ["firing", "resolved"], url
        assert len({a.fingerprint for a in alerts}) == 1
        assert {(a.title, a.team, a.priority.value) for a in alerts} == {
            ("checkout-api-5xx-rate", "payments", "high")
        }
        assert {a.runbook_url for a in alerts} == {"https://runbooks.example.com/5xx"}
    envelope, raw = (receive_all(sqs, u, 2)[0] for u in (queues.url, raw_url))
    assert json.loads(envelope)["Type"] == "Notification"
    assert "Type" not in json.loads(raw)


def receive_all(sqs: Any, url: str, count: int) -> list[str]:
    """`count` bodies of the queue at `url` (left in place), waiting for SNS's deliveries."""
    bodies: dict[str, str] = {}
    deadline = time.monotonic() + 10
    while len(bodies) < count and time.monotonic() < deadline:
        answer = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0, WaitTimeSeconds=1
        )
        bodies.update((m["MessageId"], m["Body"]) for m in answer.get("Messages", []))
    assert len(bodies) == count, (url, bodies)
    return list(bodies.values())


def test_the_eventbridge_rule_delivers_the_services_it_names_raw(queues: Queues) -> None:
    """The README's EventBridge commands, run by the aws CLI against moto, make a rule whose
    target is the queue: a GuardDuty finding arrives raw (no input transformer) and is read as
    that finding; an event of a source the pattern leaves out never arrives."""
    section_text = section("### AWS Health, GuardDuty, Security Hub and other EventBridge events")
    (block,) = fenced(section_text, "sh")
    sqs = queues.client()
    arn = sqs.get_queue_attributes(QueueUrl=queues.url, AttributeNames=["QueueArn"])
    env = aws_cli_env(queues.endpoint, aws_cli_dir(), QUEUE_ARN=arn["Attributes"]["QueueArn"])
    run_aws_block(block, env)

    finding = json.loads(payload("eventbridge/guardduty-finding.json"))
    stopped = json.loads(payload("eventbridge/ecs-task-stopped.json"))
    events = boto3.client("events", endpoint_url=queues.endpoint, region_name="us-east-1")
    entries = [
        {"Source": e["source"], "DetailType": e["detail-type"], "Detail": json.dumps(e["detail"])}
        for e in (stopped, finding)
    ]
    assert events.put_events(Entries=entries)["FailedEntryCount"] == 0
    (body,) = receive_all(sqs, queues.url, 1)
    event = json.loads(body)
    assert (event["source"], event["detail"]) == ("aws.guardduty", finding["detail"])
    # moto's envelope leaves out `account`, which EventBridge always sets.
    event.setdefault("account", finding["account"])
    (alert,) = alerts_of(json.dumps(event))
    assert (alert.source, alert.identity["finding"]) == ("eventbridge", finding["detail"]["id"])


# --- Grafana's SNS contact-point template, rendered by Go's text/template --------------------

#: Fields of Grafana's alert that Alertmanager's (amtool's example data) lacks, each stood in by
#: one of the same type, so amtool can render the README's Grafana template.
GRAFANA_ONLY_FIELDS = ("SilenceURL", "DashboardURL", "PanelURL", "ValueString")


def grafana_sns_template() -> str:
    """The README's Grafana notification template (the un-tagged block of the section)."""
    text = section("### Grafana")
    start = text.index("```\n{{ define") + len("```\n")
    return text[start : text.index("```", start)]


def test_grafanas_sns_template_renders_a_body_read_as_grafana(tmp_path: Path) -> None:
    """The README's Grafana SNS template, rendered by amtool (Go's text/template with the
    functions Grafana's templates share), is JSON with Grafana's webhook keys, and triage reads
    every alert of it as a Grafana alert."""
    amtool = program_or_skip("amtool", install="apt-get install prometheus-alertmanager")
    template = grafana_sns_template()
    for field in GRAFANA_ONLY_FIELDS:
        assert f"$a.{field}" in template
        template = template.replace(f"$a.{field}", "$a.GeneratorURL")
    (tmp_path / "grafana.tmpl").write_text(template)
    rendered = subprocess.run(
        [amtool, "template", "render", "--template.glob=grafana.tmpl",
         '--template.text={{ template "triage.grafana.sns" . }}'],
        cwd=tmp_path, capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert rendered.returncode == 0, rendered.stderr
    body = json.loads(rendered.stdout)
    assert body["version"] == "1"
    assert {"silenceURL", "dashboardURL", "panelURL", "valueString"} <= set(body["alerts"][0])
    # amtool's example data says "alertstatus" where Grafana says firing or resolved.
    recognised = recognise_body(rendered.stdout.replace('"alertstatus"', '"firing"'))
    assert recognised.format == "grafana"
    assert len(recognised.normalized.alerts) == len(body["alerts"]) > 1


# --- routes files --------------------------------------------------------------------------


def test_every_routes_file_the_readme_shows_loads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each ```toml block of the README's Routing section is a routes file the daemon accepts
    (the webhook variables it names set), with the routes and sinks it shows."""
    blocks = fenced(section("## Routing and backpressure"), "toml")
    assert len(blocks) >= 2
    for block in blocks:
        for variable in re.findall(r'_env = "(\w+)"', block):
            monkeypatch.setenv(variable, "https://hooks.slack.com/services/T0/B0/readme")
        path = tmp_path / "routes.toml"
        path.write_text(block)
        settings = Settings(
            routes_file=str(path),
            github_repository="acme/ops",
            github_token=SecretStr("ghp_" + "x" * 36),
            slack_webhook_url=SecretStr("https://hooks.slack.com/services/T0/B0/default"),
        )
        router = load_router(settings)
        shown = re.findall(r'^name = "([\w-]+)"', block, flags=re.M)
        assert [rule.route.name for rule in router.rules] == shown


# --- the ticket backend's contract ---------------------------------------------------------


async def test_the_backend_body_the_readme_shows_is_what_the_sink_posts(
    backend: TicketServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The README's example body of a new ticket has the keys, in order, that the backend sink
    posts for an incident, with the headers it names."""
    (block,) = fenced(section("## The ticket backend"), "json")
    shown = json.loads(block)
    monkeypatch.setenv("BACKEND_TOKEN", backend.token)
    async with open_backend_sink(backend.url) as sink:
        await sink.apply(backend_effect())
    (ticket,) = backend.tickets
    assert list(ticket["body"]) == list(shown)
    text = section("## The ticket backend")
    for header in ("authorization", "content-type", "idempotency-key"):
        assert header in ticket["headers"]
        assert f"`{header.title()}" in text or f"`{header.capitalize()}" in text


# --- the operator API ----------------------------------------------------------------------


def api_rows() -> list[tuple[str, str, str]]:
    """The README's API table: (method, path, the answer cell)."""
    start = README.index("| method and path | answer |")
    rows = README[start : README.index("\n\n", start)].splitlines()[2:]
    out = []
    for row in rows:
        first, answer = (c.strip() for c in re.split(r"(?<!\\)\| ", row)[1:3])
        method, path = first.strip("`").split(" ", 1)
        out.append((method, path.replace("\\|", "|"), answer))
    return out


def api_request(path: str, fingerprint: str, silence_id: str) -> str:
    """A README API path made concrete: the first of each `a|b|c`, the optional part taken,
    `{fingerprint}`, `{id}`, `T` and `N` given values."""
    path = re.sub(r"\[(.*?)\]", r"\1", path)
    path = re.sub(r"=(\w+)(\|\w+)+", r"=\1", path)
    path = (
        path.replace("team=T", "team=payments")
        .replace("limit=N", "limit=10")
        .replace("offset=N", "offset=0")
    )
    return path.replace("{fingerprint}", fingerprint).replace("{id}", silence_id)


async def test_every_api_call_the_readme_shows_answers_as_it_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each row of the README's API table, made concrete (its query, its POST body), answers
    with the status and the top-level keys the row names, with the bearer header."""
    monkeypatch.setenv("TRIAGE_STORE_URL", f"sqlite:///{tmp_path / 'triage.db'}")
    fingerprint = await asyncio.to_thread(seed_payments_incident)
    settings = load_settings()
    aws = Aws(settings)
    store = await open_configured_store(settings, aws)
    silence_id = ""
    try:
        async with serving(store) as client:
            for method, path, answer in api_rows():
                url = api_request(path, fingerprint, silence_id)
                body = re.search(r"`(\{\"matchers\".*?\})`", answer)
                content = body.group(1).replace("…", "readme") if body else None
                response = await client.request(method, url, content=content, headers=BEARER)
                status = 201 if method == "POST" else 200
                assert response.status_code == status, (method, url, response.text)
                shown = re.match(r"`\{(\"\w+\")", answer)
                if shown:
                    assert json.loads(shown.group(1)) in response.json(), (method, url)
                if "recent history" in answer:
                    assert response.json()["history"], url
                if method == "POST":
                    silence_id = response.json()["id"]
    finally:
        await store.aclose()
        await aws.aclose()
