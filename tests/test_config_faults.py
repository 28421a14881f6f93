"""Configuration as a hostile or unlucky user writes it: every mistake in a setting, the routes
file or a command line stops with one line naming it (never a traceback, never a secret), and
what people commonly write (blank values, a pasted newline, a byte order mark) just works."""

from __future__ import annotations

import asyncio
import http.server
import json
import logging
import math
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
import structlog

from case_chunks import assert_each, dealt
from daemon_harness import SRC, Queues, daemon_env, made_store, settings_for
from triage.app import deployment_warnings, routing_warnings
from triage.cli import EXIT_PIPE_CLOSED, main
from triage.errors import ConfigError
from triage.incidents import Policy, open_store
from triage.routes import MAX_FILE_BYTES, MAX_ROUTES, load_router
from triage.settings import (
    HEADER_CREDENTIALS,
    MAX_DURATION_S,
    URL_FIELDS,
    WHOLE_SECOND_FIELDS,
    Settings,
    env_name,
    load_settings,
    short_intervals,
    tracing_endpoint_problem,
    unknown_variables,
)
from triage.tracing import Tracing

ROOT = Path(__file__).resolve().parents[1]
PAYLOADS = Path(__file__).resolve().parent / "payloads"

#: Every duration setting that takes fractions (the float ones): inf, nan and typos of size.
FLOAT_DURATIONS = [
    f
    for f, info in Settings.model_fields.items()
    if f.endswith("_s") and info.annotation in (float, "float")
]


def env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines as docker compose's `env_file` hands them over: values as written."""
    values = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#") and "=" in line:
            key, _, value = line.partition("=")
            values[key.strip()] = value
    return values


def load_with(monkeypatch: pytest.MonkeyPatch, **env: str) -> Settings:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return load_settings()


def config_error(monkeypatch: pytest.MonkeyPatch, **env: str) -> str:
    """The ConfigError line `env` gives, checked to be one line."""
    with pytest.raises(ConfigError) as caught:
        load_with(monkeypatch, **env)
    message = str(caught.value)
    assert "\n" not in message
    return message


#: One check of a setting costs ~1 ms, less than the ~1.5 ms of CPU a pytest item costs of its
#: own, so the checks of every field run as a few items (tests/case_chunks.py), each case in an
#: environment of its own and each failing one named with what it gave.
CHUNKS = 3


def loaded_with(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> Settings:
    """The settings `env` gives, the environment put back afterwards."""
    with monkeypatch.context() as scoped:
        for name, value in env.items():
            scoped.setenv(name, value)
        return load_settings()


def refusal(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> str:
    """The ConfigError line `env` gives, or what happened instead (the environment put back)."""
    try:
        loaded_with(monkeypatch, env)
    except ConfigError as error:
        return str(error)
    return "(no ConfigError: the settings loaded)"


def refused_naming(monkeypatch: pytest.MonkeyPatch, env: dict[str, str], *named: str) -> str | None:
    """None when `env` is refused in one line holding each of `named`, else that line."""
    message = refusal(monkeypatch, env)
    ok = "\n" not in message and all(part in message for part in named)
    return None if ok else message


# --- Settings: what people write in env files ------------------------------------------------


def test_env_example_copied_to_env_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    """`cp .env.example .env` gives the worker settings it accepts (blank optional ids included)."""
    settings = load_with(monkeypatch, **env_file(ROOT / ".env.example"))
    assert settings.github_app_installation_id is None
    assert settings.routes_file is None and settings.patterns_file is None


BLANK_FIELDS = [
    (field, blank) for blank in ["", "  ", "\n"] for field in sorted(Settings.model_fields)
]


@pytest.mark.parametrize("cases", dealt(BLANK_FIELDS, CHUNKS))
def test_a_blank_value_means_unset(
    monkeypatch: pytest.MonkeyPatch, cases: list[tuple[str, str]]
) -> None:
    """Every setting given as an empty or blank value takes its default, as if unset."""

    def check(case: tuple[str, str]) -> tuple[object, object]:
        field, blank = case
        settings = loaded_with(monkeypatch, {env_name(field): blank})
        return getattr(settings, field), Settings.model_fields[field].default

    assert_each(cases, check, name="field/blank")


def test_whitespace_around_a_value_is_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    """A key pasted with its newline and words padded with spaces are read as meant."""
    settings = load_with(
        monkeypatch,
        OPENAI_API_KEY="sk-pasted-with-newline\n",
        TRIAGE_LOG_LEVEL=" INFO ",
        TRIAGE_SLACK_MIN_PRIORITY=" High ",
        TRIAGE_CONCURRENCY=" 8 ",
    )
    assert settings.openai_api_key is not None
    assert settings.openai_api_key.get_secret_value() == "sk-pasted-with-newline"
    assert (settings.log_level, settings.slack_min_priority, settings.concurrency) == (
        "info",
        "high",
        8,
    )


def test_a_blank_openai_key_is_no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """TRIAGE_LLM_PROVIDER=openai with a key of spaces stops start-up instead of sending it."""
    message = config_error(monkeypatch, TRIAGE_LLM_PROVIDER="openai", OPENAI_API_KEY="   ")
    assert "OPENAI_API_KEY" in message


ABSURD_DURATIONS = [
    (field, value)
    for value in ["inf", "-inf", "nan", "1e400", f"{MAX_DURATION_S * 10}"]
    for field in FLOAT_DURATIONS
]


@pytest.mark.parametrize("cases", dealt(ABSURD_DURATIONS, CHUNKS))
def test_durations_are_finite_and_at_most_ten_years(
    monkeypatch: pytest.MonkeyPatch, cases: list[tuple[str, str]]
) -> None:
    """An infinite, undefined or absurd duration names its variable in one line, at start-up
    (an infinite update interval used to overflow the first timedelta: a traceback)."""

    def check(case: tuple[str, str]) -> tuple[str | None, None]:
        variable, value = env_name(case[0]), case[1]
        return refused_naming(monkeypatch, {variable: value}, variable), None

    assert_each(cases, check, name="field/value")


def test_every_integer_duration_is_read_as_whole_seconds() -> None:
    """Each duration setting that is an integer (SQS counts in whole seconds) takes the whole
    seconds check, so none of them refuses `60.0` as "not a valid integer"."""
    integers = {
        f
        for f, info in Settings.model_fields.items()
        if info.annotation in (int, "int") and (f.endswith("_s") or f == "sqs_wait_time")
    }
    assert integers == set(WHOLE_SECOND_FIELDS)


def test_whole_seconds_written_as_a_decimal_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """SQS_WAIT_TIME=5.0 and TRIAGE_VISIBILITY_TIMEOUT_S=60.0 are the durations they say (the
    README: durations are numbers of seconds); they were refused as "not a valid integer"."""

    def check(case: tuple[str, str]) -> tuple[object, object]:
        field, written = case
        value = getattr(loaded_with(monkeypatch, {env_name(field): written.format(n=5)}), field)
        return (value, type(value)), (5, int)

    writings = ["{n}.0", " {n}.000 ", "{n}.", "{n}e0"]
    assert_each(
        [(field, written) for written in writings for field in WHOLE_SECOND_FIELDS],
        check,
        name="field/written",
    )


@pytest.mark.parametrize("field", WHOLE_SECOND_FIELDS)
def test_a_fraction_of_a_second_is_refused_saying_whole_seconds(
    monkeypatch: pytest.MonkeyPatch, field: str
) -> None:
    """`5.5` for an integer-second setting is one line naming the variable and saying it takes
    whole seconds, from the environment and from Settings(...) alike."""
    message = config_error(monkeypatch, **{env_name(field): "5.5"})
    assert message.startswith(f"{env_name(field)}: ") and "whole seconds" in message
    with pytest.raises(ValueError, match="whole seconds"):
        Settings(**{field: 5.5})


@pytest.mark.parametrize(
    "url",
    [
        "postgres://triage:s3cr3tPassw0rd@db.internal/triage",
        "sqlite://triage:s3cr3tPassw0rd@host",
        "dynamodb://triage:s3cr3tPassw0rd@/",
    ],
)
async def test_open_store_names_the_variable_without_quoting_the_url(url: str) -> None:
    """open_store given a URL the settings would refuse (a caller that skipped them) says why
    and names TRIAGE_STORE_URL, never the URL: it may carry a password."""
    with pytest.raises(ConfigError) as caught:
        await open_store(url, Policy(), timedelta(seconds=150), timedelta(days=30))
    message = str(caught.value)
    assert "TRIAGE_STORE_URL" in message and "s3cr3t" not in message


async def test_open_store_reads_the_scheme_in_any_case(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """`SQLite:///DIR/x.db` is the relative path DIR/x.db, as `sqlite:///` is (it was opened
    as /DIR/x.db, at the root of the file system)."""
    monkeypatch.chdir(tmp_path)
    name = f"store-{uuid.uuid4().hex}"
    try:
        store = await open_store(
            f"SQLite:///{name}/x.db", Policy(), timedelta(seconds=150), timedelta(days=30)
        )
        await store.aclose()
        assert (tmp_path / name / "x.db").is_file()
    finally:
        shutil.rmtree(Path("/") / name, ignore_errors=True)  # where the old code put it


def test_a_tracing_endpoint_that_is_no_url_is_named_without_its_value() -> None:
    """An OTLP endpoint that is not an http(s) URL with a host is a reason naming the variable
    that says tracing is off, never quoting the value (it may carry a user and password)."""

    def check(case: tuple[str, str]) -> tuple[str | None, None]:
        variable, value = case
        problem = tracing_endpoint_problem({variable: value})
        ok = (
            problem is not None
            and problem.startswith(variable)
            and "tracing is off" in problem
            and value not in problem
            and "s3cr3t" not in problem
        )
        return (None if ok else str(problem)), None

    variables = ["OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"]
    values = ["not a url", "user:s3cr3tPassw0rd@collector:4318", "ftp://collector", "http:///v1"]
    assert_each([(v, x) for v in variables for x in values], check, name="variable/value")


def test_a_tracing_endpoint_is_judged_as_the_exporter_reads_it() -> None:
    """No endpoint, a valid one, or a valid traces endpoint (which the exporter uses instead
    of the general one, whatever that holds) is no problem."""
    assert tracing_endpoint_problem({}) is None
    assert tracing_endpoint_problem({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://otel:4318"}) is None
    both = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": "not a url",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "https://otel.example/v1/traces",
    }
    assert tracing_endpoint_problem(both) is None


def test_polling_intervals_under_a_second_are_named() -> None:
    """TRIAGE_METRICS_INTERVAL_S and TRIAGE_QUEUE_DEPTH_POLL_S under 1 s are one line each,
    naming the variable and what it costs; at 1 s, turned off (0, or metrics off) or by
    default, none."""
    short = Settings(metrics_interval_s=0.01, queue_depth_poll_s=0.5)
    lines = short_intervals(short)
    assert [line.split()[0] for line in lines] == [
        "TRIAGE_METRICS_INTERVAL_S",
        "TRIAGE_QUEUE_DEPTH_POLL_S",
    ]
    assert "100 times a second" in lines[0] and "2 times a second" in lines[1]
    assert short_intervals(Settings()) == []
    assert short_intervals(Settings(metrics_interval_s=1, queue_depth_poll_s=1)) == []
    assert short_intervals(Settings(metrics="off", metrics_interval_s=0.01)) == []
    assert short_intervals(Settings(queue_depth_poll_s=0)) == []


def test_url_settings_must_be_http_urls(monkeypatch: pytest.MonkeyPatch) -> None:
    """A URL setting without http(s):// and a host stops start-up naming it, without its value
    (a URL can carry a password; AWS_ENDPOINT_URL=localhost:4566 used to be a traceback)."""

    def check(case: tuple[str, str]) -> tuple[str | None, None]:
        field, value = case
        message = refusal(monkeypatch, {env_name(field): value})
        ok = "\n" not in message and env_name(field) in message and "s3cr3t" not in message
        return (None if ok else message), None

    values = ["localhost:4566", "ftp://host/x", "http://", "user:s3cr3t@host"]
    assert_each([(f, v) for v in values for f in URL_FIELDS], check, name="field/value")


@pytest.mark.parametrize("field", HEADER_CREDENTIALS)
def test_a_credential_with_whitespace_inside_is_refused_unquoted(
    monkeypatch: pytest.MonkeyPatch, field: str
) -> None:
    """A token that cannot go in an HTTP header is refused at start-up, and the error shows
    none of it (the HTTP library's own error would quote the header)."""
    message = config_error(monkeypatch, **{env_name(field): "tok-0123456789 abcdef-SECRET\x07"})
    assert env_name(field) in message and "SECRET" not in message and "0123" not in message


def test_aws_region_is_checked_and_falls_back_to_aws_default_region(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """AWS_REGION must be a region name; unset, AWS_DEFAULT_REGION (the SDKs' fallback) is used."""
    assert "AWS_REGION" in config_error(monkeypatch, AWS_REGION="us east 1")
    monkeypatch.delenv("AWS_REGION")
    assert load_with(monkeypatch, AWS_DEFAULT_REGION="eu-west-1").aws_region == "eu-west-1"


def test_a_queue_in_another_region_than_aws_region_is_named(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """botocore sends SQS calls to AWS_REGION's endpoint, so a queue URL of another region
    would answer "does not exist": one line naming both regions instead; a local endpoint, or
    the queue's own region, is fine."""
    queue = "https://sqs.eu-west-1.amazonaws.com/123456789012/alerts"
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    message = config_error(monkeypatch, ALERT_TRIAGE_QUEUE_URL=queue, AWS_REGION="us-east-1")
    assert "names a queue in eu-west-1 but AWS_REGION is us-east-1" in message
    settings = load_with(monkeypatch, ALERT_TRIAGE_QUEUE_URL=queue, AWS_REGION="eu-west-1")
    assert settings.queue_url == queue
    local = "http://localhost:4566/000000000000/alerts"
    assert load_with(monkeypatch, ALERT_TRIAGE_QUEUE_URL=local, AWS_REGION="us-east-1").queue_url


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"GITHUB_REPOSITORY": "not-a-repo"}, "GITHUB_REPOSITORY"),
        ({"GITHUB_APP_INSTALLATION_ID": "-5"}, "GITHUB_APP_INSTALLATION_ID"),
        ({"TRIAGE_SINKS": " , "}, "TRIAGE_SINKS"),
        ({"TRIAGE_RETRY_BASE_S": "600"}, "TRIAGE_RETRY_BASE_S (600) must be at most"),
        (
            {"TRIAGE_RECEIVE_RETRY_BASE_S": "60"},
            "TRIAGE_RECEIVE_RETRY_BASE_S (60) must be at most",
        ),
        ({"CLOUDWATCH_NAMESPACE": "AWS/Triage"}, "CLOUDWATCH_NAMESPACE"),
        ({"CLOUDWATCH_NAMESPACE": "Triage\u00e9"}, "CLOUDWATCH_NAMESPACE"),
    ],
)
def test_values_that_cannot_work_name_their_variable(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], named: str
) -> None:
    """A repository that is not owner/name, a negative id, a sink list naming no sink, a retry
    base above the cap it would always be cut to, a metric namespace CloudWatch refuses: one
    line each."""
    assert named in config_error(monkeypatch, **env)


def test_a_misspelt_variable_is_named_with_the_closest_setting() -> None:
    """TRIAGE_CONCURENCY and SQS_WAIT_TIMES are reported (their values would be ignored); real
    settings, the token's variable, other programs' TRIAGE_* variables and prefixes shared
    with SDKs (OPENAI_, GITHUB_, AWS_) are not."""
    messages = unknown_variables(
        {
            "TRIAGE_CONCURENCY": "4",
            "TRIAGE_CONCURRENCY": "4",
            "TRIAGE_TABLE_NAME": "t",
            "triage_log_level": "info",
            "SQS_WAIT_TIMES": "5",
            "BACKEND_TOKEN": "t",
            "MY_TOKEN": "t",
            "BACKEND_API_KEY": "k",
            "OPENAI_ORG_ID": "o",
            "GITHUB_SHA": "abc",
            "PATH": "/usr/bin",
        },
        token_variable="BACKEND_API_KEY",
    )
    assert messages == [
        "BACKEND_TOKEN is not a setting and is ignored",
        "SQS_WAIT_TIMES is not a setting and is ignored; did you mean SQS_WAIT_TIME?",
        "TRIAGE_CONCURENCY is not a setting and is ignored; did you mean TRIAGE_CONCURRENCY?",
    ]


def test_the_cli_warns_of_a_misspelt_variable_in_the_log(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A command run with a misspelt TRIAGE_* variable logs one config.unknown_variable warning."""
    monkeypatch.setenv("TRIAGE_HTTP_PORT", "0")
    monkeypatch.setenv("TRIAGE_SHUTDOWN_GRACE", "5")
    assert main(["health"]) == 1
    warnings = [
        json.loads(line)
        for line in capsys.readouterr().err.splitlines()
        if "config.unknown_variable" in line
    ]
    assert [w["detail"] for w in warnings] == [
        "TRIAGE_SHUTDOWN_GRACE is not a setting and is ignored; did you mean TRIAGE_SHUTDOWN_GRACE_S?"
    ]


def test_a_bad_setting_stops_the_process_with_one_line_and_exit_2(tmp_path: Path) -> None:
    """`python -m triage run` with an invalid value: exit 2, one stderr line, no traceback, and
    the secrets of the environment nowhere in it."""
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(SRC),
        "HOME": str(tmp_path),
        "ALERT_TRIAGE_QUEUE_URL": "http://127.0.0.1:9/000000000000/alerts",
        "TRIAGE_STORE_URL": f"sqlite:///{tmp_path / 't.db'}",
        "OPENAI_API_KEY": "sk-never-shown-0123456789",
        "TRIAGE_UPDATE_INTERVAL_S": "1e400",
    }
    result = subprocess.run(
        [sys.executable, "-m", "triage", "run"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith("triage: config: TRIAGE_UPDATE_INTERVAL_S")
    assert "sk-never-shown" not in line


# --- Start-up: the queue and the credentials -------------------------------------------------


def test_run_without_aws_credentials_stops_with_one_line(
    queues: Queues,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """No credentials anywhere: `triage run` exits 2 saying so, instead of retrying its
    receives forever."""
    for name, value in daemon_env(
        settings_for(queues, "http://127.0.0.1:9", tmp_path / "t.db")
    ).items():
        if name != "PATH":
            monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    assert main(["run"]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("triage: config: no AWS credentials")


def test_run_against_a_queue_that_does_not_exist_stops_with_one_line(
    queues: Queues,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A queue URL naming no queue is a configuration mistake: exit 2, one line naming it."""
    monkeypatch.setattr(logging.getLogger("werkzeug"), "disabled", True)  # moto's request log
    missing = queues.url.rsplit("/", 1)[0] + "/no-such-queue"
    settings = settings_for(queues, "http://127.0.0.1:9", tmp_path / "t.db", queue_url=missing)
    for name, value in daemon_env(settings).items():
        if name != "PATH":
            monkeypatch.setenv(name, value)
    assert main(["run"]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("triage: config: ALERT_TRIAGE_QUEUE_URL") and "no-such-queue" in line


@pytest.mark.parametrize("variable", ["SSL_CERT_FILE", "AWS_CA_BUNDLE", "REQUESTS_CA_BUNDLE"])
@pytest.mark.parametrize("bundle", ["missing.pem", "not-a-bundle.pem", "."])
def test_a_ca_bundle_that_cannot_be_loaded_stops_with_one_line(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    variable: str,
    bundle: str,
) -> None:
    """A CA bundle variable naming a missing file, a directory or a file without certificates
    stops a command with one line naming it (SSL_CERT_FILE was a traceback at the first sink,
    AWS_CA_BUNDLE a daemon failing every receive forever)."""
    (tmp_path / "not-a-bundle.pem").write_text("not a certificate\n")
    monkeypatch.setenv(variable, str(tmp_path / bundle))
    assert main(["check"]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith(f"triage: config: {variable} ")


def test_a_github_app_key_file_that_is_not_text_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A binary (DER) GITHUB_APP_PRIVATE_KEY_FILE stops start-up with one line that shows none
    of its bytes (it was a UnicodeDecodeError traceback)."""
    from triage.sinks.github import GitHubSink

    key = tmp_path / "key.der"
    key.write_bytes(b"\x30\x82\xff\xfe-SECRET-KEY-BYTES")
    settings = Settings(
        github_repository="acme/ops",
        github_app_id="1",
        github_app_installation_id=2,
        github_app_private_key_file=key,
    )
    with pytest.raises(ConfigError, match="GITHUB_APP_PRIVATE_KEY_FILE") as caught:
        GitHubSink(settings)
    assert "SECRET" not in str(caught.value) and "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("env", "said"),
    [
        ({"AWS_PROFILE": "nope"}, "The config profile (nope) could not be found"),
        ({"AWS_SECRET_ACCESS_KEY": ""}, "missing: AWS_SECRET_ACCESS_KEY"),
        ({"AWS_PROFILE": "p", "AWS_CONFIG_FILE": "{bad}"}, "Unable to parse config file"),
    ],
)
@pytest.mark.parametrize("command", ["run", "send"])
def test_aws_settings_botocore_refuses_stop_with_one_line(
    queues: Queues,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    env: dict[str, str],
    said: str,
    command: str,
) -> None:
    """An AWS_PROFILE no config file has, a config file botocore cannot parse, or half a key
    pair: exit 2 with one line saying so (each was a botocore traceback)."""
    for name, value in daemon_env(
        settings_for(queues, "http://127.0.0.1:9", tmp_path / "t.db")
    ).items():
        if name != "PATH":
            monkeypatch.setenv(name, value)
    (tmp_path / "bad").write_text("[profile p\nregion = x\n")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    for name, value in env.items():
        monkeypatch.setenv(name, value.replace("{bad}", str(tmp_path / "bad")))
    if not env.get("AWS_SECRET_ACCESS_KEY", "x"):
        monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    body = tmp_path / "alert.json"
    body.write_text('{"title": "x"}')
    assert main([command] if command == "run" else [command, str(body)]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("triage: config: AWS: ") and said in line


def test_defaults_that_are_likely_wrong_where_it_runs_are_warned_about() -> None:
    """The backend's development URL left unset, and a SQLite store inside an ECS task (each
    replica its own file: a ticket per replica), each give one startup warning; set, none."""
    ecs = {"ECS_CONTAINER_METADATA_URI_V4": "http://169.254.170.2/v4/x"}
    warned = deployment_warnings(Settings(), ("backend",), ecs)
    assert [event for event, _ in warned] == [
        "config.default_backend_url",
        "config.sqlite_in_a_task",
    ]
    chosen = Settings(backend_base_url="https://tickets.example", store_url="dynamodb://t")
    assert deployment_warnings(chosen, ("backend",), ecs) == []
    assert deployment_warnings(Settings(), ("github",), {}) == []


def test_a_polling_interval_under_a_second_is_a_startup_warning_of_the_daemon() -> None:
    """`triage run` warns once (`config.short_interval`) of a queue-depth poll or a metrics
    flush under a second, which works but gains nothing."""
    short = Settings(store_url="dynamodb://t", queue_depth_poll_s=0.2)
    assert [event for event, _ in deployment_warnings(short, ("github",), {})] == [
        "config.short_interval"
    ]


def test_the_daemons_tracing_is_off_with_one_line_when_its_endpoint_is_no_url(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """OTEL_EXPORTER_OTLP_ENDPOINT that is no URL (its scheme forgotten): `Tracing.from_environment`,
    which the daemon and the gateway call, makes no spans and says so once, never the value."""
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "collector.internal:4318")
    with structlog.testing.capture_logs() as logs:
        tracing = Tracing.from_environment("triage")
    assert not tracing.enabled
    [line] = [e for e in logs if e["event"] == "tracing.off"]
    assert "OTEL_EXPORTER_OTLP_ENDPOINT" in line["reason"]
    assert "collector.internal" not in str(logs)


# --- The command line ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["dlq", "peek", "--max", "0"],
        ["dlq", "peek", "--max=-5"],
        ["dlq", "redrive", "--max", "ten"],
        ["health", "--timeout", "nan"],
        ["health", "--timeout=-1"],
        ["health", "--timeout", "inf"],
        ["health", "--timeout", "0"],
    ],
)
def test_impossible_numbers_on_the_command_line_are_usage_errors(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """A count below 1 or a timeout that is not a positive finite number: exit 2 with argparse's
    usage line, before anything runs (`--timeout nan` used to be a traceback)."""
    with pytest.raises(SystemExit) as caught:
        main(argv)
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "error: argument" in err


def test_output_to_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    """`triage normalize BIG | head -1`: the reader leaves after one line; triage stops with
    141 (as a Unix filter cut off by its pipe) and no BrokenPipeError traceback."""
    group = json.loads((PAYLOADS / "alertmanager" / "group-firing.json").read_text())
    template = group["alerts"][0]
    group["alerts"] = [
        {**template, "labels": {**template["labels"], "pod": f"api-{i}"}} for i in range(1000)
    ]
    body = tmp_path / "big.json"
    body.write_text(json.dumps(group), encoding="utf-8")
    process = subprocess.Popen(
        [sys.executable, "-m", "triage", "normalize", str(body)],
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(SRC)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    assert process.stdout.readline().startswith(b"{")
    process.stdout.close()
    with process.stderr:
        stderr = process.stderr.read().decode()
    assert process.wait(timeout=60) == EXIT_PIPE_CLOSED
    assert stderr == ""


@pytest.mark.parametrize(
    ("comment", "code", "said"),
    [
        ("  ", 2, "--comment is blank: a close needs a comment saying why"),
        ("why", 1, "no incident f00"),
    ],
)
def test_closing_by_hand_checks_its_arguments_before_it_needs_a_token(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    comment: str,
    code: int,
    said: str,
) -> None:
    """`incidents close` with a blank comment is a usage error, and an unknown fingerprint is
    named as such, even where no backend token is set (both used to end on "no backend
    token", and a blank comment closed incidents saying nothing)."""
    monkeypatch.setenv("TRIAGE_STORE_URL", f"sqlite:///{tmp_path / 't.db'}")
    made_store(tmp_path / "t.db")  # the daemon's store
    assert main(["incidents", "close", "f00", "--comment", comment]) == code
    assert capsys.readouterr().err.splitlines() == [f"triage: incidents: {said}"]


@pytest.mark.parametrize("verb", [["show"], ["close", "--comment", "why"]])
def test_a_fingerprint_argument_that_is_not_utf8_is_no_incident(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    verb: list[str],
) -> None:
    """`incidents show` or `close` given bytes that are not UTF-8 (a lone surrogate to Python)
    says there is no such incident, escaped; SQLite's encoder raised it out as a traceback."""
    monkeypatch.setenv("TRIAGE_STORE_URL", f"sqlite:///{tmp_path / 't.db'}")
    made_store(tmp_path / "t.db")  # the daemon's store
    assert main(["incidents", verb[0], "\udcff", *verb[1:]]) == 1
    assert capsys.readouterr().err.splitlines() == ["triage: incidents: no incident '\\udcff'"]


class _Healthy(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/healthz" else 404)
        self.end_headers()
        self.wfile.write(b'{"alive": true}')  # what triage's /healthz answers

    def log_message(self, *args: object) -> None:
        pass


class _Ipv6Server(http.server.ThreadingHTTPServer):
    address_family = socket.AF_INET6


@pytest.mark.parametrize(
    ("server", "listen", "bind"),
    [
        (_Ipv6Server, "::1", "::1"),
        (http.server.ThreadingHTTPServer, "0.0.0.0", "127.0.0.1"),
        (http.server.ThreadingHTTPServer, "127.0.0.1", "127.0.0.1"),
    ],
)
def test_health_probes_the_address_the_endpoints_listen_on(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    server: type[http.server.ThreadingHTTPServer],
    listen: str,
    bind: str,
) -> None:
    """`triage health` (the container's health check) reaches endpoints on TRIAGE_HTTP_HOST:
    loopback for every address, else that address (it always probed 127.0.0.1, so endpoints
    on ::1 were reported down and the container restarted as unhealthy)."""
    with server((bind, 0), _Healthy) as httpd:
        threading.Thread(target=httpd.serve_forever, args=(0.01,), daemon=True).start()
        try:
            monkeypatch.setenv("TRIAGE_HTTP_HOST", listen)
            monkeypatch.setenv("TRIAGE_HTTP_PORT", str(httpd.server_address[1]))
            assert main(["health"]) == 0, capsys.readouterr().err
        finally:
            httpd.shutdown()
    assert capsys.readouterr().out.endswith('200 {"alive": true}\n')


@pytest.mark.usefixtures("sigint_not_ignored")
def test_ctrl_c_while_a_command_waits_on_aws_exits_130_quietly(tmp_path: Path) -> None:
    """SIGINT while `triage send` waits for an endpoint that never answers: exit 130, nothing
    on stderr (no KeyboardInterrupt traceback)."""
    body = tmp_path / "alert.json"
    body.write_text('{"title": "x"}', encoding="utf-8")
    with socket.create_server(("127.0.0.1", 0)) as silent:
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        process = subprocess.Popen(
            [sys.executable, "-m", "triage", "send", "--queue-url", f"{url}/1/q", str(body)],
            env={
                "PATH": "/usr/bin:/bin",
                "PYTHONPATH": str(SRC),
                "HOME": str(tmp_path),
                "AWS_ACCESS_KEY_ID": "x",
                "AWS_SECRET_ACCESS_KEY": "y",
                "AWS_REGION": "us-east-1",
                "AWS_ENDPOINT_URL": url,
            },
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        silent.settimeout(60)
        connection, _ = silent.accept()  # the request is on its way, and will get no answer
        with connection:
            process.send_signal(signal.SIGINT)
            _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130
    assert stderr == b""


def test_a_cancelled_connects_late_callback_is_no_error_line_of_a_command() -> None:
    """The race Ctrl-C can hit (CPython 3.11's SIGINT cancels a connect inside its completion
    callback, which then sets the cancelled future): a one-shot command's loop logs that
    InvalidStateError at debug, not as an error on stderr; another callback's error still is
    one."""
    from structlog.testing import capture_logs

    from triage.cli import _one_shot

    async def command(failure: BaseException) -> int:
        loop = asyncio.get_running_loop()
        done = loop.create_future()
        done.cancel()
        setter = done.set_result if isinstance(failure, asyncio.InvalidStateError) else None

        def late() -> None:
            if setter is not None:
                setter(None)  # raises InvalidStateError: the future was cancelled
            else:
                raise failure

        loop.call_soon(late)
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        return 0

    with capture_logs() as quiet:
        assert _one_shot(command(asyncio.InvalidStateError())) == 0
    assert [(e["event"], e["log_level"]) for e in quiet] == [("asyncio.cancel_race", "debug")]
    loud: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = loud.append  # type: ignore[method-assign]
    logging.getLogger("asyncio").addHandler(handler)
    try:
        assert _one_shot(command(RuntimeError("a bug in a callback"))) == 0
    finally:
        logging.getLogger("asyncio").removeHandler(handler)
    assert [r.levelno for r in loud] == [logging.ERROR]


# --- The routes file -------------------------------------------------------------------------


def routes(tmp_path: Path, text: str | bytes) -> Settings:
    path = tmp_path / "routes.toml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return Settings(routes_file=path)


def route_error(tmp_path: Path, text: str | bytes) -> str:
    with pytest.raises(ConfigError) as caught:
        load_router(routes(tmp_path, text))
    message = str(caught.value)
    assert "\n" not in message and "routes.toml" in message
    return message


def test_a_routes_file_that_is_not_utf8_is_one_line(tmp_path: Path) -> None:
    """Latin-1 bytes in the routes file: a ConfigError naming the byte (it used to escape as a
    UnicodeDecodeError traceback)."""
    text = '[[route]]\nname = "café"\nsinks = ["backend"]\n'.encode("latin-1")
    assert "not UTF-8 (byte 21)" in route_error(tmp_path, text)


@pytest.mark.parametrize("name", ["routes.yaml", "routes.json"])
def test_a_yaml_or_json_routes_file_is_told_it_must_be_toml(tmp_path: Path, name: str) -> None:
    """A routes file written as YAML or JSON (as for Alertmanager) is told the format it needs."""
    path = tmp_path / name
    path.write_text("route:\n  receiver: x\n" if name.endswith("yaml") else '{"route": []}')
    with pytest.raises(ConfigError, match=r"not valid TOML \(routes files are TOML\)"):
        load_router(Settings(routes_file=path))


def test_a_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    """A routes file saved with a UTF-8 byte order mark (Windows editors) reads as without."""
    text = '\ufeff[[route]]\nname = "a"\nsinks = ["github"]\n'.encode()
    assert load_router(routes(tmp_path, text)).rules[0].route.name == "a"


def test_a_huge_routes_file_is_refused_before_it_is_read(tmp_path: Path) -> None:
    """A file over MAX_FILE_BYTES (a log pasted by mistake) is refused in one line."""
    text = "#" * (MAX_FILE_BYTES + 1)
    assert f"larger than {MAX_FILE_BYTES} bytes" in route_error(tmp_path, text)


def test_too_many_routes_are_one_line(tmp_path: Path) -> None:
    """More than MAX_ROUTES routes is refused (each is checked against every earlier one)."""
    one = '[[route]]\nname = "r{i}"\nsinks = ["backend"]\nmatch = {{ team = "t{i}" }}\n'
    text = "".join(one.format(i=i) for i in range(MAX_ROUTES + 1))
    assert "route" in route_error(tmp_path, text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (  # a catch-all first: nothing is left for the rest
            '[[route]]\nname = "all"\nsinks = ["backend"]\n'
            '[[route]]\nname = "pay"\nsinks = ["github"]\nmatch = { team = "payments" }\n',
            "route 'pay' can never match: route 'all'",
        ),
        (  # the later route only narrows the earlier one's conditions
            '[[route]]\nname = "a"\nsinks = ["backend"]\n'
            'match = { team = ["x", "y"], labels = { env = "*" } }\n'
            '[[route]]\nname = "b"\nsinks = ["github"]\n'
            'match = { team = "X", source = "grafana", labels = { env = "prod", k = "v" } }\n',
            "route 'b' can never match: route 'a'",
        ),
        (
            '[[route]]\nname = "a"\nsinks = ["backend"]\nmatch = { source = "grafna" }\n',
            "unknown source 'grafna'",
        ),
        (
            '[[route]]\nname = "a"\nsinks = ["backend"]\nmatch = { category = "disk-ful" }\n',
            "unknown category 'disk-ful'",
        ),
        (
            '[[route]]\nname = "a"\nsinks = ["backend"]\n[route.github]\nrepository = "a/b"\n',
            "[route.github] is given but github is not in sinks",
        ),
        (
            '[[route]]\nname = "a"\nsinks = ["backend"]\n[route.slack]\nwebhook_url = "https://h/x"\n',
            "[route.slack] is given but slack is not in sinks",
        ),
        ('[[route]]\nname = "  "\nsinks = ["backend"]\n', ".name"),
        ('[[route]]\nname = "a\\u0000b"\nsinks = ["backend"]\n', ".name"),
        ('[[route]]\nname = "a"\nsinks = ["backend"]\ngroup_by = [""]\n', "group_by"),
        ('[[route]]\nname = "a"\nsinks = ["github"]\ngithub = { labels = [""] }\n', "labels"),
        (
            '[[route]]\nname = "a"\nsinks = ["github"]\ngithub = { assignees = ["a b"] }\n',
            "assignees",
        ),
        (
            '[[route]]\nname = "a"\nsinks = ["slack"]\nslack = { webhook_url = "https://" }\n',
            "webhook_url",
        ),
        (
            '[[route]]\nname = "a"\nsinks = ["github"]\nescalate_after_s = inf\n'
            '[route.escalate]\ngithub_label = "x"\n',
            "escalate_after_s",
        ),
        (
            '[[route]]\nname = "a"\nsinks = ["github"]\nescalate_after_s = 1e300\n'
            '[route.escalate]\ngithub_label = "x"\n',
            "escalate_after_s",
        ),
        (
            '[[route]]\nname = "a"\nsinks = ["backend"]\ngroup_by = ["x"]\ngroup_window_s = nan\n',
            "group_window_s",
        ),
    ],
)
def test_routes_that_could_never_work_as_written_are_refused(
    tmp_path: Path, text: str, expected: str
) -> None:
    """A route no alert can reach, a source or category that does not exist, options for a sink
    the route does not use, blank names and labels, infinite times: each is one line naming it,
    where each used to load and route alerts elsewhere in silence (or overflow later)."""
    assert expected in route_error(tmp_path, text)


@pytest.mark.parametrize(
    "text",
    [
        '[[route]]\nname = "a"\nsinks = ["slack"]\nslack = { webhook_url_env = "HOOK" }\n',
        '[[route]]\nname = "a"\nsinks = ["github"]\nescalate_after_s = 60\n'
        '[route.escalate]\nslack_webhook_url_env = "HOOK"\n',
    ],
)
def test_a_webhook_variable_that_holds_no_url_is_refused_unquoted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str
) -> None:
    """A route's webhook variable holding no http(s) URL stops start-up naming the variable, not
    its value (every post was refused as SinkRejectedError: its alerts went to the DLQ)."""
    monkeypatch.setenv("HOOK", "hooks.slack.com/services/T0/B0/SECRET")
    message = route_error(tmp_path, text)
    assert "HOOK is not an http(s) URL" in message and "SECRET" not in message


def test_priorities_are_read_as_sources_write_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """P0..P3 (any case) mean critical..low in TRIAGE_SLACK_MIN_PRIORITY and in a route's
    match, as in alerts; they used to be refused as unknown priorities."""
    assert load_with(monkeypatch, TRIAGE_SLACK_MIN_PRIORITY="P1").slack_min_priority == "high"
    text = '[[route]]\nname = "a"\nsinks = ["backend"]\nmatch = { priority = "P0" }\n'
    text += '[[route]]\nname = "b"\nsinks = ["backend"]\nmatch = { priority = ["p2", "Low"] }\n'
    rules = load_router(routes(tmp_path, text)).rules
    assert [sorted(r.priority) for r in rules] == [["critical"], ["low", "medium"]]


def test_distinct_routes_in_any_order_still_load(tmp_path: Path) -> None:
    """Routes that overlap without one covering the other, and a narrow route before a broad
    one, are fine: the reachability check refuses only routes that can never match."""
    text = (
        '[[route]]\nname = "pay-prod"\nsinks = ["github"]\n'
        'match = { team = "payments", labels = { env = "prod" } }\n'
        '[[route]]\nname = "pay"\nsinks = ["backend"]\nmatch = { team = "payments" }\n'
        '[[route]]\nname = "grafana"\nsinks = ["backend"]\nmatch = { source = "grafana" }\n'
        '[[route]]\nname = "env-any"\nsinks = ["backend"]\nmatch = { labels = { env = "*" } }\n'
    )
    router = load_router(routes(tmp_path, text))
    assert [r.route.name for r in router.rules] == ["pay-prod", "pay", "grafana", "env-any"]


# --- Deploy files: every variable they set is a setting, every default the code's ------------

#: Variables the deploy files set that are not settings: AWS's own and the backend token
#: (read through BACKEND_TOKEN_ENV_KEY), and what the dev stack's LocalStack hook reads.
NOT_SETTINGS = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION", "BACKEND_TOKEN"}

#: .env.example values that are the dev stack's, not the defaults (the compose file's LocalStack,
#: its stand-in backend and its gateway tokens).
DEV_STACK_VALUES = {
    "ALERT_TRIAGE_QUEUE_URL",
    "AWS_ENDPOINT_URL",
    "BACKEND_BASE_URL",
    "BACKEND_TOKEN_SECRET_ID",
    "TRIAGE_BACKEND_UPDATE_ROUTE",
    "TRIAGE_BACKEND_RESOLVE_ROUTE",
    "TRIAGE_STORE_URL",
    "TRIAGE_HTTP_HOST",
    "TRIAGE_INGEST_TOKENS",
}


def hcl_environment_names(path: Path, block: str) -> set[str]:
    """The keys of the `block = ... {` map of environment variables in a Terraform file."""
    text = path.read_text(encoding="utf-8")
    start = text.index(f"{block} = ")
    body = text[start : text.index("\n  }", start)]
    return set(re.findall(r"^\s+([A-Z][A-Z0-9_]+)\s+=", body, re.M))


def compose_environment_names() -> set[str]:
    import yaml

    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    return {
        name
        for service in ("worker", "ingest")
        for name in compose["services"][service].get("environment", {})
    }


def ecs_environment_names() -> set[str]:
    names = set()
    for path in (ROOT / "deploy" / "ecs").glob("*.json"):
        text = re.sub(r"\$\{[A-Z_]+\}", "0", path.read_text(encoding="utf-8"))
        for container in json.loads(text)["containerDefinitions"]:
            names |= {e["name"] for e in container.get("environment", [])}
            names |= {s["name"] for s in container.get("secrets", [])}
    return names


def test_every_variable_the_deploy_files_set_is_a_setting() -> None:
    """Terraform's two environments, the ECS task definitions, the compose services and
    .env.example set only variables Settings reads (a typo there is silently ignored)."""
    settings = {env_name(field) for field in Settings.model_fields}
    terraform = ROOT / "deploy" / "terraform"
    found = {
        "terraform main.tf": hcl_environment_names(terraform / "main.tf", "environment"),
        "terraform ingest.tf": hcl_environment_names(terraform / "ingest.tf", "ingest_environment"),
        "ecs": ecs_environment_names(),
        "compose": compose_environment_names(),
        ".env.example": set(env_file(ROOT / ".env.example")),
    }
    assert all(found.values())
    unknown = {where: sorted(names - settings - NOT_SETTINGS) for where, names in found.items()}
    assert unknown == {where: [] for where in found}


def test_env_example_shows_the_code_defaults() -> None:
    """Each value .env.example writes is the setting's default, except the dev stack's own."""
    defaults = Settings()
    differ = []
    for name, value in env_file(ROOT / ".env.example").items():
        field = next((f for f in Settings.model_fields if env_name(f) == name), None)
        if field is None or name in DEV_STACK_VALUES:
            continue
        default = getattr(defaults, field)
        if hasattr(default, "get_secret_value"):
            default = default.get_secret_value()
        shown = default
        if shown is None or isinstance(shown, bool):
            shown = "" if shown is None else str(shown).lower()
        if isinstance(shown, tuple):
            shown = ",".join(shown)
        if isinstance(shown, float) and math.isfinite(shown) and shown.is_integer():
            shown = int(shown)
        if str(shown) != value:
            differ.append((name, value, shown))
    assert differ == []


def test_terraform_defaults_are_the_code_defaults() -> None:
    """A Terraform variable that sets a setting (its description starts with the variable's
    name) defaults to the setting's own default, or to null (the daemon's default applies);
    the gateway's shorter grace is its own choice."""
    text = (ROOT / "deploy" / "terraform" / "variables.tf").read_text(encoding="utf-8")
    defaults = Settings()
    by_env = {env_name(f): f for f in Settings.model_fields}
    differ = []
    for name, body in re.findall(r'variable "(\w+)" \{(.*?)\n\}', text, re.S):
        described = re.search(r'description\s*=\s*"([A-Z][A-Z0-9_]+)', body)
        given = re.search(r"^\s*default\s*=\s*(.+)$", body, re.M)
        if not (described and given) or described[1] not in by_env or name.startswith("ingest_"):
            continue
        default = given[1].strip().strip('"')
        code = getattr(defaults, by_env[described[1]])
        code = code.value if hasattr(code, "value") else code
        if default != "null" and str(code).removesuffix(".0") != default:
            differ.append((name, default, code))
    assert differ == []


def test_extra_environment_cannot_set_what_the_module_sets() -> None:
    """Terraform's extra_environment refuses every variable the module sets itself, injected
    secrets included: merged first, it would lose to the module's value in silence (and
    SLACK_WEBHOOK_URL there would put a credential in the task definition in plain text)."""
    terraform = ROOT / "deploy" / "terraform"
    text = (terraform / "variables.tf").read_text(encoding="utf-8")
    block = text[text.index('variable "extra_environment"') :]
    refused = set(re.findall(r'"([A-Z][A-Z0-9_]+)"', block[: block.index("error_message")]))
    main_tf = (terraform / "main.tf").read_text(encoding="utf-8")
    injected = set(re.findall(r'\{ name = "([A-Z][A-Z0-9_]+)", valueFrom', main_tf))
    managed = hcl_environment_names(terraform / "main.tf", "environment") | injected
    assert injected and sorted(managed - refused) == []


def test_a_routes_file_routing_nothing_is_a_startup_warning_of_the_daemon(tmp_path: Path) -> None:
    """A routes file of comments alone is taken as none, and `triage run` warns of it once
    (`config.routes_file_without_routes`), naming the file; a file with a route, none."""
    empty = tmp_path / "routes.toml"
    empty.write_text("# routes go here\n# [[route]]\n")
    settings = Settings(routes_file=empty)
    [(event, detail)] = routing_warnings(settings, load_router(settings))
    assert event == "config.routes_file_without_routes" and str(empty) in detail
    routed = tmp_path / "routed.toml"
    routed.write_text('[[route]]\nname = "pay"\nmatch = { team = ["pay"] }\nsinks = ["backend"]\n')
    settings = Settings(routes_file=routed)
    assert routing_warnings(settings, load_router(settings)) == []
    assert routing_warnings(Settings(), load_router(Settings())) == []
