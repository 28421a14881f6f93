"""An audit of this session's new code for hostile text (an alert's, or a server's answer)
that leaks or is not escaped: each test feeds a credential-looking value, control characters,
a forged line or markup through one new path and checks what leaves the process."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from daemon_harness import Queues, daemon_env, run_in_process, settings_for
from fault_proxy import FaultProxy
from hostile_server import answer, hostile
from source_samples import Samples, run
from test_bedrock_eventstream import START, _exception, _stream
from test_github_check_issue_write import ReadOnlyIssuesGitHub, github_line
from test_summarise_hostile_answers import events, logs
from test_summarise_hostile_more import HOSTILE, _settings, _ticket_through, deterministic
from triage.errors import ConfigError
from triage.ingest.auth import BASIC_CHALLENGE, BEARER_CHALLENGE, challenge
from triage.ingest_tokens import parse_tokens, read_failure
from triage.logs import MAX_LINE_BYTES, configure_logging
from triage.ops.check import run_checks
from triage.redact import Redactor
from triage.settings import Settings
from triage.sqs.inbox import message_from

#: Made-up credentials of shapes the redactor knows.
GITHUB_TOKEN_LIKE = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
#: What a hostile answer writes to forge a second line of output (and to act on a terminal).
FORGED = "\r\nok    github   all fine\x1b]52;c;SGVsbG8=\x07\x1b[2J"


__all__ = ["logs"]  # a fixture, used by name


def _logged(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


@pytest.fixture
def json_logs() -> io.StringIO:
    """The process's JSON log lines, through the real processors (redaction included)."""
    stream = io.StringIO()
    configure_logging("json", "info", stream)
    return stream


# --- SQS: the MessageId every log line of a message is bound to ---------------------------------


def test_a_message_id_of_no_ids_shape_is_never_logged_as_it_came(
    json_logs: io.StringIO,
) -> None:
    """A MessageId an SQS endpoint (a stand-in, a proxy) wrote as a credential is not what the
    log lines about the message carry: `message_id` is exempt from the log's redaction."""
    entry = {
        "MessageId": GITHUB_TOKEN_LIKE,
        "ReceiptHandle": "handle-1",
        "Body": "{}",
        "Attributes": {"ApproximateReceiveCount": "not a count"},
    }
    message_from(entry)
    lines = _logged(json_logs)
    assert [line["event"] for line in lines] == ["message.unreadable_attribute"]
    assert GITHUB_TOKEN_LIKE not in json_logs.getvalue()


# --- the gateway's tokens: an unknown source's name ------------------------------------------------


@pytest.mark.parametrize(
    "key",
    ["correcthorsebattery", "CORRECTHORSEBATTERY", "Correcthorsebattery", "tr1age-ingest-token"],
)
def test_a_token_written_as_a_sources_name_is_never_quoted(key: str) -> None:
    """A token of the gateway's length written where its source's name goes (the JSON inverted)
    is named by its length only, however plain it looks: no name shown is long enough to be a
    token the gateway would take."""
    with pytest.raises(ConfigError) as refused:
        parse_tokens(json.dumps({key: "grafana"}), "TRIAGE_INGEST_TOKENS")
    assert key not in str(refused.value)
    assert f"({len(key)} characters)" in str(refused.value)


def test_a_misspelt_source_is_still_named_with_its_suggestion() -> None:
    """A short misspelt source name is shown, with the source it was a typo of."""
    with pytest.raises(ConfigError, match=r"grafna.*did you mean 'grafana'"):
        parse_tokens(json.dumps({"grafna": "x" * 20}), "TRIAGE_INGEST_TOKENS")


# --- triage check: GitHub's refusal of the write probe --------------------------------------------


class HostileRefusalGitHub(ReadOnlyIssuesGitHub):
    """The stub refusing creates in read-only repositories with a message that quotes a
    credential and tries to forge a second check line and act on the terminal."""

    def _create_issue(self, actor: str, params: dict[str, str], query: Any, body: Any) -> Any:
        if params["repo"] in self.read_only:
            said = f"Resource not accessible {GITHUB_TOKEN_LIKE}{FORGED} [x](javascript:alert(1))"
            return 403, {"message": said}, {}
        return super()._create_issue(actor, params, query, body)


async def test_a_hostile_write_refusal_is_one_redacted_inert_check_line(tmp_path: Path) -> None:
    """GitHub's 403 to the write probe, quoting a credential, CR LF and terminal escapes: the
    check prints one `github` FAIL line with the credential redacted and no control character."""
    server = HostileRefusalGitHub(
        tokens={"t-bot": "triage-bot"}, repositories=("acme/ops", "acme/payments")
    )
    server.read_only = frozenset({"acme/payments"})
    with server as github:
        line = await github_line(github, tmp_path)
    assert line.startswith("FAIL  github   acme/payments: GitHub refuses")
    assert GITHUB_TOKEN_LIKE not in line
    assert line.isprintable()
    assert "\x1b" not in line and "\r" not in line


# --- Librato: the test notification's skip --------------------------------------------------------


def test_a_librato_test_notifications_skip_detail_is_redacted_and_one_line() -> None:
    """A test notification whose alert name holds a credential, CR LF and a terminal escape is
    skipped with a detail (logged, and printed by `triage normalize`) that holds none of them."""
    body = Samples("librato").body("test.json")
    body["alert"]["name"] = f"load{FORGED} token={GITHUB_TOKEN_LIKE}"
    [skipped] = run(body).skipped
    assert skipped.reason == "test_notification"
    assert GITHUB_TOKEN_LIKE not in skipped.detail
    assert skipped.detail.isprintable()


# --- CloudWatch: a per-time-series alarm's own ALARM, skipped -------------------------------------


def test_a_per_contributor_skip_detail_holds_no_credential_of_the_alarm() -> None:
    """The alarm's own ALARM of a GROUP BY alarm, its name holding a credential, CR LF and an
    escape, is skipped with a detail that quotes none of them."""
    body = Samples("cloudwatch").body("sns-contributor.json")
    alarm = json.loads(body["Message"])
    alarm.pop("AlarmContributorId", None)
    alarm.pop("AlarmContributorAttributes", None)
    alarm["AlarmName"] = f"tables{FORGED} {GITHUB_TOKEN_LIKE}"
    alarm.pop("AlarmArn", None)
    body["Message"] = json.dumps(alarm)
    [skipped] = run(body).skipped
    assert skipped.reason == "per_contributor"
    assert GITHUB_TOKEN_LIKE not in skipped.detail
    assert skipped.detail.isprintable()


def test_a_per_contributor_skip_detail_redacts_an_account_written_as_a_credential() -> None:
    """An SNS alarm without an ARN whose AWSAccountId is a credential: the skip's detail (which
    names the account and Region) quotes no credential."""
    body = Samples("cloudwatch").body("sns-contributor.json")
    alarm = json.loads(body["Message"])
    alarm.pop("AlarmContributorId", None)
    alarm.pop("AlarmContributorAttributes", None)
    alarm.pop("AlarmArn", None)
    alarm["AWSAccountId"] = GITHUB_TOKEN_LIKE
    body["Message"] = json.dumps(alarm)
    [skipped] = run(body).skipped
    assert skipped.reason == "per_contributor"
    assert GITHUB_TOKEN_LIKE not in skipped.detail


# --- the gateway's 401 challenge ------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": f"Basic {GITHUB_TOKEN_LIKE}\r\nSet-Cookie: a=b", "Accept": "text/html"},
        {"Authorization": f"Bearer x{FORGED}", "Sec-Fetch-Mode": "navigate\r\nX: y"},
        {"Authorization": "Basic " + "A" * 100_000, "Accept": "text/html" * 1_000},
        {"Authorization": "b\u0430sic x", "Sec-Fetch-Mode": "NAVIGATE"},
    ],
)
def test_a_401_challenge_never_echoes_what_the_request_sent(headers: dict[str, str]) -> None:
    """Whatever the refused request's Authorization, Accept and Sec-Fetch-Mode hold (a
    credential, CR LF, a huge value, a look-alike letter), the challenge is one of the two fixed
    ones: nothing of the request is reflected into the 401's headers."""
    said = challenge(headers)
    assert said in (BEARER_CHALLENGE, f"{BEARER_CHALLENGE}, {BASIC_CHALLENGE}")


# --- Bedrock: an event stream's exception named like a credential -------------------------------


async def test_an_event_stream_exception_named_as_a_credential_is_never_logged(
    logs: io.StringIO,
) -> None:
    """An event stream ending with an exception whose type is an identifier spelling a
    credential (the refusal names identifiers as they are): the fallback ticket is written and
    no log line holds the credential."""
    stream = _stream(START, _exception(GITHUB_TOKEN_LIKE, f"said {GITHUB_TOKEN_LIKE}{FORGED}"))
    async with hostile(stream) as server:
        ticket, _ = await _ticket_through(_settings("bedrock", server.url))
    assert ticket == deterministic(HOSTILE)
    [said] = [e["error"] for e in events(logs) if e["event"] == "llm.error"]
    assert said.endswith("an exception event: unnamed"), said
    assert GITHUB_TOKEN_LIKE not in logs.getvalue()


def test_a_huge_message_id_never_makes_a_log_line_past_its_bound(json_logs: io.StringIO) -> None:
    """A MessageId of 100,000 characters (a stand-in's or proxy's answer): the line about the
    message still fits MAX_LINE_BYTES, so a log shipper does not cut it into pieces that are no
    JSON."""
    entry = {
        "MessageId": "m" * 100_000,
        "ReceiptHandle": "handle-1",
        "Body": "{}",
        "Attributes": {"ApproximateReceiveCount": "not a count"},
    }
    message_from(entry)
    [line] = json_logs.getvalue().splitlines()
    assert len(line.encode()) <= MAX_LINE_BYTES


# --- redaction: this session's quoted values holding the other kind of quote ------------------

#: A made-up password of no known shape: only the command around it says it is one.
PASSWORD = "Zq7xK9pL2vWm"


@pytest.mark.parametrize(
    "command",
    [
        f'curl -u "admin:it\'s{PASSWORD}" https://api.example.com',
        f"curl --user 'admin:pa\"ss{PASSWORD}' https://api.example.com",
        f'sshpass -p "it\'s{PASSWORD}" ssh db-1',
        f'mysql -u root -p"it\'s{PASSWORD}" orders',
        f"mysql -u root -p'pa\"ss{PASSWORD}' orders",
    ],
)
@pytest.mark.parametrize("inside_json", [False, True], ids=["raw", "json-string"])
def test_a_quoted_command_password_holding_the_other_quote_is_redacted_whole(
    command: str, inside_json: bool
) -> None:
    """A command's password quoted whole, holding the other kind of quote (the case this
    session's redaction rules were taught for pairs and setters), as written and inside a JSON
    string: no piece of the password is left."""
    text = json.dumps(command)[1:-1] if inside_json else command
    assert PASSWORD not in Redactor().text(text)


@pytest.mark.parametrize(
    "command",
    [
        f"curl -U admin:{PASSWORD} https://api.example.com",
        f"curl --proxy-user admin:{PASSWORD} https://api.example.com",
    ],
)
def test_curls_proxy_user_password_is_redacted(command: str) -> None:
    """curl's proxy credentials, `-U user:password` and `--proxy-user user:password`, lose
    the password as `-u` does."""
    assert PASSWORD not in Redactor().text(command)


@pytest.mark.parametrize("operator", ["||", "??"])
@pytest.mark.parametrize("whole", [True, False], ids=["json-string", "its-inside"])
def test_a_secrets_literal_fallback_opening_a_json_string_is_redacted(
    operator: str, whole: bool
) -> None:
    """`"<literal>" || process.env.DB_PASSWORD` written inside a JSON string (a log line or
    payload that quotes code) loses its literal wherever the string stands, as it does inside
    `{"d": "…"}`."""
    quoted = json.dumps(f'"{PASSWORD}" {operator} process.env.DB_PASSWORD')
    text = quoted if whole else quoted[1:-1]
    assert PASSWORD not in Redactor().text(text)


# --- the gateway's tokens: what a failed read of their secret says --------------------------------


@pytest.mark.parametrize(
    "code",
    [
        GITHUB_TOKEN_LIKE,
        f"Throttling{FORGED}",
        "E" * 100_000,
    ],
)
def test_a_secrets_managers_error_code_is_told_only_when_it_reads_as_one(code: str) -> None:
    """An answer to GetSecretValue (a stand-in's, a proxy's) whose error code is a credential,
    holds CR LF and escapes, or is huge: what the gateway logs and `triage check` prints names
    no part of it beyond a bounded code."""
    from botocore.exceptions import ClientError

    exc = ClientError({"Error": {"Code": code, "Message": "m"}}, "GetSecretValue")
    said = str(read_failure(exc, "triage/ingest-tokens"))
    assert GITHUB_TOKEN_LIKE not in said and "Throttling\r" not in said
    assert said.isprintable() and len(said) < 200


@pytest.mark.parametrize(
    "code", ["ResourceNotFoundException", "AWS.SimpleQueueService.NonExistentQueue", "500"]
)
def test_a_secrets_managers_own_error_code_is_still_told(code: str) -> None:
    """A code of AWS's form, or the HTTP status botocore names a bodiless error by, is named as
    it is."""
    from botocore.exceptions import ClientError

    exc = ClientError({"Error": {"Code": code}}, "GetSecretValue")
    assert code in str(read_failure(exc, "triage/ingest-tokens"))


# --- triage check: a Bedrock endpoint's error ------------------------------------------------------


async def test_a_bedrock_error_is_one_redacted_bounded_check_line(tmp_path: Path) -> None:
    """A Converse endpoint's 400 whose error type and message quote a credential, forge a line
    and are long: the llm FAIL line holds no credential, no control character and at most a
    bounded quote of the message (as an OpenAI-compatible server's error is told)."""
    said = f"bad model {GITHUB_TOKEN_LIKE}{FORGED} " + "x" * 20_000
    headers = {"Content-Type": "application/json", "x-amzn-ErrorType": GITHUB_TOKEN_LIKE}
    body = json.dumps({"message": said}).encode()
    async with hostile(answer(400, headers, body)) as server:
        settings = Settings(
            store_url=f"sqlite:///{tmp_path}/t.db",
            sinks=("slack",),
            llm_provider="bedrock",
            aws_endpoint_url_bedrock_runtime=server.url,
            llm_timeout_s=3.0,
        )
        out = io.StringIO()
        code = await run_checks(settings, out)
    (line,) = [x for x in out.getvalue().splitlines() if x.split()[1:2] == ["llm"]]
    assert code == 1 and line.startswith("FAIL  llm      bedrock ")
    assert GITHUB_TOKEN_LIKE not in line
    assert line.isprintable() and len(line) < 1_000


# --- triage dlq redrive: the main queue's refusal ---------------------------------------------------


def test_a_queues_hostile_refusal_is_told_redacted_and_bounded_by_redrive(
    queues: Queues, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    """The main queue (a proxy, a stand-in) refusing a redriven letter with a message quoting a
    credential, CR LF and a long text: each stderr line of `triage dlq redrive` holds no
    credential and no control character, and the letter stays in the DLQ."""
    queues.client().send_message(QueueUrl=queues.dlq_url, MessageBody='{"title": "t"}')
    said = f"refused {GITHUB_TOKEN_LIKE}{FORGED} " + "y" * 20_000
    with FaultProxy(queues.endpoint) as proxy:
        proxy.refuse("AmazonSQS.SendMessageBatch", 400, "InvalidParameterValue", said)
        settings = settings_for(
            queues,
            "http://127.0.0.1:9",
            tmp_path / "t.db",
            queue_url=proxy.queue_url(queues.url),
            aws_endpoint_url=proxy.url,
        )
        result = run_in_process(monkeypatch, capsys, "dlq", "redrive", env=daemon_env(settings))
    lines = result.stderr.splitlines()
    assert result.returncode == 1 and any("InvalidParameterValue" in line for line in lines)
    assert GITHUB_TOKEN_LIKE not in result.stderr
    assert all(line.isprintable() and len(line) < 1_000 for line in lines), lines


@pytest.mark.parametrize(
    "body",
    [b"<html>a captive portal</html>", b"{}", b'{"output": {"text": "no message"}}'],
    ids=["html", "empty-object", "no-message"],
)
async def test_a_bedrock_200_that_is_no_converse_answer_fails_the_check(
    tmp_path: Path, body: bytes
) -> None:
    """A Converse endpoint answering 200 with what is no Converse answer (a proxy's page, an
    empty object, no message): the llm line fails saying so, as every summary would fall back
    (it said the model answers)."""
    async with hostile(answer(200, {"Content-Type": "application/json"}, body)) as server:
        settings = Settings(
            store_url=f"sqlite:///{tmp_path}/t.db",
            sinks=("slack",),
            llm_provider="bedrock",
            aws_endpoint_url_bedrock_runtime=server.url,
            llm_timeout_s=3.0,
        )
        out = io.StringIO()
        code = await run_checks(settings, out)
    (line,) = [x for x in out.getvalue().splitlines() if x.split()[1:2] == ["llm"]]
    assert code == 1 and line.startswith("FAIL  llm      bedrock "), line
    assert "not a Converse answer" in line


# --- triage check: any AWS service's error --------------------------------------------------------


@pytest.mark.parametrize(
    "error_type", ["com.amazonaws.sqs#InvalidAddress", f"com.amazonaws.sqs#{GITHUB_TOKEN_LIKE}"]
)
async def test_an_aws_services_hostile_error_is_one_redacted_bounded_fail_line(
    tmp_path: Path, error_type: str
) -> None:
    """The queue endpoint (a proxy, a stand-in) answering an error whose type and message quote
    a credential, forge a check line and run long: the queue FAIL line names the call and a
    code of AWS's form only, with the message redacted and cut."""
    said = f"bad {GITHUB_TOKEN_LIKE}{FORGED} " + "z" * 20_000
    body = json.dumps({"__type": error_type, "message": said}).encode()
    headers = {"Content-Type": "application/x-amz-json-1.0"}
    async with hostile(answer(400, headers, body)) as server:
        settings = Settings(
            store_url=f"sqlite:///{tmp_path}/t.db",
            sinks=("slack",),
            llm_provider="none",
            queue_url=f"{server.url}/000000000000/alerts",
            aws_endpoint_url=server.url,
        )
        out = io.StringIO()
        await run_checks(settings, out)
    (line,) = [x for x in out.getvalue().splitlines() if x.split()[1:2] == ["queue"]]
    assert line.startswith("FAIL  queue    ") and "GetQueueAttributes" in line, line
    assert GITHUB_TOKEN_LIKE not in line
    assert line.isprintable() and len(line) < 1_000


def test_a_dead_letters_hostile_message_id_is_told_redacted_by_redrive(
    queues: Queues, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    """A DLQ endpoint (a proxy, a stand-in) naming a letter by a credential with CR LF: the
    line `triage dlq redrive` prints about the letter the queue refused holds neither."""
    queues.client().send_message(QueueUrl=queues.dlq_url, MessageBody='{"title": "t"}')

    def hostile_ids(answer: dict[str, Any]) -> dict[str, Any]:
        letters = answer.get("Messages", [])
        named = [{**m, "MessageId": f"{GITHUB_TOKEN_LIKE}{FORGED}"} for m in letters]
        return {**answer, "Messages": named} if named else answer

    with FaultProxy(queues.endpoint) as proxy:
        proxy.rewrite("AmazonSQS.ReceiveMessage", hostile_ids)
        proxy.refuse("AmazonSQS.SendMessageBatch", 400, "InvalidParameterValue", "too large")
        settings = settings_for(
            queues,
            "http://127.0.0.1:9",
            tmp_path / "t.db",
            queue_url=proxy.queue_url(queues.url),
            aws_endpoint_url=proxy.url,
        )
        result = run_in_process(monkeypatch, capsys, "dlq", "redrive", env=daemon_env(settings))
    assert any("could not send" in line for line in result.stderr.splitlines()), result.stderr
    assert GITHUB_TOKEN_LIKE not in result.stderr
    assert all(line.isprintable() for line in result.stderr.splitlines())
