"""Configuration round 4 (helper 489): a team configuring triage from the README alone. A
whole JSON secret injected into a credential's variable, credentials read from files
(`<VARIABLE>_FILE`, as Docker and Kubernetes mount secrets), and a routes file written as
JSON or YAML."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from triage.config_files import parse_toml, read_text
from triage.errors import ConfigError
from triage.secrets import BackendToken
from triage.settings import load_settings, unknown_variables

#: A Secrets Manager secret of key/value pairs as the console stores it: compact JSON, which
#: ECS injects whole when the task definition's valueFrom names no key.
WHOLE_SECRET = json.dumps({"BACKEND_TOKEN": "tok-4f1c9a7e2b"}, separators=(",", ":"))


@pytest.mark.parametrize(
    "variable", ["OPENAI_API_KEY", "GITHUB_TOKEN", "TRIAGE_API_TOKEN", "SLACK_WEBHOOK_URL"]
)
def test_a_whole_json_secret_in_a_credential_variable_is_refused_without_repeating_it(
    monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    """A whole JSON secret injected into a credential's variable (ECS's valueFrom without
    `:KEY::`) stops start-up naming the variable and the fix, never the value: sent as it is,
    every request would be refused."""
    secret = json.dumps({"key": "sk-live-0a1b2c3d4e5f6a7b8c9d"}, separators=(",", ":"))
    monkeypatch.setenv(variable, secret)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert message.startswith(f"{variable}:"), message
    assert "JSON object" in message and ":key::" in message, message
    assert "sk-live" not in message and "\n" not in message, message


def test_a_whole_json_secret_in_the_backend_token_variable_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """BACKEND_TOKEN holding the whole JSON secret ({"BACKEND_TOKEN": "…"}) is refused saying
    to end valueFrom with :BACKEND_TOKEN::, not sent as `Bearer {"BACKEND_TOKEN":…}`."""
    monkeypatch.setenv("BACKEND_TOKEN", WHOLE_SECRET)
    token = BackendToken(load_settings())
    with pytest.raises(ConfigError) as caught:
        asyncio.run(token.get())
    message = str(caught.value)
    assert "JSON object" in message and ":BACKEND_TOKEN::" in message, message
    assert "tok-4f1c" not in message, message


def test_the_gateways_tokens_stay_json(monkeypatch: pytest.MonkeyPatch) -> None:
    """TRIAGE_INGEST_TOKENS is a JSON object by design: not refused as a whole secret."""
    monkeypatch.setenv("TRIAGE_INGEST_TOKENS", '{"generic":"dev-generic-token-0001"}')
    assert load_settings().ingest_tokens is not None


@pytest.mark.parametrize(
    ("variable", "field", "content"),
    [
        ("OPENAI_API_KEY", "openai_api_key", "sk-abcdefabcdefabcdefabcd12\r\n"),
        ("GITHUB_TOKEN", "github_token", "ghs_0123456789abcdefghijABCDEFGHIJ012345\n"),
        ("TRIAGE_API_TOKEN", "api_token", "tok3n-0123456789abcdef-0123\n"),
        ("SLACK_WEBHOOK_URL", "slack_webhook_url", "https://hooks.slack.com/services/T/B/x\n"),
        ("TRIAGE_INGEST_TOKENS", "ingest_tokens", '{"generic": "dev-generic-token-0001"}\r\n'),
    ],
)
def test_a_credential_is_read_from_the_file_its_file_variable_names(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, variable: str, field: str, content: str
) -> None:
    """<VARIABLE>_FILE names a file holding the credential (a Docker or Kubernetes secret):
    it is read, without the line break (LF or CRLF) an editor or `echo` leaves at its end."""
    path = tmp_path / "secret"
    path.write_bytes(content.encode())
    monkeypatch.setenv(f"{variable}_FILE", str(path))
    value = getattr(load_settings(), field)
    assert value is not None and value.get_secret_value() == content.rstrip("\r\n")


def test_a_credential_and_its_file_both_set_are_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """OPENAI_API_KEY and OPENAI_API_KEY_FILE both set is one line naming both: which one
    wins would be a guess."""
    path = tmp_path / "key"
    path.write_text("sk-abcdefabcdefabcdefabcd12\n")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-other0other0other0other0")
    monkeypatch.setenv("OPENAI_API_KEY_FILE", str(path))
    with pytest.raises(ConfigError, match="OPENAI_API_KEY and OPENAI_API_KEY_FILE are both set"):
        load_settings()


@pytest.mark.parametrize(
    ("content", "expected"),
    [(None, "No such file"), (b"", "empty"), (b"\xff\xfesk-", "not UTF-8")],
)
def test_a_credential_file_that_cannot_be_read_is_one_line_naming_its_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, content: bytes | None, expected: str
) -> None:
    """A missing, empty or non-UTF-8 credential file stops start-up with one line naming the
    _FILE variable and why, never what the file holds."""
    path = tmp_path / "token"
    if content is not None:
        path.write_bytes(content)
    monkeypatch.setenv("GITHUB_TOKEN_FILE", str(path))
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert message.startswith("GITHUB_TOKEN_FILE"), message
    assert expected in message and "\n" not in message, message


def test_a_credential_file_with_a_space_inside_is_refused_as_the_variable_would_be(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A file's credential is checked as the variable's is: a space inside an API key is
    refused, without repeating it."""
    path = tmp_path / "key"
    path.write_text("sk-abcdef abcdefabcdefabcd12\n")
    monkeypatch.setenv("OPENAI_API_KEY_FILE", str(path))
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert "OPENAI_API_KEY" in message and "whitespace" in message, message
    assert "abcdef" not in message, message


def test_the_backend_token_is_read_from_its_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """BACKEND_TOKEN_FILE (after BACKEND_TOKEN_ENV_KEY's variable) holds the backend's token,
    read without its CRLF."""
    path = tmp_path / "backend-token"
    path.write_bytes(b"tok-4f1c9a7e2b\r\n")
    monkeypatch.setenv("BACKEND_TOKEN_FILE", str(path))
    assert asyncio.run(BackendToken(load_settings()).get()) == "tok-4f1c9a7e2b"


def test_the_backend_token_and_its_file_both_set_are_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """BACKEND_TOKEN and BACKEND_TOKEN_FILE both set is refused naming both."""
    path = tmp_path / "backend-token"
    path.write_text("tok-4f1c9a7e2b\n")
    monkeypatch.setenv("BACKEND_TOKEN_FILE", str(path))
    monkeypatch.setenv("BACKEND_TOKEN", "tok-other")
    with pytest.raises(ConfigError, match="BACKEND_TOKEN and BACKEND_TOKEN_FILE are both set"):
        asyncio.run(BackendToken(load_settings()).get())


def test_credential_file_variables_are_not_warned_of_as_unknown() -> None:
    """The _FILE variables triage reads are no typos; a _FILE of another setting is warned of
    naming the setting, since triage reads no file for it."""
    environ = {
        "OPENAI_API_KEY_FILE": "/run/secrets/openai",
        "GITHUB_TOKEN_FILE": "/run/secrets/github",
        "BACKEND_TOKEN_FILE": "/run/secrets/backend",
        "TRIAGE_API_TOKEN_FILE": "/run/secrets/api",
        "TRIAGE_CONCURRENCY_FILE": "/run/secrets/x",
    }
    messages = unknown_variables(environ)
    assert messages == [
        "TRIAGE_CONCURRENCY_FILE is not a setting and is ignored; did you mean TRIAGE_CONCURRENCY?"
    ], messages


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ('{"route": [{"name": "a", "sinks": ["backend"]}]}', "JSON"),
        ("route:\n  - name: a\n    sinks: [backend]\n", "YAML"),
        ("---\nroute:\n  - name: a\n", "YAML"),
    ],
)
def test_a_routes_file_written_as_json_or_yaml_is_told_it_must_be_toml(
    text: str, named: str
) -> None:
    """A routes file written as JSON or YAML is told what it is and that the file is TOML,
    not only where TOML's parser stumbled."""
    with pytest.raises(ConfigError) as caught:
        parse_toml(text, "TRIAGE_ROUTES_FILE /etc/triage/routes.toml")
    message = str(caught.value)
    assert f"reads as {named}" in message and "TOML" in message, message
    assert "\n" not in message, message


def test_a_misspelt_name_is_named_beside_the_values_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """When a value is refused, the line also names each misspelt variable (its default was
    kept, and may be why): fixing the refusal would otherwise reveal the typo only in the next
    run's warning."""
    monkeypatch.setenv("TRIAGE_LOG_LEVEL", "warn")
    monkeypatch.setenv("TRIAGE_CONCURENCY", "8")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert "TRIAGE_LOG_LEVEL:" in message, message
    assert (
        "TRIAGE_CONCURENCY is not a setting and is ignored; did you mean TRIAGE_CONCURRENCY?"
        in (message)
    ), message


def test_a_routes_files_webhook_variable_is_not_called_a_typo_beside_a_refusal(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A variable the routes file names for a webhook is read by name: not listed as a typo
    beside a refused value, as it is not in the warnings of a run that starts."""
    routes = tmp_path / "routes.toml"
    routes.write_text(
        '[[route]]\nname = "pay"\nsinks = ["slack"]\n'
        '[route.slack]\nwebhook_url_env = "TRIAGE_SLACK_PAYMENTS_HOOK"\n'
    )
    monkeypatch.setenv("TRIAGE_ROUTES_FILE", str(routes))
    monkeypatch.setenv("TRIAGE_SLACK_PAYMENTS_HOOK", "https://hooks.slack.com/services/T/B/x")
    monkeypatch.setenv("TRIAGE_CONCURRENCY", "0")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert "PAYMENTS_HOOK" not in str(caught.value), str(caught.value)


def test_run_with_nothing_set_names_the_queue_and_the_backend_token_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`triage run` on a bare environment names everything it cannot start without in one
    line (the queue and, for the default backend sink, its token), not one per attempt."""
    with pytest.raises(ConfigError) as caught:
        load_settings().require_to_run()
    message = str(caught.value)
    assert "ALERT_TRIAGE_QUEUE_URL" in message, message
    assert "BACKEND_TOKEN or BACKEND_TOKEN_SECRET_ID" in message, message


@pytest.mark.parametrize(
    "given",
    [
        {"BACKEND_TOKEN": "tok-4f1c9a7e2b"},
        {"BACKEND_TOKEN_FILE": "/run/secrets/backend-token"},
        {"BACKEND_TOKEN_SECRET_ID": "triage/backend-token"},
        {"TRIAGE_SINKS": "github"},
    ],
)
def test_run_asks_no_backend_token_when_one_is_given_or_unused(
    monkeypatch: pytest.MonkeyPatch, given: dict[str, str]
) -> None:
    """A token given any way triage reads one, or a default route without the backend, leaves
    the queue alone to name."""
    for name, value in given.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as caught:
        load_settings().require_to_run()
    assert str(caught.value) == "missing required setting: ALERT_TRIAGE_QUEUE_URL"


ROOT = Path(__file__).resolve().parents[1]
COMPOSE = Path(sys.executable).parent / "docker-compose"


def _compose_services(project: Path, with_env_file: bool) -> dict[str, Any]:
    """`docker compose config` of a copy of the dev stack in `project` (`.env.example` is
    in every checkout), with `.env` copied from it (the README's `cp .env.example .env`) or
    without one."""
    for name in ("docker-compose.yml", "Dockerfile", ".env.example"):
        shutil.copy(ROOT / name, project / name)
    (project / "localstack").mkdir()
    shutil.copy(ROOT / "localstack" / "init-aws.sh", project / "localstack" / "init-aws.sh")
    if with_env_file:
        shutil.copy(ROOT / ".env.example", project / ".env")
    result = subprocess.run(
        [str(COMPOSE), "-f", "docker-compose.yml", "config", "--format", "json"],
        cwd=project,
        env={"PATH": f"{COMPOSE.parent}{os.pathsep}/usr/bin:/bin", "HOME": str(project)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    services: dict[str, Any] = json.loads(result.stdout)["services"]
    return services


def _init_script_defaults() -> dict[str, str]:
    """The names `localstack/init-aws.sh` creates when its environment does not say: the
    `${NAME:-default}` of each of its variables."""
    text = (ROOT / "localstack" / "init-aws.sh").read_text(encoding="utf-8")
    return dict(re.findall(r'"\$\{([A-Z_]+):-([^}$]+)\}"', text))


@pytest.mark.parametrize("with_env_file", [True, False], ids=["with-env", "without-env"])
def test_the_compose_worker_starts_on_what_the_localstack_hook_creates(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, with_env_file: bool
) -> None:
    """The dev stack's worker, with or without `cp .env.example .env`, has settings that load,
    everything `triage run` needs (credentials for LocalStack, the queue, the backend's
    token), and names the queue, the token's secret and the table the LocalStack hook
    creates with the environment compose gives it; the gateway has its tokens."""
    services = _compose_services(tmp_path, with_env_file)
    worker = {k: v for k, v in services["worker"]["environment"].items() if v is not None}
    hook = {**_init_script_defaults(), **services["localstack"]["environment"]}
    assert worker.get("AWS_ACCESS_KEY_ID") and worker.get("AWS_SECRET_ACCESS_KEY"), worker
    for name, value in worker.items():
        monkeypatch.setenv(name, value)
    settings = load_settings()
    settings.require_to_run()
    assert settings.queue_url is not None
    assert settings.queue_url.rsplit("/", 1)[1] == hook["TRIAGE_QUEUE_NAME"]
    if settings.backend_token_secret_id is not None:
        assert settings.backend_token_secret_id == hook["BACKEND_TOKEN_SECRET_ID"]
    if settings.store_url.startswith("dynamodb://"):
        assert settings.store_url == f"dynamodb://{hook['TRIAGE_TABLE_NAME']}"
    backend = services["backend"]["command"]
    assert backend[backend.index("--token") + 1] == hook["BACKEND_TOKEN"]
    gateway = services["ingest"]["environment"]
    assert gateway.get("TRIAGE_INGEST_TOKENS") or gateway.get("TRIAGE_INGEST_TOKENS_SECRET_ID")


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be"])
def test_a_routes_file_saved_as_utf16_is_told_to_be_saved_as_utf8(
    tmp_path: Path, encoding: str
) -> None:
    """A routes file a Windows editor saved as UTF-16 ("Unicode") is told so and to save it as
    UTF-8, not only that byte 0 is not UTF-8."""
    path = tmp_path / "routes.toml"
    path.write_bytes('\ufeff[[route]]\nname = "a"\nsinks = ["backend"]\n'.encode(encoding))
    with pytest.raises(ConfigError) as caught:
        read_text(path, "TRIAGE_ROUTES_FILE", 1 << 20)
    message = str(caught.value)
    assert "UTF-16" in message and "save it as UTF-8" in message, message


def test_a_whole_secret_keyed_by_a_token_never_names_the_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A JSON secret whose key is itself a token (`{"ghp_…": "github"}`) is refused with the
    placeholder KEY: the key is named only when it reads as a variable's name."""
    key = "ghp_" + "Zq8R" * 9
    monkeypatch.setenv("GITHUB_TOKEN", json.dumps({key: "github"}))
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert "ARN:KEY::" in message and "Zq8R" not in message, message
