"""Configuration mistakes found in round 12 (helper 425): each is refused at start-up with one
line naming the setting and what is wrong, never a traceback, never the secret it may hold."""

from __future__ import annotations

from pathlib import Path

import pytest

from daemon_harness import SRC, run_triage
from triage.errors import ConfigError
from triage.routes import load_router
from triage.settings import URL_FIELDS, env_name, load_settings, unknown_variables

#: A password in a URL, which no message may repeat.
PASSWORD = "hunter2secretpw"


def _refusal(monkeypatch: pytest.MonkeyPatch, variable: str, value: str) -> str:
    """The ConfigError line load_settings gives for `variable`=`value`."""
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    return str(caught.value)


# --- URLs whose port or IPv6 literal no HTTP client can read ------------------------------


@pytest.mark.parametrize("field", URL_FIELDS)
@pytest.mark.parametrize(
    ("authority", "said"),
    [
        ("localhost:abc", "port"),
        ("localhost:99999", "port"),
        ("localhost:0", "port"),
        ("::1:4566", "IPv6"),
        ("[::1:4566", "IPv6"),
        ("[not-an-address]:4566", "IPv6"),
    ],
)
def test_url_settings_refuse_a_port_or_ipv6_literal_no_client_reads(
    monkeypatch: pytest.MonkeyPatch, field: str, authority: str, said: str
) -> None:
    """A URL setting whose port is no number from 1 to 65535, or whose IPv6 literal is not
    closed or no address, is refused naming the setting, without repeating the value."""
    value = f"http://{authority}/000000000000/q"
    message = _refusal(monkeypatch, env_name(field), value)
    assert message.startswith(f"{env_name(field)}: "), message
    assert said in message, message
    assert authority not in message, message


@pytest.mark.parametrize(
    "value",
    ["http://[::1]:4566", "http://127.0.0.1:4566/", "https://sqs.us-east-1.amazonaws.com:443/1/q"],
)
def test_url_settings_take_ipv6_literals_and_ports_written_right(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    """A closed IPv6 literal and a port in range stay accepted (LocalStack on ::1, say)."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", value)
    assert load_settings().aws_endpoint_url == value


def test_check_with_an_openai_base_url_whose_port_is_no_number_exits_2_without_a_traceback() -> (
    None
):
    """`triage check` with OPENAI_BASE_URL=http://localhost:abc/v1 once crashed in the OpenAI
    client with a traceback; it exits 2 with one line naming OPENAI_BASE_URL."""
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(SRC),
        "OPENAI_API_KEY": "abcdefghijklmnop",
        "OPENAI_BASE_URL": "http://localhost:abc/v1",
    }
    done = run_triage("check", env=env)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert "OPENAI_BASE_URL" in done.stdout + done.stderr


# --- Secret ids in forms Secrets Manager does not read -------------------------------------

SECRET_ID_VARIABLES = ("BACKEND_TOKEN_SECRET_ID", "TRIAGE_INGEST_TOKENS_SECRET_ID")


@pytest.mark.parametrize("variable", SECRET_ID_VARIABLES)
@pytest.mark.parametrize(
    "value",
    [
        "file:///run/secrets/backend-token",
        "secretsmanager://prod/triage/token",
        "https://secretsmanager.us-east-1.amazonaws.com/prod/triage/token",
    ],
)
def test_a_secret_id_written_as_a_url_is_refused_at_start_up(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    """A secret id given as a file:// (or any scheme://) URL is no name Secrets Manager has:
    it was answered only at the first ticket (or, for the gateway, the first request); now it
    is refused at start-up naming the variable and the form wanted, not the value."""
    message = _refusal(monkeypatch, variable, value)
    assert message.startswith(f"{variable}: "), message
    assert "Secrets Manager" in message and "name or ARN" in message, message
    assert value not in message, message


@pytest.mark.parametrize("variable", SECRET_ID_VARIABLES)
def test_an_ecs_secret_reference_with_a_json_key_is_refused_saying_what_to_cut(
    monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    """ECS's `valueFrom` form (the ARN followed by :json-key:version-stage:version-id) names
    no secret when passed to GetSecretValue; it is refused saying to give the ARN alone."""
    arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/token-AbCdEf"
    message = _refusal(monkeypatch, variable, f"{arn}:BACKEND_TOKEN::")
    assert message.startswith(f"{variable}: "), message
    assert "json-key" in message and "ARN alone" in message, message


@pytest.mark.parametrize(
    "value",
    [
        "prod/triage/backend-token",
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/token-AbCdEf",
        "arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:token-AbCdEf",
    ],
)
def test_secret_names_and_arns_stay_accepted(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    """A secret's name (with slashes) or its ARN, in any partition, is still taken as is."""
    monkeypatch.setenv("BACKEND_TOKEN_SECRET_ID", value)
    assert load_settings().backend_token_secret_id == value


# --- Misspelt variables under prefixes triage shares with SDKs -----------------------------


def test_a_near_miss_of_a_setting_under_a_shared_prefix_is_warned_of() -> None:
    """OPENAI_APIKEY, GITHUB_TOKN, AWS_REGON or SLACK_WEBHOOK_UR left the setting meant at its
    default in silence (no LLM, no GitHub token, us-east-1): each is named with the setting."""
    messages = unknown_variables(
        {
            "OPENAI_APIKEY": "k",
            "OPENAI_BASEURL": "http://localhost:11434/v1",
            "GITHUB_TOKN": "t",
            "AWS_REGON": "eu-west-1",
            "SLACK_WEBHOOK_UR": "https://hooks",
        }
    )
    assert messages == [
        "AWS_REGON is not a setting and is ignored; did you mean AWS_REGION?",
        "GITHUB_TOKN is not a setting and is ignored; did you mean GITHUB_TOKEN?",
        "OPENAI_APIKEY is not a setting and is ignored; did you mean OPENAI_API_KEY?",
        "OPENAI_BASEURL is not a setting and is ignored; did you mean OPENAI_BASE_URL?",
        "SLACK_WEBHOOK_UR is not a setting and is ignored; did you mean SLACK_WEBHOOK_URL?",
    ]


def test_other_programs_variables_under_shared_prefixes_are_not_warned_of() -> None:
    """Variables the SDKs, GitHub Actions and botocore read beside triage's (a service's own
    endpoint, the repository's owner) are no typos: nothing is said of them."""
    assert (
        unknown_variables(
            {
                "AWS_ENDPOINT_URL_S3": "http://localhost:4566",
                "AWS_ENDPOINT_URL_SQS": "http://localhost:4566",
                "AWS_DEFAULT_OUTPUT": "json",
                "AWS_PROFILE": "prod",
                "AWS_SESSION_TOKEN": "t",
                "GITHUB_REPOSITORY_OWNER": "acme",
                "GITHUB_SERVER_URL": "https://github.com",
                "GITHUB_GRAPHQL_URL": "https://api.github.com/graphql",
                "GITHUB_REF": "refs/heads/main",
                "OPENAI_ORG_ID": "o",
                "OPENAI_API_TYPE": "azure",
                "OPENAI_API_VERSION": "2024-06-01",
                "OPENAI_PROJECT_ID": "p",
                "SLACK_BOT_TOKEN": "t",
            }
        )
        == []
    )


# --- File settings written as a shell or a browser would take them --------------------------

PATH_VARIABLES = ("TRIAGE_ROUTES_FILE", "TRIAGE_PATTERNS_FILE", "GITHUB_APP_PRIVATE_KEY_FILE")


@pytest.mark.parametrize("variable", PATH_VARIABLES)
@pytest.mark.parametrize(
    ("value", "said"),
    [
        ("file:///etc/triage/routes.toml", "file://"),
        ("~/triage/routes.toml", "~"),
        ("$HOME/triage/routes.toml", "$HOME"),
        ("${CONFIG_DIR}/routes.toml", "${CONFIG_DIR}"),
    ],
)
def test_a_file_setting_a_shell_or_browser_would_read_is_refused_saying_so(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, said: str
) -> None:
    """A file setting written as a file:// URL, or with ~ or $VAR that only a shell expands
    (env files, ECS and systemd do not), was taken as a path no one meant (`file:/etc/…`,
    `./~/…`) and failed later as a missing file; it is refused at start-up saying why."""
    message = _refusal(monkeypatch, variable, value)
    assert message.startswith(f"{variable}: "), message
    assert said in message and "path" in message, message


@pytest.mark.parametrize("value", ["/etc/triage/routes.toml", "config/routes.toml", "a$b.toml"])
def test_plain_paths_stay_accepted(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    """Absolute and relative paths, and a $ not starting a variable's name, are taken."""
    monkeypatch.setenv("TRIAGE_ROUTES_FILE", value)
    assert str(load_settings().routes_file) == value


# --- A route named as the default route ---------------------------------------------------


def _routes_file(tmp_path: Path, text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Write `text` as the routes file TRIAGE_ROUTES_FILE names."""
    path = tmp_path / "routes.toml"
    path.write_text(text, encoding="utf-8")
    monkeypatch.setenv("TRIAGE_ROUTES_FILE", str(path))


@pytest.mark.parametrize("name", ["default", "Default"])
def test_a_route_named_default_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    """A route called "default" took the name the route of TRIAGE_SINKS is kept under: an
    incident that went to TRIAGE_SINKS had its later effects sent to that route's sinks
    instead (`Router.recorded`); the name is refused, saying why."""
    _routes_file(
        tmp_path,
        f'[[route]]\nname = "{name}"\nsinks = ["github"]\n[route.match]\nteam = "web"\n',
        monkeypatch,
    )
    with pytest.raises(ConfigError) as caught:
        load_router(load_settings())
    message = str(caught.value)
    assert message.startswith("TRIAGE_ROUTES_FILE "), message
    assert f"route name {name!r}" in message and "TRIAGE_SINKS" in message, message


def test_a_last_catch_all_route_named_default_stays_accepted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A last route with no match, called "default" (a catch-all, as people write one), leaves
    TRIAGE_SINKS's route no incident, so its name takes nothing from it: still accepted."""
    _routes_file(
        tmp_path,
        '[[route]]\nname = "web"\nsinks = ["github"]\n[route.match]\nteam = "web"\n'
        '[[route]]\nname = "default"\nsinks = ["backend", "github"]\n',
        monkeypatch,
    )
    router = load_router(load_settings())
    assert [rule.route.name for rule in router.rules] == ["web", "default"]


# --- Webhook URLs in the routes file whose port or IPv6 literal no client reads -------------

_BAD_HOSTS = ("hooks.slack.com:abc", "hooks.slack.com:70000", "[fe80::1")


@pytest.mark.parametrize("host", _BAD_HOSTS)
@pytest.mark.parametrize("where", ["slack", "escalate", "slack_env", "escalate_env"])
def test_a_route_webhook_with_a_port_or_ipv6_literal_no_client_reads_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, host: str, where: str
) -> None:
    """A route's Slack webhook (given in the file or by its variable) whose port is no number
    from 1 to 65535 or whose IPv6 address is not closed was taken, and every post to it failed;
    it is refused at start-up naming the route, without the URL (a credential)."""
    url = f"https://{host}/services/T000/B000/{PASSWORD}"
    monkeypatch.setenv("HOOK_URL", url)
    given = {
        "slack": f'sinks = ["slack"]\n[route.slack]\nwebhook_url = "{url}"\n',
        "slack_env": 'sinks = ["slack"]\n[route.slack]\nwebhook_url_env = "HOOK_URL"\n',
        "escalate": (
            f'sinks = ["backend"]\nescalate_after_s = 60\n[route.escalate]\n'
            f'slack_webhook_url = "{url}"\n'
        ),
        "escalate_env": (
            'sinks = ["backend"]\nescalate_after_s = 60\n[route.escalate]\n'
            'slack_webhook_url_env = "HOOK_URL"\n'
        ),
    }[where]
    _routes_file(tmp_path, f'[[route]]\nname = "ops"\n{given}', monkeypatch)
    with pytest.raises(ConfigError) as caught:
        load_router(load_settings())
    message = str(caught.value)
    assert "route 'ops'" in message and ("port" in message or "IPv6" in message), message
    assert PASSWORD not in message and host not in message, message


@pytest.mark.parametrize("variable", ["BACKEND_BASE_URL", "GITHUB_API_URL"])
@pytest.mark.parametrize("authority", ["localhost:abc", "localhost:0", "[::1:443"])
def test_sink_urls_refuse_a_port_or_ipv6_literal_no_client_reads(
    monkeypatch: pytest.MonkeyPatch, variable: str, authority: str
) -> None:
    """BACKEND_BASE_URL or GITHUB_API_URL with a port that is no number or an IPv6 address not
    closed crashed `triage check` with a traceback (BACKEND_BASE_URL) or was told in the HTTP
    library's words; it is refused at start-up naming the variable."""
    message = _refusal(monkeypatch, variable, f"http://{authority}/api")
    assert message.startswith(f"{variable}: "), message
    assert "port" in message or "IPv6" in message, message
    assert authority not in message, message


# --- Durations written with their unit --------------------------------------------------------


@pytest.mark.parametrize(
    ("variable", "value", "said"),
    [
        ("TRIAGE_SHUTDOWN_GRACE_S", "30s", "a number of seconds"),
        ("TRIAGE_UPDATE_INTERVAL_S", "15m", "a number of seconds"),
        ("TRIAGE_CLOSED_TTL_S", "30d", "a number of seconds"),
        ("SQS_WAIT_TIME", "20s", "a whole number of seconds"),
        ("TRIAGE_VISIBILITY_TIMEOUT_S", "1m", "a whole number of seconds"),
        ("TRIAGE_INGEST_LINGER_MS", "5ms", "a number of milliseconds"),
    ],
)
def test_a_duration_written_with_its_unit_is_told_the_unit_it_takes(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, said: str
) -> None:
    """`30s` or `15m` in a duration setting was answered "expected a number", which does not
    say the unit is the problem; the message names the unit the setting takes, as the routes
    file's does."""
    message = _refusal(monkeypatch, variable, value)
    assert message.startswith(f"{variable}: expected {said}"), message
    assert "without a unit" in message, message


# --- A region name no AWS region has --------------------------------------------------------


@pytest.mark.parametrize("value", ["useast1", "us-east", "eu-west1", "east-1"])
def test_a_region_without_the_shape_of_aws_names_is_refused_on_aws(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    """AWS_REGION=useast1 (or us-east, eu-west1) passed botocore's check of its characters,
    and every call then went to a host that does not exist (sqs.useast1.amazonaws.com),
    answered as a network failure; without AWS_ENDPOINT_URL it is refused at start-up."""
    message = _refusal(monkeypatch, "AWS_REGION", value)
    assert message.startswith("AWS_REGION: "), message
    assert "eu-west-1" in message, message


@pytest.mark.parametrize(
    "value", ["us-east-1", "us-gov-west-1", "us-isob-east-1", "ap-southeast-4", "eusc-de-east-1"]
)
def test_aws_region_names_stay_accepted(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    """Every partition's region names (GovCloud, ISO, the European sovereign cloud) are taken."""
    monkeypatch.setenv("AWS_REGION", value)
    assert load_settings().aws_region == value


def test_any_region_name_is_taken_with_a_local_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    """With AWS_ENDPOINT_URL (LocalStack, moto), the region is only a name: any is taken."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")
    monkeypatch.setenv("AWS_REGION", "local")
    assert load_settings().aws_region == "local"


# --- A listening address written as a URL writes it -------------------------------------------


@pytest.mark.parametrize("variable", ["TRIAGE_HTTP_HOST", "TRIAGE_INGEST_HOST"])
def test_a_bracketed_ipv6_listen_address_is_told_to_drop_the_brackets(
    monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    """`[::1]`, as a URL writes an IPv6 address, was refused as no address at all; the
    message now says the address is right and the brackets go."""
    message = _refusal(monkeypatch, variable, "[::1]")
    assert message.startswith(f"{variable}: "), message
    assert "without brackets" in message and "::1" in message, message
