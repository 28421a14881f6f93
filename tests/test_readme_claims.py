"""The README's Configuration and Commands sections, read as a team adopting triage would: a
setting it names is refused with one line that names it and never quotes a secret, and
`triage check` checks what the daemon would refuse at start-up, showing no credential."""

from __future__ import annotations

import asyncio
import io
import json
import os
from pathlib import Path

import boto3
import pytest

from daemon_harness import Queues, daemon_env, drain_settings, run_in_process, settings_for
from triage.app import deployment_warnings
from triage.errors import ConfigError
from triage.ingest_tokens import parse_tokens
from triage.ops.check import run_checks
from triage.redact import Redactor
from triage.secrets import BackendToken
from triage.settings import URL_FIELDS, Settings, env_name, load_settings, unknown_variables
from triage.summarise.deterministic import MAX_PATTERNS_BYTES, load_patterns
from triage.tracing import Tracing

SECRET = "s3cretPassw0rd"


def check_lines(settings: Settings, name: str) -> list[str]:
    """The lines of `triage check`'s report for the check called `name`."""
    out = io.StringIO()
    asyncio.run(run_checks(settings, out))
    return [line for line in out.getvalue().splitlines() if line.split()[1:2] == [name]]


# --- Values as env files write them ----------------------------------------------------------


@pytest.mark.parametrize("quote", ['"', "'"])
def test_a_value_in_quotes_is_read_without_them(
    quote: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`docker run --env-file`, systemd and an ECS environment file keep the quotes of
    `OPENAI_API_KEY="sk-…"` in the value: the key was sent with them (every call refused, the
    deterministic summariser writing every ticket), a route asked for `/"/api/…`. One pair of
    quotes around a whole value is dropped, as compose and a shell drop them (JSON, holding
    double quotes, in single ones)."""
    q = quote
    monkeypatch.setenv("OPENAI_API_KEY", f"{q}sk-quoted-0123456789{q}")
    monkeypatch.setenv("TRIAGE_BACKEND_UPDATE_ROUTE", f" {q}/api/tickets/{{ref}}{q}\n")
    monkeypatch.setenv("TRIAGE_INGEST_TOKENS", """'{"generic": "generic-token-0123456789"}'""")
    monkeypatch.setenv("GITHUB_APP_ID", f"{q}{q}")
    settings = load_settings()
    assert settings.openai_api_key is not None
    assert settings.openai_api_key.get_secret_value() == "sk-quoted-0123456789"
    assert settings.backend_update_route == "/api/tickets/{ref}"
    assert settings.ingest_tokens is not None
    assert settings.ingest_tokens.get_secret_value() == '{"generic": "generic-token-0123456789"}'
    assert settings.github_app_id is None


@pytest.mark.parametrize("value", ['"a" "b"', "'half", 'half"', "\"'", '"'])
def test_quotes_that_do_not_wrap_a_whole_value_are_kept(
    value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Quotes inside a value, or on one side only, are part of it: only a pair around the whole
    value, with no quote of its kind inside, is dropped. (A free-text setting carries them:
    a model's id refuses whitespace inside it.)"""
    monkeypatch.setenv("BACKEND_TOKEN_SECRET_ID", value)
    assert load_settings().backend_token_secret_id == value


# --- A credential in the wrong variable --------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("AWS_REGION", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYs3cretKEY1"),
        ("GITHUB_REPOSITORY", "ghp_s3cretPassw0rd0123456789abcdefABCDEF"),
        ("GITHUB_REPOSITORY", "github_pat_11ABCDEFG0s3cretPassw0rd_0123456789"),
        ("TRIAGE_SINKS", "backend,ghp_s3cretpassw0rd0123456789abcdefabcdef"),
    ],
)
def test_a_credential_pasted_into_a_plain_setting_is_not_quoted(
    name: str, value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two lines of an env file swapped (an AWS secret key under AWS_REGION, a GitHub token under
    GITHUB_REPOSITORY): the error names the variable and why, without the value, as a
    credential's own error would."""
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert message.startswith(f"{name}: ") and value[-12:].lower() not in message.lower()


@pytest.mark.parametrize(
    ("name", "value"),
    [("AWS_REGION", "eu west 1"), ("GITHUB_REPOSITORY", "https://github.com/acme/ops")],
)
def test_a_mistyped_region_or_repository_is_still_quoted(
    name: str, value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A value that is a region or a repository written wrongly is shown, so the typo is seen."""
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert repr(value) in str(caught.value)


def test_a_misspelt_sink_is_still_named(monkeypatch: pytest.MonkeyPatch) -> None:
    """TRIAGE_SINKS=backend,jira: the unknown sink is named beside the known ones."""
    monkeypatch.setenv("TRIAGE_SINKS", "backend,jira")
    with pytest.raises(ConfigError, match="unknown sink"):
        load_settings()
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert "jira" in str(caught.value) and "backend, github, slack" in str(caught.value)


# --- TRIAGE_STORE_URL ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        f"postgres://triage:{SECRET}@db.internal/triage",
        f"dynamodb://admin:{SECRET}@incidents",
        f"sqlite://triage:{SECRET}@/var/lib/triage.db",
        "dynamodb://",
        "dynamodb://incidents/prod",
        "dynamodb://incidents?region=eu-west-1",
        "dynamodb://my incidents",
        "sqlite://data/triage.db",
        "sqlite:///",
        "triage.db",
    ],
)
def test_a_store_url_that_names_no_store_is_refused_without_quoting_it(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A TRIAGE_STORE_URL no store reads (another database, a table name with a path or a
    password, `sqlite://data/x.db` whose `data` would be dropped as a host) is one line naming
    the variable and the two forms it takes, and never repeats the value, which may hold a
    password."""
    monkeypatch.setenv("TRIAGE_STORE_URL", url)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert message.startswith("TRIAGE_STORE_URL: ")
    assert "sqlite:///PATH" in message and "dynamodb://TABLE" in message
    assert SECRET not in message


@pytest.mark.parametrize(
    ("url", "read"),
    [
        ("sqlite:///triage.db", "sqlite:///triage.db"),
        ("sqlite:////var/lib/triage/triage.db", "sqlite:////var/lib/triage/triage.db"),
        ("SQLite:///triage.db", "sqlite:///triage.db"),
        ("dynamodb://triage-incidents", "dynamodb://triage-incidents"),
        ("DYNAMODB://Triage_Incidents.v2/", "dynamodb://Triage_Incidents.v2/"),
    ],
)
def test_the_store_urls_the_readme_shows_load(
    url: str, read: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`sqlite:///PATH` (relative or absolute) and `dynamodb://TABLE` are accepted, the scheme
    in any case: `SQLite:///triage.db` is the relative file triage.db (read with the scheme as
    written, the store took it for /triage.db)."""
    monkeypatch.setenv("TRIAGE_STORE_URL", url)
    assert load_settings().store_url == read


def test_a_command_given_a_store_url_with_a_password_exits_2_without_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`triage incidents list` with a PostgreSQL URL in TRIAGE_STORE_URL: exit 2, one stderr line
    naming the variable, and the password nowhere in what it printed."""
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "TRIAGE_STORE_URL": f"postgres://triage:{SECRET}@db.internal/triage",
    }
    result = run_in_process(monkeypatch, capsys, "incidents", "list", env=env)
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith("triage: config: TRIAGE_STORE_URL: ")
    assert SECRET not in result.stdout + result.stderr


# --- Credentials and URLs with characters no request can carry --------------------------------


@pytest.mark.parametrize("inside", [" ", "\x07", "\x1b[2J", "\u00e9", "\x85"])
def test_a_slack_webhook_with_whitespace_or_control_characters_is_refused_unquoted(
    inside: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The README: "a credential with spaces or control characters inside is refused". The Slack
    webhook URL is one (a pasted URL broken by a space was posted to a wrong URL, every message
    then failing): one line naming SLACK_WEBHOOK_URL, none of its value."""
    monkeypatch.setenv(
        "SLACK_WEBHOOK_URL", f"https://hooks.slack.com/services/T0/B0/{SECRET}{inside}x"
    )
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert (
        message.startswith("SLACK_WEBHOOK_URL: ") and SECRET not in message and "T0" not in message
    )


def test_a_slack_webhook_as_slack_gives_it_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    """A webhook URL as Slack writes it (a newline pasted after it dropped) is taken as it is."""
    url = f"https://hooks.slack.com/services/T0/B0/{SECRET}"
    monkeypatch.setenv("SLACK_WEBHOOK_URL", url + "\n")
    webhook = load_settings().slack_webhook_url
    assert webhook is not None and webhook.get_secret_value() == url


@pytest.mark.parametrize("field", URL_FIELDS)
@pytest.mark.parametrize("inside", ["\x07", "\x1b[2J", "\x7f", "\x9b"])
def test_a_url_setting_with_control_characters_inside_is_refused(
    field: str, inside: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A URL setting with a control character inside it (not whitespace, so it passed) is
    refused at start-up naming the variable, as one without a scheme is."""
    monkeypatch.setenv(env_name(field), f"http://127.0.0.1:4566/{inside}x")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    error = str(caught.value)
    # The queue's URL names the character it has no place for; the others what they must be.
    said = "has a character no queue URL has" if field == "queue_url" else "must be an http"
    assert error.startswith(f"{env_name(field)}: {said}")


@pytest.mark.parametrize(
    "name",
    [
        "AWS_ENDPOINT_URL",
        "AWS_CLOUDWATCH_ENDPOINT",
        "AWS_ENDPOINT_URL_BEDROCK_RUNTIME",
        "OPENAI_BASE_URL",
        "BACKEND_BASE_URL",
        "GITHUB_API_URL",
    ],
)
def test_a_url_whose_requests_carry_credentials_refuses_a_user_and_password(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A URL setting whose requests send their own Authorization header (AWS's signature, the
    API key, the bearer token) with `user:password@` in it: every request failed ("Cannot
    combine AUTHORIZATION header with … credentials encoded in URL"), `triage run` waiting for
    a queue it could never reach. Refused at start-up, naming it, quoting none of it."""
    monkeypatch.setenv(name, f"http://triage:{SECRET}@127.0.0.1:4566/")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert message.startswith(f"{name}: ") and "user and password" in message
    assert SECRET not in message


def test_the_queue_url_may_carry_a_user_and_password(monkeypatch: pytest.MonkeyPatch) -> None:
    """ALERT_TRIAGE_QUEUE_URL is a parameter of SQS's calls, not where they go: a user and
    password in it stop nothing (and `triage check` shows it without them)."""
    url = f"http://triage:{SECRET}@127.0.0.1:4566/000000000000/alerts"
    monkeypatch.setenv("ALERT_TRIAGE_QUEUE_URL", url)
    assert load_settings().queue_url == url


# --- What `triage run` refuses at start-up -------------------------------------------------


def test_run_refuses_a_github_app_key_that_cannot_sign(
    queues: Queues,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A GitHub App key that reads as PEM but is no RSA key: `triage check` fails it, and
    `triage run` stops at start-up with one line (exit 2), instead of starting and failing
    every GitHub call; the key is in neither."""
    env = daemon_env(
        settings_for(queues, "http://127.0.0.1:9", tmp_path / "t.db", sinks=("github",))
    )
    env.update(
        {
            "GITHUB_REPOSITORY": "acme/ops",
            "GITHUB_APP_ID": "12345",
            "GITHUB_APP_INSTALLATION_ID": "678",
            "GITHUB_APP_PRIVATE_KEY": f"-----BEGIN RSA PRIVATE KEY-----\\n{SECRET}\\n"
            "-----END RSA PRIVATE KEY-----",
        }
    )
    result = run_in_process(monkeypatch, capsys, "run", "--drain", env=env)
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1].startswith(
        "triage: config: the GitHub App private key cannot sign"
    )
    assert SECRET not in result.stdout + result.stderr


@pytest.mark.parametrize("headers", [SECRET + "-0123", f"x-api-key={SECRET}-0123,{SECRET}-4567"])
def test_a_tracing_header_written_without_its_name_is_not_logged(
    headers: str,
    queues: Queues,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """OTEL_EXPORTER_OTLP_HEADERS holding a bare token (its `name=` forgotten): OpenTelemetry
    warns that the header is invalid, quoting it, and the README promises no secret in a log
    line: the daemon holds those values as credentials, so the warning shows them redacted."""
    # Short polls: the drain of the empty queue ends at once (the warning is under test).
    env = daemon_env(drain_settings(settings_for(queues, "http://127.0.0.1:9", tmp_path / "t.db")))
    env.update(
        {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9", "OTEL_EXPORTER_OTLP_HEADERS": headers}
    )
    result = run_in_process(monkeypatch, capsys, "run", "--drain", env=env)
    assert result.returncode == 0
    assert "Header format invalid" in result.stderr
    assert SECRET not in result.stdout + result.stderr


def test_an_api_token_with_the_endpoints_off_is_warned_about() -> None:
    """TRIAGE_API_TOKEN set while TRIAGE_HTTP_PORT is 0: the operator API and status page it
    asks for are off, which `triage run` says at start-up (one `config.api_without_port`)."""
    token = "operator-token-0123456789"
    off = Settings(store_url="dynamodb://t", api_token=token, http_port=0)
    assert [event for event, _ in deployment_warnings(off, ("github",), {})] == [
        "config.api_without_port"
    ]
    on = Settings(store_url="dynamodb://t", api_token=token, http_port=8080)
    assert deployment_warnings(on, ("github",), {}) == []


# --- triage check ----------------------------------------------------------------------------


def test_check_shows_the_queue_without_a_user_and_password(queues: Queues, tmp_path: Path) -> None:
    """A queue URL carrying a user and password (a proxy's): the queue line names the queue
    without them."""
    url = queues.url.replace("http://", f"http://triage:{SECRET}@")
    settings = settings_for(queues, "http://127.0.0.1:9", tmp_path / "t.db", queue_url=url)
    (line,) = check_lines(settings, "queue")
    assert line.startswith("ok    queue    ") and queues.url in line
    assert SECRET not in line


def test_check_warns_of_a_queue_without_a_redrive_policy(queues: Queues, tmp_path: Path) -> None:
    """The README: "`triage check` warns when it has none": a queue without a redrive policy
    is a `warn` line (its failures would never leave it), one with a DLQ an `ok` line."""
    sqs = boto3.client("sqs", endpoint_url=queues.endpoint, region_name="us-east-1")
    bare = sqs.create_queue(QueueName="no-dlq")["QueueUrl"]
    settings = settings_for(queues, "http://127.0.0.1:9", tmp_path / "t.db", queue_url=bare)
    (line,) = check_lines(settings, "queue")
    assert line.startswith("warn  queue    ") and "WITHOUT a redrive policy" in line
    with_dlq = settings_for(queues, "http://127.0.0.1:9", tmp_path / "t.db")
    (line,) = check_lines(with_dlq, "queue")
    assert line.startswith("ok    queue    ") and "with a DLQ" in line


def test_check_fails_a_patterns_file_the_daemon_would_refuse(
    queues: Queues, tmp_path: Path
) -> None:
    """TRIAGE_PATTERNS_FILE naming no file: `triage run` stops on it, so `triage check`'s config
    line fails naming it (it said ok to everything before), beside a missing queue setting."""
    missing = tmp_path / "patterns.toml"
    settings = settings_for(queues, "http://127.0.0.1:9", tmp_path / "t.db", patterns_file=missing)
    (line,) = check_lines(settings, "config")
    assert line.startswith("FAIL  config   TRIAGE_PATTERNS_FILE ") and str(missing) in line
    unset = settings.model_copy(update={"queue_url": None})
    (line,) = check_lines(unset, "config")
    assert line.startswith("FAIL  config   missing required setting: ALERT_TRIAGE_QUEUE_URL; ")
    assert "TRIAGE_PATTERNS_FILE" in line


def test_check_names_the_patterns_it_would_use(queues: Queues, tmp_path: Path) -> None:
    """Without TRIAGE_PATTERNS_FILE the config line names the bundled patterns and how many
    it holds; with one, that file, and how many of its patterns RE2 cannot run."""
    settings = settings_for(queues, "http://127.0.0.1:9", tmp_path / "t.db")
    (line,) = check_lines(settings, "config")
    assert line.startswith("ok    config   ") and " patterns=bundled patterns.toml (" in line
    own = tmp_path / "own.toml"
    own.write_text(
        '[[pattern]]\ncategory = "disk"\npattern = "disk full"\nseverity_hint = "high"\n'
        'steps = ["Free some space"]\n',
        encoding="utf-8",
    )
    settings = settings_for(queues, "http://127.0.0.1:9", tmp_path / "t.db", patterns_file=own)
    assert check_lines(settings, "config") == [
        f"ok    config   sinks=backend concurrency=16 patterns={own} (1)"
    ]
    own.write_text(
        '[[pattern]]\ncategory = "disk"\npattern = "disk full"\nseverity_hint = "high"\n'
        'steps = ["Free some space"]\n'
        '[[pattern]]\ncategory = "job"\npattern = "(?<!cron )job failed"\n'
        'severity_hint = "low"\nsteps = ["Rerun it"]\n',
        encoding="utf-8",
    )
    assert check_lines(settings, "config") == [
        f"ok    config   sinks=backend concurrency=16 patterns={own} "
        "(2; 1 searched in an alert's start only)"
    ]


# --- Variables read under their documented names only -----------------------------------------

#: Settings whose variable is the original worker's or an SDK's name, not TRIAGE_<FIELD>.
ALIASED = [f for f, info in Settings.model_fields.items() if info.validation_alias is not None]


@pytest.mark.parametrize("field", ALIASED)
def test_a_setting_is_read_only_under_its_documented_name(
    field: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """TRIAGE_GITHUB_TOKEN, TRIAGE_QUEUE_URL, TRIAGE_AWS_REGION … are no settings: the README
    names GITHUB_TOKEN, ALERT_TRIAGE_QUEUE_URL, AWS_REGION, and `config.unknown_variable` says
    the others are ignored. They were read, though, which also let Terraform's
    `extra_environment` set a credential or the queue past the names it refuses."""
    for name in list(os.environ):
        if name.upper().startswith(("AWS_", "OPENAI_", "GITHUB_", "SLACK_", "TRIAGE_")):
            monkeypatch.delenv(name)
    default = load_settings()
    shadow = f"TRIAGE_{field.upper()}"
    monkeypatch.setenv(shadow, SHADOW_VALUES.get(field, "http://shadow.example/x"))
    assert getattr(load_settings(), field) == getattr(default, field)
    assert any(m.startswith(f"{shadow} is not a setting") for m in unknown_variables(os.environ))


#: A value each aliased setting would accept, to show it is not read.
SHADOW_VALUES = {
    "aws_region": "eu-west-3",
    "cloudwatch_namespace": "Shadow",
    "sqs_wait_time": "3",
    "sqs_max_messages": "2",
    "backend_service_route": "/shadow",
    "backend_token_secret_id": "shadow/secret",
    "backend_token_env_key": "SHADOW_TOKEN",
    "github_repository": "shadow/repo",
    "github_token": "ghp_shadow",
    "github_app_id": "4242",
    "github_app_private_key": "shadow-key",
    "github_app_private_key_file": "/shadow.pem",
    "github_app_installation_id": "4242",
    "openai_api_key": "sk-shadow",
    "openai_model": "shadow-model",
}


def test_check_reads_the_gateways_tokens_when_they_are_set(queues: Queues, tmp_path: Path) -> None:
    """TRIAGE_INGEST_TOKENS set: the ingest line names the sources it turns on; tokens that turn
    none on (each disabled): a warn line saying every webhook is 404; no tokens set (no
    gateway): no ingest line at all."""
    tokens = '{"generic": "generic-token-0123456789", "grafana": "grafana-token-0123456789"}'
    settings = settings_for(queues, "http://127.0.0.1:9", tmp_path / "t.db", ingest_tokens=tokens)
    assert check_lines(settings, "ingest") == [
        "ok    ingest   tokens for generic, grafana from TRIAGE_INGEST_TOKENS"
    ]
    none = settings_for(
        queues, "http://127.0.0.1:9", tmp_path / "t.db", ingest_tokens='{"generic": null}'
    )
    assert check_lines(none, "ingest") == [
        "warn  ingest   TRIAGE_INGEST_TOKENS gives no source a token: every webhook is answered 404"
    ]
    plain = settings_for(queues, "http://127.0.0.1:9", tmp_path / "t.db")
    assert check_lines(plain, "ingest") == []


@pytest.mark.parametrize(
    ("tokens", "says"),
    [
        ('{"generic": "' + SECRET + '-0123456789", ', "is not JSON"),
        ('{"generic": "' + SECRET + '"}', "shorter than 16 characters"),
        ('{"genric": "' + SECRET + '-0123456789"}', "unknown source(s) genric"),
        ('{"' + SECRET + '-0123456789": "generic"}', "unknown source(s) (25 characters)"),
        ('{"generic": "' + SECRET + ' 0123456789"}', "printable ASCII without whitespace"),
    ],
)
def test_check_fails_gateway_tokens_the_gateway_would_refuse(
    tokens: str, says: str, queues: Queues, tmp_path: Path
) -> None:
    """Tokens `triage ingest` would stop on (not JSON, too short, a misspelt source, a token
    written as the source, whitespace inside): one FAIL line saying why, without the token."""
    settings = settings_for(queues, "http://127.0.0.1:9", tmp_path / "t.db", ingest_tokens=tokens)
    (line,) = check_lines(settings, "ingest")
    assert line.startswith("FAIL  ingest   TRIAGE_INGEST_TOKENS") and says in line
    assert SECRET not in line


def test_check_reads_the_gateways_tokens_from_secrets_manager(
    queues: Queues, tmp_path: Path
) -> None:
    """TRIAGE_INGEST_TOKENS_SECRET_ID: the secret is read as the gateway reads it; a secret that
    does not exist is a FAIL naming the variable, and a secret of tokens the gateway would
    refuse is a FAIL saying why, without the token."""
    secrets = boto3.client("secretsmanager", endpoint_url=queues.endpoint, region_name="us-east-1")
    secrets.create_secret(
        Name="triage/ingest", SecretString='{"sentry": "sentry-secret-0123456789"}'
    )
    secrets.create_secret(Name="triage/short", SecretString='{"sentry": "' + SECRET + '"}')
    settings = settings_for(
        queues, "http://127.0.0.1:9", tmp_path / "t.db", ingest_tokens_secret_id="triage/ingest"
    )
    assert check_lines(settings, "ingest") == [
        "ok    ingest   tokens for sentry from TRIAGE_INGEST_TOKENS_SECRET_ID triage/ingest"
    ]
    missing = settings_for(
        queues, "http://127.0.0.1:9", tmp_path / "t.db", ingest_tokens_secret_id="triage/none"
    )
    (line,) = check_lines(missing, "ingest")
    assert line.startswith("FAIL  ingest   TRIAGE_INGEST_TOKENS_SECRET_ID 'triage/none'")
    short = settings_for(
        queues, "http://127.0.0.1:9", tmp_path / "t.db", ingest_tokens_secret_id="triage/short"
    )
    (line,) = check_lines(short, "ingest")
    assert line.startswith("FAIL  ingest   TRIAGE_INGEST_TOKENS_SECRET_ID: the sentry token")
    assert SECRET not in line


def test_check_warns_of_polling_intervals_under_a_second(queues: Queues, tmp_path: Path) -> None:
    """TRIAGE_METRICS_INTERVAL_S=0.01: one `warn` line naming it and how often it flushes (the
    check still passes); the defaults give no such line."""
    settings = settings_for(
        queues, "http://127.0.0.1:9", tmp_path / "t.db", metrics="emf", metrics_interval_s=0.01
    )
    (line,) = check_lines(settings, "interval")
    assert line.startswith("warn  interval TRIAGE_METRICS_INTERVAL_S is 0.01 s")
    assert (
        check_lines(settings_for(queues, "http://127.0.0.1:9", tmp_path / "t.db"), "interval") == []
    )


def test_check_warns_of_a_tracing_endpoint_that_is_no_url(
    queues: Queues, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """OTEL_EXPORTER_OTLP_ENDPOINT without a scheme: one `warn` line saying tracing is off,
    naming the variable and not its value; a URL there gives no such line."""
    settings = settings_for(queues, "http://127.0.0.1:9", tmp_path / "t.db")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", f"otel:{SECRET}@collector:4318")
    (line,) = check_lines(settings, "tracing")
    assert line.startswith("warn  tracing  OTEL_EXPORTER_OTLP_ENDPOINT is not an http")
    assert "tracing is off" in line and SECRET not in line
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9")
    assert check_lines(settings, "tracing") == []


# --- Misspelt variables ----------------------------------------------------------------------


def test_misspelt_variables_under_prefixes_only_triage_uses_are_named() -> None:
    """ALERT_TRIAGE_* and GITHUB_APP_* are triage's alone: a misspelt one (its value would be
    ignored) is named with the setting meant; other programs' GITHUB_* variables are not."""
    messages = unknown_variables(
        {
            "ALERT_TRIAGE_QUEUE": "https://sqs.us-east-1.amazonaws.com/1/q",
            "GITHUB_APP_PRIVATE_KEY_PATH": "/run/secrets/app.pem",
            "GITHUB_APP_ID": "12345",
            "GITHUB_SHA": "abc",
            "GITHUB_REPOSITORY_OWNER": "acme",
        }
    )
    assert messages == [
        "ALERT_TRIAGE_QUEUE is not a setting and is ignored; did you mean ALERT_TRIAGE_QUEUE_URL?",
        "GITHUB_APP_PRIVATE_KEY_PATH is not a setting and is ignored; did you mean "
        "GITHUB_APP_PRIVATE_KEY_FILE?",
    ]


def test_other_tools_names_for_a_setting_are_pointed_to_it() -> None:
    """OPENAI_API_BASE (LangChain's and the old OpenAI SDK's name) and SLACK_WEBHOOK are read by
    no setting: each is named with the variable triage reads instead."""
    messages = unknown_variables(
        {"OPENAI_API_BASE": "http://localhost:11434/v1", "SLACK_WEBHOOK": "https://hooks"}
    )
    assert messages == [
        "OPENAI_API_BASE is not a setting and is ignored; did you mean OPENAI_BASE_URL?",
        "SLACK_WEBHOOK is not a setting and is ignored; did you mean SLACK_WEBHOOK_URL?",
    ]


def test_a_run_with_a_misspelt_queue_variable_names_it(
    queues: Queues,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`triage run` given ALERT_TRIAGE_QUEUE instead of ALERT_TRIAGE_QUEUE_URL: the missing
    setting stops it (exit 2) after a config.unknown_variable line naming the one meant."""
    env = daemon_env(settings_for(queues, "http://127.0.0.1:9", tmp_path / "t.db"))
    env["ALERT_TRIAGE_QUEUE"] = env.pop("ALERT_TRIAGE_QUEUE_URL")
    result = run_in_process(monkeypatch, capsys, "run", env=env)
    assert result.returncode == 2
    assert "did you mean ALERT_TRIAGE_QUEUE_URL?" in result.stderr
    assert result.stderr.splitlines()[-1] == (
        "triage: config: missing required setting: ALERT_TRIAGE_QUEUE_URL"
    )


def test_gateway_tokens_written_the_wrong_way_round_are_not_quoted() -> None:
    """A tokens JSON with a source and its token swapped is refused naming the mistake, the
    token shown only by its length; a misspelt source name is still shown."""
    token = "s3cr3t-Tok3n-0123456789abcdef"
    with pytest.raises(ConfigError) as swapped:
        parse_tokens(json.dumps({token: "generic"}), "TRIAGE_INGEST_TOKENS")
    assert token not in str(swapped.value) and f"({len(token)} characters)" in str(swapped.value)
    with pytest.raises(ConfigError, match="grafanna"):
        parse_tokens(json.dumps({"grafanna": token}), "TRIAGE_INGEST_TOKENS")


async def test_the_backend_token_is_read_as_written_in_an_env_file(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """BACKEND_TOKEN written in quotes (as `docker run --env-file` passes it) is the token
    without them, like every other setting."""
    monkeypatch.setenv("BACKEND_TOKEN", '"tok-0123456789"')
    assert await BackendToken(Settings()).get() == "tok-0123456789"


def test_a_patterns_file_too_large_to_be_one_is_refused_before_it_is_read(tmp_path: Path) -> None:
    """TRIAGE_PATTERNS_FILE larger than 1 MiB (a log pasted by mistake, /dev/zero) is a
    ConfigError saying so, without reading it whole."""
    big = tmp_path / "patterns.toml"
    big.write_bytes(b"#" * (MAX_PATTERNS_BYTES + 1))
    with pytest.raises(ConfigError, match="larger than"):
        load_patterns(big)


def test_every_process_that_traces_holds_the_exporters_headers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Tracing.from_environment, which the gateway calls as the daemon does, holds each value of
    OTEL_EXPORTER_OTLP_HEADERS (named or bare) as a credential before OpenTelemetry can quote it:
    redacted wherever it appears after."""
    named, bare = f"{SECRET}-named-0123", f"{SECRET}-bare-4567"
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_HEADERS", f"x-api-key={named},{bare}")
    tracing = Tracing.from_environment("triage-ingest")
    try:
        shown = Redactor().text(f"header {named} and {bare}")
    finally:
        tracing.shutdown()
    assert named not in shown and bare not in shown
