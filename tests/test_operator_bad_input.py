"""Every `triage` command, option and setting given a value a person mistypes: a non-zero exit
(2 for usage), one line naming what was wrong and what is accepted (a typo of a real word is
answered with it), no traceback and no secret repeated.

Each case runs the real entry point (`triage.cli.main`) in this process, as `python -m triage`
would, with the test's isolated environment."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest

from daemon_harness import Queues, daemon_env, settings_for
from triage.cli import main
from triage.incidents.sqlite import SQLiteStore


@dataclass(frozen=True)
class Ran:
    code: int
    stdout: str
    stderr: str

    @property
    def last_line(self) -> str:
        """The line that says why (argparse prints its usage above it)."""
        return self.stderr.strip().splitlines()[-1]


def run(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    *argv: str,
    env: dict[str, str] | None = None,
) -> Ran:
    """`triage ARGV` in this process with `env` set; a usage error's SystemExit is its exit."""
    for name, value in (env or {}).items():
        monkeypatch.setenv(name, value)
    capsys.readouterr()
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse's usage errors and --help
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return Ran(code, out, err)


# --- command-line words: a typo of a choice is answered with the choice ----------------------

CHOICE_TYPOS = [
    (["rnu"], "'run'"),
    (["silnce", "list"], "'silence'"),
    (["incidents", "lsit"], "'list'"),
    (["silence", "expier", "x"], "'expire'"),
    (["incidents", "list", "--state", "opne"], "'open'"),
    (["incidents", "list", "--output", "jsno"], "'json'"),
    (["incidents", "show", "abc", "--output", "txt"], "'text'"),
    (["dlq", "peak"], "'peek'"),
    (["dlq", "redirve"], "'redrive'"),
    (["demo", "--llm", "stbu"], "'stub'"),
]


@pytest.mark.parametrize(
    ("argv", "meant"), CHOICE_TYPOS, ids=[" ".join(a) for a, _ in CHOICE_TYPOS]
)
def test_a_mistyped_word_is_a_usage_error_suggesting_the_word_meant(
    argv: list[str],
    meant: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A mistyped command, verb or option value exits 2 with one line that names the word
    meant, beside the words accepted."""
    ran = run(capsys, monkeypatch, *argv)
    assert ran.code == 2
    assert f"did you mean {meant}?" in ran.last_line
    assert "choose from" in ran.last_line


def test_a_word_like_no_choice_gets_no_suggestion(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A word close to no choice is refused with the choices alone, no guess."""
    ran = run(capsys, monkeypatch, "incidents", "list", "--state", "zzzzzz")
    assert ran.code == 2
    assert "did you mean" not in ran.last_line and "choose from" in ran.last_line


# --- settings: a word outside a setting's set --------------------------------------------------

SETTING_TYPOS = [
    ("TRIAGE_LOG_FORMAT", "jsno", "'json'"),
    ("TRIAGE_LOG_LEVEL", "warn", "'warning'"),
    ("TRIAGE_METRICS", "cloudwath", "'cloudwatch'"),
    ("TRIAGE_LLM_PROVIDER", "opeanai", "'openai'"),
    ("TRIAGE_SLACK_MIN_PRIORITY", "hihg", "'high'"),
    ("TRIAGE_SINKS", "backend,githb", "'github'"),
]


@pytest.mark.parametrize(("variable", "value", "meant"), SETTING_TYPOS)
def test_a_mistyped_setting_word_names_the_setting_and_the_word_meant(
    variable: str,
    value: str,
    meant: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A setting given a typo of one of its words stops any command with exit 2 and one line
    naming the variable, the word meant and the words it takes."""
    ran = run(capsys, monkeypatch, "check", env={variable: value})
    assert ran.code == 2
    (line,) = ran.stderr.splitlines()
    assert line.startswith(f"triage: config: {variable}: ")
    assert f"did you mean {meant}?" in line


def test_a_setting_that_is_no_boolean_says_which_words_are(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A yes/no setting given another word names the words it takes."""
    ran = run(capsys, monkeypatch, "check", env={"TRIAGE_GITHUB_STORM_DIGEST": "maybe"})
    assert ran.code == 2
    (line,) = ran.stderr.splitlines()
    assert line.startswith("triage: config: TRIAGE_GITHUB_STORM_DIGEST: ")
    assert "true or false" in line


#: A credential-shaped value, as when a token is pasted on the wrong line of an env file.
SECRET = "ghp_Zq8RkW3nV7pL2xT9sB4mC6yJ1hF5dG0aE8uK"

MISPLACED_SECRETS = [
    ("GITHUB_APP_INSTALLATION_ID", SECRET),
    ("TRIAGE_CONCURRENCY", SECRET),
    ("TRIAGE_LOG_LEVEL", SECRET),
    ("TRIAGE_METRICS", SECRET),
    ("TRIAGE_SLACK_MIN_PRIORITY", SECRET),
    ("TRIAGE_GITHUB_STORM_DIGEST", SECRET),
    ("TRIAGE_SINKS", SECRET),
    ("AWS_REGION", SECRET),
    ("GITHUB_REPOSITORY", SECRET),
    ("TRIAGE_STORE_URL", f"postgres://triage:{SECRET}@db.internal/triage"),
    ("OPENAI_BASE_URL", f"https://user:{SECRET}@llm.internal/v1"),
    ("TRIAGE_API_TOKEN", SECRET[:10]),
    ("OPENAI_API_KEY", f"{SECRET} {SECRET}"),
    ("SLACK_WEBHOOK_URL", f"https://hooks.slack.com/services/{SECRET}\x07"),
]


@pytest.mark.parametrize(("variable", "value"), MISPLACED_SECRETS)
def test_a_refused_setting_never_repeats_a_secret(
    variable: str,
    value: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A refused value that may be a credential is named by its variable, never repeated."""
    ran = run(capsys, monkeypatch, "check", env={variable: value})
    assert ran.code == 2
    (line,) = ran.stderr.splitlines()
    assert line.startswith(f"triage: config: {variable}")
    assert SECRET[:10] not in ran.stderr + ran.stdout


@pytest.mark.parametrize(
    ("variable", "value", "said"),
    [
        ("TRIAGE_CONCURRENCY", "eight", "expected a whole number"),
        ("TRIAGE_CONCURRENCY", "8.5", "expected a whole number"),
        ("TRIAGE_LLM_TIMEOUT_S", "20s", "expected a number"),
        ("TRIAGE_CONCURRENCY", "0", "must be at least 1"),
        ("TRIAGE_HTTP_PORT", "70000", "must be at most 65535"),
        ("TRIAGE_SHUTDOWN_GRACE_S", "-1", "must be at least 0"),
        ("TRIAGE_LLM_TIMEOUT_S", "0", "must be more than 0"),
        ("TRIAGE_SHUTDOWN_GRACE_S", "inf", "must be a finite number"),
        ("SQS_WAIT_TIME", "20.5", "whole seconds"),
    ],
)
def test_a_number_setting_says_what_it_takes(
    variable: str,
    value: str,
    said: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A number setting given a word, a fraction, or a number out of its range names the
    variable and what it takes."""
    ran = run(capsys, monkeypatch, "check", env={variable: value})
    assert ran.code == 2
    (line,) = ran.stderr.splitlines()
    assert line.startswith(f"triage: config: {variable}: ") and said in line


# --- queue URLs given on the command line -----------------------------------------------------

ARN = "arn:aws:sqs:us-east-1:123456789012:alerts-dlq"


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (
            ["send", "-", "--queue-url", ARN],
            "--queue-url: must be an http:// or https:// URL with a host, not an ARN",
        ),
        (
            ["send", "-", "--queue-url", "alerts"],
            "--queue-url: must be an http:// or https:// URL with a host, such as",
        ),
        (
            ["send", "-", "--queue-url", " "],
            "--queue-url: must be an http:// or https:// URL with a host, such as",
        ),
        (
            ["dlq", "peek", "--dlq-url", ARN],
            "--dlq-url: must be an http:// or https:// URL with a host, not an ARN",
        ),
        (
            ["dlq", "redrive", "--dlq-url", "alerts-dlq"],
            "--dlq-url: must be an http:// or https:// URL with a host, such as",
        ),
        (
            ["dlq", "redrive", "--dlq-url", ""],
            "--dlq-url: must be an http:// or https:// URL with a host, such as",
        ),
        (
            ["dlq", "peek", "--dlq-url", "sqs://alerts-dlq"],
            "--dlq-url: must be an http:// or https:// URL with a host, such as",
        ),
    ],
)
def test_a_queue_option_that_is_no_queue_url_is_a_usage_error(
    argv: list[str],
    said: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A queue named by its ARN, its bare name or nothing is refused before any call to SQS,
    with exit 2 and a line saying what a queue URL looks like."""
    ran = run(capsys, monkeypatch, *argv, env={"ALERT_TRIAGE_QUEUE_URL": "http://127.0.0.1:9/q"})
    assert ran.code == 2
    assert said in ran.last_line and "https://sqs." in ran.last_line


@pytest.fixture
def moto_env(queues: Queues, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The environment of a command configured for `queues` on moto (its request log off)."""
    monkeypatch.setattr(logging.getLogger("werkzeug"), "disabled", True)
    return daemon_env(settings_for(queues, "http://127.0.0.1:9", tmp_path / "t.db"))


def _gone(queues: Queues, name: str) -> str:
    return queues.url.rsplit("/", 1)[0] + "/" + name


def _dead_letter(queues: Queues) -> None:
    queues.client().send_message(QueueUrl=queues.dlq_url, MessageBody='{"title": "dead"}')


def test_dlq_peek_with_a_redrive_option_is_a_usage_error_naming_peeks_options(
    queues: Queues,
    moto_env: dict[str, str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`dlq peek --dry-run` (an option only redrive takes) exits 2 with one line naming the
    options peek takes, before reading any letter, rather than peeking as if it meant something."""
    _dead_letter(queues)
    ran = run(capsys, monkeypatch, "dlq", "peek", "--dry-run", env=moto_env)
    assert ran.code == 2
    assert ran.stdout == ""
    (line,) = ran.stderr.splitlines()
    assert line == (
        "triage: dlq: --dry-run is for redrive (peek only reads); peek takes --max N and --dlq-url"
    )
    assert queues.depth(queues.dlq_url) == 1


@pytest.mark.parametrize("action", ["peek", "redrive"])
def test_dlq_of_a_main_queue_that_does_not_exist_names_it(
    action: str,
    queues: Queues,
    moto_env: dict[str, str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`dlq` with ALERT_TRIAGE_QUEUE_URL naming no queue exits 2 with one line naming the
    variable and the URL; the DLQ's letters stay."""
    _dead_letter(queues)
    missing = _gone(queues, "no-such-queue")
    env = {**moto_env, "ALERT_TRIAGE_QUEUE_URL": missing}
    ran = run(capsys, monkeypatch, "dlq", action, env=env)
    assert ran.code == 2
    (line,) = ran.stderr.splitlines()
    assert line == f"triage: config: ALERT_TRIAGE_QUEUE_URL {missing}: no such queue"
    assert queues.depth(queues.dlq_url) == 1


@pytest.mark.parametrize("action", ["peek", "redrive"])
def test_dlq_url_naming_no_queue_names_the_option(
    action: str,
    queues: Queues,
    moto_env: dict[str, str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`dlq --dlq-url` naming no queue exits 2 with one line naming the option and the URL;
    the main queue is left as it was."""
    missing = _gone(queues, "no-such-dlq")
    queues.send('{"title": "live"}')
    ran = run(capsys, monkeypatch, "dlq", action, "--dlq-url", missing, env=moto_env)
    assert ran.code == 2
    (line,) = ran.stderr.splitlines()
    assert line == f"triage: config: --dlq-url {missing}: no such queue"
    assert queues.depth() == 1


def test_dlq_whose_redrive_policy_names_a_deleted_queue_says_so(
    queues: Queues,
    moto_env: dict[str, str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A main queue whose RedrivePolicy names a DLQ since deleted is one line naming the DLQ's
    ARN and where it was named, exit 2."""
    sqs = boto3.client("sqs", endpoint_url=queues.endpoint, region_name="us-east-1")
    doomed = sqs.create_queue(QueueName="doomed-dlq")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=doomed, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    policy = json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": "2"})
    main_url = sqs.create_queue(QueueName="orphan", Attributes={"RedrivePolicy": policy})[
        "QueueUrl"
    ]
    sqs.delete_queue(QueueUrl=doomed)
    env = {**moto_env, "ALERT_TRIAGE_QUEUE_URL": main_url}
    ran = run(capsys, monkeypatch, "dlq", "peek", env=env)
    assert ran.code == 2
    (line,) = ran.stderr.splitlines()
    assert line == (
        f"triage: config: the DLQ {arn} that {main_url}'s RedrivePolicy names: no such queue"
    )


@pytest.mark.parametrize("named", ["--queue-url", "ALERT_TRIAGE_QUEUE_URL"])
def test_send_to_a_queue_that_does_not_exist_names_where_it_was_named(
    named: str,
    queues: Queues,
    moto_env: dict[str, str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`send` to a queue that does not exist exits 2 with one line naming the option or the
    variable that named it, and the URL."""
    missing = _gone(queues, "no-such-queue")
    body = tmp_path / "alert.json"
    body.write_text('{"title": "x"}')
    if named == "--queue-url":
        ran = run(capsys, monkeypatch, "send", str(body), "--queue-url", missing, env=moto_env)
    else:
        env = {**moto_env, "ALERT_TRIAGE_QUEUE_URL": missing}
        ran = run(capsys, monkeypatch, "send", str(body), env=env)
    assert ran.code == 2
    (line,) = ran.stderr.splitlines()
    assert line == f"triage: config: {named} {missing}: no such queue"


def test_dlq_peek_of_the_main_queue_itself_is_refused_and_touches_nothing(
    queues: Queues,
    moto_env: dict[str, str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`dlq peek --dlq-url` of the main queue exits 2 with one line, receiving nothing: a
    peek would hide the live messages and count a receive towards their dead-lettering."""
    queues.send('{"title": "live"}')
    ran = run(capsys, monkeypatch, "dlq", "peek", "--dlq-url", queues.url, env=moto_env)
    assert ran.code == 2
    (line,) = ran.stderr.splitlines()
    assert line == f"triage: config: {queues.url} is the queue itself, not its DLQ: " + (
        "a redrive would move its messages round and round"
    )
    (message,) = queues.client().receive_message(
        QueueUrl=queues.url, AttributeNames=["ApproximateReceiveCount"], WaitTimeSeconds=0
    )["Messages"]
    assert message["Attributes"]["ApproximateReceiveCount"] == "1"


# --- settings that name something: a route, a variable, an address ------------------------------


@pytest.mark.parametrize(
    ("variable", "value", "said"),
    [
        ("TRIAGE_BACKEND_UPDATE_ROUTE", "/tickets/{rf}/updates", "did you mean {ref}?"),
        ("TRIAGE_BACKEND_RESOLVE_ROUTE", "/tickets/{ticket_id}", "did you mean {ref}?"),
        ("TRIAGE_BACKEND_UPDATE_ROUTE", "/tickets/{ref/updates", "{ref}"),
        ("BACKEND_SERVICE_ROUTE", "/tickets/{ref}", "no ticket yet"),
        ("BACKEND_SERVICE_ROUTE", "https://tickets.internal/api", "a path on BACKEND_BASE_URL"),
        ("TRIAGE_BACKEND_UPDATE_ROUTE", "http://x/{ref}", "a path on BACKEND_BASE_URL"),
        ("BACKEND_SERVICE_ROUTE", "/api/service tickets", "whitespace"),
    ],
)
def test_a_backend_route_that_cannot_work_names_what_a_route_is(
    variable: str,
    value: str,
    said: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A backend route with a placeholder other than {ref}, a whole URL or whitespace is
    refused at start with exit 2 and one line naming the variable, not sent to the backend
    as written on every ticket."""
    ran = run(capsys, monkeypatch, "check", env={variable: value})
    assert ran.code == 2
    (line,) = ran.stderr.splitlines()
    assert line.startswith(f"triage: config: {variable}: ") and said in line


def test_backend_routes_as_documented_still_load(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The routes the README shows (with {ref}, and the service route without one) load."""
    from triage.settings import load_settings

    monkeypatch.setenv("BACKEND_SERVICE_ROUTE", "api/service/tickets")
    monkeypatch.setenv("TRIAGE_BACKEND_UPDATE_ROUTE", "/api/service/tickets/{ref}/updates")
    monkeypatch.setenv("TRIAGE_BACKEND_RESOLVE_ROUTE", "/api/service/tickets/resolve")
    settings = load_settings()
    assert settings.backend_update_route == "/api/service/tickets/{ref}/updates"


@pytest.mark.parametrize(
    "value",
    # A token of no known issuer's shape (one of a known shape is refused as such, above all).
    ["Zq8RkW3nV7pL2xT9sB4mC6yJ1hF5dG0aE8uK", "my token", "BACKEND-TOKEN", "1TOKEN", "x" * 200],
)
def test_backend_token_env_key_must_be_a_variable_name_and_is_never_repeated(
    value: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """BACKEND_TOKEN_ENV_KEY holding anything but a variable's name (the token itself, pasted
    on the wrong line, above all) is exit 2 with one line that does not repeat it; `check`
    used to print it back in "no backend token: set …"."""
    ran = run(capsys, monkeypatch, "check", env={"BACKEND_TOKEN_ENV_KEY": value})
    assert ran.code == 2
    (line,) = ran.stderr.splitlines()
    assert line.startswith("triage: config: BACKEND_TOKEN_ENV_KEY: ")
    assert "name of the variable" in line and value not in ran.stdout + line


@pytest.mark.parametrize("value", ["BACKEND_TOKEN", "TICKETS_API_TOKEN", "backend_token_v2"])
def test_backend_token_env_key_takes_variable_names(
    value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A variable's name, in capitals or not, is taken as BACKEND_TOKEN_ENV_KEY."""
    from triage.settings import load_settings

    monkeypatch.setenv("BACKEND_TOKEN_ENV_KEY", value)
    assert load_settings().backend_token_env_key == value


@pytest.mark.parametrize("variable", ["TRIAGE_HTTP_HOST", "TRIAGE_INGEST_HOST"])
@pytest.mark.parametrize(
    "value", ["not a host!", "http://0.0.0.0", "0.0.0.0:8080", "999.1.1.1", "10.0.0", "host/x"]
)
def test_a_listen_address_that_is_no_host_is_refused_unquoted(
    variable: str,
    value: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A listen address that is no IP address or host name (a URL, a port with it) is exit 2
    with one line saying what it takes, before anything tries to listen there."""
    ran = run(capsys, monkeypatch, "check", env={variable: value})
    assert ran.code == 2
    (line,) = ran.stderr.splitlines()
    assert line.startswith(f"triage: config: {variable}: ") and "IP address or host name" in line
    assert value not in line


@pytest.mark.parametrize(
    "value", ["0.0.0.0", "127.0.0.1", "::", "::1", "localhost", "ip-10-0-0-1.ec2.internal"]
)
def test_listen_addresses_as_people_write_them_load(
    value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """IPv4, IPv6 and host names are taken as listen addresses."""
    from triage.settings import load_settings

    monkeypatch.setenv("TRIAGE_HTTP_HOST", value)
    monkeypatch.setenv("TRIAGE_INGEST_HOST", value)
    settings = load_settings()
    assert (settings.http_host, settings.ingest_host) == (value, value)


# --- incidents and silence: values that name nothing -------------------------------------------


@pytest.fixture
def store_env(tmp_path: Path) -> dict[str, str]:
    """An existing (empty) SQLite store, as the daemon's first run leaves it."""
    import asyncio

    from triage.app import open_configured_store
    from triage.aws import Aws
    from triage.settings import load_settings

    url = f"sqlite:///{tmp_path / 'triage.db'}"

    async def create() -> None:
        settings = load_settings(store_url=url)
        aws = Aws(settings)
        store = await open_configured_store(settings, aws)
        await store.aclose()
        await aws.aclose()

    asyncio.run(create())
    return {"TRIAGE_STORE_URL": url}


OPERATOR_MISTAKES = [
    (["incidents", "list", "--priority", "hihg"], "did you mean 'high'?"),
    (["incidents", "list", "--priority", "critical,mediun"], "did you mean 'medium'?"),
    (["incidents", "list", "--priority", "P9"], "expected critical, high, medium or low"),
    (["incidents", "list", "--source", "cloudwach"], "did you mean 'cloudwatch'?"),
    (["incidents", "list", "--since", "yesterday"], "expected a duration back from now"),
    (["incidents", "list", "--since", "-2h"], "since '-2h'"),
    (["incidents", "list", "--before", "2026-13-01T00:00Z"], "before"),
    (["incidents", "list", "--match", "team=~[a-"], "not an RE2 regular expression"),
    (["incidents", "list", "--team", " "], "expected a team name"),
    (["incidents", "list", "--search", " "], "expected some words of the title"),
    # An argument whose bytes were not UTF-8 reaches Python as a lone surrogate: no stored
    # value can equal it, so it is refused rather than listing nothing with exit 0.
    (["incidents", "list", "--team", "ops\udcff"], "team is not valid Unicode"),
    (["incidents", "list", "--search", "disk\udcff"], "search is not valid Unicode"),
    (["incidents", "list", "--source", "cron\udcff"], "source 'cron\\udcff'"),
    (["incidents", "list", "--priority", "high\udcff"], "expected critical, high"),
    (["incidents", "list", "--since", "2h\udcff"], "since '2h\\udcff'"),
    (["incidents", "list", "--match", "team=ops\udcff"], "not valid Unicode"),
    (["silence", "add", "--match", "team=~(", "--for", "1h", "--comment", "c"], "RE2"),
    (["silence", "add", "--match", "team", "--for", "1h", "--comment", "c"], "KEY=VALUE"),
    (["silence", "add", "--match", "team=a", "--for", "-1h", "--comment", "c"], "'-1h'"),
    (["silence", "add", "--match", "team=a", "--for", "0m", "--comment", "c"], "more than 0"),
    (["silence", "add", "--match", "team=a", "--for", "1y", "--comment", "c"], "expected e.g."),
    (["silence", "add", "--match", "team=a", "--for", "1h", "--comment", " "], "comment"),
    (
        ["silence", "add", "--match", "team=a", "--until", "2020-01-01T00:00Z", "--comment", "c"],
        "is past",
    ),
    (
        ["silence", "add", "--match", "team=a", "--until", "2030-01-01T00:00", "--comment", "c"],
        "has no UTC offset",
    ),
    (
        ["silence", "add", "--match", "a=b", "--for", "1h", "--until", "2030-01-01T00:00Z"],
        "not allowed with argument --for",
    ),
]


@pytest.mark.parametrize(
    ("argv", "said"), OPERATOR_MISTAKES, ids=[" ".join(a) for a, _ in OPERATOR_MISTAKES]
)
def test_an_operator_mistake_is_exit_2_with_one_line_and_adds_nothing(
    argv: list[str],
    said: str,
    store_env: dict[str, str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each mistyped value of `incidents list` and `silence add` exits 2 with a last line
    saying what it takes, and the store holds no silence after it."""
    ran = run(capsys, monkeypatch, *argv, env=store_env)
    assert ran.code == 2
    assert said in ran.last_line
    assert ran.stdout == ""
    listed = run(capsys, monkeypatch, "silence", "list", "--all", env=store_env)
    assert (listed.code, listed.stdout) == (0, "")


# --- the operator's API: the same words over HTTP ------------------------------------------------


@pytest.fixture
async def api_store(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    """An empty SQLite store for the API to serve."""
    from test_store import LEASE, POLICY

    store = SQLiteStore(str(tmp_path / "api.db"), POLICY, LEASE, POLICY.reopen_window * 24)
    await store.open()
    yield store
    await store.aclose()


@pytest.mark.parametrize(
    ("method", "path", "body", "meant"),
    [
        ("GET", "/api/v1/incidents?sate=closed", None, "'state'"),
        ("GET", "/api/v1/incidents?state=opne", None, "'open'"),
        ("GET", "/api/v1/incidents?priority=hihg", None, "'high'"),
        ("GET", "/api/v1/silences?al=1", None, "'all'"),
        ("POST", "/api/v1/silences?dryrun=1", {"matchers": ["a=b"]}, "'dry_run'"),
        (
            "POST",
            "/api/v1/silences",
            {"matchers": ["team=a"], "duration": "2h", "comment": "c", "autor": "me"},
            "'author'",
        ),
    ],
)
async def test_a_mistyped_api_word_is_a_400_naming_the_word_meant(
    method: str,
    path: str,
    body: dict[str, object] | None,
    meant: str,
    api_store: SQLiteStore,
) -> None:
    """A misspelt query parameter, filter value or silence field is a 400 that names the word
    meant, as the command line does; no silence is made."""
    from test_operator_api import BEARER, serving

    async with serving(api_store) as client:
        answer = await client.request(method, path, json=body, headers=BEARER)
        listed = (await client.get("/api/v1/silences?all=1", headers=BEARER)).json()
    assert answer.status_code == 400, answer.text
    assert f"did you mean {meant}?" in answer.json()["error"]
    assert listed == {"silences": [], "unreadable": 0}


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["silence", "expire", ""], "expected a silence id"),
        (["silence", "expire", " "], "expected a silence id"),
        (["incidents", "show", ""], "expected a fingerprint"),
        (["incidents", "close", "", "--comment", "c"], "expected a fingerprint"),
    ],
)
def test_a_blank_name_is_a_usage_error(
    argv: list[str],
    said: str,
    store_env: dict[str, str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A blank silence id or fingerprint (`"$ID"` with ID unset) is exit 2 saying where the
    names are listed, not "no silence" with nothing after it."""
    ran = run(capsys, monkeypatch, *argv, env=store_env)
    assert ran.code == 2
    assert said in ran.last_line and "list" in ran.last_line


def test_a_silence_id_that_names_none_is_shown_cut(
    store_env: dict[str, str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An id that names no silence is one short line, however long the id given."""
    ran = run(capsys, monkeypatch, "silence", "expire", "x" * 100_000, env=store_env)
    assert ran.code == 1
    (line,) = ran.stderr.splitlines()
    assert line.startswith("triage: silence: no silence xxx") and len(line) < 200


# --- files given to send and normalize ----------------------------------------------------------


@pytest.mark.parametrize("command", ["send", "normalize"])
def test_a_file_larger_than_any_message_is_refused_before_anything_is_sent(
    command: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A file larger than any queue message (a log, /dev/zero) is read no further than the
    limit and refused with exit 1 and one line naming it; `send` sends nothing."""
    from triage.decode import MAX_BODY_BYTES

    big = tmp_path / "big.json"
    big.write_bytes(b'{"title": "' + b"x" * MAX_BODY_BYTES + b'"}')
    small = tmp_path / "small.json"
    small.write_text('{"title": "x"}')
    if command == "send":  # the small file first: nothing may go before the big one is refused
        argv = [command, str(small), str(big), "--queue-url", "http://127.0.0.1:9/q"]
    else:
        argv = [command, str(big)]
    ran = run(capsys, monkeypatch, *argv)
    assert ran.code == 1
    (line,) = ran.stderr.splitlines()
    assert line == (
        f"triage: {command}: {big}: larger than {MAX_BODY_BYTES:,} bytes, the most a message holds"
    )


async def _open_incident(url: str) -> str:
    """An open incident in the store at `url` (no ticket yet); returns its fingerprint."""
    from datetime import UTC, datetime

    from factories import alert
    from triage.app import open_configured_store
    from triage.aws import Aws
    from triage.settings import load_settings

    settings = load_settings(store_url=url)
    aws = Aws(settings)
    store = await open_configured_store(settings, aws)
    try:
        begun = await store.begin(alert("disk full"), "m1", datetime.now(UTC))
        assert begun.after is not None
        await store.finish(begun.after.fingerprint, "m1")
        return begun.after.fingerprint
    finally:
        await store.aclose()
        await aws.aclose()


@pytest.mark.parametrize(
    ("option", "value", "said"),
    [
        ("--comment", "why \udcff", "--comment is not valid Unicode"),
        ("--author", "me\udcff", "--author is not valid Unicode"),
        ("--comment", "x" * 1001, "--comment: 1,001 characters, more than a note keeps (1,000)"),
        ("--author", "x" * 101, "--author: 101 characters, more than a note keeps (100)"),
    ],
)
def test_a_close_whose_comment_or_author_cannot_be_kept_closes_nothing(
    option: str,
    value: str,
    said: str,
    store_env: dict[str, str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`incidents close` with a comment or author no store or sink can keep whole (bytes that
    were not UTF-8, a paste longer than a note) is exit 2 with one line; the incident stays
    open."""
    import asyncio

    fingerprint = asyncio.run(_open_incident(store_env["TRIAGE_STORE_URL"]))
    argv = ["incidents", "close", fingerprint, "--comment", "disk replaced", option, value]
    ran = run(capsys, monkeypatch, *argv, env=store_env)
    assert ran.code == 2
    assert said in ran.last_line
    shown = run(capsys, monkeypatch, "incidents", "show", fingerprint, env=store_env)
    assert json.loads(shown.stdout)["state"] == "open"


# --- a credential in a setting that is no secret ------------------------------------------------

#: Credentials as their issuers shape them (made up), short enough for a setting to quote.
CREDENTIALS = [
    "AKIAIOSFODNN7EXAMPLE",
    "sk-proj-Zq8RkW3nV7pL2xT9sB4mC6yJ",
    SECRET,
    "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz",
    "xoxb-123456789012-1234567890123-AbCdEfGhIjKl",
    "glpat-Zq8RkW3nV7pL2xT9sB4m",
]

#: Settings that are no secret, each of which some validator or command quotes back.
QUOTED_SETTINGS = [
    "AWS_REGION",
    "TRIAGE_SINKS",
    "GITHUB_REPOSITORY",
    "OPENAI_MODEL",
    "TRIAGE_BEDROCK_MODEL_ID",
    "BACKEND_TOKEN_SECRET_ID",
    "TRIAGE_INGEST_TOKENS_SECRET_ID",
    "GITHUB_APP_ID",
    "TRIAGE_LOG_LEVEL",
]


@pytest.mark.parametrize("variable", QUOTED_SETTINGS)
@pytest.mark.parametrize("credential", CREDENTIALS, ids=lambda c: c[:8])
def test_a_credential_in_a_setting_that_is_no_secret_is_refused_unquoted(
    variable: str,
    credential: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A credential pasted into a setting that is not a secret (a region, a model, a secret's
    id: the line beside it in an env file) stops any command with exit 2 and one line naming
    the variable, never the value: it would be quoted back by its check, or logged."""
    ran = run(capsys, monkeypatch, "check", env={variable: credential})
    assert ran.code == 2
    (line,) = ran.stderr.splitlines()
    assert line.startswith(f"triage: config: {variable}: looks like a credential")
    assert credential not in ran.stdout + ran.stderr
    assert credential[:12] not in ran.stdout + ran.stderr


def test_a_credential_in_its_own_variable_is_taken(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same shapes in the secrets' own variables load as they are."""
    from triage.settings import load_settings

    monkeypatch.setenv("OPENAI_API_KEY", "sk-proj-Zq8RkW3nV7pL2xT9sB4mC6yJ")
    monkeypatch.setenv("GITHUB_TOKEN", SECRET)
    monkeypatch.setenv("TRIAGE_API_TOKEN", SECRET)
    settings = load_settings()
    assert settings.github_token is not None and settings.github_token.get_secret_value() == SECRET


@pytest.mark.parametrize("timeout", ["1e300", "86401", "0", "-1", "nan", "3s"])
def test_a_health_timeout_out_of_range_is_a_usage_error(
    timeout: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`health --timeout` takes seconds above 0 and at most a day: 1e300 reached the socket,
    whose time_t overflowed (a traceback), and is refused with exit 2 before any probe."""
    ran = run(capsys, monkeypatch, "health", "--timeout", timeout, env={"TRIAGE_HTTP_PORT": "9"})
    assert ran.code == 2
    assert ran.last_line.startswith("triage health: error: argument --timeout: ")
    assert "seconds" in ran.last_line or "not a number" in ran.last_line


def test_check_says_a_broken_backend_setting_once(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`triage check` with a BACKEND_BASE_URL that is no URL names it on one line; the route
    check after it says it was skipped instead of repeating the same failure."""
    env = {"BACKEND_BASE_URL": "backend.internal:4000", "BACKEND_TOKEN": "t"}
    ran = run(capsys, monkeypatch, "check", env=env)
    assert ran.code == 1
    backend = [line for line in ran.stdout.splitlines() if line.split()[1:2] == ["backend"]]
    assert [line.split(None, 2)[2] for line in backend] == [
        "BACKEND_BASE_URL must start with http:// or https://",
        "skipped: the backend's settings fail above",
    ]


@pytest.mark.parametrize("value", [ARN, "alerts"])
def test_a_queue_url_setting_that_is_an_arn_or_a_name_says_what_a_queue_url_is(
    value: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """ALERT_TRIAGE_QUEUE_URL given the queue's ARN or name is exit 2 with one line showing the
    URL's form, as --queue-url and --dlq-url say it."""
    ran = run(capsys, monkeypatch, "check", env={"ALERT_TRIAGE_QUEUE_URL": value})
    assert ran.code == 2
    (line,) = ran.stderr.splitlines()
    assert line.startswith("triage: config: ALERT_TRIAGE_QUEUE_URL: ")
    assert "https://sqs.REGION.amazonaws.com/ACCOUNT/NAME" in line


def test_a_github_app_key_given_twice_is_refused_naming_both(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """GITHUB_APP_PRIVATE_KEY and GITHUB_APP_PRIVATE_KEY_FILE both set is exit 2 with one line
    naming both and neither key: which one signs would otherwise be a rule to look up."""
    key = tmp_path / "app.pem"
    key.write_text("-----BEGIN RSA PRIVATE KEY-----\nfile\n-----END RSA PRIVATE KEY-----\n")
    env = {"GITHUB_APP_PRIVATE_KEY": "inline-key-text", "GITHUB_APP_PRIVATE_KEY_FILE": str(key)}
    ran = run(capsys, monkeypatch, "check", env=env)
    assert ran.code == 2
    (line,) = ran.stderr.splitlines()
    assert "GITHUB_APP_PRIVATE_KEY and GITHUB_APP_PRIVATE_KEY_FILE" in line
    assert "inline-key-text" not in line


@pytest.mark.parametrize(
    "argv",
    [
        ["send", "-", "--queue-url", "https://sqs.eu-west-1.amazonaws.com/123456789012/alerts"],
        ["dlq", "peek", "--dlq-url", "https://sqs.eu-west-1.amazonaws.com/123456789012/dlq"],
    ],
)
def test_a_queue_option_in_another_region_than_aws_region_is_named(
    argv: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A queue option naming a queue in another region than AWS_REGION is exit 2 with one line
    saying so, before any call (SQS would answer that the queue does not exist)."""
    env = {
        "AWS_REGION": "us-east-1",
        "ALERT_TRIAGE_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/alerts",
    }
    ran = run(capsys, monkeypatch, *argv, env=env)
    assert ran.code == 2
    (line,) = ran.stderr.splitlines()
    assert line.startswith(f"triage: config: {argv[2]} names a queue in eu-west-1 but AWS_REGION")
    assert "set AWS_REGION=eu-west-1" in line
